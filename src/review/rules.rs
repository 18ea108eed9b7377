//! The rules that protect a review: every change someone asks for (a tick,
//! a note, a waiver, a sign-off, from the command line or the dashboard) is
//! a [`Change`], judged by [`plan`] against the [`Standing`] of the review,
//! and written by [`super::record::record`]. Pure functions of what they are
//! given, each refusing with a message a reviewer can act on.
//!
//! Evidence notes: ticking an `evidence = true` item needs a note, either one
//! already on the item or one given with the tick. A note given with the tick
//! (`gonogo tick ITEM --note TEXT`, or the dashboard's note editor opened by
//! ticking) is written as a note event and then the tick, in one append (one
//! lock, one fsync): `plan` returns both.

use std::fmt;

use crate::checklist::model::Item;
use crate::ledger::event::{EventKind, ItemStatuses, SignoffDecision, StatusCounts};
use crate::ledger::{Loaded, LogState};
use crate::review::Decision;
use crate::text::sanitize;

/// Where a review stands when a change is judged: its environment, the
/// state folded from its log, and the log head that state reached.
#[derive(Debug, Clone, Copy)]
pub struct Standing<'a> {
    pub env: &'a str,
    /// The environment is configured `read_only`: no writes at all.
    pub read_only: bool,
    pub state: &'a LogState,
    /// The log head `state` was folded up to: a sign-off signs it.
    pub head: &'a str,
    pub now: jiff::Timestamp,
}

impl<'a> Standing<'a> {
    /// The review as `loaded` from its log, now.
    pub fn of(loaded: &'a Loaded, env: &'a str, read_only: bool) -> Standing<'a> {
        Standing {
            env,
            read_only,
            state: &loaded.state,
            head: &loaded.head,
            now: jiff::Timestamp::now(),
        }
    }
}

/// A change someone asks for, before the rules have looked at it. It owns
/// what it names, so the dashboard can hand it to a writer thread.
#[derive(Debug, Clone)]
pub enum Change {
    Tick {
        item: Item,
        /// A note given with the tick (the evidence).
        note: Option<String>,
    },
    Untick {
        item: Item,
    },
    Note {
        item: Item,
        text: String,
    },
    Waive {
        item: Item,
        reason: String,
        until: Option<jiff::civil::Date>,
    },
    Unwaive {
        item: Item,
    },
    Signoff {
        decision: SignoffDecision,
        note: Option<String>,
        /// The review as the signer saw it.
        facts: SignoffFacts,
    },
}

impl Change {
    /// The item it is about; none for a sign-off.
    pub fn item(&self) -> Option<&Item> {
        match self {
            Change::Tick { item, .. }
            | Change::Untick { item }
            | Change::Note { item, .. }
            | Change::Waive { item, .. }
            | Change::Unwaive { item } => Some(item),
            Change::Signoff { .. } => None,
        }
    }

    /// A sign-off signs the head it was decided on: if the log moved
    /// meanwhile, it is refused rather than judged again, because the facts
    /// it records were computed from the old state.
    pub fn is_signoff(&self) -> bool {
        matches!(self, Change::Signoff { .. })
    }

    /// What was done, once written: `ticked runbook`, `signed off go`.
    pub fn done(&self) -> String {
        match self {
            Change::Tick { item, note: None } => format!("ticked {}", item.id),
            Change::Tick {
                item,
                note: Some(_),
            } => format!("noted and ticked {}", item.id),
            Change::Untick { item } => format!("unticked {}", item.id),
            Change::Note { item, .. } => format!("note added to {}", item.id),
            Change::Waive {
                item,
                until: Some(until),
                ..
            } => format!("waived {} until {until}", item.id),
            Change::Waive { item, .. } => format!("waived {}", item.id),
            Change::Unwaive { item } => format!("withdrew the waiver of {}", item.id),
            Change::Signoff { decision, .. } => format!("signed off {decision}"),
        }
    }
}

/// What a sign-off records of the review it signs, computed once from the
/// statuses the signer sees (`ChecklistReport::signoff_facts`).
#[derive(Debug, Clone, PartialEq)]
pub struct SignoffFacts {
    /// The decision computed from the current statuses.
    pub computed: Decision,
    /// The checklist's version (`None` when it has none).
    pub version: Option<String>,
    /// What the environment this one is promoted from says, when there is
    /// one: a `go` needs it signed `go` there.
    pub upstream: Option<crate::review::roles::Upstream>,
    /// Ids of the blockers still open: what makes it NO-GO.
    pub open_blockers: Vec<String>,
    /// Items per status.
    pub counts: StatusCounts,
    /// Each item's status.
    pub items: ItemStatuses,
}

/// Checks `change` against the rules and returns the events that record it,
/// in order. A sign-off carries `standing.head` as what it signs.
pub fn plan(standing: &Standing, change: &Change) -> Result<Vec<EventKind>, Refusal> {
    let id = |item: &Item| item.id.clone();
    match change {
        Change::Tick { item, note: text } => {
            tick(standing, item, text.as_deref())?;
            let mut kinds = Vec::with_capacity(2);
            if let Some(text) = text {
                kinds.push(EventKind::Note {
                    item: id(item),
                    text: text.clone(),
                });
            }
            kinds.push(EventKind::Tick { item: id(item) });
            Ok(kinds)
        }
        Change::Untick { item } => {
            untick(standing, item)?;
            Ok(vec![EventKind::Untick { item: id(item) }])
        }
        Change::Note { item, text } => {
            note(standing, item, text)?;
            Ok(vec![EventKind::Note {
                item: id(item),
                text: text.clone(),
            }])
        }
        Change::Waive {
            item,
            reason,
            until,
        } => {
            waive(standing, item, reason, *until)?;
            Ok(vec![EventKind::Waive {
                item: id(item),
                reason: reason.clone(),
                until: *until,
            }])
        }
        Change::Unwaive { item } => {
            unwaive(standing, item)?;
            Ok(vec![EventKind::Unwaive { item: id(item) }])
        }
        Change::Signoff {
            decision,
            note,
            facts,
        } => {
            signoff(standing, *decision, facts)?;
            Ok(vec![EventKind::Signoff {
                decision: *decision,
                version: facts.version.clone(),
                note: note.clone(),
                counts: facts.counts.clone(),
                items: facts.items.clone(),
                signed_hash: standing.head.to_string(),
            }])
        }
    }
}

/// Why a change was refused, in words for the person who asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Refusal {
        Refusal {
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

/// Any write at all, in environment `env`.
pub fn writable(env: &str, read_only: bool) -> Result<(), Refusal> {
    if read_only {
        return Err(Refusal::new(format!(
            "{env} is read-only: nothing can be ticked, noted, waived or signed there"
        )));
    }
    Ok(())
}

/// Ticking a manual item done; `note` is the note given with the tick, if any.
pub fn tick(review: &Standing, item: &Item, note: Option<&str>) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    if !item.is_manual() {
        return Err(Refusal::new(format!(
            "{} is checked by a probe; a failing probe is closed only by a waiver",
            item.id
        )));
    }
    applies(review, item)?;
    if let Some(tick) = review.state.tick(&item.id) {
        return Err(Refusal::new(format!(
            "{} is already ticked (by {} at {})",
            item.id, tick.by, tick.at
        )));
    }
    if let Some(text) = note {
        has_text(text, "a note needs some text")?;
    }
    if item.evidence && note.is_none() && !review.state.has_notes(&item.id) {
        return Err(Refusal::new(format!(
            "{} needs evidence: tick it with a note (a link to the drill record, the ticket, the screenshot)",
            item.id
        )));
    }
    Ok(())
}

pub fn untick(review: &Standing, item: &Item) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    if review.state.tick(&item.id).is_none() {
        return Err(Refusal::new(format!("{} is not ticked", item.id)));
    }
    Ok(())
}

/// Notes are allowed on any item, skipped ones included (to say why).
pub fn note(review: &Standing, _item: &Item, text: &str) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    has_text(text, "a note needs some text")
}

/// `until` is the last day the waiver applies (UTC): today is fine, the past
/// is not.
pub fn waive(
    review: &Standing,
    item: &Item,
    reason: &str,
    until: Option<jiff::civil::Date>,
) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    applies(review, item)?;
    has_text(
        reason,
        &format!(
            "a waiver of {} needs a reason (who accepted what risk, and why)",
            item.id
        ),
    )?;
    let today = review.now.to_zoned(jiff::tz::TimeZone::UTC).date();
    if let Some(until) = until
        && until < today
    {
        return Err(Refusal::new(format!(
            "the waiver would end on {until}, which is already past (today is {today} UTC)"
        )));
    }
    Ok(())
}

pub fn unwaive(review: &Standing, item: &Item) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    if review.state.waiver(&item.id).is_none() {
        return Err(Refusal::new(format!("{} has no waiver", item.id)));
    }
    Ok(())
}

/// A sign-off against the decision computed from the current statuses;
/// the open blockers are what makes it NO-GO. `no-go` can always be signed.
pub fn signoff(
    review: &Standing,
    decision: SignoffDecision,
    facts: &SignoffFacts,
) -> Result<(), Refusal> {
    writable(review.env, review.read_only)?;
    let computed = facts.computed;
    let blockers = if facts.open_blockers.is_empty() {
        String::new()
    } else {
        format!(" (open blockers: {})", facts.open_blockers.join(", "))
    };
    match decision {
        SignoffDecision::Go if computed == Decision::NoGo => Err(Refusal::new(format!(
            "cannot sign off go: the review is {}{blockers}",
            computed.label()
        ))),
        SignoffDecision::GoWithConditions
            if computed == Decision::NoGo || !facts.open_blockers.is_empty() =>
        {
            Err(Refusal::new(format!(
                "cannot sign off go-with-conditions while a blocker is open{blockers}: \
                 fix or waive it, or sign no-go"
            )))
        }
        SignoffDecision::Go | SignoffDecision::GoWithConditions => {
            promoted(review, decision, facts)
        }
        SignoffDecision::NoGo => Ok(()),
    }
}

/// A `go` in an environment promoted from another needs the same checklist,
/// at the same version, signed `go` there.
fn promoted(
    review: &Standing,
    decision: SignoffDecision,
    facts: &SignoffFacts,
) -> Result<(), Refusal> {
    let Some(up) = &facts.upstream else {
        return Ok(());
    };
    if up.allows_go() {
        return Ok(());
    }
    let (env, from) = (review.env, up.environment.as_str());
    let version = facts.version.as_deref().unwrap_or("");
    let why = match (&up.decision, &up.signed_version) {
        (Some(d), _) => format!(
            "{from} is signed {} ({}): promote only what {from} passed",
            d.label(),
            up.signers.join(", ")
        ),
        (None, Some(signed)) if signed.is_empty() => format!(
            "{from} was signed off without a version and this checklist is version {version}: sign it off in {from} again first"
        ),
        (None, Some(signed)) => format!(
            "{from} signed version {signed} and this is version {}: sign it off in {from} first",
            if version.is_empty() {
                "unversioned"
            } else {
                version
            }
        ),
        (None, None) => format!(
            "it is not signed go in {from} yet (or the sign-off there went stale): sign it off in {from} first"
        ),
    };
    Err(Refusal::new(format!(
        "cannot sign off {decision} in {env}, which is promoted from {from}: {why}"
    )))
}

/// Reads a waiver's `until` as written on a command line: `YYYY-MM-DD`.
/// A date of the right shape that does not exist says what is wrong with it.
pub fn parse_until(text: &str) -> Result<jiff::civil::Date, Refusal> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shaped {
        return Err(Refusal::new(format!(
            "{text:?} is not a date: write it as YYYY-MM-DD"
        )));
    }
    let number = |range: std::ops::Range<usize>| text[range].parse::<i16>().unwrap_or(0);
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    if !(1..=12).contains(&month) {
        return Err(Refusal::new(format!(
            "{text} is not a date: there is no month {month}"
        )));
    }
    let days = jiff::civil::date(year, month as i8, 1).days_in_month();
    if day < 1 || day > i16::from(days) {
        return Err(Refusal::new(format!(
            "{text} is not a date: {year}-{month:02} has {days} days"
        )));
    }
    text.parse()
        .map_err(|e| Refusal::new(format!("{text} is not a date: {e}")))
}

fn applies(review: &Standing, item: &Item) -> Result<(), Refusal> {
    if item.applies_to(review.env) {
        return Ok(());
    }
    let envs = item.envs.as_deref().unwrap_or_default().join(", ");
    Err(Refusal::new(format!(
        "{} does not apply to {} (only to {envs})",
        item.id, review.env
    )))
}

/// Text that still says something once cleaned the way the log will store it.
fn has_text(text: &str, refusal: &str) -> Result<(), Refusal> {
    if sanitize(text, true).trim().is_empty() {
        return Err(Refusal::new(refusal));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::{ProbeKind, ProbeTemplate, Severity};
    use crate::ledger::event::Event;

    fn facts(computed: Decision, open_blockers: &[&str]) -> SignoffFacts {
        SignoffFacts {
            computed,
            version: None,
            upstream: None,
            open_blockers: open_blockers.iter().map(|b| b.to_string()).collect(),
            counts: StatusCounts::new(),
            items: ItemStatuses::new(),
        }
    }

    fn manual(id: &str) -> Item {
        Item {
            id: id.into(),
            title: id.into(),
            severity: Severity::High,
            help: String::new(),
            links: Vec::new(),
            envs: None,
            depends_on: Vec::new(),
            evidence: false,
            probe: None,
            line: None,
        }
    }

    fn probed(id: &str) -> Item {
        Item {
            probe: Some(ProbeTemplate {
                kind: ProbeKind::Http,
                raw: Default::default(),
            }),
            ..manual(id)
        }
    }

    fn now() -> jiff::Timestamp {
        "2026-03-10T15:00:00Z".parse().expect("literal timestamp")
    }

    fn review(state: &LogState) -> Standing<'_> {
        Standing {
            env: "prod",
            read_only: false,
            state,
            head: "",
            now: now(),
        }
    }

    fn with(events: Vec<EventKind>) -> LogState {
        let events: Vec<Event> = events
            .into_iter()
            .enumerate()
            .map(|(i, kind)| Event {
                seq: i as u64 + 1,
                at: now(),
                by: "alice".into(),
                groups: Vec::new(),
                kind,
                prev: String::new(),
                hash: String::new(),
            })
            .collect();
        LogState::from_events(&events)
    }

    fn refused(result: Result<(), Refusal>) -> String {
        match result {
            Err(r) => r.message,
            Ok(()) => panic!("expected a refusal"),
        }
    }

    #[test]
    fn a_probe_item_cannot_be_ticked() {
        let state = LogState::default();
        let message = refused(tick(&review(&state), &probed("tls-cert"), None));
        assert_eq!(
            message,
            "tls-cert is checked by a probe; a failing probe is closed only by a waiver"
        );
    }

    #[test]
    fn an_evidence_item_needs_a_note_given_now_or_already_there() {
        let item = Item {
            evidence: true,
            ..manual("restore-drill")
        };
        let empty = LogState::default();
        let message = refused(tick(&review(&empty), &item, None));
        assert!(
            message.starts_with("restore-drill needs evidence"),
            "{message}"
        );
        assert!(tick(&review(&empty), &item, Some("https://tickets/42")).is_ok());
        assert!(tick(&review(&empty), &item, Some(" \u{1b}[0m ")).is_err());

        let noted = with(vec![EventKind::Note {
            item: "restore-drill".into(),
            text: "drill on 3 March".into(),
        }]);
        assert!(tick(&review(&noted), &item, None).is_ok());
    }

    #[test]
    fn ticks_and_waivers_must_exist_to_be_withdrawn() {
        let state = LogState::default();
        let item = manual("runbook");
        assert_eq!(
            refused(untick(&review(&state), &item)),
            "runbook is not ticked"
        );
        assert_eq!(
            refused(unwaive(&review(&state), &item)),
            "runbook has no waiver"
        );
        let ticked = with(vec![EventKind::Tick {
            item: "runbook".into(),
        }]);
        assert!(untick(&review(&ticked), &item).is_ok());
        assert_eq!(
            refused(tick(&review(&ticked), &item, None)),
            "runbook is already ticked (by alice at 2026-03-10T15:00:00Z)"
        );
    }

    #[test]
    fn a_waiver_needs_a_reason_and_a_date_not_past() {
        let state = LogState::default();
        let item = probed("hsts");
        let r = review(&state);
        assert!(refused(waive(&r, &item, "  ", None)).contains("needs a reason"));
        let yesterday = jiff::civil::date(2026, 3, 9);
        let message = refused(waive(&r, &item, "accepted", Some(yesterday)));
        assert!(
            message.contains("2026-03-09") && message.contains("past"),
            "{message}"
        );
        assert!(waive(&r, &item, "accepted", Some(jiff::civil::date(2026, 3, 10))).is_ok());
        assert!(waive(&r, &item, "accepted", None).is_ok());
    }

    #[test]
    fn until_dates_are_strict() {
        assert_eq!(parse_until("2026-04-01"), Ok(jiff::civil::date(2026, 4, 1)));
        assert_eq!(
            parse_until("2026-13-45").map_err(|r| r.message),
            Err("2026-13-45 is not a date: there is no month 13".to_string())
        );
        assert_eq!(
            parse_until("2026-02-30").map_err(|r| r.message),
            Err("2026-02-30 is not a date: 2026-02 has 28 days".to_string())
        );
        for bad in [
            "2026-4-1",
            "2026-02-30",
            "tomorrow",
            "2026-04-01T00:00:00Z",
            "",
        ] {
            assert!(parse_until(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn signoff_follows_the_computed_decision() {
        let state = LogState::default();
        let r = review(&state);
        let message = refused(signoff(
            &r,
            SignoffDecision::Go,
            &facts(Decision::NoGo, &["db-backup"]),
        ));
        assert_eq!(
            message,
            "cannot sign off go: the review is NO-GO (open blockers: db-backup)"
        );
        assert!(
            refused(signoff(
                &r,
                SignoffDecision::GoWithConditions,
                &facts(Decision::NoGo, &["db-backup"])
            ))
            .contains("while a blocker is open")
        );
        assert!(
            signoff(
                &r,
                SignoffDecision::GoWithConditions,
                &facts(Decision::GoWithConditions, &[])
            )
            .is_ok()
        );
        assert!(
            signoff(
                &r,
                SignoffDecision::Go,
                &facts(Decision::GoWithConditions, &[])
            )
            .is_ok()
        );
        assert!(
            signoff(
                &r,
                SignoffDecision::NoGo,
                &facts(Decision::NoGo, &["db-backup"])
            )
            .is_ok()
        );
    }

    #[test]
    fn a_read_only_environment_refuses_everything() {
        let state = LogState::default();
        let r = Standing {
            read_only: true,
            ..review(&state)
        };
        let item = manual("runbook");
        let results = [
            tick(&r, &item, Some("n")),
            note(&r, &item, "n"),
            waive(&r, &item, "r", None),
            signoff(&r, SignoffDecision::NoGo, &facts(Decision::NoGo, &[])),
        ];
        for result in results {
            assert!(refused(result).contains("prod is read-only"));
        }
    }

    #[test]
    fn an_item_outside_its_environments_is_not_ticked_or_waived() {
        let state = LogState::default();
        let item = Item {
            envs: Some(vec!["staging".into()]),
            ..manual("smoke")
        };
        let message = refused(tick(&review(&state), &item, None));
        assert_eq!(message, "smoke does not apply to prod (only to staging)");
        assert!(waive(&review(&state), &item, "r", None).is_err());
    }

    #[test]
    fn a_tick_with_a_note_is_planned_as_the_note_then_the_tick() {
        let state = LogState::default();
        let item = Item {
            evidence: true,
            ..manual("restore-drill")
        };
        let change = Change::Tick {
            item: item.clone(),
            note: Some("https://tickets/42".into()),
        };
        let kinds = plan(&review(&state), &change).expect("allowed with a note");
        assert_eq!(
            kinds,
            [
                EventKind::Note {
                    item: "restore-drill".into(),
                    text: "https://tickets/42".into()
                },
                EventKind::Tick {
                    item: "restore-drill".into()
                }
            ]
        );
        let bare = Change::Tick {
            item: item.clone(),
            note: None,
        };
        assert!(plan(&review(&state), &bare).is_err());
    }

    #[test]
    fn a_promoted_go_needs_the_upstream_signed_go_at_this_version() {
        use crate::review::roles::Upstream;
        let state = LogState::default();
        let r = review(&state);
        let with = |decision: Option<Decision>, signed_version: Option<&str>| SignoffFacts {
            version: Some("2".into()),
            upstream: Some(Upstream {
                environment: "staging".into(),
                decision,
                signers: vec!["alice".into()],
                signed_version: signed_version.map(String::from),
            }),
            ..facts(Decision::Go, &[])
        };
        assert!(signoff(&r, SignoffDecision::Go, &with(Some(Decision::Go), None)).is_ok());
        assert!(
            signoff(
                &r,
                SignoffDecision::GoWithConditions,
                &with(Some(Decision::GoWithConditions), None)
            )
            .is_ok()
        );
        assert_eq!(
            refused(signoff(&r, SignoffDecision::Go, &with(None, Some("1")))),
            "cannot sign off go in prod, which is promoted from staging: \
             staging signed version 1 and this is version 2: sign it off in staging first"
        );
        assert!(
            refused(signoff(
                &r,
                SignoffDecision::GoWithConditions,
                &with(Some(Decision::NoGo), None)
            ))
            .contains("staging is signed NO-GO (alice)")
        );
        assert!(
            refused(signoff(&r, SignoffDecision::Go, &with(None, None)))
                .contains("it is not signed go in staging yet")
        );
        // A no-go never needs the upstream.
        assert!(signoff(&r, SignoffDecision::NoGo, &with(None, None)).is_ok());
    }
}
