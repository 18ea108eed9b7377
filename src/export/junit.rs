//! The review as JUnit XML, so CI systems show it natively: one test suite
//! per section, one test case per item. Failing probes are failures, probes
//! that could not run are errors, and skipped, waived and pending items are
//! skipped.

use std::fmt::Write as _;

use super::Document;
use crate::report::ItemReport;
use crate::review::Status;

/// Escapes text for XML attributes and content; control characters other
/// than tab and newline are not allowed in XML 1.0 and are dropped.
fn xml(text: &str) -> String {
    let clean = crate::text::sanitize(text, true);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(doc: &Document) -> String {
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    for env in &doc.environments {
        for c in &env.report.checklists {
            for s in &c.sections {
                let (mut f, mut e, mut k) = (0, 0, 0);
                let mut cases = String::new();
                for item in &s.items {
                    match item.status {
                        Status::Fail => f += 1,
                        Status::Error => e += 1,
                        Status::Skipped | Status::Waived | Status::Pending => k += 1,
                        Status::Pass | Status::Done => {}
                    }
                    case(
                        &mut cases,
                        &c.id,
                        &s.id,
                        &env.report.environment,
                        item,
                        env.logs.get(&c.id),
                    );
                }
                let _ = writeln!(
                    suites,
                    "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{k}\" timestamp=\"{}\">",
                    xml(&format!(
                        "{} / {} [{}]",
                        c.id, s.title, env.report.environment
                    )),
                    s.items.len(),
                    doc.generated_at
                );
                suites.push_str(&cases);
                let _ = writeln!(suites, "  </testsuite>");
                tests += s.items.len();
                failures += f;
                errors += e;
                skipped += k;
            }
            let (n, f, k) = signoff_suite(&mut suites, c, &env.report.environment, doc);
            tests += n;
            failures += f;
            skipped += k;
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"gonogo\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    out.push_str(&suites);
    out.push_str("</testsuites>\n");
    out
}

/// The required sign-offs as test cases (a missing role or a role holder's
/// no-go fails), and the environment it is promoted from (skipped while it
/// is not signed go there). Returns the cases, failures and skips written.
fn signoff_suite(
    out: &mut String,
    c: &crate::report::ChecklistReport,
    env: &str,
    doc: &Document,
) -> (usize, usize, usize) {
    let sig = &c.signatures;
    if !sig.required() && c.upstream.is_none() {
        return (0, 0, 0);
    }
    let mut cases = String::new();
    let (mut n, mut f, mut k) = (0, 0, 0);
    let class = xml(&format!("{}.signoff.{env}", c.id));
    for seat in &sig.roles {
        n += 1;
        let name = xml(&format!("role {}", seat.role));
        match &seat.signer {
            Some(s) => {
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{class}\" name=\"{name}\" time=\"0.000\"><system-out>{}</system-out></testcase>",
                    xml(&format!("signed {} by {} at {}", s.decision, s.by, s.at))
                );
            }
            None => {
                f += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase classname=\"{class}\" name=\"{name}\" time=\"0.000\"><failure message=\"{}\" type=\"missing-signoff\"/></testcase>",
                    xml(&format!(
                        "nobody has signed for {} since the last change (may sign: {})",
                        seat.role,
                        seat.missing.join(", ")
                    ))
                );
            }
        }
    }
    for v in &sig.vetoes {
        n += 1;
        f += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{class}\" name=\"{}\" time=\"0.000\"><failure message=\"{}\" type=\"no-go\"/></testcase>",
            xml(&format!("no-go by {}", v.by)),
            xml(&format!("{} signed no-go at {}", v.by, v.at))
        );
    }
    if let Some(up) = &c.upstream {
        n += 1;
        let name = xml(&format!("promoted from {}", up.environment));
        if up.allows_go() {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{class}\" name=\"{name}\" time=\"0.000\"><system-out>{}</system-out></testcase>",
                xml(&up.label())
            );
        } else {
            k += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{class}\" name=\"{name}\" time=\"0.000\"><skipped message=\"{}\"/></testcase>",
                xml(&format!(
                    "{}: a go here is refused until it is signed go there",
                    up.label()
                ))
            );
        }
    }
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"0\" skipped=\"{k}\" timestamp=\"{}\">",
        xml(&format!("{} / sign-off [{env}]", c.id)),
        doc.generated_at
    );
    out.push_str(&cases);
    let _ = writeln!(out, "  </testsuite>");
    (n, f, k)
}

fn case(
    out: &mut String,
    checklist: &str,
    section: &str,
    env: &str,
    item: &ItemReport,
    log: Option<&super::LogDoc>,
) {
    let time = item.duration_ms().map_or(0.0, |ms| ms as f64 / 1000.0);
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\"",
        xml(&format!("{checklist}.{section}.{env}")),
        xml(&format!("{}: {} ({})", item.id, item.title, item.severity))
    );
    let body = match item.status {
        Status::Fail => Some(format!(
            "<failure message=\"{}\" type=\"{}\"/>",
            xml(&item.summary),
            item.severity
        )),
        Status::Error => Some(format!(
            "<error message=\"{}\" type=\"probe-error\"/>",
            xml(&item.summary)
        )),
        Status::Waived => {
            // The reason as written, line breaks kept.
            let message = match log.and_then(|l| l.waivers.get(&item.id)) {
                Some(doc) => {
                    let w = &doc.waiver;
                    let until = w.until.map(|d| format!(" until {d}")).unwrap_or_default();
                    format!("waived by {}{until}: {}", w.by, w.reason)
                }
                None => format!("{}: {}", item.status, item.summary),
            };
            Some(format!("<skipped message=\"{}\"/>", xml(&message)))
        }
        Status::Skipped | Status::Pending => Some(format!(
            "<skipped message=\"{}\"/>",
            xml(&format!("{}: {}", item.status, item.summary))
        )),
        Status::Pass | Status::Done => None,
    };
    // People's notes, as written, where CI shows a test's output.
    let notes: Vec<String> = log
        .and_then(|l| l.notes.get(&item.id))
        .map(|notes| {
            notes
                .iter()
                .map(|n| format!("note by {} at {}:\n{}", n.by, n.at, n.text))
                .collect()
        })
        .unwrap_or_default();
    let output = (!notes.is_empty())
        .then(|| format!("<system-out>{}</system-out>", xml(&notes.join("\n\n"))));
    match (body, output) {
        (None, None) => {
            let _ = writeln!(out, "/>");
        }
        (body, output) => {
            let _ = writeln!(out, ">");
            for part in [body, output].into_iter().flatten() {
                let _ = writeln!(out, "      {part}");
            }
            let _ = writeln!(out, "    </testcase>");
        }
    }
}
