//! One secret value, planted everywhere a secret can come from: a Secret's
//! `data` (base64) and `stringData`, an HTTP header filled from
//! `${env:…}`, the kubeconfig's bearer token, and the password of a
//! Prometheus URL; items whose CEL expressions compare against it and fail.
//! Then every command and export format runs, and the dashboard visits
//! every view (the Secret's item detail, its objects, the object's YAML,
//! the log, side by side), and the screen, stdout, stderr, the dashboard's
//! log file, the sign-off log and every export are searched for the value
//! and its base64: it is nowhere.

#![cfg(unix)]

#[path = "support/fake_kube.rs"]
mod fake_kube;
#[path = "support/tty.rs"]
mod tty;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fake_kube::{FakeKube, ResourceDef, base64, write_kubeconfig};
use serde_json::json;
use tty::{Tty, lock};

/// The planted value. Long and odd enough that it cannot occur by chance.
const SECRET: &str = "Zq8xv-PLANTED-91c4-s3cr3t";

/// The forms the value could leak in: as is, base64 (a Secret's `data`),
/// and base64 without its padding (part of a longer encoded string).
fn forms() -> Vec<String> {
    let b64 = base64(SECRET.as_bytes());
    vec![
        SECRET.to_string(),
        b64.clone(),
        b64.trim_end_matches('=').to_string(),
    ]
}

/// Fails naming where the value turned up, and in which form.
fn assert_clean(place: &str, text: &str) {
    for form in forms() {
        if let Some(at) = text.find(&form) {
            let from = at.saturating_sub(80);
            panic!(
                "the secret ({form}) surfaced in {place}: …{}…",
                &text[from..(at + form.len() + 40).min(text.len())]
            );
        }
    }
}

/// A loopback HTTP server that answers every request with a Prometheus
/// vector of one sample, and keeps the requests' headers.
fn answering_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 8192];
                let n = stream.read(&mut buf).unwrap_or(0);
                log.lock()
                    .expect("log")
                    .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (port, seen)
}

fn secret_object(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "shop"},
        "type": "Opaque",
        "data": {"password": base64(SECRET.as_bytes()), "user": base64(b"shop")},
    })
}

fn checklist(port: u16) -> String {
    format!(
        r#"
id = "vault"
title = "Secrets stay secret"

[[sections]]
id = "secrets"
title = "Secrets"

[[sections.items]]
id = "db-password"
title = "The database password is the agreed one"
severity = "blocker"
[sections.items.probe]
kind = "kube"
resource = "v1/Secret"
namespace = "shop"
name = "db"
expect = "object.data.password == 'd3Jvbmc='"

[[sections.items]]
id = "api-token"
title = "The API token is the rotated one"
severity = "high"
[sections.items.probe]
kind = "kube"
resource = "v1/Secret"
namespace = "shop"
expect = "!has(object.stringData) || object.stringData.token == 'rotated'"

[[sections.items]]
id = "portal-auth"
title = "The portal accepts the service token"
severity = "high"
[sections.items.probe]
kind = "http"
url = "http://127.0.0.1:{port}/health"
headers = {{ Authorization = "Bearer ${{env:SHOP_TOKEN}}" }}
expect = "response.status == 201"

[[sections.items]]
id = "latency"
title = "Latency is low"
severity = "medium"
[sections.items.probe]
kind = "promql"
url = "http://alice:{SECRET}@127.0.0.1:{port}"
query = "up"
expect = "value > 5"

[[sections.items]]
id = "metrics-down"
title = "The second Prometheus answers"
severity = "low"
[sections.items.probe]
kind = "promql"
url = "http://alice:{SECRET}@127.0.0.1:1"
query = "up"
expect = "value > 0"
timeout = "2s"
"#
    )
}

struct Review {
    dir: PathBuf,
    kubeconfig: PathBuf,
}

impl Review {
    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gonogo"));
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.join("home"))
            .env("XDG_CONFIG_HOME", self.dir.join("home/config"))
            .env("XDG_DATA_HOME", self.dir.join("home/data"))
            .env("XDG_CACHE_HOME", self.dir.join("home/cache"))
            .env("GONOGO_LOG_DIR", self.dir.join("log"))
            .env("GONOGO_LOG", "debug")
            .env("KUBECONFIG", &self.kubeconfig)
            .env("SHOP_TOKEN", SECRET)
            .env("NO_COLOR", "1")
            .env("USER", "alice");
        cmd
    }

    /// Runs gonogo with `args`; checks its stdout and stderr.
    fn run(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().expect("gonogo runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_clean(&format!("the stdout of {args:?}"), &stdout);
        assert_clean(&format!("the stderr of {args:?}"), &stderr);
        format!("{stdout}{stderr}")
    }
}

/// Every file under `dir`, for the final sweep.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_secret_surfaces_nowhere() {
    gonogo::install_crypto_provider();
    let resources = vec![ResourceDef {
        group: "",
        version: "v1",
        kind: "Secret",
        plural: "secrets",
        namespaced: true,
    }];
    // The kubeconfig's bearer token is the secret too.
    let fake = FakeKube::start(resources, vec![secret_object("db")], SECRET).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().to_path_buf();
    let kubeconfig = write_kubeconfig(&dir, &[("shop", &fake.url(), SECRET)]);
    let (port, requests) = answering_server();
    std::fs::create_dir_all(dir.join("checklists")).expect("folder");
    std::fs::write(dir.join("checklists/vault.toml"), checklist(port)).expect("checklist");
    std::fs::create_dir_all(dir.join("manifests")).expect("folder");
    std::fs::create_dir_all(dir.join("exports")).expect("folder");
    std::fs::write(
        dir.join("manifests/secret.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: shop\n\
             type: Opaque\ndata:\n  password: {}\nstringData:\n  token: {SECRET}\n",
            base64(SECRET.as_bytes())
        ),
    )
    .expect("manifest");
    std::fs::write(
        dir.join("gonogo.toml"),
        "builtin = false\nchecklists = [\"checklists/*.toml\"]\nstate_dir = \"state\"\n\
         export_dir = \"exports\"\noperator = \"alice\"\n\n\
         [[environments]]\nname = \"live\"\nkube_context = \"shop\"\n\n\
         [[environments]]\nname = \"manifests\"\nsnapshot = \"manifests\"\n",
    )
    .expect("config");
    let review = Review {
        dir: dir.clone(),
        kubeconfig,
    };

    // Every command and format, on both environments.
    let review = tokio::task::spawn_blocking(move || {
        for env in ["live", "manifests"] {
            let out = review.run(&["check", "--env", env]);
            assert!(out.contains("db-password"), "{out}");
            for format in ["json", "md", "junit", "sarif"] {
                review.run(&["check", "--env", env, "--format", format]);
            }
            for format in ["md", "json", "junit"] {
                let file = format!("exports/{env}.{format}");
                review.run(&["export", "--env", env, "--format", format, "-o", &file]);
            }
            review.run(&["note", "--env", env, "db-password", "looked at it"]);
            review.run(&[
                "waive",
                "--env",
                env,
                "api-token",
                "--reason",
                "rotating next week",
            ]);
            review.run(&["signoff", "--env", env, "no-go", "--note", "not yet"]);
            review.run(&["log", "--env", env, "--checklist", "vault"]);
            review.run(&[
                "log",
                "--env",
                env,
                "--checklist",
                "vault",
                "--format",
                "json",
            ]);
            review.run(&["log", "--env", env, "--checklist", "vault", "--verify"]);
        }
        review.run(&["validate"]);
        review.run(&["checklists"]);
        review
    })
    .await
    .expect("the commands ran");

    // The header really carried the token, and the URL's password really
    // went out as basic auth: the probes used the secret, and hid it.
    let seen = requests.lock().expect("requests").join("\n");
    assert!(seen.contains(&format!("Bearer {SECRET}")), "{seen}");
    assert!(
        seen.to_lowercase().contains("authorization: basic"),
        "{seen}"
    );

    // The dashboard, through every view, on both environments.
    let review = tokio::task::spawn_blocking(move || {
        let mut tty = Tty::spawn_with(
            &review.dir,
            &["--env", "live"],
            140,
            40,
            &[
                (
                    "KUBECONFIG",
                    review.kubeconfig.to_str().expect("utf-8 path"),
                ),
                ("SHOP_TOKEN", SECRET),
                ("GONOGO_LOG", "debug"),
            ],
        );
        let screen = |tty: &Tty| lock(&tty.output).parser.screen().contents();
        let visit = |tty: &mut Tty, keys: &str, what: &str, ready: &dyn Fn(&str) -> bool| {
            tty.send(keys);
            tty.wait_for(what, |s| ready(&s.contents()));
            std::thread::sleep(Duration::from_millis(300));
            assert_clean(what, &screen(tty));
        };
        tty.wait_for("the live review, checked", |s| {
            let text = s.contents();
            text.contains("database password") && !text.contains("running")
        });
        assert_clean("the item list", &screen(&tty));
        for env_key in ["1", "2"] {
            visit(&mut tty, env_key, "the environment", &|t| {
                t.contains("database password")
            });
            for item in [
                "database password",
                "API token",
                "portal accepts",
                "Latency",
                "second Prometheus",
            ] {
                // Find the item with the filter, open its detail.
                visit(&mut tty, "/", "the filter", &|_| true);
                tty.send(item);
                tty.send("\r");
                std::thread::sleep(Duration::from_millis(300));
                visit(&mut tty, "\r", "the item's detail", &|t| {
                    t.contains("Item ·")
                });
                if item == "database password" || item == "API token" {
                    visit(&mut tty, "O", "its objects", &|t| t.contains("shop/db"));
                    visit(&mut tty, "\r", "the object's YAML", &|t| {
                        t.contains("kind: Secret")
                    });
                    visit(&mut tty, "\x1b", "back to the objects", &|_| true);
                    visit(&mut tty, "\x1b", "back to the detail", &|_| true);
                }
                visit(&mut tty, "\x1b", "back to the list", &|_| true);
                visit(&mut tty, "\x1b", "the filter cleared", &|_| true);
            }
            visit(&mut tty, "L", "the log", &|t| t.contains("Sign-off log"));
            visit(&mut tty, "\x1b", "back", &|_| true);
            visit(&mut tty, "v", "side by side", &|t| t.contains("manifests"));
            visit(&mut tty, "\x1b", "back", &|_| true);
            visit(&mut tty, "c", "the critical path", &|_| true);
            visit(&mut tty, "\x1b", "back", &|_| true);
            visit(&mut tty, "?", "the help", &|_| true);
            visit(&mut tty, "\x1b", "back", &|_| true);
        }
        tty.send("q");
        assert_eq!(tty.wait_exit(), 0);
        let raw = String::from_utf8_lossy(&lock(&tty.output).raw).into_owned();
        assert_clean("everything written to the terminal", &raw);
        review
    })
    .await
    .expect("the dashboard ran");

    // Every file gonogo wrote: logs, the sign-off logs, the exports.
    let mut written = Vec::new();
    for folder in ["state", "exports", "log", "home"] {
        files(&review.dir.join(folder), &mut written);
    }
    // Two sign-off logs, the dashboard's log, six exports.
    assert!(written.len() >= 9, "{written:?}");
    for file in &written {
        let text = String::from_utf8_lossy(&std::fs::read(file).expect("readable")).into_owned();
        assert_clean(&file.display().to_string(), &text);
    }
    drop(fake);
}
