//! One line of the sign-off log: the event types, their canonical JSON form
//! and the SHA-256 that chains each line to the one before.
//!
//! Canonical form: the event serialized by serde_json in the field order of
//! [`Wire`] (seq, at, by, kind, item, payload, prev), without `hash`. The line
//! on disk is exactly that text with `,"hash":"<64 hex>"` spliced in before
//! the closing brace, so a reader recovers the hashed bytes by cutting that
//! fixed-width suffix off again. Checking the bytes as written (rather than
//! re-serializing what was parsed) also flags edits that keep the meaning,
//! and lets an older gonogo verify lines of a kind it does not know.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex digits in a SHA-256.
pub const HASH_HEX_LEN: usize = 64;

/// `,"hash":"` + 64 hex + `"}`: what follows the canonical text, minus its `}`.
const HASH_SUFFIX_LEN: usize = 9 + HASH_HEX_LEN + 2;

/// A sign-off's counts: status name → number of items (all seven statuses,
/// zeros included, so the record reads the same whatever was open).
pub type StatusCounts = BTreeMap<String, u64>;

/// A sign-off's record of each item's status (item id → status name), so a
/// later document can say what changed since. Empty in sign-offs written
/// before it was recorded.
pub type ItemStatuses = BTreeMap<String, String>;

/// What the signer decided (as written in the log: `go`, `go-with-conditions`,
/// `no-go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignoffDecision {
    Go,
    GoWithConditions,
    NoGo,
}

impl SignoffDecision {
    pub const ALL: [SignoffDecision; 3] = [
        SignoffDecision::Go,
        SignoffDecision::GoWithConditions,
        SignoffDecision::NoGo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SignoffDecision::Go => "go",
            SignoffDecision::GoWithConditions => "go-with-conditions",
            SignoffDecision::NoGo => "no-go",
        }
    }

    pub fn parse(s: &str) -> Option<SignoffDecision> {
        SignoffDecision::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

impl fmt::Display for SignoffDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, with its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Tick {
        item: String,
    },
    Untick {
        item: String,
    },
    Note {
        item: String,
        text: String,
    },
    Waive {
        item: String,
        reason: String,
        /// Last day the waiver applies (UTC); `None` = until withdrawn.
        until: Option<jiff::civil::Date>,
    },
    Unwaive {
        item: String,
    },
    Signoff {
        decision: SignoffDecision,
        /// The checklist's `version` when signed (`None` when it has none,
        /// and in sign-offs written before versions were recorded).
        version: Option<String>,
        note: Option<String>,
        counts: StatusCounts,
        items: ItemStatuses,
        /// Hash of the log line before the sign-off. When appending, leave it
        /// empty to sign whatever the head is, or set it to the head you
        /// computed the decision from: the append is then refused if the log
        /// has moved on.
        signed_hash: String,
    },
    /// A kind this version does not know (written by a newer gonogo): kept in
    /// the chain, ignored by the fold, never appended.
    Unknown {
        kind: String,
        item: Option<String>,
    },
}

impl EventKind {
    /// The name written in the `kind` field.
    pub fn name(&self) -> &str {
        match self {
            EventKind::Tick { .. } => "tick",
            EventKind::Untick { .. } => "untick",
            EventKind::Note { .. } => "note",
            EventKind::Waive { .. } => "waive",
            EventKind::Unwaive { .. } => "unwaive",
            EventKind::Signoff { .. } => "signoff",
            EventKind::Unknown { kind, .. } => kind,
        }
    }

    /// The item the event is about; `None` for a sign-off.
    pub fn item(&self) -> Option<&str> {
        match self {
            EventKind::Tick { item }
            | EventKind::Untick { item }
            | EventKind::Note { item, .. }
            | EventKind::Waive { item, .. }
            | EventKind::Unwaive { item } => Some(item),
            EventKind::Signoff { .. } => None,
            EventKind::Unknown { item, .. } => item.as_deref(),
        }
    }
}

/// Who writes an event: the operator's name, and the groups the cluster
/// vouches for (none when nobody vouches: the dir store).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Signer {
    pub name: String,
    pub groups: Vec<String>,
}

impl Signer {
    /// A signer known by name only.
    pub fn named(name: impl Into<String>) -> Signer {
        Signer {
            name: name.into(),
            groups: Vec::new(),
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// 1-based, consecutive.
    pub seq: u64,
    pub at: jiff::Timestamp,
    pub by: String,
    /// The groups the cluster reported for `by` when the event was written
    /// to the kube store (its `SelfSubjectReview`); empty in the dir store.
    pub groups: Vec<String>,
    pub kind: EventKind,
    /// Hash of the line before; empty for the first line.
    pub prev: String,
    pub hash: String,
}

impl Event {
    pub fn item(&self) -> Option<&str> {
        self.kind.item()
    }

    /// The event as a JSON object, in the same fields and order as its line.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(Wire::from_event(self))
            .expect("an event holds only strings, numbers and string maps: it always serializes");
        value["hash"] = serde_json::Value::String(self.hash.clone());
        value
    }

    /// The event as a log line, `\n` included, with `hash` set from its
    /// content (the `hash` field of `self` is ignored).
    pub(crate) fn to_line(&self) -> (String, String) {
        let canonical = serde_json::to_string(&Wire::from_event(self))
            .expect("an event holds only strings, numbers and string maps: it always serializes");
        let hash = hex_sha256(canonical.as_bytes());
        let body = canonical
            .strip_suffix('}')
            .expect("a serialized struct ends with its closing brace");
        (format!("{body},\"hash\":\"{hash}\"}}\n"), hash)
    }
}

/// Why a line could not be read as an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LineError {
    /// No `"hash"` as the last field: the line was cut or rewritten.
    NoHash,
    /// Not JSON, or fields missing for its kind.
    Invalid(String),
}

/// A line read back: the event as written, and whether its stored hash
/// matches its bytes.
pub(crate) struct ReadLine {
    pub event: Event,
    pub hash_ok: bool,
}

/// Reads one line (without its `\n`). An edited line is still returned (with
/// `hash_ok` false) so the caller can show what the file claims and keep
/// following the chain; a line that does not parse carries its stored hash
/// in the `Err` when it has one, for the same reason.
pub(crate) fn parse_line(line: &[u8]) -> Result<ReadLine, (LineError, Option<String>)> {
    let Some(stored) = stored_hash(line) else {
        return Err((LineError::NoHash, None));
    };
    let stored_hash = Some(stored.to_string());
    let wire: Wire = match serde_json::from_slice(line) {
        Ok(w) => w,
        Err(e) => return Err((LineError::Invalid(e.to_string()), stored_hash)),
    };
    let event = match wire.into_event() {
        Ok(e) => e,
        Err(reason) => return Err((LineError::Invalid(reason), stored_hash)),
    };
    let mut hasher = Sha256::new();
    hasher.update(&line[..line.len() - HASH_SUFFIX_LEN]);
    hasher.update(b"}");
    let hash_ok = hex(&hasher.finalize()) == event.hash;
    Ok(ReadLine { event, hash_ok })
}

/// The 64 hex digits of a well-formed line's `hash` suffix.
fn stored_hash(line: &[u8]) -> Option<&str> {
    let start = line.len().checked_sub(HASH_SUFFIX_LEN)?;
    let suffix = &line[start..];
    let (key, rest) = suffix.split_at(9);
    let (digits, end) = rest.split_at(HASH_HEX_LEN);
    let well_formed = key == b",\"hash\":\""
        && end == b"\"}"
        && digits
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b));
    if !well_formed {
        return None;
    }
    std::str::from_utf8(digits).ok()
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Whether `prev` marks the first line: empty, or all zeros as some chains
/// write it.
pub(crate) fn is_genesis(prev: &str) -> bool {
    prev.is_empty() || (prev.len() == HASH_HEX_LEN && prev.bytes().all(|b| b == b'0'))
}

/// The line layout. Field order here IS the canonical order: do not reorder.
/// Payload fields are flat and optional so every kind shares one layout.
#[derive(Serialize, Deserialize)]
struct Wire {
    seq: u64,
    at: jiff::Timestamp,
    by: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    groups: Vec<String>,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    item: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<jiff::civil::Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    decision: Option<SignoffDecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counts: Option<StatusCounts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    items: Option<ItemStatuses>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_hash: Option<String>,
    prev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hash: Option<String>,
}

impl Wire {
    fn from_event(event: &Event) -> Wire {
        let mut wire = Wire {
            seq: event.seq,
            at: event.at,
            by: event.by.clone(),
            groups: event.groups.clone(),
            kind: event.kind.name().to_string(),
            item: event.item().map(str::to_string),
            text: None,
            reason: None,
            until: None,
            decision: None,
            version: None,
            note: None,
            counts: None,
            items: None,
            signed_hash: None,
            prev: event.prev.clone(),
            hash: None,
        };
        match &event.kind {
            EventKind::Note { text, .. } => wire.text = Some(text.clone()),
            EventKind::Waive { reason, until, .. } => {
                wire.reason = Some(reason.clone());
                wire.until = *until;
            }
            EventKind::Signoff {
                decision,
                version,
                note,
                counts,
                items,
                signed_hash,
            } => {
                wire.decision = Some(*decision);
                wire.version = version.clone();
                wire.note = note.clone();
                wire.counts = Some(counts.clone());
                wire.items = (!items.is_empty()).then(|| items.clone());
                wire.signed_hash = Some(signed_hash.clone());
            }
            EventKind::Tick { .. }
            | EventKind::Untick { .. }
            | EventKind::Unwaive { .. }
            | EventKind::Unknown { .. } => {}
        }
        wire
    }

    fn into_event(self) -> Result<Event, String> {
        let kind = self.kind;
        let missing = |field: &str| format!("a {kind} event needs `{field}`");
        let item = || self.item.clone().ok_or_else(|| missing("item"));
        let kind_value = match kind.as_str() {
            "tick" => EventKind::Tick { item: item()? },
            "untick" => EventKind::Untick { item: item()? },
            "unwaive" => EventKind::Unwaive { item: item()? },
            "note" => EventKind::Note {
                item: item()?,
                text: self.text.ok_or_else(|| missing("text"))?,
            },
            "waive" => EventKind::Waive {
                item: item()?,
                reason: self.reason.ok_or_else(|| missing("reason"))?,
                until: self.until,
            },
            "signoff" => EventKind::Signoff {
                decision: self.decision.ok_or_else(|| missing("decision"))?,
                version: self.version,
                note: self.note,
                counts: self.counts.unwrap_or_default(),
                items: self.items.unwrap_or_default(),
                signed_hash: self.signed_hash.ok_or_else(|| missing("signed_hash"))?,
            },
            _ => EventKind::Unknown {
                kind: kind.clone(),
                item: self.item,
            },
        };
        Ok(Event {
            seq: self.seq,
            at: self.at,
            by: self.by,
            groups: self.groups,
            kind: kind_value,
            prev: self.prev,
            hash: self.hash.ok_or("no `hash`")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind) -> Event {
        Event {
            seq: 3,
            at: "2026-01-09T10:00:00.123Z"
                .parse()
                .expect("literal timestamp"),
            by: "alice".into(),
            groups: Vec::new(),
            kind,
            prev: "ab".repeat(32),
            hash: String::new(),
        }
    }

    fn every_kind() -> Vec<EventKind> {
        vec![
            EventKind::Tick { item: "a".into() },
            EventKind::Untick { item: "a".into() },
            EventKind::Note {
                item: "a".into(),
                text: "drill record: https://x/1\n\"quoted\"".into(),
            },
            EventKind::Waive {
                item: "b".into(),
                reason: "accepted risk".into(),
                until: Some(jiff::civil::date(2026, 3, 1)),
            },
            EventKind::Waive {
                item: "b".into(),
                reason: "forever".into(),
                until: None,
            },
            EventKind::Unwaive { item: "b".into() },
            EventKind::Signoff {
                decision: SignoffDecision::GoWithConditions,
                version: Some("2026-01-09".into()),
                note: Some("ship it".into()),
                counts: [("pass".to_string(), 2), ("fail".to_string(), 1)].into(),
                items: [("a".to_string(), "pass".to_string())].into(),
                signed_hash: "cd".repeat(32),
            },
        ]
    }

    #[test]
    fn every_kind_round_trips_through_a_line() {
        for kind in every_kind() {
            let (line, hash) = event(kind.clone()).to_line();
            assert!(
                line.ends_with(&format!(",\"hash\":\"{hash}\"}}\n")),
                "{line}"
            );
            let parsed = parse_line(line.trim_end().as_bytes())
                .map_err(|(e, _)| e)
                .expect("a line we wrote parses");
            assert!(parsed.hash_ok);
            let parsed = parsed.event;
            assert_eq!(parsed.kind, kind);
            assert_eq!(parsed.hash, hash);
            assert_eq!(parsed.at, event(kind).at);
        }
    }

    #[test]
    fn the_line_is_the_canonical_text_with_the_hash_spliced_in() {
        let (line, hash) = event(EventKind::Tick { item: "a".into() }).to_line();
        let prev = "ab".repeat(32);
        let canonical = format!(
            "{{\"seq\":3,\"at\":\"2026-01-09T10:00:00.123Z\",\"by\":\"alice\",\"kind\":\"tick\",\"item\":\"a\",\"prev\":\"{prev}\"}}"
        );
        assert_eq!(
            line,
            format!(
                "{},\"hash\":\"{hash}\"}}\n",
                &canonical[..canonical.len() - 1]
            )
        );
        assert_eq!(hash, hex_sha256(canonical.as_bytes()));
    }

    #[test]
    fn an_edit_that_keeps_the_json_valid_breaks_the_hash() {
        let (line, _) = event(EventKind::Note {
            item: "a".into(),
            text: "all good".into(),
        })
        .to_line();
        let hash_ok = |text: &str| {
            parse_line(text.as_bytes())
                .map(|l| l.hash_ok)
                .map_err(|(e, _)| e)
        };
        assert_eq!(hash_ok(line.trim_end()), Ok(true));
        let edited = line.trim_end().replace("all good", "all fine");
        assert_eq!(hash_ok(&edited), Ok(false));
        // Reformatting alone is an edit too.
        let spaced = line.trim_end().replacen("\"seq\":3", "\"seq\": 3", 1);
        assert_eq!(hash_ok(&spaced), Ok(false));
    }

    #[test]
    fn a_cut_line_has_no_hash_and_a_kindless_line_is_invalid() {
        let (line, _) = event(EventKind::Tick { item: "a".into() }).to_line();
        let cut = &line.as_bytes()[..line.len() / 2];
        assert!(matches!(parse_line(cut), Err((LineError::NoHash, None))));
        let fake = format!("{{\"seq\":1,\"hash\":\"{}\"}}", "0".repeat(64));
        assert!(matches!(
            parse_line(fake.as_bytes()),
            Err((LineError::Invalid(_), Some(_)))
        ));
    }

    #[test]
    fn a_kind_from_a_newer_version_still_verifies() {
        let body = r#"{"seq":1,"at":"2026-01-09T10:00:00Z","by":"bob","kind":"assign","item":"a","to":"carol","prev":""}"#;
        let hash = hex_sha256(body.as_bytes());
        let line = format!("{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1]);
        let parsed = parse_line(line.as_bytes())
            .map_err(|(e, _)| e)
            .expect("unknown kinds parse");
        assert!(parsed.hash_ok);
        assert_eq!(
            parsed.event.kind,
            EventKind::Unknown {
                kind: "assign".into(),
                item: Some("a".into())
            }
        );
    }
}
