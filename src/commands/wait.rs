//! `gonogo check --wait DURATION`: the probes keep running until the gate
//! holds or the time is up, and every change of an item's status is said on
//! stderr as it happens, so a deploy pipeline can wait for a rollout to
//! become ready the way `kubectl wait` does. stdout gets the final report in
//! the format asked for.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::checklist::Severity;
use crate::config::ClusterSource;
use crate::export::Document;
use crate::probe::Outcome;
use crate::review::Status;
use crate::runner::{ItemKey, Mode, Runner, RunnerEvent};
use crate::workspace::{LoadError, Workspace};

/// The longest a probe waits before it runs again while waiting.
const WAIT_EVERY: Duration = Duration::from_secs(5);

/// Runs the probes of one environment again and again until the gate holds
/// or `wait` has passed, and returns the document as it then stands.
pub async fn until_gate(
    ws: &Workspace,
    envs: &[Option<&str>],
    wait: &str,
    fail_on: Option<Severity>,
) -> Result<Document, LoadError> {
    let wait = crate::checklist::parse::parse_duration(wait)
        .map_err(|e| LoadError::Usage(format!("--wait: {e}")))?;
    let [name] = envs else {
        return Err(LoadError::Usage(
            "--wait watches one environment: give one --env".into(),
        ));
    };
    let env = ws.environment(*name)?;
    // A snapshot does not change while we wait: one check says it all.
    if matches!(env.cluster, ClusterSource::Snapshot(_)) {
        return super::review_document_in(
            ws,
            envs,
            true,
            &mut super::progress::ProgressLine::off(),
        )
        .await;
    }
    let probes = ws.probes(&env)?;
    let cluster = ws.cluster(&env, &probes).await?;
    let label = cluster.describe();
    // Waiting is for a rollout in progress: look again every few seconds
    // at most, whatever the checklist's pace for a dashboard.
    let jobs: Vec<_> = ws
        .jobs(&probes, cluster)
        .into_iter()
        .map(|mut job| {
            if job.probe.every > WAIT_EVERY {
                let mut probe = (*job.probe).clone();
                probe.every = WAIT_EVERY;
                job.probe = std::sync::Arc::new(probe);
            }
            job
        })
        .collect();
    let expected: HashSet<ItemKey> = jobs.iter().map(|j| j.key.clone()).collect();
    if expected.is_empty() {
        return super::review_document_in(
            ws,
            envs,
            true,
            &mut super::progress::ProgressLine::off(),
        )
        .await;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _runner = Runner::start(jobs, ws.config.concurrency, Mode::Repeat, tx);

    let deadline = tokio::time::Instant::now() + wait;
    let mut outcomes: HashMap<String, HashMap<String, Outcome>> = HashMap::new();
    let mut seen: HashSet<ItemKey> = HashSet::new();
    let mut before: HashMap<(String, String), Status> = HashMap::new();
    loop {
        let event = tokio::select! {
            event = rx.recv() => event,
            () = tokio::time::sleep_until(deadline) => None,
        };
        let Some(event) = event else { break };
        let mut events = vec![event];
        while let Ok(more) = rx.try_recv() {
            events.push(more);
        }
        for event in events {
            if let RunnerEvent::Finished(key, outcome) = event {
                outcomes
                    .entry(key.checklist.to_string())
                    .or_default()
                    .insert(key.item.to_string(), outcome);
                seen.insert(key);
            }
        }
        // Judge only once every probe has answered at least once.
        if seen.len() < expected.len() {
            continue;
        }
        let doc = ws.environment_doc(&env, &outcomes, label.clone(), jiff::Timestamp::now())?;
        say_changes(&doc, &mut before);
        if !doc.report.gate_fails(fail_on) {
            eprintln!("{}: the gate holds", env.name);
            return Ok(Document::new(vec![doc], jiff::Timestamp::now()));
        }
    }
    let doc = ws.environment_doc(&env, &outcomes, label, jiff::Timestamp::now())?;
    say_changes(&doc, &mut before);
    eprintln!("{}: the gate still fails after {}", env.name, human(wait));
    Ok(Document::new(vec![doc], jiff::Timestamp::now()))
}

/// Says each item whose status changed since the last look, on stderr; the
/// first look says the open ones.
fn say_changes(
    doc: &crate::export::EnvironmentDoc,
    before: &mut HashMap<(String, String), Status>,
) {
    let first = before.is_empty();
    let at = jiff::Timestamp::now().strftime("%H:%M:%S");
    for checklist in &doc.report.checklists {
        for item in checklist.items() {
            let key = (checklist.id.clone(), item.id.clone());
            let was = before.insert(key, item.status);
            let line = match was {
                None if first && item.status.is_open() => {
                    format!("{at} {}/{}: {}", checklist.id, item.id, item.status)
                }
                Some(old) if old != item.status => {
                    format!(
                        "{at} {}/{}: {old} -> {}",
                        checklist.id, item.id, item.status
                    )
                }
                _ => continue,
            };
            let summary = crate::text::truncate(&item.summary, 120);
            eprintln!("{line}  {summary}");
        }
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}
