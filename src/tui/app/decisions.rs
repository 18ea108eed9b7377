//! The review's decisions from the dashboard: the dialogs that ask for
//! them (note, waiver, sign-off), each turned into a `review::Change`,
//! judged by the rules and handed to the writer; re-runs and exports.

use super::*;

impl App {
    /// The rules' view of the current review, or why nothing can be written.
    pub(super) fn review_for_write(&self) -> Result<(&Checklist, &LogStatus), String> {
        let checklist = self
            .current_checklist()
            .ok_or_else(|| "no checklist is loaded".to_string())?;
        let doc = self
            .live
            .reviews
            .get(&checklist.id)
            .filter(|d| d.loaded)
            .ok_or_else(|| {
                "the sign-off log is still being read; try again in a moment".to_string()
            })?;
        if let Some(problem) = doc.snapshot.log.problems.first() {
            return Err(format!(
                "the sign-off log has been altered ({problem}); nothing more is written to it"
            ));
        }
        Ok((checklist.as_ref(), doc))
    }

    pub(super) fn standing<'a>(&'a self, doc: &'a LogStatus) -> Standing<'a> {
        Standing {
            env: &self.environments[self.env].name,
            read_only: self.environments[self.env].read_only,
            state: &doc.snapshot.log.state,
            head: &doc.snapshot.log.head,
            now: self.now,
        }
    }

    /// Judges `change` against the review on screen and, if the rules allow
    /// it, asks for it to be recorded; `Err` says why not.
    pub(super) fn propose(&mut self, change: Change, fx: &mut Vec<Effect>) -> Result<(), String> {
        let (checklist, doc) = self.review_for_write()?;
        rules::plan(&self.standing(doc), &change).map_err(|r| r.message)?;
        let env = self.env_tab();
        let done = match &change {
            Change::Signoff { .. } => format!("{} in {}", change.done(), env.name),
            _ => change.done(),
        };
        fx.push(Effect::Write(Box::new(WriteRequest {
            generation: self.generation,
            env: env.name.clone(),
            read_only: env.read_only,
            checklist: checklist.id.clone(),
            change,
            now: self.now,
            done,
        })));
        Ok(())
    }

    /// Writes the current review's document from what is on screen (probes
    /// still running are left out, as in `gonogo export --no-probe`).
    pub(super) fn export(&mut self, path: Option<std::path::PathBuf>, fx: &mut Vec<Effect>) {
        let Some(checklist) = self.current_checklist() else {
            self.error("no checklist is loaded");
            return;
        };
        let request = ExportRequest {
            env: self.env_tab().name.clone(),
            checklist: checklist.id.clone(),
            outcomes: self.live.outcomes.clone(),
            cluster: self.live.cluster.clone().unwrap_or_else(|| "none".into()),
            path,
            now: self.now,
        };
        fx.push(Effect::Export(request));
    }

    pub(super) fn target_item(&self) -> Option<Item> {
        let id = self.target()?.id.clone();
        self.current_checklist()?.item(&id).cloned()
    }

    pub(super) fn tick(&mut self, fx: &mut Vec<Effect>) {
        let Some(item) = self.target_item() else {
            return;
        };
        let (ticked, needs_note) = match self.review_for_write() {
            Ok((_, doc)) => (
                doc.snapshot.log.state.tick(&item.id).is_some(),
                item.evidence && !doc.snapshot.log.state.has_notes(&item.id),
            ),
            Err(e) => return self.refused(e),
        };
        let writable = rules::writable(&self.env_tab().name, self.env_tab().read_only).is_ok();
        let change = if ticked {
            Change::Untick { item }
        } else {
            Change::Tick { item, note: None }
        };
        let evidence_wanted = !ticked && needs_note && writable;
        match self.propose(change, fx) {
            Ok(()) => {}
            // Ask for the evidence instead of only refusing.
            Err(_) if evidence_wanted && self.target_item().is_some_and(|i| i.is_manual()) => {
                self.open_note(true);
                if let Some(item) = self.target_item() {
                    self.info(format!(
                        "{} needs evidence: write a note (a link, a ticket); saving it ticks the item",
                        item.id
                    ));
                }
            }
            Err(e) => self.refused(e),
        }
    }

    /// Says so and returns true when nothing can be written here: better
    /// than letting someone type a note or a reason only to be refused.
    pub(super) fn refuse_read_only(&mut self) -> bool {
        let env = self.env_tab();
        match rules::writable(&env.name, env.read_only) {
            Ok(()) => false,
            Err(r) => {
                self.refused(r.message);
                true
            }
        }
    }

    pub(super) fn open_note(&mut self, then_tick: bool) {
        let Some(item) = self.target().map(|i| i.id.clone()) else {
            return;
        };
        if self.refuse_read_only() {
            return;
        }
        let text = match self.drafts.remove(&(self.env, item.clone())) {
            Some(draft) => draft,
            None => {
                let mut text = TextArea::default();
                text.set_placeholder_text(
                    "What was checked, a link to the ticket or drill record …",
                );
                // Long lines wrap at words (a long link at any character)
                // instead of scrolling sideways out of sight.
                text.set_wrap_mode(ratatui_textarea::WrapMode::WordOrGlyph);
                text
            }
        };
        self.ui.modal = Some(Modal::Note(Box::new(NoteEditor {
            item,
            text,
            then_tick,
        })));
    }

    pub(super) fn open_waive(&mut self) {
        let Some(item) = self.target().map(|i| i.id.clone()) else {
            return;
        };
        if self.refuse_read_only() {
            return;
        }
        let waived = self
            .review_doc()
            .is_some_and(|d| d.snapshot.log.state.waiver(&item).is_some());
        if waived {
            self.ui.modal = Some(Modal::Unwaive { item });
            return;
        }
        let mut reason = single_line("");
        reason.set_placeholder_text("who accepted which risk, and why");
        let mut until = single_line("");
        until.set_placeholder_text("YYYY-MM-DD (empty: until withdrawn)");
        self.ui.modal = Some(Modal::Waive(Box::new(WaiveForm {
            item,
            reason,
            until,
            field: 0,
            error: None,
        })));
    }

    pub(super) fn open_signoff(&mut self) {
        if self.refuse_read_only() {
            return;
        }
        let choice = SignoffDecision::from(self.view.report.decision);
        let mut note = single_line("");
        note.set_placeholder_text("optional: conditions, follow-ups");
        self.ui.modal = Some(Modal::Signoff(Box::new(SignoffDialog { choice, note })));
    }

    /// The open blockers of the current checklist: what makes it NO-GO.
    pub fn open_blockers(&self) -> Vec<&str> {
        self.view.report.open_blockers().collect()
    }

    /// Whether the log's rules accept signing `choice` now; `Err` says why not.
    pub fn signoff_check(&self, choice: SignoffDecision) -> Result<(), String> {
        let (_, doc) = self.review_for_write()?;
        rules::signoff(
            &self.standing(doc),
            choice,
            &self.view.report.signoff_facts(),
        )
        .map_err(|r| r.message)
    }

    pub(super) fn rerun(&mut self, fx: &mut Vec<Effect>) {
        let Some(item) = self.target() else { return };
        if item.kind.is_none() {
            return self.info(format!(
                "{} is ticked by a person: nothing to re-run",
                item.id
            ));
        }
        let id = item.id.clone();
        let runs_here = self
            .current_checklist()
            .and_then(|c| self.live.probes.get(&c.id))
            .is_some_and(|p| p.contains_key(&id));
        if !runs_here {
            return self.info(format!(
                "{id} has no probe running in {}",
                self.env_tab().name
            ));
        }
        if let Some(key) = self.key(&id) {
            fx.push(Effect::Rerun(key));
            self.info(format!("re-running {id}"));
        }
    }

    pub(super) fn submit(&mut self, fx: &mut Vec<Effect>) {
        let Some(modal) = self.ui.modal.take() else {
            return;
        };
        match modal {
            Modal::Note(editor) => self.submit_note(editor, fx),
            Modal::Waive(form) => self.submit_waive(form, fx),
            Modal::Unwaive { item } => self.submit_unwaive(item, fx),
            Modal::Signoff(dialog) => self.submit_signoff(dialog, fx),
            Modal::Filter { input, .. } => {
                self.ui.filter = input.lines().join(" ");
                self.stale = true;
            }
            Modal::Command(line) => {
                let text = line.input.lines().join(" ");
                self.execute(&text, fx);
            }
            help @ Modal::Help { .. } => self.ui.modal = Some(help),
        }
    }

    pub(super) fn submit_note(&mut self, editor: Box<NoteEditor>, fx: &mut Vec<Effect>) {
        let text = crate::text::sanitize(&editor.text.lines().join("\n"), true)
            .trim()
            .to_string();
        let Some(item) = self
            .current_checklist()
            .and_then(|c| c.item(&editor.item))
            .cloned()
        else {
            return;
        };
        let change = if editor.then_tick {
            Change::Tick {
                item,
                note: Some(text),
            }
        } else {
            Change::Note { item, text }
        };
        if let Err(e) = self.propose(change, fx) {
            self.refused(e);
            // Keep what was typed.
            self.ui.modal = Some(Modal::Note(editor));
        }
    }

    pub(super) fn submit_waive(&mut self, mut form: Box<WaiveForm>, fx: &mut Vec<Effect>) {
        let reason = form.reason.lines().join(" ").trim().to_string();
        let until_text = form.until.lines().join("").trim().to_string();
        let Some(item) = self
            .current_checklist()
            .and_then(|c| c.item(&form.item))
            .cloned()
        else {
            return;
        };
        let until = if until_text.is_empty() {
            Ok(None)
        } else {
            rules::parse_until(&until_text)
                .map(Some)
                .map_err(|r| r.message)
        };
        let proposed = until.and_then(|until| {
            self.propose(
                Change::Waive {
                    item,
                    reason,
                    until,
                },
                fx,
            )
        });
        if let Err(e) = proposed {
            form.error = Some(e);
            self.ui.modal = Some(Modal::Waive(form));
        }
    }

    pub(super) fn submit_unwaive(&mut self, id: String, fx: &mut Vec<Effect>) {
        let Some(item) = self.current_checklist().and_then(|c| c.item(&id)).cloned() else {
            return;
        };
        if let Err(e) = self.propose(Change::Unwaive { item }, fx) {
            self.refused(e);
        }
    }

    pub(super) fn submit_signoff(&mut self, dialog: Box<SignoffDialog>, fx: &mut Vec<Effect>) {
        let note = crate::text::sanitize(&dialog.note.lines().join(" "), false)
            .trim()
            .to_string();
        let change = Change::Signoff {
            decision: dialog.choice,
            note: (!note.is_empty()).then_some(note),
            facts: self.view.report.signoff_facts(),
        };
        if let Err(e) = self.propose(change, fx) {
            self.refused(format!("refused: {e}"));
            self.ui.modal = Some(Modal::Signoff(dialog));
        }
    }

    pub(super) fn write_failed(&mut self, generation: u64, checklist: String, error: WriteError) {
        match error {
            WriteError::Moved(snapshot) => {
                if let Some(s) = snapshot
                    && generation == self.generation
                {
                    self.review(checklist, *s, None);
                }
                self.refused(
                    "not written: another session changed this review at the same moment; look again and retry",
                );
            }
            WriteError::Refused(snapshot, message) => {
                if let Some(s) = snapshot
                    && generation == self.generation
                {
                    self.review(checklist, *s, None);
                }
                self.refused(format!("not written: {message}"));
            }
            WriteError::Failed(message) => self.refused(format!("not written: {message}")),
        }
    }
}
