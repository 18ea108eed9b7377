//! The terminal sanitiser `gonogo::text::sanitize`, which cleans remote
//! text (HTTP bodies, annotations, notes) before a terminal or an export
//! shows it. For both `keep_newlines` settings, its output must hold none
//! of: ESC, a C0 control (U+0000..U+001F) other than '\n' and '\t' when
//! newlines are kept (the function's doc keeps "newlines and tabs"), DEL
//! (U+007F), a C1 control (U+0080..U+009F), or a bidirectional control
//! (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069). Sanitising
//! twice must change nothing more.
//!
//! The input bytes are read three ways, so that every kind of character
//! is easy for the fuzzer to reach: as UTF-8 (lossily; a valid input is
//! its own text), as Latin-1 (each byte one character, which makes C1
//! controls one byte away) and as UTF-16 (lossily; any BMP character is
//! two bytes away, bidi controls included).

#![no_main]

use gonogo::text::sanitize;
use libfuzzer_sys::fuzz_target;

/// Why `c` must not be in the output, if it must not.
fn forbidden(c: char, keep_newlines: bool) -> Option<&'static str> {
    match c {
        '\u{1b}' => Some("ESC"),
        '\n' | '\t' if keep_newlines => None,
        '\u{0}'..='\u{1f}' => Some("a C0 control"),
        '\u{7f}' => Some("DEL"),
        '\u{80}'..='\u{9f}' => Some("a C1 control"),
        '\u{061c}'
        | '\u{200e}'
        | '\u{200f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}' => Some("a bidi control"),
        _ => None,
    }
}

fn check(input: &str) {
    for keep_newlines in [false, true] {
        let out = sanitize(input, keep_newlines);
        if let Some((c, why)) = out
            .chars()
            .find_map(|c| forbidden(c, keep_newlines).map(|why| (c, why)))
        {
            panic!(
                "sanitize({input:?}, {keep_newlines}) = {out:?} keeps U+{:04X} ({why})",
                c as u32
            );
        }
        let again = sanitize(&out, keep_newlines);
        assert_eq!(
            again, out,
            "sanitize is not idempotent on {input:?} ({keep_newlines})"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    check(&String::from_utf8_lossy(data));
    let latin1: String = data.iter().map(|&b| char::from(b)).collect();
    check(&latin1);
    let units: Vec<u16> = data
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    check(&String::from_utf16_lossy(&units));
});
