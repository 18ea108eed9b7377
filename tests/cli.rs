//! The binary as a user runs it: `validate` on bad checklists, `check` on a
//! snapshot environment.

use std::path::{Path, PathBuf};
use std::process::Command;

fn gonogo(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonogo"));
    cmd.current_dir(dir);
    // Keep the user's own config and state out of the tests.
    let home = dir.join(".test-home");
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", &home)
        .env("NO_COLOR", "1");
    cmd
}

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
    assert_eq!(status("limits"), "fail");
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
fn md_and_junit_are_not_yet_supported() {
    let out = gonogo(&review_dir())
        .args(["check", "--format", "junit"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not supported yet"));
}
