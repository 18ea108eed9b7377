//! Drawing: a pure function of the app's state and the theme. Nothing here
//! changes state, reads a file or waits; `draw` can run any number of times.

pub mod detail;
pub mod header;
pub mod list;
pub mod log;
pub mod markdown;
pub mod matrix;
pub mod objects;
pub mod overlay;
pub mod path;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::Span;
use ratatui::widgets::{Block, BorderType, Borders};

use super::app::{App, Screen};
use super::theme::Theme;

/// Below this width the sections stack above the items.
pub const WIDE: u16 = 110;

/// The glyphs the screen uses, in Unicode or plain ASCII.
#[derive(Debug, Clone, Copy)]
pub struct Symbols {
    pub select: &'static str,
    pub focus: &'static str,
    pub bar_full: &'static str,
    pub bar_empty: &'static str,
    pub link_up: &'static str,
    pub link_down: &'static str,
    pub link_unknown: &'static str,
    pub danger: &'static str,
    pub sep: &'static str,
    pub ellipsis: &'static str,
    pub radio_on: &'static str,
    pub radio_off: &'static str,
    pub bullet: &'static str,
    pub arrow: &'static str,
    pub info: &'static str,
    pub error: &'static str,
    pub spinner: &'static [&'static str],
    /// Rows hidden above or below a pane's visible part.
    pub more_up: &'static str,
    pub more_down: &'static str,
    /// In an object's YAML: a field the expectation reads, the one that fails.
    pub read: &'static str,
    pub failing: &'static str,
    pub border: border::Set<'static>,
}

pub const UNICODE: Symbols = Symbols {
    select: "▸",
    focus: "◆",
    bar_full: "█",
    bar_empty: "░",
    link_up: "●",
    link_down: "✘",
    link_unknown: "○",
    danger: "⚠",
    sep: "·",
    ellipsis: "…",
    radio_on: "◉",
    radio_off: "○",
    bullet: "•",
    arrow: "→",
    info: "ℹ",
    error: "✘",
    spinner: &["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"],
    more_up: "↑",
    more_down: "↓",
    read: "•",
    failing: "✘",
    border: border::ROUNDED,
};

pub const ASCII: Symbols = Symbols {
    select: ">",
    focus: "*",
    bar_full: "#",
    bar_empty: ".",
    link_up: "*",
    link_down: "x",
    link_unknown: "o",
    danger: "!",
    sep: "-",
    ellipsis: "...",
    radio_on: "(*)",
    radio_off: "( )",
    bullet: "-",
    arrow: "->",
    info: "i",
    error: "!",
    spinner: &["|", "/", "-", "\\"],
    more_up: "^",
    more_down: "v",
    read: "*",
    failing: "x",
    border: border::Set {
        top_left: "+",
        top_right: "+",
        bottom_left: "+",
        bottom_right: "+",
        vertical_left: "|",
        vertical_right: "|",
        horizontal_top: "-",
        horizontal_bottom: "-",
    },
};

/// What every view needs besides the app: the theme and the glyphs.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub theme: &'a Theme,
    pub sym: &'a Symbols,
    pub ascii: bool,
}

/// Where things go on a screen of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    pub tabs: Rect,
    /// Why the decision is what it is, and the latest sign-off.
    pub status: Rect,
    pub body: Rect,
    /// Rows of their own for the toasts, between the body and the hint bar,
    /// so a message never covers the row being worked on.
    pub toasts: Rect,
    pub hint: Rect,
    pub sections: Rect,
    pub items: Rect,
    pub stacked: bool,
}

impl Areas {
    /// Item rows that fit in the items pane.
    pub fn items_rows(&self) -> usize {
        self.items.height.saturating_sub(2) as usize
    }
    pub fn section_rows(&self) -> usize {
        self.sections.height.saturating_sub(2) as usize
    }
    /// The item row (0 = first visible) under a mouse position.
    pub fn item_row_at(&self, col: u16, row: u16) -> Option<usize> {
        inner_row(self.items, col, row)
    }
    pub fn section_row_at(&self, col: u16, row: u16) -> Option<usize> {
        inner_row(self.sections, col, row)
    }
}

fn inner_row(area: Rect, col: u16, row: u16) -> Option<usize> {
    let inner = Rect::new(
        area.x + 1,
        area.y + 1,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    (col >= inner.x
        && col < inner.x + inner.width
        && row >= inner.y
        && row < inner.y + inner.height)
        .then(|| (row - inner.y) as usize)
}

/// The layout of the list screen: header, tabs, sections and items (side
/// by side when wide, stacked when narrow), a row per toast, hint bar.
pub fn layout(area: Rect, sections: usize, toasts: usize) -> Areas {
    layout_for(area, sections, 0, toasts)
}

/// Where things go; `longest` is the widest section title, which the
/// sections pane makes room for when the screen is wide.
pub fn layout_for(area: Rect, sections: usize, longest: usize, toasts: usize) -> Areas {
    // Toasts take rows from the body, never more than a third of it.
    let rows = (toasts as u16).min(area.height.saturating_sub(3) / 3);
    let [header, tabs, status, body, toasts, hint] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(rows),
        Constraint::Length(1),
    ])
    .areas(area);
    let stacked = area.width < WIDE;
    let (sections_area, items) = if stacked {
        // Enough for the sections (plus "all"), at most a third of the body.
        let want = sections as u16 + 1 + 2;
        let cap = (body.height / 3).max(4);
        let [s, i] =
            Layout::vertical([Constraint::Length(want.min(cap)), Constraint::Min(0)]).areas(body);
        (s, i)
    } else {
        // Whole titles: marker, title, bar, count and verdict, and borders.
        let want = (longest + 2 + 1 + 5 + 7 + 11 + 2) as u16;
        let width = want.clamp((area.width / 4).clamp(30, 48), area.width / 3);
        let [s, i] =
            Layout::horizontal([Constraint::Length(width), Constraint::Min(0)]).areas(body);
        (s, i)
    };
    Areas {
        header,
        tabs,
        status,
        body,
        toasts,
        hint,
        sections: sections_area,
        items,
        stacked,
    }
}

/// A toast as the rows it takes at `width` columns: one, or for an error
/// that does not fit, two (its words wrapped, the second line losing its
/// middle if it must), so the reason of a refusal is read whole. The
/// dismiss hint of an error always shows.
pub fn toast_lines(toast: &crate::tui::app::Toast, width_cols: u16, sym: &Symbols) -> Vec<String> {
    use crate::tui::app::Level;
    let max_w = (width_cols as usize).saturating_sub(2);
    let (glyph, tail) = match toast.level {
        Level::Info => (sym.info, ""),
        Level::Error => (sym.error, "  (Esc)"),
    };
    let frame = width(glyph) + width(tail) + 3;
    let room = max_w.saturating_sub(frame);
    if width(&toast.text) <= room || toast.level == Level::Info || room < 20 {
        let message = fit_middle(&toast.text, room, sym);
        return vec![format!(" {glyph} {message}{tail} ")];
    }
    // Whole words on each line but the last, which takes the rest.
    const MOST: usize = 3;
    let pad = " ".repeat(width(glyph));
    let mut lines: Vec<String> = Vec::new();
    let mut rest = toast.text.as_str();
    while lines.len() + 1 < MOST && width(rest) > room {
        let mut line = String::new();
        for word in rest.split_inclusive(' ') {
            if width(&line) + width(word.trim_end()) > room {
                break;
            }
            line.push_str(word);
        }
        if line.is_empty() {
            break;
        }
        rest = rest[line.len()..].trim_start();
        lines.push(line.trim_end().to_string());
    }
    lines.push(fit_middle(rest, room, sym));
    let last = lines.len() - 1;
    lines
        .into_iter()
        .enumerate()
        .map(|(n, text)| {
            let lead = if n == 0 { glyph } else { pad.as_str() };
            let end = if n == last { tail } else { "" };
            let gap = room.saturating_sub(width(&text)) + width(tail) - width(end);
            format!(" {lead} {text}{}{end} ", " ".repeat(gap))
        })
        .collect()
}

/// From this width on, an open detail shows beside the list.
pub const BESIDE: u16 = 140;

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App, theme: &Theme) {
    let sym = if app.ascii { &ASCII } else { &UNICODE };
    let ctx = Ctx {
        theme,
        sym,
        ascii: app.ascii,
    };
    let area = frame.area();
    let areas = app.layout(area);
    let buf = frame.buffer_mut();
    buf.set_style(area, theme.text);
    header::draw(buf, &areas, app, &ctx);
    match app.ui.stack.last() {
        None => list::draw(buf, &areas, app, &ctx),
        // Wide, the list stays in view beside the detail.
        Some(Screen::Detail { item, scroll }) if area.width >= BESIDE => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(45), Constraint::Min(0)])
                    .areas(areas.body);
            let beside = Areas {
                sections: Rect::new(left.x, left.y, 0, 0),
                items: left,
                ..areas
            };
            list::items(buf, beside.items, app, &ctx);
            detail::draw(buf, right, app, item, *scroll, &ctx)
        }
        Some(Screen::Detail { item, scroll }) => {
            detail::draw(buf, areas.body, app, item, *scroll, &ctx)
        }
        Some(Screen::Path { cursor }) => path::draw(buf, areas.body, app, *cursor, &ctx),
        Some(Screen::Log { scroll }) => log::draw(buf, areas.body, app, *scroll, &ctx),
        Some(Screen::Matrix { scroll }) => matrix::draw(buf, areas.body, app, *scroll, &ctx),
        Some(Screen::Objects { item, cursor }) => {
            objects::draw_list(buf, areas.body, app, item, *cursor, &ctx)
        }
        Some(Screen::Object { scroll, .. }) => {
            objects::draw_object(buf, areas.body, app, *scroll, &ctx)
        }
    }
    overlay::draw(frame, &areas, app, &ctx);
    if app.ascii {
        asciify(frame.buffer_mut());
    }
}

/// The last guard for `--ascii`: whatever reached the buffer (a remote
/// string, a title) is shown in ASCII only.
pub fn asciify(buf: &mut Buffer) {
    let area = buf.area;
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &mut buf[(x, y)];
            if cell.symbol().is_ascii() {
                continue;
            }
            let replacement = match cell.symbol() {
                "…" => ".",
                "—" | "–" | "─" => "-",
                "│" => "|",
                "·" | "•" => "-",
                "→" => ">",
                "‘" | "’" => "'",
                "‹" => "<",
                "›" => ">",
                "“" | "”" => "\"",
                _ => "?",
            };
            cell.set_symbol(replacement);
        }
    }
}

/// A bordered pane; the focused one is marked by a glyph as well as colour.
pub fn pane<'a>(title: String, focused: bool, ctx: &Ctx) -> Block<'a> {
    let style = if focused {
        ctx.theme.accent
    } else {
        ctx.theme.muted
    };
    let marker = if focused { ctx.sym.focus } else { " " };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_set(ctx.sym.border)
        .border_style(style)
        .title(Span::styled(format!("{marker} {title} "), style));
    if ctx.ascii {
        block
    } else {
        block.border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
    }
}

/// Text display width.
pub fn width(s: &str) -> usize {
    Span::raw(s).width()
}

/// `s` cut to `max` columns, the cut marked with an ellipsis.
pub fn fit(s: &str, max: usize, sym: &Symbols) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let ell = width(sym.ellipsis);
    if max <= ell {
        return ".".repeat(max);
    }
    let mut out = String::new();
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut buf));
        if used + w + ell > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push_str(sym.ellipsis);
    out
}

/// `s` cut to `max` columns in the middle, keeping its start and, longer,
/// its end: where a path or a message says what it is about.
pub fn fit_middle(s: &str, max: usize, sym: &Symbols) -> String {
    if width(s) <= max {
        return s.to_string();
    }
    let ell = width(sym.ellipsis);
    if max <= ell + 2 {
        return fit(s, max, sym);
    }
    let room = max - ell;
    let head_room = room / 3;
    let mut buf = [0u8; 4];
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = width(c.encode_utf8(&mut buf));
        if used + w > head_room {
            break;
        }
        used += w;
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    for c in s.chars().rev() {
        let w = width(c.encode_utf8(&mut buf));
        if used + w > room {
            break;
        }
        used += w;
        tail.push(c);
    }
    let tail: String = tail.into_iter().rev().collect();
    format!("{head}{}{tail}", sym.ellipsis)
}

/// `" 3/12 "` on the bottom border of `area`, right-aligned: where a
/// scrolled view is, when not everything fits.
/// Draws the part of `lines` that fits `inner` from line `scroll` on (held
/// inside the text), and returns the scroll used and the largest there is.
pub fn scrolled(
    buf: &mut Buffer,
    inner: Rect,
    lines: Vec<ratatui::text::Line<'_>>,
    scroll: u16,
) -> (usize, usize) {
    use ratatui::widgets::{Paragraph, Widget};
    let max = lines.len().saturating_sub(inner.height as usize);
    let scroll = (scroll as usize).min(max);
    let visible: Vec<ratatui::text::Line> = lines
        .into_iter()
        .skip(scroll)
        .take(inner.height as usize)
        .collect();
    Paragraph::new(visible).render(inner, buf);
    (scroll, max)
}

pub fn scroll_mark(buf: &mut Buffer, area: Rect, pos: usize, last: usize, style: Style) {
    if last == 0 {
        return;
    }
    let mark = format!(" {}/{} ", pos + 1, last + 1);
    border_note(buf, area, &mark, style);
}

/// `text` on the bottom border of `area`, one cell from its right corner.
pub fn border_note(buf: &mut Buffer, area: Rect, text: &str, style: Style) {
    let w = width(text) as u16;
    if area.height < 2 || area.width < w + 3 {
        return;
    }
    ratatui::widgets::Widget::render(
        ratatui::text::Line::from(Span::styled(text.to_string(), style)),
        Rect::new(area.right() - w - 1, area.bottom() - 1, w, 1),
        buf,
    );
}

/// `s` padded with spaces (or cut) to exactly `w` columns.
pub fn pad(s: &str, w: usize, sym: &Symbols) -> String {
    let cut = fit(s, w, sym);
    let n = w.saturating_sub(width(&cut));
    format!("{cut}{}", " ".repeat(n))
}

/// A progress bar of `w` cells.
pub fn bar(done: usize, total: usize, w: usize, sym: &Symbols) -> String {
    let full = (done * w + total / 2).checked_div(total).unwrap_or(w);
    format!(
        "{}{}",
        sym.bar_full.repeat(full.min(w)),
        sym.bar_empty.repeat(w - full.min(w))
    )
}

/// A rectangle of at most `w` x `h` centred in `area`. A dialog that would
/// leave only slivers of the screen beside it takes the whole width: the
/// slivers would show cut-off words of whatever is underneath.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = if area.width.saturating_sub(w) < 12 {
        area.width
    } else {
        w
    };
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// Fills `area` with spaces in `style` (under a dialog).
pub fn clear(buf: &mut Buffer, area: Rect, style: Style) {
    ratatui::widgets::Widget::render(ratatui::widgets::Clear, area, buf);
    buf.set_style(area, style);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_middle_cut_keeps_both_ends() {
        let path = "snapshot /srv/reviews/checkout/rendered/prod.yaml";
        let cut = fit_middle(path, 30, &UNICODE);
        assert_eq!(width(&cut), 30);
        assert!(cut.starts_with("snapshot"), "{cut}");
        assert!(cut.ends_with("rendered/prod.yaml"), "{cut}");
        assert_eq!(fit_middle("short", 30, &UNICODE), "short");
        assert!(fit_middle(path, 30, &ASCII).is_ascii());
    }

    #[test]
    fn a_dialog_that_almost_fills_the_width_fills_it() {
        let body = Rect::new(0, 2, 80, 21);
        assert_eq!(centered(body, 76, 10).width, 80);
        assert_eq!(centered(body, 64, 10), Rect::new(8, 7, 64, 10));
        assert_eq!(centered(body, 100, 40), body);
    }
}
