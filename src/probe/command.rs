//! `command` probes.

use std::path::Path;

use super::Outcome;
use crate::checklist::model::CommandProbe;

pub async fn run(_probe: &CommandProbe, _base_dir: &Path, _allow_exec: bool) -> Outcome {
    Outcome::error("command probes are not built yet")
}
