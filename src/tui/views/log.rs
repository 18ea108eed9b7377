//! The review's sign-off log in view: what the log says and where it
//! stands (the head hash, the command that verifies it), then every event,
//! oldest first, the sign-offs marked and a line where the latest sign-off
//! went stale.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::markdown::{wrap, wrap_after};
use super::{Ctx, pane, scroll_mark};
use crate::ledger::{Event, EventKind};
use crate::tui::app::App;

pub fn draw(buf: &mut Buffer, area: Rect, app: &App, scroll: u16, ctx: &Ctx) {
    let (checklist, env) = (
        app.current_checklist()
            .map(|c| c.id.clone())
            .unwrap_or_default(),
        app.env_tab().name.clone(),
    );
    let block = pane(
        format!("Sign-off log {} {checklist} in {env}", ctx.sym.sep),
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

/// Every line of the log screen, wrapped to `w` columns.
pub fn lines(app: &App, w: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let Some(doc) = app.review_doc() else {
        out.push(Line::from(Span::styled(
            "the log has not been read yet",
            t.muted,
        )));
        return out;
    };
    let log = &doc.snapshot.log;
    let head = if log.head.is_empty() {
        "(empty)".to_string()
    } else {
        log.head.clone()
    };
    out.extend(wrap_after(
        vec![Span::styled("head    ", t.muted)],
        vec![Span::raw(format!(
            "{head} ({} event{})",
            log.events,
            if log.events == 1 { "" } else { "s" }
        ))],
        w,
        "        ",
    ));
    out.extend(wrap_after(
        vec![Span::styled("verify  ", t.muted)],
        vec![
            Span::styled(doc.snapshot.verify.clone(), t.accent),
            Span::styled(" (y copies it)", t.muted),
        ],
        w,
        "        ",
    ));
    for problem in &log.problems {
        out.extend(wrap(
            vec![Span::styled(
                format!(
                    "{} altered: {} (its decisions are not counted)",
                    ctx.sym.error,
                    crate::text::sanitize(problem, false)
                ),
                t.fail.add_modifier(Modifier::BOLD),
            )],
            w,
            "",
            "  ",
        ));
    }
    for warning in &log.warnings {
        out.extend(wrap(
            vec![Span::styled(
                crate::text::sanitize(warning, false),
                t.warning,
            )],
            w,
            "",
            "  ",
        ));
    }
    out.push(Line::default());
    let events = match &app.live.trail {
        Some((id, events)) if app.current_checklist().is_some_and(|c| &c.id == id) => events,
        _ => {
            out.push(Line::from(Span::styled("reading the events…", t.muted)));
            return out;
        }
    };
    if events.is_empty() {
        out.push(Line::from(Span::styled(
            "nothing recorded yet: ticks, notes, waivers and sign-offs appear here",
            t.muted,
        )));
        return out;
    }
    // Where the latest sign-off went stale: the first status change after
    // it, as the fold counts them.
    let latest = log.state.latest_signoff().map(|s| s.seq);
    let stale_at = latest.and_then(|seq| {
        events
            .iter()
            .find(|e| e.seq > seq && changes_status(e))
            .map(|e| e.seq)
    });
    let hang = " ".repeat(27);
    for event in events.iter() {
        if Some(event.seq) == stale_at {
            out.push(Line::from(Span::styled(
                format!(
                    "{} the sign-off of event {} is stale from here: a status changed",
                    ctx.sym.arrow,
                    latest.unwrap_or_default()
                ),
                t.warning.add_modifier(Modifier::BOLD),
            )));
        }
        let when = event.at.strftime("%m-%d %H:%M").to_string();
        let lead = vec![
            Span::styled(format!("{:>4} ", event.seq), t.muted),
            Span::styled(format!("{when} "), t.muted),
            Span::styled(
                format!(
                    "{:<10}",
                    super::fit(&crate::text::sanitize(&event.by, false), 9, ctx.sym)
                ),
                t.text,
            ),
        ];
        let (what, style) = describe(event);
        out.extend(wrap_after(
            lead,
            vec![Span::styled(crate::text::sanitize(&what, false), style(t))],
            w,
            &hang,
        ));
    }
    out
}

/// Whether an event changes an item's status (and so makes earlier
/// sign-offs stale).
fn changes_status(e: &Event) -> bool {
    matches!(
        e.kind,
        EventKind::Tick { .. }
            | EventKind::Untick { .. }
            | EventKind::Waive { .. }
            | EventKind::Unwaive { .. }
    )
}

type Styler = fn(&crate::tui::theme::Theme) -> ratatui::style::Style;

/// One event in words, with the style it is shown in.
fn describe(e: &Event) -> (String, Styler) {
    match &e.kind {
        EventKind::Tick { item } => (format!("ticked {item}"), |t| t.pass),
        EventKind::Untick { item } => (format!("unticked {item}"), |t| t.text),
        EventKind::Note { item, text } => {
            let first = text.lines().next().unwrap_or_default();
            let more = if text.lines().count() > 1 { " …" } else { "" };
            (format!("note on {item}: {first}{more}"), |t| t.text)
        }
        EventKind::Waive {
            item,
            reason,
            until,
        } => {
            let until = until.map(|d| format!(" until {d}")).unwrap_or_default();
            (format!("waived {item}{until}: {reason}"), |t| t.warning)
        }
        EventKind::Unwaive { item } => (format!("withdrew the waiver of {item}"), |t| t.text),
        EventKind::Signoff {
            decision,
            note,
            version,
            ..
        } => {
            let version = version
                .as_deref()
                .map(|v| format!(" (version {v})"))
                .unwrap_or_default();
            let note = note
                .as_deref()
                .map(|n| format!(": {}", n.lines().next().unwrap_or_default()))
                .unwrap_or_default();
            (format!("SIGNED OFF {decision}{version}{note}"), |t| {
                t.accent.add_modifier(Modifier::BOLD)
            })
        }
        EventKind::Unknown { kind, .. } => {
            (format!("{kind} (unknown to this version)"), |t| t.muted)
        }
    }
}
