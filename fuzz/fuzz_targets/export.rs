//! Sign-off documents: a whole review (the `shop` checklist of
//! tests/review, probe outcomes, a log with notes, a tick, a waiver and a
//! sign-off, as tests/export.rs builds it) whose outside text comes from
//! the fuzz input: note texts, evidence summaries and details, the waiver
//! reason, signer names and groups, the sign-off's note, version and item
//! statuses, an unknown event kind, the log's path and problems, the
//! cluster label. The input is split at 0xFF bytes (never part of UTF-8)
//! and each piece decoded lossily, so every other character can appear.
//!
//! Checked on every render:
//! - Markdown: no ESC, no C0/C1 control but '\n', no DEL, no bidi
//!   control; and the document has the same headings, table rows and
//!   task-list items as the same review with plain text, and no raw HTML.
//! - JUnit: well-formed XML read to the end by quick-xml, every suite's
//!   declared counts match the cases it holds, and no character that XML
//!   1.0 forbids (literally or as a character reference).
//! - JSON and SARIF: parse as JSON.
//! - Nothing panics.

#![no_main]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use gonogo::checklist::{Checklist, parse};
use gonogo::diag::Source;
use gonogo::export::{self, Document, EnvironmentDoc};
use gonogo::ledger::{Event, EventKind, LogState, LogView, SignoffDecision};
use gonogo::probe::{Evidence, Outcome, Verdict};
use gonogo::report::{self, Report};
use gonogo::review::{Status, status_counts};
use libfuzzer_sys::fuzz_target;

const SHOP: &str = include_str!("../../tests/review/checklists/shop.toml");

/// The repository root the SARIF URIs are relative to; it need not exist.
const ROOT: &str = "/repo";

static CHECKLIST: LazyLock<Checklist> = LazyLock::new(|| {
    parse::parse(
        Source::new(format!("{ROOT}/checklists/shop.toml"), SHOP),
        false,
    )
    .expect("the shop checklist is valid")
});

/// Findings recorded in FINDINGS.md, by name, and the slots whose text
/// reaches them. `GONOGO_FUZZ_KNOWN=name,name` keeps those slots plain, so
/// a run looks for new bugs instead of finding these again (both are fixed
/// now; the names stay for replaying old builds).
const KNOWN: &[(&str, usize)] = &[
    // A sign-off's recorded item status was written raw in "Changes since
    // the last sign-off".
    ("signoff-status-heading", 8),
    // An unknown event kind was written raw in "Changes since the last
    // sign-off".
    ("unknown-kind-heading", 14),
];

/// The slots to keep plain in this run.
static PLAIN_SLOTS: LazyLock<Vec<usize>> = LazyLock::new(|| {
    let wanted = std::env::var("GONOGO_FUZZ_KNOWN").unwrap_or_default();
    let names: Vec<&str> = wanted.split(',').map(str::trim).collect();
    KNOWN
        .iter()
        .filter(|(name, _)| names.contains(name))
        .map(|&(_, slot)| slot)
        .collect()
});

/// A known finding that is not about one slot: a line of a multi-line
/// note, reason or sign-off note that is `-` or `=` (a setext underline)
/// made the line above it a heading inside the quote the note is shown
/// in. With it in `GONOGO_FUZZ_KNOWN`, the structure inside block quotes
/// is not compared (the top level still is).
const QUOTED_SETEXT: &str = "quoted-setext-heading";

static TOP_LEVEL_ONLY: LazyLock<bool> = LazyLock::new(|| {
    std::env::var("GONOGO_FUZZ_KNOWN")
        .unwrap_or_default()
        .split(',')
        .any(|name| name.trim() == QUOTED_SETEXT)
});

/// What the Markdown looks like with plain text in every slot.
static PLAIN_SHAPE: LazyLock<Shape> =
    LazyLock::new(|| shape(&export::markdown::render(&document(&[]))));

fn at(minute: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_795_683_600 + minute * 60).expect("in range")
}

fn outcome(verdict: Verdict, summary: &str, detail: serde_json::Value, minute: i64) -> Outcome {
    let mut o = Outcome::new(verdict, summary, detail);
    o.evidence = Evidence {
        taken_at: at(minute),
        duration: Duration::from_millis(12),
        ..o.evidence
    };
    o
}

fn event(seq: u64, minute: i64, by: &str, groups: Vec<String>, kind: EventKind) -> Event {
    Event {
        seq,
        at: at(minute),
        by: by.to_string(),
        groups,
        kind,
        prev: if seq == 1 {
            String::new()
        } else {
            format!("{:064x}", seq - 1)
        },
        hash: format!("{seq:064x}"),
    }
}

/// The review, with `texts[i]` in slot `i` (a plain default where the
/// input has fewer pieces).
fn document(texts: &[String]) -> Document {
    let defaults = [
        "worker limits tracked in SHOP-42",                  // 0 note text
        "1 of 2 apps/v1/Deployment fail",                    // 1 evidence summary
        "audience ships in 1.5",                             // 2 waiver reason
        "alice",                                             // 3 signer
        "runbook review booked for Monday",                  // 4 sign-off note
        "2026-03",                                           // 5 sign-off version
        "shop-worker",                                       // 6 object name in evidence
        "no field resources",                                // 7 object reason
        "pending",                                           // 8 status in the sign-off
        "reviews/shop/prod.jsonl",                           // 9 log path
        "line 3 was edited",                                 // 10 log problem
        "snapshot rendered/prod",                            // 11 cluster label
        "Reviewed with Dana.\nRollback tested on the 24th.", // 12 second note
        "bob",                                               // 13 second signer
        "escalation",                                        // 14 unknown event kind
        "deploy/values.yml:12: memory: 10Gi",                // 15 file probe line
        "platform-team",                                     // 16 a group
        "runbook",                                           // 17 item a note names
    ];
    let t = |i: usize| -> &str {
        match texts.get(i) {
            Some(text) if !PLAIN_SLOTS.contains(&i) => text,
            _ => defaults[i],
        }
    };

    let detail = serde_json::json!({
        "objects": [
            {"namespace": "shop", "name": t(6), "ok": false, "reason": t(7),
             "keys": [t(8)], "file": format!("{ROOT}/deploy/{}", t(6)), "line": 3},
            {"namespace": t(7), "name": "shop-api", "ok": true}
        ],
        "too_many": true,
        "root": ROOT,
        "pattern": t(7),
        "lines": [t(15)],
    });
    let outcomes: HashMap<String, Outcome> = [
        (
            "db-secret",
            outcome(
                Verdict::Pass,
                "v1/Secret shop/shop-db satisfies expect",
                serde_json::json!({}),
                1,
            ),
        ),
        (
            "oidc-secret",
            outcome(Verdict::Fail, t(1), serde_json::json!({}), 1),
        ),
        (
            "replicas",
            outcome(
                Verdict::Pass,
                "all 2 apps/v1/Deployment satisfy expect",
                serde_json::json!({}),
                1,
            ),
        ),
        ("limits", outcome(Verdict::Fail, t(1), detail, 2)),
        (
            "pdb",
            outcome(
                Verdict::Pass,
                "policy/v1/PodDisruptionBudget shop/shop-api exists",
                serde_json::json!({}),
                2,
            ),
        ),
        (
            "monitors",
            outcome(Verdict::Error, t(7), serde_json::json!({}), 2),
        ),
    ]
    .into_iter()
    .map(|(id, o)| (id.to_string(), o))
    .collect();

    let mut items = BTreeMap::new();
    items.insert("oidc-secret".to_string(), "fail".to_string());
    items.insert("runbook".to_string(), t(8).to_string());
    items.insert(t(17).to_string(), t(8).to_string());
    let groups = vec![t(16).to_string()];
    let events = vec![
        event(
            1,
            10,
            t(3),
            groups.clone(),
            EventKind::Note {
                item: "dr-drill".into(),
                text: t(12).into(),
            },
        ),
        event(
            2,
            11,
            t(3),
            Vec::new(),
            EventKind::Tick {
                item: "dr-drill".into(),
            },
        ),
        event(
            3,
            12,
            t(13),
            groups.clone(),
            EventKind::Waive {
                item: "oidc-secret".into(),
                reason: t(2).into(),
                until: Some(jiff::civil::date(2026, 12, 31)),
            },
        ),
        event(
            4,
            20,
            t(13),
            groups,
            EventKind::Signoff {
                decision: SignoffDecision::GoWithConditions,
                version: Some(t(5).into()),
                note: Some(t(4).into()),
                counts: status_counts([Status::Pass, Status::Waived, Status::Pending]),
                items,
                signed_hash: format!("{:064x}", 3),
            },
        ),
        event(
            5,
            30,
            t(3),
            Vec::new(),
            EventKind::Note {
                item: "limits".into(),
                text: t(0).into(),
            },
        ),
        event(
            6,
            31,
            t(13),
            Vec::new(),
            EventKind::Tick {
                item: "runbook".into(),
            },
        ),
        event(
            7,
            32,
            t(3),
            Vec::new(),
            EventKind::Note {
                item: t(17).into(),
                text: t(12).into(),
            },
        ),
        event(
            8,
            33,
            t(13),
            Vec::new(),
            EventKind::Waive {
                item: "limits".into(),
                reason: t(0).into(),
                until: None,
            },
        ),
        event(
            9,
            34,
            t(3),
            Vec::new(),
            EventKind::Unknown {
                kind: t(14).into(),
                item: Some(t(17).into()),
            },
        ),
    ];
    let state = LogState::from_events(&events);
    let now = at(40);
    let checklist_report = report::checklist_report(
        &CHECKLIST,
        "prod",
        &state,
        &outcomes,
        &Default::default(),
        now,
    );
    let facts = LogView {
        state: state.clone(),
        events: events.len() as u64,
        head: events.last().expect("events").hash.clone(),
        problems: vec![t(10).to_string()],
        warnings: vec![t(10).to_string()],
    };
    let log = export::log_doc(t(9), &facts, &events, &checklist_report, now);
    Document {
        generated_at: now,
        generator: "gonogo (fuzz)".into(),
        environments: vec![EnvironmentDoc {
            report: Report::new("prod", t(11).to_string(), vec![checklist_report], now),
            logs: [("shop".to_string(), log)].into(),
        }],
    }
}

/// What a Markdown reader sees of the document's structure.
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
    let mut quote_depth = 0usize;
    for ev in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS) {
        match &ev {
            Md::Start(Tag::BlockQuote(_)) => quote_depth += 1,
            Md::End(TagEnd::BlockQuote(_)) => quote_depth = quote_depth.saturating_sub(1),
            _ => {}
        }
        // Raw HTML counts wherever it is; the rest only at the top level
        // when the quoted-setext finding is known.
        if quote_depth > 0 && *TOP_LEVEL_ONLY && !matches!(ev, Md::Html(_) | Md::InlineHtml(_)) {
            continue;
        }
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

/// Characters a terminal or a Markdown viewer could be fooled by.
fn bad_in_markdown(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The XML 1.0 `Char` production.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

fn check_markdown(md: &str) {
    if let Some((at, c)) = md.char_indices().find(|&(_, c)| bad_in_markdown(c)) {
        let line = md[..at].matches('\n').count() + 1;
        panic!("Markdown holds U+{:04X} on line {line}:\n{md}", c as u32);
    }
    let got = shape(md);
    assert_eq!(got.html, 0, "raw HTML got through:\n{md}");
    let plain = &*PLAIN_SHAPE;
    assert_eq!(got.headings, plain.headings, "headings differ:\n{md}");
    assert_eq!(got.table_rows, plain.table_rows, "table rows differ:\n{md}");
    assert_eq!(got.tasks, plain.tasks, "task-list items differ:\n{md}");
}

fn check_junit(xml: &str) {
    use quick_xml::Reader;
    use quick_xml::events::Event as X;
    if let Some(c) = xml.chars().find(|&c| !xml_char(c)) {
        panic!(
            "JUnit holds U+{:04X}, which XML 1.0 forbids:\n{xml}",
            c as u32
        );
    }
    let check_decoded = |text: &str, what: &str| {
        if let Some(c) = text.chars().find(|&c| !xml_char(c)) {
            panic!(
                "JUnit {what} decodes to U+{:04X}, which XML 1.0 forbids:\n{xml}",
                c as u32
            );
        }
    };
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut declared = [0usize; 4];
    let mut counted = [0usize; 4];
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit is not well-formed XML ({e}):\n{xml}"));
        let attrs = |e: &quick_xml::events::BytesStart| -> Vec<(String, String)> {
            e.attributes()
                .map(|a| {
                    let a = a.unwrap_or_else(|e| panic!("bad attribute ({e}):\n{xml}"));
                    let value = a
                        .unescape_value()
                        .unwrap_or_else(|e| panic!("bad escape in an attribute ({e}):\n{xml}"));
                    check_decoded(&value, "attribute");
                    (
                        String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                        value.into_owned(),
                    )
                })
                .collect()
        };
        match ev {
            X::Start(e) => {
                depth += 1;
                let a = attrs(&e);
                if e.name().as_ref() == b"testsuite" {
                    let n = |k: &str| -> usize {
                        a.iter()
                            .find(|(name, _)| name == k)
                            .and_then(|(_, v)| v.parse().ok())
                            .unwrap_or_else(|| panic!("testsuite without a count `{k}`:\n{xml}"))
                    };
                    declared = [n("tests"), n("failures"), n("errors"), n("skipped")];
                    counted = [0; 4];
                } else if e.name().as_ref() == b"testcase" {
                    counted[0] += 1;
                }
            }
            X::Empty(e) => {
                attrs(&e);
                match e.name().as_ref() {
                    b"testcase" => counted[0] += 1,
                    b"failure" => counted[1] += 1,
                    b"error" => counted[2] += 1,
                    b"skipped" => counted[3] += 1,
                    _ => {}
                }
            }
            X::End(e) => {
                depth = depth
                    .checked_sub(1)
                    .unwrap_or_else(|| panic!("unbalanced end tag:\n{xml}"));
                if e.name().as_ref() == b"testsuite" {
                    assert_eq!(
                        declared, counted,
                        "a suite's counts do not match its cases:\n{xml}"
                    );
                }
            }
            X::Text(t) => {
                let text = t
                    .decode()
                    .unwrap_or_else(|e| panic!("bad text ({e}):\n{xml}"));
                let text = quick_xml::escape::unescape(&text)
                    .unwrap_or_else(|e| panic!("bad escape in text ({e}):\n{xml}"));
                check_decoded(&text, "text");
            }
            X::GeneralRef(r) => {
                // `&amp;`, `&#10;`: a character reference must name a
                // character XML allows; a named one must be predefined.
                match r.resolve_char_ref() {
                    Ok(Some(c)) => check_decoded(&c.to_string(), "character reference"),
                    Ok(None) => {
                        let name = r
                            .decode()
                            .unwrap_or_else(|e| panic!("bad reference ({e}):\n{xml}"));
                        assert!(
                            matches!(name.as_ref(), "amp" | "lt" | "gt" | "quot" | "apos"),
                            "undefined entity &{name};:\n{xml}"
                        );
                    }
                    Err(e) => panic!("bad character reference ({e}):\n{xml}"),
                }
            }
            X::CData(t) => {
                let text = t
                    .decode()
                    .unwrap_or_else(|e| panic!("bad CDATA ({e}):\n{xml}"));
                check_decoded(&text, "CDATA");
            }
            X::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unclosed elements:\n{xml}");
}

fn check_json(text: &str, what: &str) {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        panic!("{what} is not JSON ({e}):\n{text}");
    }
}

fuzz_target!(|data: &[u8]| {
    let texts: Vec<String> = data
        .split(|&b| b == 0xff)
        .map(|piece| String::from_utf8_lossy(piece).into_owned())
        .collect();
    let doc = document(&texts);

    check_markdown(&export::markdown::render(&doc));
    check_junit(&export::junit::render(&doc));
    check_json(&export::json::render(&doc), "the JSON export");
    let checklists = std::slice::from_ref(&*CHECKLIST);
    let sources = export::sarif::Sources {
        checklists,
        config: None,
        root: PathBuf::from(ROOT),
    };
    check_json(&export::sarif::render(&doc, &sources), "the SARIF export");
});
