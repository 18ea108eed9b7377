//! Carries out what `App::update` asks for (start an environment, record a
//! change, re-run probes, export, list a kube item's objects), for the live
//! dashboard and the headless driver alike. The two differ only in where
//! the work runs: live, disk work goes to blocking threads and an
//! environment's probes and log watches to a background task; inline
//! (tests), everything happens at once on the caller's thread and probes
//! are not started, since tests feed their results. Either way every answer
//! comes back as an `Action` on one channel.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::app::{Action, Effect, ExportRequest, WriteRequest};
use super::store::{LogSnapshot, LogStore, WriteError};
use crate::checklist::model::{KubeProbe, Probe, ProbeSpec};
use crate::cluster::reload::SnapshotReading;
use crate::cluster::{ObjectQuery, ObjectSource};
use crate::config::Environment;
use crate::probe::drill::{self, Examined};
use crate::runner::{ItemKey, Mode as RunMode, Runner};
use crate::workspace::{ResolvedProbes, Workspace};

/// Where the executor's work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The live dashboard (needs a tokio runtime).
    Live,
    /// At once, on the caller's thread; no probes start.
    Inline,
}

enum Control {
    Rerun(ItemKey),
    RerunAll,
    /// List a kube item's objects from the environment's source.
    ReadObjects {
        checklist: String,
        item: String,
    },
}

pub struct Executor {
    ws: Arc<Workspace>,
    mode: Mode,
    tx: UnboundedSender<Action>,
    generation: u64,
    /// The current environment (inline: its objects are read from it).
    env: Option<Environment>,
    stores: HashMap<String, Arc<LogStore>>,
    /// The logs of the environment the current one is promoted from.
    upstream: HashMap<String, Arc<LogStore>>,
    /// Live: the current environment's probes and log watches.
    env_task: Option<JoinHandle<()>>,
    control: Option<UnboundedSender<Control>>,
    /// Live: appends and exports under way; quitting waits for them.
    in_flight: Vec<JoinHandle<()>>,
    /// Live: the review of the other environments, for their tabs and the
    /// side-by-side view; told the current one, and woken by `R`.
    survey: Option<Survey>,
}

/// The background review of every environment but the one on screen.
struct Survey {
    task: JoinHandle<()>,
    current: Arc<std::sync::Mutex<String>>,
    wake: Arc<tokio::sync::Notify>,
}

impl Drop for Survey {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// How often the other environments are reviewed again.
const SURVEY_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

impl Executor {
    pub fn new(ws: Arc<Workspace>, tx: UnboundedSender<Action>, mode: Mode) -> Executor {
        Executor {
            ws,
            mode,
            tx,
            generation: 0,
            env: None,
            stores: HashMap::new(),
            upstream: HashMap::new(),
            env_task: None,
            control: None,
            in_flight: Vec::new(),
            survey: None,
        }
    }

    pub fn workspace(&self) -> &Workspace {
        &self.ws
    }

    pub fn perform(&mut self, effect: Effect) {
        match effect {
            Effect::StartEnvironment { generation, env } => self.start(generation, &env),
            Effect::Write(req) => self.write(*req),
            Effect::Rerun(key) => self.control(Control::Rerun(key)),
            Effect::RerunAll => {
                self.control(Control::RerunAll);
                if let Some(survey) = &self.survey {
                    survey.wake.notify_one();
                }
            }
            Effect::Copy(text) => {
                if self.mode == Mode::Live {
                    super::terminal::copy(&text);
                }
            }
            Effect::Export(req) => self.export(req),
            Effect::ReadTrail {
                generation,
                checklist,
            } => self.read_trail(generation, checklist),
            Effect::ReadObjects {
                generation,
                checklist,
                item,
            } => self.read_objects(generation, checklist, item),
        }
    }

    fn send(&self, action: Action) {
        let _ = self.tx.send(action);
    }

    fn control(&self, c: Control) {
        if let Some(tx) = &self.control {
            let _ = tx.send(c);
        }
    }

    /// Leaves the current environment (its task, and with it every probe
    /// and log watch, is dropped) and starts `name`.
    fn start(&mut self, generation: u64, name: &str) {
        if let Some(task) = self.env_task.take() {
            task.abort();
        }
        self.control = None;
        self.stores.clear();
        self.generation = generation;
        self.env = None;
        let env = match self.ws.environment(Some(name)) {
            Ok(e) => e,
            Err(e) => {
                return self.send(Action::EnvFailed {
                    generation,
                    message: e.to_string().trim().to_string(),
                });
            }
        };
        // The environment this one is promoted from: its logs are read
        // (and watched) too, for its decision beside the badge.
        self.upstream.clear();
        let upstream = &mut self.upstream;
        if let Some(from) = &env.promote_from {
            for c in &self.ws.checklists {
                let store = self
                    .ws
                    .environment(Some(from))
                    .and_then(|from| self.ws.ledger(&c.id, &from));
                match store {
                    Ok(ledger) => {
                        upstream.insert(c.id.clone(), Arc::new(LogStore::new(ledger)));
                    }
                    Err(e) => tracing::warn!("cannot open {from}'s log of {}: {e}", c.id),
                }
            }
        }
        for c in &self.ws.checklists {
            match self.ws.ledger(&c.id, &env) {
                Ok(ledger) => {
                    if let Some(w) = ledger.exposure() {
                        self.send(Action::Warn(w));
                    }
                    self.stores
                        .insert(c.id.clone(), Arc::new(LogStore::new(ledger)));
                }
                Err(e) => self.send(Action::ReviewFailed {
                    generation,
                    checklist: c.id.clone(),
                    message: e
                        .to_string()
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string(),
                }),
            }
        }
        self.env = Some(env.clone());
        match self.mode {
            Mode::Live => {
                self.survey(name);
                let (ctl_tx, ctl_rx) = unbounded_channel();
                self.control = Some(ctl_tx);
                let task = EnvTask {
                    ws: self.ws.clone(),
                    env,
                    stores: self.stores.clone(),
                    upstream: self.upstream.clone(),
                    generation,
                    tx: self.tx.clone(),
                };
                self.env_task = Some(tokio::spawn(task.run(ctl_rx)));
            }
            Mode::Inline => {
                for (checklist, store) in &self.stores {
                    if let Some(action) = load_log(checklist, store, generation, Log::Own) {
                        self.send(action);
                    }
                }
                for (checklist, store) in &self.upstream {
                    if let Some(action) = load_log(checklist, store, generation, Log::Upstream) {
                        self.send(action);
                    }
                }
                let action = match self.ws.probes(&env) {
                    Ok(probes) => Action::EnvReady {
                        generation,
                        probes: probes.into_iter().collect(),
                        cluster: self.ws.cluster_label(&env),
                        has_cluster: env.cluster.is_some(),
                    },
                    Err(e) => Action::EnvFailed {
                        generation,
                        message: format!("the probes cannot run here:\n{e}"),
                    },
                };
                self.send(action);
            }
        }
    }

    /// Starts the background review of the other environments, or tells
    /// it which one is on screen now (that one it leaves to the live task).
    fn survey(&mut self, current: &str) {
        if let Some(survey) = &self.survey {
            *survey.current.lock().unwrap_or_else(|e| e.into_inner()) = current.to_string();
            return;
        }
        if self.ws.config.environments.len() < 2 {
            return;
        }
        let current = Arc::new(std::sync::Mutex::new(current.to_string()));
        let wake = Arc::new(tokio::sync::Notify::new());
        let (ws, tx) = (self.ws.clone(), self.tx.clone());
        let (now_on, woken) = (current.clone(), wake.clone());
        let task = tokio::spawn(async move {
            loop {
                for env in &ws.config.environments {
                    let on_screen = now_on.lock().unwrap_or_else(|e| e.into_inner()).clone();
                    if env.name == on_screen {
                        continue;
                    }
                    let Ok(env) = ws.environment(Some(&env.name)) else {
                        continue;
                    };
                    let mut warnings = Vec::new();
                    let Ok(doc) = ws.review_once(&env, true, &mut warnings).await else {
                        continue;
                    };
                    let action = Action::Survey {
                        env: env.name.clone(),
                        reports: doc.report.checklists,
                    };
                    if tx.send(action).is_err() {
                        return;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(SURVEY_EVERY) => {}
                    _ = woken.notified() => {}
                }
            }
        });
        self.survey = Some(Survey {
            task,
            current,
            wake,
        });
    }

    /// Reads a review's events off the input path; they come back as
    /// `Trail`.
    fn read_trail(&mut self, generation: u64, checklist: String) {
        let Some(store) = self.stores.get(&checklist).cloned() else {
            return;
        };
        let tx = self.tx.clone();
        let job = move || match store.events() {
            Ok(events) => {
                let _ = tx.send(Action::Trail {
                    generation,
                    checklist,
                    events: Arc::new(events),
                });
            }
            Err(e) => tracing::warn!("cannot read the events of {checklist}: {e}"),
        };
        match self.mode {
            Mode::Live => {
                let task = tokio::task::spawn_blocking(job);
                self.track(task);
            }
            Mode::Inline => job(),
        }
    }

    /// Lists a kube item's objects and judges each, off the input path;
    /// they come back as `Objects`. Live, the environment's task asks the
    /// source its probes read; inline, a snapshot of the environment is
    /// read for the purpose, on a thread of its own.
    fn read_objects(&mut self, generation: u64, checklist: String, item: String) {
        if generation != self.generation {
            return;
        }
        if self.mode == Mode::Live
            && let Some(control) = &self.control
        {
            let _ = control.send(Control::ReadObjects { checklist, item });
            return;
        }
        let listing = match (&self.env, self.mode) {
            (Some(env), Mode::Inline) => {
                let (ws, env) = (self.ws.clone(), env.clone());
                let (c, i) = (checklist.clone(), item.clone());
                std::thread::spawn(move || objects_once(&ws, &env, &c, &i))
                    .join()
                    .unwrap_or_else(|_| Err("reading the objects failed unexpectedly".into()))
            }
            _ => Err("this environment could not be set up, so its objects cannot be read".into()),
        };
        self.send(Action::Objects {
            generation,
            checklist,
            item,
            listing,
        });
    }

    /// Records a change; the result comes back as `Written` or
    /// `WriteFailed`.
    fn write(&mut self, req: WriteRequest) {
        if req.generation != self.generation {
            return;
        }
        let Some(store) = self.stores.get(&req.checklist).cloned() else {
            return self.send(Action::WriteFailed {
                generation: req.generation,
                checklist: req.checklist.clone(),
                error: WriteError::Failed("this review's log could not be opened".into()),
            });
        };
        let tx = self.tx.clone();
        let ws = self.ws.clone();
        // Who writes is asked of the store on the writer's thread: the kube
        // store asks the API server (once).
        let job = move || {
            let action = match ws.signer(store.ledger()) {
                Ok(by) => {
                    let mut req = req;
                    let required = ws
                        .checklists
                        .iter()
                        .find(|c| c.id == req.checklist)
                        .map(|c| c.signoff_roles.as_slice())
                        .unwrap_or_default();
                    if req.change.is_signoff()
                        && let Some(counted) = crate::review::roles::counted_as(
                            required,
                            &ws.config.roles,
                            &by.name,
                            &by.groups,
                        )
                    {
                        req.done = format!("{} ({counted})", req.done);
                    }
                    super::store::write_action(&store, &by, req)
                }
                Err(reason) => Action::WriteFailed {
                    generation: req.generation,
                    checklist: req.checklist.clone(),
                    error: WriteError::Refused(None, reason),
                },
            };
            let _ = tx.send(action);
        };
        match self.mode {
            Mode::Live => {
                let task = tokio::task::spawn_blocking(job);
                self.track(task);
            }
            Mode::Inline => job(),
        }
    }

    /// Builds and writes the document; live, off the input path.
    fn export(&mut self, req: ExportRequest) {
        let ws = self.ws.clone();
        let tx = self.tx.clone();
        let job = move || {
            let result = export_document(&ws, req).map(|path| ws.shown(&path));
            let _ = tx.send(Action::Exported(result));
        };
        match self.mode {
            Mode::Live => {
                let task = tokio::task::spawn_blocking(job);
                self.track(task);
            }
            Mode::Inline => job(),
        }
    }

    /// Inline: what the log watcher does when another session appends.
    pub fn refresh_logs(&self) {
        let logs = [(&self.stores, Log::Own), (&self.upstream, Log::Upstream)];
        for (stores, log) in logs {
            for (checklist, store) in stores {
                if let Ok(Some(snapshot)) = store.refresh()
                    && let Some(action) = log.read(checklist, self.generation, Ok(snapshot))
                {
                    self.send(action);
                }
            }
        }
    }

    fn track(&mut self, task: JoinHandle<()>) {
        self.in_flight.retain(|t| !t.is_finished());
        self.in_flight.push(task);
    }

    /// Waits for the appends and exports still under way (the process
    /// exits without waiting for blocking tasks), at most `wait`, and
    /// returns what failed.
    pub async fn finish(
        self,
        rx: &mut UnboundedReceiver<Action>,
        wait: std::time::Duration,
    ) -> Result<(), String> {
        let tasks = futures::future::join_all(self.in_flight);
        let mut failures = Vec::new();
        if tokio::time::timeout(wait, tasks).await.is_err() {
            failures.push(format!(
                "still writing after {} s; the last change may not be saved",
                wait.as_secs()
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
}

/// Everything one environment runs in the background (live).
struct EnvTask {
    ws: Arc<Workspace>,
    env: Environment,
    stores: HashMap<String, Arc<LogStore>>,
    /// The logs of the environment it is promoted from.
    upstream: HashMap<String, Arc<LogStore>>,
    generation: u64,
    tx: UnboundedSender<Action>,
}

impl EnvTask {
    async fn run(self, mut control: UnboundedReceiver<Control>) {
        let generation = self.generation;
        let tx = self.tx.clone();
        // The logs: read and watched on a blocking thread (disk I/O).
        let stores = self.stores.clone();
        let upstream = self.upstream.clone();
        let watch_tx = tx.clone();
        let watches = tokio::task::spawn_blocking(move || {
            let mut guards = open_logs(stores, generation, &watch_tx, Log::Own);
            guards.extend(open_logs(upstream, generation, &watch_tx, Log::Upstream));
            guards
        });
        let probes = match self.ws.probes(&self.env) {
            Ok(p) => p,
            Err(e) => {
                let message = format!("the probes cannot run here:\n{e}");
                let _ = tx.send(Action::EnvFailed {
                    generation,
                    message: message.clone(),
                });
                let _watches = watches.await;
                return unready(control, &message, generation, &tx).await;
            }
        };
        let cluster = match self
            .ws
            .cluster_as(&self.env, &probes, SnapshotReading::Followed)
            .await
        {
            Ok(c) => c,
            Err(e) => {
                let message = e.to_string().trim().to_string();
                let _ = tx.send(Action::EnvFailed {
                    generation,
                    message: message.clone(),
                });
                let _watches = watches.await;
                return unready(control, &message, generation, &tx).await;
            }
        };
        let by_checklist: HashMap<String, BTreeMap<String, Probe>> =
            probes.iter().cloned().collect();
        let _ = tx.send(Action::EnvReady {
            generation,
            probes: by_checklist,
            cluster: self.ws.cluster_label(&self.env),
            has_cluster: self.env.cluster.is_some(),
        });
        let jobs = self.ws.jobs(&probes, cluster.clone());
        let (runner_tx, mut runner_rx) = unbounded_channel();
        let runner = Runner::start(jobs, self.ws.config.concurrency, RunMode::Repeat, runner_tx);
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
                    Control::RerunAll => {
                        // Files may have changed unseen (no file events on
                        // some network file systems): read them first.
                        cluster.reload().await;
                        runner.rerun_all();
                    }
                    Control::ReadObjects { checklist, item } => {
                        let (cluster, tx) = (cluster.clone(), tx.clone());
                        let probe = kube_probe(&probes, &checklist, &item);
                        tokio::spawn(async move {
                            let listing = match probe {
                                Ok(probe) => objects_of(cluster.as_ref(), probe).await,
                                Err(why) => Err(why),
                            };
                            let _ = tx.send(Action::Objects {
                                generation,
                                checklist,
                                item,
                                listing,
                            });
                        });
                    }
                },
                else => break,
            }
        }
    }
}

/// What an environment that could not start does with what it is asked
/// for until it is left: it says why it cannot list objects.
async fn unready(
    mut control: UnboundedReceiver<Control>,
    why: &str,
    generation: u64,
    tx: &UnboundedSender<Action>,
) {
    while let Some(c) = control.recv().await {
        if let Control::ReadObjects { checklist, item } = c {
            let _ = tx.send(Action::Objects {
                generation,
                checklist,
                item,
                listing: Err(format!("the objects cannot be read: {why}")),
            });
        }
    }
    std::future::pending().await
}

/// The kube probe of `item`, as resolved for the environment.
fn kube_probe(probes: &ResolvedProbes, checklist: &str, item: &str) -> Result<KubeProbe, String> {
    let probe = probes
        .iter()
        .find(|(c, _)| c == checklist)
        .and_then(|(_, items)| items.get(item));
    match probe.map(|p| &p.spec) {
        Some(ProbeSpec::Kube(k)) => Ok(k.clone()),
        Some(_) => Err(format!("{item} is not a kube item")),
        None => Err(format!("{item} has no probe in this environment")),
    }
}

/// What `probe` selects from `cluster`, each object judged (on a blocking
/// thread: a probe may select fifty thousand Pods).
async fn objects_of(cluster: &dyn ObjectSource, probe: KubeProbe) -> Result<Vec<Examined>, String> {
    let objects = cluster
        .list(&ObjectQuery::of(&probe))
        .await
        .map_err(|e| format!("cannot list {}: {e}", probe.resource))?;
    tokio::task::spawn_blocking(move || drill::examine(&probe, objects))
        .await
        .unwrap_or_else(|e| Err(format!("judging the objects failed: {e}")))
}

/// Inline: the objects of one item, the environment's source set up for
/// the purpose (a snapshot is read once) on a runtime of its own, so the
/// headless driver may be called from inside another runtime or none.
fn objects_once(
    ws: &Workspace,
    env: &Environment,
    checklist: &str,
    item: &str,
) -> Result<Vec<Examined>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let probes = ws
            .probes(env)
            .map_err(|e| format!("the probes cannot run here:\n{e}"))?;
        let probe = kube_probe(&probes, checklist, item)?;
        let cluster = ws.cluster(env, &probes).await.map_err(|e| {
            let why = e.to_string();
            format!(
                "cannot read the cluster: {}",
                why.trim().trim_start_matches("error: ")
            )
        })?;
        objects_of(cluster.as_ref(), probe).await
    })
}

/// Whose log it is: the environment's own, or the one it is promoted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Log {
    Own,
    Upstream,
}

impl Log {
    /// The action that reports a read of it. An upstream log that cannot
    /// be read leaves that environment unsigned as far as this one knows.
    fn read(
        self,
        checklist: &str,
        generation: u64,
        read: Result<LogSnapshot, String>,
    ) -> Option<Action> {
        let checklist = checklist.to_string();
        match (self, read) {
            (Log::Own, Ok(snapshot)) => Some(Action::Review {
                generation,
                checklist,
                snapshot,
            }),
            (Log::Own, Err(message)) => Some(Action::ReviewFailed {
                generation,
                checklist,
                message,
            }),
            (Log::Upstream, Ok(snapshot)) => Some(Action::Upstream {
                generation,
                checklist,
                snapshot,
            }),
            (Log::Upstream, Err(message)) => {
                tracing::warn!("cannot read the upstream log of {checklist}: {message}");
                None
            }
        }
    }
}

/// One review's log read, as the action that reports it.
fn load_log(checklist: &str, store: &LogStore, generation: u64, log: Log) -> Option<Action> {
    log.read(checklist, generation, store.load())
}

/// Loads each review's log and watches it for other sessions' changes.
fn open_logs(
    stores: HashMap<String, Arc<LogStore>>,
    generation: u64,
    tx: &UnboundedSender<Action>,
    log: Log,
) -> Vec<crate::ledger::watch::WatchGuard> {
    let mut guards = Vec::new();
    for (checklist, store) in stores {
        if let Some(action) = load_log(&checklist, &store, generation, log) {
            let _ = tx.send(action);
        }
        let (store2, tx2, id) = (store.clone(), tx.clone(), checklist.clone());
        // Runs on the watcher's own thread: the refresh reads the disk there.
        let watched = store.watch(move || {
            let read = match store2.refresh() {
                Ok(None) => return,
                Ok(Some(snapshot)) => Ok(snapshot),
                Err(message) => Err(message),
            };
            if let Some(action) = log.read(&id, generation, read) {
                let _ = tx2.send(action);
            }
        });
        match watched {
            Ok(g) => guards.push(g),
            Err(e) => tracing::warn!("not watching {}: {e}", store.location()),
        }
    }
    guards
}

/// The Markdown sign-off document of one checklist, written atomically.
pub fn export_document(ws: &Workspace, req: ExportRequest) -> Result<PathBuf, String> {
    let now = req.now;
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
