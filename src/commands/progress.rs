//! The line `check` and `export` keep redrawing on stderr while probes run:
//! how many are done of how many, and the one running longest, so a slow
//! endpoint or a huge list is named while it is slow. Only when stderr is a
//! terminal (a CI log gets nothing), and never with `--quiet`.

use std::io::{IsTerminal, Write};

use crate::runner::Tally;

pub struct ProgressLine {
    on: bool,
    /// Characters on the line now, to blank them on the next draw.
    drawn: usize,
}

impl ProgressLine {
    /// On when stderr is a terminal, unless `quiet`.
    pub fn on_stderr(quiet: bool) -> ProgressLine {
        ProgressLine {
            on: !quiet && std::io::stderr().is_terminal(),
            drawn: 0,
        }
    }

    pub fn off() -> ProgressLine {
        ProgressLine {
            on: false,
            drawn: 0,
        }
    }

    /// Redraws the line for `env`.
    pub fn draw(&mut self, env: &str, tally: &Tally) {
        if !self.on {
            return;
        }
        let mut line = format!("gonogo: {env}: {}/{} probes done", tally.done, tally.total);
        if let Some((key, took)) = tally.slowest() {
            line.push_str(&format!(
                "; slowest running: {}/{} ({:.1} s)",
                key.checklist,
                key.item,
                took.as_secs_f64()
            ));
        }
        let width = crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w));
        let line = crate::text::truncate(&line, width.saturating_sub(1).max(10));
        self.put(&line);
    }

    /// Blanks the line, so what comes next starts on a clean one.
    pub fn clear(&mut self) {
        if self.on && self.drawn > 0 {
            self.put("");
            let _ = std::io::stderr().lock().write_all(b"\r");
        }
    }

    /// `\r`, the text, and spaces over what the last draw left: no escape
    /// codes, so it works on any terminal.
    fn put(&mut self, text: &str) {
        let len = text.chars().count();
        let pad = self.drawn.saturating_sub(len);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{text}{}", " ".repeat(pad));
        let _ = err.flush();
        self.drawn = len;
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.clear();
    }
}
