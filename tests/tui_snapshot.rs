//! The dashboard on a review whose environment is a snapshot, in a
//! pseudo-terminal: the manifests change on disk while it is open, and the
//! screen follows, by itself when the files say so and on `R` when they
//! cannot. Every wait polls the screen against a generous deadline.

#![cfg(unix)]

#[path = "support/tty.rs"]
mod tty;

use std::path::Path;

use tty::{Tty, item_row};

const TITLE: &str = "Web runs at least two replicas";

const CONFIG: &str = r#"
builtin = false
checklists = ["checklists/*.toml"]
state_dir = "state"

[[environments]]
name = "prod"
snapshot = "rendered"

[[environments]]
name = "edge"
snapshot = "linked/prod.yaml"
"#;

const CHECKLIST: &str = r#"
id = "shop"
title = "Shop launch review"

[[sections]]
id = "workloads"
title = "Workloads"

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
"#;

fn deployment(replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: {replicas}\n"
    )
}

/// A review in `dir`: the config, the checklist, and the Deployment with
/// one replica in `rendered/web.yaml` (prod reads the folder) and in
/// `source/prod.yaml`, which edge reads through the link `linked/prod.yaml`.
fn review(dir: &Path) {
    for folder in ["checklists", "rendered", "source", "linked"] {
        std::fs::create_dir_all(dir.join(folder)).expect("the review's folders");
    }
    std::fs::write(dir.join("gonogo.toml"), CONFIG).expect("config");
    std::fs::write(dir.join("checklists/shop.toml"), CHECKLIST).expect("checklist");
    std::fs::write(dir.join("rendered/web.yaml"), deployment(1)).expect("manifest");
    std::fs::write(dir.join("source/prod.yaml"), deployment(1)).expect("manifest");
    std::os::unix::fs::symlink("../source/prod.yaml", dir.join("linked/prod.yaml"))
        .expect("the link");
}

/// Saves `text` at `path` the way careful editors do: a new file renamed
/// over the old one.
fn rename_over(path: &Path, text: &str) {
    let new = path.with_extension("yaml.new");
    std::fs::write(&new, text).expect("the new file");
    std::fs::rename(&new, path).expect("renamed over the old one");
}

/// The item's status glyph: the first mark inside the items pane, which
/// shares its first row with the sections pane.
fn glyph(s: &vt100::Screen) -> Option<char> {
    let row = item_row(s, TITLE)?;
    let before = &row[..row.find(TITLE)?];
    let pane = before.rsplit(['┃', '│']).next()?;
    pane.chars().find(|c| !c.is_whitespace() && *c != '▸')
}

fn start(dir: &Path, env: &str) -> Tty {
    let tty = Tty::spawn(dir, &["--env", env], 200, 30);
    tty.wait_for("the replicas item failing on one replica", |s| {
        glyph(s) == Some('✘')
    });
    tty
}

/// Manifests edited while the dashboard is open reach the item with no key
/// pressed: a good save, a save that does not parse (the item says where,
/// as `check` would), and the fix.
#[test]
fn the_dashboard_follows_edits_to_its_snapshot() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    review(dir.path());
    let mut tty = start(dir.path(), "prod");
    let manifest = dir.path().join("rendered/web.yaml");

    rename_over(&manifest, &deployment(2));
    tty.wait_for("the item passing on two replicas", |s| {
        glyph(s) == Some('✔')
    });

    std::fs::write(
        &manifest,
        deployment(3).replace("replicas: 3", "replicas: [3"),
    )
    .expect("a broken save");
    tty.wait_for("the item saying where the manifest is broken", |s| {
        glyph(s) == Some('!') && item_row(s, TITLE).is_some_and(|r| r.contains("web.yaml:7:"))
    });

    std::fs::write(&manifest, deployment(3)).expect("the fix");
    tty.wait_for("the item passing again", |s| glyph(s) == Some('✔'));
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
}

/// A change no file event reports: edge's snapshot is a link, and the
/// file behind it is rewritten in its own folder, which nothing watches
/// (as on a network file system whose events do not arrive). `R` reads the
/// snapshot again before re-running the probes.
#[test]
fn r_reads_the_snapshot_again() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    review(dir.path());
    let mut tty = start(dir.path(), "edge");

    std::fs::write(dir.path().join("source/prod.yaml"), deployment(2)).expect("rewritten");
    tty.send("R");
    tty.wait_for("the item passing after R", |s| glyph(s) == Some('✔'));
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
}
