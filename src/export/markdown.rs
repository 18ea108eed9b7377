//! The sign-off document as GitHub-flavoured Markdown that also reads well
//! as plain text. Every piece of text that did not come from gonogo itself
//! (titles, evidence, notes, reasons, names) is escaped, so it can neither
//! break the document's structure nor inject HTML.

use std::fmt::Write as _;

use super::{Document, EnvironmentDoc, LogDoc};
use crate::report::{ChecklistReport, ItemReport, SectionReport};
use crate::review::{Decision, Status};

/// Escapes text for use inline: no line breaks, no control characters, and
/// every character Markdown or HTML could read as syntax backslash-escaped.
pub fn escape(text: &str) -> String {
    let clean = crate::text::sanitize(text, false);
    let mut out = String::with_capacity(clean.len());
    for c in clean.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '|'
                | '~'
                | '#'
                | '&'
                | '!'
                | '{'
                | '}'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Code spans hold ids and hashes: ours, but backticks are stripped anyway.
fn code(text: &str) -> String {
    format!("`{}`", crate::text::sanitize(text, false).replace('`', "'"))
}

fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

pub fn render(doc: &Document) -> String {
    let mut out = String::new();
    let envs: Vec<&str> = doc
        .environments
        .iter()
        .map(|e| e.report.environment.as_str())
        .collect();
    let titles: Vec<String> = doc
        .environments
        .first()
        .map(|e| {
            e.report
                .checklists
                .iter()
                .map(|c| escape(&c.title))
                .collect()
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "# Sign-off: {} ({})\n",
        if titles.is_empty() {
            "no checklist".to_string()
        } else {
            titles.join(", ")
        },
        envs.join(", ")
    );
    header_table(&mut out, doc);
    for env in &doc.environments {
        decision_block(&mut out, env, doc.environments.len() > 1);
    }
    summary_table(&mut out, doc);
    for env in &doc.environments {
        environment_body(&mut out, env, doc.environments.len() > 1);
    }
    audit(&mut out, doc);
    out
}

fn header_table(out: &mut String, doc: &Document) {
    let _ = writeln!(out, "| | |\n|---|---|");
    if let Some(first) = doc.environments.first() {
        for c in &first.report.checklists {
            let version = if c.version.is_empty() {
                String::new()
            } else {
                format!(", version {}", escape(&c.version))
            };
            let _ = writeln!(out, "| Checklist | {}{version} |", code(&c.id));
        }
    }
    for env in &doc.environments {
        let _ = writeln!(
            out,
            "| Environment | {} (cluster: {}) |",
            escape(&env.report.environment),
            escape(&env.report.cluster)
        );
    }
    let _ = writeln!(
        out,
        "| Generated | {} by {} |\n",
        time(doc.generated_at),
        escape(&doc.generator)
    );
}

fn decision_block(out: &mut String, env: &EnvironmentDoc, named: bool) {
    let r = &env.report;
    let which = if named {
        format!(" in {}", escape(&r.environment))
    } else {
        String::new()
    };
    let _ = writeln!(out, "## Decision{which}: {}\n", r.decision.label());
    let _ = writeln!(out, "**{}**: {}\n", r.decision.label(), reason(r));
    for c in &r.checklists {
        roles_block(out, c, r.checklists.len() > 1);
    }
    let signoffs: Vec<_> = env
        .logs
        .iter()
        .flat_map(|(id, l)| l.signoffs.iter().map(move |s| (id, s)))
        .collect();
    if signoffs.is_empty() {
        let _ = writeln!(out, "Not signed off yet.\n");
        return;
    }
    let _ = writeln!(
        out,
        "| Signed | By | Checklist | Decision | Note |\n|---|---|---|---|---|"
    );
    let mut long_notes = Vec::new();
    for (id, s) in &signoffs {
        // A table cell holds one line: a longer note follows the table.
        let note = s.note.as_deref().unwrap_or("");
        let clean = crate::text::sanitize(note, true);
        let first = clean.trim().lines().next().unwrap_or("");
        let more = clean.trim().lines().count() > 1;
        if more {
            long_notes.push((id, s));
        }
        let comment = r
            .checklists
            .iter()
            .find(|c| &&c.id == id)
            .is_some_and(|c| c.signatures.comments.iter().any(|m| m.seq == s.seq));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {}{} | {}{} |",
            time(s.at),
            escape(&s.by),
            code(id),
            escape(s.decision.as_str()),
            if comment {
                " (a comment: no required role)"
            } else {
                ""
            },
            escape(first),
            if more { " (continued below)" } else { "" }
        );
    }
    out.push('\n');
    let any_long = !long_notes.is_empty();
    for (id, s) in long_notes {
        let lead = format!(
            "- Sign-off note by {} for {} at {}",
            escape(&s.by),
            code(id),
            time(s.at)
        );
        written(out, &lead, s.note.as_deref().unwrap_or(""));
    }
    if any_long {
        out.push('\n');
    }
}

/// A checklist's required sign-offs (who signed for each role, who is still
/// missing) and the environment it is promoted from.
fn roles_block(out: &mut String, c: &ChecklistReport, named: bool) {
    let sig = &c.signatures;
    let of = if named {
        format!(" of {}", code(&c.id))
    } else {
        String::new()
    };
    if let Some(up) = &c.upstream {
        let says = match up.decision {
            Some(d) if up.signers.is_empty() => format!("signed **{}**", d.label()),
            Some(d) => format!(
                "signed **{}** by {}",
                d.label(),
                escape(&up.signers.join(", "))
            ),
            None => match &up.signed_version {
                Some(v) if v.is_empty() => "signed off without a version only".to_string(),
                Some(v) => format!("signed at version {} only", escape(v)),
                None => "not signed off".to_string(),
            },
        };
        let version = if c.version.is_empty() {
            String::new()
        } else {
            format!(" at version {}", escape(&c.version))
        };
        let _ = writeln!(
            out,
            "Promoted from {}{of}: {}{version} {says}{}.\n",
            escape(&up.environment),
            code(&c.id),
            if up.allows_go() {
                ""
            } else {
                "; a go here is refused until it is signed go there"
            }
        );
    }
    if !sig.required() {
        return;
    }
    let _ = writeln!(
        out,
        "Required sign-offs{of}, since the last change of a status:\n\n| Role | Signed by | Decision | Signed |\n|---|---|---|---|"
    );
    for seat in &sig.roles {
        match &seat.signer {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    escape(&seat.role),
                    escape(&s.by),
                    escape(s.decision.as_str()),
                    time(s.at)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "| {} | **missing** (may sign: {}) | | |",
                    escape(&seat.role),
                    escape(&seat.missing.join(", "))
                );
            }
        }
    }
    out.push('\n');
    for v in &sig.vetoes {
        let _ = writeln!(
            out,
            "- {} signed **no-go** at {}: the review is NO-GO until they sign again.",
            escape(&v.by),
            time(v.at)
        );
    }
    if !sig.vetoes.is_empty() {
        out.push('\n');
    }
}

/// Why the decision is what it is, in one sentence.
fn reason(r: &crate::report::Report) -> String {
    let held: Vec<String> = r
        .checklists
        .iter()
        .filter(|c| c.signatures.status_decision != Decision::NoGo)
        .filter_map(|c| c.signatures.why())
        .collect();
    let open: Vec<&ItemReport> = r.items().filter(|i| i.status.is_open()).collect();
    let blockers: Vec<String> = open
        .iter()
        .filter(|i| i.severity == crate::checklist::Severity::Blocker)
        .map(|i| code(&i.id))
        .collect();
    match r.decision {
        Decision::Go => "every item is closed (passed, done, waived or skipped).".into(),
        Decision::GoWithConditions => format!(
            "no blocker is open; {} other item{} open.",
            open.len(),
            if open.len() == 1 { " is" } else { "s are" }
        ),
        Decision::NoGo if blockers.is_empty() && !held.is_empty() => {
            format!("{}.", escape(&held.join("; ")))
        }
        Decision::NoGo => format!(
            "{} blocker{} open ({}).",
            blockers.len(),
            if blockers.len() == 1 { " is" } else { "s are" },
            blockers.join(", ")
        ),
    }
}

fn summary_table(out: &mut String, doc: &Document) {
    let _ = writeln!(out, "## Summary\n");
    let multi = doc.environments.len() > 1;
    if !multi {
        let Some(env) = doc.environments.first() else {
            return;
        };
        let _ = writeln!(
            out,
            "| Section | Verdict | Pass | Done | Waived | Skipped | Open |\n|---|---|---:|---:|---:|---:|---:|"
        );
        for c in &env.report.checklists {
            for s in &c.sections {
                let n = &s.counts;
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    escape(&s.title),
                    s.verdict.label(),
                    n.pass,
                    n.done,
                    n.waived,
                    n.skipped,
                    n.open()
                );
            }
        }
        out.push('\n');
        return;
    }
    // Side by side: one column per environment, a cell per section verdict.
    let names: Vec<String> = doc
        .environments
        .iter()
        .map(|e| escape(&e.report.environment))
        .collect();
    let _ = writeln!(
        out,
        "| Section | {} |\n|---|{}",
        names.join(" | "),
        "---|".repeat(names.len())
    );
    let Some(first) = doc.environments.first() else {
        return;
    };
    for (ci, c) in first.report.checklists.iter().enumerate() {
        for (si, s) in c.sections.iter().enumerate() {
            let cells: Vec<String> = doc
                .environments
                .iter()
                .map(|e| {
                    e.report
                        .checklists
                        .get(ci)
                        .and_then(|c| c.sections.get(si))
                        .map(cell)
                        .unwrap_or_else(|| "—".into())
                })
                .collect();
            let _ = writeln!(out, "| {} | {} |", escape(&s.title), cells.join(" | "));
        }
    }
    let decisions: Vec<String> = doc
        .environments
        .iter()
        .map(|e| format!("**{}**", e.report.decision.label()))
        .collect();
    let _ = writeln!(out, "| **Decision** | {} |\n", decisions.join(" | "));
}

fn cell(s: &SectionReport) -> String {
    let closed = s.items.len() - s.counts.open();
    format!("{} ({closed}/{} closed)", s.verdict.label(), s.items.len())
}

fn environment_body(out: &mut String, env: &EnvironmentDoc, named: bool) {
    let which = if named {
        format!(" — {}", escape(&env.report.environment))
    } else {
        String::new()
    };
    for c in &env.report.checklists {
        let empty = LogDoc::default();
        let log = env.logs.get(&c.id).unwrap_or(&empty);
        critical_path(out, c, &which);
        for s in &c.sections {
            section(out, s, log, &which);
        }
        changes(out, log, &which);
    }
}

fn critical_path(out: &mut String, c: &ChecklistReport, which: &str) {
    let _ = writeln!(out, "## Critical path{which}\n");
    if c.critical_path.is_empty() {
        let _ = writeln!(out, "No blocker or high item is open.\n");
        return;
    }
    let items: Vec<&ItemReport> = c.sections.iter().flat_map(|s| s.items.iter()).collect();
    for (n, id) in c.critical_path.iter().enumerate() {
        let Some(item) = items.iter().find(|i| &i.id == id) else {
            continue;
        };
        let after = if item.depends_on.is_empty() {
            String::new()
        } else {
            let deps: Vec<String> = item.depends_on.iter().map(|d| code(d)).collect();
            format!(" (after {})", deps.join(", "))
        };
        let _ = writeln!(
            out,
            "{}. **{}** {} — {}, {}{after}",
            n + 1,
            escape(&item.title),
            code(&item.id),
            item.severity,
            item.status
        );
    }
    out.push('\n');
}

fn section(out: &mut String, s: &SectionReport, log: &LogDoc, which: &str) {
    let _ = writeln!(
        out,
        "## {}{which} — {}\n",
        escape(&s.title),
        s.verdict.label()
    );
    for item in &s.items {
        let mark = if super::is_checked(item.status) {
            "x"
        } else {
            " "
        };
        let _ = writeln!(
            out,
            "- [{mark}] **{}** {} — {} · {} · {}",
            escape(&item.title),
            code(&item.id),
            status_word(item.status),
            item.severity,
            item.kind_name()
        );
        match (item.evidence(), item.checked_at()) {
            (Some(evidence), Some(at)) => {
                let took = match item.duration_ms() {
                    Some(ms) if ms > 0 => format!(", took {ms} ms"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    "  - Evidence: {} (checked {}{took})",
                    escape(evidence),
                    time(at)
                );
            }
            _ if item.status == Status::Done || item.status == Status::Waived => {}
            _ => {
                let _ = writeln!(out, "  - {}", escape(&capitalize(&item.summary)));
            }
        }
        if let Some(t) = log.ticks.get(&item.id) {
            let _ = writeln!(out, "  - Ticked by {} at {}", escape(&t.by), time(t.at));
        }
        if let Some(doc) = log.waivers.get(&item.id) {
            let w = &doc.waiver;
            let until = w.until.map(|d| format!(" until {d}")).unwrap_or_default();
            let expired = if doc.expired { " (expired)" } else { "" };
            let lead = format!(
                "  - Waived by {} at {}{until}{expired}",
                escape(&w.by),
                time(w.at)
            );
            written(out, &lead, &w.reason);
        }
        for n in log.notes.get(&item.id).map_or(&[][..], Vec::as_slice) {
            let lead = format!("  - Note by {} at {}", escape(&n.by), time(n.at));
            written(out, &lead, &n.text);
        }
    }
    out.push('\n');
}

/// A person's words as they wrote them: after `lead` on the same line when
/// they are one line, else as a quote block nested under the list item, one
/// line of the block per line written (GitHub renders it; plain text reads
/// it).
fn written(out: &mut String, lead: &str, text: &str) {
    let clean = crate::text::sanitize(text, true);
    let lines: Vec<&str> = clean.trim().lines().map(str::trim_end).collect();
    if lines.len() <= 1 {
        let _ = writeln!(
            out,
            "{lead}: {}",
            escape(lines.first().copied().unwrap_or(""))
        );
        return;
    }
    let _ = writeln!(out, "{lead}:");
    for line in lines {
        if line.trim().is_empty() {
            let _ = writeln!(out, "    >");
        } else {
            let _ = writeln!(out, "    > {}", quoted_line(line));
        }
    }
}

/// One line of a quoted multi-line text, escaped, and with what would
/// start a block at the head of a line made plain: a `-` or `=` line under
/// another is a heading, `---` a rule, `- x`, `+ x` and `1. x` list items
/// (found by fuzzing: a note could put a heading into the document).
fn quoted_line(line: &str) -> String {
    let escaped = escape(line);
    let body = escaped.trim_start();
    let indent = &escaped[..escaped.len() - body.len()];
    let digits = body.chars().take_while(char::is_ascii_digit).count();
    match body.chars().next() {
        Some('-' | '=' | '+') => format!("{indent}\\{body}"),
        Some(_) if digits > 0 && matches!(body[digits..].chars().next(), Some('.' | ')')) => {
            format!("{indent}{}\\{}", &body[..digits], &body[digits..])
        }
        _ => escaped,
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Error => "ERROR",
        Status::Pending => "PENDING",
        Status::Done => "DONE",
        Status::Waived => "WAIVED",
        Status::Skipped => "SKIPPED",
    }
}

fn changes(out: &mut String, log: &LogDoc, which: &str) {
    let Some(ch) = &log.since_signoff else {
        return;
    };
    let when = ch.signoff_at.map(time).unwrap_or_default();
    let _ = writeln!(
        out,
        "## Changes since the last sign-off{which}\n\nSigned at {when} (event {}).\n",
        ch.signoff_seq
    );
    if ch.status_changes.is_empty() && ch.events.is_empty() {
        let _ = writeln!(out, "Nothing changed.\n");
        return;
    }
    for c in &ch.status_changes {
        // The statuses come from the log file, as anyone may have written it.
        let _ = writeln!(
            out,
            "- {}: {} → {}",
            code(&c.item),
            escape(&c.from),
            escape(&c.to)
        );
    }
    for e in &ch.events {
        let item = e
            .item
            .as_deref()
            .map(|i| format!(" on {}", code(i)))
            .unwrap_or_default();
        // An unknown kind is any text the log held.
        let lead = format!(
            "- {}{item} by {} at {}",
            escape(&e.kind),
            escape(&e.by),
            time(e.at)
        );
        if e.text.is_empty() {
            let _ = writeln!(out, "{lead}");
        } else {
            // One level less deep than an item's notes: the quote sits
            // under this top-level list entry.
            let mut block = String::new();
            written(&mut block, &lead, &e.text);
            out.push_str(&block.replace("\n    >", "\n  >"));
        }
    }
    out.push('\n');
}

fn audit(out: &mut String, doc: &Document) {
    let _ = writeln!(out, "## Audit trail\n");
    for env in &doc.environments {
        for (id, log) in &env.logs {
            let head = if log.head.is_empty() {
                "(empty log)".to_string()
            } else {
                code(&log.head)
            };
            let _ = writeln!(
                out,
                "- {} in {}: {} events in {}, head {head}",
                code(id),
                escape(&env.report.environment),
                log.events,
                code(&log.path)
            );
            for p in &log.problems {
                let _ = writeln!(out, "  - **ALTERED LOG**: {}", escape(p));
            }
            let _ = writeln!(out, "  - verify: {}", code(&log.verify));
        }
    }
    let _ = writeln!(
        out,
        "\nAnyone can check that a log was not altered after this document was made: \
         the verify command re-hashes every event, and the head it ends with must be \
         the one above."
    );
}
