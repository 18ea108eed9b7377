//! The commands that record people's decisions in the sign-off log: tick,
//! untick, note, waive, unwaive, signoff; `log` to read it back, verify it
//! or archive it; `state copy` to move it between stores. Every change is
//! judged by `review::rules` before it is appended.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::checklist::model::{Checklist, Item};
use crate::cli::{DecideCommand, Global, LogArgs, LogFormat, StateAction, StateArgs};
use crate::ledger::{DirStore, Event, Loaded, SignoffDecision, Store};
use crate::probe::Outcome;
use crate::report;
use crate::review::record::{self, RecordError, Where};
use crate::review::rules::{self, Change};
use crate::runner;
use crate::workspace::{LoadError, Workspace};

use super::{EXIT_GATE, EXIT_OK, EXIT_USAGE, print_load_error};

/// Runs one of tick / untick / note / waive / unwaive / signoff.
pub async fn decide(global: &Global, command: &DecideCommand) -> i32 {
    match try_decide(global, command).await {
        Ok(message) => {
            println!("{message}");
            EXIT_OK
        }
        Err(Failure::Load(e)) => print_load_error(&e),
        Err(Failure::Refused(message)) => {
            eprintln!("refused: {message}");
            EXIT_USAGE
        }
    }
}

enum Failure {
    Load(LoadError),
    Refused(String),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        Failure::Load(e)
    }
}

async fn try_decide(global: &Global, command: &DecideCommand) -> Result<String, Failure> {
    let ws = Workspace::load(&global.options())?;
    let env = ws.environment(single_env(global)?)?;
    let (checklist, item) = match command.item() {
        Some(spec) => {
            let (c, i) = find_item(&ws.checklists, spec)?;
            (c, Some(i))
        }
        None => (single_checklist(&ws.checklists)?, None),
    };
    let ledger = ws.ledger(&checklist.id, &env)?;
    let mut loaded = ledger.load().map_err(refused)?;
    let item = item.cloned();
    let named = |what: &str| {
        item.clone()
            .ok_or_else(|| Failure::Refused(format!("{what} names an item")))
    };
    let change = match command {
        DecideCommand::Tick { note, .. } => Change::Tick {
            item: named("tick")?,
            note: note.clone(),
        },
        DecideCommand::Untick { .. } => Change::Untick {
            item: named("untick")?,
        },
        DecideCommand::Note { text, .. } => Change::Note {
            item: named("note")?,
            text: text.clone(),
        },
        DecideCommand::Waive { reason, until, .. } => Change::Waive {
            item: named("waive")?,
            reason: reason.clone(),
            until: match until {
                Some(text) => {
                    Some(rules::parse_until(text).map_err(|r| Failure::Refused(r.message))?)
                }
                None => None,
            },
        },
        DecideCommand::Unwaive { .. } => Change::Unwaive {
            item: named("unwaive")?,
        },
        DecideCommand::Signoff { decision, note } => {
            signoff_change(&ws, &env, checklist, &loaded, *decision, note.clone()).await?
        }
    };
    let place = Where {
        env: &env.name,
        read_only: env.read_only,
    };
    // A change needs someone to be recorded under (a read-only environment
    // refuses it before that matters).
    let by = if env.read_only {
        crate::ledger::Signer::default()
    } else {
        ws.signer(ledger.as_ref()).map_err(Failure::Refused)?
    };
    let events = record::record(
        ledger.as_ref(),
        &mut loaded,
        &by,
        place,
        &change,
        jiff::Timestamp::now(),
    )
    .map_err(|e| match e {
        RecordError::Failed(crate::ledger::LedgerError::Tampered { log, problem }) => {
            Failure::Refused(format!(
                "{log} has been altered ({problem}); run `{}` and restore it before recording anything",
                ledger.verify_command()
            ))
        }
        RecordError::Failed(e) => refused(e),
        other => Failure::Refused(other.to_string()),
    })?;
    let last = events
        .last()
        .expect("a planned change appends at least one event");
    let (what, counted) = match &change {
        Change::Signoff { decision, .. } => (
            format!("signed {decision}"),
            crate::review::roles::counted_as(
                &checklist.signoff_roles,
                &ws.config.roles,
                &by.name,
                &by.groups,
            ),
        ),
        _ => match &item {
            Some(item) => (format!("{} {}", last.kind.name(), item.id), None),
            None => (last.kind.name().to_string(), None),
        },
    };
    let counted = counted.map(|c| format!("; {c}")).unwrap_or_default();
    Ok(format!(
        "{what} in {}/{} as {} (event {}, {}){counted}",
        checklist.id,
        env.name,
        last.by,
        last.seq,
        &last.hash[..12]
    ))
}

/// A log that cannot be read or written refuses the change; when its store
/// cannot be reached, that nothing was recorded (anywhere) is said too.
fn refused(e: crate::ledger::LedgerError) -> Failure {
    match e {
        e @ crate::ledger::LedgerError::Unavailable { .. } => {
            Failure::Refused(format!("{e}; nothing was recorded"))
        }
        e => Failure::Refused(e.to_string()),
    }
}

/// A sign-off needs the decision as it stands: run the checklist's probes
/// once and fold in the log, as `check` does.
async fn signoff_change(
    ws: &Workspace,
    env: &crate::config::Environment,
    checklist: &Checklist,
    loaded: &Loaded,
    decision: SignoffDecision,
    note: Option<String>,
) -> Result<Change, Failure> {
    let probes = ws.probes(env)?;
    let probes: Vec<_> = probes
        .into_iter()
        .filter(|(id, _)| *id == checklist.id)
        .collect();
    let cluster = ws.cluster(env, &probes).await?;
    let jobs = ws.jobs(&probes, cluster);
    let outcomes: HashMap<String, Outcome> = runner::run_once(jobs, ws.config.concurrency)
        .await
        .into_iter()
        .map(|(k, o)| (k.item.to_string(), o))
        .collect();
    let now = jiff::Timestamp::now();
    let mut report = report::checklist_report(
        checklist,
        &env.name,
        &loaded.state,
        &outcomes,
        &ws.config.roles,
        now,
    );
    report.upstream = ws.upstream(checklist, env)?;
    Ok(Change::Signoff {
        decision,
        note,
        facts: report.signoff_facts(),
    })
}

fn single_env(global: &Global) -> Result<Option<&str>, LoadError> {
    match global.env.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.as_str())),
        _ => Err(LoadError::Usage(
            "give one --env: a decision is recorded for one environment".into(),
        )),
    }
}

/// `ITEM` or `CHECKLIST/ITEM`; a bare id found in several checklists is an
/// error listing where.
pub fn find_item<'a>(
    checklists: &'a [Checklist],
    spec: &str,
) -> Result<(&'a Checklist, &'a Item), LoadError> {
    if let Some((checklist_id, item_id)) = spec.split_once('/') {
        let checklist = checklists
            .iter()
            .find(|c| c.id == checklist_id)
            .ok_or_else(|| LoadError::Usage(format!("no checklist `{checklist_id}` is loaded")))?;
        let item = checklist.item(item_id).ok_or_else(|| {
            LoadError::Usage(format!(
                "checklist `{checklist_id}` has no item `{item_id}`"
            ))
        })?;
        return Ok((checklist, item));
    }
    let found: Vec<(&Checklist, &Item)> = checklists
        .iter()
        .filter_map(|c| c.item(spec).map(|i| (c, i)))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(LoadError::Usage(format!(
            "no item `{spec}` in any loaded checklist"
        ))),
        several => {
            let candidates: Vec<String> = several
                .iter()
                .map(|(c, i)| format!("{}/{}", c.id, i.id))
                .collect();
            Err(LoadError::Usage(format!(
                "`{spec}` is in several checklists; name one of: {}",
                candidates.join(", ")
            )))
        }
    }
}

fn single_checklist(checklists: &[Checklist]) -> Result<&Checklist, LoadError> {
    match checklists {
        [one] => Ok(one),
        [] => Err(LoadError::Usage("no checklist is loaded".into())),
        several => {
            let ids: Vec<&str> = several.iter().map(|c| c.id.as_str()).collect();
            Err(LoadError::Usage(format!(
                "several checklists are loaded; pick one with --checklist ({})",
                ids.join(", ")
            )))
        }
    }
}

/// `gonogo log`: the audit trail of one checklist in one environment, a
/// verification of its hash chain, or an archive of it as a file.
pub fn log(global: &Global, args: &LogArgs) -> i32 {
    let run = || -> Result<i32, LoadError> {
        let ledger: Arc<dyn Store> = match &args.file {
            Some(path) => {
                if args.archive.is_some() {
                    return Err(LoadError::Usage(
                        "a log file is its own archive: copy it, or name the log with --env".into(),
                    ));
                }
                if !path.is_file() {
                    return Err(LoadError::Usage(format!(
                        "{}: no such log file",
                        path.display()
                    )));
                }
                Arc::new(DirStore::at(path.clone()))
            }
            None => {
                let ws = Workspace::load(&global.options())?;
                let env = ws.environment(single_env(global)?)?;
                let checklist = single_checklist(&ws.checklists)?;
                ws.ledger(&checklist.id, &env)?
            }
        };
        if let Some(out) = &args.archive {
            return Ok(archive(ledger.as_ref(), out));
        }
        if args.verify {
            return Ok(verify(ledger.as_ref(), args.head.as_deref()));
        }
        let events = ledger
            .events()
            .map_err(|e| LoadError::Usage(e.to_string()))?;
        match args.format {
            LogFormat::Json => {
                let lines: Vec<serde_json::Value> = events.iter().map(|e| e.to_json()).collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&lines).expect("plain JSON values serialize")
                );
            }
            LogFormat::Text => {
                if events.is_empty() {
                    println!("{}: no events yet", ledger.location());
                }
                for e in &events {
                    println!("{}", describe(e));
                }
            }
        }
        Ok(EXIT_OK)
    };
    match run() {
        Ok(code) => code,
        Err(e) => print_load_error(&e),
    }
}

fn verify(ledger: &dyn Store, head: Option<&str>) -> i32 {
    let recorded = match head.map(RecordedHead::parse).transpose() {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: --head: {e}");
            return EXIT_USAGE;
        }
    };
    let report = match ledger.verify() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let Some(recorded) = recorded else {
        return print_report(&ledger.location(), &report);
    };
    if report.first_problem().is_some() {
        return print_report(&ledger.location(), &report);
    }
    let events = match ledger.events() {
        Ok(events) => events,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    match recorded.compare(&events) {
        Ok(()) => print_report(&ledger.location(), &report),
        Err(why) => {
            eprintln!("not the recorded head: {}: {why}", ledger.location());
            EXIT_GATE
        }
    }
}

/// The head a sign-off document recorded: the last event's hash, and how
/// many events the log held then when the document says (`EVENTS:HASH`).
struct RecordedHead {
    events: Option<u64>,
    hash: String,
}

impl RecordedHead {
    fn parse(text: &str) -> Result<RecordedHead, String> {
        let (events, hash) = match text.split_once(':') {
            Some((n, hash)) => (
                Some(
                    n.parse::<u64>()
                        .map_err(|_| format!("`{n}` is not a number of events"))?,
                ),
                hash,
            ),
            None => (None, text),
        };
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "`{hash}` is not a head hash (64 hex digits, as the document prints it)"
            ));
        }
        Ok(RecordedHead {
            events,
            hash: hash.to_ascii_lowercase(),
        })
    }

    /// Whether `events` (an intact chain) end exactly at this head; if not,
    /// what happened: events added after it, or cut off before it.
    fn compare(&self, events: &[Event]) -> Result<(), String> {
        let last = events.len() as u64;
        let short = |h: &str| h.chars().take(12).collect::<String>();
        let plural = |n: u64| if n == 1 { "event" } else { "events" };
        match events.iter().position(|e| e.hash == self.hash) {
            Some(at) if at as u64 + 1 == last => Ok(()),
            Some(at) => {
                let added = last - (at as u64 + 1);
                Err(format!(
                    "{added} {} added after the recorded head {} (event {} of {last})",
                    plural(added),
                    short(&self.hash),
                    at + 1
                ))
            }
            None => match self.events {
                Some(n) if n > last => Err(format!(
                    "{} {} missing: the document recorded {n} events ending at {}, the log \
                     holds {last}; its end was cut off",
                    n - last,
                    plural(n - last),
                    short(&self.hash)
                )),
                Some(n) => Err(format!(
                    "the log holds {last} events but none has the recorded head {} (event {n}): \
                     it was rewritten from there",
                    short(&self.hash)
                )),
                None => Err(format!(
                    "the log ({last} {}) does not contain the recorded head {}: events were \
                     cut off or rewritten",
                    plural(last),
                    short(&self.hash)
                )),
            },
        }
    }
}

/// Says what a verification found; the exit code of `--verify`.
fn print_report(location: &str, report: &crate::ledger::VerifyReport) -> i32 {
    for w in &report.warnings {
        eprintln!("warning: {location}: {w}");
    }
    match report.first_problem() {
        None => {
            println!(
                "ok: {} events, chain intact, head {}",
                report.events,
                if report.head.is_empty() {
                    "(empty log)"
                } else {
                    &report.head
                }
            );
            EXIT_OK
        }
        Some(problem) => {
            eprintln!(
                "tampered: {location}: {problem} ({} problem{} in {} records)",
                report.problems.len(),
                if report.problems.len() == 1 { "" } else { "s" },
                report.lines
            );
            EXIT_GATE
        }
    }
}

/// `gonogo log --archive FILE`: the log's records, byte for byte, in a new
/// file, then that file verified as `gonogo log --verify FILE` would. A
/// log found altered is archived all the same (the archive is the
/// evidence), and the exit code says so.
fn archive(ledger: &dyn Store, out: &Path) -> i32 {
    if out.exists() {
        eprintln!(
            "error: {} exists: an archive never replaces a file",
            out.display()
        );
        return EXIT_USAGE;
    }
    let records = match ledger.records() {
        Ok(records) => records,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = crate::export::write_atomically(out, &records.concat()) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return EXIT_USAGE;
    }
    println!(
        "archived {} records of {} to {}",
        records.len(),
        ledger.location(),
        out.display()
    );
    let archived = DirStore::at(out.to_path_buf());
    match archived.verify() {
        Ok(report) => print_report(&out.display().to_string(), &report),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

/// `gonogo state …`.
pub fn state(global: &Global, args: &StateArgs) -> i32 {
    match &args.action {
        StateAction::Copy { to } => copy(global, to.kind()),
    }
}

/// `gonogo state copy --to STORE`: each loaded checklist's log in `--env`,
/// from the other store into `to`, record by record, then both verified to
/// end on the same head. A log already (partly) copied is completed; one
/// that differs is left alone.
fn copy(global: &Global, to: crate::config::StoreKind) -> i32 {
    use crate::config::StoreKind;
    let from = match to {
        StoreKind::Dir => StoreKind::Kube,
        StoreKind::Kube => StoreKind::Dir,
    };
    let run = || -> Result<i32, LoadError> {
        let ws = Workspace::load(&global.options())?;
        let env = ws.environment(single_env(global)?)?;
        let mut code = EXIT_OK;
        for checklist in &ws.checklists {
            let source = ws.ledger_in(from, &checklist.id, &env)?;
            let target = ws.ledger_in(to, &checklist.id, &env)?;
            let review = format!("{}/{}", checklist.id, env.name);
            match copy_one(source.as_ref(), target.as_ref()) {
                Ok(None) => println!("{review}: nothing to copy ({} is empty)", source.location()),
                Ok(Some((copied, total, head))) => println!(
                    "{review}: copied {copied} of {total} events from {} to {}; head {head}",
                    source.location(),
                    target.location()
                ),
                Err(message) => {
                    eprintln!("error: {review}: {message}");
                    code = EXIT_USAGE;
                }
            }
        }
        Ok(code)
    };
    match run() {
        Ok(code) => code,
        Err(e) => print_load_error(&e),
    }
}

/// Copies one log; `(copied, events in all, head)`, or `None` when the
/// source holds nothing.
fn copy_one(
    source: &dyn Store,
    target: &dyn Store,
) -> Result<Option<(u64, usize, String)>, String> {
    let records = source.records().map_err(|e| e.to_string())?;
    if records.is_empty() {
        return Ok(None);
    }
    let copied = target.import(&records).map_err(|e| e.to_string())?;
    let (there, here) = (
        source.verify().map_err(|e| e.to_string())?,
        target.verify().map_err(|e| e.to_string())?,
    );
    if !here.is_intact() || here.head != there.head {
        return Err(format!(
            "the copy in {} does not end on the head of {} ({} against {})",
            target.location(),
            source.location(),
            short(&here.head),
            short(&there.head)
        ));
    }
    Ok(Some((copied, records.len(), here.head)))
}

/// One line per event for `gonogo log`.
fn describe(e: &crate::ledger::Event) -> String {
    use crate::ledger::EventKind;
    let what = match &e.kind {
        EventKind::Tick { item } => format!("tick     {item}"),
        EventKind::Untick { item } => format!("untick   {item}"),
        EventKind::Note { item, text } => format!("note     {item}: {}", as_written(text)),
        EventKind::Waive {
            item,
            reason,
            until,
        } => {
            let until = until.map(|d| format!(" until {d}")).unwrap_or_default();
            format!("waive    {item}{until}: {}", as_written(reason))
        }
        EventKind::Unwaive { item } => format!("unwaive  {item}"),
        EventKind::Signoff {
            decision,
            note,
            counts,
            signed_hash,
            ..
        } => {
            let open: u64 = ["fail", "error", "pending"]
                .iter()
                .filter_map(|s| counts.get(*s))
                .sum();
            let note = note
                .as_deref()
                .map(|n| format!(": {}", as_written(n)))
                .unwrap_or_default();
            format!(
                "signoff  {decision} ({open} open; signed {}){note}",
                short(signed_hash)
            )
        }
        EventKind::Unknown { kind, .. } => format!("{kind} (unknown to this version)"),
    };
    let line = format!(
        "{:>5}  {}  {:<12} {what}",
        e.seq,
        e.at.strftime("%Y-%m-%d %H:%M:%SZ"),
        crate::text::truncate(&e.by, 12)
    );
    // A note's further lines sit under its first, where its text starts.
    let mut lines = line.split('\n');
    let first = lines.next().unwrap_or_default();
    let indent = first
        .find(": ")
        .map_or(0, |at| first[..at + 2].chars().count());
    let mut out = first.to_string();
    for rest in lines {
        out.push('\n');
        out.push_str(&" ".repeat(indent));
        out.push_str(rest);
    }
    out
}

/// A person's words as written, for `gonogo log`: control characters
/// stripped, line breaks kept as `\n` for `describe` to indent.
fn as_written(text: &str) -> String {
    let clean = crate::text::sanitize(text, true);
    clean
        .trim()
        .lines()
        .map(|l| crate::text::truncate(l.trim_end(), 200))
        .collect::<Vec<_>>()
        .join("\n")
}

fn short(hash: &str) -> &str {
    if hash.is_empty() {
        "(empty log)"
    } else {
        &hash[..hash.len().min(12)]
    }
}
