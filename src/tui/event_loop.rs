//! The live event loop: terminal input, probe results, sign-off log changes
//! and the clock become `Action`s for `App::update`; the `Effect`s it returns
//! are carried out here (start an environment, append to the log, re-run a
//! probe), always off the input path. The screen is drawn only when the app
//! says something changed.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::app::{Action, App, Effect, ExportRequest, Setup, WriteRequest};
use super::keymap::Command;
use super::store::{ReviewStore, WriteError};
use super::terminal::Screen;
use super::theme::Theme;
use super::views;
use crate::checklist::model::Probe;
use crate::runner::{ItemKey, Mode, Runner};
use crate::session::Workspace;

/// At most this many queued actions are applied before the screen is drawn
/// and input is read again.
const BATCH: usize = 512;

/// Changes from the background (probe results, other sessions' ticks, the
/// clock, the spinner) wait this many times what the last frame cost before
/// they are drawn, so drawing them takes at most a fifth of a core; what the
/// user does is drawn at once. A frame recomputes the review: about a
/// millisecond for the demo (drawn almost at once), tens of milliseconds for
/// two thousand items, where results arriving one by one must not each cost
/// a frame.
const BACKGROUND_PAUSE: u32 = 4;
/// The longest a background change waits, however slow the last frame.
const MAX_BACKGROUND_PAUSE: Duration = Duration::from_secs(1);

/// How long quitting waits for appends and exports still under way.
const FINISH_WRITES: Duration = Duration::from_secs(10);

/// Runs the dashboard until the user quits.
pub async fn run(
    ws: Workspace,
    setup: Setup,
    theme: Theme,
    mouse: bool,
    started: Instant,
) -> Result<(), String> {
    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut session = Session::new(Arc::new(ws), tx.clone());
    let (mut app, effects) = App::new(setup);
    // Before the screen changes: a signal from here on restores it.
    let mut stop = stop_signals();
    let mut screen = Screen::enter(mouse).map_err(|e| format!("cannot use the terminal: {e}"))?;
    if let Ok(size) = screen.terminal.size() {
        app.update(Action::Resize(size.width, size.height));
    }
    for e in effects {
        session.perform(e);
    }
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut spin = tokio::time::interval(Duration::from_millis(150));
    spin.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first_frame = true;
    let mut next_frame = tokio::time::Instant::now();
    let mut urgent = true;

    let ended = loop {
        let deferred = !urgent && tokio::time::Instant::now() < next_frame;
        if !deferred {
            let t0 = tokio::time::Instant::now();
            app.prepare();
            if app.take_dirty() {
                if let Err(e) = screen.terminal.draw(|f| views::draw(f, &app, &theme)) {
                    break Err(format!("cannot draw: {e}"));
                }
                let cost = t0.elapsed();
                next_frame = tokio::time::Instant::now()
                    + (cost * BACKGROUND_PAUSE).min(MAX_BACKGROUND_PAUSE);
                if first_frame {
                    first_frame = false;
                    tracing::info!(
                        "first frame after {} ms (prepared and drawn in {} us)",
                        started.elapsed().as_millis(),
                        cost.as_micros()
                    );
                    // Lets the pseudo-terminal test check that a panic on
                    // the UI thread gives the terminal back. Debug builds
                    // only: a release binary has no such switch.
                    #[cfg(debug_assertions)]
                    if std::env::var_os("GONOGO_DEBUG_PANIC").is_some() {
                        panic!("GONOGO_DEBUG_PANIC: a panic on the UI thread, on request");
                    }
                }
            }
        }
        if app.should_quit() {
            break Ok(());
        }
        let action = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(ev)) => match terminal_action(ev) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => break Err(format!("cannot read the terminal: {e}")),
                None => break Ok(()),
            },
            Some(a) = rx.recv() => a,
            _ = clock.tick() => Action::Clock(jiff::Timestamp::now()),
            _ = spin.tick(), if app.is_busy() => Action::Spin,
            _ = stop.recv() => Action::Run(Command::Quit),
            // Time to draw what the background changed meanwhile.
            () = tokio::time::sleep_until(next_frame), if deferred => continue,
        };
        urgent = from_user(&action);
        let mut fx = app.update(action);
        // A burst of results (every probe finishing at start) is drawn once.
        for _ in 0..BATCH {
            match rx.try_recv() {
                Ok(a) => fx.extend(app.update(a)),
                Err(_) => break,
            }
        }
        for e in fx {
            session.perform(e);
        }
    };
    // The shell comes back at once; a tick typed just before `q` is still
    // written before the process ends, and a failure is said on stderr.
    drop(screen);
    match (ended, session.finish(&mut rx).await) {
        (Ok(()), result) | (result, Ok(())) => result,
        (Err(ended), Err(unsaved)) => Err(format!("{ended}\n{unsaved}")),
    }
}

/// Whether `action` is something the user did, to be drawn at once.
fn from_user(action: &Action) -> bool {
    matches!(
        action,
        Action::Key(_) | Action::Mouse(_) | Action::Paste(_) | Action::Resize(..) | Action::Run(_)
    )
}

fn terminal_action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        Event::Mouse(m) => Some(Action::Mouse(m)),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// SIGTERM, SIGHUP and SIGINT end the session like `q`, so the terminal is
/// restored (in raw mode Ctrl-C is a key, so SIGINT only comes from `kill`).
fn stop_signals() -> UnboundedReceiver<()> {
    let (tx, rx) = unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::interrupt(),
        ] {
            if let Ok(mut s) = signal(kind) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        let _ = tx.send(());
                    }
                });
            }
        }
    }
    // Keep the channel open when no signal could be installed.
    std::mem::forget(tx);
    rx
}

enum Control {
    Rerun(ItemKey),
    RerunAll,
}

/// Carries out effects: owns the current environment's background task (its
/// runner, log watches) and the review stores.
struct Session {
    ws: Arc<Workspace>,
    state_dir: PathBuf,
    operator: String,
    tx: UnboundedSender<Action>,
    env_task: Option<JoinHandle<()>>,
    control: Option<UnboundedSender<Control>>,
    stores: HashMap<String, Arc<ReviewStore>>,
    generation: u64,
    /// Appends and exports under way: quitting waits for them.
    in_flight: Vec<JoinHandle<()>>,
}

impl Session {
    fn new(ws: Arc<Workspace>, tx: UnboundedSender<Action>) -> Session {
        Session {
            state_dir: ws.state_dir(),
            operator: ws.operator(),
            ws,
            tx,
            env_task: None,
            control: None,
            stores: HashMap::new(),
            generation: 0,
            in_flight: Vec::new(),
        }
    }

    fn track(&mut self, task: JoinHandle<()>) {
        self.in_flight.retain(|t| !t.is_finished());
        self.in_flight.push(task);
    }

    /// Waits for the appends and exports still under way (the process
    /// exits without waiting for blocking tasks) and returns what failed.
    async fn finish(self, rx: &mut UnboundedReceiver<Action>) -> Result<(), String> {
        let tasks = futures::future::join_all(self.in_flight);
        let waited = tokio::time::timeout(FINISH_WRITES, tasks).await;
        let mut failures = Vec::new();
        if waited.is_err() {
            failures.push(format!(
                "still writing after {} s; the last change may not be saved",
                FINISH_WRITES.as_secs()
            ));
        }
        while let Ok(action) = rx.try_recv() {
            match action {
                Action::WriteFailed { error, .. } => failures.push(match error {
                    WriteError::Moved(_) => {
                        "not written: another session changed this review at the same moment"
                            .to_string()
                    }
                    WriteError::Refused(_, message) | WriteError::Failed(message) => {
                        format!("not written: {message}")
                    }
                }),
                Action::Exported(Err(e)) => failures.push(format!("export failed: {e}")),
                _ => {}
            }
        }
        if failures.is_empty() {
            Ok(())
        } else {
            Err(failures.join("\n"))
        }
    }

    fn perform(&mut self, effect: Effect) {
        match effect {
            Effect::StartEnvironment { generation, env } => self.start(generation, &env),
            Effect::Write(req) => self.write(*req),
            Effect::Rerun(key) => self.control(Control::Rerun(key)),
            Effect::RerunAll => self.control(Control::RerunAll),
            Effect::Export(req) => self.export(req),
        }
    }

    fn control(&self, c: Control) {
        if let Some(tx) = &self.control {
            let _ = tx.send(c);
        }
    }

    /// Cancels the old environment (aborting its task drops its runner,
    /// which aborts every probe, and its log watches) and starts `name`.
    fn start(&mut self, generation: u64, name: &str) {
        if let Some(task) = self.env_task.take() {
            task.abort();
        }
        self.control = None;
        self.stores.clear();
        self.generation = generation;
        let env = match self.ws.environment(Some(name)) {
            Ok(e) => e,
            Err(e) => {
                let _ = self.tx.send(Action::EnvFailed {
                    generation,
                    message: e.to_string().trim().to_string(),
                });
                return;
            }
        };
        for c in &self.ws.checklists {
            match ReviewStore::open(&self.state_dir, &c.id, &env.name) {
                Ok(store) => {
                    self.stores.insert(c.id.clone(), Arc::new(store));
                }
                Err(message) => {
                    let _ = self.tx.send(Action::ReviewFailed {
                        generation,
                        checklist: c.id.clone(),
                        message,
                    });
                }
            }
        }
        let (ctl_tx, ctl_rx) = unbounded_channel();
        self.control = Some(ctl_tx);
        let task = EnvTask {
            ws: self.ws.clone(),
            env,
            stores: self.stores.clone(),
            generation,
            tx: self.tx.clone(),
        };
        self.env_task = Some(tokio::spawn(task.run(ctl_rx)));
    }

    /// Builds and writes the document off the input path.
    fn export(&mut self, req: ExportRequest) {
        let ws = self.ws.clone();
        let tx = self.tx.clone();
        self.track(tokio::task::spawn_blocking(move || {
            let result = export_document(&ws, req, jiff::Timestamp::now());
            let _ = tx.send(Action::Exported(result));
        }));
    }

    /// Appends off the input path; the result comes back as an action.
    fn write(&mut self, req: WriteRequest) {
        if req.generation != self.generation {
            return;
        }
        let tx = self.tx.clone();
        let Some(store) = self.stores.get(&req.checklist).cloned() else {
            let _ = tx.send(Action::WriteFailed {
                generation: req.generation,
                checklist: req.checklist.clone(),
                error: WriteError::Failed("this review's log could not be opened".into()),
            });
            return;
        };
        let by = self.operator.clone();
        self.track(tokio::task::spawn_blocking(move || {
            let _ = tx.send(super::store::write_action(&store, &by, req));
        }));
    }
}

/// Everything one environment runs in the background.
struct EnvTask {
    ws: Arc<Workspace>,
    env: crate::config::Environment,
    stores: HashMap<String, Arc<ReviewStore>>,
    generation: u64,
    tx: UnboundedSender<Action>,
}

impl EnvTask {
    async fn run(self, mut control: UnboundedReceiver<Control>) {
        let generation = self.generation;
        let tx = self.tx.clone();
        // The logs: read and watched on a blocking thread (disk I/O).
        let stores = self.stores.clone();
        let watch_tx = tx.clone();
        let watches = tokio::task::spawn_blocking(move || open_logs(stores, generation, watch_tx));
        let probes = match self.ws.probes(&self.env) {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Action::EnvFailed {
                    generation,
                    message: format!("the probes cannot run here:\n{e}"),
                });
                let _watches = watches.await;
                return std::future::pending().await;
            }
        };
        let cluster = match self.ws.cluster(&self.env).await {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Action::EnvFailed {
                    generation,
                    message: e.to_string().trim().to_string(),
                });
                let _watches = watches.await;
                return std::future::pending().await;
            }
        };
        let by_checklist: HashMap<String, BTreeMap<String, Probe>> =
            probes.iter().cloned().collect();
        let _ = tx.send(Action::EnvReady {
            generation,
            probes: by_checklist,
            cluster: cluster.describe(),
            has_cluster: self.env.cluster.is_some(),
        });
        let jobs = self.ws.jobs(&probes, cluster);
        let (runner_tx, mut runner_rx) = unbounded_channel();
        let runner = Runner::start(jobs, self.ws.config.concurrency, Mode::Repeat, runner_tx);
        // Held until this task ends: dropping stops the watches.
        let _watches = watches.await;
        loop {
            tokio::select! {
                Some(event) = runner_rx.recv() => {
                    if tx.send(Action::Probe { generation, event }).is_err() {
                        break;
                    }
                }
                Some(c) = control.recv() => match c {
                    Control::Rerun(key) => runner.rerun(&key),
                    Control::RerunAll => runner.rerun_all(),
                },
                else => break,
            }
        }
    }
}

/// Loads each review's log and watches it for other sessions' changes.
fn open_logs(
    stores: HashMap<String, Arc<ReviewStore>>,
    generation: u64,
    tx: UnboundedSender<Action>,
) -> Vec<crate::ledger::watch::WatchGuard> {
    let mut guards = Vec::new();
    for (checklist, store) in stores {
        match store.load() {
            Ok(snapshot) => {
                let _ = tx.send(Action::Review {
                    generation,
                    checklist: checklist.clone(),
                    snapshot,
                });
            }
            Err(message) => {
                let _ = tx.send(Action::ReviewFailed {
                    generation,
                    checklist: checklist.clone(),
                    message,
                });
            }
        }
        let (store2, tx2, id) = (store.clone(), tx.clone(), checklist.clone());
        // Runs on the watcher's own thread: the refresh reads the disk there.
        let watched = store.watch(move || match store2.refresh() {
            Ok(Some(snapshot)) => {
                let _ = tx2.send(Action::Review {
                    generation,
                    checklist: id.clone(),
                    snapshot,
                });
            }
            Ok(None) => {}
            Err(message) => {
                let _ = tx2.send(Action::ReviewFailed {
                    generation,
                    checklist: id.clone(),
                    message,
                });
            }
        });
        match watched {
            Ok(g) => guards.push(g),
            Err(e) => tracing::warn!("not watching {}: {e}", store.path().display()),
        }
    }
    guards
}

/// The Markdown sign-off document of one checklist, written atomically.
pub fn export_document(
    ws: &Workspace,
    req: ExportRequest,
    now: jiff::Timestamp,
) -> Result<PathBuf, String> {
    let env = ws
        .environment(Some(&req.env))
        .map_err(|e| e.to_string().trim().to_string())?;
    let mut warnings = Vec::new();
    let doc = ws
        .environment_doc_quietly(
            &env,
            &req.outcomes,
            req.cluster,
            now,
            Some(&req.checklist),
            &mut warnings,
        )
        .map_err(|e| e.to_string().trim().to_string())?;
    for w in warnings {
        tracing::warn!("export: {w}");
    }
    let document = crate::export::Document::new(vec![doc], now);
    let path =
        match req.path {
            Some(p) => p,
            None => ws.config.export_dir.clone().unwrap_or_default().join(
                crate::export::default_file_name(&req.checklist, &env.name, now),
            ),
        };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let text = crate::export::markdown::render(&document);
    crate::export::write_atomically(&path, &text)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}
