//! The headless commands. Each returns the process exit code; `main` only
//! parses and dispatches.

pub mod decide;

use std::collections::HashMap;
use std::io::Write;

use crate::checklist::load;
use crate::cli::{CheckArgs, CheckFormat, Global, ValidateArgs};
use crate::config::Config;
use crate::diag::{Diagnostic, Diagnostics, Source};
use crate::ledger::ReviewState;
use crate::probe::Outcome;
use crate::report::{self, Report};
use crate::runner;
use crate::session::{LoadError, Workspace};

pub const EXIT_OK: i32 = 0;
pub const EXIT_GATE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

pub(crate) fn print_load_error(e: &LoadError) -> i32 {
    eprint!("{e}");
    if let LoadError::Diagnostics(d) = e {
        let n = d.0.len();
        eprintln!(
            "error: {n} problem{} found; nothing was run",
            if n == 1 { "" } else { "s" }
        );
    }
    EXIT_USAGE
}

pub async fn check(global: &Global, args: &CheckArgs) -> i32 {
    if matches!(args.format, CheckFormat::Md | CheckFormat::Junit) {
        eprintln!(
            "error: --format {} is not supported yet: use text or json",
            if args.format == CheckFormat::Md {
                "md"
            } else {
                "junit"
            }
        );
        return EXIT_USAGE;
    }
    if global.env.len() > 1 {
        eprintln!("error: check takes one --env for now");
        return EXIT_USAGE;
    }
    let report = match run_review(global, global.env.first().map(String::as_str)).await {
        Ok(r) => r,
        Err(e) => return print_load_error(&e),
    };
    let out = match args.format {
        CheckFormat::Json => report.to_json() + "\n",
        _ => report.to_text(global.ascii),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(out.as_bytes()).is_err() {
        return EXIT_USAGE;
    }
    if report.gate_fails(args.fail_on.severity()) {
        EXIT_GATE
    } else {
        EXIT_OK
    }
}

/// Loads everything for one environment, runs every probe once and folds in
/// people's decisions.
pub async fn run_review(global: &Global, env: Option<&str>) -> Result<Report, LoadError> {
    let ws = Workspace::load(global)?;
    let env = ws.environment(env)?;
    let probes = ws.probes(&env)?;
    let cluster = ws.cluster(&env).await?;
    let jobs = ws.jobs(&probes, cluster.clone());
    let results = runner::run_once(jobs, ws.config.concurrency).await;
    let mut by_checklist: HashMap<String, HashMap<String, Outcome>> = HashMap::new();
    for (key, outcome) in results {
        by_checklist
            .entry(key.checklist.to_string())
            .or_default()
            .insert(key.item.to_string(), outcome);
    }
    let now = jiff::Timestamp::now();
    let empty = HashMap::new();
    let reports = ws
        .checklists
        .iter()
        .map(|c| {
            let state = review_state(&ws, &c.id, &env.name)?;
            let outcomes = by_checklist.get(&c.id).unwrap_or(&empty);
            Ok(report::checklist_report(
                c, &env.name, &state, outcomes, now,
            ))
        })
        .collect::<Result<Vec<_>, LoadError>>()?;
    Ok(Report::new(&env.name, cluster.describe(), reports, now))
}

/// People's decisions for one checklist in one environment. A log that
/// fails verification is reported and its decisions are not counted: the
/// gate must not rest on ticks nobody can vouch for.
fn review_state(ws: &Workspace, checklist: &str, env: &str) -> Result<ReviewState, LoadError> {
    let ledger = crate::ledger::Ledger::open(&ws.state_dir(), checklist, env)
        .map_err(|e| LoadError::Usage(e.to_string()))?;
    let loaded = ledger.load().map_err(|e| LoadError::Usage(e.to_string()))?;
    if let Some(w) = loaded.torn_tail() {
        eprintln!("warning: {}: {w}", ledger.path().display());
    }
    if let Some(problem) = loaded.problems.first() {
        eprintln!(
            "warning: {} has been altered ({problem}); its ticks, notes and waivers are ignored",
            ledger.path().display()
        );
        return Ok(ReviewState::default());
    }
    Ok(loaded.state)
}

pub fn validate(global: &Global, args: &ValidateArgs) -> i32 {
    let mut errors = Diagnostics::default();
    let mut config = match Config::discover(global.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            errors.extend(e);
            Config::default()
        }
    };
    let mut count = 0;
    if args.files.is_empty() {
        match load::load_all(&config, &[]) {
            Ok(c) => count = c.len(),
            Err(e) => errors.extend(e),
        }
    } else {
        config.builtin = false;
        config.checklists.clear();
        for path in &args.files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(Diagnostic::file(path, format!("cannot read: {e}")));
                    continue;
                }
            };
            let (parsed, parse_errors) =
                crate::checklist::parse::parse_lenient(Source::new(path, text), false);
            let mut file_errors = parse_errors;
            if let Some(c) = parsed {
                file_errors.extend(load::check_environments(&c, &config));
            }
            if file_errors.is_empty() {
                count += 1;
            }
            errors.extend(file_errors);
        }
    }
    let errors = errors.sorted();
    if errors.is_empty() {
        println!(
            "ok: {count} checklist{} valid for {} environment{}",
            if count == 1 { "" } else { "s" },
            config.environments.len(),
            if config.environments.len() == 1 {
                ""
            } else {
                "s"
            }
        );
        EXIT_OK
    } else {
        eprint!("{errors}");
        let n = errors.0.len();
        eprintln!("error: {n} problem{} found", if n == 1 { "" } else { "s" });
        EXIT_USAGE
    }
}
