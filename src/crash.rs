//! What a crash leaves behind: a panic on the main thread (which runs the
//! dashboard and every command) writes a report to the data folder, owner
//! readable only, and says where in one line after the usual message. The
//! report holds what a bug report needs (version, platform, the command's
//! name, the message, where it happened, the backtrace) and nothing the
//! operator typed or gonogo read: no arguments beyond the subcommand, no
//! environment, no config, no remote text beyond what the message says, and
//! that message stripped of control characters.

use std::io::Write as _;
use std::path::PathBuf;

/// Wraps the panic hook installed so far (color-eyre's). The dashboard adds
/// its own around this one, so the terminal is given back first.
pub fn install() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_main = std::thread::current().name() == Some("main");
        let report = on_main.then(|| write_report(info)).flatten();
        previous(info);
        if let Some(path) = report {
            eprintln!(
                "gonogo: crash report written to {} (no secrets in it; attach it to a bug report)",
                path.display()
            );
        }
    }));
}

/// Where crash reports go: `<data folder>/crashes/`.
pub fn folder() -> Option<PathBuf> {
    crate::config::project_dirs().map(|d| d.data_dir().join("crashes"))
}

fn write_report(info: &std::panic::PanicHookInfo<'_>) -> Option<PathBuf> {
    let dir = folder()?;
    crate::ledger::dir::create_private_dir(&dir).ok()?;
    let now = jiff::Timestamp::now();
    let path = dir.join(format!(
        "crash-{}-{}.txt",
        now.strftime("%Y%m%dT%H%M%SZ"),
        std::process::id()
    ));
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_else(|| "(unknown)".into());
    // The subcommand only: arguments may carry notes, names and paths.
    let command = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "(dashboard)".into());
    let backtrace = std::backtrace::Backtrace::force_capture();
    let text = format!(
        "gonogo {} crashed\n\
         time: {now}\n\
         platform: {} {}\n\
         command: {}\n\
         message: {}\n\
         at: {location}\n\n\
         backtrace:\n{backtrace}\n",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::OS,
        std::env::consts::ARCH,
        crate::text::sanitize(&command, false),
        crate::text::sanitize(&message, true),
    );
    let mut file = crate::ledger::dir::create_private_file(&path).ok()?;
    file.write_all(text.as_bytes()).ok()?;
    Some(path)
}
