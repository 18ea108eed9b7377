//! A fake Kubernetes API server on 127.0.0.1 speaking the real wire protocol
//! (discovery, list with selectors and pages, get, Status errors, bearer
//! tokens), so the real kube-rs client can be tested without a cluster.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

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

struct FakeState {
    token: String,
    resources: Vec<ResourceDef>,
    objects: Mutex<Vec<Value>>,
    forbidden: Mutex<HashSet<String>>,
    /// Every request as `path?query`, for asserting what the client asked.
    requests: Mutex<Vec<String>>,
    /// Lists answer at most this many items per page, whatever `limit` says,
    /// so clients must follow `continue` tokens.
    page_size: usize,
}

pub struct FakeKube {
    pub addr: SocketAddr,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeKube {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeKube {
    /// Starts serving `objects` (full objects with apiVersion and kind) of
    /// the `resources` types; requests must carry `Bearer <token>`.
    pub async fn start(resources: Vec<ResourceDef>, objects: Vec<Value>, token: &str) -> FakeKube {
        let state = Arc::new(FakeState {
            token: token.to_string(),
            resources,
            objects: Mutex::new(objects),
            forbidden: Mutex::new(HashSet::new()),
            requests: Mutex::new(Vec::new()),
            page_size: 2,
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKube { addr, state, task }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Makes every request for `plural` answer 403, as RBAC would.
    pub fn forbid(&self, plural: &str) {
        self.state
            .forbidden
            .lock()
            .expect("fake state lock")
            .insert(plural.to_string());
    }

    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().expect("fake state lock").clone()
    }
}

/// Writes a kubeconfig with one context per `(context, server, token)`.
pub fn write_kubeconfig(dir: &Path, contexts: &[(&str, &str, &str)]) -> PathBuf {
    let mut clusters = Vec::new();
    let mut users = Vec::new();
    let mut entries = Vec::new();
    for (name, server, token) in contexts {
        clusters.push(json!({"name": format!("{name}-cluster"), "cluster": {"server": server}}));
        users.push(json!({"name": format!("{name}-user"), "user": {"token": token}}));
        entries.push(json!({
            "name": name,
            "context": {"cluster": format!("{name}-cluster"), "user": format!("{name}-user")}
        }));
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": clusters,
        "users": users,
        "contexts": entries,
        "current-context": contexts.first().map(|c| c.0),
    });
    let path = dir.join("kubeconfig");
    // JSON is YAML: the kubeconfig loader reads it as written.
    std::fs::write(&path, config.to_string()).expect("temp dir is writable");
    path
}

async fn handle(
    State(state): State<Arc<FakeState>>,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    state.requests.lock().expect("fake state lock").push(
        uri.path_and_query()
            .map_or_else(|| uri.path().to_string(), |p| p.to_string()),
    );
    let expected = format!("Bearer {}", state.token);
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some(expected.as_str()) {
        return status(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let path = uri.path().trim_matches('/');
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["version"] => ok(json!({
            "major": "1", "minor": "37", "gitVersion": "v1.37.0",
            "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
            "buildDate": "2026-08-01T00:00:00Z", "goVersion": "go1.25.0",
            "compiler": "gc", "platform": "linux/amd64"
        })),
        ["api"] => ok(json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}]
        })),
        ["apis"] => ok(group_list(&state)),
        ["api", version] => resource_list(&state, "", version),
        ["apis", group, version] => resource_list(&state, group, version),
        ["api", version, rest @ ..] => objects(&state, "", version, rest, &query),
        ["apis", group, version, rest @ ..] => objects(&state, group, version, rest, &query),
        _ => not_found(),
    }
}

fn ok(body: Value) -> Response {
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// A `Status` object, the shape every API server error has.
fn status(code: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    });
    (code, axum::Json(body)).into_response()
}

fn not_found() -> Response {
    status(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

/// Every group with its versions in the order the resources list them; the
/// first is the preferred one, as a real server's APIGroupList says.
fn group_list(state: &FakeState) -> Value {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for r in state.resources.iter().filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => groups.push((r.group, vec![r.version])),
        }
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

fn resource_list(state: &FakeState, group: &str, version: &str) -> Response {
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
        resources.push(json!({
            "name": r.plural,
            "singularName": r.kind.to_lowercase(),
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": verbs,
        }));
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

fn objects(
    state: &FakeState,
    group: &str,
    version: &str,
    rest: &[&str],
    query: &HashMap<String, String>,
) -> Response {
    let (namespace, plural, name) = match rest {
        [plural] => (None, *plural, None),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return not_found(),
    };
    let Some(def) = state
        .resources
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
    else {
        return not_found();
    };
    if state
        .forbidden
        .lock()
        .expect("fake state lock")
        .contains(plural)
    {
        let scope = namespace.map_or(" at the cluster scope".to_string(), |ns| {
            format!(" in the namespace \"{ns}\"")
        });
        let verb = if name.is_some() { "get" } else { "list" };
        let message = format!(
            "{plural} is forbidden: User \"system:serviceaccount:gonogo:reviewer\" cannot {verb} \
             resource \"{plural}\" in API group \"{group}\"{scope}"
        );
        return status(StatusCode::FORBIDDEN, "Forbidden", &message);
    }
    let gv = def.group_version();
    let all = state.objects.lock().expect("fake state lock").clone();
    // Like a real server, every object of the kind is served in every
    // version of its group, converted: only `apiVersion` says which was
    // asked for, and `managedFields` which one each writer used.
    let same_group = |o: &Value| {
        let api_version = o["apiVersion"].as_str().unwrap_or("");
        let object_group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
        object_group == group
    };
    let mut selected: Vec<Value> = all
        .into_iter()
        .filter(|o| same_group(o) && o["kind"] == json!(def.kind))
        .filter(|o| namespace.is_none_or(|ns| o["metadata"]["namespace"] == json!(ns)))
        .map(|mut o| {
            o["apiVersion"] = json!(gv);
            o
        })
        .collect();
    if let Some(name) = name {
        return match selected
            .into_iter()
            .find(|o| o["metadata"]["name"] == json!(name))
        {
            Some(object) => ok(object),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                &format!("{plural} \"{name}\" not found"),
            ),
        };
    }
    if let Some(selector) = query.get("labelSelector").filter(|s| !s.is_empty()) {
        match equality_terms(selector) {
            Some(terms) => selected.retain(|o| {
                terms.iter().all(|(key, equal, value)| {
                    let label = o["metadata"]["labels"][key.as_str()].as_str();
                    (label == Some(value.as_str())) == *equal
                })
            }),
            None => return bad_request(&format!("unable to parse requirement: {selector}")),
        }
    }
    if let Some(selector) = query.get("fieldSelector").filter(|s| !s.is_empty()) {
        let Some(terms) = equality_terms(selector) else {
            return bad_request(&format!("invalid field selector: {selector}"));
        };
        for (field, _, _) in &terms {
            if field != "metadata.name" && field != "metadata.namespace" {
                return bad_request(&format!("field label not supported: {field}"));
            }
        }
        selected.retain(|o| {
            terms.iter().all(|(field, equal, value)| {
                let key = field.trim_start_matches("metadata.");
                (o["metadata"][key].as_str() == Some(value.as_str())) == *equal
            })
        });
    }
    page(state, def, selected, query)
}

fn page(
    state: &FakeState,
    def: &ResourceDef,
    selected: Vec<Value>,
    query: &HashMap<String, String>,
) -> Response {
    let start: usize = query
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(usize::MAX)
        .min(state.page_size);
    let end = (start + limit).min(selected.len());
    let items: Vec<Value> = selected[start.min(end)..end]
        .iter()
        .cloned()
        .map(|mut item| {
            // Real servers leave the type out of list items.
            if let Some(map) = item.as_object_mut() {
                map.remove("apiVersion");
                map.remove("kind");
            }
            item
        })
        .collect();
    let mut metadata = json!({"resourceVersion": "1000"});
    if end < selected.len() {
        metadata["continue"] = json!(end.to_string());
        metadata["remainingItemCount"] = json!(selected.len() - end);
    }
    ok(json!({
        "kind": format!("{}List", def.kind),
        "apiVersion": def.group_version(),
        "metadata": metadata,
        "items": items,
    }))
}

fn bad_request(message: &str) -> Response {
    status(StatusCode::BAD_REQUEST, "BadRequest", message)
}

/// `a=b,c!=d` as (key, equal, value); `None` for anything fancier, which
/// this fake does not serve.
fn equality_terms(selector: &str) -> Option<Vec<(String, bool, String)>> {
    selector
        .split(',')
        .map(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                Some((k.to_string(), false, v.to_string()))
            } else if let Some((k, v)) = term.split_once("==") {
                Some((k.to_string(), true, v.to_string()))
            } else {
                let (k, v) = term.split_once('=')?;
                Some((k.to_string(), true, v.to_string()))
            }
        })
        .collect()
}
