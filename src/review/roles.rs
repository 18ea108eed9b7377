//! Sign-off by role, and promotion (DESIGN section 4b).
//!
//! A checklist may require sign-offs by role (`signoff = { roles = [...] }`);
//! the config's `[roles]` says who holds each role, by name or by a group
//! the cluster reports (`group:NAME`). Only *current* sign-offs count: one
//! that no tick, untick, waiver or withdrawal follows, made at the
//! checklist's present version, and (when today's statuses are known) whose
//! recorded statuses are today's. Each person's latest sign-off is theirs;
//! required roles are filled by distinct people (a matching, so one person
//! holding two roles cannot fill both, and a choice that leaves a role empty
//! is not taken when another fills them all). A role holder's current
//! `no-go` makes the review NO-GO; a sign-off by someone who holds none of
//! the required roles is a comment.
//!
//! An environment may follow another (`promote_from`): [`upstream`] reads
//! what the other environment's sign-offs say of the same checklist, and
//! the rules refuse a `go` unless it is signed there.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Decision, SectionVerdict};
use crate::checklist::model::Checklist;
use crate::ledger::event::{ItemStatuses, SignoffDecision};
use crate::ledger::{LogState, state::Signoff};

/// `[roles]`: each role's holders, as written (`alice`, `group:platform-sre`).
pub type Roles = BTreeMap<String, Vec<String>>;

/// The prefix that makes a `[roles]` entry a group.
pub const GROUP: &str = "group:";

/// Whether `name` (with `groups`) holds `role`.
pub fn holds(roles: &Roles, role: &str, name: &str, groups: &[String]) -> bool {
    roles.get(role).is_some_and(|members| {
        members.iter().any(|m| match m.strip_prefix(GROUP) {
            Some(group) => groups.iter().any(|g| g == group),
            None => m == name,
        })
    })
}

/// What to tell `name` after they signed a checklist that requires
/// `required`: which roles their sign-off counts for, or that it is only a
/// comment. `None` when the checklist requires no roles.
pub fn counted_as(
    required: &[String],
    roles: &Roles,
    name: &str,
    groups: &[String],
) -> Option<String> {
    if required.is_empty() {
        return None;
    }
    let held: Vec<&str> = required
        .iter()
        .filter(|r| holds(roles, r, name, groups))
        .map(String::as_str)
        .collect();
    Some(if held.is_empty() {
        format!(
            "recorded as a comment, not counted: {name} holds none of the roles it needs ({})",
            required.join(", ")
        )
    } else {
        format!("it counts for {}", held.join(" or "))
    })
}

/// One sign-off, as the tally names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignedBy {
    pub by: String,
    pub decision: SignoffDecision,
    pub at: jiff::Timestamp,
    pub seq: u64,
}

impl SignedBy {
    fn of(s: &Signoff) -> SignedBy {
        SignedBy {
            by: s.by.clone(),
            decision: s.decision,
            at: s.at,
            seq: s.seq,
        }
    }
}

/// A required role and who fills it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Seat {
    pub role: String,
    /// The current `go` (or `go-with-conditions`) sign-off that fills it.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub signer: Option<SignedBy>,
    /// Who may fill it, as `[roles]` says, when nobody has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

/// What the sign-offs of one review say, beside what its statuses say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signatures {
    /// The decision from the statuses alone: what a sign-off is judged
    /// against.
    pub status_decision: Decision,
    /// The required roles, in the checklist's order.
    pub roles: Vec<Seat>,
    /// Current `no-go` sign-offs by holders of a required role.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vetoes: Vec<SignedBy>,
    /// Sign-offs by people who hold none of the required roles: recorded,
    /// not counted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comments: Vec<SignedBy>,
    /// The latest sign-off, whoever made it, and whether it is stale (a
    /// status changed since, or the checklist's version did).
    #[serde(skip)]
    pub latest: Option<(SignedBy, bool)>,
}

impl Signatures {
    /// Whether the checklist requires roles at all.
    pub fn required(&self) -> bool {
        !self.roles.is_empty()
    }

    /// Nothing to report beside the statuses: no roles are required.
    pub fn unrequired(&self) -> bool {
        !self.required()
    }

    /// Signatures of nothing: no roles, no sign-offs.
    pub fn none(status_decision: Decision) -> Signatures {
        Signatures {
            status_decision,
            roles: Vec::new(),
            vetoes: Vec::new(),
            comments: Vec::new(),
            latest: None,
        }
    }

    /// The decision the current sign-offs give: `None` until every
    /// required role is filled (or, with no roles, until someone signed
    /// since the last change).
    pub fn signed(&self) -> Option<Decision> {
        if !self.required() {
            return match &self.latest {
                Some((s, false)) => Some(s.decision.into()),
                _ => None,
            };
        }
        if !self.vetoes.is_empty() {
            return Some(Decision::NoGo);
        }
        let mut worst = Decision::Go;
        for seat in &self.roles {
            worst = worse(worst, seat.signer.as_ref()?.decision.into());
        }
        Some(worst)
    }

    /// The review's decision: its statuses', and with roles required, GO
    /// only when every role has signed (the worst of what they signed).
    pub fn decision(&self) -> Decision {
        if !self.required() {
            return self.status_decision;
        }
        match self.signed() {
            Some(signed) => worse(self.status_decision, signed),
            None => Decision::NoGo,
        }
    }

    /// The required roles nobody fills yet.
    pub fn missing(&self) -> impl Iterator<Item = &Seat> {
        self.roles.iter().filter(|s| s.signer.is_none())
    }

    /// Why the sign-offs hold the review back, in a few words; `None` when
    /// they do not.
    pub fn why(&self) -> Option<String> {
        if !self.required() {
            return None;
        }
        if let Some(v) = self.vetoes.first() {
            return Some(format!("{} signed no-go", v.by));
        }
        let missing: Vec<&str> = self.missing().map(|s| s.role.as_str()).collect();
        (!missing.is_empty()).then(|| format!("awaiting sign-off: {}", missing.join(", ")))
    }
}

/// The worse of two decisions.
pub fn worse(a: Decision, b: Decision) -> Decision {
    let verdict = |d: Decision| match d {
        Decision::Go => SectionVerdict::Ready,
        Decision::GoWithConditions => SectionVerdict::Conditional,
        Decision::NoGo => SectionVerdict::NotReady,
    };
    super::decision([verdict(a), verdict(b)])
}

/// Reads the sign-offs of `state` against the roles `required`.
/// `today` is each item's status now (`None` when unknown: another
/// environment's review, whose probes are not run here); `version` the
/// checklist's version now.
pub fn signatures(
    required: &[String],
    roles: &Roles,
    state: &LogState,
    today: Option<&ItemStatuses>,
    version: &str,
    status_decision: Decision,
) -> Signatures {
    let current = |s: &Signoff| {
        s.seq > state.last_change
            && s.version.as_deref().unwrap_or("") == version
            && today.is_none_or(|t| &s.items == t)
    };
    let latest = state
        .signoffs
        .last()
        .map(|s| (SignedBy::of(s), !current(s)));
    // Each person's latest sign-off speaks for them.
    let mut by_person: Vec<&Signoff> = Vec::new();
    for s in &state.signoffs {
        match by_person.iter_mut().find(|p| p.by == s.by) {
            Some(p) => *p = s,
            None => by_person.push(s),
        }
    }
    let in_role = |s: &Signoff| required.iter().any(|r| holds(roles, r, &s.by, &s.groups));
    let comments = if required.is_empty() {
        Vec::new()
    } else {
        state
            .signoffs
            .iter()
            .filter(|s| !in_role(s))
            .map(SignedBy::of)
            .collect()
    };
    let counted: Vec<&Signoff> = by_person
        .into_iter()
        .filter(|s| current(s) && in_role(s))
        .collect();
    let vetoes = counted
        .iter()
        .filter(|s| s.decision == SignoffDecision::NoGo)
        .map(|s| SignedBy::of(s))
        .collect();
    let goes: Vec<&Signoff> = counted
        .into_iter()
        .filter(|s| s.decision != SignoffDecision::NoGo)
        .collect();
    let filled = assign(required.len(), goes.len(), |r, p| {
        holds(roles, &required[r], &goes[p].by, &goes[p].groups)
    });
    let seats = required
        .iter()
        .zip(filled)
        .map(|(role, person)| Seat {
            role: role.clone(),
            signer: person.map(|p| SignedBy::of(goes[p])),
            missing: if person.is_some() {
                Vec::new()
            } else {
                roles.get(role).cloned().unwrap_or_default()
            },
        })
        .collect();
    Signatures {
        status_decision,
        roles: seats,
        vetoes,
        comments,
        latest,
    }
}

/// The most roles filled by distinct people: `can(role, person)` says who
/// may fill what. Augmenting paths (Kuhn), ample for a handful of roles.
fn assign(roles: usize, people: usize, can: impl Fn(usize, usize) -> bool) -> Vec<Option<usize>> {
    fn augment(
        role: usize,
        people: usize,
        can: &dyn Fn(usize, usize) -> bool,
        seen: &mut [bool],
        seat_of: &mut [Option<usize>],
    ) -> bool {
        for p in 0..people {
            if !can(role, p) || seen[p] {
                continue;
            }
            seen[p] = true;
            let free = match seat_of[p] {
                None => true,
                Some(other) => augment(other, people, can, seen, seat_of),
            };
            if free {
                seat_of[p] = Some(role);
                return true;
            }
        }
        false
    }
    let mut seat_of: Vec<Option<usize>> = vec![None; people];
    for role in 0..roles {
        let mut seen = vec![false; people];
        augment(role, people, &can, &mut seen, &mut seat_of);
    }
    let mut filled = vec![None; roles];
    for (p, seat) in seat_of.iter().enumerate() {
        if let Some(r) = seat {
            filled[*r] = Some(p);
        }
    }
    filled
}

/// What the environment a review is promoted from says of the same
/// checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upstream {
    pub environment: String,
    /// What its current sign-offs at this version decide; `None` when they
    /// decide nothing yet.
    pub decision: Option<Decision>,
    /// Who signed it (the role holders, or the latest signer).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<String>,
    /// The version its latest sign-off was made at, when that is not this
    /// checklist's version now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_version: Option<String>,
}

impl Upstream {
    /// Whether a `go` may follow it.
    pub fn allows_go(&self) -> bool {
        matches!(
            self.decision,
            Some(Decision::Go | Decision::GoWithConditions)
        )
    }

    /// `staging GO (alice, bob)`, `staging not signed`.
    pub fn label(&self) -> String {
        match self.decision {
            Some(d) if self.signers.is_empty() => format!("{} {}", self.environment, d.label()),
            Some(d) => format!(
                "{} {} ({})",
                self.environment,
                d.label(),
                self.signers.join(", ")
            ),
            None => match &self.signed_version {
                Some(v) => format!("{} signed version {v} only", self.environment),
                None => format!("{} not signed", self.environment),
            },
        }
    }
}

/// What environment `env`'s log (`state`) says of `checklist`, for a
/// review promoted from it.
pub fn upstream(checklist: &Checklist, roles: &Roles, env: &str, state: &LogState) -> Upstream {
    let sig = signatures(
        &checklist.signoff_roles,
        roles,
        state,
        None,
        &checklist.version,
        Decision::Go,
    );
    let decision = sig.signed();
    let signers = if decision.is_none() {
        Vec::new()
    } else if sig.required() {
        if sig.vetoes.is_empty() {
            sig.roles
                .iter()
                .filter_map(|s| s.signer.as_ref().map(|s| s.by.clone()))
                .collect()
        } else {
            sig.vetoes.iter().map(|v| v.by.clone()).collect()
        }
    } else {
        sig.latest.iter().map(|(s, _)| s.by.clone()).collect()
    };
    let signed_version = state
        .signoffs
        .last()
        .map(|s| s.version.clone().unwrap_or_default())
        .filter(|v| *v != checklist.version);
    Upstream {
        environment: env.to_string(),
        decision,
        signers,
        signed_version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::event::{Event, EventKind};

    fn roles() -> Roles {
        [
            ("sre", vec!["alice", "group:platform-sre"]),
            ("security", vec!["bob", "alice"]),
            ("dba", vec!["carol"]),
        ]
        .into_iter()
        .map(|(r, m)| (r.to_string(), m.into_iter().map(String::from).collect()))
        .collect()
    }

    fn required(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    struct Log(Vec<Event>);

    impl Log {
        fn push(&mut self, by: &str, groups: &[&str], kind: EventKind) -> &mut Log {
            let seq = self.0.len() as u64 + 1;
            self.0.push(Event {
                seq,
                at: jiff::Timestamp::from_second(1_780_000_000 + seq as i64).expect("in range"),
                by: by.into(),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                kind,
                prev: String::new(),
                hash: String::new(),
            });
            self
        }
        fn sign(&mut self, by: &str, groups: &[&str], decision: SignoffDecision) -> &mut Log {
            self.push(
                by,
                groups,
                EventKind::Signoff {
                    decision,
                    version: Some("v1".into()),
                    note: None,
                    counts: Default::default(),
                    items: today(),
                    signed_hash: String::new(),
                },
            )
        }
        fn state(&self) -> LogState {
            LogState::from_events(&self.0)
        }
    }

    fn today() -> ItemStatuses {
        [("a".to_string(), "pass".to_string())].into()
    }

    fn sig(req: &[&str], log: &Log) -> Signatures {
        signatures(
            &required(req),
            &roles(),
            &log.state(),
            Some(&today()),
            "v1",
            Decision::Go,
        )
    }

    use SignoffDecision::{Go, GoWithConditions, NoGo};

    #[test]
    fn go_only_when_every_role_is_filled_by_a_different_person() {
        let mut log = Log(Vec::new());
        log.sign("alice", &[], Go);
        let s = sig(&["sre", "security"], &log);
        // Alice holds both roles but fills one.
        assert_eq!(s.decision(), Decision::NoGo);
        assert_eq!(s.why().as_deref(), Some("awaiting sign-off: security"));
        assert_eq!(
            s.missing().next().map(|m| m.missing.clone()),
            Some(vec!["bob".to_string(), "alice".to_string()])
        );
        log.sign("dan", &["platform-sre"], Go);
        let s = sig(&["sre", "security"], &log);
        // Dan fills sre through his group, so alice moves to security.
        assert_eq!(s.decision(), Decision::Go);
        let seats: Vec<(&str, &str)> = s
            .roles
            .iter()
            .map(|r| {
                (
                    r.role.as_str(),
                    r.signer.as_ref().map_or("", |s| s.by.as_str()),
                )
            })
            .collect();
        assert_eq!(seats, [("sre", "dan"), ("security", "alice")]);
    }

    #[test]
    fn outsiders_are_comments_and_a_holders_no_go_is_no_go() {
        let mut log = Log(Vec::new());
        log.sign("mallory", &[], Go).sign("carol", &[], Go);
        let s = sig(&["dba"], &log);
        assert_eq!(s.decision(), Decision::Go);
        assert_eq!(s.comments.len(), 1);
        assert_eq!(s.comments[0].by, "mallory");
        log.sign("mallory", &[], NoGo);
        assert_eq!(
            sig(&["dba"], &log).decision(),
            Decision::Go,
            "a comment vetoes nothing"
        );
        log.sign("carol", &[], NoGo);
        let s = sig(&["dba"], &log);
        assert_eq!(s.decision(), Decision::NoGo);
        assert_eq!(s.why().as_deref(), Some("carol signed no-go"));
    }

    #[test]
    fn a_status_change_or_new_statuses_make_sign_offs_stale() {
        let mut log = Log(Vec::new());
        log.sign("carol", &[], GoWithConditions);
        assert_eq!(sig(&["dba"], &log).decision(), Decision::GoWithConditions);
        // Another set of statuses today: the sign-off was of something else.
        let other: ItemStatuses = [("a".to_string(), "fail".to_string())].into();
        let s = signatures(
            &required(&["dba"]),
            &roles(),
            &log.state(),
            Some(&other),
            "v1",
            Decision::Go,
        );
        assert_eq!(s.decision(), Decision::NoGo);
        // A later version of the checklist.
        let s = signatures(
            &required(&["dba"]),
            &roles(),
            &log.state(),
            Some(&today()),
            "v2",
            Decision::Go,
        );
        assert_eq!(s.decision(), Decision::NoGo);
        // A note changes no status; a tick does.
        log.push(
            "bob",
            &[],
            EventKind::Note {
                item: "a".into(),
                text: "n".into(),
            },
        );
        assert_eq!(sig(&["dba"], &log).decision(), Decision::GoWithConditions);
        log.push("bob", &[], EventKind::Tick { item: "a".into() });
        let s = sig(&["dba"], &log);
        assert_eq!(s.decision(), Decision::NoGo);
        assert!(s.latest.as_ref().is_some_and(|(_, stale)| *stale));
    }

    #[test]
    fn without_roles_the_statuses_decide_and_upstream_reads_the_latest() {
        let mut log = Log(Vec::new());
        let s = sig(&[], &log);
        assert_eq!(s.decision(), Decision::Go);
        assert_eq!(s.signed(), None);
        log.sign("alice", &[], Go);
        assert_eq!(sig(&[], &log).signed(), Some(Decision::Go));
    }

    #[test]
    fn the_matching_finds_a_full_assignment_when_one_exists() {
        // Role 0 can be filled by 0 or 1, role 1 only by 0.
        let can = |r: usize, p: usize| matches!((r, p), (0, 0) | (0, 1) | (1, 0));
        assert_eq!(assign(2, 2, can), [Some(1), Some(0)]);
        assert_eq!(assign(2, 1, |_, _| true), [Some(0), None]);
    }
}
