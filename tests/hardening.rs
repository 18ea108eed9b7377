//! What the files gonogo keeps promise (SECURITY.md): state folders and logs
//! are owner-only, a log others can read is pointed out, and a disk that
//! fills up mid-append loses nothing already recorded.

#![cfg(unix)]

#[path = "support/binary.rs"]
mod binary;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use binary::gonogo;

fn review_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/review")
}

fn decide(state: &Path, args: &[&str]) -> Output {
    gonogo(&review_dir())
        .arg("--state-dir")
        .arg(state)
        .args(["--operator", "alice", "--env", "staging"])
        .args(args)
        .output()
        .expect("runs")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

fn said(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn state_is_owner_only_and_a_log_others_can_read_is_pointed_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("new/state");
    let out = decide(&state, &["note", "dr-drill", "booked"]);
    assert!(out.status.success(), "{}", said(&out));
    let log = state.join("shop/staging.jsonl");
    assert_eq!(mode(&log), 0o600);
    for folder in [dir.path().join("new"), state.clone(), state.join("shop")] {
        assert_eq!(mode(&folder), 0o700, "{}", folder.display());
    }
    let check = || {
        gonogo(&review_dir())
            .arg("--state-dir")
            .arg(&state)
            .args(["check", "--env", "staging"])
            .output()
            .expect("runs")
    };
    assert!(
        !said(&check()).contains("other users"),
        "{}",
        said(&check())
    );

    std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let out = check();
    assert!(
        said(&out).contains(&format!(
            "warning: {} can be read by other users (mode 644): chmod 600",
            log.display()
        )),
        "{}",
        said(&out)
    );
}

/// The append that does not fit (a file-size limit stands in for a full
/// disk) is refused with the reason, and every event before it is still
/// there and verifies; the next append, with room again, goes through.
#[test]
fn a_full_disk_loses_nothing_already_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    for n in 0..3 {
        let out = decide(&state, &["note", "dr-drill", &format!("note {n}")]);
        assert!(out.status.success(), "{}", said(&out));
    }
    let log = state.join("shop/staging.jsonl");
    let before = std::fs::read(&log).expect("log");
    // Room for what is there and a few bytes more, not for another event.
    let blocks = before.len() / 512 + 1;
    let long_note = "x".repeat(4096);
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -f {blocks}; trap '' XFSZ; exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_gonogo"))
        .arg("--state-dir")
        .arg(&state)
        .args(["--operator", "alice", "--env", "staging"])
        .args(["note", "dr-drill", &long_note])
        .current_dir(review_dir())
        .env("HOME", dir.path().join("home"))
        .env("XDG_CONFIG_HOME", dir.path().join("home/config"))
        .env("XDG_DATA_HOME", dir.path().join("home/data"))
        .env("KUBECONFIG", dir.path().join("none"))
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        said(&out).contains("File too large") || said(&out).contains("No space"),
        "the reason is given: {}",
        said(&out)
    );
    assert!(!said(&out).contains("panicked"), "{}", said(&out));
    let after = std::fs::read(&log).expect("log");
    assert!(after.starts_with(&before), "what was recorded is untouched");

    let verify = gonogo(&review_dir())
        .arg("log")
        .arg("--verify")
        .arg(&log)
        .output()
        .expect("runs");
    assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
    assert!(said(&verify).contains("ok: 3 events"), "{}", said(&verify));

    let out = decide(&state, &["note", "dr-drill", "room again"]);
    assert!(out.status.success(), "{}", said(&out));
    let verify = gonogo(&review_dir())
        .arg("log")
        .arg("--verify")
        .arg(&log)
        .output()
        .expect("runs");
    assert!(said(&verify).contains("ok: 4 events"), "{}", said(&verify));
}
