//! From one object change on a live cluster to the re-evaluated outcomes, as
//! the dashboard's runner sees it. Run by `benches/cluster.sh`, against the
//! fake API server it starts:
//!
//!     KUBECONFIG=... cargo bench --bench watch_latency -- REVIEW_DIR ENV CONTROL_URL [CHANGES]
//!
//! It loads the review in REVIEW_DIR, starts the probes of ENV in `Repeat`
//! mode, waits for every first outcome, then CHANGES times (default 10):
//! touches one Pod through the fake's control API (`POST /_fake/touch`) and
//! times how long the probes that select Pods take to report again, the
//! first of them and the last. Prints one line per measure.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use gonogo::checklist::model::ProbeSpec;
use gonogo::runner::{Mode, Runner, RunnerEvent};
use gonogo::workspace::{Options, Workspace};
use tokio::sync::mpsc;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [review, env, control, rest @ ..] = args.as_slice() else {
        eprintln!("usage: watch_latency REVIEW_DIR ENV CONTROL_URL [CHANGES]");
        std::process::exit(2);
    };
    let changes: usize = rest.first().and_then(|n| n.parse().ok()).unwrap_or(10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(measure(review, env, control, changes));
}

async fn measure(review: &str, env_name: &str, control: &str, changes: usize) {
    gonogo::install_crypto_provider();
    let options = Options {
        config: Some(format!("{review}/gonogo.toml").into()),
        ..Options::default()
    };
    let ws = Workspace::load(&options).expect("the review loads");
    let env = ws
        .environment(Some(env_name))
        .expect("the environment exists");
    let probes = ws.probes(&env).expect("the probes resolve");
    let started = Instant::now();
    let cluster = ws.cluster(&env, &probes).await.expect("a cluster source");
    let jobs = ws.jobs(&probes, cluster);
    let pods: HashSet<_> = jobs
        .iter()
        .filter(|j| matches!(&j.probe.spec, ProbeSpec::Kube(k) if k.resource.kind == "Pod"))
        .map(|j| j.key.clone())
        .collect();
    let total = jobs.len();
    let (tx, mut events) = mpsc::unbounded_channel();
    let _runner = Runner::start(jobs, ws.config.concurrency, Mode::Repeat, tx);

    let mut seen = HashSet::new();
    while seen.len() < total {
        if let Some(RunnerEvent::Finished(key, _)) = events.recv().await {
            seen.insert(key);
        }
    }
    println!(
        "first complete evaluation of {total} probes: {:.0} ms after start",
        started.elapsed().as_secs_f64() * 1000.0
    );
    // Let the trailing re-runs (the first list's ticks) pass.
    while tokio::time::timeout(Duration::from_millis(1500), events.recv())
        .await
        .is_ok()
    {}

    let client = reqwest::Client::new();
    let (mut firsts, mut lasts) = (Vec::new(), Vec::new());
    for round in 0..changes {
        let (namespace, name) = some_pod(&client, control, round).await;
        let url = format!("{control}/_fake/touch?kind=Pod&namespace={namespace}&name={name}");
        let touched = Instant::now();
        let answer = client.post(&url).send().await.expect("the fake answers");
        assert!(answer.status().is_success(), "touch failed: {answer:?}");
        let mut waiting: HashSet<_> = pods.clone();
        let mut first = None;
        while !waiting.is_empty() {
            match tokio::time::timeout(Duration::from_secs(30), events.recv()).await {
                Ok(Some(RunnerEvent::Finished(key, _))) => {
                    first.get_or_insert_with(|| touched.elapsed());
                    waiting.remove(&key);
                }
                Ok(Some(_)) => {}
                _ => panic!("{} probes never reported after a change", waiting.len()),
            }
        }
        firsts.push(first.unwrap_or_default());
        lasts.push(touched.elapsed());
        // Past the runner's one-second gap before the next change.
        tokio::time::sleep(Duration::from_millis(1200)).await;
    }
    let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
    firsts.sort();
    lasts.sort();
    let median = |v: &[Duration]| ms(&v[v.len() / 2]);
    println!(
        "one Pod change to re-evaluated outcomes ({} Pod probes, {changes} changes): \
         first outcome median {:.0} ms (best {:.0}), all outcomes median {:.0} ms (worst {:.0})",
        pods.len(),
        median(&firsts),
        ms(&firsts[0]),
        median(&lasts),
        ms(lasts.last().unwrap_or(&Duration::ZERO)),
    );
}

/// The namespace and name of the `nth` Pod (of the first 50), from the
/// fake's own API.
async fn some_pod(client: &reqwest::Client, control: &str, nth: usize) -> (String, String) {
    let url = format!("{control}/api/v1/pods?limit=50");
    let token = std::env::var("GONOGO_BENCH_TOKEN").unwrap_or_else(|_| "bench-token".into());
    let list: serde_json::Value = client
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("the fake answers")
        .json()
        .await
        .expect("a list");
    let items = list["items"].as_array().expect("a list of Pods");
    let meta = &items[nth % items.len()]["metadata"];
    let text = |key: &str| meta[key].as_str().expect("a Pod's metadata").to_string();
    (text("namespace"), text("name"))
}
