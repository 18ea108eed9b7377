//! The sign-off log: one append-only, hash-chained JSON Lines file per
//! (checklist, environment), and the review state folded from it.

pub mod state;

pub use state::{Note, ReviewState, Signoff, Tick, Waiver};
