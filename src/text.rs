//! Cleaning of remote text (HTTP bodies, annotations, notes) before it reaches
//! a terminal or an export.

/// Removes control characters (ANSI escapes included) from `input`, keeping
/// newlines and tabs only when `keep_newlines` is set.
pub fn sanitize(input: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\n' | '\t' if keep_newlines => out.push(c),
            '\n' | '\t' | '\r' => out.push(' '),
            c if c.is_control() => {}
            // Bidirectional controls can make text read differently than it is.
            c if is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// The bidirectional formatting characters: embeddings, overrides,
/// isolates and the marks (Trojan Source, CVE-2021-42574).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
    )
}

/// Skips the rest of an escape sequence whose ESC has been consumed.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('[') => {
            chars.next();
            // CSI: parameters and intermediates, then one final byte 0x40..=0x7e.
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') => {
            chars.next();
            // OSC: ends with BEL or ESC \.
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' {
                    chars.next();
                    break;
                }
            }
        }
        Some(_) => {
            chars.next();
        }
        None => {}
    }
}

/// Shortens `input` to at most `max` characters, marking the cut with `…`.
pub fn truncate(input: &str, max: usize) -> String {
    if input.chars().count() <= max {
        return input.to_string();
    }
    let mut out: String = input.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` quoted for a POSIX shell when it needs it, so the verify command can
/// be pasted as it stands.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,~".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ansi_and_controls() {
        assert_eq!(sanitize("ok\u{1b}[31mred\u{1b}[0m\u{7}", false), "okred");
        assert_eq!(sanitize("a\nb\tc", false), "a b c");
        assert_eq!(sanitize("a\nb", true), "a\nb");
        assert_eq!(sanitize("x\u{1b}]0;title\u{7}y", false), "xy");
        assert_eq!(sanitize("rtl\u{202e}txet", false), "rtltxet");
    }

    #[test]
    fn truncates_on_char_boundaries() {
        assert_eq!(truncate("héllo", 10), "héllo");
        assert_eq!(truncate("héllo wörld", 5), "héll…");
    }
}
