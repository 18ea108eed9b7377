//! `tls` probes: a handshake with `host:port` that records the peer's
//! certificate chain without judging it, then judges chain, name and expiry
//! separately, so a bad certificate is reported with its facts, not just refused.
//!
//! Trust is the system store (read once per process through
//! `rustls-native-certs`, as reqwest's platform verifier does on Linux) plus
//! the probe's `ca_file`. The certificate helpers here are shared with the
//! `http` probe.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use super::Outcome;
use crate::checklist::model::*;
use crate::text::sanitize;

pub async fn run(probe: &TlsProbe, base_dir: &Path) -> Outcome {
    crate::install_crypto_provider();
    let endpoint = endpoint(&probe.host, probe.port);
    let name = probe.server_name.as_deref().unwrap_or(&probe.host);
    let Ok(server_name) = ServerName::try_from(name.to_string()) else {
        return Outcome::error(format!("{name} is not a valid TLS server name"));
    };
    let roots = match trusted_roots(probe.ca_file.as_deref(), base_dir).await {
        Ok(roots) => roots,
        Err(message) => return Outcome::error(message),
    };
    let provider = crypto_provider();
    let recorder = Arc::new(ChainRecorder::new(
        provider.signature_verification_algorithms,
    ));
    let config = match client_config(provider.clone(), recorder.clone()) {
        Ok(config) => config,
        Err(e) => return Outcome::error(format!("cannot set up TLS: {}", describe_tls_error(&e))),
    };

    let tcp = match TcpStream::connect((probe.host.as_str(), probe.port)).await {
        Ok(tcp) => tcp,
        Err(e) => {
            return Outcome::error(format!(
                "cannot connect to {endpoint}: {}",
                describe_io_error(&e)
            ));
        }
    };
    let stream = match TlsConnector::from(Arc::new(config))
        .connect(server_name.clone(), tcp)
        .await
    {
        Ok(stream) => stream,
        Err(e) => {
            return Outcome::error(format!(
                "TLS handshake with {endpoint} failed: {}",
                describe_io_error(&e)
            ));
        }
    };
    let version = stream.get_ref().1.protocol_version().map(version_name);
    // Closing without close_notify is fine: we only wanted the handshake.
    drop(stream);

    let chain = recorder.take();
    let Some(leaf) = chain.first() else {
        return Outcome::error(format!("{endpoint} sent no certificate"));
    };
    let facts = match certificate_facts(leaf) {
        Ok(facts) => facts,
        Err(e) => return Outcome::error(format!("cannot read the certificate of {endpoint}: {e}")),
    };
    let (chain_check, name_check) = verify(&chain, &server_name, &roots, &provider);
    let report = Report {
        probe,
        name,
        version,
        facts,
        chain: &chain,
        chain_check,
        name_ok: name_check.is_ok(),
        now: jiff::Timestamp::now(),
    };
    report.outcome()
}

/// `host:port`, with IPv6 literals bracketed.
fn endpoint(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()))
}

fn client_config(
    provider: Arc<CryptoProvider>,
    recorder: Arc<ChainRecorder>,
) -> Result<ClientConfig, rustls::Error> {
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(recorder)
        .with_no_client_auth())
}

fn version_name(version: rustls::ProtocolVersion) -> String {
    match version {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        other => format!("{other:?}"),
    }
}

/// System roots plus the probe's `ca_file`.
async fn trusted_roots(
    ca_file: Option<&Path>,
    base_dir: &Path,
) -> Result<Arc<RootCertStore>, String> {
    let extra = match ca_file {
        Some(path) => read_ca_file(base_dir, path).await?,
        None => Vec::new(),
    };
    roots_with(&extra).map_err(|e| {
        format!(
            "ca_file {} holds a certificate that cannot be a root: {}",
            ca_file.unwrap_or(Path::new("")).display(),
            describe_tls_error(&e)
        )
    })
}

/// What tells one set of extra roots from another, for the caches that
/// are built once per set.
pub(crate) fn roots_key(extra: &[CertificateDer<'static>]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for der in extra {
        digest.update(der.as_ref());
    }
    digest.finalize().to_vec()
}

/// The system's roots plus `extra`, built once per distinct `extra`:
/// parsing the system's roots costs milliseconds, and a review may check a
/// thousand endpoints, every minute.
pub(crate) fn roots_with(
    extra: &[CertificateDer<'static>],
) -> Result<Arc<RootCertStore>, rustls::Error> {
    /// By `roots_key(extra)`.
    type Stores = std::collections::HashMap<Vec<u8>, Arc<RootCertStore>>;
    static STORES: OnceLock<Mutex<Stores>> = OnceLock::new();
    let key = roots_key(extra);
    let mut stores = STORES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(found) = stores.get(&key) {
        return Ok(Arc::clone(found));
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(system_roots().iter().cloned());
    for cert in extra {
        roots.add(cert.clone())?;
    }
    let roots = Arc::new(roots);
    stores.insert(key, Arc::clone(&roots));
    Ok(roots)
}

/// The platform's trusted roots. Read once: the store rarely changes and a
/// dashboard re-runs probes every minute.
pub(crate) fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for error in &found.errors {
            tracing::debug!("skipping a system root certificate: {error}");
        }
        found.certs
    })
}

/// Reads a PEM bundle named by a probe's `ca_file`, relative to `base_dir`.
pub(crate) async fn read_ca_file(
    base_dir: &Path,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let full = base_dir.join(path);
    let pem = tokio::fs::read(&full).await.map_err(|e| {
        let reason = match e.kind() {
            io::ErrorKind::NotFound => "no such file".to_string(),
            io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        format!("cannot read ca_file {}: {reason}", full.display())
    })?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| format!("ca_file {} is not valid PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "ca_file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(certs)
}

/// Checks the chain against `roots` and the leaf against `name`, separately,
/// so each can be reported on its own.
fn verify(
    chain: &[CertificateDer<'static>],
    name: &ServerName<'_>,
    roots: &RootCertStore,
    provider: &CryptoProvider,
) -> (Result<(), rustls::Error>, Result<(), rustls::Error>) {
    let Some((leaf, intermediates)) = chain.split_first() else {
        let missing = || rustls::Error::NoCertificatesPresented;
        return (Err(missing()), Err(missing()));
    };
    let parsed = match ParsedCertificate::try_from(leaf) {
        Ok(parsed) => parsed,
        Err(e) => return (Err(e.clone()), Err(e)),
    };
    let chain_check = rustls::client::verify_server_cert_signed_by_trust_anchor(
        &parsed,
        roots,
        intermediates,
        UnixTime::now(),
        provider.signature_verification_algorithms.all,
    );
    let name_check = rustls::client::verify_server_name(&parsed, name);
    (chain_check, name_check)
}

/// Accepts any certificate during the handshake but keeps the chain, so the
/// probe can judge it afterwards and still report its facts when it is bad.
/// Handshake signatures are still checked: the peer must hold the key.
#[derive(Debug)]
struct ChainRecorder {
    any: AnyCertificate,
    chain: Mutex<Vec<CertificateDer<'static>>>,
}

impl ChainRecorder {
    fn new(algorithms: WebPkiSupportedAlgorithms) -> Self {
        ChainRecorder {
            any: AnyCertificate(algorithms),
            chain: Mutex::new(Vec::new()),
        }
    }

    fn take(&self) -> Vec<CertificateDer<'static>> {
        std::mem::take(&mut *self.chain.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl ServerCertVerifier for ChainRecorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        *self.chain.lock().unwrap_or_else(PoisonError::into_inner) = chain;
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.any.supported_verify_schemes()
    }
}

/// Accepts any certificate but still checks the handshake's signatures, so
/// the peer must hold the key it presented: the TLS probe judges the chain
/// itself afterwards, and an http probe with `insecure = true` does not.
#[derive(Debug)]
pub(crate) struct AnyCertificate(pub(crate) WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// Everything the probe learned, and the judgement built from it.
struct Report<'a> {
    probe: &'a TlsProbe,
    name: &'a str,
    version: Option<String>,
    facts: CertificateFacts,
    chain: &'a [CertificateDer<'static>],
    chain_check: Result<(), rustls::Error>,
    name_ok: bool,
    now: jiff::Timestamp,
}

impl Report<'_> {
    fn outcome(&self) -> Outcome {
        let days_left = self.facts.days_left(self.now);
        let mut tls = self.facts.to_json(self.now);
        tls["version"] = json!(self.version);
        tls["hostname_matches"] = json!(self.name_ok);
        tls["chain_verified"] = json!(self.chain_check.is_ok());
        if let Err(e) = &self.chain_check {
            tls["chain_error"] = json!(describe_certificate_problem(e));
        }

        let mut problems = Vec::new();
        if let Err(e) = &self.chain_check {
            // An expired leaf is reported once, by the expiry check below.
            if !(is_expiry(e) && days_left < 0) {
                problems.push(format!(
                    "certificate chain is not verified: {}",
                    describe_certificate_problem(e)
                ));
            }
        }
        if !self.name_ok {
            problems.push(self.name_mismatch());
        }
        if days_left < self.probe.min_days {
            problems.push(self.expiry_problem(days_left));
        }
        let detail = self.detail(&tls);
        if let Some(expect) = &self.probe.expect
            && let Some((verdict, problem)) = super::http::expect_problem(expect, "tls", &tls)
        {
            if verdict == super::Verdict::Error {
                return Outcome::new(verdict, problem, detail);
            }
            problems.push(problem);
        }

        if problems.is_empty() {
            let summary = format!(
                "certificate valid for {days_left} more days (until {}), issued by {}{}",
                self.facts.not_after.strftime("%Y-%m-%d"),
                self.facts.issuer,
                self.version
                    .as_deref()
                    .map(|v| format!(", {v}"))
                    .unwrap_or_default()
            );
            Outcome::pass(summary, detail)
        } else {
            Outcome::fail(problems.join("; "), detail)
        }
    }

    fn name_mismatch(&self) -> String {
        if self.facts.sans.is_empty() {
            format!(
                "name {} does not match the certificate, which names no hosts",
                self.name
            )
        } else {
            format!(
                "name {} does not match certificate names {}",
                self.name,
                self.facts.sans.join(", ")
            )
        }
    }

    fn expiry_problem(&self, days_left: i64) -> String {
        let min_days = self.probe.min_days;
        let plural = |n: i64| if n == 1 { "" } else { "s" };
        if days_left < 0 {
            // Whole days since expiry, not the (floored) days left negated.
            let ago = (self.now.as_second() - self.facts.not_after.as_second()).div_euclid(86_400);
            let date = self.facts.not_after.strftime("%Y-%m-%d");
            return match ago {
                0 => format!("certificate expired today (on {date})"),
                n => format!("certificate expired {n} day{} ago (on {date})", plural(n)),
            };
        }
        match days_left {
            0 => format!("certificate expires today (minimum {min_days})"),
            n => format!(
                "certificate expires in {n} day{} (minimum {min_days})",
                plural(n)
            ),
        }
    }

    fn detail(&self, tls: &Value) -> Value {
        let mut detail = tls.clone();
        detail["host"] = json!(self.probe.host);
        detail["port"] = json!(self.probe.port);
        detail["server_name"] = json!(self.name);
        detail["min_days"] = json!(self.probe.min_days);
        let chain: Vec<Value> = self
            .chain
            .iter()
            .map(|der| match certificate_facts(der) {
                Ok(facts) => json!({
                    "subject": facts.subject,
                    "issuer": facts.issuer,
                    "not_after": facts.not_after.to_string(),
                }),
                Err(e) => json!({ "error": e }),
            })
            .collect();
        detail["chain"] = json!(chain);
        if let Some(expect) = &self.probe.expect {
            detail["expect"] = json!(expect.source);
        }
        detail
    }
}

fn is_expiry(e: &rustls::Error) -> bool {
    matches!(
        e,
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        )
    )
}

/// The facts about one certificate that probes show and CEL sees. Every
/// string has been sanitized: it comes from the peer.
#[derive(Debug, Clone)]
pub(crate) struct CertificateFacts {
    pub subject: String,
    pub issuer: String,
    pub not_before: jiff::Timestamp,
    pub not_after: jiff::Timestamp,
    /// DNS names and IP addresses from subjectAltName.
    pub sans: Vec<String>,
}

impl CertificateFacts {
    /// Whole days until `not_after`, rounded down (negative once expired).
    pub fn days_left(&self, now: jiff::Timestamp) -> i64 {
        (self.not_after.as_second() - now.as_second()).div_euclid(86_400)
    }

    pub fn to_json(&self, now: jiff::Timestamp) -> Value {
        json!({
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before.to_string(),
            "not_after": self.not_after.to_string(),
            "days_left": self.days_left(now),
            "sans": self.sans,
        })
    }
}

/// Parses a DER certificate into the facts a reviewer cares about.
pub(crate) fn certificate_facts(der: &[u8]) -> Result<CertificateFacts, String> {
    use x509_parser::extensions::GeneralName;

    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| format!("not a valid X.509 certificate ({e})"))?;
    let timestamp = |t: &x509_parser::time::ASN1Time| {
        jiff::Timestamp::from_second(t.timestamp())
            .map_err(|_| "certificate date is out of range".to_string())
    };
    let validity = cert.validity();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push(sanitize(dns, false)),
                GeneralName::IPAddress(bytes) => {
                    if let Some(ip) = ip_from_bytes(bytes) {
                        sans.push(ip.to_string());
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CertificateFacts {
        subject: sanitize(&cert.subject().to_string(), false),
        issuer: sanitize(&cert.issuer().to_string(), false),
        not_before: timestamp(&validity.not_before)?,
        not_after: timestamp(&validity.not_after)?,
        sans,
    })
}

fn ip_from_bytes(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// Why a certificate was not accepted, in a reviewer's words.
fn describe_certificate_problem(e: &rustls::Error) -> String {
    let rustls::Error::InvalidCertificate(problem) = e else {
        return describe_tls_error(e);
    };
    let text = match problem {
        CertificateError::UnknownIssuer => "unknown issuer",
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => "expired",
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "not valid yet"
        }
        CertificateError::BadSignature => "bad signature",
        CertificateError::Revoked => "revoked",
        CertificateError::BadEncoding => "malformed certificate",
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "not valid for this name"
        }
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            "not meant for TLS servers"
        }
        CertificateError::UnsupportedSignatureAlgorithmContext { .. }
        | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "unsupported signature algorithm"
        }
        CertificateError::UnhandledCriticalExtension => "unhandled critical extension",
        CertificateError::Other(other) => {
            let said = other.to_string();
            return if said.contains("CaUsedAsEndEntity") {
                "the server presents a CA certificate as its own (a self-signed test certificate?)"
                    .into()
            } else {
                words(&said)
            };
        }
        other => return words(&format!("{other:?}")),
    };
    text.to_string()
}

/// A type's name as words: `CaUsedAsEndEntity(x)` is "ca used as end
/// entity", for the rare error gonogo has no sentence for.
fn words(debug: &str) -> String {
    let name: String = debug
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    if out.is_empty() {
        debug.to_string()
    } else {
        out
    }
}

/// A rustls error as a reviewer would say it.
pub(crate) fn describe_tls_error(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InvalidCertificate(problem) => match problem {
            CertificateError::UnknownIssuer => "certificate is signed by an unknown issuer".into(),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "certificate has expired".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "certificate is not valid for this name".into()
            }
            _ => format!("invalid certificate: {}", describe_certificate_problem(e)),
        },
        rustls::Error::AlertReceived(rustls::AlertDescription::ProtocolVersion) => {
            "the server refused the handshake: it speaks no TLS version gonogo accepts (1.2 or 1.3)"
                .into()
        }
        rustls::Error::AlertReceived(alert) => {
            format!(
                "the server refused the handshake ({})",
                words(&format!("{alert:?}"))
            )
        }
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".into(),
        rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType) => {
            "the server does not speak TLS on this port".into()
        }
        other => other.to_string(),
    }
}

/// An I/O error from connecting or handshaking, with a TLS cause unwrapped.
pub(crate) fn describe_io_error(e: &io::Error) -> String {
    // Connectors wrap errors in io::Error, sometimes twice; `source()` skips
    // the wrapped error itself, so unwrap by hand.
    if let Some(inner) = e.get_ref() {
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return describe_tls_error(tls);
        }
        if let Some(io) = inner.downcast_ref::<io::Error>() {
            return describe_io_error(io);
        }
    }
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".into(),
        io::ErrorKind::ConnectionReset => "connection reset by the server".into(),
        io::ErrorKind::TimedOut => "timed out".into(),
        io::ErrorKind::UnexpectedEof => "the server closed the connection".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_expiring_at(not_after: jiff::Timestamp) -> CertificateFacts {
        CertificateFacts {
            subject: "CN=a".into(),
            issuer: "CN=b".into(),
            not_before: jiff::Timestamp::UNIX_EPOCH,
            not_after,
            sans: vec![],
        }
    }

    #[test]
    fn days_left_rounds_down_on_both_sides_of_expiry() {
        let now = jiff::Timestamp::from_second(1_800_000_000).expect("in range");
        let at = |secs: i64| facts_expiring_at(now + jiff::SignedDuration::from_secs(secs));
        assert_eq!(at(86_400 * 5 + 3_600).days_left(now), 5);
        assert_eq!(at(86_399).days_left(now), 0);
        assert_eq!(at(-1).days_left(now), -1);
        assert_eq!(at(-86_400).days_left(now), -1);
        assert_eq!(at(-86_401).days_left(now), -2);
    }

    #[test]
    fn ipv6_endpoints_are_bracketed() {
        assert_eq!(endpoint("::1", 443), "[::1]:443");
        assert_eq!(endpoint("example.test", 8443), "example.test:8443");
    }
}
