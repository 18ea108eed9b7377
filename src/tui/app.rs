//! The TUI's state and the one function that changes it: `App::update` takes
//! an `Action` (a key, a probe result, a change in the sign-off log, the
//! clock) and returns the `Effect`s the event loop must carry out (start an
//! environment's probes, append to the log, re-run a probe). Nothing here does
//! I/O, so the whole app can be driven headless.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui_textarea::{CursorMove, TextArea};

use crate::checklist::model::{Checklist, Item, Probe};
use crate::ledger::SignoffDecision;
use crate::probe::{Outcome, Verdict};
use crate::report::{self, ChecklistReport, ItemReport};
use crate::review::rules::{self, Change, Standing};
use crate::review::{Decision, Status};
use crate::runner::{ItemKey, RunnerEvent};

use super::keymap::{self, Arg, Chord, Command, Context, Does, Resolved};
use super::store::{ReviewSnapshot, WriteError};

/// How long an info toast stays.
const TOAST_SECONDS: i64 = 4;
/// Outcomes kept per item for the history (runs with the same result are
/// folded into one entry).
const HISTORY_LEN: usize = 20;

/// Geometry the last frame produced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Drawn {
    /// The open detail's or help's largest scroll offset.
    pub scroll_max: u16,
}

/// An environment as the tabs show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvTab {
    pub name: String,
    pub read_only: bool,
}

impl EnvTab {
    /// Production gets the danger colour and marker: mistakes there cost most.
    pub fn is_production(&self) -> bool {
        let n = self.name.as_str();
        n == "prod" || n == "production" || n == "live" || n.starts_with("prod-")
    }
}

/// What the app is started with.
#[derive(Debug, Clone)]
pub struct Setup {
    pub checklists: Vec<Arc<Checklist>>,
    pub environments: Vec<EnvTab>,
    pub operator: String,
    /// `gonogo demo`: the header says so.
    pub demo: bool,
    pub ascii: bool,
    pub now: jiff::Timestamp,
    pub start_env: usize,
    pub start_checklist: usize,
}

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Paste(String),
    Resize(u16, u16),
    /// A bound command, as if its key was pressed.
    Run(Command),
    /// A `:` command line, as if typed and confirmed.
    Execute(String),
    /// The once-a-second clock.
    Clock(jiff::Timestamp),
    /// Advance the spinner (only sent while probes run).
    Spin,
    Probe {
        generation: u64,
        event: RunnerEvent,
    },
    /// The environment's probes are resolved and its cluster source is known.
    EnvReady {
        generation: u64,
        probes: HashMap<String, BTreeMap<String, Probe>>,
        cluster: String,
        has_cluster: bool,
    },
    /// The environment's probes could not be set up (manual items still work).
    EnvFailed {
        generation: u64,
        message: String,
    },
    /// A review's log was read (first load, or another session's change).
    Review {
        generation: u64,
        checklist: String,
        snapshot: ReviewSnapshot,
    },
    ReviewFailed {
        generation: u64,
        checklist: String,
        message: String,
    },
    /// Our append went through.
    Written {
        generation: u64,
        checklist: String,
        snapshot: ReviewSnapshot,
        message: String,
    },
    WriteFailed {
        generation: u64,
        checklist: String,
        error: WriteError,
    },
    /// The export was written (the path) or could not be (why).
    Exported(Result<std::path::PathBuf, String>),
}

/// What the event loop must do for the app.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Cancel the current environment's probes and watches; load and start
    /// this one's. `generation` tags everything that comes back.
    StartEnvironment {
        generation: u64,
        env: String,
    },
    Write(Box<WriteRequest>),
    Rerun(ItemKey),
    RerunAll,
    Export(ExportRequest),
}

/// Write the sign-off document of one checklist in one environment from
/// the results on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportRequest {
    pub env: String,
    pub checklist: String,
    /// checklist id -> item id -> latest outcome.
    pub outcomes: HashMap<String, HashMap<String, Outcome>>,
    pub cluster: String,
    /// Where to write; `None` for `<checklist>-<env>-<date>.md` in the
    /// export folder.
    pub path: Option<std::path::PathBuf>,
    /// The app's clock: the document's date.
    pub now: jiff::Timestamp,
}

/// One change to record in a review's log. The app has judged it already
/// (so a refused one never leaves its dialog); the writer judges it again
/// against the log as it then is, through `review::record`, the same path
/// the command line takes.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub generation: u64,
    pub env: String,
    pub read_only: bool,
    pub checklist: String,
    pub change: Change,
    /// The app's clock when it was asked for: what a waiver's `until` is
    /// judged against.
    pub now: jiff::Timestamp,
    /// Said in a toast once written.
    pub done: String,
}

impl PartialEq for WriteRequest {
    /// The same request: same review, same change (by what it records).
    fn eq(&self, other: &Self) -> bool {
        self.generation == other.generation
            && self.env == other.env
            && self.checklist == other.checklist
            && format!("{:?}", self.change) == format!("{:?}", other.change)
            && self.done == other.done
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Sections,
    Items,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    All,
    Open,
    Failing,
}

impl StatusFilter {
    pub fn admits(self, status: Status) -> bool {
        match self {
            StatusFilter::All => true,
            StatusFilter::Open => status.is_open(),
            StatusFilter::Failing => matches!(status, Status::Fail | Status::Error),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::All => "all",
            StatusFilter::Open => "open",
            StatusFilter::Failing => "failing",
        }
    }
    fn next(self) -> StatusFilter {
        match self {
            StatusFilter::All => StatusFilter::Open,
            StatusFilter::Open => StatusFilter::Failing,
            StatusFilter::Failing => StatusFilter::All,
        }
    }
}

/// A screen pushed over the list; Esc pops it.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    Detail { item: String, scroll: u16 },
    Path { cursor: usize },
}

/// A dialog over everything; Esc closes it.
#[derive(Debug, Clone)]
pub enum Modal {
    Help {
        scroll: u16,
    },
    Note(Box<NoteEditor>),
    Waive(Box<WaiveForm>),
    Unwaive {
        item: String,
    },
    Signoff(Box<SignoffDialog>),
    Filter {
        input: Box<TextArea<'static>>,
        /// The filter and the item under the cursor when the line was
        /// opened: Esc puts both back.
        before: String,
        selected: Option<String>,
    },
    Command(Box<CommandLine>),
}

#[derive(Debug, Clone)]
pub struct NoteEditor {
    pub item: String,
    pub text: TextArea<'static>,
    /// The item needs evidence: saving the note also ticks it.
    pub then_tick: bool,
}

#[derive(Debug, Clone)]
pub struct WaiveForm {
    pub item: String,
    pub reason: TextArea<'static>,
    pub until: TextArea<'static>,
    /// 0: reason, 1: until.
    pub field: usize,
    pub error: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SignoffDialog {
    pub choice: SignoffDecision,
    pub note: TextArea<'static>,
}

#[derive(Debug, Clone)]
pub struct CommandLine {
    pub input: TextArea<'static>,
    /// What Tab offered last, shown under the line.
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub level: Level,
    pub text: String,
    /// Info toasts clear themselves; errors stay until dismissed.
    pub until: Option<jiff::Timestamp>,
}

/// One entry of an item's outcome history: consecutive runs with the same
/// verdict and summary are one entry.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub verdict: Verdict,
    pub summary: String,
    pub first: jiff::Timestamp,
    pub last: jiff::Timestamp,
    pub runs: u32,
}

/// One review's log as last read.
#[derive(Debug, Clone, Default)]
pub struct ReviewDoc {
    pub snapshot: ReviewSnapshot,
    pub loaded: bool,
    pub error: Option<String>,
}

/// Whether the cluster source answers, judged from the kube probes' outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// No kube probe has finished yet.
    Unknown,
    Up,
    /// Every kube probe errored: the reason of the latest.
    Down(String),
    /// The environment has no cluster configured.
    Absent,
}

/// What is live for the current environment; replaced on a switch.
#[derive(Debug, Clone, Default)]
pub struct EnvState {
    pub probes: HashMap<String, BTreeMap<String, Probe>>,
    pub ready: bool,
    pub cluster: Option<String>,
    pub has_cluster: bool,
    pub error: Option<String>,
    /// checklist id -> item id -> latest outcome.
    pub outcomes: HashMap<String, HashMap<String, Outcome>>,
    pub running: HashSet<ItemKey>,
    pub history: HashMap<ItemKey, VecDeque<HistoryEntry>>,
    pub reviews: HashMap<String, ReviewDoc>,
}

/// The evaluated review the screen shows, recomputed when something changed.
#[derive(Debug, Clone)]
pub struct ViewModel {
    pub report: ChecklistReport,
    /// Visible items: (section index, item index) into `report.sections`.
    pub rows: Vec<(usize, usize)>,
    pub link: Link,
}

/// Cursor and scroll positions, filters, and what is open.
#[derive(Debug, Clone)]
pub struct Ui {
    pub focus: Pane,
    /// 0 is "all sections"; n is section n-1.
    pub section: usize,
    pub section_offset: usize,
    pub cursor: usize,
    pub offset: usize,
    /// The item under the cursor, kept across re-sorting and filtering.
    pub selected: Option<String>,
    pub filter: String,
    pub status_filter: StatusFilter,
    pub stack: Vec<Screen>,
    pub modal: Option<Modal>,
    pub pending: Option<Chord>,
    pub size: (u16, u16),
}

pub struct App {
    pub checklists: Vec<Arc<Checklist>>,
    pub environments: Vec<EnvTab>,
    pub operator: String,
    pub demo: bool,
    pub ascii: bool,
    pub env: usize,
    pub checklist: usize,
    pub generation: u64,
    pub live: EnvState,
    pub now: jiff::Timestamp,
    pub ui: Ui,
    pub toasts: Vec<Toast>,
    pub view: ViewModel,
    pub spinner: usize,
    /// What the last frame drew, for navigation to read back: how far the
    /// open detail or help scrolls before its last line is at the bottom.
    /// Set by the views (they hold `&App`, hence the cell).
    pub drawn: std::cell::Cell<Drawn>,
    quit: bool,
    dirty: bool,
    stale: bool,
}

impl App {
    /// The app and the effect that starts its first environment.
    pub fn new(setup: Setup) -> (App, Vec<Effect>) {
        let checklist = setup
            .start_checklist
            .min(setup.checklists.len().saturating_sub(1));
        let env = setup
            .start_env
            .min(setup.environments.len().saturating_sub(1));
        let view = empty_view(setup.checklists.get(checklist).map(|c| c.as_ref()));
        let mut app = App {
            checklists: setup.checklists,
            environments: setup.environments,
            operator: setup.operator,
            demo: setup.demo,
            ascii: setup.ascii,
            env,
            checklist,
            generation: 0,
            live: EnvState::default(),
            now: setup.now,
            ui: Ui {
                focus: Pane::Items,
                section: 0,
                section_offset: 0,
                cursor: 0,
                offset: 0,
                selected: None,
                filter: String::new(),
                status_filter: StatusFilter::All,
                stack: Vec::new(),
                modal: None,
                pending: None,
                size: (80, 24),
            },
            toasts: Vec::new(),
            view,
            spinner: 0,
            drawn: std::cell::Cell::new(Drawn::default()),
            quit: false,
            dirty: true,
            stale: true,
        };
        let mut fx = Vec::new();
        app.start_env(&mut fx);
        app.prepare();
        (app, fx)
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether something changed since the last call: the loop draws only then.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Probes are running: the spinner turns.
    pub fn is_busy(&self) -> bool {
        !self.live.running.is_empty()
    }

    pub fn env_tab(&self) -> &EnvTab {
        &self.environments[self.env]
    }

    pub fn current_checklist(&self) -> Option<&Arc<Checklist>> {
        self.checklists.get(self.checklist)
    }

    pub fn review_doc(&self) -> Option<&ReviewDoc> {
        let c = self.current_checklist()?;
        self.live.reviews.get(&c.id)
    }

    /// Which bindings apply now.
    pub fn context(&self) -> Context {
        match &self.ui.modal {
            Some(Modal::Help { .. }) => Context::Help,
            Some(Modal::Note(_)) => Context::Note,
            Some(Modal::Waive(_)) => Context::Form,
            Some(Modal::Unwaive { .. }) => Context::Confirm,
            Some(Modal::Signoff(_)) => Context::Signoff,
            Some(Modal::Filter { .. }) => Context::Filter,
            Some(Modal::Command(_)) => Context::Command,
            None => match self.ui.stack.last() {
                Some(Screen::Detail { .. }) => Context::Detail,
                Some(Screen::Path { .. }) => Context::Path,
                None => Context::List,
            },
        }
    }

    /// The item the review keys act on: the open detail, the path entry or
    /// the list row under the cursor.
    pub fn target(&self) -> Option<&ItemReport> {
        match self.ui.stack.last() {
            Some(Screen::Detail { item, .. }) => self.item_report(item),
            Some(Screen::Path { cursor }) => self
                .view
                .report
                .critical_path
                .get(*cursor)
                .and_then(|id| self.item_report(id)),
            None => {
                let (s, i) = *self.view.rows.get(self.ui.cursor)?;
                self.view.report.sections.get(s)?.items.get(i)
            }
        }
    }

    pub fn item_report(&self, id: &str) -> Option<&ItemReport> {
        self.view
            .report
            .sections
            .iter()
            .flat_map(|s| s.items.iter())
            .find(|i| i.id == id)
    }

    pub fn outcome(&self, item: &str) -> Option<&Outcome> {
        let c = self.current_checklist()?;
        self.live.outcomes.get(&c.id)?.get(item)
    }

    pub fn key(&self, item: &str) -> Option<ItemKey> {
        Some(ItemKey::new(&self.current_checklist()?.id, item))
    }

    /// Applies one action. The returned effects are for the event loop.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut fx = Vec::new();
        match action {
            Action::Key(ev) => {
                if ev.kind != KeyEventKind::Release {
                    self.key_event(ev, &mut fx);
                }
            }
            Action::Mouse(ev) => self.mouse(ev, &mut fx),
            Action::Paste(text) => self.paste(&text),
            Action::Resize(w, h) => {
                self.ui.size = (w, h);
                self.dirty = true;
            }
            Action::Run(cmd) => {
                self.ui.pending = None;
                self.command(cmd, &mut fx);
            }
            Action::Execute(line) => self.execute(&line, &mut fx),
            Action::Clock(now) => self.clock(now),
            Action::Spin => {
                self.spinner = self.spinner.wrapping_add(1);
                self.dirty = self.is_busy();
            }
            Action::Probe { generation, event } if generation == self.generation => {
                self.probe_event(event)
            }
            Action::EnvReady {
                generation,
                probes,
                cluster,
                has_cluster,
            } if generation == self.generation => {
                self.live.probes = probes;
                self.live.ready = true;
                self.live.cluster = Some(cluster);
                self.live.has_cluster = has_cluster;
                self.stale = true;
            }
            Action::EnvFailed {
                generation,
                message,
            } if generation == self.generation => {
                self.live.error = Some(message.clone());
                self.error(message);
                self.stale = true;
            }
            Action::Review {
                generation,
                checklist,
                snapshot,
            } if generation == self.generation => self.review(checklist, snapshot, None),
            Action::ReviewFailed {
                generation,
                checklist,
                message,
            } if generation == self.generation => {
                let doc = self.live.reviews.entry(checklist).or_default();
                doc.error = Some(message.clone());
                self.error(format!("cannot read the sign-off log: {message}"));
            }
            Action::Written {
                generation,
                checklist,
                snapshot,
                message,
            } if generation == self.generation => self.review(checklist, snapshot, Some(message)),
            Action::WriteFailed {
                generation,
                checklist,
                error,
            } => self.write_failed(generation, checklist, error),
            Action::Exported(Ok(path)) => self.info(format!("exported {}", path.display())),
            Action::Exported(Err(e)) => self.error(format!("export failed: {e}")),
            // Stale results of an environment we left.
            Action::Probe { .. }
            | Action::EnvReady { .. }
            | Action::EnvFailed { .. }
            | Action::Review { .. }
            | Action::ReviewFailed { .. }
            | Action::Written { .. } => {}
        }
        fx
    }

    /// Recomputes what the screen shows if anything it depends on changed,
    /// and keeps the cursors inside it. Call after a batch of `update`s.
    pub fn prepare(&mut self) {
        if self.stale {
            self.stale = false;
            self.dirty = true;
            self.recompute();
        }
        self.clamp();
    }

    fn recompute(&mut self) {
        let Some(checklist) = self.current_checklist().cloned() else {
            return;
        };
        let env = self.env_tab().name.clone();
        let empty_state = crate::ledger::ReviewState::default();
        let empty_outcomes = HashMap::new();
        let state = self
            .live
            .reviews
            .get(&checklist.id)
            .map_or(&empty_state, |d| &d.snapshot.state);
        let outcomes = self
            .live
            .outcomes
            .get(&checklist.id)
            .unwrap_or(&empty_outcomes);
        let report = report::checklist_report(&checklist, &env, state, outcomes, self.now);
        let rows = self.rows(&report);
        let link = self.link();
        self.view = ViewModel { report, rows, link };
    }

    fn rows(&self, report: &ChecklistReport) -> Vec<(usize, usize)> {
        let needle = self.ui.filter.trim().to_lowercase();
        let mut rows = Vec::new();
        for (si, section) in report.sections.iter().enumerate() {
            if self.ui.section != 0 && self.ui.section != si + 1 {
                continue;
            }
            for (ii, item) in section.items.iter().enumerate() {
                if !self.ui.status_filter.admits(item.status) {
                    continue;
                }
                if !needle.is_empty() && !matches_filter(item, &needle) {
                    continue;
                }
                rows.push((si, ii));
            }
        }
        rows
    }

    fn link(&self) -> Link {
        if self.live.ready && !self.live.has_cluster {
            return Link::Absent;
        }
        let mut latest_error: Option<&Outcome> = None;
        let mut any = false;
        for c in &self.checklists {
            let Some(probes) = self.live.probes.get(&c.id) else {
                continue;
            };
            let Some(outcomes) = self.live.outcomes.get(&c.id) else {
                continue;
            };
            for (id, probe) in probes {
                if probe.spec.kind() != crate::checklist::ProbeKind::Kube {
                    continue;
                }
                let Some(o) = outcomes.get(id) else { continue };
                any = true;
                if o.verdict != Verdict::Error {
                    return Link::Up;
                }
                if latest_error.is_none_or(|l| l.evidence.taken_at < o.evidence.taken_at) {
                    latest_error = Some(o);
                }
            }
        }
        match (any, latest_error) {
            (true, Some(o)) => Link::Down(o.evidence.summary.clone()),
            _ => Link::Unknown,
        }
    }

    /// Keeps cursors and scroll offsets in range and the selection on the
    /// same item when rows move.
    fn clamp(&mut self) {
        let rows = &self.view.rows;
        if let Some(id) = &self.ui.selected
            && let Some(pos) = rows
                .iter()
                .position(|(s, i)| self.view.report.sections[*s].items[*i].id == *id)
        {
            self.ui.cursor = pos;
        }
        self.ui.cursor = self.ui.cursor.min(rows.len().saturating_sub(1));
        self.ui.selected = rows
            .get(self.ui.cursor)
            .map(|(s, i)| self.view.report.sections[*s].items[*i].id.clone());
        let sections = self.view.report.sections.len() + 1;
        self.ui.section = self.ui.section.min(sections - 1);
        let areas = super::views::layout(
            Rect::new(0, 0, self.ui.size.0, self.ui.size.1),
            self.view.report.sections.len(),
        );
        let height = areas.items_rows().max(1);
        self.ui.offset = scroll_into_view(self.ui.offset, self.ui.cursor, height, rows.len());
        let sheight = areas.section_rows().max(1);
        self.ui.section_offset =
            scroll_into_view(self.ui.section_offset, self.ui.section, sheight, sections);
        let path_len = self.view.report.critical_path.len();
        for screen in &mut self.ui.stack {
            if let Screen::Path { cursor } = screen {
                *cursor = (*cursor).min(path_len.saturating_sub(1));
            }
        }
    }

    fn key_event(&mut self, ev: KeyEvent, fx: &mut Vec<Effect>) {
        self.dirty = true;
        let pending = self.ui.pending.take();
        match keymap::resolve(self.context(), pending, &ev) {
            Resolved::Run(cmd) => self.command(cmd, fx),
            Resolved::Prefix(chord) => self.ui.pending = Some(chord),
            Resolved::Unbound => self.text_input(ev),
        }
    }

    fn command(&mut self, cmd: Command, fx: &mut Vec<Effect>) {
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

    fn page(&self) -> usize {
        let areas = super::views::layout(
            Rect::new(0, 0, self.ui.size.0, self.ui.size.1),
            self.view.report.sections.len(),
        );
        areas.items_rows().saturating_sub(1).max(1)
    }

    fn move_by(&mut self, delta: i64) {
        let step = |pos: usize, len: usize| -> usize {
            if len == 0 {
                return 0;
            }
            (pos as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
        };
        // Scrolling stops where the view stops drawing, so that the first
        // step back after `G` (or after pressing on past the end) moves.
        let limit = match self.context() {
            Context::Help | Context::Detail => self.scroll_limit(),
            _ => 0,
        };
        let scroll_by = |scroll: &mut u16| {
            let from = i64::from(*scroll).min(limit);
            *scroll = from.saturating_add(delta).clamp(0, limit) as u16;
        };
        match (&mut self.ui.modal, self.ui.stack.last_mut()) {
            (Some(Modal::Help { scroll }), _) => scroll_by(scroll),
            (Some(_), _) => {}
            (None, Some(Screen::Detail { scroll, .. })) => scroll_by(scroll),
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
    fn scroll_limit(&self) -> i64 {
        i64::from(self.drawn.get().scroll_max)
    }

    fn open(&mut self) {
        if self.ui.stack.is_empty() && self.ui.focus == Pane::Sections {
            self.ui.focus = Pane::Items;
            return;
        }
        if let Some(item) = self.target().map(|i| i.id.clone()) {
            self.ui.stack.push(Screen::Detail { item, scroll: 0 });
        }
    }

    /// Esc: one level back. Dialogs first, then sticky errors, then pushed
    /// screens, then filters. Never quits.
    fn back(&mut self) {
        if let Some(modal) = self.ui.modal.take() {
            if let Modal::Filter {
                before, selected, ..
            } = modal
            {
                self.ui.filter = before;
                self.ui.selected = selected;
                self.stale = true;
            }
            return;
        }
        if self.toasts.iter().any(|t| t.level == Level::Error) {
            self.toasts.retain(|t| t.level != Level::Error);
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

    fn switch_env(&mut self, index: usize, fx: &mut Vec<Effect>) {
        if index == self.env {
            return;
        }
        self.env = index;
        self.start_env(fx);
    }

    fn start_env(&mut self, fx: &mut Vec<Effect>) {
        self.generation += 1;
        self.live = EnvState::default();
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

    fn switch_checklist(&mut self, index: usize) {
        if index != self.checklist {
            self.checklist = index;
            self.ui.section = 0;
            self.ui.cursor = 0;
            self.ui.selected = None;
            self.ui.stack.clear();
            self.stale = true;
        }
    }

    /// The rules' view of the current review, or why nothing can be written.
    fn review_for_write(&self) -> Result<(&Checklist, &ReviewDoc), String> {
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
        if let Some(problem) = doc.snapshot.problems.first() {
            return Err(format!(
                "the sign-off log has been altered ({problem}); nothing more is written to it"
            ));
        }
        Ok((checklist.as_ref(), doc))
    }

    fn standing<'a>(&'a self, doc: &'a ReviewDoc) -> Standing<'a> {
        Standing {
            env: &self.environments[self.env].name,
            read_only: self.environments[self.env].read_only,
            state: &doc.snapshot.state,
            head: &doc.snapshot.head,
            now: self.now,
        }
    }

    /// Judges `change` against the review on screen and, if the rules allow
    /// it, asks for it to be recorded; `Err` says why not.
    fn propose(&mut self, change: Change, fx: &mut Vec<Effect>) -> Result<(), String> {
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
    fn export(&mut self, path: Option<std::path::PathBuf>, fx: &mut Vec<Effect>) {
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

    fn target_item(&self) -> Option<Item> {
        let id = self.target()?.id.clone();
        self.current_checklist()?.item(&id).cloned()
    }

    fn tick(&mut self, fx: &mut Vec<Effect>) {
        let Some(item) = self.target_item() else {
            return;
        };
        let (ticked, needs_note) = match self.review_for_write() {
            Ok((_, doc)) => (
                doc.snapshot.state.tick(&item.id).is_some(),
                item.evidence && !doc.snapshot.state.has_notes(&item.id),
            ),
            Err(e) => return self.error(e),
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
            Err(e) => self.error(e),
        }
    }

    /// Says so and returns true when nothing can be written here: better
    /// than letting someone type a note or a reason only to be refused.
    fn refuse_read_only(&mut self) -> bool {
        let env = self.env_tab();
        match rules::writable(&env.name, env.read_only) {
            Ok(()) => false,
            Err(r) => {
                self.error(r.message);
                true
            }
        }
    }

    fn open_note(&mut self, then_tick: bool) {
        let Some(item) = self.target().map(|i| i.id.clone()) else {
            return;
        };
        if self.refuse_read_only() {
            return;
        }
        let mut text = TextArea::default();
        text.set_placeholder_text("What was checked, a link to the ticket or drill record …");
        self.ui.modal = Some(Modal::Note(Box::new(NoteEditor {
            item,
            text,
            then_tick,
        })));
    }

    fn open_waive(&mut self) {
        let Some(item) = self.target().map(|i| i.id.clone()) else {
            return;
        };
        if self.refuse_read_only() {
            return;
        }
        let waived = self
            .review_doc()
            .is_some_and(|d| d.snapshot.state.waiver(&item).is_some());
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

    fn open_signoff(&mut self) {
        if self.refuse_read_only() {
            return;
        }
        let choice = match self.view.report.decision {
            Decision::Go => SignoffDecision::Go,
            Decision::GoWithConditions => SignoffDecision::GoWithConditions,
            Decision::NoGo => SignoffDecision::NoGo,
        };
        let mut note = single_line("");
        note.set_placeholder_text("optional: conditions, follow-ups");
        self.ui.modal = Some(Modal::Signoff(Box::new(SignoffDialog { choice, note })));
    }

    /// The open blockers of the current checklist: what makes it NO-GO.
    pub fn open_blockers(&self) -> Vec<String> {
        self.view.report.signoff_facts().open_blockers
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

    fn rerun(&mut self, fx: &mut Vec<Effect>) {
        let Some(item) = self.target() else { return };
        if item.kind == "manual" {
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

    fn submit(&mut self, fx: &mut Vec<Effect>) {
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

    fn submit_note(&mut self, editor: Box<NoteEditor>, fx: &mut Vec<Effect>) {
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
            self.error(e);
            // Keep what was typed.
            self.ui.modal = Some(Modal::Note(editor));
        }
    }

    fn submit_waive(&mut self, mut form: Box<WaiveForm>, fx: &mut Vec<Effect>) {
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

    fn submit_unwaive(&mut self, id: String, fx: &mut Vec<Effect>) {
        let Some(item) = self.current_checklist().and_then(|c| c.item(&id)).cloned() else {
            return;
        };
        if let Err(e) = self.propose(Change::Unwaive { item }, fx) {
            self.error(e);
        }
    }

    fn submit_signoff(&mut self, dialog: Box<SignoffDialog>, fx: &mut Vec<Effect>) {
        let note = crate::text::sanitize(&dialog.note.lines().join(" "), false)
            .trim()
            .to_string();
        let change = Change::Signoff {
            decision: dialog.choice,
            note: (!note.is_empty()).then_some(note),
            facts: self.view.report.signoff_facts(),
        };
        if let Err(e) = self.propose(change, fx) {
            self.error(format!("refused: {e}"));
            self.ui.modal = Some(Modal::Signoff(dialog));
        }
    }

    /// Runs a `:` command: a word of `keymap::WORDS` and its argument.
    fn execute(&mut self, line: &str, fx: &mut Vec<Effect>) {
        self.dirty = true;
        let line = line.trim();
        let (typed, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        if typed.is_empty() {
            return;
        }
        let Some(word) = keymap::word(typed) else {
            let names: Vec<&str> = keymap::WORDS.iter().map(|w| w.name).collect();
            return self.error(format!(
                "unknown command `{typed}`{}: try {}",
                crate::diag::did_you_mean(typed, names.iter().copied()),
                names.join(", ")
            ));
        };
        match word.does {
            Does::Run(cmd) => self.command(cmd, fx),
            Does::SwitchEnv => match self.environments.iter().position(|e| e.name == arg) {
                Some(i) => self.switch_env(i, fx),
                None => self.error(format!(
                    "no environment `{arg}` (configured: {})",
                    self.environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Does::SwitchChecklist => match self.checklists.iter().position(|c| c.id == arg) {
                Some(i) => self.switch_checklist(i),
                None => self.error(format!(
                    "no checklist `{arg}` (loaded: {})",
                    self.checklists
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Does::SetFilter => {
                match arg {
                    "all" => self.ui.status_filter = StatusFilter::All,
                    "open" => self.ui.status_filter = StatusFilter::Open,
                    "failing" => self.ui.status_filter = StatusFilter::Failing,
                    text => self.ui.filter = text.to_string(),
                }
                self.stale = true;
            }
            Does::ExportTo => self.export((!arg.is_empty()).then(|| expand_home(arg)), fx),
        }
    }

    /// Tab on the command line: completes the command, then its argument.
    fn complete(&mut self) {
        let envs: Vec<String> = self.environments.iter().map(|e| e.name.clone()).collect();
        let lists: Vec<String> = self.checklists.iter().map(|c| c.id.clone()).collect();
        let Some(Modal::Command(line)) = &mut self.ui.modal else {
            return;
        };
        let text = line.input.lines().join(" ");
        let (options, prefix, typed): (Vec<String>, String, String) = match text.split_once(' ') {
            None => (
                keymap::WORDS.iter().map(|w| w.name.to_string()).collect(),
                String::new(),
                text.clone(),
            ),
            Some((cmd, arg)) => {
                let opts = match keymap::word(cmd).map(|w| w.arg) {
                    Some(Arg::Env) => envs,
                    Some(Arg::Checklist) => lists,
                    Some(Arg::Filter) => vec!["all".into(), "open".into(), "failing".into()],
                    _ => Vec::new(),
                };
                (opts, format!("{cmd} "), arg.to_string())
            }
        };
        let matching: Vec<String> = options
            .into_iter()
            .filter(|o| o.starts_with(typed.as_str()))
            .collect();
        let completed = match matching.as_slice() {
            [] => None,
            [one] => Some(format!(
                "{prefix}{one}{}",
                if prefix.is_empty() { " " } else { "" }
            )),
            many => {
                let common = common_prefix(many);
                (common.len() > typed.len()).then(|| format!("{prefix}{common}"))
            }
        };
        line.candidates = if matching.len() > 1 {
            matching
        } else {
            Vec::new()
        };
        if let Some(new) = completed {
            line.input = single_line(&new);
        }
    }

    fn text_input(&mut self, ev: KeyEvent) {
        match &mut self.ui.modal {
            Some(Modal::Note(editor)) => {
                editor.text.input(ev);
            }
            Some(Modal::Waive(form)) => {
                let field = if form.field == 0 {
                    &mut form.reason
                } else {
                    &mut form.until
                };
                single_line_input(field, ev);
                form.error = None;
            }
            Some(Modal::Signoff(d)) => single_line_input(&mut d.note, ev),
            Some(Modal::Filter { input, .. }) => {
                single_line_input(input, ev);
                self.ui.filter = input.lines().join(" ");
                self.ui.cursor = 0;
                self.ui.selected = None;
                self.stale = true;
            }
            Some(Modal::Command(line)) => {
                single_line_input(&mut line.input, ev);
                line.candidates.clear();
            }
            _ => {}
        }
    }

    fn paste(&mut self, text: &str) {
        self.dirty = true;
        let clean = crate::text::sanitize(text, true);
        let one_line = clean.replace(['\n', '\t'], " ");
        match &mut self.ui.modal {
            Some(Modal::Note(editor)) => {
                editor.text.insert_str(&clean);
            }
            Some(Modal::Waive(form)) => {
                let field = if form.field == 0 {
                    &mut form.reason
                } else {
                    &mut form.until
                };
                field.insert_str(&one_line);
            }
            Some(Modal::Signoff(d)) => {
                d.note.insert_str(&one_line);
            }
            Some(Modal::Filter { input, .. }) => {
                input.insert_str(&one_line);
                self.ui.filter = input.lines().join(" ");
                self.stale = true;
            }
            Some(Modal::Command(line)) => {
                line.input.insert_str(&one_line);
            }
            _ => {}
        }
    }

    fn mouse(&mut self, ev: MouseEvent, fx: &mut Vec<Effect>) {
        match ev.kind {
            MouseEventKind::ScrollDown => self.command(Command::Down, fx),
            MouseEventKind::ScrollUp => self.command(Command::Up, fx),
            MouseEventKind::Down(_) if self.ui.modal.is_none() && self.ui.stack.is_empty() => {
                let size = Rect::new(0, 0, self.ui.size.0, self.ui.size.1);
                let areas = super::views::layout(size, self.view.report.sections.len());
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

    fn clock(&mut self, now: jiff::Timestamp) {
        let before = self.now;
        self.now = now;
        let day = |t: jiff::Timestamp| t.to_zoned(jiff::tz::TimeZone::UTC).date();
        if day(before) != day(now) {
            // Waivers lapse at the end of their day.
            self.stale = true;
        }
        let toasts = self.toasts.len();
        self.toasts.retain(|t| t.until.is_none_or(|u| u > now));
        if self.toasts.len() != toasts {
            self.dirty = true;
        }
        if self.ages_changed(before, now) {
            self.dirty = true;
        }
    }

    /// Whether any age label on screen reads differently at `now`.
    fn ages_changed(&self, before: jiff::Timestamp, now: jiff::Timestamp) -> bool {
        let Some(c) = self.current_checklist() else {
            return false;
        };
        let Some(outcomes) = self.live.outcomes.get(&c.id) else {
            return false;
        };
        outcomes.values().any(|o| {
            age_bucket(before, o.evidence.taken_at) != age_bucket(now, o.evidence.taken_at)
        })
    }

    fn probe_event(&mut self, event: RunnerEvent) {
        match event {
            RunnerEvent::Started(key) => {
                self.live.running.insert(key);
                self.dirty = true;
            }
            RunnerEvent::Finished(key, outcome) => {
                self.live.running.remove(&key);
                let history = self.live.history.entry(key.clone()).or_default();
                record(history, &outcome);
                self.live
                    .outcomes
                    .entry(key.checklist.to_string())
                    .or_default()
                    .insert(key.item.to_string(), outcome);
                self.stale = true;
            }
        }
    }

    fn review(&mut self, checklist: String, snapshot: ReviewSnapshot, done: Option<String>) {
        for news in &snapshot.news {
            self.info(news.clone());
        }
        let newly_tampered = snapshot.problems.first().filter(|_| {
            self.live
                .reviews
                .get(&checklist)
                .is_none_or(|d| d.snapshot.problems.is_empty())
        });
        if let Some(problem) = newly_tampered {
            self.error(format!(
                "the sign-off log of {checklist} has been altered: {problem}"
            ));
        }
        self.live.reviews.insert(
            checklist,
            ReviewDoc {
                snapshot,
                loaded: true,
                error: None,
            },
        );
        if let Some(done) = done {
            self.info(done);
        }
        self.stale = true;
    }

    fn write_failed(&mut self, generation: u64, checklist: String, error: WriteError) {
        match error {
            WriteError::Moved(snapshot) => {
                if let Some(s) = snapshot
                    && generation == self.generation
                {
                    self.review(checklist, *s, None);
                }
                self.error(
                    "not written: another session changed this review at the same moment; look again and retry",
                );
            }
            WriteError::Refused(snapshot, message) => {
                if let Some(s) = snapshot
                    && generation == self.generation
                {
                    self.review(checklist, *s, None);
                }
                self.error(format!("not written: {message}"));
            }
            WriteError::Failed(message) => self.error(format!("not written: {message}")),
        }
    }

    pub fn info(&mut self, text: impl Into<String>) {
        let until = self
            .now
            .checked_add(jiff::SignedDuration::from_secs(TOAST_SECONDS))
            .ok();
        self.push_toast(Level::Info, text.into(), until);
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.push_toast(Level::Error, text.into(), None);
    }

    fn push_toast(&mut self, level: Level, text: String, until: Option<jiff::Timestamp>) {
        let text = crate::text::sanitize(&text, false);
        self.toasts.retain(|t| t.text != text);
        self.toasts.push(Toast { level, text, until });
        // A burst of news must not cover the screen.
        while self.toasts.len() > 3 {
            let oldest_info = self.toasts.iter().position(|t| t.level == Level::Info);
            self.toasts.remove(oldest_info.unwrap_or(0));
        }
        self.dirty = true;
    }
}

fn empty_view(checklist: Option<&Checklist>) -> ViewModel {
    let report = match checklist {
        Some(c) => report::checklist_report(
            c,
            "",
            &crate::ledger::ReviewState::default(),
            &HashMap::new(),
            jiff::Timestamp::UNIX_EPOCH,
        ),
        None => ChecklistReport {
            id: String::new(),
            title: "no checklist loaded".into(),
            version: String::new(),
            decision: Decision::Go,
            sections: Vec::new(),
            critical_path: Vec::new(),
            counts: Default::default(),
        },
    };
    ViewModel {
        report,
        rows: Vec::new(),
        link: Link::Unknown,
    }
}

fn matches_filter(item: &ItemReport, needle: &str) -> bool {
    [
        item.id.as_str(),
        item.title.as_str(),
        item.summary.as_str(),
        item.kind.as_str(),
        item.severity.as_str(),
        item.status.as_str(),
    ]
    .iter()
    .any(|field| field.to_lowercase().contains(needle))
}

fn record(history: &mut VecDeque<HistoryEntry>, outcome: &Outcome) {
    let at = outcome.evidence.taken_at;
    if let Some(last) = history.front_mut()
        && last.verdict == outcome.verdict
        && last.summary == outcome.evidence.summary
    {
        last.last = at;
        last.runs += 1;
        return;
    }
    history.push_front(HistoryEntry {
        verdict: outcome.verdict,
        summary: outcome.evidence.summary.clone(),
        first: at,
        last: at,
        runs: 1,
    });
    history.truncate(HISTORY_LEN);
}

/// The unit and count an age label shows; equal buckets read the same.
pub fn age_bucket(now: jiff::Timestamp, then: jiff::Timestamp) -> (u8, i64) {
    let secs = now.duration_since(then).as_secs().max(0);
    match secs {
        0..60 => (0, secs),
        60..3600 => (1, secs / 60),
        3600..86400 => (2, secs / 3600),
        _ => (3, secs / 86400),
    }
}

/// `12s`, `3m`, `2h`, `5d`.
pub fn age_label(now: jiff::Timestamp, then: jiff::Timestamp) -> String {
    let (unit, n) = age_bucket(now, then);
    let u = ["s", "m", "h", "d"][unit as usize];
    format!("{n}{u}")
}

fn scroll_into_view(offset: usize, cursor: usize, height: usize, len: usize) -> usize {
    let mut offset = offset.min(len.saturating_sub(height));
    if cursor < offset {
        offset = cursor;
    } else if cursor >= offset + height {
        offset = cursor + 1 - height;
    }
    offset
}

fn single_line(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.move_cursor(CursorMove::End);
    t
}

/// Keys for a one-line field: Enter never makes a second line.
fn single_line_input(field: &mut TextArea<'static>, ev: KeyEvent) {
    if ev.code == crossterm::event::KeyCode::Enter {
        return;
    }
    field.input(ev);
}

fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = len.min(
            first
                .char_indices()
                .zip(w.chars())
                .take_while(|((_, a), b)| a == b)
                .count(),
        );
    }
    first.chars().take(len).collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `~/x` as the home folder's `x`, the way a shell would read a path typed
/// on the `:` line; anything else as it stands (relative to where gonogo
/// was started, like `-o`).
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}
