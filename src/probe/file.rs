//! `file` probes.

use std::path::Path;

use super::Outcome;
use crate::checklist::model::*;

pub async fn run(_probe: &FileProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("file probes are not built yet")
}
