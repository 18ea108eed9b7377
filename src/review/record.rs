//! The one way a change reaches the sign-off log, for the command line and
//! the dashboard alike: judge it against the log as last read, append after
//! that head, and when another writer got there first, read what it wrote
//! and judge again.

use std::fmt;

use super::rules::{self, Change, Refusal, Standing};
use crate::ledger::{Event, LedgerError, Loaded, Signer, Store};

/// How many times a change is judged again when other writers keep
/// appending in between; more means someone is scripting a flood.
const ATTEMPTS: usize = 5;

/// The environment a change is recorded in.
#[derive(Debug, Clone, Copy)]
pub struct Where<'a> {
    pub env: &'a str,
    pub read_only: bool,
}

#[derive(Debug)]
pub enum RecordError {
    /// The rules said no, against the log as it now stands.
    Refused(Refusal),
    /// A sign-off's log moved on after its facts were computed: the signer
    /// must look again and sign again.
    Moved,
    /// The log cannot be written: altered, locked, or the disk said no.
    Failed(LedgerError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Refused(r) => f.write_str(&r.message),
            RecordError::Moved => f.write_str(
                "another session changed the review after you looked at it: \
                 check the statuses and sign again",
            ),
            RecordError::Failed(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for RecordError {}

/// Judges `change` against `loaded` (the log as the caller last read it) and
/// appends its events after that head, as `by`. If another writer appended
/// first, `loaded` is brought up to date and the change judged again: a
/// tick someone else already made is refused, not doubled. A sign-off is
/// not retried, because the statuses it records were computed before.
/// On return `loaded` includes what was written.
///
/// A store that cannot hold several events under one lock (the kube store)
/// may take the first events of a change and then find that another host
/// appended: the change is judged again, and only what it still needs
/// after the events already in is written (a tick's evidence note stays;
/// the tick is refused if the other host ticked the item meanwhile).
pub fn record(
    ledger: &dyn Store,
    loaded: &mut Loaded,
    by: &Signer,
    place: Where,
    change: &Change,
    now: jiff::Timestamp,
) -> Result<Vec<Event>, RecordError> {
    let mut written: Vec<Event> = Vec::new();
    for _ in 0..ATTEMPTS {
        if let Some(problem) = loaded.problems.first() {
            return Err(RecordError::Failed(LedgerError::Tampered {
                log: ledger.location(),
                problem: problem.clone(),
            }));
        }
        let standing = Standing {
            env: place.env,
            read_only: place.read_only,
            state: &loaded.state,
            head: &loaded.head,
            now,
        };
        let mut kinds = rules::plan(&standing, change)
            .map_err(|refusal| RecordError::Refused(with_written(refusal, &written)))?;
        // The events of this change already in the log come first in its
        // plan; only the rest is still to write.
        kinds.drain(..written.len().min(kinds.len()));
        let head = loaded.head.clone();
        match ledger.append_after(Some(&head), by, kinds) {
            Ok(events) => {
                // Fold our own events in, so the caller's state is current.
                ledger
                    .fold_appended(loaded, &events)
                    .map_err(RecordError::Failed)?;
                written.extend(events);
                return Ok(written);
            }
            Err(LedgerError::HeadMoved { .. }) => {
                ledger.refresh(loaded).map_err(RecordError::Failed)?;
                if change.is_signoff() {
                    return Err(RecordError::Moved);
                }
            }
            Err(LedgerError::PartlyWritten { written: part, .. }) => {
                ledger.refresh(loaded).map_err(RecordError::Failed)?;
                written.extend(part);
            }
            Err(e) => return Err(RecordError::Failed(e)),
        }
    }
    Err(RecordError::Failed(LedgerError::Busy {
        log: ledger.location(),
    }))
}

/// A refusal of a change whose first events are already in the log says so.
fn with_written(refusal: Refusal, written: &[Event]) -> Refusal {
    if written.is_empty() {
        return refusal;
    }
    let kinds: Vec<&str> = written.iter().map(|e| e.kind.name()).collect();
    Refusal::new(format!(
        "{} (its {} went in before another session's change)",
        refusal.message,
        kinds.join(" and ")
    ))
}
