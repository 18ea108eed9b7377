//! A writer process for the sign-off log's concurrency tests
//! (`tests/ledger.rs`): appends notes to one review's log, as another
//! gonogo session on the same host would.
//!
//! `ledger_writer STATE_DIR CHECKLIST ENV WRITER COUNT` appends COUNT notes
//! (0: until killed) on item WRITER, by WRITER, with texts "0", "1", …

use std::path::Path;

use gonogo::ledger::{DirStore, EventKind, Store};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, checklist, env, writer, count] = &args[..] else {
        eprintln!("usage: ledger_writer STATE_DIR CHECKLIST ENV WRITER COUNT");
        std::process::exit(2);
    };
    let count: u64 = count.parse().expect("COUNT is a number");
    let ledger = DirStore::open(Path::new(dir), checklist, env).expect("valid names");
    for i in (0..).take_while(|i| count == 0 || *i < count) {
        let note = EventKind::Note {
            item: writer.clone(),
            text: i.to_string(),
        };
        ledger.append(writer, note).expect("append");
    }
}
