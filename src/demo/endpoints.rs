//! The demo's HTTPS endpoints on 127.0.0.1: a small CA made at start, an API
//! and a storefront with healthy certificates (the storefront without HSTS),
//! a payments gateway whose certificate expires in five days, and a status
//! page where nothing listens.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A demo CA and the server configurations it signs.
pub struct Pki {
    pub ca_file: PathBuf,
    /// The API and storefront: valid for 90 days.
    healthy: Arc<ServerConfig>,
    /// The payments gateway: expires in five days.
    expiring: Arc<ServerConfig>,
}

impl Pki {
    pub fn new(root: &Path) -> Result<Pki, String> {
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
pub struct Endpoints {
    pub api: u16,
    pub storefront: u16,
    pub payments: u16,
    /// Nothing listens here: the status page probe errors.
    pub status: u16,
}

#[derive(Clone, Copy)]
enum Site {
    Api,
    Storefront,
    Payments,
}

impl Endpoints {
    pub fn start(pki: &Pki) -> Result<Endpoints, String> {
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
