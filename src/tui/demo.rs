//! `gonogo demo`: the dashboard on the bundled demo review (`crate::demo`),
//! in a temporary folder removed when the dashboard closes.

use std::time::Instant;

use crate::commands::EXIT_USAGE;
use crate::demo::{DemoDir, prepare};
use crate::workspace::Options;

pub use crate::demo::CHECKLIST;

/// `gonogo demo`.
pub async fn run(options: &Options, look: &super::Look) -> i32 {
    let started = Instant::now();
    if let Err(code) = super::require_terminal() {
        return code;
    }
    crate::install_crypto_provider();
    let dir = match DemoDir::create() {
        Ok(d) => d,
        Err(e) => {
            say!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    let ws = match prepare(options, dir.path()) {
        Ok(ws) => ws,
        Err(e) => {
            say!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    let code = super::launch(ws, look, true, started).await;
    drop(dir);
    code
}
