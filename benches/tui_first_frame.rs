//! Time from starting `gonogo demo` to its first frame, and to the frame
//! where every probe has reported: the release binary in a pseudo-terminal
//! at 80x24, its output parsed by a terminal emulator (vt100) and the clock
//! stopped when the screen first shows what a person would wait for.
//!
//! `cargo bench --bench tui_first_frame [-- RUNS]` (default 10); set
//! `GONOGO_BIN` to time another build of the binary.

use std::io::Read;
use std::num::NonZeroU16;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const COLS: u16 = 80;
const ROWS: u16 = 24;
const GIVE_UP: Duration = Duration::from_secs(60);
/// The spinner frames the header shows while probes run.
const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

struct Run {
    first_frame: Duration,
    settled: Duration,
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal size is not zero")
}

/// The first frame: the demo badge and the items are on screen.
fn first_frame(text: &str) -> bool {
    text.contains("DEMO") && text.contains("Checkout API answers its health check")
}

/// Every probe has reported: the header's spinner has stopped and the
/// slowest probe (twenty requests in a row) shows its result.
fn settled(text: &str) -> bool {
    let header = text.lines().next().unwrap_or("");
    let latency = text
        .lines()
        .find(|l| l.contains("p95 latency"))
        .unwrap_or("");
    first_frame(text) && !header.contains(SPINNER) && latency.contains('✔')
}

fn run_once(dir: &std::path::Path) -> Run {
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: ROWS,
            cols: COLS,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pseudo-terminal");
    // GONOGO_BIN compares another build (say, the one before a change).
    let bin = std::env::var_os("GONOGO_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_gonogo").into());
    let mut cmd = CommandBuilder::new(bin);
    let state = dir.join(format!("state-{}", jiff::Timestamp::now().as_nanosecond()));
    cmd.args(["demo", "--state-dir"]);
    cmd.arg(&state);
    cmd.env("NO_COLOR", "1");
    cmd.env("TERM", "xterm-256color");
    cmd.env("GONOGO_LOG_DIR", dir.join("log"));
    cmd.env("TMPDIR", dir);
    let start = Instant::now();
    let mut child = pair.slave.spawn_command(cmd).expect("gonogo starts");
    drop(pair.slave);
    let mut source = pair.master.try_clone_reader().expect("readable");
    let mut writer = pair.master.take_writer().expect("writable");
    let parser = Arc::new(Mutex::new(vt100::Parser::new(
        nonzero(ROWS),
        nonzero(COLS),
        0,
    )));
    let sink = parser.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = source.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut p) = sink.lock() {
                p.process(&buf[..n]);
            }
        }
    });
    let wait = |done: fn(&str) -> bool| -> Duration {
        loop {
            let text = parser
                .lock()
                .map(|p| p.screen().contents())
                .unwrap_or_default();
            if done(&text) {
                return start.elapsed();
            }
            if start.elapsed() > GIVE_UP {
                panic!("gave up after {GIVE_UP:?}; the screen shows:\n{text}");
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    };
    let run = Run {
        first_frame: wait(first_frame),
        settled: wait(settled),
    };
    let _ = std::io::Write::write_all(&mut writer, b"q");
    let _ = child.wait();
    drop(writer);
    drop(pair.master);
    let _ = reader.join();
    run
}

fn stats(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{name:<28} mean {:>7.1} ms  best {:>7.1} ms  median {:>7.1} ms  worst {:>7.1} ms",
        ms(mean),
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1])
    );
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not,
    // and a debug build would take minutes to measure nothing useful.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!(
            "tui_first_frame: a measurement; run it with `cargo bench --bench tui_first_frame`"
        );
        return;
    }
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("a temp dir");
    // One run first, not counted: it warms the page cache for the binary.
    run_once(dir.path());
    let results: Vec<Run> = (0..runs).map(|_| run_once(dir.path())).collect();
    println!("gonogo demo at {COLS}x{ROWS}, {runs} runs (release):");
    stats(
        "start to first frame",
        results.iter().map(|r| r.first_frame).collect(),
    );
    stats(
        "start to all probes in",
        results.iter().map(|r| r.settled).collect(),
    );
}
