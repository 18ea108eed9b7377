//! The README's picture of the dashboard, taken from the real screen: runs
//! `gonogo demo` in a pseudo-terminal, types the keys given, reads the
//! screen back through a terminal emulator (vt100) and writes it as an SVG,
//! one text run per stretch of cells that share a colour.
//!
//! ```sh
//! scripts/dashboard-picture.sh          # builds, then runs this
//! cargo run --release --example screenshot -- target/release/gonogo docs/dashboard.svg [KEYS]
//! ```

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const COLS: u16 = 140;
const ROWS: u16 = 28;
/// A cell's size in the picture, in pixels.
const CELL_W: f64 = 8.4;
const CELL_H: f64 = 18.0;
const FONT: &str = "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace";
const BACKGROUND: (u8, u8, u8) = (0x0d, 0x11, 0x17);
const FOREGROUND: (u8, u8, u8) = (0xc9, 0xd1, 0xd9);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [binary, out, keys @ ..] = args.as_slice() else {
        eprintln!("usage: screenshot GONOGO_BINARY OUT.svg [KEYS...]");
        std::process::exit(2);
    };
    let screen = capture(binary, keys);
    let svg = render(&screen);
    if let Some(parent) = std::path::Path::new(out).parent() {
        std::fs::create_dir_all(parent).expect("the picture's folder can be made");
    }
    std::fs::write(out, svg).expect("the picture can be written");
    eprintln!("wrote {out} ({COLS}x{ROWS})");
}

/// Starts the demo, waits until its probes have settled, types `keys` (each
/// argument sent as it is, `Enter`, `Esc` and `Tab` by name, with a pause
/// after each), and returns the screen.
fn capture(binary: &str, keys: &[String]) -> vt100::Screen {
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal can be opened");
    let home = std::env::temp_dir().join(format!("gonogo-screenshot-{}", std::process::id()));
    std::fs::create_dir_all(&home).expect("a scratch home can be made");
    let binary = std::fs::canonicalize(binary).expect("the gonogo binary is there");
    let mut cmd = CommandBuilder::new(binary);
    cmd.arg("demo");
    cmd.env_clear();
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "truecolor");
    cmd.env("HOME", &home);
    cmd.env("XDG_CONFIG_HOME", home.join("config"));
    cmd.env("XDG_DATA_HOME", home.join("data"));
    cmd.env("USER", "alice");
    let mut child = pty.slave.spawn_command(cmd).expect("the demo starts");
    drop(pty.slave);
    let mut reader = pty
        .master
        .try_clone_reader()
        .expect("the terminal can be read");
    let mut writer = pty.master.take_writer().expect("the terminal takes keys");
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        std::num::NonZeroU16::new(ROWS).expect("rows"),
        std::num::NonZeroU16::new(COLS).expect("cols"),
        0,
    )));
    let sink = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().expect("the parser lock").process(&buf[..n]);
        }
    });
    let contents = || parser.lock().expect("the parser lock").screen().contents();
    let started = Instant::now();
    // Settled: the header has a decision and no probe is still running.
    while started.elapsed() < Duration::from_secs(30) {
        let text = contents();
        if text.contains("GO WITH CONDITIONS") && !text.contains("running") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(800));
    for key in keys {
        let bytes = match key.as_str() {
            "Enter" => "\r",
            "Esc" => "\x1b",
            "Tab" => "\t",
            other => other,
        };
        writer
            .write_all(bytes.as_bytes())
            .expect("keys reach the demo");
        writer.flush().expect("keys reach the demo");
        std::thread::sleep(Duration::from_millis(600));
    }
    let screen = parser.lock().expect("the parser lock").screen().clone();
    let _ = writer.write_all(b"q");
    let _ = writer.flush();
    let quit = Instant::now();
    while quit.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = std::fs::remove_dir_all(&home);
    screen
}

/// The screen as an SVG: a background rectangle per run of cells with one
/// background colour, a text element per run with one foreground colour.
fn render(screen: &vt100::Screen) -> String {
    let width = f64::from(COLS) * CELL_W;
    let height = f64::from(ROWS) * CELL_H;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\" font-size=\"14\">"
    );
    let _ = writeln!(
        svg,
        "<rect width=\"100%\" height=\"100%\" fill=\"{}\"/>",
        hex(BACKGROUND)
    );
    for row in 0..ROWS {
        let cells: Vec<Cell> = (0..COLS).map(|col| cell(screen, row, col)).collect();
        let y = f64::from(row) * CELL_H;
        for run in runs(&cells, |c| c.bg) {
            if run.key != BACKGROUND {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{CELL_H}\" fill=\"{}\"/>",
                    run.start as f64 * CELL_W,
                    run.len as f64 * CELL_W,
                    hex(run.key)
                );
            }
        }
        for run in runs(&cells, |c| (c.fg, c.bold)) {
            let text: String = cells[run.start..run.start + run.len]
                .iter()
                .map(|c| c.text.as_str())
                .collect();
            if text.trim().is_empty() {
                continue;
            }
            let (fg, bold) = run.key;
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\"{} textLength=\"{:.1}\" \
                 lengthAdjust=\"spacingAndGlyphs\" xml:space=\"preserve\">{}</text>",
                run.start as f64 * CELL_W,
                y + CELL_H * 0.75,
                hex(fg),
                if bold { " font-weight=\"bold\"" } else { "" },
                run.len as f64 * CELL_W,
                escape(&text)
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

struct Cell {
    text: String,
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    bold: bool,
}

fn cell(screen: &vt100::Screen, row: u16, col: u16) -> Cell {
    let Some(c) = screen.cell(row, col) else {
        return Cell {
            text: " ".into(),
            fg: FOREGROUND,
            bg: BACKGROUND,
            bold: false,
        };
    };
    let mut fg = rgb(c.fgcolor(), FOREGROUND);
    let mut bg = rgb(c.bgcolor(), BACKGROUND);
    if c.inverse() {
        std::mem::swap(&mut fg, &mut bg);
    }
    let text = if c.is_wide_continuation() {
        String::new()
    } else if c.has_contents() {
        c.contents().to_string()
    } else {
        " ".into()
    };
    Cell {
        text,
        fg,
        bg,
        bold: c.bold(),
    }
}

struct Run<K> {
    start: usize,
    len: usize,
    key: K,
}

fn runs<K: PartialEq + Copy>(cells: &[Cell], key: impl Fn(&Cell) -> K) -> Vec<Run<K>> {
    let mut out: Vec<Run<K>> = Vec::new();
    for (i, c) in cells.iter().enumerate() {
        let k = key(c);
        match out.last_mut() {
            Some(run) if run.key == k => run.len += 1,
            _ => out.push(Run {
                start: i,
                len: 1,
                key: k,
            }),
        }
    }
    out
}

/// A terminal colour in RGB: the xterm palette for indexed colours.
fn rgb(color: vt100::Color, default: (u8, u8, u8)) -> (u8, u8, u8) {
    const BASE: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x31, 0x31),
        (0x0d, 0xbc, 0x79),
        (0xe5, 0xe5, 0x10),
        (0x24, 0x72, 0xc8),
        (0xbc, 0x3f, 0xbc),
        (0x11, 0xa8, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x66, 0x66, 0x66),
        (0xf1, 0x4c, 0x4c),
        (0x23, 0xd1, 0x8b),
        (0xf5, 0xf5, 0x43),
        (0x3b, 0x8e, 0xea),
        (0xd6, 0x70, 0xd6),
        (0x29, 0xb8, 0xdb),
        (0xff, 0xff, 0xff),
    ];
    match color {
        vt100::Color::Default => default,
        vt100::Color::Rgb(r, g, b) => (r, g, b),
        vt100::Color::Idx(i) if i < 16 => BASE[usize::from(i)],
        vt100::Color::Idx(i) if i < 232 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        vt100::Color::Idx(i) => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
