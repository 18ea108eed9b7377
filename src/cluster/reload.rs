//! A snapshot that follows its files, for the dashboard: the manifests are
//! read again when one of them changes on disk (a folder watch, debounced)
//! or when asked (`R`), and the probes of each type whose objects changed
//! are told through `changes`, so they re-run as a live cluster's do. A
//! read that fails (a manifest saved half-edited) makes every probe say
//! why, file, line and column; the next good read brings them back.
//!
//! `check` and `export` read a snapshot once (`Snapshot` itself); only the
//! dashboard follows one.
//!
//! Every answer is whole (`read_since` is the trait's, which lists): a
//! reload replaces the objects wholesale, so there are no changes to tell
//! one by one, and a tally kept from before a reload could only be stale.
//! What keeps a re-run cheap instead is that a type whose objects read the
//! same after a reload keeps its objects, and with them what every
//! expectation said of them.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use futures::future::BoxFuture;
use notify::RecursiveMode;
use tokio::sync::watch;

use super::snapshot::{Snapshot, SnapshotError, TypeKey, type_key};
use super::{Changes, Object, ObjectQuery, ObjectSource, SourceError};
use crate::ledger::watch::{WatchGuard, watch_folder};

/// How an environment's snapshot is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotReading {
    /// Once (`Snapshot`): `check` and `export` answer for one moment.
    Once,
    /// Again whenever its files change, or `R` asks (`FollowedSnapshot`):
    /// the dashboard.
    Followed,
}

/// Manifests on disk, read again whenever they change.
pub struct FollowedSnapshot {
    files: Arc<Files>,
    /// One watch per path; dropping them stops the reads they start. (In
    /// a mutex only to be shared between threads: nothing touches them.)
    _watches: Mutex<Vec<WatchGuard>>,
}

/// What the watches and `R` read into.
struct Files {
    paths: Vec<PathBuf>,
    /// Only these kinds are parsed in full (`Snapshot::load_kinds`).
    kinds: Option<HashSet<String>>,
    described: String,
    state: RwLock<State>,
    /// Held for a whole read, so that two reads (a file event and `R` at
    /// once) never put an older result over a newer one.
    reading: Mutex<()>,
    /// What ticks for the probes of each type.
    ticks: Mutex<HashMap<TypeKey, watch::Sender<u64>>>,
}

struct State {
    /// The last snapshot read whole.
    snapshot: Snapshot,
    /// Why the last read failed, if it did: probes say this instead of
    /// answering from `snapshot`.
    failed: Option<SnapshotError>,
}

/// What a read changed, for the probes to hear.
enum Moved {
    Nothing,
    Types(HashSet<TypeKey>),
    Everything,
}

impl FollowedSnapshot {
    /// Reads `paths` (files, or folders read recursively, as
    /// `Snapshot::load_kinds` reads them) and starts watching them. A first
    /// read that fails is an error, as it is for `check`; a watch that
    /// cannot start is not (the reason is logged, and `R` still reads).
    pub fn follow(
        paths: &[PathBuf],
        kinds: Option<HashSet<String>>,
    ) -> Result<FollowedSnapshot, SnapshotError> {
        let snapshot = Snapshot::load_kinds(paths, kinds.as_ref())?;
        let files = Arc::new(Files {
            paths: paths.to_vec(),
            kinds,
            described: snapshot.describe(),
            state: RwLock::new(State {
                snapshot,
                failed: None,
            }),
            reading: Mutex::new(()),
            ticks: Mutex::new(HashMap::new()),
        });
        let mut watches = Vec::new();
        for path in paths {
            let files = files.clone();
            match watch_path(path, move || files.reread()) {
                Ok(watch) => watches.push(watch),
                Err(e) => tracing::warn!(
                    "not following changes to {}: {e}; R reads it again",
                    path.display()
                ),
            }
        }
        Ok(FollowedSnapshot {
            files,
            _watches: Mutex::new(watches),
        })
    }
}

/// Watches what `path` names: a folder with everything under it, or a file
/// through its folder (an editor that saves by renaming a new file over the
/// old one leaves a watch on the old file deaf).
fn watch_path(
    path: &Path,
    on_change: impl FnMut() + Send + 'static,
) -> Result<WatchGuard, crate::ledger::WatchError> {
    if path.is_dir() {
        let root = path.to_path_buf();
        let ours = move |changed: &Path| !hidden_under(&root, changed);
        return watch_folder(path, RecursiveMode::Recursive, ours, on_change);
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(ToOwned::to_owned);
    let ours = move |changed: &Path| changed.file_name() == name.as_deref();
    watch_folder(folder, RecursiveMode::NonRecursive, ours, on_change)
}

/// Whether `path` lies under a name starting with `.` below `root`: what a
/// snapshot folder's read skips (`.git`, an editor's swap file), so a
/// change there changes nothing.
fn hidden_under(root: &Path, path: &Path) -> bool {
    let Ok(inside) = path.strip_prefix(root) else {
        return false;
    };
    inside.components().any(|c| match c {
        Component::Normal(name) => name.to_string_lossy().starts_with('.'),
        _ => false,
    })
}

impl Files {
    /// Reads the files again and tells the probes of every type that
    /// changed (all of them when the read starts or stops failing).
    fn reread(&self) {
        let _one_at_a_time = self.reading.lock().unwrap_or_else(|e| e.into_inner());
        let read = Snapshot::load_kinds(&self.paths, self.kinds.as_ref());
        let moved = {
            let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
            state.take(read)
        };
        let ticks = self.ticks.lock().unwrap_or_else(|e| e.into_inner());
        for (key, tick) in ticks.iter() {
            let hit = match &moved {
                Moved::Nothing => false,
                Moved::Types(types) => types.contains(key),
                Moved::Everything => true,
            };
            if hit {
                tick.send_modify(|n| *n += 1);
            }
        }
    }

    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        // A poisoned lock only means a reader panicked; the state is whole.
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// Takes in a new read, keeping the objects of types that did not
    /// change.
    fn take(&mut self, read: Result<Snapshot, SnapshotError>) -> Moved {
        match read {
            Err(e) if self.failed.as_ref() == Some(&e) => Moved::Nothing,
            Err(e) => {
                self.failed = Some(e);
                Moved::Everything
            }
            Ok(mut snapshot) => {
                let changed = snapshot.carry_over(&self.snapshot);
                self.snapshot = snapshot;
                if self.failed.take().is_some() {
                    Moved::Everything
                } else if changed.is_empty() {
                    Moved::Nothing
                } else {
                    Moved::Types(changed)
                }
            }
        }
    }
}

impl ObjectSource for FollowedSnapshot {
    fn describe(&self) -> String {
        self.files.described.clone()
    }

    fn list<'a>(
        &'a self,
        query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>> {
        Box::pin(async move {
            let state = self.files.read_state();
            match &state.failed {
                Some(e) => Err(SourceError::Unavailable(e.to_string())),
                None => state.snapshot.select(query),
            }
        })
    }

    /// Ticks when a read finds `query`'s type changed, or the files start
    /// or stop reading. Starts above zero: the first read is in.
    fn changes<'a>(&'a self, query: &'a ObjectQuery) -> BoxFuture<'a, Option<Changes>> {
        Box::pin(async move {
            let mut ticks = self.files.ticks.lock().unwrap_or_else(|e| e.into_inner());
            let tick = ticks
                .entry(type_key(query))
                .or_insert_with(|| watch::channel(1).0);
            Some(tick.subscribe())
        })
    }

    fn reload(&self) -> BoxFuture<'_, ()> {
        let files = self.files.clone();
        Box::pin(async move {
            // Parsing is disk and CPU work: off the runtime's threads.
            if let Err(e) = tokio::task::spawn_blocking(move || files.reread()).await {
                tracing::warn!("reading the snapshot again failed: {e}");
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::ResourceType;
    use crate::cluster::{Cursor, Delta};

    fn query(resource: &str) -> ObjectQuery {
        ObjectQuery {
            resource: ResourceType::parse(resource).expect("test resource types are valid"),
            namespace: None,
            name: None,
            label_selector: Default::default(),
            field_selector: Default::default(),
        }
    }

    fn deployment(replicas: u32) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: shop}}\nspec: {{replicas: {replicas}}}\n"
        )
    }

    const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n";

    fn replicas(source: &FollowedSnapshot) -> Result<Vec<i64>, SourceError> {
        let objects = futures::executor::block_on(source.list(&query("apps/v1/Deployment")))?;
        Ok(objects
            .iter()
            .filter_map(|o| o.to_json()["spec"]["replicas"].as_i64())
            .collect())
    }

    /// A reload tells the probes of the type that changed, and only them;
    /// the other type keeps its objects (and what was said of them); a
    /// reload that finds nothing new tells nobody.
    #[tokio::test]
    async fn a_reload_tells_the_types_that_changed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let deploy = dir.path().join("deploy.yaml");
        std::fs::write(&deploy, deployment(1)).expect("write");
        std::fs::write(dir.path().join("cm.yaml"), CONFIG_MAP).expect("write");
        let source = FollowedSnapshot::follow(&[dir.path().to_path_buf()], None).expect("reads");
        let (deployments, maps) = (query("apps/v1/Deployment"), query("v1/ConfigMap"));
        let mut deploy_ticks = source.changes(&deployments).await.expect("followed");
        let mut map_ticks = source.changes(&maps).await.expect("followed");
        assert_eq!(*deploy_ticks.borrow_and_update(), 1, "the first read is in");
        map_ticks.borrow_and_update();
        let map_before = source.list(&maps).await.expect("reads");

        std::fs::write(&deploy, deployment(3)).expect("write");
        source.reload().await;
        assert_eq!(replicas(&source), Ok(vec![3]));
        assert!(deploy_ticks.has_changed().expect("open"));
        assert!(!map_ticks.has_changed().expect("open"));
        let map_after = source.list(&maps).await.expect("reads");
        assert!(Arc::ptr_eq(&map_before[0], &map_after[0]), "kept as it was");

        deploy_ticks.borrow_and_update();
        source.reload().await;
        assert!(!deploy_ticks.has_changed().expect("open"), "nothing new");

        // A tally's cursor from before is answered in full.
        let since = Some(Cursor { epoch: 0, seq: 0 });
        match source.read_since(&deployments, since).await {
            Ok(Delta::All { objects, cursor }) => {
                assert_eq!(objects.len(), 1);
                assert_eq!(cursor, None);
            }
            _ => panic!("a snapshot answers with everything"),
        }
    }

    /// A manifest saved broken: every type is told, each read says where
    /// the file is wrong; the next good save brings the objects back.
    #[tokio::test]
    async fn a_broken_save_is_the_reason_until_a_good_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let deploy = dir.path().join("deploy.yaml");
        std::fs::write(&deploy, deployment(1)).expect("write");
        std::fs::write(dir.path().join("cm.yaml"), CONFIG_MAP).expect("write");
        let source = FollowedSnapshot::follow(std::slice::from_ref(&deploy), None).expect("reads");
        let mut map_ticks = source
            .changes(&query("v1/ConfigMap"))
            .await
            .expect("followed");
        map_ticks.borrow_and_update();

        std::fs::write(
            &deploy,
            "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: [2}\n",
        )
        .expect("write");
        source.reload().await;
        let Err(SourceError::Unavailable(why)) = replicas(&source) else {
            panic!("a broken file is no answer");
        };
        assert!(
            why.starts_with(&format!("{}:3:", deploy.display())),
            "{why}"
        );
        assert!(map_ticks.has_changed().expect("open"), "every type is told");
        map_ticks.borrow_and_update();
        source.reload().await;
        assert!(!map_ticks.has_changed().expect("open"), "the same mistake");

        std::fs::write(&deploy, deployment(2)).expect("write");
        source.reload().await;
        assert_eq!(replicas(&source), Ok(vec![2]));
        assert!(map_ticks.has_changed().expect("open"), "every type is told");
    }

    #[test]
    fn changes_under_hidden_names_are_not_looked_at() {
        let root = Path::new("/r/rendered");
        assert!(hidden_under(root, Path::new("/r/rendered/.git/index")));
        assert!(hidden_under(
            root,
            Path::new("/r/rendered/a/.prod.yaml.swp")
        ));
        assert!(!hidden_under(root, Path::new("/r/rendered/a/prod.yaml")));
        assert!(!hidden_under(root, Path::new("/r/rendered")));
        assert!(!hidden_under(
            Path::new("/r/.rendered"),
            Path::new("/r/.rendered/x.yaml")
        ));
    }
}
