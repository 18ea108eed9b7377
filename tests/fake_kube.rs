//! The fake Kubernetes API server against the real kube-rs client: lists,
//! watches, writes and failures behave as a real server's do, so tests built
//! on the fake test what a cluster would do.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::time::Duration;

use fake_kube::{FakeKube, FakeOptions, ResourceDef, write_kubeconfig};
use futures::{Stream, StreamExt};
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher::{self, Event};
use kube::{Client, Config, ResourceExt};
use serde_json::{Value, json};

const TOKEN: &str = "reviewer-token";

/// Long enough for anything the fake does; short enough that a hang fails
/// the test instead of the suite.
const PATIENCE: Duration = Duration::from_secs(5);

fn resources() -> Vec<ResourceDef> {
    vec![
        ResourceDef {
            group: "",
            version: "v1",
            kind: "Pod",
            plural: "pods",
            namespaced: true,
        },
        ResourceDef {
            group: "",
            version: "v1",
            kind: "ConfigMap",
            plural: "configmaps",
            namespaced: true,
        },
    ]
}

fn pod(namespace: &str, name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": app}},
        "spec": {"containers": [{"name": "app", "image": format!("{app}:1.0")}]}
    })
}

fn pods() -> Vec<Value> {
    vec![
        pod("shop", "web-2", "web"),
        pod("billing", "api-1", "api"),
        pod("shop", "web-1", "web"),
        pod("billing", "api-0", "api"),
        pod("shop", "db-0", "db"),
    ]
}

fn config_map(name: &str, data: Value, immutable: bool) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "gonogo"},
        "data": data,
        "immutable": immutable,
    }))
    .expect("a valid ConfigMap")
}

async fn start(options: FakeOptions) -> (FakeKube, Client) {
    gonogo::install_crypto_provider();
    let fake = FakeKube::start_with(resources(), pods(), TOKEN, options).await;
    let client = connect(&fake, TOKEN).await;
    (fake, client)
}

async fn connect(fake: &FakeKube, token: &str) -> Client {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(dir.path(), &[("fake", &fake.url(), token)]);
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a config for the fake");
    Client::try_from(config).expect("a client for the fake")
}

/// The Status a kube-rs call failed with.
fn api_error<T: std::fmt::Debug>(result: kube::Result<T>) -> kube::core::Status {
    match result {
        Err(kube::Error::Api(status)) => *status,
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn next<S, T>(stream: &mut S) -> T
where
    S: Stream<Item = T> + Unpin,
{
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("the stream said something in time")
        .expect("the stream is not over")
}

/// The next watcher event, which must not be an error.
async fn next_event<S>(stream: &mut S) -> Event<Pod>
where
    S: Stream<Item = watcher::Result<Event<Pod>>> + Unpin,
{
    next(stream).await.expect("no watcher error")
}

fn describe(event: &Event<Pod>) -> String {
    match event {
        Event::Init => "Init".into(),
        Event::InitApply(p) => format!("InitApply {}", p.name_any()),
        Event::InitDone => "InitDone".into(),
        Event::Apply(p) => format!("Apply {}", p.name_any()),
        Event::Delete(p) => format!("Delete {}", p.name_any()),
    }
}

/// Events up to and including the next `InitDone`, described.
async fn until_listed<S>(stream: &mut S) -> Vec<String>
where
    S: Stream<Item = watcher::Result<Event<Pod>>> + Unpin,
{
    let mut seen = Vec::new();
    loop {
        let event = describe(&next_event(stream).await);
        let done = event == "InitDone";
        seen.push(event);
        if done {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_paged_list_returns_every_object_in_key_order_at_one_resource_version() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::all(client);
    let mut names = Vec::new();
    let mut versions = Vec::new();
    let mut params = ListParams::default().limit(500);
    loop {
        let page = api.list(&params).await.expect("a page");
        assert!(page.items.len() <= 2, "pages hold at most page_size items");
        names.extend(
            page.items
                .iter()
                .map(|p| format!("{}/{}", p.namespace().unwrap_or_default(), p.name_any())),
        );
        versions.push(page.metadata.resource_version.clone().unwrap_or_default());
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => {
                assert!(page.metadata.remaining_item_count.is_some_and(|n| n > 0));
                params = params.continue_token(&token);
            }
            _ => break,
        }
    }
    assert_eq!(
        names,
        [
            "billing/api-0",
            "billing/api-1",
            "shop/db-0",
            "shop/web-1",
            "shop/web-2"
        ]
    );
    assert_eq!(versions.len(), 3);
    assert!(
        versions
            .iter()
            .all(|v| *v == fake.resource_version().to_string()),
        "{versions:?}"
    );
    assert_eq!(fake.lists(), 3);

    // Within a namespace, with a label selector.
    let shop: Api<Pod> = Api::namespaced(Client::from(api), "shop");
    let web = shop
        .list(&ListParams::default().labels("app in (web,cache)"))
        .await
        .expect("a page");
    let names: Vec<String> = web.items.iter().map(|p| p.name_any()).collect();
    assert_eq!(names, ["web-1", "web-2"]);
}

#[tokio::test]
async fn a_watcher_lists_then_sees_applies_and_deletes() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::namespaced(client, "shop");
    let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
    assert_eq!(
        until_listed(&mut events).await,
        [
            "Init",
            "InitApply db-0",
            "InitApply web-1",
            "InitApply web-2",
            "InitDone"
        ]
    );

    fake.apply(pod("shop", "web-3", "web"));
    fake.apply(pod("billing", "api-2", "api"));
    let rv = fake.apply(pod("shop", "web-1", "web-v2"));
    fake.delete("v1", "Pod", Some("shop"), "db-0");
    assert_eq!(describe(&next_event(&mut events).await), "Apply web-3");
    match next_event(&mut events).await {
        Event::Apply(p) => {
            assert_eq!(p.name_any(), "web-1");
            assert_eq!(p.resource_version(), Some(rv.to_string()));
            assert_eq!(p.labels()["app"], "web-v2");
        }
        other => panic!("expected web-1 modified, got {}", describe(&other)),
    }
    assert_eq!(describe(&next_event(&mut events).await), "Delete db-0");
    assert!(!fake.delete("v1", "Pod", Some("shop"), "db-0"));
}

#[tokio::test]
async fn after_compaction_the_watcher_lists_again_by_itself() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::namespaced(client, "billing");
    let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
    until_listed(&mut events).await;
    fake.apply(pod("billing", "api-2", "api"));
    assert_eq!(describe(&next_event(&mut events).await), "Apply api-2");
    let lists = fake.lists();

    fake.compact();
    fake.close_watches();
    // The open watch ends with 410 Gone, which the watcher reports and
    // answers by listing again.
    match next(&mut events).await {
        Err(watcher::Error::WatchError(status)) => assert_eq!(status.code, 410),
        other => panic!("expected the watch to expire, got {other:?}"),
    }
    assert_eq!(
        until_listed(&mut events).await,
        [
            "Init",
            "InitApply api-0",
            "InitApply api-1",
            "InitApply api-2",
            "InitDone"
        ]
    );
    assert!(fake.lists() > lists, "the watcher listed again");

    fake.apply(pod("billing", "api-3", "api"));
    assert_eq!(describe(&next_event(&mut events).await), "Apply api-3");
    // A watch closed cleanly is resumed, not relisted.
    let lists = fake.lists();
    let watches = fake.watches();
    fake.close_watches();
    fake.apply(pod("billing", "api-4", "api"));
    assert_eq!(describe(&next_event(&mut events).await), "Apply api-4");
    assert_eq!(fake.lists(), lists);
    assert!(fake.watches() > watches);
}

#[tokio::test]
async fn a_watch_from_a_forgotten_version_gets_410_in_the_stream() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::all(client);
    fake.compact();
    let stream = api
        .watch(&WatchParams::default(), "1")
        .await
        .expect("the watch starts");
    let mut stream = stream.boxed();
    match next(&mut stream).await {
        Ok(WatchEvent::Error(status)) => {
            assert_eq!(status.code, 410);
            assert_eq!(status.reason, "Expired");
            assert!(
                status.message.starts_with("too old resource version: 1 ("),
                "{}",
                status.message
            );
        }
        other => panic!("expected a 410 error event, got {other:?}"),
    }
    assert!(
        tokio::time::timeout(PATIENCE, stream.next())
            .await
            .expect("the stream ends")
            .is_none()
    );
}

#[tokio::test]
async fn a_watch_with_bookmarks_gets_them_and_sees_objects_leave_its_selection() {
    let options = FakeOptions {
        bookmark_every: Duration::from_millis(50),
        ..FakeOptions::default()
    };
    let (fake, client) = start(options).await;
    let api: Api<Pod> = Api::all(client);
    let from = fake.resource_version().to_string();
    let params = WatchParams::default().labels("app=web");
    let mut stream = api.watch(&params, &from).await.expect("watch").boxed();
    let rv = fake.apply(pod("shop", "web-1", "retired"));
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match next(&mut stream).await.expect("a watch event") {
            WatchEvent::Deleted(p) => seen.push(format!("DELETED {}", p.name_any())),
            WatchEvent::Bookmark(b) => {
                let bookmark: u64 = b.metadata.resource_version.parse().expect("a number");
                assert!(bookmark >= rv, "a bookmark passes what was sent before it");
                seen.push("BOOKMARK".into());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["DELETED web-1", "BOOKMARK"]);
}

#[tokio::test]
async fn a_continue_token_from_before_compaction_is_gone() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::all(client);
    let first = api.list(&ListParams::default()).await.expect("a page");
    let token = first.metadata.continue_.expect("more pages");
    fake.compact();
    let status = api_error(
        api.list(&ListParams::default().continue_token(&token))
            .await,
    );
    assert_eq!(status.code, 410);
    assert_eq!(status.reason, "Expired");
    assert!(
        status
            .message
            .starts_with("The provided continue parameter is too old"),
        "{}",
        status.message
    );
}

#[tokio::test]
async fn creating_a_taken_name_is_refused_as_already_exists() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "gonogo");
    let entry = config_map("signoff-1", json!({"by": "ana"}), true);
    let created = api
        .create(&PostParams::default(), &entry)
        .await
        .expect("created");
    assert!(created.uid().is_some());
    assert_eq!(
        created.resource_version(),
        Some(fake.resource_version().to_string())
    );
    let status = api_error(api.create(&PostParams::default(), &entry).await);
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "AlreadyExists");
    assert_eq!(status.message, "configmaps \"signoff-1\" already exists");

    // generateName picks a free name.
    let mut generated = config_map("", json!({"by": "bo"}), true);
    generated.metadata.name = None;
    generated.metadata.generate_name = Some("signoff-".into());
    let created = api
        .create(&PostParams::default(), &generated)
        .await
        .expect("created");
    assert!(created.name_any().starts_with("signoff-"));
    assert_eq!(created.name_any().len(), "signoff-".len() + 5);
}

#[tokio::test]
async fn an_immutable_config_map_refuses_new_data_and_stale_writes_conflict() {
    let (_fake, client) = start(FakeOptions::default()).await;
    let api: Api<ConfigMap> = Api::namespaced(client, "gonogo");
    let pp = PostParams::default();
    let sealed = api
        .create(&pp, &config_map("signoff-1", json!({"by": "ana"}), true))
        .await
        .expect("created");
    let mut changed = sealed.clone();
    changed.data = Some([("by".to_string(), "mallory".to_string())].into());
    let status = api_error(api.replace("signoff-1", &pp, &changed).await);
    assert_eq!(status.code, 422);
    assert_eq!(status.reason, "Invalid");
    assert_eq!(
        status.message,
        "ConfigMap \"signoff-1\" is invalid: data: Forbidden: field is immutable when \
         `immutable` is set"
    );
    // Its labels may change.
    let mut labelled = sealed.clone();
    labelled
        .labels_mut()
        .insert("gonogo/review".into(), "r1".into());
    let replaced = api.replace("signoff-1", &pp, &labelled).await.expect("ok");
    assert_eq!(replaced.uid(), sealed.uid());

    // A write based on what was read before someone else's is a conflict.
    let open = api
        .create(&pp, &config_map("draft", json!({"a": "1"}), false))
        .await
        .expect("created");
    let mut first = open.clone();
    first.data = Some([("a".to_string(), "2".to_string())].into());
    api.replace("draft", &pp, &first).await.expect("replaced");
    let status = api_error(api.replace("draft", &pp, &open).await);
    assert_eq!(status.code, 409);
    assert_eq!(status.reason, "Conflict");

    api.delete("draft", &DeleteParams::default())
        .await
        .expect("deleted");
    let status = api_error(api.get("draft").await);
    assert_eq!(status.code, 404);
    let status = api_error(api.delete("draft", &DeleteParams::default()).await);
    assert_eq!(status.code, 404);
}

#[tokio::test]
async fn self_subject_review_names_the_user_of_the_token() {
    let (fake, client) = start(FakeOptions::default()).await;
    let review: SelfSubjectReview = serde_json::from_value(json!({
        "apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"
    }))
    .expect("a review");
    let api: Api<SelfSubjectReview> = Api::all(client);
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .expect("reviewed");
    let user = answer.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(
        user.username.as_deref(),
        Some("system:serviceaccount:gonogo:reviewer")
    );

    fake.add_user("ana-token", "ana@example.com", &["sre"]);
    let api: Api<SelfSubjectReview> = Api::all(connect(&fake, "ana-token").await);
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .expect("reviewed");
    let user = answer.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(user.username.as_deref(), Some("ana@example.com"));
    assert_eq!(user.groups, Some(vec!["sre".to_string()]));
}

#[tokio::test]
async fn a_failing_server_answers_its_status_and_recovers() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::namespaced(client, "shop");
    let mut watch = api
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    for _ in 0..3 {
        assert!(matches!(next(&mut watch).await, Ok(WatchEvent::Added(_))));
    }
    fake.fail_with(Some(500));
    let ended = tokio::time::timeout(PATIENCE, watch.next()).await;
    assert!(ended.expect("the watch ends").is_none());
    let status = api_error(api.list(&ListParams::default()).await);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (500, "InternalError")
    );
    let status = api_error(api.get("web-1").await);
    assert_eq!(
        (status.code, status.reason.as_str()),
        (500, "InternalError")
    );
    fake.fail_with(None);
    let page = api
        .list(&ListParams::default())
        .await
        .expect("served again");
    assert_eq!(page.items.len(), 2);
}

/// kube-rs retries 429, 503 and 504 by itself, with a backoff that grows to
/// minutes; a 503 that lasts is a hang, not an error, to its caller.
#[tokio::test]
async fn a_503_is_retried_by_kube_until_the_server_recovers() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::namespaced(client, "shop");
    fake.fail_with(Some(503));
    let before = fake.requests().len();
    let list = tokio::spawn(async move { api.list(&ListParams::default()).await });
    tokio::time::timeout(PATIENCE, async {
        while fake.requests().len() < before + 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the client retried");
    fake.fail_with(None);
    let page = tokio::time::timeout(PATIENCE, list)
        .await
        .expect("the retry after recovery succeeds")
        .expect("the task ran")
        .expect("served again");
    assert_eq!(page.items.len(), 2);
}

#[tokio::test]
async fn kube_speaks_to_the_fake_over_tls_as_well() {
    let (fake, _) = start(FakeOptions::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(dir.path(), &[("fake", &fake.tls_url(), TOKEN)]);
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("a config for the fake");
    let client = Client::try_from(config).expect("a client for the fake");
    let api: Api<Pod> = Api::namespaced(client, "shop");
    let mut events = watcher::watcher(api, watcher::Config::default()).boxed();
    assert_eq!(until_listed(&mut events).await.len(), 5);
    fake.apply(pod("shop", "web-3", "web"));
    assert_eq!(describe(&next_event(&mut events).await), "Apply web-3");
}

#[tokio::test]
async fn a_forbidden_type_cannot_be_watched_either() {
    let (fake, client) = start(FakeOptions::default()).await;
    fake.forbid("pods");
    let api: Api<Pod> = Api::namespaced(client, "shop");
    let status = api_error(api.watch(&WatchParams::default(), "0").await.map(|_| ()));
    assert_eq!(status.code, 403);
    assert_eq!(
        status.message,
        "pods is forbidden: User \"system:serviceaccount:gonogo:reviewer\" cannot watch \
         resource \"pods\" in API group \"\" in the namespace \"shop\""
    );
}

#[tokio::test]
async fn a_watch_from_beyond_the_kept_history_gets_410() {
    let options = FakeOptions {
        history: 3,
        ..FakeOptions::default()
    };
    let (fake, client) = start(options).await;
    let api: Api<Pod> = Api::all(client);
    let from = fake.resource_version();
    for i in 0..3 {
        fake.apply(pod("shop", &format!("job-{i}"), "job"));
    }
    // The last three events are kept: from `from` on, all of them.
    let mut stream = api
        .watch(&WatchParams::default(), &from.to_string())
        .await
        .expect("watch")
        .boxed();
    for i in 0..3 {
        match next(&mut stream).await {
            Ok(WatchEvent::Added(p)) => assert_eq!(p.name_any(), format!("job-{i}")),
            other => panic!("expected job-{i} added, got {other:?}"),
        }
    }
    fake.apply(pod("shop", "job-3", "job"));
    let mut stream = api
        .watch(&WatchParams::default(), &from.to_string())
        .await
        .expect("watch")
        .boxed();
    match next(&mut stream).await {
        Ok(WatchEvent::Error(status)) => assert_eq!(status.code, 410),
        other => panic!("expected 410, got {other:?}"),
    }
}

#[test]
fn the_synthetic_cluster_is_the_same_every_time_and_mixes_good_and_bad() {
    let cluster = fake_kube::synthetic_cluster(2_000, 200, 200, 200, 5);
    assert_eq!(
        cluster,
        fake_kube::synthetic_cluster(2_000, 200, 200, 200, 5)
    );
    let of = |kind: &str| -> Vec<&Value> { cluster.iter().filter(|o| o["kind"] == kind).collect() };
    let pods = of("Pod");
    let deployments = of("Deployment");
    assert_eq!(
        [
            pods.len(),
            deployments.len(),
            of("ReplicaSet").len(),
            of("Service").len(),
            of("ConfigMap").len(),
            of("Namespace").len()
        ],
        [2_000, 200, 200, 200, 200, 5]
    );
    let bytes: usize = pods.iter().map(|p| p.to_string().len()).sum();
    let each = bytes / pods.len();
    assert!(
        (1_500..2_000).contains(&each),
        "a pod is {each} bytes of JSON"
    );

    let share = |count: usize| count as f64 / pods.len() as f64;
    let container = |p: &Value| p["spec"]["containers"][0].clone();
    let unlimited = share(
        pods.iter()
            .filter(|p| container(p)["resources"]["limits"].is_null())
            .count(),
    );
    assert!(
        (0.03..0.08).contains(&unlimited),
        "{unlimited} of pods have no limits"
    );
    let latest = pods
        .iter()
        .filter(|p| {
            container(p)["image"]
                .as_str()
                .is_some_and(|i| i.ends_with(":latest"))
        })
        .count();
    let privileged = pods
        .iter()
        .filter(|p| container(p)["securityContext"]["privileged"] == true)
        .count();
    let crashing = pods
        .iter()
        .filter(|p| p["status"]["containerStatuses"][0]["ready"] == false)
        .count();
    assert!(
        latest > 0 && privileged > 0 && crashing > 0,
        "{latest} {privileged} {crashing}"
    );
    assert!(privileged < latest, "privileged containers are rare");
    let single = deployments
        .iter()
        .filter(|d| d["spec"]["replicas"] == 1)
        .count();
    assert!(
        single > 0 && single < deployments.len() / 5,
        "{single} single replicas"
    );
    assert!(deployments.iter().all(|d| {
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"].is_string()
            && d["metadata"]["managedFields"].is_array()
    }));

    // Every pod is owned by a ReplicaSet of its namespace, owned by a
    // Deployment, and there are as many pods as replicas.
    let replica_sets: std::collections::HashMap<(&str, &str), &Value> = of("ReplicaSet")
        .into_iter()
        .map(|rs| {
            (
                (
                    rs["metadata"]["namespace"].as_str().unwrap_or(""),
                    rs["metadata"]["name"].as_str().unwrap_or(""),
                ),
                rs,
            )
        })
        .collect();
    for p in &pods {
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["kind"], "ReplicaSet");
        let key = (
            p["metadata"]["namespace"].as_str().unwrap_or(""),
            owner["name"].as_str().unwrap_or(""),
        );
        let rs = replica_sets.get(&key).expect("the owner is there");
        assert_eq!(owner["uid"], rs["metadata"]["uid"]);
    }
    let replicas: u64 = deployments
        .iter()
        .map(|d| d["spec"]["replicas"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(replicas, 2_000);
}

/// kube-runtime's streaming lists: one watch with `sendInitialEvents`
/// instead of a list, ended by a bookmark marking the initial events' end.
#[tokio::test]
async fn a_streaming_list_watcher_gets_its_initial_events_then_changes() {
    let (fake, client) = start(FakeOptions::default()).await;
    let api: Api<Pod> = Api::namespaced(client, "billing");
    let config = watcher::Config::default().streaming_lists();
    let mut events = watcher::watcher(api, config).boxed();
    assert_eq!(
        until_listed(&mut events).await,
        ["Init", "InitApply api-0", "InitApply api-1", "InitDone"]
    );
    assert_eq!(fake.lists(), 0, "no list was needed");
    fake.delete("v1", "Pod", Some("billing"), "api-0");
    assert_eq!(describe(&next_event(&mut events).await), "Delete api-0");
}

/// How long kube-rs takes to list 50,000 pods (88 MB of JSON) in pages of
/// 500 from the fake; a measurement more than a test, so ignored. Run it
/// optimised: `cargo test --release --test fake_kube -- --ignored --nocapture`
#[tokio::test]
#[ignore = "a measurement: run with --release"]
async fn listing_50_000_pods_in_pages_of_500() {
    gonogo::install_crypto_provider();
    let options = FakeOptions {
        page_size: 500,
        ..FakeOptions::default()
    };
    let objects = fake_kube::synthetic_cluster(50_000, 5_000, 0, 0, 50);
    let fake =
        FakeKube::start_with(fake_kube::synthetic_resources(), objects, TOKEN, options).await;
    for url in [fake.url(), fake.tls_url()] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = write_kubeconfig(dir.path(), &[("fake", &url, TOKEN)]);
        let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
        let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .expect("a config for the fake");
        let api: Api<Pod> = Api::all(Client::try_from(config).expect("a client"));
        let started = std::time::Instant::now();
        let mut params = ListParams::default().limit(500);
        let mut pods = 0;
        let mut slowest = Duration::ZERO;
        loop {
            let asked = std::time::Instant::now();
            let page = api.list(&params).await.expect("a page");
            slowest = slowest.max(asked.elapsed());
            pods += page.items.len();
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        let took = started.elapsed();
        eprintln!("{url}: {pods} pods in {took:?}, slowest page {slowest:?}");
        assert_eq!(pods, 50_000);
        assert!(slowest < Duration::from_secs(1), "no page takes seconds");
    }
}
