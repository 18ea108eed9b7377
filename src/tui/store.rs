//! The TUI's one door to the sign-off log: load, refresh, append and watch
//! one review (checklist, environment). Every call may touch the disk, so the
//! event loop runs them off the input path; the headless driver calls them
//! directly.

use std::sync::{Arc, Mutex};

use crate::ledger::watch::WatchGuard;
use crate::ledger::{
    Event, EventKind, Health, LedgerError, Loaded, LogView, Refresh, Signer, Store,
};
use crate::review::record::{self, RecordError, Where};
use crate::review::rules::Change;

/// One review's log after a read or a write: the log as shown, and what
/// other sessions changed since the last read, in words.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSnapshot {
    pub log: LogView,
    /// Other sessions' changes folded in by this refresh, for toasts.
    pub news: Vec<String>,
    /// Whether the store answered (the kube store's API server): the hook
    /// for the dashboard header. While it does not, `log` is the log as
    /// last read.
    pub store: Health,
    /// The command that verifies this log (`gonogo log --env E --verify`
    /// or the file's path).
    pub verify: String,
}

/// One review's log, with what was last read from it.
pub struct LogStore {
    ledger: Arc<dyn Store>,
    loaded: Mutex<Option<Loaded>>,
    /// The health the last snapshot reported.
    health: Mutex<Health>,
}

impl LogStore {
    /// Cheap: nothing is read until `load`.
    pub fn new(ledger: Arc<dyn Store>) -> LogStore {
        LogStore {
            ledger,
            loaded: Mutex::new(None),
            health: Mutex::new(Health::Ok),
        }
    }

    /// Every event of the log, as the store holds it now.
    pub fn events(&self) -> Result<Vec<Event>, String> {
        self.ledger.events().map_err(|e| e.to_string())
    }

    /// The store the log is kept in.
    pub fn ledger(&self) -> &dyn Store {
        self.ledger.as_ref()
    }

    /// Where the log is kept, as messages name it.
    pub fn location(&self) -> String {
        self.ledger.location()
    }

    /// Reads and checks the whole log.
    pub fn load(&self) -> Result<LogSnapshot, String> {
        let loaded = self.ledger.load().map_err(|e| e.to_string())?;
        let snap = self.snapshot(&loaded, Vec::new());
        *self.lock() = Some(loaded);
        Ok(snap)
    }

    /// Folds in what other sessions appended; `None` when nothing changed.
    /// A store that stops answering (or answers again) is a change: the
    /// snapshot then shows the log as last read, with the store's health.
    pub fn refresh(&self) -> Result<Option<LogSnapshot>, String> {
        let mut guard = self.lock();
        let Some(loaded) = guard.as_mut() else {
            drop(guard);
            return self.load().map(Some);
        };
        let refresh = match self.ledger.refresh(loaded) {
            Ok(refresh) => refresh,
            Err(LedgerError::Unavailable { reason, .. }) => {
                let down = Health::Unreachable(reason);
                if *lock(&self.health) == down {
                    return Ok(None);
                }
                return Ok(Some(self.snapshot(loaded, Vec::new())));
            }
            Err(e) => return Err(e.to_string()),
        };
        let came_back = *lock(&self.health) != self.ledger.health();
        match refresh {
            Refresh::Unchanged if came_back => Ok(Some(self.snapshot(loaded, Vec::new()))),
            Refresh::Unchanged => Ok(None),
            Refresh::Appended(events) => {
                let news = events.iter().map(describe).collect();
                Ok(Some(self.snapshot(loaded, news)))
            }
            Refresh::Reloaded => Ok(Some(self.snapshot(
                loaded,
                vec![format!(
                    "the sign-off log changed under what was read ({}): read again",
                    self.ledger.location()
                )],
            ))),
            Refresh::ReportChanged => Ok(Some(self.snapshot(loaded, Vec::new()))),
        }
    }

    fn snapshot(&self, loaded: &Loaded, news: Vec<String>) -> LogSnapshot {
        let store = self.ledger.health();
        lock(&self.health).clone_from(&store);
        LogSnapshot {
            log: loaded.view(),
            news,
            store,
            verify: self.ledger.verify_command(),
        }
    }

    /// Records `change` by `by` through `review::record`: judged again
    /// against the log as it now is. Returns the state after it.
    pub fn write(
        &self,
        by: &Signer,
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
        let result = record::record(self.ledger.as_ref(), loaded, by, place, change, now);
        // Whatever happened, show the log as it now is.
        let fresh = self.snapshot(loaded, Vec::new());
        match result {
            Ok(_) => Ok(fresh),
            Err(RecordError::Moved) => Err(WriteError::Moved(Some(Box::new(fresh)))),
            Err(RecordError::Refused(r)) => {
                Err(WriteError::Refused(Some(Box::new(fresh)), r.message))
            }
            Err(RecordError::Failed(e)) => Err(WriteError::Failed(e.to_string())),
        }
    }

    /// Calls `on_change` (from a background thread) when the log may have
    /// changed: the file, or the review's objects in the cluster.
    pub fn watch(&self, on_change: impl FnMut() + Send + 'static) -> Result<WatchGuard, String> {
        self.ledger
            .watch(Box::new(on_change))
            .map_err(|e| e.to_string())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Loaded>> {
        lock(&self.loaded)
    }
}

/// A panic while holding a lock leaves what it guards as it was: usable.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
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
    by: &Signer,
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
