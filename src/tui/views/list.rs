//! The main screen: sections with their progress, and the items of the
//! chosen section with status glyph, severity, probe kind and the age of the
//! last result.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget};

use super::{Areas, Ctx, bar, border_note, fit, pad, pane, width};
use crate::report::{Counts, ItemReport, glyph};
use crate::review::{SectionVerdict, Status};
use crate::tui::app::{App, Pane, Sort, StatusFilter, age_label};

pub fn draw(buf: &mut Buffer, areas: &Areas, app: &App, ctx: &Ctx) {
    // Side by side, the rows the sections leave show what to do next.
    let want = app.view.report.sections.len() as u16 + 1 + 2;
    if !areas.stacked && areas.sections.height >= want + 6 {
        let [top, rest] = ratatui::layout::Layout::vertical([
            ratatui::layout::Constraint::Length(want),
            ratatui::layout::Constraint::Min(0),
        ])
        .areas(areas.sections);
        sections(buf, top, app, ctx);
        next_up(buf, rest, app, ctx);
    } else {
        sections(buf, areas.sections, app, ctx);
    }
    items(buf, areas.items, app, ctx);
}

/// The critical path in brief, under the sections: what the room works on
/// next, in an order that can finish (`c` shows it whole).
fn next_up(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let block = pane("Next up (c: critical path)".into(), false, ctx);
    let inner = block.inner(area);
    block.render(area, buf);
    let path = &app.view.report.critical_path;
    if path.is_empty() {
        Paragraph::new(Span::styled("no blocker or high item is open", t.pass)).render(inner, buf);
        return;
    }
    let w = inner.width as usize;
    for (row, id) in path.iter().take(inner.height as usize).enumerate() {
        let Some(item) = app.item_report(id) else {
            continue;
        };
        let line = Line::from(vec![
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
            Span::raw(fit(
                &crate::text::sanitize(&item.title, false),
                w.saturating_sub(10),
                ctx.sym,
            )),
        ]);
        line.render(
            Rect::new(inner.x, inner.y + row as u16, inner.width, 1),
            buf,
        );
    }
}

fn sections(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let focused = app.ui.focus == Pane::Sections;
    let block = pane("Sections".into(), focused, ctx);
    let inner = block.inner(area);
    block.render(area, buf);
    let report = &app.view.report;
    let w = inner.width as usize;
    let mut total = Counts::default();
    for s in &report.sections {
        total.merge(&s.counts);
    }
    let mut rows: Vec<(String, Counts, Option<SectionVerdict>)> =
        vec![("All sections".into(), total, None)];
    for s in &report.sections {
        rows.push((
            crate::text::sanitize(&s.title, false),
            s.counts.clone(),
            Some(s.verdict),
        ));
    }
    // Marker, the count with its blanks, the verdict; the bar gets what the
    // longest title leaves (none when that is only a sliver).
    let fixed = 2 + 7 + 11;
    let longest = rows
        .iter()
        .map(|(t, _, _)| width(t))
        .max()
        .unwrap_or(0)
        .min(24);
    let spare = w.saturating_sub(fixed + 1 + longest);
    let bar_w = if spare >= 4 { spare.min(10) } else { 0 };
    let title_w = w.saturating_sub(fixed + 1 + bar_w).max(4);
    for (line_no, (i, (title, counts, verdict))) in rows
        .iter()
        .enumerate()
        .skip(app.ui.section_offset)
        .take(inner.height as usize)
        .enumerate()
    {
        let selected = i == app.ui.section;
        let considered = counts_total(counts);
        let closed = considered - counts.open();
        let (label, vstyle) = match verdict {
            Some(v) => (verdict_label(*v), verdict_style(*v, ctx)),
            // The badge names the decision in full; here it fits the column.
            None => (
                match report.decision {
                    crate::review::Decision::GoWithConditions => "CONDITIONAL",
                    d => d.label(),
                },
                t.decision(report.decision),
            ),
        };
        let count = format!("{closed}/{considered}");
        let marker = if selected { ctx.sym.select } else { " " };
        let base = if selected && focused {
            t.selection
        } else if selected {
            Style::default().add_modifier(Modifier::BOLD)
        } else {
            Style::default()
        };
        let line = Line::from(vec![
            Span::styled(format!("{marker} "), t.accent),
            Span::raw(pad(title, title_w, ctx.sym)),
            Span::raw(" "),
            Span::styled(bar(closed, considered, bar_w, ctx.sym), vstyle),
            Span::raw(format!(" {count:>5} ")),
            Span::styled(fit(label, 11, ctx.sym), vstyle),
        ])
        .style(base);
        let y = inner.y + line_no as u16;
        line.render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
    let style = if focused { t.accent } else { t.muted };
    hidden_rows(
        buf,
        area,
        app.ui.section_offset,
        inner.height,
        rows.len(),
        style,
        ctx,
    );
}

/// Says on the pane's bottom border how many rows are scrolled out of
/// sight, so a short terminal does not hide that the list goes on.
fn hidden_rows(
    buf: &mut Buffer,
    area: Rect,
    offset: usize,
    visible: u16,
    total: usize,
    style: Style,
    ctx: &Ctx,
) {
    let above = offset.min(total);
    let below = total.saturating_sub(offset + visible as usize);
    let mut parts = Vec::new();
    if above > 0 {
        parts.push(format!("{} {above}", ctx.sym.more_up));
    }
    if below > 0 {
        parts.push(format!("{} {below}", ctx.sym.more_down));
    }
    if !parts.is_empty() {
        border_note(buf, area, &format!(" {} more ", parts.join("  ")), style);
    }
}

/// Items counted for progress: skipped ones are not part of the review.
fn counts_total(c: &Counts) -> usize {
    Status::ALL
        .iter()
        .filter(|s| **s != Status::Skipped)
        .map(|s| c.get(*s))
        .sum()
}

fn verdict_label(v: SectionVerdict) -> &'static str {
    v.label()
}

fn verdict_style(v: SectionVerdict, ctx: &Ctx) -> Style {
    match v {
        SectionVerdict::Ready => ctx.theme.pass,
        SectionVerdict::Conditional => ctx.theme.warning,
        SectionVerdict::NotReady => ctx.theme.danger,
    }
}

pub fn items(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let focused = app.ui.focus == Pane::Items;
    let report = &app.view.report;
    let scope = match app.ui.section {
        0 => "all sections".to_string(),
        n => report
            .sections
            .get(n - 1)
            .map(|s| crate::text::sanitize(&s.title, false))
            .unwrap_or_default(),
    };
    let mut title = format!("Items {} {scope}", ctx.sym.sep);
    if app.ui.status_filter != StatusFilter::All {
        title.push_str(&format!(
            " {} {} only",
            ctx.sym.sep,
            app.ui.status_filter.label()
        ));
    }
    if !app.ui.filter.is_empty() {
        title.push_str(&format!(" {} /{}", ctx.sym.sep, app.ui.filter));
    }
    match app.order() {
        Sort::Auto | Sort::Checklist => {}
        Sort::Status if app.ui.sort == Sort::Auto => {
            title.push_str(&format!(" {} problems first", ctx.sym.sep));
        }
        order => title.push_str(&format!(" {} by {}", ctx.sym.sep, order.label())),
    }
    let shown = app.view.rows.len();
    let of = if app.ui.section == 0 {
        report.sections.iter().map(|s| s.items.len()).sum()
    } else {
        report
            .sections
            .get(app.ui.section - 1)
            .map_or(0, |s| s.items.len())
    };
    title.push_str(&format!(" ({shown} of {of})"));
    let title = fit(&title, (area.width as usize).saturating_sub(6), ctx.sym);
    let block = pane(title, focused, ctx);
    let inner = block.inner(area);
    block.render(area, buf);
    if app.view.rows.is_empty() {
        let why = if of == 0 {
            "This section has no items."
        } else {
            "No item matches the filter. Esc clears it."
        };
        Paragraph::new(Span::styled(why, t.muted)).render(inner, buf);
        return;
    }
    let w = inner.width as usize;
    let wide = w >= 100;
    for (line_no, (row, (s, i))) in app
        .view
        .rows
        .iter()
        .enumerate()
        .skip(app.ui.offset)
        .take(inner.height as usize)
        .enumerate()
    {
        let item = &report.sections[*s].items[*i];
        let selected = row == app.ui.cursor;
        let line = item_line(app, item, selected, focused, w, wide, ctx);
        let y = inner.y + line_no as u16;
        line.render(Rect::new(inner.x, y, inner.width, 1), buf);
    }
    let style = if focused { t.accent } else { t.muted };
    let total = app.view.rows.len();
    hidden_rows(buf, area, app.ui.offset, inner.height, total, style, ctx);
}

fn item_line<'a>(
    app: &App,
    item: &ItemReport,
    selected: bool,
    focused: bool,
    w: usize,
    wide: bool,
    ctx: &Ctx,
) -> Line<'a> {
    let t = ctx.theme;
    let running = app
        .key(&item.id)
        .is_some_and(|k| app.live.running.contains(&k));
    let age = if running {
        ctx.sym.spinner[app.spinner % ctx.sym.spinner.len()].to_string()
    } else {
        item.checked_at()
            .map(|at| age_label(app.now, at))
            .unwrap_or_default()
    };
    let marker = if selected { ctx.sym.select } else { " " };
    let status_style = t.status(item.status);
    let sev_style = match item.severity {
        crate::checklist::Severity::Blocker => t.danger,
        crate::checklist::Severity::High => t.warning,
        _ => t.muted,
    };
    let fixed = 2 + 2 + 8 + 8 + 5;
    let flex = w.saturating_sub(fixed);
    let (title_w, summary_w) = if wide {
        let tw = (flex * 2 / 5).max(20);
        (tw, flex.saturating_sub(tw + 1))
    } else {
        (flex, 0)
    };
    let title = crate::text::sanitize(&item.title, false);
    let mut spans = vec![
        Span::styled(format!("{marker} "), t.accent),
        Span::styled(format!("{} ", glyph(item.status, ctx.ascii)), status_style),
        Span::styled(pad(item.severity.as_str(), 8, ctx.sym), sev_style),
        Span::styled(pad(item.kind_name(), 8, ctx.sym), t.muted),
        Span::raw(pad(&title, title_w, ctx.sym)),
    ];
    if wide {
        spans.push(Span::raw(" "));
        let mut summary = item.summary.clone();
        if item.expired_waiver {
            summary = format!("waiver expired; {summary}");
        }
        spans.push(Span::styled(
            pad(&summary, summary_w, ctx.sym),
            status_style,
        ));
    }
    spans.push(Span::styled(format!("{age:>5}"), t.muted));
    let used: usize = spans.iter().map(|s| s.width()).sum();
    if used < w {
        spans.push(Span::raw(" ".repeat(w - used)));
    }
    let style = if selected && focused {
        t.selection
    } else if selected {
        Style::default().add_modifier(Modifier::BOLD)
    } else {
        Style::default()
    };
    let _ = width;
    Line::from(spans).style(style)
}
