//! Reading the log back. [`Chain`] checks records one by one, whatever
//! holds them (the lines of a file, the event objects in a cluster): each is
//! re-hashed and linked to the one before. For a file, [`scan`] also tells a
//! torn last line apart from tampering, and a [`Cursor`] remembers how far
//! the file has been checked so later reads start there.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

use super::event::{Event, EventKind, LineError, ReadLine, is_genesis, parse_line};

/// Something wrong in the middle of the log: an edit, a deletion, a
/// reordering. Never repaired; appends are refused while one stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based position in the log: a file's line, or the n-th event object.
    pub line: u64,
    /// The record's own name, when the store names each one (an event
    /// object in the cluster); messages then name it instead of a line.
    pub object: Option<String>,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// The stored hash is not the hash of the line's content.
    HashMismatch,
    /// `prev` is not the hash of the line before (or, on line 1, not empty).
    BrokenLink,
    /// `seq` is not one more than the line before's.
    SeqOutOfOrder { found: u64, expected: u64 },
    /// The line is not an event at all.
    Malformed { reason: String },
    /// Records the store's names promise are not there: this one and the
    /// `count - 1` after it (an event object deleted).
    Missing { count: u64 },
    /// The record's name promises one event and it holds another.
    Misnamed { holds: u64 },
    /// The object's `gonogo.dev/by` annotation (set by whoever created it,
    /// checked against the requester by the admission policy) does not
    /// name the signer the event claims.
    Signer {
        annotated: Option<String>,
        claims: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.object {
            return write!(f, "{name}: {}", object_problem(self.line, &self.kind));
        }
        let line = self.line;
        match &self.kind {
            ProblemKind::HashMismatch => {
                write!(f, "line {line}: hash does not match its content (edited?)")
            }
            ProblemKind::BrokenLink if line == 1 => write!(
                f,
                "line 1: prev is not empty, so lines before it are missing (deleted?)"
            ),
            ProblemKind::BrokenLink => write!(
                f,
                "line {line}: prev does not link to line {} (deleted or reordered line?)",
                line - 1
            ),
            ProblemKind::SeqOutOfOrder { found, expected } => write!(
                f,
                "line {line}: seq is {found} where {expected} was expected (deleted or reordered line?)"
            ),
            ProblemKind::Malformed { reason } => {
                write!(f, "line {line}: not a log event ({reason})")
            }
            ProblemKind::Missing { count } => {
                write!(f, "line {line}: {count} line(s) missing (deleted?)")
            }
            ProblemKind::Misnamed { holds } => write!(f, "line {line}: holds event {holds}"),
            kind @ ProblemKind::Signer { .. } => {
                write!(f, "line {line}: {}", object_problem(line, kind))
            }
        }
    }
}

/// A problem of a named record, after its name.
fn object_problem(position: u64, kind: &ProblemKind) -> String {
    match kind {
        ProblemKind::HashMismatch => "hash does not match its content (edited or replaced?)".into(),
        ProblemKind::BrokenLink if position == 1 => {
            "prev is not empty, so events before it are missing (deleted?)".into()
        }
        ProblemKind::BrokenLink => {
            "prev does not link to the event before it (replaced, or an event deleted?)".into()
        }
        ProblemKind::SeqOutOfOrder { found, expected } => {
            format!("seq is {found} where {expected} was expected (replaced?)")
        }
        ProblemKind::Malformed { reason } => format!("not a log event ({reason})"),
        ProblemKind::Missing { count: 1 } => "missing (deleted?)".into(),
        ProblemKind::Missing { count } => {
            format!("missing, and the {} after it (deleted?)", count - 1)
        }
        ProblemKind::Misnamed { holds } => {
            format!("holds event {holds}, not the one its name says (replaced?)")
        }
        ProblemKind::Signer {
            annotated: Some(annotated),
            claims,
        } => format!(
            "created by {annotated} (its gonogo.dev/by) but the event says {claims} (signed in someone else's name?)"
        ),
        ProblemKind::Signer {
            annotated: None,
            claims,
        } => format!(
            "has no gonogo.dev/by annotation to vouch that {claims} wrote it (created by hand?)"
        ),
    }
}

/// Something worth telling the user that does not make the log untrustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: u64,
    /// As for [`Problem::object`].
    pub object: Option<String>,
    pub kind: WarningKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// The last line is incomplete (a write was cut short). It is skipped,
    /// and moved aside to `<file>.torn-<time>` before the next append.
    TornTail { bytes: usize },
    /// A kind this version does not know; kept in the chain, not folded.
    UnknownKind { kind: String },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(name) => write!(f, "{name}: ")?,
            None => write!(f, "line {}: ", self.line)?,
        }
        match &self.kind {
            WarningKind::TornTail { bytes } => write!(
                f,
                "incomplete last line ({bytes} bytes; a write was interrupted): \
                 skipped, and moved aside before the next append"
            ),
            WarningKind::UnknownKind { kind } => write!(
                f,
                "unknown event kind {kind:?} (written by a newer gonogo?): ignored"
            ),
        }
    }
}

/// What reading records found besides their events.
#[derive(Debug, Clone, Default)]
pub(crate) struct Findings {
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
}

/// What the next record must link to.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Link {
    /// Nothing read yet: the next record starts the chain.
    Start,
    /// The hash the next record's `prev` must name.
    To(String),
    /// The record before had no readable hash, or records are missing: the
    /// next link cannot be judged (the reason is already reported).
    Unknown,
}

/// The hash chain as checked so far, whatever holds the records.
#[derive(Debug, Clone)]
pub(crate) struct Chain {
    link: Link,
    /// Records read (lines of a file, event objects), well-formed or not.
    pub records: u64,
    /// Records that parsed as events.
    pub events: u64,
    /// The seq the next record must carry; `None` after one too broken to tell.
    pub next_seq: Option<u64>,
    pub first_problem: Option<Problem>,
}

impl Default for Chain {
    fn default() -> Chain {
        Chain {
            link: Link::Start,
            records: 0,
            events: 0,
            next_seq: Some(1),
            first_problem: None,
        }
    }
}

impl Chain {
    /// The hash a new record must name as `prev` (empty for the first).
    pub fn head(&self) -> String {
        match &self.link {
            Link::To(hash) => hash.clone(),
            Link::Start | Link::Unknown => String::new(),
        }
    }

    /// Takes the next complete record, as `parse_line` read it; `object`
    /// names it when the store names records. Returns its event when it
    /// parsed (edited ones included: the state shows what the log says, and
    /// the problems say how far to trust it).
    pub fn take(
        &mut self,
        read: Result<ReadLine, (LineError, Option<String>)>,
        object: Option<&str>,
        found: &mut Findings,
    ) -> Option<Event> {
        let position = self.records + 1;
        self.records = position;
        match read {
            Ok(read) => {
                self.check(position, object, &read.event, read.hash_ok, found);
                self.link = Link::To(read.event.hash.clone());
                self.next_seq = read.event.seq.checked_add(1);
                self.events += 1;
                if let EventKind::Unknown { kind, .. } = &read.event.kind {
                    found.warnings.push(Warning {
                        line: position,
                        object: object.map(str::to_string),
                        kind: WarningKind::UnknownKind { kind: kind.clone() },
                    });
                }
                Some(read.event)
            }
            Err((error, stored_hash)) => {
                let reason = match error {
                    LineError::NoHash => "no hash as its last field".to_string(),
                    LineError::Invalid(reason) => reason,
                };
                self.problem(position, object, ProblemKind::Malformed { reason }, found);
                // Without a hash the next link cannot be judged: let the
                // next record restart the chain rather than blame it.
                self.link = stored_hash.map_or(Link::Unknown, Link::To);
                self.next_seq = None;
                None
            }
        }
    }

    /// Records that should come next are not there: `count` of them, the
    /// first named `object`. Reported once; the record after the gap is not
    /// blamed for a link the gap broke.
    pub fn gap(&mut self, object: &str, count: u64, found: &mut Findings) {
        let position = self.records + 1;
        self.problem(
            position,
            Some(object),
            ProblemKind::Missing { count },
            found,
        );
        self.link = Link::Unknown;
        self.next_seq = None;
    }

    /// Reports a problem of the record just taken (one the chain cannot see,
    /// such as a name that promises another event), unless it already has one.
    pub fn flag_last(&mut self, object: &str, kind: ProblemKind, found: &mut Findings) {
        let position = self.records;
        if found.problems.last().is_some_and(|p| p.line == position) {
            return;
        }
        self.problem(position, Some(object), kind, found);
    }

    /// Moves past events just appended.
    pub fn advance(&mut self, events: &[Event]) {
        let Some(last) = events.last() else { return };
        self.link = Link::To(last.hash.clone());
        self.records += events.len() as u64;
        self.events += events.len() as u64;
        self.next_seq = last.seq.checked_add(1);
    }

    /// One problem per record at most: the first of hash, link, seq that fails.
    fn check(
        &mut self,
        position: u64,
        object: Option<&str>,
        event: &Event,
        hash_ok: bool,
        found: &mut Findings,
    ) {
        let linked = match &self.link {
            Link::Start => is_genesis(&event.prev),
            Link::To(prev) => event.prev == *prev,
            Link::Unknown => true,
        };
        let kind = if !hash_ok {
            ProblemKind::HashMismatch
        } else if !linked {
            ProblemKind::BrokenLink
        } else {
            match self.next_seq {
                Some(expected) if event.seq != expected => ProblemKind::SeqOutOfOrder {
                    found: event.seq,
                    expected,
                },
                _ => return,
            }
        };
        self.problem(position, object, kind, found);
    }

    fn problem(
        &mut self,
        line: u64,
        object: Option<&str>,
        kind: ProblemKind,
        found: &mut Findings,
    ) {
        let problem = Problem {
            line,
            object: object.map(str::to_string),
            kind,
        };
        if self.first_problem.is_none() {
            self.first_problem = Some(problem.clone());
        }
        found.problems.push(problem);
    }
}

/// How far a file has been read and checked, and what it said so far.
#[derive(Clone, Default)]
pub(crate) struct Cursor {
    identity: Option<FileIdentity>,
    /// Bytes of complete lines read.
    pub offset: u64,
    /// SHA-256 state over the first `offset` bytes. The next scan reads the
    /// prefix again and compares (a sequential read and a hash, far cheaper
    /// than parsing and re-hashing every line), so a line edited in place
    /// while a session keeps the log open is still caught before an append.
    prefix: Sha256,
    pub chain: Chain,
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cursor")
            .field("offset", &self.offset)
            .field("chain", &self.chain)
            .finish_non_exhaustive()
    }
}

impl Cursor {
    /// Moves past lines just appended: `events`, written as `text`.
    pub fn advance(&mut self, events: &[Event], text: &[u8]) {
        if events.is_empty() {
            return;
        }
        self.offset += text.len() as u64;
        self.prefix.update(text);
        self.chain.advance(events);
    }

    /// The hash a new line must name as `prev` (empty for the first line).
    pub fn head(&self) -> String {
        self.chain.head()
    }
}

/// Bytes after the last complete line that do not make an event.
#[derive(Debug, Clone)]
pub(crate) struct Torn {
    pub start: u64,
    pub bytes: Vec<u8>,
}

pub(crate) struct Scan {
    pub cursor: Cursor,
    /// The file was read from the start (not from the cursor given).
    pub from_start: bool,
    pub torn: Option<Torn>,
    pub found: Findings,
}

/// Reads `file` and checks the lines after where `from` left off (all of
/// them, when the file is not the one `from` describes or its checked part
/// has changed), handing every event that parses to `sink`, edited ones
/// included.
pub(crate) fn scan(file: &File, from: &Cursor, sink: &mut dyn FnMut(Event)) -> io::Result<Scan> {
    // Reading through `&File` leaves the caller's lock guard borrowing it.
    let mut file = file;
    let identity = FileIdentity::of(&file.metadata()?);
    file.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    let checked = usize::try_from(from.offset).unwrap_or(usize::MAX);
    let unchanged = from.offset > 0
        && identity == from.identity
        && buf
            .get(..checked)
            .is_some_and(|prefix| Sha256::digest(prefix) == from.prefix.clone().finalize());
    let (mut scan, start) = if unchanged {
        (Scan::new(from.clone(), false), checked)
    } else {
        let fresh = Cursor {
            identity,
            ..Cursor::default()
        };
        // Starting over discards what the cursor knew, if it knew anything.
        (Scan::new(fresh, from.offset > 0), 0)
    };
    scan.lines(&buf[start..], start as u64, sink);
    let end = usize::try_from(scan.cursor.offset).unwrap_or(buf.len());
    scan.cursor.prefix.update(&buf[start..end]);
    Ok(scan)
}

impl Scan {
    pub fn new(cursor: Cursor, from_start: bool) -> Scan {
        Scan {
            cursor,
            from_start,
            torn: None,
            found: Findings::default(),
        }
    }

    /// Checks the lines in `buf`, which starts at file offset `base`.
    fn lines(&mut self, buf: &[u8], base: u64, sink: &mut dyn FnMut(Event)) {
        let mut pos = 0;
        while pos < buf.len() {
            let start = base + pos as u64;
            let Some(len) = buf[pos..].iter().position(|&b| b == b'\n') else {
                self.tear(start, &buf[pos..]);
                return;
            };
            let read = parse_line(&buf[pos..pos + len]);
            // A complete line that does not parse is a crash artefact only
            // at the very end (a filesystem can leave zeros there).
            let is_last = pos + len + 1 == buf.len();
            if read.is_err() && is_last {
                self.tear(start, &buf[pos..]);
                return;
            }
            if let Some(event) = self.cursor.chain.take(read, None, &mut self.found) {
                sink(event);
            }
            pos += len + 1;
            self.cursor.offset = base + pos as u64;
        }
    }

    fn tear(&mut self, start: u64, bytes: &[u8]) {
        self.found.warnings.push(Warning {
            line: self.cursor.chain.records + 1,
            object: None,
            kind: WarningKind::TornTail { bytes: bytes.len() },
        });
        self.torn = Some(Torn {
            start,
            bytes: bytes.to_vec(),
        });
    }
}

/// Which file a path named when it was read: a file replaced under the same
/// name (a `git checkout`, an editor's save) must be read again from the start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    device: u64,
    inode: u64,
}

impl FileIdentity {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        Some(FileIdentity {
            device: meta.dev(),
            inode: meta.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<FileIdentity> {
        None
    }
}
