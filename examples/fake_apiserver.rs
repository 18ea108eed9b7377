//! The fake Kubernetes API server of the tests as a program, serving a
//! synthetic cluster for benchmarks and for trying kubectl against:
//!
//!     cargo run --release --example fake_apiserver -- --size 65000 --kubeconfig /tmp/k.yaml
//!
//! It writes a kubeconfig with the context `bench` (over TLS, as kubectl
//! sends its token only there), prints one line
//! `serving N objects (M bytes of JSON) at http://127.0.0.1:PORT` and serves
//! until killed. Beside the Kubernetes paths it answers a control API that
//! needs no token: `GET /_fake/requests`, `POST /_fake/touch?kind=&namespace=&name=`,
//! `POST /_fake/close-watches` and `POST /_fake/compact`.

#[path = "../tests/support/fake_kube.rs"]
mod fake_kube;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fake_kube::{FakeKube, FakeOptions, kubeconfig, synthetic_cluster, synthetic_resources};

const TOKEN: &str = "bench-token";

/// Serves a synthetic cluster on 127.0.0.1 as a fake Kubernetes API server.
#[derive(Parser, Debug)]
struct Args {
    /// A preset of about this many pods, deployments, services and
    /// configmaps together, in the ratio 50:5:5:5 (1000, 10000, 65000, ...);
    /// the counts below override it.
    #[arg(long)]
    size: Option<usize>,
    #[arg(long)]
    pods: Option<usize>,
    #[arg(long)]
    deployments: Option<usize>,
    #[arg(long)]
    services: Option<usize>,
    #[arg(long)]
    configmaps: Option<usize>,
    #[arg(long)]
    namespaces: Option<usize>,
    /// Most items in one list page.
    #[arg(long, default_value_t = 500)]
    page_size: usize,
    /// Where to write the kubeconfig (context `bench`).
    #[arg(long)]
    kubeconfig: PathBuf,
    /// 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// How often watches get a bookmark: 60s, 500ms, 2m.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    bookmark_every: Duration,
    /// How many past events watches can resume from.
    #[arg(long, default_value_t = 10_000)]
    history: usize,
}

/// What to serve, once the preset and the counts are settled.
struct Shape {
    pods: usize,
    deployments: usize,
    services: usize,
    configmaps: usize,
    namespaces: usize,
}

impl Args {
    fn shape(&self) -> Shape {
        let size = self.size.unwrap_or(0);
        let share = |parts: usize| (size * parts + 32) / 65;
        Shape {
            pods: self.pods.unwrap_or(share(50)),
            deployments: self.deployments.unwrap_or(share(5)),
            services: self.services.unwrap_or(share(5)),
            configmaps: self.configmaps.unwrap_or(share(5)),
            namespaces: self.namespaces.unwrap_or((size / 1_300).max(2)),
        }
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text}: give a unit, as in 60s, 500ms or 2m"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text}: not a duration"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(number)),
        "s" => Ok(Duration::from_secs(number)),
        "m" => Ok(Duration::from_secs(number * 60)),
        "h" => Ok(Duration::from_secs(number * 3_600)),
        _ => Err(format!("{text}: the unit is one of ms, s, m, h")),
    }
}

fn json_bytes(objects: &[serde_json::Value]) -> usize {
    objects
        .iter()
        .map(|o| serde_json::to_vec(o).map_or(0, |b| b.len()))
        .sum()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let shape = args.shape();
    let objects = synthetic_cluster(
        shape.pods,
        shape.deployments,
        shape.services,
        shape.configmaps,
        shape.namespaces,
    );
    let pods: Vec<serde_json::Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .cloned()
        .collect();
    let pod_bytes = json_bytes(&pods);
    drop(pods);
    let count = objects.len();
    let bytes = json_bytes(&objects);
    let options = FakeOptions {
        page_size: args.page_size,
        bookmark_every: args.bookmark_every,
        history: args.history,
        ..FakeOptions::default()
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], args.port));
    let fake = match FakeKube::start_at(addr, synthetic_resources(), objects, TOKEN, options).await
    {
        Ok(fake) => fake,
        Err(e) => {
            eprintln!("cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    // kubectl sends its token only over TLS; the control API and kube-rs
    // may use either on the same port.
    let config = kubeconfig(&[("bench", &fake.tls_url(), TOKEN)]);
    if let Err(e) = std::fs::write(&args.kubeconfig, config) {
        eprintln!("cannot write {}: {e}", args.kubeconfig.display());
        std::process::exit(1);
    }
    eprintln!(
        "{} pods are {pod_bytes} bytes of JSON ({} per pod); {} deployments, {} services, \
         {} configmaps in {} namespaces",
        shape.pods,
        pod_bytes.checked_div(shape.pods).unwrap_or(0),
        shape.deployments,
        shape.services,
        shape.configmaps,
        shape.namespaces,
    );
    println!(
        "serving {count} objects ({bytes} bytes of JSON) at {}",
        fake.url()
    );
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
