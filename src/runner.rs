//! Background scheduling of probes: each probe in its own tokio task, under a
//! global concurrency limit, results sent over a channel. A probe re-runs
//! every `every`, except a kube probe over a source that follows the
//! cluster: it re-runs when its objects change (debounced), not on a timer.
//! Dropping the `Runner` cancels every task (an environment switch).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use std::time::Duration;

use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::checklist::model::{Probe, ProbeSpec};
use crate::cluster::{Changes, ObjectQuery};
use crate::probe::{self, Outcome, ProbeContext};

/// After a change, wait this long for the changes that come with it (a
/// rollout touches many objects at once) before running again.
const SETTLE: Duration = Duration::from_millis(20);

/// A probe that follows changes runs at most once per this long: a rollout
/// of 500 pods costs a handful of runs, not 500.
const MIN_GAP: Duration = Duration::from_secs(1);

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
    let query = match &job.probe.spec {
        ProbeSpec::Kube(kube) => Some(ObjectQuery::of(kube)),
        _ => None,
    };
    let mut changes: Option<Changes> = None;
    let mut carry = probe::Carry::default();
    loop {
        // No page of the first read arrived within the probe's timeout (a
        // server that stalls, or sends one answer without end): said as
        // such, without waiting that long again in a run.
        let mut starved = false;
        // Follow the probe's objects before reading them, so that a change
        // made while it runs is not missed. Asked again each round while
        // the source cannot follow them (a type not served yet).
        // Bounded like the run itself: setting that up asks the server
        // (discovery), which may stall or keep asking us to retry.
        if let (Some(query), None) = (&query, &changes) {
            changes = tokio::time::timeout(job.probe.timeout, job.ctx.cluster.changes(query))
                .await
                .unwrap_or(None);
        }
        if let Some(changes) = &mut changes {
            // Zero: the source is still reading the objects for the first
            // time. Wait for that (as the read would) so that the tick it
            // makes is not taken for a change after this run's read. That
            // list is shared work and may take longer than one probe may
            // (50,000 Pods): its pages tick without moving the count off
            // zero, and the probe's timeout applies to each page.
            while *changes.borrow_and_update() == 0 {
                // Judge what has arrived meanwhile.
                probe::prepare(&job.probe.spec, &job.ctx, &mut carry).await;
                match tokio::time::timeout(job.probe.timeout, changes.changed()).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => break,
                    Err(_) => {
                        starved = true;
                        break;
                    }
                }
            }
        }
        let started = Instant::now();
        let outcome = {
            let Ok(_permit) = limit.acquire().await else {
                return;
            };
            if events.send(RunnerEvent::Started(job.key.clone())).is_err() {
                return;
            }
            match (&query, starved) {
                (Some(query), true) => Outcome::error(format!(
                    "timed out after {}: the API server sent no complete page of {} in that time",
                    probe::humanize(job.probe.timeout),
                    query.resource
                )),
                _ => run_guarded(&job, &mut carry).await,
            }
        };
        if events
            .send(RunnerEvent::Finished(job.key.clone(), outcome))
            .is_err()
            || mode == Mode::Once
        {
            return;
        }
        match &mut changes {
            Some(ticks) => {
                tokio::select! {
                    changed = ticks.changed() => {
                        if changed.is_err() {
                            // The source stopped following: back to the timer.
                            changes = None;
                            continue;
                        }
                        let at = (Instant::now() + SETTLE).max(started + MIN_GAP);
                        tokio::select! {
                            () = tokio::time::sleep_until(at) => {}
                            () = wake.notified() => {}
                        }
                    }
                    () = wake.notified() => {}
                }
            }
            None => {
                tokio::select! {
                    () = tokio::time::sleep(job.probe.every) => {}
                    () = wake.notified() => {}
                }
            }
        }
    }
}

/// Runs the probe in a task of its own so that a panic inside a probe ends as
/// an `error` outcome instead of taking the scheduler down with it.
/// What the run leaves for the next comes back in `carry`; a run that
/// crashed or was cancelled leaves nothing.
async fn run_guarded(job: &Job, carry: &mut probe::Carry) -> Outcome {
    let probe = job.probe.clone();
    let ctx = job.ctx.clone();
    let mut mine = std::mem::take(carry);
    let mut task = AbortOnDrop(tokio::spawn(async move {
        let outcome = probe::run_carrying(&probe.spec, &ctx, probe.timeout, &mut mine).await;
        (outcome, mine)
    }));
    match (&mut task.0).await {
        Ok((outcome, left)) => {
            *carry = left;
            outcome
        }
        Err(e) if e.is_panic() => {
            Outcome::error("the probe crashed (a bug in gonogo; see the log)")
        }
        Err(_) => Outcome::error("the probe was cancelled"),
    }
}

/// Aborts the probe's task when the scheduler that awaits it is cancelled,
/// so an environment switch stops work in flight too.
struct AbortOnDrop(tokio::task::JoinHandle<(Outcome, probe::Carry)>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs every job once and returns the outcomes, in no particular order.
pub async fn run_once(jobs: Vec<Job>, concurrency: usize) -> Vec<(ItemKey, Outcome)> {
    run_once_watched(jobs, concurrency, &mut |_| {}).await
}

/// Where a run of every probe once stands, for a progress line.
#[derive(Debug, Default)]
pub struct Tally {
    pub total: usize,
    pub done: usize,
    running: std::collections::HashMap<ItemKey, std::time::Instant>,
}

impl Tally {
    /// The probe running longest, and for how long.
    pub fn slowest(&self) -> Option<(&ItemKey, Duration)> {
        self.running
            .iter()
            .min_by_key(|(_, since)| **since)
            .map(|(key, since)| (key, since.elapsed()))
    }
}

/// [`run_once`], telling `watch` where it stands after each start and end
/// and a few times a second while nothing changes (the slowest probe's
/// time still grows).
pub async fn run_once_watched(
    jobs: Vec<Job>,
    concurrency: usize,
    watch: &mut (dyn FnMut(&Tally) + Send),
) -> Vec<(ItemKey, Outcome)> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut tally = Tally {
        total: jobs.len(),
        ..Tally::default()
    };
    let runner = Runner::start(jobs, concurrency, Mode::Once, tx);
    let mut results = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            event = rx.recv() => match event {
                Some(RunnerEvent::Started(key)) => {
                    tally.running.insert(key, std::time::Instant::now());
                }
                Some(RunnerEvent::Finished(key, outcome)) => {
                    tally.running.remove(&key);
                    tally.done += 1;
                    results.push((key, outcome));
                }
                None => break,
            },
            _ = tick.tick() => {}
        }
        watch(&tally);
    }
    runner.finished().await;
    results
}

#[cfg(test)]
mod tests {
    //! The scheduler is tested with kube probes over an object source that
    //! counts how many lists run at once and can be made slow: the thing
    //! under test is the scheduling, not a cluster.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures::future::BoxFuture;

    use super::*;
    use crate::checklist::model::{KubeProbe, ProbeSpec, ResourceType};
    use crate::cluster::{ObjectQuery, ObjectSource, SourceError};
    use crate::probe::Verdict;

    #[derive(Default)]
    struct CountingSource {
        delay: Duration,
        running: AtomicUsize,
        peak: AtomicUsize,
        calls: AtomicUsize,
    }

    impl ObjectSource for CountingSource {
        fn describe(&self) -> String {
            "counting".into()
        }
        fn list<'a>(
            &'a self,
            _q: &'a ObjectQuery,
        ) -> BoxFuture<'a, Result<Vec<crate::cluster::Object>, SourceError>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
                self.peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(self.delay).await;
                self.running.fetch_sub(1, Ordering::SeqCst);
                Ok(vec![crate::cluster::Obj::new(crate::doc::Doc::from_value(
                    &serde_json::json!({
                        "apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "x", "namespace": "default"}
                    }),
                ))])
            })
        }
    }

    fn jobs(n: usize, source: Arc<CountingSource>, every: Duration, timeout: Duration) -> Vec<Job> {
        let spec = ProbeSpec::Kube(KubeProbe::of(
            ResourceType::parse("v1/ConfigMap").expect("valid resource"),
        ));
        let ctx = ProbeContext {
            cluster: source,
            allow_exec: false,
            base_dir: ".".into(),
        };
        (0..n)
            .map(|i| Job {
                key: ItemKey::new("c", &format!("item-{i}")),
                probe: Arc::new(Probe {
                    spec: spec.clone(),
                    every,
                    timeout,
                }),
                ctx: ctx.clone(),
            })
            .collect()
    }

    #[tokio::test]
    async fn concurrency_limit_holds() {
        let source = Arc::new(CountingSource {
            delay: Duration::from_millis(30),
            ..Default::default()
        });
        let results = run_once(
            jobs(
                20,
                source.clone(),
                Duration::from_secs(60),
                Duration::from_secs(5),
            ),
            4,
        )
        .await;
        assert_eq!(results.len(), 20);
        assert!(results.iter().all(|(_, o)| o.verdict == Verdict::Pass));
        assert_eq!(source.peak.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_slow_probe_times_out_as_an_error() {
        let source = Arc::new(CountingSource {
            delay: Duration::from_secs(30),
            ..Default::default()
        });
        let results = run_once(
            jobs(
                1,
                source,
                Duration::from_secs(60),
                Duration::from_millis(50),
            ),
            4,
        )
        .await;
        let outcome = &results[0].1;
        assert_eq!(outcome.verdict, Verdict::Error);
        assert_eq!(outcome.evidence.summary, "timed out after 50ms");
    }

    #[tokio::test(start_paused = true)]
    async fn repeat_mode_reruns_every_interval_and_on_request() {
        let source = Arc::new(CountingSource::default());
        let (tx, mut rx) = mpsc::unbounded_channel();
        let runner = Runner::start(
            jobs(
                1,
                source.clone(),
                Duration::from_secs(60),
                Duration::from_secs(5),
            ),
            4,
            Mode::Repeat,
            tx,
        );
        let mut finished = 0;
        while finished < 3 {
            if let Some(RunnerEvent::Finished(..)) = rx.recv().await {
                finished += 1;
            }
        }
        // With the clock paused, three runs means two intervals elapsed.
        assert_eq!(source.calls.load(Ordering::SeqCst), 3);
        runner.rerun(&ItemKey::new("c", "item-0"));
        loop {
            if let Some(RunnerEvent::Finished(..)) = rx.recv().await {
                break;
            }
        }
        assert_eq!(source.calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn dropping_the_runner_cancels_its_probes() {
        let source = Arc::new(CountingSource {
            delay: Duration::from_secs(30),
            ..Default::default()
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let runner = Runner::start(
            jobs(
                3,
                source.clone(),
                Duration::from_secs(60),
                Duration::from_secs(60),
            ),
            8,
            Mode::Repeat,
            tx,
        );
        for _ in 0..3 {
            assert!(matches!(rx.recv().await, Some(RunnerEvent::Started(_))));
        }
        drop(runner);
        // Every task is gone, so every sender is gone: the channel closes
        // without a single result.
        assert!(rx.recv().await.is_none());
    }
}
