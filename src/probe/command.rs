//! `command` probes.

use std::path::Path;

use crate::checklist::model::CommandProbe;
use super::Outcome;

pub async fn run(_probe: &CommandProbe, _base_dir: &Path, _allow_exec: bool) -> Outcome {
    Outcome::error("command probes are not built yet")
}
