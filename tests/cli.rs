//! The binary as a user runs it: `validate` on bad checklists, `check` on a
//! snapshot environment.

#[path = "support/binary.rs"]
mod binary;
use binary::gonogo;

use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/checklists")
}

/// Every file in tests/checklists/invalid fails to validate with exactly the
/// errors in its `.err` file, each naming file:line:col.
#[test]
fn invalid_checklists_report_exact_errors() {
    let dir = fixtures().join("invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("fixture folder exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = path
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        let expected = std::fs::read_to_string(path.with_extension("err"))
            .unwrap_or_else(|_| panic!("{name} has no .err file"));
        let out = gonogo(&dir)
            .args(["validate", &name])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{name}: exit code");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let got: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
        let want: Vec<&str> = expected.lines().collect();
        assert_eq!(got, want, "{name}: errors differ; full output:\n{stderr}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} fixtures found");
}

#[test]
fn errors_quote_the_line_with_a_caret() {
    let dir = fixtures().join("invalid");
    let out = gonogo(&dir)
        .args(["validate", "bad-severity.toml"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("11 | severity = \"critical\"\n   |            ^^^^^^^^^^"),
        "{stderr}"
    );
}

#[test]
fn validate_reports_every_error_in_one_run() {
    let dir = fixtures().join("invalid");
    let out = gonogo(&dir)
        .args(["validate", "bad-url.toml", "cycle.toml", "unknown-var.toml"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().filter(|l| l.contains(": error: ")).count(),
        3,
        "{stderr}"
    );
    assert!(stderr.contains("error: 3 problems found"), "{stderr}");
}

#[test]
fn bundled_checklists_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gonogo(dir.path()).arg("validate").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bad_config_names_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\n\n[[environments]]\nname = \"prod\"\nkube_contxt = \"prod\"\n",
    )
    .expect("write config");
    let out = gonogo(dir.path()).arg("validate").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("gonogo.toml:5:1: error: unknown field `kube_contxt`"),
        "{stderr}"
    );
}

fn review_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/review")
}

fn check_json(env: &str) -> (Option<i32>, serde_json::Value) {
    let out = gonogo(&review_dir())
        .args(["check", "--env", env, "--format", "json"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

fn item<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checklists"][0]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["items"].as_array().expect("items"))
        .find(|i| i["id"] == id)
        .unwrap_or_else(|| panic!("no item {id}"))
}

/// `check --format json` over a snapshot environment, item by item, in the
/// shape DESIGN section 6 promises.
#[test]
fn check_json_against_a_snapshot_environment() {
    let (code, report) = check_json("staging");
    assert_eq!(code, Some(1), "a pending blocker fails the default gate");
    assert_eq!(report["environment"], "staging");
    assert_eq!(report["decision"], "NO_GO");
    let shop = &report["checklists"][0];
    assert_eq!(shop["id"], "shop");
    assert_eq!(shop["decision"], "NO_GO");

    let status = |id: &str| {
        item(&report, id)["status"]
            .as_str()
            .expect("status")
            .to_string()
    };
    assert_eq!(status("db-secret"), "pass");
    assert_eq!(status("oidc-secret"), "fail");
    assert_eq!(status("replicas"), "pass", "staging asks for 1 replica");
    assert_eq!(
        status("limits"),
        "error",
        "has(c.resources.limits.memory) cannot be judged where c.resources is not there"
    );
    assert_eq!(status("pdb"), "skipped", "the PDB item is for prod only");
    assert_eq!(status("monitors"), "fail");
    assert_eq!(status("runbook"), "pending");
    assert_eq!(status("dr-drill"), "pending");

    let limits = item(&report, "limits");
    let summary = limits["summary"].as_str().expect("summary");
    assert!(summary.contains("shop/shop-worker"), "{summary}");
    assert!(
        summary.contains("resources"),
        "names the missing field: {summary}"
    );
    assert!(limits["checked_at"].is_string());
    assert!(limits["duration_ms"].is_u64());
    assert_eq!(limits["severity"], "medium");

    let sections = shop["sections"].as_array().expect("sections");
    assert_eq!(sections[0]["id"], "secrets");
    assert_eq!(sections[0]["verdict"], "CONDITIONAL", "only a high is open");
    assert_eq!(
        sections[2]["verdict"], "NOT_READY",
        "the DR drill blocker is open"
    );
    assert_eq!(
        shop["critical_path"],
        serde_json::json!(["dr-drill", "oidc-secret", "runbook"]),
        "blockers first, then highs, dependencies before dependants"
    );
}

#[test]
fn environment_vars_change_the_outcome() {
    let (_, report) = check_json("prod");
    let replicas = item(&report, "replicas");
    assert_eq!(replicas["status"], "fail");
    let summary = replicas["summary"].as_str().expect("summary");
    assert!(summary.contains("shop/shop-worker"), "{summary}");
    assert!(
        !summary.contains("shop/shop-api"),
        "shop-api has 2 replicas: {summary}"
    );
    assert_eq!(item(&report, "pdb")["status"], "pass");
}

#[test]
fn secret_values_never_reach_the_output() {
    for format in ["json", "text"] {
        let out = gonogo(&review_dir())
            .args(["check", "--env", "prod", "--format", format])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        for secret in [
            "aHVudGVyMg==",
            "hunter2",
            "cG9zdGdyZXM6Ly9zaG9wQGRiL3Nob3A=",
        ] {
            assert!(!stdout.contains(secret), "{format} output leaks {secret}");
        }
    }
}

#[test]
fn fail_on_sets_the_gate() {
    let run = |fail_on: &str| {
        gonogo(&review_dir())
            .args(["check", "--env", "staging", "--fail-on", fail_on])
            .output()
            .expect("runs")
            .status
            .code()
    };
    assert_eq!(run("none"), Some(0));
    assert_eq!(run("blocker"), Some(1));
    assert_eq!(run("low"), Some(1));
}

#[test]
fn text_report_reads_well_in_a_ci_log() {
    let out = gonogo(&review_dir())
        .args(["check", "--env", "staging", "--ascii"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.is_ascii(), "--ascii output has non-ASCII: {stdout}");
    assert!(stdout.contains("Secrets [CONDITIONAL]"), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("x fail") && l.contains("oidc-secret")),
        "{stdout}"
    );
    assert!(stdout.trim_end().ends_with("decision: NO-GO"), "{stdout}");
}

#[test]
fn unknown_environment_is_a_usage_error() {
    let out = gonogo(&review_dir())
        .args(["check", "--env", "qa"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no environment `qa` (configured: staging, prod)"),
        "{stderr}"
    );
}

#[test]
fn export_writes_one_document_for_several_environments() {
    let state = tempfile::tempdir().expect("tempdir");
    let out_dir = tempfile::tempdir().expect("tempdir");
    let target = out_dir.path().join("signoff.md");
    recorded(
        state.path(),
        &["tick", "dr-drill", "--note", "https://wiki/dr"],
    );
    let out = gonogo(&review_dir())
        .arg("--state-dir")
        .arg(state.path())
        .args(["export", "--env", "staging", "--env", "prod", "-o"])
        .arg(&target)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = std::fs::read_to_string(&target).expect("document written");
    assert!(md.contains("| Section | staging | prod |"), "{md}");
    assert!(
        md.contains("| **Decision** | **GO WITH CONDITIONS** | **NO-GO** |"),
        "{md}"
    );
    assert!(
        md.contains("## Decision in staging: GO WITH CONDITIONS"),
        "{md}"
    );
    // Only the document itself is left behind: the temp file was renamed.
    let files: Vec<_> = std::fs::read_dir(out_dir.path()).expect("dir").collect();
    assert_eq!(files.len(), 1);
}

#[test]
fn check_speaks_junit_for_ci() {
    let out = gonogo(&review_dir())
        .args(["check", "--env", "staging", "--format", "junit"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"shop / Secrets [staging]\" tests=\"2\" failures=\"1\""),
        "{xml}"
    );
}

/// `gonogo` in the review folder with its own state dir and operator.
fn decide(state: &Path, args: &[&str]) -> std::process::Output {
    gonogo(&review_dir())
        .arg("--state-dir")
        .arg(state)
        .args(["--operator", "alice", "--env", "staging"])
        .args(args)
        .output()
        .expect("runs")
}

/// Records one decision that must be accepted; a refusal fails the test
/// with gonogo's own message.
fn recorded(state: &Path, args: &[&str]) {
    let out = decide(state, args);
    assert!(
        out.status.success(),
        "{args:?} was refused: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn log_bytes(state: &Path) -> Vec<u8> {
    std::fs::read(state.join("shop/staging.jsonl")).unwrap_or_default()
}

#[test]
fn a_tick_in_the_log_counts_in_the_gate() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(
        state.path(),
        &[
            "tick",
            "dr-drill",
            "--note",
            "https://wiki.example.com/dr-2026",
        ],
    );
    recorded(
        state.path(),
        &[
            "waive",
            "oidc-secret",
            "--reason",
            "audience ships next week",
        ],
    );

    let out = decide(state.path(), &["check", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(item(&report, "dr-drill")["status"], "done");
    assert_eq!(item(&report, "dr-drill")["summary"], "ticked by alice");
    assert_eq!(item(&report, "oidc-secret")["status"], "waived");
    assert_eq!(report["decision"], "GO_WITH_CONDITIONS");
    assert_eq!(out.status.code(), Some(0), "no blocker is open any more");
}

#[test]
fn refused_changes_leave_the_log_untouched() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(state.path(), &["note", "limits", "tracked in SHOP-42"]);
    let before = log_bytes(state.path());
    let refusals: [(&[&str], &str); 6] = [
        (&["tick", "dr-drill"], "needs evidence"),
        (&["tick", "db-secret"], "checked by a probe"),
        (&["waive", "limits", "--reason", " "], "needs a reason"),
        (
            &[
                "waive",
                "limits",
                "--reason",
                "later",
                "--until",
                "2001-01-01",
            ],
            "already past",
        ),
        (&["signoff", "go"], "NO-GO"),
        (&["signoff", "go-with-conditions"], "dr-drill"),
    ];
    for (args, why) in refusals {
        let out = decide(state.path(), args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?} should be refused: {stderr}"
        );
        assert!(stderr.contains(why), "{args:?}: {stderr}");
        assert_eq!(log_bytes(state.path()), before, "{args:?} changed the log");
    }
    // A no-go can always be signed, and records what was signed.
    recorded(
        state.path(),
        &["signoff", "no-go", "--note", "DR drill first"],
    );
    let out = decide(state.path(), &["log", "--format", "json"]);
    let events: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let signoff = &events[1];
    assert_eq!(signoff["kind"], "signoff");
    assert_eq!(signoff["decision"], "no-go");
    assert_eq!(signoff["by"], "alice");
    assert_eq!(signoff["signed_hash"], events[0]["hash"]);
    assert_eq!(signoff["counts"]["pending"], 2);
}

#[test]
fn read_only_environments_refuse_every_write() {
    let dir = tempfile::tempdir().expect("tempdir");
    let checklists = review_dir().join("checklists/shop.toml");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        format!(
            "builtin = false\nchecklists = [{:?}]\nstate_dir = \"state\"\n[[environments]]\nname = \"prod\"\nread_only = true\n",
            checklists.display().to_string()
        ),
    )
    .expect("write config");
    for args in [
        &["note", "runbook", "hello"][..],
        &["tick", "runbook"],
        &["signoff", "no-go"],
    ] {
        let out = gonogo(dir.path()).args(args).output().expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("prod is read-only"), "{stderr}");
    }
    assert!(!dir.path().join("state").exists(), "nothing was written");
}

#[test]
fn items_are_found_by_id_or_checklist_slash_id() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(state.path(), &["note", "shop/runbook", "reviewed with ops"]);
    let out = decide(state.path(), &["note", "nope", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item `nope`"));
}

#[test]
fn an_ambiguous_item_lists_the_candidates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let shop = std::fs::read_to_string(review_dir().join("checklists/shop.toml")).expect("read");
    std::fs::write(dir.path().join("a.toml"), &shop).expect("write");
    std::fs::write(
        dir.path().join("b.toml"),
        shop.replace("id = \"shop\"", "id = \"shop-eu\""),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"*.toml\"]\nstate_dir = \"state\"\n",
    )
    .expect("write config");
    let out = gonogo(dir.path())
        .args(["note", "runbook", "x"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("name one of: shop/runbook, shop-eu/runbook"),
        "{stderr}"
    );
}

#[test]
fn log_verify_names_the_edited_line() {
    let state = tempfile::tempdir().expect("tempdir");
    for text in ["one", "two", "three"] {
        recorded(state.path(), &["note", "runbook", text]);
    }
    let out = decide(state.path(), &["log", "--verify"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 3 events, chain intact"));

    let path = state.path().join("shop/staging.jsonl");
    let text = std::fs::read_to_string(&path).expect("log");
    std::fs::write(&path, text.replace("\"two\"", "\"TWO\"")).expect("edit");
    let out = decide(state.path(), &["log", "--verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 2: hash does not match its content"),
        "{stderr}"
    );
    // Nothing more is recorded on a log that was altered.
    let out = decide(state.path(), &["note", "runbook", "four"]);
    assert_eq!(out.status.code(), Some(2));
}

/// The verify command a document's audit trail prints works on the file
/// alone, in a folder with no config and none of the checklists.
#[test]
fn log_verify_takes_the_file_a_document_names() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(state.path(), &["note", "runbook", "one"]);
    let path = state.path().join("shop/staging.jsonl");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let verify = |dir: &std::path::Path| {
        gonogo(dir)
            .args(["log", "--verify"])
            .arg(&path)
            .output()
            .expect("runs")
    };
    let out = verify(elsewhere.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 1 events, chain intact"));

    let text = std::fs::read_to_string(&path).expect("log");
    std::fs::write(&path, text.replace("\"one\"", "\"ONE\"")).expect("edit");
    let out = verify(elsewhere.path());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 1:"));

    let out = gonogo(elsewhere.path())
        .args(["log", "--verify", "missing.jsonl"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.jsonl: no such log file"));
}

/// Several real gonogo processes recording notes at once: every note lands
/// exactly once and the chain stays intact.
#[test]
fn concurrent_processes_lose_nothing() {
    let state = tempfile::tempdir().expect("tempdir");
    let writers: Vec<std::thread::JoinHandle<()>> = (0..4)
        .map(|w| {
            let state = state.path().to_path_buf();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let text = format!("writer {w} note {i}");
                    recorded(&state, &["note", "runbook", &text]);
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("writer thread");
    }
    let out = decide(state.path(), &["log", "--verify"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: 100 events"));
    let out = decide(state.path(), &["log", "--format", "json"]);
    let events: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let mut texts: Vec<String> = events
        .iter()
        .map(|e| e["text"].as_str().expect("text").to_string())
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 100);
}

/// A note written on several lines reads that way in `gonogo log`: each
/// line under the first, aligned with it; escapes are still stripped.
#[test]
fn the_log_shows_a_note_as_written() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(
        state.path(),
        &[
            "note",
            "runbook",
            "Reviewed with Dana.\nRollback tested\u{1b}[31m in staging.",
        ],
    );
    let out = decide(state.path(), &["log"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout
        .lines()
        .find(|l| l.contains("note     runbook: Reviewed with Dana."))
        .unwrap_or_else(|| panic!("no note line:\n{stdout}"));
    let indent = first.find("Reviewed").expect("the text is on the line");
    let second = format!("{}Rollback tested in staging.", " ".repeat(indent));
    assert!(stdout.lines().any(|l| l == second), "{stdout}");
    assert!(!stdout.contains('\u{1b}'));
}

/// A server on 127.0.0.1 whose `/ready` answers 503 for its first
/// `not_ready` requests, then 200. Returns its port.
fn readiness_server(not_ready: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = listener.local_addr().expect("bound").port();
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let status = if served < not_ready {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            served += 1;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
            );
        }
    });
    port
}

fn waiting_review(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ready.toml"),
        format!(
            "id = \"rollout\"\ntitle = \"Rollout\"\n\n[[sections]]\nid = \"s\"\ntitle = \"Service\"\n\n\
             [[sections.items]]\nid = \"ready\"\ntitle = \"The service answers ready\"\nseverity = \"blocker\"\n\
             [sections.items.probe]\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/ready\"\nstatus = 200\nevery = \"1s\"\n"
        ),
    )
    .expect("write checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"ready.toml\"]\nstate_dir = \"state\"\n\n[[environments]]\nname = \"live\"\n",
    )
    .expect("write config");
    dir
}

/// `check --wait` keeps looking until the gate holds, saying each change.
#[test]
fn check_wait_holds_once_the_service_is_ready() {
    let dir = waiting_review(readiness_server(2));
    let out = gonogo(dir.path())
        .args(["check", "--wait", "30s", "--format", "json"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("rollout/ready: fail  status 503"),
        "{stderr}"
    );
    assert!(stderr.contains("rollout/ready: fail -> pass"), "{stderr}");
    assert!(stderr.contains("live: the gate holds"), "{stderr}");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON report");
    assert_eq!(report["decision"], "GO");
}

/// Time up: exit 1 with the report of what is still open.
#[test]
fn check_wait_gives_up_when_the_time_is_up() {
    let dir = waiting_review(readiness_server(usize::MAX));
    let out = gonogo(dir.path())
        .args(["check", "--wait", "2s"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("live: the gate still fails after 2s"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("decision: NO-GO"), "{stdout}");
}

#[test]
fn a_change_with_nobody_to_record_it_under_is_refused() {
    let state = tempfile::tempdir().expect("tempdir");
    let anonymous = |args: &[&str]| {
        gonogo(&review_dir())
            .arg("--state-dir")
            .arg(state.path())
            .args(["--env", "staging"])
            .args(args)
            .env_remove("USER")
            .env_remove("USERNAME")
            .output()
            .expect("runs")
    };
    let out = anonymous(&["note", "limits", "tracked in SHOP-42"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--operator NAME"), "{stderr}");
    assert!(stderr.contains("$USER"), "{stderr}");
    assert!(log_bytes(state.path()).is_empty(), "nothing was written");

    // Reading needs no name.
    let out = anonymous(&["check", "--format", "json"]);
    assert!(out.status.code().is_some_and(|c| c < 2));
    // An empty $USER names nobody either.
    let out = gonogo(&review_dir())
        .arg("--state-dir")
        .arg(state.path())
        .args(["--env", "staging", "note", "limits", "x"])
        .env("USER", "")
        .env_remove("USERNAME")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    // Set, it is recorded under that name.
    let out = anonymous(&["--operator", "carol", "note", "limits", "x"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn bytes_that_are_not_utf8_are_an_error_at_their_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = std::fs::read_to_string(review_dir().join("checklists/shop.toml")).expect("fixture");
    // A Latin-1 'é' in a title on the third line, eighth column.
    let mut bytes = b"# shop\n# \n# title\xe9 broken\n".to_vec();
    bytes.extend_from_slice(good.as_bytes());
    std::fs::write(dir.path().join("latin1.toml"), &bytes).expect("written");
    let out = gonogo(dir.path())
        .args(["validate", "latin1.toml"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "latin1.toml:3:8: error: not UTF-8 text (byte 0xe9); save the checklist as UTF-8"
        ),
        "{stderr}"
    );
    // A byte-order mark is not an error: the file validates.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(good.as_bytes());
    std::fs::write(dir.path().join("bom.toml"), &bom).expect("written");
    let out = gonogo(dir.path())
        .args(["validate", "bom.toml"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The config file gets the same.
    std::fs::write(dir.path().join("gonogo.toml"), b"operator = \"j\xf6rg\"\n").expect("written");
    let out = gonogo(dir.path()).args(["check"]).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "gonogo.toml:1:14: error: not UTF-8 text (byte 0xf6); save the config as UTF-8"
        ),
        "{stderr}"
    );
}

/// `check --format json` keeps the contract's order of fields, not the
/// alphabet's: what a person reads first comes first.
#[test]
fn json_output_keeps_the_documented_order() {
    let out = gonogo(&review_dir())
        .args(["check", "--env", "staging", "--format", "json"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let at = |key: &str| {
        text.find(&format!("\"{key}\":"))
            .unwrap_or_else(|| panic!("no {key} in {text}"))
    };
    let order = ["generated_at", "environment", "decision", "checklists"];
    for pair in order.windows(2) {
        assert!(
            at(pair[0]) < at(pair[1]),
            "{} before {}: {text}",
            pair[0],
            pair[1]
        );
    }
    let item = [
        "\"id\"",
        "\"title\"",
        "\"severity\"",
        "\"status\"",
        "\"summary\"",
    ];
    let first_item = &text[text.find("\"items\"").expect("items")..];
    for pair in item.windows(2) {
        assert!(
            first_item.find(pair[0]) < first_item.find(pair[1]),
            "{} before {}",
            pair[0],
            pair[1]
        );
    }
}

/// The demo's review runs headless too, so the README's command-line tour
/// can be tried with no config: `demo check`, `demo export`, and the config
/// it runs with, which gonogo itself reads back.
#[test]
fn the_demo_runs_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gonogo(dir.path())
        .args(["demo", "check", "--env", "prod"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "prod is NO-GO: {text}");
    assert!(text.contains("decision: NO-GO"), "{text}");
    assert!(text.contains("promoted from: staging not signed"), "{text}");

    let out = gonogo(dir.path())
        .args(["demo", "export", "--env", "staging", "--format", "json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["environment"], "staging");
    assert_eq!(doc["decision"], "GO_WITH_CONDITIONS");

    let out = gonogo(dir.path())
        .args(["demo", "--print-config"])
        .output()
        .expect("runs");
    let config = String::from_utf8_lossy(&out.stdout);
    std::fs::write(dir.path().join("demo.toml"), config.as_bytes()).expect("write");
    let parsed = gonogo::config::Config::load(&dir.path().join("demo.toml"))
        .unwrap_or_else(|e| panic!("the printed config reads back: {e}\n{config}"));
    let names: Vec<&str> = parsed
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["dev", "staging", "prod"]);
    assert_eq!(
        parsed.environments[2].promote_from.as_deref(),
        Some("staging")
    );
}

/// A review in a folder of its own for `check --format sarif`: a
/// Deployment out of line in the third document of a rendered chart, a
/// placeholder on a known line of a values file, and a status page that
/// cannot be reached.
fn sarif_review() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let files: &[(&str, &str)] = &[
        (
            "gonogo.toml",
            "builtin = false\nchecklists = [\"checklists/*.toml\"]\nstate_dir = \"state\"\n\n\
             [[environments]]\nname = \"prod\"\nsnapshot = \"rendered\"\n",
        ),
        (
            "checklists/web.toml",
            r#"id = "web"
title = "Web launch"

[[sections]]
id = "rollout"
title = "Rollout"

[[sections.items]]
id = "replicas"
title = "Every deployment runs two replicas"
severity = "blocker"
help = "One replica means downtime on every node drain."
[sections.items.probe]
kind = "kube"
resource = "apps/v1/Deployment"
namespace = "web"
expect = "object.spec.replicas >= 2"

[[sections.items]]
id = "placeholders"
title = "No placeholder values are left"
severity = "medium"
[sections.items.probe]
kind = "file"
root = "."
glob = "deploy/**/*.yml"
pattern = "change-me"
max_matches = 0

[[sections.items]]
id = "status-page"
title = "The status page answers"
severity = "low"
[sections.items.probe]
kind = "http"
url = "http://127.0.0.1:1/"
timeout = "5s"
"#,
        ),
        (
            "rendered/web.yaml",
            "# Source: web/templates/config.yaml\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web-config\n  namespace: web\n\
             data:\n  mode: prod\n\
             ---\n\
             # Source: web/templates/api.yaml\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: web\n\
             spec:\n  replicas: 3\n\
             ---\n\
             # Source: web/templates/worker.yaml\n\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\n  namespace: web\n\
             spec:\n  replicas: 1\n",
        ),
        (
            "deploy/prod/values.yml",
            "image: web:1.4\npassword: change-me-please\nreplicas: 2\n",
        ),
    ];
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("folders");
        std::fs::write(path, text).expect("written");
    }
    dir
}

/// `check --format sarif` is SARIF 2.1.0 whose locations are the lines a
/// pull request shows: the failing object's manifest where its document
/// starts, the placeholder's own line, and the item in its checklist for a
/// probe that names no file.
#[test]
fn check_speaks_sarif_for_code_scanning() {
    let dir = sarif_review();
    let out = gonogo(dir.path())
        .args(["check", "--format", "sarif"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the open blocker fails the gate, as with `check`: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: serde_json::Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"].as_str().is_some_and(|s| s.contains("sarif")),
        "{}",
        log["$schema"]
    );
    let runs = log["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "one run per environment");
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "gonogo");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run["automationDetails"]["id"], "gonogo/prod/");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("a rule id"))
        .collect();
    assert_eq!(
        rules,
        ["web/replicas", "web/placeholders", "web/status-page"]
    );

    let results = run["results"].as_array().expect("results");
    for result in results {
        let rule = result["ruleId"].as_str().expect("a ruleId");
        assert!(rules.contains(&rule), "{rule} is among the rules");
        let text = result["message"]["text"].as_str().expect("a message");
        assert!(!text.is_empty());
        let level = result["level"].as_str().expect("a level");
        assert!(
            ["none", "note", "warning", "error"].contains(&level),
            "{level}"
        );
    }
    let located = |rule: &str| -> Vec<(String, usize, String)> {
        results
            .iter()
            .filter(|r| r["ruleId"] == rule)
            .map(|r| {
                let physical = &r["locations"][0]["physicalLocation"];
                let uri = physical["artifactLocation"]["uri"].as_str().expect("a uri");
                let line = physical["region"]["startLine"].as_u64().expect("a line") as usize;
                (
                    uri.to_string(),
                    line,
                    r["message"]["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let line_of = |uri: &str, line: usize| -> String {
        let text = std::fs::read_to_string(dir.path().join(uri)).expect("the file it names");
        text.lines()
            .nth(line - 1)
            .expect("the line it names")
            .to_string()
    };

    // One result for the worker only, where its document starts.
    let replicas = located("web/replicas");
    let [(uri, line, message)] = &replicas[..] else {
        panic!("one failing object: {replicas:?}");
    };
    assert_eq!(uri, "rendered/web.yaml");
    assert_eq!(*line, 21, "below two documents, a comment and a blank line");
    assert_eq!(line_of(uri, *line), "apiVersion: apps/v1");
    assert_eq!(line_of(uri, line + 3), "  name: worker");
    assert!(
        message.starts_with("web/worker: object.spec.replicas is 1"),
        "{message}"
    );

    let placeholders = located("web/placeholders");
    let [(uri, line, message)] = &placeholders[..] else {
        panic!("one placeholder: {placeholders:?}");
    };
    assert_eq!(uri, "deploy/prod/values.yml");
    assert_eq!(*line, 2);
    assert_eq!(line_of(uri, *line), "password: change-me-please");
    assert!(message.ends_with("password: change-me-please"), "{message}");

    // No file to name: the item where its checklist writes it.
    let status = located("web/status-page");
    let [(uri, line, _)] = &status[..] else {
        panic!("one result for the status page: {status:?}");
    };
    assert_eq!(uri, "checklists/web.toml");
    assert_eq!(line_of(uri, *line), "id = \"status-page\"");
    let result = results
        .iter()
        .find(|r| r["ruleId"] == "web/status-page")
        .expect("the status page's result");
    assert_eq!(result["level"], "error", "it could not be checked");
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "web/status-page"
    );
}

/// Completions for every shell clap knows and a man page, both from the
/// same definitions the parser uses. The scripts ask the binary what to
/// offer, so bash completes `--env` and `--checklist` with the names of the
/// config in the folder it is in; `--static` gives clap's script.
#[test]
fn completions_and_the_man_page_come_from_the_parser() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = gonogo(dir.path())
            .args(["completions", shell, "--static"])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["check", "export", "signoff", "env", "fail-on"] {
            assert!(script.contains(word), "{shell} completes {word}");
        }
        let out = gonogo(dir.path())
            .args(["completions", shell])
            .output()
            .expect("runs");
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains("COMPLETE"), "{shell}: {script}");
    }

    // The names come from the config where the shell is.
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = [\"web-hardening\"]\n[[environments]]\nname = \"staging\"\n\
         [[environments]]\nname = \"prod-eu\"\n",
    )
    .expect("config");
    let ask = |words: &[&str]| {
        let out = gonogo(dir.path())
            .env("COMPLETE", "fish")
            .arg("--")
            .args(words)
            .output()
            .expect("runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let envs = ask(&["gonogo", "check", "--env", ""]);
    assert_eq!(
        envs.lines().collect::<Vec<_>>(),
        ["staging\tno cluster", "prod-eu\tno cluster"]
    );
    let ids = ask(&["gonogo", "export", "--checklist", "web"]);
    assert!(ids.starts_with("web-hardening\t"), "{ids}");

    // And bash, when there is one, takes the script and offers them.
    let script = gonogo(dir.path())
        .args(["completions", "bash"])
        .output()
        .expect("runs")
        .stdout;
    let path = dir.path().join("gonogo.bash");
    std::fs::write(&path, &script).expect("write");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_gonogo"))
        .parent()
        .expect("the binary's folder");
    let path_var = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let bash = std::process::Command::new("bash")
        .current_dir(dir.path())
        .env("PATH", path_var)
        .env("HOME", dir.path().join(".test-home"))
        .env("KUBECONFIG", dir.path().join("no-kubeconfig"))
        .arg("-c")
        .arg(
            "source ./gonogo.bash && COMP_WORDS=(gonogo check --env p) && COMP_CWORD=3 \
             && COMP_TYPE=9 && _clap_complete_gonogo gonogo p check \
             && printf '%s\\n' \"${COMPREPLY[@]}\"",
        )
        .output();
    if let Ok(out) = bash {
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "prod-eu\n",
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = gonogo(dir.path()).arg("man").output().expect("runs");
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH gonogo 1"), "{page}");
    assert!(
        page.contains("completions") && page.contains("signoff"),
        "{page}"
    );
}

/// `gonogo init` in an empty folder: a config with an environment per
/// kubeconfig context (the current one first, prod promoted from staging)
/// and a starter checklist, both of which load; a second run overwrites
/// nothing.
#[test]
fn init_writes_a_config_from_the_kubeconfig_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: staging\n\
         clusters:\n- name: c\n  cluster: {server: \"https://127.0.0.1:1\"}\n\
         users:\n- name: u\n  user: {token: t}\n\
         contexts:\n- name: kind-dev\n  context: {cluster: c, user: u}\n\
         - name: staging\n  context: {cluster: c, user: u}\n\
         - name: prod-eu\n  context: {cluster: c, user: u}\n",
    )
    .expect("kubeconfig");
    let review = dir.path().join("review");
    std::fs::create_dir_all(&review).expect("folder");
    let init = || {
        gonogo(&review)
            .env("KUBECONFIG", &kubeconfig)
            .arg("init")
            .output()
            .expect("runs")
    };
    let out = init();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(
        said.contains("3 environments from your kubeconfig: staging, kind-dev, prod-eu"),
        "{said}"
    );
    assert!(said.contains("gonogo check --env staging"), "{said}");
    let config = std::fs::read_to_string(review.join("gonogo.toml")).expect("config");
    assert!(
        config.contains("name = \"prod-eu\"\nkube_context = \"prod-eu\""),
        "{config}"
    );
    assert!(config.contains("promote_from = \"staging\""), "{config}");
    let out = gonogo(&review).arg("validate").output().expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let starter =
        std::fs::read_to_string(review.join("checklists/starter.toml")).expect("checklist");
    for kind in ["kube", "http", "tls", "file", "promql", "command"] {
        assert!(starter.contains(&format!("kind = \"{kind}\"")), "{kind}");
    }
    // Both name the schemas init wrote beside them, for an editor.
    assert!(starter.starts_with("#:schema ../.gonogo/checklist.schema.json\n"));
    assert!(config.starts_with("#:schema .gonogo/config.schema.json\n"));
    for schema in ["checklist", "config"] {
        let text = std::fs::read_to_string(review.join(format!(".gonogo/{schema}.schema.json")))
            .expect("init writes the schema");
        assert!(text.contains("\"title\": \"gonogo "), "{schema}");
    }

    std::fs::write(review.join("gonogo.toml"), "# mine\n").expect("edit");
    let out = init();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("gonogo.toml is already here"));
    assert_eq!(
        std::fs::read_to_string(review.join("gonogo.toml")).expect("config"),
        "# mine\n"
    );
}

/// A log whose last lines were removed still has an intact chain, so
/// `log --verify` alone accepts it; the verify command a sign-off document
/// prints carries the head it saw, and fails on a cut-off log (naming how
/// many events are missing) and on one added to since (how many added).
#[test]
fn the_documents_verify_command_catches_a_cut_off_log() {
    let state = tempfile::tempdir().expect("tempdir");
    recorded(state.path(), &["note", "dr-drill", "booked for Tuesday"]);
    recorded(
        state.path(),
        &["tick", "dr-drill", "--note", "https://wiki/dr"],
    );
    recorded(state.path(), &["note", "db-secret", "rotated"]);
    let out = gonogo(&review_dir())
        .arg("--state-dir")
        .arg(state.path())
        .args(["export", "--env", "staging", "--format", "md"])
        .output()
        .expect("runs");
    let md = String::from_utf8_lossy(&out.stdout);
    let command = md
        .lines()
        .find_map(|l| l.trim().strip_prefix("- verify: `"))
        .and_then(|l| l.strip_suffix('`'))
        .unwrap_or_else(|| panic!("the document prints a verify command:\n{md}"));
    let head = command
        .split(" --head ")
        .nth(1)
        .unwrap_or_else(|| panic!("the command names the head: {command}"))
        .to_string();
    let events: usize = head
        .split(':')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("EVENTS:HASH");
    assert!(events >= 3, "{head}");
    let log = state.path().join("shop/staging.jsonl");
    let verify = |head: Option<&str>| {
        let mut cmd = gonogo(&review_dir());
        cmd.arg("log").arg("--verify").arg(&log);
        if let Some(h) = head {
            cmd.args(["--head", h]);
        }
        cmd.output().expect("runs")
    };
    let said = |out: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    };
    let out = verify(Some(&head));
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    // The last line cut off: the chain is intact, the head is not there.
    let full = std::fs::read_to_string(&log).expect("log");
    let kept: String = full
        .lines()
        .take(events - 1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&log, &kept).expect("cut");
    let out = verify(None);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let ok = format!("ok: {} events, chain intact", events - 1);
    assert!(said(&out).contains(&ok), "{}", said(&out));
    let out = verify(Some(&head));
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains(&format!(
            "1 event missing: the document recorded {events} events"
        )),
        "{}",
        said(&out)
    );
    // The hash alone (without the count) still fails, saying less.
    let bare = head.split(':').nth(1).expect("hash");
    let out = verify(Some(bare));
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("does not contain the recorded head"),
        "{}",
        said(&out)
    );

    // Put back and added to: two events after the recorded head.
    std::fs::write(&log, &full).expect("restore");
    recorded(state.path(), &["note", "db-secret", "checked again"]);
    recorded(state.path(), &["note", "db-secret", "and again"]);
    let out = verify(Some(&head));
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(
        said(&out).contains("2 events added after the recorded head"),
        "{}",
        said(&out)
    );
    // A malformed head is a usage error.
    let out = verify(Some("3:abc"));
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
}
