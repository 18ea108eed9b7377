//! Moving around: keys resolved through the keymap, the cursor, pages,
//! scrolling (read back from the last frame), opening and leaving screens,
//! switching environment and checklist, the mouse.

use super::*;

impl App {
    pub(super) fn key_event(&mut self, ev: KeyEvent, fx: &mut Vec<Effect>) {
        self.dirty = true;
        let pending = self.ui.pending.take();
        match keymap::resolve(self.context(), pending, &ev) {
            Resolved::Run(cmd) => self.command(cmd, fx),
            Resolved::Prefix(chord) => self.ui.pending = Some(chord),
            Resolved::Unbound => self.text_input(ev),
        }
    }

    pub(super) fn command(&mut self, cmd: Command, fx: &mut Vec<Effect>) {
        self.dirty = true;
        match cmd {
            Command::Up => self.move_by(-1),
            Command::Down => self.move_by(1),
            Command::PageUp => self.move_by(-(self.page() as i64)),
            Command::PageDown => self.move_by(self.page() as i64),
            Command::Top => self.move_by(i64::MIN / 2),
            Command::Bottom => self.move_by(i64::MAX / 2),
            Command::NextPane => {
                self.ui.focus = match self.ui.focus {
                    Pane::Sections => Pane::Items,
                    Pane::Items => Pane::Sections,
                }
            }
            Command::FocusSections => self.ui.focus = Pane::Sections,
            Command::FocusItems => self.ui.focus = Pane::Items,
            Command::Open => self.open(),
            Command::Objects => self.open_objects(fx),
            Command::Back => self.back(),
            Command::Tick => self.tick(fx),
            Command::Note => self.open_note(false),
            Command::Waive => self.open_waive(),
            Command::Rerun => self.rerun(fx),
            Command::RerunAll => {
                let n: usize = self.live.probes.values().map(|p| p.len()).sum();
                if n == 0 {
                    self.info("no probes to run in this environment");
                } else {
                    fx.push(Effect::RerunAll);
                    self.info(format!("re-running {n} probe{}", plural(n)));
                }
            }
            Command::Signoff => self.open_signoff(),
            Command::Export => self.export(None, fx),
            Command::CriticalPath => {
                if !matches!(self.ui.stack.last(), Some(Screen::Path { .. })) {
                    self.ui.stack.push(Screen::Path { cursor: 0 });
                }
            }
            Command::Log => {
                if !matches!(self.ui.stack.last(), Some(Screen::Log { .. })) {
                    // Opens at the end: the newest events.
                    self.ui.stack.push(Screen::Log { scroll: u16::MAX });
                }
                self.read_trail(fx);
            }
            Command::SideBySide => {
                if !matches!(self.ui.stack.last(), Some(Screen::Matrix { .. })) {
                    self.ui.stack.push(Screen::Matrix { scroll: 0 });
                }
                if self.surveys.len() + 1 < self.environments.len() {
                    self.info("the other columns fill in as their reviews finish");
                }
            }
            Command::CopyVerify => match self.review_doc().map(|d| d.snapshot.verify.clone()) {
                Some(command) if !command.is_empty() => self.copy(command, fx),
                _ => self.info("this review's log has not been read yet"),
            },
            Command::Filter => {
                let input = single_line(&self.ui.filter);
                self.ui.modal = Some(Modal::Filter {
                    input: Box::new(input),
                    before: self.ui.filter.clone(),
                    selected: self.ui.selected.clone(),
                });
            }
            Command::CycleFilter => {
                self.ui.status_filter = self.ui.status_filter.next();
                self.stale = true;
            }
            Command::CopyId | Command::CopyEvidence
                if matches!(self.context(), Context::Objects | Context::Object) =>
            {
                self.copy_object(cmd == Command::CopyEvidence, fx)
            }
            Command::CopyId => {
                if let Some(id) = self.target().map(|i| i.id.clone()) {
                    self.copy(id, fx);
                }
            }
            Command::CopyEvidence => {
                if let Some(item) = self.target() {
                    let text = match item.evidence() {
                        Some(summary) => {
                            format!("{}: {}: {summary}", item.id, item.status.as_str())
                        }
                        None => format!("{}: {}: {}", item.id, item.status.as_str(), item.summary),
                    };
                    let text = crate::text::sanitize(&text, false);
                    self.copy(text, fx);
                }
            }
            Command::CycleSort => {
                self.ui.sort = self.ui.sort.next();
                if self.ui.sort == Sort::Auto {
                    self.ui.auto_sort = Some(Sort::auto_for(self.view.report.decision));
                }
                self.stale = true;
                let order = self.order();
                self.info(format!(
                    "items by {}{}",
                    order.label(),
                    if self.ui.sort == Sort::Auto {
                        " (auto: problems first while NO-GO)"
                    } else {
                        ""
                    }
                ));
            }
            Command::PrevEnv => {
                let n = self.environments.len();
                self.switch_env((self.env + n - 1) % n, fx);
            }
            Command::NextEnv => {
                let n = self.environments.len();
                self.switch_env((self.env + 1) % n, fx);
            }
            Command::SelectEnv(i) => {
                let i = i as usize;
                if i < self.environments.len() {
                    self.switch_env(i, fx);
                } else {
                    self.info(format!("there is no environment {}", i + 1));
                }
            }
            Command::Help => {
                self.ui.modal = match self.ui.modal {
                    Some(Modal::Help { .. }) => None,
                    _ => Some(Modal::Help { scroll: 0 }),
                }
            }
            Command::CommandLine => {
                self.ui.modal = Some(Modal::Command(Box::new(CommandLine {
                    input: single_line(""),
                    candidates: Vec::new(),
                })))
            }
            Command::Quit => self.quit = true,
            Command::Submit => self.submit(fx),
            Command::NextField => {
                if let Some(Modal::Waive(form)) = &mut self.ui.modal {
                    form.field = (form.field + 1) % 2;
                }
            }
            Command::NextChoice | Command::PrevChoice => {
                if let Some(Modal::Signoff(d)) = &mut self.ui.modal {
                    let all = SignoffDecision::ALL;
                    let at = all.iter().position(|c| *c == d.choice).unwrap_or(0);
                    let step = if cmd == Command::NextChoice { 1 } else { 2 };
                    d.choice = all[(at + step) % all.len()];
                }
            }
            Command::Complete => self.complete(),
        }
    }

    pub(super) fn page(&self) -> usize {
        let areas = self.layout(Rect::new(0, 0, self.ui.size.0, self.ui.size.1));
        areas.items_rows().saturating_sub(1).max(1)
    }

    pub(super) fn move_by(&mut self, delta: i64) {
        let step = |pos: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (pos as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
        };
        // Scrolling stops where the view stops drawing, so that the first
        // step back after `G` (or after pressing on past the end) moves.
        let limit = match self.context() {
            Context::Help | Context::Detail | Context::Log | Context::Matrix | Context::Object => {
                self.scroll_limit()
            }
            _ => 0,
        };
        let scroll_by = |scroll: &mut u16| {
            let from = i64::from(*scroll).min(limit);
            *scroll = from.saturating_add(delta).clamp(0, limit) as u16;
        };
        match (&mut self.ui.modal, self.ui.stack.last_mut()) {
            (Some(Modal::Help { scroll }), _) => scroll_by(scroll),
            (Some(_), _) => {}
            (None, Some(Screen::Detail { scroll, .. }))
            | (None, Some(Screen::Log { scroll }))
            | (None, Some(Screen::Matrix { scroll }))
            | (None, Some(Screen::Object { scroll, .. })) => scroll_by(scroll),
            (None, Some(Screen::Objects { cursor, .. })) => {
                let len = self.live.objects.as_ref().map_or(0, |r| r.objects().len());
                *cursor = step(*cursor, len);
            }
            (None, Some(Screen::Path { cursor })) => {
                *cursor = step(*cursor, self.view.report.critical_path.len());
            }
            (None, None) => match self.ui.focus {
                Pane::Sections => {
                    let n = self.view.report.sections.len() + 1;
                    let next = step(self.ui.section, n);
                    if next != self.ui.section {
                        self.ui.section = next;
                        self.ui.cursor = 0;
                        self.ui.selected = None;
                        self.stale = true;
                    }
                }
                Pane::Items => {
                    self.ui.cursor = step(self.ui.cursor, self.view.rows.len());
                    self.ui.selected = None;
                    self.clamp();
                }
            },
        }
    }

    /// How far the open help or detail scrolls before its last line is at
    /// the bottom, as the last frame drew it.
    pub(super) fn scroll_limit(&self) -> i64 {
        i64::from(self.drawn.get().scroll_max)
    }

    pub(super) fn open(&mut self) {
        if self.ui.stack.is_empty() && self.ui.focus == Pane::Sections {
            self.ui.focus = Pane::Items;
            return;
        }
        if self.context() == Context::Objects {
            return self.open_object();
        }
        if let Some(item) = self.target().map(|i| i.id.clone()) {
            self.ui.stack.push(Screen::Detail { item, scroll: 0 });
        }
    }

    /// Esc: one level back. Dialogs first, then sticky errors, then pushed
    /// screens, then filters. Never quits.
    pub(super) fn back(&mut self) {
        if let Some(modal) = self.ui.modal.take() {
            match modal {
                Modal::Filter {
                    before, selected, ..
                } => {
                    self.ui.filter = before;
                    self.ui.selected = selected;
                    self.stale = true;
                }
                // What was typed is not thrown away: it waits as a draft.
                Modal::Note(editor) if !editor.text.lines().join("").trim().is_empty() => {
                    self.info(format!(
                        "note on {} kept as a draft: n opens it again",
                        editor.item
                    ));
                    self.drafts.insert((self.env, editor.item), editor.text);
                }
                _ => {}
            }
            return;
        }
        if self.toasts.iter().any(|t| t.level == Level::Error) {
            self.toasts.retain(|t| t.level != Level::Error);
            self.clamp();
            return;
        }
        if self.ui.stack.pop().is_some() {
            return;
        }
        if !self.ui.filter.is_empty() || self.ui.status_filter != StatusFilter::All {
            self.ui.filter.clear();
            self.ui.status_filter = StatusFilter::All;
            self.stale = true;
            return;
        }
        if self.ui.focus == Pane::Items && self.ui.section != 0 {
            self.ui.focus = Pane::Sections;
        }
    }

    pub(super) fn switch_env(&mut self, index: usize, fx: &mut Vec<Effect>) {
        if index == self.env {
            return;
        }
        // What the room saw here stays on this environment's tab (and in
        // the side-by-side view) until the background review looks again.
        if let Some(tab) = self.environments.get(self.env)
            && !self.view.report.id.is_empty()
        {
            let reports = self.surveys.entry(tab.name.clone()).or_default();
            reports.retain(|r| r.id != self.view.report.id);
            reports.push(self.view.report.clone());
        }
        self.env = index;
        self.start_env(fx);
    }

    pub(super) fn start_env(&mut self, fx: &mut Vec<Effect>) {
        self.generation += 1;
        self.ui.auto_sort = None;
        self.live = EnvState::default();
        // Objects come from the environment's cluster: those of the one
        // left are not this one's.
        self.ui
            .stack
            .retain(|s| !matches!(s, Screen::Objects { .. } | Screen::Object { .. }));
        self.stale = true;
        self.dirty = true;
        // A dialog about the old environment's review must not write to the new one.
        if !matches!(self.ui.modal, Some(Modal::Help { .. })) {
            self.ui.modal = None;
        }
        if self.environments.is_empty() {
            return;
        }
        fx.push(Effect::StartEnvironment {
            generation: self.generation,
            env: self.env_tab().name.clone(),
        });
    }

    pub(super) fn switch_checklist(&mut self, index: usize) {
        if index != self.checklist {
            self.checklist = index;
            self.ui.section = 0;
            self.ui.cursor = 0;
            self.ui.selected = None;
            self.ui.stack.clear();
            self.stale = true;
        }
    }

    pub(super) fn mouse(&mut self, ev: MouseEvent, fx: &mut Vec<Effect>) {
        match ev.kind {
            MouseEventKind::ScrollDown => self.command(Command::Down, fx),
            MouseEventKind::ScrollUp => self.command(Command::Up, fx),
            MouseEventKind::Down(_) if self.ui.modal.is_none() && self.ui.stack.is_empty() => {
                let size = Rect::new(0, 0, self.ui.size.0, self.ui.size.1);
                let areas = self.layout(size);
                if let Some(row) = areas.item_row_at(ev.column, ev.row) {
                    let pos = self.ui.offset + row;
                    if pos < self.view.rows.len() {
                        self.ui.focus = Pane::Items;
                        self.ui.cursor = pos;
                        self.ui.selected = None;
                        self.clamp();
                        self.dirty = true;
                    }
                } else if let Some(row) = areas.section_row_at(ev.column, ev.row) {
                    let pos = self.ui.section_offset + row;
                    if pos <= self.view.report.sections.len() {
                        self.ui.focus = Pane::Sections;
                        self.ui.section = pos;
                        self.ui.cursor = 0;
                        self.ui.selected = None;
                        self.stale = true;
                    }
                }
            }
            _ => {}
        }
    }
}

impl App {
    /// Puts `text` on the clipboard through the terminal, and says so.
    pub(super) fn copy(&mut self, text: String, fx: &mut Vec<Effect>) {
        if !self.clipboard {
            return self.error("copying is off (--no-clipboard)");
        }
        let shown = crate::text::sanitize(&text, false);
        let preview: String = shown.chars().take(40).collect();
        let cut = if shown.chars().count() > 40 {
            "…"
        } else {
            ""
        };
        self.info(format!("copied {preview}{cut}"));
        fx.push(Effect::Copy(text));
    }
}
