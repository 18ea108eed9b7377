//! The review of a checklist in one environment: the status model (an
//! item's effective status, section verdicts, the decision and the critical
//! path, DESIGN section 3), the rules every change must pass, and the one
//! path that records a change in the sign-off log.

pub mod record;
pub mod roles;
pub mod rules;

pub use record::{RecordError, record};
pub use rules::{Change, Refusal, SignoffFacts, Standing};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt;

use serde::Serialize;

use crate::checklist::model::{Checklist, Item, Severity};
use crate::ledger::LogState;
use crate::probe::{Outcome, Verdict};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Error,
    Pending,
    Done,
    Waived,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Pass,
        Status::Fail,
        Status::Error,
        Status::Pending,
        Status::Done,
        Status::Waived,
        Status::Skipped,
    ];

    pub fn is_open(self) -> bool {
        matches!(self, Status::Fail | Status::Error | Status::Pending)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Error => "error",
            Status::Pending => "pending",
            Status::Done => "done",
            Status::Waived => "waived",
            Status::Skipped => "skipped",
        }
    }
}

/// Counts `statuses` by name, all seven named (zeros included), as a
/// sign-off records them.
pub fn status_counts(statuses: impl IntoIterator<Item = Status>) -> crate::ledger::StatusCounts {
    let mut counts: crate::ledger::StatusCounts = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), 0))
        .collect();
    for status in statuses {
        *counts.entry(status.as_str().to_string()).or_default() += 1;
    }
    counts
}

impl From<Decision> for crate::ledger::SignoffDecision {
    /// The sign-off that says the same as the computed decision: what a
    /// signer is offered first.
    fn from(d: Decision) -> Self {
        use crate::ledger::SignoffDecision as S;
        match d {
            Decision::Go => S::Go,
            Decision::GoWithConditions => S::GoWithConditions,
            Decision::NoGo => S::NoGo,
        }
    }
}

impl From<crate::ledger::SignoffDecision> for Decision {
    /// The decision a sign-off says.
    fn from(d: crate::ledger::SignoffDecision) -> Self {
        use crate::ledger::SignoffDecision as S;
        match d {
            S::Go => Decision::Go,
            S::GoWithConditions => Decision::GoWithConditions,
            S::NoGo => Decision::NoGo,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An item's status with the facts that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemStatus {
    pub status: Status,
    /// A waiver exists but its `until` date has passed: shown as expired.
    pub expired_waiver: bool,
}

/// The effective status of `item` in `env` (DESIGN section 3: the first rule
/// that applies wins).
pub fn item_status(
    item: &Item,
    env: &str,
    state: &LogState,
    outcome: Option<&Outcome>,
    now: jiff::Timestamp,
) -> ItemStatus {
    let waiver = state.waiver(&item.id);
    let expired_waiver = waiver.is_some_and(|w| !w.is_live(now));
    let status = if !item.applies_to(env) {
        Status::Skipped
    } else if waiver.is_some_and(|w| w.is_live(now)) {
        Status::Waived
    } else if item.is_manual() {
        if state.tick(&item.id).is_some() {
            Status::Done
        } else {
            Status::Pending
        }
    } else {
        match outcome.map(|o| o.verdict) {
            Some(Verdict::Pass) => Status::Pass,
            Some(Verdict::Fail) => Status::Fail,
            Some(Verdict::Error) => Status::Error,
            None => Status::Pending,
        }
    };
    ItemStatus {
        status,
        expired_waiver,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SectionVerdict {
    #[serde(rename = "READY")]
    Ready,
    #[serde(rename = "CONDITIONAL")]
    Conditional,
    #[serde(rename = "NOT_READY")]
    NotReady,
}

impl SectionVerdict {
    pub fn label(self) -> &'static str {
        match self {
            SectionVerdict::Ready => "READY",
            SectionVerdict::Conditional => "CONDITIONAL",
            SectionVerdict::NotReady => "NOT READY",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Decision {
    #[serde(rename = "GO")]
    Go,
    #[serde(rename = "GO_WITH_CONDITIONS")]
    GoWithConditions,
    #[serde(rename = "NO_GO")]
    NoGo,
}

impl Decision {
    pub fn label(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::GoWithConditions => "GO WITH CONDITIONS",
            Decision::NoGo => "NO-GO",
        }
    }

    /// A few letters for a tab: `GO`, `COND`, `NO-GO`.
    pub fn short(self) -> &'static str {
        match self {
            Decision::Go => "GO",
            Decision::GoWithConditions => "COND",
            Decision::NoGo => "NO-GO",
        }
    }

    /// The same rule as a section verdict, named for the whole review.
    pub fn from_verdict(v: SectionVerdict) -> Decision {
        match v {
            SectionVerdict::Ready => Decision::Go,
            SectionVerdict::Conditional => Decision::GoWithConditions,
            SectionVerdict::NotReady => Decision::NoGo,
        }
    }
}

/// READY when nothing is open, CONDITIONAL when only non-blockers are open,
/// NOT READY when a blocker is open.
pub fn verdict<'a>(items: impl IntoIterator<Item = (Severity, Status)> + 'a) -> SectionVerdict {
    let mut verdict = SectionVerdict::Ready;
    for (severity, status) in items {
        if !status.is_open() {
            continue;
        }
        if severity == Severity::Blocker {
            return SectionVerdict::NotReady;
        }
        verdict = SectionVerdict::Conditional;
    }
    verdict
}

/// The decision over several verdicts: the worst one.
pub fn decision(verdicts: impl IntoIterator<Item = SectionVerdict>) -> Decision {
    let mut worst = SectionVerdict::Ready;
    for v in verdicts {
        worst = match (worst, v) {
            (_, SectionVerdict::NotReady) | (SectionVerdict::NotReady, _) => {
                SectionVerdict::NotReady
            }
            (_, SectionVerdict::Conditional) | (SectionVerdict::Conditional, _) => {
                SectionVerdict::Conditional
            }
            _ => SectionVerdict::Ready,
        };
    }
    Decision::from_verdict(worst)
}

/// The open blockers and highs, ordered so every item comes after the items
/// it depends on (and, among items free to go next, blockers first, then
/// checklist order). `statuses` maps item id to status.
pub fn critical_path<'a>(
    checklist: &'a Checklist,
    statuses: &HashMap<&str, Status>,
) -> Vec<&'a Item> {
    let on_path = |item: &Item| {
        item.severity <= Severity::High
            && statuses.get(item.id.as_str()).is_some_and(|s| s.is_open())
    };
    let items: Vec<&Item> = checklist.items().map(|(_, i)| i).collect();
    let by_id: HashMap<&str, &Item> = items.iter().map(|i| (i.id.as_str(), *i)).collect();
    let chosen: Vec<&Item> = items.iter().copied().filter(|i| on_path(i)).collect();

    // Dependencies through items off the path still order the path: walk
    // the whole depends_on graph, not just the chosen items' direct edges.
    // Each item's ancestors are walked once; then items are placed as soon
    // as every chosen ancestor is, the most severe (then the first) first.
    let index: HashMap<&str, usize> = chosen
        .iter()
        .enumerate()
        .map(|(n, i)| (i.id.as_str(), n))
        .collect();
    let mut waiting = vec![0usize; chosen.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); chosen.len()];
    for (n, item) in chosen.iter().enumerate() {
        for a in ancestors(item, &by_id) {
            if let Some(&m) = index.get(a)
                && m != n
            {
                waiting[n] += 1;
                dependents[m].push(n);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<(Severity, usize)>> = (0..chosen.len())
        .filter(|&n| waiting[n] == 0)
        .map(|n| Reverse((chosen[n].severity, n)))
        .collect();
    let mut placed = vec![false; chosen.len()];
    let mut path = Vec::with_capacity(chosen.len());
    while let Some(Reverse((_, n))) = ready.pop() {
        placed[n] = true;
        path.push(chosen[n]);
        for &d in &dependents[n] {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(Reverse((chosen[d].severity, d)));
            }
        }
    }
    // Cycles are load errors, so nothing is left over; guard anyway.
    path.extend(
        chosen
            .iter()
            .zip(&placed)
            .filter(|(_, p)| !**p)
            .map(|(i, _)| *i),
    );
    path
}

/// Every item `item` depends on, directly or not.
fn ancestors<'a>(item: &'a Item, by_id: &HashMap<&'a str, &'a Item>) -> HashSet<&'a str> {
    let mut seen = HashSet::new();
    let mut stack: Vec<&str> = item.depends_on.iter().map(String::as_str).collect();
    while let Some(id) = stack.pop() {
        if seen.insert(id)
            && let Some(dep) = by_id.get(id)
        {
            stack.extend(dep.depends_on.iter().map(String::as_str));
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::parse::parse;
    use crate::diag::Source;

    fn checklist(items: &str) -> Checklist {
        let text =
            format!("id = \"c\"\ntitle = \"C\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n{items}");
        parse(Source::new("c.toml", text.as_str()), true).expect("the test checklist parses")
    }

    fn item(id: &str, severity: &str, deps: &[&str]) -> String {
        format!(
            "[[sections.items]]\nid = \"{id}\"\ntitle = \"{id}\"\nseverity = \"{severity}\"\ndepends_on = {deps:?}\n"
        )
    }

    fn path(c: &Checklist, statuses: &[(&str, Status)]) -> Vec<String> {
        let statuses: HashMap<&str, Status> = statuses.iter().copied().collect();
        critical_path(c, &statuses)
            .into_iter()
            .map(|i| i.id.clone())
            .collect()
    }

    #[test]
    fn blockers_come_first_unless_they_wait_on_something() {
        let c = checklist(
            &[
                item("dns", "high", &[]),
                item("certs", "high", &[]),
                item("db", "blocker", &[]),
                // Waits on `certs` through `proxy`, which is done and off
                // the path: the order still holds.
                item("proxy", "medium", &["certs"]),
                item("ingress", "blocker", &["proxy"]),
                item("docs", "low", &[]),
            ]
            .concat(),
        );
        let open = Status::Fail;
        let got = path(
            &c,
            &[
                ("dns", open),
                ("certs", Status::Pending),
                ("db", open),
                ("proxy", Status::Pass),
                ("ingress", open),
                ("docs", open),
            ],
        );
        assert_eq!(got, ["db", "dns", "certs", "ingress"]);
    }

    #[test]
    fn closed_items_are_left_out() {
        let c = checklist(&[item("a", "blocker", &[]), item("b", "high", &["a"])].concat());
        assert_eq!(
            path(&c, &[("a", Status::Done), ("b", Status::Error)]),
            ["b"]
        );
        assert!(path(&c, &[("a", Status::Waived), ("b", Status::Pass)]).is_empty());
    }

    /// A long chain of highs, written last to first: every one must wait
    /// for the one it depends on.
    #[test]
    fn a_long_chain_is_ordered_by_its_dependencies() {
        let n = 300;
        let items: String = (0..n)
            .rev()
            .map(|k| {
                let dep = format!("i{}", k - 1);
                let deps: Vec<&str> = if k == 0 { vec![] } else { vec![dep.as_str()] };
                item(&format!("i{k}"), "high", &deps)
            })
            .collect();
        let c = checklist(&items);
        let ids: Vec<String> = (0..n).map(|k| format!("i{k}")).collect();
        let statuses: Vec<(&str, Status)> =
            ids.iter().map(|i| (i.as_str(), Status::Pending)).collect();
        assert_eq!(path(&c, &statuses), ids);
    }

    #[test]
    fn counts_name_every_status() {
        let counts = status_counts([Status::Done, Status::Done, Status::Fail]);
        assert_eq!(counts.len(), Status::ALL.len());
        assert_eq!(counts["done"], 2);
        assert_eq!(counts["fail"], 1);
        assert_eq!(counts["pass"], 0);
    }

    mod properties {
        //! The status model and the critical path as properties over
        //! generated reviews, beside the log's fold test (ledger::dir).

        use proptest::prelude::*;

        use super::*;

        fn severity() -> impl Strategy<Value = Severity> {
            prop::sample::select(Severity::ALL.to_vec())
        }

        fn status() -> impl Strategy<Value = Status> {
            prop::sample::select(Status::ALL.to_vec())
        }

        fn worst(a: SectionVerdict, b: SectionVerdict) -> SectionVerdict {
            decision([a, b]).into_verdict()
        }

        impl Decision {
            fn into_verdict(self) -> SectionVerdict {
                match self {
                    Decision::Go => SectionVerdict::Ready,
                    Decision::GoWithConditions => SectionVerdict::Conditional,
                    Decision::NoGo => SectionVerdict::NotReady,
                }
            }
        }

        /// A checklist of `n` items whose dependencies point only at
        /// earlier items (so there is no cycle, as the loader insists), with
        /// their severities and statuses.
        fn review() -> impl Strategy<Value = (Vec<Severity>, Vec<Vec<usize>>, Vec<Status>)> {
            (1usize..24).prop_flat_map(|n| {
                (
                    prop::collection::vec(severity(), n),
                    (0..n)
                        .map(|i| prop::collection::vec(0..i.max(1), 0..3.min(i + 1)))
                        .collect::<Vec<_>>(),
                    prop::collection::vec(status(), n),
                )
            })
        }

        fn build(severities: &[Severity], deps: &[Vec<usize>]) -> Checklist {
            let items: String = severities
                .iter()
                .zip(deps)
                .enumerate()
                .map(|(n, (sev, deps))| {
                    let deps: Vec<String> = deps
                        .iter()
                        .filter(|d| **d < n)
                        .map(|d| format!("i{d}"))
                        .collect();
                    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
                    item(&format!("i{n}"), sev.as_str(), &deps)
                })
                .collect();
            checklist(&items)
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

            /// READY iff nothing is open; NOT READY iff a blocker is open;
            /// the order of the items does not matter.
            #[test]
            fn a_verdict_is_decided_by_the_open_items(
                items in prop::collection::vec((severity(), status()), 0..40),
            ) {
                let v = verdict(items.iter().copied());
                let open = items.iter().any(|(_, s)| s.is_open());
                let open_blocker = items.iter().any(|(sev, s)| s.is_open() && *sev == Severity::Blocker);
                prop_assert_eq!(v == SectionVerdict::Ready, !open);
                prop_assert_eq!(v == SectionVerdict::NotReady, open_blocker);
                let mut reversed = items.clone();
                reversed.reverse();
                prop_assert_eq!(verdict(reversed), v);
            }

            /// Opening one more item never makes the verdict better; closing
            /// one never makes it worse.
            #[test]
            fn a_verdict_moves_with_its_items(
                items in prop::collection::vec((severity(), status()), 1..40),
                at in any::<prop::sample::Index>(),
                to in status(),
            ) {
                let before = verdict(items.iter().copied());
                let mut changed = items.clone();
                let i = at.index(items.len());
                let was_open = changed[i].1.is_open();
                changed[i].1 = to;
                let after = verdict(changed.iter().copied());
                if to.is_open() && !was_open {
                    prop_assert_eq!(worst(before, after), after);
                }
                if !to.is_open() && was_open {
                    prop_assert_eq!(worst(before, after), before);
                }
            }

            /// The decision is the worst verdict, whatever their order.
            #[test]
            fn the_decision_is_the_worst_verdict(
                verdicts in prop::collection::vec(
                    prop::sample::select(vec![
                        SectionVerdict::Ready,
                        SectionVerdict::Conditional,
                        SectionVerdict::NotReady,
                    ]),
                    0..12,
                ),
            ) {
                let d = decision(verdicts.iter().copied());
                let want = if verdicts.contains(&SectionVerdict::NotReady) {
                    Decision::NoGo
                } else if verdicts.contains(&SectionVerdict::Conditional) {
                    Decision::GoWithConditions
                } else {
                    Decision::Go
                };
                prop_assert_eq!(d, want);
                let mut reversed = verdicts.clone();
                reversed.reverse();
                prop_assert_eq!(decision(reversed), d);
            }

            /// The path holds exactly the open blockers and highs, each once,
            /// each after every item on the path it depends on (through
            /// items off the path too), and a blocker free to go goes before
            /// a high free to go.
            #[test]
            fn the_critical_path_is_the_open_blockers_and_highs_in_dependency_order(
                (severities, deps, statuses) in review(),
            ) {
                let c = build(&severities, &deps);
                let ids: Vec<String> = (0..severities.len()).map(|n| format!("i{n}")).collect();
                let map: HashMap<&str, Status> =
                    ids.iter().map(String::as_str).zip(statuses.iter().copied()).collect();
                let path: Vec<&str> = critical_path(&c, &map).iter().map(|i| i.id.as_str()).collect();
                let mut want: Vec<&str> = ids
                    .iter()
                    .zip(severities.iter().zip(&statuses))
                    .filter(|(_, (sev, st))| **sev <= Severity::High && st.is_open())
                    .map(|(id, _)| id.as_str())
                    .collect();
                let mut got = path.clone();
                got.sort_unstable();
                want.sort_unstable();
                prop_assert_eq!(&got, &want);
                let by_id: HashMap<&str, &Item> = c.items().map(|(_, i)| (i.id.as_str(), i)).collect();
                let at: HashMap<&str, usize> = path.iter().enumerate().map(|(n, id)| (*id, n)).collect();
                for (n, id) in path.iter().enumerate() {
                    for a in ancestors(by_id[id], &by_id) {
                        if let Some(&m) = at.get(a) {
                            prop_assert!(m < n, "{} comes before {} which it depends on", id, a);
                        }
                    }
                }
                // With no dependencies at all, every blocker precedes every high.
                if deps.iter().all(Vec::is_empty) {
                    let last_blocker = path.iter().rposition(|id| by_id[id].severity == Severity::Blocker);
                    let first_high = path.iter().position(|id| by_id[id].severity == Severity::High);
                    if let (Some(b), Some(h)) = (last_blocker, first_high) {
                        prop_assert!(b < h);
                    }
                }
            }
        }
    }
}
