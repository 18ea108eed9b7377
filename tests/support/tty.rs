//! A real `gonogo` on its own pseudo-terminal, for tests that type as a
//! user types and read the screen back through a terminal emulator (vt100).
//! Include with `#[path = "support/tty.rs"] mod tty;`.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// How long any one thing may take before the test gives up. Debug builds
/// on two busy cores are slow; a healthy run needs a small part of this.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Everything the child has written: parsed into a screen, and kept raw.
pub struct Output {
    pub parser: vt100::Parser,
    pub raw: Vec<u8>,
    /// The reader saw end of file: every process holding the terminal is gone.
    pub closed: bool,
}

/// A child process on its own pseudo-terminal.
pub struct Tty {
    pub output: Arc<Mutex<Output>>,
    pub master: Box<dyn MasterPty + Send>,
    pub writer: Box<dyn Write + Send>,
    pub child: Box<dyn Child + Send + Sync>,
    pub reader: Option<JoinHandle<()>>,
    pub log_dir: std::path::PathBuf,
    /// The terminal's settings before the child started.
    pub cooked: String,
}

impl Tty {
    /// Starts `gonogo ARGS` at `cols` x `rows` with everything it might read
    /// or write (home, config, cache, temp files, logs) inside `dir`.
    pub fn spawn(dir: &Path, args: &[&str], cols: u16, rows: u16) -> Tty {
        Tty::spawn_with(dir, args, cols, rows, &[])
    }

    /// [`Tty::spawn`] with extra environment variables.
    pub fn spawn_with(
        dir: &Path,
        args: &[&str],
        cols: u16,
        rows: u16,
        extra: &[(&str, &str)],
    ) -> Tty {
        let pair = native_pty_system()
            .openpty(size(cols, rows))
            .expect("a pseudo-terminal can be opened");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_gonogo"));
        cmd.args(args);
        cmd.cwd(dir);
        cmd.env_clear();
        let home = dir.join("home");
        let log_dir = dir.join("log");
        for (key, value) in [
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join("config")),
            ("XDG_DATA_HOME", home.join("data")),
            ("XDG_CACHE_HOME", home.join("cache")),
            ("XDG_STATE_HOME", home.join("state")),
            ("TMPDIR", dir.join("tmp")),
            ("GONOGO_LOG_DIR", log_dir.clone()),
        ] {
            std::fs::create_dir_all(&value).expect("the test's folders can be made");
            cmd.env(key, value);
        }
        cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.env("TERM", "xterm-256color");
        cmd.env("NO_COLOR", "1");
        cmd.env("USER", "pty-tester");
        for (key, value) in extra {
            cmd.env(key, value);
        }
        let cooked = termios(pair.master.as_ref());
        let child = pair
            .slave
            .spawn_command(cmd)
            .expect("gonogo starts in the pseudo-terminal");
        // Only the child may hold the terminal's other end, so that reading
        // ends when the child does.
        drop(pair.slave);
        let master = pair.master;
        let writer = master.take_writer().expect("the terminal takes input");
        let mut source = master.try_clone_reader().expect("the terminal can be read");
        let output = Arc::new(Mutex::new(Output {
            parser: vt100::Parser::new(nonzero(rows), nonzero(cols), 0),
            raw: Vec::new(),
            closed: false,
        }));
        let sink = output.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match source.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let mut out = lock(&sink);
                        out.parser.process(&buf[..n]);
                        out.raw.extend_from_slice(&buf[..n]);
                    }
                }
            }
            lock(&sink).closed = true;
        });
        Tty {
            output,
            master,
            writer,
            child,
            reader: Some(reader),
            log_dir,
            cooked,
        }
    }

    /// Types `keys` as raw bytes, as a terminal sends them.
    pub fn send(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .and_then(|()| self.writer.flush())
            .expect("keys reach the terminal");
    }

    /// Polls the screen until `ready` holds; fails with the screen (and the
    /// app's log) when the deadline passes first.
    pub fn wait_for(&self, what: &str, ready: impl Fn(&vt100::Screen) -> bool) {
        let start = Instant::now();
        loop {
            {
                let out = lock(&self.output);
                if ready(out.parser.screen()) {
                    return;
                }
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "waited {DEADLINE:?} for {what}; the screen shows:\n{}\n{}",
                    self.screen_text(),
                    self.app_log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Polls the raw output until `ready` holds.
    pub fn wait_for_bytes(&self, what: &str, ready: impl Fn(&[u8]) -> bool) {
        let start = Instant::now();
        loop {
            {
                let out = lock(&self.output);
                if ready(&out.raw) {
                    return;
                }
                if out.closed {
                    panic!("the terminal closed without {what}");
                }
            }
            if start.elapsed() > DEADLINE {
                panic!("waited {DEADLINE:?} for {what}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The status glyph of an item, once it is on screen.
    pub fn wait_glyph(&self, title: &str) -> char {
        self.wait_for(title, |s| item_glyph(s, title).is_some());
        item_glyph(lock(&self.output).parser.screen(), title).expect("shown just now")
    }

    /// Waits for the child to end and returns its exit code.
    pub fn wait_exit(&mut self) -> u32 {
        let start = Instant::now();
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.exit_code(),
                Ok(None) => {}
                Err(e) => panic!("cannot wait for gonogo: {e}"),
            }
            if start.elapsed() > DEADLINE {
                panic!(
                    "gonogo did not exit within {DEADLINE:?}; the screen shows:\n{}",
                    self.screen_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Resizes the terminal (the child gets SIGWINCH) and the emulator with it.
    pub fn resize(&self, cols: u16, rows: u16) {
        let mut out = lock(&self.output);
        out.parser
            .screen_mut()
            .set_size(nonzero(rows), nonzero(cols));
        self.master
            .resize(size(cols, rows))
            .expect("the terminal can be resized");
    }

    pub fn screen_text(&self) -> String {
        lock(&self.output).parser.screen().contents()
    }

    pub fn raw(&self) -> String {
        String::from_utf8_lossy(&lock(&self.output).raw).into_owned()
    }

    pub fn app_log(&self) -> String {
        std::fs::read_to_string(self.log_dir.join("gonogo.log"))
            .map(|log| format!("gonogo.log:\n{log}"))
            .unwrap_or_default()
    }

    /// The terminal's current settings (on Linux both ends share them),
    /// spelled out: flags, control characters, speeds.
    pub fn termios(&self) -> String {
        termios(self.master.as_ref())
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        // A failed test must not leave a dashboard running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take()
            && lock(&self.output).closed
        {
            let _ = reader.join();
        }
    }
}

pub fn termios(master: &dyn MasterPty) -> String {
    format!("{:?}", master.get_termios())
}

pub fn size(cols: u16, rows: u16) -> PtySize {
    PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    }
}

pub fn nonzero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n).expect("terminal sizes in these tests are not zero")
}

pub fn lock(output: &Mutex<Output>) -> MutexGuard<'_, Output> {
    // A panic while holding the lock is already a failed test.
    output.lock().unwrap_or_else(|e| e.into_inner())
}

/// The screen's rows as text.
pub fn rows(screen: &vt100::Screen) -> Vec<String> {
    let (_, cols) = screen.size();
    screen.rows(0, cols.get()).collect()
}

/// The row listing the item titled `title`, if it is on screen.
pub fn item_row(screen: &vt100::Screen, title: &str) -> Option<String> {
    rows(screen).into_iter().find(|r| r.contains(title))
}

/// The status glyph of the item titled `title`: the first mark after the
/// pane's border and the selection marker.
pub fn item_glyph(screen: &vt100::Screen, title: &str) -> Option<char> {
    let row = item_row(screen, title)?;
    row.chars()
        .skip(1)
        .find(|c| !c.is_whitespace() && *c != '▸' && *c != '>')
}

/// The row the cursor (the `▸` selection marker inside the items pane) is on.
pub fn selected_item(screen: &vt100::Screen) -> Option<String> {
    rows(screen).into_iter().find(|r| r.starts_with("┃▸"))
}
