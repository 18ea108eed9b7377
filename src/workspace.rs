//! Everything one run needs for one environment: the config, the loaded
//! checklists, the cluster source and the resolved probes. `check`, `export`,
//! the ledger commands and the TUI all start here, from [`Options`]: what
//! the command line asked, as plain data (the core never sees clap types).

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use crate::checklist::load;
use crate::checklist::model::{Checklist, Probe};
use crate::checklist::resolve;
use crate::cluster::{NoCluster, ObjectSource};
use crate::config::{ClusterSource, Config, Environment, StoreKind};
use crate::diag::Diagnostics;
use crate::export::{self, EnvironmentDoc};
use crate::ledger::{DirStore, KubeStore, KubeTarget, LogState, Signer, Store};
use crate::probe::Outcome;
use crate::probe::ProbeContext;
use crate::report::{self, Report};
use crate::review::roles::{self, Upstream};
use crate::runner::{ItemKey, Job};

/// Why a write is refused when no operator name is set, and how to set one.
pub const NO_OPERATOR: &str = "no name to record this change under: pass --operator NAME, set operator = \"NAME\" in gonogo.toml, or set $USER";

/// A failure before anything ran: bad config, bad checklist, unknown
/// environment. Exit code 2.
#[derive(Debug)]
pub enum LoadError {
    Diagnostics(Diagnostics),
    Usage(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Diagnostics(d) => write!(f, "{d}"),
            LoadError::Usage(m) => writeln!(f, "error: {m}"),
        }
    }
}

impl From<Diagnostics> for LoadError {
    fn from(d: Diagnostics) -> Self {
        LoadError::Diagnostics(d)
    }
}

/// Each checklist's probes for one environment, by item id.
pub type ResolvedProbes = Vec<(String, BTreeMap<String, Probe>)>;

/// What a run was asked to do, resolved from the command line's flags.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--config`: the config file, instead of discovering it.
    pub config: Option<PathBuf>,
    /// `--env`: the environments to review, in order (the dashboard starts
    /// on the first).
    pub envs: Vec<String>,
    /// `--checklist`: only these checklists, by id.
    pub checklists: Vec<String>,
    /// `--state-dir`: where sign-off logs live.
    pub state_dir: Option<PathBuf>,
    /// `--snapshot` or `--context`: every environment's cluster source.
    pub cluster: Option<ClusterSource>,
    /// `--operator`: who is recorded in the log.
    pub operator: Option<String>,
    /// `--allow-exec`: `command` probes may run programs here.
    pub allow_exec: bool,
}

/// The config and checklists, before an environment is chosen.
pub struct Workspace {
    pub config: Config,
    pub checklists: Vec<Checklist>,
    pub options: Options,
}

impl Workspace {
    pub fn load(options: &Options) -> Result<Workspace, LoadError> {
        let config = Config::discover(options.config.as_deref())?;
        let mut checklists = load::load_all(&config, &[])?;
        if !options.checklists.is_empty() {
            for wanted in &options.checklists {
                if !checklists.iter().any(|c| &c.id == wanted) {
                    let known: Vec<&str> = checklists.iter().map(|c| c.id.as_str()).collect();
                    return Err(LoadError::Usage(format!(
                        "no checklist `{wanted}` (loaded: {})",
                        known.join(", ")
                    )));
                }
            }
            checklists.retain(|c| options.checklists.contains(&c.id));
        }
        undefined_roles(&config, &checklists)?;
        Ok(Workspace {
            config,
            checklists,
            options: options.clone(),
        })
    }

    /// The environment named on the command line, else the first configured.
    pub fn environment(&self, name: Option<&str>) -> Result<Environment, LoadError> {
        let mut env = match name {
            Some(n) => self.config.environment(n).cloned().ok_or_else(|| {
                let known: Vec<&str> = self
                    .config
                    .environments
                    .iter()
                    .map(|e| e.name.as_str())
                    .collect();
                LoadError::Usage(format!(
                    "no environment `{n}`{} (configured: {})",
                    crate::diag::did_you_mean(n, known.iter().copied()),
                    known.join(", ")
                ))
            })?,
            None => self
                .config
                .environments
                .first()
                .cloned()
                .ok_or_else(|| LoadError::Usage("no environments configured".into()))?,
        };
        if let Some(cluster) = &self.options.cluster {
            env.cluster = cluster.clone();
        }
        Ok(env)
    }

    /// `path` as a person reads it: relative to the config's folder when it
    /// lies inside (as the config names it), else as it is.
    pub fn shown(&self, path: &std::path::Path) -> PathBuf {
        match path.strip_prefix(&self.config.base_dir) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
            _ => path.to_path_buf(),
        }
    }

    /// How the header names an environment's cluster source.
    pub fn cluster_label(&self, env: &Environment) -> String {
        match &env.cluster {
            ClusterSource::Snapshot(p) => format!("snapshot {}", self.shown(p).display()),
            other => other.label(),
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.options
            .state_dir
            .clone()
            .or_else(|| self.config.state_dir.clone())
            .unwrap_or_else(Config::default_state_dir)
    }

    /// The store that keeps `checklist`'s log in `env`, as the config's
    /// `[state]` says. Opening it reads nothing.
    pub fn ledger(&self, checklist: &str, env: &Environment) -> Result<Arc<dyn Store>, LoadError> {
        self.ledger_in(self.config.state.store, checklist, env)
    }

    /// The same log in the store `kind`, whichever one the config uses
    /// (`gonogo state copy` reads one and writes the other).
    pub fn ledger_in(
        &self,
        kind: StoreKind,
        checklist: &str,
        env: &Environment,
    ) -> Result<Arc<dyn Store>, LoadError> {
        let usage = |e: crate::ledger::LedgerError| LoadError::Usage(e.to_string());
        Ok(match kind {
            StoreKind::Dir => {
                Arc::new(DirStore::open(&self.state_dir(), checklist, &env.name).map_err(usage)?)
            }
            StoreKind::Kube => {
                let target = self.kube_target(env)?;
                Arc::new(KubeStore::open(&target, checklist, &env.name).map_err(usage)?)
            }
        })
    }

    /// What the environment `env` is promoted from says of `checklist`:
    /// `None` when `env` follows none. Its log is read now; an altered log
    /// says nothing (its decisions do not count), and one that cannot be
    /// read is an error.
    pub fn upstream(
        &self,
        checklist: &Checklist,
        env: &Environment,
    ) -> Result<Option<Upstream>, LoadError> {
        let Some(from) = &env.promote_from else {
            return Ok(None);
        };
        let from = self.environment(Some(from))?;
        let ledger = self.ledger(&checklist.id, &from)?;
        let loaded = ledger.load().map_err(|e| {
            LoadError::Usage(format!(
                "cannot read {} (the review {} is promoted from): {e}",
                ledger.location(),
                env.name
            ))
        })?;
        let empty = LogState::default();
        let state = if loaded.is_tampered() {
            &empty
        } else {
            &loaded.state
        };
        Ok(Some(roles::upstream(
            checklist,
            &self.config.roles,
            &from.name,
            state,
        )))
    }

    /// Where the kube store keeps `env`'s logs: `[state]`'s namespace, in
    /// `[state]`'s context or else the environment's own.
    pub fn kube_target(&self, env: &Environment) -> Result<KubeTarget, LoadError> {
        let state = &self.config.state;
        let context = match (&state.context, &env.cluster) {
            (Some(context), _) | (None, ClusterSource::Context(context)) => context.clone(),
            (None, _) => {
                return Err(LoadError::Usage(format!(
                    "the sign-off logs of {env} are to be kept in a cluster, but no cluster is named for them: \
                     set `context` in [state], or `kube_context` for {env}",
                    env = env.name
                )));
            }
        };
        Ok(KubeTarget {
            namespace: state.namespace.clone(),
            context: Some(context),
        })
    }

    /// Who a change is recorded as made by: `--operator`, the config's
    /// `operator`, else `$USER`. `None` when none of them names anyone: a
    /// write is then refused (`NO_OPERATOR`), never recorded as nobody.
    pub fn operator(&self) -> Option<String> {
        let set = |name: &Option<String>| name.clone().filter(|n| !n.trim().is_empty());
        let env = |var: &str| set(&std::env::var(var).ok());
        set(&self.options.operator)
            .or_else(|| set(&self.config.operator))
            .or_else(|| env("USER"))
            .or_else(|| env("USERNAME"))
    }

    /// Who a change to the log `ledger` is recorded as made by. The kube
    /// store records the user and groups the API server reports for the
    /// credentials, and refuses `--operator` (the cluster says who you
    /// are); the dir store records `operator()`, and refuses when that
    /// names nobody.
    pub fn signer(&self, ledger: &dyn crate::ledger::Store) -> Result<Signer, String> {
        match ledger.identity().map_err(|e| e.to_string())? {
            Some(who) => match &self.options.operator {
                Some(asked) if !asked.trim().is_empty() => Err(format!(
                    "--operator cannot be used when the log is kept in the cluster: \
                     the API server records you as {} (asked to record {asked})",
                    who.name
                )),
                _ => Ok(who),
            },
            None => self
                .operator()
                .map(Signer::named)
                .ok_or_else(|| NO_OPERATOR.to_string()),
        }
    }

    /// Whether `command` probes of `checklist` may run.
    pub fn may_exec(&self, checklist: &Checklist) -> bool {
        self.options.allow_exec || crate::config::is_trusted(&self.config, checklist)
    }

    /// Probes of every checklist, resolved for `env`.
    pub fn probes(&self, env: &Environment) -> Result<ResolvedProbes, LoadError> {
        let mut out = Vec::new();
        let mut errors = Diagnostics::default();
        for c in &self.checklists {
            let vars = resolve::env_vars(c, &env.vars);
            match resolve::resolve_all(c, &env.name, &vars, load::probe_defaults(&self.config)) {
                Ok(p) => out.push((c.id.clone(), p)),
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors.into())
        }
    }

    /// The source of kube objects for `env`, a snapshot read once. A
    /// snapshot that cannot be read is a load error; a live cluster that
    /// cannot be reached is not (its probes report the reason).
    /// `probes` are the ones that will read it (`probes(env)`): a snapshot
    /// parses only the kinds they select.
    pub async fn cluster(
        &self,
        env: &Environment,
        probes: &ResolvedProbes,
    ) -> Result<Arc<dyn ObjectSource>, LoadError> {
        let once = crate::cluster::reload::SnapshotReading::Once;
        self.cluster_as(env, probes, once).await
    }

    /// `cluster`, with a snapshot read as `reading` says: the dashboard
    /// follows its files, so what it shows is what `check` would say now.
    pub async fn cluster_as(
        &self,
        env: &Environment,
        probes: &ResolvedProbes,
        reading: crate::cluster::reload::SnapshotReading,
    ) -> Result<Arc<dyn ObjectSource>, LoadError> {
        use crate::cluster::reload::SnapshotReading;
        match &env.cluster {
            ClusterSource::Snapshot(path) => {
                let kinds: std::collections::HashSet<String> = probes
                    .iter()
                    .flat_map(|(_, items)| items.values())
                    .filter_map(|p| match &p.spec {
                        crate::checklist::model::ProbeSpec::Kube(k) => {
                            Some(k.resource.kind.clone())
                        }
                        _ => None,
                    })
                    .collect();
                let paths = std::slice::from_ref(path);
                let unreadable =
                    |e: crate::cluster::snapshot::SnapshotError| LoadError::Usage(e.to_string());
                Ok(match reading {
                    SnapshotReading::Once => Arc::new(
                        crate::cluster::snapshot::Snapshot::load_kinds(paths, Some(&kinds))
                            .map_err(unreadable)?,
                    ),
                    SnapshotReading::Followed => Arc::new(
                        crate::cluster::reload::FollowedSnapshot::follow(paths, Some(kinds))
                            .map_err(unreadable)?,
                    ),
                })
            }
            ClusterSource::Context(context) => {
                match crate::cluster::live::Live::from_context(Some(context)).await {
                    Ok(live) => {
                        let queries: Vec<crate::cluster::ObjectQuery> = probes
                            .iter()
                            .flat_map(|(_, items)| items.values())
                            .filter_map(|p| match &p.spec {
                                crate::checklist::model::ProbeSpec::Kube(k) => {
                                    Some(crate::cluster::ObjectQuery::of(k))
                                }
                                _ => None,
                            })
                            .collect();
                        live.will_serve(&queries);
                        Ok(Arc::new(live))
                    }
                    Err(e) => Ok(Arc::new(crate::cluster::Unreachable(e.to_string()))),
                }
            }
            ClusterSource::None => Ok(Arc::new(NoCluster::UNCONFIGURED)),
            ClusterSource::NoKubeconfig(why) => Ok(Arc::new(NoCluster::no_kubeconfig(why))),
        }
    }

    /// One environment reviewed now, as `check` does: its probes run once
    /// (not when `probe` is false: probe items then show as not checked)
    /// and its logs read. Warnings go to `warnings`.
    pub async fn review_once(
        &self,
        env: &Environment,
        probe: bool,
        warnings: &mut Vec<String>,
    ) -> Result<EnvironmentDoc, LoadError> {
        self.review_once_watched(env, probe, warnings, &mut |_| {})
            .await
    }

    /// [`Workspace::review_once`], telling `watch` how the probes are
    /// getting on (for `check`'s progress line).
    pub async fn review_once_watched(
        &self,
        env: &Environment,
        probe: bool,
        warnings: &mut Vec<String>,
        watch: &mut (dyn FnMut(&crate::runner::Tally) + Send),
    ) -> Result<EnvironmentDoc, LoadError> {
        let probes = self.probes(env)?;
        let cluster = self.cluster(env, &probes).await?;
        let outcomes = if probe {
            let jobs = self.jobs(&probes, cluster.clone());
            crate::runner::run_once_watched(jobs, self.config.concurrency, watch).await
        } else {
            Vec::new()
        };
        let mut by_checklist: HashMap<String, HashMap<String, Outcome>> = HashMap::new();
        for (key, outcome) in outcomes {
            by_checklist
                .entry(key.checklist.to_string())
                .or_default()
                .insert(key.item.to_string(), outcome);
        }
        self.environment_doc_quietly(
            env,
            &by_checklist,
            cluster.describe(),
            jiff::Timestamp::now(),
            None,
            warnings,
        )
    }

    /// One environment evaluated from `outcomes` (by checklist, then item)
    /// and the sign-off logs: what `check`, `export` and the TUI's export
    /// show. A log that fails verification is listed with its problems and
    /// its decisions are not counted: the gate must not rest on ticks nobody
    /// can vouch for. A torn last line is reported on stderr.
    pub fn environment_doc(
        &self,
        env: &Environment,
        outcomes: &HashMap<String, HashMap<String, Outcome>>,
        cluster: String,
        now: jiff::Timestamp,
    ) -> Result<EnvironmentDoc, LoadError> {
        let mut warnings = Vec::new();
        let doc = self.environment_doc_quietly(env, outcomes, cluster, now, None, &mut warnings);
        for w in warnings {
            eprintln!("warning: {w}");
        }
        doc
    }

    /// [`Workspace::environment_doc`] for a caller that owns the screen:
    /// warnings are handed back instead of printed, and `only` limits the
    /// document to one checklist (the decision is then that checklist's).
    pub fn environment_doc_quietly(
        &self,
        env: &Environment,
        outcomes: &HashMap<String, HashMap<String, Outcome>>,
        cluster: String,
        now: jiff::Timestamp,
        only: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> Result<EnvironmentDoc, LoadError> {
        let empty = HashMap::new();
        let mut reports = Vec::new();
        let mut logs = BTreeMap::new();
        let wanted = self
            .checklists
            .iter()
            .filter(|c| only.is_none_or(|id| id == c.id));
        for c in wanted {
            let ledger = self.ledger(&c.id, env)?;
            let mut loaded = ledger.load().map_err(|e| LoadError::Usage(e.to_string()))?;
            warnings.extend(ledger.exposure());
            if let Some(w) = loaded.torn_tail() {
                warnings.push(format!("{}: {w}", ledger.location()));
            }
            let events = if loaded.is_tampered() {
                loaded.state = LogState::default();
                Vec::new()
            } else {
                ledger
                    .events()
                    .map_err(|e| LoadError::Usage(e.to_string()))?
            };
            let mut report = report::checklist_report(
                c,
                &env.name,
                &loaded.state,
                outcomes.get(&c.id).unwrap_or(&empty),
                &self.config.roles,
                now,
            );
            report.upstream = self.upstream(c, env)?;
            let mut log =
                export::log_doc(&ledger.location(), &loaded.view(), &events, &report, now);
            log.verify = ledger.verify_command();
            if log.events > 0 && log.problems.is_empty() {
                // The head this document saw: a log cut off or added to
                // since fails this check.
                log.verify = format!("{} --head {}:{}", log.verify, log.events, log.head);
            }
            logs.insert(c.id.clone(), log);
            reports.push(report);
        }
        Ok(EnvironmentDoc {
            report: Report::new(&env.name, cluster, reports, now),
            logs,
        })
    }

    /// One job per probe item of every checklist for `env`.
    pub fn jobs(&self, probes: &ResolvedProbes, cluster: Arc<dyn ObjectSource>) -> Vec<Job> {
        let mut jobs = Vec::new();
        for (checklist_id, items) in probes {
            let Some(checklist) = self.checklists.iter().find(|c| &c.id == checklist_id) else {
                continue;
            };
            let ctx = ProbeContext {
                cluster: cluster.clone(),
                allow_exec: self.may_exec(checklist),
                base_dir: self.config.base_dir.clone(),
            };
            for (item, probe) in items {
                jobs.push(Job {
                    key: ItemKey::new(checklist_id, item),
                    probe: Arc::new(probe.clone()),
                    ctx: ctx.clone(),
                });
            }
        }
        jobs
    }
}

/// Every role a checklist requires must be defined in `[roles]`, or nobody
/// could ever sign it off.
fn undefined_roles(config: &Config, checklists: &[Checklist]) -> Result<(), LoadError> {
    let mut errors = Diagnostics::default();
    for c in checklists {
        for (role, span) in c.signoff_roles.iter().zip(&c.signoff_spans) {
            if config.roles.contains_key(role) {
                continue;
            }
            let defined: Vec<&str> = config.roles.keys().map(String::as_str).collect();
            let shown = config
                .path
                .as_ref()
                .map_or("gonogo.toml".to_string(), |p| p.display().to_string());
            errors.push(c.source.error(
                span.clone(),
                format!(
                    "checklist `{}` requires a sign-off by `{role}`, which [roles] in {shown} does not define{} ({})",
                    c.id,
                    crate::diag::did_you_mean(role, defined.iter().copied()),
                    if defined.is_empty() {
                        "no roles are defined".to_string()
                    } else {
                        format!("defined: {}", defined.join(", "))
                    }
                ),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into())
    }
}
