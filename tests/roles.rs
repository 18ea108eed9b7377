//! Sign-off by role and promotion, through the binary as a team uses it:
//! a review that needs an SRE and a security sign-off, and prod promoted
//! from staging.

#[path = "support/binary.rs"]
mod binary;
use binary::gonogo;

use std::path::Path;
use std::process::Output;

const CONFIG: &str = r#"
builtin = false
checklists = ["launch.toml"]
state_dir = "state"

[[environments]]
name = "staging"

[[environments]]
name = "prod"
promote_from = "staging"

[roles]
sre = ["alice", "group:platform-sre"]
security = ["bob"]
"#;

fn checklist(version: &str) -> String {
    format!(
        r#"id = "launch"
title = "Launch"
version = "{version}"
signoff = {{ roles = ["sre", "security"] }}

[[sections]]
id = "ops"
title = "Operations"

[[sections.items]]
id = "runbook"
title = "The runbook is written"
severity = "high"

[[sections.items]]
id = "oncall"
title = "The on-call rota is set"
severity = "low"
"#
    )
}

fn review() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gonogo.toml"), CONFIG).expect("write config");
    std::fs::write(dir.path().join("launch.toml"), checklist("1")).expect("write checklist");
    dir
}

fn run(dir: &Path, who: &str, env: &str, args: &[&str]) -> Output {
    gonogo(dir)
        .args(["--operator", who, "--env", env])
        .args(args)
        .output()
        .expect("runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs a change that must be accepted; returns what it said.
fn accepted(dir: &Path, who: &str, env: &str, args: &[&str]) -> String {
    let out = run(dir, who, env, args);
    assert!(
        out.status.success(),
        "{who} {args:?} in {env} was refused: {}",
        stderr(&out)
    );
    stdout(&out)
}

/// Runs a change that must be refused; returns the reason.
fn refused(dir: &Path, who: &str, env: &str, args: &[&str]) -> String {
    let out = run(dir, who, env, args);
    assert!(
        !out.status.success(),
        "{who} {args:?} in {env} was accepted: {}",
        stdout(&out)
    );
    stderr(&out)
}

fn check(dir: &Path, env: &str) -> (Option<i32>, serde_json::Value) {
    let out = run(dir, "alice", env, &["check", "--format", "json"]);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("check --format json: {e}\n{}", stderr(&out)));
    (out.status.code(), report)
}

fn close_every_item(dir: &Path, env: &str) {
    accepted(dir, "carol", env, &["tick", "runbook"]);
    accepted(dir, "carol", env, &["tick", "oncall"]);
}

#[test]
fn go_needs_every_role_signed_by_a_different_person_since_the_last_change() {
    let dir = review();
    let d = dir.path();
    close_every_item(d, "staging");

    // Every item is done, but nobody has signed: NO-GO, and the gate says so.
    let (code, report) = check(d, "staging");
    assert_eq!(code, Some(1));
    let launch = &report["checklists"][0];
    assert_eq!(launch["decision"], "NO_GO");
    assert_eq!(launch["signoff"]["status_decision"], "GO");
    assert_eq!(
        launch["signoff"]["roles"][0]["missing"],
        serde_json::json!(["alice", "group:platform-sre"])
    );

    let said = accepted(d, "alice", "staging", &["signoff", "go"]);
    assert!(said.contains("counts for sre"), "{said}");
    let said = accepted(d, "mallory", "staging", &["signoff", "go"]);
    assert!(
        said.contains("recorded as a comment, not counted"),
        "{said}"
    );
    let text = stdout(&run(d, "alice", "staging", &["check"]));
    assert!(
        text.contains("sign-offs: sre by alice (go); security missing (may sign: bob)"),
        "{text}"
    );
    assert!(text.contains("launch: NO-GO"), "{text}");

    accepted(d, "bob", "staging", &["signoff", "go"]);
    let (code, report) = check(d, "staging");
    assert_eq!(code, Some(0), "{report:#}");
    let roles = &report["checklists"][0]["signoff"]["roles"];
    assert_eq!(roles[0]["by"], "alice");
    assert_eq!(roles[1]["by"], "bob");
    assert_eq!(
        report["checklists"][0]["signoff"]["comments"][0]["by"],
        "mallory"
    );

    // A status change after the sign-offs makes them stale: even a tick
    // withdrawn and made again.
    accepted(d, "carol", "staging", &["untick", "oncall"]);
    accepted(d, "carol", "staging", &["tick", "oncall"]);
    let (code, report) = check(d, "staging");
    assert_eq!(code, Some(1));
    assert_eq!(report["checklists"][0]["decision"], "NO_GO");

    // One person cannot fill both roles... (alice holds only sre here, so
    // her second sign-off fills sre again and security stays open).
    accepted(d, "alice", "staging", &["signoff", "go"]);
    assert_eq!(check(d, "staging").1["checklists"][0]["decision"], "NO_GO");
    // ...and a role holder's no-go is the review's.
    accepted(
        d,
        "bob",
        "staging",
        &["signoff", "no-go", "--note", "pen test first"],
    );
    let (_, report) = check(d, "staging");
    assert_eq!(report["checklists"][0]["signoff"]["vetoes"][0]["by"], "bob");
}

#[test]
fn the_export_names_each_role_and_who_is_missing() {
    let dir = review();
    let d = dir.path();
    close_every_item(d, "staging");
    accepted(d, "alice", "staging", &["signoff", "go"]);
    accepted(d, "mallory", "staging", &["signoff", "go"]);
    let md = stdout(&run(d, "alice", "staging", &["export", "--format", "md"]));
    assert!(md.contains("## Decision: NO-GO"), "{md}");
    assert!(
        md.contains("**NO-GO**: awaiting sign-off: security."),
        "{md}"
    );
    assert!(md.contains("| sre | alice | go |"), "{md}");
    assert!(
        md.contains("| security | **missing** (may sign: bob) | | |"),
        "{md}"
    );
    assert!(md.contains("| go (a comment: no required role) |"), "{md}");

    let xml = stdout(&run(
        d,
        "alice",
        "staging",
        &["export", "--format", "junit"],
    ));
    assert!(
        xml.contains("<testsuite name=\"launch / sign-off [staging]\" tests=\"2\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("type=\"missing-signoff\""), "{xml}");
}

#[test]
fn prod_goes_only_after_staging_signed_the_same_version() {
    let dir = review();
    let d = dir.path();
    close_every_item(d, "prod");
    accepted(d, "alice", "prod", &["signoff", "no-go"]);
    let why = refused(d, "alice", "prod", &["signoff", "go"]);
    assert!(
        why.contains("promoted from staging: it is not signed go in staging yet"),
        "{why}"
    );

    close_every_item(d, "staging");
    accepted(d, "alice", "staging", &["signoff", "go"]);
    let why = refused(d, "alice", "prod", &["signoff", "go-with-conditions"]);
    assert!(why.contains("not signed go in staging yet"), "{why}");
    accepted(d, "bob", "staging", &["signoff", "go"]);
    let text = stdout(&run(d, "alice", "prod", &["check"]));
    assert!(
        text.contains("promoted from: staging GO (alice, bob)"),
        "{text}"
    );
    accepted(d, "alice", "prod", &["signoff", "go"]);

    // A new version of the checklist: staging must sign it first.
    std::fs::write(d.join("launch.toml"), checklist("2")).expect("write");
    let why = refused(d, "bob", "prod", &["signoff", "go"]);
    assert!(
        why.contains("staging signed version 1 and this is version 2"),
        "{why}"
    );

    // A no-go upstream is named as such.
    accepted(d, "bob", "staging", &["signoff", "no-go"]);
    let why = refused(d, "bob", "prod", &["signoff", "go"]);
    assert!(why.contains("staging is signed NO-GO (bob)"), "{why}");
}

#[test]
fn roles_and_promotions_are_checked_when_loaded() {
    let dir = review();
    let d = dir.path();
    let config = |extra: &str| {
        std::fs::write(d.join("gonogo.toml"), format!("{CONFIG}{extra}")).expect("write");
        let out = run(d, "alice", "staging", &["check"]);
        assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
        stderr(&out)
    };
    // A checklist that needs a role nobody defined.
    std::fs::write(
        d.join("launch.toml"),
        checklist("1").replace("\"security\"]", "\"securty\"]"),
    )
    .expect("write");
    let err = config("");
    assert!(
        err.contains("launch.toml:4:")
            && err.contains("requires a sign-off by `securty`")
            && err.contains("did you mean `security`?"),
        "{err}"
    );
    std::fs::write(d.join("launch.toml"), checklist("1")).expect("write");

    let err = config("\n[[environments]]\nname = \"dr\"\npromote_from = \"prd\"\n");
    assert!(
        err.contains("gonogo.toml:")
            && err.contains("`promote_from` names no environment `prd`; did you mean `prod`?"),
        "{err}"
    );
    let err = config("\n[[environments]]\nname = \"dr\"\npromote_from = \"dr\"\n");
    assert!(err.contains("`dr` cannot be promoted from itself"), "{err}");
    std::fs::write(
        d.join("gonogo.toml"),
        CONFIG.replace(
            "name = \"staging\"\n",
            "name = \"staging\"\npromote_from = \"prod\"\n",
        ),
    )
    .expect("write");
    let out = run(d, "alice", "staging", &["check"]);
    let err = stderr(&out);
    assert!(
        err.contains("promotions go round in a circle: staging <- prod <- staging"),
        "{err}"
    );
    let err = config("\nempty = []\n");
    assert!(err.contains("role `empty` has nobody in it"), "{err}");
}

/// A log written before sign-offs recorded versions and groups still
/// verifies, and its sign-off reads as one of no version.
#[test]
fn a_log_from_before_roles_still_verifies() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/logs/before-roles.jsonl");
    let text = std::fs::read_to_string(&fixture).expect("fixture");
    assert!(!text.contains("\"version\"") && !text.contains("\"groups\""));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gonogo(dir.path())
        .args(["log", "--verify"])
        .arg(&fixture)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let state_dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(state_dir.path().join("launch")).expect("mkdir");
    std::fs::copy(&fixture, state_dir.path().join("launch/staging.jsonl")).expect("copy");
    let store =
        gonogo::ledger::DirStore::open(state_dir.path(), "launch", "staging").expect("open");
    let loaded = gonogo::ledger::Store::load(&store).expect("load");
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    let state = loaded.state;
    let signoff = state.latest_signoff().expect("the fixture is signed");
    assert_eq!(signoff.version, None);
    assert!(signoff.groups.is_empty());
}
