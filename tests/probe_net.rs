//! `http` and `tls` probes against real servers this test starts on
//! 127.0.0.1: axum for HTTP, the same behind tokio-rustls for HTTPS, and
//! certificates made here with rcgen.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use gonogo::checklist::model::{Expect, HttpProbe, ProbeSpec, StatusMatch, TlsProbe};
use gonogo::probe::{self, Outcome, ProbeContext, Verdict};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

// ---------------------------------------------------------------- servers

#[derive(Clone, Default)]
struct Seen {
    authorization: Arc<Mutex<Vec<String>>>,
    flaky_calls: Arc<AtomicUsize>,
}

fn app(seen: Seen) -> Router {
    Router::new()
        .route(
            "/hsts",
            get(|| async {
                (
                    [(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000")],
                    "secure",
                )
            }),
        )
        .route("/plain", get(|| async { "plain" }))
        .route(
            "/down",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance") }),
        )
        .route(
            "/json",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/json")],
                    r#"{"version": "1.4.2", "ready": true}"#,
                )
            }),
        )
        .route(
            "/moved",
            get(|| async {
                (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, "/plain")],
                )
            }),
        )
        .route("/loop", get(|| async { Redirect::temporary("/loop") }))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "late"
            }),
        )
        .route(
            "/ansi",
            get(|| async { "\u{1b}[31mred alert\u{1b}[0m\u{7}\u{1b}]0;pwned\u{7} done" }),
        )
        .route("/flaky", get(flaky))
        .route("/echo", get(echo))
        .with_state(seen)
}

/// Fails every other call, whatever order concurrent calls arrive in.
async fn flaky(State(seen): State<Seen>) -> StatusCode {
    if seen.flaky_calls.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// Records the Authorization header and, as a careless server might, echoes it.
async fn echo(State(seen): State<Seen>, headers: HeaderMap) -> impl IntoResponse {
    let auth = headers
        .get(header::AUTHORIZATION)
        .map_or("(absent)", |v| v.to_str().unwrap_or("(not text)"))
        .to_string();
    seen.authorization
        .lock()
        .expect("no test thread panics while holding this lock")
        .push(auth.clone());
    ([("x-echo", auth.clone())], format!("you sent {auth}"))
}

async fn serve_http(seen: Seen) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("can bind a port on 127.0.0.1");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move { axum::serve(listener, app(seen)).await });
    addr
}

/// Serves `app` over TLS with the given certificate chain.
async fn serve_https(seen: Seen, cert: ServerCert) -> SocketAddr {
    let listener = TlsListener::bind(cert).await;
    let addr = listener
        .tcp
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move { axum::serve(listener, app(seen)).await });
    addr
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    async fn bind(cert: ServerCert) -> Self {
        gonogo::install_crypto_provider();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(cert.chain, cert.key)
            .expect("rcgen made a usable certificate and key");
        TlsListener {
            tcp: TcpListener::bind("127.0.0.1:0")
                .await
                .expect("can bind a port on 127.0.0.1"),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // Clients that reject the certificate abort the handshake; that is
            // what several tests want, so just wait for the next one.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

// ---------------------------------------------------------------- certificates

struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

struct ServerCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("no names is valid");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "gonogo test CA");
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("ring can make a key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("CA params are valid"),
        }
    }

    /// Writes the CA certificate to `dir/ca.pem`, for `ca_file = "ca.pem"`.
    fn write_pem(&self, dir: &Path) {
        std::fs::write(dir.join("ca.pem"), self.issuer.pem()).expect("temp dir is writable");
    }

    /// A leaf for `names`, valid from `from_days` to `until_days` relative to
    /// today's midnight UTC.
    fn leaf(&self, names: &[&str], from_days: i64, until_days: i64) -> ServerCert {
        let params = leaf_params(names, from_days, until_days);
        let key = KeyPair::generate().expect("ring can make a key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf params are valid");
        ServerCert {
            chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

fn leaf_params(names: &[&str], from_days: i64, until_days: i64) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("test names are valid");
    params
        .distinguished_name
        .push(DnType::CommonName, names[0].as_str());
    // A closure, so rcgen's date type need not be named (it is `time`'s).
    let midnight_utc = |days: i64| {
        let date = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .checked_add(jiff::Span::new().days(days))
            .expect("test dates are in range");
        rcgen::date_time_ymd(date.year().into(), date.month() as u8, date.day() as u8)
    };
    params.not_before = midnight_utc(from_days);
    params.not_after = midnight_utc(until_days);
    params
}

fn self_signed(names: &[&str]) -> ServerCert {
    let params = leaf_params(names, -1, 90);
    let key = KeyPair::generate().expect("ring can make a key");
    let cert = params.self_signed(&key).expect("params are valid");
    ServerCert {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

// ---------------------------------------------------------------- probes

fn http_probe(url: String) -> HttpProbe {
    HttpProbe {
        url,
        method: "GET".into(),
        headers: BTreeMap::new(),
        body: None,
        status: None,
        expect: None,
        samples: 1,
        follow_redirects: false,
        insecure: false,
        ca_file: None,
    }
}

fn tls_probe(addr: SocketAddr) -> TlsProbe {
    TlsProbe {
        host: addr.ip().to_string(),
        port: addr.port(),
        server_name: None,
        ca_file: None,
        min_days: 14,
        expect: None,
    }
}

fn expect(source: &str) -> Option<Expect> {
    Some(gonogo::probe::cel::compile(source).expect("the test's expression compiles"))
}

async fn run_http(probe: &HttpProbe) -> Outcome {
    gonogo::install_crypto_provider();
    gonogo::probe::http::run(probe, Path::new(".")).await
}

fn assert_verdict(outcome: &Outcome, verdict: Verdict) {
    assert_eq!(
        outcome.verdict, verdict,
        "summary: {}\ndetail: {:#}",
        outcome.evidence.summary, outcome.evidence.detail
    );
}

fn has_control_chars(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
}

// ---------------------------------------------------------------- http

#[tokio::test]
async fn http_pass_reports_status_and_latency() {
    let addr = serve_http(Seen::default()).await;
    let outcome = run_http(&http_probe(format!("http://{addr}/plain"))).await;
    assert_verdict(&outcome, Verdict::Pass);
    let summary = &outcome.evidence.summary;
    assert!(summary.starts_with("200 OK in "), "{summary}");
    assert!(summary.ends_with(" ms"), "{summary}");
    let detail = &outcome.evidence.detail;
    assert_eq!(detail["status"], 200);
    assert_eq!(detail["body_excerpt"], "plain");
    assert_eq!(detail["url"], format!("http://{addr}/plain"));
}

#[tokio::test]
async fn http_header_expectation_passes_and_fails_by_name() {
    let addr = serve_http(Seen::default()).await;
    let source = "'strict-transport-security' in response.headers";

    let mut probe = http_probe(format!("http://{addr}/hsts"));
    probe.expect = expect(source);
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Pass);
    assert_eq!(
        outcome.evidence.detail["headers"]["strict-transport-security"],
        "max-age=31536000"
    );

    probe.url = format!("http://{addr}/plain");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "response.headers has no key 'strict-transport-security'"
    );
}

#[tokio::test]
async fn http_status_mismatch_fails_and_listed_status_passes() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/down"));
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(outcome.evidence.summary, "status 503, expected 2xx");
    assert_eq!(
        outcome.evidence.detail["body_excerpt"],
        "down for maintenance"
    );

    probe.status = Some(StatusMatch::Codes(vec![503]));
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Pass);
    assert!(
        outcome
            .evidence
            .summary
            .starts_with("503 Service Unavailable in ")
    );
}

#[tokio::test]
async fn http_json_body_is_visible_to_expect() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/json"));
    probe.expect = expect("response.json.ready && response.json.version.startsWith('1.4')");
    assert_verdict(&run_http(&probe).await, Verdict::Pass);

    // A field the body does not have: the expectation cannot be judged,
    // an error that names it.
    probe.expect = expect("response.json.build == 'abc'");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Error);
    assert!(
        outcome
            .evidence
            .summary
            .contains("reads response.json.build, which is not there"),
        "{}",
        outcome.evidence.summary
    );
    probe.expect = expect("response.json.version == '2.0'");
    assert_verdict(&run_http(&probe).await, Verdict::Fail);

    // A body that is not JSON has no `json` at all.
    probe.url = format!("http://{addr}/plain");
    probe.expect = expect("!has(response.json) && response.body == 'plain'");
    assert_verdict(&run_http(&probe).await, Verdict::Pass);
}

#[tokio::test]
async fn http_redirects_are_the_status_unless_followed() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/moved"));
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(outcome.evidence.summary, "status 301, expected 2xx");
    assert_eq!(outcome.evidence.detail["headers"]["location"], "/plain");

    probe.follow_redirects = true;
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Pass);
    assert_eq!(outcome.evidence.detail["body_excerpt"], "plain");

    probe.url = format!("http://{addr}/loop");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Error);
    assert!(
        outcome.evidence.summary.contains("too many redirects"),
        "{}",
        outcome.evidence.summary
    );
}

#[tokio::test]
async fn http_slow_endpoint_times_out_as_error() {
    let addr = serve_http(Seen::default()).await;
    let ctx = ProbeContext {
        cluster: Arc::new(gonogo::cluster::NoCluster::UNCONFIGURED),
        allow_exec: false,
        base_dir: ".".into(),
    };
    let spec = ProbeSpec::Http(http_probe(format!("http://{addr}/slow")));
    let outcome = probe::run(&spec, &ctx, Duration::from_millis(300)).await;
    assert_verdict(&outcome, Verdict::Error);
    assert!(
        outcome.evidence.summary.contains("timed out"),
        "{}",
        outcome.evidence.summary
    );
}

#[tokio::test]
async fn http_connection_refused_is_an_error_naming_the_endpoint() {
    let port = closed_port().await;
    let url = format!("http://127.0.0.1:{port}/health");
    let outcome = run_http(&http_probe(url.clone())).await;
    assert_verdict(&outcome, Verdict::Error);
    assert_eq!(
        outcome.evidence.summary,
        format!("cannot connect to {url}: connection refused")
    );
}

#[tokio::test]
async fn http_remote_text_is_sanitized() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/ansi"));
    probe.expect = expect("response.body.contains('all clear')");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    let excerpt = outcome.evidence.detail["body_excerpt"]
        .as_str()
        .expect("body_excerpt is a string");
    assert_eq!(excerpt, "red alert done");
    assert!(!has_control_chars(&outcome.evidence.summary));
    let whole = serde_json::to_string(&outcome.evidence).expect("evidence serializes");
    assert!(!whole.contains("\\u001b"), "{whole}");
}

#[tokio::test]
async fn http_samples_report_percentiles_and_error_rate() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/plain"));
    probe.samples = 20;
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Pass);
    let summary = &outcome.evidence.summary;
    assert!(summary.starts_with("p50 "), "{summary}");
    assert!(
        summary.ends_with(", 0.0% errors over 20 requests"),
        "{summary}"
    );
    let samples = &outcome.evidence.detail["samples"];
    assert_eq!(samples["requests"], 20);
    let p50 = samples["p50_ms"].as_u64().expect("p50 is a number");
    let p99 = samples["p99_ms"].as_u64().expect("p99 is a number");
    assert!(p50 <= p99);

    probe.url = format!("http://{addr}/flaky");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    let summary = &outcome.evidence.summary;
    assert!(
        summary.starts_with("10 of 20 requests failed (10 × status 500, expected 2xx)"),
        "{summary}"
    );
    assert!(
        summary.ends_with("50.0% errors over 20 requests"),
        "{summary}"
    );
    assert_eq!(outcome.evidence.detail["samples"]["error_rate"], 0.5);
}

#[tokio::test]
async fn http_samples_expect_on_error_rate_takes_over() {
    let addr = serve_http(Seen::default()).await;
    let mut probe = http_probe(format!("http://{addr}/flaky"));
    probe.samples = 20;
    probe.expect = expect("response.error_rate <= 0.5 && response.p99_ms >= response.p50_ms");
    assert_verdict(&run_http(&probe).await, Verdict::Pass);

    probe.expect = expect("response.error_rate < 0.1");
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert!(
        outcome
            .evidence
            .summary
            .starts_with("response.error_rate is 0.5, wants < 0.1"),
        "{}",
        outcome.evidence.summary
    );
}

/// An optional credential var left empty sends no header at all, rather than
/// an empty `Authorization:` a strict server may reject.
#[tokio::test]
async fn http_header_left_empty_by_its_var_is_not_sent() {
    let seen = Seen::default();
    let addr = serve_http(seen.clone()).await;
    let mut probe = http_probe(format!("http://{addr}/echo"));
    probe.headers.insert("Authorization".into(), "  ".into());
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Pass);
    probe
        .headers
        .insert("Authorization".into(), "Basic Z29ub2dvOnNtb2tl".into());
    run_http(&probe).await;
    let received = seen
        .authorization
        .lock()
        .expect("no test thread panics while holding this lock")
        .clone();
    assert_eq!(received, ["(absent)", "Basic Z29ub2dvOnNtb2tl"]);
}

/// A name no other test or tool uses, set once by the one test that reads it.
const TOKEN_VAR: &str = "GONOGO_PROBE_NET_TEST_TOKEN_7F3A";

#[tokio::test]
async fn http_env_header_reaches_server_but_never_evidence() {
    let token = format!(
        "tok-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_nanosecond()
    );
    // SAFETY: std serializes its own environment access; nothing in this test
    // binary reads the environment through libc (all hosts are IP literals,
    // so there is no getaddrinfo).
    unsafe { std::env::set_var(TOKEN_VAR, &token) };

    let seen = Seen::default();
    let addr = serve_http(seen.clone()).await;
    let mut probe = http_probe(format!("http://{addr}/echo"));
    probe.headers.insert(
        "Authorization".into(),
        format!("Bearer ${{env:{TOKEN_VAR}}}"),
    );
    probe.expect = expect("response.body.contains('nothing like this')");
    let outcome = run_http(&probe).await;

    let received = seen
        .authorization
        .lock()
        .expect("no test thread panics while holding this lock")
        .clone();
    assert_eq!(received, vec![format!("Bearer {token}")]);
    let whole = serde_json::to_string(&outcome).expect("outcome serializes");
    assert!(!whole.contains(&token), "{whole}");
    assert_eq!(
        outcome.evidence.detail["request_headers"]["Authorization"],
        "<redacted>"
    );

    probe.headers.insert(
        "X-Other".into(),
        "${env:GONOGO_PROBE_NET_TEST_UNSET_9C21}".into(),
    );
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Error);
    assert!(
        outcome
            .evidence
            .summary
            .contains("GONOGO_PROBE_NET_TEST_UNSET_9C21 is not set"),
        "{}",
        outcome.evidence.summary
    );
}

/// The server's certificate, which a test may change between runs.
#[derive(Debug)]
struct Swappable(Mutex<Arc<rustls::sign::CertifiedKey>>);

impl rustls::server::ResolvesServerCert for Swappable {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        Some(self.0.lock().expect("no panic holds this lock").clone())
    }
}

fn certified(cert: ServerCert) -> Arc<rustls::sign::CertifiedKey> {
    let provider = rustls::crypto::ring::default_provider();
    let key = provider
        .key_provider
        .load_private_key(cert.key)
        .expect("rcgen keys load");
    Arc::new(rustls::sign::CertifiedKey::new(cert.chain, key))
}

/// Each run makes its own handshake: the trust settings are shared across
/// runs, but no session is resumed and no connection kept, so a renewed
/// (or broken) certificate shows in the very next run.
#[tokio::test]
async fn each_run_sees_the_certificate_served_now() {
    gonogo::install_crypto_provider();
    let ca = TestCa::new();
    let dir = tempfile::tempdir().expect("can make a temp dir");
    ca.write_pem(dir.path());
    let current = Arc::new(Swappable(Mutex::new(certified(ca.leaf(
        &["127.0.0.1"],
        -1,
        90,
    )))));
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_cert_resolver(current.clone());
    let listener = TlsListener {
        tcp: TcpListener::bind("127.0.0.1:0")
            .await
            .expect("can bind a port on 127.0.0.1"),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    let addr = listener.tcp.local_addr().expect("bound");
    tokio::spawn(async move { axum::serve(listener, app(Seen::default())).await });

    let mut probe = http_probe(format!("https://{addr}/hsts"));
    probe.ca_file = Some("ca.pem".into());
    probe.expect = expect("response.tls.days_left > 30");
    let run = || gonogo::probe::http::run(&probe, dir.path());
    assert_verdict(&run().await, Verdict::Pass);
    *current.0.lock().expect("no panic holds this lock") =
        certified(ca.leaf(&["127.0.0.1"], -80, 6));
    let outcome = run().await;
    assert_verdict(&outcome, Verdict::Fail);
    assert!(
        outcome
            .evidence
            .summary
            .starts_with("response.tls.days_left is 5, wants > 30"),
        "{}",
        outcome.evidence.summary
    );
}

#[tokio::test]
async fn https_with_test_ca_in_ca_file() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().expect("can make a temp dir");
    ca.write_pem(dir.path());
    let addr = serve_https(Seen::default(), ca.leaf(&["127.0.0.1"], -1, 90)).await;
    let url = format!("https://{addr}/hsts");

    let mut probe = http_probe(url.clone());
    probe.ca_file = Some("ca.pem".into());
    probe.expect = expect("response.tls.days_left > 30");
    gonogo::install_crypto_provider();
    let outcome = gonogo::probe::http::run(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Pass);
    let tls = &outcome.evidence.detail["tls"];
    assert_eq!(tls["version"], "TLSv1.3");
    assert_eq!(tls["sans"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(tls["issuer"], "CN=gonogo test CA");

    // Without the CA the system roots do not know the issuer.
    probe.ca_file = None;
    probe.expect = None;
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Error);
    assert_eq!(
        outcome.evidence.summary,
        format!("cannot connect to {url}: certificate is signed by an unknown issuer")
    );

    // ... unless verification is switched off.
    probe.insecure = true;
    assert_verdict(&run_http(&probe).await, Verdict::Pass);
}

#[tokio::test]
async fn https_certificate_for_another_name_is_an_error() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().expect("can make a temp dir");
    ca.write_pem(dir.path());
    let addr = serve_https(Seen::default(), ca.leaf(&["example.test"], -1, 90)).await;
    let url = format!("https://{addr}/health");
    let mut probe = http_probe(url.clone());
    probe.ca_file = Some("ca.pem".into());
    gonogo::install_crypto_provider();
    let outcome = gonogo::probe::http::run(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Error);
    assert_eq!(
        outcome.evidence.summary,
        format!("cannot connect to {url}: certificate is not valid for this name")
    );
}

#[tokio::test]
async fn http_missing_ca_file_is_an_error() {
    let mut probe = http_probe("https://127.0.0.1:1/".into());
    probe.ca_file = Some("no-such-ca.pem".into());
    let outcome = run_http(&probe).await;
    assert_verdict(&outcome, Verdict::Error);
    assert!(
        outcome
            .evidence
            .summary
            .ends_with("no-such-ca.pem: no such file"),
        "{}",
        outcome.evidence.summary
    );
}

// ---------------------------------------------------------------- tls

async fn run_tls(probe: &TlsProbe, base_dir: &Path) -> Outcome {
    gonogo::install_crypto_provider();
    gonogo::probe::tls::run(probe, base_dir).await
}

/// A TLS server for `cert` and a temp dir holding `ca.pem` for `ca`.
async fn tls_fixture(ca: &TestCa, cert: ServerCert) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("can make a temp dir");
    ca.write_pem(dir.path());
    (serve_https(Seen::default(), cert).await, dir)
}

#[tokio::test]
async fn tls_valid_certificate_from_ca_file_passes() {
    let ca = TestCa::new();
    let (addr, dir) = tls_fixture(&ca, ca.leaf(&["127.0.0.1", "localhost"], -1, 90)).await;
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("ca.pem".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Pass);
    let detail = &outcome.evidence.detail;
    assert_eq!(detail["chain_verified"], true);
    assert_eq!(detail["hostname_matches"], true);
    assert_eq!(detail["version"], "TLSv1.3");
    assert_eq!(
        detail["sans"],
        serde_json::json!(["127.0.0.1", "localhost"])
    );
    assert_eq!(detail["subject"], "CN=127.0.0.1");
    let days = detail["days_left"].as_i64().expect("days_left is a number");
    assert!((88..=90).contains(&days), "{days}");
    assert!(
        outcome
            .evidence
            .summary
            .contains("issued by CN=gonogo test CA"),
        "{}",
        outcome.evidence.summary
    );

    // The same facts are what CEL sees, and the server name may differ from the host.
    probe.server_name = Some("localhost".into());
    probe.expect = expect("tls.days_left > 30 && 'localhost' in tls.sans && tls.chain_verified");
    assert_verdict(&run_tls(&probe, dir.path()).await, Verdict::Pass);

    probe.expect = expect("tls.issuer.contains('Let')");
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "tls.issuer is \"CN=gonogo test CA\", which does not contain 'Let'"
    );
}

#[tokio::test]
async fn tls_expired_certificate_fails_mentioning_expiry() {
    let ca = TestCa::new();
    let (addr, dir) = tls_fixture(&ca, ca.leaf(&["127.0.0.1"], -60, -3)).await;
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("ca.pem".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    let summary = &outcome.evidence.summary;
    // Three days after midnight UTC three days ago: 3 whole days, whatever the hour.
    assert!(
        summary.starts_with("certificate expired 3 days ago (on "),
        "{summary}"
    );
    let detail = &outcome.evidence.detail;
    assert_eq!(detail["chain_verified"], false);
    assert_eq!(detail["chain_error"], "expired");
    assert_eq!(detail["hostname_matches"], true);
}

#[tokio::test]
async fn tls_certificate_for_another_name_fails_naming_both() {
    let ca = TestCa::new();
    let (addr, dir) = tls_fixture(&ca, ca.leaf(&["example.test"], -1, 90)).await;
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("ca.pem".into());
    probe.server_name = Some("localhost".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "name localhost does not match certificate names example.test"
    );
    assert_eq!(outcome.evidence.detail["chain_verified"], true);
    assert_eq!(outcome.evidence.detail["hostname_matches"], false);
}

#[tokio::test]
async fn tls_wildcard_certificate_matches_one_label() {
    let ca = TestCa::new();
    let (addr, dir) = tls_fixture(&ca, ca.leaf(&["*.example.test"], -1, 90)).await;
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("ca.pem".into());
    probe.server_name = Some("api.example.test".into());
    assert_verdict(&run_tls(&probe, dir.path()).await, Verdict::Pass);

    probe.server_name = Some("a.b.example.test".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "name a.b.example.test does not match certificate names *.example.test"
    );
}

#[tokio::test]
async fn tls_self_signed_certificate_is_not_verified() {
    let ca = TestCa::new();
    let (addr, dir) = tls_fixture(&ca, self_signed(&["127.0.0.1"])).await;
    let probe = tls_probe(addr);
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "certificate chain is not verified: unknown issuer"
    );
    // The facts are still there for the reviewer.
    assert_eq!(outcome.evidence.detail["subject"], "CN=127.0.0.1");
    assert_eq!(outcome.evidence.detail["hostname_matches"], true);
}

/// `openssl req -x509` makes a certificate that is its own CA; served as
/// the leaf and trusted as the CA, webpki refuses it. The summary says so
/// in words, not as a Rust type name.
#[tokio::test]
async fn tls_ca_certificate_served_as_the_leaf_is_named_plainly() {
    let ca = TestCa::new();
    let mut params = leaf_params(&["127.0.0.1"], -1, 90);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let key = KeyPair::generate().expect("ring can make a key");
    let cert = params.self_signed(&key).expect("params are valid");
    let pem = cert.pem();
    let served = ServerCert {
        chain: vec![cert.der().clone()],
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    };
    let (addr, dir) = tls_fixture(&ca, served).await;
    std::fs::write(dir.path().join("self.pem"), pem).expect("temp dir is writable");
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("self.pem".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    assert_eq!(
        outcome.evidence.summary,
        "certificate chain is not verified: the server presents a CA certificate as its own (a self-signed test certificate?)"
    );
}

#[tokio::test]
async fn tls_certificate_expiring_soon_fails_with_days_and_minimum() {
    let ca = TestCa::new();
    // Until midnight six days from now: five whole days and some hours left.
    let (addr, dir) = tls_fixture(&ca, ca.leaf(&["127.0.0.1"], -30, 6)).await;
    let mut probe = tls_probe(addr);
    probe.ca_file = Some("ca.pem".into());
    let outcome = run_tls(&probe, dir.path()).await;
    assert_verdict(&outcome, Verdict::Fail);
    let summary = &outcome.evidence.summary;
    let days = outcome.evidence.detail["days_left"]
        .as_i64()
        .expect("days_left is a number");
    assert!((5..=6).contains(&days), "{days}");
    assert_eq!(
        *summary,
        format!("certificate expires in {days} days (minimum 14)")
    );

    probe.min_days = 3;
    assert_verdict(&run_tls(&probe, dir.path()).await, Verdict::Pass);
}

#[tokio::test]
async fn tls_nothing_listening_is_an_error() {
    let port = closed_port().await;
    let mut probe = tls_probe(SocketAddr::from(([127, 0, 0, 1], port)));
    probe.server_name = Some("localhost".into());
    let outcome = run_tls(&probe, Path::new(".")).await;
    assert_verdict(&outcome, Verdict::Error);
    assert_eq!(
        outcome.evidence.summary,
        format!("cannot connect to 127.0.0.1:{port}: connection refused")
    );
}

#[tokio::test]
async fn tls_server_that_does_not_speak_tls_is_an_error() {
    let addr = serve_http(Seen::default()).await;
    let outcome = run_tls(&tls_probe(addr), Path::new(".")).await;
    assert_verdict(&outcome, Verdict::Error);
    assert_eq!(
        outcome.evidence.summary,
        format!("TLS handshake with {addr} failed: the server does not speak TLS on this port")
    );
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("can bind a port on 127.0.0.1");
    listener
        .local_addr()
        .expect("a bound listener has an address")
        .port()
}
