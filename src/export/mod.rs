//! The sign-off document: a review evaluated for one or more environments,
//! with what people decided and a proof of what was signed, rendered as
//! Markdown, JSON or JUnit XML (DESIGN section 8), or as SARIF for code
//! scanning.

pub mod json;
pub mod junit;
pub mod markdown;
pub mod sarif;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ledger::{Event, EventKind, LogState, LogView, Note, Signoff, Tick, Waiver};
use crate::report::{ChecklistReport, Report};
use crate::review::Status;

/// Everything a sign-off document shows.
#[derive(Debug, Clone, Serialize)]
pub struct Document {
    pub generated_at: jiff::Timestamp,
    pub generator: String,
    /// One per environment, in the order asked for.
    pub environments: Vec<EnvironmentDoc>,
}

impl Document {
    /// A document made now by this version of gonogo.
    pub fn new(environments: Vec<EnvironmentDoc>, now: jiff::Timestamp) -> Document {
        Document {
            generated_at: now,
            generator: format!("gonogo {}", env!("CARGO_PKG_VERSION")),
            environments,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvironmentDoc {
    pub report: Report,
    /// By checklist id: the people side of the review and its audit trail.
    pub logs: BTreeMap<String, LogDoc>,
}

/// What the sign-off log of one (checklist, environment) holds.
#[derive(Debug, Clone, Serialize, Default)]
pub struct LogDoc {
    /// Where the log lives: a file's path, or where its event objects are.
    pub path: String,
    /// The command that re-hashes it.
    pub verify: String,
    pub events: u64,
    pub head: String,
    /// Problems found when reading it (tampering): shown loudly.
    pub problems: Vec<String>,
    /// The log's own records, as it folded them.
    pub signoffs: Vec<Signoff>,
    /// Per item: notes newest first.
    pub notes: BTreeMap<String, Vec<Note>>,
    pub waivers: BTreeMap<String, WaiverDoc>,
    pub ticks: BTreeMap<String, Tick>,
    /// What changed since the latest sign-off; `None` when never signed.
    pub since_signoff: Option<Changes>,
}

/// A waiver as the log holds it, and whether it has lapsed by the time of
/// the document.
#[derive(Debug, Clone, Serialize)]
pub struct WaiverDoc {
    #[serde(flatten)]
    pub waiver: Waiver,
    pub expired: bool,
}

/// Changes since a sign-off: status moves and what people recorded.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Changes {
    pub signoff_seq: u64,
    pub signoff_at: Option<jiff::Timestamp>,
    /// `(item, from, to)`; only when the sign-off recorded item statuses.
    pub status_changes: Vec<StatusChange>,
    /// Events recorded after the sign-off, oldest first.
    pub events: Vec<ChangeEvent>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub item: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeEvent {
    pub seq: u64,
    pub at: jiff::Timestamp,
    pub by: String,
    pub kind: String,
    pub item: Option<String>,
    pub text: String,
}

/// Collects the people side of one checklist's review from its log.
/// `log` is what was read: the folded state, how many events, the head hash
/// and any tampering found; `events` the events themselves.
pub fn log_doc(
    path: &str,
    log: &LogView,
    events: &[Event],
    report: &ChecklistReport,
    now: jiff::Timestamp,
) -> LogDoc {
    let state = &log.state;
    let mut doc = LogDoc {
        path: path.to_string(),
        verify: format!("gonogo log --verify {}", crate::text::shell_word(path)),
        events: log.events,
        head: log.head.clone(),
        problems: log.problems.clone(),
        signoffs: state.signoffs.clone(),
        ..LogDoc::default()
    };
    fill_people(&mut doc, state, now);
    doc.since_signoff = state
        .latest_signoff()
        .map(|s| changes_since(s, events, report));
    doc
}

fn fill_people(doc: &mut LogDoc, state: &LogState, now: jiff::Timestamp) {
    for (item, notes) in &state.notes {
        doc.notes
            .insert(item.clone(), notes.iter().cloned().collect());
    }
    for (item, w) in &state.waivers {
        doc.waivers.insert(
            item.clone(),
            WaiverDoc {
                waiver: w.clone(),
                expired: !w.is_live(now),
            },
        );
    }
    for (item, t) in &state.ticks {
        doc.ticks.insert(item.clone(), t.clone());
    }
}

fn changes_since(signoff: &Signoff, events: &[Event], report: &ChecklistReport) -> Changes {
    let mut status_changes = Vec::new();
    for item in report.sections.iter().flat_map(|s| s.items.iter()) {
        if let Some(from) = signoff.items.get(&item.id)
            && from != item.status.as_str()
        {
            status_changes.push(StatusChange {
                item: item.id.clone(),
                from: from.clone(),
                to: item.status.as_str().to_string(),
            });
        }
    }
    let events = events
        .iter()
        .filter(|e| e.seq > signoff.seq)
        .map(|e| ChangeEvent {
            seq: e.seq,
            at: e.at,
            by: e.by.clone(),
            kind: e.kind.name().to_string(),
            item: e.item().map(str::to_string),
            text: match &e.kind {
                EventKind::Note { text, .. } => text.clone(),
                EventKind::Waive { reason, until, .. } => match until {
                    Some(d) => format!("{reason} (until {d})"),
                    None => reason.clone(),
                },
                EventKind::Signoff { decision, note, .. } => match note {
                    Some(n) => format!("{decision}: {n}"),
                    None => decision.to_string(),
                },
                _ => String::new(),
            },
        })
        .collect();
    Changes {
        signoff_seq: signoff.seq,
        signoff_at: Some(signoff.at),
        status_changes,
        events,
    }
}

/// Whether a status counts as closed in a document's task list.
pub fn is_checked(status: Status) -> bool {
    !status.is_open()
}

/// The file name `e` in the TUI writes: `<checklist>-<env>-<date>.md`.
pub fn default_file_name(checklist: &str, env: &str, now: jiff::Timestamp) -> String {
    format!("{checklist}-{env}-{}.md", now.strftime("%Y-%m-%d"))
}

/// Writes `text` to `path` atomically: a temp file in the same folder, then a
/// rename, so a reader never sees half a document.
pub fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "export".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
