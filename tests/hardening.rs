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

/// A state folder in a fresh temporary one, holding `notes` notes on
/// `dr-drill` in `shop/staging`; the log's path and bytes.
struct Noted {
    dir: tempfile::TempDir,
    state: PathBuf,
    log: PathBuf,
    before: Vec<u8>,
}

fn noted(notes: usize) -> Noted {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    for n in 0..notes {
        let out = decide(&state, &["note", "dr-drill", &format!("note {n}")]);
        assert!(out.status.success(), "{}", said(&out));
    }
    let log = state.join("shop/staging.jsonl");
    let before = std::fs::read(&log).expect("log");
    Noted {
        dir,
        state,
        log,
        before,
    }
}

impl Noted {
    /// The arguments of one more note, with `text`.
    fn one_more<'a>(&'a self, text: &'a str) -> Vec<&'a str> {
        let state = self.state.to_str().expect("a UTF-8 path");
        let who = ["--operator", "alice", "--env", "staging"];
        let mut args = vec!["--state-dir", state];
        args.extend(who);
        args.extend(["note", "dr-drill", text]);
        args
    }

    /// `program` (which runs gonogo, its last arguments) in the review
    /// folder, with a home of the test's own.
    fn through(&self, program: &str, args: &[&std::ffi::OsStr]) -> Output {
        let home = self.dir.path().join("home");
        std::process::Command::new(program)
            .args(args)
            .current_dir(review_dir())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", home.join("none"))
            .env("NO_COLOR", "1")
            .output()
            .expect("runs")
    }

    /// A write refused for `reasons` left what was recorded untouched,
    /// and it verifies; then, with the disk back, one more goes through.
    fn refused_and_kept(&self, out: &Output, reasons: &[&str], events: usize) {
        assert_ne!(out.status.code(), Some(0), "{}", said(out));
        assert!(
            reasons.iter().any(|r| said(out).contains(r)),
            "the reason is given: {}",
            said(out)
        );
        assert!(
            said(out).contains("staging.jsonl"),
            "and the file: {}",
            said(out)
        );
        assert!(!said(out).contains("panicked"), "{}", said(out));
        let after = std::fs::read(&self.log).expect("log");
        assert!(
            after.starts_with(&self.before),
            "what was recorded is untouched"
        );
        self.verifies(events);
        let out = decide(&self.state, &["note", "dr-drill", "room again"]);
        assert!(out.status.success(), "{}", said(&out));
        self.verifies(events + 1);
    }

    fn verifies(&self, events: usize) {
        let verify = gonogo(&review_dir())
            .arg("log")
            .arg("--verify")
            .arg(&self.log)
            .output()
            .expect("runs");
        assert_eq!(verify.status.code(), Some(0), "{}", said(&verify));
        let ok = format!("ok: {events} events");
        assert!(said(&verify).contains(&ok), "{}", said(&verify));
    }
}

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(Into::into).collect()
}

/// An append that does not fit (a file-size limit stands in for a full
/// disk) is refused with the reason, and every event before it is still
/// there and verifies; the next append, with room again, goes through.
#[test]
fn a_full_disk_loses_nothing_already_recorded() {
    let noted = noted(3);
    // Room for what is there and a few bytes more, not for another event.
    let blocks = noted.before.len() / 512 + 1;
    let long_note = "x".repeat(4096);
    let limit = format!("ulimit -f {blocks}; trap '' XFSZ; exec \"$0\" \"$@\"");
    let mut args = os(&["-c", &limit, env!("CARGO_BIN_EXE_gonogo")]);
    args.extend(os(&noted.one_more(&long_note)));
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let out = noted.through("sh", &args);
    noted.refused_and_kept(&out, &["File too large", "No space"], 3);
}

/// A state folder that cannot be written (mounted read-only, as a
/// snapshot of a bastion's disk may be) refuses a new decision with the
/// reason, and what was recorded stays as it was. As root a folder's mode
/// does not stop writes, so there the folder is bound read-only in a mount
/// namespace of the command's own (`unshare -m`); otherwise its mode is
/// taken away.
#[test]
fn a_read_only_state_folder_refuses_writes_and_loses_nothing() {
    let noted = noted(2);
    let gonogo_args = os(&noted.one_more("one more"));
    // Bound read-only over itself, for this command only.
    let bind = "mount --bind -o ro \"$1\" \"$1\" || exit 97; shift; exec \"$@\"";
    let mut args = os(&["-m", "sh", "-c", bind, "sh"]);
    args.push(noted.state.clone().into());
    args.push(env!("CARGO_BIN_EXE_gonogo").into());
    args.extend(gonogo_args.iter().cloned());
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let mut out = noted.through("unshare", &args);
    if out.status.code() == Some(97) || said(&out).contains("unshare:") {
        // No mount namespace here: take the write permission away instead.
        let folders = [noted.state.clone(), noted.state.join("shop")];
        let set = |mode: u32, file: u32| {
            for f in &folders {
                std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode)).expect("chmod");
            }
            std::fs::set_permissions(&noted.log, std::fs::Permissions::from_mode(file))
                .expect("chmod");
        };
        set(0o500, 0o400);
        if std::fs::OpenOptions::new()
            .append(true)
            .open(&noted.log)
            .is_ok()
        {
            set(0o700, 0o600);
            eprintln!("skipped: neither a read-only mount nor a mode stops writes here");
            return;
        }
        let args: Vec<&std::ffi::OsStr> = gonogo_args.iter().map(|a| a.as_os_str()).collect();
        out = noted.through(env!("CARGO_BIN_EXE_gonogo"), &args);
        set(0o700, 0o600);
    }
    noted.refused_and_kept(&out, &["Read-only file system", "Permission denied"], 2);
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

/// A review of one checklist whose items are `kube` probes of ConfigMaps,
/// each `(id, lines of its probe table)`, and nothing bundled.
fn configmap_review(items: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let items: String = items
        .iter()
        .map(|(id, probe)| {
            format!(
                "[[sections.items]]\nid = \"{id}\"\ntitle = \"{id}\"\n\
                 [sections.items.probe]\nkind = \"kube\"\nresource = \"v1/ConfigMap\"\n{probe}"
            )
        })
        .collect();
    std::fs::write(dir.path().join("c.toml"), format!("{HEAD}{items}")).expect("checklist");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"c.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"dev\"\n",
    )
    .expect("config");
    dir
}

/// `check --format json` of the review in `dir` over `snapshot`: its items
/// by id.
fn checked_items(dir: &Path, snapshot: &Path) -> Vec<serde_json::Value> {
    let out = gonogo(dir)
        .args(["check", "--format", "json", "--snapshot"])
        .arg(snapshot)
        .output()
        .expect("runs");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", said(&out)));
    report["checklists"][0]["sections"][0]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("items: {report}"))
        .clone()
}

/// Manifests built to hurt a YAML reader: nested past any real object,
/// aliases that expand exponentially ("billion laughs"), a key twice, and
/// JSON nested deep. Each is refused at its position, quickly and in
/// bounded memory.
#[test]
fn hostile_manifests_are_refused_at_a_position() {
    let dir = configmap_review(&[("cm", "")]);
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
    let dir = configmap_review(&[
        (
            "loops",
            "expect = \"lists.range(1000000).all(x, lists.range(1000000).all(y, x + y >= 0))\"\n",
        ),
        (
            "huge",
            "expect = \"'%.999999999f'.format([1.0]).size() > 0\"\n",
        ),
        ("plain", "expect = \"object.data.mode == 'strict'\"\n"),
    ]);
    let snapshot = dir.path().join("cm.yaml");
    std::fs::write(
        &snapshot,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: d}\ndata: {mode: strict}\n",
    )
    .expect("manifest");
    let items = checked_items(dir.path(), &snapshot);
    let item = |id: &str| {
        items
            .iter()
            .find(|i| i["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {items:?}"))
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
    // About 800,000 steps, under the limit for one evaluation: a fraction of
    // a second each in a release build, more in a debug one; the 40
    // objects together take far longer than the probe's timeout.
    let dir = configmap_review(&[(
        "each",
        "timeout = \"1s\"\n\
         expect = \"lists.range(800).all(x, lists.range(1000).all(y, x + y >= 0))\"\n",
    )]);
    let snapshot = dir.path().join("cms.yaml");
    let manifests: Vec<String> = (0..40)
        .map(|i| {
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm{i}, namespace: d}}\n")
        })
        .collect();
    std::fs::write(&snapshot, manifests.join("---\n")).expect("manifests");
    let items = checked_items(dir.path(), &snapshot);
    let item = &items[0];
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
