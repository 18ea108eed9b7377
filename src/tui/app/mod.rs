//! The TUI's state and the one function that changes it: `App::update` takes
//! an `Action` (a key, a probe result, a change in the sign-off log, the
//! clock) and returns the `Effect`s the event loop must carry out (start an
//! environment's probes, append to the log, re-run a probe). Nothing here does
//! I/O, so the whole app can be driven headless.

mod command_line;
mod decisions;
mod events;
mod input;
mod navigation;
mod objects;
mod view;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use crossterm::event::{KeyEvent, KeyEventKind, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui_textarea::{CursorMove, TextArea};

use crate::checklist::model::{Checklist, Item, Probe};
use crate::ledger::SignoffDecision;
use crate::probe::drill::Examined;
use crate::probe::{Outcome, Verdict};
use crate::report::{self, ChecklistReport, ItemReport};
use crate::review::rules::{self, Change, Standing};
use crate::review::{Decision, Status};
use crate::runner::{ItemKey, RunnerEvent};

use super::keymap::{self, Arg, Chord, Command, Context, Does, Resolved};
use super::store::{LogSnapshot, WriteError};

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
    /// The environment it is promoted from (`promote_from`).
    pub promote_from: Option<String>,
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
    /// The config's `[roles]`.
    pub roles: crate::review::roles::Roles,
    pub operator: String,
    /// `gonogo demo`: the header says so.
    pub demo: bool,
    pub ascii: bool,
    /// `y` and `Y` copy to the clipboard (off: `--no-clipboard`).
    pub clipboard: bool,
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
        snapshot: LogSnapshot,
    },
    /// A review's events, as the log screen shows them.
    Trail {
        generation: u64,
        checklist: String,
        events: Arc<Vec<crate::ledger::Event>>,
    },
    /// Another environment reviewed in the background: each checklist's
    /// report there.
    Survey {
        env: String,
        reports: Vec<ChecklistReport>,
    },
    /// The log of the same checklist in the environment this one is
    /// promoted from was read.
    Upstream {
        generation: u64,
        checklist: String,
        snapshot: LogSnapshot,
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
        snapshot: LogSnapshot,
        message: String,
    },
    WriteFailed {
        generation: u64,
        checklist: String,
        error: WriteError,
    },
    /// The export was written (the path) or could not be (why).
    Exported(Result<std::path::PathBuf, String>),
    /// Something to fix that stops nothing (a log others can read).
    Warn(String),
    /// The objects a kube item selects, judged one by one, or why they
    /// could not be read.
    Objects {
        generation: u64,
        checklist: String,
        item: String,
        listing: Result<Vec<Examined>, String>,
    },
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
    /// Put this text on the clipboard (through the terminal: OSC 52).
    Copy(String),
    /// Read the events of a review's log, for the log screen.
    ReadTrail {
        generation: u64,
        checklist: String,
    },
    /// List the objects a kube item's probe selects, from the current
    /// environment's cluster source, and judge each.
    ReadObjects {
        generation: u64,
        checklist: String,
        item: String,
    },
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

/// The order of the item rows. `Auto`: problems first while the review is
/// NO-GO (what the room needs to see), the checklist's own order otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Auto,
    Checklist,
    Status,
    Severity,
    Age,
}

impl Sort {
    pub const ALL: [Sort; 5] = [
        Sort::Auto,
        Sort::Checklist,
        Sort::Status,
        Sort::Severity,
        Sort::Age,
    ];

    /// The words `:sort` takes.
    pub fn names() -> impl Iterator<Item = &'static str> {
        Sort::ALL.into_iter().map(Sort::label)
    }

    pub fn label(self) -> &'static str {
        match self {
            Sort::Auto => "auto",
            Sort::Checklist => "checklist",
            Sort::Status => "status",
            Sort::Severity => "severity",
            Sort::Age => "age",
        }
    }

    pub fn parse(word: &str) -> Option<Sort> {
        Sort::ALL.into_iter().find(|s| s.label() == word)
    }

    pub(super) fn next(self) -> Sort {
        match self {
            Sort::Auto => Sort::Status,
            Sort::Status => Sort::Severity,
            Sort::Severity => Sort::Age,
            Sort::Age => Sort::Checklist,
            Sort::Checklist => Sort::Auto,
        }
    }

    /// What `Auto` means for a review whose decision is `decision`.
    pub fn auto_for(decision: crate::review::Decision) -> Sort {
        if decision == crate::review::Decision::NoGo {
            Sort::Status
        } else {
            Sort::Checklist
        }
    }
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
    Detail {
        item: String,
        scroll: u16,
    },
    Path {
        cursor: usize,
    },
    /// The review's sign-off log.
    Log {
        scroll: u16,
    },
    /// Items by environments.
    Matrix {
        scroll: u16,
    },
    /// The objects a kube item selects, out of line first.
    Objects {
        item: String,
        cursor: usize,
    },
    /// One of them as YAML.
    Object {
        item: String,
        name: String,
        namespace: Option<String>,
        scroll: u16,
    },
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
    /// A change that was refused or not written: the next change written
    /// replaces it, so an old refusal never sits beside a later success.
    pub refusal: bool,
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

/// One review's log as last read, whether the first read is done, and why
/// it failed.
#[derive(Debug, Clone, Default)]
pub struct LogStatus {
    pub snapshot: LogSnapshot,
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

/// The objects of one kube item, as the objects screen shows them.
#[derive(Debug, Clone)]
pub struct ObjectsRead {
    pub checklist: String,
    pub item: String,
    pub listing: Listing,
}

#[derive(Debug, Clone)]
pub enum Listing {
    Reading,
    Listed(Arc<Vec<Examined>>),
    /// Why they could not be read.
    Failed(String),
}

impl ObjectsRead {
    /// The objects read, none while reading or after a failure.
    pub fn objects(&self) -> &[Examined] {
        match &self.listing {
            Listing::Listed(all) => all,
            Listing::Reading | Listing::Failed(_) => &[],
        }
    }
}

/// The object open on the object screen, written out once as it opened.
#[derive(Debug, Clone)]
pub struct OpenObject {
    pub item: String,
    /// `namespace/name`.
    pub id: String,
    pub kind: String,
    pub in_line: bool,
    pub reason: Option<String>,
    /// Its YAML, a Secret's values already replaced.
    pub lines: Arc<Vec<crate::probe::drill::Shown>>,
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
    pub reviews: HashMap<String, LogStatus>,
    /// Each checklist's log in the environment this one is promoted from.
    pub upstream: HashMap<String, LogSnapshot>,
    /// The events of one review's log (checklist id), read for the log
    /// screen.
    pub trail: Option<(String, Arc<Vec<crate::ledger::Event>>)>,
    /// The objects of the item drilled into last.
    pub objects: Option<ObjectsRead>,
    /// The object open on the object screen.
    pub object: Option<OpenObject>,
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
    pub sort: Sort,
    /// What `Sort::Auto` settled on for this environment, once its first
    /// round of results was in: the rows do not jump about while the
    /// decision flickers at start, nor later under the cursor.
    pub auto_sort: Option<Sort>,
    pub stack: Vec<Screen>,
    pub modal: Option<Modal>,
    pub pending: Option<Chord>,
    pub size: (u16, u16),
}

pub struct App {
    pub checklists: Vec<Arc<Checklist>>,
    pub environments: Vec<EnvTab>,
    pub roles: crate::review::roles::Roles,
    pub operator: String,
    pub demo: bool,
    pub ascii: bool,
    pub clipboard: bool,
    pub env: usize,
    pub checklist: usize,
    pub generation: u64,
    pub live: EnvState,
    pub now: jiff::Timestamp,
    pub ui: Ui,
    pub toasts: Vec<Toast>,
    /// Notes closed with Esc before they were saved, by environment and
    /// item: `n` on that item opens the text again.
    pub drafts: HashMap<(usize, String), TextArea<'static>>,
    pub view: ViewModel,
    /// The other environments as last reviewed in the background, by
    /// environment: each checklist's report.
    pub surveys: HashMap<String, Vec<ChecklistReport>>,
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
        let view = view::empty_view(setup.checklists.get(checklist).map(|c| c.as_ref()));
        let mut app = App {
            checklists: setup.checklists,
            environments: setup.environments,
            roles: setup.roles,
            operator: setup.operator,
            demo: setup.demo,
            ascii: setup.ascii,
            clipboard: setup.clipboard,
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
                sort: Sort::Auto,
                auto_sort: None,
                stack: Vec::new(),
                modal: None,
                pending: None,
                size: (80, 24),
            },
            toasts: Vec::new(),
            drafts: HashMap::new(),
            view,
            surveys: HashMap::new(),
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

    /// The current checklist's decision in environment `index`: the one on
    /// screen, or as the background review last found it.
    pub fn decision_in(&self, index: usize) -> Option<Decision> {
        if index == self.env {
            return Some(self.view.report.decision);
        }
        let env = self.environments.get(index)?;
        let id = &self.current_checklist()?.id;
        self.surveys
            .get(&env.name)?
            .iter()
            .find(|r| &r.id == id)
            .map(|r| r.decision)
    }

    /// Asks for the current review's events, for the log screen.
    pub(super) fn read_trail(&self, fx: &mut Vec<Effect>) {
        if let Some(c) = self.current_checklist() {
            fx.push(Effect::ReadTrail {
                generation: self.generation,
                checklist: c.id.clone(),
            });
        }
    }

    /// Whether the log screen is open (its events follow the log).
    pub fn log_open(&self) -> bool {
        self.ui
            .stack
            .iter()
            .any(|s| matches!(s, Screen::Log { .. }))
    }

    pub fn review_doc(&self) -> Option<&LogStatus> {
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
                Some(Screen::Log { .. }) => Context::Log,
                Some(Screen::Matrix { .. }) => Context::Matrix,
                Some(Screen::Objects { .. }) => Context::Objects,
                Some(Screen::Object { .. }) => Context::Object,
                None => Context::List,
            },
        }
    }

    /// The item the review keys act on: the open detail (or the objects
    /// drilled into from it), the path entry or the list row under the
    /// cursor.
    pub fn target(&self) -> Option<&ItemReport> {
        match self.ui.stack.last() {
            Some(
                Screen::Detail { item, .. }
                | Screen::Objects { item, .. }
                | Screen::Object { item, .. },
            ) => self.item_report(item),
            Some(Screen::Path { cursor }) => self
                .view
                .report
                .critical_path
                .get(*cursor)
                .and_then(|id| self.item_report(id)),
            Some(Screen::Log { .. } | Screen::Matrix { .. }) => None,
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
        let by_hand = matches!(
            action,
            Action::Key(_) | Action::Run(_) | Action::Execute(_) | Action::Mouse(_)
        );
        self.act(action, &mut fx);
        // The log screen follows the checklist on screen.
        let trail_of = self.live.trail.as_ref().map(|(id, _)| id.as_str());
        if by_hand
            && self.log_open()
            && self.current_checklist().map(|c| c.id.as_str()) != trail_of
            && !fx.iter().any(|e| matches!(e, Effect::ReadTrail { .. }))
        {
            self.read_trail(&mut fx);
        }
        fx
    }

    fn act(&mut self, action: Action, fx: &mut Vec<Effect>) {
        match action {
            Action::Key(ev) => {
                if ev.kind != KeyEventKind::Release {
                    self.key_event(ev, fx);
                }
            }
            Action::Mouse(ev) => self.mouse(ev, fx),
            Action::Paste(text) => self.paste(&text),
            Action::Resize(w, h) => {
                self.ui.size = (w, h);
                self.dirty = true;
            }
            Action::Run(cmd) => {
                self.ui.pending = None;
                self.command(cmd, fx);
            }
            Action::Execute(line) => self.execute(&line, fx),
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
            } if generation == self.generation => {
                self.review(checklist, snapshot, None);
                if self.log_open() {
                    self.read_trail(fx);
                }
            }
            Action::Trail {
                generation,
                checklist,
                events,
            } if generation == self.generation => {
                self.live.trail = Some((checklist, events));
                self.dirty = true;
            }
            Action::Survey { env, reports } => {
                self.surveys.insert(env, reports);
                self.dirty = true;
            }
            Action::Upstream {
                generation,
                checklist,
                snapshot,
            } if generation == self.generation => {
                self.live.upstream.insert(checklist, snapshot);
                self.stale = true;
            }
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
            } if generation == self.generation => {
                self.review(checklist, snapshot, Some(message));
                if self.log_open() {
                    self.read_trail(fx);
                }
            }
            Action::WriteFailed {
                generation,
                checklist,
                error,
            } => self.write_failed(generation, checklist, error),
            Action::Objects {
                generation,
                checklist,
                item,
                listing,
            } if generation == self.generation => self.objects_read(&checklist, &item, listing),
            Action::Exported(Ok(path)) => self.info(format!("exported {}", path.display())),
            Action::Warn(text) => self.error(format!("warning: {text}")),
            Action::Exported(Err(e)) => self.error(format!("export failed: {e}")),
            // Stale results of an environment we left.
            Action::Probe { .. }
            | Action::EnvReady { .. }
            | Action::EnvFailed { .. }
            | Action::Review { .. }
            | Action::Upstream { .. }
            | Action::Trail { .. }
            | Action::ReviewFailed { .. }
            | Action::Written { .. }
            | Action::Objects { .. } => {}
        }
    }
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

fn single_line(text: &str) -> TextArea<'static> {
    let mut t = TextArea::new(vec![text.to_string()]);
    t.move_cursor(CursorMove::End);
    t
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
