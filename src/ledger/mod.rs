//! The sign-off log of each review (checklist, environment): hash-chained
//! events kept in one of two stores behind one trait, [`Store`] (a JSON
//! Lines file per review, or an immutable ConfigMap per event in a
//! cluster), the state folded from them, and watches for other sessions'
//! changes. It stores and verifies events; what a change may do is the
//! review's business (`review::rules`).

pub mod dir;
pub mod event;
pub mod kube;
pub mod log;
mod scan;
pub mod state;
pub mod watch;

pub use dir::DirStore;
pub use event::{Event, EventKind, ItemStatuses, Signer, SignoffDecision, StatusCounts};
pub use kube::{KubeStore, KubeTarget};
pub use log::{Health, LedgerError, Loaded, LogView, Refresh, Store, VerifyReport};
pub use scan::{Problem, ProblemKind, Warning, WarningKind};
pub use state::{LogState, Note, Signoff, Tick, Waiver};
pub use watch::{LedgerWatcher, WatchError, watch};
