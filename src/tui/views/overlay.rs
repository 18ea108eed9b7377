//! What sits on top of the screens: the hint bar, toasts, the filter and
//! command lines, the help built from the keymap, and the dialogs (note,
//! waiver, sign-off).

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};
use ratatui_textarea::TextArea;

use super::markdown::{wrap, wrap_after};
use super::{Areas, Ctx, centered, clear, fit, scroll_mark, width};
use crate::ledger::SignoffDecision;
use crate::review::Status;
use crate::tui::app::{App, Level, Modal};
use crate::tui::keymap;

pub fn draw(frame: &mut Frame, areas: &Areas, app: &App, ctx: &Ctx) {
    let buf = frame.buffer_mut();
    match &app.ui.modal {
        Some(Modal::Filter { input, .. }) => input_line(buf, areas.hint, "/", input, ctx),
        Some(Modal::Command(line)) => {
            input_line(buf, areas.hint, ":", &line.input, ctx);
            if !line.candidates.is_empty() && areas.body.height > 0 {
                let text = line.candidates.join("  ");
                let y = areas.hint.y.saturating_sub(1);
                let area = Rect::new(areas.hint.x, y, areas.hint.width, 1);
                clear(buf, area, ctx.theme.text);
                Line::from(Span::styled(format!(" {text}"), ctx.theme.accent)).render(area, buf);
            }
        }
        _ => hint_bar(buf, areas.hint, app, ctx),
    }
    toasts(buf, areas.toasts, app, ctx);
    match &app.ui.modal {
        Some(Modal::Help { scroll }) => {
            let max = help(buf, areas.body, *scroll, ctx);
            app.drawn.set(crate::tui::app::Drawn {
                scroll_max: max.min(u16::MAX as usize) as u16,
            });
        }
        Some(Modal::Note(editor)) => {
            let title = if editor.then_tick {
                format!("Evidence for {} (saving ticks it)", editor.item)
            } else {
                format!("Note on {}", editor.item)
            };
            note(buf, areas.body, &title, &editor.text, ctx)
        }
        Some(Modal::Waive(form)) => waive(buf, areas.body, app, form, ctx),
        Some(Modal::Unwaive { item }) => unwaive(buf, areas.body, app, item, ctx),
        Some(Modal::Signoff(d)) => signoff(buf, areas.body, app, d, ctx),
        _ => {}
    }
}

/// Hints that stay on the bar however narrow the screen: the way back and
/// the way to every other key.
const ALWAYS_SHOWN: &[&str] = &["back", "help"];

fn hint_bar(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let hints = keymap::hints(app.context(), ctx.ascii);
    let entry_w = |key: &str, word: &str| width(key) + width(word) + 3;
    let kept: usize = hints
        .iter()
        .filter(|(_, word)| ALWAYS_SHOWN.contains(word))
        .map(|(key, word)| entry_w(key, word))
        .sum();
    // The others in keymap order, as many as fit beside the kept ones.
    let mut room = (area.width as usize).saturating_sub(1 + kept);
    let mut full = false;
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    for (key, word) in &hints {
        if !ALWAYS_SHOWN.contains(word) {
            let w = entry_w(key, word);
            full = full || w > room;
            if full {
                continue;
            }
            room -= w;
        }
        spans.push(Span::styled(
            key.clone(),
            t.accent.add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::styled(format!(" {word}  "), t.muted));
    }
    Line::from(spans).render(area, buf);
}

fn input_line(buf: &mut Buffer, area: Rect, prompt: &str, input: &TextArea, ctx: &Ctx) {
    clear(buf, area, ctx.theme.text);
    Span::styled(prompt.to_string(), ctx.theme.accent).render(area, buf);
    let field = Rect::new(area.x + 1, area.y, area.width.saturating_sub(1), 1);
    let mut t = input.clone();
    t.set_cursor_line_style(Style::default());
    t.set_style(ctx.theme.text);
    t.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    t.render(field, buf);
}

/// The toasts, newest at the bottom, each on a row of its own (see
/// `Areas::toasts`).
fn toasts(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    // Newest at the bottom, each toast's lines in order above it.
    let mut y = area.bottom();
    for toast in app.toasts.iter().rev() {
        let style = match toast.level {
            Level::Info => t.accent,
            Level::Error => t.fail,
        };
        for text in super::toast_lines(toast, area.width, ctx.sym)
            .into_iter()
            .rev()
        {
            if y <= area.y {
                return;
            }
            y -= 1;
            let line = Rect::new(area.x, y, area.width, 1);
            clear(buf, line, t.text);
            Line::from(vec![
                Span::raw(" "),
                Span::styled(text, style.add_modifier(Modifier::REVERSED)),
            ])
            .render(line, buf);
        }
    }
}

fn dialog<'a>(title: String, ctx: &Ctx, style: Style) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(style)
        .title(Span::styled(
            format!(" {title} "),
            style.add_modifier(Modifier::BOLD),
        ))
}

/// Draws the help and returns how far it scrolls.
fn help(buf: &mut Buffer, body: Rect, scroll: u16, ctx: &Ctx) -> usize {
    let t = ctx.theme;
    let area = centered(body, 76, body.height);
    clear(buf, area, t.text);
    let block = dialog("Keys (Esc closes)".into(), ctx, t.accent);
    let inner = block.inner(area);
    block.render(area, buf);
    let lines = help_lines(ctx, inner.width as usize);
    let (scroll, max) = super::scrolled(buf, inner, lines, scroll);
    scroll_mark(buf, area, scroll, max, t.accent);
    max
}

/// The help text: every binding of the keymap, by group.
pub fn help_lines(ctx: &Ctx, w: usize) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut lines = Vec::new();
    let keys_w = 16;
    for (group, rows) in keymap::help(ctx.ascii) {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.push(Line::from(Span::styled(
            group.title().to_string(),
            t.accent.add_modifier(Modifier::BOLD),
        )));
        for (keys, description) in rows {
            let key = format!("  {keys:<keys_w$} ");
            let hang = " ".repeat(width(&key));
            lines.extend(wrap_after(
                vec![Span::styled(key, t.accent)],
                vec![Span::raw(description.to_string())],
                w,
                &hang,
            ));
        }
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "Status glyphs",
        t.accent.add_modifier(Modifier::BOLD),
    )));
    for status in Status::ALL {
        let glyph = crate::report::glyph(status, ctx.ascii);
        let key = format!("  {glyph:<keys_w$} ");
        let hang = " ".repeat(width(&key));
        lines.extend(wrap_after(
            vec![Span::styled(key, t.status(status))],
            vec![Span::raw(format!(
                "{}: {}",
                status.as_str(),
                status_meaning(status)
            ))],
            w,
            &hang,
        ));
    }
    lines
}

/// What each status says of an item, for the legend.
fn status_meaning(status: Status) -> &'static str {
    match status {
        Status::Pass => "its probe passed",
        Status::Done => "ticked by a person",
        Status::Fail => "its probe failed",
        Status::Error => "its probe could not run (the reason is in the detail)",
        Status::Pending => "not checked yet: no result, or waiting for a tick",
        Status::Waived => "accepted as it is, for a reason, by a person",
        Status::Skipped => "does not apply in this environment",
    }
}

fn note(buf: &mut Buffer, body: Rect, title: &str, text: &TextArea, ctx: &Ctx) {
    let t = ctx.theme;
    let area = centered(body, 72, 12.min(body.height));
    clear(buf, area, t.text);
    let block = dialog(title.to_string(), ctx, t.accent);
    let inner = block.inner(area);
    block.render(area, buf);
    let mut field = text.clone();
    field.set_style(t.text);
    field.set_cursor_line_style(Style::default());
    field.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    field.set_placeholder_style(t.muted);
    field.render(inner, buf);
}

fn field_row(buf: &mut Buffer, area: Rect, label: &str, field: &TextArea, active: bool, ctx: &Ctx) {
    let t = ctx.theme;
    let marker = if active { ctx.sym.select } else { " " };
    let label_w = 10u16;
    Line::from(vec![
        Span::styled(format!("{marker} "), t.accent),
        Span::styled(
            format!("{label:<8}"),
            if active { t.accent } else { t.muted },
        ),
    ])
    .render(Rect::new(area.x, area.y, label_w.min(area.width), 1), buf);
    let rect = Rect::new(
        area.x + label_w,
        area.y,
        area.width.saturating_sub(label_w),
        1,
    );
    let mut f = field.clone();
    f.set_style(if active {
        t.text.add_modifier(Modifier::UNDERLINED)
    } else {
        t.text
    });
    f.set_cursor_line_style(Style::default());
    f.set_placeholder_style(t.muted);
    if active {
        f.set_cursor_style(Style::default().add_modifier(Modifier::REVERSED));
    } else {
        f.set_cursor_style(Style::default());
    }
    f.render(rect, buf);
}

fn waive(buf: &mut Buffer, body: Rect, app: &App, form: &crate::tui::app::WaiveForm, ctx: &Ctx) {
    let t = ctx.theme;
    let area = centered(body, 72, 9.min(body.height));
    clear(buf, area, t.text);
    let block = dialog(format!("Waive {}", form.item), ctx, t.waived);
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.height < 4 {
        return;
    }
    let title = app
        .item_report(&form.item)
        .map(|i| format!("{} ({}, {})", i.title, i.severity, i.status))
        .unwrap_or_default();
    Line::from(Span::styled(
        fit(
            &crate::text::sanitize(&title, false),
            inner.width as usize,
            ctx.sym,
        ),
        t.muted,
    ))
    .render(Rect::new(inner.x, inner.y, inner.width, 1), buf);
    let row = |n: u16| Rect::new(inner.x, inner.y + n, inner.width, 1);
    field_row(buf, row(2), "reason", &form.reason, form.field == 0, ctx);
    field_row(buf, row(3), "until", &form.until, form.field == 1, ctx);
    if let Some(e) = &form.error
        && inner.height > 5
    {
        Paragraph::new(Span::styled(format!("{} {e}", ctx.sym.error), t.fail))
            .wrap(Wrap { trim: true })
            .render(
                Rect::new(inner.x, inner.y + 5, inner.width, inner.height - 5),
                buf,
            );
    }
}

fn unwaive(buf: &mut Buffer, body: Rect, app: &App, item: &str, ctx: &Ctx) {
    let t = ctx.theme;
    let area = centered(body, 64, 7.min(body.height));
    clear(buf, area, t.text);
    let block = dialog(format!("Withdraw the waiver of {item}?"), ctx, t.waived);
    let inner = block.inner(area);
    block.render(area, buf);
    let waiver = app
        .review_doc()
        .and_then(|d| d.snapshot.log.state.waiver(item).cloned());
    let mut lines = Vec::new();
    if let Some(w) = waiver {
        lines.push(Line::from(format!(
            "waived by {}: {}",
            crate::text::sanitize(&w.by, false),
            crate::text::sanitize(&w.reason, false)
        )));
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("Enter", t.accent),
        Span::raw(" or "),
        Span::styled("y", t.accent),
        Span::raw(" withdraws it; "),
        Span::styled("Esc", t.accent),
        Span::raw(" keeps it."),
    ]));
    Paragraph::new(lines)
        .wrap(Wrap { trim: true })
        .render(inner, buf);
}

fn signoff(
    buf: &mut Buffer,
    body: Rect,
    app: &App,
    dialog_state: &crate::tui::app::SignoffDialog,
    ctx: &Ctx,
) {
    let t = ctx.theme;
    let report = &app.view.report;
    let extra = u16::from(report.signatures.required()) * 2 + u16::from(report.upstream.is_some());
    let area = centered(body, 76, (18 + extra).min(body.height));
    clear(buf, area, t.text);
    let checklist = app
        .current_checklist()
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let env = app.env_tab();
    let border = if env.is_production() {
        t.danger
    } else {
        t.accent
    };
    let block = dialog(format!("Sign off {checklist} in {}", env.name), ctx, border);
    let inner = block.inner(area);
    block.render(area, buf);
    let w = inner.width as usize;
    let mut lines: Vec<Line> = Vec::new();

    let mut choices: Vec<Span> = Vec::new();
    for d in SignoffDecision::ALL {
        let on = d == dialog_state.choice;
        let mark = if on {
            ctx.sym.radio_on
        } else {
            ctx.sym.radio_off
        };
        let style = if on {
            t.selection.add_modifier(Modifier::BOLD)
        } else {
            t.muted
        };
        choices.push(Span::styled(format!("{mark} {d}"), style));
        choices.push(Span::raw("   "));
    }
    lines.push(Line::from(choices));
    let mut is = vec![
        Span::styled("the review is ", t.muted),
        Span::styled(report.decision.label(), t.decision(report.decision)),
    ];
    let status = report.signatures.status_decision;
    if status != report.decision {
        is.push(Span::styled("; its statuses say ", t.muted));
        is.push(Span::styled(status.label(), t.decision(status)));
    }
    lines.push(Line::from(is));
    if report.signatures.required() {
        let mut seats: Vec<Span> = Vec::new();
        for (n, seat) in report.signatures.roles.iter().enumerate() {
            if n > 0 {
                seats.push(Span::styled(format!(" {} ", ctx.sym.sep), t.muted));
            }
            seats.push(Span::styled(format!("{} ", seat.role), t.text));
            match &seat.signer {
                Some(s) => seats.push(Span::styled(
                    crate::text::sanitize(&format!("{} ({})", s.by, s.decision), false),
                    t.pass,
                )),
                None => seats.push(Span::styled(
                    crate::text::sanitize(&format!("awaiting {}", seat.missing.join(", ")), false),
                    t.warning,
                )),
            }
        }
        lines.extend(wrap_after(
            vec![Span::styled("  roles    ", t.muted)],
            seats,
            w,
            &" ".repeat(11),
        ));
    }
    if let Some(up) = &report.upstream {
        let style = up.decision.map_or(t.warning, |d| t.decision(d));
        lines.push(Line::from(vec![
            Span::styled("  from     ", t.muted),
            Span::styled(crate::text::sanitize(&up.label(), false), style),
        ]));
    }
    lines.push(Line::default());
    lines.push(Line::from(Span::styled(
        "The log will record:",
        t.accent.add_modifier(Modifier::BOLD),
    )));
    let doc = app.review_doc();
    let head = doc.map(|d| d.snapshot.log.head.clone()).unwrap_or_default();
    let events = doc.map_or(0, |d| d.snapshot.log.events);
    let head_short = if head.is_empty() {
        "(empty log)".to_string()
    } else {
        head.chars().take(12).collect()
    };
    let counts: Vec<String> = Status::ALL
        .iter()
        .filter(|s| report.counts.get(**s) > 0)
        .map(|s| format!("{} {}", report.counts.get(*s), s.as_str()))
        .collect();
    let rows = [
        ("decision", dialog_state.choice.to_string()),
        ("by", crate::text::sanitize(&app.operator, false)),
        ("items", counts.join(", ")),
        ("signs", format!("log head {head_short} ({events} events)")),
    ];
    let hang = " ".repeat(11);
    for (k, v) in rows {
        lines.extend(wrap_after(
            vec![Span::styled(format!("  {k:<9}"), t.muted)],
            vec![Span::raw(v)],
            w,
            &hang,
        ));
    }
    let blockers = app.open_blockers();
    if !blockers.is_empty() {
        lines.extend(wrap_after(
            vec![Span::styled("  open     ", t.muted)],
            vec![Span::styled(
                format!("blockers: {}", blockers.join(", ")),
                t.danger,
            )],
            w,
            &hang,
        ));
    }
    lines.push(Line::default());
    match app.signoff_check(dialog_state.choice) {
        Ok(()) => lines.push(Line::from(Span::styled(
            format!("{} the log's rules accept this sign-off", ctx.sym.link_up),
            t.pass,
        ))),
        Err(e) => lines.extend(wrap(
            vec![Span::styled(
                format!("{} refused: {e}", ctx.sym.error),
                t.fail,
            )],
            w,
            "",
            "  ",
        )),
    }
    let text_h = (inner.height as usize).saturating_sub(2);
    let shown: Vec<Line> = lines.into_iter().take(text_h).collect();
    Paragraph::new(shown).render(inner, buf);
    if inner.height >= 2 {
        let row = Rect::new(inner.x, inner.bottom() - 1, inner.width, 1);
        field_row(buf, row, "note", &dialog_state.note, true, ctx);
    }
}
