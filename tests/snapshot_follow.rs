//! A snapshot followed as the dashboard follows it: manifests in a temporary
//! folder, a kube probe in the runner's dashboard mode, and the files saved
//! the ways editors save them (rewritten in place, or a new file renamed
//! over the old). No key is pressed and the probe's timer is an hour: any
//! re-run seen here came from a file event.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use gonogo::checklist::model::{KubeProbe, Probe, ProbeSpec, ResourceType};
use gonogo::cluster::reload::FollowedSnapshot;
use gonogo::cluster::snapshot::Snapshot;
use gonogo::probe::{Outcome, ProbeContext, Verdict, cel};
use gonogo::runner::{ItemKey, Job, Mode, Runner, RunnerEvent};
use tokio::sync::mpsc;

/// Long enough for any step on a busy machine; a healthy run takes a small
/// part of it. Waiting ends as soon as the awaited outcome arrives.
const PATIENCE: Duration = Duration::from_secs(60);

const ITEM: &str = "web-replicas";

fn deployment(replicas: u32) -> String {
    format!(
        "# rendered by a chart\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  replicas: {replicas}\n"
    )
}

/// Saves as most editors do by default: the file truncated, then written
/// (here in two writes, as a large file is).
fn rewrite_in_place(path: &Path, text: &str) {
    let mut file = std::fs::File::create(path).expect("the manifest can be written");
    let (head, tail) = text.split_at(text.len() / 2);
    file.write_all(head.as_bytes()).expect("written");
    file.flush().expect("flushed");
    file.write_all(tail.as_bytes()).expect("written");
}

/// Saves as careful editors do: a new file beside the old one, renamed over
/// it, so the old file (and a watch on it alone) is gone.
fn rename_over(path: &Path, text: &str) {
    let name = path.file_name().expect("a file").to_string_lossy();
    let new = path.with_file_name(format!(".{name}.new"));
    std::fs::write(&new, text).expect("the new file can be written");
    std::fs::rename(&new, path).expect("renamed over the old one");
}

/// The web Deployment must run at least two replicas.
fn job(source: Arc<FollowedSnapshot>) -> Job {
    let mut probe = KubeProbe::of(ResourceType::parse("apps/v1/Deployment").expect("valid"));
    probe.namespace = Some("shop".into());
    probe.expect = Some(cel::compile("object.spec.replicas >= 2").expect("compiles"));
    Job {
        key: ItemKey::new("follow", ITEM),
        probe: Arc::new(Probe {
            spec: ProbeSpec::Kube(probe),
            every: Duration::from_secs(3600),
            timeout: Duration::from_secs(10),
        }),
        ctx: ProbeContext {
            cluster: source,
            allow_exec: false,
            base_dir: ".".into(),
        },
    }
}

/// The probe over `snapshot` (a file or a folder), running as in the
/// dashboard, reading only Deployments as the workspace would ask.
fn follow(snapshot: &Path) -> (Runner, mpsc::UnboundedReceiver<RunnerEvent>) {
    let kinds = ["Deployment".to_string()].into();
    let source = FollowedSnapshot::follow(&[snapshot.to_path_buf()], Some(kinds))
        .expect("the manifests read");
    let (tx, events) = mpsc::unbounded_channel();
    (
        Runner::start(vec![job(Arc::new(source))], 2, Mode::Repeat, tx),
        events,
    )
}

/// Outcomes of the item until one satisfies `done`.
async fn outcome_until(
    events: &mut mpsc::UnboundedReceiver<RunnerEvent>,
    what: &str,
    done: impl Fn(&Outcome) -> bool,
) -> Outcome {
    let mut last = None;
    let waited = tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Some(RunnerEvent::Finished(_, outcome)) if done(&outcome) => return outcome,
                Some(RunnerEvent::Finished(_, outcome)) => last = Some(outcome),
                Some(RunnerEvent::Started(_)) => {}
                None => panic!("the runner stopped"),
            }
        }
    })
    .await;
    waited.unwrap_or_else(|_| panic!("waited {PATIENCE:?} for {what}; last outcome: {last:#?}"))
}

fn verdict(v: Verdict) -> impl Fn(&Outcome) -> bool {
    move |o| o.verdict == v
}

/// A manifest at `manifest`, read through `snapshot` (itself, or a folder
/// above it): both ways of saving it reach the item with no key pressed.
async fn follows_both_saves(snapshot: PathBuf, manifest: PathBuf) {
    std::fs::create_dir_all(manifest.parent().expect("in a folder")).expect("folders");
    std::fs::write(&manifest, deployment(1)).expect("written");
    let (_runner, mut events) = follow(&snapshot);
    outcome_until(&mut events, "one replica to fail", verdict(Verdict::Fail)).await;

    rewrite_in_place(&manifest, &deployment(2));
    outcome_until(&mut events, "the rewrite to pass", verdict(Verdict::Pass)).await;

    rename_over(&manifest, &deployment(1));
    outcome_until(
        &mut events,
        "the renamed file to fail",
        verdict(Verdict::Fail),
    )
    .await;

    rename_over(&manifest, &deployment(3));
    outcome_until(
        &mut events,
        "the next rename to pass",
        verdict(Verdict::Pass),
    )
    .await;
}

#[tokio::test]
async fn a_folder_snapshot_follows_saves_in_its_subfolders() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rendered = dir.path().join("rendered");
    follows_both_saves(rendered.clone(), rendered.join("apps/web.yaml")).await;
}

#[tokio::test]
async fn a_file_snapshot_follows_saves() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("rendered/prod.yaml");
    follows_both_saves(file.clone(), file).await;
}

/// A save that does not parse: the item is an `error` that says where
/// (file:line:col, as `check` says it); the next good save brings it back.
#[tokio::test]
async fn a_broken_save_is_the_items_error_until_a_good_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let rendered = dir.path().join("rendered");
    std::fs::create_dir_all(&rendered).expect("folder");
    let manifest = rendered.join("web.yaml");
    std::fs::write(&manifest, deployment(2)).expect("written");
    let (_runner, mut events) = follow(&rendered);
    outcome_until(&mut events, "two replicas to pass", verdict(Verdict::Pass)).await;

    let broken = deployment(3).replace("  namespace: shop\n", "  namespace: [shop\n");
    rename_over(&manifest, &broken);
    let error = outcome_until(&mut events, "the broken save", verdict(Verdict::Error)).await;
    let said = Snapshot::load(std::slice::from_ref(&rendered)).expect_err("broken");
    assert_eq!(error.evidence.summary, said.to_string(), "what check says");
    assert!(
        said.to_string()
            .starts_with(&format!("{}:7:5: ", manifest.display())),
        "the file, line and column: {said}"
    );

    rewrite_in_place(&manifest, &deployment(3));
    outcome_until(
        &mut events,
        "the fixed save to pass",
        verdict(Verdict::Pass),
    )
    .await;
}
