//! The sign-off log's two stores as tests open them: a temporary folder
//! (the dir store), or the fake API server over TLS with the real kube-rs
//! client (the kube store); as many handles on one review's log as a test
//! has sessions. Include beside `fake_kube.rs`:
//!
//!     #[path = "support/fake_kube.rs"] mod fake_kube;
//!     #[path = "support/logs.rs"] mod logs;

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use gonogo::ledger::{DirStore, KubeStore, KubeTarget, LedgerError, Store};
use kube::config::Kubeconfig;
use serde_json::{Value, json};

use crate::fake_kube::{FakeKube, FakeOptions, ResourceDef, write_kubeconfig};

pub const CHECKLIST: &str = "cmp-operator";
pub const ENV: &str = "prod";
pub const NAMESPACE: &str = "gonogo";
pub const TOKEN: &str = "reviewer-token";
/// Who the fake says `TOKEN` is.
pub const REVIEWER: &str = "system:serviceaccount:gonogo:reviewer";
/// The kubeconfig context the tests' kubeconfig names the fake by.
pub const CONTEXT: &str = "ops";

/// Which store a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Dir,
    Kube,
}

/// Where one test's logs live. Fields drop in order: the fake server
/// before the runtime that serves it.
pub struct Logs {
    pub kind: Kind,
    fake: Option<FakeKube>,
    runtime: tokio::runtime::Runtime,
    /// The dir store's state folder, and the kube store's kubeconfig.
    dir: tempfile::TempDir,
}

/// The types the fake serves for the kube store: ConfigMaps, and
/// Namespaces so that a missing namespace is refused as a real server does.
pub fn resources() -> Vec<ResourceDef> {
    vec![
        ResourceDef {
            group: "",
            version: "v1",
            kind: "ConfigMap",
            plural: "configmaps",
            namespaced: true,
        },
        ResourceDef {
            group: "",
            version: "v1",
            kind: "Namespace",
            plural: "namespaces",
            namespaced: false,
        },
    ]
}

pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

impl Logs {
    pub fn new(kind: Kind) -> Logs {
        Logs::with(
            kind,
            FakeOptions {
                page_size: 500,
                ..FakeOptions::default()
            },
        )
    }

    /// With the fake paced by `options` (for the kube store).
    pub fn with(kind: Kind, options: FakeOptions) -> Logs {
        gonogo::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the fake API server");
        let dir = tempfile::tempdir().expect("temp dir");
        let fake = match kind {
            Kind::Dir => None,
            Kind::Kube => {
                let fake = runtime.block_on(FakeKube::start_with(
                    resources(),
                    vec![namespace(NAMESPACE)],
                    TOKEN,
                    options,
                ));
                write_kubeconfig(dir.path(), &[(CONTEXT, &fake.tls_url(), TOKEN)]);
                Some(fake)
            }
        };
        Logs {
            kind,
            fake,
            runtime,
            dir,
        }
    }

    /// A new handle on the review's log, as another session opens it.
    pub fn open(&self) -> Arc<dyn Store> {
        self.try_open(CHECKLIST, ENV).expect("the log opens")
    }

    pub fn try_open(&self, checklist: &str, env: &str) -> Result<Arc<dyn Store>, LedgerError> {
        Ok(match self.kind {
            Kind::Dir => Arc::new(DirStore::open(&self.state_dir(), checklist, env)?),
            Kind::Kube => Arc::new(self.kube_as(TOKEN, checklist, env)?),
        })
    }

    /// The kube store, reaching the fake with `token`.
    pub fn kube_as(
        &self,
        token: &str,
        checklist: &str,
        env: &str,
    ) -> Result<KubeStore, LedgerError> {
        let fake = self.fake();
        let path = self.dir.path().join(format!("kubeconfig-{token}"));
        let text = crate::fake_kube::kubeconfig(&[(CONTEXT, &fake.tls_url(), token)]);
        std::fs::write(&path, text).expect("temp dir is writable");
        let kubeconfig = Kubeconfig::read_from(&path).expect("the test's kubeconfig parses");
        KubeStore::open_in(kubeconfig, &target(), checklist, env)
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The kubeconfig naming the fake as context `ops` (kube only).
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn fake(&self) -> &FakeKube {
        self.fake
            .as_ref()
            .expect("a kube test has a fake API server")
    }

    /// The log's records as a new session reads them.
    pub fn records(&self) -> Vec<String> {
        self.open().records().expect("the log reads")
    }

    pub fn block_on<F: std::future::Future>(&self, work: F) -> F::Output {
        self.runtime.block_on(work)
    }

    /// `work`'s output if it comes within `limit`.
    pub fn within<F: std::future::Future>(
        &self,
        limit: std::time::Duration,
        work: F,
    ) -> Option<F::Output> {
        self.runtime
            .block_on(async { tokio::time::timeout(limit, work).await })
            .ok()
    }

    /// Stops the fake API server: new connections are refused.
    pub fn stop_server(&mut self) {
        self.fake = None;
    }

    /// The name of event `seq`'s object.
    pub fn object_name(seq: u64) -> String {
        format!("{CHECKLIST}.{ENV}.{seq:08}")
    }

    /// The object holding event `seq`, as the fake stores it.
    pub fn object(&self, seq: u64) -> Option<Value> {
        self.fake()
            .object("v1", "ConfigMap", Some(NAMESPACE), &Logs::object_name(seq))
    }
}

pub fn target() -> KubeTarget {
    KubeTarget {
        namespace: NAMESPACE.into(),
        context: Some(CONTEXT.into()),
    }
}
