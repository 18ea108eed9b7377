//! The sign-off log: arbitrary bytes written as a JSON Lines log file and
//! read back the way `gonogo` reads one: `load` (parse every line, check
//! the hash chain, fold the events into the review's state), the view the
//! dashboard and exports show, `verify` (re-hash and re-link every event),
//! and `events` (what `gonogo log` lists).
//!
//! The property: no log file, however damaged or forged, makes the reader
//! panic, hang or exhaust memory; damage is reported as problems, warnings
//! or a `LedgerError`.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use gonogo::ledger::{DirStore, Store};
use libfuzzer_sys::fuzz_target;

/// One log file per fuzzing process (fork mode runs one process per
/// job), in one folder in memory when /dev/shm is there. The file is
/// removed after each input, so nothing is left behind.
static PATH: LazyLock<PathBuf> = LazyLock::new(|| {
    let base = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base.join("gonogo-fuzz-log");
    std::fs::create_dir_all(&dir).expect("a folder for the log file");
    dir.join(format!("{}.jsonl", std::process::id()))
});

fuzz_target!(|data: &[u8]| {
    std::fs::write(&*PATH, data).expect("write the log file");
    let store = DirStore::at(PATH.clone());
    match store.load() {
        Ok(loaded) => {
            let view = loaded.view();
            let _ = (
                loaded.is_tampered(),
                loaded.torn_tail().map(|w| w.to_string()),
            );
            let _ = view.state.latest_signoff();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    match store.verify() {
        Ok(report) => {
            let _ = (
                report.is_intact(),
                report.first_problem().map(|p| p.to_string()),
            );
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    let _ = store.events();
    let _ = std::fs::remove_file(&*PATH);
});
