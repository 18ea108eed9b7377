//! `http` probes.

use std::path::Path;

use crate::checklist::model::*;
use super::Outcome;

pub async fn run(_probe: &HttpProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("http probes are not built yet")
}
