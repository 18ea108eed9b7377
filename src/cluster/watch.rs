//! Following a live cluster: one paginated list and then one watch per
//! (resource type, namespace scope), feeding a store that every probe on
//! that type reads. API requests grow with the number of types followed,
//! not with the number of checks or with time.
//!
//! The store holds each object once, as a compact document without its
//! `managedFields` or last-applied copy, read straight from the bytes of
//! each list page: an object never exists as a `serde_json::Value` on the
//! way, except in the rare older-version scope that must read its
//! managedFields first, and for a watch event's one object. Each change
//! ticks a counter that the runner waits on, so probes re-run when their
//! objects change instead of on a timer.
//!
//! Faults: a watch that ends (its timeout, a restart) is started again from
//! the last resourceVersion; a 410 Gone (the version is compacted away)
//! lists again; any other failure marks the store broken, so its probes
//! report the reason and the age of the last good data, and the loop retries
//! with backoff until it recovers by itself.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{ListParams, WatchEvent, WatchParams};
use serde::de::{self, Deserialize, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use tokio::sync::watch;

use super::selector::ObjectFilter;
use super::{Change, Changes, Cursor, Delta, Key, Obj, Object, ObjectQuery, STRIPPED, SourceError};
use crate::doc::{Doc, Edits};

/// Objects per list page: big enough that most types need one request,
/// small enough that a huge namespace does not arrive as one giant body.
const PAGE: u32 = 500;

/// How long the server keeps one watch open before the loop starts the next
/// (what client-go and kube-runtime ask for).
const WATCH_SECS: u32 = 290;

/// A watch that says nothing (not even a bookmark) this long past its own
/// timeout is taken for dead.
const WATCH_IDLE: Duration = Duration::from_secs(WATCH_SECS as u64 + 30);

/// Backoff between failed attempts: from the first to the last, doubling.
const BACKOFF_FIRST: Duration = Duration::from_millis(500);
const BACKOFF_LAST: Duration = Duration::from_secs(30);

/// How many changes a store remembers for probes that keep a running tally
/// (see `Delta`). A probe further behind than this reads everything again.
const JOURNAL: usize = 4096;

/// How many of the first selected objects a `Delta::Since` carries: enough
/// for a probe to list a hundred objects, in line or not.
pub const HEAD: usize = 200;

/// Says why the server could not answer `doing` (`watch v1/Pod`).
pub(super) type Explain = Arc<dyn Fn(&kube::Error, &str) -> SourceError + Send + Sync>;

/// What one followed scope needs to talk to the server.
pub(super) struct Follow {
    pub client: kube::Client,
    /// The collection's URL path: `/api/v1/namespaces/shop/pods`.
    pub url: String,
    /// `apiVersion` and `kind` for the objects (list items often lack them).
    pub api_version: String,
    pub kind: String,
    /// For a version that is not its group's preferred one: keep only the
    /// objects written in it (see `live::written_in`).
    pub only_written_in: Option<String>,
    /// `list v1/Pod`, `watch v1/Pod`: says why the server could not answer.
    pub explain: Explain,
    /// `v1/Pod`, for the messages above.
    pub what: String,
}

/// The objects of one followed scope, and whether they can be trusted.
pub(super) struct Store {
    state: RwLock<State>,
    tick: watch::Sender<u64>,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

struct State {
    /// By namespace, then name: the order a server lists them in.
    objects: BTreeMap<Key, Object>,
    health: Health,
    /// The latest changes, oldest first: what a probe's tally needs to
    /// catch up without reading every object again.
    journal: VecDeque<Logged>,
    /// The number of the next change.
    seq: u64,
    /// Moves when a list replaces everything: tallies from before it start
    /// over.
    epoch: u64,
    /// While the first list is read: the objects of the pages in so far,
    /// so probes can judge them before the last page arrives.
    arriving: Vec<Object>,
}

/// One change as the store saw it: the key, and the object before and
/// after (`None`: there was none).
struct Logged {
    seq: u64,
    key: Key,
    before: Option<Object>,
    after: Option<Object>,
}

#[derive(Debug, Clone)]
enum Health {
    /// The first list has not completed.
    Starting,
    /// Listed and watching (or about to watch again).
    Synced,
    /// The last attempt failed. `since`: when the data was last known good
    /// (`None`: never).
    Broken {
        reason: SourceError,
        since: Option<Instant>,
    },
}

impl Store {
    /// Starts following `follow` on the current tokio runtime. The loop
    /// stops when the store is dropped.
    pub fn start(follow: Follow) -> Arc<Store> {
        let (tick, _) = watch::channel(0);
        let store = Arc::new(Store {
            state: RwLock::new(State {
                objects: BTreeMap::new(),
                health: Health::Starting,
                journal: VecDeque::new(),
                seq: 0,
                epoch: 0,
                arriving: Vec::new(),
            }),
            tick,
            task: Mutex::new(None),
        });
        let task = tokio::spawn(run(Arc::downgrade(&store), follow));
        *store.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(task.abort_handle());
        store
    }

    /// What ticks on every change from now on.
    pub fn subscribe(&self) -> Changes {
        self.tick.subscribe()
    }

    /// The objects that pass `filter`, once the first list is in; the reason
    /// (and the age of the last good data) while the server cannot answer.
    pub async fn read(&self, query: &ObjectQuery) -> Result<Vec<Object>, SourceError> {
        let filter = ObjectFilter::new(query);
        self.synced(|state| select(&state.objects, query, &filter))
            .await
    }

    /// What changed in `query`'s selection since `since`, or everything it
    /// selects when that is not known (no cursor, a list since, or more
    /// changes than the journal keeps).
    pub async fn read_since(
        &self,
        query: &ObjectQuery,
        since: Option<Cursor>,
    ) -> Result<Delta, SourceError> {
        let filter = ObjectFilter::new(query);
        self.synced(|state| state.delta(query, &filter, since))
            .await
    }

    /// `answer` of the objects once the first list is in; the reason (and
    /// the age of the last good data) while the server cannot answer.
    async fn synced<T>(&self, answer: impl Fn(&State) -> T) -> Result<T, SourceError> {
        let mut ticks = self.subscribe();
        loop {
            {
                let state = self.read_state();
                match &state.health {
                    Health::Starting => {}
                    Health::Synced => return Ok(answer(&state)),
                    Health::Broken { reason, since } => {
                        return Err(aged(reason, *since));
                    }
                }
            }
            if ticks.changed().await.is_err() {
                return Err(SourceError::Unavailable("the watch was stopped".into()));
            }
        }
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock only means a reader panicked; the map is whole.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn bump(&self) {
        self.tick.send_modify(|n| *n += 1);
    }

    /// While the first list is read: the objects `query` selects among
    /// those in after the first `from`, and how many are in now. `None`
    /// once the list is complete (or has failed).
    pub fn arriving(&self, query: &ObjectQuery, from: usize) -> Option<(Vec<Object>, usize)> {
        let state = self.read_state();
        if !matches!(state.health, Health::Starting) {
            return None;
        }
        let filter = ObjectFilter::new(query);
        let new = state.arriving.get(from..).unwrap_or_default();
        let selected = new
            .iter()
            .filter(|o| in_scope(query, &key_of_object(o)) && filter.matches(o))
            .map(Arc::clone)
            .collect();
        Some((selected, state.arriving.len()))
    }

    /// A page of the first list is in: its objects can be judged, and a
    /// tick (which leaves the count at zero) tells probes waiting for the
    /// list that it is moving.
    fn progress(&self, page: Vec<Object>) {
        {
            let mut state = self.write_state();
            if !matches!(state.health, Health::Starting) {
                return;
            }
            state.arriving.extend(page);
        }
        self.tick.send_modify(|_| {});
    }

    /// The object held now under `key`, if it is the version `item` is:
    /// a list after a 410 then keeps what was judged of it.
    fn unchanged(&self, key: &Key, item: &Object) -> Option<Object> {
        let version = version_of(item)?;
        let state = self.read_state();
        let held = state.objects.get(key)?;
        (version_of(held) == Some(version)).then(|| Arc::clone(held))
    }

    /// A complete list replaces everything.
    fn replace(&self, objects: BTreeMap<Key, Object>) {
        {
            let mut state = self.write_state();
            state.objects = objects;
            state.health = Health::Synced;
            state.journal.clear();
            state.epoch += 1;
            state.arriving = Vec::new();
        }
        self.bump();
    }

    fn put(&self, key: Key, object: Option<Object>) {
        {
            let mut state = self.write_state();
            let before = match &object {
                Some(object) => state.objects.insert(key.clone(), Arc::clone(object)),
                None => state.objects.remove(&key),
            };
            let seq = state.seq;
            state.seq += 1;
            if state.journal.len() == JOURNAL {
                state.journal.pop_front();
            }
            state.journal.push_back(Logged {
                seq,
                key,
                before,
                after: object,
            });
        }
        self.bump();
    }

    /// A watch is open again after a failure.
    fn recovered(&self) {
        let changed = {
            let mut state = self.write_state();
            let broken = matches!(state.health, Health::Broken { .. });
            if broken {
                state.health = Health::Synced;
            }
            broken
        };
        if changed {
            self.bump();
        }
    }

    /// Each failed attempt ticks, so the probes say the reason again with
    /// the data's new age (attempts back off, so this stays rare).
    fn broken(&self, reason: SourceError) {
        {
            let mut state = self.write_state();
            let since = match &state.health {
                Health::Starting => None,
                Health::Synced => Some(Instant::now()),
                Health::Broken { since, .. } => *since,
            };
            state.health = Health::Broken { reason, since };
        }
        self.bump();
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }
}

impl State {
    fn delta(&self, query: &ObjectQuery, filter: &ObjectFilter, since: Option<Cursor>) -> Delta {
        let cursor = Cursor {
            epoch: self.epoch,
            seq: self.seq,
        };
        let oldest = self.journal.front().map_or(self.seq, |l| l.seq);
        let Some(since) = since.filter(|c| c.epoch == self.epoch && c.seq >= oldest) else {
            return Delta::All {
                objects: select(&self.objects, query, filter),
                cursor: Some(cursor),
            };
        };
        let selected = |object: &Option<Object>| {
            object
                .as_ref()
                .filter(|o| filter.matches(o))
                .map(Arc::clone)
        };
        let changes = self
            .journal
            .iter()
            .skip((since.seq - oldest) as usize)
            .filter(|logged| in_scope(query, &logged.key))
            .map(|logged| Change {
                key: logged.key.clone(),
                before: selected(&logged.before),
                after: selected(&logged.after),
            })
            .filter(|change| change.before.is_some() || change.after.is_some())
            .collect();
        Delta::Since {
            changes,
            head: head(&self.objects, query, filter),
            cursor,
        }
    }
}

/// Whether an object at `key` is in `query`'s namespace and name.
fn in_scope(query: &ObjectQuery, key: &Key) -> bool {
    let namespace = match &query.namespace {
        // Cluster-scoped objects (no namespace) are found wherever asked.
        Some(ns) => key.0.is_empty() || *key.0 == **ns,
        None => true,
    };
    namespace && query.name.as_deref().is_none_or(|name| *key.1 == *name)
}

/// The first `HEAD` objects `query` selects, in key order.
fn head(
    objects: &BTreeMap<Key, Object>,
    query: &ObjectQuery,
    filter: &ObjectFilter,
) -> Vec<Object> {
    selected(objects, query, filter)
        .take(HEAD)
        .cloned()
        .collect()
}

/// The reason, with how old the data it replaces is.
fn aged(reason: &SourceError, since: Option<Instant>) -> SourceError {
    let age = match since {
        Some(at) => format!(
            " (last good data {} old)",
            crate::probe::humanize(at.elapsed())
        ),
        None => String::new(),
    };
    match reason {
        SourceError::NotServed(why) => SourceError::NotServed(format!("{why}{age}")),
        SourceError::Unavailable(why) => SourceError::Unavailable(format!("{why}{age}")),
    }
}

fn select(
    objects: &BTreeMap<Key, Object>,
    query: &ObjectQuery,
    filter: &ObjectFilter,
) -> Vec<Object> {
    selected(objects, query, filter).cloned().collect()
}

/// What `query` selects, in key order.
fn selected<'a>(
    objects: &'a BTreeMap<Key, Object>,
    query: &'a ObjectQuery,
    filter: &'a ObjectFilter,
) -> Box<dyn Iterator<Item = &'a Object> + 'a> {
    // One object by namespace and name: no need to look at the rest. A
    // cluster-scoped object has no namespace and is found wherever asked.
    if let (Some(ns), Some(name)) = (&query.namespace, &query.name) {
        let key = |ns: &str| -> Key { (ns.into(), name.as_str().into()) };
        let found = objects.get(&key(ns)).or_else(|| objects.get(&key("")));
        return Box::new(found.filter(|o| filter.matches(o)).into_iter());
    }
    let keep = move |object: &&Object| filter.matches(object);
    let object = |(_, object): (&'a Key, &'a Object)| object;
    match query.namespace.as_deref() {
        // Keys sort by namespace first: one namespace of fifty is a range,
        // not a walk over every object of the type. Objects without a
        // namespace (cluster-scoped) are found wherever asked, first.
        Some("") => Box::new(within(objects, "").map(object).filter(keep)),
        Some(ns) => Box::new(
            within(objects, "")
                .chain(within(objects, ns))
                .map(object)
                .filter(keep),
        ),
        None => Box::new(objects.values().filter(keep)),
    }
}

/// The objects of one namespace (`""`: those without one), in key order.
fn within<'a>(
    objects: &'a BTreeMap<Key, Object>,
    ns: &'a str,
) -> impl Iterator<Item = (&'a Key, &'a Object)> + 'a {
    let start: Key = (ns.into(), "".into());
    objects
        .range(start..)
        .take_while(move |(key, _)| &*key.0 == ns)
}

/// One page of a list, its items already in the store's form.
#[derive(Default)]
struct Page {
    version: String,
    next: Option<String>,
    objects: Vec<(Key, Object)>,
}

#[derive(serde::Deserialize, Default)]
struct PageMeta {
    #[serde(rename = "resourceVersion", default)]
    resource_version: String,
    #[serde(rename = "continue", default)]
    next: Option<String>,
}

/// Reads a page as the server sent it (`{"metadata": …, "items": […]}`),
/// each item ingested as it is parsed: a page of 500 Pods never exists as
/// `serde_json::Value` trees, which take seven times the JSON.
fn read_page(text: &str, follow: &Follow) -> Result<Page, serde_json::Error> {
    let mut json = serde_json::Deserializer::from_str(text);
    let page = PageReader(follow).deserialize(&mut json)?;
    json.end()?;
    Ok(page)
}

struct PageReader<'a>(&'a Follow);

impl<'de> DeserializeSeed<'de> for PageReader<'_> {
    type Value = Page;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Page, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PageReader<'_> {
    type Value = Page;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Page, A::Error> {
        let mut page = Page::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "metadata" => {
                    let meta: PageMeta = map.next_value()?;
                    page.version = meta.resource_version;
                    page.next = meta.next;
                }
                "items" => page.objects = map.next_value_seed(ItemsReader(self.0))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(page)
    }
}

struct ItemsReader<'a>(&'a Follow);

impl<'de> DeserializeSeed<'de> for ItemsReader<'_> {
    type Value = Vec<(Key, Object)>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ItemsReader<'_> {
    type Value = Vec<(Key, Object)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut objects = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(ItemReader(self.0))? {
            objects.extend(item);
        }
        Ok(objects)
    }
}

/// One item of a page, ingested; `None` when this scope does not keep it
/// or it has no name.
struct ItemReader<'a>(&'a Follow);

impl<'de> DeserializeSeed<'de> for ItemReader<'_> {
    type Value = Option<(Key, Object)>;

    fn deserialize<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Self::Value, D::Error> {
        let follow = self.0;
        if follow.only_written_in.is_some() {
            // Which version wrote it is in the managedFields: read them first.
            let object = Value::deserialize(deserializer)?;
            return Ok(ingest(follow, &object).and_then(keyed));
        }
        let doc = follow.read(deserializer)?;
        Ok(keyed(Obj::new(doc)))
    }
}

/// The object with its place in the store, when it has a name.
fn keyed(object: Object) -> Option<(Key, Object)> {
    let key: Key = (
        object.namespace().unwrap_or("").into(),
        object.name()?.into(),
    );
    Some((key, object))
}

/// Why a step of the loop stopped.
enum Stop {
    /// The resourceVersion is gone (410): list again at once.
    Gone,
    /// Any other failure: say so, wait, try again.
    Failed(SourceError),
}

async fn run(store: Weak<Store>, follow: Follow) {
    let mut backoff = BACKOFF_FIRST;
    loop {
        let version = match list(&store, &follow).await {
            Ok((objects, version)) => {
                let Some(store) = store.upgrade() else { return };
                store.replace(objects);
                backoff = BACKOFF_FIRST;
                version
            }
            Err(Stop::Gone) => continue,
            Err(Stop::Failed(reason)) => {
                if !back_off(&store, reason, &mut backoff).await {
                    return;
                }
                continue;
            }
        };
        // Watch from the list's version until it is gone.
        let mut version = version;
        loop {
            match watch_once(&store, &follow, &mut version).await {
                // The watch ended by itself: start the next one.
                Ok(true) => backoff = BACKOFF_FIRST,
                Ok(false) => return,
                Err(Stop::Gone) => break,
                Err(Stop::Failed(reason)) => {
                    if !back_off(&store, reason, &mut backoff).await {
                        return;
                    }
                }
            }
        }
    }
}

/// Marks the store broken for `reason`, waits `backoff` and doubles it (up
/// to `BACKOFF_LAST`). False when nobody reads the store any more.
async fn back_off(store: &Weak<Store>, reason: SourceError, backoff: &mut Duration) -> bool {
    match store.upgrade() {
        Some(live) => live.broken(reason),
        None => return false,
    }
    tokio::time::sleep(*backoff).await;
    *backoff = (*backoff * 2).min(BACKOFF_LAST);
    true
}

/// Every object in the scope, page by page, and the version to watch from.
async fn list(
    store: &Weak<Store>,
    follow: &Follow,
) -> Result<(BTreeMap<Key, Object>, String), Stop> {
    let request = kube::core::Request::new(&follow.url);
    let mut params = ListParams::default().limit(PAGE);
    let mut objects = BTreeMap::new();
    loop {
        let http = request
            .list(&params)
            .map_err(|e| Stop::Failed(SourceError::Unavailable(e.to_string())))?;
        let text = follow
            .client
            .request_text(http)
            .await
            .map_err(|e| stop(follow, &e, "list"))?;
        let page = read_page(&text, follow)
            .map_err(|e| stop(follow, &kube::Error::SerdeError(e), "list"))?;
        drop(text);
        let live = store.upgrade();
        let mut arrived = Vec::with_capacity(page.objects.len());
        for (key, object) in page.objects {
            // Unchanged since the last list (after a 410): keep the object
            // held, with what was judged of it.
            let held = live.as_ref().and_then(|s| s.unchanged(&key, &object));
            let object = held.unwrap_or(object);
            arrived.push(Arc::clone(&object));
            objects.insert(key, object);
        }
        match page.next.filter(|c| !c.is_empty()) {
            Some(token) => {
                params = params.continue_token(&token);
                if let Some(store) = live {
                    store.progress(arrived);
                }
            }
            None => return Ok((objects, page.version)),
        }
    }
}

/// One watch from `version`, applying its events until it ends. `Ok(true)`:
/// it ended by itself; `Ok(false)`: nobody reads the store any more.
async fn watch_once(
    store: &Weak<Store>,
    follow: &Follow,
    version: &mut String,
) -> Result<bool, Stop> {
    // Bookmarks are on by default: they keep `version` fresh on a quiet type.
    let params = WatchParams::default().timeout(WATCH_SECS);
    let http = kube::core::Request::new(&follow.url)
        .watch(&params, version)
        .map_err(|e| Stop::Failed(SourceError::Unavailable(e.to_string())))?;
    let events = follow
        .client
        .request_events::<Value>(http)
        .await
        .map_err(|e| stop(follow, &e, "watch"))?;
    let mut events = std::pin::pin!(events);
    match store.upgrade() {
        Some(store) => store.recovered(),
        None => return Ok(false),
    }
    loop {
        let next = match tokio::time::timeout(WATCH_IDLE, events.next()).await {
            Ok(next) => next,
            // Silent far past its timeout: take it for dead, watch again.
            Err(_) => return Ok(true),
        };
        let Some(event) = next else { return Ok(true) };
        let Some(store) = store.upgrade() else {
            return Ok(false);
        };
        match event.map_err(|e| stop(follow, &e, "watch"))? {
            WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                remember_version(version, &object);
                if let Some(key) = key_of(&object) {
                    store.put(key, ingest(follow, &object));
                }
            }
            WatchEvent::Deleted(object) => {
                remember_version(version, &object);
                if let Some(key) = key_of(&object) {
                    store.put(key, None);
                }
            }
            WatchEvent::Bookmark(mark) => *version = mark.metadata.resource_version,
            WatchEvent::Error(status) if status.code == 410 => return Err(Stop::Gone),
            WatchEvent::Error(status) => {
                return Err(stop(follow, &kube::Error::Api(status), "watch"));
            }
        }
    }
}

fn stop(follow: &Follow, e: &kube::Error, verb: &str) -> Stop {
    match e {
        kube::Error::Api(status) if status.code == 410 => Stop::Gone,
        _ => Stop::Failed((follow.explain)(e, &format!("{verb} {}", follow.what))),
    }
}

fn remember_version(version: &mut String, object: &Value) {
    if let Some(v) = object["metadata"]["resourceVersion"].as_str() {
        *version = v.to_string();
    }
}

/// An ingested object's key.
fn key_of_object(object: &Object) -> Key {
    (
        object.namespace().unwrap_or("").into(),
        object.name().unwrap_or("").into(),
    )
}

/// An ingested object's resourceVersion.
fn version_of(object: &Obj) -> Option<&str> {
    object
        .json()
        .get("metadata")?
        .get("resourceVersion")?
        .as_str()
}

fn key_of(object: &Value) -> Option<Key> {
    let meta = object.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let namespace = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
    Some((namespace.into(), name.into()))
}

/// The object as probes see it (`apiVersion` and `kind` set, what no probe
/// reads dropped), or `None` when this scope does not keep it.
fn ingest(follow: &Follow, object: &Value) -> Option<Object> {
    if let Some(version) = &follow.only_written_in
        && !super::live::written_in(object, version)
    {
        return None;
    }
    // A `Value` always fits a document; a failure here could only be a bug.
    follow.read(object).ok().map(Obj::new)
}

impl Follow {
    /// Reads one object of this scope, edited as `ingest` says.
    fn read<'de, D: de::Deserializer<'de>>(&self, deserializer: D) -> Result<Doc, D::Error> {
        let set = [
            ("apiVersion", self.api_version.as_str()),
            ("kind", self.kind.as_str()),
        ];
        let edits = Edits {
            drop: STRIPPED,
            set: &set,
            fill: &[],
        };
        Doc::read(deserializer, &edits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Doc;

    fn follow(only_written_in: Option<&str>) -> Follow {
        crate::install_crypto_provider();
        let config = kube::Config::new("http://127.0.0.1:9".parse().expect("a valid URL"));
        Follow {
            client: kube::Client::try_from(config).expect("a client needs no server to exist"),
            url: "/apis/apps/v1/deployments".into(),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            only_written_in: only_written_in.map(str::to_string),
            explain: Arc::new(|e, _| SourceError::Unavailable(e.to_string())),
            what: "apps/v1/Deployment".into(),
        }
    }

    const PAGE: &str = r#"{
        "kind": "DeploymentList", "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": "42", "continue": "next-page"},
        "items": [
            {"metadata": {"name": "web", "namespace": "shop",
                          "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1beta2\"}"},
                          "managedFields": [{"manager": "kubectl", "apiVersion": "apps/v1"}]},
             "spec": {"replicas": 2}},
            {"metadata": {"namespace": "shop"}, "spec": {}},
            {"metadata": {"name": "cluster-wide", "managedFields": [{"manager": "x", "apiVersion": "apps/v1beta2"}]}}
        ]
    }"#;

    #[tokio::test]
    async fn a_page_is_read_into_stripped_documents() {
        let page = read_page(PAGE, &follow(None)).expect("a valid page");
        assert_eq!(page.version, "42");
        assert_eq!(page.next.as_deref(), Some("next-page"));
        let keys: Vec<&Key> = page.objects.iter().map(|(key, _)| key).collect();
        assert_eq!(
            keys,
            [
                &(Box::from("shop"), Box::from("web")),
                &(Box::from(""), Box::from("cluster-wide"))
            ],
            "an item without a name is not kept"
        );
        let web = &page.objects[0].1;
        assert_eq!(
            web.to_json(),
            serde_json::json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop", "annotations": {}},
                "spec": {"replicas": 2}
            })
        );
        // The emptied annotations stay, so `has()` says what it said.
        let expect = crate::probe::cel::compile(
            "has(object.metadata.annotations) && size(object.metadata.annotations) == 0 \
             && !has(object.metadata.managedFields)",
        )
        .expect("compiles");
        assert_eq!(
            crate::probe::cel::evaluate(&expect, &[("object", web.json())]),
            Ok(true)
        );
    }

    #[tokio::test]
    async fn an_older_version_keeps_what_was_written_in_it() {
        let page = read_page(PAGE, &follow(Some("apps/v1beta2"))).expect("a valid page");
        let names: Vec<&str> = page.objects.iter().filter_map(|(_, o)| o.name()).collect();
        assert_eq!(names, ["web", "cluster-wide"]);
        let stripped = Doc::from_value(&serde_json::json!({"name": "cluster-wide"}));
        assert_eq!(
            page.objects[1].1.json().get("metadata"),
            Some(stripped.root())
        );
        let page = read_page(PAGE, &follow(Some("apps/v1beta1"))).expect("a valid page");
        assert!(page.objects.is_empty());
    }

    #[tokio::test]
    async fn a_broken_page_is_an_error() {
        for text in [
            r#"{"items": [1, 2"#,
            r#"{"items": null}"#,
            r#"{"items": []} x"#,
        ] {
            assert!(read_page(text, &follow(None)).is_err(), "{text}");
        }
        let empty = read_page("{}", &follow(None)).expect("no items is no objects");
        assert!(empty.objects.is_empty() && empty.next.is_none());
    }
}
