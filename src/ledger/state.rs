//! The state of a review as folded from its log: who ticked what, notes,
//! waivers and sign-offs.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub by: String,
    pub at: jiff::Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub by: String,
    pub at: jiff::Timestamp,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiver {
    pub by: String,
    pub at: jiff::Timestamp,
    pub reason: String,
    /// The last day the waiver applies (UTC); `None` = until withdrawn.
    pub until: Option<jiff::civil::Date>,
}

impl Waiver {
    /// Whether the waiver still applies at `now`: it lapses at the end of its
    /// `until` day, UTC.
    pub fn is_live(&self, now: jiff::Timestamp) -> bool {
        match self.until {
            None => true,
            Some(until) => now.to_zoned(jiff::tz::TimeZone::UTC).date() <= until,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signoff {
    pub by: String,
    pub at: jiff::Timestamp,
    pub decision: String,
    pub note: Option<String>,
    /// Hash of the log line before the sign-off: what was signed.
    pub signed_hash: String,
    pub seq: u64,
}

/// Everything people decided in one review (checklist, environment).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewState {
    pub ticks: HashMap<String, Tick>,
    /// Newest first.
    pub notes: HashMap<String, Vec<Note>>,
    pub waivers: HashMap<String, Waiver>,
    /// Oldest first.
    pub signoffs: Vec<Signoff>,
}

impl ReviewState {
    pub fn tick(&self, item: &str) -> Option<&Tick> {
        self.ticks.get(item)
    }
    pub fn waiver(&self, item: &str) -> Option<&Waiver> {
        self.waivers.get(item)
    }
    pub fn notes(&self, item: &str) -> &[Note] {
        self.notes.get(item).map_or(&[], Vec::as_slice)
    }
}
