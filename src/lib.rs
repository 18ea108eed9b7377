//! gonogo: production-readiness reviews as checklists that check themselves.
//!
//! The headless core (checklists, probes, cluster sources, the runner, the
//! status model, the sign-off log) lives here; `main.rs` and the TUI are
//! clients of it.

pub mod checklist;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod config;
pub mod crash;
pub mod demo;
pub mod diag;
pub mod doc;
pub mod export;
pub mod ledger;
pub mod probe;
pub mod report;
pub mod review;
pub mod runner;
pub mod schema;
pub mod scratch;
pub mod text;
pub mod tui;
pub mod workspace;

/// Installs the one process-wide rustls crypto provider (ring). kube and
/// reqwest both need it; calling twice is harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
