//! A review evaluated at one moment: every item's status with its evidence,
//! section verdicts, decisions and the critical path. `check` prints it as
//! text or JSON (DESIGN section 6); exports build on it.

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::checklist::model::{Checklist, ProbeKind, Severity};
use crate::ledger::LogState;
use crate::probe::Outcome;
use crate::review::roles::{self, Roles, Signatures, Upstream};
use crate::review::{self, Decision, SectionVerdict, Status};

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated_at: jiff::Timestamp,
    pub environment: String,
    pub decision: Decision,
    pub checklists: Vec<ChecklistReport>,
    /// Where kube objects came from: `snapshot …`, `context …`.
    pub cluster: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChecklistReport {
    pub id: String,
    pub title: String,
    pub version: String,
    /// The review's decision: its statuses', held back by the sign-offs
    /// its roles still owe (`signoff`).
    pub decision: Decision,
    /// With required roles: who signed for each and who is missing; also
    /// the latest sign-off and whether it went stale.
    #[serde(rename = "signoff", skip_serializing_if = "Signatures::unrequired")]
    pub signatures: Signatures,
    /// Where the review is promoted from, what that environment's sign-offs
    /// say of this checklist.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream: Option<Upstream>,
    pub sections: Vec<SectionReport>,
    /// Open blockers and highs, dependencies first.
    pub critical_path: Vec<String>,
    pub counts: Counts,
}

impl ChecklistReport {
    pub fn items(&self) -> impl Iterator<Item = &ItemReport> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    /// The ids of the blockers still open: what makes the review NO-GO.
    pub fn open_blockers(&self) -> impl Iterator<Item = &str> {
        self.items()
            .filter(|i| i.severity == Severity::Blocker && i.status.is_open())
            .map(|i| i.id.as_str())
    }

    /// What a sign-off of this checklist records: the decision, the open
    /// blockers, the counts and each item's status. The one place these
    /// are computed, for the command line and the dashboard.
    pub fn signoff_facts(&self) -> crate::review::SignoffFacts {
        crate::review::SignoffFacts {
            computed: self.signatures.status_decision,
            version: (!self.version.is_empty()).then(|| self.version.clone()),
            upstream: self.upstream.clone(),
            open_blockers: self.open_blockers().map(str::to_string).collect(),
            counts: crate::review::status_counts(self.items().map(|i| i.status)),
            items: self
                .items()
                .map(|i| (i.id.clone(), i.status.as_str().to_string()))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionReport {
    pub id: String,
    pub title: String,
    pub verdict: SectionVerdict,
    pub items: Vec<ItemReport>,
    pub counts: Counts,
}

/// One item's status in one environment, with the outcome that decided it.
#[derive(Debug, Clone)]
pub struct ItemReport {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    /// The probe kind; `None` for a manual item.
    pub kind: Option<ProbeKind>,
    pub summary: String,
    /// The probe's latest outcome, also when a waiver decides the status.
    pub outcome: Option<Outcome>,
    pub expired_waiver: bool,
    pub depends_on: Vec<String>,
}

impl ItemReport {
    /// `manual`, or the probe kind, as reports and the screen name it.
    pub fn kind_name(&self) -> &'static str {
        self.kind.map_or("manual", ProbeKind::as_str)
    }

    /// The probe's own summary.
    pub fn evidence(&self) -> Option<&str> {
        self.outcome.as_ref().map(|o| o.evidence.summary.as_str())
    }

    pub fn checked_at(&self) -> Option<jiff::Timestamp> {
        self.outcome.as_ref().map(|o| o.evidence.taken_at)
    }

    pub fn duration_ms(&self) -> Option<u64> {
        self.outcome
            .as_ref()
            .map(|o| o.evidence.duration.as_millis() as u64)
    }

    /// The outcome's structured detail, when it has any.
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.outcome
            .as_ref()
            .map(|o| &o.evidence.detail)
            .filter(|d| d.as_object().is_some_and(|o| !o.is_empty()))
    }
}

impl Serialize for ItemReport {
    /// The shape DESIGN section 6 documents: the outcome's facts as fields
    /// of the item.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            id: &'a str,
            title: &'a str,
            severity: Severity,
            status: Status,
            kind: &'a str,
            summary: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            evidence: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            checked_at: Option<jiff::Timestamp>,
            #[serde(skip_serializing_if = "Option::is_none")]
            duration_ms: Option<u64>,
            #[serde(skip_serializing_if = "std::ops::Not::not")]
            expired_waiver: bool,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            depends_on: &'a [String],
            #[serde(skip_serializing_if = "Option::is_none")]
            detail: Option<&'a serde_json::Value>,
        }
        Wire {
            id: &self.id,
            title: &self.title,
            severity: self.severity,
            status: self.status,
            kind: self.kind_name(),
            summary: &self.summary,
            evidence: self.evidence(),
            checked_at: self.checked_at(),
            duration_ms: self.duration_ms(),
            expired_waiver: self.expired_waiver,
            depends_on: &self.depends_on,
            detail: self.detail(),
        }
        .serialize(serializer)
    }
}

/// How many items are in each status.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    pub pass: usize,
    pub fail: usize,
    pub error: usize,
    pub pending: usize,
    pub done: usize,
    pub waived: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn add(&mut self, s: Status) {
        *match s {
            Status::Pass => &mut self.pass,
            Status::Fail => &mut self.fail,
            Status::Error => &mut self.error,
            Status::Pending => &mut self.pending,
            Status::Done => &mut self.done,
            Status::Waived => &mut self.waived,
            Status::Skipped => &mut self.skipped,
        } += 1;
    }
    pub fn merge(&mut self, other: &Counts) {
        for s in Status::ALL {
            for _ in 0..other.get(s) {
                self.add(s);
            }
        }
    }
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Pass => self.pass,
            Status::Fail => self.fail,
            Status::Error => self.error,
            Status::Pending => self.pending,
            Status::Done => self.done,
            Status::Waived => self.waived,
            Status::Skipped => self.skipped,
        }
    }
    pub fn open(&self) -> usize {
        self.fail + self.error + self.pending
    }
}

/// Evaluates one checklist in `env`; `roles` is the config's `[roles]`.
/// The upstream review, when there is one, is the caller's to add
/// ([`ChecklistReport::upstream`]).
pub fn checklist_report(
    checklist: &Checklist,
    env: &str,
    state: &LogState,
    outcomes: &HashMap<String, Outcome>,
    roles: &Roles,
    now: jiff::Timestamp,
) -> ChecklistReport {
    let mut statuses: HashMap<&str, Status> = HashMap::new();
    let mut sections = Vec::new();
    let mut total = Counts::default();
    for section in &checklist.sections {
        let mut items = Vec::new();
        let mut counts = Counts::default();
        for item in &section.items {
            let outcome = outcomes.get(&item.id);
            let st = review::item_status(item, env, state, outcome, now);
            statuses.insert(item.id.as_str(), st.status);
            counts.add(st.status);
            items.push(ItemReport {
                id: item.id.clone(),
                title: item.title.clone(),
                severity: item.severity,
                status: st.status,
                kind: item.probe.as_ref().map(|p| p.kind()),
                summary: summary(item, env, st.status, state, outcome),
                outcome: outcome.cloned(),
                expired_waiver: st.expired_waiver,
                depends_on: item.depends_on.clone(),
            });
        }
        let verdict = review::verdict(items.iter().map(|i| (i.severity, i.status)));
        total.merge(&counts);
        sections.push(SectionReport {
            id: section.id.clone(),
            title: section.title.clone(),
            verdict,
            items,
            counts,
        });
    }
    let status_decision = review::decision(sections.iter().map(|s| s.verdict));
    let today: crate::ledger::event::ItemStatuses = sections
        .iter()
        .flat_map(|s| &s.items)
        .map(|i| (i.id.clone(), i.status.as_str().to_string()))
        .collect();
    let signatures = roles::signatures(
        &checklist.signoff_roles,
        roles,
        state,
        Some(&today),
        &checklist.version,
        status_decision,
    );
    let critical_path = review::critical_path(checklist, &statuses)
        .into_iter()
        .map(|i| i.id.clone())
        .collect();
    ChecklistReport {
        id: checklist.id.clone(),
        title: checklist.title.clone(),
        version: checklist.version.clone(),
        decision: signatures.decision(),
        signatures,
        upstream: None,
        sections,
        critical_path,
        counts: total,
    }
}

/// The one line shown next to an item: the probe's evidence, or what people
/// decided.
fn summary(
    item: &crate::checklist::Item,
    env: &str,
    status: Status,
    state: &LogState,
    outcome: Option<&Outcome>,
) -> String {
    match status {
        Status::Skipped => format!("not part of {env}"),
        Status::Waived => {
            let w = state.waiver(&item.id);
            let until = w
                .and_then(|w| w.until)
                .map(|d| format!(" until {d}"))
                .unwrap_or_default();
            let by = w.map(|w| w.by.as_str()).unwrap_or("?");
            let reason = w.map(|w| w.reason.as_str()).unwrap_or("");
            crate::text::sanitize(&format!("waived by {by}{until}: {reason}"), false)
        }
        Status::Done => {
            let t = state.tick(&item.id);
            let by = t.map(|t| t.by.as_str()).unwrap_or("?");
            crate::text::sanitize(&format!("ticked by {by}"), false)
        }
        Status::Pending if item.is_manual() => "waiting for a person to tick it".into(),
        Status::Pending => "not checked yet".into(),
        _ => outcome
            .map(|o| o.evidence.summary.clone())
            .unwrap_or_default(),
    }
}

impl Report {
    pub fn new(
        environment: &str,
        cluster: String,
        checklists: Vec<ChecklistReport>,
        now: jiff::Timestamp,
    ) -> Report {
        let decision = review::decision(checklists.iter().map(|c| match c.decision {
            Decision::Go => SectionVerdict::Ready,
            Decision::GoWithConditions => SectionVerdict::Conditional,
            Decision::NoGo => SectionVerdict::NotReady,
        }));
        Report {
            generated_at: now,
            environment: environment.to_string(),
            decision,
            cluster,
            checklists,
        }
    }

    /// Whether an open item has `fail_on` severity or worse, or (with any
    /// threshold) a checklist's required sign-offs hold it at NO-GO: a
    /// role still to sign, or a role holder's no-go.
    pub fn gate_fails(&self, fail_on: Option<Severity>) -> bool {
        let Some(threshold) = fail_on else {
            return false;
        };
        let unsigned = self
            .checklists
            .iter()
            .any(|c| c.signatures.required() && c.decision == Decision::NoGo);
        unsigned
            || self
                .items()
                .any(|i| i.status.is_open() && i.severity.at_least(threshold))
    }

    pub fn items(&self) -> impl Iterator<Item = &ItemReport> {
        self.checklists
            .iter()
            .flat_map(|c| c.sections.iter().flat_map(|s| s.items.iter()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes: plain data")
    }

    /// The compact report for CI logs: one line per item, grouped by section,
    /// the decision last.
    pub fn to_text(&self, ascii: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "gonogo check: environment {} ({})",
            self.environment, self.cluster
        );
        // An error that many items share (no cluster, an unreachable API
        // server) is said once, up front, rather than on every line.
        let mut shared: Vec<(&str, usize)> = Vec::new();
        for i in self.items().filter(|i| i.status == Status::Error) {
            match shared.iter_mut().find(|(s, _)| *s == i.summary) {
                Some((_, n)) => *n += 1,
                None => shared.push((&i.summary, 1)),
            }
        }
        shared.retain(|(_, n)| *n >= SHARED_ERROR);
        let numbered = shared.len() > 1;
        for (k, (summary, n)) in shared.iter().enumerate() {
            let mark = if numbered {
                format!("[{}] ", k + 1)
            } else {
                String::new()
            };
            let _ = writeln!(
                out,
                "{} {mark}{n} items could not be checked: {summary}",
                glyph(Status::Error, ascii)
            );
        }
        let said_above = |summary: &str| {
            shared.iter().position(|(s, _)| *s == summary).map(|k| {
                if numbered {
                    format!("not checked: see [{}] above", k + 1)
                } else {
                    "not checked: see above".to_string()
                }
            })
        };
        for c in &self.checklists {
            let _ = writeln!(out);
            let version = if c.version.is_empty() {
                String::new()
            } else {
                format!(" (version {})", c.version)
            };
            let dash = if ascii { "-" } else { "—" };
            let _ = writeln!(out, "{} {dash} {}{}", c.id, c.title, version);
            for s in &c.sections {
                let _ = writeln!(
                    out,
                    "  {} [{}] {}/{} closed",
                    s.title,
                    s.verdict.label(),
                    s.items.len() - s.counts.open(),
                    s.items.len()
                );
                for i in &s.items {
                    let _ = writeln!(
                        out,
                        "    {} {:<7} {:<7} {:<32} {}",
                        glyph(i.status, ascii),
                        i.status.as_str(),
                        i.severity.as_str(),
                        crate::text::truncate(&i.id, 32),
                        match i.status {
                            Status::Error => said_above(&i.summary),
                            _ => None,
                        }
                        .as_deref()
                        .unwrap_or(&i.summary)
                    );
                }
            }
            if !c.critical_path.is_empty() {
                let _ = writeln!(out, "  critical path: {}", c.critical_path.join(" -> "));
            }
            if c.signatures.required() {
                let seats: Vec<String> = c
                    .signatures
                    .roles
                    .iter()
                    .map(|seat| match &seat.signer {
                        Some(s) => format!("{} by {} ({})", seat.role, s.by, s.decision),
                        None => format!(
                            "{} missing (may sign: {})",
                            seat.role,
                            seat.missing.join(", ")
                        ),
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "  sign-offs: {}",
                    crate::text::sanitize(&seats.join("; "), false)
                );
                for v in &c.signatures.vetoes {
                    let _ = writeln!(
                        out,
                        "  no-go signed by {}",
                        crate::text::sanitize(&v.by, false)
                    );
                }
            }
            if let Some(up) = &c.upstream {
                let _ = writeln!(
                    out,
                    "  promoted from: {}",
                    crate::text::sanitize(&up.label(), false)
                );
            }
            let _ = writeln!(out, "  {}: {}", c.id, c.decision.label());
        }
        let mut totals = Counts::default();
        for c in &self.checklists {
            totals.merge(&c.counts);
        }
        let _ = writeln!(out);
        let counts: Vec<String> = Status::ALL
            .iter()
            .filter(|s| totals.get(**s) > 0)
            .map(|s| format!("{} {}", totals.get(*s), s.as_str()))
            .collect();
        let _ = writeln!(out, "{}", counts.join(", "));
        let _ = writeln!(out, "decision: {}", self.decision.label());
        out
    }
}

/// How many items must share one error before `check`'s text says it once
/// at the top instead of on each line.
const SHARED_ERROR: usize = 3;

/// The status marker used in text output; ASCII for old terminals and logs.
pub fn glyph(status: Status, ascii: bool) -> &'static str {
    match (status, ascii) {
        (Status::Pass, false) => "✔",
        (Status::Done, false) => "✔",
        (Status::Fail, false) => "✘",
        (Status::Error, false) => "!",
        (Status::Pending, false) => "…",
        (Status::Waived, false) => "~",
        (Status::Skipped, false) => "-",
        (Status::Pass | Status::Done, true) => "+",
        (Status::Fail, true) => "x",
        (Status::Error, true) => "!",
        (Status::Pending, true) => ".",
        (Status::Waived, true) => "~",
        (Status::Skipped, true) => "-",
    }
}
