//! The kube store: the log of one review in a Kubernetes API server, one
//! immutable ConfigMap per event, named `<checklist>.<environment>.<seq>`
//! (seq zero-padded to 8 digits), labelled for its review, holding the
//! event's line byte for byte as the dir store writes it (`\n` included),
//! so the objects' data in name order is the log file.
//!
//! An append is a create: the next name is the lock. When another host
//! took it first (409 AlreadyExists), the log is read again and the append
//! refused with `HeadMoved`, for `review::record` to judge the change again
//! against the new state; an append that judged nothing is chained after
//! the new head and tried again. An object deleted or replaced breaks the
//! chain as an edited line does; a gap in the names is named as missing.
//! A server that cannot be reached or refuses makes writes fail with the
//! reason: nothing is kept anywhere else to be merged later.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::config::Kubeconfig;
use kube::runtime::watcher;
use sha2::{Digest, Sha256};

use super::event::{Event, EventKind, LineError, Signer, parse_line};
use super::log::{
    Health, LedgerError, Loaded, Mark, Read, Refresh, Store, VerifyReport, chain, check_import,
    clean,
};
use super::scan::{Chain, Findings, Problem, ProblemKind};
use super::watch::{WatchError, WatchGuard, debounced};
use crate::cluster::live::Connection;

/// The signer an object's `gonogo.dev/by` annotation names.
fn annotated_by(annotations: Option<BTreeMap<String, String>>) -> Option<String> {
    annotations.and_then(|mut a| a.remove(BY_ANNOTATION))
}

/// The label every event object carries, as tools that manage objects use it.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "gonogo");
/// The labels naming the review an event object belongs to.
pub const CHECKLIST_LABEL: &str = "gonogo.dev/checklist";
pub const ENVIRONMENT_LABEL: &str = "gonogo.dev/environment";
/// The annotation naming who recorded the event.
pub const BY_ANNOTATION: &str = "gonogo.dev/by";
/// The data key holding the event's line.
pub const DATA_KEY: &str = "event.jsonl";

/// How long one request may take before the store counts as unreachable.
const REQUEST_WAIT: Duration = Duration::from_secs(15);
/// How long an append that judged nothing keeps trying when other hosts
/// keep taking the next name (as long as the dir store waits for its lock).
const WRITE_WAIT: Duration = Duration::from_secs(10);
/// How soon a watch that failed starts again, doubling up to the most.
const WATCH_RETRY_FIRST: Duration = Duration::from_millis(500);
const WATCH_RETRY_MAX: Duration = Duration::from_secs(10);
/// Objects asked for per list page.
const PAGE: u32 = 500;

/// Where reviews' logs live in a cluster: `[state]` in the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeTarget {
    pub namespace: String,
    /// The kubeconfig context; `None`: the kubeconfig's current one (or
    /// the pod's service account).
    pub context: Option<String>,
}

/// The log of one (checklist, environment) in a cluster.
pub struct KubeStore {
    connection: Connection,
    api: Api<ConfigMap>,
    namespace: String,
    checklist: String,
    env: String,
    /// Where this handle last saw the log end, so an append after its own
    /// append or read is one request.
    tip: Mutex<Option<Tip>>,
    health: Arc<Mutex<Health>>,
    /// Who the API server says these credentials are, once asked.
    who: Mutex<Option<Signer>>,
}

/// The end of the log as last read or written.
#[derive(Debug, Clone)]
struct Tip {
    next_seq: u64,
    head: String,
    problem: Option<Problem>,
}

/// How far a kube store has read a log: the chain after the first `count`
/// objects (in name order) and a hash of their names and lines, so a
/// refresh can tell they are unchanged and check only the objects after.
#[derive(Clone)]
pub(crate) struct ObjectMark {
    chain: Chain,
    count: usize,
    fingerprint: Sha256,
    next_name_seq: u64,
}

impl Default for ObjectMark {
    fn default() -> ObjectMark {
        ObjectMark {
            chain: Chain::default(),
            count: 0,
            fingerprint: Sha256::new(),
            next_name_seq: 1,
        }
    }
}

impl std::fmt::Debug for ObjectMark {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectMark")
            .field("count", &self.count)
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

/// One event object as listed.
struct Record {
    name: String,
    /// The seq its name carries; `None` when the name is not an event's.
    seq: Option<u64>,
    line: Option<String>,
    /// Its `gonogo.dev/by` annotation.
    by: Option<String>,
}

impl KubeStore {
    /// The log of `checklist` in `env`, in the cluster `target` names,
    /// through the kubeconfig (`KUBECONFIG` or `~/.kube/config`).
    pub fn open(target: &KubeTarget, checklist: &str, env: &str) -> Result<KubeStore, LedgerError> {
        let context = target.context.clone();
        let connect =
            async move { Connection::to_context_with(context.as_deref(), no_retries).await };
        KubeStore::connect(target, checklist, env, connect)
    }

    /// The same, through an already read kubeconfig.
    pub fn open_in(
        kubeconfig: Kubeconfig,
        target: &KubeTarget,
        checklist: &str,
        env: &str,
    ) -> Result<KubeStore, LedgerError> {
        let context = target.context.clone();
        let connect = async move {
            Connection::through_with(kubeconfig, context.as_deref(), no_retries).await
        };
        KubeStore::connect(target, checklist, env, connect)
    }

    fn connect(
        target: &KubeTarget,
        checklist: &str,
        env: &str,
        connect: impl Future<Output = Result<Connection, String>> + Send + 'static,
    ) -> Result<KubeStore, LedgerError> {
        check_name("checklist id", checklist)?;
        check_name("environment", env)?;
        check_name("namespace", &target.namespace)?;
        let place = format!("configmaps {}/{checklist}.{env}.*", target.namespace);
        let unavailable = |reason: String| LedgerError::Unavailable {
            log: place.clone(),
            reason,
        };
        // The client starts a task on the runtime it is built on: ours.
        let connection = run(connect).map_err(&unavailable)?.map_err(&unavailable)?;
        let api = Api::namespaced(connection.client.clone(), &target.namespace);
        Ok(KubeStore {
            connection,
            api,
            namespace: target.namespace.clone(),
            checklist: checklist.to_string(),
            env: env.to_string(),
            tip: Mutex::new(None),
            health: Arc::new(Mutex::new(Health::Ok)),
            who: Mutex::new(None),
        })
    }

    /// The label selector of this review's event objects.
    pub fn selector(&self) -> String {
        format!(
            "{}={},{CHECKLIST_LABEL}={},{ENVIRONMENT_LABEL}={}",
            MANAGED_BY.0, MANAGED_BY.1, self.checklist, self.env
        )
    }

    /// The name of the object holding event `seq`.
    pub fn object_name(&self, seq: u64) -> String {
        format!("{}.{}.{seq:08}", self.checklist, self.env)
    }

    fn seq_of(&self, name: &str) -> Option<u64> {
        seq_in(name, &self.checklist, &self.env)
    }

    /// Every event object of the review, in name order (objects whose name
    /// is not an event's last).
    fn list(&self) -> Result<Vec<Record>, LedgerError> {
        let api = self.api.clone();
        let selector = self.selector();
        let objects = self.send("list configmaps", async move {
            let mut objects = Vec::new();
            let mut params = ListParams::default().labels(&selector).limit(PAGE);
            loop {
                let page = api.list(&params).await?;
                objects.extend(page.items);
                match page.metadata.continue_.filter(|c| !c.is_empty()) {
                    Some(token) => params = params.continue_token(&token),
                    None => return Ok(objects),
                }
            }
        })?;
        let mut records: Vec<Record> = objects
            .into_iter()
            .map(|object| {
                let name = object.metadata.name.unwrap_or_default();
                Record {
                    seq: self.seq_of(&name),
                    line: object.data.and_then(|mut d| d.remove(DATA_KEY)),
                    by: annotated_by(object.metadata.annotations),
                    name,
                }
            })
            .collect();
        records.sort_by(|a, b| match (a.seq, b.seq) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.name.cmp(&b.name),
        });
        Ok(records)
    }

    /// Lists the log and checks the objects after `from` (all of them when
    /// those `from` covers have changed).
    fn read(&self, from: Option<&ObjectMark>) -> Result<Read, LedgerError> {
        let records = self.list()?;
        let (mut mark, start, from_start) = match from {
            Some(m)
                if m.count <= records.len() && fingerprint(&records[..m.count]) == m.digest() =>
            {
                (m.clone(), m.count, false)
            }
            Some(m) => (ObjectMark::default(), 0, m.count > 0),
            None => (ObjectMark::default(), 0, true),
        };
        let mut found = Findings::default();
        let mut events = Vec::new();
        for record in &records[start..] {
            if let Some(event) = self.check(&mut mark, record, &mut found) {
                events.push(event);
            }
        }
        self.remember(Tip {
            next_seq: mark.next_name_seq,
            head: mark.chain.head(),
            problem: mark.chain.first_problem.clone(),
        });
        Ok(Read {
            events,
            chain: mark.chain.clone(),
            found,
            from_start,
            mark: Mark::Objects(mark),
        })
    }

    /// Checks one object after those `mark` covers, and moves past it.
    fn check(&self, mark: &mut ObjectMark, record: &Record, found: &mut Findings) -> Option<Event> {
        mark.count += 1;
        mark.fingerprint.update(record_bytes(record));
        let chain = &mut mark.chain;
        let Some(seq) = record.seq else {
            let reason = format!(
                "labelled as an event of this log, but not named {}",
                self.object_name(mark.next_name_seq)
            );
            chain.take(
                Err((LineError::Invalid(reason), None)),
                Some(&record.name),
                found,
            );
            return None;
        };
        if seq > mark.next_name_seq {
            let first = self.object_name(mark.next_name_seq);
            chain.gap(&first, seq - mark.next_name_seq, found);
        }
        mark.next_name_seq = seq.saturating_add(1);
        let read = match &record.line {
            Some(line) => parse_line(line.strip_suffix('\n').unwrap_or(line).as_bytes()),
            None => Err((LineError::Invalid(format!("no data.{DATA_KEY}")), None)),
        };
        let event = chain.take(read, Some(&record.name), found)?;
        if event.seq != seq {
            chain.flag_last(
                &record.name,
                ProblemKind::Misnamed { holds: event.seq },
                found,
            );
        } else if record.by.as_deref() != Some(event.by.as_str()) {
            chain.flag_last(
                &record.name,
                ProblemKind::Signer {
                    annotated: record.by.clone(),
                    claims: event.by.clone(),
                },
                found,
            );
        }
        Some(event)
    }

    /// The end of the log: as this handle last saw it, else read now.
    fn tip(&self) -> Result<Tip, LedgerError> {
        let cached = lock(&self.tip).clone();
        match cached {
            Some(tip) => Ok(tip),
            None => self.read_tip(),
        }
    }

    /// Catches `tip` up with the events other writers created after it,
    /// one get per event, checking each links to the one before; anything
    /// that does not is left to a full read, which names the problem.
    fn catch_up(&self, mut tip: Tip) -> Result<Tip, LedgerError> {
        loop {
            let api = self.api.clone();
            let name = self.object_name(tip.next_seq);
            let object = self.send("get configmaps", async move { api.get_opt(&name).await })?;
            let Some(object) = object else {
                self.remember(tip.clone());
                return Ok(tip);
            };
            let by = annotated_by(object.metadata.annotations);
            let line = object.data.and_then(|mut d| d.remove(DATA_KEY));
            let read = line
                .as_deref()
                .and_then(|l| parse_line(l.strip_suffix('\n').unwrap_or(l).as_bytes()).ok());
            match read {
                Some(read)
                    if read.hash_ok
                        && read.event.seq == tip.next_seq
                        && read.event.prev == tip.head
                        && by.as_deref() == Some(read.event.by.as_str()) =>
                {
                    tip = Tip {
                        next_seq: tip.next_seq.saturating_add(1),
                        head: read.event.hash,
                        problem: None,
                    };
                }
                _ => return self.read_tip(),
            }
        }
    }

    fn read_tip(&self) -> Result<Tip, LedgerError> {
        self.read(None)?;
        lock(&self.tip)
            .clone()
            .ok_or_else(|| LedgerError::Invalid("the log was read but its end not kept".into()))
    }

    fn remember(&self, tip: Tip) {
        *lock(&self.tip) = Some(tip);
    }

    /// Creates the object of `event`. `Ok(false)`: another writer took its
    /// name first.
    fn create(&self, event: &Event, line: &str) -> Result<bool, LedgerError> {
        let object = self.object(event.seq, &event.by, line);
        let api = self.api.clone();
        let created = self.send("create configmaps", async move {
            match api.create(&PostParams::default(), &object).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status))
                    if status.code == 409 && status.reason == "AlreadyExists" =>
                {
                    Ok(false)
                }
                Err(e) => Err(e),
            }
        })?;
        Ok(created)
    }

    fn object(&self, seq: u64, by: &str, line: &str) -> ConfigMap {
        let labels = BTreeMap::from([
            (MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string()),
            (CHECKLIST_LABEL.to_string(), self.checklist.clone()),
            (ENVIRONMENT_LABEL.to_string(), self.env.clone()),
        ]);
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(self.object_name(seq)),
                namespace: Some(self.namespace.clone()),
                labels: Some(labels),
                annotations: Some(BTreeMap::from([(
                    BY_ANNOTATION.to_string(),
                    by.to_string(),
                )])),
                ..ObjectMeta::default()
            },
            immutable: Some(true),
            data: Some(BTreeMap::from([(DATA_KEY.to_string(), line.to_string())])),
            ..ConfigMap::default()
        }
    }

    /// Runs a request on the store's runtime within `REQUEST_WAIT`. A
    /// failure (no answer, refused, forbidden) marks the store unhealthy
    /// and comes back as `Unavailable` with the reason; an answer marks it
    /// healthy again.
    fn send<T: Send + 'static>(
        &self,
        doing: &'static str,
        request: impl Future<Output = kube::Result<T>> + Send + 'static,
    ) -> Result<T, LedgerError> {
        let answer = run(async move { tokio::time::timeout(REQUEST_WAIT, request).await });
        let outcome = match answer {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(self
                .connection
                .explain(&e, &format!("{doing} in {}", self.namespace))),
            Ok(Err(_elapsed)) => Err(format!(
                "no answer from the API server at {} within {} s",
                self.connection.endpoint,
                REQUEST_WAIT.as_secs()
            )),
            Err(reason) => Err(reason),
        };
        match outcome {
            Ok(value) => {
                *lock(&self.health) = Health::Ok;
                Ok(value)
            }
            Err(reason) => {
                *lock(&self.health) = Health::Unreachable(reason.clone());
                Err(LedgerError::Unavailable {
                    log: self.location(),
                    reason,
                })
            }
        }
    }
}

impl Store for KubeStore {
    fn location(&self) -> String {
        format!(
            "configmaps {}/{}.{}.* ({})",
            self.namespace, self.checklist, self.env, self.connection.label
        )
    }

    fn verify_command(&self) -> String {
        format!(
            "gonogo log --verify --checklist {} --env {}",
            self.checklist, self.env
        )
    }

    fn load(&self) -> Result<Loaded, LedgerError> {
        Ok(Loaded::from_read(self.read(None)?))
    }

    /// The user and groups the API server reports for the store's
    /// credentials (a `SelfSubjectReview`, as `kubectl auth whoami` asks),
    /// asked once per store.
    fn identity(&self) -> Result<Option<Signer>, LedgerError> {
        if let Some(who) = lock(&self.who).clone() {
            return Ok(Some(who));
        }
        let api: Api<SelfSubjectReview> = Api::all(self.connection.client.clone());
        let review = self.send("create selfsubjectreviews", async move {
            api.create(&PostParams::default(), &SelfSubjectReview::default())
                .await
        })?;
        let user = review.status.and_then(|s| s.user_info).unwrap_or_default();
        let name = user.username.unwrap_or_default();
        if name.trim().is_empty() {
            return Err(LedgerError::Unavailable {
                log: self.location(),
                reason: format!(
                    "the API server at {} did not say who these credentials are (SelfSubjectReview named no user)",
                    self.connection.endpoint
                ),
            });
        }
        let who = Signer {
            name,
            groups: user.groups.unwrap_or_default(),
        };
        *lock(&self.who) = Some(who.clone());
        Ok(Some(who))
    }

    fn refresh(&self, loaded: &mut Loaded) -> Result<Refresh, LedgerError> {
        let read = match &loaded.mark {
            Mark::Objects(mark) => self.read(Some(mark))?,
            // Nothing read yet: whatever is there is news.
            Mark::None => self.read(Some(&ObjectMark::default()))?,
            Mark::File(_) => self.read(None)?,
        };
        Ok(loaded.fold(read))
    }

    fn fold_appended(&self, loaded: &mut Loaded, events: &[Event]) -> Result<(), LedgerError> {
        let follows = match (&loaded.mark, events.first()) {
            (Mark::Objects(mark), Some(first)) => {
                mark.chain.head() == first.prev
                    && mark.next_name_seq == first.seq
                    && loaded.head == first.prev
            }
            _ => false,
        };
        let Mark::Objects(mark) = &mut loaded.mark else {
            return self.refresh(loaded).map(|_| ());
        };
        if !follows {
            return self.refresh(loaded).map(|_| ());
        }
        // What a read of these objects would have added, without the read.
        for event in events {
            let record = Record {
                name: self.object_name(event.seq),
                seq: Some(event.seq),
                line: Some(event.to_line().0),
                by: Some(event.by.clone()),
            };
            mark.count += 1;
            mark.fingerprint.update(record_bytes(&record));
            mark.next_name_seq = event.seq.saturating_add(1);
            loaded.state.apply(event);
        }
        mark.chain.advance(events);
        loaded.events = mark.chain.events;
        loaded.head = mark.chain.head();
        Ok(())
    }

    fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let read = self.read(None)?;
        Ok(VerifyReport::of(&read.chain, read.found))
    }

    fn records(&self) -> Result<Vec<String>, LedgerError> {
        Ok(self
            .list()?
            .into_iter()
            .filter(|r| r.seq.is_some())
            .filter_map(|r| r.line)
            // An object written by hand may lack the newline; its line is
            // still one line of the file.
            .map(|line| {
                if line.ends_with('\n') {
                    line
                } else {
                    line + "\n"
                }
            })
            .collect())
    }

    fn append_after(
        &self,
        head: Option<&str>,
        by: &Signer,
        kinds: Vec<EventKind>,
    ) -> Result<Vec<Event>, LedgerError> {
        let (by, mut rest) = clean(by, kinds)?;
        if rest.is_empty() {
            return Ok(Vec::new());
        }
        let mut tip = self.tip()?;
        if head.is_some_and(|h| h != tip.head) {
            // This handle's view may be behind what the caller read.
            tip = self.read_tip()?;
        }
        let mut written: Vec<Event> = Vec::new();
        let deadline = std::time::Instant::now() + WRITE_WAIT;
        let mut pause = Backoff::new();
        loop {
            if let Some(problem) = tip.problem.clone() {
                return Err(LedgerError::Tampered {
                    log: self.location(),
                    problem,
                });
            }
            if let Some(expected) = head
                && written.is_empty()
                && expected != tip.head
            {
                return Err(LedgerError::HeadMoved {
                    expected: expected.to_string(),
                    found: tip.head,
                });
            }
            let (events, lines) = chain(tip.next_seq, &tip.head, &by, rest.clone())?;
            let mut taken = false;
            for (event, line) in events.into_iter().zip(lines) {
                if !self.create(&event, &line)? {
                    taken = true;
                    break;
                }
                tip = Tip {
                    next_seq: event.seq.saturating_add(1),
                    head: event.hash.clone(),
                    problem: None,
                };
                self.remember(tip.clone());
                written.push(event);
                rest.remove(0);
            }
            if !taken {
                return Ok(written);
            }
            tip = self.catch_up(tip)?;
            if head.is_some() && !written.is_empty() {
                return Err(LedgerError::PartlyWritten {
                    written,
                    found: tip.head,
                });
            }
            if std::time::Instant::now() >= deadline {
                return Err(LedgerError::Busy {
                    log: self.location(),
                });
            }
            // Writers that lost the same name spread out before trying the
            // next, so one of them does not keep losing.
            std::thread::sleep(pause.next());
        }
    }

    fn import(&self, records: &[String]) -> Result<u64, LedgerError> {
        check_import(records, &self.location())?;
        let have = self.records()?;
        if have.len() > records.len() || records[..have.len()] != have[..] {
            return Err(LedgerError::Invalid(format!(
                "{} already holds a different log ({} events): nothing copied",
                self.location(),
                have.len()
            )));
        }
        let mut written = 0;
        for record in &records[have.len()..] {
            let event = parse_line(record.trim_end_matches('\n').as_bytes())
                .map_err(|_| LedgerError::Invalid("a checked record no longer parses".into()))?
                .event;
            if !self.create(&event, record)? {
                return Err(LedgerError::Invalid(format!(
                    "another session wrote to {} during the copy: it stopped after {written} events; \
                     run it again once that session is done",
                    self.location()
                )));
            }
            written += 1;
        }
        *lock(&self.tip) = None;
        Ok(written)
    }

    fn watch(&self, on_change: Box<dyn FnMut() + Send>) -> Result<WatchGuard, WatchError> {
        let notify = debounced(on_change).map_err(|e| WatchError::Cluster(e.to_string()))?;
        let api = self.api.clone();
        let config = watcher::Config::default().labels(&self.selector());
        let health = Arc::clone(&self.health);
        let connection = self.connection.clone();
        let doing = format!("watch configmaps in {}", self.namespace);
        let follow = async move {
            let mut pause = WATCH_RETRY_FIRST;
            loop {
                // Each round lists first: after an outage that list is how
                // the store is known to answer again.
                let mut events = watcher(api.clone(), config.clone()).boxed();
                while let Some(event) = events.next().await {
                    let news = match event {
                        Ok(watcher::Event::Apply(_) | watcher::Event::Delete(_)) => true,
                        Ok(watcher::Event::InitDone) => {
                            pause = WATCH_RETRY_FIRST;
                            true
                        }
                        Ok(watcher::Event::Init | watcher::Event::InitApply(_)) => false,
                        Err(e) => {
                            let reason = explain_watch(&connection, &e, &doing);
                            let changed = set_health(&health, Health::Unreachable(reason));
                            if changed && notify.send(()).is_err() {
                                return;
                            }
                            break;
                        }
                    };
                    if news {
                        set_health(&health, Health::Ok);
                        if notify.send(()).is_err() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(WATCH_RETRY_MAX);
            }
        };
        let task = io().map_err(WatchError::Cluster)?.spawn(follow);
        Ok(WatchGuard::new(Aborting(task)))
    }

    fn health(&self) -> Health {
        lock(&self.health).clone()
    }
}

/// Sets the health; whether it changed.
fn set_health(health: &Mutex<Health>, now: Health) -> bool {
    let mut health = lock(health);
    let changed = *health != now;
    *health = now;
    changed
}

/// Why a watch failed, in words.
fn explain_watch(connection: &Connection, e: &watcher::Error, doing: &str) -> String {
    match e {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => connection.explain(e, doing),
        watcher::Error::WatchError(status) => {
            connection.explain(&kube::Error::Api(status.clone()), doing)
        }
        watcher::Error::NoResourceVersion => e.to_string(),
    }
}

impl ObjectMark {
    fn digest(&self) -> sha2::digest::Output<Sha256> {
        self.fingerprint.clone().finalize()
    }
}

/// The seq an event object's name carries: `<checklist>.<env>.` and at
/// least 8 digits (more once a log passes 99,999,999 events).
fn seq_in(name: &str, checklist: &str, env: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(checklist)?
        .strip_prefix('.')?
        .strip_prefix(env)?
        .strip_prefix('.')?;
    let plain = digits.len() >= 8 && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| digits.parse().ok()).flatten()
}

/// What the fingerprint of a run of objects takes from each.
fn record_bytes(record: &Record) -> Vec<u8> {
    let mut bytes = record.name.clone().into_bytes();
    bytes.push(0);
    if let Some(line) = &record.line {
        bytes.extend_from_slice(line.as_bytes());
    }
    bytes.push(0);
    if let Some(by) = &record.by {
        bytes.extend_from_slice(by.as_bytes());
    }
    bytes.push(0);
    bytes
}

fn fingerprint(records: &[Record]) -> sha2::digest::Output<Sha256> {
    let mut hash = Sha256::new();
    for record in records {
        hash.update(record_bytes(record));
    }
    hash.finalize()
}

/// A name usable as a label value and in an object name: lowercase letters,
/// digits and dashes, at most 63, starting and ending with a letter or digit.
fn check_name(what: &'static str, name: &str) -> Result<(), LedgerError> {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| alnum(c) || c == '-')
        && name.starts_with(alnum)
        && name.ends_with(alnum);
    if ok {
        Ok(())
    } else {
        Err(LedgerError::BadName {
            what,
            name: name.to_string(),
        })
    }
}

/// Growing, jittered pauses between attempts at a taken name.
struct Backoff {
    state: u64,
    ceiling_ms: u64,
}

impl Backoff {
    fn new() -> Backoff {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::from(d.subsec_nanos()));
        let thread = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::thread::current().id().hash(&mut h);
            h.finish()
        };
        Backoff {
            state: (nanos ^ thread) | 1,
            ceiling_ms: 2,
        }
    }

    fn next(&mut self) -> Duration {
        // xorshift: spread enough for pauses, no dependency.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let pause = Duration::from_millis(self.state % self.ceiling_ms + 1);
        self.ceiling_ms = (self.ceiling_ms * 2).min(64);
        pause
    }
}

/// A task that ends when this is dropped.
struct Aborting(tokio::task::JoinHandle<()>);

impl Drop for Aborting {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The client's own retries of 429, 503 and 504 (up to 15, backing off for
/// minutes) are off: a person waiting on a tick is told at once that the
/// server is unavailable, and the watch has its own backoff.
fn no_retries(config: &mut kube::Config) {
    config.default_retry = false;
}

/// A poisoned lock only means a thread panicked while holding it; what it
/// guards is replaced whole on every write.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// The runtime the store's requests run on. Its methods block, like the dir
/// store's file I/O: the dashboard calls them from blocking threads and the
/// command line from async code, and neither may block on a future of its
/// own runtime, so the requests run on this one, whatever thread waits.
fn io() -> Result<&'static tokio::runtime::Runtime, String> {
    static IO: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    IO.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gonogo-log")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the thread that talks to the cluster: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Runs `work` on the store's runtime and waits for it.
fn run<T: Send + 'static>(work: impl Future<Output = T> + Send + 'static) -> Result<T, String> {
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    io()?.spawn(async move {
        let _ = tx.send(work.await);
    });
    rx.recv()
        .map_err(|_| "the request to the cluster was dropped half way".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_object_is_named_by_its_review_and_seq_and_nothing_else() {
        assert_eq!(seq_in("cmp.prod.00000042", "cmp", "prod"), Some(42));
        assert_eq!(
            seq_in("cmp.prod.123456789", "cmp", "prod"),
            Some(123_456_789)
        );
        for other in [
            "cmp.prod.42",
            "cmp.prod.0000004x",
            "cmp.staging.00000042",
            "cmp-x.prod.00000042",
            "cmp.prod.00000042.bak",
            "cmp.prod.",
        ] {
            assert_eq!(seq_in(other, "cmp", "prod"), None, "{other}");
        }
    }

    #[test]
    fn names_that_cannot_label_an_object_are_refused() {
        for good in ["cmp-operator", "prod", "a", "x1"] {
            assert!(check_name("environment", good).is_ok(), "{good}");
        }
        let long = "a".repeat(64);
        for bad in [
            "",
            "Prod",
            "-prod",
            "prod-",
            "pr_od",
            "pr.od",
            long.as_str(),
        ] {
            assert!(
                matches!(
                    check_name("environment", bad),
                    Err(LedgerError::BadName { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn backoff_pauses_stay_short_and_grow() {
        let mut backoff = Backoff::new();
        let first = backoff.next();
        assert!(first <= Duration::from_millis(2), "{first:?}");
        let later: Vec<Duration> = (0..10).map(|_| backoff.next()).collect();
        assert!(
            later.iter().all(|p| *p <= Duration::from_millis(64)),
            "{later:?}"
        );
    }
}
