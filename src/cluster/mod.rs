//! Where Kubernetes objects come from: a live cluster through kube-rs, or
//! snapshot files (rendered charts, `kubectl get -o yaml` dumps), read once
//! or, in the dashboard, followed as they change (`reload`). Probes see all
//! of them through `ObjectSource` and read each object as a compact JSON
//! document (`doc::Doc`).

pub mod live;
pub mod reload;
pub mod selector;
pub mod snapshot;
mod watch;

pub use watch::HEAD;

use std::sync::Arc;

use futures::future::BoxFuture;

use crate::checklist::model::ResourceType;
use crate::doc::{Doc, Edits, Json};

/// One Kubernetes object as probes read it. A snapshot or a live watch holds
/// each object once; every probe that selects it shares that copy.
pub type Object = Arc<Obj>;

/// An object's JSON, held compactly (`doc::Doc`), and what each expectation
/// said of it: a live object is replaced by a new `Obj` when it changes, so
/// a probe that runs again because one Pod of fifty thousand changed
/// evaluates that one Pod.
pub struct Obj {
    doc: Doc,
    /// Where a snapshot read it; `None` for an object from a live cluster.
    origin: Option<Origin>,
    /// For each expectation judged on this version of the object, its id
    /// shifted left once, with whether it held in the low bit (ids count
    /// compiled expressions, far below 2^31): 4 bytes each, as 40 Pod checks
    /// each remember one for every Pod.
    said: std::sync::Mutex<Vec<u32>>,
}

impl Obj {
    pub fn new(doc: Doc) -> Object {
        Obj::read_at(doc, None)
    }

    /// An object read from a file, with where it was read.
    pub fn read_at(doc: Doc, origin: Option<Origin>) -> Object {
        Arc::new(Obj {
            doc,
            origin,
            said: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The file and line it was read from, for a snapshot object.
    pub fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    /// The object's JSON, read in place.
    pub fn json(&self) -> Json<'_> {
        self.doc.root()
    }

    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The object as a `serde_json::Value`, built anew: for the rare reader
    /// that needs it whole.
    pub fn to_json(&self) -> serde_json::Value {
        self.doc.to_value()
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.meta("name")
    }

    /// `metadata.namespace`; `None` for a cluster-scoped object (or a
    /// manifest that leaves it to `kubectl apply -n`).
    pub fn namespace(&self) -> Option<&str> {
        self.meta("namespace")
    }

    /// `metadata.labels`, when it is a map.
    pub fn labels(&self) -> Option<Json<'_>> {
        self.json()
            .get("metadata")?
            .get("labels")
            .filter(|l| l.is_map())
    }

    fn meta(&self, key: &str) -> Option<&str> {
        self.json().get("metadata")?.get(key)?.as_str()
    }

    /// What the expectation `id` said of this object, if it was asked.
    pub fn recall(&self, id: u32) -> Option<bool> {
        let said = self.said.lock().unwrap_or_else(|e| e.into_inner());
        said.iter().find(|s| *s >> 1 == id).map(|s| s & 1 == 1)
    }

    pub fn remember(&self, id: u32, held: bool) {
        let mut said = self.said.lock().unwrap_or_else(|e| e.into_inner());
        if !said.iter().any(|s| *s >> 1 == id) {
            said.push(id << 1 | u32::from(held));
        }
    }
}

/// Two objects are equal when their JSON and where they were read are:
/// what was said of them is a cache, not part of them.
impl PartialEq for Obj {
    fn eq(&self, other: &Obj) -> bool {
        self.doc == other.doc && self.origin == other.origin
    }
}

/// Where a snapshot object was read: its file (as the snapshot was given
/// it) and the line its document starts on, so a report can point at the
/// manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Shared by every object of the file.
    pub file: Arc<std::path::Path>,
    /// 1-based: the first line of the object's document that is neither
    /// blank nor a comment, or a list item's own `-` line (the list's line
    /// when the text does not show its items plainly: flow style, JSON).
    /// `None` for a YAML stream with directives, read whole.
    pub line: Option<u32>,
}

impl std::fmt::Debug for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.doc.fmt(f)
    }
}

/// Ticks whenever the objects a query may select could have changed (an
/// event on its watch, the watch breaking or recovering). It stays at zero
/// until the first list is in or has failed.
pub type Changes = tokio::sync::watch::Receiver<u64>;

/// An object's place in a followed source: namespace (empty for
/// cluster-scoped) and name. Sorted this way, a namespace is a range.
pub type Key = (Box<str>, Box<str>);

/// Where a probe's tally stands in a followed source's stream of changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Moves when a fresh list replaced everything.
    epoch: u64,
    /// The number of the next change.
    seq: u64,
}

/// An object that came, went or changed, as a query sees it: `before` or
/// `after` is `None` where the query did not select the object.
#[derive(Clone)]
pub struct Change {
    pub key: Key,
    pub before: Option<Object>,
    pub after: Option<Object>,
}

/// What a query selects now, told as a probe that keeps a tally can use it.
pub enum Delta {
    /// Everything selected (as `list` gives it). `cursor`: where to ask
    /// from next time, for a source that follows the cluster.
    All {
        objects: Vec<Object>,
        cursor: Option<Cursor>,
    },
    /// What changed since the cursor asked about, oldest first, and the
    /// first objects selected now, in key order (at most `watch::HEAD`).
    Since {
        changes: Vec<Change>,
        head: Vec<Object>,
        cursor: Cursor,
    },
}

/// What to select: one resource type, optionally narrowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectQuery {
    pub resource: ResourceType,
    /// `None`: all namespaces (and cluster-scoped objects).
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// A Kubernetes label selector (`app=web,tier!=db,env in (a,b),!legacy`),
    /// parsed; empty selects everything.
    pub label_selector: selector::LabelSelector,
    /// A field selector (`metadata.name=x,status.phase!=Running`), parsed.
    pub field_selector: selector::FieldSelector,
}

impl ObjectQuery {
    /// What a kube probe selects.
    pub fn of(probe: &crate::checklist::model::KubeProbe) -> ObjectQuery {
        ObjectQuery {
            resource: probe.resource.clone(),
            namespace: probe.namespace.clone(),
            name: probe.name.clone(),
            label_selector: probe.selector.clone(),
            field_selector: probe.field_selector.clone(),
        }
    }
}

/// Why objects could not be listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// The cluster does not serve this resource type (the CRD is not
    /// installed). Probes report this as a `fail`: it is a finding.
    NotServed(String),
    /// The source could not answer: unreachable, forbidden, timeout, a bad
    /// selector. Probes report this as an `error`.
    Unavailable(String),
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SourceError::NotServed(m) | SourceError::Unavailable(m) => f.write_str(m),
        }
    }
}

/// A place to read Kubernetes objects from.
pub trait ObjectSource: Send + Sync {
    /// Shown in the header and the export: `snapshot rendered/prod.yaml` or
    /// `context prod`.
    fn describe(&self) -> String;

    /// Every object matching `query`, as JSON with `managedFields` removed.
    fn list<'a>(
        &'a self,
        query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>>;

    /// For a source that follows the cluster (or its files): starts
    /// following what `query` selects (if it is not followed already) and
    /// returns what ticks when that changes. `None`: the source does not
    /// change by itself (a snapshot read once), or cannot follow this type
    /// now (not served, unreachable), and its probes run on their own timer.
    fn changes<'a>(&'a self, _query: &'a ObjectQuery) -> BoxFuture<'a, Option<Changes>> {
        Box::pin(async { None })
    }

    /// While a followed source reads its objects for the first time: those
    /// `query` selects among the ones in after the first `from`, and how
    /// many are in now, so probes can judge them as they arrive. `None`
    /// when there is no such first read going on.
    fn arriving<'a>(
        &'a self,
        _query: &'a ObjectQuery,
        _from: usize,
    ) -> BoxFuture<'a, Option<(Vec<Object>, usize)>> {
        Box::pin(async { None })
    }

    /// Reads the source again now, for a source read from files that may
    /// have changed without a file event saying so (`R` in the dashboard;
    /// a network file system): what changed ticks `changes` as an event
    /// would. Done when the new read is in. Other sources have nothing to
    /// do.
    fn reload(&self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }

    /// What changed in `query`'s selection since `since` (a cursor an
    /// earlier answer gave), so a probe can update its tally instead of
    /// judging every object again. A source that does not follow changes
    /// answers with everything, as `list` does.
    fn read_since<'a>(
        &'a self,
        query: &'a ObjectQuery,
        _since: Option<Cursor>,
    ) -> BoxFuture<'a, Result<Delta, SourceError>> {
        Box::pin(async move {
            self.list(query).await.map(|objects| Delta::All {
                objects,
                cursor: None,
            })
        })
    }
}

/// A source with no objects, for environments that configure no cluster:
/// every kube probe errors with the reason and the ways to fix it.
pub struct NoCluster {
    label: &'static str,
    reason: std::borrow::Cow<'static, str>,
}

impl NoCluster {
    /// A configured environment that names neither a context nor a snapshot.
    pub const UNCONFIGURED: NoCluster = NoCluster {
        label: "no cluster",
        reason: std::borrow::Cow::Borrowed(
            "this environment has no kube_context or snapshot configured: \
             set one in gonogo.toml, or pass --context NAME or --snapshot DIR",
        ),
    };

    /// No config file and no usable kubeconfig: `why` says where it was
    /// looked for.
    pub fn no_kubeconfig(why: &str) -> NoCluster {
        NoCluster {
            label: "no kubeconfig",
            reason: format!(
                "no cluster: {why}. Either point kubectl at a cluster \
                 (or pass --context NAME), or check manifests on disk with --snapshot DIR"
            )
            .into(),
        }
    }
}

impl ObjectSource for NoCluster {
    fn describe(&self) -> String {
        self.label.into()
    }

    fn list<'a>(
        &'a self,
        _query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>> {
        Box::pin(async { Err(SourceError::Unavailable(self.reason.to_string())) })
    }
}

/// The annotation `kubectl apply` leaves: a second copy of the whole object
/// as it was last applied.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// What no probe reads and must not be held twice, left out of every
/// ingested object: `metadata.managedFields` and the last-applied annotation
/// (both restate the object; together often half its size). An emptied
/// annotations map stays: `has(object.metadata.annotations)` should not
/// change its answer.
pub const STRIPPED: &[&[&str]] = &[
    &["metadata", "managedFields"],
    &["metadata", "annotations", LAST_APPLIED],
];

/// The edits that make an object as probes see it.
pub const STRIP: Edits<'static> = Edits {
    drop: STRIPPED,
    set: &[],
    fill: &[],
};

/// A live cluster that could not be set up (bad kubeconfig, unknown
/// context): every kube probe errors with the reason.
pub struct Unreachable(pub String);

impl ObjectSource for Unreachable {
    fn describe(&self) -> String {
        format!("unreachable cluster ({})", self.0)
    }

    fn list<'a>(
        &'a self,
        _query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>> {
        Box::pin(async move { Err(SourceError::Unavailable(self.0.clone())) })
    }
}
