//! The sign-off log: one append-only, hash-chained JSON Lines file per
//! (checklist, environment), the review state folded from it, the rules a
//! change must pass before it is written, and a watcher for other sessions'
//! changes.

pub mod event;
pub mod log;
pub mod rules;
mod scan;
pub mod state;
pub mod watch;

pub use event::{Event, EventKind, SignoffDecision, StatusCounts, status_counts};
pub use log::{Ledger, LedgerError, Loaded, Refresh, VerifyReport};
pub use rules::{Change, Refusal, Review};
pub use scan::{Problem, ProblemKind, Warning, WarningKind};
pub use state::{Note, ReviewState, Signoff, Tick, Waiver};
pub use watch::{LedgerWatcher, WatchError, watch};
