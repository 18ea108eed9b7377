//! Checklists: the TOML format, its validation and per-environment
//! resolution of `{{ vars }}`.

pub mod load;
pub mod model;
pub mod parse;
pub mod resolve;

pub use model::{Checklist, Item, ProbeKind, Section, Severity};
