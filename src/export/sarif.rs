//! The review as SARIF 2.1.0, the OASIS format GitHub code scanning reads,
//! so that a pull request's own lines carry what the review found. One run
//! per environment; one rule per checklist item; one result per object out
//! of line (at its manifest's file and line), per line a `file` probe found
//! too many of, or per item when nothing more precise is known (at the item
//! in its checklist file). Only `fail` and `error` items are results, and
//! waived ones, suppressed with the waiver's reason.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{Document, EnvironmentDoc, LogDoc};
use crate::checklist::{Checklist, Item, Severity};
use crate::probe::Verdict;
use crate::report::ItemReport;
use crate::review::Status;
use crate::text::sanitize;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// What the document alone does not say: the checklists as loaded (their
/// help, where each item is written), the config file, and the folder the
/// URIs are relative to.
pub struct Sources<'a> {
    pub checklists: &'a [Checklist],
    pub config: Option<&'a Path>,
    /// The repository the config lies in, else the config's folder.
    pub root: PathBuf,
}

impl<'a> Sources<'a> {
    /// `base_dir` is the config's folder: URIs are relative to the
    /// repository around it, as code scanning reads them.
    pub fn new(checklists: &'a [Checklist], config: Option<&'a Path>, base_dir: &Path) -> Self {
        Sources {
            checklists,
            config,
            root: repository_root(base_dir),
        }
    }

    /// `path` as a URI relative to the root, with `/` between its parts;
    /// `None` when it lies outside (code scanning could not show it).
    fn uri(&self, path: &Path) -> Option<String> {
        let path = std::path::absolute(path).ok()?;
        let rel = path.strip_prefix(&self.root).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| percent_encode(&c.as_os_str().to_string_lossy()))
            .collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }
}

/// The work tree `dir` lies in (the nearest folder holding `.git`), else
/// `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map_or_else(|| dir.clone(), Path::to_path_buf)
}

/// Escapes all but the characters a URI path segment may hold as they are.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// How a severity shows in code scanning: blockers and highs are errors.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Blocker | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

pub fn render(doc: &Document, sources: &Sources) -> String {
    let runs: Vec<Value> = doc
        .environments
        .iter()
        .map(|env| run(env, doc, sources))
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": runs,
    });
    serde_json::to_string_pretty(&log).expect("a SARIF log is plain data: it always serializes")
        + "\n"
}

/// One environment's review as one run, its category the environment.
fn run(env: &EnvironmentDoc, doc: &Document, sources: &Sources) -> Value {
    let report = &env.report;
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for c in &report.checklists {
        let checklist = sources.checklists.iter().find(|l| l.id == c.id);
        for section in &c.sections {
            for item in &section.items {
                let written = checklist.and_then(|l| l.item(&item.id));
                let at = Entry {
                    checklist: &c.id,
                    item,
                    written,
                    rule: rules.len(),
                    environment: &report.environment,
                };
                rules.push(rule(&at, &section.id));
                let anchor = anchor(checklist, written, sources);
                results.extend(item_results(&at, env.logs.get(&c.id), anchor, sources));
            }
        }
    }
    let mut driver = json!({
        "name": "gonogo",
        "version": env!("CARGO_PKG_VERSION"),
    });
    let home = env!("CARGO_PKG_REPOSITORY");
    if !home.is_empty() {
        driver["informationUri"] = json!(home);
    }
    driver["rules"] = Value::Array(rules);
    json!({
        "tool": {"driver": driver},
        "automationDetails": {"id": format!("gonogo/{}/", report.environment)},
        // gonogo ran to the end: a probe that could not run is a result of
        // its own. (Code scanning sets aside a run that says otherwise,
        // so that a passing glitch does not close its alerts.)
        "invocations": [{
            "executionSuccessful": true,
            "endTimeUtc": doc.generated_at,
        }],
        "results": results,
        "properties": {
            "environment": report.environment,
            "decision": report.decision,
            "cluster": sanitize(&report.cluster, false),
        },
    })
}

/// One item of a run, and what its rule and results need to name it.
struct Entry<'a> {
    checklist: &'a str,
    item: &'a ItemReport,
    /// The item as its checklist file writes it (help, links).
    written: Option<&'a Item>,
    /// Its rule's index in the driver's rules.
    rule: usize,
    environment: &'a str,
}

impl Entry<'_> {
    fn rule_id(&self) -> String {
        format!("{}/{}", self.checklist, self.item.id)
    }
}

fn rule(at: &Entry, section: &str) -> Value {
    let item = at.item;
    let title = sanitize(&item.title, false);
    let help = at
        .written
        .map(|w| sanitize(w.help.trim(), true))
        .filter(|h| !h.is_empty());
    // The first paragraph of the help, as plain text.
    let full = help
        .as_deref()
        .and_then(|h| h.split("\n\n").next())
        .map_or_else(|| title.clone(), |p| p.replace('\n', " "));
    let mut rule = json!({
        "id": at.rule_id(),
        "name": item.id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": full},
    });
    if let Some(help) = help {
        rule["help"] = json!({"text": help, "markdown": help});
    }
    if let Some(link) = at.written.and_then(|w| w.links.first()) {
        rule["helpUri"] = json!(link);
    }
    rule["defaultConfiguration"] = json!({"level": level(item.severity)});
    rule["properties"] = json!({
        "tags": ["production-readiness", at.checklist, section, item.severity.as_str()],
        "severity": item.severity,
        "probe": item.kind_name(),
    });
    rule
}

/// Where a result about the item as a whole points: the item in its
/// checklist file, else (a bundled checklist) the config file.
fn anchor(
    checklist: Option<&Checklist>,
    written: Option<&Item>,
    sources: &Sources,
) -> Option<Place> {
    let in_file = checklist.filter(|c| !c.builtin).and_then(|c| {
        Some(Place {
            uri: sources.uri(&c.source.path)?,
            line: written.and_then(|w| w.line),
        })
    });
    in_file.or_else(|| {
        Some(Place {
            uri: sources.uri(sources.config?)?,
            line: None,
        })
    })
}

/// A place in a file of the repository.
#[derive(Debug, Clone, PartialEq)]
struct Place {
    uri: String,
    line: Option<u32>,
}

/// One thing found wrong, and where, when that is known.
#[derive(Debug, Clone, PartialEq)]
struct Finding {
    message: String,
    place: Option<Place>,
}

/// The results of one item: none unless it fails, errors or is waived.
fn item_results(
    at: &Entry,
    log: Option<&LogDoc>,
    anchor: Option<Place>,
    sources: &Sources,
) -> Vec<Value> {
    let item = at.item;
    let level = match item.status {
        Status::Error => "error",
        Status::Fail | Status::Waived => level(item.severity),
        Status::Pass | Status::Done | Status::Pending | Status::Skipped => return Vec::new(),
    };
    let outcome = item.outcome.as_ref();
    let failed = outcome.filter(|o| o.verdict == Verdict::Fail);
    let mut findings = failed.map_or_else(Vec::new, |o| located(&o.evidence.detail, sources));
    if findings.is_empty() {
        let message = match item.status {
            Status::Error => format!("could not check: {}", item.summary),
            // What the probe says is wrong; the waiver says why it may be.
            Status::Waived => outcome
                .map_or(&item.summary, |o| &o.evidence.summary)
                .clone(),
            _ => item.summary.clone(),
        };
        findings.push(Finding {
            message,
            place: None,
        });
    }
    let suppression = (item.status == Status::Waived).then(|| suppression(item, log));
    findings
        .into_iter()
        .map(|f| {
            let place = f.place.or_else(|| anchor.clone());
            let mut result = json!({
                "ruleId": at.rule_id(),
                "ruleIndex": at.rule,
                "kind": "fail",
                "level": level,
                "message": {"text": sanitize(&f.message, false)},
                "locations": [location(at, place)],
            });
            if let Some(s) = &suppression {
                result["suppressions"] = json!([s]);
            }
            result["properties"] = json!({
                "status": item.status,
                "severity": item.severity,
                "environment": at.environment,
                "expiredWaiver": item.expired_waiver,
            });
            result
        })
        .collect()
}

fn location(at: &Entry, place: Option<Place>) -> Value {
    let mut location = json!({});
    if let Some(place) = place {
        let mut physical = json!({"artifactLocation": {"uri": place.uri}});
        if let Some(line) = place.line {
            physical["region"] = json!({"startLine": line});
        }
        location["physicalLocation"] = physical;
    }
    location["logicalLocations"] = json!([{"fullyQualifiedName": at.rule_id()}]);
    location
}

/// A waived item's result is dismissed in code scanning, with the reason.
fn suppression(item: &ItemReport, log: Option<&LogDoc>) -> Value {
    match log.and_then(|l| l.waivers.get(&item.id)) {
        Some(doc) => {
            let w = &doc.waiver;
            json!({
                "kind": "external",
                "status": "accepted",
                "justification": sanitize(&w.reason, true),
                "properties": {"by": sanitize(&w.by, false), "until": w.until},
            })
        }
        None => json!({
            "kind": "external",
            "status": "accepted",
            "justification": sanitize(&item.summary, true),
        }),
    }
}

/// The findings a probe's evidence places in files: a kube probe's objects
/// out of line (from a snapshot), a `file` probe's matching lines when
/// there were too many. Empty when it places none.
fn located(detail: &Value, sources: &Sources) -> Vec<Finding> {
    let mut found = objects_out_of_line(detail, sources);
    if detail["too_many"] == json!(true) {
        found.extend(matching_lines(detail, sources));
    }
    found
}

/// `namespace/name: why`, at the object's manifest when its file lies in
/// the repository.
fn objects_out_of_line(detail: &Value, sources: &Sources) -> Vec<Finding> {
    let Some(objects) = detail["objects"].as_array() else {
        return Vec::new();
    };
    objects
        .iter()
        .filter(|o| o["ok"] == json!(false))
        .map(|o| {
            let name = o["name"].as_str().unwrap_or("(unnamed)");
            let mut message = match o["namespace"].as_str() {
                Some(ns) => format!("{ns}/{name}"),
                None => name.to_string(),
            };
            if let Some(reason) = o["reason"].as_str().filter(|r| !r.is_empty()) {
                message.push_str(": ");
                message.push_str(reason);
            }
            if let Some(keys) = o["keys"].as_array() {
                let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
                let keys = if keys.is_empty() {
                    "none".to_string()
                } else {
                    keys.join(", ")
                };
                message.push_str(&format!(" (keys: {keys})"));
            }
            let place = o["file"].as_str().and_then(|file| {
                Some(Place {
                    uri: sources.uri(Path::new(file))?,
                    line: o["line"].as_u64().and_then(|l| u32::try_from(l).ok()),
                })
            });
            Finding { message, place }
        })
        .collect()
}

/// Each `path:line: text` a `file` probe kept, at that line.
fn matching_lines(detail: &Value, sources: &Sources) -> Vec<Finding> {
    let (Some(root), Some(lines)) = (detail["root"].as_str(), detail["lines"].as_array()) else {
        return Vec::new();
    };
    let pattern = detail["pattern"].as_str().unwrap_or("");
    lines
        .iter()
        .filter_map(Value::as_str)
        .filter_map(split_match)
        .map(|(path, line, text)| Finding {
            message: format!("line matches /{pattern}/: {}", text.trim()),
            place: sources.uri(&Path::new(root).join(path)).map(|uri| Place {
                uri,
                line: Some(line),
            }),
        })
        .collect()
}

/// `deploy/values.yml:12: text` as its path, line and text: the first
/// `:<digits>: ` ends the path.
fn split_match(entry: &str) -> Option<(&str, u32, &str)> {
    let mut from = 0;
    while let Some(at) = entry[from..].find(':').map(|i| from + i) {
        let rest = &entry[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && rest[digits..].starts_with(": ") {
            let line = rest[..digits].parse().ok()?;
            return Some((&entry[..at], line, &rest[digits + 2..]));
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::diag::Source;
    use crate::ledger::{Event, EventKind, LogState, LogView};
    use crate::probe::Outcome;

    const CHECKLIST: &str = r#"id = "shop"
title = "Shop"

[[sections]]
id = "secrets"
title = "Secrets"

[[sections.items]]
id = "oidc"
title = "OIDC secret holds the issuer"
severity = "high"
help = """
Create the secret from the vault.

Ask the identity team for the issuer."""
links = ["https://wiki.example.com/oidc"]
[sections.items.probe]
kind = "kube"
resource = "v1/Secret"

[[sections.items]]
id = "limits"
title = "Memory limits"
severity = "medium"
[sections.items.probe]
kind = "kube"
resource = "apps/v1/Deployment"

[[sections.items]]
id = "alerts"
title = "Alerts are routed"
severity = "low"
[sections.items.probe]
kind = "kube"
resource = "v1/ConfigMap"

[[sections.items]]
id = "drill"
title = "Restore drill"
severity = "blocker"
"#;

    /// The shop review in prod: `oidc` fails and is waived, `limits`
    /// fails, `alerts` could not be checked, `drill` is pending.
    fn review(root: &Path) -> (Vec<Checklist>, Document) {
        let source = Source::new(root.join("checklists/shop.toml"), CHECKLIST);
        let checklist = crate::checklist::parse::parse(source, false).expect("a valid checklist");
        let now: jiff::Timestamp = "2026-11-26T09:00:00Z".parse().expect("a timestamp");
        let outcomes: HashMap<String, Outcome> = [
            (
                "oidc",
                Outcome::fail("v1/Secret shop/oidc: expect false", json!({})),
            ),
            (
                "limits",
                Outcome::fail("1 of 2 apps/v1/Deployment fail", json!({})),
            ),
            (
                "alerts",
                Outcome::error("cannot list v1/ConfigMap: forbidden"),
            ),
        ]
        .into_iter()
        .map(|(id, o)| (id.to_string(), o))
        .collect();
        let waive = Event {
            seq: 1,
            at: now,
            by: "alice".into(),
            groups: Vec::new(),
            kind: EventKind::Waive {
                item: "oidc".into(),
                reason: "the issuer ships in 1.5".into(),
                until: Some(jiff::civil::date(2026, 12, 31)),
            },
            prev: String::new(),
            hash: format!("{:064x}", 1),
        };
        let state = LogState::from_events([&waive]);
        let report = crate::report::checklist_report(
            &checklist,
            "prod",
            &state,
            &outcomes,
            &Default::default(),
            now,
        );
        let view = LogView {
            state,
            events: 1,
            head: waive.hash.clone(),
            ..LogView::default()
        };
        let log = super::super::log_doc("shop/prod.jsonl", &view, &[waive], &report, now);
        let env = EnvironmentDoc {
            report: crate::report::Report::new("prod", "snapshot".into(), vec![report], now),
            logs: [("shop".to_string(), log)].into(),
        };
        (vec![checklist], Document::new(vec![env], now))
    }

    #[test]
    fn rules_carry_the_severity_and_a_waived_item_is_suppressed() {
        let root = Path::new("/repo");
        let (checklists, doc) = review(root);
        let sources = Sources {
            checklists: &checklists,
            config: None,
            root: root.to_path_buf(),
        };
        let log: Value = serde_json::from_str(&render(&doc, &sources)).expect("JSON");
        let run = &log["runs"][0];
        assert_eq!(run["automationDetails"]["id"], "gonogo/prod/");
        assert_eq!(
            run["invocations"][0]["executionSuccessful"], true,
            "an item in error is a result, not a failed run"
        );
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        let levels: Vec<(&str, &str)> = rules
            .iter()
            .map(|r| {
                let level = r["defaultConfiguration"]["level"].as_str().unwrap_or("");
                (r["id"].as_str().unwrap_or(""), level)
            })
            .collect();
        assert_eq!(
            levels,
            [
                ("shop/oidc", "error"),
                ("shop/limits", "warning"),
                ("shop/alerts", "note"),
                ("shop/drill", "error"),
            ]
        );
        assert_eq!(
            rules[0]["fullDescription"]["text"],
            "Create the secret from the vault."
        );
        assert_eq!(rules[0]["helpUri"], "https://wiki.example.com/oidc");

        let results = run["results"].as_array().expect("results");
        let by_rule =
            |id: &str| -> Vec<&Value> { results.iter().filter(|r| r["ruleId"] == id).collect() };
        assert!(
            by_rule("shop/drill").is_empty(),
            "a pending item is not a result"
        );

        let [waived] = by_rule("shop/oidc")[..] else {
            panic!("one result for the waived item: {results:?}");
        };
        assert_eq!(waived["level"], "error");
        assert_eq!(
            waived["message"]["text"],
            "v1/Secret shop/oidc: expect false"
        );
        assert_eq!(
            waived["suppressions"],
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": "the issuer ships in 1.5",
                "properties": {"by": "alice", "until": "2026-12-31"},
            }])
        );
        // Nothing more precise known: at the item in its checklist file.
        let line = CHECKLIST
            .lines()
            .position(|l| l == r#"id = "oidc""#)
            .expect("the item's id")
            + 1;
        let physical = &waived["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "checklists/shop.toml");
        assert_eq!(physical["region"]["startLine"], json!(line));
        assert_eq!(
            waived["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
            "shop/oidc"
        );

        let [failing] = by_rule("shop/limits")[..] else {
            panic!("one result for the failing item: {results:?}");
        };
        assert_eq!(failing["level"], "warning");
        assert!(failing.get("suppressions").is_none());

        let [unchecked] = by_rule("shop/alerts")[..] else {
            panic!("one result for the item in error: {results:?}");
        };
        assert_eq!(unchecked["level"], "error", "whatever the item's severity");
        assert_eq!(unchecked["kind"], "fail");
        assert_eq!(
            unchecked["message"]["text"],
            "could not check: cannot list v1/ConfigMap: forbidden"
        );
    }

    #[test]
    fn a_match_splits_at_the_first_line_number() {
        assert_eq!(
            split_match("deploy/values.yml:12: key: a:1: b"),
            Some(("deploy/values.yml", 12, "key: a:1: b"))
        );
        assert_eq!(
            split_match("c:/x.yml:3: t"),
            Some(("c:/x.yml", 3, "t")),
            "a colon without a line number is part of the path"
        );
        assert_eq!(split_match("no line here"), None);
    }

    #[test]
    fn severities_map_to_levels() {
        assert_eq!(level(Severity::Blocker), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
    }

    #[test]
    fn uris_are_relative_to_the_root_with_forward_slashes() {
        let sources = Sources {
            checklists: &[],
            config: None,
            root: PathBuf::from("/repo"),
        };
        assert_eq!(
            sources
                .uri(Path::new("/repo/deploy/my chart/a.yaml"))
                .as_deref(),
            Some("deploy/my%20chart/a.yaml")
        );
        assert_eq!(sources.uri(Path::new("/elsewhere/a.yaml")), None);
    }
}
