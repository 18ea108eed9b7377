//! Probes: what machines check. Each kind lives in its own module and ends in
//! exactly one `Outcome` (pass, fail or error) carrying its `Evidence`.

pub mod cel;
pub mod command;
pub mod drill;
pub mod explain;
pub mod file;
pub mod http;
pub mod kube;
pub mod names;
pub mod promql;
pub mod redact;
pub mod tls;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::checklist::model::ProbeSpec;
use crate::cluster::ObjectSource;

/// How a probe run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It ran and the expectation held.
    Pass,
    /// It ran and the expectation did not hold; the summary says which part.
    Fail,
    /// It could not run: unreachable, timeout, forbidden, bad TLS.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Error => "error",
        }
    }
}

/// The result of one probe run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub verdict: Verdict,
    pub evidence: Evidence,
}

/// What a probe saw: a one-line summary for lists and structured detail for
/// the detail view and the export. Never holds a secret value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub summary: String,
    /// Structured facts: response headers, certificate fields, the failing
    /// objects with the reason for each. Always a JSON object.
    pub detail: serde_json::Value,
    pub taken_at: jiff::Timestamp,
    #[serde(with = "duration_ms")]
    pub duration: Duration,
}

impl Outcome {
    pub fn pass(summary: impl Into<String>, detail: serde_json::Value) -> Self {
        Outcome::new(Verdict::Pass, summary, detail)
    }
    pub fn fail(summary: impl Into<String>, detail: serde_json::Value) -> Self {
        Outcome::new(Verdict::Fail, summary, detail)
    }
    pub fn error(summary: impl Into<String>) -> Self {
        Outcome::new(Verdict::Error, summary, serde_json::json!({}))
    }

    /// `taken_at` is now and `duration` zero; `run` sets the real duration.
    pub fn new(verdict: Verdict, summary: impl Into<String>, detail: serde_json::Value) -> Self {
        Outcome {
            verdict,
            evidence: Evidence {
                summary: crate::text::sanitize(&summary.into(), false),
                detail,
                taken_at: jiff::Timestamp::now(),
                duration: Duration::ZERO,
            },
        }
    }
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// What a probe may use besides its own spec.
#[derive(Clone)]
pub struct ProbeContext {
    /// Where Kubernetes objects come from for this environment.
    pub cluster: Arc<dyn ObjectSource>,
    /// `command` probes run only when this is set (`--allow-exec` or a trust
    /// entry for the checklist in the config).
    pub allow_exec: bool,
    /// Relative `root`, `cwd` and `ca_file` paths resolve against this (the
    /// folder of the config file, or the current directory).
    pub base_dir: PathBuf,
}

/// What a probe keeps from one run to the next to do less work: a kube
/// probe over a followed cluster keeps its tally of the objects out of line.
#[derive(Default)]
pub struct Carry {
    kube: Option<kube::Tally>,
    /// How many objects of a first list this probe has judged early.
    arrived: usize,
}

/// Work a probe can do before its first run: a kube probe judges the
/// objects of a first list as its pages arrive, so that the run after the
/// last page has little left to do.
pub async fn prepare(spec: &ProbeSpec, ctx: &ProbeContext, carry: &mut Carry) {
    if let ProbeSpec::Kube(p) = spec {
        kube::prepare(p, ctx.cluster.as_ref(), &mut carry.arrived).await;
    }
}

/// Runs one probe to its outcome, with the timeout applied and the duration
/// recorded. Never panics out: a panic inside a probe becomes an `error`.
pub async fn run(spec: &ProbeSpec, ctx: &ProbeContext, timeout: Duration) -> Outcome {
    run_carrying(spec, ctx, timeout, &mut Carry::default()).await
}

/// `run`, for a probe that runs again and again: `carry` is what the last
/// run left.
pub async fn run_carrying(
    spec: &ProbeSpec,
    ctx: &ProbeContext,
    timeout: Duration,
    carry: &mut Carry,
) -> Outcome {
    let started = std::time::Instant::now();
    // The timeout also stops CEL evaluations, which are synchronous work
    // the timer below cannot interrupt.
    let fut = cel::meter::until(started + timeout, run_kind(spec, ctx, carry));
    let mut outcome = match tokio::time::timeout(timeout, fut).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::error(format!("timed out after {}", humanize(timeout))),
    };
    outcome.evidence.duration = started.elapsed();
    outcome
}

async fn run_kind(spec: &ProbeSpec, ctx: &ProbeContext, carry: &mut Carry) -> Outcome {
    match spec {
        ProbeSpec::Kube(p) => kube::run_tallied(p, ctx.cluster.as_ref(), &mut carry.kube).await,
        ProbeSpec::Http(p) => http::run(p, &ctx.base_dir).await,
        ProbeSpec::Tls(p) => tls::run(p, &ctx.base_dir).await,
        ProbeSpec::File(p) => file::run(p, &ctx.base_dir).await,
        ProbeSpec::Promql(p) => promql::run(p).await,
        ProbeSpec::Command(p) => command::run(p, &ctx.base_dir, ctx.allow_exec).await,
    }
}

/// `10s`, `1m30s`, `250ms`: how durations are shown to people.
pub fn humanize(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let secs = d.as_secs();
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 if secs.is_multiple_of(60) => format!("{}m", secs / 60),
        60..=3599 => format!("{}m{}s", secs / 60, secs % 60),
        _ if secs.is_multiple_of(3600) => format!("{}h", secs / 3600),
        _ => format!("{}h{}m", secs / 3600, (secs % 3600) / 60),
    }
}

/// Expands `${env:NAME}` in `value` from the process environment. Used for
/// header values and URLs at probe time; the expanded text must never be put
/// into evidence (use the unexpanded template there).
pub fn secret_env(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 6..];
        let Some(end) = after.find('}') else {
            return Err("unterminated `${env:`".into());
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
