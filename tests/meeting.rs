//! A launch-review meeting on the shared screen, end to end, in a
//! pseudo-terminal at 80x24: the room opens prod and sees it is NO-GO and
//! why, drills into the failing item, waives it with a reason, finds prod's
//! sign-off refused until staging is signed, signs staging and then prod,
//! and sees prod's sign-off go stale when a probe flips after it.

#![cfg(unix)]

#[path = "support/tty.rs"]
mod tty;

use std::path::Path;

use tty::{Tty, rows};

const CONFIG: &str = r#"
builtin = false
checklists = ["checklists/*.toml"]
state_dir = "state"
operator = "alice"

[[environments]]
name = "staging"
snapshot = "staging"

[[environments]]
name = "prod"
snapshot = "prod"
promote_from = "staging"
"#;

const CHECKLIST: &str = r#"
id = "shop"
title = "Shop launch review"
version = "1"

[[sections]]
id = "platform"
title = "Platform"

[[sections.items]]
id = "db-secret"
title = "Database secret holds the password"
severity = "blocker"
[sections.items.probe]
kind = "kube"
resource = "v1/Secret"
namespace = "shop"
name = "db"
expect = "'password' in object.data"

[[sections.items]]
id = "replicas"
title = "Web runs at least two replicas"
severity = "high"
[sections.items.probe]
kind = "kube"
resource = "apps/v1/Deployment"
namespace = "shop"
name = "web"
expect = "object.spec.replicas >= 2"

[[sections.items]]
id = "runbook"
title = "Runbook reviewed"
severity = "medium"
"#;

fn secret(with_password: bool) -> String {
    let data = if with_password {
        "  url: cG9zdGdyZXM6Ly9kYg==\n  password: czNjcjN0\n"
    } else {
        "  url: cG9zdGdyZXM6Ly9kYg==\n"
    };
    format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\ndata:\n{data}")
}

fn deployment(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: {replicas}\n"
    )
}

/// Staging has everything; prod's secret lacks the password.
fn review(dir: &Path) {
    for folder in ["checklists", "staging", "prod"] {
        std::fs::create_dir_all(dir.join(folder)).expect("the review's folders");
    }
    std::fs::write(dir.join("gonogo.toml"), CONFIG).expect("config");
    std::fs::write(dir.join("checklists/shop.toml"), CHECKLIST).expect("checklist");
    std::fs::write(dir.join("staging/secret.yaml"), secret(true)).expect("manifest");
    std::fs::write(dir.join("staging/web.yaml"), deployment(2)).expect("manifest");
    std::fs::write(dir.join("prod/secret.yaml"), secret(false)).expect("manifest");
    std::fs::write(dir.join("prod/web.yaml"), deployment(3)).expect("manifest");
}

fn row(s: &vt100::Screen, n: usize) -> String {
    rows(s).get(n).cloned().unwrap_or_default()
}

#[test]
fn a_launch_review_meeting_from_no_go_to_a_stale_sign_off() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    review(dir.path());
    let mut tty = Tty::spawn(dir.path(), &["--env", "prod"], 80, 24);

    // First sight: prod is NO-GO, the status line says why, and staging's
    // tab carries its own decision once the background review is in.
    tty.wait_for("prod NO-GO and why", |s| {
        row(s, 1).contains("prod ⚠ NO-GO")
            && row(s, 2).contains("NO-GO: 1 blocker open (db-secret)")
    });
    tty.wait_for("staging's decision on its tab", |s| {
        row(s, 1).contains("staging COND")
    });
    tty.wait_for("the upstream's state beside the badge", |s| {
        row(s, 0).contains("staging not signed")
    });

    // Drill into the failing item: its detail names the object and why.
    tty.send(":item db-secret\r");
    tty.send("\r");
    tty.wait_for("the failing object in the detail", |s| {
        let text = s.contents();
        text.contains("Item · db-secret") && text.contains("shop/db")
    });
    // Down to the object: the list of what the probe selects, failing
    // first, then the Secret as YAML, its values never shown.
    tty.send("\r");
    tty.wait_for("the objects of the item", |s| {
        let text = s.contents();
        text.contains("Objects · db-secret") && text.contains("✘ shop/db")
    });
    tty.send("\r");
    tty.wait_for("the Secret as YAML, keys only", |s| {
        let text = s.contents();
        text.contains("kind: Secret") && text.contains("url:") && text.contains("redacted")
    });
    assert!(
        !tty.raw().contains("cG9zdGdyZXM6Ly9kYg==") && !tty.raw().contains("postgres://db"),
        "a secret value reached the terminal"
    );
    for depth in ["the objects", "the detail"] {
        tty.send("\x1b");
        tty.wait_for(depth, |s| {
            let text = s.contents();
            match depth {
                "the objects" => text.contains("Objects ·") && !text.contains("kind: Secret"),
                _ => text.contains("Item · db-secret") && !text.contains("Objects ·"),
            }
        });
    }

    // Waive it from there, with a reason: the blocker is closed.
    tty.send("w");
    tty.wait_for("the waiver form", |s| s.contents().contains("reason"));
    tty.send("password rotates Monday, accepted by security\r");
    tty.wait_for("the waiver counted", |s| {
        row(s, 2).contains("GO WITH CONDITIONS")
    });
    tty.send("\x1b");
    tty.wait_for("back on the list", |s| {
        s.contents().contains("Items · all sections")
    });

    // Prod's sign-off waits for staging's.
    tty.send("s");
    tty.wait_for("the sign-off refused until staging is signed", |s| {
        s.contents()
            .contains("refused: cannot sign off go-with-conditions in prod")
    });
    tty.send("\x1b");
    tty.wait_for("the dialog closed", |s| {
        !s.contents().contains("Sign off shop")
    });
    tty.send("1");
    tty.wait_for("staging on screen", |s| row(s, 1).contains("▸1 staging"));
    tty.wait_for("staging's statuses in", |s| {
        row(s, 2).starts_with(" GO WITH CONDITIONS")
    });
    tty.send("s");
    tty.wait_for("the sign-off dialog", |s| {
        s.contents().contains("Sign off shop in staging")
    });
    tty.send("\r");
    tty.wait_for("staging signed", |s| {
        row(s, 2).contains("signed go-with-conditions by alice")
    });
    tty.send("2");
    tty.wait_for("prod back, staging's sign-off beside its badge", |s| {
        row(s, 1).contains("▸2 prod") && row(s, 0).contains("staging GO WITH CONDITIONS")
    });
    tty.wait_for("prod's statuses in", |s| {
        row(s, 2).starts_with(" GO WITH CONDITIONS")
    });
    tty.send("s");
    tty.wait_for("the dialog accepting it", |s| {
        s.contents()
            .contains("the log's rules accept this sign-off")
    });
    tty.send("\r");
    tty.wait_for("prod signed", |s| {
        row(s, 2).contains("signed go-with-conditions by alice") && !row(s, 2).contains("STALE")
    });

    // A probe flips after the sign-off: the room sees it went stale.
    std::fs::write(dir.path().join("prod/web.yaml"), deployment(1)).expect("a scale-down");
    tty.wait_for("the sign-off stale", |s| row(s, 2).contains("STALE"));

    // The log screen marks where.
    tty.send("L");
    tty.wait_for("the log with the sign-off", |s| {
        s.contents().contains("SIGNED OFF go-with-conditions")
    });
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
}
