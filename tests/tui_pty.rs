//! The real binary in a pseudo-terminal: keys typed as a user types them,
//! the screen read back through a terminal emulator (vt100), the sign-off log
//! read from disk afterwards. Every wait polls the screen against a generous
//! deadline, so a slow or busy machine makes the test slower, never red.

#![cfg(unix)]

#[path = "support/tty.rs"]
mod tty;

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, native_pty_system};
use tty::{DEADLINE, Tty, item_glyph, lock, nonzero, selected_item, size};

/// What crossterm writes when it leaves the alternate screen and shows the
/// cursor again.
const LEAVE_ALTERNATE: &str = "\x1b[?1049l";
const ENTER_ALTERNATE: &str = "\x1b[?1049h";
const SHOW_CURSOR: &str = "\x1b[?25h";
const HIDE_CURSOR: &str = "\x1b[?25l";

const SUPPORT: &str = "Customer support briefed";
const DRILL: &str = "Rollback rehearsed in staging";

/// The first screen: the demo badge and the items.
fn demo_is_up(s: &vt100::Screen) -> bool {
    let text = s.contents();
    text.contains("DEMO") && text.contains("Checkout API answers its health check")
}

fn log_events(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {line}", path.display()))
        })
        .collect()
}

/// The demo in a fresh folder, which is also its state dir, its first
/// screen up at 80x24.
fn start_demo() -> (tempfile::TempDir, Tty) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().display().to_string();
    let tty = Tty::spawn(dir.path(), &["demo", "--state-dir", &state], 80, 24);
    tty.wait_for("the demo's first screen", demo_is_up);
    assert_ne!(
        tty.termios(),
        tty.cooked,
        "the dashboard runs with the terminal in raw mode"
    );
    (dir, tty)
}

/// Moves as a user would to the manual item "support briefed": the
/// sections pane, its last section (People), the items pane, its last item.
fn select_support_item(tty: &mut Tty) {
    tty.send("h");
    tty.send("G");
    tty.wait_for("the People section", |s| {
        s.contents().contains("Items · People")
    });
    // The seeded sign-off log is loaded once the drill shows ticked.
    tty.wait_for("the rollback drill ticked by the demo's seed", |s| {
        item_glyph(s, DRILL) == Some('✔')
    });
    tty.send("l");
    tty.send("G");
    tty.wait_for("the support item selected", |s| {
        selected_item(s).is_some_and(|r| r.contains(SUPPORT))
    });
    assert_ne!(tty.wait_glyph(SUPPORT), '✔', "support-briefed starts open");
}

/// The tick events for support-briefed in the dev review's log.
fn support_ticks(state: &Path) -> Vec<serde_json::Value> {
    let log = state.join("checkout-launch").join("dev.jsonl");
    log_events(&log)
        .into_iter()
        .filter(|e| e["kind"] == "tick" && e["item"] == "support-briefed")
        .collect()
}

/// The terminal is given back: off the alternate screen, cursor shown, and
/// its settings (raw mode off) as they were before the dashboard started.
fn assert_restored(tty: &Tty) {
    tty.wait_for_bytes("the alternate screen left after it was entered", |raw| {
        let raw = String::from_utf8_lossy(raw);
        raw.rfind(LEAVE_ALTERNATE) > raw.rfind(ENTER_ALTERNATE)
            && raw.rfind(SHOW_CURSOR) > raw.rfind(HIDE_CURSOR)
    });
    assert!(
        tty.raw().contains(ENTER_ALTERNATE),
        "the dashboard was full-screen"
    );
    {
        let out = lock(&tty.output);
        assert!(!out.parser.screen().alternate_screen());
        assert!(!out.parser.screen().hide_cursor());
    }
    assert_eq!(
        tty.termios(),
        tty.cooked,
        "the terminal's settings are restored"
    );
}

/// A user opens the demo, goes to the People section, ticks the manual
/// item "support briefed" and quits: the tick is in the log, the exit is
/// clean and the terminal is given back as it was.
#[test]
fn demo_tick_a_manual_item_and_quit() {
    let (dir, mut tty) = start_demo();
    select_support_item(&mut tty);

    tty.send(" ");
    tty.wait_for("support-briefed ticked", |s| {
        item_glyph(s, SUPPORT) == Some('✔')
    });
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0, "q ends the dashboard with status 0");

    let ticks = support_ticks(dir.path());
    assert_eq!(ticks.len(), 1, "{ticks:#?}");
    assert_eq!(ticks[0]["by"], "pty-tester");
    assert_restored(&tty);
}

/// Space and q typed in one burst. The tick is appended on a blocking
/// thread and the process exits without waiting for those, so quitting
/// waits for appends still under way. (Here the append usually wins the
/// race even without that wait; a slow disk need not let it.)
#[test]
fn a_tick_typed_just_before_quitting_is_saved() {
    let (dir, mut tty) = start_demo();
    select_support_item(&mut tty);

    tty.send(" q");
    assert_eq!(tty.wait_exit(), 0);
    assert_eq!(support_ticks(dir.path()).len(), 1);
    assert_restored(&tty);
}

/// Live, the objects come from the environment's own followed snapshot: a
/// user goes to the database secret, drills to it (`O`) and opens it
/// (Enter). Its keys show; its values never reach the terminal.
#[test]
fn demo_drills_to_the_database_secret_and_shows_only_its_keys() {
    let (_dir, mut tty) = start_demo();
    tty.send(":item db-secret\r");
    tty.wait_for("the secret's item selected", |s| {
        selected_item(s).is_some_and(|r| r.contains("Database secret"))
    });
    tty.send("O");
    tty.wait_for("the secret listed", |s| {
        s.contents().contains("shop-dev/checkout-db")
    });
    tty.send("\r");
    tty.wait_for("the secret as YAML", |s| {
        let text = s.contents();
        text.contains("DATABASE_PASSWORD: ‹redacted, 19 bytes›")
            && text.contains("DATABASE_URL: ‹redacted")
    });
    tty.send("\x1b");
    tty.wait_for("back on the objects", |s| {
        s.contents().contains("Objects · db-secret")
    });
    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
    // What the demo's Secret holds, as stored and decoded.
    let raw = tty.raw();
    for value in [
        "bm90LWEtcmVhbC1wYXNzd29yZA",
        "not-a-real-password",
        "cG9zdGdyZXM6Ly9jaGVja291dEBkYi5zaG9wLWRldi5zdmM6NTQzMi9jaGVja291dA",
        "postgres://checkout@db",
    ] {
        assert!(!raw.contains(value), "{value} reached the terminal");
    }
}

/// Two people on one bastion host, each in their own dashboard on the same
/// review: a tick in one shows up in the other without a key pressed there.
#[test]
fn two_sessions_see_each_others_ticks() {
    let state = tempfile::tempdir().expect("a temporary folder");
    let state_arg = state.path().display().to_string();
    let start = |who: &str| {
        let home = tempfile::tempdir().expect("a temporary folder");
        let tty = Tty::spawn(
            home.path(),
            &["demo", "--state-dir", &state_arg, "--operator", who],
            80,
            24,
        );
        tty.wait_for("the demo's first screen", demo_is_up);
        (home, tty)
    };
    let (_alice_home, mut alice) = start("alice");
    let (_bob_home, mut bob) = start("bob");
    // Bob looks at the People section; so does Alice, who ticks.
    for tty in [&mut alice, &mut bob] {
        select_support_item(tty);
    }
    alice.send(" ");
    alice.wait_for("support-briefed ticked in Alice's session", |s| {
        item_glyph(s, SUPPORT) == Some('✔')
    });
    bob.wait_for("Alice's tick in Bob's session", |s| {
        item_glyph(s, SUPPORT) == Some('✔') && s.contents().contains("alice ticked support-briefed")
    });
    for tty in [&mut alice, &mut bob] {
        tty.send("q");
        assert_eq!(tty.wait_exit(), 0);
    }
    let ticks = support_ticks(state.path());
    assert_eq!(ticks.len(), 1, "{ticks:#?}");
    assert_eq!(ticks[0]["by"], "alice");
}

/// `kill` (SIGTERM) ends the session like q: status 0, terminal restored.
#[test]
fn sigterm_restores_the_terminal() {
    let (_dir, mut tty) = start_demo();
    let pid = tty.child.process_id().expect("the child has a pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert_eq!(tty.wait_exit(), 0);
    assert_restored(&tty);
}

/// A panic on the UI thread (requested through a debug-build switch) gives
/// the terminal back before the report is printed, and exits non-zero.
#[test]
fn a_panic_restores_the_terminal() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().display().to_string();
    let mut tty = Tty::spawn_with(
        dir.path(),
        &["demo", "--state-dir", &state],
        80,
        24,
        &[("GONOGO_DEBUG_PANIC", "1")],
    );
    assert_ne!(tty.wait_exit(), 0, "a panic is not a clean exit");
    assert_restored(&tty);
    // The report comes after the screen is given back, where it can be read.
    tty.wait_for_bytes("the panic reported after leaving full screen", |raw| {
        let raw = String::from_utf8_lossy(raw);
        // The first exit from full screen after the last entry (unwinding
        // restores once more, after the report).
        let entered = raw.rfind(ENTER_ALTERNATE).unwrap_or(0);
        raw[entered..]
            .find(LEAVE_ALTERNATE)
            .is_some_and(|left| raw[entered + left..].contains("GONOGO_DEBUG_PANIC"))
    });
    // A report is left in the data folder, owner-only, and the last words
    // say where, in one line.
    let crashes = dir.path().join("home/data/gonogo/crashes");
    tty.wait_for_bytes("where the crash report is", |raw| {
        String::from_utf8_lossy(raw).contains("gonogo: crash report written to ")
    });
    let reports: Vec<_> = std::fs::read_dir(&crashes)
        .unwrap_or_else(|e| panic!("{}: {e}", crashes.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = std::fs::read_to_string(&reports[0]).expect("readable");
    assert!(report.contains("message: GONOGO_DEBUG_PANIC"), "{report}");
    assert!(report.contains("command: demo"), "{report}");
    assert!(report.contains("backtrace:"), "{report}");
    // Nothing the operator typed beyond the subcommand: not the state path.
    assert!(!report.contains(&state), "{report}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&reports[0])
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Vertical borders the panes are drawn with.
const SIDES: &[char] = &['│', '┃', '╮', '╯', '╭', '╰', '┓', '┛', '┏', '┗'];

/// Whether every pane on screen is framed at the screen's full width: each
/// framed row has its border in the first and the last column.
fn framed_at(s: &vt100::Screen, cols: u16, rows: u16) -> bool {
    let text = |r: u16, c: u16| s.cell(r, c).map(|c| c.contents()).unwrap_or_default();
    let side = |r: u16, c: u16| {
        text(r, c)
            .chars()
            .next()
            .is_some_and(|ch| SIDES.contains(&ch))
    };
    let framed: Vec<u16> = (0..rows).filter(|&r| side(r, 0)).collect();
    s.size() == (nonzero(rows), nonzero(cols))
        && framed.len() >= usize::from(rows) / 2
        && framed.iter().all(|&r| side(r, cols - 1))
        && text(rows - 1, 0).trim().is_empty()
        && s.contents()
            .lines()
            .last()
            .is_some_and(|l| l.contains("move"))
}

/// Growing the terminal redraws the whole dashboard at the new size, with
/// nothing left over from the old frame.
#[test]
fn demo_redraws_after_a_resize() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state_arg = dir.path().display().to_string();
    let mut tty = Tty::spawn(dir.path(), &["demo", "--state-dir", &state_arg], 80, 24);
    tty.wait_for("the demo's first screen at 80x24", |s| {
        demo_is_up(s) && framed_at(s, 80, 24)
    });

    tty.resize(100, 30);
    tty.wait_for("the dashboard framed at 100x30", |s| framed_at(s, 100, 30));
    tty.wait_for("the header and every section at 100x30", |s| {
        let text = s.contents();
        text.lines().next().is_some_and(|l| l.contains("DEMO"))
            && [
                "Endpoints",
                "Certificates",
                "Cluster",
                "Repository",
                "People",
            ]
            .iter()
            .all(|name| text.contains(name))
    });
    let screen = tty.screen_text();
    for (y, row) in screen.lines().enumerate() {
        // Column 80 was the old right border: nothing of it may remain.
        let old_edge = row.chars().nth(79);
        assert!(
            !old_edge.is_some_and(|c| SIDES.contains(&c)),
            "row {y} keeps the 80-column border:\n{screen}"
        );
        assert!(
            !row.chars().any(|c| c == '\u{fffd}' || c.is_control()),
            "row {y} has garbage:\n{screen}"
        );
    }

    tty.send("q");
    assert_eq!(tty.wait_exit(), 0);
}

/// `gonogo` with its home and config folders inside `dir` and stdout a pipe.
fn without_terminal(dir: &Path, args: &[&str]) -> std::process::Output {
    let home = dir.join("home");
    Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("TMPDIR", dir)
        .env("GONOGO_LOG_DIR", dir.join("log"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("gonogo runs")
}

fn assert_refused(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains("needs a terminal") && stderr.contains("gonogo check"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "nothing is drawn into the pipe");
}

/// The dashboard refuses to start without a terminal and says what to use
/// instead, rather than drawing escape codes into a pipe.
#[test]
fn dashboard_without_a_terminal_exits_2() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    assert_refused(&without_terminal(dir.path(), &[]));
}

/// The demo refuses before it sets anything up: no seeded log is left in
/// the state dir it was given.
#[test]
fn demo_without_a_terminal_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("state");
    let state_arg = state.display().to_string();
    assert_refused(&without_terminal(
        dir.path(),
        &["demo", "--state-dir", &state_arg],
    ));
    assert!(!state.exists(), "the demo seeded {}", state.display());
}

/// The demo's temporary folders under `tmp`.
fn demo_folders(tmp: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(tmp)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("gonogo-demo-"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sigterm_leaves_no_demo_folder_behind() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tmp = dir.path().join("tmp");
    let mut tty = Tty::spawn(dir.path(), &["demo"], 80, 24);
    tty.wait_for("the demo's first screen", demo_is_up);
    assert_eq!(
        demo_folders(&tmp).len(),
        1,
        "the demo works in a folder of its own"
    );
    let pid = tty.child.process_id().expect("the child has a pid");
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    assert_eq!(tty.wait_exit(), 0);
    assert_eq!(demo_folders(&tmp), Vec::<std::path::PathBuf>::new());
}

/// The terminal goes away under the demo (its window closed, the SSH
/// connection dropped): the demo gets SIGHUP, every write to the terminal
/// fails from then on, and still its folder is removed.
#[test]
fn a_closed_terminal_leaves_no_demo_folder_behind() {
    use std::os::fd::FromRawFd;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let tmp = dir.path().join("tmp");
    std::fs::create_dir_all(&tmp).expect("tmp");
    let pair = native_pty_system().openpty(size(80, 24)).expect("a pty");
    let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_gonogo"));
    cmd.arg("demo");
    cmd.cwd(dir.path());
    cmd.env_clear();
    let home = dir.path().join("home");
    for (key, value) in [
        ("HOME", home.clone()),
        ("XDG_CONFIG_HOME", home.join("config")),
        ("XDG_DATA_HOME", home.join("data")),
        ("XDG_CACHE_HOME", home.join("cache")),
        ("TMPDIR", tmp.clone()),
        ("GONOGO_LOG_DIR", dir.path().join("log")),
    ] {
        std::fs::create_dir_all(&value).expect("the test's folders can be made");
        cmd.env(key, value);
    }
    cmd.env("PATH", std::env::var_os("PATH").unwrap_or_default());
    cmd.env("TERM", "xterm-256color");
    cmd.env("USER", "pty-tester");
    let mut child = pair.slave.spawn_command(cmd).expect("gonogo starts");
    drop(pair.slave);
    // Read what the demo draws without blocking, so it never stalls on a
    // full terminal, until its folder is there and the screen is up.
    let fd = pair.master.as_raw_fd().expect("a unix pty");
    // SAFETY: a second owner of the master's descriptor, forgotten below
    // so that it is closed once, by the master.
    let stream = unsafe { std::os::unix::net::UnixStream::from_raw_fd(fd) };
    stream.set_nonblocking(true).expect("non-blocking reads");
    std::mem::forget(stream);
    let mut reader = pair.master.try_clone_reader().expect("a reader");
    let mut seen = Vec::new();
    let start = Instant::now();
    while demo_folders(&tmp).is_empty() || !String::from_utf8_lossy(&seen).contains("DEMO") {
        assert!(start.elapsed() < DEADLINE, "the demo did not come up");
        let mut buf = [0u8; 8192];
        match reader.read(&mut buf) {
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    // Close every handle on the terminal: the kernel hangs it up.
    drop(reader);
    drop(pair.master);
    let start = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        assert!(
            start.elapsed() < DEADLINE,
            "the demo did not end after the hangup"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(demo_folders(&tmp), Vec::<std::path::PathBuf>::new());
}

/// `check` on a terminal names the probe it is waiting for on stderr, and
/// leaves the line blank when it is done; `--quiet`, or stderr that is not
/// a terminal, gets no such line.
#[test]
fn check_shows_its_progress_on_a_terminal_only() {
    use std::io::Write as _;
    // An endpoint that answers after 1.5 s.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                std::thread::sleep(Duration::from_millis(1500));
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = false\nchecklists = [\"slow.toml\"]\nstate_dir = \"state\"\n\
         [[environments]]\nname = \"dev\"\n",
    )
    .expect("config");
    std::fs::write(
        dir.path().join("slow.toml"),
        format!(
            "id = \"slow\"\ntitle = \"Slow\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n\
             [[sections.items]]\nid = \"slow-endpoint\"\ntitle = \"Slow endpoint\"\n\
             [sections.items.probe]\nkind = \"http\"\nurl = \"http://127.0.0.1:{port}/\"\n\
             timeout = \"10s\"\n"
        ),
    )
    .expect("checklist");

    let mut tty = Tty::spawn(dir.path(), &["check"], 100, 30);
    tty.wait_for_bytes("the progress line", |raw| {
        String::from_utf8_lossy(raw)
            .contains("gonogo: dev: 0/1 probes done; slowest running: slow/slow-endpoint")
    });
    assert_eq!(tty.wait_exit(), 0);
    let screen = lock(&tty.output).parser.screen().contents();
    assert!(screen.contains("200 OK"), "{screen}");
    assert!(
        !screen.contains("probes done"),
        "the line is blanked:\n{screen}"
    );

    let mut tty = Tty::spawn(dir.path(), &["check", "--quiet"], 100, 30);
    assert_eq!(tty.wait_exit(), 0);
    let raw = String::from_utf8_lossy(&lock(&tty.output).raw).into_owned();
    assert!(
        raw.contains("200 OK") && !raw.contains("probes done"),
        "{raw}"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .arg("check")
        .current_dir(dir.path())
        .env("HOME", dir.path().join("home"))
        .env("XDG_CONFIG_HOME", dir.path().join("home/config"))
        .env("XDG_DATA_HOME", dir.path().join("home/data"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("probes done"), "{stderr}");
}
