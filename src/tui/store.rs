//! The TUI's one door to the sign-off log: load, refresh, append and watch
//! one review (checklist, environment). Every call may touch the disk, so the
//! event loop runs them off the input path; the headless driver calls them
//! directly.

use std::path::Path;
use std::sync::Mutex;

use crate::ledger::watch::{WatchGuard, watch_with};
use crate::ledger::{Event, EventKind, Ledger, Loaded, LogView, Refresh};
use crate::review::record::{self, RecordError, Where};
use crate::review::rules::Change;

/// One review's log after a read or a write: the log as shown, and what
/// other sessions changed since the last read, in words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSnapshot {
    pub log: LogView,
    /// Other sessions' changes folded in by this refresh, for toasts.
    pub news: Vec<String>,
}

/// One review's log, with what was last read from it.
pub struct LogStore {
    ledger: Ledger,
    loaded: Mutex<Option<Loaded>>,
}

impl LogStore {
    /// Cheap: nothing is read until `load`.
    pub fn open(state_dir: &Path, checklist: &str, env: &str) -> Result<LogStore, String> {
        let ledger = Ledger::open(state_dir, checklist, env).map_err(|e| e.to_string())?;
        Ok(LogStore {
            ledger,
            loaded: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        self.ledger.path()
    }

    /// Reads and checks the whole log.
    pub fn load(&self) -> Result<LogSnapshot, String> {
        let loaded = self.ledger.load().map_err(|e| e.to_string())?;
        let snap = snapshot(&loaded, Vec::new());
        *self.lock() = Some(loaded);
        Ok(snap)
    }

    /// Folds in what other sessions appended; `None` when nothing changed.
    pub fn refresh(&self) -> Result<Option<LogSnapshot>, String> {
        let mut guard = self.lock();
        let Some(loaded) = guard.as_mut() else {
            drop(guard);
            return self.load().map(Some);
        };
        match self.ledger.refresh(loaded).map_err(|e| e.to_string())? {
            Refresh::Unchanged => Ok(None),
            Refresh::Appended(events) => {
                let news = events.iter().map(describe).collect();
                Ok(Some(snapshot(loaded, news)))
            }
            Refresh::Reloaded => Ok(Some(snapshot(
                loaded,
                vec!["the sign-off log was replaced on disk and read again".into()],
            ))),
            Refresh::ReportChanged => Ok(Some(snapshot(loaded, Vec::new()))),
        }
    }

    /// Records `change` by `by` through `review::record`: judged again
    /// against the log as it now is. Returns the state after it.
    pub fn write(
        &self,
        by: &str,
        place: Where,
        change: &Change,
        now: jiff::Timestamp,
    ) -> Result<LogSnapshot, WriteError> {
        // Held across the append, so the watcher's refresh (another thread)
        // cannot fold our own event in first and announce it as news.
        let mut guard = self.lock();
        if guard.is_none() {
            let loaded = self
                .ledger
                .load()
                .map_err(|e| WriteError::Failed(e.to_string()))?;
            *guard = Some(loaded);
        }
        let loaded = guard.as_mut().expect("loaded just above");
        let result = record::record(&self.ledger, loaded, by, place, change, now);
        // Whatever happened, show the log as it now is.
        let fresh = snapshot(loaded, Vec::new());
        match result {
            Ok(_) => Ok(fresh),
            Err(RecordError::Moved) => Err(WriteError::Moved(Some(Box::new(fresh)))),
            Err(RecordError::Refused(r)) => {
                Err(WriteError::Refused(Some(Box::new(fresh)), r.message))
            }
            Err(RecordError::Failed(e)) => Err(WriteError::Failed(e.to_string())),
        }
    }

    /// Calls `on_change` (from a background thread) when the log file changes.
    pub fn watch(&self, on_change: impl FnMut() + Send + 'static) -> Result<WatchGuard, String> {
        watch_with(self.ledger.path(), on_change).map_err(|e| e.to_string())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Loaded>> {
        // A panic while holding the lock leaves `Loaded` as it was: usable.
        self.loaded.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteError {
    /// A sign-off whose review another session changed after it was
    /// decided; carries the log as it now is.
    Moved(Option<Box<LogSnapshot>>),
    /// Judged again against the log as it now is (another session wrote
    /// first), the rules refused it; carries that log and why.
    Refused(Option<Box<LogSnapshot>>, String),
    Failed(String),
}

fn snapshot(loaded: &Loaded, news: Vec<String>) -> LogSnapshot {
    LogSnapshot {
        log: loaded.view(),
        news,
    }
}

/// "bob ticked rollback-drill", for a toast.
pub fn describe(event: &Event) -> String {
    let by = crate::text::sanitize(&event.by, false);
    let item = event.item().unwrap_or("");
    match &event.kind {
        EventKind::Tick { .. } => format!("{by} ticked {item}"),
        EventKind::Untick { .. } => format!("{by} unticked {item}"),
        EventKind::Note { .. } => format!("{by} added a note to {item}"),
        EventKind::Waive { .. } => format!("{by} waived {item}"),
        EventKind::Unwaive { .. } => format!("{by} withdrew the waiver of {item}"),
        EventKind::Signoff { decision, .. } => format!("{by} signed off {decision}"),
        EventKind::Unknown { kind, .. } => format!("{by} recorded `{kind}`"),
    }
}

/// Carries out one append the app asked for; the answer is the action that
/// reports it back (the event loop and the headless driver both use this).
pub fn write_action(
    store: &LogStore,
    by: &str,
    req: super::app::WriteRequest,
) -> super::app::Action {
    use super::app::Action;
    let place = Where {
        env: &req.env,
        read_only: req.read_only,
    };
    match store.write(by, place, &req.change, req.now) {
        Ok(snapshot) => Action::Written {
            generation: req.generation,
            checklist: req.checklist,
            snapshot,
            message: req.done,
        },
        Err(error) => Action::WriteFailed {
            generation: req.generation,
            checklist: req.checklist,
            error,
        },
    }
}
