//! `tls` probes.

use std::path::Path;

use super::Outcome;
use crate::checklist::model::*;

pub async fn run(_probe: &TlsProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("tls probes are not built yet")
}
