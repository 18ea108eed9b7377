//! The critical path: open blockers and highs, each after the items it
//! depends on, so the room works through them in an order that can finish.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::{Ctx, fit, pad, pane};
use crate::report::glyph;
use crate::tui::app::App;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, cursor: usize, ctx: &Ctx) {
    let t = ctx.theme;
    let path = &app.view.report.critical_path;
    let title = format!(
        "Critical path {} {} open blocker{} and high{}, dependencies first",
        ctx.sym.sep,
        path.len(),
        if path.len() == 1 { "" } else { "s" },
        if path.len() == 1 { "" } else { "s" },
    );
    let block = pane(title, true, ctx);
    let inner = block.inner(area);
    block.render(area, buf);
    if path.is_empty() {
        Paragraph::new(Span::styled(
            "Nothing on the critical path: no blocker or high item is open.",
            t.pass,
        ))
        .wrap(Wrap { trim: true })
        .render(inner, buf);
        return;
    }
    // Two lines per entry: the item, then what it waits for and its summary.
    let per_page = (inner.height as usize / 2).max(1);
    let first = cursor.saturating_sub(per_page - 1);
    let w = inner.width as usize;
    let on_path: Vec<&str> = path.iter().map(String::as_str).collect();
    for (row, (n, id)) in path
        .iter()
        .enumerate()
        .skip(first)
        .take(per_page)
        .enumerate()
    {
        let Some(item) = app.item_report(id) else {
            continue;
        };
        let selected = n == cursor;
        let marker = if selected { ctx.sym.select } else { " " };
        let number = format!("{:>2}. ", n + 1);
        let head_w = w.saturating_sub(2 + 4 + 2 + 8 + 8);
        let line = Line::from(vec![
            Span::styled(format!("{marker} "), t.accent),
            Span::raw(number),
            Span::styled(
                format!("{} ", glyph(item.status, ctx.ascii)),
                t.status(item.status),
            ),
            Span::styled(
                pad(item.severity.as_str(), 8, ctx.sym),
                if item.severity == crate::checklist::Severity::Blocker {
                    t.danger
                } else {
                    t.warning
                },
            ),
            Span::styled(pad(item.kind_name(), 8, ctx.sym), t.muted),
            Span::raw(fit(
                &crate::text::sanitize(&item.title, false),
                head_w,
                ctx.sym,
            )),
        ])
        .style(if selected {
            t.selection
        } else {
            Style::default()
        });
        let y = inner.y + (row * 2) as u16;
        line.render(Rect::new(inner.x, y, inner.width, 1), buf);
        let waits: Vec<&str> = item
            .depends_on
            .iter()
            .map(String::as_str)
            .filter(|d| on_path.contains(d))
            .collect();
        let mut second = String::new();
        if !waits.is_empty() {
            second.push_str(&format!("after {} {} ", waits.join(", "), ctx.sym.sep));
        }
        second.push_str(&item.summary);
        if y + 1 < inner.bottom() {
            Line::from(Span::styled(
                fit(&second, w.saturating_sub(7), ctx.sym),
                t.muted,
            ))
            .render(
                Rect::new(inner.x + 7, y + 1, inner.width.saturating_sub(7), 1),
                buf,
            );
        }
    }
}
