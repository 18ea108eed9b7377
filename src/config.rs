//! `gonogo.toml`: where checklists, state and exports live, and the
//! environments with their vars and cluster source (DESIGN section 5).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::checklist::parse::parse_duration;
use crate::diag::{Diagnostic, Diagnostics, Source};

#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    /// Relative paths resolve against this: the config file's folder, or the
    /// current directory when there is no file.
    pub base_dir: PathBuf,
    pub checklists: Vec<String>,
    /// Which bundled checklists load besides the user's own.
    pub builtin: Builtin,
    pub state_dir: Option<PathBuf>,
    /// `[state]`: which store keeps the sign-off logs.
    pub state: StateConfig,
    pub export_dir: Option<PathBuf>,
    pub operator: Option<String>,
    pub theme: Option<String>,
    /// `ID@SHA256` entries: checklists whose `command` probes may run without
    /// `--allow-exec`, pinned to the exact file content. Read from the user
    /// config file only, so a repository's own gonogo.toml cannot trust
    /// itself.
    pub trust: Vec<String>,
    pub every: Option<std::time::Duration>,
    pub timeout: Option<std::time::Duration>,
    pub concurrency: usize,
    pub environments: Vec<Environment>,
    /// `[roles]`: who may sign for each role a checklist requires.
    pub roles: crate::review::roles::Roles,
}

/// The config's `builtin` key: `true` (the default) loads the
/// general-purpose bundled checklists, `false` none, a list of ids exactly
/// those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builtin {
    General,
    None,
    Ids(Vec<String>),
}

/// `[state]`: where sign-off logs are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateConfig {
    pub store: StoreKind,
    /// Where the kube store keeps its objects (also the target of
    /// `gonogo state copy --to kube` when the dir store is in use).
    pub namespace: String,
    /// The kubeconfig context of the cluster that holds them; `None`: each
    /// environment's own `kube_context`.
    pub context: Option<String>,
}

/// Which store keeps the sign-off logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// A JSON Lines file per review under `state_dir`.
    Dir,
    /// An immutable ConfigMap per event in a cluster.
    Kube,
}

impl StoreKind {
    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Dir => "dir",
            StoreKind::Kube => "kube",
        }
    }
}

/// The namespace of the kube store when `[state]` names none.
pub const DEFAULT_STATE_NAMESPACE: &str = "gonogo";

impl Default for StateConfig {
    fn default() -> StateConfig {
        StateConfig {
            store: StoreKind::Dir,
            namespace: DEFAULT_STATE_NAMESPACE.to_string(),
            context: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Environment {
    pub name: String,
    /// Where its Kubernetes objects come from.
    pub cluster: ClusterSource,
    pub vars: BTreeMap<String, String>,
    pub read_only: bool,
    /// The environment this one is promoted from: a `go` here needs the
    /// same checklist signed `go` there first.
    pub promote_from: Option<String>,
}

/// Where an environment's kube probes read objects: one of these, never
/// two (the config refuses `kube_context` and `snapshot` together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterSource {
    /// Neither is configured: kube probes say so.
    None,
    /// A context of the kubeconfig.
    Context(String),
    /// Manifests on disk: a file or a folder read recursively.
    Snapshot(PathBuf),
    /// No config file and no kubeconfig either: kube probes say so, with
    /// the reason the kubeconfig could not be read.
    NoKubeconfig(String),
}

impl ClusterSource {
    /// How the header and the reports name it before it is opened.
    pub fn label(&self) -> String {
        match self {
            ClusterSource::None => "no cluster".into(),
            ClusterSource::NoKubeconfig(_) => "no kubeconfig".into(),
            ClusterSource::Context(c) => format!("context {c}"),
            ClusterSource::Snapshot(p) => format!("snapshot {}", p.display()),
        }
    }

    pub fn is_some(&self) -> bool {
        !matches!(self, ClusterSource::None | ClusterSource::NoKubeconfig(_))
    }
}

impl Environment {
    pub fn named(name: &str) -> Environment {
        Environment {
            name: name.to_string(),
            cluster: ClusterSource::None,
            vars: BTreeMap::new(),
            read_only: false,
            promote_from: None,
        }
    }
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Config")]
struct RawConfig {
    #[serde(default)]
    checklists: Vec<String>,
    #[schemars(with = "Option<serde_json::Value>")]
    builtin: Option<Spanned<toml::Value>>,
    state_dir: Option<String>,
    state: Option<RawState>,
    export_dir: Option<String>,
    operator: Option<String>,
    theme: Option<String>,
    #[serde(default)]
    trust: Vec<String>,
    #[schemars(with = "Option<String>")]
    every: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    timeout: Option<Spanned<String>>,
    #[schemars(with = "Option<i64>")]
    concurrency: Option<Spanned<i64>>,
    #[serde(default)]
    environments: Vec<RawEnvironment>,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Vec<String>>")]
    roles: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "State")]
struct RawState {
    #[schemars(with = "Option<String>")]
    store: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    namespace: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    context: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Environment")]
struct RawEnvironment {
    #[schemars(with = "String")]
    name: Spanned<String>,
    #[schemars(with = "Option<String>")]
    kube_context: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    snapshot: Option<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    vars: BTreeMap<String, Spanned<toml::Value>>,
    #[serde(default)]
    read_only: bool,
    #[schemars(with = "Option<String>")]
    promote_from: Option<Spanned<String>>,
}

pub const DEFAULT_CONCURRENCY: usize = 32;

/// The JSON Schema of `gonogo.toml` as the loader reads it, before
/// `crate::schema` adds what the types alone do not say.
pub fn raw_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<RawConfig>().to_value()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            base_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            checklists: Vec::new(),
            builtin: Builtin::General,
            state_dir: None,
            state: StateConfig::default(),
            export_dir: None,
            operator: None,
            theme: None,
            trust: Vec::new(),
            every: None,
            timeout: None,
            concurrency: DEFAULT_CONCURRENCY,
            environments: ["dev", "staging", "prod"]
                .into_iter()
                .map(Environment::named)
                .collect(),
            roles: Default::default(),
        }
    }
}

impl Config {
    /// Finds the config: `explicit` (from `--config`), else `gonogo.toml` in
    /// the current directory, else the user config file, else defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config, Diagnostics> {
        let user = user_config_path().filter(|p| p.is_file());
        let mut config = if let Some(path) = explicit {
            Config::load(path)?
        } else if Path::new("gonogo.toml").is_file() {
            Config::load(Path::new("gonogo.toml"))?
        } else if let Some(user) = &user {
            Config::load(user)?
        } else {
            Config::zero(read_kubeconfig())
        };
        let is_user = |p: &Path| {
            user.as_deref()
                .is_some_and(|u| std::fs::canonicalize(u).ok() == std::fs::canonicalize(p).ok())
        };
        let loaded_user = config.path.as_deref().is_some_and(is_user);
        if !loaded_user {
            if !config.trust.is_empty() {
                let path = config.path.clone().unwrap_or_default();
                let shown = user_config_path()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "the user config".into());
                return Err(Diagnostics(vec![Diagnostic::file(
                    &path,
                    format!(
                        "`trust` is only read from {shown}, so that a repository cannot trust its own checklists"
                    ),
                )]));
            }
            if let Some(user) = &user {
                config.trust = Config::load(user)?.trust;
            }
        }
        Ok(config)
    }

    /// The config when there is no config file: what kubectl would do. One
    /// environment named after the kubeconfig's current context, reading
    /// that context; with no kubeconfig (or no current context), one
    /// environment `local` whose kube items say why and how to fix it.
    pub fn zero(kubeconfig: Result<kube::config::Kubeconfig, String>) -> Config {
        let environment = match kubeconfig {
            Ok(k) => match k.current_context.clone() {
                Some(current) => {
                    // The context's namespace, as kubectl would use it, is
                    // the checklists' `namespace` var.
                    let namespace = k
                        .contexts
                        .iter()
                        .find(|c| c.name == current)
                        .and_then(|c| c.context.as_ref())
                        .and_then(|c| c.namespace.clone());
                    Environment {
                        cluster: ClusterSource::Context(current.clone()),
                        vars: namespace
                            .map(|ns| BTreeMap::from([("namespace".to_string(), ns)]))
                            .unwrap_or_default(),
                        ..Environment::named(&environment_name(&current))
                    }
                }
                None => Environment {
                    cluster: ClusterSource::NoKubeconfig(
                        "the kubeconfig sets no current context".into(),
                    ),
                    ..Environment::named("local")
                },
            },
            Err(e) => Environment {
                cluster: ClusterSource::NoKubeconfig(e),
                ..Environment::named("local")
            },
        };
        Config {
            environments: vec![environment],
            ..Config::default()
        }
    }

    pub fn load(path: &Path) -> Result<Config, Diagnostics> {
        let source = Source::read(path, "config").map_err(|e| Diagnostics(vec![e]))?;
        Config::parse(source)
    }

    pub fn parse(source: Source) -> Result<Config, Diagnostics> {
        let raw: RawConfig = toml::from_str(&source.text).map_err(|e| {
            let message = crate::diag::explain_unknown(&e.message().trim_end().replace('\n', "; "));
            Diagnostics(vec![source.error(e.span().unwrap_or(0..0), message)])
        })?;
        let base_dir = source
            .path
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p.to_path_buf()
                }
            })
            .unwrap_or_else(|| PathBuf::from("."));
        let base_dir = std::path::absolute(&base_dir).unwrap_or(base_dir);
        let mut errors = Diagnostics::default();
        let mut duration = |field: &Option<Spanned<String>>, name: &str| {
            field
                .as_ref()
                .and_then(|f| match parse_duration(f.get_ref()) {
                    Ok(d) => Some(d),
                    Err(e) => {
                        errors.push(source.error(f.span(), format!("bad `{name}`: {e}")));
                        None
                    }
                })
        };
        let every = duration(&raw.every, "every");
        let timeout = duration(&raw.timeout, "timeout");
        let concurrency = match &raw.concurrency {
            None => DEFAULT_CONCURRENCY,
            Some(c) if (1..=1024).contains(c.get_ref()) => *c.get_ref() as usize,
            Some(c) => {
                errors.push(source.error(c.span(), "`concurrency` must be between 1 and 1024"));
                DEFAULT_CONCURRENCY
            }
        };
        let builtin = match &raw.builtin {
            None => Builtin::General,
            Some(value) => parse_builtin(&source, value, &mut errors),
        };
        let state = match &raw.state {
            None => StateConfig::default(),
            Some(state) => parse_state(&source, state, &mut errors),
        };
        let roles = parse_roles(&source, raw.roles, &mut errors);
        let mut environments: Vec<Environment> = Vec::new();
        let mut promotions = Vec::new();
        for env in raw.environments {
            let name = env.name.get_ref();
            if !crate::checklist::parse::valid_id(name) {
                errors.push(source.error(
                    env.name.span(),
                    format!(
                        "bad environment name `{name}`: use lowercase letters, digits and dashes"
                    ),
                ));
            }
            if environments.iter().any(|e| &e.name == name) {
                errors.push(source.error(
                    env.name.span(),
                    format!("environment `{name}` is defined twice"),
                ));
            }
            let mut vars = BTreeMap::new();
            for (k, v) in env.vars {
                match crate::checklist::parse::scalar_to_string(v.get_ref()) {
                    Some(s) => {
                        vars.insert(k, s);
                    }
                    None => errors.push(source.error(
                        v.span(),
                        format!("var `{k}` must be a string, number or boolean"),
                    )),
                }
            }
            let cluster = match (env.kube_context, env.snapshot) {
                (Some(context), Some(snapshot)) => {
                    errors.push(source.error(
                        snapshot.span(),
                        format!(
                            "environment `{name}` sets both `kube_context` ({}) and `snapshot`: \
                             keep the one its kube probes should read",
                            context.get_ref()
                        ),
                    ));
                    ClusterSource::None
                }
                (Some(context), None) => ClusterSource::Context(context.into_inner()),
                (None, Some(snapshot)) => {
                    ClusterSource::Snapshot(base_dir.join(snapshot.into_inner()))
                }
                (None, None) => ClusterSource::None,
            };
            if let Some(from) = &env.promote_from {
                promotions.push((name.clone(), from.clone()));
            }
            environments.push(Environment {
                name: env.name.into_inner(),
                cluster,
                vars,
                read_only: env.read_only,
                promote_from: env.promote_from.map(Spanned::into_inner),
            });
        }
        check_promotions(&source, &environments, &promotions, &mut errors);
        if !errors.is_empty() {
            return Err(errors);
        }
        if environments.is_empty() {
            environments = Config::default().environments;
        }
        Ok(Config {
            path: Some(source.path.clone()),
            checklists: raw.checklists,
            builtin,
            state_dir: raw.state_dir.map(|s| base_dir.join(s)),
            state,
            export_dir: raw.export_dir.map(|s| base_dir.join(s)),
            operator: raw.operator,
            theme: raw.theme,
            trust: raw.trust,
            every,
            timeout,
            concurrency,
            environments,
            roles,
            base_dir,
        })
    }

    pub fn environment(&self, name: &str) -> Option<&Environment> {
        self.environments.iter().find(|e| e.name == name)
    }

    /// Where sign-off logs go when neither `--state-dir` nor the config says.
    pub fn default_state_dir() -> PathBuf {
        project_dirs()
            .map(|d| d.data_dir().join("reviews"))
            .unwrap_or_else(|| PathBuf::from(".gonogo/reviews"))
    }
}

/// Reads `[state]`: `store` ("dir" or "kube"), `namespace` (a namespace
/// name), `context` (a kubeconfig context); each error at its value.
/// `[roles]`: role names like ids, each entry a name or `group:NAME`.
fn parse_roles(
    source: &Source,
    raw: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
    errors: &mut Diagnostics,
) -> crate::review::roles::Roles {
    use crate::review::roles::GROUP;
    let mut roles = crate::review::roles::Roles::new();
    for (role, members) in raw {
        if !crate::checklist::parse::valid_id(role.get_ref()) {
            errors.push(source.error(
                role.span(),
                format!(
                    "bad role name `{}`: use lowercase letters, digits and dashes",
                    role.get_ref()
                ),
            ));
        }
        if members.is_empty() {
            errors.push(source.error(
                role.span(),
                format!(
                    "role `{}` has nobody in it: list people (`alice`) or groups (`group:platform-sre`)",
                    role.get_ref()
                ),
            ));
        }
        for m in &members {
            let text = m.get_ref();
            let name = text.strip_prefix(GROUP).unwrap_or(text);
            if name.trim().is_empty() || name != name.trim() {
                errors.push(source.error(
                    m.span(),
                    format!(
                        "`{text}` in role `{}` names nobody: write a user name, or {GROUP}GROUP",
                        role.get_ref()
                    ),
                ));
            }
        }
        roles.insert(
            role.into_inner(),
            members.into_iter().map(Spanned::into_inner).collect(),
        );
    }
    roles
}

/// `promote_from` names another environment, and following it never comes
/// back round.
fn check_promotions(
    source: &Source,
    environments: &[Environment],
    promotions: &[(String, Spanned<String>)],
    errors: &mut Diagnostics,
) {
    let from = |name: &str| {
        environments
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.promote_from.as_deref())
    };
    for (name, upstream) in promotions {
        let up = upstream.get_ref();
        if up == name {
            errors.push(source.error(
                upstream.span(),
                format!("environment `{name}` cannot be promoted from itself"),
            ));
            continue;
        }
        if !environments.iter().any(|e| &e.name == up) {
            let known = environments.iter().map(|e| e.name.as_str());
            errors.push(source.error(
                upstream.span(),
                format!(
                    "`promote_from` names no environment `{up}`{}",
                    crate::diag::did_you_mean(up, known)
                ),
            ));
            continue;
        }
        let mut path = vec![name.as_str()];
        let mut next = Some(up.as_str());
        while let Some(step) = next {
            if step == name {
                path.push(step);
                errors.push(source.error(
                    upstream.span(),
                    format!("promotions go round in a circle: {}", path.join(" <- ")),
                ));
                break;
            }
            if path.contains(&step) {
                // A circle further up: its own members report it.
                break;
            }
            path.push(step);
            next = from(step);
        }
    }
}

fn parse_state(source: &Source, raw: &RawState, errors: &mut Diagnostics) -> StateConfig {
    let mut state = StateConfig::default();
    if let Some(store) = &raw.store {
        match store.get_ref().as_str() {
            "dir" => state.store = StoreKind::Dir,
            "kube" => state.store = StoreKind::Kube,
            other => errors.push(source.error(
                store.span(),
                format!(
                    "no store `{other}`: `store` is \"dir\" (a file per review under state_dir) \
                     or \"kube\" (a ConfigMap per event in the cluster)"
                ),
            )),
        }
    }
    if let Some(namespace) = &raw.namespace {
        let name = namespace.get_ref();
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        let valid = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(|c| alnum(c) || c == '-')
            && name.starts_with(alnum)
            && name.ends_with(alnum);
        if valid {
            state.namespace = name.clone();
        } else {
            errors.push(source.error(
                namespace.span(),
                format!(
                    "`{name}` is not a namespace name: lowercase letters, digits and dashes, \
                     at most 63, starting and ending with a letter or digit"
                ),
            ));
        }
    }
    if let Some(context) = &raw.context {
        if context.get_ref().trim().is_empty() {
            errors.push(source.error(
                context.span(),
                "`context` names a kubeconfig context; leave it out to use each environment's kube_context",
            ));
        } else {
            state.context = Some(context.get_ref().clone());
        }
    }
    state
}

/// Reads `builtin = true | false | ["id", …]`; an id that names no bundled
/// checklist is an error at that id, with the closest one suggested.
fn parse_builtin(
    source: &Source,
    value: &Spanned<toml::Value>,
    errors: &mut Diagnostics,
) -> Builtin {
    use crate::checklist::load::BUNDLED;
    let span = value.span();
    match value.get_ref() {
        toml::Value::Boolean(true) => Builtin::General,
        toml::Value::Boolean(false) => Builtin::None,
        toml::Value::Array(items) => {
            let mut ids = Vec::new();
            // Each id's own span, found in the array's text in order.
            let array_text = &source.text[span.clone()];
            let mut from = 0;
            for item in items {
                let Some(id) = item.as_str() else {
                    errors.push(source.error(
                        span.clone(),
                        "`builtin` lists checklist ids as strings, e.g. [\"kubernetes-baseline\"]",
                    ));
                    continue;
                };
                let at = array_text[from..].find(id).map(|i| from + i).unwrap_or(0);
                from = at + id.len();
                if BUNDLED.iter().any(|b| b.id == id) {
                    if !ids.iter().any(|seen| seen == id) {
                        ids.push(id.to_string());
                    }
                } else {
                    let start = span.start + at;
                    errors.push(source.error(
                        start..start + id.len(),
                        format!(
                            "no bundled checklist `{id}`{} (`gonogo checklists` lists them)",
                            crate::diag::did_you_mean(id, BUNDLED.iter().map(|b| b.id))
                        ),
                    ));
                }
            }
            Builtin::Ids(ids)
        }
        _ => {
            errors.push(source.error(
                span,
                "`builtin` is true (the general-purpose checklists), false (none) or a list of bundled checklist ids",
            ));
            Builtin::General
        }
    }
}

/// `$XDG_CONFIG_HOME/gonogo/config.toml` or the platform's equivalent.
/// An environment name from a kube context's name: lowercase letters,
/// digits and dashes, as every environment name is. A context may be called
/// anything (`arn:aws:eks:…:cluster/prod`, or `../x`), and the name becomes
/// part of the sign-off log's path.
pub fn environment_name(context: &str) -> String {
    let mut name: String = context
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    let name = name.trim_matches('-').to_string();
    if name.is_empty() { "env".into() } else { name }
}

/// The kubeconfig as kubectl finds it (`KUBECONFIG`, else
/// `~/.kube/config`), or a sentence saying where it was looked for.
pub fn read_kubeconfig() -> Result<kube::config::Kubeconfig, String> {
    use kube::config::Kubeconfig;
    match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(value) => {
            let shown = value.to_string_lossy();
            if !std::env::split_paths(&value).any(|p| p.exists()) {
                return Err(format!("KUBECONFIG is {shown}, and no such file exists"));
            }
            Kubeconfig::read().map_err(|e| format!("KUBECONFIG is {shown}: {e}"))
        }
        None => {
            let Some(path) =
                directories::BaseDirs::new().map(|b| b.home_dir().join(".kube").join("config"))
            else {
                return Err("KUBECONFIG is unset and there is no home folder".into());
            };
            if !path.exists() {
                return Err(format!(
                    "KUBECONFIG is unset and {} does not exist",
                    path.display()
                ));
            }
            Kubeconfig::read_from(&path)
                .map_err(|e| format!("{} cannot be read: {e}", path.display()))
        }
    }
}

pub fn user_config_path() -> Option<PathBuf> {
    project_dirs().map(|d| d.config_dir().join("config.toml"))
}

/// The trust entry that lets `checklist` run `command` probes: its id and
/// the SHA-256 of its file, so any edit to the file withdraws the trust.
pub fn trust_entry(checklist: &crate::checklist::Checklist) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(checklist.source.text.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}@{hex}", checklist.id)
}

pub fn is_trusted(config: &Config, checklist: &crate::checklist::Checklist) -> bool {
    let entry = trust_entry(checklist);
    config.trust.contains(&entry)
}

pub fn project_dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("dev", "gonogo", "gonogo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_no_config_the_current_kube_context_is_the_environment() {
        let kubeconfig = kube::config::Kubeconfig {
            current_context: Some("shop-staging".into()),
            ..Default::default()
        };
        let c = Config::zero(Ok(kubeconfig));
        assert_eq!(c.environments.len(), 1);
        assert_eq!(c.environments[0].name, "shop-staging");
        assert_eq!(
            c.environments[0].cluster,
            ClusterSource::Context("shop-staging".into())
        );
        // A context's name may hold anything; the environment's is a
        // plain name, as it becomes part of the log's path.
        let kubeconfig = kube::config::Kubeconfig {
            current_context: Some("arn:aws:eks:eu-west-1:1234:cluster/../../Prod".into()),
            ..Default::default()
        };
        let c = Config::zero(Ok(kubeconfig));
        assert_eq!(
            c.environments[0].name,
            "arn-aws-eks-eu-west-1-1234-cluster-prod"
        );
        assert_eq!(
            c.environments[0].cluster,
            ClusterSource::Context("arn:aws:eks:eu-west-1:1234:cluster/../../Prod".into())
        );
        // The context's namespace is the `namespace` var, as kubectl uses it.
        let kubeconfig = kube::config::Kubeconfig {
            current_context: Some("shop".into()),
            contexts: vec![kube::config::NamedContext {
                name: "shop".into(),
                context: Some(kube::config::Context {
                    cluster: "c".into(),
                    namespace: Some("team-00".into()),
                    ..Default::default()
                }),
                other: Default::default(),
            }],
            ..Default::default()
        };
        let c = Config::zero(Ok(kubeconfig));
        assert_eq!(c.environments[0].vars["namespace"], "team-00");
        let c = Config::zero(Ok(Default::default()));
        assert_eq!(c.environments[0].name, "local");
        assert_eq!(c.environments[0].cluster.label(), "no kubeconfig");
        let c = Config::zero(Err("KUBECONFIG is /nowhere, and no such file exists".into()));
        assert!(
            matches!(&c.environments[0].cluster, ClusterSource::NoKubeconfig(why) if why.contains("/nowhere"))
        );
    }

    #[test]
    fn relative_paths_follow_the_config_file() {
        let src = Source::new(
            "/srv/review/gonogo.toml",
            "state_dir = \"reviews\"\n[[environments]]\nname = \"prod\"\nsnapshot = \"rendered/prod.yaml\"\nvars = { replicas = 3 }\n",
        );
        let c = Config::parse(src).expect("valid config");
        assert_eq!(c.state_dir, Some(PathBuf::from("/srv/review/reviews")));
        let prod = c.environment("prod").expect("prod");
        assert_eq!(
            prod.cluster,
            ClusterSource::Snapshot(PathBuf::from("/srv/review/rendered/prod.yaml"))
        );
        assert_eq!(prod.vars.get("replicas").map(String::as_str), Some("3"));
    }

    #[test]
    fn a_context_and_a_snapshot_together_are_refused_at_the_snapshot() {
        let src = Source::new(
            "gonogo.toml",
            "[[environments]]\nname = \"prod\"\nkube_context = \"prod\"\nsnapshot = \"rendered/prod.yaml\"\n",
        );
        let e = Config::parse(src).expect_err("two sources");
        assert!(
            e.0[0].headline().starts_with(
                "gonogo.toml:4:12: error: environment `prod` sets both `kube_context` (prod) and `snapshot`"
            ),
            "{}",
            e.0[0].headline()
        );
    }

    #[test]
    fn the_state_table_picks_the_store() {
        let c = Config::parse(Source::new("gonogo.toml", "")).expect("empty config");
        assert_eq!(c.state, StateConfig::default());
        assert_eq!(c.state.store, StoreKind::Dir);
        let src = Source::new(
            "gonogo.toml",
            "[state]\nstore = \"kube\"\nnamespace = \"reviews\"\ncontext = \"ops\"\n",
        );
        let c = Config::parse(src).expect("valid config");
        assert_eq!(
            c.state,
            StateConfig {
                store: StoreKind::Kube,
                namespace: "reviews".into(),
                context: Some("ops".into()),
            }
        );
    }

    #[test]
    fn a_bad_state_table_is_refused_at_the_value() {
        let cases = [
            (
                "[state]\nstore = \"s3\"\n",
                "gonogo.toml:2:9: error: no store `s3`: `store` is \"dir\"",
            ),
            (
                "[state]\nstore = \"kube\"\nnamespace = \"Ops_Reviews\"\n",
                "gonogo.toml:3:13: error: `Ops_Reviews` is not a namespace name",
            ),
            (
                "[state]\ncontext = \" \"\n",
                "gonogo.toml:2:11: error: `context` names a kubeconfig context",
            ),
            (
                "[state]\nstore = \"kube\"\nnamespaec = \"x\"\n",
                "gonogo.toml:3:1: error: unknown field `namespaec`",
            ),
        ];
        for (text, expected) in cases {
            let e = Config::parse(Source::new("gonogo.toml", text)).expect_err(text);
            assert!(
                e.0[0].headline().starts_with(expected),
                "{text}: {}",
                e.0[0].headline()
            );
        }
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let src = Source::new("gonogo.toml", "builtin = true\nstate_dri = \"x\"\n");
        let e = Config::parse(src).expect_err("unknown key");
        assert!(
            e.0[0]
                .headline()
                .starts_with("gonogo.toml:2:1: error: unknown field `state_dri`"),
            "{}",
            e.0[0].headline()
        );
    }
}
