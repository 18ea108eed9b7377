//! `http` probes: one request judged by its status and an optional CEL
//! `expect` over `response`, or `samples` requests for latency percentiles and
//! an error rate.
//!
//! With `samples > 1` the requests go out at most four at a time, and the
//! status is not judged per request: a request that could not connect or whose
//! status does not match counts toward `error_rate`. The probe then passes
//! when `error_rate` is 0 and `expect` (if any) holds, except that an `expect`
//! that mentions `error_rate` takes over that judgement (so
//! `response.error_rate < 0.01` tolerates the odd failure). Percentiles are
//! nearest-rank over the requests that got a response; `status`, `headers`
//! and `body` are those of the first response whose status matched (else the
//! first response). Latency runs from sending to the end of the (capped) body.
//!
//! `response.tls` (https only) holds the leaf certificate's facts and the
//! protocol version; the chain is verified by reqwest itself (system roots
//! through rustls-platform-verifier, plus `ca_file`).

use std::collections::BTreeMap;
use std::error::Error as _;
use std::path::Path;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde_json::{Value, json};

use super::cel::{self, EvalError};
use super::tls;
use super::{Outcome, Verdict};
use crate::checklist::model::*;
use crate::doc::Doc;
use crate::text::{sanitize, truncate};

/// `response.body` holds at most this much; the rest is not read.
const BODY_CAP: usize = 1024 * 1024;
/// How much of the body the evidence shows.
const EXCERPT_BYTES: usize = 2 * 1024;
const MAX_REDIRECTS: usize = 10;
/// Requests in flight at once when sampling: enough to finish 50 samples
/// within the default timeout, few enough not to load the service.
const SAMPLE_CONCURRENCY: usize = 4;
const REDACTED: &str = "<redacted>";
/// Header values never shown in evidence, whatever their origin.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

pub async fn run(probe: &HttpProbe, base_dir: &Path) -> Outcome {
    crate::install_crypto_provider();
    let request = match Request::prepare(probe) {
        Ok(request) => request,
        Err(message) => return Outcome::error(message),
    };
    let client = match build_client(probe, base_dir).await {
        Ok(client) => client,
        Err(message) => return Outcome::error(message),
    };
    // Many endpoints on one host are visited a few at a time, so a review
    // of a thousand routes does not look like an attack on it.
    let _turn = host_turn(&request.url).await;
    let outcome = if probe.samples <= 1 {
        single(probe, &client, &request).await
    } else {
        sampled(probe, &client, &request).await
    };
    request.scrub(outcome)
}

/// At most this many probes talk to one host (and port) at once.
const PER_HOST: usize = 16;

/// A turn to talk to `url`'s host: held for the probe's run.
async fn host_turn(url: &Url) -> Option<tokio::sync::OwnedSemaphorePermit> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};
    static HOSTS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Semaphore>>>> =
        LazyLock::new(Default::default);
    let host = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    );
    let semaphore = {
        let mut hosts = HOSTS.lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(
            hosts
                .entry(host)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(PER_HOST))),
        )
    };
    semaphore.acquire_owned().await.ok()
}

/// The request with every `${env:NAME}` expanded, and the expanded values
/// kept aside so they can be scrubbed from whatever the probe reports.
struct Request {
    method: Method,
    url: Url,
    headers: HeaderMap,
    body: Option<String>,
    secrets: Vec<String>,
}

impl Request {
    fn prepare(probe: &HttpProbe) -> Result<Request, String> {
        let mut secrets = Vec::new();
        let mut expand = |what: &str, template: &str| -> Result<String, String> {
            let value = super::secret_env(template).map_err(|e| format!("{what}: {e}"))?;
            secrets.extend(env_values(template));
            Ok(value)
        };
        let method = Method::from_bytes(probe.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| format!("method {} is not a valid HTTP method", probe.method))?;
        let url = Url::parse(&expand("url", &probe.url)?)
            .map_err(|e| format!("url {} is invalid: {e}", super::redact::url(&probe.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "url {} is not http or https",
                super::redact::url(&probe.url)
            ));
        }
        let mut headers = HeaderMap::new();
        for (name, template) in &probe.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("header name {name} is not valid"))?;
            let text = expand(&format!("header {name}"), template)?;
            // A var left empty (an optional credential) means no header, not
            // an empty one.
            if text.trim().is_empty() {
                continue;
            }
            let mut value = HeaderValue::from_str(&text)
                .map_err(|_| format!("header {name} has a value that is not valid in HTTP"))?;
            value.set_sensitive(template.contains("${env:"));
            headers.append(header, value);
        }
        let body = match &probe.body {
            Some(template) => Some(expand("body", template)?),
            None => None,
        };
        secrets.retain(|s| !s.is_empty());
        Ok(Request {
            method,
            url,
            headers,
            body,
            secrets,
        })
    }

    /// Replaces every expanded secret in the outcome, in case a server echoed
    /// one back (in a header, a body, an error message).
    fn scrub(&self, mut outcome: Outcome) -> Outcome {
        if self.secrets.is_empty() {
            return outcome;
        }
        outcome.evidence.summary = self.scrub_text(&outcome.evidence.summary);
        self.scrub_value(&mut outcome.evidence.detail);
        outcome
    }

    fn scrub_text(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |acc, secret| {
            acc.replace(secret, REDACTED)
        })
    }

    fn scrub_value(&self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.scrub_text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_value(v)),
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    if let Some(mut v) = map.remove(&key) {
                        self.scrub_value(&mut v);
                        map.insert(self.scrub_text(&key), v);
                    }
                }
            }
            _ => {}
        }
    }

    /// Request headers as evidence shows them: templated values hidden.
    fn headers_for_evidence(&self, probe: &HttpProbe) -> Value {
        let shown: BTreeMap<&str, &str> = probe
            .headers
            .iter()
            .map(|(name, template)| {
                let secret = template.contains("${env:")
                    || SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str());
                (
                    name.as_str(),
                    if secret { REDACTED } else { template.as_str() },
                )
            })
            .collect();
        json!(shown)
    }
}

/// The values of the environment variables a template names.
fn env_values(template: &str) -> Vec<String> {
    let mut values = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${env:") {
        let after = &rest[start + 6..];
        let Some(end) = after.find('}') else { break };
        if let Ok(value) = std::env::var(&after[..end]) {
            values.push(value);
        }
        rest = &after[end + 1..];
    }
    values
}

async fn build_client(probe: &HttpProbe, base_dir: &Path) -> Result<reqwest::Client, String> {
    let extra_roots = match &probe.ca_file {
        Some(path) => tls::read_ca_file(base_dir, path).await?,
        None => Vec::new(),
    };
    let config = shared_tls(&extra_roots, probe.insecure).map_err(|e| match &probe.ca_file {
        Some(path) => format!("ca_file {}: {e}", path.display()),
        None => format!("cannot set up TLS: {e}"),
    })?;
    let redirects = if probe.follow_redirects {
        reqwest::redirect::Policy::limited(MAX_REDIRECTS)
    } else {
        reqwest::redirect::Policy::none()
    };
    // A new client per run, so no connection outlives it: every run makes
    // its own handshake and sees the certificate served now.
    reqwest::Client::builder()
        .redirect(redirects)
        .tls_info(true)
        .use_preconfigured_tls((*config).clone())
        .user_agent(concat!("gonogo/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {}", describe_error(&e)))
}

/// The TLS settings for one set of extra roots and one `insecure` choice,
/// built once per process: reading and parsing the system's roots costs
/// milliseconds, and a review may hold a thousand endpoints. Session
/// resumption is off, so a run never skips the full handshake.
fn shared_tls(
    extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    insecure: bool,
) -> Result<std::sync::Arc<rustls::ClientConfig>, String> {
    use std::collections::HashMap;
    use std::sync::{Arc, LazyLock, Mutex};
    /// By `tls::roots_key` of the extra roots, and `insecure`.
    type Configs = HashMap<(Vec<u8>, bool), Arc<rustls::ClientConfig>>;
    static CONFIGS: LazyLock<Mutex<Configs>> = LazyLock::new(Default::default);
    let key = (tls::roots_key(extra_roots), insecure);
    let mut configs = CONFIGS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = configs.get(&key) {
        return Ok(Arc::clone(found));
    }
    let provider = tls::crypto_provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let mut config = if insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(tls::AnyCertificate(
                provider.signature_verification_algorithms,
            )))
            .with_no_client_auth()
    } else {
        let roots = tls::roots_with(extra_roots)
            .map_err(|e| format!("holds a certificate that cannot be a root: {e}"))?;
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.resumption = rustls::client::Resumption::disabled();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let config = Arc::new(config);
    configs.insert(key, Arc::clone(&config));
    Ok(config)
}

/// One response, read up to the body cap.
struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    truncated: bool,
    latency: Duration,
    tls: Option<Value>,
}

/// Why a request got no response.
struct RequestError {
    /// It never reached the server (DNS, refused, TLS) rather than failing later.
    connect: bool,
    reason: String,
}

impl RequestError {
    fn summary(&self, url: &str) -> String {
        if self.connect {
            format!("cannot connect to {url}: {}", self.reason)
        } else {
            format!("request to {url} failed: {}", self.reason)
        }
    }
}

async fn send(client: &reqwest::Client, request: &Request) -> Result<Received, RequestError> {
    let started = Instant::now();
    let mut builder = client
        .request(request.method.clone(), request.url.clone())
        .headers(request.headers.clone());
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let mut response = builder.send().await.map_err(|e| request_error(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let tls = response
        .extensions()
        .get::<reqwest::tls::TlsInfo>()
        .map(tls_facts);
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await.map_err(|e| request_error(&e))? {
        let room = BODY_CAP - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received {
        status,
        headers,
        body,
        truncated,
        latency: started.elapsed(),
        tls,
    })
}

fn tls_facts(info: &reqwest::tls::TlsInfo) -> Value {
    let mut facts = match info.peer_certificate().map(tls::certificate_facts) {
        Some(Ok(facts)) => facts.to_json(jiff::Timestamp::now()),
        _ => json!({}),
    };
    let version = info.version().and_then(|v| match v {
        v if v == reqwest::tls::Version::TLS_1_3 => Some("TLSv1.3"),
        v if v == reqwest::tls::Version::TLS_1_2 => Some("TLSv1.2"),
        _ => None,
    });
    if let Some(version) = version {
        facts["version"] = json!(version);
    }
    facts
}

async fn single(probe: &HttpProbe, client: &reqwest::Client, request: &Request) -> Outcome {
    let received = match send(client, request).await {
        Ok(received) => received,
        Err(e) => return Outcome::error(e.summary(&super::redact::url(&probe.url))),
    };
    let mut detail = base_detail(probe, request);
    add_response_detail(&mut detail, &received);
    let expected = expected_status(probe);
    if !expected.matches(received.status.as_u16()) {
        let summary = format!("status {}, expected {expected}", received.status.as_u16());
        return Outcome::fail(summary, detail);
    }
    if let Some(expect) = &probe.expect
        && let Some((verdict, problem)) =
            expect_problem(expect, "response", &response_value(&received))
    {
        return Outcome::new(verdict, problem, detail);
    }
    let summary = format!(
        "{} in {} ms",
        status_line(received.status),
        received.latency.as_millis()
    );
    Outcome::pass(summary, detail)
}

async fn sampled(probe: &HttpProbe, client: &reqwest::Client, request: &Request) -> Outcome {
    let count = probe.samples as usize;
    let results: Vec<Result<Received, RequestError>> = futures::stream::iter(0..count)
        .map(|_| send(client, request))
        .buffered(SAMPLE_CONCURRENCY)
        .collect()
        .await;
    let expected = expected_status(probe);
    let stats = SampleStats::from_results(&results, &expected);
    let responses: Vec<&Received> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    let matching = responses
        .iter()
        .find(|r| expected.matches(r.status.as_u16()));
    let Some(shown) = matching.or(responses.first()).copied() else {
        let reason = results.iter().find_map(|r| r.as_ref().err());
        let summary = match reason {
            Some(e) => e.summary(&super::redact::url(&probe.url)),
            None => format!("no request to {} was made", super::redact::url(&probe.url)),
        };
        return Outcome::error(format!("{summary} (all {count} requests failed)"));
    };

    let mut detail = base_detail(probe, request);
    add_response_detail(&mut detail, shown);
    detail["samples"] = stats.to_json();
    let mut response = response_value(shown);
    stats.add_to(&mut response);

    let expect_judges_errors = probe
        .expect
        .as_ref()
        .is_some_and(|e| e.source.contains("error_rate"));
    let mut problems = Vec::new();
    if stats.failed > 0 && !expect_judges_errors {
        problems.push(stats.failure_text());
    }
    if let Some(expect) = &probe.expect
        && let Some((verdict, problem)) = expect_problem(expect, "response", &response)
    {
        if verdict == Verdict::Error {
            return Outcome::new(verdict, problem, detail);
        }
        problems.push(problem);
    }
    if problems.is_empty() {
        Outcome::pass(stats.summary(), detail)
    } else {
        Outcome::fail(
            format!("{}; {}", problems.join("; "), stats.summary()),
            detail,
        )
    }
}

/// Latency percentiles and failures over a run of samples.
struct SampleStats {
    requests: usize,
    failed: usize,
    /// Why requests failed, with how many failed that way.
    failures: BTreeMap<String, usize>,
    p50_ms: u64,
    p95_ms: u64,
    p99_ms: u64,
}

impl SampleStats {
    fn from_results(results: &[Result<Received, RequestError>], expected: &StatusMatch) -> Self {
        let mut failures: BTreeMap<String, usize> = BTreeMap::new();
        let mut latencies = Vec::new();
        for result in results {
            match result {
                Ok(received) => {
                    latencies.push(received.latency.as_millis() as u64);
                    let status = received.status.as_u16();
                    if !expected.matches(status) {
                        *failures
                            .entry(format!("status {status}, expected {expected}"))
                            .or_default() += 1;
                    }
                }
                Err(e) => *failures.entry(e.reason.clone()).or_default() += 1,
            }
        }
        latencies.sort_unstable();
        SampleStats {
            requests: results.len(),
            failed: failures.values().sum(),
            failures,
            p50_ms: nearest_rank(&latencies, 50),
            p95_ms: nearest_rank(&latencies, 95),
            p99_ms: nearest_rank(&latencies, 99),
        }
    }

    fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            return 0.0;
        }
        self.failed as f64 / self.requests as f64
    }

    fn summary(&self) -> String {
        format!(
            "p50 {} ms, p95 {} ms, p99 {} ms, {:.1}% errors over {} requests",
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.error_rate() * 100.0,
            self.requests
        )
    }

    fn failure_text(&self) -> String {
        let reasons: Vec<String> = self
            .failures
            .iter()
            .map(|(reason, n)| format!("{n} × {reason}"))
            .collect();
        format!(
            "{} of {} requests failed ({})",
            self.failed,
            self.requests,
            reasons.join("; ")
        )
    }

    fn add_to(&self, response: &mut Value) {
        response["p50_ms"] = json!(self.p50_ms);
        response["p95_ms"] = json!(self.p95_ms);
        response["p99_ms"] = json!(self.p99_ms);
        response["error_rate"] = json!(self.error_rate());
        response["samples"] = json!(self.requests);
    }

    fn to_json(&self) -> Value {
        let mut value = json!({
            "requests": self.requests,
            "failed": self.failed,
            "failures": self.failures,
        });
        self.add_to(&mut value);
        // `requests` already says it; `samples` is only for CEL's benefit.
        if let Some(map) = value.as_object_mut() {
            map.remove("samples");
        }
        value
    }
}

/// The nearest-rank percentile of sorted values (0 when there are none).
fn nearest_rank(sorted: &[u64], percentile: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percentile * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

fn expected_status(probe: &HttpProbe) -> StatusMatch {
    probe.status.clone().unwrap_or(StatusMatch::Class(2))
}

fn status_line(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

/// Response headers by lower-cased name, repeated ones joined with ", ".
fn merged_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut merged: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        merged
            .entry(name.as_str().to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    merged
}

/// What CEL sees as `response`: raw text, nothing redacted.
fn response_value(received: &Received) -> Value {
    let body = String::from_utf8_lossy(&received.body);
    let mut value = json!({
        "status": received.status.as_u16(),
        "headers": merged_headers(&received.headers),
        "body": body,
        "latency_ms": received.latency.as_millis() as u64,
    });
    // A cut body would parse wrongly or not at all: only a whole one counts.
    if !received.truncated
        && let Ok(parsed) = serde_json::from_slice::<Value>(&received.body)
    {
        value["json"] = parsed;
    }
    if let Some(tls) = &received.tls {
        value["tls"] = tls.clone();
    }
    value
}

fn base_detail(probe: &HttpProbe, request: &Request) -> Value {
    let mut detail = json!({
        "url": super::redact::url(&probe.url),
        "method": request.method.as_str(),
        "request_headers": request.headers_for_evidence(probe),
    });
    if let Some(expected) = &probe.status {
        detail["expected_status"] = json!(expected.to_string());
    }
    if let Some(expect) = &probe.expect {
        detail["expect"] = json!(expect.source);
    }
    detail
}

/// The response as evidence shows it: sanitized, secrets redacted.
fn add_response_detail(detail: &mut Value, received: &Received) {
    let headers: BTreeMap<String, String> = merged_headers(&received.headers)
        .into_iter()
        .map(|(name, value)| {
            let shown = if SECRET_HEADERS.contains(&name.as_str()) {
                REDACTED.to_string()
            } else {
                truncate(&sanitize(&value, false), 512)
            };
            (sanitize(&name, false), shown)
        })
        .collect();
    let excerpt = &received.body[..received.body.len().min(EXCERPT_BYTES)];
    detail["status"] = json!(received.status.as_u16());
    detail["status_text"] = json!(status_line(received.status));
    detail["headers"] = json!(headers);
    detail["body_excerpt"] = json!(sanitize(&String::from_utf8_lossy(excerpt), true));
    detail["body_bytes"] = json!(received.body.len());
    detail["body_truncated"] = json!(received.truncated);
    detail["latency_ms"] = json!(received.latency.as_millis() as u64);
    if let Some(tls) = &received.tls {
        detail["tls"] = tls.clone();
    }
}

/// Evaluates `expect` with `value` bound to `var`; `None` when it holds,
/// else the verdict and what a reviewer should read: `fail` when it is
/// false, `error` when it cannot be evaluated on this response (a field
/// that is not there, a type that does not fit), since that is the
/// checklist's mistake, not the service's.
pub(crate) fn expect_problem(
    expect: &Expect,
    var: &str,
    value: &Value,
) -> Option<(Verdict, String)> {
    let shown = truncate(&expect.source, 160);
    let value = Doc::from_value(value);
    let vars = [(var, value.root())];
    match cel::evaluate(expect, &vars) {
        Ok(true) => None,
        Ok(false) => Some((
            Verdict::Fail,
            super::explain::why_false(expect, &vars, false)
                .unwrap_or_else(|| format!("expect `{shown}` is false")),
        )),
        Err(EvalError::MissingField(field)) => Some((
            Verdict::Error,
            format!("expect `{shown}` reads {field}, which is not there"),
        )),
        Err(e) => Some((
            Verdict::Error,
            format!("expect `{shown}` could not be evaluated: {e}"),
        )),
    }
}

fn request_error(e: &reqwest::Error) -> RequestError {
    RequestError {
        connect: e.is_connect(),
        reason: describe_error(e),
    }
}

/// The root cause of a reqwest error in plain words. reqwest's own message
/// carries the URL, which may hold an expanded secret, so it is not used.
fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    if e.is_redirect() {
        return format!("too many redirects (more than {MAX_REDIRECTS})");
    }
    let mut reason = None;
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return tls::describe_io_error(io);
        }
        if let Some(t) = cause.downcast_ref::<rustls::Error>() {
            return tls::describe_tls_error(t);
        }
        reason = Some(cause.to_string());
        source = cause.source();
    }
    reason.unwrap_or_else(|| {
        if e.is_builder() {
            "invalid client settings".into()
        } else if e.is_body() || e.is_decode() {
            "the response body could not be read".into()
        } else {
            "the request failed".into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!(nearest_rank(&values, 50), 10);
        assert_eq!(nearest_rank(&values, 95), 19);
        assert_eq!(nearest_rank(&values, 99), 20);
        assert_eq!(nearest_rank(&[7], 99), 7);
        assert_eq!(nearest_rank(&[], 50), 0);
    }

    #[test]
    fn repeated_headers_are_joined() {
        let mut headers = HeaderMap::new();
        headers.append("Vary", HeaderValue::from_static("accept"));
        headers.append("vary", HeaderValue::from_static("origin"));
        assert_eq!(merged_headers(&headers)["vary"], "accept, origin");
    }
}
