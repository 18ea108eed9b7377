//! The state of a review as folded from its log: who ticked what, notes,
//! waivers and sign-offs. A pure function of the events, built one event at
//! a time so a watcher can fold in new lines as they arrive.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::event::{Event, EventKind, SignoffDecision, StatusCounts};

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
    /// The signer's groups, as the cluster reported them (none with the dir
    /// store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    pub at: jiff::Timestamp,
    pub decision: SignoffDecision,
    /// The checklist's version when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub note: Option<String>,
    /// Items per status when it was signed, as the signer's session saw them.
    pub counts: StatusCounts,
    /// Each item's status when signed (empty for older sign-offs).
    pub items: super::event::ItemStatuses,
    /// Hash of the log line before the sign-off: what was signed.
    pub signed_hash: String,
    pub seq: u64,
}

/// Everything people decided in one review (checklist, environment), as
/// folded from its log: ticks, notes, waivers and sign-offs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogState {
    pub ticks: HashMap<String, Tick>,
    /// Newest first (a deque so folding a long log stays linear).
    pub notes: HashMap<String, VecDeque<Note>>,
    pub waivers: HashMap<String, Waiver>,
    /// Oldest first.
    pub signoffs: Vec<Signoff>,
    /// The seq of the last event that changed an item's status (a tick,
    /// untick, waiver or its withdrawal); 0 when none has.
    pub last_change: u64,
}

impl LogState {
    /// The state after `events`, in log order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> LogState {
        let mut state = LogState::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    /// Folds one event in. A tick or waiver replaces an earlier one for the
    /// same item (the latest says who and when); untick and unwaive remove
    /// them; kinds this version does not know change nothing.
    pub fn apply(&mut self, event: &Event) {
        let by = || event.by.clone();
        if matches!(
            event.kind,
            EventKind::Tick { .. }
                | EventKind::Untick { .. }
                | EventKind::Waive { .. }
                | EventKind::Unwaive { .. }
        ) {
            self.last_change = event.seq;
        }
        match &event.kind {
            EventKind::Tick { item } => {
                self.ticks.insert(
                    item.clone(),
                    Tick {
                        by: by(),
                        at: event.at,
                    },
                );
            }
            EventKind::Untick { item } => {
                self.ticks.remove(item);
            }
            EventKind::Note { item, text } => {
                self.notes
                    .entry(item.clone())
                    .or_default()
                    .push_front(Note {
                        by: by(),
                        at: event.at,
                        text: text.clone(),
                    });
            }
            EventKind::Waive {
                item,
                reason,
                until,
            } => {
                self.waivers.insert(
                    item.clone(),
                    Waiver {
                        by: by(),
                        at: event.at,
                        reason: reason.clone(),
                        until: *until,
                    },
                );
            }
            EventKind::Unwaive { item } => {
                self.waivers.remove(item);
            }
            EventKind::Signoff {
                decision,
                version,
                note,
                counts,
                items,
                signed_hash,
            } => self.signoffs.push(Signoff {
                by: by(),
                groups: event.groups.clone(),
                at: event.at,
                decision: *decision,
                version: version.clone(),
                note: note.clone(),
                counts: counts.clone(),
                items: items.clone(),
                signed_hash: signed_hash.clone(),
                seq: event.seq,
            }),
            EventKind::Unknown { .. } => {}
        }
    }

    pub fn tick(&self, item: &str) -> Option<&Tick> {
        self.ticks.get(item)
    }

    pub fn waiver(&self, item: &str) -> Option<&Waiver> {
        self.waivers.get(item)
    }

    /// The item's notes, newest first.
    pub fn notes(&self, item: &str) -> std::collections::vec_deque::Iter<'_, Note> {
        static NONE: VecDeque<Note> = VecDeque::new();
        self.notes.get(item).unwrap_or(&NONE).iter()
    }

    pub fn has_notes(&self, item: &str) -> bool {
        self.notes.get(item).is_some_and(|n| !n.is_empty())
    }

    /// The most recent sign-off.
    pub fn latest_signoff(&self) -> Option<&Signoff> {
        self.signoffs.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_780_000_000 + seconds).expect("in range")
    }

    fn ev(seq: u64, by: &str, kind: EventKind) -> Event {
        Event {
            seq,
            at: at(seq as i64),
            by: by.into(),
            groups: Vec::new(),
            kind,
            prev: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn untick_and_unwaive_undo_and_a_new_waiver_replaces_the_old() {
        let item = || "drill".to_string();
        let events = [
            ev(1, "alice", EventKind::Tick { item: item() }),
            ev(2, "bob", EventKind::Untick { item: item() }),
            ev(
                3,
                "alice",
                EventKind::Waive {
                    item: item(),
                    reason: "first".into(),
                    until: None,
                },
            ),
            ev(
                4,
                "bob",
                EventKind::Waive {
                    item: item(),
                    reason: "second".into(),
                    until: Some(jiff::civil::date(2030, 1, 1)),
                },
            ),
        ];
        let state = LogState::from_events(&events);
        assert_eq!(state.tick("drill"), None);
        let waiver = state.waiver("drill").expect("waived at seq 4");
        assert_eq!(
            (waiver.by.as_str(), waiver.reason.as_str()),
            ("bob", "second")
        );

        let mut state = state;
        state.apply(&ev(5, "carol", EventKind::Unwaive { item: item() }));
        assert_eq!(state.waiver("drill"), None);
    }

    #[test]
    fn notes_come_newest_first_and_signoffs_oldest_first() {
        let note = |seq, text: &str| {
            ev(
                seq,
                "alice",
                EventKind::Note {
                    item: "a".into(),
                    text: text.into(),
                },
            )
        };
        let signoff = |seq, decision| {
            ev(
                seq,
                "dana",
                EventKind::Signoff {
                    decision,
                    version: None,
                    note: None,
                    counts: StatusCounts::new(),
                    items: Default::default(),
                    signed_hash: format!("h{seq}"),
                },
            )
        };
        let state = LogState::from_events(&[
            note(1, "one"),
            signoff(2, SignoffDecision::NoGo),
            note(3, "two"),
            signoff(4, SignoffDecision::Go),
        ]);
        let texts: Vec<&str> = state.notes("a").map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["two", "one"]);
        assert_eq!(state.notes("other").len(), 0);
        let seqs: Vec<u64> = state.signoffs.iter().map(|s| s.seq).collect();
        assert_eq!(seqs, [2, 4]);
        assert_eq!(
            state.latest_signoff().map(|s| s.decision),
            Some(SignoffDecision::Go)
        );
    }

    #[test]
    fn an_expired_waiver_stops_applying_on_its_own() {
        let waiver = Waiver {
            by: "a".into(),
            at: at(0),
            reason: "r".into(),
            until: Some(jiff::civil::date(2026, 3, 1)),
        };
        let day = |d: &str| d.parse::<jiff::Timestamp>().expect("literal timestamp");
        assert!(waiver.is_live(day("2026-03-01T23:59:59Z")));
        assert!(!waiver.is_live(day("2026-03-02T00:00:00Z")));
    }
}
