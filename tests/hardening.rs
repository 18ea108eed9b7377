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

/// A state folder that cannot be written (mounted read-only, as a
/// snapshot of a bastion's disk may be) refuses a new decision with the
/// reason, and what was recorded stays as it was. As root a folder's mode
/// does not stop writes, so there the folder is bound read-only in a mount
/// namespace of the command's own (`unshare -m`); otherwise its mode is
/// taken away.
#[test]
fn a_read_only_state_folder_refuses_writes_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    for n in 0..2 {
        let out = decide(&state, &["note", "dr-drill", &format!("note {n}")]);
        assert!(out.status.success(), "{}", said(&out));
    }
    let log = state.join("shop/staging.jsonl");
    let before = std::fs::read(&log).expect("log");
    let args = [
        "--state-dir",
        state.to_str().expect("a UTF-8 path"),
        "--operator",
        "alice",
        "--env",
        "staging",
        "note",
        "dr-drill",
        "one more",
    ];
    let home = dir.path().join("home");
    let run = |mut cmd: std::process::Command| {
        cmd.current_dir(review_dir())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", home.join("none"))
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    };
    // Bound read-only over itself, for this command only.
    let mut bound = std::process::Command::new("unshare");
    bound
        .args(["-m", "sh", "-c"])
        .arg("mount --bind -o ro \"$1\" \"$1\" || exit 97; shift; exec \"$@\"")
        .arg("sh")
        .arg(&state)
        .arg(env!("CARGO_BIN_EXE_gonogo"))
        .args(args);
    let mut out = run(bound);
    if out.status.code() == Some(97) || said(&out).contains("unshare:") {
        // No mount namespace here: take the write permission away instead.
        let folders = [state.clone(), state.join("shop")];
        for f in &folders {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o500)).expect("chmod");
        }
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        if std::fs::OpenOptions::new().append(true).open(&log).is_ok() {
            eprintln!("skipped: neither a read-only mount nor a mode stops writes here");
            return;
        }
        let mut plain = std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"));
        plain.args(args);
        out = run(plain);
        for f in &folders {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    assert_ne!(out.status.code(), Some(0), "{}", said(&out));
    assert!(
        said(&out).contains("Read-only file system") || said(&out).contains("Permission denied"),
        "the reason is given: {}",
        said(&out)
    );
    assert!(
        said(&out).contains("staging.jsonl"),
        "and the file: {}",
        said(&out)
    );
    assert!(!said(&out).contains("panicked"), "{}", said(&out));
    assert_eq!(
        std::fs::read(&log).expect("log"),
        before,
        "nothing recorded changed"
    );
    let verify = gonogo(&review_dir())
        .arg("log")
        .arg("--verify")
        .arg(&log)
        .output()
        .expect("runs");
    assert!(said(&verify).contains("ok: 2 events"), "{}", said(&verify));
    // Writable again, the next decision is recorded after the others.
    let out = decide(&state, &["note", "dr-drill", "writable again"]);
    assert!(out.status.success(), "{}", said(&out));
}

/// Runs `gonogo validate FILE` on `text` written as FILE in a fresh folder.
fn validate(name: &str, text: &[u8]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join(name), text).expect("write");
    gonogo(dir.path())
        .args(["validate", name])
        .output()
        .expect("runs")
}

const HEAD: &str = "id = \"c\"\ntitle = \"C\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n";

/// Hostile or odd checklist files: each is refused at `file:line:col` or
/// read correctly, never a panic or a hang.
#[test]
fn odd_checklist_files_are_refused_at_a_position_or_read_right() {
    // A byte-order mark, as some Windows editors write: read as if absent.
    let out = validate("bom.toml", format!("\u{feff}{HEAD}").as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // CRLF line ends: positions still count lines and columns right.
    let crlf =
        format!("{HEAD}[[sections.items]]\nid = \"i\"\ntitle = \"I\"\nseverity = \"critical\"\n")
            .replace('\n', "\r\n");
    let out = validate("crlf.toml", crlf.as_bytes());
    assert!(
        said(&out).contains("crlf.toml:9:12: error: unknown severity `critical`"),
        "{}",
        said(&out)
    );
    assert!(!said(&out).contains('\r'), "{:?}", said(&out));
    // A duplicate key, at the second one.
    let out = validate("dup.toml", b"id = \"c\"\ntitle = \"C\"\ntitle = \"D\"\n");
    assert!(
        said(&out).contains("dup.toml:3:1: error: duplicate key"),
        "{}",
        said(&out)
    );
    // Nesting 5,000 deep: refused at the spot, and the caret line shows a
    // window of the 10,000-character line, not all of it.
    let deep = format!("{HEAD}x = {}{}\n", "[".repeat(5000), "]".repeat(5000));
    let out = validate("deep.toml", deep.as_bytes());
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("deep.toml:6:"), "{}", said(&out));
    assert!(
        said(&out).lines().all(|l| l.chars().count() < 200),
        "{}",
        said(&out)
    );
    // Control characters in a bad line never reach the terminal.
    let out = validate(
        "escape.toml",
        b"id = \"c\"\ntitle = \"C\"\nseverity = \"\x1b[31mred\x1b]0;owned\x07\"\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(said(&out).contains("escape.toml:3:"), "{}", said(&out));
    assert!(
        !said(&out).chars().any(|c| c.is_control() && c != '\n'),
        "{:?}",
        said(&out)
    );
}

/// 10,000 items load; 10,000 mistakes are each reported at their line; a
/// 50 MB checklist is read (the limits are memory and time, both bounded:
/// see BENCHMARKS.md for the numbers).
#[test]
fn huge_checklists_load_or_fail_item_by_item() {
    let items = |severity: &str| {
        let mut text = HEAD.to_string();
        for i in 0..10_000 {
            text.push_str(&format!(
                "[[sections.items]]\nid = \"item-{i}\"\ntitle = \"Item {i}\"\nseverity = \"{severity}\"\n"
            ));
        }
        text
    };
    let out = validate("many.toml", items("low").as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let out = validate("many-bad.toml", items("critical").as_bytes());
    assert!(
        said(&out).contains("error: 10000 problems found"),
        "{}",
        said(&out)
    );
    // The last item's severity is on line 5 + 4 * 10,000.
    assert!(
        said(&out).contains("many-bad.toml:40005:12: error: unknown severity"),
        "{}",
        said(&out)
    );
    let mut huge = String::from("id = \"c\"\ntitle = \"C\"\ndescription = \"");
    huge.push_str(&"a".repeat(50_000_000));
    huge.push_str("\"\n");
    let out = validate("huge.toml", huge.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

/// Manifests built to hurt a YAML reader: nested past any real object,
/// aliases that expand exponentially ("billion laughs"), a key twice, and
/// JSON nested deep. Each is refused at its position, quickly and in
/// bounded memory.
#[test]
fn hostile_manifests_are_refused_at_a_position() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("c.toml"),
        format!(
            "{HEAD}[[sections.items]]\nid = \"cm\"\ntitle = \"CM\"\n\
             [sections.items.probe]\nkind = \"kube\"\nresource = \"v1/ConfigMap\"\n"
        ),
    )
    .expect("checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"dev\"\n",
    )
    .expect("config");
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: d}\n";
    let mut laughs = format!(
        "{head}data:\n  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    );
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let refs = vec![format!("*{prev}"); 9].join(",");
        laughs.push_str(&format!("  {name}: &{name} [{refs}]\n"));
    }
    let cases = [
        (
            "deep.yaml",
            format!(
                "{head}data:\n  k: {}{}\n",
                "[".repeat(100_000),
                "]".repeat(100_000)
            ),
            "deep.yaml:5:",
            "nested more than 128 levels deep",
        ),
        (
            "laughs.yaml",
            laughs,
            "laughs.yaml:",
            "anchors and aliases expand too far",
        ),
        (
            "twice.yaml",
            format!("{head}metadata: {{name: y}}\n"),
            "twice.yaml:4:1:",
            "duplicate mapping key: metadata",
        ),
        (
            "deep.json",
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            "deep.json:1:",
            "recursion limit exceeded",
        ),
    ];
    for (file, text, at, says) in cases {
        let snapshot = dir.path().join("snap").join(file);
        std::fs::create_dir_all(snapshot.parent().expect("folder")).expect("folder");
        std::fs::write(&snapshot, text).expect("manifest");
        let out = gonogo(dir.path())
            .arg("check")
            .arg("--snapshot")
            .arg(&snapshot)
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{file}: {}", said(&out));
        assert!(
            said(&out).contains(at) && said(&out).contains(says),
            "{file}: {}",
            said(&out)
        );
        std::fs::remove_file(&snapshot).expect("clean up");
    }
}

/// An `expect` that would loop a trillion times, or build a gigabyte
/// string, is stopped with a reason (the probe is an `error`), and the
/// items beside it are checked as usual.
#[test]
fn an_expect_that_would_never_finish_is_stopped_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let item = |id: &str, expect: &str| {
        format!(
            "[[sections.items]]\nid = \"{id}\"\ntitle = \"{id}\"\n\
             [sections.items.probe]\nkind = \"kube\"\nresource = \"v1/ConfigMap\"\n\
             expect = \"{expect}\"\n"
        )
    };
    std::fs::write(
        dir.path().join("c.toml"),
        format!(
            "{HEAD}{}{}{}",
            item(
                "loops",
                "lists.range(1000000).all(x, lists.range(1000000).all(y, x + y >= 0))"
            ),
            item("huge", "'%.999999999f'.format([1.0]).size() > 0"),
            item("plain", "object.data.mode == 'strict'"),
        ),
    )
    .expect("checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"dev\"\n",
    )
    .expect("config");
    let snapshot = dir.path().join("cm.yaml");
    std::fs::write(
        &snapshot,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: d}\ndata: {mode: strict}\n",
    )
    .expect("manifest");
    let out = gonogo(dir.path())
        .args(["check", "--format", "json", "--snapshot"])
        .arg(&snapshot)
        .output()
        .expect("runs");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    let items = report["checklists"][0]["sections"][0]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {report}"));
    let item = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {report}"))
    };
    for id in ["loops", "huge"] {
        assert_eq!(item(id)["status"], "error", "{id}: {}", item(id));
        let summary = item(id)["summary"].as_str().expect("a summary");
        assert!(
            summary.starts_with("expect could not be evaluated on d/x: stopped: it "),
            "{id}: {summary}"
        );
    }
    assert_eq!(item("plain")["status"], "pass", "{}", item("plain"));
}

/// A `kube` probe evaluates its `expect` once per object: each evaluation
/// within the limits, they still stop at the probe's own timeout, with a
/// reason, not one object's limit times the number of objects later.
#[test]
fn evaluations_over_many_objects_stop_at_the_probes_timeout() {
    let dir = tempfile::tempdir().expect("tempdir");
    // About 800,000 steps, under the limit for one evaluation: a fraction of
    // a second each in a release build, more in a debug one; the 40
    // objects together take far longer than the probe's timeout.
    std::fs::write(
        dir.path().join("c.toml"),
        format!(
            "{HEAD}[[sections.items]]\nid = \"each\"\ntitle = \"each\"\n\
             [sections.items.probe]\nkind = \"kube\"\nresource = \"v1/ConfigMap\"\n\
             timeout = \"1s\"\n\
             expect = \"lists.range(800).all(x, lists.range(1000).all(y, x + y >= 0))\"\n"
        ),
    )
    .expect("checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"dev\"\n",
    )
    .expect("config");
    let snapshot = dir.path().join("cms.yaml");
    let manifests: Vec<String> = (0..40)
        .map(|i| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: d}}\n")
        })
        .collect();
    std::fs::write(&snapshot, manifests.join("---\n")).expect("manifests");
    let out = gonogo(dir.path())
        .args(["check", "--format", "json", "--snapshot"])
        .arg(&snapshot)
        .output()
        .expect("runs");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    let item = &report["checklists"][0]["sections"][0]["items"][0];
    assert_eq!(item["status"], "error", "{item}");
    let summary = item["summary"].as_str().expect("a summary");
    assert!(
        summary.starts_with("expect could not be evaluated on d/cm")
            && summary
                .contains(": stopped: the probe's timeout passed while it was being evaluated"),
        "{summary}"
    );
}

/// A checklist cannot run code by being opened: a `command` probe is
/// refused without `--allow-exec`, a repository's own config cannot trust
/// it, and a trust entry in the user's config pins the file's content, so
/// one edited byte withdraws it.
#[test]
fn a_command_probe_runs_only_when_the_operator_says_so() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("ran");
    let checklist = format!(
        "{HEAD}[[sections.items]]\nid = \"run\"\ntitle = \"Runs a program\"\n\
         [sections.items.probe]\nkind = \"command\"\nargv = [\"touch\", \"{}\"]\n",
        marker.display()
    );
    std::fs::write(dir.path().join("c.toml"), &checklist).expect("checklist");
    let config = "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
                  [[environments]]\nname = \"dev\"\n";
    std::fs::write(dir.path().join("gonogo.toml"), config).expect("config");
    let check = |extra: &[&str]| {
        gonogo(dir.path())
            .arg("check")
            .args(extra)
            .output()
            .expect("runs")
    };
    // Opened, validated, checked, exported: never run.
    for args in [
        vec!["validate"],
        vec!["check"],
        vec!["check", "--format", "json"],
        vec!["export"],
    ] {
        let out = gonogo(dir.path()).args(&args).output().expect("runs");
        assert!(!marker.exists(), "{args:?} ran the command: {}", said(&out));
    }
    assert!(said(&check(&[])).contains("command probes are disabled"));

    // The repository's config cannot trust its own checklist.
    let hash: String = Sha256::digest(checklist.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let entry = format!("c@{hash}");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        format!("trust = [\"{entry}\"]\n{config}"),
    )
    .expect("config");
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        said(&out).contains("`trust` is only read from"),
        "{}",
        said(&out)
    );
    assert!(!marker.exists());
    std::fs::write(dir.path().join("gonogo.toml"), config).expect("config");

    // The user's own config can, for exactly this content.
    let user = dir.path().join(".test-home/config/gonogo");
    std::fs::create_dir_all(&user).expect("folder");
    std::fs::write(user.join("config.toml"), format!("trust = [\"{entry}\"]\n")).expect("trust");
    let out = check(&[]);
    assert!(marker.exists(), "trusted, it runs: {}", said(&out));
    std::fs::remove_file(&marker).expect("reset");
    // One byte more in the checklist, and the trust is gone.
    std::fs::write(dir.path().join("c.toml"), format!("{checklist}\n")).expect("edit");
    let out = check(&[]);
    assert!(!marker.exists(), "an edited checklist ran: {}", said(&out));
    assert!(
        said(&out).contains("command probes are disabled"),
        "{}",
        said(&out)
    );
    // --allow-exec is the operator's own say.
    check(&["--allow-exec"]);
    assert!(marker.exists());
}
