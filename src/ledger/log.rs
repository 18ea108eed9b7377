//! The log of one review, wherever it is kept: the [`Store`] trait that the
//! dir store (one file per review, `dir.rs`) and the kube store (one
//! ConfigMap per event, `kube.rs`) implement, and what they share: the
//! errors, the state read from a log ([`Loaded`]), what a refresh or a
//! verification found, and how new events are cleaned and chained.
//!
//! Checking policy, for both: every load and verify re-hashes every event,
//! so tampering is always seen when a session starts; a refresh checks
//! only what came after what it already checked, once it has made sure
//! that part is as it was.

use std::fmt;
use std::io;
use std::path::PathBuf;

use super::event::{Event, EventKind, Signer, parse_line};
use super::scan::{Chain, Cursor, Findings, Problem, Warning, WarningKind};
use super::state::LogState;
use super::watch::{WatchError, WatchGuard};
use crate::text::sanitize;

#[derive(Debug)]
pub enum LedgerError {
    /// A checklist id or environment name the store cannot use in a name.
    BadName { what: &'static str, name: String },
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    /// Another session held the log for longer than an append should take.
    Busy { log: String },
    /// The log has been edited, cut or reordered: appends are refused.
    Tampered { log: String, problem: Problem },
    /// The log's head was not the one the caller decided on.
    HeadMoved { expected: String, found: String },
    /// Another writer appended between the events of one change (only a
    /// store without a lock over several events can say this): `written`
    /// went in, the rest did not.
    PartlyWritten { written: Vec<Event>, found: String },
    /// The store cannot be reached, or refuses us: nothing was written.
    Unavailable { log: String, reason: String },
    /// An event that cannot be written (no operator, no item, unknown kind).
    Invalid(String),
}

impl fmt::Display for LedgerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerError::BadName { what, name } => {
                write!(f, "{what} {name:?} cannot be used to name a log")
            }
            LedgerError::Io {
                action,
                path,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            LedgerError::Busy { log } => write!(
                f,
                "{log} is being written by another session and stayed busy for too long"
            ),
            LedgerError::Tampered { log, problem } => write!(
                f,
                "{log} has been altered ({problem}); nothing more is written to it until it is restored"
            ),
            LedgerError::HeadMoved { expected, found } => write!(
                f,
                "the log changed since it was read (head {} is now {}): reload and decide again",
                short(expected),
                short(found)
            ),
            LedgerError::PartlyWritten { written, found } => write!(
                f,
                "another session appended while this change was written: {} of its events went in, \
                 the rest did not (head is now {})",
                written.len(),
                short(found)
            ),
            LedgerError::Unavailable { log, reason } => write!(f, "cannot use {log}: {reason}"),
            LedgerError::Invalid(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for LedgerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LedgerError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn short(hash: &str) -> &str {
    if hash.is_empty() {
        "(empty log)"
    } else {
        hash.get(..12).unwrap_or(hash)
    }
}

/// Whether the store answers: what the dashboard's header shows beside the
/// review. A dir store is always `Ok`; its errors come with each call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Health {
    #[default]
    Ok,
    /// The last request failed: the API server cannot be reached, or it
    /// refused the credentials or the request (the reason says which).
    Unreachable(String),
}

/// Where one review's log is kept. Every method may block on the disk or
/// the network: the dashboard calls them off its input path.
pub trait Store: Send + Sync {
    /// The log as messages name it: a file's path, or where its objects live.
    fn location(&self) -> String;

    /// The command that verifies this log, for the sign-off document.
    fn verify_command(&self) -> String;

    /// Why other users of this machine can read the log, when they can.
    fn exposure(&self) -> Option<String> {
        None
    }

    /// Reads and checks the whole log and folds it. A log nobody wrote to
    /// yet is an empty review.
    fn load(&self) -> Result<Loaded, LedgerError>;

    /// Folds in whatever was appended since `loaded` was read (reading all
    /// of it again if what was read before has changed).
    fn refresh(&self, loaded: &mut Loaded) -> Result<Refresh, LedgerError>;

    /// Re-hashes and re-links every event.
    fn verify(&self) -> Result<VerifyReport, LedgerError>;

    /// Every complete record as written, `\n` included, in log order: the
    /// lines of a file, the line each event object holds. Their
    /// concatenation is the log as a JSON Lines file.
    fn records(&self) -> Result<Vec<String>, LedgerError>;

    /// Appends `kinds` as `by`, in order. With `head`, refused with
    /// `HeadMoved` unless the log's head is still `head`: for a caller that
    /// judged the change against that state.
    fn append_after(
        &self,
        head: Option<&str>,
        by: &Signer,
        kinds: Vec<EventKind>,
    ) -> Result<Vec<Event>, LedgerError>;

    /// Writes the records of another store's log, byte for byte, where this
    /// store holds nothing of that log or a first part of it (a copy that
    /// stopped half way). Returns how many it wrote.
    fn import(&self, records: &[String]) -> Result<u64, LedgerError>;

    /// Calls `on_change` (from a background thread) when the log may have
    /// changed, or the store's health did; until the guard is dropped.
    fn watch(&self, on_change: Box<dyn FnMut() + Send>) -> Result<WatchGuard, WatchError>;

    /// Whether the store answered its last request.
    fn health(&self) -> Health;

    /// Who the store itself vouches its writer is: `None` when it takes
    /// the operator's word (a file), the cluster's user and groups for the
    /// kube store.
    fn identity(&self) -> Result<Option<Signer>, LedgerError> {
        Ok(None)
    }

    /// Brings `loaded` past `events`, which this store just appended after
    /// `loaded`'s head. By default that is a refresh (which also folds in
    /// whatever else came since); a store for which reading costs a round
    /// trip may fold them in directly and leave others' events to the next
    /// refresh.
    fn fold_appended(&self, loaded: &mut Loaded, events: &[Event]) -> Result<(), LedgerError> {
        let _ = events;
        self.refresh(loaded).map(|_| ())
    }

    /// Appends one event by operator `by`.
    fn append(&self, by: &str, kind: EventKind) -> Result<Event, LedgerError> {
        let mut events = self.append_after(None, &Signer::named(by), vec![kind])?;
        events
            .pop()
            .ok_or_else(|| LedgerError::Invalid("nothing to append".into()))
    }

    /// Appends several events in order (a note and the tick it justifies).
    fn append_many(&self, by: &str, kinds: Vec<EventKind>) -> Result<Vec<Event>, LedgerError> {
        self.append_after(None, &Signer::named(by), kinds)
    }

    /// Every event that parses, in log order (for `gonogo log`); pair with
    /// `verify` to say how far to trust them.
    fn events(&self) -> Result<Vec<Event>, LedgerError> {
        Ok(self
            .records()?
            .iter()
            .filter_map(|r| parse_line(r.trim_end_matches('\n').as_bytes()).ok())
            .map(|read| read.event)
            .collect())
    }
}

/// How far a store has read a log, in the store's own terms.
#[derive(Debug, Clone)]
pub(crate) enum Mark {
    /// Nothing read yet.
    None,
    File(Cursor),
    Objects(super::kube::ObjectMark),
}

/// A review's state as read from its log, with what the reading found.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub state: LogState,
    /// Events folded (every record that parsed).
    pub events: u64,
    /// Hash of the last complete record; empty for an empty log.
    pub head: String,
    /// Torn tail, unknown kinds: shown, not fatal.
    pub warnings: Vec<Warning>,
    /// Tampering, in log order: shown loudly; appends are refused.
    pub problems: Vec<Problem>,
    pub(crate) mark: Mark,
}

/// A log as the people side is shown it (the dashboard, the export): the
/// folded state, where the log stands, and what was wrong with it, in
/// words. What `Loaded` is to the ledger, without the read position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogView {
    pub state: LogState,
    /// Hash of the last line: what a sign-off signs.
    pub head: String,
    pub events: u64,
    /// Tampering found: shown loudly; appends are refused.
    pub problems: Vec<String>,
    /// A torn last line, unknown kinds: shown, not fatal.
    pub warnings: Vec<String>,
}

/// One read of a log by a store: the events it checked (all of them, or
/// those after the mark it started from) and what it found.
pub(crate) struct Read {
    pub events: Vec<Event>,
    pub chain: Chain,
    pub found: Findings,
    /// Read from the start, not from the mark given.
    pub from_start: bool,
    pub mark: Mark,
}

impl Loaded {
    /// What is shown of this log.
    pub fn view(&self) -> LogView {
        LogView {
            state: self.state.clone(),
            head: self.head.clone(),
            events: self.events,
            problems: self.problems.iter().map(|p| p.to_string()).collect(),
            warnings: self.warnings.iter().map(|w| w.to_string()).collect(),
        }
    }

    pub(crate) fn empty() -> Loaded {
        Loaded {
            state: LogState::default(),
            events: 0,
            head: String::new(),
            warnings: Vec::new(),
            problems: Vec::new(),
            mark: Mark::None,
        }
    }

    /// The log as one read from its start found it.
    pub(crate) fn from_read(read: Read) -> Loaded {
        Loaded {
            state: LogState::from_events(&read.events),
            events: read.chain.events,
            head: read.chain.head(),
            warnings: read.found.warnings,
            problems: read.found.problems,
            mark: read.mark,
        }
    }

    /// Folds in a read that started at this log's mark (or, when it had to,
    /// from the start) and says what changed.
    pub(crate) fn fold(&mut self, read: Read) -> Refresh {
        if read.from_start {
            *self = Loaded::from_read(read);
            return Refresh::Reloaded;
        }
        let torn_before = self.torn_tail().cloned();
        let found_more = !read.found.problems.is_empty()
            || read
                .found
                .warnings
                .iter()
                .any(|w| !matches!(w.kind, WarningKind::TornTail { .. }));
        self.warnings
            .retain(|w| !matches!(w.kind, WarningKind::TornTail { .. }));
        self.warnings.extend(read.found.warnings);
        self.problems.extend(read.found.problems);
        self.events = read.chain.events;
        self.head = read.chain.head();
        self.mark = read.mark;
        for event in &read.events {
            self.state.apply(event);
        }
        if !read.events.is_empty() {
            Refresh::Appended(read.events)
        } else if found_more || self.torn_tail() != torn_before.as_ref() {
            Refresh::ReportChanged
        } else {
            Refresh::Unchanged
        }
    }

    pub fn is_tampered(&self) -> bool {
        !self.problems.is_empty()
    }

    /// The warning about an incomplete last line, if there is one.
    pub fn torn_tail(&self) -> Option<&Warning> {
        self.warnings
            .iter()
            .find(|w| matches!(w.kind, WarningKind::TornTail { .. }))
    }
}

/// What `refresh` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refresh {
    Unchanged,
    /// These events were folded in.
    Appended(Vec<Event>),
    /// What was read before changed (a file replaced or cut, an event
    /// object deleted): the log was read again from the start.
    Reloaded,
    /// No new events, but the warnings or problems changed (a torn tail
    /// appeared or went away, a record that is not an event was added).
    ReportChanged,
}

/// The outcome of re-hashing a whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records read: lines of a file, event objects.
    pub lines: u64,
    pub events: u64,
    pub head: String,
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
}

impl VerifyReport {
    pub(crate) fn of(chain: &Chain, found: Findings) -> VerifyReport {
        VerifyReport {
            lines: chain.records,
            events: chain.events,
            head: chain.head(),
            problems: found.problems,
            warnings: found.warnings,
        }
    }

    /// No record edited, deleted or reordered (a torn tail is only a warning).
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn first_problem(&self) -> Option<&Problem> {
        self.problems.first()
    }
}

/// The events `by` asks for, cleaned for writing, or why they cannot be
/// written. Empty when there is nothing to write.
pub(crate) fn clean(
    by: &Signer,
    kinds: Vec<EventKind>,
) -> Result<(Signer, Vec<EventKind>), LedgerError> {
    let by = Signer {
        name: clean_operator(&by.name)?,
        groups: by
            .groups
            .iter()
            .map(|g| sanitize(g, false).trim().to_string())
            .filter(|g| !g.is_empty())
            .collect(),
    };
    let kinds = kinds
        .into_iter()
        .map(clean_kind)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((by, kinds))
}

/// The new events after `head` (whose seq was `next_seq - 1`), with seq,
/// time and links filled in, and each one's line (`\n` included).
pub(crate) fn chain(
    next_seq: u64,
    head: &str,
    by: &Signer,
    kinds: Vec<EventKind>,
) -> Result<(Vec<Event>, Vec<String>), LedgerError> {
    let now = jiff::Timestamp::now();
    let at = now.round(jiff::Unit::Millisecond).unwrap_or(now);
    let mut prev = head.to_string();
    let mut events = Vec::with_capacity(kinds.len());
    let mut lines = Vec::with_capacity(kinds.len());
    for (seq, mut kind) in (next_seq..).zip(kinds) {
        if let EventKind::Signoff { signed_hash, .. } = &mut kind {
            if signed_hash.is_empty() {
                signed_hash.clone_from(&prev);
            } else if *signed_hash != prev {
                return Err(LedgerError::HeadMoved {
                    expected: signed_hash.clone(),
                    found: prev,
                });
            }
        }
        let mut event = Event {
            seq,
            at,
            by: by.name.clone(),
            groups: by.groups.clone(),
            kind,
            prev,
            hash: String::new(),
        };
        let (line, hash) = event.to_line();
        event.hash.clone_from(&hash);
        lines.push(line);
        events.push(event);
        prev = hash;
    }
    Ok((events, lines))
}

/// Checks that `records` are a whole, untampered log, as `import` needs.
pub(crate) fn check_import(records: &[String], into: &str) -> Result<Chain, LedgerError> {
    let mut chain = Chain::default();
    let mut found = Findings::default();
    for record in records {
        let Some(line) = record.strip_suffix('\n') else {
            return Err(LedgerError::Invalid(format!(
                "not copied into {into}: a record does not end its line"
            )));
        };
        chain.take(parse_line(line.as_bytes()), None, &mut found);
    }
    match found.problems.into_iter().next() {
        Some(problem) => Err(LedgerError::Tampered {
            log: format!("the log to copy into {into}"),
            problem,
        }),
        None => Ok(chain),
    }
}

/// Operator names go on one line; control characters never reach the log.
fn clean_operator(by: &str) -> Result<String, LedgerError> {
    let by = sanitize(by, false).trim().to_string();
    if by.is_empty() {
        return Err(LedgerError::Invalid(
            "an event needs an operator name".into(),
        ));
    }
    Ok(by)
}

fn clean_kind(kind: EventKind) -> Result<EventKind, LedgerError> {
    let item = |item: String| {
        let item = sanitize(&item, false).trim().to_string();
        if item.is_empty() {
            Err(LedgerError::Invalid("an event needs an item id".into()))
        } else {
            Ok(item)
        }
    };
    let text = |text: String| sanitize(&text, true);
    Ok(match kind {
        EventKind::Tick { item: i } => EventKind::Tick { item: item(i)? },
        EventKind::Untick { item: i } => EventKind::Untick { item: item(i)? },
        EventKind::Unwaive { item: i } => EventKind::Unwaive { item: item(i)? },
        EventKind::Note { item: i, text: t } => EventKind::Note {
            item: item(i)?,
            text: text(t),
        },
        EventKind::Waive {
            item: i,
            reason,
            until,
        } => EventKind::Waive {
            item: item(i)?,
            reason: text(reason),
            until,
        },
        EventKind::Signoff {
            decision,
            version,
            note,
            counts,
            items,
            signed_hash,
        } => EventKind::Signoff {
            decision,
            version: version.map(text),
            note: note.map(text),
            counts,
            items,
            signed_hash,
        },
        EventKind::Unknown { kind, .. } => {
            return Err(LedgerError::Invalid(format!(
                "cannot write an event of unknown kind {kind:?}"
            )));
        }
    })
}
