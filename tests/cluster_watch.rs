//! A live cluster followed by watches: the real kube-rs client against the
//! fake API server, which serves paginated lists, watches with
//! resourceVersions and bookmarks, 410 Gone and failures as a real one does.
//! The runner is the dashboard's: probes in `Repeat` mode, re-run when their
//! objects change.

#[path = "support/fake_kube.rs"]
mod fake_kube;

use std::sync::Arc;
use std::time::Duration;

use ::kube::config::Kubeconfig;
use fake_kube::{FakeKube, FakeOptions, ResourceDef, write_kubeconfig};
use gonogo::checklist::model::{KubeProbe, Probe, ProbeSpec, ResourceType};
use gonogo::cluster::ObjectQuery;
use gonogo::cluster::live::Live;
use gonogo::probe::{Outcome, ProbeContext, Verdict, cel};
use gonogo::runner::{self, ItemKey, Job, Mode, Runner, RunnerEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc;

const TOKEN: &str = "reviewer-token";

/// Long enough for any step of a healthy test; a hang fails instead of
/// stalling the suite.
const PATIENCE: Duration = Duration::from_secs(10);

fn resources() -> Vec<ResourceDef> {
    vec![
        ResourceDef {
            group: "",
            version: "v1",
            kind: "ConfigMap",
            plural: "configmaps",
            namespaced: true,
        },
        ResourceDef {
            group: "apps",
            version: "v1",
            kind: "Deployment",
            plural: "deployments",
            namespaced: true,
        },
    ]
}

fn deployment(ns: &str, name: &str, replicas: i64) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {
            "name": name, "namespace": ns, "labels": {"app": name},
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "apps/v1"}],
            "annotations": {
                "kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"apps/v1\"}",
                "team": "shop"
            }
        },
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": name, "image": "web:1.0"}]}}}
    })
}

fn config_map(ns: &str, name: &str, value: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"mode": value}
    })
}

fn objects() -> Vec<Value> {
    let mut objects = vec![
        deployment("shop", "web", 3),
        deployment("shop", "api", 2),
        deployment("ops", "grafana", 2),
    ];
    for i in 0..5 {
        objects.push(config_map("shop", &format!("cm-{i}"), "on"));
    }
    objects
}

struct Env {
    fake: FakeKube,
    _dir: tempfile::TempDir,
    live: Arc<Live>,
}

async fn start() -> Env {
    start_with(FakeOptions::default()).await
}

async fn start_with(options: FakeOptions) -> Env {
    gonogo::install_crypto_provider();
    let fake = FakeKube::start_with(resources(), objects(), TOKEN, options).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_kubeconfig(dir.path(), &[("test", &fake.url(), TOKEN)]);
    let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
    let live = Live::from_kubeconfig(kubeconfig, Some("test"))
        .await
        .expect("a client for the fake server");
    Env {
        fake,
        _dir: dir,
        live: Arc::new(live),
    }
}

fn kube(resource: &str, ns: Option<&str>, name: Option<&str>, expect: Option<&str>) -> KubeProbe {
    let mut p = KubeProbe::of(ResourceType::parse(resource).expect("valid resource type"));
    p.namespace = ns.map(str::to_string);
    p.name = name.map(str::to_string);
    p.expect = expect.map(|e| cel::compile(e).expect("test expressions compile"));
    p
}

fn job(env: &Env, id: &str, probe: KubeProbe) -> Job {
    Job {
        key: ItemKey::new("watch", id),
        probe: Arc::new(Probe {
            spec: ProbeSpec::Kube(probe),
            // A timer this long never fires in a test: any re-run seen here
            // came from a watch event.
            every: Duration::from_secs(3600),
            timeout: Duration::from_secs(5),
        }),
        ctx: ProbeContext {
            cluster: env.live.clone(),
            allow_exec: false,
            base_dir: ".".into(),
        },
    }
}

/// Starts `jobs` in the dashboard's mode, after telling the source what they
/// read, as the workspace does.
fn follow(env: &Env, jobs: Vec<Job>) -> (Runner, mpsc::UnboundedReceiver<RunnerEvent>) {
    tell(env, &jobs);
    let (tx, events) = mpsc::unbounded_channel();
    (Runner::start(jobs, 4, Mode::Repeat, tx), events)
}

fn tell(env: &Env, jobs: &[Job]) {
    let queries: Vec<ObjectQuery> = jobs
        .iter()
        .filter_map(|j| match &j.probe.spec {
            ProbeSpec::Kube(k) => Some(ObjectQuery::of(k)),
            _ => None,
        })
        .collect();
    env.live.will_serve(&queries);
}

/// The web Deployment must run at least two replicas.
fn web_replicas(env: &Env) -> Job {
    job(
        env,
        "web-replicas",
        kube(
            "apps/v1/Deployment",
            Some("shop"),
            Some("web"),
            Some("object.spec.replicas >= 2"),
        ),
    )
}

/// The next finished outcome of `id`.
async fn next_outcome(events: &mut mpsc::UnboundedReceiver<RunnerEvent>, id: &str) -> Outcome {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Some(RunnerEvent::Finished(key, outcome)) if &*key.item == id => return outcome,
                Some(_) => {}
                None => panic!("the runner stopped"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no outcome for {id} within {PATIENCE:?}"))
}

/// Outcomes of `id` until one satisfies `done`.
async fn outcome_until(
    events: &mut mpsc::UnboundedReceiver<RunnerEvent>,
    id: &str,
    done: impl Fn(&Outcome) -> bool,
) -> Outcome {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let outcome = next_outcome(events, id).await;
            if done(&outcome) {
                return outcome;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{id} never reached the awaited outcome"))
}

/// List requests that start a list (not its further pages).
fn lists_started(fake: &FakeKube) -> usize {
    fake.request_log()
        .iter()
        .filter(|r| r.method == "GET" && !r.watch && is_collection(&r.path_and_query))
        .filter(|r| !r.path_and_query.contains("continue="))
        .count()
}

/// Compacts the fake's history away (the open watch ends with 410 Gone and
/// its version can no longer be watched from), then waits for the store to
/// list again.
async fn relisted_after_compaction(env: &Env) {
    let lists = lists_started(&env.fake);
    env.fake.compact();
    tokio::time::timeout(PATIENCE, async {
        while lists_started(&env.fake) == lists {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a 410 makes the store list again");
}

fn is_collection(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    path.ends_with("/deployments") || path.ends_with("/configmaps")
}

#[tokio::test]
async fn every_probe_on_a_type_shares_one_list_and_one_watch() {
    let env = start().await;
    let mut jobs = Vec::new();
    for i in 0..20 {
        // Some look in one namespace, some in all: one watch across all
        // namespaces serves them both.
        let ns = (i % 2 == 0).then_some("shop");
        jobs.push(job(
            &env,
            &format!("deploy-{i}"),
            kube(
                "apps/v1/Deployment",
                ns,
                None,
                Some("object.spec.replicas >= 1"),
            ),
        ));
        jobs.push(job(
            &env,
            &format!("cm-{i}"),
            kube(
                "v1/ConfigMap",
                Some("shop"),
                None,
                Some("object.data.mode == 'on'"),
            ),
        ));
    }
    tell(&env, &jobs);
    let results = tokio::time::timeout(PATIENCE, runner::run_once(jobs, 8))
        .await
        .expect("40 probes finish");
    assert_eq!(results.len(), 40);
    for (key, outcome) in &results {
        assert_eq!(
            outcome.verdict,
            Verdict::Pass,
            "{key}: {}",
            outcome.evidence.summary
        );
    }
    // Page size 2: several pages, but one list per type.
    assert_eq!(lists_started(&env.fake), 2, "{:#?}", env.fake.requests());
    let watches: Vec<String> = env
        .fake
        .request_log()
        .into_iter()
        .filter(|r| r.watch)
        .map(|r| r.path_and_query)
        .collect();
    assert_eq!(watches.len(), 2, "{watches:#?}");
    assert!(
        watches
            .iter()
            .any(|w| w.starts_with("/apis/apps/v1/deployments?")),
        "Deployments are watched across namespaces: {watches:#?}"
    );
    assert!(
        watches
            .iter()
            .any(|w| w.starts_with("/api/v1/namespaces/shop/configmaps?")),
        "ConfigMaps are watched in the one namespace asked for: {watches:#?}"
    );
}

#[tokio::test]
async fn what_no_probe_reads_is_dropped_on_ingestion() {
    let env = start().await;
    let query = ObjectQuery::of(&kube("apps/v1/Deployment", Some("shop"), Some("web"), None));
    use gonogo::cluster::ObjectSource;
    let objects = env.live.list(&query).await.expect("listed");
    let object = objects[0].to_json();
    let meta = &object["metadata"];
    assert!(meta.get("managedFields").is_none(), "{meta}");
    assert_eq!(meta["annotations"], json!({"team": "shop"}));
    assert_eq!(object["kind"], "Deployment");
}

#[tokio::test]
async fn a_change_reaches_the_outcome_without_a_new_list() {
    let env = start().await;
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env)]);
    let first = next_outcome(&mut events, "web-replicas").await;
    assert_eq!(first.verdict, Verdict::Pass, "{}", first.evidence.summary);
    let lists = lists_started(&env.fake);

    env.fake.apply(deployment("shop", "web", 1));
    let after = next_outcome(&mut events, "web-replicas").await;
    assert_eq!(after.verdict, Verdict::Fail, "{}", after.evidence.summary);
    assert!(
        after.evidence.summary.contains("spec.replicas is 1"),
        "{}",
        after.evidence.summary
    );
    env.fake
        .delete("apps/v1", "Deployment", Some("shop"), "web");
    let gone = next_outcome(&mut events, "web-replicas").await;
    assert_eq!(gone.verdict, Verdict::Fail);
    assert!(
        gone.evidence.summary.starts_with("no "),
        "{}",
        gone.evidence.summary
    );
    assert_eq!(
        lists_started(&env.fake),
        lists,
        "changes arrive by the watch"
    );
}

#[tokio::test]
async fn a_change_to_another_type_does_not_re_run_the_probe() {
    let env = start().await;
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env)]);
    next_outcome(&mut events, "web-replicas").await;
    env.fake.apply(config_map("shop", "cm-0", "off"));
    let quiet = tokio::time::timeout(Duration::from_millis(1500), events.recv()).await;
    assert!(
        quiet.is_err(),
        "a ConfigMap change re-ran a Deployment probe: {quiet:?}"
    );
}

#[tokio::test]
async fn a_burst_of_changes_costs_a_handful_of_runs() {
    let env = start().await;
    let cms = job(
        &env,
        "config",
        kube(
            "v1/ConfigMap",
            Some("shop"),
            None,
            Some("object.data.mode == 'on'"),
        ),
    );
    let (_runner, mut events) = follow(&env, vec![cms]);
    assert_eq!(
        next_outcome(&mut events, "config").await.verdict,
        Verdict::Pass
    );
    // A rollout: 500 updates in a row, the last one breaking the rule.
    for i in 0..500 {
        let value = if i == 499 { "off" } else { "on" };
        env.fake
            .apply(config_map("shop", &format!("cm-{}", i % 5), value));
    }
    let last = outcome_until(&mut events, "config", |o| o.verdict == Verdict::Fail).await;
    assert!(
        last.evidence.summary.contains("shop/cm-4"),
        "{}",
        last.evidence.summary
    );
    // Let any trailing run land, then count.
    let mut runs = 1;
    while let Ok(Some(event)) =
        tokio::time::timeout(Duration::from_millis(2500), events.recv()).await
    {
        if matches!(event, RunnerEvent::Finished(..)) {
            runs += 1;
        }
    }
    assert!(runs <= 5, "500 changes cost {runs} runs");
}

#[tokio::test]
async fn a_closed_watch_resumes_from_its_version_without_listing() {
    let env = start().await;
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env)]);
    next_outcome(&mut events, "web-replicas").await;
    let lists = lists_started(&env.fake);
    let watches = env.fake.watches();
    env.fake.close_watches();
    env.fake.apply(deployment("shop", "web", 1));
    let after = next_outcome(&mut events, "web-replicas").await;
    assert_eq!(after.verdict, Verdict::Fail, "{}", after.evidence.summary);
    assert_eq!(lists_started(&env.fake), lists);
    assert!(env.fake.watches() > watches);
}

#[tokio::test]
async fn gone_lists_again_and_keeps_following() {
    let env = start().await;
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env)]);
    next_outcome(&mut events, "web-replicas").await;
    relisted_after_compaction(&env).await;
    env.fake.apply(deployment("shop", "web", 1));
    let after = outcome_until(&mut events, "web-replicas", |o| o.verdict == Verdict::Fail).await;
    assert!(after.evidence.summary.contains("spec.replicas is 1"));
}

#[tokio::test]
async fn a_failing_server_is_an_error_with_the_age_of_the_data_and_recovers_by_itself() {
    let env = start().await;
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env)]);
    next_outcome(&mut events, "web-replicas").await;

    env.fake.fail_with(Some(500));
    let broken = outcome_until(&mut events, "web-replicas", |o| o.verdict == Verdict::Error).await;
    let summary = &broken.evidence.summary;
    assert!(summary.contains("answered 500"), "{summary}");
    assert!(summary.contains("to watch apps/v1/Deployment"), "{summary}");
    assert!(summary.contains("last good data"), "{summary}");

    env.fake.fail_with(None);
    let back = outcome_until(&mut events, "web-replicas", |o| o.verdict == Verdict::Pass).await;
    assert_eq!(
        back.evidence.summary,
        "apps/v1/Deployment shop/web satisfies expect"
    );
}

#[tokio::test]
async fn a_forbidden_watch_names_the_verb_and_spares_other_types() {
    let env = start().await;
    let cms = job(
        &env,
        "config",
        kube("v1/ConfigMap", Some("shop"), None, None),
    );
    let (_runner, mut events) = follow(&env, vec![web_replicas(&env), cms]);
    let mut first = std::collections::HashSet::new();
    while first.len() < 2 {
        if let Some(RunnerEvent::Finished(key, _)) = events.recv().await {
            first.insert(key.item.to_string());
        }
    }
    env.fake.forbid("configmaps");
    env.fake.close_watches();
    let denied = outcome_until(&mut events, "config", |o| o.verdict == Verdict::Error).await;
    assert!(
        denied
            .evidence
            .summary
            .starts_with("forbidden: cannot watch v1/ConfigMap with context test"),
        "{}",
        denied.evidence.summary
    );
    // The Deployment probe saw nothing of it.
    env.fake.apply(deployment("shop", "web", 5));
    let web = next_outcome(&mut events, "web-replicas").await;
    assert_eq!(web.verdict, Verdict::Pass, "{}", web.evidence.summary);
}

/// `check --wait` on a live cluster follows the watch: it says the failing
/// item, sees the rollout land without listing again, and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_wait_follows_the_watch_until_the_gate_holds() {
    gonogo::install_crypto_provider();
    let fake = FakeKube::start(resources(), vec![deployment("shop", "web", 1)], TOKEN).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = write_kubeconfig(dir.path(), &[("shop", &fake.url(), TOKEN)]);
    std::fs::write(
        dir.path().join("rollout.toml"),
        "id = \"rollout\"\ntitle = \"Rollout\"\n\n[[sections]]\nid = \"s\"\ntitle = \"Web\"\n\n\
         [[sections.items]]\nid = \"replicas\"\ntitle = \"web runs two replicas\"\nseverity = \"blocker\"\n\
         [sections.items.probe]\nkind = \"kube\"\nresource = \"apps/v1/Deployment\"\nnamespace = \"shop\"\n\
         name = \"web\"\nexpect = \"object.spec.replicas >= 2\"\nevery = \"1h\"\n",
    )
    .expect("write checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"rollout.toml\"]\nstate_dir = \"state\"\n\n\
         [[environments]]\nname = \"live\"\nkube_context = \"shop\"\n",
    )
    .expect("write config");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(["check", "--wait", "20s", "--env", "live"])
        .current_dir(dir.path())
        .env("KUBECONFIG", &kubeconfig)
        .env("NO_COLOR", "1")
        // The user's own config and state stay out of it.
        .env("HOME", dir.path().join("home"))
        .env("XDG_CONFIG_HOME", dir.path().join("home/config"))
        .env("XDG_DATA_HOME", dir.path().join("home/data"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gonogo runs");
    // The first look (every hour, were it on a timer) says it fails; then
    // the rollout lands.
    tokio::time::timeout(PATIENCE, async {
        while fake.watches() == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("gonogo watches the Deployments");
    tokio::time::sleep(Duration::from_millis(300)).await;
    fake.apply(deployment("shop", "web", 3));
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("gonogo ends before its --wait")
        .expect("gonogo ran");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("rollout/replicas: fail"), "{stderr}");
    assert!(
        stderr.contains("rollout/replicas: fail -> pass"),
        "{stderr}"
    );
    assert!(stderr.contains("live: the gate holds"), "{stderr}");
    assert_eq!(lists_started(&fake), 1, "{:#?}", fake.requests());
}

/// A first list that takes longer than a probe may (a loaded server, a
/// huge type) is shared work: while its pages keep coming, the probes wait
/// for it instead of timing out.
#[tokio::test]
async fn a_first_list_longer_than_the_probe_timeout_is_waited_for() {
    // 5 ConfigMaps at 2 a page: three pages, 450 ms in all.
    let env = start_with(FakeOptions {
        page_delay: Duration::from_millis(150),
        ..FakeOptions::default()
    })
    .await;
    let mut config = job(
        &env,
        "config",
        kube(
            "v1/ConfigMap",
            Some("shop"),
            None,
            Some("object.data.mode == 'on'"),
        ),
    );
    let mut probe = (*config.probe).clone();
    probe.timeout = Duration::from_millis(250);
    config.probe = Arc::new(probe);
    tell(&env, std::slice::from_ref(&config));
    let results = tokio::time::timeout(PATIENCE, runner::run_once(vec![config], 4))
        .await
        .expect("the probe finishes");
    let outcome = &results[0].1;
    assert_eq!(
        outcome.verdict,
        Verdict::Pass,
        "{}",
        outcome.evidence.summary
    );
    assert_eq!(
        outcome.evidence.summary,
        "all 5 v1/ConfigMap satisfy expect"
    );
}

/// A ConfigMap in `ns` with `mode` and, when given, a `tier` label.
fn labelled_map(ns: &str, name: &str, mode: &str, tier: Option<&str>) -> Value {
    let mut map = config_map(ns, name, mode);
    if let Some(tier) = tier {
        map["metadata"]["labels"] = json!({ "tier": tier });
    }
    map
}

/// After any run of changes, a probe that updates its tally from the
/// changes since its last run says exactly what a probe reading every
/// object afresh says: the same verdict, summary and listed objects. That
/// holds across more changes than the store remembers, and across a list
/// that replaces everything.
#[tokio::test]
async fn a_probe_that_keeps_a_tally_says_what_a_fresh_read_says() {
    use gonogo::checklist::model::Quantifier;
    use gonogo::cluster::selector::parse_label_selector;
    use gonogo::probe::kube as kube_probe;

    let env = start().await;
    let mode_on = "object.data.mode == 'on'";
    let mut none_off = kube(
        "v1/ConfigMap",
        Some("shop"),
        None,
        Some("object.data.mode == 'off'"),
    );
    none_off.quantifier = Quantifier::None;
    let mut web_tier = kube("v1/ConfigMap", None, None, Some(mode_on));
    web_tier.selector = parse_label_selector("tier=web").expect("a valid selector");
    let mut any_on = kube("v1/ConfigMap", Some("team-1"), None, Some(mode_on));
    any_on.quantifier = Quantifier::Any;
    let mut counted = kube("v1/ConfigMap", None, None, None);
    counted.min = 3;
    let probes = [
        kube("v1/ConfigMap", None, None, Some(mode_on)),
        none_off,
        web_tier,
        any_on,
        counted,
        kube("v1/ConfigMap", Some("shop"), Some("cm-2"), Some(mode_on)),
    ];
    let queries: Vec<ObjectQuery> = probes.iter().map(ObjectQuery::of).collect();
    env.live.will_serve(&queries);
    let mut ticks = {
        use gonogo::cluster::ObjectSource;
        env.live
            .changes(&queries[0])
            .await
            .expect("ConfigMaps are served")
    };
    let mut tallies: Vec<Option<kube_probe::Tally>> = probes.iter().map(|_| None).collect();

    // Waits until the store has taken in `n` more changes, then holds each
    // probe's tallied outcome against a fresh one.
    let mut seen = 0u64;
    let mut compare = async |n: u64, round: &str, tallies: &mut [Option<kube_probe::Tally>]| {
        seen += n;
        tokio::time::timeout(PATIENCE, ticks.wait_for(|t| *t >= seen))
            .await
            .expect("the watch delivers every change")
            .expect("the store is followed");
        seen = *ticks.borrow();
        for (probe, tally) in probes.iter().zip(tallies.iter_mut()) {
            let kept = kube_probe::run_tallied(probe, &*env.live, tally).await;
            let fresh = kube_probe::run(probe, &*env.live).await;
            assert_eq!(
                (kept.verdict, &kept.evidence.summary, &kept.evidence.detail),
                (
                    fresh.verdict,
                    &fresh.evidence.summary,
                    &fresh.evidence.detail
                ),
                "{round}: {probe:?}"
            );
            assert!(tally.is_some(), "{round}: the tally is kept");
        }
    };

    compare(1, "first read", &mut tallies).await;

    // 150 maps out of line across three namespaces, half of them web tier:
    // more than a probe lists, so the listing and the counts are both
    // tested.
    for i in 0..150 {
        let tier = (i % 2 == 0).then_some("web");
        let mode = if i % 3 == 0 { "on" } else { "off" };
        env.fake.apply(labelled_map(
            &format!("team-{}", i % 3),
            &format!("m-{i:03}"),
            mode,
            tier,
        ));
    }
    compare(150, "added", &mut tallies).await;

    // Fixes, breakages, deletions, a label that moves a map out of a
    // selection and one that moves it in.
    for i in 0..60 {
        let ns = format!("team-{}", i % 3);
        let name = format!("m-{i:03}");
        match i % 4 {
            0 => {
                env.fake.apply(labelled_map(&ns, &name, "on", Some("web")));
            }
            1 => {
                env.fake.delete("v1", "ConfigMap", Some(&ns), &name);
            }
            2 => {
                env.fake.apply(labelled_map(&ns, &name, "off", Some("db")));
            }
            _ => {
                env.fake.apply(labelled_map(&ns, &name, "off", Some("web")));
            }
        }
    }
    env.fake.apply(config_map("shop", "cm-2", "off"));
    env.fake.apply(config_map("shop", "cm-9", "off"));
    compare(62, "changed", &mut tallies).await;

    // More changes than the store remembers between two runs.
    for i in 0..4200 {
        let mode = if i % 7 == 0 { "on" } else { "off" };
        env.fake.apply(labelled_map(
            "team-2",
            &format!("n-{:02}", i % 40),
            mode,
            Some("web"),
        ));
    }
    compare(4200, "past the journal", &mut tallies).await;

    // The history is compacted away: the store lists again and replaces
    // everything.
    relisted_after_compaction(&env).await;
    env.fake.apply(config_map("shop", "cm-2", "on"));
    compare(1, "after a new list", &mut tallies).await;
}

/// With no gonogo.toml, `check` does what kubectl does: it reviews one
/// environment named after the kubeconfig's current context, against that
/// context. With no kubeconfig either, the reason is said once, with the
/// two ways out, and the items point at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_config_check_reviews_the_current_kube_context() {
    gonogo::install_crypto_provider();
    let fake = FakeKube::start(resources(), vec![deployment("shop", "web", 1)], TOKEN).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = write_kubeconfig(
        dir.path(),
        &[
            ("shop-staging", &fake.url(), TOKEN),
            ("shop-prod", "http://127.0.0.1:1", TOKEN),
        ],
    );
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).expect("folder");
    let run = |kubeconfig: &std::path::Path, format: &str| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .args([
                "check",
                "--checklist",
                "kubernetes-baseline",
                "--format",
                format,
            ])
            .current_dir(&empty)
            .env("KUBECONFIG", kubeconfig)
            .env("NO_COLOR", "1")
            .env("HOME", dir.path().join("home"))
            .env("XDG_CONFIG_HOME", dir.path().join("home/config"))
            .env("XDG_DATA_HOME", dir.path().join("home/data"))
            .output()
    };
    let out = run(&kubeconfig, "json").await.expect("gonogo runs");
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["environment"], "shop-staging");
    assert_eq!(report["cluster"], "context shop-staging");
    let items: Vec<&Value> = report["checklists"][0]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["items"].as_array().expect("items"))
        .collect();
    let images = items
        .iter()
        .find(|i| i["id"] == "image-tags-explicit")
        .expect("the baseline checks image tags");
    // web:1.0 names its tag: the Deployment was read from the fake.
    assert_eq!(images["status"], "pass", "{images:#}");
    assert!(fake.lists() > 0);

    let out = run(&dir.path().join("no-such-kubeconfig"), "text")
        .await
        .expect("gonogo runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("gonogo check: environment local (no kubeconfig)\n"),
        "{text}"
    );
    let said: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("no-such-kubeconfig"))
        .collect();
    assert_eq!(said.len(), 1, "the reason is said once:\n{text}");
    assert!(
        said[0].contains("point kubectl at a cluster") && said[0].contains("--snapshot DIR"),
        "{text}"
    );
    assert!(
        text.contains("image-tags-explicit              not checked: see"),
        "{text}"
    );
}
