//! The fake Kubernetes API server against the real kubectl: where kubectl
//! and the fake disagree, the fake is wrong. These need kubectl on PATH and
//! are ignored by default:
//!
//!     cargo test --test fake_kubectl -- --ignored
//!
//! Each test skips, saying so, when there is no kubectl.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use fake_kube::{FakeKube, synthetic_cluster, synthetic_resources, write_kubeconfig};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{ChildStdout, Command};

const TOKEN: &str = "reviewer-token";

/// kubectl is slow to start (it reads discovery first); long enough for
/// that, short enough that a hang fails the test.
const PATIENCE: Duration = Duration::from_secs(30);

/// A fake cluster and a kubeconfig that points kubectl at it over TLS.
struct Cluster {
    fake: FakeKube,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn kubectl_missing() -> bool {
    let found = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found {
        eprintln!("skipped: there is no kubectl on PATH");
    }
    !found
}

/// 12 pods in 2 namespaces, with the deployments, services and configmaps
/// that go with them.
async fn cluster() -> Cluster {
    let fake = FakeKube::start(
        synthetic_resources(),
        synthetic_cluster(12, 3, 2, 2, 2),
        TOKEN,
    )
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = write_kubeconfig(dir.path(), &[("fake", &fake.tls_url(), TOKEN)]);
    Cluster {
        fake,
        dir,
        kubeconfig,
    }
}

impl Cluster {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new("kubectl");
        command
            .env("KUBECONFIG", &self.kubeconfig)
            // Its discovery cache stays with the test.
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output();
        tokio::time::timeout(PATIENCE, output)
            .await
            .expect("kubectl finished in time")
            .expect("kubectl runs")
    }

    /// Runs kubectl, which must succeed; its stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert!(
            output.status.success(),
            "kubectl {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("kubectl writes UTF-8")
    }

    fn pod_names(&self) -> Vec<String> {
        synthetic_cluster(12, 3, 2, 2, 2)
            .iter()
            .filter(|o| o["kind"] == "Pod")
            .map(|o| o["metadata"]["name"].as_str().unwrap_or("").to_string())
            .collect()
    }
}

async fn next_line(lines: &mut Lines<BufReader<ChildStdout>>) -> String {
    tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("kubectl printed a line in time")
        .expect("kubectl's output reads")
        .expect("kubectl is still watching")
}

fn pod(namespace: &str, name: &str, app: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": app}},
        "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1.0"}]},
        "status": {"phase": "Pending"}
    })
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_lists_every_pod_chunk_by_chunk() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let out = cluster
        .ok(&["get", "pods", "-A", "--chunk-size=2", "-o", "name"])
        .await;
    let mut listed: Vec<&str> = out.lines().collect();
    listed.sort_unstable();
    let mut expected: Vec<String> = cluster
        .pod_names()
        .iter()
        .map(|n| format!("pod/{n}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(listed, expected);
    assert!(
        cluster.fake.lists() >= 6,
        "kubectl followed continue tokens"
    );
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_prints_the_columns_the_server_prints() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let out = cluster.ok(&["get", "pods", "-n", "team-00"]).await;
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(out.lines().skip(1).all(|l| l.contains(" 1/1 ")), "{out}");
    let out = cluster.ok(&["get", "deployments", "-A"]).await;
    assert!(out.starts_with("NAMESPACE"), "{out}");
    assert!(out.contains("UP-TO-DATE"), "{out}");
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_reads_configmaps_as_json() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let out = cluster
        .ok(&["get", "configmaps", "-n", "team-00", "-o", "json"])
        .await;
    let list: Value = serde_json::from_str(&out).expect("kubectl printed JSON");
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["kind"], "ConfigMap");
    assert_eq!(items[0]["metadata"]["name"], "checkout-config");
    assert!(items[0]["data"]["application.yaml"].is_string());
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_watch_shows_what_is_added_modified_and_deleted() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let mut child = cluster
        .command(&["get", "pods", "-A", "-w", "--output-watch-events"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let header = next_line(&mut lines).await;
    assert!(header.starts_with("EVENT"), "{header}");
    for _ in cluster.pod_names() {
        let line = next_line(&mut lines).await;
        assert!(line.starts_with("ADDED"), "{line}");
    }
    // kubectl watches from the resourceVersion of its list: what changes
    // before its watch starts is replayed from the history.
    cluster.fake.apply(pod("team-01", "canary", "canary"));
    let mut changed = pod("team-01", "canary", "canary");
    changed["status"]["phase"] = json!("Running");
    cluster.fake.apply(changed);
    cluster.fake.delete("v1", "Pod", Some("team-01"), "canary");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let line = next_line(&mut lines).await;
        let words: Vec<&str> = line.split_whitespace().collect();
        seen.push(format!("{} {} {}", words[0], words[1], words[2]));
    }
    assert_eq!(
        seen,
        [
            "ADDED team-01 canary",
            "MODIFIED team-01 canary",
            "DELETED team-01 canary"
        ]
    );
    child.kill().await.expect("kubectl stops");
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_creates_a_configmap_once_then_it_already_exists() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let args = [
        "create",
        "configmap",
        "a",
        "-n",
        "team-00",
        "--from-literal=k=v",
    ];
    let out = cluster.ok(&args).await;
    assert_eq!(out.trim(), "configmap/a created");
    let stored = cluster
        .fake
        .object("v1", "ConfigMap", Some("team-00"), "a")
        .expect("stored");
    assert_eq!(stored["data"], json!({"k": "v"}));

    let again = cluster.run(&args).await;
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("configmaps \"a\" already exists"),
        "{stderr}"
    );

    // A namespace that is not there, as a real server says.
    let nowhere = cluster
        .run(&[
            "create",
            "configmap",
            "b",
            "-n",
            "nowhere",
            "--from-literal=k=v",
        ])
        .await;
    let stderr = String::from_utf8_lossy(&nowhere.stderr);
    assert!(
        stderr.contains("namespaces \"nowhere\" not found"),
        "{stderr}"
    );
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_applies_a_manifest_and_applies_it_again() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let manifest = cluster.dir.path().join("signoff.json");
    let write = |value: &str| {
        let object = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "signoff", "namespace": "team-01"},
            "data": {"verdict": value}
        });
        std::fs::write(&manifest, object.to_string()).expect("temp dir is writable");
    };
    let path = manifest.to_str().expect("a UTF-8 temp path");
    write("go");
    let out = cluster.ok(&["apply", "-f", path]).await;
    assert_eq!(out.trim(), "configmap/signoff created");
    write("no-go");
    let out = cluster.ok(&["apply", "-f", path]).await;
    assert_eq!(out.trim(), "configmap/signoff configured");
    let stored = cluster
        .fake
        .object("v1", "ConfigMap", Some("team-01"), "signoff")
        .expect("stored");
    assert_eq!(stored["data"]["verdict"], "no-go");
    let annotations = &stored["metadata"]["annotations"];
    assert!(annotations["kubectl.kubernetes.io/last-applied-configuration"].is_string());
    let out = cluster.ok(&["delete", "-f", path]).await;
    assert_eq!(out.trim(), "configmap \"signoff\" deleted");
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_auth_whoami_prints_the_user_of_the_token() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    let out = cluster.ok(&["auth", "whoami"]).await;
    assert!(
        out.contains("system:serviceaccount:gonogo:reviewer"),
        "{out}"
    );
    cluster
        .fake
        .add_user("ana-token", "ana@example.com", &["sre"]);
    let ana = cluster.dir.path().join("ana");
    std::fs::create_dir(&ana).expect("temp dir is writable");
    let other = write_kubeconfig(&ana, &[("ana", &cluster.fake.tls_url(), "ana-token")]);
    let output = cluster
        .command(&["auth", "whoami", "-o", "json"])
        .env("KUBECONFIG", &other)
        .output()
        .await
        .expect("kubectl runs");
    let review: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(review["status"]["userInfo"]["username"], "ana@example.com");
}

#[tokio::test]
#[ignore = "needs kubectl"]
async fn kubectl_raw_watch_from_before_compaction_gets_410() {
    if kubectl_missing() {
        return;
    }
    let cluster = cluster().await;
    cluster.fake.compact();
    let out = cluster
        .ok(&["get", "--raw", "/api/v1/pods?watch=true&resourceVersion=1"])
        .await;
    let event: Value = serde_json::from_str(out.trim()).expect("one JSON event");
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["kind"], "Status");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
}
