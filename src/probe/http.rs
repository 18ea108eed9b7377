//! `http` probes.

use std::path::Path;

use super::Outcome;
use crate::checklist::model::*;

pub async fn run(_probe: &HttpProbe, _base_dir: &Path) -> Outcome {
    Outcome::error("http probes are not built yet")
}
