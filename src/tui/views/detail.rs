//! One item in full: status and summary, help rendered from Markdown, the
//! probe spec as resolved for this environment (secrets redacted), the
//! latest evidence with its raw detail, the people's record (tick, waiver,
//! notes) and the history of outcomes.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::markdown::{self, wrap, wrap_after};
use super::{Ctx, pane, scroll_mark};
use crate::checklist::model::{Item, ProbeSpec};
use crate::probe::humanize;
use crate::probe::redact;
use crate::report::glyph;
use crate::review::Status;
use crate::tui::app::{App, age_label};

/// Evidence detail lines shown at most; the export has the rest.
const MAX_DETAIL_LINES: usize = 400;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, id: &str, scroll: u16, ctx: &Ctx) {
    let block = pane(format!("Item {} {id}", ctx.sym.sep), true, ctx);
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = lines(app, id, inner.width.saturating_sub(1) as usize, ctx);
    let (scroll, max) = super::scrolled(buf, inner, lines, scroll);
    app.drawn.set(crate::tui::app::Drawn {
        scroll_max: max.min(u16::MAX as usize) as u16,
    });
    scroll_mark(buf, area, scroll, max, ctx.theme.muted);
}

/// Every line of the detail, wrapped to `w` columns.
pub fn lines(app: &App, id: &str, w: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let (Some(report), Some(item)) = (
        app.item_report(id),
        app.current_checklist().and_then(|c| c.item(id)),
    ) else {
        out.push(Line::from(Span::styled(
            format!("{id} is not in this checklist"),
            t.muted,
        )));
        return out;
    };
    let status_style = t.status(report.status);
    out.extend(wrap(
        vec![Span::styled(
            crate::text::sanitize(&item.title, false),
            Style::default().add_modifier(Modifier::BOLD),
        )],
        w,
        "",
        "",
    ));
    out.push(Line::from(vec![
        Span::styled(
            format!(
                "{} {} ",
                glyph(report.status, ctx.ascii),
                report.status.as_str().to_uppercase()
            ),
            status_style.add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!(" {} ", report.severity), severity_style(item, ctx)),
        Span::styled(format!(" {} ", report.kind_name()), t.muted),
        Span::styled(format!(" {}", app.env_tab().name), t.muted),
    ]));
    let mut summary = report.summary.clone();
    if report.expired_waiver {
        summary = format!("the waiver has expired; {summary}");
    }
    out.extend(wrap(vec![Span::styled(summary, status_style)], w, "", ""));
    if let Some(at) = report.checked_at() {
        let took = report
            .duration_ms()
            .map(|ms| format!(", took {}", humanize(std::time::Duration::from_millis(ms))))
            .unwrap_or_default();
        out.push(Line::from(Span::styled(
            format!(
                "checked {} ago ({}){took}",
                age_label(app.now, at),
                short_time(at)
            ),
            t.muted,
        )));
    }
    if !item.depends_on.is_empty() {
        out.push(Line::from(Span::styled(
            format!("depends on: {}", item.depends_on.join(", ")),
            t.muted,
        )));
    }

    if !item.help.trim().is_empty() {
        heading(&mut out, "Why and how", ctx);
        out.extend(markdown::render(&item.help, w, ctx));
    }
    if !item.links.is_empty() {
        heading(&mut out, "Links", ctx);
        for link in &item.links {
            out.extend(wrap(
                vec![Span::styled(crate::text::sanitize(link, false), t.accent)],
                w,
                &format!("{} ", ctx.sym.bullet),
                "  ",
            ));
        }
    }
    probe_section(&mut out, app, item, report.status, w, ctx);
    evidence_section(&mut out, app, id, w, ctx);
    people_section(&mut out, app, id, w, ctx);
    history_section(&mut out, app, id, w, ctx);
    out
}

fn heading(out: &mut Vec<Line<'static>>, title: &str, ctx: &Ctx) {
    out.push(Line::default());
    out.push(Line::from(Span::styled(
        title.to_string(),
        ctx.theme.accent.add_modifier(Modifier::BOLD),
    )));
}

fn severity_style(item: &Item, ctx: &Ctx) -> Style {
    match item.severity {
        crate::checklist::Severity::Blocker => ctx.theme.danger,
        crate::checklist::Severity::High => ctx.theme.warning,
        _ => ctx.theme.muted,
    }
}

fn probe_section(
    out: &mut Vec<Line<'static>>,
    app: &App,
    item: &Item,
    status: Status,
    w: usize,
    ctx: &Ctx,
) {
    let Some(template) = &item.probe else {
        heading(out, "Checked by a person", ctx);
        let mut text = "Space ticks it when done".to_string();
        if item.evidence {
            text.push_str("; it needs evidence: a note with a link to the record");
        }
        out.extend(wrap(vec![Span::styled(text, ctx.theme.muted)], w, "", ""));
        return;
    };
    heading(out, &format!("Probe ({})", template.kind()), ctx);
    let probe = app
        .current_checklist()
        .and_then(|c| app.live.probes.get(&c.id))
        .and_then(|p| p.get(&item.id));
    let Some(probe) = probe else {
        let why = if status == Status::Skipped {
            format!("not run in {}", app.env_tab().name)
        } else if let Some(e) = &app.live.error {
            format!("could not be set up: {e}")
        } else {
            "resolving for this environment …".to_string()
        };
        out.push(Line::from(Span::styled(why, ctx.theme.muted)));
        return;
    };
    let mut rows = spec_rows(&probe.spec);
    // A live cluster is followed by its watches, a snapshot by watching its
    // files: a kube probe re-runs when its objects change.
    let cluster = app.live.cluster.as_deref().unwrap_or("");
    match &probe.spec {
        ProbeSpec::Kube(_) if cluster.starts_with("snapshot") => {
            rows.push((
                "runs".into(),
                "when its files change (R reads them again)".into(),
            ));
        }
        ProbeSpec::Kube(_) if app.live.has_cluster => {
            rows.push(("runs".into(), "when its objects change (watched)".into()));
        }
        _ => rows.push(("every".into(), humanize(probe.every))),
    }
    rows.push(("timeout".into(), humanize(probe.timeout)));
    key_values(out, &rows, w, ctx);
    if let ProbeSpec::Kube(_) = &probe.spec {
        out.extend(wrap(
            vec![Span::styled(
                "Enter: the objects it selects, out of line first",
                ctx.theme.muted,
            )],
            w,
            "",
            "",
        ));
    }
}

/// The probe's settings as (name, value), secrets redacted.
pub fn spec_rows(spec: &ProbeSpec) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut add = |k: &str, v: String| rows.push((k.to_string(), v));
    let expect = spec.expect().map(|e| e.source.clone());
    match spec {
        ProbeSpec::Kube(p) => {
            add("resource", p.resource.to_string());
            add(
                "namespace",
                p.namespace
                    .clone()
                    .unwrap_or_else(|| "(all namespaces)".into()),
            );
            if let Some(n) = &p.name {
                add("name", n.clone());
            }
            if !p.selector.is_empty() {
                add("selector", p.selector.to_string());
            }
            if !p.field_selector.is_empty() {
                add("field_selector", p.field_selector.to_string());
            }
            add("quantifier", format!("{:?}", p.quantifier).to_lowercase());
            let count = match p.max {
                Some(max) => format!("{} to {max}", p.min),
                None => format!("at least {}", p.min),
            };
            add("objects", count);
        }
        ProbeSpec::Http(p) => {
            add("request", format!("{} {}", p.method, redact::url(&p.url)));
            for (name, value) in &p.headers {
                add(&format!("header {name}"), redact::header(name, value));
            }
            if let Some(b) = &p.body {
                add("body", format!("{} bytes", b.len()));
            }
            add(
                "status",
                p.status
                    .as_ref()
                    .map_or("2xx".to_string(), |s| s.to_string()),
            );
            if p.samples > 1 {
                add("samples", p.samples.to_string());
            }
            add("follow_redirects", p.follow_redirects.to_string());
            if p.insecure {
                add("insecure", "true (certificate not checked)".into());
            }
            if let Some(ca) = &p.ca_file {
                add("ca_file", ca.display().to_string());
            }
        }
        ProbeSpec::Tls(p) => {
            add("endpoint", format!("{}:{}", p.host, p.port));
            if let Some(s) = &p.server_name {
                add("server_name", s.clone());
            }
            add("min_days", p.min_days.to_string());
            if let Some(ca) = &p.ca_file {
                add("ca_file", ca.display().to_string());
            }
        }
        ProbeSpec::File(p) => {
            add("root", p.root.display().to_string());
            add("glob", p.glob.join(", "));
            if !p.exclude.is_empty() {
                add("exclude", p.exclude.join(", "));
            }
            if let Some(re) = &p.pattern {
                add("pattern", re.as_str().to_string());
            }
            for (k, v) in [
                ("matches", p.matches),
                ("min_matches", p.min_matches),
                ("max_matches", p.max_matches),
            ] {
                if let Some(v) = v {
                    add(k, v.to_string());
                }
            }
            add("min_files", p.min_files.to_string());
            if let Some(c) = &p.skip_comments {
                add("skip_comments", c.clone());
            }
        }
        ProbeSpec::Promql(p) => {
            add("url", redact::url(&p.url));
            add("query", p.query.clone());
        }
        ProbeSpec::Command(p) => {
            add("argv", p.argv.join(" "));
            if let Some(cwd) = &p.cwd {
                add("cwd", cwd.display().to_string());
            }
            add("exit", p.exit.to_string());
        }
    }
    if let Some(e) = expect {
        add("expect", e);
    }
    rows.into_iter()
        .map(|(k, v)| (k, crate::text::sanitize(&v, false)))
        .collect()
}

fn key_values(out: &mut Vec<Line<'static>>, rows: &[(String, String)], w: usize, ctx: &Ctx) {
    let key_w = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0).min(20);
    let hang = " ".repeat(key_w + 2);
    for (k, v) in rows {
        let key = Span::styled(format!("{k:<key_w$}  "), ctx.theme.muted);
        out.extend(wrap_after(vec![key], vec![Span::raw(v.clone())], w, &hang));
    }
}

fn evidence_section(out: &mut Vec<Line<'static>>, app: &App, id: &str, w: usize, ctx: &Ctx) {
    let Some(outcome) = app.outcome(id) else {
        return;
    };
    heading(out, "Latest evidence", ctx);
    let style = match outcome.verdict {
        crate::probe::Verdict::Pass => ctx.theme.pass,
        crate::probe::Verdict::Fail => ctx.theme.fail,
        crate::probe::Verdict::Error => ctx.theme.error,
    };
    out.extend(wrap(
        vec![
            Span::styled(format!("{}: ", outcome.verdict.as_str()), style),
            Span::raw(outcome.evidence.summary.clone()),
        ],
        w,
        "",
        "  ",
    ));
    let detail = &outcome.evidence.detail;
    if detail.as_object().is_some_and(|o| !o.is_empty()) {
        let mut lines = Vec::new();
        json_lines(&mut lines, detail, 0, w, ctx);
        let extra = lines.len().saturating_sub(MAX_DETAIL_LINES);
        out.extend(lines.into_iter().take(MAX_DETAIL_LINES));
        if extra > 0 {
            out.push(Line::from(Span::styled(
                format!("{} {extra} more lines (see the export)", ctx.sym.ellipsis),
                ctx.theme.muted,
            )));
        }
    }
}

/// Structured evidence as an indented outline, like YAML.
fn json_lines(
    out: &mut Vec<Line<'static>>,
    value: &serde_json::Value,
    indent: usize,
    w: usize,
    ctx: &Ctx,
) {
    use serde_json::Value;
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = crate::text::sanitize(k, false);
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push(Line::from(Span::styled(
                            format!("{pad}{key}:"),
                            ctx.theme.muted,
                        )));
                        json_lines(out, v, indent + 2, w, ctx);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push(Line::from(Span::styled(
                            format!("{pad}{key}:"),
                            ctx.theme.muted,
                        )));
                        json_lines(out, v, indent + 2, w, ctx);
                    }
                    // A body excerpt keeps its lines, as the server sent them.
                    Value::String(text) if text.trim_end().contains('\n') => {
                        out.push(Line::from(Span::styled(
                            format!("{pad}{key}: |"),
                            ctx.theme.muted,
                        )));
                        let inner = format!("{pad}  ");
                        for line in crate::text::sanitize(text, true).trim_end().lines() {
                            let line = line.replace('\t', "    ");
                            let body = line.trim_start();
                            if body.is_empty() {
                                out.push(Line::default());
                                continue;
                            }
                            // Its own indentation stays (wrapping folds spaces).
                            let lead = format!("{inner}{}", &line[..line.len() - body.len()]);
                            out.extend(wrap_after(
                                vec![Span::raw(lead.clone())],
                                vec![Span::raw(body.to_string())],
                                w,
                                &lead,
                            ));
                        }
                    }
                    scalar => {
                        let hang = format!("{pad}  ");
                        out.extend(wrap(
                            vec![
                                Span::styled(format!("{key}: "), ctx.theme.muted),
                                Span::raw(scalar_text(scalar)),
                            ],
                            w,
                            &pad,
                            &hang,
                        ));
                    }
                }
                if out.len() > MAX_DETAIL_LINES {
                    return;
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        let mut sub = Vec::new();
                        json_lines(&mut sub, v, indent + 2, w, ctx);
                        // The first line of an entry carries the dash.
                        if let Some(first) = sub.first_mut() {
                            let text: String =
                                first.spans.iter().map(|s| s.content.as_ref()).collect();
                            let dashed = format!("{pad}- {}", text.trim_start());
                            let style = first.spans.first().map(|s| s.style).unwrap_or_default();
                            *first = Line::from(Span::styled(dashed, style));
                        }
                        out.extend(sub);
                    }
                    other => out.extend(wrap(
                        vec![Span::raw(scalar_text(other))],
                        w,
                        &format!("{pad}- "),
                        &format!("{pad}  "),
                    )),
                }
                if out.len() > MAX_DETAIL_LINES {
                    return;
                }
            }
        }
        scalar => out.extend(wrap(vec![Span::raw(scalar_text(scalar))], w, &pad, &pad)),
    }
}

fn scalar_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => crate::text::sanitize(s, false),
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Object(_) => "{}".into(),
        serde_json::Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

fn people_section(out: &mut Vec<Line<'static>>, app: &App, id: &str, w: usize, ctx: &Ctx) {
    let Some(doc) = app.review_doc() else {
        return;
    };
    let state = &doc.snapshot.log.state;
    let tick = state.tick(id);
    let waiver = state.waiver(id);
    let notes: Vec<_> = state.notes(id).collect();
    if tick.is_none() && waiver.is_none() && notes.is_empty() {
        return;
    }
    heading(out, "Sign-off log", ctx);
    let t = ctx.theme;
    if let Some(tick) = tick {
        out.push(Line::from(vec![
            Span::styled(format!("{} ticked", glyph(Status::Done, ctx.ascii)), t.pass),
            Span::raw(format!(
                " by {} {}",
                crate::text::sanitize(&tick.by, false),
                short_time(tick.at)
            )),
        ]));
    }
    if let Some(wv) = waiver {
        let until = wv
            .until
            .map_or("until withdrawn".to_string(), |d| format!("until {d}"));
        let lapsed = if wv.is_live(app.now) {
            ""
        } else {
            " (expired)"
        };
        out.extend(wrap(
            vec![
                Span::styled(
                    format!("{} waived", glyph(Status::Waived, ctx.ascii)),
                    t.waived,
                ),
                Span::raw(format!(
                    " by {} {}, {until}{lapsed}: {}",
                    crate::text::sanitize(&wv.by, false),
                    short_time(wv.at),
                    crate::text::sanitize(&wv.reason, false)
                )),
            ],
            w,
            "",
            "  ",
        ));
    }
    for note in notes {
        out.push(Line::from(Span::styled(
            format!(
                "note by {} {}",
                crate::text::sanitize(&note.by, false),
                short_time(note.at)
            ),
            t.muted,
        )));
        for para in crate::text::sanitize(&note.text, true).lines() {
            out.extend(wrap(vec![Span::raw(para.to_string())], w, "  ", "  "));
        }
    }
}

fn history_section(out: &mut Vec<Line<'static>>, app: &App, id: &str, w: usize, ctx: &Ctx) {
    let Some(history) = app.key(id).and_then(|k| app.live.history.get(&k)) else {
        return;
    };
    if history.is_empty() {
        return;
    }
    heading(out, "History (newest first)", ctx);
    for entry in history {
        let style = match entry.verdict {
            crate::probe::Verdict::Pass => ctx.theme.pass,
            crate::probe::Verdict::Fail => ctx.theme.fail,
            crate::probe::Verdict::Error => ctx.theme.error,
        };
        let runs = if entry.runs > 1 {
            format!(" ({} runs since {})", entry.runs, short_time(entry.first))
        } else {
            String::new()
        };
        let head = vec![
            Span::styled(format!("{} ", short_time(entry.last)), ctx.theme.muted),
            Span::styled(format!("{:<5} ", entry.verdict.as_str()), style),
        ];
        let hang = " ".repeat(head.iter().map(|s| s.width()).sum());
        out.extend(wrap_after(
            head,
            vec![
                Span::raw(entry.summary.clone()),
                Span::styled(runs, ctx.theme.muted),
            ],
            w,
            &hang,
        ));
    }
}

/// `14:02:11 UTC` today-ish times; the date is in the export.
fn short_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}
