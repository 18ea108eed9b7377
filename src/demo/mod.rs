//! The bundled demo review, which needs no cluster, no network and no
//! config: the checklist, a snapshot cluster and a small repository are
//! bundled; the HTTPS endpoints it checks are started on 127.0.0.1 with
//! certificates made at start (one expiring in five days, `endpoints`), and
//! the sign-off log is seeded so every status shows at once. `gonogo demo`
//! opens the dashboard on it (`tui::demo`).

mod endpoints;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::checklist::model::Checklist;
use crate::config::{Config, Environment};
use crate::diag::Source;
use crate::ledger::{DirStore, EventKind, Store};
use crate::workspace::{Options, Workspace};

use endpoints::{Endpoints, Pki};

pub const CHECKLIST: &str = include_str!("../../assets/demo/demo.toml");
const CLUSTER: &[(&str, &str)] = &[
    (
        "dev.yaml",
        include_str!("../../assets/demo/cluster/dev.yaml"),
    ),
    (
        "staging.yaml",
        include_str!("../../assets/demo/cluster/staging.yaml"),
    ),
    (
        "prod.yaml",
        include_str!("../../assets/demo/cluster/prod.yaml"),
    ),
];
const REPO: &[(&str, &str)] = &[
    (
        "RUNBOOK.md",
        include_str!("../../assets/demo/repo/RUNBOOK.md"),
    ),
    (
        "deploy/values-dev.yaml",
        include_str!("../../assets/demo/repo/deploy/values-dev.yaml"),
    ),
    (
        "deploy/values-staging.yaml",
        include_str!("../../assets/demo/repo/deploy/values-staging.yaml"),
    ),
    (
        "deploy/values-prod.yaml",
        include_str!("../../assets/demo/repo/deploy/values-prod.yaml"),
    ),
];

/// Writes the bundled files under `root`, starts the endpoints, seeds the
/// log and returns the demo's workspace.
pub fn prepare(options: &Options, root: &Path) -> Result<Workspace, String> {
    let cluster = root.join("demo-cluster");
    let repo = root.join("repo");
    for (dir, files) in [(&cluster, CLUSTER), (&repo, REPO)] {
        for (name, text) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    let pki = Pki::new(root)?;
    let endpoints = Endpoints::start(&pki)?;
    let state_dir = options
        .state_dir
        .clone()
        .unwrap_or_else(|| root.join("state"));
    // The demo's own review only: a `--checklist`, `--snapshot` or
    // `--context` from the command line would point elsewhere.
    let options = Options {
        state_dir: Some(state_dir.clone()),
        checklists: Vec::new(),
        cluster: None,
        ..options.clone()
    };
    let config = config(root, &cluster, &repo, &pki.ca_file, &endpoints);
    let checklist = checklist().map_err(|e| format!("the bundled demo checklist: {e}"))?;
    let ws = Workspace {
        config,
        checklists: vec![checklist],
        options,
    };
    seed(&ws, &state_dir)?;
    Ok(ws)
}

/// The demo's config as a `gonogo.toml` would say it (`demo
/// --print-config`): the environments, their cluster and vars, and where
/// the state goes. The checklist is the bundled one (`gonogo checklists
/// show`-style: printed by `demo --print-config` after the config).
pub fn config_text(ws: &Workspace) -> String {
    use std::fmt::Write as _;
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = String::from(
        "# The config `gonogo demo` runs with. Its endpoints listen on 127.0.0.1\n\
         # only while a demo runs, on ports chosen at start; its files are in a\n\
         # temporary folder removed when it ends.\n",
    );
    if let Some(state) = &ws.options.state_dir {
        let _ = writeln!(out, "state_dir = {}", quote(&state.display().to_string()));
    }
    if let Some(operator) = &ws.config.operator {
        let _ = writeln!(out, "operator = {}", quote(operator));
    }
    let _ = writeln!(
        out,
        "builtin = false   # the demo's checklist is built in: checkout-launch"
    );
    for env in &ws.config.environments {
        let _ = writeln!(out, "\n[[environments]]\nname = {}", quote(&env.name));
        match &env.cluster {
            crate::config::ClusterSource::Snapshot(p) => {
                let _ = writeln!(out, "snapshot = {}", quote(&p.display().to_string()));
            }
            crate::config::ClusterSource::Context(c) => {
                let _ = writeln!(out, "kube_context = {}", quote(c));
            }
            crate::config::ClusterSource::None | crate::config::ClusterSource::NoKubeconfig(_) => {}
        }
        if let Some(from) = &env.promote_from {
            let _ = writeln!(out, "promote_from = {}", quote(from));
        }
        let _ = writeln!(out, "[environments.vars]");
        for (k, v) in &env.vars {
            let _ = writeln!(out, "{k} = {}", quote(v));
        }
    }
    out
}

/// The bundled demo checklist.
pub fn checklist() -> Result<Checklist, String> {
    crate::checklist::parse::parse(Source::new("<builtin>/demo.toml", CHECKLIST), true)
        .map_err(|d| d.to_string())
}

/// dev, staging and prod, all on the bundled snapshot, each its own namespace.
fn config(root: &Path, cluster: &Path, repo: &Path, ca_file: &Path, ep: &Endpoints) -> Config {
    let environments = [("dev", 1), ("staging", 2), ("prod", 2)]
        .into_iter()
        .map(|(name, min_replicas)| {
            let mut vars = BTreeMap::new();
            let mut set = |k: &str, v: String| {
                vars.insert(k.to_string(), v);
            };
            set("namespace", format!("shop-{name}"));
            set("min_replicas", min_replicas.to_string());
            set("api_url", format!("https://127.0.0.1:{}", ep.api));
            set("api_port", ep.api.to_string());
            set(
                "storefront_url",
                format!("https://127.0.0.1:{}", ep.storefront),
            );
            set("payments_port", ep.payments.to_string());
            set("status_url", format!("http://127.0.0.1:{}/", ep.status));
            set("ca_file", ca_file.display().to_string());
            set("repo_dir", repo.display().to_string());
            Environment {
                name: name.to_string(),
                cluster: crate::config::ClusterSource::Snapshot(cluster.to_path_buf()),
                vars,
                read_only: false,
                // What passed in staging goes to prod.
                promote_from: (name == "prod").then(|| "staging".to_string()),
            }
        })
        .collect();
    Config {
        path: None,
        base_dir: root.to_path_buf(),
        checklists: Vec::new(),
        builtin: crate::config::Builtin::None,
        state_dir: None,
        state: Default::default(),
        roles: Default::default(),
        export_dir: None,
        // The demo needs no set-up: with no $USER (a bare container), its
        // changes go under a stand-in name rather than being refused.
        operator: ["USER", "USERNAME"]
            .iter()
            .filter_map(|var| std::env::var(var).ok())
            .find(|name| !name.trim().is_empty())
            .or_else(|| Some("demo-user".into())),
        theme: None,
        trust: Vec::new(),
        every: Some(Duration::from_secs(30)),
        timeout: Some(Duration::from_secs(5)),
        concurrency: 8,
        environments,
    }
}

/// A tick with its evidence in every environment, and one waiver in dev and
/// staging, written through the real log; only into empty logs, so a
/// `--state-dir` reused across runs is not seeded twice.
fn seed(ws: &Workspace, state_dir: &Path) -> Result<(), String> {
    let id = "checkout-launch";
    let in_30_days = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(30))
        .ok();
    for env in &ws.config.environments {
        let ledger = DirStore::open(state_dir, id, &env.name).map_err(|e| e.to_string())?;
        let loaded = ledger.load().map_err(|e| e.to_string())?;
        if loaded.events > 0 {
            continue;
        }
        let mut kinds = vec![
            EventKind::Note {
                item: "rollback-drill".into(),
                text: "Rolled staging back from 2.3.1 to 2.2.4 in 4 min 10 s.\nRecording: https://wiki.example/drills/checkout-2026-11".into(),
            },
            EventKind::Tick {
                item: "rollback-drill".into(),
            },
        ];
        let waiver = match env.name.as_str() {
            "dev" => Some((
                "memory-limits",
                "The worker's limit is set after the load test; dev only, accepted by the platform team.",
            )),
            "staging" => Some((
                "replicas",
                "Staging runs one worker to save cost; prod runs three.",
            )),
            _ => None,
        };
        if let Some((item, reason)) = waiver {
            kinds.push(EventKind::Waive {
                item: item.into(),
                reason: reason.into(),
                until: in_30_days,
            });
        }
        ledger
            .append_many("demo-seed", kinds)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A temporary folder for the demo's files, removed when the demo ends.
pub struct DemoDir(crate::scratch::Scratch);

impl DemoDir {
    /// A fresh folder for one demo session, removed when the session ends
    /// however it ends (`q`, the terminal closing under it, a panic).
    pub fn create() -> std::io::Result<DemoDir> {
        let stamp = jiff::Timestamp::now().as_millisecond();
        let path = std::env::temp_dir().join(format!("gonogo-demo-{}-{stamp}", std::process::id()));
        Ok(DemoDir(crate::scratch::Scratch::create(path)?))
    }

    pub fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_checklist_resolves_in_every_environment() {
        let c = checklist().expect("the demo checklist parses");
        let kinds: std::collections::BTreeSet<String> = c
            .items()
            .map(|(_, i)| {
                i.probe
                    .as_ref()
                    .map_or("manual".into(), |p| p.kind().to_string())
            })
            .collect();
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["file", "http", "kube", "manual", "tls"]
        );
        let ep = Endpoints {
            api: 1,
            storefront: 2,
            payments: 3,
            status: 4,
        };
        let root = Path::new("/tmp/demo");
        let config = config(
            root,
            &root.join("demo-cluster"),
            &root.join("repo"),
            &root.join("ca.pem"),
            &ep,
        );
        let errors = crate::checklist::load::check_environments(&c, &config);
        assert!(errors.is_empty(), "{errors}");
    }
}
