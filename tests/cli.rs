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
        let name = path.file_name().expect("file name").to_string_lossy().to_string();
        let expected = std::fs::read_to_string(path.with_extension("err"))
            .unwrap_or_else(|_| panic!("{name} has no .err file"));
        let out = gonogo(&dir).args(["validate", &name]).output().expect("runs");
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
    assert_eq!(stderr.lines().filter(|l| l.contains(": error: ")).count(), 3, "{stderr}");
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
