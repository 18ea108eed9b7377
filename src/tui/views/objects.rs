//! Drilled into a kube item: the objects its probe selects (out of line
//! first, each with why) and one object as YAML, the fields the expectation
//! reads in the accent and the one that fails in the fail colour, each with
//! a mark in the gutter so the mono theme tells them apart too.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::markdown::{wrap, wrap_after};
use super::{Ctx, fit, pad, pane, scroll_mark, width};
use crate::probe::drill::Mark;
use crate::report::glyph;
use crate::review::Status;
use crate::tui::app::{App, Listing};

/// The list of objects.
pub fn draw_list(buf: &mut Buffer, area: Rect, app: &App, item: &str, cursor: usize, ctx: &Ctx) {
    let t = ctx.theme;
    let probe = app.kube_probe(item);
    let resource = probe.map(|p| p.resource.to_string()).unwrap_or_default();
    let block = pane(
        format!("Objects {} {item} {} {resource}", ctx.sym.sep, ctx.sym.sep),
        true,
        ctx,
    );
    let inner = block.inner(area);
    block.render(area, buf);
    let read = app
        .live
        .objects
        .as_ref()
        .filter(|r| r.item == item)
        .map(|r| &r.listing);
    let message = |text: String, style: Style, buf: &mut Buffer| {
        Paragraph::new(Span::styled(text, style))
            .wrap(Wrap { trim: true })
            .render(inner, buf);
    };
    let all = match read {
        None | Some(Listing::Reading) => {
            let from = app.live.cluster.as_deref().unwrap_or("the cluster");
            return message(
                format!("reading the objects from {from} {}", ctx.sym.ellipsis),
                t.muted,
                buf,
            );
        }
        Some(Listing::Failed(why)) => {
            return message(crate::text::sanitize(why, false), t.error, buf);
        }
        Some(Listing::Listed(all)) => all,
    };
    let out = all.iter().filter(|e| !e.in_line).count();
    let selection = probe.map(selection).unwrap_or_default();
    if all.is_empty() {
        return message(format!("no object matches {selection}"), t.muted, buf);
    }
    let head = format!(
        "{} {selection}, {out} out of line {} Enter shows one as YAML",
        all.len(),
        ctx.sym.sep
    );
    Line::from(Span::styled(
        fit(&head, inner.width as usize, ctx.sym),
        t.muted,
    ))
    .render(Rect::new(inner.x, inner.y, inner.width, 1), buf);
    let rows = inner.height.saturating_sub(2) as usize;
    if rows == 0 {
        return;
    }
    let first = cursor.saturating_sub(rows - 1);
    let w = inner.width as usize;
    let name_w = all
        .iter()
        .map(|e| width(&e.id()))
        .max()
        .unwrap_or(0)
        .min(w / 2);
    for (row, (n, examined)) in all.iter().enumerate().skip(first).take(rows).enumerate() {
        let selected = n == cursor;
        let (status, why) = if examined.in_line {
            (Status::Pass, "in line".to_string())
        } else {
            let why = examined.reason.as_deref().unwrap_or("out of line");
            (Status::Fail, crate::text::sanitize(why, false))
        };
        let marker = if selected { ctx.sym.select } else { " " };
        let rest = w.saturating_sub(2 + 2 + name_w + 2);
        let line = Line::from(vec![
            Span::styled(format!("{marker} "), t.accent),
            Span::styled(format!("{} ", glyph(status, ctx.ascii)), t.status(status)),
            Span::raw(pad(&examined.id(), name_w, ctx.sym)),
            Span::raw("  "),
            Span::styled(
                fit(&why, rest, ctx.sym),
                if examined.in_line { t.muted } else { t.text },
            ),
        ])
        .style(if selected {
            t.selection
        } else {
            Style::default()
        });
        let y = inner.y + 2 + row as u16;
        line.render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
    if all.len() > rows {
        scroll_mark(buf, area, cursor, all.len() - 1, t.muted);
    }
}

/// `apps/v1/Deployment in shop-dev`, `v1/Secret shop-dev/checkout-db`.
fn selection(probe: &crate::checklist::model::KubeProbe) -> String {
    let mut text = probe.resource.to_string();
    match (&probe.namespace, &probe.name) {
        (Some(ns), Some(name)) => text.push_str(&format!(" {ns}/{name}")),
        (Some(ns), None) => text.push_str(&format!(" in {ns}")),
        (None, Some(name)) => text.push_str(&format!(" named {name}")),
        (None, None) => {}
    }
    if !probe.selector.is_empty() {
        text.push_str(&format!(" with {}", probe.selector));
    }
    crate::text::sanitize(&text, false)
}

/// One object as YAML.
pub fn draw_object(buf: &mut Buffer, area: Rect, app: &App, scroll: u16, ctx: &Ctx) {
    let t = ctx.theme;
    let Some(open) = &app.live.object else {
        return;
    };
    let block = pane(
        format!("Object {} {} {}", ctx.sym.sep, open.kind, open.id),
        true,
        ctx,
    );
    let inner = block.inner(area);
    block.render(area, buf);
    let w = inner.width.saturating_sub(1) as usize;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let (status, verdict) = if open.in_line {
        (Status::Pass, "in line".to_string())
    } else {
        let why = open.reason.as_deref().unwrap_or("out of line");
        (
            Status::Fail,
            format!("out of line: {}", crate::text::sanitize(why, false)),
        )
    };
    lines.extend(wrap(
        vec![Span::styled(
            format!("{} {verdict}", glyph(status, ctx.ascii)),
            t.status(status),
        )],
        w,
        "",
        "  ",
    ));
    if let Some(expect) = app.kube_probe(&open.item).and_then(|p| p.expect.as_ref()) {
        lines.extend(wrap(
            vec![
                Span::styled("expect ", t.muted),
                Span::raw(crate::text::sanitize(&expect.source, false)),
            ],
            w,
            "",
            "       ",
        ));
        lines.push(Line::from(vec![
            Span::styled(format!("{} ", ctx.sym.read), t.accent),
            Span::styled("read by expect   ", t.muted),
            Span::styled(format!("{} ", ctx.sym.failing), t.fail),
            Span::styled("where it fails", t.muted),
        ]));
    }
    lines.push(Line::default());
    for shown in open.lines.iter() {
        let (gutter, style) = match shown.mark {
            Mark::Plain => ("  ".to_string(), Style::default()),
            Mark::Read => (format!("{} ", ctx.sym.read), t.accent),
            Mark::Failing => (
                format!("{} ", ctx.sym.failing),
                t.fail.add_modifier(Modifier::BOLD),
            ),
        };
        let text = shown.text.trim_start();
        let indent = " ".repeat(shown.text.len() - text.len());
        let mut body = vec![Span::styled(text.to_string(), style)];
        if let Some(note) = &shown.note {
            body.push(Span::styled(format!("   {} {note}", ctx.sym.arrow), t.fail));
        }
        let head = vec![Span::styled(gutter, style), Span::raw(indent.clone())];
        let used: usize = head.iter().chain(&body).map(|s| s.width()).sum();
        if used <= w {
            lines.push(Line::from([head, body].concat()));
        } else {
            // A long value wraps under its own key.
            let hang = format!("  {indent}    ");
            lines.extend(wrap_after(head, body, w, &hang));
        }
    }
    let (scroll, max) = super::scrolled(buf, inner, lines, scroll);
    app.drawn.set(crate::tui::app::Drawn {
        scroll_max: max.min(u16::MAX as usize) as u16,
    });
    scroll_mark(buf, area, scroll, max, t.muted);
}
