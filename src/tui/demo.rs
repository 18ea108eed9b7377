//! `gonogo demo`: the dashboard on a bundled review that needs no cluster, no
//! network and no config. The checklist, a snapshot cluster and a small
//! repository are bundled; the HTTPS endpoints it checks are started here on
//! 127.0.0.1 with certificates made at start (one expiring in five days), and
//! the sign-off log is seeded so every status shows at once.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::checklist::model::Checklist;
use crate::commands::EXIT_USAGE;
use crate::config::{Config, Environment};
use crate::diag::Source;
use crate::ledger::{EventKind, Ledger};
use crate::session::{Options, Workspace};

pub const CHECKLIST: &str = include_str!("../../assets/demo/demo.toml");
const CLUSTER: &[(&str, &str)] = &[
    (
        "dev.yaml",
        include_str!("../../assets/demo/cluster/dev.yaml"),
    ),
    (
        "staging.yaml",
        include_str!("../../assets/demo/cluster/staging.yaml"),
    ),
    (
        "prod.yaml",
        include_str!("../../assets/demo/cluster/prod.yaml"),
    ),
];
const REPO: &[(&str, &str)] = &[
    (
        "RUNBOOK.md",
        include_str!("../../assets/demo/repo/RUNBOOK.md"),
    ),
    (
        "deploy/values-dev.yaml",
        include_str!("../../assets/demo/repo/deploy/values-dev.yaml"),
    ),
    (
        "deploy/values-staging.yaml",
        include_str!("../../assets/demo/repo/deploy/values-staging.yaml"),
    ),
    (
        "deploy/values-prod.yaml",
        include_str!("../../assets/demo/repo/deploy/values-prod.yaml"),
    ),
];

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
            eprintln!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    let ws = match prepare(options, &dir.0) {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("error: cannot set up the demo: {e}");
            return EXIT_USAGE;
        }
    };
    let code = super::launch(ws, look, true, started).await;
    drop(dir);
    code
}

/// Writes the bundled files under `root`, starts the endpoints, seeds the
/// log and returns the demo's workspace.
pub fn prepare(options: &Options, root: &Path) -> Result<Workspace, String> {
    let cluster = root.join("cluster");
    let repo = root.join("repo");
    for (dir, files) in [(&cluster, CLUSTER), (&repo, REPO)] {
        for (name, text) in files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
            std::fs::write(&path, text)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    let pki = Pki::new(root)?;
    let endpoints = Endpoints::start(&pki)?;
    let state_dir = options
        .state_dir
        .clone()
        .unwrap_or_else(|| root.join("state"));
    // The demo's own review only: a `--checklist`, `--snapshot` or
    // `--context` from the command line would point elsewhere.
    let options = Options {
        state_dir: Some(state_dir.clone()),
        checklists: Vec::new(),
        cluster: None,
        ..options.clone()
    };
    let config = config(root, &cluster, &repo, &pki.ca_file, &endpoints);
    let checklist = checklist().map_err(|e| format!("the bundled demo checklist: {e}"))?;
    let ws = Workspace {
        config,
        checklists: vec![checklist],
        options,
    };
    seed(&ws, &state_dir)?;
    Ok(ws)
}

/// The bundled demo checklist.
pub fn checklist() -> Result<Checklist, String> {
    crate::checklist::parse::parse(Source::new("<builtin>/demo.toml", CHECKLIST), true)
        .map_err(|d| d.to_string())
}

/// dev, staging and prod, all on the bundled snapshot, each its own namespace.
fn config(root: &Path, cluster: &Path, repo: &Path, ca_file: &Path, ep: &Endpoints) -> Config {
    let environments = [("dev", 1), ("staging", 2), ("prod", 2)]
        .into_iter()
        .map(|(name, min_replicas)| {
            let mut vars = BTreeMap::new();
            let mut set = |k: &str, v: String| {
                vars.insert(k.to_string(), v);
            };
            set("namespace", format!("shop-{name}"));
            set("min_replicas", min_replicas.to_string());
            set("api_url", format!("https://127.0.0.1:{}", ep.api));
            set("api_port", ep.api.to_string());
            set(
                "storefront_url",
                format!("https://127.0.0.1:{}", ep.storefront),
            );
            set("payments_port", ep.payments.to_string());
            set("status_url", format!("http://127.0.0.1:{}/", ep.status));
            set("ca_file", ca_file.display().to_string());
            set("repo_dir", repo.display().to_string());
            Environment {
                name: name.to_string(),
                cluster: crate::config::ClusterSource::Snapshot(cluster.to_path_buf()),
                vars,
                read_only: false,
            }
        })
        .collect();
    Config {
        path: None,
        base_dir: root.to_path_buf(),
        checklists: Vec::new(),
        builtin: crate::config::Builtin::None,
        state_dir: None,
        export_dir: None,
        operator: None,
        theme: None,
        trust: Vec::new(),
        every: Some(Duration::from_secs(30)),
        timeout: Some(Duration::from_secs(5)),
        concurrency: 8,
        environments,
    }
}

/// A tick with its evidence in every environment, and one waiver in dev and
/// staging, written through the real log; only into empty logs, so a
/// `--state-dir` reused across runs is not seeded twice.
fn seed(ws: &Workspace, state_dir: &Path) -> Result<(), String> {
    let id = "checkout-launch";
    let in_30_days = jiff::Zoned::now()
        .with_time_zone(jiff::tz::TimeZone::UTC)
        .date()
        .checked_add(jiff::Span::new().days(30))
        .ok();
    for env in &ws.config.environments {
        let ledger = Ledger::open(state_dir, id, &env.name).map_err(|e| e.to_string())?;
        let loaded = ledger.load().map_err(|e| e.to_string())?;
        if loaded.events > 0 {
            continue;
        }
        let mut kinds = vec![
            EventKind::Note {
                item: "rollback-drill".into(),
                text: "Rolled staging back from 2.3.1 to 2.2.4 in 4 min 10 s.\nRecording: https://wiki.example/drills/checkout-2026-11".into(),
            },
            EventKind::Tick {
                item: "rollback-drill".into(),
            },
        ];
        let waiver = match env.name.as_str() {
            "dev" => Some((
                "memory-limits",
                "The worker's limit is set after the load test; dev only, accepted by the platform team.",
            )),
            "staging" => Some((
                "replicas",
                "Staging runs one worker to save cost; prod runs three.",
            )),
            _ => None,
        };
        if let Some((item, reason)) = waiver {
            kinds.push(EventKind::Waive {
                item: item.into(),
                reason: reason.into(),
                until: in_30_days,
            });
        }
        ledger
            .append_many("demo-seed", kinds)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A temporary folder for the demo's files, removed when the demo ends.
struct DemoDir(PathBuf);

impl DemoDir {
    fn create() -> std::io::Result<DemoDir> {
        let stamp = jiff::Timestamp::now().as_millisecond();
        let path = std::env::temp_dir().join(format!("gonogo-demo-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(DemoDir(path))
    }
}

impl Drop for DemoDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A demo CA and the server configurations it signs.
struct Pki {
    ca_file: PathBuf,
    /// The API and storefront: valid for 90 days.
    healthy: Arc<ServerConfig>,
    /// The payments gateway: expires in five days.
    expiring: Arc<ServerConfig>,
}

impl Pki {
    fn new(root: &Path) -> Result<Pki, String> {
        let err = |e: rcgen::Error| format!("cannot make the demo certificates: {e}");
        let ca_key = KeyPair::generate().map_err(err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "gonogo demo CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut ca, 365);
        let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
        let issuer = Issuer::new(ca, &ca_key);
        let ca_file = root.join("demo-ca.pem");
        std::fs::write(&ca_file, ca_cert.pem())
            .map_err(|e| format!("cannot write {}: {e}", ca_file.display()))?;
        let leaf = |name: &str, days: i64| -> Result<Arc<ServerConfig>, String> {
            let key = KeyPair::generate().map_err(err)?;
            let mut p = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
            p.subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
            p.distinguished_name.push(DnType::CommonName, name);
            set_validity(&mut p, days);
            let cert = p.signed_by(&key, &issuer).map_err(err)?;
            let chain = vec![cert.der().clone(), ca_cert.der().clone()];
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
            server_config(chain, key)
        };
        Ok(Pki {
            healthy: leaf("checkout.demo", 90)?,
            expiring: leaf("payments.demo", 5)?,
            ca_file,
        })
    }
}

/// Valid from yesterday to midnight UTC `days` from tomorrow, so "in 5
/// days" reads as 5 whatever the time of day.
fn set_validity(p: &mut CertificateParams, days: i64) {
    let day = |offset: i64| {
        let date = jiff::Zoned::now()
            .with_time_zone(jiff::tz::TimeZone::UTC)
            .date()
            .checked_add(jiff::Span::new().days(offset))
            .unwrap_or_else(|_| jiff::civil::date(2030, 1, 1));
        rcgen::date_time_ymd(date.year().into(), date.month() as u8, date.day() as u8)
    };
    p.not_before = day(-1);
    p.not_after = day(days + 1);
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map(Arc::new)
        .map_err(|e| format!("cannot use the demo certificate: {e}"))
}

/// The demo's endpoints: ports on 127.0.0.1.
struct Endpoints {
    api: u16,
    storefront: u16,
    payments: u16,
    /// Nothing listens here: the status page probe errors.
    status: u16,
}

#[derive(Clone, Copy)]
enum Site {
    Api,
    Storefront,
    Payments,
}

impl Endpoints {
    fn start(pki: &Pki) -> Result<Endpoints, String> {
        let api = serve(Site::Api, pki.healthy.clone())?;
        let storefront = serve(Site::Storefront, pki.healthy.clone())?;
        let payments = serve(Site::Payments, pki.expiring.clone())?;
        let status = {
            let l = bind()?;
            l.local_addr().map_err(|e| e.to_string())?.port()
        };
        Ok(Endpoints {
            api,
            storefront,
            payments,
            status,
        })
    }
}

fn bind() -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", 0)).map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))
}

/// Serves `site` over HTTPS on a free port, one thread per connection (the
/// probes are the only clients).
fn serve(site: Site, tls: Arc<ServerConfig>) -> Result<u16, String> {
    let listener = bind()?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::Builder::new()
        .name("demo-endpoint".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                let tls = tls.clone();
                let _ = std::thread::Builder::new()
                    .name("demo-connection".into())
                    .spawn(move || answer(site, tls, stream));
            }
        })
        .map_err(|e| format!("cannot start a demo endpoint: {e}"))?;
    Ok(port)
}

/// Reads one request and answers it. A TLS probe hangs up right after the
/// handshake; that is not an error worth reporting.
fn answer(site: Site, tls: Arc<ServerConfig>, tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(conn) = rustls::ServerConnection::new(tls) else {
        return;
    };
    let mut stream = rustls::StreamOwned::new(conn, tcp);
    let mut request = Vec::new();
    let mut chunk = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
        }
    }
    let head = String::from_utf8_lossy(&request);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let (status, headers, body) = response(site, path);
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(body);
    let _ = stream.write_all(out.as_bytes());
    stream.conn.send_close_notify();
    let _ = stream.flush();
}

fn response(
    site: Site,
    path: &str,
) -> (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
) {
    let hsts = (
        "strict-transport-security",
        "max-age=31536000; includeSubDomains",
    );
    let nosniff = ("x-content-type-options", "nosniff");
    match (site, path) {
        (Site::Api, "/healthz") => (
            "200 OK",
            vec![("content-type", "application/json"), hsts, nosniff],
            r#"{"status":"ok","version":"2.3.1","database":"connected"}"#,
        ),
        // The storefront forgot HSTS: the finding the demo shows.
        (Site::Storefront, "/") => (
            "200 OK",
            vec![("content-type", "text/html; charset=utf-8"), nosniff],
            "<!doctype html><title>Shop</title><h1>Welcome to the shop</h1>",
        ),
        (Site::Payments, _) => (
            "200 OK",
            vec![("content-type", "text/plain"), hsts],
            "payments gateway",
        ),
        _ => (
            "404 Not Found",
            vec![("content-type", "text/plain")],
            "not found",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_checklist_resolves_in_every_environment() {
        let c = checklist().expect("the demo checklist parses");
        let kinds: std::collections::BTreeSet<String> = c
            .items()
            .map(|(_, i)| {
                i.probe
                    .as_ref()
                    .map_or("manual".into(), |p| p.kind().to_string())
            })
            .collect();
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["file", "http", "kube", "manual", "tls"]
        );
        let ep = Endpoints {
            api: 1,
            storefront: 2,
            payments: 3,
            status: 4,
        };
        let root = Path::new("/tmp/demo");
        let config = config(
            root,
            &root.join("cluster"),
            &root.join("repo"),
            &root.join("ca.pem"),
            &ep,
        );
        let errors = crate::checklist::load::check_environments(&c, &config);
        assert!(errors.is_empty(), "{errors}");
    }
}
