//! One review kept in the cluster, shared by two hosts: two home folders,
//! two kubeconfigs with different tokens, the real binary on each (the
//! command line, and the dashboard on its own pseudo-terminal), one fake
//! API server over TLS between them.

#![cfg(unix)]

#[path = "support/fake_kube.rs"]
mod fake_kube;
#[path = "support/logs.rs"]
mod logs;
#[path = "support/tty.rs"]
mod tty;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use logs::{CONTEXT, Kind, Logs, NAMESPACE};
use tty::{Tty, item_glyph, selected_item};

const NOTES_PER_HOST: usize = 100;

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

[[sections.items]]
id = "pager"
title = "Pager rota set"
severity = "medium"
"#;

/// One host: its own folder (home, config, review files) and a kubeconfig
/// whose context `ops` reaches the fake with `token`.
struct Host {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Host {
    fn new(logs: &Logs, token: &str) -> Host {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let root = dir.path();
        std::fs::create_dir_all(root.join("checklists")).expect("review folder");
        std::fs::write(root.join("checklists/cmp.toml"), CHECKLIST_TOML).expect("checklist");
        std::fs::write(
            root.join("gonogo.toml"),
            format!(
                "checklists = [\"checklists/*.toml\"]\nbuiltin = false\n\n\
                 [state]\nstore = \"kube\"\nnamespace = \"{NAMESPACE}\"\ncontext = \"{CONTEXT}\"\n\n\
                 [[environments]]\nname = \"prod\"\n"
            ),
        )
        .expect("config");
        let kubeconfig = root.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            fake_kube::kubeconfig(&[(CONTEXT, &logs.fake().tls_url(), token)]),
        )
        .expect("kubeconfig");
        Host { dir, kubeconfig }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `gonogo ARGS` on this host, as the dashboard's terminal runs it:
    /// the same home, the same kubeconfig, a local `$USER` the cluster
    /// does not care about.
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonogo"));
        let home = self.root().join("home");
        cmd.current_dir(self.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", &self.kubeconfig)
            .env("USER", "local-login")
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.command(args).output().expect("gonogo runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The dashboard, on a terminal of its own.
    fn dashboard(&self) -> Tty {
        let kubeconfig = self.kubeconfig.display().to_string();
        let tty = Tty::spawn_with(
            self.root(),
            &[],
            100,
            30,
            &[("KUBECONFIG", &kubeconfig), ("USER", "local-login")],
        );
        tty.wait_for("the review on screen", |s| {
            let text = s.contents();
            text.contains("Runbook written") && text.contains("Pager rota set")
        });
        tty
    }
}

/// Jumps to item `id` and ticks it.
fn tick(screen: &mut Tty, id: &str) {
    screen.send(&format!(":item {id}\r"));
    screen.wait_for("the item selected", |s| {
        selected_item(s).is_some_and(|row| row.contains(title_of(id)))
    });
    screen.send(" ");
}

fn title_of(id: &str) -> &'static str {
    match id {
        "runbook" => "Runbook written",
        "drill" => "Restore drill done",
        _ => "Pager rota set",
    }
}

fn ticked(s: &vt100::Screen, id: &str) -> bool {
    item_glyph(s, title_of(id)) == Some('✔')
}

/// Two hosts with different tokens append 100 notes each to one review at
/// the same time while each has the dashboard open: every note is kept,
/// the chain verifies, each event is signed by its token's user (not the
/// local login), and each dashboard shows what the other host does. When
/// the API server stops answering, both headers say so and a tick is
/// refused with the reason; when it answers again, so do they.
#[test]
fn two_hosts_share_one_review_in_the_cluster() {
    let logs = Logs::new(Kind::Kube);
    logs.fake().add_user(
        "alice-token",
        "alice",
        &["platform-sre", "system:authenticated"],
    );
    logs.fake()
        .add_user("bob-token", "bob", &["security", "system:authenticated"]);
    let alice = Host::new(&logs, "alice-token");
    let bob = Host::new(&logs, "bob-token");
    let mut alice_screen = alice.dashboard();
    let mut bob_screen = bob.dashboard();

    // Both hosts write at once.
    std::thread::scope(|scope| {
        for (host, who) in [(&alice, "alice"), (&bob, "bob")] {
            scope.spawn(move || {
                for i in 0..NOTES_PER_HOST {
                    let text = format!("{who} {i}");
                    let (code, stdout, stderr) =
                        host.run(&["note", "drill", &text, "--env", "prod"]);
                    assert_eq!(code, 0, "{who}'s note {i}:\n{stdout}\n{stderr}");
                    assert!(stdout.contains(&format!(" as {who} (event ")), "{stdout}");
                }
            });
        }
        // Each dashboard shows the other host's notes as they come.
        alice_screen.wait_for("bob's notes on alice's screen", |s| {
            s.contents().contains("bob added a note to drill")
        });
        bob_screen.wait_for("alice's notes on bob's screen", |s| {
            s.contents().contains("alice added a note to drill")
        });
    });

    let records = logs.records();
    assert_eq!(records.len(), 2 * NOTES_PER_HOST, "every note kept");
    let report = logs.open().verify().expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    for who in ["alice", "bob"] {
        let mine: Vec<serde_json::Value> = records
            .iter()
            .map(|r| serde_json::from_str(r).expect("a JSON line"))
            .filter(|e: &serde_json::Value| e["by"] == who)
            .collect();
        assert_eq!(mine.len(), NOTES_PER_HOST, "{who}'s notes");
        let texts: std::collections::BTreeSet<String> = mine
            .iter()
            .map(|e| e["text"].as_str().expect("a note's text").to_string())
            .collect();
        let wanted: std::collections::BTreeSet<String> =
            (0..NOTES_PER_HOST).map(|i| format!("{who} {i}")).collect();
        assert_eq!(texts, wanted, "{who}'s notes, each once, in their own name");
        assert!(
            mine.iter().all(|e| e["groups"][0]
                == if who == "alice" {
                    "platform-sre"
                } else {
                    "security"
                }),
            "the groups the cluster reported are recorded"
        );
    }
    let (code, stdout, stderr) = bob.run(&["log", "--env", "prod", "--verify"]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // A tick on one host shows on the other's screen, without a key there.
    tick(&mut alice_screen, "runbook");
    let started = Instant::now();
    bob_screen.wait_for("alice's tick on bob's screen", |s| {
        ticked(s, "runbook") && s.contents().contains("alice ticked runbook")
    });
    let seen_after = started.elapsed();
    tick(&mut bob_screen, "pager");
    alice_screen.wait_for("bob's tick on alice's screen", |s| {
        ticked(s, "pager") && s.contents().contains("bob ticked pager")
    });
    eprintln!("alice's tick reached bob's screen in {seen_after:?}");

    // The API server stops answering: both headers say so, and a change
    // is refused with the reason instead of being kept somewhere else.
    logs.fake().fail_with(Some(503));
    for screen in [&alice_screen, &bob_screen] {
        screen.wait_for("the store's trouble in the header", |s| {
            s.contents().contains("sign-off log unreachable")
        });
    }
    tick(&mut alice_screen, "drill");
    alice_screen.wait_for("the tick refused with the reason", |s| {
        let text = s.contents();
        text.contains("not written: cannot") && text.contains("503") && !ticked(s, "drill")
    });
    logs.fake().fail_with(None);
    for screen in [&alice_screen, &bob_screen] {
        screen.wait_for("the store answering again", |s| {
            let text = s.contents();
            text.contains("answers again") && !text.contains("sign-off log unreachable")
        });
    }
    assert_eq!(logs.records().len(), 2 * NOTES_PER_HOST + 2);

    for screen in [&mut alice_screen, &mut bob_screen] {
        screen.send("q");
        assert_eq!(screen.wait_exit(), 0);
    }
}

/// The time from a tick typed on one host to the other host's screen,
/// over 20 ticks and unticks (for BENCHMARKS.md; run in release):
/// `cargo test --release --test shared_review -- --ignored --nocapture`
#[test]
#[ignore = "a measurement, not a check"]
fn measure_tick_to_the_other_hosts_screen() {
    let logs = Logs::new(Kind::Kube);
    logs.fake().add_user("alice-token", "alice", &[]);
    logs.fake().add_user("bob-token", "bob", &[]);
    let alice = Host::new(&logs, "alice-token");
    let bob = Host::new(&logs, "bob-token");
    let mut alice_screen = alice.dashboard();
    let bob_screen = bob.dashboard();
    alice_screen.send(":item runbook\r");
    alice_screen.wait_for("the item selected", |s| {
        selected_item(s).is_some_and(|row| row.contains("Runbook written"))
    });
    let mut times = Vec::new();
    for round in 0..20 {
        let want = round % 2 == 0;
        // Space ticks an open manual item and unticks a ticked one.
        alice_screen.send(" ");
        let started = Instant::now();
        bob_screen.wait_for("the change on bob's screen", |s| {
            ticked(s, "runbook") == want
        });
        times.push(started.elapsed());
        alice_screen.wait_for("the change on alice's screen", |s| {
            ticked(s, "runbook") == want
        });
    }
    times.sort();
    println!(
        "tick on one host -> other host's screen, 20 changes: median {:?}, worst {:?}, best {:?}",
        times[times.len() / 2],
        times[times.len() - 1],
        times[0]
    );
}
