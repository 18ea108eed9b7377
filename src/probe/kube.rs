//! `kube` probes: select objects from an `ObjectSource` and check them.

use super::Outcome;
use crate::checklist::model::KubeProbe;
use crate::cluster::ObjectSource;

pub async fn run(_probe: &KubeProbe, _cluster: &dyn ObjectSource) -> Outcome {
    Outcome::error("kube probes are not built yet")
}
