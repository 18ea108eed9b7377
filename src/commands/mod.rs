//! The headless commands. Each returns the process exit code; `main` only
//! parses and dispatches.

pub mod checklists;
pub mod complete;
pub mod decide;
pub mod init;
pub mod progress;
mod wait;

use std::io::Write;

use crate::checklist::load;
use crate::cli::{CheckArgs, CheckFormat, ExportArgs, ExportFormat, Global, ValidateArgs};
use crate::config::Config;
use crate::diag::{Diagnostics, Source};
use crate::export::{self, Document};
use crate::workspace::{LoadError, Workspace};

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
    let envs = env_names(global);
    let ws = match Workspace::load(&global.options()) {
        Ok(ws) => ws,
        Err(e) => return print_load_error(&e),
    };
    let doc = match &args.wait {
        Some(wait) => wait::until_gate(&ws, &envs, wait, args.fail_on.severity()).await,
        None => {
            review_document_in(
                &ws,
                &envs,
                true,
                &mut progress::ProgressLine::on_stderr(global.quiet),
            )
            .await
        }
    };
    match doc {
        Ok(doc) => print_check(&ws, &doc, global, args),
        Err(e) => print_load_error(&e),
    }
}

/// `check` on a workspace already set up (the demo's).
pub async fn check_in(ws: &Workspace, global: &Global, args: &CheckArgs) -> i32 {
    if args.wait.is_some() {
        eprintln!("error: --wait is for a review of your own; the demo's answers do not change");
        return EXIT_USAGE;
    }
    match review_document_in(
        ws,
        &env_names(global),
        true,
        &mut progress::ProgressLine::on_stderr(global.quiet),
    )
    .await
    {
        Ok(doc) => print_check(ws, &doc, global, args),
        Err(e) => print_load_error(&e),
    }
}

/// Prints a checked review in the format asked for; the exit code is the
/// gate's.
fn print_check(ws: &Workspace, doc: &Document, global: &Global, args: &CheckArgs) -> i32 {
    let out = match args.format {
        CheckFormat::Json => export::json::render(doc),
        CheckFormat::Md => export::markdown::render(doc),
        CheckFormat::Junit => export::junit::render(doc),
        CheckFormat::Sarif => {
            let config = ws.config.path.as_deref();
            let sources = export::sarif::Sources::new(&ws.checklists, config, &ws.config.base_dir);
            export::sarif::render(doc, &sources)
        }
        CheckFormat::Text => doc
            .environments
            .iter()
            .map(|e| e.report.to_text(global.ascii))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    let mut stdout = std::io::stdout().lock();
    if stdout.write_all(out.as_bytes()).is_err() {
        return EXIT_USAGE;
    }
    let fails = doc
        .environments
        .iter()
        .any(|e| e.report.gate_fails(args.fail_on.severity()));
    if fails { EXIT_GATE } else { EXIT_OK }
}

/// `gonogo export`: the sign-off document, written atomically with `-o`.
pub async fn export(global: &Global, args: &ExportArgs) -> i32 {
    match Workspace::load(&global.options()) {
        Ok(ws) => export_in(&ws, global, args).await,
        Err(e) => print_load_error(&e),
    }
}

/// `export` on a workspace already set up (the demo's).
pub async fn export_in(ws: &Workspace, global: &Global, args: &ExportArgs) -> i32 {
    let envs = env_names(global);
    let doc = match review_document_in(
        ws,
        &envs,
        !args.no_probe,
        &mut progress::ProgressLine::on_stderr(global.quiet),
    )
    .await
    {
        Ok(d) => d,
        Err(e) => return print_load_error(&e),
    };
    let text = match args.format {
        ExportFormat::Md => export::markdown::render(&doc),
        ExportFormat::Json => export::json::render(&doc),
        ExportFormat::Junit => export::junit::render(&doc),
    };
    match &args.output {
        None => {
            if std::io::stdout().lock().write_all(text.as_bytes()).is_err() {
                return EXIT_USAGE;
            }
        }
        Some(path) => {
            if let Err(e) = export::write_atomically(path, &text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return EXIT_USAGE;
            }
            eprintln!("wrote {}", path.display());
        }
    }
    EXIT_OK
}

/// `gonogo schema checklist|config`: the JSON Schema, pretty-printed.
pub fn schema(of: crate::cli::SchemaOf) -> i32 {
    let schema = match of {
        crate::cli::SchemaOf::Checklist => crate::schema::checklist(),
        crate::cli::SchemaOf::Config => crate::schema::config(),
    };
    let text = serde_json::to_string_pretty(&schema).expect("a schema is plain data");
    match writeln!(std::io::stdout().lock(), "{text}") {
        Ok(()) => EXIT_OK,
        Err(_) => EXIT_USAGE,
    }
}

/// `gonogo man`: the man page in roff, from the clap definitions.
pub fn man() -> i32 {
    use clap::CommandFactory;
    let page = clap_mangen::Man::new(crate::cli::Cli::command());
    let mut out = Vec::new();
    if page.render(&mut out).is_err() || std::io::stdout().lock().write_all(&out).is_err() {
        return EXIT_USAGE;
    }
    EXIT_OK
}

/// The environments asked for with `--env`; none means the default one.
fn env_names(global: &Global) -> Vec<Option<&str>> {
    if global.env.is_empty() {
        vec![None]
    } else {
        global.env.iter().map(|e| Some(e.as_str())).collect()
    }
}

/// Loads everything, and for each environment runs every probe once (unless
/// `probe` is false) and folds in people's decisions.
pub async fn review_document(
    global: &Global,
    envs: &[Option<&str>],
    probe: bool,
) -> Result<Document, LoadError> {
    let ws = Workspace::load(&global.options())?;
    review_document_in(&ws, envs, probe, &mut progress::ProgressLine::off()).await
}

/// [`review_document`] on a workspace already loaded.
pub async fn review_document_in(
    ws: &Workspace,
    envs: &[Option<&str>],
    probe: bool,
    progress: &mut progress::ProgressLine,
) -> Result<Document, LoadError> {
    let mut docs = Vec::new();
    let mut seen = Vec::new();
    for name in envs {
        let env = ws.environment(*name)?;
        if seen.contains(&env.name) {
            continue;
        }
        seen.push(env.name.clone());
        let mut warnings = Vec::new();
        let name = env.name.clone();
        let doc = ws
            .review_once_watched(&env, probe, &mut warnings, &mut |tally| {
                progress.draw(&name, tally)
            })
            .await;
        progress.clear();
        for w in warnings {
            eprintln!("warning: {w}");
        }
        let doc = doc?;
        for log in doc.logs.values() {
            if let Some(problem) = log.problems.first() {
                eprintln!(
                    "warning: {} has been altered ({problem}); its ticks, notes and waivers are ignored",
                    log.path
                );
            }
        }
        docs.push(doc);
    }
    Ok(Document::new(docs, jiff::Timestamp::now()))
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
        config.builtin = crate::config::Builtin::None;
        config.checklists.clear();
        for path in &args.files {
            let source = match Source::read(path, "checklist") {
                Ok(source) => source,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let (parsed, parse_errors) = crate::checklist::parse::parse_lenient(source, false);
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
