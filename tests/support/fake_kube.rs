//! A fake Kubernetes API server on 127.0.0.1 speaking the real wire protocol
//! (discovery, paginated lists, get, watch with bookmarks and 410 Gone,
//! create, replace, patch and delete, SelfSubjectReview, Status errors,
//! bearer tokens), so the real kube-rs client and kubectl can be tested
//! without a cluster.
//!
//! Objects live in one index per (group, kind), ordered by namespace and name
//! as etcd orders its keys, so a list page costs what it serves. Every write
//! takes the next global resourceVersion and goes into a bounded history that
//! watches resume from, as they do from a real server's watch cache.
//!
//! Here, in order: `FakeKube` (what tests drive), the store, selectors, the
//! wire format, routing and the handlers of each verb, views (objects or
//! server-printed Tables), watches, and the `/_fake/` control API; the
//! modules `tls`, `discovery`, `protobuf`, `printing` and `synthetic` hold
//! the parts that stand on their own.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

/// A resource type the fake serves.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

impl ResourceDef {
    fn group_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// How the fake paces what it serves.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// Most items in one list page, whatever `limit` asks for, so clients
    /// must follow `continue` tokens.
    pub page_size: usize,
    /// How often a watch that allows bookmarks gets one.
    pub bookmark_every: Duration,
    /// How many past events are kept for watches to resume from.
    pub history: usize,
    /// How long each list page takes to answer, as a loaded server's would.
    pub page_delay: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            page_size: 2,
            // A real server sends one about every minute.
            bookmark_every: Duration::from_secs(60),
            history: 10_000,
            page_delay: Duration::ZERO,
        }
    }
}

// Not every user of this module needs it.
#[allow(unused_imports)]
pub use protobuf::base64;

/// Ways a broken or hostile API server answers a read of objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehavior {
    /// 200 OK with JSON cut off in the middle.
    Garbled,
    /// 200 OK with a list body that never ends: items keep coming, 64 KiB
    /// every few milliseconds, and the closing bracket never does.
    Endless,
}

/// One request as the client sent it.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub method: String,
    pub path_and_query: String,
    pub watch: bool,
}

/// The identity a bearer token stands for.
#[derive(Clone, Debug)]
struct User {
    name: String,
    groups: Vec<String>,
}

struct FakeState {
    resources: Vec<ResourceDef>,
    options: FakeOptions,
    started: Instant,
    store: Mutex<Store>,
    users: Mutex<HashMap<String, User>>,
    forbidden: Mutex<HashSet<String>>,
    /// Per resource plural, the only verbs allowed on it (as a Role grants
    /// them); others answer 403.
    allowed: Mutex<HashMap<String, HashSet<String>>>,
    /// By object name: what runs when a create of that name arrives, before
    /// the fake looks at its store (another client's write landing first).
    before_create: Mutex<HashMap<String, Box<dyn FnOnce() + Send>>>,
    /// While set, every request answers a Status with this code.
    failing: Mutex<Option<u16>>,
    /// While set, reads of objects misbehave this way.
    misbehaving: Mutex<Option<Misbehavior>>,
    /// Every request to the Kubernetes paths, for asserting what the client
    /// asked.
    requests: Mutex<Vec<Request>>,
}

/// Locks one piece of the fake's state; a panic while it was held already
/// failed the test, so a poisoned lock is taken over as is.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FakeState {
    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    fn def(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceDef> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    fn serves_namespaces(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.group.is_empty() && r.kind == "Namespace")
    }

    fn authenticate(&self, headers: &HeaderMap) -> Option<User> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = value.strip_prefix("Bearer ")?;
        lock(&self.users).get(token).cloned()
    }
}

pub struct FakeKube {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
    /// The server and the task that accepts its connections.
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        // Open watch streams run in their own tasks; without their senders
        // they end.
        self.state.store().watches.clear();
    }
}

impl FakeKube {
    /// Starts serving `objects` (full objects with apiVersion and kind) of
    /// the `resources` types; requests must carry `Bearer <token>`.
    pub async fn start(resources: Vec<ResourceDef>, objects: Vec<Value>, token: &str) -> FakeKube {
        FakeKube::start_with(resources, objects, token, FakeOptions::default()).await
    }

    pub async fn start_with(
        resources: Vec<ResourceDef>,
        objects: Vec<Value>,
        token: &str,
        options: FakeOptions,
    ) -> FakeKube {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        FakeKube::start_at(addr, resources, objects, token, options)
            .await
            .expect("a free port on 127.0.0.1")
    }

    /// As `start_with`, on a chosen address.
    pub async fn start_at(
        addr: SocketAddr,
        resources: Vec<ResourceDef>,
        objects: Vec<Value>,
        token: &str,
        options: FakeOptions,
    ) -> std::io::Result<FakeKube> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let mut store = Store::new(options.history);
        for object in objects {
            store.put(object);
        }
        let reviewer = User {
            name: "system:serviceaccount:gonogo:reviewer".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:gonogo".into(),
                "system:authenticated".into(),
            ],
        };
        let state = Arc::new(FakeState {
            resources,
            options,
            started: Instant::now(),
            store: Mutex::new(store),
            users: Mutex::new(HashMap::from([(token.to_string(), reviewer)])),
            forbidden: Mutex::new(HashSet::new()),
            allowed: Mutex::new(HashMap::new()),
            before_create: Mutex::new(HashMap::new()),
            failing: Mutex::new(None),
            misbehaving: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let (listener, acceptor) = tls::EitherListener::start(listener, addr)?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeKube {
            addr,
            state,
            tasks: [server, acceptor],
        })
    }

    /// The server over plain HTTP, which kube-rs speaks with a token.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The same server over TLS, with a certificate made at start; kubectl
    /// sends credentials only over TLS.
    pub fn tls_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Makes every request for `plural` answer 403, as RBAC would.
    pub fn forbid(&self, plural: &str) {
        lock(&self.state.forbidden).insert(plural.to_string());
    }

    /// From now on only `verbs` (`get`, `list`, `watch`, `create`, `update`,
    /// `patch`, `delete`) are allowed on `plural`, as a Role granting just
    /// those would; any other answers 403.
    pub fn allow_only(&self, plural: &str, verbs: &[&str]) {
        let verbs = verbs.iter().map(|v| v.to_string()).collect();
        lock(&self.state.allowed).insert(plural.to_string(), verbs);
    }

    /// When a create of an object named `name` next arrives, runs `first`
    /// (on a thread that may block, say on another client's request to
    /// this fake) before serving it: how a test makes another writer win a
    /// race at an exact moment.
    pub fn before_create(&self, name: &str, first: impl FnOnce() + Send + 'static) {
        lock(&self.state.before_create).insert(name.to_string(), Box::new(first));
    }

    /// Accepts `token` as `username` in `groups`.
    pub fn add_user(&self, token: &str, username: &str, groups: &[&str]) {
        let user = User {
            name: username.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        };
        lock(&self.state.users).insert(token.to_string(), user);
    }

    /// Creates or replaces `object` (keyed by group, kind, namespace and
    /// name), as a controller writing to the cluster would; open watches see
    /// it. Returns its new resourceVersion.
    pub fn apply(&self, object: Value) -> u64 {
        assert!(
            object["metadata"]["name"]
                .as_str()
                .is_some_and(|n| !n.is_empty()),
            "apply() takes an object with metadata.name: {object}"
        );
        self.state.store().put(object).1
    }

    /// Removes an object; open watches see it deleted. Returns whether it
    /// existed.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> bool {
        let type_key = (group_of(api_version).to_string(), kind.to_string());
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        self.state.store().remove(&type_key, &key).is_some()
    }

    /// The stored object, as a get would see it.
    pub fn object(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let type_key = (group_of(api_version).to_string(), kind.to_string());
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        let store = self.state.store();
        store.get(&type_key, &key).map(|o| Value::clone(o))
    }

    /// Forgets all event history, as etcd compaction does: every
    /// resourceVersion and continue token handed out before is too old from
    /// now on, and open watches end with 410 Gone. The resourceVersion moves
    /// on by one, as a real cluster's own background writes would move it.
    pub fn compact(&self) {
        self.state.store().compact();
    }

    /// Ends every open watch cleanly, as a watch timeout or an apiserver
    /// restart would; clients must watch again.
    pub fn close_watches(&self) {
        self.state.store().watches.clear();
    }

    /// While `Some(how)`, reads of objects (lists, gets, watches) go wrong
    /// that way; discovery still answers. `None` serves normally again.
    pub fn misbehave(&self, how: Option<Misbehavior>) {
        *lock(&self.state.misbehaving) = how;
        if how.is_some() {
            self.close_watches();
        }
    }

    /// While `Some(code)`, every request answers a Status with that code and
    /// open watches end; `None` serves normally again.
    pub fn fail_with(&self, code: Option<u16>) {
        *lock(&self.state.failing) = code;
        if code.is_some() {
            self.close_watches();
        }
    }

    /// Changes a served object so that readiness checks change their
    /// outcome: flips its `bench/touch` label and takes away (or gives back)
    /// the first container's resource limits. Returns its new
    /// resourceVersion, or `None` when there is no such object.
    pub fn touch(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<u64> {
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        self.state.store().touch(kind, &key)
    }

    /// The current global resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.state.store().rv
    }

    pub fn request_log(&self) -> Vec<Request> {
        lock(&self.state.requests).clone()
    }

    /// Every request as `path?query`.
    pub fn requests(&self) -> Vec<String> {
        lock(&self.state.requests)
            .iter()
            .map(|r| r.path_and_query.clone())
            .collect()
    }

    /// How many lists of a collection were asked for (pages count one each).
    pub fn lists(&self) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.method == "GET" && !r.watch && is_collection(&r.path_and_query))
            .count()
    }

    /// How many watches were asked for.
    pub fn watches(&self) -> usize {
        lock(&self.state.requests)
            .iter()
            .filter(|r| r.watch)
            .count()
    }
}

/// A kubeconfig (as JSON, which is YAML) with one context per
/// `(context, server, token)`; the first is the current one. An `https://`
/// server is trusted without checking its certificate, which the fake makes
/// up at start.
pub fn kubeconfig(contexts: &[(&str, &str, &str)]) -> String {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut entries = Vec::new();
    for (name, server, token) in contexts {
        let mut cluster = json!({"server": server});
        if server.starts_with("https://") {
            cluster["insecure-skip-tls-verify"] = json!(true);
        }
        clusters.push(json!({"name": format!("{name}-cluster"), "cluster": cluster}));
        users.push(json!({"name": format!("{name}-user"), "user": {"token": token}}));
        entries.push(json!({
            "name": name,
            "context": {"cluster": format!("{name}-cluster"), "user": format!("{name}-user")}
        }));
    }
    json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": entries,
        "current-context": contexts.first().map(|c| c.0),
    })
    .to_string()
}

/// Writes a kubeconfig with one context per `(context, server, token)`.
pub fn write_kubeconfig(dir: &Path, contexts: &[(&str, &str, &str)]) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kubeconfig(contexts)).expect("temp dir is writable");
    path
}

// ---------------------------------------------------------------------------

mod tls {
    //! Plain HTTP and TLS on one port: kube-rs sends its token over either,
    //! kubectl only over TLS, as client-go never sends credentials in clear.

    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    /// A connection as accepted: TLS when its first byte opens a handshake.
    pub(super) enum Connection {
        Plain(tokio::net::TcpStream),
        Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
    }

    impl tokio::io::AsyncRead for Connection {
        fn poll_read(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            match self.get_mut() {
                Connection::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
                Connection::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
            }
        }
    }

    impl tokio::io::AsyncWrite for Connection {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            match self.get_mut() {
                Connection::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
                Connection::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
            }
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            match self.get_mut() {
                Connection::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
                Connection::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
            }
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            match self.get_mut() {
                Connection::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
                Connection::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
            }
        }
    }

    /// Hands axum the connections of one TCP listener, plain or TLS; a task
    /// accepts them and does the handshakes, so that a slow client delays only
    /// itself.
    pub(super) struct EitherListener {
        ready: mpsc::Receiver<(Connection, SocketAddr)>,
        addr: SocketAddr,
    }

    impl EitherListener {
        pub(super) fn start(
            listener: tokio::net::TcpListener,
            addr: SocketAddr,
        ) -> std::io::Result<(EitherListener, tokio::task::JoinHandle<()>)> {
            let tls = tokio_rustls::TlsAcceptor::from(server_tls()?);
            let (sender, ready) = mpsc::channel(64);
            let acceptor = tokio::spawn(async move {
                loop {
                    let Ok((stream, peer)) = listener.accept().await else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let tls = tls.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        let mut first = [0u8; 1];
                        let connection = match stream.peek(&mut first).await {
                            // 0x16 opens a TLS handshake record.
                            Ok(1) if first[0] == 0x16 => match tls.accept(stream).await {
                                Ok(stream) => Connection::Tls(Box::new(stream)),
                                Err(_) => return,
                            },
                            Ok(_) => Connection::Plain(stream),
                            Err(_) => return,
                        };
                        let _ = sender.send((connection, peer)).await;
                    });
                }
            });
            Ok((EitherListener { ready, addr }, acceptor))
        }
    }

    impl axum::serve::Listener for EitherListener {
        type Io = Connection;
        type Addr = SocketAddr;

        async fn accept(&mut self) -> (Connection, SocketAddr) {
            match self.ready.recv().await {
                Some(connection) => connection,
                // The acceptor is gone only when the fake is: wait to be aborted.
                None => std::future::pending().await,
            }
        }

        fn local_addr(&self) -> std::io::Result<SocketAddr> {
            Ok(self.addr)
        }
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, offering HTTP/2
    /// as a real API server does.
    fn server_tls() -> std::io::Result<Arc<rustls::ServerConfig>> {
        let broken = |e: String| std::io::Error::other(format!("cannot set up TLS: {e}"));
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .map_err(|e| broken(e.to_string()))?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
            rustls::pki_types::PrivatePkcs8KeyDer::from(made.signing_key.serialize_der()),
        );
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| broken(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![made.cert.der().clone()], key)
            .map_err(|e| broken(e.to_string()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

// ---------------------------------------------------------------------------
// The store: objects, their history, and the watches that follow them.

/// (group, kind)
type TypeKey = (String, String);
/// (namespace, name); the namespace is empty for cluster-scoped objects.
type ObjectKey = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    fn wire(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write, as kept in the history.
struct Change {
    rv: u64,
    type_key: TypeKey,
    event: EventType,
    /// The object as written; for a deletion, its last state with the
    /// deletion's resourceVersion.
    object: Arc<Value>,
    previous: Option<Arc<Value>>,
}

#[derive(Clone)]
struct WatchEvent {
    event: EventType,
    object: Arc<Value>,
}

/// A watch asked to resume from before the history kept.
#[derive(Clone, Copy, Debug)]
struct TooOld {
    requested: u64,
    oldest: u64,
}

enum Delivery {
    Event(WatchEvent),
    /// The watch can no longer be served from the history.
    Expired(TooOld),
}

struct OpenWatch {
    id: u64,
    filter: Filter,
    /// The resourceVersion the stream started from.
    started: u64,
    events: mpsc::UnboundedSender<Delivery>,
}

/// Where a new watch starts.
#[derive(Clone, Copy, Debug)]
enum WatchStart {
    /// Every current object as ADDED, then what changes.
    Now,
    /// What changed after this resourceVersion.
    After(u64),
}

struct OpenedWatch {
    id: u64,
    started: u64,
    backlog: Vec<WatchEvent>,
    events: mpsc::UnboundedReceiver<Delivery>,
}

struct Store {
    rv: u64,
    objects: HashMap<TypeKey, BTreeMap<ObjectKey, Arc<Value>>>,
    history: VecDeque<Change>,
    history_limit: usize,
    /// Watches may resume from this resourceVersion or a later one: every
    /// event after it is still kept.
    oldest: u64,
    /// Lists older than this cannot be continued.
    compacted: u64,
    watches: Vec<OpenWatch>,
    next_watch: u64,
    uids: u64,
}

impl Store {
    fn new(history_limit: usize) -> Store {
        Store {
            rv: 0,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_limit,
            oldest: 0,
            compacted: 0,
            watches: Vec::new(),
            next_watch: 0,
            uids: 0,
        }
    }

    fn get(&self, type_key: &TypeKey, key: &ObjectKey) -> Option<&Arc<Value>> {
        self.objects.get(type_key)?.get(key)
    }

    fn find_by_kind(&self, kind: &str, key: &ObjectKey) -> Option<Arc<Value>> {
        self.objects
            .iter()
            .filter(|((_, k), _)| k == kind)
            .find_map(|(_, objects)| objects.get(key).cloned())
    }

    /// See `FakeKube::touch`.
    fn touch(&mut self, kind: &str, key: &ObjectKey) -> Option<u64> {
        let current = self.find_by_kind(kind, key)?;
        let mut object = (*current).clone();
        let label = &mut object["metadata"]["labels"]["bench/touch"];
        *label = json!(if label == "a" { "b" } else { "a" });
        let pointer = if kind == "Pod" {
            "/spec/containers/0/resources"
        } else {
            "/spec/template/spec/containers/0/resources"
        };
        if let Some(resources) = object.pointer_mut(pointer).and_then(Value::as_object_mut)
            && resources.remove("limits").is_none()
        {
            resources.insert("limits".into(), json!({"cpu": "500m", "memory": "512Mi"}));
        }
        Some(self.put(object).1)
    }

    /// Creates or replaces an object, keeping the uid and creation time of
    /// the one it replaces; returns it as stored with its resourceVersion.
    fn put(&mut self, mut object: Value) -> (Arc<Value>, u64) {
        let type_key = type_key_of(&object);
        let key = object_key_of(&object);
        let previous = self.get(&type_key, &key).cloned();
        self.rv += 1;
        let rv = self.rv;
        let metadata = object["metadata"]
            .as_object_mut()
            .expect("stored objects have metadata");
        match &previous {
            Some(old) => {
                for field in ["uid", "creationTimestamp"] {
                    match old["metadata"].get(field) {
                        Some(value) => metadata.insert(field.into(), value.clone()),
                        None => metadata.remove(field),
                    };
                }
            }
            None => {
                // Fixtures may bring their own, to stay deterministic.
                self.uids += 1;
                metadata
                    .entry("uid")
                    .or_insert_with(|| json!(uid(self.uids)));
                metadata
                    .entry("creationTimestamp")
                    .or_insert_with(|| json!(now()));
            }
        }
        metadata.insert("resourceVersion".into(), json!(rv.to_string()));
        let object = Arc::new(object);
        self.objects
            .entry(type_key.clone())
            .or_default()
            .insert(key, Arc::clone(&object));
        let event = match previous {
            Some(_) => EventType::Modified,
            None => EventType::Added,
        };
        self.record(Change {
            rv,
            type_key,
            event,
            object: Arc::clone(&object),
            previous,
        });
        (object, rv)
    }

    fn remove(&mut self, type_key: &TypeKey, key: &ObjectKey) -> Option<Arc<Value>> {
        let old = self.objects.get_mut(type_key)?.remove(key)?;
        self.rv += 1;
        let mut last = (*old).clone();
        last["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        let last = Arc::new(last);
        self.record(Change {
            rv: self.rv,
            type_key: type_key.clone(),
            event: EventType::Deleted,
            object: Arc::clone(&last),
            previous: Some(old),
        });
        Some(last)
    }

    /// Keeps a change for watches to resume from, and hands it to the open
    /// ones it concerns, in resourceVersion order.
    fn record(&mut self, change: Change) {
        self.watches
            .retain(|watch| match watch.filter.event_for(&change) {
                Some(event) => watch.events.send(Delivery::Event(event)).is_ok(),
                None => !watch.events.is_closed(),
            });
        self.history.push_back(change);
        while self.history.len() > self.history_limit {
            if let Some(forgotten) = self.history.pop_front() {
                self.oldest = forgotten.rv;
            }
        }
    }

    fn compact(&mut self) {
        self.rv += 1;
        self.history.clear();
        self.oldest = self.rv;
        self.compacted = self.rv;
        let oldest = self.oldest;
        self.watches.retain(|watch| {
            if watch.started < oldest {
                let expired = TooOld {
                    requested: watch.started,
                    oldest,
                };
                let _ = watch.events.send(Delivery::Expired(expired));
                false
            } else {
                true
            }
        });
    }

    fn open_watch(&mut self, filter: Filter, start: WatchStart) -> Result<OpenedWatch, TooOld> {
        let (started, backlog) = match start {
            WatchStart::Now => {
                let backlog = self
                    .objects
                    .get(&filter.type_key)
                    .into_iter()
                    .flat_map(|objects| objects.values())
                    .filter(|object| filter.matches(object))
                    .map(|object| WatchEvent {
                        event: EventType::Added,
                        object: Arc::clone(object),
                    })
                    .collect();
                (self.rv, backlog)
            }
            WatchStart::After(rv) if rv < self.oldest => {
                return Err(TooOld {
                    requested: rv,
                    oldest: self.oldest,
                });
            }
            WatchStart::After(rv) => {
                let first = self.history.partition_point(|c| c.rv <= rv);
                let backlog = self
                    .history
                    .range(first..)
                    .filter_map(|change| filter.event_for(change))
                    .collect();
                (rv, backlog)
            }
        };
        let (sender, events) = mpsc::unbounded_channel();
        self.next_watch += 1;
        let id = self.next_watch;
        self.watches.push(OpenWatch {
            id,
            filter,
            started,
            events: sender,
        });
        Ok(OpenedWatch {
            id,
            started,
            backlog,
            events,
        })
    }

    fn forget_watch(&mut self, id: u64) {
        self.watches.retain(|w| w.id != id);
    }
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
}

fn type_key_of(object: &Value) -> TypeKey {
    let api_version = object["apiVersion"].as_str().unwrap_or("");
    let kind = object["kind"].as_str().unwrap_or("");
    (group_of(api_version).to_string(), kind.to_string())
}

fn object_key_of(object: &Value) -> ObjectKey {
    let metadata = &object["metadata"];
    (
        metadata["namespace"].as_str().unwrap_or("").to_string(),
        metadata["name"].as_str().unwrap_or("").to_string(),
    )
}

/// A uid shaped like the UUIDs a real server hands out.
fn uid(n: u64) -> String {
    let h = mix(n);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 12) & 0xfff,
        n
    )
}

/// splitmix64: spreads counters over 64 bits, deterministically.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

// ---------------------------------------------------------------------------
// Selecting objects: namespace, label and field selectors.

/// One requirement of a label selector.
#[derive(Clone, Debug)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

impl Requirement {
    fn matches(&self, labels: &Value) -> bool {
        let label = |key: &str| labels[key].as_str();
        match self {
            Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::NotIn(k, vs) => !label(k).is_some_and(|l| vs.iter().any(|v| v == l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::NotExists(k) => label(k).is_none(),
        }
    }
}

/// `a=b,c!=d,e in (f,g),h,!i`; `None` when it does not parse.
fn parse_label_selector(selector: &str) -> Option<Vec<Requirement>> {
    split_terms(selector)
        .into_iter()
        .map(|term| {
            let term = term.trim();
            if let Some((key, values)) = term.split_once(" notin ") {
                return Some(Requirement::NotIn(key.trim().into(), set_values(values)?));
            }
            if let Some((key, values)) = term.split_once(" in ") {
                return Some(Requirement::In(key.trim().into(), set_values(values)?));
            }
            if let Some((k, v)) = term.split_once("!=") {
                return Some(Requirement::NotEquals(k.trim().into(), v.trim().into()));
            }
            if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                return Some(Requirement::Equals(k.trim().into(), v.trim().into()));
            }
            if let Some(key) = term.strip_prefix('!') {
                return valid_key(key).then(|| Requirement::NotExists(key.into()));
            }
            valid_key(term).then(|| Requirement::Exists(term.into()))
        })
        .collect()
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

/// Splits at the commas that are not inside `( )`.
fn split_terms(selector: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in selector.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(&selector[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(&selector[start..]);
    terms
}

fn set_values(values: &str) -> Option<Vec<String>> {
    let inner = values.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_string()).collect())
}

/// A field selector term on `metadata.name` or `metadata.namespace`.
#[derive(Clone, Debug)]
struct FieldTerm {
    /// Where the field is, as a JSON pointer.
    pointer: &'static str,
    equal: bool,
    value: String,
}

/// The fields a real server selects on for a kind, beside the name and
/// namespace every kind has.
fn selectable_fields(kind: &str) -> &'static [(&'static str, &'static str)] {
    match kind {
        "Pod" => &[
            ("spec.nodeName", "/spec/nodeName"),
            ("spec.restartPolicy", "/spec/restartPolicy"),
            ("spec.schedulerName", "/spec/schedulerName"),
            ("spec.serviceAccountName", "/spec/serviceAccountName"),
            ("status.phase", "/status/phase"),
            ("status.podIP", "/status/podIP"),
            ("status.nominatedNodeName", "/status/nominatedNodeName"),
        ],
        "Secret" => &[("type", "/type")],
        "Namespace" => &[("status.phase", "/status/phase")],
        "ReplicaSet" => &[("status.replicas", "/status/replicas")],
        _ => &[],
    }
}

fn parse_field_selector(kind: &str, selector: &str) -> Result<Vec<FieldTerm>, String> {
    selector
        .split(',')
        .map(|term| {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(format!("invalid field selector: {selector}"));
            };
            let pointer = match field.trim() {
                "metadata.name" => "/metadata/name",
                "metadata.namespace" => "/metadata/namespace",
                other => selectable_fields(kind)
                    .iter()
                    .find(|(name, _)| *name == other)
                    .map(|(_, pointer)| *pointer)
                    .ok_or_else(|| format!("field label not supported: {other}"))?,
            };
            Ok(FieldTerm {
                pointer,
                equal,
                value: value.trim().to_string(),
            })
        })
        .collect()
}

/// A field as a selector compares it: absent is empty, numbers as written.
fn field_text(object: &Value, pointer: &str) -> String {
    match object.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Which objects a list or a watch is about.
#[derive(Clone, Debug)]
struct Filter {
    type_key: TypeKey,
    namespace: Option<String>,
    labels: Vec<Requirement>,
    fields: Vec<FieldTerm>,
}

impl Filter {
    fn matches(&self, object: &Value) -> bool {
        let metadata = &object["metadata"];
        self.namespace
            .as_deref()
            .is_none_or(|ns| metadata["namespace"].as_str().unwrap_or("") == ns)
            && self.labels.iter().all(|r| r.matches(&metadata["labels"]))
            && self
                .fields
                .iter()
                .all(|t| (field_text(object, t.pointer) == t.value) == t.equal)
    }

    fn selects_by_content(&self) -> bool {
        !self.labels.is_empty() || !self.fields.is_empty()
    }

    /// What a watch with this filter sees of a change: an object that comes
    /// into the selection is ADDED, one that leaves it DELETED, as the watch
    /// cache of a real server reports them.
    fn event_for(&self, change: &Change) -> Option<WatchEvent> {
        if change.type_key != self.type_key {
            return None;
        }
        let now = self.matches(&change.object);
        let before = change.previous.as_ref().is_some_and(|p| self.matches(p));
        let event = match (change.event, before, now) {
            (EventType::Added, _, true) => EventType::Added,
            (EventType::Deleted, _, true) => EventType::Deleted,
            (EventType::Modified, true, true) => EventType::Modified,
            (EventType::Modified, false, true) => EventType::Added,
            (EventType::Modified, true, false) => EventType::Deleted,
            _ => return None,
        };
        Some(WatchEvent {
            event,
            object: Arc::clone(&change.object),
        })
    }
}

// ---------------------------------------------------------------------------
// The wire: Status errors and objects as the server writes them.

/// An object as the server writes it: with the apiVersion and kind asked
/// for, or (as list items) without any.
struct Served<'a> {
    object: &'a Value,
    type_meta: Option<(&'a str, &'a str)>,
}

impl Serialize for Served<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(fields) = self.object.as_object() else {
            return self.object.serialize(serializer);
        };
        let mut map = serializer.serialize_map(None)?;
        if let Some((api_version, kind)) = self.type_meta {
            map.serialize_entry("apiVersion", api_version)?;
            map.serialize_entry("kind", kind)?;
        }
        for (key, value) in fields {
            if key != "apiVersion" && key != "kind" {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    resource_version: String,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continue_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_item_count: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a> {
    kind: String,
    api_version: String,
    metadata: ListMeta,
    items: Vec<Served<'a>>,
}

#[derive(Serialize)]
struct EventLine<'a, T: Serialize> {
    #[serde(rename = "type")]
    event: &'a str,
    object: T,
}

fn json_response(code: StatusCode, body: Vec<u8>) -> Response {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a status and a content type make a valid response")
}

fn ok(body: Value) -> Response {
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

fn served(code: StatusCode, object: &Value, def: &ResourceDef) -> Response {
    let gv = def.group_version();
    let body = Served {
        object,
        type_meta: Some((&gv, def.kind)),
    };
    json_response(
        code,
        serde_json::to_vec(&body).expect("JSON values serialize"),
    )
}

/// The body of a `Status`, the shape every API server error has.
fn status_body(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(details) = details {
        body["details"] = details;
    }
    body
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    failure(code, status_body(code.as_u16(), reason, message, None))
}

fn failure(code: StatusCode, body: Value) -> Response {
    json_response(code, body.to_string().into_bytes())
}

fn not_found() -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

fn bad_request(message: &str) -> Response {
    status(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// A read of objects answered the broken way `how` says.
fn misbehaving(how: Misbehavior) -> Response {
    let body = match how {
        Misbehavior::Garbled => Body::from(
            r#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[{"metadata":{"name":"#,
        ),
        Misbehavior::Endless => {
            let head = futures::stream::once(async {
                Ok::<_, Infallible>(Bytes::from_static(
                    br#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":["#,
                ))
            });
            let item =
                Bytes::from(r#"{"metadata":{"name":"again","namespace":"shop"}},"#.repeat(1200));
            let rest = futures::stream::unfold(item, |item| async move {
                tokio::time::sleep(Duration::from_millis(4)).await;
                Some((Ok::<_, Infallible>(item.clone()), item))
            });
            Body::from_stream(futures::StreamExt::chain(head, rest))
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body)
        .expect("a valid response")
}

/// What a server that is failing says, by code.
fn failing(code: u16) -> Response {
    let (reason, message) = match code {
        400 => (
            "BadRequest",
            "the server rejected our request for an unknown reason",
        ),
        401 => ("Unauthorized", "Unauthorized"),
        403 => ("Forbidden", "forbidden"),
        404 => (
            "NotFound",
            "the server could not find the requested resource",
        ),
        409 => ("Conflict", "the server reported a conflict"),
        410 => ("Expired", "the resource has expired"),
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        500 => (
            "InternalError",
            "Internal error occurred: the fake API server was told to fail",
        ),
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        504 => (
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        _ => ("", "the server failed"),
    };
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    status(code, reason, message)
}

fn expired_status(too_old: TooOld) -> Value {
    let TooOld { requested, oldest } = too_old;
    status_body(
        410,
        "Expired",
        &format!("too old resource version: {requested} ({oldest})"),
        None,
    )
}

/// A continue token: the resourceVersion of the list and the last key
/// served, hex-encoded so that clients treat it as opaque.
fn continue_token(rv: u64, last: &ObjectKey) -> String {
    let plain = format!("{rv}\n{}\n{}", last.0, last.1);
    plain.bytes().map(|b| format!("{b:02x}")).collect()
}

fn parse_continue(token: &str) -> Option<(u64, ObjectKey)> {
    if !token.len().is_multiple_of(2) {
        return None;
    }
    let bytes = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(token.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    let plain = String::from_utf8(bytes).ok()?;
    let mut parts = plain.splitn(3, '\n');
    let rv = parts.next()?.parse().ok()?;
    let namespace = parts.next()?.to_string();
    let name = parts.next()?.to_string();
    Some((rv, (namespace, name)))
}

// ---------------------------------------------------------------------------
// Routing.

/// `?watch=true` or `?watch=1`.
fn is_watch(query: &HashMap<String, String>) -> bool {
    query.get("watch").is_some_and(|w| w == "true" || w == "1")
}

/// Where under a group version a request goes.
struct Target<'a> {
    namespace: Option<&'a str>,
    plural: &'a str,
    name: Option<&'a str>,
}

impl<'a> Target<'a> {
    fn parse(rest: &[&'a str]) -> Option<Target<'a>> {
        let (namespace, plural, name) = match rest {
            [plural] => (None, *plural, None),
            ["namespaces", ns, plural] => (Some(*ns), *plural, None),
            ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
            [plural, name] => (None, *plural, Some(*name)),
            _ => return None,
        };
        Some(Target {
            namespace,
            plural,
            name,
        })
    }
}

/// Whether a `path?query` names a collection of objects.
fn is_collection(path_and_query: &str) -> bool {
    let path = path_and_query.split('?').next().unwrap_or("");
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let rest = match segments.as_slice() {
        ["api", _, rest @ ..] => rest,
        ["apis", _, _, rest @ ..] => rest,
        _ => return false,
    };
    Target::parse(rest).is_some_and(|t| t.name.is_none())
}

async fn handle(
    State(state): State<Arc<FakeState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = Query::<HashMap<String, String>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    if let Some(action) = uri.path().strip_prefix("/_fake/") {
        return control(&state, &method, action, &query);
    }
    let watch = is_watch(&query);
    lock(&state.requests).push(Request {
        at: Instant::now(),
        method: method.to_string(),
        path_and_query: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
        watch,
    });
    if let Some(code) = *lock(&state.failing) {
        return failing(code);
    }
    if !watch && method == Method::GET && query.contains_key("limit") {
        tokio::time::sleep(state.options.page_delay).await;
    }
    let Some(user) = state.authenticate(&headers) else {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    };
    let path = uri.path().trim_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    let object_read = method == Method::GET
        && matches!(
            segments.as_slice(),
            ["api", _, _, ..] | ["apis", _, _, _, ..]
        );
    if object_read && let Some(how) = *lock(&state.misbehaving) {
        return misbehaving(how);
    }
    let request = ObjectRequest {
        state: &state,
        user: &user,
        method: &method,
        query: &query,
        headers: &headers,
        body: &body,
        watch,
    };
    match (&method, segments.as_slice()) {
        (&Method::GET, ["version"]) => ok(discovery::version()),
        (&Method::GET, ["api"]) => ok(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
        })),
        (&Method::GET, ["apis"]) => ok(discovery::group_list(&state)),
        (&Method::GET, ["api", version]) => discovery::resource_list(&state, "", version),
        (&Method::GET, ["apis", group, version]) => {
            discovery::resource_list(&state, group, version)
        }
        (&Method::POST, ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => {
            discovery::self_subject_review(&user)
        }
        (&Method::GET, ["openapi", "v3"]) => ok(discovery::openapi_index(&state)),
        (&Method::GET, ["openapi", "v3", "api", version]) => {
            discovery::openapi_document(&state, "", version)
        }
        (&Method::GET, ["openapi", "v3", "apis", group, version]) => {
            discovery::openapi_document(&state, group, version)
        }
        (_, ["api", version, rest @ ..]) => request.serve("", version, rest),
        (_, ["apis", group, version, rest @ ..]) => request.serve(group, version, rest),
        _ => not_found(),
    }
}

// ---------------------------------------------------------------------------

mod discovery {
    //! Discovery as a real server answers it: the versions, the groups and the
    //! resources of each group version, the OpenAPI v3 that kubectl reads, and
    //! the SelfSubjectReview behind `kubectl auth whoami`.

    use serde_json::{Map, Value, json};

    use super::{FakeState, ResourceDef, Response, StatusCode, User, json_response, not_found, ok};

    pub(super) fn version() -> Value {
        json!({
            "major": "1", "minor": "37", "gitVersion": "v1.37.0",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-08-01T00:00:00Z", "goVersion": "go1.25.0",
            "compiler": "gc", "platform": "linux/amd64"
        })
    }

    /// The API groups every server has, whatever the test serves.
    const AUTHENTICATION: &str = "authentication.k8s.io";

    /// Every group with its versions in the order the resources list them; the
    /// first is the preferred one, as a real server's APIGroupList says.
    pub(super) fn group_list(state: &FakeState) -> Value {
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for r in state.resources.iter().filter(|r| !r.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == r.group) {
                Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
                Some(_) => {}
                None => groups.push((r.group, vec![r.version])),
            }
        }
        if !groups.iter().any(|(g, _)| *g == AUTHENTICATION) {
            groups.push((AUTHENTICATION, vec!["v1"]));
        }
        let groups: Vec<Value> = groups
            .into_iter()
            .map(|(group, versions)| {
                let versions: Vec<Value> = versions
                    .iter()
                    .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
                    .collect();
                json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
            })
            .collect();
        json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
    }

    /// Short names and categories of the built-in types, as discovery lists
    /// them; kubectl resolves `po` and `all` through these.
    fn short_names(plural: &str) -> (&'static [&'static str], &'static [&'static str]) {
        const ALL: &[&str] = &["all"];
        match plural {
            "pods" => (&["po"], ALL),
            "services" => (&["svc"], ALL),
            "deployments" => (&["deploy"], ALL),
            "replicasets" => (&["rs"], ALL),
            "statefulsets" => (&["sts"], ALL),
            "daemonsets" => (&["ds"], ALL),
            "configmaps" => (&["cm"], &[]),
            "namespaces" => (&["ns"], &[]),
            "serviceaccounts" => (&["sa"], &[]),
            "horizontalpodautoscalers" => (&["hpa"], ALL),
            "ingresses" => (&["ing"], &[]),
            "persistentvolumeclaims" => (&["pvc"], &[]),
            _ => (&[], &[]),
        }
    }

    pub(super) fn resource_list(state: &FakeState, group: &str, version: &str) -> Response {
        if group == AUTHENTICATION && version == "v1" {
            return ok(json!({
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": "authentication.k8s.io/v1",
                "resources": [{
                    "name": "selfsubjectreviews", "singularName": "selfsubjectreview",
                    "namespaced": false, "kind": "SelfSubjectReview", "verbs": ["create"]
                }, {
                    "name": "tokenreviews", "singularName": "tokenreview",
                    "namespaced": false, "kind": "TokenReview", "verbs": ["create"]
                }],
            }));
        }
        let served: Vec<&ResourceDef> = state
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        if served.is_empty() {
            return not_found();
        }
        let verbs = json!([
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch"
        ]);
        let mut resources = Vec::new();
        for r in &served {
            let (short, categories) = short_names(r.plural);
            let mut resource = json!({
                "name": r.plural,
                "singularName": r.kind.to_lowercase(),
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": verbs,
            });
            if !short.is_empty() {
                resource["shortNames"] = json!(short);
            }
            if !categories.is_empty() {
                resource["categories"] = json!(categories);
            }
            resources.push(resource);
            // Real servers list subresources too; clients must skip them.
            resources.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
        let group_version = served[0].group_version();
        ok(json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": resources,
        }))
    }

    /// The OpenAPI v3 index: one document per group version served.
    pub(super) fn openapi_index(state: &FakeState) -> Value {
        let mut paths = Map::new();
        for r in &state.resources {
            let path = match r.group {
                "" => format!("api/{}", r.version),
                group => format!("apis/{group}/{}", r.version),
            };
            let url = format!("/openapi/v3/{path}?hash=0000000000000000");
            paths.insert(path, json!({"serverRelativeURL": url}));
        }
        json!({"paths": paths})
    }

    /// An OpenAPI v3 document for a group version, with just what kubectl reads
    /// from it: that PATCH of each kind takes `fieldValidation`, so that the
    /// server validates what `apply`, `create -f` and `replace -f` send. It has
    /// no schemas, so kubectl computes patches of built-in types from its own.
    pub(super) fn openapi_document(state: &FakeState, group: &str, version: &str) -> Response {
        let served: Vec<&ResourceDef> = state
            .resources
            .iter()
            .filter(|r| r.group == group && r.version == version)
            .collect();
        if served.is_empty() {
            return not_found();
        }
        let field_validation = json!({
            "name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true},
            "description": "How the server treats fields it does not know or that repeat: Ignore, Warn or Strict."
        });
        let mut paths = Map::new();
        for r in served {
            let prefix = match r.group {
                "" => format!("/api/{version}"),
                group => format!("/apis/{group}/{version}"),
            };
            let path = if r.namespaced {
                format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
            } else {
                format!("{prefix}/{}/{{name}}", r.plural)
            };
            let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
            let operation = |action: &str| {
                json!({
                    "operationId": format!("{action}{}", r.kind),
                    "parameters": [field_validation],
                    "responses": {"200": {"description": "OK"}},
                    "x-kubernetes-action": action,
                    "x-kubernetes-group-version-kind": gvk,
                })
            };
            paths.insert(
                path,
                json!({"patch": operation("patch"), "put": operation("put")}),
            );
        }
        ok(json!({
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.37.0"},
            "paths": paths,
            "components": {"schemas": {}},
        }))
    }

    pub(super) fn self_subject_review(user: &User) -> Response {
        let body = json!({
            "kind": "SelfSubjectReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user.name, "groups": user.groups}},
        });
        json_response(StatusCode::CREATED, body.to_string().into_bytes())
    }
}

/// What a request does to the objects it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
}

impl Verb {
    fn of(method: &Method, named: bool, watch: bool) -> Option<Verb> {
        Some(match (method, named) {
            (&Method::GET, true) => Verb::Get,
            (&Method::GET, false) if watch => Verb::Watch,
            (&Method::GET, false) => Verb::List,
            (&Method::POST, false) => Verb::Create,
            (&Method::PUT, true) => Verb::Update,
            (&Method::PATCH, true) => Verb::Patch,
            (&Method::DELETE, true) => Verb::Delete,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::List => "list",
            Verb::Watch => "watch",
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Patch => "patch",
            Verb::Delete => "delete",
        }
    }
}

/// One request for objects, with all it carries.
struct ObjectRequest<'a> {
    state: &'a Arc<FakeState>,
    user: &'a User,
    method: &'a Method,
    query: &'a HashMap<String, String>,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    watch: bool,
}

impl ObjectRequest<'_> {
    fn serve(&self, group: &str, version: &str, rest: &[&str]) -> Response {
        let Some(target) = Target::parse(rest) else {
            return not_found();
        };
        let Some(def) = self.state.def(group, version, target.plural) else {
            return not_found();
        };
        // A cluster-scoped type has no namespaced paths, and a namespaced
        // object is only named within its namespace.
        let misplaced = matches!(
            (def.namespaced, target.namespace, target.name),
            (false, Some(_), _) | (true, None, Some(_))
        );
        if misplaced {
            return not_found();
        }
        let Some(verb) = Verb::of(self.method, target.name.is_some(), self.watch) else {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            );
        };
        let granted = lock(&self.state.allowed)
            .get(def.plural)
            .is_none_or(|verbs| verbs.contains(verb.name()));
        if !granted || lock(&self.state.forbidden).contains(def.plural) {
            return self.forbidden(def, verb, target.namespace);
        }
        let filter = match self.filter(def, target.namespace) {
            Ok(filter) => filter,
            Err(message) => return bad_request(&message),
        };
        let view = View::new(def, self.headers, self.query);
        match (verb, target.name) {
            (Verb::List, _) => list(self.state, &view, &filter, self.query),
            (Verb::Watch, _) => watch(self.state, view, filter, self.query),
            (Verb::Get, Some(name)) => get(self.state, &view, target.namespace, name),
            (Verb::Create, _) => self.create(def, target.namespace),
            (Verb::Update, Some(name)) => self.replace(def, target.namespace, name),
            (Verb::Patch, Some(name)) => self.patch(def, target.namespace, name),
            (Verb::Delete, Some(name)) => delete(self.state, def, target.namespace, name),
            _ => not_found(),
        }
    }

    fn forbidden(&self, def: &ResourceDef, verb: Verb, namespace: Option<&str>) -> Response {
        let scope = namespace.map_or(" at the cluster scope".to_string(), |ns| {
            format!(" in the namespace \"{ns}\"")
        });
        let message = format!(
            "{plural} is forbidden: User \"{user}\" cannot {verb} resource \"{plural}\" in API \
             group \"{group}\"{scope}",
            plural = def.plural,
            user = self.user.name,
            verb = verb.name(),
            group = def.group,
        );
        let details = json!({"kind": def.plural});
        failure(
            StatusCode::FORBIDDEN,
            status_body(403, "Forbidden", &message, Some(details)),
        )
    }

    /// The selection the request asks for, or why it is a bad request.
    fn filter(&self, def: &ResourceDef, namespace: Option<&str>) -> Result<Filter, String> {
        let labels = match self.query.get("labelSelector").filter(|s| !s.is_empty()) {
            Some(selector) => parse_label_selector(selector)
                .ok_or_else(|| format!("unable to parse requirement: {selector}"))?,
            None => Vec::new(),
        };
        let fields = match self.query.get("fieldSelector").filter(|s| !s.is_empty()) {
            Some(selector) => parse_field_selector(def.kind, selector)?,
            None => Vec::new(),
        };
        Ok(Filter {
            type_key: (def.group.to_string(), def.kind.to_string()),
            namespace: namespace.map(str::to_string),
            labels,
            fields,
        })
    }

    /// The request body as an object of the type, in the namespace of the
    /// path, or why it is a bad request.
    fn body_object(&self, def: &ResourceDef, namespace: Option<&str>) -> Result<Value, Refusal> {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .unwrap_or("application/json");
        let mut object: Value = if content_type.starts_with(PROTOBUF) {
            // kubectl's typed clients (create configmap, secret, namespace)
            // send protobuf, which a real server reads for built-in types.
            protobuf::object(self.body).ok_or_else(|| {
                Refusal::UnsupportedMediaType(format!(
                    "the fake API server reads protobuf only for {}",
                    protobuf::KINDS.join(", ")
                ))
            })?
        } else {
            serde_json::from_slice(self.body).map_err(|e| {
                Refusal::BadRequest(format!(
                    "the body of the request was in an unknown format: {e}"
                ))
            })?
        };
        if !object.is_object() {
            return Err(Refusal::BadRequest(
                "the body of the request is not an object".into(),
            ));
        }
        if object["kind"].as_str().is_some_and(|k| k != def.kind) {
            return Err(Refusal::BadRequest(format!(
                "the kind of the object ({}) does not match the kind of the URL ({})",
                object["kind"], def.kind
            )));
        }
        object["apiVersion"] = json!(def.group_version());
        object["kind"] = json!(def.kind);
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        match (namespace, object["metadata"]["namespace"].as_str()) {
            (Some(path), Some(body)) if path != body => {
                return Err(Refusal::BadRequest(
                    "the namespace of the provided object does not match the namespace sent on \
                     the request"
                        .into(),
                ));
            }
            (Some(path), _) => object["metadata"]["namespace"] = json!(path),
            (None, _) => {
                if let Some(metadata) = object["metadata"].as_object_mut() {
                    metadata.remove("namespace");
                }
            }
        }
        Ok(object)
    }

    fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|d| d == "All")
    }

    fn missing_namespace(&self, namespace: Option<&str>) -> Option<Response> {
        let namespace = namespace?;
        if !self.state.serves_namespaces() {
            return None;
        }
        let key = (String::new(), namespace.to_string());
        let type_key = (String::new(), "Namespace".to_string());
        if self.state.store().get(&type_key, &key).is_some() {
            return None;
        }
        Some(not_found_named("namespaces", namespace))
    }

    fn create(&self, def: &ResourceDef, namespace: Option<&str>) -> Response {
        if def.namespaced && namespace.is_none() {
            return not_found();
        }
        let mut object = match self.body_object(def, namespace) {
            Ok(object) => object,
            Err(refusal) => return refusal.response(),
        };
        if let Some(response) = self.missing_namespace(namespace) {
            return response;
        }
        let planned = object["metadata"]["name"]
            .as_str()
            .and_then(|name| lock(&self.state.before_create).remove(name));
        if let Some(first) = planned {
            tokio::task::block_in_place(first);
        }
        if let Some(metadata) = object["metadata"].as_object_mut() {
            for field in ["uid", "resourceVersion", "creationTimestamp"] {
                metadata.remove(field);
            }
        }
        let mut store = self.state.store();
        let name = match object["metadata"]["name"]
            .as_str()
            .filter(|n| !n.is_empty())
        {
            Some(name) => name.to_string(),
            None => match object["metadata"]["generateName"].as_str() {
                Some(prefix) if !prefix.is_empty() => {
                    store.uids += 1;
                    format!("{prefix}{}", suffix(store.uids, 5))
                }
                _ => {
                    return invalid(
                        def,
                        "",
                        &[(
                            "metadata.name",
                            "Required value: name or generateName is required",
                        )],
                    );
                }
            },
        };
        object["metadata"]["name"] = json!(name);
        let key = (namespace.unwrap_or("").to_string(), name.clone());
        let type_key = (def.group.to_string(), def.kind.to_string());
        if store.get(&type_key, &key).is_some() {
            let message = format!("{} \"{name}\" already exists", def.plural);
            let details = json!({"name": name, "kind": def.plural});
            return failure(
                StatusCode::CONFLICT,
                status_body(409, "AlreadyExists", &message, Some(details)),
            );
        }
        if self.dry_run() {
            return served(StatusCode::CREATED, &object, def);
        }
        let (stored, _) = store.put(object);
        drop(store);
        served(StatusCode::CREATED, &stored, def)
    }

    fn replace(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> Response {
        let object = match self.body_object(def, namespace) {
            Ok(object) => object,
            Err(refusal) => return refusal.response(),
        };
        if object["metadata"]["name"].as_str() != Some(name) {
            return bad_request(&format!(
                "the name of the object ({}) does not match the name on the URL ({name})",
                object["metadata"]["name"].as_str().unwrap_or("")
            ));
        }
        let mut store = self.state.store();
        self.write_over(&mut store, def, namespace, name, object)
    }

    /// Replaces a stored object by `object`, as an update does: checks the
    /// resourceVersion the client read and the fields that may not change.
    fn write_over(
        &self,
        store: &mut Store,
        def: &ResourceDef,
        namespace: Option<&str>,
        name: &str,
        object: Value,
    ) -> Response {
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        let type_key = (def.group.to_string(), def.kind.to_string());
        let Some(current) = store.get(&type_key, &key).cloned() else {
            return not_found_named(def.plural, name);
        };
        if let Some(read) = object["metadata"]["resourceVersion"]
            .as_str()
            .filter(|rv| !rv.is_empty())
            && current["metadata"]["resourceVersion"].as_str() != Some(read)
        {
            let message = format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                def.plural
            );
            let details = json!({"name": name, "kind": def.plural});
            return failure(
                StatusCode::CONFLICT,
                status_body(409, "Conflict", &message, Some(details)),
            );
        }
        let frozen = immutable_changes(def, &current, &object);
        if !frozen.is_empty() {
            let causes: Vec<(&str, &str)> = frozen
                .iter()
                .map(|field| {
                    (
                        *field,
                        "Forbidden: field is immutable when `immutable` is set",
                    )
                })
                .collect();
            return invalid(def, name, &causes);
        }
        if self.dry_run() {
            return served(StatusCode::OK, &object, def);
        }
        let (stored, _) = store.put(object);
        served(StatusCode::OK, &stored, def)
    }

    /// A JSON merge patch (RFC 7386); a strategic merge patch is served as
    /// one, which is what it is for everything but lists.
    ///
    /// Server-side apply (`application/apply-patch+yaml`) is served as a
    /// merge patch that creates a missing object: fields a manager stops
    /// applying stay, and there are no conflicts between managers.
    fn patch(&self, def: &ResourceDef, namespace: Option<&str>, name: &str) -> Response {
        let content_type = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|c| c.to_str().ok())
            .unwrap_or("");
        let apply = content_type.starts_with("application/apply-patch+yaml");
        if !apply
            && !content_type.starts_with("application/merge-patch+json")
            && !content_type.starts_with("application/strategic-merge-patch+json")
        {
            return status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                &format!("the fake API server does not take {content_type} patches"),
            );
        }
        if apply && self.query.get("fieldManager").is_none_or(|m| m.is_empty()) {
            return bad_request("fieldManager is required for apply requests");
        }
        let parsed = serde_json::from_slice::<Value>(self.body).or_else(|e| {
            // An apply patch may be YAML.
            let text = std::str::from_utf8(self.body).map_err(|_| e.to_string())?;
            serde_saphyr::from_str::<Value>(text).map_err(|e| e.to_string())
        });
        let patch = match parsed {
            Ok(patch) if patch.is_object() && !has_bad_metadata(&patch) => patch,
            Ok(_) => return bad_request("the patch is not an object with object metadata"),
            Err(e) => return bad_request(&format!("the patch does not parse: {e}")),
        };
        let mut store = self.state.store();
        let key = (namespace.unwrap_or("").to_string(), name.to_string());
        let type_key = (def.group.to_string(), def.kind.to_string());
        let Some(current) = store.get(&type_key, &key) else {
            if !apply {
                return not_found_named(def.plural, name);
            }
            drop(store);
            if let Some(response) = self.missing_namespace(namespace) {
                return response;
            }
            let mut object = patch;
            object["apiVersion"] = json!(def.group_version());
            object["kind"] = json!(def.kind);
            object["metadata"]["name"] = json!(name);
            if let Some(namespace) = namespace {
                object["metadata"]["namespace"] = json!(namespace);
            }
            let mut store = self.state.store();
            if self.dry_run() {
                return served(StatusCode::CREATED, &object, def);
            }
            let (stored, _) = store.put(object);
            return served(StatusCode::CREATED, &stored, def);
        };
        let mut object = (**current).clone();
        merge_patch(&mut object, &patch);
        object["metadata"]["name"] = json!(name);
        self.write_over(&mut store, def, namespace, name, object)
    }
}

/// Why a request body cannot be taken.
enum Refusal {
    BadRequest(String),
    UnsupportedMediaType(String),
}

impl Refusal {
    fn response(self) -> Response {
        match self {
            Refusal::BadRequest(message) => bad_request(&message),
            Refusal::UnsupportedMediaType(message) => status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UnsupportedMediaType",
                &message,
            ),
        }
    }
}

const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// Reading the protobuf that kubectl's typed clients send: the `k8s\0`
/// envelope (a `runtime.Unknown` holding the type and the raw message) and
/// the messages of the few types it creates that way, as JSON.
mod protobuf {
    use serde_json::{Map, Value, json};

    /// How a field is written on the wire and shown in JSON.
    #[derive(Clone, Copy)]
    enum Shape {
        Text,
        Flag,
        Number,
        Texts,
        TextMap,
        /// Bytes, base64 in JSON.
        BytesMap,
        Message(&'static [Field]),
    }

    /// (field number, JSON name, shape)
    type Field = (u64, &'static str, Shape);

    const OBJECT_META: &[Field] = &[
        (1, "name", Shape::Text),
        (2, "generateName", Shape::Text),
        (3, "namespace", Shape::Text),
        (5, "uid", Shape::Text),
        (6, "resourceVersion", Shape::Text),
        (7, "generation", Shape::Number),
        (11, "labels", Shape::TextMap),
        (12, "annotations", Shape::TextMap),
        (14, "finalizers", Shape::Texts),
    ];
    const CONFIG_MAP: &[Field] = &[
        (1, "metadata", Shape::Message(OBJECT_META)),
        (2, "data", Shape::TextMap),
        (3, "binaryData", Shape::BytesMap),
        (4, "immutable", Shape::Flag),
    ];
    const SECRET: &[Field] = &[
        (1, "metadata", Shape::Message(OBJECT_META)),
        (2, "data", Shape::BytesMap),
        (3, "type", Shape::Text),
        (4, "stringData", Shape::TextMap),
        (5, "immutable", Shape::Flag),
    ];
    const NAMESPACE: &[Field] = &[
        (1, "metadata", Shape::Message(OBJECT_META)),
        (
            2,
            "spec",
            Shape::Message(&[(1, "finalizers", Shape::Texts)]),
        ),
    ];

    pub const KINDS: &[&str] = &["ConfigMap", "Secret", "Namespace"];

    /// The object in a protobuf body, or `None` when it is not one of
    /// `KINDS` in a well-formed envelope.
    pub fn object(body: &[u8]) -> Option<Value> {
        let envelope = fields(body.strip_prefix(b"k8s\0")?)?;
        let mut api_version = String::new();
        let mut kind = String::new();
        let mut raw: &[u8] = &[];
        for (number, value) in envelope {
            match (number, value) {
                (1, Raw::Bytes(type_meta)) => {
                    for (n, v) in fields(type_meta)? {
                        match (n, v) {
                            (1, Raw::Bytes(b)) => api_version = text(b)?,
                            (2, Raw::Bytes(b)) => kind = text(b)?,
                            _ => {}
                        }
                    }
                }
                (2, Raw::Bytes(bytes)) => raw = bytes,
                _ => {}
            }
        }
        let schema = match kind.as_str() {
            "ConfigMap" => CONFIG_MAP,
            "Secret" => SECRET,
            "Namespace" => NAMESPACE,
            _ => return None,
        };
        let mut object = message(raw, schema)?;
        object.insert("apiVersion".into(), json!(api_version));
        object.insert("kind".into(), json!(kind));
        Some(Value::Object(object))
    }

    /// A field's value as read off the wire.
    enum Raw<'a> {
        Varint(u64),
        Bytes(&'a [u8]),
        Fixed,
    }

    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn fields(mut bytes: &[u8]) -> Option<Vec<(u64, Raw<'_>)>> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let tag = varint(&mut bytes)?;
            let value = match tag & 7 {
                0 => Raw::Varint(varint(&mut bytes)?),
                1 => {
                    bytes = bytes.get(8..)?;
                    Raw::Fixed
                }
                2 => {
                    let len = usize::try_from(varint(&mut bytes)?).ok()?;
                    let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
                    bytes = rest;
                    Raw::Bytes(value)
                }
                5 => {
                    bytes = bytes.get(4..)?;
                    Raw::Fixed
                }
                _ => return None,
            };
            out.push((tag >> 3, value));
        }
        Some(out)
    }

    fn text(bytes: &[u8]) -> Option<String> {
        String::from_utf8(bytes.to_vec()).ok()
    }

    /// A map entry: key 1, value 2.
    fn entry(bytes: &[u8]) -> Option<(String, &[u8])> {
        let mut key = String::new();
        let mut value: &[u8] = &[];
        for (n, v) in fields(bytes)? {
            match (n, v) {
                (1, Raw::Bytes(b)) => key = text(b)?,
                (2, Raw::Bytes(b)) => value = b,
                _ => {}
            }
        }
        Some((key, value))
    }

    fn message(bytes: &[u8], schema: &[Field]) -> Option<Map<String, Value>> {
        let mut object = Map::new();
        for (number, value) in fields(bytes)? {
            let Some((_, name, shape)) = schema.iter().find(|(n, _, _)| *n == number) else {
                continue;
            };
            let name = name.to_string();
            match (shape, value) {
                // Go writes every string and number; JSON leaves out the
                // empty ones.
                (Shape::Text, Raw::Bytes([])) | (Shape::Number, Raw::Varint(0)) => {}
                (Shape::Text, Raw::Bytes(b)) => {
                    object.insert(name, json!(text(b)?));
                }
                (Shape::Flag, Raw::Varint(v)) => {
                    object.insert(name, json!(v != 0));
                }
                (Shape::Number, Raw::Varint(v)) => {
                    object.insert(name, json!(v));
                }
                (Shape::Texts, Raw::Bytes(b)) => {
                    let list = object.entry(name).or_insert_with(|| json!([]));
                    list.as_array_mut()?.push(json!(text(b)?));
                }
                (Shape::TextMap | Shape::BytesMap, Raw::Bytes(b)) => {
                    let (key, value) = entry(b)?;
                    let value = match shape {
                        Shape::BytesMap => base64(value),
                        _ => text(value)?,
                    };
                    let map = object.entry(name).or_insert_with(|| json!({}));
                    map.as_object_mut()?.insert(key, json!(value));
                }
                (Shape::Message(inner), Raw::Bytes(b)) => {
                    object.insert(name, Value::Object(message(b, inner)?));
                }
                _ => return None,
            }
        }
        Some(object)
    }

    /// Standard base64 with padding, as a Secret's `data` holds values.
    pub fn base64(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let n = chunk
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// Whether `metadata` is there and not an object (which a patch could set).
fn has_bad_metadata(object: &Value) -> bool {
    object
        .get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
}

fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(fields) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Some(map) = target.as_object_mut() else {
        return;
    };
    for (key, value) in fields {
        if value.is_null() {
            map.remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// The fields of an immutable ConfigMap or Secret that an update changes,
/// in the order the real validation reports them.
fn immutable_changes(def: &ResourceDef, current: &Value, update: &Value) -> Vec<&'static str> {
    if !def.group.is_empty() || !matches!(def.kind, "ConfigMap" | "Secret") {
        return Vec::new();
    }
    if current["immutable"] != json!(true) {
        return Vec::new();
    }
    ["immutable", "data", "binaryData"]
        .into_iter()
        .filter(|field| current[*field] != update[*field])
        .collect()
}

/// 422 Invalid listing each field's cause, as a real server words it.
fn invalid(def: &ResourceDef, name: &str, causes: &[(&str, &str)]) -> Response {
    let each: Vec<String> = causes
        .iter()
        .map(|(field, why)| format!("{field}: {why}"))
        .collect();
    let listed = match each.as_slice() {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let message = format!("{} \"{name}\" is invalid: {listed}", def.kind);
    let causes: Vec<Value> = causes
        .iter()
        .map(|(field, why)| {
            let reason = if why.starts_with("Forbidden") {
                "FieldValueForbidden"
            } else {
                "FieldValueRequired"
            };
            json!({"reason": reason, "message": why, "field": field})
        })
        .collect();
    let details = json!({"name": name, "group": def.group, "kind": def.kind, "causes": causes});
    failure(
        StatusCode::UNPROCESSABLE_ENTITY,
        status_body(422, "Invalid", &message, Some(details)),
    )
}

fn not_found_named(plural: &str, name: &str) -> Response {
    let message = format!("{plural} \"{name}\" not found");
    let details = json!({"name": name, "kind": plural});
    failure(
        StatusCode::NOT_FOUND,
        status_body(404, "NotFound", &message, Some(details)),
    )
}

/// A suffix as generateName makes: consonants and digits that spell no word.
fn suffix(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut h = mix(seed);
    (0..len)
        .map(|_| {
            let c = ALPHABET[(h % ALPHABET.len() as u64) as usize];
            h /= ALPHABET.len() as u64;
            c as char
        })
        .collect()
}

fn get(state: &FakeState, view: &View, namespace: Option<&str>, name: &str) -> Response {
    let def = &view.def;
    let key = (namespace.unwrap_or("").to_string(), name.to_string());
    let type_key = (def.group.to_string(), def.kind.to_string());
    let object = state.store().get(&type_key, &key).cloned();
    match object {
        Some(object) => view.one(&object),
        None => not_found_named(def.plural, name),
    }
}

fn delete(state: &FakeState, def: &ResourceDef, namespace: Option<&str>, name: &str) -> Response {
    let key = (namespace.unwrap_or("").to_string(), name.to_string());
    let type_key = (def.group.to_string(), def.kind.to_string());
    let Some(gone) = state.store().remove(&type_key, &key) else {
        return not_found_named(def.plural, name);
    };
    ok(json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "kind": def.plural, "uid": gone["metadata"]["uid"]},
    }))
}

/// One page of a list, in key order from where the continue token left off.
fn list(
    state: &FakeState,
    view: &View,
    filter: &Filter,
    query: &HashMap<String, String>,
) -> Response {
    let page_size = state.options.page_size.max(1);
    let limit = query
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(page_size)
        .min(page_size);
    let resume = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => match parse_continue(token) {
            Some(resume) => Some(resume),
            None => return bad_request("continue key is not valid: incorrect encoding"),
        },
        None => None,
    };
    let store = state.store();
    if let Some((rv, _)) = &resume
        && *rv < store.compacted
    {
        return failure(
            StatusCode::GONE,
            status_body(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list \
                 result. You can start a new list without the continue parameter.",
                None,
            ),
        );
    }
    let list_rv = resume.as_ref().map_or(store.rv, |(rv, _)| *rv);
    let empty = BTreeMap::new();
    let objects = store.objects.get(&filter.type_key).unwrap_or(&empty);
    let after = resume.map(|(_, key)| key);
    let candidates = in_namespace(objects, filter.namespace.as_deref(), after.as_ref());
    let mut page: Vec<Arc<Value>> = Vec::with_capacity(limit.min(1024));
    let mut more = false;
    for (_, object) in candidates.filter(|(_, o)| filter.matches(o)) {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(Arc::clone(object));
    }
    let (continue_token, remaining) = match (more, page.last()) {
        (true, Some(last)) => {
            let last_key = object_key_of(last);
            // A real server counts what is left only when it need not look
            // inside the objects.
            let remaining = (!filter.selects_by_content()).then(|| {
                in_namespace(objects, filter.namespace.as_deref(), Some(&last_key)).count()
            });
            (Some(continue_token(list_rv, &last_key)), remaining)
        }
        _ => (None, None),
    };
    drop(store);
    let metadata = ListMeta {
        resource_version: list_rv.to_string(),
        continue_token,
        remaining_item_count: remaining,
    };
    view.list(&page, metadata)
}

/// The objects after `after` (all of them without it), within `namespace`
/// when there is one, in key order.
fn in_namespace<'a>(
    objects: &'a BTreeMap<ObjectKey, Arc<Value>>,
    namespace: Option<&'a str>,
    after: Option<&ObjectKey>,
) -> impl Iterator<Item = (&'a ObjectKey, &'a Arc<Value>)> + 'a {
    let start = match (after, namespace) {
        (Some(key), _) => Bound::Excluded(key.clone()),
        (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
        (None, None) => Bound::Unbounded,
    };
    objects
        .range((start, Bound::Unbounded))
        .take_while(move |((ns, _), _)| namespace.is_none_or(|want| ns == want))
}

// ---------------------------------------------------------------------------
// Views: objects as they are, or the Tables of server-side printing.

/// What a Table row carries besides its cells (`?includeObject=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RowObject {
    Nothing,
    Metadata,
    Whole,
}

/// How a request wants objects shown: as themselves, or (kubectl's human
/// output asks with `Accept: application/json;as=Table;...`) as the rows of
/// a Table the server prints.
struct View {
    def: ResourceDef,
    group_version: String,
    table: Option<RowObject>,
}

const TABLE_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

impl View {
    fn new(def: &ResourceDef, headers: &HeaderMap, query: &HashMap<String, String>) -> View {
        let wants_table = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|a| a.to_str().ok())
            .any(|a| a.contains("as=Table"));
        let row_object = match query.get("includeObject").map(String::as_str) {
            Some("None") => RowObject::Nothing,
            Some("Object") => RowObject::Whole,
            _ => RowObject::Metadata,
        };
        View {
            def: def.clone(),
            group_version: def.group_version(),
            table: wants_table.then_some(row_object),
        }
    }

    fn type_meta(&self) -> Option<(&str, &str)> {
        Some((self.group_version.as_str(), self.def.kind))
    }

    fn respond(&self, body: Vec<u8>) -> Response {
        let content_type = match self.table {
            Some(_) => TABLE_CONTENT_TYPE,
            None => "application/json",
        };
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("a status and a content type make a valid response")
    }

    fn one(&self, object: &Value) -> Response {
        match self.table {
            Some(row_object) => self.respond(
                self.table_of(&[object], row_object, None)
                    .to_string()
                    .into_bytes(),
            ),
            None => served(StatusCode::OK, object, &self.def),
        }
    }

    fn list(&self, page: &[Arc<Value>], metadata: ListMeta) -> Response {
        let body = match self.table {
            Some(row_object) => {
                let objects: Vec<&Value> = page.iter().map(|o| o.as_ref()).collect();
                self.table_of(&objects, row_object, Some(metadata))
                    .to_string()
                    .into_bytes()
            }
            None => {
                let body = ListBody {
                    kind: format!("{}List", self.def.kind),
                    api_version: self.group_version.clone(),
                    metadata,
                    items: page
                        .iter()
                        .map(|object| Served {
                            object,
                            type_meta: None,
                        })
                        .collect(),
                };
                serde_json::to_vec(&body).expect("JSON values serialize")
            }
        };
        self.respond(body)
    }

    fn event(&self, out: &mut Vec<u8>, event: &WatchEvent) {
        match self.table {
            Some(row_object) => {
                let table = self.table_of(&[&event.object], row_object, None);
                event_line(out, event.event.wire(), &table, None);
            }
            None => event_line(out, event.event.wire(), &event.object, self.type_meta()),
        }
    }

    fn table_of(
        &self,
        objects: &[&Value],
        row_object: RowObject,
        metadata: Option<ListMeta>,
    ) -> Value {
        let now = jiff::Timestamp::now();
        let columns: Vec<Value> = printing::columns(self.def.kind)
            .iter()
            .map(|(name, kind, priority, description)| {
                let format = if *name == "Name" { "name" } else { "" };
                json!({"name": name, "type": kind, "format": format, "description": description, "priority": priority})
            })
            .collect();
        let rows: Vec<Value> = objects
            .iter()
            .map(|object| {
                let mut row = json!({"cells": printing::cells(self.def.kind, object, now)});
                match row_object {
                    RowObject::Nothing => {}
                    RowObject::Metadata => {
                        row["object"] = json!({
                            "kind": "PartialObjectMetadata",
                            "apiVersion": "meta.k8s.io/v1",
                            "metadata": object["metadata"],
                        });
                    }
                    RowObject::Whole => {
                        let whole = Served {
                            object,
                            type_meta: self.type_meta(),
                        };
                        row["object"] =
                            serde_json::to_value(&whole).expect("JSON values serialize");
                    }
                }
                row
            })
            .collect();
        let metadata = match metadata {
            Some(metadata) => serde_json::to_value(&metadata).expect("JSON values serialize"),
            None => {
                json!({"resourceVersion": objects.last().map_or(json!(""), |o| o["metadata"]["resourceVersion"].clone())})
            }
        };
        json!({
            "kind": "Table",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": metadata,
            "columnDefinitions": columns,
            "rows": rows,
        })
    }
}

// ---------------------------------------------------------------------------

mod printing {
    //! Server-side printing: the columns and cells of the Tables a real server
    //! answers when kubectl asks for them, for the kinds it knows.

    use serde_json::{Value, json};

    /// (name, type, priority, description): priority 1 shows only with `-o wide`.
    pub(super) type Column = (&'static str, &'static str, u8, &'static str);

    const NAME: Column = (
        "Name",
        "string",
        0,
        "Name must be unique within a namespace.",
    );
    const AGE: Column = (
        "Age",
        "string",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );

    /// The columns a real server prints for a kind.
    pub(super) fn columns(kind: &str) -> Vec<Column> {
        let wide = |name| (name, "string", 1u8, "");
        match kind {
            "Pod" => vec![
                NAME,
                (
                    "Ready",
                    "string",
                    0,
                    "The aggregate readiness state of this pod for accepting traffic.",
                ),
                (
                    "Status",
                    "string",
                    0,
                    "The aggregate status of the containers in this pod.",
                ),
                (
                    "Restarts",
                    "string",
                    0,
                    "The number of times the containers in this pod have been restarted.",
                ),
                AGE,
                wide("IP"),
                wide("Node"),
                wide("Nominated Node"),
                wide("Readiness Gates"),
            ],
            "Deployment" => vec![
                NAME,
                ("Ready", "string", 0, "Number of the pod with ready state"),
                (
                    "Up-to-date",
                    "integer",
                    0,
                    "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                ),
                (
                    "Available",
                    "integer",
                    0,
                    "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                ),
                AGE,
                wide("Containers"),
                wide("Images"),
                wide("Selector"),
            ],
            "ReplicaSet" => vec![
                NAME,
                (
                    "Desired",
                    "integer",
                    0,
                    "Replicas is the number of desired replicas.",
                ),
                (
                    "Current",
                    "integer",
                    0,
                    "Replicas is the most recently observed number of replicas.",
                ),
                (
                    "Ready",
                    "integer",
                    0,
                    "The number of ready replicas for this replica set.",
                ),
                AGE,
                wide("Containers"),
                wide("Images"),
                wide("Selector"),
            ],
            "Service" => vec![
                NAME,
                (
                    "Type",
                    "string",
                    0,
                    "type determines how the Service is exposed.",
                ),
                (
                    "Cluster-IP",
                    "string",
                    0,
                    "clusterIP is the IP address of the service.",
                ),
                (
                    "External-IP",
                    "string",
                    0,
                    "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
                ),
                (
                    "Port(s)",
                    "string",
                    0,
                    "The list of ports that are exposed by this service.",
                ),
                AGE,
                wide("Selector"),
            ],
            "ConfigMap" => vec![
                NAME,
                ("Data", "integer", 0, "Number of keys in the ConfigMap"),
                AGE,
            ],
            "Secret" => vec![
                NAME,
                ("Type", "string", 0, "The type of secret"),
                ("Data", "integer", 0, "Number of items in the secret"),
                AGE,
            ],
            "Namespace" => vec![
                NAME,
                ("Status", "string", 0, "The status of the namespace"),
                AGE,
            ],
            _ => vec![NAME, AGE],
        }
    }

    /// The cells of an object's row, in the order of `columns`.
    pub(super) fn cells(kind: &str, object: &Value, now: jiff::Timestamp) -> Vec<Value> {
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let count = |v: &Value| v.as_u64().unwrap_or(0);
        let or_none = |s: String| {
            if s.is_empty() {
                "<none>".to_string()
            } else {
                s
            }
        };
        let name = json!(text(&object["metadata"]["name"]));
        let age = json!(age(&object["metadata"]["creationTimestamp"], now));
        let spec = &object["spec"];
        let status = &object["status"];
        let data = |object: &Value| {
            ["data", "binaryData"]
                .iter()
                .map(|f| object[*f].as_object().map_or(0, |m| m.len()))
                .sum::<usize>()
        };
        match kind {
            "Pod" => {
                let containers = spec["containers"].as_array().map_or(0, Vec::len);
                let statuses = status["containerStatuses"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let ready = statuses
                    .iter()
                    .filter(|c| c["ready"] == json!(true))
                    .count();
                let restarts: u64 = statuses.iter().map(|c| count(&c["restartCount"])).sum();
                let waiting = statuses.iter().find_map(|c| {
                    c["state"]["waiting"]["reason"]
                        .as_str()
                        .or(c["state"]["terminated"]["reason"].as_str())
                });
                let phase = if object["metadata"]["deletionTimestamp"].is_string() {
                    "Terminating".to_string()
                } else {
                    waiting.map_or_else(|| text(&status["phase"]), str::to_string)
                };
                vec![
                    name,
                    json!(format!("{ready}/{containers}")),
                    json!(phase),
                    json!(restarts.to_string()),
                    age,
                    json!(or_none(text(&status["podIP"]))),
                    json!(or_none(text(&spec["nodeName"]))),
                    json!("<none>"),
                    json!("<none>"),
                ]
            }
            "Deployment" | "ReplicaSet" => {
                let template = &spec["template"]["spec"]["containers"];
                let joined = |field: &str| {
                    template
                        .as_array()
                        .map(|cs| {
                            cs.iter()
                                .map(|c| text(&c[field]))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default()
                };
                let selector = spec["selector"]["matchLabels"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", text(v)))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                let mut row = if kind == "Deployment" {
                    vec![
                        name,
                        json!(format!(
                            "{}/{}",
                            count(&status["readyReplicas"]),
                            count(&spec["replicas"])
                        )),
                        json!(count(&status["updatedReplicas"])),
                        json!(count(&status["availableReplicas"])),
                    ]
                } else {
                    vec![
                        name,
                        json!(count(&spec["replicas"])),
                        json!(count(&status["replicas"])),
                        json!(count(&status["readyReplicas"])),
                    ]
                };
                row.extend([
                    age,
                    json!(joined("name")),
                    json!(joined("image")),
                    json!(or_none(selector)),
                ]);
                row
            }
            "Service" => {
                let kind = text(&spec["type"]);
                let ingress: Vec<String> = status["loadBalancer"]["ingress"]
                    .as_array()
                    .map(|is| is.iter().map(|i| text(&i["ip"])).collect())
                    .unwrap_or_default();
                let external = match (kind.as_str(), ingress.is_empty()) {
                    ("LoadBalancer", true) => "<pending>".to_string(),
                    (_, false) => ingress.join(","),
                    _ => "<none>".to_string(),
                };
                let ports = spec["ports"]
                    .as_array()
                    .map(|ps| {
                        ps.iter()
                            .map(|p| match p["nodePort"].as_u64() {
                                Some(node) => {
                                    format!("{}:{node}/{}", count(&p["port"]), text(&p["protocol"]))
                                }
                                None => format!("{}/{}", count(&p["port"]), text(&p["protocol"])),
                            })
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                let selector = spec["selector"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| format!("{k}={}", text(v)))
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default();
                vec![
                    name,
                    json!(kind),
                    json!(or_none(text(&spec["clusterIP"]))),
                    json!(external),
                    json!(or_none(ports)),
                    age,
                    json!(or_none(selector)),
                ]
            }
            "ConfigMap" => vec![name, json!(data(object)), age],
            "Secret" => vec![name, json!(text(&object["type"])), json!(data(object)), age],
            "Namespace" => vec![name, json!(text(&status["phase"])), age],
            _ => vec![name, age],
        }
    }

    /// How long ago `timestamp` was, as kubectl shows ages: 45s, 7m12s, 3h20m,
    /// 5d4h, 336d, 2y10d.
    fn age(timestamp: &Value, now: jiff::Timestamp) -> String {
        let Some(then) = timestamp
            .as_str()
            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        else {
            return "<unknown>".into();
        };
        let seconds = now.as_second() - then.as_second();
        if seconds < 0 {
            return "0s".into();
        }
        let (minutes, hours, days) = (seconds / 60, seconds / 3_600, seconds / 86_400);
        let with = |big: i64, unit: &str, small: i64, small_unit: &str| {
            if small == 0 {
                format!("{big}{unit}")
            } else {
                format!("{big}{unit}{small}{small_unit}")
            }
        };
        match () {
            () if seconds < 120 => format!("{seconds}s"),
            () if minutes < 10 => with(minutes, "m", seconds % 60, "s"),
            () if minutes < 180 => format!("{minutes}m"),
            () if hours < 8 => with(hours, "h", minutes % 60, "m"),
            () if hours < 48 => format!("{hours}h"),
            () if days < 8 => with(days, "d", hours % 24, "h"),
            () if days < 365 * 2 => format!("{days}d"),
            () if days < 365 * 8 => with(days / 365, "y", days % 365, "d"),
            () => format!("{}y", days / 365),
        }
    }
}

// ---------------------------------------------------------------------------
// Watches.

/// What a watch request asked for besides its selection.
struct WatchParams {
    start: WatchStart,
    bookmarks: bool,
    initial_events: bool,
    timeout: Option<Duration>,
}

impl WatchParams {
    fn from_query(query: &HashMap<String, String>) -> Result<WatchParams, String> {
        let flag = |name: &str| query.get(name).is_some_and(|v| v == "true" || v == "1");
        let initial_events = flag("sendInitialEvents");
        let start = match query.get("resourceVersion").map(String::as_str) {
            None | Some("") | Some("0") => WatchStart::Now,
            Some(_) if initial_events => WatchStart::Now,
            Some(rv) => match rv.parse() {
                Ok(rv) => WatchStart::After(rv),
                Err(_) => return Err(format!("invalid resource version: {rv}")),
            },
        };
        let timeout = query
            .get("timeoutSeconds")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| *t > 0)
            .map(Duration::from_secs);
        Ok(WatchParams {
            start,
            bookmarks: flag("allowWatchBookmarks"),
            initial_events,
            timeout,
        })
    }
}

/// Answers 200 and streams events as lines of JSON until the client goes,
/// the timeout passes or the fake ends the watch.
fn watch(
    state: &Arc<FakeState>,
    view: View,
    filter: Filter,
    query: &HashMap<String, String>,
) -> Response {
    let params = match WatchParams::from_query(query) {
        Ok(params) => params,
        Err(message) => return bad_request(&message),
    };
    let opened = state.store().open_watch(filter, params.start);
    let opened = match opened {
        Ok(opened) => opened,
        Err(too_old) => {
            // A real server answers 200 and says so in the stream.
            let mut line = Vec::new();
            error_line(&mut line, &expired_status(too_old));
            return json_response(StatusCode::OK, line);
        }
    };
    let (body, chunks) = mpsc::channel::<Vec<u8>>(16);
    let stream = futures::stream::unfold(chunks, |mut chunks| async move {
        let chunk = chunks.recv().await?;
        Some((Ok::<_, Infallible>(chunk), chunks))
    });
    let state = Arc::clone(state);
    tokio::spawn(async move {
        let id = opened.id;
        stream_events(&state, &view, opened, &params, &body).await;
        state.store().forget_watch(id);
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("a status and a content type make a valid response")
}

/// One line of a watch: the object with the type asked for, or (a Status,
/// a Table) with its own.
fn event_line(out: &mut Vec<u8>, event: &str, object: &Value, type_meta: Option<(&str, &str)>) {
    let written = match type_meta {
        Some(_) => serde_json::to_writer(
            &mut *out,
            &EventLine {
                event,
                object: Served { object, type_meta },
            },
        ),
        None => serde_json::to_writer(&mut *out, &EventLine { event, object }),
    };
    written.expect("JSON values serialize");
    out.push(b'\n');
}

fn error_line(out: &mut Vec<u8>, status: &Value) {
    event_line(out, "ERROR", status, None);
}

fn bookmark_line(out: &mut Vec<u8>, def: &ResourceDef, rv: u64, initial_events_end: bool) {
    let mut metadata = json!({"resourceVersion": rv.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let object = json!({"metadata": metadata});
    let gv = def.group_version();
    event_line(out, "BOOKMARK", &object, Some((&gv, def.kind)));
}

/// Sends what the watch has to say; returns when it is over.
async fn stream_events(
    state: &FakeState,
    view: &View,
    mut opened: OpenedWatch,
    params: &WatchParams,
    body: &mpsc::Sender<Vec<u8>>,
) {
    let def = &view.def;
    let mut batch = Vec::new();
    for event in &opened.backlog {
        view.event(&mut batch, event);
        if batch.len() > 64 * 1024 && body.send(std::mem::take(&mut batch)).await.is_err() {
            return;
        }
    }
    opened.backlog = Vec::new();
    if params.initial_events && params.bookmarks {
        bookmark_line(&mut batch, def, opened.started, true);
    }
    if !batch.is_empty() && body.send(batch).await.is_err() {
        return;
    }
    let deadline = tokio::time::sleep(params.timeout.unwrap_or(Duration::from_secs(86_400 * 365)));
    tokio::pin!(deadline);
    let every = state.options.bookmark_every.max(Duration::from_millis(1));
    let mut bookmarks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    bookmarks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let mut out = Vec::new();
        let mut over = false;
        tokio::select! {
            () = body.closed() => return,
            () = &mut deadline => return,
            _ = bookmarks.tick(), if params.bookmarks => {
                // Every event up to this resourceVersion is already in the
                // channel: send them before the bookmark that passes them.
                let rv = state.store().rv;
                while let Ok(delivery) = opened.events.try_recv() {
                    over = write_delivery(&mut out, delivery, view);
                    if over {
                        break;
                    }
                }
                if !over {
                    bookmark_line(&mut out, def, rv, false);
                }
            }
            delivery = opened.events.recv() => match delivery {
                Some(delivery) => over = write_delivery(&mut out, delivery, view),
                None => return,
            },
        }
        if body.send(out).await.is_err() || over {
            return;
        }
    }
}

/// Writes one delivery; true when it ends the watch.
fn write_delivery(out: &mut Vec<u8>, delivery: Delivery, view: &View) -> bool {
    match delivery {
        Delivery::Event(event) => {
            view.event(out, &event);
            false
        }
        Delivery::Expired(too_old) => {
            error_line(out, &expired_status(too_old));
            true
        }
    }
}

// ---------------------------------------------------------------------------
// The control API under /_fake/, for benchmarks driving the example server.

fn control(
    state: &Arc<FakeState>,
    method: &Method,
    action: &str,
    query: &HashMap<String, String>,
) -> Response {
    match (method, action) {
        (&Method::GET, "requests") => {
            let log: Vec<Value> = lock(&state.requests)
                .iter()
                .map(|r| {
                    json!({
                        "ms": r.at.saturating_duration_since(state.started).as_millis() as u64,
                        "method": r.method,
                        "path": r.path_and_query,
                        "watch": r.watch,
                    })
                })
                .collect();
            ok(json!(log))
        }
        (&Method::POST, "touch") => {
            let (Some(kind), Some(name)) = (query.get("kind"), query.get("name")) else {
                return bad_request("touch needs kind and name");
            };
            let namespace = query.get("namespace").cloned().unwrap_or_default();
            match state.store().touch(kind, &(namespace, name.clone())) {
                Some(rv) => ok(json!({"resourceVersion": rv})),
                None => not_found_named(kind, name),
            }
        }
        (&Method::POST, "close-watches") => {
            state.store().watches.clear();
            ok(json!({}))
        }
        (&Method::POST, "compact") => {
            state.store().compact();
            ok(json!({"resourceVersion": state.store().rv}))
        }
        _ => not_found(),
    }
}

/// The types `synthetic_cluster` makes, as a real cluster serves them.
pub fn synthetic_resources() -> Vec<ResourceDef> {
    synthetic::resources()
}

/// A cluster as a real one returns it: `namespaces` Namespaces, and in them
/// `deployments` Deployments (each with its ReplicaSet, its last applied
/// configuration and managedFields), `pods` Pods owned by those ReplicaSets,
/// `services` Services and `configmaps` ConfigMaps. The same arguments give
/// the same objects. Some break the usual readiness rules, as in any
/// cluster: about 5% of the workloads run without resource limits, some on
/// `:latest`, a few privileged, some without a readiness probe, some
/// Deployments with a single replica, and now and then a Pod in
/// CrashLoopBackOff.
pub fn synthetic_cluster(
    pods: usize,
    deployments: usize,
    services: usize,
    configmaps: usize,
    namespaces: usize,
) -> Vec<Value> {
    synthetic::cluster(pods, deployments, services, configmaps, namespaces)
}

// ---------------------------------------------------------------------------

mod synthetic {
    //! A synthetic cluster: realistic objects as a real cluster returns them,
    //! the same for the same arguments, some good and some bad.

    use serde_json::{Value, json};

    use super::{ResourceDef, mix, suffix, uid};

    pub(super) fn resources() -> Vec<ResourceDef> {
        let def = |group, kind, plural, namespaced| ResourceDef {
            group,
            version: "v1",
            kind,
            plural,
            namespaced,
        };
        vec![
            def("", "Pod", "pods", true),
            def("", "Service", "services", true),
            def("", "ConfigMap", "configmaps", true),
            def("", "Secret", "secrets", true),
            def("", "Namespace", "namespaces", false),
            def("apps", "Deployment", "deployments", true),
            def("apps", "ReplicaSet", "replicasets", true),
        ]
    }

    pub(super) fn cluster(
        pods: usize,
        deployments: usize,
        services: usize,
        configmaps: usize,
        namespaces: usize,
    ) -> Vec<Value> {
        let namespaces = namespaces.max(1);
        let apps: Vec<App> = (0..deployments).map(|i| App::new(i, namespaces)).collect();
        let owners = pod_owners(pods, &apps);
        let mut replicas = vec![0; apps.len()];
        for owner in owners.iter().flatten() {
            replicas[*owner] += 1;
        }
        let mut objects =
            Vec::with_capacity(namespaces + 2 * deployments + pods + services + configmaps);
        objects.extend((0..namespaces).map(synthetic_namespace));
        for (app, replicas) in apps.iter().zip(&replicas) {
            objects.push(app.deployment(*replicas));
            objects.push(app.replica_set(*replicas));
        }
        let mut ordinal = vec![0; apps.len()];
        for (i, owner) in owners.iter().enumerate() {
            let pod = match owner {
                Some(owner) => {
                    ordinal[*owner] += 1;
                    apps[*owner].pod(i, ordinal[*owner])
                }
                None => App::new(i, namespaces).bare_pod(i),
            };
            objects.push(pod);
        }
        objects.extend((0..services).map(|i| synthetic_service(i, &apps, namespaces)));
        objects.extend((0..configmaps).map(|i| synthetic_config_map(i, &apps, namespaces)));
        objects
    }

    /// Which Deployment owns each pod: one pod for each single-replica
    /// Deployment, the rest spread over the others; `None` when there are none.
    fn pod_owners(pods: usize, apps: &[App]) -> Vec<Option<usize>> {
        let singles: Vec<usize> = apps.iter().filter(|a| a.single).map(|a| a.index).collect();
        let scaled: Vec<usize> = apps.iter().filter(|a| !a.single).map(|a| a.index).collect();
        (0..pods)
            .map(|i| match (singles.get(i), scaled.is_empty()) {
                (Some(single), _) => Some(*single),
                (None, false) => Some(scaled[(i - singles.len().min(i)) % scaled.len()]),
                (None, true) if !singles.is_empty() => Some(singles[i % singles.len()]),
                (None, true) => None,
            })
            .collect()
    }

    const APP_NAMES: &[&str] = &[
        "checkout",
        "payments",
        "catalog",
        "search",
        "orders",
        "cart",
        "auth",
        "gateway",
        "inventory",
        "shipping",
        "billing",
        "notifications",
        "reports",
        "profile",
        "media",
        "recommendations",
        "pricing",
        "ledger",
        "audit",
        "scheduler",
    ];

    /// Seconds since the epoch of 2026-01-05T08:00:00Z; synthetic objects were
    /// made before it.
    const SYNTHETIC_EPOCH: i64 = 1_767_600_000;

    fn stamp(seconds_before: u64) -> String {
        let seconds = SYNTHETIC_EPOCH - (seconds_before % 30_000_000) as i64;
        jiff::Timestamp::from_second(seconds)
            .expect("synthetic times are within range")
            .strftime("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    }

    fn synthetic_uid(kind: u64, index: usize) -> String {
        uid(kind << 40 | index as u64)
    }

    fn namespace_name(index: usize) -> String {
        format!("team-{index:02}")
    }

    fn synthetic_namespace(index: usize) -> Value {
        let name = namespace_name(index);
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": synthetic_uid(1, index),
                "creationTimestamp": stamp(20_000_000 + index as u64 * 3_600),
                "labels": {"kubernetes.io/metadata.name": name, "team": name},
                "managedFields": [{
                    "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
                    "time": stamp(20_000_000 + index as u64 * 3_600), "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:kubernetes.io/metadata.name": {}}}}
                }]
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        })
    }

    /// One Deployment and what follows from its index: its namespace, name,
    /// image and which rules it breaks.
    struct App {
        index: usize,
        namespace: String,
        name: String,
        hash: String,
        image: String,
        limits: bool,
        privileged: bool,
        readiness: bool,
        single: bool,
    }

    impl App {
        fn new(index: usize, namespaces: usize) -> App {
            let word = APP_NAMES[index % APP_NAMES.len()];
            let round = index / APP_NAMES.len();
            let name = if round == 0 {
                word.to_string()
            } else {
                format!("{word}-{round}")
            };
            let tag = if index % 25 == 11 {
                "latest".to_string()
            } else {
                format!("1.{}.{}", index % 17, index % 5)
            };
            App {
                index,
                namespace: namespace_name(index % namespaces),
                image: format!("registry.example.com/{word}:{tag}"),
                hash: suffix(index as u64 + 7_000_000, 10),
                name,
                limits: index % 20 != 7,
                privileged: index % 50 == 13,
                readiness: index % 16 != 9,
                single: index % 12 == 5,
            }
        }

        fn labels(&self) -> Value {
            json!({"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": self.namespace})
        }

        fn container(&self) -> Value {
            let mut resources = json!({"requests": {"cpu": "100m", "memory": "128Mi"}});
            if self.limits {
                resources["limits"] = json!({"cpu": "500m", "memory": "512Mi"});
            }
            let mut container = json!({
                "name": "app",
                "image": self.image,
                "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                "resources": resources,
                "imagePullPolicy": "IfNotPresent",
            });
            if self.readiness {
                container["readinessProbe"] = json!({
                    "httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 10
                });
            }
            if self.privileged {
                container["securityContext"] = json!({"privileged": true});
            }
            container
        }

        fn template(&self) -> Value {
            json!({
                "metadata": {"labels": self.labels()},
                "spec": {
                    "containers": [self.container()],
                    "restartPolicy": "Always",
                    "terminationGracePeriodSeconds": 30,
                    "dnsPolicy": "ClusterFirst"
                }
            })
        }

        fn created(&self) -> String {
            stamp(10_000_000 + self.index as u64 * 600)
        }

        fn deployment(&self, replicas: usize) -> Value {
            let applied = json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"annotations": {}, "labels": self.labels(), "name": self.name, "namespace": self.namespace},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": self.labels()},
                    "template": {"metadata": {"labels": self.labels()}, "spec": {"containers": [{
                        "name": "app", "image": self.image,
                        "ports": [{"name": "http", "containerPort": 8080}]
                    }]}}
                }
            });
            json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {
                    "name": self.name, "namespace": self.namespace,
                    "uid": synthetic_uid(2, self.index),
                    "generation": 3,
                    "creationTimestamp": self.created(),
                    "labels": self.labels(),
                    "annotations": {
                        "deployment.kubernetes.io/revision": "3",
                        "kubectl.kubernetes.io/last-applied-configuration": format!("{applied}\n"),
                    },
                    "managedFields": [{
                        "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                        "time": self.created(), "fieldsType": "FieldsV1",
                        "fieldsV1": {
                            "f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
                                           "f:labels": {".": {}, "f:app.kubernetes.io/name": {}, "f:app.kubernetes.io/part-of": {}}},
                            "f:spec": {"f:replicas": {}, "f:selector": {}, "f:template": {"f:metadata": {"f:labels": {}},
                                       "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}, "f:ports": {}}}}}}
                        }
                    }, {
                        "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "apps/v1",
                        "time": self.created(), "fieldsType": "FieldsV1", "subresource": "status",
                        "fieldsV1": {"f:metadata": {"f:annotations": {"f:deployment.kubernetes.io/revision": {}}},
                                     "f:status": {"f:availableReplicas": {}, "f:conditions": {}, "f:observedGeneration": {},
                                                  "f:readyReplicas": {}, "f:replicas": {}, "f:updatedReplicas": {}}}
                    }]
                },
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": self.labels()},
                    "template": self.template(),
                    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                    "revisionHistoryLimit": 10,
                    "progressDeadlineSeconds": 600
                },
                "status": {
                    "observedGeneration": 3, "replicas": replicas, "updatedReplicas": replicas,
                    "readyReplicas": replicas, "availableReplicas": replicas,
                    "conditions": [
                        {"type": "Available", "status": "True", "lastUpdateTime": self.created(), "lastTransitionTime": self.created(),
                         "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                        {"type": "Progressing", "status": "True", "lastUpdateTime": self.created(), "lastTransitionTime": self.created(),
                         "reason": "NewReplicaSetAvailable",
                         "message": format!("ReplicaSet \"{}-{}\" has successfully progressed.", self.name, self.hash)}
                    ]
                }
            })
        }

        fn replica_set_name(&self) -> String {
            format!("{}-{}", self.name, self.hash)
        }

        fn replica_set(&self, replicas: usize) -> Value {
            let mut labels = self.labels();
            labels["pod-template-hash"] = json!(self.hash);
            let mut template = self.template();
            template["metadata"]["labels"] = labels.clone();
            json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": self.replica_set_name(), "namespace": self.namespace,
                    "uid": synthetic_uid(3, self.index),
                    "generation": 1,
                    "creationTimestamp": self.created(),
                    "labels": labels,
                    "annotations": {"deployment.kubernetes.io/desired-replicas": replicas.to_string(),
                                    "deployment.kubernetes.io/max-replicas": (replicas + 1).to_string(),
                                    "deployment.kubernetes.io/revision": "3"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name,
                                         "uid": synthetic_uid(2, self.index), "controller": true, "blockOwnerDeletion": true}]
                },
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
                "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
                           "availableReplicas": replicas, "observedGeneration": 1}
            })
        }

        /// The `ordinal`th pod of this Deployment, `index` among all pods.
        fn pod(&self, index: usize, ordinal: usize) -> Value {
            let name = format!(
                "{}-{}",
                self.replica_set_name(),
                suffix(index as u64 + 9_000_000, 5)
            );
            let mut pod = self.bare_pod(index);
            let metadata = &mut pod["metadata"];
            metadata["name"] = json!(name);
            metadata["generateName"] = json!(format!("{}-", self.replica_set_name()));
            metadata["labels"]["pod-template-hash"] = json!(self.hash);
            metadata["ownerReferences"] = json!([{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": self.replica_set_name(),
                "uid": synthetic_uid(3, self.index), "controller": true, "blockOwnerDeletion": true
            }]);
            if ordinal > 1 {
                pod["status"]["conditions"][0]["lastTransitionTime"] =
                    json!(stamp(index as u64 * 60));
            }
            pod
        }

        /// A pod of this app's template, owned by nothing.
        fn bare_pod(&self, index: usize) -> Value {
            let started = stamp(index as u64 * 60);
            let node = format!("node-{:02}", index % 40);
            let crashing = index % 97 == 42;
            let mut spec = self.template()["spec"].clone();
            spec["nodeName"] = json!(node);
            spec["serviceAccountName"] = json!("default");
            let state = if crashing {
                json!({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=app"}})
            } else {
                json!({"running": {"startedAt": started}})
            };
            let ready = if crashing { "False" } else { "True" };
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {
                    "name": format!("{}-{}", self.name, suffix(index as u64, 5)),
                    "namespace": self.namespace,
                    "uid": synthetic_uid(4, index),
                    "creationTimestamp": started,
                    "labels": {"app.kubernetes.io/name": self.name},
                    "managedFields": [{
                        "manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": started,
                        "fieldsType": "FieldsV1", "subresource": "status",
                        "fieldsV1": {"f:status": {"f:conditions": {}, "f:containerStatuses": {}, "f:hostIP": {},
                                                  "f:phase": {}, "f:podIP": {}, "f:startTime": {}}}
                    }]
                },
                "spec": spec,
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "Ready", "status": ready, "lastProbeTime": null, "lastTransitionTime": started}
                    ],
                    "hostIP": format!("10.0.{}.{}", index % 40 / 250, index % 40 + 10),
                    "podIP": format!("10.244.{}.{}", index / 250 % 250, index % 250 + 2),
                    "startTime": started,
                    "containerStatuses": [{
                        "name": "app", "state": state, "lastState": {}, "ready": !crashing,
                        "restartCount": if crashing { 14 } else { 0 },
                        "image": self.image,
                        "containerID": format!("containerd://{:016x}", mix(index as u64)),
                        "started": !crashing
                    }],
                    "qosClass": "Burstable"
                }
            })
        }
    }

    fn synthetic_service(index: usize, apps: &[App], namespaces: usize) -> Value {
        let (name, namespace, target) = match apps.get(index) {
            Some(app) => (app.name.clone(), app.namespace.clone(), app.name.clone()),
            None => (
                format!("{}-internal-{index}", APP_NAMES[index % APP_NAMES.len()]),
                namespace_name(index % namespaces),
                APP_NAMES[index % APP_NAMES.len()].to_string(),
            ),
        };
        let kind = match index % 10 {
            0 => "LoadBalancer",
            1 => "NodePort",
            _ => "ClusterIP",
        };
        let cluster_ip = format!("10.96.{}.{}", index / 250 % 250, index % 250 + 1);
        let mut port = json!({"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080});
        if kind != "ClusterIP" {
            port["nodePort"] = json!(30_000 + index % 2_700);
        }
        let status = if kind == "LoadBalancer" {
            json!({"loadBalancer": {"ingress": [{"ip": format!("203.0.113.{}", index % 250 + 1)}]}})
        } else {
            json!({"loadBalancer": {}})
        };
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {
                "name": name, "namespace": namespace,
                "uid": synthetic_uid(5, index),
                "creationTimestamp": stamp(10_000_000 + index as u64 * 600),
                "labels": {"app.kubernetes.io/name": target},
                "managedFields": [{
                    "manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "v1",
                    "time": stamp(10_000_000 + index as u64 * 600), "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {"f:ports": {}, "f:selector": {}, "f:type": {}}}
                }]
            },
            "spec": {
                "ports": [port],
                "selector": {"app.kubernetes.io/name": target},
                "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                "type": kind, "sessionAffinity": "None",
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"
            },
            "status": status
        })
    }

    fn synthetic_config_map(index: usize, apps: &[App], namespaces: usize) -> Value {
        let (name, namespace) = match apps.get(index) {
            Some(app) => (format!("{}-config", app.name), app.namespace.clone()),
            None => (
                format!("settings-{index}"),
                namespace_name(index % namespaces),
            ),
        };
        let mut config_map = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": name, "namespace": namespace,
                "uid": synthetic_uid(6, index),
                "creationTimestamp": stamp(10_000_000 + index as u64 * 600),
                "labels": {"app.kubernetes.io/name": APP_NAMES[index % APP_NAMES.len()]}
            },
            "data": {
                "LOG_LEVEL": if index.is_multiple_of(9) { "debug" } else { "info" },
                "FEATURE_FLAGS": format!("search-v2={},dark-mode=true", index.is_multiple_of(2)),
                "application.yaml": format!(
                    "server:\n  port: 8080\n  shutdown: graceful\ncache:\n  ttl: {}s\n",
                    60 + index % 300
                )
            }
        });
        if index.is_multiple_of(7) {
            config_map["immutable"] = json!(true);
        }
        config_map
    }
}
