//! Noticing another session's appends: for a file, a file-system watch on
//! the log's folder, filtered to the log; for a store in the cluster, a
//! watch on the review's objects (`kube.rs`). Either way debounced, so a
//! running TUI refreshes within a second of someone else's tick. The same
//! folder watch (`watch_folder`) tells the dashboard's snapshot that a
//! manifest changed (`cluster::reload`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecursiveMode, Watcher};

/// Quiet time that ends a burst of file events (one append is several).
const QUIET: Duration = Duration::from_millis(120);
/// A burst that never goes quiet is still reported this often.
const MAX_DELAY: Duration = Duration::from_millis(400);

#[derive(Debug)]
pub enum WatchError {
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    Notify {
        folder: PathBuf,
        source: notify::Error,
    },
    /// The watch on the cluster could not start.
    Cluster(String),
}

impl fmt::Display for WatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchError::Io { path, source } => {
                write!(f, "cannot watch {}: {source}", path.display())
            }
            WatchError::Notify { folder, source } => {
                write!(f, "cannot watch {}: {source}", folder.display())
            }
            WatchError::Cluster(reason) => {
                write!(f, "cannot watch the log in the cluster: {reason}")
            }
        }
    }
}

impl std::error::Error for WatchError {}

/// Keeps a watch alive; dropping it stops the watch and its debounce thread.
pub struct WatchGuard {
    _watch: Box<dyn Send>,
}

impl WatchGuard {
    /// Keeps `watch` (a file watcher, a task that ends when dropped) alive.
    pub(crate) fn new(watch: impl Send + 'static) -> WatchGuard {
        WatchGuard {
            _watch: Box::new(watch),
        }
    }
}

/// A watch whose changes arrive on a tokio channel.
pub struct LedgerWatcher {
    changes: tokio::sync::mpsc::Receiver<()>,
    _guard: WatchGuard,
}

impl LedgerWatcher {
    /// Waits for the next change; `false` once the watch has stopped.
    pub async fn changed(&mut self) -> bool {
        self.changes.recv().await.is_some()
    }

    /// Whether a change arrived since the last call, without waiting.
    pub fn try_changed(&mut self) -> bool {
        self.changes.try_recv().is_ok()
    }
}

/// Watches the log file at `path` (a `DirStore::path()`). Changes that
/// come in a burst are reported once; a change that arrives while one is
/// still unread is folded into it, so the reader refreshes once per wake-up.
pub fn watch(path: &Path) -> Result<LedgerWatcher, WatchError> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let guard = watch_with(path, notifier(tx))?;
    Ok(LedgerWatcher {
        changes: rx,
        _guard: guard,
    })
}

/// Like `watch`, for the log in any store.
pub fn watch_store(store: &dyn super::Store) -> Result<LedgerWatcher, WatchError> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let guard = store.watch(Box::new(notifier(tx)))?;
    Ok(LedgerWatcher {
        changes: rx,
        _guard: guard,
    })
}

fn notifier(tx: tokio::sync::mpsc::Sender<()>) -> impl FnMut() + Send + 'static {
    move || {
        // Full means a change is already waiting to be read: nothing to add.
        let _ = tx.try_send(());
    }
}

/// Like `watch`, calling `on_change` (from a background thread) instead: for
/// a client that turns changes into messages on its own channel.
pub fn watch_with(
    path: &Path,
    on_change: impl FnMut() + Send + 'static,
) -> Result<WatchGuard, WatchError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(ToOwned::to_owned)
        .ok_or_else(|| WatchError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
        })?;
    // The folder normally appears with the first append; the watch needs it
    // now, to see that first append.
    std::fs::create_dir_all(dir).map_err(|source| WatchError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    // The folder, not the file: a file replaced by a rename is a new file,
    // which a watch on the old one would never hear of.
    let ours = move |changed: &Path| changed.file_name() == Some(&name);
    watch_folder(dir, RecursiveMode::NonRecursive, ours, on_change)
}

/// Watches the folder `dir` (and, `Recursive`, every folder under it),
/// calling `on_change` from a background thread once per burst of writes to
/// a path that `ours` accepts. Reads are not writes: a reader that looks at
/// the files after a change does not wake itself up again.
pub fn watch_folder(
    dir: &Path,
    depth: RecursiveMode,
    ours: impl Fn(&Path) -> bool + Send + 'static,
    on_change: impl FnMut() + Send + 'static,
) -> Result<WatchGuard, WatchError> {
    let raw_tx = debounced(on_change).map_err(|source| WatchError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let failed = |source| WatchError::Notify {
        folder: dir.to_path_buf(),
        source,
    };
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let ours = match event {
            Ok(event) => is_write(&event.kind) && event.paths.iter().any(|p| ours(p)),
            // Lost events (a queue overflow) may have been ours: refreshing
            // costs little.
            Err(_) => true,
        };
        if ours {
            let _ = raw_tx.send(());
        }
    })
    .map_err(failed)?;
    watcher.watch(dir, depth).map_err(failed)?;
    Ok(WatchGuard::new(watcher))
}

/// A sender of raw change signals whose bursts reach `on_change` once, on
/// a thread of its own that ends when every sender is dropped.
pub(crate) fn debounced(
    on_change: impl FnMut() + Send + 'static,
) -> std::io::Result<std_mpsc::Sender<()>> {
    let (raw_tx, raw_rx) = std_mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("watch-debounce".into())
        .spawn(move || debounce(&raw_rx, on_change))?;
    Ok(raw_tx)
}

/// Whether a file event can mean new content. Reads and opens are left out:
/// a session refreshing after a change must not wake itself up again.
fn is_write(kind: &EventKind) -> bool {
    match kind {
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
    }
}

/// Turns bursts of raw events into single calls; ends when the watcher (the
/// sending side) is dropped.
fn debounce(raw: &std_mpsc::Receiver<()>, mut on_change: impl FnMut()) {
    while raw.recv().is_ok() {
        let first = Instant::now();
        loop {
            let left = MAX_DELAY.saturating_sub(first.elapsed());
            if left.is_zero() {
                break;
            }
            match raw.recv_timeout(QUIET.min(left)) {
                Ok(()) => continue,
                Err(std_mpsc::RecvTimeoutError::Timeout) => break,
                Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
            }
        }
        on_change();
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, AccessMode, CreateKind, DataChange, ModifyKind, RenameMode};

    use super::*;

    #[test]
    fn writes_wake_the_reader_and_its_own_reads_do_not() {
        let writes = [
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            EventKind::Create(CreateKind::File),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            EventKind::Any,
        ];
        assert!(writes.iter().all(is_write));
        let reads = [
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            EventKind::Access(AccessKind::Read),
        ];
        assert!(!reads.iter().any(is_write));
    }
}
