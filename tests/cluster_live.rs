//! kube probes against a live cluster: the real kube-rs client talking to a
//! fake API server on 127.0.0.1 through a kubeconfig written by the test.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use ::kube::config::Kubeconfig;
use fake_kube::{FakeKube, ResourceDef, write_kubeconfig};
use gonogo::checklist::model::{KubeProbe, ResourceType};
use gonogo::cluster::live::Live;
use gonogo::cluster::{ObjectQuery, ObjectSource, SourceError};
use gonogo::probe::Verdict;
use gonogo::probe::kube as kube_probe;
use gonogo::probe::{Outcome, cel};
use serde_json::{Value, json};

const TOKEN: &str = "reviewer-token";

fn resources() -> Vec<ResourceDef> {
    let def = |group, version, kind, plural, namespaced| ResourceDef {
        group,
        version,
        kind,
        plural,
        namespaced,
    };
    vec![
        def("", "v1", "Secret", "secrets", true),
        def("", "v1", "ConfigMap", "configmaps", true),
        def("apps", "v1", "Deployment", "deployments", true),
        def(
            "rbac.authorization.k8s.io",
            "v1",
            "ClusterRole",
            "clusterroles",
            false,
        ),
        def(
            "monitoring.coreos.com",
            "v1",
            "ServiceMonitor",
            "servicemonitors",
            true,
        ),
        // Two versions of one group; the first listed is the preferred one.
        def(
            "autoscaling",
            "v2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
        def(
            "autoscaling",
            "v2beta2",
            "HorizontalPodAutoscaler",
            "horizontalpodautoscalers",
            true,
        ),
    ]
}

/// An autoscaler last written by a client that spoke `api_version`.
fn autoscaler(name: &str, api_version: &str) -> Value {
    json!({
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name, "namespace": "cmp",
            "managedFields": [{"manager": "helm", "operation": "Update", "apiVersion": api_version}]
        },
        "spec": {"minReplicas": 2, "maxReplicas": 6}
    })
}

fn deployment(ns: &str, name: &str, replicas: Option<i64>) -> Value {
    let mut spec = json!({"template": {"spec": {"containers": [{"name": name, "image": format!("{name}:1.0")}]}}});
    if let Some(r) = replicas {
        spec["replicas"] = json!(r);
    }
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name, "namespace": ns, "resourceVersion": "17",
            "labels": {"app": name, "team": "cmp"},
            "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
        },
        "spec": spec,
    })
}

fn cluster_objects() -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "cmp-registry-secret", "namespace": "cmp", "resourceVersion": "5"},
            "data": {"CMP_REGISTRY_DATABASE_URL": "cG9zdGdyZXM6Ly9zM2NyZXQ=", "OIDC_AUDIENCE": "Y21wLWF1ZA=="}
        }),
        json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cmp-config", "namespace": "cmp"}, "data": {"a": "b"}
        }),
        deployment("cmp", "portal", Some(3)),
        deployment("cmp", "jobs", Some(1)),
        deployment("cmp", "registry", None),
        deployment("monitoring", "grafana", Some(2)),
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "cmp-reviewer"}, "rules": []
        }),
        json!({
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": {"name": "portal", "namespace": "cmp", "labels": {"app": "portal"}},
            "spec": {"endpoints": [{"port": "metrics", "interval": "30s"}]}
        }),
        autoscaler("portal", "autoscaling/v2"),
        autoscaler("registry", "autoscaling/v2beta2"),
    ]
}

struct Env {
    fake: FakeKube,
    _dir: tempfile::TempDir,
    live: Live,
}

async fn start() -> Env {
    gonogo::install_crypto_provider();
    let fake = FakeKube::start(resources(), cluster_objects(), TOKEN).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fake.url();
    let path = write_kubeconfig(
        dir.path(),
        &[
            ("other", "http://127.0.0.1:9", TOKEN),
            ("test", &url, TOKEN),
        ],
    );
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let live = Live::from_kubeconfig(kubeconfig, Some("test"))
        .await
        .expect("a client for the fake server");
    Env {
        fake,
        _dir: dir,
        live,
    }
}

fn probe(resource: &str) -> KubeProbe {
    KubeProbe::of(ResourceType::parse(resource).expect("test resource types are valid"))
}

fn with(mut p: KubeProbe, ns: Option<&str>, name: Option<&str>, expect: Option<&str>) -> KubeProbe {
    p.namespace = ns.map(str::to_string);
    p.name = name.map(str::to_string);
    p.expect = expect.map(|e| cel::compile(e).expect("test expressions compile"));
    p
}

fn assert_verdict(out: &Outcome, verdict: Verdict) {
    assert_eq!(out.verdict, verdict, "summary: {}", out.evidence.summary);
}

#[tokio::test]
async fn secret_with_required_keys_passes_and_missing_key_fails_naming_keys() {
    let env = start().await;
    assert_eq!(env.live.describe(), "context test");
    let secret = |expect| {
        with(
            probe("v1/Secret"),
            Some("cmp"),
            Some("cmp-registry-secret"),
            Some(expect),
        )
    };
    let out = kube_probe::run(
        &secret("has(object.data.CMP_REGISTRY_DATABASE_URL)"),
        &env.live,
    )
    .await;
    assert_verdict(&out, Verdict::Pass);
    assert_eq!(out.evidence.detail["source"], json!("context test"));

    let out = kube_probe::run(&secret("has(object.data.OIDC_ISSUER)"), &env.live).await;
    assert_verdict(&out, Verdict::Fail);
    assert_eq!(
        out.evidence.summary,
        "v1/Secret cmp/cmp-registry-secret: object.data has no key OIDC_ISSUER \
         (keys: CMP_REGISTRY_DATABASE_URL, OIDC_AUDIENCE)"
    );

    // Reading the key without has() is the checklist's mistake: an error
    // that names the key.
    let out = kube_probe::run(&secret("object.data.OIDC_ISSUER != ''"), &env.live).await;
    assert_verdict(&out, Verdict::Error);
    assert_eq!(
        out.evidence.summary,
        "expect could not be evaluated on cmp/cmp-registry-secret: it reads \
         object.data.OIDC_ISSUER, which is not there (guard it with has())"
    );
    let text = serde_json::to_string(&out).expect("outcomes serialize");
    assert!(!text.contains("cG9zdGdyZXM6Ly9zM2NyZXQ="), "{text}");

    let out = kube_probe::run(
        &with(probe("v1/Secret"), Some("cmp"), Some("cmp-oidc"), None),
        &env.live,
    )
    .await;
    assert_verdict(&out, Verdict::Fail);
    assert_eq!(
        out.evidence.summary,
        "no v1/Secret named cmp-oidc in namespace cmp"
    );
}

#[tokio::test]
async fn deployments_fail_with_each_object_and_reason() {
    let env = start().await;
    let p = with(
        probe("apps/v1/Deployment"),
        Some("cmp"),
        None,
        Some("has(object.spec.replicas) && object.spec.replicas >= 2"),
    );
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Fail);
    assert_eq!(
        out.evidence.summary,
        "2 of 3 apps/v1/Deployment fail: cmp/jobs: object.spec.replicas is 1, wants >= 2; \
         cmp/registry: object.spec has no field replicas"
    );
    assert_eq!(out.evidence.detail["selected"], json!(3));

    // Across all namespaces, through several pages of the list.
    let p = with(
        probe("apps/v1/Deployment"),
        None,
        None,
        Some(
            "object.apiVersion == 'apps/v1' && object.kind == 'Deployment' \
             && !has(object.metadata.managedFields)",
        ),
    );
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    assert_eq!(
        out.evidence.summary,
        "all 4 apps/v1/Deployment satisfy expect"
    );
    let continued = env
        .fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("/apis/apps/v1/deployments?") && r.contains("continue="))
        .count();
    assert!(
        continued >= 1,
        "the client followed continue tokens: {:?}",
        env.fake.requests()
    );
}

#[tokio::test]
async fn selectors_are_applied_to_the_one_followed_list_of_the_type() {
    let env = start().await;
    let mut p = with(probe("apps/v1/Deployment"), Some("cmp"), None, None);
    p.selector = gonogo::cluster::selector::parse_label_selector("team=cmp,app!=jobs")
        .expect("valid selector");
    // The API server accepts only metadata fields in field selectors; this
    // one must be applied by the client.
    p.field_selector =
        gonogo::cluster::selector::parse_field_selector("spec.replicas=3").expect("valid selector");
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    assert_eq!(out.evidence.summary, "apps/v1/Deployment cmp/portal exists");
    // The namespace's Deployments are listed and watched whole; the
    // selectors narrow them here, so other probes on the type share them.
    let sent = env.fake.requests();
    assert!(
        !sent
            .iter()
            .any(|r| r.contains("labelSelector") || r.contains("fieldSelector")),
        "{sent:?}"
    );

    // A name without a namespace is a field selector on the whole list.
    let p = with(probe("apps/v1/Deployment"), None, Some("grafana"), None);
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    assert_eq!(
        out.evidence.summary,
        "apps/v1/Deployment monitoring/grafana exists"
    );
}

#[tokio::test]
async fn cluster_scoped_types_ignore_the_namespace() {
    let env = start().await;
    let p = with(
        probe("rbac.authorization.k8s.io/v1/ClusterRole"),
        Some("cmp"),
        Some("cmp-reviewer"),
        None,
    );
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    assert_eq!(
        out.evidence.summary,
        "rbac.authorization.k8s.io/v1/ClusterRole cmp-reviewer exists"
    );
}

#[tokio::test]
async fn crd_types_are_served_through_discovery_once() {
    let env = start().await;
    let mut p = with(
        probe("monitoring.coreos.com/v1/ServiceMonitor"),
        Some("cmp"),
        None,
        Some("object.spec.endpoints.all(e, e.interval == '30s')"),
    );
    p.selector =
        gonogo::cluster::selector::parse_label_selector("app=portal").expect("valid selector");
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    let discovery = env
        .fake
        .requests()
        .iter()
        .filter(|r| *r == "/apis/monitoring.coreos.com/v1")
        .count();
    assert_eq!(discovery, 1, "discovery is cached per type");
}

#[tokio::test]
async fn types_the_cluster_does_not_serve_fail_saying_so() {
    let env = start().await;
    // A whole API group that is not there.
    let out = kube_probe::run(&probe("gateway.networking.k8s.io/v1/HTTPRoute"), &env.live).await;
    assert_verdict(&out, Verdict::Fail);
    assert_eq!(
        out.evidence.summary,
        "the cluster does not serve gateway.networking.k8s.io/v1/HTTPRoute (is the CRD installed?)"
    );
    // A group that is there, without this kind.
    let out = kube_probe::run(&probe("monitoring.coreos.com/v1/PrometheusRule"), &env.live).await;
    assert_verdict(&out, Verdict::Fail);
    assert_eq!(
        out.evidence.summary,
        "the cluster does not serve monitoring.coreos.com/v1/PrometheusRule (is the CRD installed?)"
    );
    let query = ObjectQuery {
        resource: ResourceType::parse("monitoring.coreos.com/v1beta1/ServiceMonitor")
            .expect("valid resource type"),
        namespace: None,
        name: None,
        label_selector: Default::default(),
        field_selector: Default::default(),
    };
    assert!(matches!(
        env.live.list(&query).await,
        Err(SourceError::NotServed(_))
    ));
}

/// A probe that allows no object of a type (`max = 0`, `min = 0`) passes
/// when the cluster does not serve the type at all, as a snapshot without
/// such objects would: a removed API version cannot be in use.
#[tokio::test]
async fn a_type_not_served_is_none_in_use_when_none_is_allowed() {
    let env = start().await;
    let mut p = probe("policy/v1beta1/PodSecurityPolicy");
    p.min = 0;
    p.max = Some(0);
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Pass);
    assert!(
        out.evidence.detail["not_served"]
            .as_str()
            .is_some_and(|why| why.contains("does not serve policy/v1beta1/PodSecurityPolicy")),
        "{}",
        out.evidence.detail
    );
}

/// The server lists every autoscaler in every version it serves; asked for
/// the older version, only the one written in it counts, so a deprecation
/// check finds the same objects live as in the manifests.
#[tokio::test]
async fn an_older_version_selects_the_objects_written_in_it() {
    let env = start().await;
    let names = |objects: Vec<gonogo::cluster::Object>| -> Vec<String> {
        objects
            .iter()
            .map(|o| o.name().unwrap_or("").to_string())
            .collect()
    };
    let query = |resource: &str| ObjectQuery {
        resource: ResourceType::parse(resource).expect("valid resource type"),
        namespace: Some("cmp".into()),
        name: None,
        label_selector: Default::default(),
        field_selector: Default::default(),
    };
    let current = env
        .live
        .list(&query("autoscaling/v2/HorizontalPodAutoscaler"))
        .await
        .expect("served");
    assert_eq!(names(current), ["portal", "registry"]);
    let older = env
        .live
        .list(&query("autoscaling/v2beta2/HorizontalPodAutoscaler"))
        .await
        .expect("served");
    assert_eq!(older[0].to_json()["apiVersion"], "autoscaling/v2beta2");
    assert_eq!(names(older), ["registry"]);

    let mut p = probe("autoscaling/v2beta2/HorizontalPodAutoscaler");
    p.namespace = Some("cmp".into());
    p.min = 0;
    p.max = Some(0);
    let out = kube_probe::run(&p, &env.live).await;
    assert_verdict(&out, Verdict::Fail);
}

#[tokio::test]
async fn forbidden_is_an_error_naming_it() {
    let env = start().await;
    env.fake.forbid("configmaps");
    let out = kube_probe::run(
        &with(probe("v1/ConfigMap"), Some("cmp"), None, None),
        &env.live,
    )
    .await;
    assert_verdict(&out, Verdict::Error);
    assert!(
        out.evidence.summary.starts_with(
            "forbidden: cannot list v1/ConfigMap with context test: configmaps is forbidden"
        ),
        "{}",
        out.evidence.summary
    );
}

#[tokio::test]
async fn rejected_credentials_are_an_error() {
    let env = start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(dir.path(), &[("stale", &env.fake.url(), "expired-token")]);
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let live = Live::from_kubeconfig(kubeconfig, None)
        .await
        .expect("a client for the fake server");
    assert_eq!(live.describe(), "context stale");
    let out = kube_probe::run(&probe("v1/Secret"), &live).await;
    assert_verdict(&out, Verdict::Error);
    assert!(
        out.evidence.summary.starts_with(&format!(
            "unauthorized: the API server at {} rejected the credentials of context stale",
            env.fake.url()
        )),
        "{}",
        out.evidence.summary
    );
}

#[tokio::test]
async fn an_unreachable_server_is_an_error_naming_it() {
    gonogo::install_crypto_provider();
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(dir.path(), &[("down", &url, TOKEN)]);
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let live = Live::from_kubeconfig(kubeconfig, Some("down"))
        .await
        .expect("building a client does not connect");
    let out = kube_probe::run(&probe("v1/Secret"), &live).await;
    assert_verdict(&out, Verdict::Error);
    assert!(
        out.evidence
            .summary
            .starts_with(&format!("cannot reach the API server at {url}")),
        "{}",
        out.evidence.summary
    );
}

#[tokio::test]
async fn an_unknown_context_is_refused_with_the_known_ones() {
    gonogo::install_crypto_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(
        dir.path(),
        &[
            ("uat", "http://127.0.0.1:9", TOKEN),
            ("prod", "http://127.0.0.1:9", TOKEN),
        ],
    );
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let err = Live::from_kubeconfig(kubeconfig, Some("staging"))
        .await
        .err()
        .expect("no such context");
    assert_eq!(
        err,
        "the kubeconfig has no context named staging (it has: uat, prod)"
    );
}
