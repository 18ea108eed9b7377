//! The live cluster: objects from a Kubernetes API server through kube-rs,
//! with each resource type resolved once by discovery so CRDs work like
//! built-in types.
//!
//! A query runs in two steps: `resolve` (type to URL and scope, cached),
//! then a read of the followed scope's store (`watch.rs`): one list and one
//! watch per (type, namespace scope), shared by every probe on that type.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use kube::core::{ApiResource, DynamicObject, GroupVersionKind, Resource};
use kube::discovery::Scope;
use serde_json::Value;

use super::watch::{Follow, Store};
use super::{Changes, Cursor, Delta, LAST_APPLIED, Object, ObjectQuery, ObjectSource, SourceError};

/// Set while the dashboard owns the terminal: credential plugins
/// (`exec` in the kubeconfig, as EKS and GKE use) then get no terminal, so
/// they cannot draw over the screen or read keys meant for it.
static EXEC_OFF_TERMINAL: AtomicBool = AtomicBool::new(false);

/// From now on, credential plugins run without the terminal (their
/// messages come back as the connection error instead).
pub fn keep_exec_plugins_off_terminal() {
    EXEC_OFF_TERMINAL.store(true, Ordering::Relaxed);
}

fn exec_plugins_off_terminal(kubeconfig: &mut Kubeconfig) {
    for user in &mut kubeconfig.auth_infos {
        if let Some(exec) = user.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
}
use crate::checklist::model::ResourceType;

/// A followed scope: a type, in one namespace or (`None`) all.
type Followed = (ResourceType, Option<String>);

/// A Kubernetes API server reached through a kubeconfig context or the
/// in-cluster service account.
pub struct Live {
    client: kube::Client,
    /// `context prod`, `in-cluster`: what `describe` shows.
    label: String,
    /// The API server URL, named in connection errors.
    endpoint: String,
    /// Discovery answers per resource type. Only served types are kept: a
    /// CRD installed later is found on the next run.
    served: Mutex<HashMap<ResourceType, Served>>,
    discovering: tokio::sync::Mutex<()>,
    /// Types some probe reads across all namespaces: one watch over every
    /// namespace then serves the probes that look in one.
    everywhere: Mutex<HashSet<ResourceType>>,
    /// The followed scopes: (type, namespace or `None` for all).
    stores: Mutex<HashMap<Followed, Arc<Store>>>,
}

/// A kube-rs client and how messages name the server it talks to: what
/// the live cluster source and the sign-off log in the cluster (`ledger::kube`)
/// both connect with.
#[derive(Clone)]
pub struct Connection {
    pub client: kube::Client,
    /// `context prod`, `in-cluster`.
    pub label: String,
    /// The API server URL, without a trailing `/`.
    pub endpoint: String,
}

impl Connection {
    /// Connects through the kubeconfig (`KUBECONFIG` or `~/.kube/config`):
    /// the named context, or with `None` the current one, falling back to
    /// the in-cluster service account when there is no kubeconfig.
    pub async fn to_context(context: Option<&str>) -> Result<Connection, String> {
        Connection::to_context_with(context, |_| {}).await
    }

    /// As `to_context`, with the client's configuration adjusted first.
    pub async fn to_context_with(
        context: Option<&str>,
        adjust: impl FnOnce(&mut kube::Config) + Send,
    ) -> Result<Connection, String> {
        let kubeconfig = Kubeconfig::read();
        match (kubeconfig, context) {
            (Ok(kubeconfig), context) => {
                Connection::through_with(kubeconfig, context, adjust).await
            }
            (Err(e), Some(name)) => Err(format!(
                "cannot use kube context {name}: cannot read the kubeconfig: {e}"
            )),
            (Err(no_file), None) => {
                let mut config = kube::Config::incluster().map_err(|no_pod| {
                    format!(
                        "no cluster to connect to: no kubeconfig ({no_file}) \
                         and not running in a pod ({no_pod})"
                    )
                })?;
                adjust(&mut config);
                Connection::with(config, "in-cluster")
            }
        }
    }

    /// Connects through `context` of an already read kubeconfig (`None`: its
    /// current context).
    pub async fn through(
        kubeconfig: Kubeconfig,
        context: Option<&str>,
    ) -> Result<Connection, String> {
        Connection::through_with(kubeconfig, context, |_| {}).await
    }

    /// As `through`, with the client's configuration adjusted first.
    pub async fn through_with(
        mut kubeconfig: Kubeconfig,
        context: Option<&str>,
        adjust: impl FnOnce(&mut kube::Config) + Send,
    ) -> Result<Connection, String> {
        if EXEC_OFF_TERMINAL.load(Ordering::Relaxed) {
            exec_plugins_off_terminal(&mut kubeconfig);
        }
        let name = context
            .map(str::to_string)
            .or_else(|| kubeconfig.current_context.clone())
            .ok_or("the kubeconfig sets no current context; name one with --context")?;
        if !kubeconfig.contexts.iter().any(|c| c.name == name) {
            let known: Vec<&str> = kubeconfig
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            return Err(format!(
                "the kubeconfig has no context named {name} (it has: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
        let options = KubeConfigOptions {
            context: Some(name.clone()),
            ..KubeConfigOptions::default()
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| format!("cannot use kube context {name}: {e}"))?;
        adjust(&mut config);
        Connection::with(config, format!("context {name}"))
    }

    /// A client with a ready configuration; `label` is how messages name
    /// it. Needs a tokio runtime (the client starts a task).
    pub fn with(mut config: kube::Config, label: impl Into<String>) -> Result<Connection, String> {
        crate::install_crypto_provider();
        let label = label.into();
        let endpoint = config.cluster_url.to_string();
        // A 429 or 503 is said as it is, at once: the probe runs again on
        // its own schedule, and retrying inside the client would only hide
        // the server's answer behind a timeout.
        config.default_retry = false;
        let builder = kube::client::ClientBuilder::try_from(config).map_err(|e| {
            format!(
                "cannot build a client for {label} ({endpoint}): {}",
                chain(&e)
            )
        })?;
        // No answer is held past RESPONSE_LIMIT: a server that sends a body
        // without end (or a list far beyond what `limit` asked for) gets
        // an error, not all of this machine's memory.
        let limit = tower_http::map_response_body::MapResponseBodyLayer::new(|body| {
            http_body_util::Limited::new(body, RESPONSE_LIMIT)
        });
        let client = builder.with_layer(&limit).build();
        Ok(Connection {
            client,
            label,
            endpoint: endpoint.trim_end_matches('/').to_string(),
        })
    }

    /// Why the server could not answer `doing` (`list apps/v1/Deployment`),
    /// in words, with control characters removed.
    pub fn explain(&self, e: &kube::Error, doing: &str) -> String {
        explain_error(e, doing, &self.endpoint, &self.label)
    }
}

/// The most one answer of the API server may hold: a page of 500 big
/// objects fits many times over; a watch that reaches it is opened again.
pub const RESPONSE_LIMIT: usize = 256 * 1024 * 1024;

impl Live {
    /// Connects through the kubeconfig (`KUBECONFIG` or `~/.kube/config`):
    /// the named context, or with `None` the current one, falling back to
    /// the in-cluster service account when there is no kubeconfig.
    pub async fn from_context(context: Option<&str>) -> Result<Live, String> {
        Ok(Live::new(Connection::to_context(context).await?))
    }

    /// Connects through `context` of an already read kubeconfig (`None`: its
    /// current context).
    pub async fn from_kubeconfig(
        kubeconfig: Kubeconfig,
        context: Option<&str>,
    ) -> Result<Live, String> {
        Ok(Live::new(Connection::through(kubeconfig, context).await?))
    }

    /// Connects with a ready client configuration; `label` is what
    /// `describe` shows.
    pub async fn from_config(
        config: kube::Config,
        label: impl Into<String>,
    ) -> Result<Live, String> {
        Ok(Live::new(Connection::with(config, label)?))
    }

    fn new(connection: Connection) -> Live {
        Live {
            client: connection.client,
            label: connection.label,
            endpoint: connection.endpoint,
            served: Mutex::new(HashMap::new()),
            discovering: tokio::sync::Mutex::new(()),
            everywhere: Mutex::new(HashSet::new()),
            stores: Mutex::new(HashMap::new()),
        }
    }

    /// Tells the source which queries its probes will make, so that a type
    /// read both in one namespace and in all is followed once, across all.
    pub fn will_serve<'a>(&self, queries: impl IntoIterator<Item = &'a ObjectQuery>) {
        let mut everywhere = lock(&self.everywhere);
        for query in queries {
            if query.namespace.is_none() {
                everywhere.insert(query.resource.clone());
            }
        }
    }

    async fn select(&self, query: &ObjectQuery) -> Result<Vec<Object>, SourceError> {
        let served = self.resolve(&query.resource).await?;
        self.store(query, &served).read(query).await
    }

    /// The store that follows `query`'s scope, started on first use.
    fn store(&self, query: &ObjectQuery, served: &Served) -> Arc<Store> {
        let namespace = match served.scope {
            // As kubectl does, a namespace given for a cluster-scoped type
            // is ignored.
            Scope::Cluster => None,
            Scope::Namespaced if lock(&self.everywhere).contains(&query.resource) => None,
            Scope::Namespaced => query.namespace.clone(),
        };
        let key = (query.resource.clone(), namespace);
        let mut stores = lock(&self.stores);
        if let Some(store) = stores.get(&key) {
            return Arc::clone(store);
        }
        let resource = &served.resource;
        let endpoint = self.endpoint.clone();
        let label = self.label.clone();
        let store = Store::start(Follow {
            client: self.client.clone(),
            url: DynamicObject::url_path(resource, key.1.as_deref()),
            api_version: resource.api_version.clone(),
            kind: resource.kind.clone(),
            only_written_in: served.older_version.then(|| resource.api_version.clone()),
            explain: Arc::new(move |e, doing| explain(e, doing, &endpoint, &label)),
            what: query.resource.to_string(),
        });
        stores.insert(key, Arc::clone(&store));
        store
    }

    /// Finds the URL path and scope of a resource type, and whether it is
    /// its group's preferred version, asking the server only the first time.
    async fn resolve(&self, resource: &ResourceType) -> Result<Served, SourceError> {
        if let Some(found) = self.cached(resource) {
            return Ok(found);
        }
        // One discovery at a time: forty probes on one new type ask the
        // server once, and the rest find the answer cached.
        let _one = self.discovering.lock().await;
        if let Some(found) = self.cached(resource) {
            return Ok(found);
        }
        let gvk = GroupVersionKind::gvk(&resource.group, &resource.version, &resource.kind);
        let (api_resource, caps) = match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok(found) => found,
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Err(not_served(resource));
            }
            Err(kube::Error::Discovery(kube::error::DiscoveryError::MissingKind(_))) => {
                return Err(not_served(resource));
            }
            Err(e) => return Err(self.unavailable(&e, &format!("discover {resource}"))),
        };
        let older_version = if resource.group.is_empty() {
            false
        } else {
            // One request for every group's preferred version.
            match self.client.list_api_groups().await {
                Ok(list) => list
                    .groups
                    .iter()
                    .find(|g| g.name == resource.group)
                    .and_then(|g| g.preferred_version.as_ref())
                    .is_some_and(|preferred| preferred.version != resource.version),
                Err(e) => return Err(self.unavailable(&e, &format!("discover {resource}"))),
            }
        };
        let found = Served {
            resource: api_resource,
            scope: caps.scope,
            older_version,
        };
        lock(&self.served).insert(resource.clone(), found.clone());
        Ok(found)
    }

    fn cached(&self, resource: &ResourceType) -> Option<Served> {
        lock(&self.served).get(resource).cloned()
    }

    fn unavailable(&self, e: &kube::Error, doing: &str) -> SourceError {
        explain(e, doing, &self.endpoint, &self.label)
    }
}

/// A poisoned lock only means another probe panicked mid-insert; the map
/// itself is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Says why the server at `endpoint`, reached as `label`, could not answer
/// `doing` (`list apps/v1/Deployment`).
fn explain(e: &kube::Error, doing: &str, endpoint: &str, label: &str) -> SourceError {
    SourceError::Unavailable(explain_error(e, doing, endpoint, label))
}

/// [`explain`] as words.
fn explain_error(e: &kube::Error, doing: &str, endpoint: &str, label: &str) -> String {
    let message = match e {
        kube::Error::Api(status) => {
            let said = if status.message.is_empty() {
                String::new()
            } else {
                format!(": {}", status.message)
            };
            match status.code {
                401 => format!(
                    "unauthorized: the API server at {endpoint} rejected the credentials of {}{said}",
                    label
                ),
                403 => format!("forbidden: cannot {doing} with {label}{said}"),
                code => format!(
                    "the API server at {endpoint} answered {code} {} to {doing}{said}",
                    status.reason
                ),
            }
        }
        kube::Error::HyperError(_) | kube::Error::Service(_)
            if chain(e).contains("length limit exceeded") =>
        {
            format!(
                "the API server at {endpoint} answered more than {} MiB to {doing}: stopped reading",
                RESPONSE_LIMIT / (1024 * 1024)
            )
        }
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            // Skip kube's own "ServiceError:" wrapper; the causes say it.
            let why = std::error::Error::source(e).map_or_else(|| chain(e), chain);
            format!("cannot reach the API server at {endpoint}: {why}")
        }
        kube::Error::SerdeError(json) => {
            format!("cannot {doing} at {endpoint}: the answer is not valid JSON ({json})")
        }
        kube::Error::Auth(_) => {
            format!(
                "cannot authenticate to {endpoint} with {label}: {}",
                chain(e)
            )
        }
        _ => format!("cannot {doing} at {endpoint}: {}", chain(e)),
    };
    crate::text::sanitize(&message, false)
}

impl ObjectSource for Live {
    fn describe(&self) -> String {
        self.label.clone()
    }

    fn list<'a>(
        &'a self,
        query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>> {
        Box::pin(self.select(query))
    }

    fn changes<'a>(&'a self, query: &'a ObjectQuery) -> BoxFuture<'a, Option<Changes>> {
        Box::pin(async move {
            let served = self.resolve(&query.resource).await.ok()?;
            Some(self.store(query, &served).subscribe())
        })
    }

    fn read_since<'a>(
        &'a self,
        query: &'a ObjectQuery,
        since: Option<Cursor>,
    ) -> BoxFuture<'a, Result<Delta, SourceError>> {
        Box::pin(async move {
            let served = self.resolve(&query.resource).await?;
            self.store(query, &served).read_since(query, since).await
        })
    }

    fn arriving<'a>(
        &'a self,
        query: &'a ObjectQuery,
        from: usize,
    ) -> BoxFuture<'a, Option<(Vec<Object>, usize)>> {
        Box::pin(async move {
            let served = self.resolve(&query.resource).await.ok()?;
            self.store(query, &served).arriving(query, from)
        })
    }
}

/// What discovery said of a served resource type.
#[derive(Debug, Clone)]
struct Served {
    resource: ApiResource,
    scope: Scope,
    /// The version asked for is not its group's preferred one. The server
    /// lists every object of the kind converted to any version it serves,
    /// so only the objects written in this version (by their managed
    /// fields or last-applied configuration) are the ones "using" it, as a
    /// snapshot of manifests would show.
    older_version: bool,
}

/// Whether `object` was written in `api_version` by any of its managers.
pub(super) fn written_in(object: &Value, api_version: &str) -> bool {
    let meta = &object["metadata"];
    let by_manager = meta["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|entry| entry["apiVersion"] == api_version);
    let by_apply = meta["annotations"][LAST_APPLIED]
        .as_str()
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .is_some_and(|applied| applied["apiVersion"] == api_version);
    by_manager || by_apply
}

fn not_served(resource: &ResourceType) -> SourceError {
    SourceError::NotServed(format!(
        "the cluster does not serve {resource} (is the CRD installed?)"
    ))
}

/// An error and its causes, `a: b: c`, skipping causes that repeat the text
/// of the one before (hyper and tower wrap each other's messages).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_plugins_lose_the_terminal_and_nothing_else_changes() {
        let mut kubeconfig = Kubeconfig::from_yaml(
            r#"
apiVersion: v1
kind: Config
current-context: eks
contexts:
- name: eks
  context: {cluster: eks, user: eks}
clusters:
- name: eks
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, shop]
      interactiveMode: IfAvailable
- name: plain
  user: {token: abc}
"#,
        )
        .expect("the kubeconfig parses");
        exec_plugins_off_terminal(&mut kubeconfig);
        let exec = kubeconfig.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .expect("the exec entry stays");
        assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
        assert_eq!(exec.command.as_deref(), Some("aws"));
        let plain = kubeconfig.auth_infos[1].auth_info.as_ref().expect("user");
        assert!(plain.exec.is_none());
    }
}
