//! A small Markdown renderer for help text (headings, paragraphs, lists,
//! quotes, code, emphasis, links) and the word wrapping the detail view
//! uses for every styled line.

use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use super::{Ctx, width};

/// Renders `md` to lines at most `w` columns wide.
pub fn render(md: &str, w: usize, ctx: &Ctx) -> Vec<Line<'static>> {
    let t = ctx.theme;
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut para: Vec<String> = Vec::new();
    let mut in_code = false;
    let flush = |para: &mut Vec<String>, out: &mut Vec<Line<'static>>| {
        if !para.is_empty() {
            let text = para.join(" ");
            out.extend(wrap(inline(&text, Style::default(), ctx), w, "", ""));
            para.clear();
        }
    };
    for raw in crate::text::sanitize(md, true).lines() {
        let line = raw.trim_end();
        if line.trim_start().starts_with("```") {
            flush(&mut para, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            let code = super::fit(&format!("  {line}"), w, ctx.sym);
            out.push(Line::from(Span::styled(code, t.accent)));
            continue;
        }
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            flush(&mut para, &mut out);
            if out.last().is_some_and(|l| l.width() > 0) {
                out.push(Line::default());
            }
            continue;
        }
        if let Some(text) = heading(trimmed) {
            flush(&mut para, &mut out);
            let style = t.accent.add_modifier(Modifier::BOLD);
            out.extend(wrap(inline(text, style, ctx), w, "", ""));
            continue;
        }
        let indent = " ".repeat((line.len() - trimmed.len()).min(8));
        if let Some((marker, text)) = list_item(trimmed) {
            flush(&mut para, &mut out);
            let bullet = if marker == "-" {
                format!("{indent}{} ", ctx.sym.bullet)
            } else {
                format!("{indent}{marker} ")
            };
            let hang = " ".repeat(width(&bullet));
            out.extend(wrap(inline(text, Style::default(), ctx), w, &bullet, &hang));
            continue;
        }
        if let Some(text) = trimmed.strip_prefix('>') {
            flush(&mut para, &mut out);
            let prefix = if ctx.ascii { "| " } else { "│ " };
            out.extend(wrap(
                inline(text.trim_start(), t.muted, ctx),
                w,
                prefix,
                prefix,
            ));
            continue;
        }
        para.push(trimmed.to_string());
    }
    flush(&mut para, &mut out);
    while out.last().is_some_and(|l| l.width() == 0) {
        out.pop();
    }
    out
}

fn heading(line: &str) -> Option<&str> {
    let hashes = line.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
        Some(line[hashes..].trim())
    } else {
        None
    }
}

/// `- x`, `* x`, `+ x` (marker `-`) or `1. x` (marker `1.`).
fn list_item(line: &str) -> Option<(String, &str)> {
    for bullet in ["- ", "* ", "+ "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(("-".into(), rest));
        }
    }
    let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && digits < 4 && line[digits..].starts_with(". ") {
        return Some((line[..digits + 1].to_string(), &line[digits + 2..]));
    }
    None
}

/// Inline Markdown: `code`, **bold**, *em* / _em_, [text](url).
pub fn inline(text: &str, base: Style, ctx: &Ctx) -> Vec<Span<'static>> {
    let t = ctx.theme;
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut plain = String::new();
    let mut bold = false;
    let mut em = false;
    let style = |bold: bool, em: bool| {
        let mut s = base;
        if bold {
            s = s.add_modifier(Modifier::BOLD);
        }
        if em {
            s = s.add_modifier(Modifier::ITALIC);
        }
        s
    };
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    macro_rules! flush {
        () => {
            if !plain.is_empty() {
                spans.push(Span::styled(std::mem::take(&mut plain), style(bold, em)));
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().collect();
        if c == '`'
            && let Some(end) = rest[1..].find('`')
        {
            flush!();
            let code: String = rest[1..1 + end].to_string();
            i += code.chars().count() + 2;
            spans.push(Span::styled(code, t.accent));
            continue;
        }
        if rest.starts_with("**") || rest.starts_with("__") {
            flush!();
            bold = !bold;
            i += 2;
            continue;
        }
        let word_edge = i == 0 || !chars[i - 1].is_alphanumeric();
        if c == '*' || (c == '_' && (word_edge || em)) {
            flush!();
            em = !em;
            i += 1;
            continue;
        }
        if c == '['
            && let Some(close) = rest.find("](")
            && let Some(end) = rest[close..].find(')')
        {
            flush!();
            let label = rest[1..close].to_string();
            let url = rest[close + 2..close + end].to_string();
            i += rest[..close + end + 1].chars().count();
            spans.push(Span::styled(
                label,
                style(bold, em).add_modifier(Modifier::UNDERLINED),
            ));
            spans.push(Span::styled(format!(" ({url})"), t.muted));
            continue;
        }
        plain.push(c);
        i += 1;
    }
    flush!();
    spans
}

/// Greedy word wrap of styled spans to `w` columns: the first line starts
/// with `first`, the others with `rest` (a hanging indent).
pub fn wrap(spans: Vec<Span<'static>>, w: usize, first: &str, rest: &str) -> Vec<Line<'static>> {
    let w = w.max(width(first) + 4).max(width(rest) + 4);
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = vec![Span::raw(first.to_string())];
    let mut used = width(first);
    // Words with their style and whether a space came before them.
    let mut words: Vec<(String, Style, bool)> = Vec::new();
    let mut space = false;
    for span in spans {
        let style = span.style;
        for (n, piece) in span.content.split(' ').enumerate() {
            if n > 0 {
                space = true;
            }
            if !piece.is_empty() {
                words.push((piece.to_string(), style, space));
                space = false;
            }
        }
    }
    let mut first_word = true;
    for (word, style, space_before) in words {
        let ww = width(&word);
        let sep = if first_word || !space_before { 0 } else { 1 };
        if used + sep + ww > w && used > width(rest).max(width(first)) {
            lines.push(Line::from(std::mem::take(&mut current)));
            current.push(Span::raw(rest.to_string()));
            used = width(rest);
            push_word(&mut current, &mut used, &mut lines, &word, style, w, rest);
        } else {
            if sep == 1 {
                current.push(Span::raw(" "));
                used += 1;
            }
            push_word(&mut current, &mut used, &mut lines, &word, style, w, rest);
        }
        first_word = false;
    }
    lines.push(Line::from(current));
    lines
}

/// `head` (a key, a time, a padded label) then `body` wrapped to `w`, the
/// following lines indented by `hang`. Padding inside `head` survives, so
/// columns stay aligned; `wrap` alone would fold runs of spaces into one.
pub fn wrap_after(
    head: Vec<Span<'static>>,
    body: Vec<Span<'static>>,
    w: usize,
    hang: &str,
) -> Vec<Line<'static>> {
    let lead = " ".repeat(head.iter().map(|s| s.width()).sum());
    let mut lines = wrap(body, w, &lead, hang);
    if let Some(first) = lines.first_mut() {
        // `wrap` opens the first line with `lead` as one span: put the head there.
        first.spans.splice(0..1, head);
    }
    lines
}

/// Adds a word, splitting it when it is longer than a whole line.
fn push_word(
    current: &mut Vec<Span<'static>>,
    used: &mut usize,
    lines: &mut Vec<Line<'static>>,
    word: &str,
    style: Style,
    w: usize,
    rest: &str,
) {
    let mut chunk = String::new();
    let mut buf = [0u8; 4];
    for c in word.chars() {
        let cw = width(c.encode_utf8(&mut buf));
        if *used + cw > w && *used > width(rest) {
            current.push(Span::styled(std::mem::take(&mut chunk), style));
            lines.push(Line::from(std::mem::take(current)));
            current.push(Span::raw(rest.to_string()));
            *used = width(rest);
        }
        chunk.push(c);
        *used += cw;
    }
    if !chunk.is_empty() {
        current.push(Span::styled(chunk, style));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::Theme;
    use crate::tui::views::UNICODE;

    fn text(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn renders_blocks_and_inline() {
        let theme = Theme::mono();
        let ctx = Ctx {
            theme: &theme,
            sym: &UNICODE,
            ascii: false,
        };
        let md =
            "# Why\nThe **registry** needs `OIDC_ISSUER`.\n\n- one\n- see [runbook](https://x/y)\n";
        let lines = render(md, 60, &ctx);
        assert_eq!(
            text(&lines),
            vec![
                "Why",
                "The registry needs OIDC_ISSUER.",
                "",
                "• one",
                "• see runbook (https://x/y)",
            ]
        );
        let bold = lines[1].spans.iter().find(|s| s.content == "registry");
        assert!(bold.is_some_and(|s| s.style.add_modifier.contains(Modifier::BOLD)));
    }

    #[test]
    fn wraps_with_hanging_indent() {
        let spans = vec![Span::raw("alpha beta gamma delta epsilon")];
        let lines = wrap(spans, 14, "- ", "  ");
        assert_eq!(
            text(&lines),
            vec!["- alpha beta", "  gamma delta", "  epsilon"]
        );
        let long = wrap(vec![Span::raw("abcdefghijklmnop")], 8, "", "");
        assert_eq!(text(&long), vec!["abcdefgh", "ijklmnop"]);
    }

    #[test]
    fn a_padded_head_keeps_its_column() {
        let lines = wrap_after(
            vec![Span::raw("key     ")],
            vec![Span::raw("one two three")],
            16,
            "        ",
        );
        assert_eq!(text(&lines), vec!["key     one two", "        three"]);
    }
}
