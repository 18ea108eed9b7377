//! An API server that misbehaves, as the real kube client meets it: bad
//! credentials, no permission, a type it does not serve, internal errors,
//! 410 Gone, JSON cut off, a body that never ends, a list of 200,000
//! objects, watches that close every second. Each review ends with the item
//! in `error` (or judged) with a reason that says what happened, within the
//! probe's timeout, while the process's memory stays bounded.

#![cfg(unix)]

#[path = "support/binary.rs"]
mod binary;
#[path = "support/fake_kube.rs"]
mod fake_kube;
#[path = "support/tty.rs"]
mod tty;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fake_kube::{FakeKube, Misbehavior, ResourceDef, write_kubeconfig};
use serde_json::{Value, json};

const TOKEN: &str = "reviewer-token";

fn resources() -> Vec<ResourceDef> {
    vec![ResourceDef {
        group: "",
        version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        namespaced: true,
    }]
}

fn config_map(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop"},
        "data": {"mode": "on"}
    })
}

/// A review folder whose one item reads `resource` through the context.
fn review(dir: &Path, url: &str, token: &str, resource: &str) -> PathBuf {
    let kubeconfig = write_kubeconfig(dir, &[("shop", url, token)]);
    std::fs::write(
        dir.join("c.toml"),
        format!(
            "id = \"c\"\ntitle = \"C\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n\
             [[sections.items]]\nid = \"mode\"\ntitle = \"Every ConfigMap is on\"\n\
             [sections.items.probe]\nkind = \"kube\"\nresource = \"{resource}\"\n\
             namespace = \"shop\"\nexpect = \"object.data.mode == 'on'\"\ntimeout = \"3s\"\n"
        ),
    )
    .expect("checklist");
    std::fs::write(
        dir.join("gonogo.toml"),
        "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"live\"\nkube_context = \"shop\"\n",
    )
    .expect("config");
    kubeconfig
}

/// What `check` said about the item, how long it took, and the most memory
/// the process held (VmHWM, read while it ran).
struct Ran {
    status: String,
    summary: String,
    took: Duration,
    peak_kb: u64,
}

fn check(dir: &Path, kubeconfig: &Path, extra: &[&str]) -> Ran {
    let started = Instant::now();
    let mut child = binary::gonogo(dir)
        .args(["check", "--format", "json"])
        .args(extra)
        .env("KUBECONFIG", kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gonogo runs");
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0;
    while child.try_wait().expect("waits").is_none() {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse::<u64>().ok())
        {
            peak_kb = peak_kb.max(kb);
        }
        assert!(started.elapsed() < Duration::from_secs(120), "gonogo hangs");
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let out = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let item = &report["checklists"][0]["sections"][0]["items"][0];
    Ran {
        status: item["status"].as_str().unwrap_or_default().to_string(),
        summary: item["summary"].as_str().unwrap_or_default().to_string(),
        took,
        peak_kb,
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

#[test]
fn each_misbehaving_server_ends_in_an_error_that_says_why() {
    gonogo::install_crypto_provider();
    let rt = runtime();
    let objects: Vec<Value> = (0..3).map(|i| config_map(&format!("cm-{i}"))).collect();
    type Setup = fn(&FakeKube);
    let cases: [(&str, &str, &str, Setup, &str); 8] = [
        ("401", "wrong-token", "v1/ConfigMap", |_| {}, "credentials"),
        (
            "403",
            TOKEN,
            "v1/ConfigMap",
            |f| f.forbid("configmaps"),
            "forbidden",
        ),
        (
            "404",
            TOKEN,
            "example.com/v1/Widget",
            |_| {},
            "does not serve",
        ),
        (
            "500",
            TOKEN,
            "v1/ConfigMap",
            |f| f.fail_with(Some(500)),
            "500",
        ),
        (
            "410",
            TOKEN,
            "v1/ConfigMap",
            |f| f.fail_with(Some(410)),
            "410",
        ),
        (
            "429",
            TOKEN,
            "v1/ConfigMap",
            |f| f.fail_with(Some(429)),
            "429",
        ),
        (
            "garbled",
            TOKEN,
            "v1/ConfigMap",
            |f| f.misbehave(Some(Misbehavior::Garbled)),
            "the answer is not valid JSON",
        ),
        (
            "endless",
            TOKEN,
            "v1/ConfigMap",
            |f| f.misbehave(Some(Misbehavior::Endless)),
            "",
        ),
    ];
    let mut table = Vec::new();
    for (name, token, resource, setup, says) in cases {
        let fake = rt.block_on(FakeKube::start(resources(), objects.clone(), TOKEN));
        setup(&fake);
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = review(dir.path(), &fake.url(), token, resource);
        eprintln!("{name}…");
        let ran = check(dir.path(), &kubeconfig, &[]);
        eprintln!("{name}: {} {:?} {}", ran.status, ran.took, ran.summary);
        table.push(format!(
            "{name:>8}: {} in {:.1} s, peak {} MB: {}",
            ran.status,
            ran.took.as_secs_f64(),
            ran.peak_kb / 1024,
            ran.summary
        ));
        // A type the cluster does not serve fails the item (the CRD is
        // missing); everything else is an error: nothing could be judged.
        let want = if name == "404" { "fail" } else { "error" };
        assert_eq!(ran.status, want, "{name}: {}", ran.summary);
        assert!(ran.summary.contains(says), "{name}: {}", ran.summary);
        // Bounded: an endless body is cut off, not held.
        assert!(ran.peak_kb < 400 * 1024, "{name}: peak {} kB", ran.peak_kb);
        drop(fake);
    }
    println!("{}", table.join("\n"));
}

/// 200,000 objects of one type, 500 a page: read whole, judged, and held in
/// bounded memory (the peak is printed; BENCHMARKS.md has the numbers).
#[test]
fn a_list_of_200000_objects_is_read_and_judged() {
    gonogo::install_crypto_provider();
    let rt = runtime();
    let mut objects: Vec<Value> = (0..200_000)
        .map(|i| config_map(&format!("cm-{i}")))
        .collect();
    objects[123_456]["data"]["mode"] = json!("off");
    let options = fake_kube::FakeOptions {
        page_size: 500,
        ..fake_kube::FakeOptions::default()
    };
    let fake = rt.block_on(FakeKube::start_with(resources(), objects, TOKEN, options));
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = review(dir.path(), &fake.url(), TOKEN, "v1/ConfigMap");
    let ran = check(dir.path(), &kubeconfig, &[]);
    println!(
        "200,000 objects: {} in {:.1} s, peak {} MB: {}",
        ran.status,
        ran.took.as_secs_f64(),
        ran.peak_kb / 1024,
        ran.summary
    );
    assert_eq!(ran.status, "fail", "{}", ran.summary);
    assert!(ran.summary.contains("shop/cm-123456"), "{}", ran.summary);
    assert!(ran.peak_kb < 1024 * 1024, "peak {} kB", ran.peak_kb);
}

/// Watches that the server closes every second: `check --wait` keeps
/// following (watching again, not listing in a loop) and ends with the
/// item's real status when the time is up.
#[test]
fn watches_closed_every_second_are_followed_without_a_storm() {
    gonogo::install_crypto_provider();
    let rt = runtime();
    let mut objects: Vec<Value> = (0..3).map(|i| config_map(&format!("cm-{i}"))).collect();
    objects[1]["data"]["mode"] = json!("off");
    let fake = Arc::new(rt.block_on(FakeKube::start(resources(), objects, TOKEN)));
    let closer = {
        let fake = Arc::clone(&fake);
        rt.spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                fake.close_watches();
            }
        })
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = review(dir.path(), &fake.url(), TOKEN, "v1/ConfigMap");
    let ran = check(
        dir.path(),
        &kubeconfig,
        &["--wait", "5s", "--fail-on", "low"],
    );
    closer.abort();
    assert_eq!(ran.status, "fail", "{}", ran.summary);
    assert!(ran.summary.contains("shop/cm-1"), "{}", ran.summary);
    // Each close is followed by one watch again, not by a list storm.
    let lists = fake.lists();
    let watches = fake.watches();
    println!("closed every second for 5 s: {lists} lists, {watches} watches");
    assert!(lists <= 8, "{lists} lists");
    assert!((3..=20).contains(&watches), "{watches} watches");
}

/// While a probe is stuck on a server that never finishes its answer, the
/// dashboard keeps answering keys: the help opens and closes, the cursor
/// moves, and it quits at once.
#[test]
fn the_dashboard_answers_keys_while_the_server_stalls() {
    gonogo::install_crypto_provider();
    let rt = runtime();
    let objects: Vec<Value> = (0..3).map(|i| config_map(&format!("cm-{i}"))).collect();
    let fake = rt.block_on(FakeKube::start(resources(), objects, TOKEN));
    fake.misbehave(Some(Misbehavior::Endless));
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = review(dir.path(), &fake.url(), TOKEN, "v1/ConfigMap");
    // A long timeout: the probe stays stuck for the whole test.
    let checklist = std::fs::read_to_string(dir.path().join("c.toml")).expect("checklist");
    std::fs::write(
        dir.path().join("c.toml"),
        checklist.replace("timeout = \"3s\"", "timeout = \"60s\"")
            + "\n[[sections.items]]\nid = \"runbook\"\ntitle = \"Runbook written\"\n",
    )
    .expect("checklist");
    let mut tty = tty::Tty::spawn_with(
        dir.path(),
        &[],
        100,
        30,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8"))],
    );
    // The probe waits for a first page that never comes: not checked yet.
    let waiting = "… medium  kube    Every ConfigMap is on";
    tty.wait_for("the review, its probe waiting", |s| {
        s.contents().contains(waiting)
    });
    std::thread::sleep(Duration::from_secs(2));
    let stuck = Instant::now();
    tty.send("?");
    tty.wait_for("the help", |s| s.contents().contains("Keys (Esc closes)"));
    tty.send("\x1b");
    tty.wait_for("the list again", |s| {
        !s.contents().contains("Keys (Esc closes)")
    });
    tty.send("j");
    tty.wait_for("the cursor on the second item", |s| {
        tty::selected_item(s).is_some_and(|t| t.contains("Runbook"))
    });
    assert!(
        lock_contents(&tty).contains(waiting),
        "the probe is still stuck meanwhile:\n{}",
        lock_contents(&tty)
    );
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
    println!("keys answered while stalled, {:?} in all", stuck.elapsed());
}

fn lock_contents(tty: &tty::Tty) -> String {
    tty::lock(&tty.output).parser.screen().contents()
}
