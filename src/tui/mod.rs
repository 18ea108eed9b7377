//! The terminal dashboard: one client of the headless core. `app` holds the
//! state and its one update function, `keymap` the bindings as data,
//! `views` the pure drawing, `effects` what the app asks for carried out
//! (live or inline), `event_loop` the live wiring and `store` the one door to
//! the sign-off log.

/// Prints to stderr without panicking when it is gone (the terminal was
/// hung up), as `eprintln!` would.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// `say!` without the line end, as `eprint!`.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

pub mod app;
pub mod demo;
pub mod effects;
mod event_loop;
pub mod headless;
pub mod keymap;
pub mod store;
mod terminal;
pub mod theme;
pub mod views;

use std::io::IsTerminal;
use std::time::Instant;

use crate::commands::{EXIT_OK, EXIT_USAGE};
use crate::workspace::{Options, Workspace};

use theme::Theme;

/// How the dashboard looks, from its own flags (`--theme`, `--ascii`,
/// `--mouse`): nothing the core needs.
#[derive(Debug, Clone, Default)]
pub struct Look {
    pub theme: Option<String>,
    pub ascii: bool,
    pub mouse: bool,
    /// `y` and `Y` may copy (OSC 52); off with `--no-clipboard`.
    pub clipboard: bool,
}

/// `gonogo` with no subcommand.
pub async fn run(options: &Options, look: &Look) -> i32 {
    let started = Instant::now();
    if let Err(code) = require_terminal() {
        return code;
    }
    let ws = match Workspace::load(options) {
        Ok(ws) => ws,
        Err(e) => {
            say_raw!("{e}");
            return EXIT_USAGE;
        }
    };
    launch(ws, look, false, started).await
}

/// Opens the dashboard on a loaded workspace.
pub async fn launch(ws: Workspace, look: &Look, demo: bool, started: Instant) -> i32 {
    if let Err(code) = require_terminal() {
        return code;
    }
    let name = theme::choose(
        look.theme.as_deref(),
        ws.config.theme.as_deref(),
        theme::no_color_requested(),
    );
    let theme = match Theme::load(&name, Theme::user_dir().as_deref()) {
        Ok(t) => t,
        Err(e) => {
            say!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = ws.environment(ws.options.envs.first().map(String::as_str)) {
        say_raw!("{e}");
        return EXIT_USAGE;
    }
    let _log = init_logging();
    crate::cluster::live::keep_exec_plugins_off_terminal();
    let mut setup = headless::setup(&ws, jiff::Timestamp::now(), demo, look.ascii);
    setup.clipboard = look.clipboard;
    match event_loop::run(ws, setup, theme, look.mouse, started).await {
        Ok(()) => EXIT_OK,
        Err(e) => {
            say!("error: {e}");
            1
        }
    }
}

/// The dashboard draws on the terminal and reads keys from it: checked
/// before any work (loading checklists, the demo's endpoints and seeded
/// logs), so `gonogo > file` fails at once and leaves nothing behind.
pub(crate) fn require_terminal() -> Result<(), i32> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return Ok(());
    }
    say!(
        "error: the dashboard needs a terminal; in scripts and CI use `gonogo check` (see --help)"
    );
    Err(EXIT_USAGE)
}

/// Logs go to `gonogo.log` in the cache folder (never to the screen); the
/// level comes from `GONOGO_LOG` (default `info`). The guard flushes on drop.
fn init_logging() -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = std::env::var_os("GONOGO_LOG_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| crate::config::project_dirs().map(|d| d.cache_dir().to_path_buf()))
        .unwrap_or_else(std::env::temp_dir);
    crate::ledger::dir::create_private_dir(&dir).ok()?;
    // Owner-only from the start: it names items, people and endpoints.
    let _ = crate::ledger::dir::create_private_file(&dir.join("gonogo.log"));
    let appender = tracing_appender::rolling::never(&dir, "gonogo.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("GONOGO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}
