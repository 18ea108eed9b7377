//! Cluster snapshots: arbitrary text as a manifest file (YAML or JSON, any
//! number of documents, `List`s) through `Snapshot::from_yaml`, the reader
//! behind `snapshot = "..."` environments and the demo cluster.
//!
//! The property: no input panics, hangs or exhausts memory; a manifest
//! that cannot be read is a `SnapshotError`.

#![no_main]

use gonogo::cluster::snapshot::Snapshot;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Snapshot::from_yaml("fuzz.yaml", text) {
        Ok(snapshot) => {
            let _ = (snapshot.len(), snapshot.files(), snapshot.skipped().len());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
