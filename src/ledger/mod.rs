//! The sign-off log: one append-only, hash-chained JSON Lines file per
//! (checklist, environment), the state folded from it, and a watcher for
//! other sessions' changes. It stores and verifies events; what a change may
//! do is the review's business (`review::rules`).

pub mod event;
pub mod log;
mod scan;
pub mod state;
pub mod watch;

pub use event::{Event, EventKind, ItemStatuses, SignoffDecision, StatusCounts};
pub use log::{Ledger, LedgerError, Loaded, LogView, Refresh, VerifyReport};
pub use scan::{Problem, ProblemKind, Warning, WarningKind};
pub use state::{LogState, Note, Signoff, Tick, Waiver};
pub use watch::{LedgerWatcher, WatchError, watch};
