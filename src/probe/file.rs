//! `file` probes.

use std::path::Path;

use crate::checklist::model::*;
use super::Outcome;

pub async fn run(_probe: &FileProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("file probes are not built yet")
}
