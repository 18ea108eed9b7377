//! The two header lines: checklist, decision badge and probe spinner; then
//! the environment tabs and the cluster source with its connectivity.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{Areas, Ctx, fit, fit_middle, width};
use crate::ledger::Health;
use crate::tui::app::{App, Link};

pub fn draw(buf: &mut Buffer, areas: &Areas, app: &App, ctx: &Ctx) {
    title_line(buf, areas.header, app, ctx);
    tabs_line(buf, areas.tabs, app, ctx);
    status_line(buf, areas.status, app, ctx);
}

/// The room's first question answered: why the decision is what it is,
/// then the latest sign-off and whether a status changed since it.
fn status_line(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let report = &app.view.report;
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    if let Some(problem) = app
        .review_doc()
        .and_then(|d| d.snapshot.log.problems.first())
    {
        spans.push(Span::styled(
            format!(
                "log altered, its decisions not counted: {}",
                crate::text::sanitize(problem, false)
            ),
            t.fail.add_modifier(Modifier::BOLD),
        ));
        Line::from(spans).render(area, buf);
        return;
    }
    // The latest sign-off on the right, whole; why the decision is what
    // it is on the left, in what room is left.
    let signed: Vec<Span> = match &report.signatures.latest {
        None => vec![Span::styled("not signed off ", t.muted)],
        Some((s, stale)) => {
            let mut v = Vec::new();
            if *stale {
                v.push(Span::styled(
                    "STALE ",
                    t.warning.add_modifier(Modifier::BOLD | Modifier::REVERSED),
                ));
            }
            v.push(Span::styled(
                crate::text::sanitize(
                    &format!(
                        " signed {} by {} {} ago ",
                        s.decision,
                        s.by,
                        crate::tui::app::age_label(app.now, s.at)
                    ),
                    false,
                ),
                if *stale { t.warning } else { t.muted },
            ));
            v
        }
    };
    let right = Line::from(signed);
    let right_w = (right.width() as u16).min(area.width);
    let decision = report.decision;
    let label = format!("{}: ", decision.label());
    let room = (area.width as usize).saturating_sub(right_w as usize + width(&label) + 3);
    spans.push(Span::styled(
        label,
        t.decision(decision).add_modifier(Modifier::BOLD),
    ));
    spans.push(Span::styled(fit(&why(report), room, ctx.sym), t.text));
    Line::from(spans).render(area, buf);
    right.render(Rect::new(area.right() - right_w, area.y, right_w, 1), buf);
}

/// Why a report's decision is what it is, in a few words: the open
/// blockers, the roles still to sign, or what is open.
pub fn why(report: &crate::report::ChecklistReport) -> String {
    use crate::checklist::Severity;
    use crate::review::Decision;
    let blockers: Vec<&str> = report.open_blockers().collect();
    let sig = &report.signatures;
    let open: Vec<&crate::report::ItemReport> =
        report.items().filter(|i| i.status.is_open()).collect();
    let highs = open.iter().filter(|i| i.severity == Severity::High).count();
    match report.decision {
        Decision::NoGo if !blockers.is_empty() => format!(
            "{} blocker{} open ({})",
            blockers.len(),
            if blockers.len() == 1 { "" } else { "s" },
            blockers.join(", ")
        ),
        Decision::NoGo => sig.why().unwrap_or_else(|| "held back".into()),
        Decision::GoWithConditions if highs > 0 => {
            format!("{highs} high open, {} open in all", open.len())
        }
        Decision::GoWithConditions if open.is_empty() => "signed with conditions".into(),
        Decision::GoWithConditions => format!("{} open, none high", open.len()),
        Decision::Go => "every item closed".into(),
    }
}

fn title_line(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let decision = app.view.report.decision;
    let badge = format!(" {} ", decision.label());
    let badge_style = t.decision(decision).add_modifier(Modifier::REVERSED);
    let running = app.live.running.len();
    let activity = if running > 0 {
        let frame = ctx.sym.spinner[app.spinner % ctx.sym.spinner.len()];
        format!("{frame} {running} running ")
    } else if !app.live.ready && app.live.error.is_none() {
        "starting ".to_string()
    } else {
        String::new()
    };
    let report = &app.view.report;
    // Beside the badge: the environment this one is promoted from, and how
    // many of the required roles have signed.
    let mut beside: Vec<Span> = Vec::new();
    let sig = &report.signatures;
    if sig.required() {
        let filled = sig.roles.iter().filter(|s| s.signer.is_some()).count();
        let style = if !sig.vetoes.is_empty() {
            t.fail
        } else if filled == sig.roles.len() {
            t.pass
        } else {
            t.warning
        };
        beside.push(Span::styled(
            format!("signed {filled}/{} ", sig.roles.len()),
            style,
        ));
    }
    if let Some(up) = &report.upstream {
        let style = up.decision.map_or(t.muted, |d| t.decision(d));
        let text = match up.decision {
            Some(d) => format!("{} {}", up.environment, d.label()),
            None => format!("{} not signed", up.environment),
        };
        // Read as the promotion: `staging GO → [NO-GO]`.
        beside.push(Span::styled(text, style));
        beside.push(Span::styled(format!(" {} ", ctx.sym.arrow), t.muted));
    }
    let beside_width: usize = beside.iter().map(|s| s.width()).sum();
    // The title keeps at least a few columns; what is beside the badge
    // gives way first.
    if beside_width + width(&badge) + width(&activity) + 24 > area.width as usize {
        beside.clear();
    }
    let right_width =
        width(&badge) + width(&activity) + beside.iter().map(|s| s.width()).sum::<usize>();

    let mut left: Vec<Span> = vec![Span::styled(" gonogo ", t.accent)];
    if app.demo {
        left.push(Span::styled(
            " DEMO ",
            t.warning.add_modifier(Modifier::REVERSED),
        ));
        left.push(Span::raw(" "));
    }
    let title = app
        .current_checklist()
        .map(|c| crate::text::sanitize(&c.title, false))
        .unwrap_or_else(|| "no checklist loaded".into());
    let count = if app.checklists.len() > 1 {
        format!(" ({}/{})", app.checklist + 1, app.checklists.len())
    } else {
        String::new()
    };
    let used: usize = left.iter().map(|s| s.width()).sum();
    let room = (area.width as usize).saturating_sub(used + right_width + width(&count) + 1);
    left.push(Span::styled(
        fit(&title, room, ctx.sym),
        t.text.add_modifier(Modifier::BOLD),
    ));
    left.push(Span::styled(count, t.muted));
    Line::from(left).render(area, buf);

    let mut right = vec![Span::styled(activity, t.accent)];
    right.extend(beside);
    right.push(Span::styled(badge, badge_style));
    let right = Line::from(right);
    let w = (right.width() as u16).min(area.width);
    right.render(Rect::new(area.right() - w, area.y, w, 1), buf);
}

fn tabs_line(buf: &mut Buffer, area: Rect, app: &App, ctx: &Ctx) {
    let t = ctx.theme;
    let mut spans: Vec<Span> = vec![Span::raw(" ")];
    for (i, env) in app.environments.iter().enumerate() {
        let selected = i == app.env;
        let mut style = if env.is_production() {
            t.danger
        } else if selected {
            t.accent
        } else {
            t.muted
        };
        if selected {
            style = style.patch(t.selection);
        }
        let marker = if selected { ctx.sym.select } else { " " };
        let mut label = format!("{marker}{} {}", i + 1, env.name);
        if env.is_production() {
            label.push(' ');
            label.push_str(ctx.sym.danger);
        }
        if env.read_only {
            label.push_str(" (read-only)");
        }
        label.push(' ');
        spans.push(Span::styled(label, style));
        // Each environment's verdict on its tab: the room sees prod is
        // NO-GO while looking at dev.
        if let Some(d) = app.decision_in(i) {
            let mut ds = t.decision(d);
            if selected {
                ds = ds.patch(t.selection);
            }
            spans.push(Span::styled(format!("{} ", d.short()), ds));
        }
        spans.push(Span::raw(" "));
    }
    let tabs = Line::from(spans);
    let tabs_width = tabs.width();
    tabs.render(area, buf);

    let room = (area.width as usize).saturating_sub(tabs_width + 2);
    if room < 8 {
        return;
    }
    // The sign-off log's trouble outranks the cluster's: while it lasts no
    // decision can be recorded.
    if let Some(trouble) = log_trouble(app) {
        let text = format!("{} ", fit(&trouble, room.saturating_sub(3), ctx.sym));
        let right = Line::from(vec![
            Span::styled(format!("{} ", ctx.sym.link_down), t.fail),
            Span::styled(text, t.fail),
        ]);
        let w = (right.width() as u16).min(area.width);
        right.render(Rect::new(area.right() - w, area.y, w, 1), buf);
        return;
    }
    let (dot, dot_style, note) = match &app.view.link {
        Link::Up => (ctx.sym.link_up, t.pass, ""),
        Link::Down(_) => (ctx.sym.link_down, t.fail, " unreachable"),
        Link::Unknown => (ctx.sym.link_unknown, t.muted, ""),
        Link::Absent => (ctx.sym.link_unknown, t.muted, ""),
    };
    let source = match (&app.live.cluster, &app.view.link) {
        (Some(c), _) => crate::text::sanitize(c, false),
        (None, Link::Absent) => "no cluster".to_string(),
        (None, _) => "connecting".to_string(),
    };
    // Cut in the middle: the end of a snapshot path names the file.
    let text = format!(
        "{} ",
        fit_middle(&format!("{source}{note}"), room.saturating_sub(3), ctx.sym)
    );
    let right = Line::from(vec![
        Span::styled(format!("{dot} "), dot_style),
        Span::styled(text, Style::default().patch(t.muted)),
    ]);
    let w = (right.width() as u16).min(area.width);
    right.render(Rect::new(area.right() - w, area.y, w, 1), buf);
}

/// What is wrong with the current review's sign-off log, in a few words:
/// altered (until someone restores it), or its store not answering (until
/// it does).
fn log_trouble(app: &App) -> Option<String> {
    let status = app.review_doc()?;
    if let Some(error) = &status.error {
        return Some(format!(
            "sign-off log unreadable: {}",
            crate::text::sanitize(error, false)
        ));
    }
    if !status.snapshot.log.problems.is_empty() {
        return Some("sign-off log altered: gonogo log --verify".into());
    }
    match &status.snapshot.store {
        Health::Ok => None,
        Health::Unreachable(reason) => Some(format!(
            "sign-off log unreachable: {}",
            crate::text::sanitize(reason, false)
        )),
    }
}
