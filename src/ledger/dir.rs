//! The dir store: the log of one review as an append-only JSON Lines file,
//! `<state dir>/<checklist>/<env>.jsonl`. Appends take an exclusive lock,
//! re-read the tail, write and fsync, so they survive a crash at any point
//! and two sessions on one host never lose each other's events; a line a
//! crash cut short is moved aside, never silently dropped.
//!
//! `refresh` and `append` parse and re-hash only the lines written since
//! the cursor they carry, after making sure the part already checked is
//! byte for byte what it was.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::event::{Event, EventKind, Signer};
use super::log::{
    Health, LedgerError, Loaded, Mark, Read, Refresh, Store, VerifyReport, chain, check_import,
    clean,
};
use super::scan::{Cursor, Scan, Torn, scan};
use super::watch::{WatchError, WatchGuard, watch_with};

/// How long an append waits for another session's append to finish.
const WRITE_WAIT: Duration = Duration::from_secs(10);
/// How long a read waits for a consistent view before reading anyway (a
/// half-written line then shows as a torn tail until the next refresh).
const READ_WAIT: Duration = Duration::from_secs(2);

/// The log file of one (checklist, environment). Cheap to open; the file
/// and its folder are created by the first append.
#[derive(Debug)]
pub struct DirStore {
    path: PathBuf,
    /// What the last append checked, so the next one reads only what came after.
    cursor: Mutex<Cursor>,
}

impl DirStore {
    /// The log at `<state_dir>/<checklist>/<env>.jsonl`.
    pub fn open(state_dir: &Path, checklist: &str, env: &str) -> Result<DirStore, LedgerError> {
        check_name("checklist id", checklist)?;
        check_name("environment", env)?;
        Ok(DirStore::at(
            state_dir.join(checklist).join(format!("{env}.jsonl")),
        ))
    }

    /// The log in the file at `path`, wherever it lives (to read or verify
    /// a log a document names, or an archive, without its checklist or
    /// config).
    pub fn at(path: PathBuf) -> DirStore {
        DirStore {
            path,
            cursor: Mutex::new(Cursor::default()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn scan_all(&self, sink: &mut dyn FnMut(Event)) -> Result<Scan, LedgerError> {
        let Some(file) = self.open_for_reading()? else {
            return Ok(Scan::new(Cursor::default(), true));
        };
        let _lock = lock(&file, Lock::Shared, &self.path)?;
        scan(&file, &Cursor::default(), sink).map_err(|e| self.io("read", e))
    }

    /// Appends `lines` (each with its `\n`) under the exclusive lock, once
    /// `ready` has accepted the log as it now stands; `ready` returns the
    /// lines to write, given the cursor after the last complete line.
    fn write_under_lock<T>(
        &self,
        ready: impl FnOnce(&File, &Cursor) -> Result<(T, Vec<String>), LedgerError>,
        advance: impl FnOnce(&mut Cursor, &T, &[u8]),
    ) -> Result<T, LedgerError> {
        let file = self.open_for_appending()?;
        let _lock = lock(&file, Lock::Exclusive, &self.path)?;
        let known = self.cursor_snapshot();
        let scan = scan(&file, &known, &mut |_| {}).map_err(|e| self.io("read", e))?;
        let mut cursor = scan.cursor;
        if let Some(problem) = cursor.chain.first_problem.clone() {
            self.remember(cursor);
            return Err(LedgerError::Tampered {
                log: self.location(),
                problem,
            });
        }
        if let Some(torn) = &scan.torn {
            self.set_aside(&file, torn)?;
        }
        let (value, lines) = match ready(&file, &cursor) {
            Ok(ready) => ready,
            Err(e) => {
                self.remember(cursor);
                return Err(e);
            }
        };
        let text = lines.concat();
        if !text.is_empty() {
            (&file)
                .write_all(text.as_bytes())
                .and_then(|()| file.sync_data())
                .map_err(|e| self.io("append to", e))?;
        }
        advance(&mut cursor, &value, text.as_bytes());
        self.remember(cursor);
        Ok(value)
    }
    fn open_for_reading(&self) -> Result<Option<File>, LedgerError> {
        match File::open(&self.path) {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io("open", e)),
        }
    }

    fn open_for_appending(&self) -> Result<File, LedgerError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir).map_err(|e| LedgerError::Io {
            action: "create the folder",
            path: dir.to_path_buf(),
            source: e,
        })?;
        let existed = self.path.exists();
        let file = private(OpenOptions::new().read(true).append(true).create(true))
            .open(&self.path)
            .map_err(|e| self.io("open", e))?;
        if !existed {
            // A new file's name must be durable too, or a crash can lose
            // the whole log along with its first line.
            sync_dir(dir);
        }
        Ok(file)
    }

    /// Moves a torn tail into `<file>.torn-<time>` and cuts it off the log.
    fn set_aside(&self, file: &File, torn: &Torn) -> Result<(), LedgerError> {
        let aside = self.torn_path();
        let mut out = private(OpenOptions::new().write(true).create_new(true))
            .open(&aside)
            .map_err(|e| LedgerError::Io {
                action: "create",
                path: aside.clone(),
                source: e,
            })?;
        out.write_all(&torn.bytes)
            .and_then(|()| out.sync_all())
            .map_err(|e| LedgerError::Io {
                action: "write",
                path: aside.clone(),
                source: e,
            })?;
        file.set_len(torn.start)
            .map_err(|e| self.io("cut the torn line off", e))?;
        tracing::warn!(
            log = %self.path.display(),
            aside = %aside.display(),
            bytes = torn.bytes.len(),
            "moved an incomplete last line aside"
        );
        Ok(())
    }

    /// A free `<file>.torn-<UTC time>[-n]` name.
    fn torn_path(&self) -> PathBuf {
        let stamp = jiff::Timestamp::now()
            .strftime("%Y%m%dT%H%M%S%.3fZ")
            .to_string();
        let base = format!("{}.torn-{stamp}", self.path.display());
        (1..)
            .map(|n| {
                if n == 1 {
                    PathBuf::from(&base)
                } else {
                    PathBuf::from(format!("{base}-{n}"))
                }
            })
            .find(|p| !p.exists())
            .expect("an unbounded range always has a free name")
    }

    fn cursor_snapshot(&self) -> Cursor {
        // A poisoned lock only means another thread panicked mid-append; the
        // cursor is re-checked against the file anyway.
        match self.cursor.lock() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn remember(&self, cursor: Cursor) {
        match self.cursor.lock() {
            Ok(mut c) => *c = cursor,
            Err(poisoned) => *poisoned.into_inner() = cursor,
        }
    }

    fn io(&self, action: &'static str, source: io::Error) -> LedgerError {
        LedgerError::Io {
            action,
            path: self.path.clone(),
            source,
        }
    }
}

impl Store for DirStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn exposure(&self) -> Option<String> {
        exposure(&self.path)
    }

    fn verify_command(&self) -> String {
        format!(
            "gonogo log --verify {}",
            crate::text::shell_word(&self.location())
        )
    }

    fn load(&self) -> Result<Loaded, LedgerError> {
        let mut events = Vec::new();
        let scan = self.scan_all(&mut |event| events.push(event))?;
        Ok(Loaded::from_read(read_of(scan, events)))
    }

    fn refresh(&self, loaded: &mut Loaded) -> Result<Refresh, LedgerError> {
        let from = match &loaded.mark {
            Mark::File(cursor) => cursor.clone(),
            Mark::None | Mark::Objects(_) => Cursor::default(),
        };
        let Some(file) = self.open_for_reading()? else {
            if from.offset == 0 && loaded.warnings.is_empty() && loaded.events == 0 {
                return Ok(Refresh::Unchanged);
            }
            *loaded = Loaded::empty();
            return Ok(Refresh::Reloaded);
        };
        let _lock = lock(&file, Lock::Shared, &self.path)?;
        let mut events = Vec::new();
        let mut scan =
            scan(&file, &from, &mut |e| events.push(e)).map_err(|e| self.io("read", e))?;
        // What another store read says nothing of this file.
        scan.from_start |= matches!(loaded.mark, Mark::Objects(_));
        Ok(loaded.fold(read_of(scan, events)))
    }

    fn verify(&self) -> Result<VerifyReport, LedgerError> {
        let scan = self.scan_all(&mut |_| {})?;
        Ok(VerifyReport::of(&scan.cursor.chain, scan.found))
    }

    fn records(&self) -> Result<Vec<String>, LedgerError> {
        let Some(file) = self.open_for_reading()? else {
            return Ok(Vec::new());
        };
        let _lock = lock(&file, Lock::Shared, &self.path)?;
        let scan = scan(&file, &Cursor::default(), &mut |_| {}).map_err(|e| self.io("read", e))?;
        complete_records(&file, scan.cursor.offset).map_err(|e| self.io("read", e))
    }

    fn append_after(
        &self,
        head: Option<&str>,
        by: &Signer,
        kinds: Vec<EventKind>,
    ) -> Result<Vec<Event>, LedgerError> {
        let (by, kinds) = clean(by, kinds)?;
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        self.write_under_lock(
            |_, cursor| {
                let found = cursor.head();
                if let Some(expected) = head
                    && expected != found
                {
                    return Err(LedgerError::HeadMoved {
                        expected: expected.to_string(),
                        found,
                    });
                }
                let next = cursor.chain.next_seq.unwrap_or(1);
                chain(next, &found, &by, kinds)
            },
            |cursor, events, text| cursor.advance(events, text),
        )
    }

    fn import(&self, records: &[String]) -> Result<u64, LedgerError> {
        check_import(records, &self.location())?;
        self.write_under_lock(
            |file, cursor| {
                let held = usize::try_from(cursor.chain.records).unwrap_or(usize::MAX);
                let have = complete_records(file, cursor.offset).map_err(|e| self.io("read", e))?;
                if have.len() != held || records.get(..held) != Some(&have[..]) {
                    return Err(LedgerError::Invalid(format!(
                        "{} already holds a different log ({} records): nothing copied",
                        self.location(),
                        have.len()
                    )));
                }
                let rest = records[held..].to_vec();
                Ok((rest.len() as u64, rest))
            },
            // The next read checks what was written from the start.
            |cursor, _, _| *cursor = Cursor::default(),
        )
    }

    fn watch(&self, on_change: Box<dyn FnMut() + Send>) -> Result<WatchGuard, WatchError> {
        watch_with(&self.path, on_change)
    }

    fn health(&self) -> Health {
        Health::Ok
    }
}

/// The first `offset` bytes of `file` (its complete lines), line by line.
fn complete_records(file: &File, offset: u64) -> io::Result<Vec<String>> {
    let mut file = file;
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.take(offset).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(text.split_inclusive('\n').map(str::to_string).collect())
}

fn read_of(scan: Scan, events: Vec<Event>) -> Read {
    Read {
        events,
        chain: scan.cursor.chain.clone(),
        found: scan.found,
        from_start: scan.from_start,
        mark: Mark::File(scan.cursor),
    }
}

/// A name that becomes one path component, and nothing else.
fn check_name(what: &'static str, name: &str) -> Result<(), LedgerError> {
    let bad = name.is_empty()
        || name == "."
        || name == ".."
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(LedgerError::BadName {
            what,
            name: name.to_string(),
        });
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Lock {
    Shared,
    Exclusive,
}

/// Holds a lock on a file until dropped.
struct Held<'a>(&'a File);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // Closing the file releases the lock as well; unlocking first just
        // lets a waiting session in before our handle is dropped.
        let _ = self.0.unlock();
    }
}

/// Takes a lock, polling so a stuck holder (a suspended process) turns into
/// an error for writers instead of a hang. Readers that wait too long read
/// anyway: the worst they see is a line still being written, as a torn tail.
fn lock<'a>(file: &'a File, kind: Lock, path: &Path) -> Result<Option<Held<'a>>, LedgerError> {
    let (wait, tried) = match kind {
        Lock::Shared => (READ_WAIT, File::try_lock_shared as fn(&File) -> _),
        Lock::Exclusive => (WRITE_WAIT, File::try_lock as fn(&File) -> _),
    };
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_micros(200);
    loop {
        match tried(file) {
            Ok(()) => return Ok(Some(Held(file))),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(LedgerError::Io {
                    action: "lock",
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        }
        if Instant::now() >= deadline {
            return match kind {
                Lock::Shared => Ok(None),
                Lock::Exclusive => Err(LedgerError::Busy {
                    log: path.display().to_string(),
                }),
            };
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

/// Creates `dir` and any missing parent, each new one owner-only (0700): a
/// state folder holds who decided what, and notes people typed.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// `options`, making any file it creates owner-only (0600).
fn private(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options
}

/// Creates a new file, owner-only (0600); fails if it is there.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    private(OpenOptions::new().write(true).create_new(true)).open(path)
}

/// Why the log at `path` can be read by other users of this machine, if
/// it can: its mode, and the command that closes it. None for a log in a
/// git work tree, which is shared on purpose. (A folder others can list
/// shows them names only: the logs' contents are what is private.)
pub fn exposure(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        if mode & 0o077 == 0 || path.ancestors().any(|a| a.join(".git").exists()) {
            return None;
        }
        Some(format!(
            "{} can be read by other users (mode {mode:o}): chmod 600 {}",
            path.display(),
            crate::text::shell_word(&path.display().to_string())
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::event::{SignoffDecision, StatusCounts, hex_sha256};
    use crate::ledger::scan::ProblemKind;
    use crate::ledger::state::LogState;

    fn note(item: &str, text: &str) -> EventKind {
        EventKind::Note {
            item: item.into(),
            text: text.into(),
        }
    }

    /// A ledger in a fresh folder with `n` notes on item `a`.
    fn ledger_with(n: usize) -> (tempfile::TempDir, DirStore) {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = DirStore::open(dir.path(), "cmp-operator", "prod").expect("valid names");
        for i in 1..=n {
            ledger
                .append("alice", note("a", &format!("note {i}")))
                .expect("append to a healthy log");
        }
        (dir, ledger)
    }

    fn lines(ledger: &DirStore) -> Vec<String> {
        let text = std::fs::read_to_string(ledger.path()).expect("log exists");
        text.lines().map(str::to_string).collect()
    }

    fn rewrite(ledger: &DirStore, lines: &[String]) {
        let mut text = lines.join("\n");
        text.push('\n');
        std::fs::write(ledger.path(), text).expect("rewrite log");
    }

    #[test]
    fn opening_creates_nothing_and_the_first_append_creates_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let ledger = DirStore::open(&dir.path().join("state"), "cmp", "prod").expect("valid names");
        assert!(!dir.path().join("state").exists());
        let loaded = ledger.load().expect("a missing log loads empty");
        assert_eq!((loaded.events, loaded.head.as_str()), (0, ""));
        let event = ledger
            .append("alice", note("a", "hi"))
            .expect("first append");
        assert_eq!(ledger.path(), dir.path().join("state/cmp/prod.jsonl"));
        assert_eq!((event.seq, event.prev.as_str()), (1, ""));
    }

    #[test]
    fn appends_chain_and_load_folds_them() {
        let (_dir, ledger) = ledger_with(3);
        let tick = ledger
            .append("bob", EventKind::Tick { item: "a".into() })
            .expect("append");
        let events = ledger.events().expect("read events");
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        for pair in events.windows(2) {
            assert_eq!(pair[1].prev, pair[0].hash);
        }
        let loaded = ledger.load().expect("load");
        assert_eq!(loaded.events, 4);
        assert_eq!(loaded.head, tick.hash);
        assert_eq!(loaded.state.tick("a").map(|t| t.by.as_str()), Some("bob"));
        assert_eq!(
            loaded.state.notes("a").next().map(|n| n.text.as_str()),
            Some("note 3")
        );
        assert!(loaded.problems.is_empty() && loaded.warnings.is_empty());
        assert!(ledger.verify().expect("verify").is_intact());
    }

    #[test]
    fn names_and_text_are_cleaned_before_they_are_written() {
        let (_dir, ledger) = ledger_with(0);
        let event = ledger
            .append(
                "ev\u{1b}[31mil\nops",
                note("a", "line one\nline\u{7} two\u{202e}"),
            )
            .expect("append");
        assert_eq!(event.by, "evil ops");
        assert_eq!(event.kind, note("a", "line one\nline two"));
        let raw = std::fs::read_to_string(ledger.path()).expect("log exists");
        assert!(!raw.contains('\u{1b}') && !raw.contains('\u{7}'));
        assert!(matches!(
            ledger.append(" \u{7} ", note("a", "x")),
            Err(LedgerError::Invalid(_))
        ));
        assert!(matches!(
            DirStore::open(Path::new("/tmp"), "cmp", "../prod"),
            Err(LedgerError::BadName { .. })
        ));
    }

    #[test]
    fn a_signoff_signs_the_line_before_it() {
        let (_dir, ledger) = ledger_with(2);
        let head = ledger.load().expect("load").head;
        let signoff = |signed_hash: String| EventKind::Signoff {
            decision: SignoffDecision::NoGo,
            version: None,
            note: None,
            counts: StatusCounts::new(),
            items: Default::default(),
            signed_hash,
        };
        let event = ledger.append("dana", signoff(String::new())).expect("sign");
        assert_eq!(event.kind, signoff(head.clone()));
        // Signing a head that is no longer the head is refused.
        let before = lines(&ledger);
        let refused = ledger.append("dana", signoff(head));
        assert!(matches!(refused, Err(LedgerError::HeadMoved { .. })));
        assert_eq!(lines(&ledger), before);
    }

    #[test]
    fn append_after_a_stale_head_is_refused() {
        let (_dir, ledger) = ledger_with(1);
        let seen = ledger.load().expect("load").head;
        ledger
            .append("bob", note("a", "meanwhile"))
            .expect("append");
        let before = lines(&ledger);
        let refused = ledger.append_after(
            Some(&seen),
            &Signer::named("alice"),
            vec![EventKind::Tick { item: "a".into() }],
        );
        assert!(
            matches!(refused, Err(LedgerError::HeadMoved { .. })),
            "{refused:?}"
        );
        assert_eq!(lines(&ledger), before);
        let head = ledger.load().expect("load").head;
        let done = ledger
            .append_after(
                Some(&head),
                &Signer::named("alice"),
                vec![note("a", "proof"), EventKind::Tick { item: "a".into() }],
            )
            .expect("head is current");
        assert_eq!(done.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
    }

    /// Checks that verify and load report `expected` first, and that
    /// appending is refused without touching the file.
    fn assert_tampered(ledger: &DirStore, expected: &str) {
        let report = ledger.verify().expect("verify");
        let first = report.first_problem().map(ToString::to_string);
        assert_eq!(first.as_deref(), Some(expected), "{:?}", report.problems);
        let loaded = ledger.load().expect("a tampered log still loads");
        assert_eq!(
            loaded.problems.first().map(ToString::to_string).as_deref(),
            Some(expected)
        );
        let before = std::fs::read(ledger.path()).expect("log exists");
        let refused = ledger.append("mallory", note("a", "more"));
        match refused {
            Err(LedgerError::Tampered { problem, .. }) => assert_eq!(problem.to_string(), expected),
            other => panic!("append to a tampered log: {other:?}"),
        }
        assert_eq!(std::fs::read(ledger.path()).expect("log exists"), before);
    }

    #[test]
    fn an_edited_line_is_named() {
        let (_dir, ledger) = ledger_with(10);
        let mut l = lines(&ledger);
        l[6] = l[6].replace("note 7", "note 8");
        rewrite(&ledger, &l);
        assert_tampered(&ledger, "line 7: hash does not match its content (edited?)");
        assert_eq!(ledger.verify().expect("verify").problems.len(), 1);
    }

    #[test]
    fn an_edited_line_with_a_fresh_hash_breaks_the_next_link() {
        let (_dir, ledger) = ledger_with(10);
        let mut l = lines(&ledger);
        let edited = l[6].replace("note 7", "note 8");
        let body = &edited[..edited.len() - 75];
        let hash = hex_sha256(format!("{body}}}").as_bytes());
        l[6] = format!("{body},\"hash\":\"{hash}\"}}");
        rewrite(&ledger, &l);
        assert_tampered(
            &ledger,
            "line 8: prev does not link to line 7 (deleted or reordered line?)",
        );
    }

    #[test]
    fn a_deleted_line_is_named() {
        let (_dir, ledger) = ledger_with(10);
        let mut l = lines(&ledger);
        l.remove(8);
        rewrite(&ledger, &l);
        assert_tampered(
            &ledger,
            "line 9: prev does not link to line 8 (deleted or reordered line?)",
        );
        let mut l = lines(&ledger);
        l.remove(0);
        rewrite(&ledger, &l);
        assert_tampered(
            &ledger,
            "line 1: prev is not empty, so lines before it are missing (deleted?)",
        );
    }

    #[test]
    fn a_reordered_pair_is_named() {
        let (_dir, ledger) = ledger_with(10);
        let mut l = lines(&ledger);
        l.swap(3, 4);
        rewrite(&ledger, &l);
        assert_tampered(
            &ledger,
            "line 4: prev does not link to line 3 (deleted or reordered line?)",
        );
    }

    #[test]
    fn a_garbled_middle_line_is_tampering_not_a_torn_tail() {
        let (_dir, ledger) = ledger_with(5);
        let mut l = lines(&ledger);
        l[2] = "{\"seq\":3".into();
        rewrite(&ledger, &l);
        let report = ledger.verify().expect("verify");
        let first = report.first_problem().expect("a problem");
        assert_eq!(first.line, 3);
        assert!(matches!(first.kind, ProblemKind::Malformed { .. }));
        assert!(report.warnings.is_empty());
    }

    #[test]
    fn a_torn_tail_is_reported_then_moved_aside_by_the_next_append() {
        let (dir, ledger) = ledger_with(4);
        let good = std::fs::read(ledger.path()).expect("log exists");
        let (half, _) = Event {
            seq: 5,
            at: jiff::Timestamp::now(),
            by: "alice".into(),
            groups: Vec::new(),
            kind: note("a", "cut short"),
            prev: String::new(),
            hash: String::new(),
        }
        .to_line();
        let torn = &half.as_bytes()[..half.len() / 2];
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        file.write_all(torn).expect("write half a line");

        let loaded = ledger.load().expect("a torn log loads");
        assert_eq!(loaded.events, 4);
        assert!(loaded.problems.is_empty());
        let warning = loaded.torn_tail().expect("torn tail reported");
        assert_eq!(warning.line, 5);
        assert!(ledger.verify().expect("verify").is_intact());

        let event = ledger
            .append("bob", note("a", "after the crash"))
            .expect("append");
        assert_eq!(event.seq, 5);
        let aside: Vec<PathBuf> = std::fs::read_dir(dir.path().join("cmp-operator"))
            .expect("state folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().contains(".jsonl.torn-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(std::fs::read(&aside[0]).expect("torn copy"), torn);
        let now = std::fs::read(ledger.path()).expect("log exists");
        assert!(now.starts_with(&good));
        let report = ledger.verify().expect("verify");
        assert!(
            report.is_intact() && report.warnings.is_empty(),
            "{report:?}"
        );
        assert_eq!(report.events, 5);
    }

    #[test]
    fn a_complete_but_unreadable_last_line_counts_as_torn() {
        let (_dir, ledger) = ledger_with(2);
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        file.write_all(b"\0\0\0\0\n").expect("write zeros");
        let loaded = ledger.load().expect("load");
        assert!(loaded.torn_tail().is_some() && loaded.problems.is_empty());
        ledger
            .append("bob", note("a", "x"))
            .expect("append after a torn tail");
        assert!(ledger.verify().expect("verify").warnings.is_empty());
    }

    #[test]
    fn refresh_reads_only_what_is_new() {
        let (_dir, ledger) = ledger_with(2);
        let other = DirStore::open(
            ledger
                .path()
                .parent()
                .and_then(Path::parent)
                .expect("state dir"),
            "cmp-operator",
            "prod",
        )
        .expect("valid names");
        let mut loaded = ledger.load().expect("load");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::Unchanged
        );

        let tick = other
            .append("bob", EventKind::Tick { item: "b".into() })
            .expect("append from another session");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::Appended(vec![tick.clone()])
        );
        assert_eq!(
            (loaded.events, loaded.head.as_str()),
            (3, tick.hash.as_str())
        );
        assert!(loaded.state.tick("b").is_some());

        // A torn tail appearing is news; its repair by an append is too.
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        file.write_all(b"{\"seq\":4,").expect("write torn bytes");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::ReportChanged
        );
        assert!(loaded.torn_tail().is_some());
        let untick = other
            .append("bob", EventKind::Untick { item: "b".into() })
            .expect("append repairs the tail");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::Appended(vec![untick])
        );
        assert!(loaded.torn_tail().is_none() && loaded.state.tick("b").is_none());

        // A file replaced under its name (a git checkout) is read again.
        let mut l = lines(&ledger);
        l.truncate(1);
        let replacement = ledger.path().with_extension("new");
        std::fs::write(&replacement, format!("{}\n", l[0])).expect("write replacement");
        std::fs::rename(&replacement, ledger.path()).expect("replace log");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::Reloaded
        );
        assert_eq!(loaded.events, 1);
        assert_eq!(loaded.state, ledger.load().expect("load").state);
    }

    #[test]
    fn refresh_reports_tampering_as_it_arrives() {
        let (_dir, ledger) = ledger_with(3);
        let mut loaded = ledger.load().expect("load");
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        file.write_all(b"not an event\nnor this\n")
            .expect("write junk");
        assert_eq!(
            ledger.refresh(&mut loaded).expect("refresh"),
            Refresh::ReportChanged
        );
        let found: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["line 4: not a log event (no hash as its last field)"]
        );
        assert!(loaded.torn_tail().is_some_and(|w| w.line == 5));
        assert!(matches!(
            ledger.append("bob", note("a", "x")),
            Err(LedgerError::Tampered { .. })
        ));
    }

    #[test]
    fn a_replayed_line_is_caught_by_a_running_session() {
        let (_dir, ledger) = ledger_with(3);
        let mut loaded = ledger.load().expect("load");
        let last = lines(&ledger).pop().expect("three lines");
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        writeln!(file, "{last}").expect("replay the last line");
        assert!(matches!(
            ledger.refresh(&mut loaded),
            Ok(Refresh::Appended(_))
        ));
        let found: Vec<String> = loaded.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["line 4: prev does not link to line 3 (deleted or reordered line?)"]
        );
    }

    #[test]
    fn a_newer_kind_is_kept_in_the_chain_and_skipped_by_the_fold() {
        let (_dir, ledger) = ledger_with(1);
        let head = ledger.load().expect("load").head;
        let body = format!(
            r#"{{"seq":2,"at":"2026-01-09T10:00:00Z","by":"bob","kind":"assign","item":"a","to":"carol","prev":"{head}"}}"#
        );
        let hash = hex_sha256(body.as_bytes());
        let mut file = OpenOptions::new()
            .append(true)
            .open(ledger.path())
            .expect("open");
        writeln!(file, "{},\"hash\":\"{hash}\"}}", &body[..body.len() - 1]).expect("write");
        let loaded = ledger.load().expect("load");
        assert_eq!(loaded.events, 2);
        assert!(loaded.problems.is_empty());
        assert!(
            loaded.warnings[0]
                .to_string()
                .contains("unknown event kind \"assign\"")
        );
        let event = ledger
            .append("alice", note("a", "x"))
            .expect("append after it");
        assert_eq!((event.seq, event.prev.as_str()), (3, hash.as_str()));
    }

    mod property {
        use std::collections::{HashMap, VecDeque};

        use proptest::prelude::*;

        use super::*;
        use crate::ledger::state::{Note, Signoff, Tick, Waiver};

        fn item() -> impl Strategy<Value = String> {
            prop::sample::select(vec!["a", "b", "c"]).prop_map(String::from)
        }

        fn text() -> impl Strategy<Value = String> {
            "[a-z \n\t\u{1b}\u{7}é]{0,12}"
        }

        fn kind() -> impl Strategy<Value = EventKind> {
            let until = prop::option::of((2020i16..2031, 1i8..13, 1i8..29))
                .prop_map(|d| d.map(|(y, m, day)| jiff::civil::date(y, m, day)));
            let counts = prop::collection::btree_map("[a-z]{1,7}", 0u64..50, 0..4);
            prop_oneof![
                item().prop_map(|item| EventKind::Tick { item }),
                item().prop_map(|item| EventKind::Untick { item }),
                (item(), text()).prop_map(|(item, text)| EventKind::Note { item, text }),
                (item(), text(), until).prop_map(|(item, reason, until)| EventKind::Waive {
                    item,
                    reason,
                    until
                }),
                item().prop_map(|item| EventKind::Unwaive { item }),
                (
                    prop::sample::select(SignoffDecision::ALL.to_vec()),
                    prop::option::of(text()),
                    prop::option::of(text()),
                    counts
                )
                    .prop_map(|(decision, version, note, counts)| {
                        EventKind::Signoff {
                            decision,
                            version,
                            note,
                            counts,
                            items: Default::default(),
                            signed_hash: String::new(),
                        }
                    }),
            ]
        }

        /// The state as the log format defines it, computed without `apply`:
        /// the last tick-or-untick (waive-or-unwaive) of an item decides.
        fn model(events: &[Event]) -> LogState {
            let mut state = LogState::default();
            let mut last: HashMap<(&str, bool), &Event> = HashMap::new();
            for event in events {
                match &event.kind {
                    EventKind::Tick { item } | EventKind::Untick { item } => {
                        last.insert((item, true), event);
                    }
                    EventKind::Waive { item, .. } | EventKind::Unwaive { item } => {
                        last.insert((item, false), event);
                    }
                    _ => continue,
                }
                state.last_change = event.seq;
            }
            for ((item, _), event) in last {
                match &event.kind {
                    EventKind::Tick { .. } => {
                        let tick = Tick {
                            by: event.by.clone(),
                            at: event.at,
                        };
                        state.ticks.insert(item.to_string(), tick);
                    }
                    EventKind::Waive { reason, until, .. } => {
                        let waiver = Waiver {
                            by: event.by.clone(),
                            at: event.at,
                            reason: reason.clone(),
                            until: *until,
                        };
                        state.waivers.insert(item.to_string(), waiver);
                    }
                    _ => {}
                }
            }
            for event in events.iter().rev() {
                if let EventKind::Note { item, text } = &event.kind {
                    let notes: &mut VecDeque<Note> = state.notes.entry(item.clone()).or_default();
                    notes.push_back(Note {
                        by: event.by.clone(),
                        at: event.at,
                        text: text.clone(),
                    });
                }
            }
            for event in events {
                if let EventKind::Signoff {
                    decision,
                    version,
                    note,
                    counts,
                    items,
                    signed_hash,
                } = &event.kind
                {
                    state.signoffs.push(Signoff {
                        by: event.by.clone(),
                        groups: event.groups.clone(),
                        at: event.at,
                        decision: *decision,
                        version: version.clone(),
                        note: note.clone(),
                        counts: counts.clone(),
                        items: items.clone(),
                        signed_hash: signed_hash.clone(),
                        seq: event.seq,
                    });
                }
            }
            state
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

            #[test]
            fn the_fold_agrees_with_the_model_replayed_and_reloaded(
                chunks in prop::collection::vec(
                    (prop::sample::select(vec!["alice", "bob\u{1b}[1m", "carol"]),
                     prop::collection::vec(kind(), 1..6)),
                    0..8,
                )
            ) {
                let (_dir, ledger) = ledger_with(0);
                let mut watching = ledger.load().expect("load empty");
                let mut written = Vec::new();
                for (by, kinds) in chunks {
                    let events = ledger.append_many(by, kinds).expect("append");
                    prop_assert!(matches!(
                        ledger.refresh(&mut watching).expect("refresh"),
                        Refresh::Appended(ref new) if *new == events
                    ));
                    written.extend(events);
                }
                let expected = model(&written);
                prop_assert_eq!(&LogState::from_events(&written), &expected);
                let mut one_by_one = LogState::default();
                for event in &written {
                    one_by_one.apply(event);
                }
                prop_assert_eq!(&one_by_one, &expected);
                let loaded = ledger.load().expect("load");
                prop_assert_eq!(&loaded.state, &expected);
                prop_assert_eq!(&watching.state, &expected);
                prop_assert_eq!(loaded.events, written.len() as u64);
                prop_assert!(loaded.problems.is_empty() && loaded.warnings.is_empty());
                prop_assert_eq!(ledger.events().expect("events"), written);
            }
        }
    }
}
