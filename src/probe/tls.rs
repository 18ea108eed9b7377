//! `tls` probes.

use std::path::Path;

use crate::checklist::model::*;
use super::Outcome;

pub async fn run(_probe: &TlsProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("tls probes are not built yet")
}
