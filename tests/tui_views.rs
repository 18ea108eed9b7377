//! Snapshot tests of every screen of the dashboard, drawn by the headless
//! driver into a test backend at 80x24 (the smallest terminal we promise to
//! work in) and 160x48, in the default colour theme and in `mono`.
//!
//! The review is fixed: the demo checklist in a config written to a temp
//! folder, a sign-off log with hand-written lines at fixed times, probe
//! outcomes fed as actions (no network), a frozen clock and a named
//! operator. Paths show relative to the review's folder, as the dashboard
//! shows them to a user, so nothing on screen depends on where the temp
//! folder is.
//!
//! Each snapshot holds the screen's text, then the styled runs of every
//! row named by theme meaning (`fail`, `danger`, `selection+accent` ...),
//! so a change of colour or emphasis shows up in review as clearly as a
//! change of text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crossterm::event::KeyCode;
use gonogo::probe::{Outcome, Verdict};
use gonogo::review::Status;
use gonogo::tui::app::Action;
use gonogo::tui::headless::{Headless, buffer_text};
use gonogo::tui::theme::Theme;
use gonogo::workspace::{Options, Workspace};
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

const NARROW: (u16, u16) = (80, 24);
const WIDE: (u16, u16) = (160, 48);

/// 2026-11-23, the launch review's day, at `hh:mm:ss` UTC.
fn at(time: &str) -> jiff::Timestamp {
    format!("2026-11-23T{time}Z")
        .parse()
        .expect("a literal timestamp")
}

/// The review's frozen clock.
fn now() -> jiff::Timestamp {
    at("14:05:00")
}

// ---------------------------------------------------------------------------
// The workspace

/// The variables each environment gives the demo checklist. The endpoints
/// are never contacted: the tests feed the probes' outcomes.
fn env_block(name: &str, cluster: &str, min_replicas: u32) -> String {
    format!(
        r#"
[[environments]]
name = "{name}"
{cluster}
[environments.vars]
namespace = "shop-{name}"
min_replicas = {min_replicas}
api_url = "https://api.{name}.checkout.example"
api_port = 443
storefront_url = "https://shop.{name}.checkout.example"
payments_port = 8443
status_url = "https://status.checkout.example/"
ca_file = "/etc/ssl/checkout/company-ca.pem"
repo_dir = "/srv/checkout/deploy"
"#
    )
}

fn config_text() -> String {
    let mut text = String::from(
        "builtin = false\n\
         checklists = [\"checklists/*.toml\"]\n\
         state_dir = \"reviews\"\n\
         export_dir = \"signoffs\"\n\
         operator = \"alice\"\n",
    );
    text.push_str(&env_block("dev", "kube_context = \"checkout-dev\"", 2));
    text.push_str(&env_block(
        "staging",
        "kube_context = \"checkout-staging\"",
        2,
    ));
    // prod is reviewed from rendered manifests: its header names the file.
    text.push_str(&env_block("prod", "snapshot = \"rendered/prod.yaml\"", 3));
    text
}

/// One line of the sign-off log in its canonical field order; the hash is
/// spliced in after serializing, as the ledger does.
#[derive(Serialize)]
struct LogLine<'a> {
    seq: u64,
    at: jiff::Timestamp,
    by: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<&'a str>,
    prev: String,
}

/// (time, operator, kind, item, text or reason, until)
type Seed<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
);

/// The dev review's log: a drill ticked with its evidence, an on-call rota
/// discussed in two notes and then waived, and a waived memory limit.
const DEV_LOG: &[Seed] = &[
    (
        "09:12:00",
        "bob",
        "note",
        "rollback-drill",
        Some(
            "Rolled dev back from 2.3.1 to 2.2.4 in 4 min 10 s.\nRecording: https://wiki.example/drills/checkout-2026-11",
        ),
        None,
    ),
    ("09:12:00", "bob", "tick", "rollback-drill", None, None),
    (
        "10:02:30",
        "carol",
        "note",
        "on-call",
        Some("Rota for launch week: https://oncall.example/rota/checkout"),
        None,
    ),
    (
        "10:31:05",
        "alice",
        "note",
        "on-call",
        Some("The second shift still lacks a person with tested prod access.\nTicket: OPS-4411"),
        None,
    ),
    (
        "11:00:00",
        "dave",
        "waive",
        "on-call",
        Some("Platform on-call covers launch week; accepted by the head of SRE."),
        Some("2026-12-04"),
    ),
    (
        "11:04:40",
        "bob",
        "waive",
        "memory-limits",
        Some("The worker's limit is set after the load test; dev only."),
        Some("2026-12-20"),
    ),
];

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes `seeds` as a hash-chained log at `path`.
fn write_log(path: &Path, seeds: &[Seed]) {
    let mut prev = String::new();
    let mut out = String::new();
    for (n, (time, by, kind, item, words, until)) in seeds.iter().enumerate() {
        let line = LogLine {
            seq: n as u64 + 1,
            at: at(time),
            by,
            kind,
            item: Some(item),
            text: words.filter(|_| *kind == "note"),
            reason: words.filter(|_| *kind == "waive"),
            until: *until,
            prev: prev.clone(),
        };
        let canonical = serde_json::to_string(&line).expect("a log line serializes");
        let hash = hex_sha256(canonical.as_bytes());
        let body = canonical.strip_suffix('}').expect("an object ends with }");
        out.push_str(&format!("{body},\"hash\":\"{hash}\"}}\n"));
        prev = hash;
    }
    std::fs::create_dir_all(path.parent().expect("a log has a folder")).expect("log folder");
    std::fs::write(path, out).expect("write the log");
    // Private, as gonogo makes its logs: one others can read is warned about.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

/// The review's folder: config, checklist and state. Kept alive by the test.
struct Review {
    dir: tempfile::TempDir,
    h: Headless,
}

impl Review {
    /// The dev review with every status on screen.
    fn dev(ascii: bool) -> Review {
        Review::dev_from(ascii, gonogo::tui::demo::CHECKLIST, &config_text())
    }

    /// The dev review, from this checklist and config.
    fn dev_from(ascii: bool, checklist: &str, config: &str) -> Review {
        Review::dev_with(ascii, checklist, config, &[])
    }

    /// The dev review read from a snapshot of its cluster instead of a
    /// context, so that the objects screens have objects to list.
    fn dev_on_snapshot(ascii: bool) -> Review {
        let config = config_text().replace(
            "kube_context = \"checkout-dev\"",
            "snapshot = \"cluster/dev.yaml\"",
        );
        Review::dev_with(
            ascii,
            gonogo::tui::demo::CHECKLIST,
            &config,
            &[("cluster/dev.yaml", DEV_CLUSTER)],
        )
    }

    /// The dev review, from this checklist and config, with `files` (path
    /// under the review's folder, text) written first.
    fn dev_with(ascii: bool, checklist: &str, config: &str, files: &[(&str, &str)]) -> Review {
        let dir = tempfile::tempdir().expect("a temp folder");
        let root = dir.path();
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().expect("a file has a folder"))
                .expect("the file's folder");
            std::fs::write(&path, text).expect("write the file");
        }
        std::fs::create_dir_all(root.join("checklists")).expect("checklists folder");
        std::fs::write(root.join("checklists/checkout.toml"), checklist)
            .expect("write the checklist");
        std::fs::write(root.join("gonogo.toml"), config).expect("write the config");
        let log = root.join("reviews/checkout-launch/dev.jsonl");
        write_log(&log, DEV_LOG);
        let verified =
            gonogo::ledger::DirStore::open(&root.join("reviews"), "checkout-launch", "dev")
                .and_then(|l| gonogo::ledger::Store::verify(&l))
                .expect("the seeded log reads");
        assert!(
            verified.problems.is_empty(),
            "the hand-written log must chain like the ledger's: {:?}",
            verified.problems
        );

        let options = Options {
            config: Some(root.join("gonogo.toml")),
            ..Options::default()
        };
        let ws = Workspace::load(&options).unwrap_or_else(|e| panic!("the workspace loads: {e}"));
        let mut h = Headless::with_look(ws, now(), ascii);
        assert!(
            h.app.toasts.is_empty(),
            "a clean start shows no message: {:?}",
            h.app.toasts
        );
        feed_dev(&mut h);
        Review { dir, h }
    }

    /// Moves the items cursor onto `id` through the keymap (`g g`, then `j`).
    fn select(&mut self, id: &str) {
        self.h.type_text("gg");
        for _ in 0..40 {
            if self.h.app.target().is_some_and(|i| i.id == id) {
                return;
            }
            self.h.press(KeyCode::Char('j'));
        }
        panic!("{id} is not in the list");
    }

    /// Opens the detail of `id`.
    fn open(&mut self, id: &str) {
        self.select(id);
        self.h.press(KeyCode::Enter);
        assert_eq!(self.h.app.context(), gonogo::tui::keymap::Context::Detail);
    }

    /// Scrolls the open detail down `lines` on the small screen: how far
    /// it may scroll depends on the size it was last drawn at.
    fn scroll(&mut self, lines: usize) {
        self.h.send(Action::Resize(NARROW.0, NARROW.1));
        for _ in 0..lines {
            self.h.press(KeyCode::Char('j'));
        }
    }

    fn tmp_root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
}

fn outcome(verdict: Verdict, summary: &str, detail: serde_json::Value, time: &str) -> Outcome {
    let mut o = Outcome::new(verdict, summary, detail);
    o.evidence.taken_at = at(time);
    o.evidence.duration = Duration::from_millis(41);
    o
}

fn healthz() -> serde_json::Value {
    json!({
        "url": "https://api.dev.checkout.example/healthz",
        "method": "GET",
        "request_headers": {},
        "expect": "response.json.status == 'ok'",
        "status": 200,
        "status_text": "200 OK",
        "headers": {
            "content-type": "application/json",
            "strict-transport-security": "max-age=31536000; includeSubDomains",
        },
        "body_excerpt": "{\"status\":\"ok\",\"version\":\"2.3.1\"}",
        "body_bytes": 33,
        "body_truncated": false,
        "latency_ms": 38,
    })
}

/// What the storefront answered: a page without HSTS.
fn storefront() -> serde_json::Value {
    json!({
        "url": "https://shop.dev.checkout.example/",
        "method": "GET",
        "request_headers": {"accept": "text/html"},
        "expect": "'strict-transport-security' in response.headers",
        "status": 200,
        "status_text": "200 OK",
        "headers": {
            "content-length": "63",
            "content-type": "text/html; charset=utf-8",
            "x-content-type-options": "nosniff",
        },
        "body_excerpt": "<!doctype html><title>Shop</title><h1>Welcome to the shop</h1>",
        "body_bytes": 63,
        "body_truncated": false,
        "latency_ms": 52,
        "tls": {"version": "TLSv1.3", "days_left": 89},
    })
}

/// The payments gateway's certificate, five days from expiry.
fn payments_cert() -> serde_json::Value {
    json!({
        "host": "127.0.0.1",
        "port": 8443,
        "server_name": "127.0.0.1",
        "min_days": 14,
        "subject": "CN=payments.demo",
        "issuer": "CN=gonogo demo CA",
        "not_before": "2026-11-22T00:00:00Z",
        "not_after": "2026-11-29T00:00:00Z",
        "days_left": 5,
        "sans": ["localhost", "127.0.0.1"],
        "version": "TLSv1.3",
        "hostname_matches": true,
        "chain_verified": true,
        "chain": [
            {"subject": "CN=payments.demo", "issuer": "CN=gonogo demo CA",
             "not_after": "2026-11-29T00:00:00Z"},
            {"subject": "CN=gonogo demo CA", "issuer": "CN=gonogo demo CA",
             "not_after": "2027-11-23T00:00:00Z"},
        ],
    })
}

/// Three deployments, two of them short of replicas.
fn deployments() -> serde_json::Value {
    json!({
        "resource": "apps/v1/Deployment",
        "source": "context checkout-dev",
        "namespace": "shop-dev",
        "selected": 3,
        "quantifier": "all",
        "expect": "object.spec.replicas >= 2",
        "objects": [
            {"namespace": "shop-dev", "name": "checkout-worker", "ok": false,
             "reason": "expect false"},
            {"namespace": "shop-dev", "name": "checkout-cron", "ok": false,
             "reason": "no field object.spec.replicas"},
            {"namespace": "shop-dev", "name": "checkout-api", "ok": true},
        ],
    })
}

/// What the planted Secret holds: none of it may ever be drawn or copied.
const PLANTED: &[&str] = &[
    // `data.DATABASE_URL` as stored (base64) and decoded.
    "cG9zdGdyZXM6Ly9jaGVja291dDpQTEFOVEVELXBhNTV3b3JkQGRiLnNob3AtZGV2LnN2Yzo1NDMyL2NoZWNrb3V0",
    "PLANTED-pa55word",
    // `data.API_TOKEN`, both ways, and `stringData.REPLICA_URL`.
    "UExBTlRFRC1hcGktdG9rZW4",
    "PLANTED-api-token",
    "PLANTED-string-data",
];

/// The dev cluster as rendered manifests: three deployments (one short of
/// replicas, one without a replica count) and the database Secret missing
/// its password, with values planted to look for.
const DEV_CLUSTER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout-api
  namespace: shop-dev
  labels: {app: checkout-api}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: api
          image: registry.example/checkout-api:2.3.1
          resources: {limits: {memory: 512Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout-worker
  namespace: shop-dev
  labels: {app: checkout-worker}
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: worker
          image: registry.example/checkout-worker:2.3.1
          resources: {requests: {cpu: 100m, memory: 512Mi}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout-cron
  namespace: shop-dev
  labels: {app: checkout-cron}
spec:
  template:
    spec:
      containers:
        - name: cron
          image: registry.example/checkout-cron:2.3.1
          resources: {limits: {memory: 128Mi}}
---
apiVersion: v1
kind: Secret
metadata:
  name: checkout-db
  namespace: shop-dev
  annotations: {owner: team-checkout}
type: Opaque
data:
  DATABASE_URL: cG9zdGdyZXM6Ly9jaGVja291dDpQTEFOVEVELXBhNTV3b3JkQGRiLnNob3AtZGV2LnN2Yzo1NDMyL2NoZWNrb3V0
  API_TOKEN: UExBTlRFRC1hcGktdG9rZW4=
stringData:
  REPLICA_URL: postgres://reader:PLANTED-string-data@replica/checkout
";

/// Every status on screen at once: pass, fail, error, pending, a running
/// probe (with and without an earlier result), done, waived and skipped.
fn feed_dev(h: &mut Headless) {
    let pass = Verdict::Pass;
    let fail = Verdict::Fail;
    h.probe_result(
        "api-health",
        outcome(pass, "200 OK in 38 ms", healthz(), "13:59:12"),
    );
    h.probe_result(
        "api-health",
        outcome(pass, "200 OK in 38 ms", healthz(), "14:04:12"),
    );
    h.probe_started("api-latency");
    h.probe_result(
        "storefront-hsts",
        outcome(
            fail,
            "expect `'strict-transport-security' in response.headers` is false",
            storefront(),
            "14:03:30",
        ),
    );
    h.probe_result(
        "status-page",
        outcome(pass, "200 OK in 120 ms", json!({"status": 200}), "13:34:50"),
    );
    h.probe_result(
        "status-page",
        outcome(
            Verdict::Error,
            "cannot connect to https://status.checkout.example/: connection refused",
            json!({}),
            "14:04:50",
        ),
    );
    h.probe_result(
        "api-cert",
        outcome(
            Verdict::Error,
            "TLS handshake with 127.0.0.1:443 failed: connection reset by peer",
            json!({}),
            "14:04:20",
        ),
    );
    h.probe_result(
        "payments-cert",
        outcome(
            fail,
            "certificate expires in 5 days (minimum 14)",
            payments_cert(),
            "14:04:21",
        ),
    );
    h.probe_result(
        "db-secret",
        outcome(
            fail,
            "v1/Secret shop-dev/checkout-db: no field object.data.DATABASE_PASSWORD (keys: DATABASE_URL)",
            json!({
                "resource": "v1/Secret",
                "source": "context checkout-dev",
                "selected": 1,
                "objects": [{"namespace": "shop-dev", "name": "checkout-db", "ok": false,
                             "reason": "no field object.data.DATABASE_PASSWORD",
                             "keys": ["DATABASE_URL"]}],
            }),
            "14:04:58",
        ),
    );
    h.probe_result(
        "replicas",
        outcome(
            fail,
            "2 of 3 apps/v1/Deployment fail: shop-dev/checkout-worker: expect false; shop-dev/checkout-cron: no field object.spec.replicas",
            deployments(),
            "14:04:58",
        ),
    );
    h.probe_result(
        "memory-limits",
        outcome(
            fail,
            "1 of 3 apps/v1/Deployment fail: shop-dev/checkout-worker: expect false",
            json!({}),
            "14:04:58",
        ),
    );
    h.probe_result(
        "pinned-images",
        outcome(
            pass,
            "no line matches image:.*:latest (3 files searched)",
            json!({"file_count": 3, "matches": 0}),
            "13:05:00",
        ),
    );
    h.probe_result(
        "runbook",
        outcome(
            pass,
            "1 line matches ^## Rollback (1 file searched)",
            json!({"file_count": 1, "matches": 1}),
            "12:05:00",
        ),
    );
    h.probe_started("runbook");
}

// ---------------------------------------------------------------------------
// Rendering and the style listing

fn themes() -> [Theme; 2] {
    [
        Theme::bundled("default").expect("the default theme"),
        Theme::bundled("mono").expect("the mono theme"),
    ]
}

/// The meanings of a theme, in the order they are tried when naming a style.
fn meanings(t: &Theme) -> [(&'static str, Style); 11] {
    [
        ("selection", t.selection),
        ("accent", t.accent),
        ("muted", t.muted),
        ("pass", t.pass),
        ("fail", t.fail),
        ("error", t.error),
        ("pending", t.pending),
        ("waived", t.waived),
        ("warning", t.warning),
        ("danger", t.danger),
        ("text", t.text),
    ]
}

/// A cell's look in the theme's words: the meaning whose background and
/// the meaning whose foreground it carries, then modifiers neither explains
/// (`selection+accent`, `danger+reversed`, `fail`). Colours no meaning uses
/// are named as such. A plain cell is `None`.
fn style_name(fg: Color, bg: Color, mods: Modifier, theme: &Theme) -> Option<String> {
    let meanings = meanings(theme);
    let mut parts: Vec<String> = Vec::new();
    let mut left = mods;
    if bg != Color::Reset {
        match meanings.iter().find(|(_, s)| s.bg == Some(bg)) {
            Some((name, s)) => {
                parts.push(name.to_string());
                left.remove(s.add_modifier);
            }
            None => parts.push(format!("bg:{bg:?}")),
        }
    }
    if fg != Color::Reset {
        // Meanings with this colour whose modifiers account for the cell's
        // own (those the background's meaning did not bring). Under the
        // selection's bold, `yellow` may be pending or warning: both are named.
        let fitting: Vec<&(&str, Style)> = meanings
            .iter()
            .filter(|(_, s)| s.fg == Some(fg))
            .filter(|(_, s)| mods.contains(s.add_modifier) && s.add_modifier.contains(left))
            .collect();
        if fitting.is_empty() {
            let nearest = meanings
                .iter()
                .filter(|(_, s)| s.fg == Some(fg) && mods.contains(s.add_modifier))
                .max_by_key(|(_, s)| s.add_modifier.bits().count_ones());
            match nearest {
                Some((name, s)) => {
                    parts.push(name.to_string());
                    left.remove(s.add_modifier);
                }
                None => parts.push(format!("fg:{fg:?}")),
            }
        } else {
            let names: Vec<&str> = fitting.iter().map(|(n, _)| *n).collect();
            parts.push(names.join("|"));
            left = Modifier::empty();
        }
    }
    for (name, _) in left.iter_names() {
        parts.push(name.to_lowercase());
    }
    (!parts.is_empty()).then(|| parts.join("+"))
}

/// Per row, the runs of cells that are not plain, with their columns, their
/// look and their text (trailing blanks trimmed; the columns say how far
/// the run really goes).
fn style_runs(buf: &Buffer, theme: &Theme) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut runs: Vec<String> = Vec::new();
        let mut x = area.left();
        while x < area.right() {
            let cell = &buf[(x, y)];
            let Some(name) = style_name(cell.fg, cell.bg, cell.modifier, theme) else {
                x += 1;
                continue;
            };
            let start = x;
            let mut text = String::new();
            while x < area.right() {
                let c = &buf[(x, y)];
                if style_name(c.fg, c.bg, c.modifier, theme).as_deref() != Some(name.as_str()) {
                    break;
                }
                text.push_str(c.symbol());
                x += 1;
            }
            let shown = text.trim_end();
            let shown = if shown.is_empty() {
                format!("{} blank", x - start)
            } else {
                format!("{shown:?}")
            };
            runs.push(format!("{start}-{} {name} {shown}", x - 1));
        }
        if !runs.is_empty() {
            out.push_str(&format!("{y:>2}: {}\n", runs.join("  ")));
        }
    }
    out
}

/// The snapshot text of one screen.
fn describe(buf: &Buffer, theme: &Theme) -> String {
    let (w, h) = (buf.area.width, buf.area.height);
    let mut text = format!("{w}x{h}, theme {}\n", theme.name);
    let rule = "-".repeat(w as usize);
    text.push_str(&rule);
    text.push('\n');
    text.push_str(&buffer_text(buf));
    text.push_str(&rule);
    text.push_str("\nstyled runs (row: first-last look \"text\")\n");
    text.push_str(&style_runs(buf, theme));
    text
}

/// One screen in the four variants, each snapshotted as `<view>_<w>x<h>_<theme>`.
struct Shots {
    narrow: Buffer,
    narrow_mono: Buffer,
    wide: Buffer,
    wide_mono: Buffer,
}

fn shoot(h: &mut Headless, view: &str) -> Shots {
    let [colour, mono] = themes();
    // A path the screen shows whole (the verify command) names the
    // review's temp folder: the snapshot names it `<root>`.
    let root = h.ws.config.base_dir.display().to_string();
    let mut take = |size: (u16, u16), theme: &Theme| {
        let buf = h.render(theme, size.0, size.1);
        let name = format!("{view}_{}x{}_{}", size.0, size.1, theme.name);
        insta::assert_snapshot!(name, describe(&buf, theme).replace(&root, "<root>"));
        buf
    };
    let narrow = take(NARROW, &colour);
    let narrow_mono = take(NARROW, &mono);
    let wide = take(WIDE, &colour);
    let wide_mono = take(WIDE, &mono);
    let shots = Shots {
        narrow,
        narrow_mono,
        wide,
        wide_mono,
    };
    for buf in shots.all() {
        essentials(buf);
    }
    shots
}

impl Shots {
    fn all(&self) -> [&Buffer; 4] {
        [&self.narrow, &self.narrow_mono, &self.wide, &self.wide_mono]
    }
}

// ---------------------------------------------------------------------------
// Plain assertions

fn row(buf: &Buffer, y: u16) -> String {
    let mut s = String::new();
    for x in 0..buf.area.width {
        s.push_str(buf[(x, y)].symbol());
    }
    s
}

fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height).map(|y| row(buf, y)).collect()
}

fn screen(buf: &Buffer) -> String {
    rows(buf).join("\n")
}

/// Where `needle` first appears: (column in cells, row).
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    for y in 0..buf.area.height {
        let cells: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        for x in 0..cells.len() {
            let mut s = String::new();
            for c in &cells[x..] {
                s.push_str(c);
                if s.len() >= needle.len() {
                    break;
                }
            }
            if s.starts_with(needle) {
                return Some((x as u16, y));
            }
        }
    }
    None
}

fn at_cell(buf: &Buffer, needle: &str) -> (u16, u16) {
    find(buf, needle).unwrap_or_else(|| panic!("{needle:?} is not on screen:\n{}", screen(buf)))
}

/// What every screen must keep, even at 80x24: the header with the
/// decision badge at the right edge, every environment tab, and a bottom
/// line (hints or an input line).
fn essentials(buf: &Buffer) {
    let w = buf.area.width;
    let header = row(buf, 0);
    let badge = ["NO-GO", "GO WITH CONDITIONS", " GO "]
        .into_iter()
        .find(|b| header.contains(b))
        .unwrap_or_else(|| panic!("no decision badge in the header: {header:?}"));
    let (x, _) = at_cell(buf, badge.trim());
    let end = x as usize + badge.trim().chars().count();
    assert!(
        end + 1 == w as usize,
        "the badge sits at the right edge: {header:?}"
    );
    let tabs = row(buf, 1);
    for env in ["1 dev", "2 staging", "3 prod"] {
        assert!(tabs.contains(env), "tab {env:?} is cut: {tabs:?}");
    }
    let bottom = row(buf, buf.area.height - 1);
    assert!(!bottom.trim().is_empty(), "the bottom line is empty");
}

/// The hint bar keeps the way back and the way to every other key, even
/// when the screen is too narrow for all hints.
fn hint_bar_shows_back_and_help(buf: &Buffer) {
    let bottom = row(buf, buf.area.height - 1);
    assert!(bottom.contains("Esc back"), "hint bar: {bottom:?}");
    assert!(bottom.contains("? help"), "hint bar: {bottom:?}");
}

fn fg_at(buf: &Buffer, pos: (u16, u16)) -> Color {
    buf[pos].fg
}

fn mods_at(buf: &Buffer, pos: (u16, u16)) -> Modifier {
    buf[pos].modifier
}

/// The row holding `needle` is marked by the selection glyph, not only by
/// reverse video (which a monochrome terminal or a screen reader may lose).
fn selected_by_glyph(buf: &Buffer, needle: &str, glyph: &str) {
    let (_, y) = at_cell(buf, needle);
    let line = row(buf, y);
    let before = line.split(needle).next().unwrap_or("");
    assert!(
        before.contains(glyph),
        "the selected row {line:?} has no {glyph:?} marker"
    );
    let reversed = (0..buf.area.width).any(|x| mods_at(buf, (x, y)).contains(Modifier::REVERSED));
    assert!(reversed, "mono shows the selection reversed too: {line:?}");
}

/// Exactly one row of the items pane starts with the selection glyph.
fn one_item_row_marked(buf: &Buffer, sections: usize, glyph: &str) {
    let items = gonogo::tui::views::layout(buf.area, sections, 0).items;
    let marked: Vec<u16> = (items.y + 1..items.bottom().saturating_sub(1))
        .filter(|y| buf[(items.x + 1, *y)].symbol() == glyph)
        .collect();
    assert_eq!(marked.len(), 1, "one selected item:\n{}", screen(buf));
}

// ---------------------------------------------------------------------------
// The views

#[test]
fn main_list_shows_every_status() {
    let mut r = Review::dev(false);
    r.select("storefront-hsts");
    let shots = shoot(&mut r.h, "list");
    let [colour, _] = themes();

    for buf in shots.all() {
        hint_bar_shows_back_and_help(buf);
        let text = screen(buf);
        assert!(text.contains("Sections"), "the sections pane is shown");
        assert!(text.contains("Items"), "the items pane is shown");
        assert!(
            text.contains("2 running"),
            "the header counts running probes"
        );
    }
    // Every status has its glyph somewhere on the wide screen, next to an
    // item of that status.
    let wide = screen(&shots.wide);
    for (item, glyph) in [
        ("Checkout API answers its health check", "✔"),
        ("Storefront sends Strict-Transport-Se", "✘"),
        ("Public status page is up", "!"),
        ("Customer support briefed", "…"),
        ("Rollback rehearsed in staging", "✔"),
        ("On-call rota covers launch week", "~"),
        ("A PodDisruptionBudget protects the A", "-"),
        ("Checkout API certificate valid", "!"),
    ] {
        let line = wide
            .lines()
            .find(|l| l.contains(item))
            .unwrap_or_else(|| panic!("{item} is not listed"));
        let before = line.split(item).next().unwrap_or("");
        assert!(before.contains(glyph), "{item}: no {glyph} in {line:?}");
    }
    // The running probes show the spinner in the age column.
    for item in ["Checkout API p95 latency", "The runbook has a rollback"] {
        let line = wide.lines().find(|l| l.contains(item)).expect("listed");
        assert!(
            line.trim_end()
                .trim_end_matches(['│', '┃'])
                .trim_end()
                .ends_with('⠋'),
            "{item} shows the spinner: {line:?}"
        );
    }
    // Colour carries meaning: the fail glyph in the fail colour, the prod
    // tab in danger, the badge in danger.
    let (x, y) = at_cell(&shots.wide, "Storefront sends");
    let glyph_x = (0..x)
        .rev()
        .find(|gx| shots.wide[(*gx, y)].symbol() == "✘")
        .expect("the fail glyph");
    assert_eq!(fg_at(&shots.wide, (glyph_x, y)), colour.fail.fg.unwrap());
    let prod = at_cell(&shots.narrow, "3 prod");
    assert_eq!(fg_at(&shots.narrow, prod), colour.danger.fg.unwrap());
    let badge = at_cell(&shots.narrow, "NO-GO");
    assert_eq!(fg_at(&shots.narrow, badge), colour.danger.fg.unwrap());
    assert!(mods_at(&shots.narrow, badge).contains(Modifier::REVERSED));
    // The selected row is the theme's selection.
    let sel = at_cell(&shots.narrow, "Storefront sends");
    assert_eq!(shots.narrow[sel].bg, colour.selection.bg.unwrap());

    // At 80x24 the panes stack and the items pane keeps most of the room;
    // what does not fit is counted on the borders, not silently dropped.
    let items_top = at_cell(&shots.narrow, "Items").1;
    assert!(items_top < 12, "the items pane starts in the upper half");
    assert!(
        row(&shots.narrow, 22).contains("↓ 3 more"),
        "{}",
        row(&shots.narrow, 22)
    );
    assert!(
        row(&shots.narrow, 8).contains("↓ 2 more"),
        "{}",
        row(&shots.narrow, 8)
    );
    // Wide, the section titles are whole and apart from their bars.
    for title in ["All sections ", "Certificates ", "Repository "] {
        at_cell(&shots.wide, title);
    }
    for buf in [&shots.narrow_mono, &shots.wide_mono] {
        selected_by_glyph(buf, "Storefront sends", "▸");
        one_item_row_marked(buf, 5, "▸");
    }
}

#[test]
fn detail_of_an_http_item_shows_response_headers() {
    let mut r = Review::dev(false);
    r.open("storefront-hsts");
    let top = shoot(&mut r.h, "detail_http");
    for buf in top.all() {
        let text = screen(buf);
        assert!(text.contains("FAIL"), "the status is spelled out");
        assert!(text.contains("Strict-Transport-Security"));
        hint_bar_shows_back_and_help(buf);
        // The probe's settings read as two columns.
        let request = at_cell(buf, "GET https://shop.dev").0;
        let status = at_cell(buf, "2xx").0;
        assert_eq!(request, status, "values line up:\n{text}");
    }
    let [colour, _] = themes();
    let fail = at_cell(&top.narrow, "✘ FAIL");
    assert_eq!(fg_at(&top.narrow, fail), colour.fail.fg.unwrap());
    // Scrolled to the evidence: headers and what the probe expected.
    r.scroll(16);
    let evidence = shoot(&mut r.h, "detail_http_evidence");
    let wide = screen(&evidence.wide);
    for needle in [
        "Latest evidence",
        "x-content-type-options: nosniff",
        "content-type: text/html; charset=utf-8",
        "History (newest first)",
    ] {
        assert!(wide.contains(needle), "{needle:?} missing:\n{wide}");
    }
    let narrow = screen(&evidence.narrow);
    assert!(narrow.contains("headers:"), "{narrow}");
}

#[test]
fn detail_of_a_tls_item_shows_the_certificate() {
    let mut r = Review::dev(false);
    r.open("payments-cert");
    let shots = shoot(&mut r.h, "detail_tls");
    let wide = screen(&shots.wide);
    for needle in [
        "certificate expires in 5 days (minimum 14)",
        "endpoint",
        "127.0.0.1:8443",
        "days_left: 5",
        "depends on: api-cert",
    ] {
        assert!(wide.contains(needle), "{needle:?} missing:\n{wide}");
    }
}

#[test]
fn detail_of_a_kube_item_lists_failing_objects_with_reasons() {
    let mut r = Review::dev(false);
    r.open("replicas");
    r.scroll(13);
    let shots = shoot(&mut r.h, "detail_kube");
    for buf in [&shots.wide, &shots.wide_mono] {
        let wide = screen(buf);
        for needle in [
            "name: checkout-worker",
            "reason: expect false",
            "reason: no field object.spec.replicas",
        ] {
            assert!(wide.contains(needle), "{needle:?} missing:\n{wide}");
        }
    }
}

#[test]
fn detail_of_a_manual_item_shows_notes_and_the_waiver() {
    let mut r = Review::dev(false);
    r.open("on-call");
    let shots = shoot(&mut r.h, "detail_manual");
    for buf in shots.all() {
        hint_bar_shows_back_and_help(buf);
        assert!(
            screen(buf).contains("~ WAIVED"),
            "the waived glyph and word"
        );
    }
    let wide = screen(&shots.wide);
    for needle in [
        "WAIVED",
        "Checked by a person",
        "Sign-off log",
        "waived by dave 2026-11-23 11:00:00 UTC, until 2026-12-04",
        "note by carol 2026-11-23 10:02:30 UTC",
        "note by alice 2026-11-23 10:31:05 UTC",
        "Ticket: OPS-4411",
    ] {
        assert!(wide.contains(needle), "{needle:?} missing:\n{wide}");
    }
}

#[test]
fn critical_path_lists_open_blockers_and_highs() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('c'));
    r.h.press(KeyCode::Char('j'));
    let shots = shoot(&mut r.h, "critical_path");
    for buf in shots.all() {
        hint_bar_shows_back_and_help(buf);
        let text = screen(buf);
        assert!(text.contains("Critical path"));
        assert!(text.contains("1. "), "entries are numbered");
        // Waived and done items are off the path.
        assert!(!text.contains("On-call rota"), "{text}");
        // An item comes after what it depends on, and says so.
        let cert = at_cell(buf, "Checkout API certificate").1;
        let payments = at_cell(buf, "Payments gateway certificate").1;
        assert!(cert < payments, "dependencies first:\n{text}");
        assert!(
            row(buf, payments + 1).contains("after api-cert"),
            "{:?}",
            row(buf, payments + 1)
        );
    }
    for buf in [&shots.narrow_mono, &shots.wide_mono] {
        let (_, y) = at_cell(buf, " 2. ");
        assert!(
            row(buf, y).contains("▸"),
            "the path cursor is a glyph: {:?}",
            row(buf, y)
        );
    }
}

#[test]
fn help_overlay_lists_the_keymap() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('?'));
    let shots = shoot(&mut r.h, "help");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(text.contains("Keys (Esc closes)"));
        // Keys and what they do are two columns.
        let tick = at_cell(buf, "tick / untick a manual item").0;
        let note = at_cell(buf, "add a note").0;
        assert_eq!(tick, note, "descriptions line up:\n{text}");
    }
    // More keys than fit: the border says where the reader is.
    let bottom = row(&shots.narrow, 22);
    assert!(bottom.contains(" 1/"), "{bottom:?}");
}

#[test]
fn note_editor_keeps_several_lines() {
    let mut r = Review::dev(false);
    r.select("support-briefed");
    r.h.press(KeyCode::Char('n'));
    r.h.type_text(
        "Briefed the support leads on 2026-11-20.\nSlides: https://wiki.example/checkout/support",
    );
    let shots = shoot(&mut r.h, "note_editor");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(text.contains("Note on support-briefed"), "{text}");
        assert!(text.contains("Briefed the support leads"), "{text}");
        assert!(text.contains("Slides: https://wiki.example"), "{text}");
        assert!(text.contains("save"), "the hint bar says how to save");
    }
}

#[test]
fn waiver_form_names_the_item_and_its_fields() {
    let mut r = Review::dev(false);
    r.select("storefront-hsts");
    r.h.press(KeyCode::Char('w'));
    r.h.type_text("HSTS goes on at the ingress in the launch-week change");
    r.h.press(KeyCode::Tab);
    r.h.type_text("2026-11-");
    let shots = shoot(&mut r.h, "waiver_form");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(text.contains("Waive storefront-hsts"), "{text}");
        assert!(text.contains("reason"), "{text}");
        assert!(text.contains("until"), "{text}");
        assert!(text.contains("2026-11-"), "{text}");
    }
    for buf in [&shots.narrow_mono, &shots.wide_mono] {
        let (_, y) = at_cell(buf, "2026-11-");
        let line = row(buf, y);
        assert!(
            line.contains("▸ until"),
            "the active field is marked: {line:?}"
        );
        let (_, y) = at_cell(buf, "HSTS goes on");
        let line = row(buf, y);
        assert!(!line.contains("▸ reason"), "only one field is: {line:?}");
    }
}

#[test]
fn signoff_dialog_refuses_go_while_no_go() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('s'));
    // The dialog starts on the computed decision (no-go); Tab moves on to go.
    r.h.press(KeyCode::Tab);
    assert!(
        matches!(&r.h.app.ui.modal, Some(gonogo::tui::app::Modal::Signoff(d))
            if d.choice == gonogo::ledger::SignoffDecision::Go),
        "Tab chose go"
    );
    let shots = shoot(&mut r.h, "signoff_refused");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(text.contains("Sign off checkout-launch in dev"), "{text}");
        assert!(text.contains("refused: cannot sign off go"), "{text}");
    }
    for buf in [&shots.narrow_mono, &shots.wide_mono] {
        let (_, y) = at_cell(buf, "◉ go");
        assert!(
            !row(buf, y).contains("◉ no-go"),
            "only the chosen decision has the filled radio"
        );
    }
}

/// A checklist that needs an SRE and a security sign-off, in an environment
/// promoted from another: the header says how many roles have signed and
/// what the upstream environment decided; the sign-off dialog names each
/// role and who may still sign it.
#[test]
fn roles_and_the_upstream_show_in_the_header_and_the_signoff_dialog() {
    let checklist = gonogo::tui::demo::CHECKLIST.replacen(
        "\n[vars]",
        "signoff = { roles = [\"sre\", \"security\"] }\n\n[vars]",
        1,
    );
    let config = config_text().replacen(
        "name = \"dev\"\n",
        "name = \"dev\"\npromote_from = \"staging\"\n",
        1,
    ) + "\n[roles]\nsre = [\"alice\", \"group:platform-sre\"]\nsecurity = [\"bob\"]\n";
    let mut r = Review::dev_from(false, &checklist, &config);
    let shots = shoot(&mut r.h, "roles_header");
    for buf in shots.all() {
        let top = row(buf, 0);
        assert!(
            top.contains("signed 0/2 staging not signed →  NO-GO "),
            "{top:?}"
        );
    }
    r.h.press(KeyCode::Char('s'));
    let shots = shoot(&mut r.h, "roles_signoff");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(
            text.contains("sre awaiting alice, group:platform-sre"),
            "{text}"
        );
        assert!(text.contains("security awaiting bob"), "{text}");
        assert!(text.contains("from     staging not signed"), "{text}");
    }
}

/// `L`: the audit trail of the review, with the head, the command that
/// verifies the log, and where the latest sign-off went stale.
#[test]
fn the_log_screen_shows_the_trail_the_head_and_the_verify_command() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('L'));
    let shots = shoot(&mut r.h, "log_screen");
    for buf in shots.all() {
        let text = screen(buf);
        assert!(
            text.contains("Sign-off log · checkout-launch in dev"),
            "{text}"
        );
        assert!(text.contains("gonogo log --verify"), "{text}");
        assert!(
            text.contains("waived memory-limits until 2026-12-20"),
            "the newest event is in view: {text}"
        );
    }
    // `y` there copies the verify command, not an item's id.
    r.h.effects.clear();
    r.h.press(KeyCode::Char('y'));
    let copied: Vec<&String> =
        r.h.effects
            .iter()
            .filter_map(|e| match e {
                gonogo::tui::app::Effect::Copy(text) => Some(text),
                _ => None,
            })
            .collect();
    assert_eq!(copied.len(), 1);
    assert!(
        copied[0].starts_with("gonogo log --verify") && copied[0].ends_with("dev.jsonl"),
        "{copied:?}"
    );
}

/// `v`: every item's status in every environment, each environment's
/// decision on top; the tabs carry the decisions too.
#[test]
fn the_environments_side_by_side() {
    let mut r = Review::dev(false);
    // What the background review of the other environments found.
    let mut staging = r.h.app.view.report.clone();
    for item in staging.sections.iter_mut().flat_map(|s| s.items.iter_mut()) {
        item.status = Status::Pass;
    }
    staging.decision = gonogo::review::Decision::Go;
    r.h.send(Action::Survey {
        env: "staging".into(),
        reports: vec![staging],
    });
    r.h.press(KeyCode::Char('v'));
    let shots = shoot(&mut r.h, "side_by_side");
    for buf in shots.all() {
        let text = screen(buf);
        let tabs = row(buf, 1);
        assert!(
            tabs.contains("dev NO-GO") && tabs.contains("staging GO"),
            "each tab says its decision: {tabs:?}"
        );
        assert!(
            text.contains("decision") && text.contains("NO-GO") && text.contains("GO"),
            "{text}"
        );
        assert!(text.contains("✘ fail") && text.contains("✔ pass"), "{text}");
    }
}

/// Wide, an open detail shows beside the list, so the room keeps its place;
/// at 80x24 it takes the body.
#[test]
fn wide_the_detail_shows_beside_the_list() {
    let mut r = Review::dev(false);
    r.open("storefront-hsts");
    let [colour, _] = themes();
    let wide = screen(&r.h.render(&colour, WIDE.0, WIDE.1));
    let row = wide
        .lines()
        .find(|l| l.contains("Item · storefront-hsts"))
        .unwrap_or_else(|| panic!("{wide}"));
    assert!(row.contains("Items · all sections"), "{row}");
    let narrow = screen(&r.h.render(&colour, NARROW.0, NARROW.1));
    assert!(narrow.contains("Item · storefront-hsts"), "{narrow}");
    assert!(!narrow.contains("Items · all sections"), "{narrow}");
}

#[test]
fn filter_line_narrows_the_items() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('/'));
    r.h.type_text("cert");
    let shots = shoot(&mut r.h, "filter_line");
    for buf in shots.all() {
        let bottom = row(buf, buf.area.height - 1);
        assert!(bottom.starts_with("/cert"), "{bottom:?}");
        let text = screen(buf);
        assert!(text.contains("(2 of 15)"), "{text}");
        // The items pane (right of its heavy border; wide, the critical
        // path beside it is not filtered) no longer lists the storefront.
        let items_pane = text
            .lines()
            .filter_map(|l| l.split_once('┃').map(|(_, r)| r))
            .any(|r| r.contains("Storefront sends"));
        assert!(!items_pane, "{text}");
    }
}

#[test]
fn command_line_completes_and_offers_candidates() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char(':'));
    r.h.type_text("fi");
    r.h.press(KeyCode::Tab);
    r.h.press(KeyCode::Tab);
    let shots = shoot(&mut r.h, "command_line");
    for buf in shots.all() {
        let bottom = row(buf, buf.area.height - 1);
        assert!(bottom.starts_with(":filter "), "{bottom:?}");
        let above = row(buf, buf.area.height - 2);
        assert!(above.contains("all  open  failing"), "{above:?}");
    }
}

#[test]
fn toasts_info_fades_error_stays() {
    let mut r = Review::dev(false);
    // An export writes the document and says where, as the config names it.
    r.h.press(KeyCode::Char('e'));
    let exported = r.tmp_root().join("signoffs");
    assert!(
        std::fs::read_dir(&exported).is_ok_and(|mut d| d.next().is_some()),
        "the export wrote a file"
    );
    r.h.send(Action::Execute("env qa".into()));
    let shots = shoot(&mut r.h, "toasts");
    for buf in shots.all() {
        let text = screen(buf);
        // A long message loses its middle, not the file it names.
        assert!(text.contains("checkout-launch-dev-2026-11-23.md"), "{text}");
        assert!(text.contains("no environment `qa`"), "{text}");
        assert!(text.contains("(Esc)"), "the error says how to dismiss it");
    }
    // Four seconds later the info toasts are gone, the error stays.
    r.h.send(Action::Clock(at("14:05:05")));
    let [colour, _] = themes();
    let later = screen(&r.h.render(&colour, 80, 24));
    assert!(!later.contains("exported"), "{later}");
    assert!(later.contains("no environment `qa`"), "{later}");
}

#[test]
fn demo_header_is_labelled() {
    let mut r = Review::dev(false);
    r.h.app.demo = true;
    let shots = shoot(&mut r.h, "demo_header");
    let [colour, _] = themes();
    for buf in shots.all() {
        assert!(row(buf, 0).contains(" DEMO "), "{:?}", row(buf, 0));
    }
    let demo = at_cell(&shots.narrow, "DEMO");
    assert_eq!(fg_at(&shots.narrow, demo), colour.warning.fg.unwrap());
    assert!(mods_at(&shots.narrow, demo).contains(Modifier::REVERSED));
}

#[test]
fn prod_tab_is_marked_dangerous() {
    let mut r = Review::dev(false);
    r.h.press(KeyCode::Char('3'));
    assert_eq!(r.h.app.env_tab().name, "prod");
    r.h.probe_result(
        "api-health",
        outcome(Verdict::Pass, "200 OK in 35 ms", json!({}), "14:04:40"),
    );
    let shots = shoot(&mut r.h, "prod_tab");
    let [colour, _] = themes();
    for buf in shots.all() {
        let tabs = row(buf, 1);
        assert!(tabs.contains("3 prod ⚠"), "{tabs:?}");
        assert!(tabs.contains("snapshot"), "the source is named: {tabs:?}");
        assert!(tabs.contains("prod.yaml"), "with its file: {tabs:?}");
    }
    let tab = at_cell(&shots.narrow, "3 prod");
    assert_eq!(fg_at(&shots.narrow, tab), colour.danger.fg.unwrap());
    assert_eq!(shots.narrow[tab].bg, colour.selection.bg.unwrap());
    for buf in [&shots.narrow_mono, &shots.wide_mono] {
        let tab = at_cell(buf, "3 prod");
        assert!(
            mods_at(buf, tab).contains(Modifier::UNDERLINED),
            "mono marks prod by underline"
        );
        assert_eq!(buf[(tab.0 - 1, tab.1)].symbol(), "▸", "and the tab glyph");
    }
}

/// Brings a review to one of its screens.
type OpenScreen = fn(&mut Review);

fn assert_ascii(buf: &Buffer, what: &str) {
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let s = buf[(x, y)].symbol();
            assert!(
                s.is_ascii(),
                "{what}: {s:?} at {x},{y} is not ASCII:\n{}",
                screen(buf)
            );
        }
    }
}

#[test]
fn ascii_mode_draws_only_ascii() {
    let mut r = Review::dev(true);
    r.select("storefront-hsts");
    let [colour, mono] = themes();
    for (name, size) in [("ascii_list_80x24", NARROW), ("ascii_list_160x48", WIDE)] {
        let buf = r.h.render(&colour, size.0, size.1);
        assert_ascii(&buf, name);
        insta::assert_snapshot!(name, describe(&buf, &colour));
        essentials(&buf);
    }
    let mono_list = r.h.render(&mono, 80, 24);
    selected_by_glyph(&mono_list, "Storefront sends", ">");
    // Every other screen, in both sizes: nothing non-ASCII reaches the buffer.
    let screens: Vec<(&str, OpenScreen)> = vec![
        ("detail", |r| r.open("on-call")),
        ("evidence", |r| {
            r.open("payments-cert");
            r.scroll(12);
        }),
        ("path", |r| r.h.press(KeyCode::Char('c'))),
        ("help", |r| r.h.press(KeyCode::Char('?'))),
        ("note", |r| r.h.press(KeyCode::Char('n'))),
        ("waive", |r| r.h.press(KeyCode::Char('w'))),
        ("signoff", |r| r.h.press(KeyCode::Char('s'))),
        ("command", |r| {
            r.h.press(KeyCode::Char(':'));
            r.h.press(KeyCode::Tab);
        }),
        ("toasts", |r| {
            r.h.send(Action::Execute("env qa".into()));
            r.h.press(KeyCode::Char('r'));
        }),
    ];
    for (name, open) in screens {
        let mut r = Review::dev(true);
        r.select("storefront-hsts");
        open(&mut r);
        for size in [NARROW, WIDE] {
            for theme in [&colour, &mono] {
                let buf = r.h.render(theme, size.0, size.1);
                assert_ascii(&buf, name);
            }
        }
        if name == "detail" {
            let buf = r.h.render(&colour, 80, 24);
            insta::assert_snapshot!("ascii_detail_80x24", describe(&buf, &colour));
        }
    }
}

#[test]
fn statuses_are_what_the_list_claims() {
    // The fixture itself: if the review's statuses drift, the snapshots
    // above would silently stop covering a status.
    let r = Review::dev(false);
    let status = |id: &str| r.h.app.item_report(id).map(|i| i.status);
    assert_eq!(status("api-health"), Some(Status::Pass));
    assert_eq!(status("storefront-hsts"), Some(Status::Fail));
    assert_eq!(status("status-page"), Some(Status::Error));
    assert_eq!(status("api-cert"), Some(Status::Error));
    assert_eq!(status("payments-cert"), Some(Status::Fail));
    assert_eq!(status("api-latency"), Some(Status::Pending));
    assert_eq!(status("support-briefed"), Some(Status::Pending));
    assert_eq!(status("rollback-drill"), Some(Status::Done));
    assert_eq!(status("on-call"), Some(Status::Waived));
    assert_eq!(status("memory-limits"), Some(Status::Waived));
    assert_eq!(status("disruption-budget"), Some(Status::Skipped));
    assert_eq!(r.h.app.live.running.len(), 2);
}

// ---------------------------------------------------------------------------
// Drilling to the objects

/// Opens the objects of `item` from its detail (Enter, as in k9s).
fn drill(r: &mut Review, item: &str) {
    r.open(item);
    r.h.press(KeyCode::Enter);
    assert_eq!(r.h.app.context(), gonogo::tui::keymap::Context::Objects);
}

/// Moves the objects cursor onto `id` and opens it.
fn open_object(r: &mut Review, id: &str) {
    r.h.type_text("gg");
    for _ in 0..10 {
        if r.h.app.object_under_cursor().is_some_and(|e| e.id() == id) {
            r.h.press(KeyCode::Enter);
            assert_eq!(r.h.app.context(), gonogo::tui::keymap::Context::Object);
            return;
        }
        r.h.press(KeyCode::Char('j'));
    }
    panic!("{id} is not among the objects");
}

#[test]
fn the_objects_of_a_kube_item_come_out_of_line_first() {
    let mut r = Review::dev_on_snapshot(false);
    drill(&mut r, "replicas");
    let shots = shoot(&mut r.h, "objects_replicas");
    let [colour, _] = themes();
    for buf in shots.all() {
        let text = screen(buf);
        hint_bar_shows_back_and_help(buf);
        assert!(
            text.contains("Objects · replicas · apps/v1/Deployment"),
            "{text}"
        );
        let cron = at_cell(buf, "shop-dev/checkout-cron").1;
        let worker = at_cell(buf, "shop-dev/checkout-worker").1;
        let api = at_cell(buf, "shop-dev/checkout-api").1;
        assert!(cron < worker && worker < api, "failing first:\n{text}");
        assert!(
            row(buf, worker).contains("object.spec.replicas is 1, wants >= 2"),
            "{text}"
        );
        assert!(
            row(buf, cron).contains("expect could not be evaluated: it reads"),
            "{text}"
        );
        assert!(row(buf, api).contains("in line"), "{text}");
        for y in [cron, worker] {
            assert!(row(buf, y).contains("✘"), "{}", row(buf, y));
        }
        assert!(row(buf, api).contains("✔"), "{}", row(buf, api));
    }
    let glyph = at_cell(&shots.narrow, "✘");
    assert_eq!(fg_at(&shots.narrow, glyph), colour.fail.fg.unwrap());
    selected_by_glyph(&shots.narrow_mono, "shop-dev/checkout-cron", "▸");
}

#[test]
fn an_objects_yaml_marks_the_field_expect_reads_and_the_one_that_fails() {
    let mut r = Review::dev_on_snapshot(false);
    drill(&mut r, "replicas");
    open_object(&mut r, "shop-dev/checkout-worker");
    let shots = shoot(&mut r.h, "object_worker");
    let [colour, _] = themes();
    for buf in shots.all() {
        let text = screen(buf);
        assert!(
            text.contains("Object · apps/v1/Deployment shop-dev/checkout-worker"),
            "{text}"
        );
        assert!(
            text.contains("out of line: object.spec.replicas is 1"),
            "{text}"
        );
        assert!(!text.contains("managedFields"), "{text}");
        // The failing field carries the mark in the gutter, in any theme.
        let (x, y) = at_cell(buf, "  replicas: 1");
        assert_eq!(buf[(x - 2, y)].symbol(), "✘", "{}", row(buf, y));
    }
    let failing = at_cell(&shots.narrow, "replicas: 1");
    assert_eq!(fg_at(&shots.narrow, failing), colour.fail.fg.unwrap());
    // In line, the same field is the one highlighted as read, and only it.
    r.h.press(KeyCode::Esc);
    open_object(&mut r, "shop-dev/checkout-api");
    let mark = "•";
    for theme in themes() {
        let buf = r.h.render(&theme, WIDE.0, WIDE.1);
        let text = screen(&buf);
        assert!(text.contains("✔ in line"), "{text}");
        let (x, y) = at_cell(&buf, "  replicas: 2");
        assert_eq!(buf[(x - 2, y)].symbol(), mark, "{}", row(&buf, y));
        assert_eq!(
            fg_at(&buf, (x + 2, y)),
            theme.accent.fg.unwrap_or(Color::Reset)
        );
        assert!(mods_at(&buf, (x + 2, y)).contains(theme.accent.add_modifier));
        let marked: Vec<String> = rows(&buf)
            .into_iter()
            .filter(|l| l.trim_start_matches('┃').starts_with(mark))
            .filter(|l| !l.contains("read by expect"))
            .collect();
        assert_eq!(marked.len(), 1, "only replicas is read: {marked:#?}");
    }
}

#[test]
fn a_secrets_values_never_reach_the_screen_nor_the_clipboard() {
    let [colour, mono] = themes();
    for ascii in [false, true] {
        let mut r = Review::dev_on_snapshot(ascii);
        let mut seen: Vec<Buffer> = Vec::new();
        let look = |r: &mut Review, seen: &mut Vec<Buffer>| {
            for size in [NARROW, WIDE] {
                for theme in [&colour, &mono] {
                    seen.push(r.h.render(theme, size.0, size.1));
                }
            }
        };
        r.select("db-secret");
        look(&mut r, &mut seen);
        r.h.press(KeyCode::Enter);
        for _ in 0..40 {
            look(&mut r, &mut seen);
            r.h.press(KeyCode::Char('j'));
        }
        r.h.press(KeyCode::Enter);
        assert_eq!(r.h.app.context(), gonogo::tui::keymap::Context::Objects);
        look(&mut r, &mut seen);
        r.h.press(KeyCode::Char('Y'));
        r.h.press(KeyCode::Enter);
        assert_eq!(r.h.app.context(), gonogo::tui::keymap::Context::Object);
        for _ in 0..30 {
            look(&mut r, &mut seen);
            r.h.press(KeyCode::Char('j'));
        }
        r.h.press(KeyCode::Char('y'));
        r.h.press(KeyCode::Char('Y'));
        look(&mut r, &mut seen);
        if !ascii {
            r.h.type_text("gg");
            let shots = shoot(&mut r.h, "object_secret");
            seen.extend(shots.all().into_iter().cloned());
            let wide = screen(&shots.wide);
            for needle in [
                "API_TOKEN: ‹redacted, 17 bytes›",
                "DATABASE_URL: ‹redacted, 66 bytes›",
                "REPLICA_URL: ‹redacted, 54 bytes›",
                "no key DATABASE_PASSWORD",
            ] {
                assert!(wide.contains(needle), "{needle:?} missing:\n{wide}");
            }
        }
        let copied: Vec<String> =
            r.h.effects
                .iter()
                .filter_map(|e| match e {
                    gonogo::tui::app::Effect::Copy(text) => Some(text.clone()),
                    _ => None,
                })
                .collect();
        assert_eq!(copied.len(), 3, "{copied:?}");
        assert!(
            copied[2].contains("DATABASE_URL: ‹redacted, 66 bytes›"),
            "{}",
            copied[2]
        );
        let toasts: Vec<String> = r.h.app.toasts.iter().map(|t| t.text.clone()).collect();
        for planted in PLANTED {
            for buf in &seen {
                assert!(
                    !screen(buf).contains(planted),
                    "{planted} is on screen:\n{}",
                    screen(buf)
                );
            }
            for text in copied.iter().chain(&toasts) {
                assert!(!text.contains(planted), "{planted} copied or said: {text}");
            }
        }
        assert!(seen.len() > 100, "only {} screens looked at", seen.len());
    }
}

#[test]
fn esc_steps_back_from_the_object_to_the_objects_to_the_detail_to_the_list() {
    use gonogo::tui::keymap::Context;
    let mut r = Review::dev_on_snapshot(false);
    drill(&mut r, "replicas");
    open_object(&mut r, "shop-dev/checkout-api");
    for (context, title) in [
        (Context::Objects, "Objects · replicas"),
        (Context::Detail, "Item · replicas"),
        (Context::List, "Items"),
    ] {
        r.h.press(KeyCode::Esc);
        assert_eq!(r.h.app.context(), context);
        let text = screen(&r.h.render(&Theme::mono(), WIDE.0, WIDE.1));
        assert!(text.contains(title), "{title:?} missing:\n{text}");
    }
}

#[test]
fn detail_of_an_http_item_keeps_the_lines_of_the_body_excerpt() {
    let mut r = Review::dev(false);
    let mut detail = storefront();
    detail["body_excerpt"] =
        json!("<!doctype html>\n<title>Shop</title>\n  <h1>Welcome\u{1b}[31m</h1>\n");
    r.h.probe_result(
        "storefront-hsts",
        outcome(Verdict::Fail, "expect is false", detail, "14:04:30"),
    );
    r.open("storefront-hsts");
    let buf = r.h.render(&Theme::mono(), WIDE.0, WIDE.1 * 2);
    let text = screen(&buf);
    let start = text
        .find("body_excerpt: |")
        .unwrap_or_else(|| panic!("{text}"));
    let lines: Vec<&str> = text[start..].lines().take(4).collect();
    assert!(lines[1].contains("┃  <!doctype html>"), "{lines:#?}");
    assert!(lines[2].contains("┃  <title>Shop</title>"), "{lines:#?}");
    assert!(lines[3].contains("┃    <h1>Welcome</h1>"), "{lines:#?}");
}

#[test]
fn detail_of_a_tls_item_shows_every_certificate_of_the_chain() {
    let mut r = Review::dev(false);
    r.open("payments-cert");
    let buf = r.h.render(&Theme::mono(), WIDE.0, WIDE.1 * 2);
    let text = screen(&buf);
    for needle in [
        "- subject: CN=payments.demo",
        "issuer: CN=gonogo demo CA",
        "subject: CN=gonogo demo CA",
        "not_after: 2027-11-23T00:00:00Z",
    ] {
        assert!(text.contains(needle), "{needle:?} missing:\n{text}");
    }
}

/// The header says the cluster is unreachable only when reading it failed:
/// an `expect` that cannot be judged (stopped by the meter, a field that is
/// not there) was read from the cluster all the same.
#[test]
fn an_expression_error_is_not_an_unreachable_cluster() {
    let kube = [
        "db-secret",
        "replicas",
        "memory-limits",
        "disruption-budget",
    ];
    let mut r = Review::dev(false);
    for id in kube {
        r.h.probe_result(
            id,
            outcome(
                Verdict::Error,
                &format!(
                    "{}shop-dev/checkout: stopped: it needs more than 1,000,000 steps",
                    gonogo::probe::kube::UNJUDGED
                ),
                json!({}),
                "14:04:58",
            ),
        );
    }
    let [colour, _] = themes();
    let tabs = row(&r.h.render(&colour, WIDE.0, WIDE.1), 1);
    assert!(!tabs.contains("unreachable"), "{tabs:?}");
    assert!(
        tabs.contains("checkout-dev"),
        "the context is named: {tabs:?}"
    );
    for id in kube {
        r.h.probe_result(
            id,
            outcome(
                Verdict::Error,
                "cannot reach the cluster (context checkout-dev): connection refused",
                json!({}),
                "14:05:30",
            ),
        );
    }
    let tabs = row(&r.h.render(&colour, WIDE.0, WIDE.1), 1);
    assert!(tabs.contains("unreachable"), "{tabs:?}");
}
