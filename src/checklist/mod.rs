//! Checklists: the TOML format, its validation and per-environment
//! resolution of `{{ vars }}`.

pub mod model;
pub mod load;
pub mod parse;
pub mod resolve;

pub use model::{Checklist, Item, ProbeKind, Section, Severity};
