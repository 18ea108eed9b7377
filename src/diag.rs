//! Load errors that point at a place in a file, printed the way rustc does:
//! `file:line:col: error: message`, then the source line and a caret.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source file kept in memory so errors can quote it.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: Arc<str>,
    /// Where each line starts, found on first use: every item asks for its
    /// line, and counting from the top each time is quadratic.
    line_starts: Arc<std::sync::OnceLock<Vec<usize>>>,
}

impl Source {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Source {
            path: path.into(),
            text: text.into(),
            line_starts: Arc::default(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let line = starts.partition_point(|&start| start <= offset);
        let line_start = starts[line - 1];
        let col = self.text[line_start..offset].chars().count() + 1;
        (line, col)
    }

    fn line_text(&self, line: usize) -> &str {
        let _ = self.line_col(0);
        let starts = self.line_starts.get().map(Vec::as_slice).unwrap_or(&[]);
        let Some(&start) = starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = starts.get(line).map_or(self.text.len(), |&next| next);
        self.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(self, span, message)
    }

    /// Reads a text file: `what` says what kind (`checklist`, `config`)
    /// when it cannot be read. A byte-order mark is dropped (editors do not
    /// show it); bytes that are not UTF-8 are an error at the line and
    /// column of the first of them.
    pub fn read(path: &Path, what: &str) -> Result<Source, Diagnostic> {
        let bytes = std::fs::read(path)
            .map_err(|e| Diagnostic::file(path, format!("cannot read {what}: {e}")))?;
        let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Source::new(path, text)),
            Err(e) => {
                let at = e.valid_up_to();
                let shown = Source::new(path, String::from_utf8_lossy(bytes).into_owned());
                Err(shown.error(
                    at..at + '\u{fffd}'.len_utf8(),
                    format!(
                        "not UTF-8 text (byte 0x{:02x}); save the {what} as UTF-8",
                        bytes[at]
                    ),
                ))
            }
        }
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// One error, with where it is when we know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: PathBuf,
    pub message: String,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub col: usize,
    /// The whole source line, for the caret display.
    pub line_text: String,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
}

impl Diagnostic {
    pub fn at(source: &Source, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = source.line_col(span.start);
        let line_text = source.line_text(line).to_string();
        let (end_line, end_col) = source.line_col(span.end.max(span.start));
        let width = if end_line == line && end_col > col {
            end_col - col
        } else {
            1
        };
        Diagnostic {
            path: source.path.clone(),
            message: message.into(),
            location: Some(Location {
                line,
                col,
                line_text,
                width,
            }),
        }
    }

    /// An error about a whole file (it cannot be read, say).
    pub fn file(path: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.to_path_buf(),
            message: message.into(),
            location: None,
        }
    }

    /// The first line only: `file:line:col: error: message`.
    pub fn headline(&self) -> String {
        match &self.location {
            Some(l) => format!(
                "{}:{}:{}: error: {}",
                self.path.display(),
                l.line,
                l.col,
                self.message
            ),
            None => format!("{}: error: {}", self.path.display(), self.message),
        }
    }
}

/// How much of a long line the caret display shows, around the column.
const SNIPPET: usize = 100;

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The file is anybody's: what it says reaches the terminal only
        // without control characters.
        writeln!(f, "{}", crate::text::sanitize(&self.headline(), false))?;
        if let Some(l) = &self.location {
            let gutter = l.line.to_string().len();
            writeln!(f, "{:gutter$} |", "")?;
            let chars: Vec<char> = l.line_text.chars().collect();
            // A window of the line around the column when it is long (a
            // minified or generated file), marked where it was cut.
            let at = l.col.saturating_sub(1).min(chars.len());
            let start = if chars.len() > SNIPPET {
                at.saturating_sub(SNIPPET / 3).min(chars.len() - SNIPPET)
            } else {
                0
            };
            let end = (start + SNIPPET).min(chars.len());
            let shown = |c: &char| match *c {
                '\t' => '\t',
                c if c.is_control() || crate::text::is_bidi_control(c) => '\u{fffd}',
                c => c,
            };
            let before = if start > 0 { "…" } else { "" };
            let after = if end < chars.len() { "…" } else { "" };
            let text: String = chars[start..end].iter().map(shown).collect();
            writeln!(f, "{} | {before}{text}{after}", l.line)?;
            let pad: String = before
                .chars()
                .map(|_| ' ')
                .chain(
                    chars[start..at]
                        .iter()
                        .map(|c| if *c == '\t' { '\t' } else { ' ' }),
                )
                .collect();
            let width = l.width.max(1).min(end.saturating_sub(at).max(1));
            writeln!(f, "{:gutter$} | {}{}", "", pad, "^".repeat(width))?;
        }
        Ok(())
    }
}

/// Every error found in one pass; loading reports them all, not just the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// Sorted by file, then position, with exact repeats removed.
    pub fn sorted(mut self) -> Diagnostics {
        let key = |d: &Diagnostic| {
            (
                d.path.clone(),
                d.location.as_ref().map_or((0, 0), |l| (l.line, l.col)),
            )
        };
        self.0.sort_by_key(key);
        self.0.dedup();
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_line_and_column() {
        let src = Source::new("a.toml", "id = \"x\"\nseverity = \"urgent\"\n");
        let d = src.error(20..28, "unknown severity `urgent`");
        assert_eq!(
            d.headline(),
            "a.toml:2:12: error: unknown severity `urgent`"
        );
        let shown = d.to_string();
        assert!(shown.contains("2 | severity = \"urgent\""), "{shown}");
        assert!(shown.contains("  |            ^^^^^^^^"), "{shown}");
    }
}

/// The candidate closest to `word` by edit distance, when it is close enough
/// to be what the user meant: at most a third of the word's length (and at
/// least one edit), so `severty` finds `severity` but `foo` finds nothing.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// serde's "unknown field `severtiy`, expected one of `id`, `title`, …" with
/// the closest field named first: "unknown field `severtiy`; did you mean
/// `severity`? (fields: id, title, …)". Other messages pass unchanged.
pub fn explain_unknown(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_string();
    };
    let what = if message.starts_with("unknown field") {
        "field"
    } else {
        "value"
    };
    let Some((name, expected)) = rest.split_once("`, expected ") else {
        return message.to_string();
    };
    let candidates: Vec<&str> = expected
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, c)| c)
        .collect();
    if candidates.is_empty() {
        return message.to_string();
    }
    let label = if what == "field" { "fields" } else { "values" };
    format!(
        "unknown {what} `{name}`{} ({label}: {})",
        did_you_mean(name, candidates.iter().copied()),
        candidates.join(", ")
    )
}

/// `, did you mean `x`?` when a close candidate exists, else nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map_or(String::new(), |c| format!("; did you mean `{c}`?"))
}

/// Levenshtein distance over characters, with a transposition counted as
/// one edit (`recieve` is one step from `receive`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod suggestion_tests {
    use super::*;

    #[test]
    fn suggests_the_near_miss_and_nothing_for_a_stranger() {
        let fields = ["severity", "help", "links", "envs", "depends_on"];
        assert_eq!(closest("severty", fields), Some("severity"));
        assert_eq!(closest("depend_on", fields), Some("depends_on"));
        assert_eq!(closest("hlep", fields), Some("help"));
        assert_eq!(closest("owner", fields), None);
        assert_eq!(
            did_you_mean("kubernetes-baselin", ["kubernetes-baseline"]),
            "; did you mean `kubernetes-baseline`?"
        );
    }
}
