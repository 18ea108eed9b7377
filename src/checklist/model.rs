//! The checklist as loaded: sections, items and probe specs with every
//! `{{ var }}` still in place. `resolve` turns a probe spec into the concrete
//! one for an environment.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cluster::selector::{FieldSelector, LabelSelector};
use crate::diag::Source;

#[derive(Debug, Clone)]
pub struct Checklist {
    pub id: String,
    pub title: String,
    pub version: String,
    pub description: String,
    pub vars: BTreeMap<String, String>,
    pub sections: Vec<Section>,
    /// `signoff = { roles = [...] }`: the roles that must sign it off (the
    /// config's `[roles]` says who holds them), in order; empty when any
    /// sign-off will do.
    pub signoff_roles: Vec<String>,
    /// Where each of `signoff_roles` is written, for errors.
    pub signoff_spans: Vec<std::ops::Range<usize>>,
    /// Where it came from; bundled checklists have a `<builtin>/…` path.
    pub source: Source,
    pub builtin: bool,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub help: String,
    pub links: Vec<String>,
    /// `None`: applies to every environment.
    pub envs: Option<Vec<String>>,
    pub depends_on: Vec<String>,
    /// Manual items only: ticking requires a note.
    pub evidence: bool,
    pub probe: Option<ProbeTemplate>,
    /// The 1-based line of its `id` in the checklist file, for a report
    /// that points at where the item is written; `None` for an item made
    /// in code.
    pub line: Option<u32>,
}

impl Item {
    pub fn applies_to(&self, env: &str) -> bool {
        self.envs
            .as_ref()
            .is_none_or(|envs| envs.iter().any(|e| e == env))
    }

    pub fn is_manual(&self) -> bool {
        self.probe.is_none()
    }
}

impl Checklist {
    pub fn items(&self) -> impl Iterator<Item = (&Section, &Item)> {
        self.sections
            .iter()
            .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    }

    pub fn item(&self, id: &str) -> Option<&Item> {
        self.items().map(|(_, i)| i).find(|i| i.id == id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    // Ordered most severe first, so `a < b` means a is worse.
    Blocker,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Blocker,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Blocker => "blocker",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// At least as severe as `other`.
    pub fn at_least(self, other: Severity) -> bool {
        self <= other
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A probe as written in the checklist: string fields may hold `{{ var }}`
/// and `${env:NAME}`. `checklist::resolve` turns it into a `Probe` for one
/// environment.
#[derive(Debug, Clone)]
pub struct ProbeTemplate {
    pub kind: ProbeKind,
    pub raw: crate::checklist::parse::RawProbe,
}

impl ProbeTemplate {
    pub fn kind(&self) -> ProbeKind {
        self.kind
    }
}

/// A probe made concrete for one environment, ready to run.
#[derive(Debug, Clone)]
pub struct Probe {
    pub spec: ProbeSpec,
    pub every: Duration,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    Kube,
    Http,
    Tls,
    File,
    Promql,
    Command,
}

impl ProbeKind {
    pub const ALL: [ProbeKind; 6] = [
        ProbeKind::Kube,
        ProbeKind::Http,
        ProbeKind::Tls,
        ProbeKind::File,
        ProbeKind::Promql,
        ProbeKind::Command,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Kube => "kube",
            ProbeKind::Http => "http",
            ProbeKind::Tls => "tls",
            ProbeKind::File => "file",
            ProbeKind::Promql => "promql",
            ProbeKind::Command => "command",
        }
    }

    pub fn parse(s: &str) -> Option<ProbeKind> {
        ProbeKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One probe's concrete settings for one environment. Strings are final apart
/// from `${env:NAME}`, which is read at probe time (see `probe::secret_env`)
/// and never shown.
#[derive(Debug, Clone)]
pub enum ProbeSpec {
    Kube(KubeProbe),
    Http(HttpProbe),
    Tls(TlsProbe),
    File(FileProbe),
    Promql(PromqlProbe),
    Command(CommandProbe),
}

impl ProbeSpec {
    pub fn kind(&self) -> ProbeKind {
        match self {
            ProbeSpec::Kube(_) => ProbeKind::Kube,
            ProbeSpec::Http(_) => ProbeKind::Http,
            ProbeSpec::Tls(_) => ProbeKind::Tls,
            ProbeSpec::File(_) => ProbeKind::File,
            ProbeSpec::Promql(_) => ProbeKind::Promql,
            ProbeSpec::Command(_) => ProbeKind::Command,
        }
    }

    pub fn expect(&self) -> Option<&Expect> {
        match self {
            ProbeSpec::Kube(p) => p.expect.as_ref(),
            ProbeSpec::Http(p) => p.expect.as_ref(),
            ProbeSpec::Tls(p) => p.expect.as_ref(),
            ProbeSpec::File(p) => p.expect.as_ref(),
            ProbeSpec::Promql(p) => p.expect.as_ref(),
            ProbeSpec::Command(p) => p.expect.as_ref(),
        }
    }
}

/// A CEL expression, compiled once when the checklist is resolved for an
/// environment (so a syntax error is a load error).
#[derive(Clone)]
pub struct Expect {
    pub source: String,
    pub program: Arc<cel::Program>,
    /// The program's expression with the evaluation meter's calls in it
    /// (`probe::cel::meter::guard`): what is evaluated; `program` is what
    /// is read (the names, the paths, the explanation's shape).
    pub guarded: Arc<cel::IdedExpr>,
    /// What of each variable the expression reads, and how it is bound:
    /// as a view over the JSON, or (for the few expressions that compare
    /// built lists or maps with data) converted, only the fields it names
    /// (see `probe::cel::Reads`).
    pub reads: Arc<crate::probe::cel::Reads>,
    /// Unique to this compilation (clones share it): the key under which an
    /// object remembers what this expression said of it.
    pub id: u32,
}

impl Expect {
    /// A fresh `id` for a newly compiled expression.
    pub fn next_id() -> u32 {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

impl fmt::Debug for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expect({:?})", self.source)
    }
}

/// `[group/]version/Kind`, as in `apps/v1/Deployment` or `v1/Secret`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl ResourceType {
    pub fn parse(s: &str) -> Option<ResourceType> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &&str| !p.is_empty() && !p.contains(char::is_whitespace);
        if !parts.iter().all(valid) {
            return None;
        }
        let (group, version, kind) = match parts.as_slice() {
            [version, kind] => ("", *version, *kind),
            [group, version, kind] => (*group, *version, *kind),
            _ => return None,
        };
        if !kind.starts_with(|c: char| c.is_ascii_uppercase()) {
            return None;
        }
        Some(ResourceType {
            group: group.to_string(),
            version: version.to_string(),
            kind: kind.to_string(),
        })
    }

    /// `apps/v1` or `v1`, as in an object's `apiVersion`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.api_version(), self.kind)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quantifier {
    #[default]
    All,
    Any,
    None,
}

#[derive(Debug, Clone)]
pub struct KubeProbe {
    pub resource: ResourceType,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// Parsed at load; empty selects everything.
    pub selector: LabelSelector,
    pub field_selector: FieldSelector,
    pub expect: Option<Expect>,
    pub quantifier: Quantifier,
    pub min: u64,
    pub max: Option<u64>,
}

impl KubeProbe {
    /// How many objects must match when a checklist does not say.
    pub const DEFAULT_MIN: u64 = 1;

    /// A probe over every object of `resource`, as a checklist entry naming
    /// only the resource means it: at least one must exist.
    pub fn of(resource: ResourceType) -> KubeProbe {
        KubeProbe {
            resource,
            namespace: None,
            name: None,
            selector: LabelSelector::default(),
            field_selector: FieldSelector::default(),
            expect: None,
            quantifier: Quantifier::All,
            min: Self::DEFAULT_MIN,
            max: None,
        }
    }
}

/// Which HTTP statuses count as success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusMatch {
    /// Exactly these codes.
    Codes(Vec<u16>),
    /// A class such as `2xx` (the digit is stored: 2).
    Class(u16),
}

impl StatusMatch {
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusMatch::Codes(codes) => codes.contains(&status),
            StatusMatch::Class(class) => status / 100 == *class,
        }
    }
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatch::Codes(codes) => {
                let list: Vec<String> = codes.iter().map(u16::to_string).collect();
                f.write_str(&list.join(" or "))
            }
            StatusMatch::Class(c) => write!(f, "{c}xx"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct HttpProbe {
    pub url: String,
    pub method: String,
    /// Header values may hold `${env:NAME}`.
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
    /// `None` means 2xx.
    pub status: Option<StatusMatch>,
    pub expect: Option<Expect>,
    /// 1 = a single request; more = latency percentiles and error rate.
    pub samples: u32,
    pub follow_redirects: bool,
    pub insecure: bool,
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone)]
pub struct TlsProbe {
    pub host: String,
    pub port: u16,
    pub server_name: Option<String>,
    pub ca_file: Option<std::path::PathBuf>,
    pub min_days: i64,
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone)]
pub struct FileProbe {
    pub root: std::path::PathBuf,
    pub glob: Vec<String>,
    pub exclude: Vec<String>,
    pub pattern: Option<regex::Regex>,
    pub matches: Option<u64>,
    pub min_matches: Option<u64>,
    pub max_matches: Option<u64>,
    pub min_files: u64,
    pub skip_comments: Option<String>,
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone)]
pub struct PromqlProbe {
    pub url: String,
    pub query: String,
    pub expect: Option<Expect>,
}

#[derive(Debug, Clone)]
pub struct CommandProbe {
    pub argv: Vec<String>,
    pub cwd: Option<std::path::PathBuf>,
    pub exit: i32,
    pub expect: Option<Expect>,
}
