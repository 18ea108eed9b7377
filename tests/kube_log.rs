//! The sign-off log kept in the cluster, as users meet it: event objects
//! shaped as the design says, a deleted or replaced object caught as a
//! broken chain, writes refused with the reason when the API server cannot
//! be reached or refuses, the dashboard's hook showing it, the shipped Role
//! being enough and no more, and the command line reading, verifying,
//! archiving and copying a log between the stores. All through the real
//! kube-rs client over HTTPS to the fake API server (the log tests that
//! run on both stores are in `ledger.rs`).

#[path = "support/binary.rs"]
mod binary;
#[path = "support/fake_kube.rs"]
mod fake_kube;
#[path = "support/logs.rs"]
mod logs;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use binary::gonogo;
use gonogo::ledger::{DirStore, EventKind, Health, LedgerError, Refresh, Signer, Store};
use gonogo::tui::store::LogStore;
use logs::{CHECKLIST, ENV, Kind, Logs, NAMESPACE, REVIEWER};
use serde_json::{Value, json};

fn note(item: &str, text: &str) -> EventKind {
    EventKind::Note {
        item: item.into(),
        text: text.into(),
    }
}

/// A kube log with `n` notes on item `a`, by alice.
fn kube_log_with(n: usize) -> Logs {
    let logs = Logs::new(Kind::Kube);
    let log = logs.open();
    for i in 1..=n {
        log.append("alice", note("a", &format!("note {i}")))
            .expect("append to a healthy log");
    }
    logs
}

fn line_of(object: &Value) -> String {
    object["data"]["event.jsonl"]
        .as_str()
        .expect("an event object holds its line")
        .to_string()
}

/// Puts `object` back under its name with `line` as its data, as someone
/// with delete and create rights could.
fn replace_line(logs: &Logs, seq: u64, line: &str) {
    let mut object = logs.object(seq).expect("the object exists");
    assert!(
        logs.fake()
            .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(seq))
    );
    object["data"]["event.jsonl"] = json!(line);
    logs.fake().apply(object);
}

#[test]
fn each_event_is_an_immutable_labelled_object_holding_the_line_the_file_store_writes() {
    let logs = kube_log_with(0);
    // The same events in both stores: written to a file, copied across.
    let dir = DirStore::open(&logs.state_dir(), CHECKLIST, ENV).expect("valid names");
    dir.append_many(
        "alice",
        vec![
            note("a", "drill record: https://x/1\n\"quoted\""),
            EventKind::Tick { item: "a".into() },
        ],
    )
    .expect("append to the file");
    let kube = logs.open();
    assert_eq!(
        kube.import(&dir.records().expect("records")).expect("copy"),
        2
    );

    let file = std::fs::read_to_string(dir.path()).expect("the file");
    let lines: Vec<&str> = file.split_inclusive('\n').collect();
    for (seq, line) in (1..).zip(&lines) {
        let object = logs.object(seq).expect("one object per event");
        assert_eq!(line_of(&object), *line, "event {seq} byte for byte");
        assert_eq!(object["immutable"], json!(true));
        let labels = &object["metadata"]["labels"];
        assert_eq!(labels["app.kubernetes.io/managed-by"], "gonogo");
        assert_eq!(labels["gonogo.dev/checklist"], CHECKLIST);
        assert_eq!(labels["gonogo.dev/environment"], ENV);
        assert_eq!(object["metadata"]["annotations"]["gonogo.dev/by"], "alice");
    }
    // An append in the cluster chains after the copied events, under the
    // next name.
    let event = kube
        .append("bob", EventKind::Untick { item: "a".into() })
        .expect("append");
    assert_eq!(event.seq, 3);
    let object = logs.object(3).expect("cmp-operator.prod.00000003");
    assert_eq!(object["metadata"]["annotations"]["gonogo.dev/by"], "bob");
    assert!(line_of(&object).contains(&format!("\"prev\":\"{}\"", lines_hash(lines[1]))));
    let report = kube.verify().expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!((report.events, report.head), (3, event.hash));
}

fn lines_hash(line: &str) -> String {
    let value: Value = serde_json::from_str(line).expect("a JSON line");
    value["hash"].as_str().expect("a hash").to_string()
}

/// Checks that verify and load name `expected` first and that appends are
/// refused, leaving the objects as they were.
fn assert_tampered(logs: &Logs, expected: &str) {
    let log = logs.open();
    let report = log.verify().expect("verify");
    let first = report.first_problem().map(ToString::to_string);
    assert_eq!(first.as_deref(), Some(expected), "{:?}", report.problems);
    let loaded = log.load().expect("an altered log still loads");
    assert_eq!(
        loaded.problems.first().map(ToString::to_string).as_deref(),
        Some(expected)
    );
    let before = logs.records();
    match log.append("mallory", note("a", "more")) {
        Err(LedgerError::Tampered { problem, .. }) => assert_eq!(problem.to_string(), expected),
        other => panic!("append to an altered log: {other:?}"),
    }
    assert_eq!(logs.records(), before);
}

#[test]
fn a_deleted_object_is_named_missing() {
    let logs = kube_log_with(5);
    assert!(
        logs.fake()
            .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(3))
    );
    assert_tampered(&logs, "cmp-operator.prod.00000003: missing (deleted?)");
    // Only the gap is blamed, not the event after it.
    assert_eq!(logs.open().verify().expect("verify").problems.len(), 1);

    let logs = kube_log_with(3);
    for seq in [1, 2] {
        logs.fake()
            .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(seq));
    }
    assert_tampered(
        &logs,
        "cmp-operator.prod.00000001: missing, and the 1 after it (deleted?)",
    );
}

#[test]
fn a_replaced_object_breaks_the_chain() {
    let logs = kube_log_with(5);
    let edited = line_of(&logs.object(3).expect("event 3")).replace("note 3", "note 9");
    replace_line(&logs, 3, &edited);
    assert_tampered(
        &logs,
        "cmp-operator.prod.00000003: hash does not match its content (edited or replaced?)",
    );

    // A forger who hashes the edit again is caught by the next link.
    let logs = kube_log_with(5);
    let edited = line_of(&logs.object(3).expect("event 3")).replace("note 3", "note 9");
    let body = &edited[..edited.len() - 76];
    let hash = hex_sha256(&format!("{body}}}"));
    replace_line(&logs, 3, &format!("{body},\"hash\":\"{hash}\"}}\n"));
    assert_tampered(
        &logs,
        "cmp-operator.prod.00000004: prev does not link to the event before it (replaced, or an event deleted?)",
    );

    // Another event's line under a name: the name and the content disagree.
    let logs = kube_log_with(5);
    let second = line_of(&logs.object(2).expect("event 2"));
    replace_line(&logs, 4, &second);
    let report = logs.open().verify().expect("verify");
    assert!(!report.is_intact());
    assert_eq!(
        report.problems[0].to_string().split(':').next(),
        Some("cmp-operator.prod.00000004")
    );
}

/// What the admission policy makes true (the annotation names who created
/// the object) is only worth something if the line must agree with it: a
/// reviewer who writes the next event by hand, in someone else's name, is
/// named even when the chain links.
#[test]
fn an_event_whose_object_was_created_by_someone_else_is_named() {
    let logs = kube_log_with(3);
    // Mallory re-creates event 3 with a line that claims alice and links
    // perfectly; the policy made the annotation say who really sent it.
    let mut object = logs.object(3).expect("event 3");
    assert!(
        logs.fake()
            .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(3))
    );
    object["metadata"]["annotations"]["gonogo.dev/by"] = json!("mallory");
    logs.fake().apply(object.clone());
    assert_tampered(
        &logs,
        "cmp-operator.prod.00000003: created by mallory (its gonogo.dev/by) but the event says alice (signed in someone else's name?)",
    );

    // Without the annotation nothing vouches for the signer at all.
    let logs = kube_log_with(3);
    let mut object = logs.object(2).expect("event 2");
    assert!(
        logs.fake()
            .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(2))
    );
    object["metadata"]["annotations"] = json!({});
    logs.fake().apply(object);
    assert_tampered(
        &logs,
        "cmp-operator.prod.00000002: has no gonogo.dev/by annotation to vouch that alice wrote it (created by hand?)",
    );
}

fn hex_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_running_session_sees_a_deletion_when_it_refreshes() {
    let logs = kube_log_with(4);
    let log = logs.open();
    let mut loaded = log.load().expect("load");
    assert_eq!(
        log.refresh(&mut loaded).expect("refresh"),
        Refresh::Unchanged
    );
    logs.fake()
        .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(2));
    assert_eq!(
        log.refresh(&mut loaded).expect("refresh"),
        Refresh::Reloaded
    );
    assert_eq!(
        loaded.problems.first().map(ToString::to_string).as_deref(),
        Some("cmp-operator.prod.00000002: missing (deleted?)")
    );
}

#[test]
fn an_unreachable_server_refuses_writes_with_the_reason_and_nothing_is_kept_elsewhere() {
    let logs = kube_log_with(1);
    let log = logs.open();
    let url = logs.fake().tls_url();
    logs.fake().fail_with(Some(503));
    let refused = log
        .append("alice", note("a", "while the server is down"))
        .expect_err("nothing can be written");
    let message = refused.to_string();
    assert!(
        matches!(refused, LedgerError::Unavailable { .. }),
        "{message}"
    );
    assert!(message.contains("503"), "{message}");
    assert!(matches!(log.health(), Health::Unreachable(ref why) if why.contains("503")));
    logs.fake().fail_with(None);
    assert_eq!(logs.open().events().expect("events").len(), 1);
    assert!(
        !logs.state_dir().exists(),
        "nothing was written to a folder"
    );

    // A server that is not there at all.
    let closed = Logs::new(Kind::Kube);
    let stray = closed.open();
    drop(closed);
    let refused = stray
        .append("alice", note("a", "x"))
        .expect_err("no server");
    assert!(
        refused
            .to_string()
            .contains("cannot reach the API server at https://127.0.0.1:"),
        "{refused}"
    );
    let _ = url;
}

#[test]
fn a_forbidden_request_says_who_was_refused_what() {
    let logs = kube_log_with(1);
    logs.fake()
        .allow_only("configmaps", &["get", "list", "watch"]);
    let refused = logs
        .open()
        .append("alice", note("a", "x"))
        .expect_err("no create right");
    let message = refused.to_string();
    assert!(
        message.contains("forbidden: cannot create configmaps in gonogo with context ops"),
        "{message}"
    );
    assert!(
        message.contains(
            "User \"system:serviceaccount:gonogo:reviewer\" cannot create resource \"configmaps\""
        ),
        "{message}"
    );
}

/// The dashboard's door to a log reports the store's health with each
/// snapshot: the header's hook.
#[test]
fn the_dashboard_hook_shows_the_store_going_away_and_coming_back() {
    let logs = kube_log_with(1);
    let store = LogStore::new(logs.open());
    let first = store.load().expect("load");
    assert_eq!(first.store, Health::Ok);
    assert_eq!(first.log.events, 1);
    logs.fake().fail_with(Some(503));
    let down = store
        .refresh()
        .expect("an unreachable store is a state, not an error")
        .expect("news: the store went away");
    assert!(
        matches!(down.store, Health::Unreachable(ref why) if why.contains("503")),
        "{:?}",
        down.store
    );
    assert_eq!(down.log.events, 1, "the log as last read stays on screen");
    assert_eq!(store.refresh().expect("refresh"), None, "said once");
    logs.fake().fail_with(None);
    let back = store.refresh().expect("refresh").expect("news: it is back");
    assert_eq!(back.store, Health::Ok);
}

/// The watch feeds the same refresh as the file watcher: another host's
/// event reaches a dashboard's store within a second, and a server going
/// away wakes it too.
#[test]
fn another_hosts_event_reaches_a_watching_session_within_a_second() {
    let logs = kube_log_with(1);
    let store = Arc::new(LogStore::new(logs.open()));
    store.load().expect("load");
    let (tx, rx) = std::sync::mpsc::channel();
    let watched = Arc::clone(&store);
    let _guard = store
        .watch(move || {
            if let Ok(Some(snapshot)) = watched.refresh() {
                let _ = tx.send(snapshot);
            }
        })
        .expect("watch");
    // Let the watch list and settle.
    std::thread::sleep(Duration::from_millis(600));
    while rx.try_recv().is_ok() {}

    let other = logs
        .kube_as(logs::TOKEN, CHECKLIST, ENV)
        .expect("another host");
    let start = Instant::now();
    other
        .append(
            "bob",
            EventKind::Tick {
                item: "runbook".into(),
            },
        )
        .expect("their append");
    let seen = rx.recv_timeout(Duration::from_secs(5)).expect("seen");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(seen.news, ["bob ticked runbook"]);
    assert!(seen.log.state.tick("runbook").is_some());

    logs.fake().fail_with(Some(503));
    let down = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the outage is news");
    assert!(
        matches!(down.store, Health::Unreachable(_)),
        "{:?}",
        down.store
    );
    logs.fake().fail_with(None);
    let back = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the recovery is news");
    assert_eq!(back.store, Health::Ok);
}

/// The shipped Role grants what every operation needs and nothing that
/// rewrites history: with only its verbs, a reviewer appends, reads,
/// verifies, watches and copies, and cannot delete an event.
#[test]
fn the_shipped_role_is_enough_and_no_more() {
    let role_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rbac/role.yaml");
    let role: Value = serde_saphyr::from_str(&std::fs::read_to_string(&role_path).expect("role"))
        .expect("the Role parses");
    assert_eq!(role["kind"], "Role");
    assert_eq!(role["metadata"]["namespace"], NAMESPACE);
    let rules = role["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), 1, "one rule: {rules:?}");
    assert_eq!(rules[0]["resources"], json!(["configmaps"]));
    let verbs: Vec<&str> = rules[0]["verbs"]
        .as_array()
        .expect("verbs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for never in ["update", "patch", "delete", "deletecollection", "*"] {
        assert!(!verbs.contains(&never), "the Role grants {never}");
    }

    let logs = Logs::new(Kind::Kube);
    logs.fake().allow_only("configmaps", &verbs);
    let log = logs.open();
    let mut watcher = gonogo::ledger::watch::watch_store(log.as_ref()).expect("watch");
    log.append("alice", note("a", "one")).expect("create");
    logs.open()
        .append("bob", EventKind::Tick { item: "a".into() })
        .expect("create");
    let mut loaded = log.load().expect("list");
    assert_eq!(loaded.events, 2);
    assert!(log.verify().expect("verify").is_intact());
    log.append("alice", note("a", "two")).expect("create");
    assert!(matches!(
        log.refresh(&mut loaded).expect("refresh"),
        Refresh::Appended(_)
    ));
    let woke = logs.within(Duration::from_secs(5), watcher.changed());
    assert_eq!(woke, Some(true));
    let copy = logs.try_open("cmp-operator", "staging").expect("open");
    assert_eq!(
        copy.import(&log.records().expect("records")).expect("copy"),
        3
    );

    let client = logs.block_on(async {
        let kubeconfig =
            kube::config::Kubeconfig::read_from(logs.kubeconfig()).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("config");
        kube::Client::try_from(config).expect("client")
    });
    let api: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client, NAMESPACE);
    let deleted = logs.block_on(api.delete(&Logs::object_name(1), &Default::default()));
    assert!(
        matches!(&deleted, Err(kube::Error::Api(status)) if status.code == 403),
        "{deleted:?}"
    );
    assert!(logs.object(1).is_some());
}

// ---------------------------------------------------------------------------
// The command line.

const CHECKLIST_TOML: &str = r#"
id = "cmp-operator"
title = "CMP operator"
version = "2026-11-01"

[[sections]]
id = "ops"
title = "Operations"

[[sections.items]]
id = "runbook"
title = "Runbook written"
severity = "blocker"

[[sections.items]]
id = "drill"
title = "Restore drill done"
severity = "high"
"#;

/// A review folder whose config keeps logs in `store`, with the fake as
/// context `ops` in its kubeconfig.
fn review(logs: &Logs, store: &str) -> std::path::PathBuf {
    let root = logs.root().join("review");
    std::fs::create_dir_all(root.join("checklists")).expect("review folder");
    std::fs::write(root.join("checklists/cmp.toml"), CHECKLIST_TOML).expect("checklist");
    let config = format!(
        "checklists = [\"checklists/*.toml\"]\nbuiltin = false\nstate_dir = \"reviews\"\noperator = \"alice\"\n\n\
         [state]\nstore = \"{store}\"\nnamespace = \"{NAMESPACE}\"\ncontext = \"ops\"\n\n\
         [[environments]]\nname = \"prod\"\n"
    );
    std::fs::write(root.join("gonogo.toml"), config).expect("config");
    root
}

/// Runs the binary in `root` with the test's kubeconfig; (exit, stdout, stderr).
fn run(logs: &Logs, root: &Path, args: &[&str]) -> (i32, String, String) {
    let out = gonogo(root)
        .env("KUBECONFIG", logs.kubeconfig())
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(result: (i32, String, String)) -> String {
    let (code, stdout, stderr) = result;
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    stdout
}

fn head_of(stdout: &str) -> String {
    stdout
        .rsplit("head ")
        .next()
        .map(|h| h.trim().to_string())
        .expect("a head")
}

#[test]
fn the_command_line_records_reads_verifies_and_archives_a_log_in_the_cluster() {
    let logs = Logs::new(Kind::Kube);
    let root = review(&logs, "kube");
    // The cluster says who signs: not the config's `operator`, not $USER.
    let ticked = ok(run(&logs, &root, &["tick", "runbook", "--env", "prod"]));
    assert!(
        ticked.starts_with(&format!(
            "tick runbook in cmp-operator/prod as {REVIEWER} (event 1, "
        )),
        "{ticked}"
    );
    let first = &logs.records()[0];
    assert!(
        first.contains(&format!(
            "\"by\":\"{REVIEWER}\",\"groups\":[\"system:serviceaccounts\",\"system:serviceaccounts:gonogo\",\"system:authenticated\"],"
        )),
        "the event records the groups the cluster reported: {first}"
    );
    // Nobody names themselves when the cluster can say who they are.
    let (code, _, stderr) = run(
        &logs,
        &root,
        &["note", "drill", "x", "--env", "prod", "--operator", "alice"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "--operator cannot be used when the log is kept in the cluster: the API server records you as {REVIEWER}"
        )),
        "{stderr}"
    );
    assert_eq!(logs.records().len(), 1, "nothing written by the refusal");
    ok(run(
        &logs,
        &root,
        &["note", "drill", "booked for Friday", "--env", "prod"],
    ));
    let refused = run(&logs, &root, &["tick", "runbook", "--env", "prod"]);
    assert_eq!(refused.0, 2);
    assert!(
        refused
            .2
            .contains(&format!("runbook is already ticked (by {REVIEWER}")),
        "{}",
        refused.2
    );
    assert_eq!(logs.records().len(), 2);
    assert!(
        !root.join("reviews").exists(),
        "nothing went to the state folder"
    );

    let trail = ok(run(&logs, &root, &["log", "--env", "prod"]));
    assert!(trail.contains("tick     runbook"), "{trail}");
    assert!(
        trail.contains("note     drill: booked for Friday"),
        "{trail}"
    );
    let verified = ok(run(&logs, &root, &["log", "--env", "prod", "--verify"]));
    assert!(
        verified.starts_with("ok: 2 events, chain intact, head "),
        "{verified}"
    );

    // The decisions count in the gate as they do from a file.
    let (code, json, _) = run(
        &logs,
        &root,
        &[
            "check",
            "--env",
            "prod",
            "--format",
            "json",
            "--fail-on",
            "high",
        ],
    );
    assert_eq!(code, 1, "the drill is still open");
    assert!(json.contains("\"status\": \"done\""), "{json}");

    let archive = root.join("prod-archive.jsonl");
    let archived = ok(run(
        &logs,
        &root,
        &["log", "--env", "prod", "--archive", "prod-archive.jsonl"],
    ));
    assert!(
        archived
            .contains("archived 2 records of configmaps gonogo/cmp-operator.prod.* (context ops)"),
        "{archived}"
    );
    let text = std::fs::read_to_string(&archive).expect("archive written");
    assert_eq!(text, logs.records().concat());
    let again = ok(run(
        &logs,
        &root,
        &["log", "--verify", "prod-archive.jsonl"],
    ));
    assert_eq!(head_of(&again), head_of(&verified));
    let (code, _, stderr) = run(
        &logs,
        &root,
        &["log", "--env", "prod", "--archive", "prod-archive.jsonl"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("an archive never replaces a file"),
        "{stderr}"
    );

    // A deleted event: verify and load say which, and exit 1.
    logs.fake()
        .delete("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(1));
    let (code, _, stderr) = run(&logs, &root, &["log", "--env", "prod", "--verify"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(
            "tampered: configmaps gonogo/cmp-operator.prod.* (context ops): cmp-operator.prod.00000001: missing (deleted?)"
        ),
        "{stderr}"
    );
    let (code, _, stderr) = run(&logs, &root, &["note", "drill", "more", "--env", "prod"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("has been altered"), "{stderr}");
    assert!(
        stderr.contains("gonogo log --verify --checklist cmp-operator --env prod"),
        "{stderr}"
    );
}

#[test]
fn the_command_line_refuses_to_write_when_the_cluster_cannot_be_reached() {
    let mut logs = Logs::new(Kind::Kube);
    let root = review(&logs, "kube");
    ok(run(&logs, &root, &["tick", "runbook", "--env", "prod"]));
    logs.fake().forbid("configmaps");
    let (code, _, stderr) = run(&logs, &root, &["note", "drill", "x", "--env", "prod"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("forbidden: cannot list configmaps in gonogo with context ops"),
        "{stderr}"
    );

    let kubeconfig = logs.kubeconfig();
    let url = logs.fake().tls_url();
    logs.stop_server();
    let out = gonogo(&root)
        .env("KUBECONFIG", &kubeconfig)
        .args(["note", "drill", "x", "--env", "prod"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach the API server at {url}")),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was recorded"), "{stderr}");
    assert!(
        !root.join("reviews").exists(),
        "nothing went to the state folder"
    );
}

#[test]
fn state_copy_moves_a_log_between_the_stores_with_every_hash_intact() {
    let logs = Logs::new(Kind::Kube);
    let root = review(&logs, "dir");
    ok(run(&logs, &root, &["tick", "runbook", "--env", "prod"]));
    ok(run(
        &logs,
        &root,
        &[
            "tick",
            "drill",
            "--note",
            "https://wiki/drill",
            "--env",
            "prod",
        ],
    ));
    let file = root.join("reviews/cmp-operator/prod.jsonl");
    let dir_head = head_of(&ok(run(
        &logs,
        &root,
        &["log", "--verify", "reviews/cmp-operator/prod.jsonl"],
    )));

    let copied = ok(run(
        &logs,
        &root,
        &["state", "copy", "--env", "prod", "--to", "kube"],
    ));
    assert!(
        copied.contains("cmp-operator/prod: copied 3 of 3 events from "),
        "{copied}"
    );
    assert!(copied.trim_end().ends_with(&dir_head), "{copied}");
    let text = std::fs::read_to_string(&file).expect("the file stays");
    assert_eq!(
        logs.records().concat(),
        text,
        "the objects hold the file's lines"
    );

    // From now on the review is kept in the cluster.
    let root = review(&logs, "kube");
    let verified = ok(run(&logs, &root, &["log", "--env", "prod", "--verify"]));
    assert_eq!(head_of(&verified), dir_head);
    ok(run(&logs, &root, &["untick", "runbook", "--env", "prod"]));
    // Copying back completes the file with what the cluster has since.
    let back = ok(run(
        &logs,
        &root,
        &["state", "copy", "--env", "prod", "--to", "dir"],
    ));
    assert!(back.contains("copied 1 of 4 events"), "{back}");
    let file_head = head_of(&ok(run(
        &logs,
        &root,
        &["log", "--verify", "reviews/cmp-operator/prod.jsonl"],
    )));
    assert_eq!(
        file_head,
        head_of(&ok(run(
            &logs,
            &root,
            &["log", "--env", "prod", "--verify"]
        )))
    );

    // A store that holds another log is left alone.
    std::fs::remove_file(&file).expect("remove");
    let other = DirStore::open(&root.join("reviews"), CHECKLIST, ENV).expect("open");
    other
        .append("carol", note("runbook", "a different history"))
        .expect("append");
    let (code, _, stderr) = run(
        &logs,
        &root,
        &["state", "copy", "--env", "prod", "--to", "dir"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("already holds a different log (1 records): nothing copied"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------
// One change, two events, and another host in between.

fn manual(id: &str) -> gonogo::checklist::model::Item {
    gonogo::checklist::model::Item {
        id: id.into(),
        title: id.into(),
        severity: gonogo::checklist::model::Severity::Blocker,
        help: String::new(),
        links: Vec::new(),
        envs: None,
        depends_on: Vec::new(),
        evidence: true,
        probe: None,
        line: None,
    }
}

/// Alice ticks `runbook` with its evidence note (two events, two creates);
/// `bob` writes his event just as her second create is sent.
fn split_by(
    bob: impl FnOnce(&dyn Store) + Send + 'static,
) -> (
    Logs,
    Result<Vec<gonogo::ledger::Event>, gonogo::review::record::RecordError>,
) {
    use gonogo::review::record::{self, Where};
    use gonogo::review::rules::Change;
    let logs = kube_log_with(1);
    let other = logs.open();
    logs.fake()
        .before_create(&Logs::object_name(3), move || bob(other.as_ref()));
    let alice = logs.open();
    let mut loaded = alice.load().expect("load");
    let tick = Change::Tick {
        item: manual("runbook"),
        note: Some("drill record: https://wiki/drill".into()),
    };
    let place = Where {
        env: ENV,
        read_only: false,
    };
    let result = record::record(
        alice.as_ref(),
        &mut loaded,
        &Signer::named("alice"),
        place,
        &tick,
        jiff::Timestamp::now(),
    );
    (logs, result)
}

fn who_did_what(logs: &Logs) -> Vec<(String, String)> {
    logs.open()
        .events()
        .expect("events")
        .iter()
        .map(|e| (e.by.clone(), e.kind.name().to_string()))
        .collect()
}

#[test]
fn a_change_split_by_another_hosts_event_is_judged_again_for_what_is_left() {
    // Bob ticked the item between alice's note and her tick: the tick is
    // refused (not doubled), and she is told her note went in.
    let (logs, result) = split_by(|bob| {
        bob.append(
            "bob",
            EventKind::Tick {
                item: "runbook".into(),
            },
        )
        .expect("bob's tick");
    });
    let refused = result.expect_err("already ticked by bob").to_string();
    assert!(
        refused.starts_with("runbook is already ticked (by bob"),
        "{refused}"
    );
    assert!(
        refused.ends_with("(its note went in before another session's change)"),
        "{refused}"
    );
    let pairs = [("alice", "note"), ("alice", "note"), ("bob", "tick")];
    let expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(b, k)| (b.to_string(), k.to_string()))
        .collect();
    assert_eq!(who_did_what(&logs), expected);
    assert!(logs.open().verify().expect("verify").is_intact());

    // Bob only noted something: alice's tick goes in after his note, and
    // her note is not written twice.
    let (logs, result) = split_by(|bob| {
        bob.append("bob", note("runbook", "looks fine"))
            .expect("bob's note");
    });
    let written = result.expect("the tick still holds");
    assert_eq!(written.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 4]);
    let pairs = [
        ("alice", "note"),
        ("alice", "note"),
        ("bob", "note"),
        ("alice", "tick"),
    ];
    let expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(b, k)| (b.to_string(), k.to_string()))
        .collect();
    assert_eq!(who_did_what(&logs), expected);
    assert!(logs.open().verify().expect("verify").is_intact());
}

// ---------------------------------------------------------------------------

/// Append rates to the kube store against the fake, printed:
/// `cargo test --release --test kube_log -- --ignored --nocapture measure`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure_kube_appends() {
    let n = 500;
    let logs = Logs::new(Kind::Kube);
    let log = logs.open();
    let start = Instant::now();
    for i in 0..n {
        log.append("alice", note("one", &i.to_string()))
            .expect("append");
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    println!("one writer: {rate:.0} appends/s ({n} appends, one create each)");

    let start = Instant::now();
    let loaded = logs.open().load().expect("load");
    println!(
        "load of {} events (one list): {:?}",
        loaded.events,
        start.elapsed()
    );

    let per_writer = 250;
    for writers in [2, 4] {
        let logs = Logs::new(Kind::Kube);
        let start = Instant::now();
        std::thread::scope(|scope| {
            for w in 0..writers {
                let log = logs.open();
                scope.spawn(move || {
                    for i in 0..per_writer {
                        log.append(&format!("w{w}"), note(&format!("w{w}"), &i.to_string()))
                            .expect("append");
                    }
                });
            }
        });
        let elapsed = start.elapsed();
        let total = writers * per_writer;
        let posts = logs
            .fake()
            .request_log()
            .iter()
            .filter(|r| r.method == "POST")
            .count();
        assert!(logs.open().verify().expect("verify").is_intact());
        println!(
            "{writers} writers racing: {:.0} appends/s in total ({total} appends, {} lost races)",
            f64::from(total as u32) / elapsed.as_secs_f64(),
            posts - total as usize
        );
    }

    // The whole path a tick takes from the command line: load, judge,
    // create, refresh.
    use gonogo::review::record::{self, Where};
    use gonogo::review::rules::Change;
    let logs = Logs::new(Kind::Kube);
    let log = logs.open();
    let place = Where {
        env: ENV,
        read_only: false,
    };
    let n = 200;
    let start = Instant::now();
    for i in 0..n {
        let mut loaded = log.load().expect("load");
        let change = Change::Note {
            item: manual("runbook"),
            text: i.to_string(),
        };
        record::record(
            log.as_ref(),
            &mut loaded,
            &Signer::named("alice"),
            place,
            &change,
            jiff::Timestamp::now(),
        )
        .expect("record");
    }
    println!(
        "load + record of one note, {n} times into a growing log: {:.0}/s",
        f64::from(n) / start.elapsed().as_secs_f64()
    );
}

/// The newline ends a line in a file and is no part of what is hashed: an
/// event object whose line lacks it (written by hand) still reads, and its
/// line goes into an archive as one line.
#[test]
fn an_object_without_the_final_newline_still_makes_one_line() {
    let logs = kube_log_with(3);
    let line = line_of(&logs.object(2).expect("event 2"));
    replace_line(&logs, 2, line.trim_end());
    let log = logs.open();
    assert!(log.verify().expect("verify").is_intact());
    let records = log.records().expect("records");
    assert_eq!(records[1], line);
    let archive = logs.root().join("archive.jsonl");
    std::fs::write(&archive, records.concat()).expect("write");
    let report = DirStore::at(archive).verify().expect("verify the archive");
    assert!(report.is_intact() && report.events == 3, "{report:?}");
}

/// With the log in the cluster, a role given to a group is filled by whoever
/// the API server says is in it: the group comes from the SelfSubjectReview,
/// not from anything the signer types.
#[test]
fn a_role_held_through_a_cluster_group_counts_the_groups_the_server_reports() {
    let logs = Logs::new(Kind::Kube);
    let root = review(&logs, "kube");
    let checklist = CHECKLIST_TOML.replace(
        "version = \"2026-11-01\"\n",
        "version = \"2026-11-01\"\nsignoff = { roles = [\"sre\", \"security\"] }\n",
    );
    std::fs::write(root.join("checklists/cmp.toml"), checklist).expect("checklist");
    let config = std::fs::read_to_string(root.join("gonogo.toml")).expect("config");
    std::fs::write(
        root.join("gonogo.toml"),
        format!("{config}\n[roles]\nsre = [\"group:platform-sre\"]\nsecurity = [\"{REVIEWER}\"]\n"),
    )
    .expect("config");
    logs.fake().add_user(
        "dana-token",
        "dana",
        &["platform-sre", "system:authenticated"],
    );
    logs.fake()
        .add_user("erin-token", "erin", &["system:authenticated"]);
    let as_user = |token: &str, args: &[&str]| {
        let path = logs.root().join(format!("kubeconfig-{token}"));
        let text = fake_kube::kubeconfig(&[("ops", &logs.fake().tls_url(), token)]);
        std::fs::write(&path, text).expect("kubeconfig");
        let out = gonogo(&root)
            .env("KUBECONFIG", &path)
            .args(args)
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    ok(run(&logs, &root, &["tick", "runbook", "--env", "prod"]));
    ok(run(&logs, &root, &["tick", "drill", "--env", "prod"]));

    // Erin is in no group that holds a role: a comment.
    let said = ok(as_user("erin-token", &["signoff", "go", "--env", "prod"]));
    assert!(
        said.contains("recorded as a comment, not counted"),
        "{said}"
    );
    // Dana holds sre through platform-sre.
    let said = ok(as_user("dana-token", &["signoff", "go", "--env", "prod"]));
    assert!(
        said.contains("as dana") && said.contains("it counts for sre"),
        "{said}"
    );
    let (code, _, _) = run(&logs, &root, &["check", "--env", "prod"]);
    assert_eq!(code, 1, "security has not signed");
    ok(run(&logs, &root, &["signoff", "go", "--env", "prod"]));
    let (code, stdout, stderr) = run(
        &logs,
        &root,
        &["check", "--env", "prod", "--format", "json"],
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("json");
    let roles = &report["checklists"][0]["signoff"]["roles"];
    assert_eq!(roles[0]["by"], "dana");
    assert_eq!(roles[1]["by"], REVIEWER);
}
