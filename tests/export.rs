//! The sign-off document for a fixed review (frozen clock, fixed operator,
//! notes, waivers, a sign-off): golden files for Markdown, JSON and JUnit,
//! and structural checks that hostile text cannot break them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use gonogo::checklist::parse;
use gonogo::diag::Source;
use gonogo::export::{self, Document, EnvironmentDoc};
use gonogo::ledger::{Event, EventKind, LogState, LogView, SignoffDecision};
use gonogo::probe::{Evidence, Outcome, Verdict};
use gonogo::report::{self, Report};
use gonogo::review::Status;
use gonogo::review::status_counts;

const HOSTILE: &str = "a | b `code` <script>alert(1)</script> \u{1b}[31mred\u{1b}[0m\n## not a heading\n- [x] not an item";

fn at(minute: i64) -> jiff::Timestamp {
    // 2026-11-26 09:00 UTC plus `minute` minutes.
    jiff::Timestamp::from_second(1_795_683_600 + minute * 60).expect("in range")
}

fn outcome(verdict: Verdict, summary: &str, minute: i64) -> Outcome {
    let mut o = Outcome::new(verdict, summary, serde_json::json!({}));
    o.evidence = Evidence {
        taken_at: at(minute),
        duration: Duration::from_millis(12),
        ..o.evidence
    };
    o
}

fn event(seq: u64, minute: i64, kind: EventKind) -> Event {
    Event {
        seq,
        at: at(minute),
        by: "alice".into(),
        groups: Vec::new(),
        kind,
        prev: if seq == 1 {
            String::new()
        } else {
            format!("{:064x}", seq - 1)
        },
        hash: format!("{seq:064x}"),
    }
}

/// The shop review in prod: a waived failure, a ticked drill, hostile text
/// in a note and in probe evidence, and a sign-off before the last changes.
fn document(hostile: bool) -> Document {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/review/checklists/shop.toml"),
    )
    .expect("shop checklist");
    let checklist = parse::parse(Source::new("shop.toml", text), false).expect("valid checklist");
    let evil = |plain: &str| {
        if hostile {
            HOSTILE.to_string()
        } else {
            plain.to_string()
        }
    };
    let outcomes: HashMap<String, Outcome> = [
        (
            "db-secret",
            outcome(Verdict::Pass, "v1/Secret shop/shop-db satisfies expect", 1),
        ),
        (
            "oidc-secret",
            outcome(
                Verdict::Fail,
                "v1/Secret shop/shop-oidc: expect false (keys: OIDC_ISSUER)",
                1,
            ),
        ),
        (
            "replicas",
            outcome(Verdict::Pass, "all 2 apps/v1/Deployment satisfy expect", 1),
        ),
        (
            "limits",
            outcome(
                Verdict::Fail,
                &evil("1 of 2 apps/v1/Deployment fail: shop/shop-worker: no field resources"),
                2,
            ),
        ),
        (
            "pdb",
            outcome(
                Verdict::Pass,
                "policy/v1/PodDisruptionBudget shop/shop-api exists",
                2,
            ),
        ),
        (
            "monitors",
            outcome(
                Verdict::Error,
                "cannot list monitoring.coreos.com/v1/ServiceMonitor: forbidden",
                2,
            ),
        ),
    ]
    .into_iter()
    .map(|(id, o)| (id.to_string(), o))
    .collect();
    let mut items = BTreeMap::new();
    items.insert("oidc-secret".to_string(), "fail".to_string());
    items.insert("runbook".to_string(), "pending".to_string());
    let events = vec![
        event(
            1,
            10,
            EventKind::Note {
                item: "dr-drill".into(),
                text: "https://wiki.example.com/dr/2026-q4".into(),
            },
        ),
        event(
            2,
            11,
            EventKind::Tick {
                item: "dr-drill".into(),
            },
        ),
        event(
            3,
            12,
            EventKind::Waive {
                item: "oidc-secret".into(),
                reason: "audience ships in 1.5; accepted by the security team".into(),
                until: Some(jiff::civil::date(2026, 12, 31)),
            },
        ),
        event(
            4,
            20,
            EventKind::Signoff {
                decision: SignoffDecision::GoWithConditions,
                version: Some("2026-03".into()),
                note: Some("runbook review booked for Monday".into()),
                counts: status_counts([Status::Pass, Status::Waived, Status::Pending]),
                items,
                signed_hash: format!("{:064x}", 3),
            },
        ),
        event(
            5,
            30,
            EventKind::Note {
                item: "limits".into(),
                text: evil("worker limits tracked in SHOP-42"),
            },
        ),
        event(
            6,
            31,
            EventKind::Tick {
                item: "runbook".into(),
            },
        ),
        event(
            7,
            32,
            EventKind::Note {
                item: "runbook".into(),
                text: "Reviewed with Dana.\nRollback tested in staging on the 24th.".into(),
            },
        ),
    ];
    let state = LogState::from_events(&events);
    let now = at(40);
    let checklist_report = report::checklist_report(
        &checklist,
        "prod",
        &state,
        &outcomes,
        &Default::default(),
        now,
    );
    let head = events.last().expect("events").hash.clone();
    let facts = LogView {
        state: state.clone(),
        events: events.len() as u64,
        head,
        ..LogView::default()
    };
    let log = export::log_doc(
        "reviews/shop/prod.jsonl",
        &facts,
        &events,
        &checklist_report,
        now,
    );
    Document {
        generated_at: now,
        generator: "gonogo (test)".into(),
        environments: vec![EnvironmentDoc {
            report: Report::new(
                "prod",
                "snapshot rendered/prod".into(),
                vec![checklist_report],
                now,
            ),
            logs: [("shop".to_string(), log)].into(),
        }],
    }
}

#[test]
fn markdown_golden() {
    insta::assert_snapshot!("signoff_md", export::markdown::render(&document(false)));
}

#[test]
fn json_golden() {
    insta::assert_snapshot!("signoff_json", export::json::render(&document(false)));
}

#[test]
fn junit_golden() {
    insta::assert_snapshot!("signoff_junit", export::junit::render(&document(false)));
}

/// What a Markdown parser sees: table rows, task-list items, headings.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    headings: Vec<String>,
    table_rows: usize,
    tasks: Vec<bool>,
    html: usize,
}

fn shape(md: &str) -> Shape {
    use pulldown_cmark::{Event as Md, Options, Parser, Tag, TagEnd};
    let mut shape = Shape::default();
    let mut in_heading = false;
    let mut heading = String::new();
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS) {
        match ev {
            Md::Start(Tag::Heading { .. }) => {
                in_heading = true;
                heading.clear();
            }
            Md::End(TagEnd::Heading(_)) => {
                in_heading = false;
                shape.headings.push(heading.clone());
            }
            Md::Text(t) | Md::Code(t) if in_heading => heading.push_str(&t),
            Md::Start(Tag::TableRow) => shape.table_rows += 1,
            Md::TaskListMarker(done) => shape.tasks.push(done),
            Md::Html(_) | Md::InlineHtml(_) => shape.html += 1,
            _ => {}
        }
    }
    shape
}

#[test]
fn markdown_has_the_expected_structure() {
    let md = export::markdown::render(&document(false));
    let s = shape(&md);
    // One task-list item per checklist item, ticked when closed.
    assert_eq!(
        s.tasks,
        vec![true, true, true, false, true, false, true, true],
        "db-secret pass, oidc-secret waived, replicas pass, limits fail, pdb pass, monitors error, runbook done, dr-drill done"
    );
    // Header table (3 rows), sign-offs (1), summary (3 sections).
    assert_eq!(s.table_rows, 3 + 1 + 3, "table rows, head rows excluded");
    assert!(
        s.headings
            .iter()
            .any(|h| h == "Decision: GO WITH CONDITIONS"),
        "{:?}",
        s.headings
    );
    assert!(
        s.headings
            .iter()
            .any(|h| h == "Changes since the last sign-off")
    );
    assert_eq!(s.html, 0);
    assert!(md.contains("- `oidc-secret`: fail → waived"), "{md}");
    assert!(md.contains("- `runbook`: pending → done"), "{md}");
}

/// A note written on two lines keeps them: in Markdown as a quote nested in
/// the item, in JSON as the text itself, in JUnit in the test's output.
#[test]
fn a_note_keeps_its_lines_in_every_document() {
    let doc = document(false);
    let md = export::markdown::render(&doc);
    assert!(
        md.contains(
            "  - Note by alice at 2026-11-26 09:32 UTC:\n    > Reviewed with Dana.\n    > Rollback tested in staging on the 24th.\n"
        ),
        "{md}"
    );
    use pulldown_cmark::{Event as Md, Parser, Tag};
    let mut depth_in_item = 0;
    let mut quoted_in_item = Vec::new();
    let mut in_quote = false;
    for ev in Parser::new(&md) {
        match ev {
            Md::Start(Tag::Item) => depth_in_item += 1,
            Md::End(pulldown_cmark::TagEnd::Item) => depth_in_item -= 1,
            Md::Start(Tag::BlockQuote(_)) => in_quote = true,
            Md::End(pulldown_cmark::TagEnd::BlockQuote(_)) => in_quote = false,
            Md::Text(t) if in_quote && depth_in_item > 0 => quoted_in_item.push(t.to_string()),
            _ => {}
        }
    }
    assert!(
        quoted_in_item.contains(&"Reviewed with Dana.".to_string())
            && quoted_in_item.contains(&"Rollback tested in staging on the 24th.".to_string()),
        "a quote nested in the list item: {quoted_in_item:?}"
    );
    let json = export::json::render(&doc);
    assert!(
        json.contains("Reviewed with Dana.\\nRollback tested in staging on the 24th."),
        "{json}"
    );
    let junit = export::junit::render(&doc);
    assert!(
        junit.contains("Reviewed with Dana.&#10;Rollback tested in staging on the 24th."),
        "{junit}"
    );
}

#[test]
fn hostile_text_does_not_change_the_structure() {
    let plain = export::markdown::render(&document(false));
    let hostile = export::markdown::render(&document(true));
    let (a, b) = (shape(&plain), shape(&hostile));
    assert_eq!(a.tasks, b.tasks);
    assert_eq!(a.table_rows, b.table_rows);
    assert_eq!(a.headings, b.headings);
    assert_eq!(b.html, 0, "no raw HTML gets through");
    assert!(!hostile.contains('\u{1b}'), "ANSI escapes are stripped");
    assert!(!hostile.contains("<script>"));

    let junit = export::junit::render(&document(true));
    assert!(!junit.contains('\u{1b}'));
    assert_eq!(
        suites(&junit),
        suites(&export::junit::render(&document(false)))
    );
}

/// Per suite: (name, tests, failures, errors, skipped) from the attributes,
/// checked against the test cases it holds.
fn suites(xml: &str) -> Vec<(String, usize, usize, usize, usize)> {
    use quick_xml::Reader;
    use quick_xml::events::Event as X;
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut counted = (0, 0, 0, 0);
    let mut declared = (String::new(), 0, 0, 0, 0);
    let attr = |e: &quick_xml::events::BytesStart, name: &str| -> String {
        e.try_get_attribute(name)
            .expect("well-formed attribute")
            .map(|a| a.unescape_value().expect("valid escape").to_string())
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            X::Start(e) if e.name().as_ref() == b"testsuite" => {
                let n = |k: &str| attr(&e, k).parse::<usize>().expect("count");
                declared = (
                    attr(&e, "name"),
                    n("tests"),
                    n("failures"),
                    n("errors"),
                    n("skipped"),
                );
                counted = (0, 0, 0, 0);
            }
            X::Start(e) | X::Empty(e) if e.name().as_ref() == b"testcase" => counted.0 += 1,
            X::Empty(e) if e.name().as_ref() == b"failure" => counted.1 += 1,
            X::Empty(e) if e.name().as_ref() == b"error" => counted.2 += 1,
            X::Empty(e) if e.name().as_ref() == b"skipped" => counted.3 += 1,
            X::End(e) if e.name().as_ref() == b"testsuite" => {
                assert_eq!(
                    (declared.1, declared.2, declared.3, declared.4),
                    counted,
                    "suite {} declares other counts than it holds",
                    declared.0
                );
                out.push(declared.clone());
            }
            X::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn junit_counts_match_per_suite() {
    let junit = export::junit::render(&document(false));
    let s = suites(&junit);
    assert_eq!(
        s,
        vec![
            ("shop / Secrets [prod]".to_string(), 2, 0, 0, 1),
            ("shop / Workloads [prod]".to_string(), 4, 1, 1, 0),
            ("shop / Operations [prod]".to_string(), 2, 0, 0, 0),
        ]
    );
}

#[test]
fn json_is_a_superset_of_check_json() {
    let value: serde_json::Value =
        serde_json::from_str(&export::json::render(&document(false))).expect("valid JSON");
    for key in ["generated_at", "environment", "decision", "checklists"] {
        assert!(value.get(key).is_some(), "missing {key}");
    }
    let log = &value["logs"]["shop"];
    assert_eq!(log["signoffs"][0]["decision"], "go-with-conditions");
    assert_eq!(log["waivers"]["oidc-secret"]["until"], "2026-12-31");
    assert_eq!(log["notes"]["dr-drill"][0]["by"], "alice");
    assert_eq!(log["head"], format!("{:064x}", 7));
}

/// Found by fuzzing (fuzz/regressions/export/): the statuses a sign-off
/// recorded and an event kind this version does not know come from the log
/// file, which anyone with write access may have made (and re-hashed);
/// neither can add a heading, a table row or HTML to the document.
#[test]
fn text_from_the_log_cannot_shape_the_document() {
    let plain = document(false);
    let mut hostile = document(false);
    let log = hostile.environments[0]
        .logs
        .get_mut("shop")
        .expect("the shop log");
    let changes = log.since_signoff.as_mut().expect("changes since sign-off");
    changes.status_changes.push(export::StatusChange {
        item: "dr-drill".into(),
        from: "x\n# injected | a | b |\n<script>".into(),
        to: "done\n## also".into(),
    });
    let mut odd = changes
        .events
        .first()
        .cloned()
        .expect("an event after the sign-off");
    odd.kind = "x\n# injected\n| a | b |\n|---|---|\n<b>".into();
    changes.events.push(odd);
    let md = export::markdown::render(&hostile);
    let (want, got) = (shape(&export::markdown::render(&plain)), shape(&md));
    assert_eq!(got.headings, want.headings, "{md}");
    assert_eq!(got.table_rows, want.table_rows, "{md}");
    assert_eq!(got.html, want.html, "{md}");
}

/// Found by fuzzing (fuzz/regressions/export/quoted-setext-heading): a
/// multi-line note is quoted line by line, and a line of `-` or `=` under
/// another, `---`, `+ x` or `1. x` must not become a heading, a rule or a
/// list inside the quote.
#[test]
fn a_multi_line_note_stays_text() {
    use pulldown_cmark::{Event as Md, Parser, Tag};
    let blocks = |md: &str| {
        Parser::new(md)
            .filter(|e| {
                matches!(
                    e,
                    Md::Start(Tag::Heading { .. } | Tag::List(_) | Tag::Item) | Md::Rule
                )
            })
            .count()
    };
    let plain = document(false);
    let mut hostile = document(false);
    let log = hostile.environments[0]
        .logs
        .get_mut("shop")
        .expect("the shop log");
    let notes = log.notes.values_mut().next().expect("a note");
    notes[0].text = "x\n-\nDecision: GO\n===\n---\n+ plus\n- dash\n12. twelve\n3) three".into();
    let md = export::markdown::render(&hostile);
    assert_eq!(
        blocks(&md),
        blocks(&export::markdown::render(&plain)),
        "{md}"
    );
    assert!(md.contains("> 12\\. twelve"), "{md}");
}
