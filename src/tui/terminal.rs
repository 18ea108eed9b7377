//! Entering and leaving the terminal's full-screen mode, with the guarantee
//! that it is left on every way out: a normal quit, an error return (the
//! guard's `Drop`) and a panic on the UI thread (the panic hook). Panics in
//! background tasks go to the log, not over the screen.

use std::io::{self, Stdout, stdout};
use std::sync::OnceLock;
use std::thread::ThreadId;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// The terminal in full-screen mode; dropping it gives the terminal back.
pub struct Screen {
    /// Dropped by hand (see `Drop`): ratatui's own drop prints to stderr
    /// when the cursor cannot be shown, which panics once the terminal is
    /// gone.
    pub terminal: std::mem::ManuallyDrop<Terminal<CrosstermBackend<Stdout>>>,
}

impl Screen {
    pub fn enter(mouse: bool) -> io::Result<Screen> {
        install_panic_hook();
        enable_raw_mode()?;
        let entered = (|| {
            // Cleared here, not with `Terminal::clear`: that asks the
            // terminal where its cursor is and waits for the answer, which
            // costs a round trip on a slow link and fails outright (after
            // two seconds) on terminals that never answer.
            execute!(
                stdout(),
                EnterAlternateScreen,
                EnableBracketedPaste,
                Clear(ClearType::All)
            )?;
            if mouse {
                execute!(stdout(), EnableMouseCapture)?;
            }
            let mut terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
            terminal.hide_cursor()?;
            Ok(terminal)
        })();
        match entered {
            Ok(terminal) => Ok(Screen {
                terminal: std::mem::ManuallyDrop::new(terminal),
            }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        // A terminal that was hung up takes no more writes: leave it be
        // (the process is ending) rather than let its drop complain.
        if self.terminal.show_cursor().is_ok() {
            // SAFETY: dropped once, here; `self.terminal` is not used
            // after.
            unsafe { std::mem::ManuallyDrop::drop(&mut self.terminal) };
        }
        restore();
    }
}

/// Leaves full-screen mode. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// A panic on the UI thread restores the terminal, then reports as usual
/// (color-eyre's hook, installed before). A panic anywhere else (a probe, a
/// disk write) is already turned into an error by its task: it is logged
/// only, since printing it would scribble over the screen.
fn install_panic_hook() {
    if UI_THREAD.set(std::thread::current().id()).is_err() {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if UI_THREAD.get() == Some(&std::thread::current().id()) {
            restore();
            crate::scratch::remove_all();
            previous(info);
        } else {
            tracing::error!("panic in a background task: {info}");
        }
    }));
}

/// Asks the terminal to put `text` on the clipboard (OSC 52). Terminals
/// that support it do so even over SSH; others ignore the sequence.
pub fn copy(text: &str) {
    use std::io::Write as _;
    let mut out = stdout();
    let _ = write!(out, "\x1b]52;c;{}\x07", base64(text.as_bytes()));
    let _ = out.flush();
}

/// Standard base64 with padding: all OSC 52 needs.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_as_the_standard_gives_it() {
        for (text, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
            ("api-health", "YXBpLWhlYWx0aA=="),
        ] {
            assert_eq!(super::base64(text.as_bytes()), encoded);
        }
    }
}
