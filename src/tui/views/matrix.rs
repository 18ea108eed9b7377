//! The environments side by side: each item of the current checklist in a
//! row, each environment in a column with the item's status glyph, and each
//! environment's decision on top, as the export's side-by-side document
//! shows them. The environment on screen comes from its live results; the
//! others from their last background review.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{Ctx, fit, pad, pane, scroll_mark};
use crate::report::{ChecklistReport, glyph};
use crate::tui::app::App;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, scroll: u16, ctx: &Ctx) {
    let block = pane(
        format!(
            "Environments side by side {} {}",
            ctx.sym.sep,
            app.current_checklist()
                .map(|c| c.id.clone())
                .unwrap_or_default()
        ),
        true,
        ctx,
    );
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = lines(app, inner.width.saturating_sub(1) as usize, ctx);
    let (scroll, max) = super::scrolled(buf, inner, lines, scroll);
    app.drawn.set(crate::tui::app::Drawn {
        scroll_max: max.min(u16::MAX as usize) as u16,
    });
    scroll_mark(buf, area, scroll, max, ctx.theme.muted);
}

/// The current checklist's report in each environment, in tab order;
/// `None` where it has not been reviewed yet.
fn columns(app: &App) -> Vec<(String, Option<&ChecklistReport>)> {
    let id = app.current_checklist().map(|c| c.id.as_str()).unwrap_or("");
    app.environments
        .iter()
        .enumerate()
        .map(|(i, env)| {
            let report = if i == app.env {
                Some(&app.view.report)
            } else {
                app.surveys
                    .get(&env.name)
                    .and_then(|rs| rs.iter().find(|r| r.id == id))
            };
            (env.name.clone(), report)
        })
        .collect()
}

pub fn lines(app: &App, w: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let cols = columns(app);
    let cell = cols
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0)
        // `- skipped` and a gap.
        .max(9)
        + 1;
    let title_w = w.saturating_sub(cell * cols.len()).max(12);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut head = vec![Span::styled(pad("", title_w, ctx.sym), t.muted)];
    for (i, (name, _)) in cols.iter().enumerate() {
        let style = if i == app.env {
            t.accent.add_modifier(Modifier::BOLD)
        } else {
            t.muted
        };
        head.push(Span::styled(pad(name, cell, ctx.sym), style));
    }
    out.push(Line::from(head));
    let mut decisions = vec![Span::styled(pad("decision", title_w, ctx.sym), t.muted)];
    for (_, report) in &cols {
        match report {
            Some(r) => decisions.push(Span::styled(
                pad(r.decision.short(), cell, ctx.sym),
                t.decision(r.decision).add_modifier(Modifier::BOLD),
            )),
            None => decisions.push(Span::styled(pad("…", cell, ctx.sym), t.muted)),
        }
    }
    out.push(Line::from(decisions));
    let on_screen = &app.view.report;
    for (si, section) in on_screen.sections.iter().enumerate() {
        out.push(Line::default());
        out.push(Line::from(Span::styled(
            fit(&crate::text::sanitize(&section.title, false), w, ctx.sym),
            t.accent.add_modifier(Modifier::BOLD),
        )));
        for (ii, item) in section.items.iter().enumerate() {
            let mut row = vec![
                Span::raw(pad(
                    &format!("  {}", crate::text::sanitize(&item.title, false)),
                    title_w.saturating_sub(1),
                    ctx.sym,
                )),
                Span::raw(" "),
            ];
            for (_, report) in &cols {
                let status = report
                    .and_then(|r| r.sections.get(si))
                    .and_then(|s| s.items.get(ii))
                    .filter(|i| i.id == item.id)
                    .map(|i| i.status);
                row.push(match status {
                    Some(s) => Span::styled(
                        pad(
                            &format!("{} {}", glyph(s, ctx.ascii), s.as_str()),
                            cell,
                            ctx.sym,
                        ),
                        t.status(s),
                    ),
                    None => Span::styled(pad("…", cell, ctx.sym), t.muted),
                });
            }
            out.push(Line::from(row));
        }
    }
    out
}
