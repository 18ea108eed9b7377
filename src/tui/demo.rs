//! `gonogo demo`: the dashboard on the bundled demo review (`crate::demo`),
//! in a temporary folder removed when the dashboard closes.

use std::time::Instant;

use crate::commands::EXIT_USAGE;
use crate::demo::{DemoDir, prepare};
use crate::workspace::Options;

pub use crate::demo::CHECKLIST;

/// `gonogo demo check|export` and `--print-config`: the same review,
/// headless.
pub async fn headless(global: &crate::cli::Global, args: &crate::cli::DemoArgs) -> i32 {
    use crate::cli::DemoAction;
    crate::install_crypto_provider();
    let dir = match DemoDir::create() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    let ws = match prepare(&global.options(), dir.path()) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    if args.print_config {
        print!("{}", crate::demo::config_text(&ws));
        return crate::commands::EXIT_OK;
    }
    let code = match &args.action {
        Some(DemoAction::Check(a)) => crate::commands::check_in(&ws, global, a).await,
        Some(DemoAction::Export(a)) => crate::commands::export_in(&ws, global, a).await,
        None => crate::commands::EXIT_OK,
    };
    drop(dir);
    code
}

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
