//! Reading the log back: every line is re-hashed and checked against the one
//! before, a torn last line is told apart from tampering, and a cursor
//! remembers how far the file has been checked so later reads start there.

use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};

use sha2::{Digest, Sha256};

use super::event::{Event, EventKind, LineError, is_genesis, parse_line};

/// Something wrong in the middle of the log: an edit, a deletion, a
/// reordering. Never repaired; appends are refused while one stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: u64,
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
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        }
    }
}

/// Something worth telling the user that does not make the log untrustworthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub line: u64,
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
        let line = self.line;
        match &self.kind {
            WarningKind::TornTail { bytes } => write!(
                f,
                "line {line}: incomplete last line ({bytes} bytes; a write was interrupted): \
                 skipped, and moved aside before the next append"
            ),
            WarningKind::UnknownKind { kind } => write!(
                f,
                "line {line}: unknown event kind {kind:?} (written by a newer gonogo?): ignored"
            ),
        }
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
    /// The last complete line's stored hash, when it had one.
    pub last_hash: Option<String>,
    /// Complete lines read.
    pub lines: u64,
    /// Lines that parsed as events.
    pub events: u64,
    /// The seq the next line must carry; `None` after a line too broken to tell.
    pub next_seq: Option<u64>,
    pub first_problem: Option<Problem>,
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cursor")
            .field("offset", &self.offset)
            .field("lines", &self.lines)
            .field("last_hash", &self.last_hash)
            .finish_non_exhaustive()
    }
}

impl Cursor {
    /// Moves past lines just appended: `events`, written as `text`.
    pub fn advance(&mut self, events: &[Event], text: &[u8]) {
        let Some(last) = events.last() else { return };
        self.offset += text.len() as u64;
        self.prefix.update(text);
        self.last_hash = Some(last.hash.clone());
        self.lines += events.len() as u64;
        self.events += events.len() as u64;
        self.next_seq = last.seq.checked_add(1);
    }

    /// The hash a new line must name as `prev` (empty for the first line).
    pub fn head(&self) -> String {
        self.last_hash.clone().unwrap_or_default()
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
    pub problems: Vec<Problem>,
    pub warnings: Vec<Warning>,
}

/// Reads `file` and checks the lines after where `from` left off (all of
/// them, when the file is not the one `from` describes or its checked part
/// has changed), handing every event that parses to `sink`, edited ones
/// included: the state shows what the file says, and the problems say how
/// far to trust it.
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
            next_seq: Some(1),
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
    fn new(cursor: Cursor, from_start: bool) -> Scan {
        Scan {
            cursor,
            from_start,
            torn: None,
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Checks the lines in `buf`, which starts at file offset `base`.
    fn lines(&mut self, buf: &[u8], base: u64, sink: &mut dyn FnMut(Event)) {
        let mut pos = 0;
        while pos < buf.len() {
            let start = base + pos as u64;
            let line_no = self.cursor.lines + 1;
            let Some(len) = buf[pos..].iter().position(|&b| b == b'\n') else {
                self.tear(line_no, start, &buf[pos..]);
                return;
            };
            let line = &buf[pos..pos + len];
            let is_last = pos + len + 1 == buf.len();
            match parse_line(line) {
                Ok(read) => {
                    self.check(line_no, &read.event, read.hash_ok);
                    self.cursor.last_hash = Some(read.event.hash.clone());
                    self.cursor.next_seq = read.event.seq.checked_add(1);
                    self.cursor.events += 1;
                    if let EventKind::Unknown { kind, .. } = &read.event.kind {
                        self.warnings.push(Warning {
                            line: line_no,
                            kind: WarningKind::UnknownKind { kind: kind.clone() },
                        });
                    }
                    sink(read.event);
                }
                // A complete line that does not parse is a crash artefact
                // only at the very end (a filesystem can leave zeros there).
                Err(_) if is_last => {
                    self.tear(line_no, start, &buf[pos..]);
                    return;
                }
                Err((error, stored_hash)) => {
                    let reason = match error {
                        LineError::NoHash => "no hash as its last field".to_string(),
                        LineError::Invalid(reason) => reason,
                    };
                    self.problem(line_no, ProblemKind::Malformed { reason });
                    // Without a hash the next link cannot be judged: let
                    // the next line restart the chain rather than blame it.
                    self.cursor.last_hash = stored_hash;
                    self.cursor.next_seq = None;
                }
            }
            self.cursor.lines = line_no;
            pos += len + 1;
            self.cursor.offset = base + pos as u64;
        }
    }

    /// One problem per line at most: the first of hash, link, seq that fails.
    fn check(&mut self, line_no: u64, event: &Event, hash_ok: bool) {
        let linked = match (&self.cursor.last_hash, line_no) {
            (_, 1) => is_genesis(&event.prev),
            (Some(prev), _) => event.prev == *prev,
            // The line before had no readable hash: already reported.
            (None, _) => true,
        };
        let kind = if !hash_ok {
            ProblemKind::HashMismatch
        } else if !linked {
            ProblemKind::BrokenLink
        } else {
            match self.cursor.next_seq {
                Some(expected) if event.seq != expected => ProblemKind::SeqOutOfOrder {
                    found: event.seq,
                    expected,
                },
                _ => return,
            }
        };
        self.problem(line_no, kind);
    }

    fn problem(&mut self, line: u64, kind: ProblemKind) {
        let problem = Problem { line, kind };
        if self.cursor.first_problem.is_none() {
            self.cursor.first_problem = Some(problem.clone());
        }
        self.problems.push(problem);
    }

    fn tear(&mut self, line: u64, start: u64, bytes: &[u8]) {
        self.warnings.push(Warning {
            line,
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
