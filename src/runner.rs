//! Background scheduling of probes: each probe in its own tokio task, under a
//! global concurrency limit, re-run every `every`, results sent over a
//! channel. Dropping the `Runner` cancels every task (an environment switch).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::checklist::model::Probe;
use crate::probe::{self, Outcome, ProbeContext};

/// Which item of which checklist a result belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub checklist: Arc<str>,
    pub item: Arc<str>,
}

impl ItemKey {
    pub fn new(checklist: &str, item: &str) -> ItemKey {
        ItemKey {
            checklist: checklist.into(),
            item: item.into(),
        }
    }
}

impl fmt::Display for ItemKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.checklist, self.item)
    }
}

/// One probe to schedule.
#[derive(Clone)]
pub struct Job {
    pub key: ItemKey,
    pub probe: Arc<Probe>,
    pub ctx: ProbeContext,
}

#[derive(Debug, Clone)]
pub enum RunnerEvent {
    /// A probe began a run (the TUI shows a spinner).
    Started(ItemKey),
    Finished(ItemKey, Outcome),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run each probe once, then stop (`gonogo check`, `export`).
    Once,
    /// Keep re-running each probe every `every` (the TUI).
    Repeat,
}

/// The running probes of one environment.
pub struct Runner {
    tasks: JoinSet<()>,
    wake: HashMap<ItemKey, Arc<Notify>>,
}

impl Runner {
    /// Starts one task per job; events go to `events`.
    pub fn start(
        jobs: Vec<Job>,
        concurrency: usize,
        mode: Mode,
        events: mpsc::UnboundedSender<RunnerEvent>,
    ) -> Runner {
        let limit = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut wake = HashMap::new();
        for job in jobs {
            let notify = Arc::new(Notify::new());
            wake.insert(job.key.clone(), notify.clone());
            tasks.spawn(schedule(job, limit.clone(), mode, events.clone(), notify));
        }
        Runner { tasks, wake }
    }

    /// Runs one probe again now (the `r` key).
    pub fn rerun(&self, key: &ItemKey) {
        if let Some(n) = self.wake.get(key) {
            n.notify_one();
        }
    }

    /// Runs every probe again now (the `R` key).
    pub fn rerun_all(&self) {
        for n in self.wake.values() {
            n.notify_one();
        }
    }

    /// Waits until every task has ended (only ends by itself in `Once` mode).
    pub async fn finished(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

async fn schedule(
    job: Job,
    limit: Arc<Semaphore>,
    mode: Mode,
    events: mpsc::UnboundedSender<RunnerEvent>,
    wake: Arc<Notify>,
) {
    loop {
        let outcome = {
            let Ok(_permit) = limit.acquire().await else {
                return;
            };
            if events.send(RunnerEvent::Started(job.key.clone())).is_err() {
                return;
            }
            run_guarded(&job).await
        };
        if events
            .send(RunnerEvent::Finished(job.key.clone(), outcome))
            .is_err()
            || mode == Mode::Once
        {
            return;
        }
        tokio::select! {
            _ = tokio::time::sleep(job.probe.every) => {}
            _ = wake.notified() => {}
        }
    }
}

/// Runs the probe in a task of its own so that a panic inside a probe ends as
/// an `error` outcome instead of taking the scheduler down with it.
async fn run_guarded(job: &Job) -> Outcome {
    let probe = job.probe.clone();
    let ctx = job.ctx.clone();
    let task = tokio::spawn(async move { probe::run(&probe.spec, &ctx, probe.timeout).await });
    match task.await {
        Ok(outcome) => outcome,
        Err(e) if e.is_panic() => Outcome::error("the probe crashed (a bug in gonogo; see the log)"),
        Err(_) => Outcome::error("the probe was cancelled"),
    }
}

/// Runs every job once and returns the outcomes, in no particular order.
pub async fn run_once(jobs: Vec<Job>, concurrency: usize) -> Vec<(ItemKey, Outcome)> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = Runner::start(jobs, concurrency, Mode::Once, tx);
    let mut results = Vec::new();
    while let Some(event) = rx.recv().await {
        if let RunnerEvent::Finished(key, outcome) = event {
            results.push((key, outcome));
        }
    }
    runner.finished().await;
    results
}
