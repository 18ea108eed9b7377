//! The sign-off log under the conditions it must survive: several processes
//! and threads appending at once, writers killed mid-append, a second
//! session watching, and the rules refusing changes without touching the
//! log. What is about the log's behaviour runs against both stores (a
//! folder, and the fake API server through the real kube-rs client); what
//! is about files (other processes, torn writes) against the dir store.
//!
//! Other processes are `examples/ledger_writer.rs`, which `cargo test`
//! builds beside the tests.

#[path = "support/fake_kube.rs"]
mod fake_kube;
#[path = "support/logs.rs"]
mod logs;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use gonogo::checklist::model::{Item, ProbeKind, ProbeTemplate, Severity};
use gonogo::ledger::{
    DirStore, Event, EventKind, LedgerError, Refresh, Signer, SignoffDecision, Store,
    watch::watch_store,
};
use gonogo::review::record::{self, RecordError, Where};
use gonogo::review::rules::{self, Change, SignoffFacts, Standing};
use gonogo::review::{Decision, Status, status_counts};
use logs::{CHECKLIST, ENV, Kind, Logs};

/// Runs each named test, a function of the store `Kind`, once per store:
/// `dir::NAME` and `kube::NAME`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        mod dir {
            $(#[test]
            fn $name() {
                super::$name(super::Kind::Dir)
            })*
        }
        mod kube {
            $(#[test]
            fn $name() {
                super::$name(super::Kind::Kube)
            })*
        }
    };
}

on_both_stores!(
    threads_appending_at_once_lose_nothing,
    a_watcher_sees_another_sessions_append,
    refused_changes_leave_the_log_as_it_was,
    a_signoff_decided_on_a_stale_state_is_refused,
    a_change_is_judged_again_when_another_session_wrote_first,
);

/// The writer process, built by `cargo test` (or built here when a single
/// test binary was asked for).
fn writer_exe() -> PathBuf {
    let deps = std::env::current_exe().expect("test binary path");
    let profile_dir = deps
        .parent()
        .and_then(Path::parent)
        .expect("the test binary sits in <target>/<profile>/deps");
    let exe = profile_dir
        .join("examples")
        .join(format!("ledger_writer{}", std::env::consts::EXE_SUFFIX));
    if !exe.is_file() {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--example", "ledger_writer"]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo");
        assert!(status.success(), "cannot build examples/ledger_writer.rs");
    }
    exe
}

/// Another process appending `count` notes (0: until killed) on item
/// `writer`.
fn spawn_child(dir: &Path, writer: &str, count: u64) -> Child {
    Command::new(writer_exe())
        .args([
            &dir.display().to_string(),
            CHECKLIST,
            ENV,
            writer,
            &count.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer process")
}

fn note(item: &str, text: &str) -> EventKind {
    EventKind::Note {
        item: item.into(),
        text: text.into(),
    }
}

fn ledger(dir: &Path) -> DirStore {
    DirStore::open(dir, CHECKLIST, ENV).expect("valid names")
}

/// Every writer's notes are present exactly once, in the order it wrote
/// them, and the whole chain verifies.
fn assert_all_present(ledger: &dyn Store, writers: &[String], per_writer: u64) {
    let report = ledger.verify().expect("verify");
    assert!(report.is_intact(), "{:?}", report.problems);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let events = ledger.events().expect("events");
    assert_eq!(events.len() as u64, per_writer * writers.len() as u64);
    let mut seen: HashMap<&str, Vec<u64>> = HashMap::new();
    for event in &events {
        let EventKind::Note { item, text } = &event.kind else {
            panic!("unexpected event {event:?}");
        };
        let n = text.parse().expect("texts are numbers");
        seen.entry(item.as_str()).or_default().push(n);
    }
    for writer in writers {
        let expected: Vec<u64> = (0..per_writer).collect();
        assert_eq!(
            seen.get(writer.as_str()),
            Some(&expected),
            "writer {writer}"
        );
    }
}

#[test]
fn processes_appending_at_once_lose_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let writers: Vec<String> = (0..4).map(|i| format!("proc-{i}")).collect();
    let per_writer = 150;
    let children: Vec<Child> = writers
        .iter()
        .map(|w| spawn_child(dir.path(), w, per_writer))
        .collect();
    for mut child in children {
        let status = child.wait().expect("wait for child");
        assert!(status.success(), "child failed: {status}");
    }
    assert_all_present(&ledger(dir.path()), &writers, per_writer);
}

fn threads_appending_at_once_lose_nothing(kind: Kind) {
    let logs = Logs::new(kind);
    let per_writer = 60;
    // Two threads share one handle, three have their own.
    let shared = logs.open();
    let writers: Vec<String> = (0..5).map(|i| format!("thread-{i}")).collect();
    std::thread::scope(|scope| {
        for (i, writer) in writers.iter().enumerate() {
            let handle = if i < 2 {
                Arc::clone(&shared)
            } else {
                logs.open()
            };
            scope.spawn(move || {
                for n in 0..per_writer {
                    handle
                        .append(writer, note(writer, &n.to_string()))
                        .expect("thread append");
                }
            });
        }
    });
    assert_all_present(shared.as_ref(), &writers, per_writer);
}

/// A small xorshift: random enough for kill timings, no dependency.
struct Jitter(u64);

impl Jitter {
    fn seeded() -> Jitter {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos());
        Jitter(u64::from(nanos) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn torn_copies(dir: &Path) -> Vec<PathBuf> {
    let folder = dir.join(CHECKLIST);
    std::fs::read_dir(&folder)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().contains(".torn-"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn writers_killed_mid_append_leave_a_log_that_loads_and_takes_the_next_append() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = ledger(dir.path());
    let mut jitter = Jitter::seeded();
    let mut survivor_notes = 0u64;
    let mut torn_written = 0;
    for round in 0..30 {
        // Every third round starts from a torn tail, so some kills land
        // while the child is moving it aside.
        if round % 3 == 2 {
            use std::io::Write;
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(log.path())
                .expect("open log");
            file.write_all(b"{\"seq\":999,\"at\":\"2026-")
                .expect("write torn bytes");
            torn_written += 1;
        }
        let mut child = spawn_child(dir.path(), "victim", 0);
        std::thread::sleep(Duration::from_millis(5 + jitter.below(60)));
        child.kill().expect("SIGKILL the child");
        child.wait().expect("reap the child");

        let loaded = log.load().expect("log loads after a kill");
        assert!(
            loaded.problems.is_empty(),
            "round {round}: {:?}",
            loaded.problems
        );
        let report = log.verify().expect("verify");
        assert!(report.is_intact(), "round {round}: {:?}", report.problems);

        let event = log
            .append("survivor", note("survivor", &round.to_string()))
            .expect("append after a kill");
        survivor_notes += 1;
        assert_eq!(event.seq, loaded.events + 1, "round {round}");
        let after = log.verify().expect("verify");
        assert!(
            after.is_intact() && after.warnings.is_empty(),
            "round {round}: {after:?}"
        );
    }
    let state = log.load().expect("load").state;
    assert_eq!(state.notes("survivor").len() as u64, survivor_notes);
    // The kills did land among appends, not only before the first one.
    assert!(state.notes("victim").len() > 0);
    // Each torn tail was moved aside at least once (twice when a kill fell
    // between the copy and the cut), never dropped.
    assert!(torn_copies(dir.path()).len() >= torn_written);
}

/// A session watching the log sees another session's append within a
/// second or so; for a file, one from another process too.
fn a_watcher_sees_another_sessions_append(kind: Kind) {
    let logs = Logs::new(kind);
    let mine = logs.open();
    let mut loaded = mine.load().expect("load empty");
    let mut watcher = watch_store(mine.as_ref()).expect("watch");
    // The watch is up once it reports the log as it stands (the kube store
    // lists first); the file watcher says nothing until a write.
    if kind == Kind::Kube {
        let ready = logs.within(Duration::from_secs(5), watcher.changed());
        assert_eq!(ready, Some(true), "the watch did not start");
    }

    let theirs = logs
        .open()
        .append(
            "bob",
            EventKind::Tick {
                item: "runbook".into(),
            },
        )
        .expect("their append");
    let start = Instant::now();
    let woke = logs.within(Duration::from_secs(5), watcher.changed());
    assert_eq!(woke, Some(true), "no change seen within 5 s");
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "seen after {:?}",
        start.elapsed()
    );
    let refresh = mine.refresh(&mut loaded).expect("refresh");
    assert_eq!(refresh, Refresh::Appended(vec![theirs]));
    assert_eq!(
        loaded.state.tick("runbook").map(|t| t.by.as_str()),
        Some("bob")
    );

    if kind == Kind::Dir {
        // A second append, from another process this time.
        let mut child = spawn_child(&logs.state_dir(), "carol", 1);
        assert!(child.wait().expect("wait").success());
        let woke = logs.within(Duration::from_secs(5), watcher.changed());
        assert_eq!(woke, Some(true), "no change seen within 5 s");
        mine.refresh(&mut loaded).expect("refresh");
        assert_eq!(loaded.state.notes("carol").len(), 1);
    }
}

fn manual(id: &str, evidence: bool) -> Item {
    Item {
        id: id.into(),
        title: id.into(),
        severity: Severity::Blocker,
        help: String::new(),
        links: Vec::new(),
        envs: None,
        depends_on: Vec::new(),
        evidence,
        probe: None,
        line: None,
    }
}

/// What every client does: load, then record through the one path.
fn record(log: &dyn Store, read_only: bool, change: &Change) -> Result<Vec<Event>, String> {
    let mut loaded = log.load().map_err(|e| e.to_string())?;
    let place = Where {
        env: ENV,
        read_only,
    };
    record::record(
        log,
        &mut loaded,
        &Signer::named("alice"),
        place,
        change,
        jiff::Timestamp::now(),
    )
    .map_err(|e| e.to_string())
}

fn refused_changes_leave_the_log_as_it_was(kind: Kind) {
    let logs = Logs::new(kind);
    let log = logs.open();
    let log = log.as_ref();
    let runbook = manual("runbook", false);
    let drill = manual("restore-drill", true);
    let tls = Item {
        probe: Some(ProbeTemplate {
            kind: ProbeKind::Tls,
            raw: Default::default(),
        }),
        ..manual("tls-cert", false)
    };
    record(
        log,
        false,
        &Change::Tick {
            item: runbook.clone(),
            note: None,
        },
    )
    .expect("a plain tick");
    let yesterday = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
        .yesterday()
        .expect("not the first day ever");
    let signoff = |decision| Change::Signoff {
        decision,
        note: None,
        facts: SignoffFacts {
            computed: Decision::NoGo,
            version: None,
            upstream: None,
            open_blockers: vec!["tls-cert".into()],
            counts: status_counts([Status::Done, Status::Fail]),
            items: Default::default(),
        },
    };

    let refusals: Vec<(Change, bool, &str)> = vec![
        (
            Change::Tick {
                item: tls.clone(),
                note: None,
            },
            false,
            "checked by a probe",
        ),
        (
            Change::Tick {
                item: drill.clone(),
                note: None,
            },
            false,
            "needs evidence",
        ),
        (
            Change::Tick {
                item: runbook.clone(),
                note: None,
            },
            false,
            "already ticked",
        ),
        (
            Change::Untick {
                item: drill.clone(),
            },
            false,
            "not ticked",
        ),
        (
            Change::Unwaive { item: tls.clone() },
            false,
            "has no waiver",
        ),
        (
            Change::Waive {
                item: tls.clone(),
                reason: " ".into(),
                until: None,
            },
            false,
            "needs a reason",
        ),
        (
            Change::Waive {
                item: tls.clone(),
                reason: "risk accepted".into(),
                until: Some(yesterday),
            },
            false,
            "already past",
        ),
        (signoff(SignoffDecision::Go), false, "the review is NO-GO"),
        (
            signoff(SignoffDecision::GoWithConditions),
            false,
            "while a blocker is open",
        ),
        (
            Change::Note {
                item: runbook.clone(),
                text: "hi".into(),
            },
            true,
            "read-only",
        ),
    ];
    let before = logs.records();
    for (change, read_only, expected) in &refusals {
        let refused = record(log, *read_only, change).expect_err("must be refused");
        assert!(
            refused.contains(expected),
            "{refused:?} should say {expected:?}"
        );
        assert_eq!(logs.records(), before);
    }

    // The same changes, once allowed, are written.
    let ok = record(
        log,
        false,
        &Change::Tick {
            item: drill.clone(),
            note: Some("drill record: https://x/1".into()),
        },
    )
    .expect("a tick with its evidence");
    assert_eq!(ok.len(), 2);
    let signed =
        record(log, false, &signoff(SignoffDecision::NoGo)).expect("no-go is always allowed");
    let EventKind::Signoff { signed_hash, .. } = &signed[0].kind else {
        panic!("not a sign-off: {signed:?}");
    };
    assert_eq!(*signed_hash, ok[1].hash);
}

fn a_signoff_decided_on_a_stale_state_is_refused(kind: Kind) {
    let logs = Logs::new(kind);
    let log = logs.open();
    log.append("alice", note("runbook", "prepared"))
        .expect("append");
    let loaded = log.load().expect("load");
    let review = Standing::of(&loaded, ENV, false);
    let change = Change::Signoff {
        decision: SignoffDecision::Go,
        note: None,
        facts: SignoffFacts {
            computed: Decision::Go,
            version: None,
            upstream: None,
            open_blockers: Vec::new(),
            counts: status_counts([Status::Done]),
            items: Default::default(),
        },
    };
    let kinds = rules::plan(&review, &change).expect("go is allowed when GO");
    // Meanwhile another session unticks something.
    logs.open()
        .append(
            "bob",
            EventKind::Untick {
                item: "runbook".into(),
            },
        )
        .expect("their append");
    let refused = log.append("dana", kinds.into_iter().next().expect("one event"));
    assert!(
        matches!(refused, Err(LedgerError::HeadMoved { .. })),
        "{refused:?}"
    );
}

/// Two sessions read the same log; the second to write is judged again
/// against what the first wrote: its tick of the same item is refused (not
/// doubled), its note is chained after the other's events, and its sign-off,
/// decided on the old state, is refused whole.
fn a_change_is_judged_again_when_another_session_wrote_first(kind: Kind) {
    let logs = Logs::new(kind);
    let log = logs.open();
    let log = log.as_ref();
    let other = logs.open();
    let other = other.as_ref();
    let runbook = manual("runbook", false);
    let place = Where {
        env: ENV,
        read_only: false,
    };
    let now = jiff::Timestamp::now();
    let mut ours = log.load().expect("load");
    let mut theirs = other.load().expect("load");
    let tick = Change::Tick {
        item: runbook.clone(),
        note: None,
    };
    record::record(other, &mut theirs, &Signer::named("bob"), place, &tick, now)
        .expect("bob ticks");

    let refused = record::record(log, &mut ours, &Signer::named("alice"), place, &tick, now)
        .expect_err("already ticked by bob");
    assert!(
        matches!(&refused, RecordError::Refused(r) if r.message.starts_with("runbook is already ticked (by bob")),
        "{refused}"
    );
    assert_eq!(ours.head, theirs.head, "alice now sees bob's tick");

    let mut stale = log.load().expect("load");
    record::record(
        other,
        &mut theirs,
        &Signer::named("bob"),
        place,
        &Change::Untick {
            item: runbook.clone(),
        },
        now,
    )
    .expect("bob unticks");
    let note = Change::Note {
        item: runbook.clone(),
        text: "checked the runbook links".into(),
    };
    let written = record::record(log, &mut stale, &Signer::named("alice"), place, &note, now)
        .expect("a note is judged again and chained after bob's untick");
    assert_eq!(written[0].seq, 3);
    assert_eq!(log.verify().expect("verify").problems.len(), 0);
    // The state the writer keeps already holds its own event.
    assert_eq!(
        log.refresh(&mut stale).expect("refresh"),
        Refresh::Unchanged
    );
    assert_eq!(stale.head, written[0].hash);

    let mut old = other.load().expect("load");
    log.append(
        "bob",
        EventKind::Tick {
            item: "runbook".into(),
        },
    )
    .expect("bob ticks again");
    let signoff = Change::Signoff {
        decision: SignoffDecision::NoGo,
        note: None,
        facts: SignoffFacts {
            computed: Decision::NoGo,
            version: None,
            upstream: None,
            open_blockers: vec!["runbook".into()],
            counts: status_counts([Status::Pending]),
            items: Default::default(),
        },
    };
    let refused = record::record(log, &mut old, &Signer::named("alice"), place, &signoff, now)
        .expect_err("the statuses it records are out of date");
    assert!(matches!(refused, RecordError::Moved), "{refused}");
}

/// Release-mode throughput and load time, printed:
/// `cargo test --release --test ledger -- --ignored --nocapture measure`.
#[test]
#[ignore = "a measurement, not a check"]
fn measure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = ledger(dir.path());
    let n = 1000;
    let start = Instant::now();
    for i in 0..n {
        log.append("alice", note("one", &i.to_string()))
            .expect("append");
    }
    let one = n as f64 / start.elapsed().as_secs_f64();
    println!("one writer: {one:.0} appends/s ({n} appends)");

    let dir = tempfile::tempdir().expect("temp dir");
    let per_writer = 250;
    let start = Instant::now();
    let children: Vec<Child> = (0..4)
        .map(|i| spawn_child(dir.path(), &format!("w{i}"), per_writer))
        .collect();
    for mut child in children {
        assert!(child.wait().expect("wait").success());
    }
    let four = f64::from(4 * per_writer as u32) / start.elapsed().as_secs_f64();
    println!("four writer processes: {four:.0} appends/s in total (incl. process start)");

    let dir = tempfile::tempdir().expect("temp dir");
    let log = ledger(dir.path());
    for batch in 0..100 {
        let kinds = (0..1000)
            .map(|i| match i % 4 {
                0 => EventKind::Tick {
                    item: format!("item-{}", i % 97),
                },
                1 => EventKind::Untick {
                    item: format!("item-{}", i % 89),
                },
                2 => note(
                    &format!("item-{}", i % 83),
                    &format!("batch {batch} note {i}: https://tickets.example.com/{i}"),
                ),
                _ => EventKind::Waive {
                    item: format!("item-{}", i % 79),
                    reason: "accepted for the launch".into(),
                    until: None,
                },
            })
            .collect();
        log.append_many("alice", kinds).expect("append batch");
    }
    let size = std::fs::metadata(log.path()).expect("log").len();
    let fresh = ledger(dir.path());
    let start = Instant::now();
    let loaded = fresh.load().expect("load");
    let load = start.elapsed();
    assert_eq!(loaded.events, 100_000);
    let start = Instant::now();
    let report = fresh.verify().expect("verify");
    let verify = start.elapsed();
    assert!(report.is_intact());
    let mut loaded = loaded;
    let start = Instant::now();
    fresh.refresh(&mut loaded).expect("refresh");
    let refresh = start.elapsed();
    let start = Instant::now();
    fresh.append("bob", note("x", "one more")).expect("append");
    let big_append = start.elapsed();
    println!(
        "100,000 events ({} MB): load {load:?}, verify {verify:?}, refresh with nothing new {refresh:?}, \
         first append {big_append:?}",
        size / 1_000_000
    );
    let start = Instant::now();
    for i in 0..100 {
        fresh
            .append("bob", note("x", &i.to_string()))
            .expect("append");
    }
    println!(
        "append to the 100,000-event log: {:.0} appends/s",
        100.0 / start.elapsed().as_secs_f64()
    );
}
