//! The dashboard driven without a terminal, the way a person uses it: keys
//! in, and out what they would notice (the rows, the badge, a toast, a dialog)
//! and what lands in the sign-off log on disk. Each test builds its own
//! workspace in a temp dir (config, checklists, state and export folders), with
//! a fixed operator and a fixed clock; probe results arrive as actions, the
//! way the runner sends them.

use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use gonogo::ledger::{DirStore, EventKind, Store};
use gonogo::probe::{Outcome, Verdict};
use gonogo::review::rules::Change;
use gonogo::review::{Decision, Status};
use gonogo::runner::RunnerEvent;
use gonogo::tui::app::{Action, Effect, Level, Modal, Pane, StatusFilter};
use gonogo::tui::headless::{Headless, buffer_text, render};
use gonogo::tui::keymap::{self, BINDINGS, Command, Context, Keys, Resolved};
use gonogo::tui::theme::Theme;
use gonogo::tui::views;
use gonogo::workspace::{Options, Workspace};
use ratatui::layout::Rect;
use serde_json::Value;
use tempfile::TempDir;

/// 2026-11-26 09:00 UTC: every test runs at this moment.
const NOW: &str = "2026-11-26T09:00:00Z";
const TODAY: &str = "2026-11-26";
const OPERATOR: &str = "alice";
/// Manual items in the "ops" section: enough rows for several pages at 80x24.
const OPS_ITEMS: usize = 24;

const CONFIG: &str = r#"
builtin = false
checklists = ["checklists/launch.toml", "checklists/cutover.toml"]
state_dir = "state"
export_dir = "exports"
operator = "alice"

[[environments]]
name = "dev"

[[environments]]
name = "staging"

[[environments]]
name = "prod"

[[environments]]
name = "archive"
read_only = true
"#;

const LAUNCH: &str = r#"
id = "launch"
title = "Launch review"
version = "test"

[vars]
api_url = "http://127.0.0.1:9"

[[sections]]
id = "people"
title = "People"

[[sections.items]]
id = "runbook"
title = "Runbook reviewed by on-call"
severity = "high"

[[sections.items]]
id = "restore-drill"
title = "Restore drill recorded"
severity = "blocker"
evidence = true

[[sections.items]]
id = "pager"
title = "Pager rota covers launch week"
severity = "medium"

[[sections]]
id = "endpoints"
title = "Endpoints"

[[sections.items]]
id = "api-health"
title = "API answers its health check"
severity = "blocker"
[sections.items.probe]
kind = "http"
url = "{{ api_url }}/healthz"

[[sections.items]]
id = "hsts"
title = "Storefront sends HSTS"
severity = "high"
[sections.items.probe]
kind = "http"
url = "{{ api_url }}/"
expect = "'strict-transport-security' in response.headers"
"#;

const CUTOVER: &str = r#"
id = "cutover"
title = "DNS cutover"
version = "test"

[[sections]]
id = "dns"
title = "DNS"

[[sections.items]]
id = "dns-ttl"
title = "TTL lowered a day ahead"
severity = "high"
"#;

fn now() -> jiff::Timestamp {
    NOW.parse().expect("literal timestamp")
}

fn launch_checklist() -> String {
    let mut text = LAUNCH.to_string();
    text.push_str("\n[[sections]]\nid = \"ops\"\ntitle = \"Operations\"\n");
    for n in 1..=OPS_ITEMS {
        text.push_str(&format!(
            "\n[[sections.items]]\nid = \"ops-{n:02}\"\ntitle = \"Operations task {n:02}\"\nseverity = \"low\"\n"
        ));
    }
    text
}

/// Writes the workspace under `root` and loads it with the real loader.
fn workspace(root: &Path) -> Workspace {
    std::fs::create_dir_all(root.join("checklists")).expect("temp dir is writable");
    std::fs::write(root.join("gonogo.toml"), CONFIG).expect("write config");
    std::fs::write(root.join("checklists/launch.toml"), launch_checklist())
        .expect("write checklist");
    std::fs::write(root.join("checklists/cutover.toml"), CUTOVER).expect("write checklist");
    let options = Options {
        config: Some(root.join("gonogo.toml")),
        ..Options::default()
    };
    match Workspace::load(&options) {
        Ok(ws) => ws,
        Err(e) => panic!("the test workspace does not load:\n{e}"),
    }
}

/// One person in front of the dashboard, in a workspace of their own.
struct Session {
    dir: TempDir,
    h: Headless,
}

/// A session as a user starts it: the default (auto) order of the rows.
fn session_as_started() -> Session {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = workspace(dir.path());
    let h = Headless::new(ws, now());
    let mut s = Session { dir, h };
    s.resize(80, 24);
    s
}

fn session() -> Session {
    let mut s = session_as_started();
    // These tests move through the rows by position: in the checklist's
    // order, not the problems-first order a NO-GO review starts in (which
    // `problems_come_first_while_no_go` tests).
    s.h.send(Action::Execute("sort checklist".into()));
    s.h.app.ui.selected = None;
    s.h.app.ui.cursor = 0;
    s.h.app.prepare();
    s
}

fn outcome(verdict: Verdict, summary: &str) -> Outcome {
    let mut o = Outcome::new(verdict, summary, serde_json::json!({}));
    // Ten seconds before the test's clock, so the age reads "10s".
    o.evidence.taken_at = now() - jiff::SignedDuration::from_secs(10);
    o
}

impl Session {
    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&mut self, w: u16, h: u16) {
        self.h.send(Action::Resize(w, h));
    }

    fn press(&mut self, code: KeyCode) {
        self.h.press(code);
    }

    fn ch(&mut self, c: char) {
        self.h.press(KeyCode::Char(c));
    }

    fn ctrl(&mut self, c: char) {
        self.h.press_ctrl(c);
    }

    fn esc(&mut self) {
        self.press(KeyCode::Esc);
    }

    fn enter(&mut self) {
        self.press(KeyCode::Enter);
    }

    /// Types text into whatever has the keyboard (`\n` is Enter).
    fn type_text(&mut self, text: &str) {
        self.h.type_text(text);
    }

    /// The screen at 80x24, as text.
    fn screen(&self) -> String {
        buffer_text(&render(&self.h.app, &Theme::default_dark(), 80, 24))
    }

    /// The screen at 180x40 (the summary column shows), as text.
    fn wide_screen(&mut self) -> String {
        self.resize(180, 40);
        let text = buffer_text(&render(&self.h.app, &Theme::default_dark(), 180, 40));
        self.resize(80, 24);
        text
    }

    fn status(&self, item: &str) -> Status {
        self.h
            .app
            .item_report(item)
            .unwrap_or_else(|| panic!("{item} is not in the current checklist"))
            .status
    }

    fn decision(&self) -> Decision {
        self.h.app.view.report.decision
    }

    /// The ids of the rows the item list shows, in order.
    fn rows(&self) -> Vec<String> {
        let report = &self.h.app.view.report;
        self.h
            .app
            .view
            .rows
            .iter()
            .map(|(s, i)| report.sections[*s].items[*i].id.clone())
            .collect()
    }

    fn selected(&self) -> Option<String> {
        self.h.app.target().map(|i| i.id.clone())
    }

    /// Moves the cursor to `item` with `j`, from the top.
    fn select(&mut self, item: &str) {
        self.ch('g');
        self.ch('g');
        for _ in 0..self.rows().len() {
            if self.selected().as_deref() == Some(item) {
                return;
            }
            self.ch('j');
        }
        panic!("{item} is not among the rows {:?}", self.rows());
    }

    fn probe(&mut self, item: &str, verdict: Verdict, summary: &str) {
        self.h.probe_result(item, outcome(verdict, summary));
    }

    fn toasts(&self) -> Vec<(Level, String)> {
        self.h
            .app
            .toasts
            .iter()
            .map(|t| (t.level, t.text.clone()))
            .collect()
    }

    fn last_toast(&self) -> (Level, String) {
        self.toasts().pop().expect("a toast is showing")
    }

    fn error_toast(&self) -> String {
        match self
            .h
            .app
            .toasts
            .iter()
            .rev()
            .find(|t| t.level == Level::Error)
        {
            Some(t) => t.text.clone(),
            None => panic!("no error is showing; toasts: {:?}", self.toasts()),
        }
    }

    fn log_path(&self, env: &str) -> PathBuf {
        self.h.log_path("launch", env)
    }

    /// The log file as it is on disk (empty when it does not exist yet).
    fn log_text(&self, env: &str) -> String {
        std::fs::read_to_string(self.log_path(env)).unwrap_or_default()
    }

    /// Every line of the log, parsed.
    fn log(&self, env: &str) -> Vec<Value> {
        self.log_text(env)
            .lines()
            .map(|l| serde_json::from_str(l).expect("each log line is JSON"))
            .collect()
    }

    /// Another session (another operator on the same host) appends.
    fn other_session_appends(&self, env: &str, by: &str, kind: EventKind) {
        let ledger = DirStore::open(&self.root().join("state"), "launch", env).expect("open log");
        ledger.append(by, kind).expect("append");
    }

    fn start_effects(&self) -> Vec<(u64, String)> {
        self.h
            .effects
            .iter()
            .filter_map(|e| match e {
                Effect::StartEnvironment { generation, env } => Some((*generation, env.clone())),
                _ => None,
            })
            .collect()
    }

    fn env(&self) -> &str {
        &self.h.app.env_tab().name
    }
}

/// The line of `screen` that shows `text`.
fn line_with<'a>(screen: &'a str, text: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(text))
        .unwrap_or_else(|| panic!("no line shows {text:?}:\n{screen}"))
}

// ---------------------------------------------------------------------------
// Moving around

#[test]
fn j_k_and_arrows_move_the_cursor_within_the_rows() {
    let mut s = session();
    assert_eq!(s.h.app.context(), Context::List);
    assert_eq!(s.h.app.ui.focus, Pane::Items);
    assert_eq!(s.selected().as_deref(), Some("runbook"));
    s.ch('j');
    assert_eq!(s.selected().as_deref(), Some("restore-drill"));
    s.press(KeyCode::Down);
    assert_eq!(s.selected().as_deref(), Some("pager"));
    s.ch('k');
    assert_eq!(s.selected().as_deref(), Some("restore-drill"));
    s.press(KeyCode::Up);
    assert_eq!(s.selected().as_deref(), Some("runbook"));
    // The top is the top.
    s.ch('k');
    s.press(KeyCode::Up);
    assert_eq!(s.selected().as_deref(), Some("runbook"));
    // The cursor marker is on the selected row.
    let screen = s.screen();
    assert!(
        line_with(&screen, "Runbook reviewed by on-call").contains('▸'),
        "{screen}"
    );
    assert!(!line_with(&screen, "Restore drill recorded").contains('▸'));
}

#[test]
fn gg_and_g_jump_to_the_ends_and_the_list_scrolls_to_show_the_cursor() {
    let mut s = session();
    let rows = s.rows();
    assert_eq!(rows.len(), 5 + OPS_ITEMS);
    s.ch('G');
    assert_eq!(s.selected().as_deref(), Some("ops-24"));
    let screen = s.screen();
    assert!(
        line_with(&screen, "Operations task 24").contains('▸'),
        "{screen}"
    );
    assert!(!screen.contains("Runbook reviewed"), "scrolled:\n{screen}");
    // One `g` waits for the second; nothing moves yet.
    s.ch('g');
    assert_eq!(s.selected().as_deref(), Some("ops-24"));
    s.ch('g');
    assert_eq!(s.selected().as_deref(), Some("runbook"));
    assert!(s.screen().contains("Runbook reviewed"));
    // Home and End do the same.
    s.press(KeyCode::End);
    assert_eq!(s.selected().as_deref(), Some("ops-24"));
    s.press(KeyCode::Home);
    assert_eq!(s.selected().as_deref(), Some("runbook"));
    // `g` then something else is not `gg`.
    s.ch('G');
    s.ch('g');
    s.ch('k');
    assert_eq!(s.selected().as_deref(), Some("ops-23"));
}

#[test]
fn page_down_and_page_up_move_by_a_screenful() {
    let mut s = session();
    let sections = s.h.app.view.report.sections.len();
    let areas = views::layout(Rect::new(0, 0, 80, 24), sections, 0);
    let page = areas.items_rows() - 1;
    assert!(page >= 5, "the test needs a real page, got {page}");
    let rows = s.rows();
    s.press(KeyCode::PageDown);
    assert_eq!(s.selected(), Some(rows[page].clone()));
    s.press(KeyCode::PageDown);
    assert_eq!(s.selected(), Some(rows[2 * page].clone()));
    let screen = s.screen();
    let title = s.h.app.target().expect("a row").title.clone();
    assert!(line_with(&screen, &title).contains('▸'), "{screen}");
    s.press(KeyCode::PageUp);
    assert_eq!(s.selected(), Some(rows[page].clone()));
    // Past the end stops at the last row; before the start at the first.
    for _ in 0..5 {
        s.press(KeyCode::PageDown);
    }
    assert_eq!(s.selected(), rows.last().cloned());
    for _ in 0..5 {
        s.ctrl('u');
    }
    assert_eq!(s.selected(), rows.first().cloned());
}

#[test]
fn tab_switches_panes_and_the_sections_pane_narrows_the_items() {
    let mut s = session();
    s.press(KeyCode::Tab);
    assert_eq!(s.h.app.ui.focus, Pane::Sections);
    let screen = s.screen();
    assert!(screen.contains("◆ Sections"), "{screen}");
    // Down in the sections pane picks "People": its three items only.
    s.ch('j');
    assert_eq!(s.h.app.ui.section, 1);
    assert_eq!(s.rows(), ["runbook", "restore-drill", "pager"]);
    assert!(s.screen().contains("Items · People (3 of 3)"));
    s.ch('j');
    assert_eq!(s.rows(), ["api-health", "hsts"]);
    // Enter in the sections pane goes to the items, not into a detail.
    s.enter();
    assert_eq!(s.h.app.ui.focus, Pane::Items);
    assert!(s.h.app.ui.stack.is_empty());
    s.press(KeyCode::Tab);
    assert_eq!(s.h.app.ui.focus, Pane::Sections);
    s.press(KeyCode::Tab);
    assert_eq!(s.h.app.ui.focus, Pane::Items);
    assert!(s.screen().contains("◆ Items"));
    // h and l focus a pane directly.
    s.ch('h');
    assert_eq!(s.h.app.ui.focus, Pane::Sections);
    s.ch('l');
    assert_eq!(s.h.app.ui.focus, Pane::Items);
}

#[test]
fn enter_opens_the_detail_and_esc_steps_back_one_level() {
    let mut s = session();
    s.select("restore-drill");
    s.enter();
    assert_eq!(s.h.app.context(), Context::Detail);
    let screen = s.screen();
    assert!(screen.contains("Restore drill recorded"), "{screen}");
    assert!(screen.contains("PENDING"), "{screen}");
    assert!(screen.contains("Checked by a person"), "{screen}");
    // From the detail: the critical path, then help over it.
    s.ch('c');
    assert_eq!(s.h.app.context(), Context::Path);
    s.ch('?');
    assert_eq!(s.h.app.context(), Context::Help);
    s.esc();
    assert_eq!(s.h.app.context(), Context::Path);
    s.esc();
    assert_eq!(s.h.app.context(), Context::Detail);
    s.esc();
    assert_eq!(s.h.app.context(), Context::List);
    assert_eq!(s.selected().as_deref(), Some("restore-drill"));
    assert!(!s.h.app.should_quit());
}

#[test]
fn esc_never_quits_however_often_it_is_pressed_wherever_it_is() {
    let mut s = session();
    // On the bare list.
    for _ in 0..25 {
        s.esc();
    }
    assert!(!s.h.app.should_quit());
    assert_eq!(s.h.app.context(), Context::List);
    // From every dialog and screen, Esc closes it and the app stays.
    let openers: &[(&[char], Context)] = &[
        (&['?'], Context::Help),
        (&['n'], Context::Note),
        (&['w'], Context::Form),
        (&['s'], Context::Signoff),
        (&['/'], Context::Filter),
        (&[':'], Context::Command),
        (&['c'], Context::Path),
    ];
    for (keys, context) in openers {
        for c in *keys {
            s.ch(*c);
        }
        assert_eq!(s.h.app.context(), *context, "after {keys:?}");
        s.esc();
        assert_eq!(s.h.app.context(), Context::List, "Esc closes {context:?}");
        assert!(!s.h.app.should_quit(), "Esc quit from {context:?}");
    }
    // Detail, with a section chosen and a filter set: many levels deep.
    s.press(KeyCode::Tab);
    s.ch('j');
    s.press(KeyCode::Tab);
    s.ch('f');
    s.enter();
    s.ch('?');
    for _ in 0..40 {
        s.esc();
        assert!(!s.h.app.should_quit());
    }
    assert_eq!(s.h.app.context(), Context::List);
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::All);
    assert!(!s.h.app.should_quit());
}

/// The part of the screen inside the help dialog or the detail pane.
fn body_rows(s: &Session) -> Vec<String> {
    s.screen()
        .lines()
        .skip(3)
        .take(20)
        .map(str::to_string)
        .collect()
}

#[test]
fn after_scrolling_past_the_end_of_help_one_step_back_moves_the_view() {
    let mut s = session();
    s.ch('?');
    let top = body_rows(&s);
    s.ch('G');
    let bottom = body_rows(&s);
    assert_ne!(top, bottom, "the help is longer than a screen");
    // Pressing on past the end changes nothing...
    s.ch('j');
    s.press(KeyCode::PageDown);
    assert_eq!(body_rows(&s), bottom);
    // ...and the first step back is a step back, not a press lost.
    s.ch('k');
    let one_up = body_rows(&s);
    assert_ne!(one_up, bottom, "k after G did not scroll");
    // Inside the dialog's borders, everything moved down one line.
    let inside = |rows: &[String]| rows[1..rows.len() - 1].to_vec();
    let (one_up, bottom) = (inside(&one_up), inside(&bottom));
    assert_eq!(one_up[1..], bottom[..bottom.len() - 1]);
}

#[test]
fn after_scrolling_past_the_end_of_a_detail_one_step_back_moves_the_view() {
    let mut s = session();
    let long: Vec<String> = (1..=60).map(|n| format!("finding {n:02}")).collect();
    s.other_session_appends(
        "dev",
        "bob",
        EventKind::Note {
            item: "runbook".into(),
            text: long.join("\n"),
        },
    );
    s.h.refresh_logs();
    s.enter();
    assert_eq!(s.h.app.context(), Context::Detail);
    let top = body_rows(&s);
    s.ch('G');
    let bottom = body_rows(&s);
    assert!(
        bottom.iter().any(|l| l.contains("finding 60")),
        "{bottom:#?}"
    );
    assert_ne!(top, bottom);
    for _ in 0..3 {
        s.press(KeyCode::PageDown);
    }
    assert_eq!(body_rows(&s), bottom);
    s.ch('k');
    let one_up = body_rows(&s);
    assert!(
        one_up.iter().any(|l| l.contains("finding 59"))
            && !one_up.iter().any(|l| l.contains("finding 60")),
        "k after G did not scroll:\n{}",
        one_up.join("\n")
    );
    // gg is back at the top.
    s.ch('g');
    s.ch('g');
    assert_eq!(body_rows(&s), top);
}

// ---------------------------------------------------------------------------
// Ticks, notes, waivers

#[test]
fn space_ticks_a_manual_item_into_the_log_and_space_again_unticks_it() {
    let mut s = session();
    assert_eq!(s.status("runbook"), Status::Pending);
    assert!(s.log_text("dev").is_empty());
    s.ch(' ');
    let log = s.log("dev");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "tick");
    assert_eq!(log[0]["item"], "runbook");
    assert_eq!(log[0]["by"], OPERATOR);
    assert_eq!(s.status("runbook"), Status::Done);
    let screen = s.screen();
    assert!(
        line_with(&screen, "Runbook reviewed by on-call").contains('✔'),
        "{screen}"
    );
    assert!(
        line_with(&s.wide_screen(), "Runbook reviewed").contains("ticked by alice"),
        "the summary names who ticked it"
    );
    assert_eq!(s.last_toast(), (Level::Info, "ticked runbook".into()));

    s.ch(' ');
    let log = s.log("dev");
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["kind"], "untick");
    assert_eq!(log[1]["item"], "runbook");
    assert_eq!(log[1]["prev"], log[0]["hash"], "the chain goes on");
    assert_eq!(s.status("runbook"), Status::Pending);
    assert!(line_with(&s.screen(), "Runbook reviewed").contains('…'));
}

#[test]
fn space_on_a_probe_item_is_refused_and_writes_nothing() {
    let mut s = session();
    s.select("api-health");
    s.ch(' ');
    let error = s.error_toast();
    assert_eq!(
        error,
        "api-health is checked by a probe; a failing probe is closed only by a waiver"
    );
    assert!(s.log_text("dev").is_empty(), "nothing was written");
    assert_eq!(s.status("api-health"), Status::Pending);
    let screen = s.screen();
    // Shown as an error, whole (a long one wraps onto a second row), with
    // how to dismiss it.
    let toast = line_with(&screen, "✘ api-health");
    let next = screen
        .lines()
        .skip_while(|l| !l.contains("✘ api-health"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        toast.contains("api-health is checked by a probe;")
            && next.contains("waiver")
            && next.contains("(Esc)"),
        "{screen}"
    );
    // The error stays until Esc, which dismisses it (and only it).
    s.ch('j');
    assert!(s.toasts().iter().any(|(l, _)| *l == Level::Error));
    s.esc();
    assert!(s.toasts().iter().all(|(l, _)| *l != Level::Error));
    assert_eq!(s.h.app.context(), Context::List);
}

#[test]
fn an_evidence_item_asks_for_a_note_and_writes_nothing_until_there_is_one() {
    let mut s = session();
    s.select("restore-drill");
    s.ch(' ');
    // Not ticked: the evidence editor opens instead.
    match &s.h.app.ui.modal {
        Some(Modal::Note(editor)) => {
            assert_eq!(editor.item, "restore-drill");
            assert!(editor.then_tick);
        }
        other => panic!("expected the evidence editor, got {other:?}"),
    }
    let (_, toast) = s.last_toast();
    assert!(toast.starts_with("restore-drill needs evidence"), "{toast}");
    assert!(s.screen().contains("Evidence for restore-drill"));
    assert!(s.log_text("dev").is_empty());
    // Cancelled: still nothing.
    s.esc();
    assert!(s.h.app.ui.modal.is_none());
    assert!(s.log_text("dev").is_empty());
    assert_eq!(s.status("restore-drill"), Status::Pending);
    // An empty note is refused and the editor stays open.
    s.ch(' ');
    s.type_text("   ");
    s.ctrl('s');
    assert_eq!(s.error_toast(), "a note needs some text");
    assert!(matches!(s.h.app.ui.modal, Some(Modal::Note(_))));
    assert!(s.log_text("dev").is_empty());
    // With evidence: the note, then the tick, in one append.
    s.type_text("https://tickets.example/DRILL-42");
    s.ctrl('s');
    let log = s.log("dev");
    let kinds: Vec<&str> = log
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(kinds, ["note", "tick"]);
    assert_eq!(log[0]["text"], "https://tickets.example/DRILL-42");
    assert_eq!(log[1]["item"], "restore-drill");
    assert_eq!(s.status("restore-drill"), Status::Done);
    assert!(s.h.app.ui.modal.is_none());
}

#[test]
fn n_opens_a_multi_line_editor_and_saves_one_note_with_its_newlines() {
    let mut s = session();
    s.select("pager");
    s.ch('n');
    assert_eq!(s.h.app.context(), Context::Note);
    assert!(s.screen().contains("Note on pager"));
    // Enter is a new line here, not "save"; q and j are text.
    s.type_text("rota checked with Bob\nsecond line: quiet week\nq j");
    assert!(matches!(s.h.app.ui.modal, Some(Modal::Note(_))));
    assert!(s.log_text("dev").is_empty());
    let screen = s.screen();
    assert!(screen.contains("rota checked with Bob"), "{screen}");
    assert!(screen.contains("second line: quiet week"), "{screen}");
    s.ctrl('s');
    let log = s.log("dev");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "note");
    assert_eq!(log[0]["item"], "pager");
    assert_eq!(
        log[0]["text"],
        "rota checked with Bob\nsecond line: quiet week\nq j"
    );
    assert_eq!(log[0]["by"], OPERATOR);
    // A note does not tick.
    assert_eq!(s.status("pager"), Status::Pending);
    assert_eq!(s.last_toast(), (Level::Info, "note added to pager".into()));
    // The detail shows the note, line by line.
    s.enter();
    let screen = s.screen();
    assert!(screen.contains("note by alice"), "{screen}");
    assert!(screen.contains("  rota checked with Bob"), "{screen}");
    assert!(screen.contains("  second line: quiet week"), "{screen}");
}

#[test]
fn a_waiver_needs_a_reason_takes_an_expiry_and_counts_the_failure_as_waived() {
    let mut s = session();
    s.probe("hsts", Verdict::Fail, "no strict-transport-security header");
    assert_eq!(s.status("hsts"), Status::Fail);
    assert_eq!(s.h.app.view.report.counts.fail, 1);
    s.select("hsts");
    s.ch('w');
    assert_eq!(s.h.app.context(), Context::Form);
    assert!(s.screen().contains("Waive hsts"));
    // No reason: refused, the form stays, nothing written.
    s.enter();
    let error = match &s.h.app.ui.modal {
        Some(Modal::Waive(form)) => form.error.clone().expect("the form says why"),
        other => panic!("the waiver form should stay open, got {other:?}"),
    };
    assert!(error.contains("needs a reason"), "{error}");
    assert!(s.screen().contains("needs a reason"));
    assert!(s.log_text("dev").is_empty());
    // A date in the past is refused too.
    s.type_text("accepted by the CISO for launch week");
    s.press(KeyCode::Tab);
    s.type_text("2026-11-01");
    s.enter();
    let error = match &s.h.app.ui.modal {
        Some(Modal::Waive(form)) => form.error.clone().unwrap_or_default(),
        other => panic!("the waiver form should stay open, got {other:?}"),
    };
    assert!(error.contains("already past"), "{error}");
    assert!(s.log_text("dev").is_empty());
    // A good date: written with the reason and the expiry.
    for _ in 0..10 {
        s.press(KeyCode::Backspace);
    }
    s.type_text("2026-12-01");
    s.enter();
    assert!(s.h.app.ui.modal.is_none());
    let log = s.log("dev");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["kind"], "waive");
    assert_eq!(log[0]["item"], "hsts");
    assert_eq!(log[0]["reason"], "accepted by the CISO for launch week");
    assert_eq!(log[0]["until"], "2026-12-01");
    assert_eq!(s.status("hsts"), Status::Waived);
    let counts = &s.h.app.view.report.counts;
    assert_eq!((counts.waived, counts.fail), (1, 0));
    assert!(
        line_with(&s.wide_screen(), "Storefront sends HSTS")
            .contains("waived by alice until 2026-12-01: accepted by the CISO")
    );
    // The probe keeps failing: still waived.
    s.probe("hsts", Verdict::Fail, "no strict-transport-security header");
    assert_eq!(s.status("hsts"), Status::Waived);
    // After its last day the waiver lapses and the failure is back.
    s.h.send(Action::Clock(
        "2026-12-02T00:00:01Z".parse().expect("timestamp"),
    ));
    assert_eq!(s.status("hsts"), Status::Fail);
    assert!(
        s.h.app
            .item_report("hsts")
            .is_some_and(|i| i.expired_waiver)
    );
}

#[test]
fn a_waiver_without_an_expiry_can_be_withdrawn_after_a_confirmation() {
    let mut s = session();
    s.probe("hsts", Verdict::Fail, "no strict-transport-security header");
    s.select("hsts");
    s.ch('w');
    s.type_text("known gap, fixed in the next release");
    s.enter();
    assert_eq!(s.status("hsts"), Status::Waived);
    assert_eq!(s.log("dev")[0]["until"], Value::Null);
    // `w` on a waived item asks to withdraw; `n` keeps it.
    s.ch('w');
    assert_eq!(s.h.app.context(), Context::Confirm);
    let screen = s.screen();
    assert!(screen.contains("Withdraw the waiver of hsts?"), "{screen}");
    assert!(
        screen.contains("known gap, fixed in the next release"),
        "{screen}"
    );
    s.ch('n');
    assert_eq!(s.h.app.context(), Context::List);
    assert_eq!(s.log("dev").len(), 1);
    assert_eq!(s.status("hsts"), Status::Waived);
    // `y` withdraws it.
    s.ch('w');
    s.ch('y');
    let log = s.log("dev");
    assert_eq!(log.len(), 2);
    assert_eq!(log[1]["kind"], "unwaive");
    assert_eq!(log[1]["item"], "hsts");
    assert_eq!(s.status("hsts"), Status::Fail);
    assert_eq!(
        s.last_toast(),
        (Level::Info, "withdrew the waiver of hsts".into())
    );
}

#[test]
fn a_read_only_environment_refuses_a_tick_with_a_clear_message() {
    let mut s = session();
    s.ch('4');
    assert_eq!(s.env(), "archive");
    s.ch(' ');
    assert_eq!(
        s.error_toast(),
        "archive is read-only: nothing can be ticked, noted, waived or signed there"
    );
    assert!(s.log_text("archive").is_empty());
    assert_eq!(s.status("runbook"), Status::Pending);
    // The evidence item does not open an editor there either.
    s.select("restore-drill");
    s.ch(' ');
    assert!(s.h.app.ui.modal.is_none());
    assert!(s.error_toast().contains("read-only"));
    assert!(s.log_text("archive").is_empty());
}

#[test]
fn a_read_only_environment_opens_no_editor_to_type_into_in_vain() {
    let mut s = session();
    s.ch('4');
    for c in ['n', 'w', 's'] {
        s.ch(c);
        assert!(
            s.h.app.ui.modal.is_none(),
            "`{c}` opened {:?} in a read-only environment",
            s.h.app.context()
        );
        assert_eq!(
            s.error_toast(),
            "archive is read-only: nothing can be ticked, noted, waived or signed there"
        );
        s.esc();
    }
    assert!(s.log_text("archive").is_empty());
    // Reading is still fine there: the detail, the help, the export.
    s.enter();
    assert_eq!(s.h.app.context(), Context::Detail);
    s.ch('e');
    assert!(
        s.root()
            .join(format!("exports/launch-archive-{TODAY}.md"))
            .is_file()
    );
}

#[test]
fn review_keys_act_on_the_open_detail_and_the_critical_path_entry() {
    let mut s = session();
    s.select("pager");
    s.enter();
    s.ch(' ');
    assert_eq!(s.status("pager"), Status::Done);
    assert!(s.screen().contains("DONE"), "the detail shows it");
    s.ch('n');
    assert!(matches!(&s.h.app.ui.modal, Some(Modal::Note(e)) if e.item == "pager"));
    s.esc();
    s.esc();
    // The critical path lists open blockers and highs; Space there ticks the
    // entry under its cursor.
    s.ch('c');
    assert_eq!(s.h.app.context(), Context::Path);
    let path = s.h.app.view.report.critical_path.clone();
    assert!(path.contains(&"runbook".to_string()), "{path:?}");
    assert!(
        !path.contains(&"pager".to_string()),
        "medium items are not on it"
    );
    while s.selected().as_deref() != Some("runbook") {
        let before = s.selected();
        s.ch('j');
        assert_ne!(s.selected(), before, "runbook not reachable on the path");
    }
    s.ch(' ');
    assert_eq!(s.status("runbook"), Status::Done);
    assert!(
        !s.h.app
            .view
            .report
            .critical_path
            .contains(&"runbook".to_string())
    );
    let items: Vec<String> = s.log("dev").iter().map(|e| e["item"].to_string()).collect();
    assert_eq!(items, ["\"pager\"", "\"runbook\""]);
}

#[test]
fn info_toasts_clear_with_the_clock_and_errors_stay_until_esc() {
    let mut s = session();
    s.ch(' ');
    s.select("api-health");
    s.ch(' ');
    assert_eq!(s.toasts().len(), 2);
    s.h.send(Action::Clock(now() + jiff::SignedDuration::from_secs(10)));
    let left = s.toasts();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].0, Level::Error);
    s.esc();
    assert!(s.toasts().is_empty());
}

#[test]
fn an_altered_log_is_reported_loudly_and_not_written_to() {
    let mut s = session();
    s.ch(' ');
    // Someone edits the file by hand: the line no longer matches its hash.
    let path = s.log_path("dev");
    let text = s.log_text("dev").replace("\"runbook\"", "\"pager\"");
    std::fs::write(&path, text).expect("rewrite the log");
    s.h.refresh_logs();
    let error = s.error_toast();
    assert!(error.contains("has been altered"), "{error}");
    let before = s.log_text("dev");
    s.esc();
    s.select("pager");
    s.ch(' ');
    let error = s.error_toast();
    assert!(error.contains("nothing more is written"), "{error}");
    assert_eq!(s.log_text("dev"), before);
}

// ---------------------------------------------------------------------------
// Sign-off

/// Closes both blockers: the evidence item with a note, the probe passing.
fn clear_blockers(s: &mut Session) {
    s.select("restore-drill");
    s.ch(' ');
    s.type_text("https://tickets.example/DRILL-42");
    s.ctrl('s');
    s.probe("api-health", Verdict::Pass, "200 OK");
    assert_eq!(s.decision(), Decision::GoWithConditions);
}

#[test]
fn go_is_refused_while_the_decision_is_no_go() {
    let mut s = session();
    assert_eq!(s.decision(), Decision::NoGo);
    s.ch('s');
    assert_eq!(s.h.app.context(), Context::Signoff);
    // The dialog starts on what the review says.
    match &s.h.app.ui.modal {
        Some(Modal::Signoff(d)) => assert_eq!(d.choice.as_str(), "no-go"),
        other => panic!("expected the sign-off dialog, got {other:?}"),
    }
    s.press(KeyCode::Tab);
    match &s.h.app.ui.modal {
        Some(Modal::Signoff(d)) => assert_eq!(d.choice.as_str(), "go"),
        other => panic!("expected the sign-off dialog, got {other:?}"),
    }
    let screen = s.screen();
    assert!(screen.contains("refused: cannot sign off go"), "{screen}");
    s.enter();
    let error = s.error_toast();
    assert!(
        error.starts_with("refused: cannot sign off go: the review is NO-GO"),
        "{error}"
    );
    assert!(error.contains("restore-drill") && error.contains("api-health"));
    assert!(s.log_text("dev").is_empty(), "the log is unchanged");
    assert_eq!(s.h.app.context(), Context::Signoff, "the dialog stays");
}

#[test]
fn go_with_conditions_is_refused_while_a_blocker_is_open() {
    let mut s = session();
    // One blocker closed, one still open.
    s.probe("api-health", Verdict::Pass, "200 OK");
    assert_eq!(s.decision(), Decision::NoGo);
    s.ch('s');
    s.press(KeyCode::Tab);
    s.press(KeyCode::Tab);
    match &s.h.app.ui.modal {
        Some(Modal::Signoff(d)) => assert_eq!(d.choice.as_str(), "go-with-conditions"),
        other => panic!("expected the sign-off dialog, got {other:?}"),
    }
    s.enter();
    let error = s.error_toast();
    assert!(error.contains("while a blocker is open"), "{error}");
    assert!(error.contains("restore-drill"), "{error}");
    assert!(s.log_text("dev").is_empty());
    // Shift-Tab goes back to no-go, which is always allowed.
    s.h.send(Action::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    s.h.send(Action::Key(KeyEvent::new(
        KeyCode::BackTab,
        KeyModifiers::SHIFT,
    )));
    match &s.h.app.ui.modal {
        Some(Modal::Signoff(d)) => assert_eq!(d.choice.as_str(), "no-go"),
        other => panic!("expected the sign-off dialog, got {other:?}"),
    }
    s.enter();
    let log = s.log("dev");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["decision"], "no-go");
}

#[test]
fn a_permitted_sign_off_records_decision_counts_and_item_statuses() {
    let mut s = session();
    clear_blockers(&mut s);
    s.probe("hsts", Verdict::Fail, "no header");
    let before = s.log("dev");
    assert_eq!(before.len(), 2);
    s.ch('s');
    match &s.h.app.ui.modal {
        Some(Modal::Signoff(d)) => assert_eq!(d.choice.as_str(), "go-with-conditions"),
        other => panic!("expected the sign-off dialog, got {other:?}"),
    }
    let screen = s.screen();
    assert!(
        screen.contains("the log's rules accept this sign-off"),
        "{screen}"
    );
    assert!(screen.contains("Sign off launch in dev"), "{screen}");
    s.type_text("HSTS fixed by Friday");
    s.enter();
    assert!(s.h.app.ui.modal.is_none());
    let log = s.log("dev");
    assert_eq!(log.len(), 3, "{log:?}");
    let signoff = &log[2];
    assert_eq!(signoff["kind"], "signoff");
    assert_eq!(signoff["decision"], "go-with-conditions");
    assert_eq!(signoff["by"], OPERATOR);
    assert_eq!(signoff["note"], "HSTS fixed by Friday");
    assert_eq!(
        signoff["signed_hash"], before[1]["hash"],
        "it signs the log as it was"
    );
    let counts = &signoff["counts"];
    assert_eq!(counts["done"], 1);
    assert_eq!(counts["pass"], 1);
    assert_eq!(counts["fail"], 1);
    assert_eq!(counts["pending"], 2 + OPS_ITEMS as u64);
    assert_eq!(counts["waived"], 0);
    let items = &signoff["items"];
    assert_eq!(items["restore-drill"], "done");
    assert_eq!(items["api-health"], "pass");
    assert_eq!(items["hsts"], "fail");
    assert_eq!(items["runbook"], "pending");
    assert_eq!(items.as_object().map(|m| m.len()), Some(5 + OPS_ITEMS));
    assert_eq!(
        s.last_toast(),
        (Level::Info, "signed off go-with-conditions in dev".into())
    );
}

// ---------------------------------------------------------------------------
// Filters

#[test]
fn slash_filters_rows_by_text_and_esc_clears_it() {
    let mut s = session();
    let all = s.rows().len();
    s.ch('/');
    assert_eq!(s.h.app.context(), Context::Filter);
    // The rows narrow while typing.
    s.type_text("dri");
    assert_eq!(s.rows(), ["restore-drill"]);
    s.enter();
    assert_eq!(s.h.app.context(), Context::List);
    assert_eq!(s.rows(), ["restore-drill"]);
    let screen = s.screen();
    assert!(screen.contains("/dri (1 of"), "{screen}");
    assert!(!screen.contains("Runbook"), "{screen}");
    // Text matches titles too, case-insensitively.
    s.ch('/');
    for _ in 0..3 {
        s.press(KeyCode::Backspace);
    }
    s.type_text("OPERATIONS TASK 1");
    s.enter();
    assert_eq!(s.rows().len(), 10, "{:?}", s.rows());
    // Esc on the list clears the filter.
    s.esc();
    assert_eq!(s.rows().len(), all);
    assert!(s.h.app.ui.filter.is_empty());
    // Esc inside the filter line puts back what was there before.
    s.ch('/');
    s.type_text("hsts");
    assert_eq!(s.rows(), ["hsts"]);
    s.esc();
    assert_eq!(s.rows().len(), all);
    // ...and the row that was selected.
    s.select("hsts");
    s.ch('/');
    s.type_text("operations");
    assert_eq!(s.selected().as_deref(), Some("ops-01"));
    s.esc();
    assert_eq!(s.selected().as_deref(), Some("hsts"));
    // Nothing matches: the list says so.
    s.ch('/');
    s.type_text("zzz");
    s.enter();
    assert!(s.rows().is_empty());
    assert!(
        s.screen()
            .contains("No item matches the filter. Esc clears it.")
    );
}

#[test]
fn f_cycles_all_open_and_failing() {
    let mut s = session();
    let all = s.rows().len();
    s.ch(' '); // runbook done
    s.probe("api-health", Verdict::Error, "connection refused");
    s.probe("hsts", Verdict::Fail, "no header");
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::All);
    s.ch('f');
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::Open);
    assert_eq!(s.rows().len(), all - 1);
    assert!(!s.rows().contains(&"runbook".to_string()));
    assert!(s.screen().contains("open only"));
    s.ch('f');
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::Failing);
    assert_eq!(s.rows(), ["api-health", "hsts"]);
    assert!(s.screen().contains("failing only"));
    s.ch('f');
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::All);
    assert_eq!(s.rows().len(), all);
    // A row that stops matching leaves the filtered list as it changes.
    s.ch('f');
    s.ch('f');
    s.probe("hsts", Verdict::Pass, "header present");
    assert_eq!(s.rows(), ["api-health"]);
}

// ---------------------------------------------------------------------------
// Environments

#[test]
fn brackets_digits_and_env_command_switch_environments_with_a_new_generation() {
    let mut s = session();
    assert_eq!(s.start_effects(), [(1, "dev".to_string())]);
    s.ch(']');
    assert_eq!(s.env(), "staging");
    s.ch('[');
    assert_eq!(s.env(), "dev");
    // `[` wraps around to the last.
    s.ch('[');
    assert_eq!(s.env(), "archive");
    s.ch('3');
    assert_eq!(s.env(), "prod");
    s.ch(':');
    s.type_text("env staging\n");
    assert_eq!(s.env(), "staging");
    assert_eq!(
        s.start_effects(),
        [
            (1, "dev".to_string()),
            (2, "staging".to_string()),
            (3, "dev".to_string()),
            (4, "archive".to_string()),
            (5, "prod".to_string()),
            (6, "staging".to_string()),
        ]
    );
    assert_eq!(s.h.app.generation, 6);
    // The tabs show the current one.
    assert!(
        s.screen()
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("staging"))
    );
    // The same environment again starts nothing.
    s.ch('2');
    assert_eq!(s.start_effects().len(), 6);
    // No such environment: said, nothing started.
    s.ch('9');
    assert_eq!(
        s.last_toast(),
        (Level::Info, "there is no environment 9".into())
    );
    s.ch(':');
    s.type_text("env nope\n");
    assert_eq!(
        s.error_toast(),
        "no environment `nope` (configured: dev, staging, prod, archive)"
    );
    assert_eq!(s.env(), "staging");
    assert_eq!(s.start_effects().len(), 6);
}

#[test]
fn a_probe_result_from_the_environment_left_behind_is_ignored() {
    let mut s = session();
    let old = s.h.app.generation;
    let key = s.h.key("api-health");
    s.ch(']');
    assert_ne!(s.h.app.generation, old);
    s.h.send(Action::Probe {
        generation: old,
        event: RunnerEvent::Finished(key.clone(), outcome(Verdict::Fail, "dev is down")),
    });
    assert_eq!(s.status("api-health"), Status::Pending);
    assert!(s.h.app.outcome("api-health").is_none());
    s.h.send(Action::Probe {
        generation: old,
        event: RunnerEvent::Started(key.clone()),
    });
    assert!(!s.h.app.is_busy());
    // The current generation's result counts.
    s.h.send(Action::Probe {
        generation: s.h.app.generation,
        event: RunnerEvent::Finished(key, outcome(Verdict::Fail, "staging is down")),
    });
    assert_eq!(s.status("api-health"), Status::Fail);
}

#[test]
fn ticks_belong_to_their_environment() {
    let mut s = session();
    s.ch(' ');
    assert_eq!(s.status("runbook"), Status::Done);
    s.ch(']');
    assert_eq!(s.status("runbook"), Status::Pending);
    assert!(s.log_text("staging").is_empty());
    s.ch('[');
    assert_eq!(s.status("runbook"), Status::Done);
}

// ---------------------------------------------------------------------------
// Live changes

#[test]
fn a_live_probe_result_changes_the_row_and_the_decision() {
    let mut s = session();
    s.select("restore-drill");
    s.ch(' ');
    s.type_text("https://tickets.example/DRILL-42");
    s.ctrl('s');
    assert_eq!(s.decision(), Decision::NoGo, "api-health not checked yet");
    s.h.probe_started("api-health");
    assert!(s.h.app.is_busy());
    assert!(s.screen().contains("1 running"));
    s.probe("api-health", Verdict::Fail, "status 503, expected 2xx");
    assert!(!s.h.app.is_busy());
    assert_eq!(s.status("api-health"), Status::Fail);
    let screen = s.wide_screen();
    let row = line_with(&screen, "API answers its health check");
    assert!(
        row.contains('✘') && row.contains("status 503, expected 2xx"),
        "{row}"
    );
    assert!(row.contains("10s"), "the age of the result: {row}");
    assert!(screen.lines().next().is_some_and(|l| l.contains("NO-GO")));
    s.probe("api-health", Verdict::Pass, "200 OK in 12 ms");
    assert_eq!(s.decision(), Decision::GoWithConditions);
    let screen = s.wide_screen();
    assert!(line_with(&screen, "API answers its health check").contains("200 OK in 12 ms"));
    assert!(
        screen
            .lines()
            .next()
            .is_some_and(|l| l.contains("GO WITH CONDITIONS")),
        "{screen}"
    );
    // The detail keeps the history.
    s.select("api-health");
    s.enter();
    let screen = s.wide_screen();
    assert!(screen.contains("History (newest first)"), "{screen}");
    assert!(screen.contains("status 503, expected 2xx"), "{screen}");
}

#[test]
fn another_sessions_tick_appears_after_a_refresh() {
    let mut s = session();
    assert_eq!(s.status("runbook"), Status::Pending);
    s.other_session_appends(
        "dev",
        "bob",
        EventKind::Tick {
            item: "runbook".into(),
        },
    );
    // Not before the watcher says so.
    assert_eq!(s.status("runbook"), Status::Pending);
    s.h.refresh_logs();
    assert_eq!(s.status("runbook"), Status::Done);
    assert_eq!(s.last_toast(), (Level::Info, "bob ticked runbook".into()));
    assert!(line_with(&s.wide_screen(), "Runbook reviewed").contains("ticked by bob"));
    // Our own next write goes on after theirs.
    s.ch(' ');
    let log = s.log("dev");
    assert_eq!(log.len(), 2);
    assert_eq!(
        (&log[0]["by"], &log[1]["by"]),
        (&"bob".into(), &"alice".into())
    );
    assert_eq!(log[1]["kind"], "untick");
}

#[test]
fn a_write_that_races_another_session_is_refused_not_lost() {
    let mut s = session();
    // Bob ticks while our view is still the empty log.
    s.other_session_appends(
        "dev",
        "bob",
        EventKind::Tick {
            item: "runbook".into(),
        },
    );
    s.ch(' ');
    // Judged again against the log as Bob left it: already ticked.
    let error = s.error_toast();
    assert!(
        error.starts_with("not written: runbook is already ticked (by bob"),
        "{error}"
    );
    let log = s.log("dev");
    assert_eq!(log.len(), 1, "only Bob's tick: {log:?}");
    // The screen caught up with Bob's tick.
    assert_eq!(s.status("runbook"), Status::Done);

    // A note that races Bob's next event is judged again and chained
    // after it, not refused.
    s.other_session_appends(
        "dev",
        "bob",
        EventKind::Untick {
            item: "runbook".into(),
        },
    );
    s.ch('n');
    s.type_text("links checked");
    s.ctrl('s');
    let log = s.log("dev");
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(
        (&log[2]["by"], &log[2]["kind"]),
        (&"alice".into(), &"note".into())
    );
}

// ---------------------------------------------------------------------------
// Export

#[test]
fn e_writes_the_document_to_the_export_dir_and_names_it() {
    let mut s = session();
    s.ch(' ');
    s.probe("hsts", Verdict::Fail, "no header");
    s.ch('e');
    let path = s
        .root()
        .join("exports")
        .join(format!("launch-dev-{TODAY}.md"));
    assert!(path.is_file(), "{} was not written", path.display());
    let text = std::fs::read_to_string(&path).expect("readable");
    assert!(text.contains("Launch review"), "{text}");
    assert!(text.contains("Runbook reviewed by on-call"));
    assert!(
        text.contains("no header"),
        "the probe result on screen is in it"
    );
    assert!(
        !text.contains("DNS cutover"),
        "only the current checklist is exported"
    );
    let (level, toast) = s.last_toast();
    assert_eq!(level, Level::Info);
    // Named as the config names it: relative to its folder.
    assert_eq!(toast, format!("exported exports/launch-dev-{TODAY}.md"));
    assert!(s.wide_screen().contains(&toast));
    assert!(matches!(
        s.h.effects.last(),
        Some(Effect::Export(r)) if r.env == "dev" && r.checklist == "launch" && r.path.is_none()
    ));
}

#[test]
fn export_command_writes_to_the_named_file() {
    let mut s = session();
    let target = s.root().join("out/review.md");
    s.ch(':');
    s.type_text(&format!("export {}\n", target.display()));
    assert!(target.is_file(), "{} was not written", target.display());
    assert_eq!(
        s.last_toast(),
        (Level::Info, "exported out/review.md".to_string())
    );
    // Nothing in the export folder this time.
    assert!(!s.root().join("exports").exists());
}

#[test]
fn an_export_that_cannot_be_written_is_an_error_on_screen() {
    let mut s = session();
    let blocker = s.root().join("not-a-folder");
    std::fs::write(&blocker, "").expect("write a file");
    s.ch(':');
    s.type_text(&format!("export {}\n", blocker.join("review.md").display()));
    let error = s.error_toast();
    assert!(error.starts_with("export failed: cannot create"), "{error}");
    assert!(!s.h.app.should_quit());
}

// ---------------------------------------------------------------------------
// The command line

fn command_text(s: &Session) -> String {
    match &s.h.app.ui.modal {
        Some(Modal::Command(line)) => line.input.lines().join(" "),
        other => panic!("the command line is not open: {other:?}"),
    }
}

fn candidates(s: &Session) -> Vec<String> {
    match &s.h.app.ui.modal {
        Some(Modal::Command(line)) => line.candidates.clone(),
        other => panic!("the command line is not open: {other:?}"),
    }
}

#[test]
fn colon_completes_commands_and_their_arguments() {
    let mut s = session();
    // Commands.
    s.ch(':');
    s.type_text("en");
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "env ");
    // Environments.
    s.type_text("st");
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "env staging");
    s.enter();
    assert_eq!(s.env(), "staging");

    // Several matches: nothing is guessed, the candidates are listed.
    s.ch(':');
    s.ch('e');
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "e");
    assert_eq!(candidates(&s), ["env", "export"]);
    assert!(s.screen().contains("env  export"));
    s.type_text("x");
    assert!(candidates(&s).is_empty(), "typing clears the list");
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "export ");
    s.esc();

    // Checklists.
    s.ch(':');
    s.type_text("checklist ");
    s.press(KeyCode::Tab);
    assert_eq!(candidates(&s), ["launch", "cutover"]);
    s.ch('c');
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "checklist cutover");
    s.enter();
    assert_eq!(
        s.h.app.current_checklist().map(|c| c.id.as_str()),
        Some("cutover")
    );
    assert!(s.screen().contains("DNS cutover (2/2)"));
    assert_eq!(s.rows(), ["dns-ttl"]);

    // Status filters.
    s.ch(':');
    s.type_text("c");
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "checklist ");
    s.type_text("la");
    s.press(KeyCode::Tab);
    s.enter();
    assert_eq!(
        s.h.app.current_checklist().map(|c| c.id.as_str()),
        Some("launch")
    );
    s.ch(':');
    s.type_text("fi");
    s.press(KeyCode::Tab);
    s.type_text("o");
    s.press(KeyCode::Tab);
    assert_eq!(command_text(&s), "filter open");
    s.enter();
    assert_eq!(s.h.app.ui.status_filter, StatusFilter::Open);
    // `:filter TEXT` is the text filter.
    s.ch(':');
    s.type_text("filter drill\n");
    assert_eq!(s.rows(), ["restore-drill"]);

    // Unknown commands say what exists.
    s.ch(':');
    s.type_text("frobnicate\n");
    assert!(s.error_toast().starts_with("unknown command `frobnicate`"));
    assert!(!s.h.app.should_quit());
    s.ch(':');
    s.type_text("sigoff\n");
    assert!(
        s.error_toast()
            .starts_with("unknown command `sigoff`; did you mean `signoff`?"),
        "{}",
        s.error_toast()
    );
    // The words that stand for a key's command do what the key does.
    s.ch(':');
    s.type_text("rerun\n");
    assert_eq!(s.h.effects.last(), Some(&Effect::RerunAll));
    s.ch(':');
    s.type_text("signoff\n");
    assert_eq!(s.h.app.context(), Context::Signoff);
}

// ---------------------------------------------------------------------------
// Quitting

#[test]
fn q_quits_from_the_list_and_the_detail() {
    let mut s = session();
    s.ch('q');
    assert!(s.h.app.should_quit());
    let mut s = session();
    s.enter();
    s.ch('q');
    assert!(s.h.app.should_quit());
}

#[test]
fn q_in_help_closes_it_and_in_an_editor_is_text() {
    let mut s = session();
    s.ch('?');
    s.ch('q');
    assert!(!s.h.app.should_quit());
    assert_eq!(s.h.app.context(), Context::List);
    s.ch('n');
    s.ch('q');
    assert!(!s.h.app.should_quit());
    s.ch('/');
    assert!(!s.h.app.should_quit());
}

#[test]
fn ctrl_c_quits_from_anywhere() {
    for opener in ["", "?", "n", "w", "s", "/", ":", "c"] {
        let mut s = session();
        s.enter();
        s.esc();
        for c in opener.chars() {
            s.ch(c);
        }
        s.ctrl('c');
        assert!(s.h.app.should_quit(), "Ctrl-C after {opener:?}");
    }
    let mut s = session();
    s.ch(':');
    s.type_text("quit\n");
    assert!(s.h.app.should_quit());
}

// ---------------------------------------------------------------------------
// The keymap

/// The help dialog's text, from top to bottom, scrolled through with `j`.
fn help_text(s: &mut Session) -> Vec<String> {
    s.ch('?');
    assert_eq!(s.h.app.context(), Context::Help);
    let (w, h) = (80u16, 24u16);
    let theme = Theme::default_dark();
    let areas = s.h.app.layout(Rect::new(0, 0, w, h));
    let dialog = views::centered(areas.body, 76, areas.body.height);
    let inner = Rect::new(
        dialog.x + 1,
        dialog.y + 1,
        dialog.width - 2,
        dialog.height - 2,
    );
    let rows_of = |app: &gonogo::tui::app::App| -> Vec<String> {
        let text = buffer_text(&render(app, &theme, w, h));
        text.lines()
            .skip(inner.y as usize)
            .take(inner.height as usize)
            .map(|l| {
                l.chars()
                    .skip(inner.x as usize)
                    .take(inner.width as usize)
                    .collect::<String>()
                    .trim_end()
                    .to_string()
            })
            .collect()
    };
    let mut lines = rows_of(&s.h.app);
    for _ in 0..200 {
        s.ch('j');
        let page = rows_of(&s.h.app);
        if page == lines[lines.len() - page.len()..] {
            break;
        }
        lines.push(page.last().cloned().unwrap_or_default());
    }
    lines
}

#[test]
fn help_lists_every_binding_of_the_keymap() {
    let mut s = session();
    let lines = help_text(&mut s);
    // One entry per binding: its keys, then its description (wrapped onto
    // indented lines when long). Join the wrapped lines back together.
    let mut text = lines.join("\n");
    text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut missing = Vec::new();
    for b in BINDINGS {
        let entry = format!("{} {}", keymap::keys_label(b, false), b.description);
        if !text.contains(&entry) {
            missing.push(entry);
        }
    }
    assert!(
        missing.is_empty(),
        "not in the help: {missing:#?}\nhelp:\n{}",
        lines.join("\n")
    );
    // The group titles are there too, and the scrolling reached the end.
    for title in [
        "Move",
        "Review",
        "View",
        "Environment",
        "Dialogs and editors",
        "App",
        "Command line (:)",
    ] {
        assert!(lines.iter().any(|l| l.trim() == title), "no {title} group");
    }
    // Every word of the command line, with what it takes.
    for word in keymap::WORDS {
        let entry = format!("{} {}", word.usage(), word.description);
        assert!(text.contains(&entry), "not in the help: {entry}");
    }
    assert!(
        lines.len() > 20,
        "the help needed scrolling: {}",
        lines.len()
    );
    // `?` again closes it.
    s.ch('?');
    assert_eq!(s.h.app.context(), Context::List);
}

#[test]
fn help_in_ascii_mode_uses_ascii_labels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = workspace(dir.path());
    let mut s = Session {
        h: Headless::with_look(ws, now(), true),
        dir,
    };
    s.resize(80, 24);
    let lines = help_text(&mut s);
    let text = lines
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for b in BINDINGS {
        let label = keymap::keys_label(b, true);
        assert!(label.is_ascii());
        assert!(
            text.contains(&format!("{label} {}", b.description)),
            "{label} missing"
        );
    }
    assert!(lines.iter().all(|l| l.is_ascii()), "{lines:#?}");
}

/// Puts a fresh session into `context`.
fn session_in(context: Context) -> Session {
    let mut s = match context {
        Context::Objects | Context::Object => kube_session(),
        _ => session(),
    };
    let keys: &[char] = match context {
        Context::Objects => &['O'],
        Context::Object => &['O', '\n'],
        Context::List => &[],
        Context::Detail => &['\n'],
        Context::Path => &['c'],
        Context::Log => &['L'],
        Context::Matrix => &['v'],
        Context::Help => &['?'],
        Context::Note => &['n'],
        Context::Form => &['w'],
        Context::Signoff => &['s'],
        Context::Filter => &['/'],
        Context::Command => &[':'],
        Context::Confirm => {
            s.ch('w');
            s.type_text("accepted\n");
            &['w']
        }
    };
    for c in keys {
        if *c == '\n' {
            s.enter();
        } else {
            s.ch(*c);
        }
    }
    assert_eq!(s.h.app.context(), context, "setting up {context:?}");
    s
}

/// The key events a binding's keys stand for.
fn events(keys: &Keys) -> Vec<KeyEvent> {
    let event = |c: &keymap::Chord| {
        // Terminals report Shift-Tab as BackTab with SHIFT.
        KeyEvent::new(c.code, c.mods)
    };
    match keys {
        Keys::One(c) => vec![event(c)],
        Keys::Two(a, b) => vec![event(a), event(b)],
    }
}

/// What a person could tell apart: where they are, what is selected and
/// filtered, which dialog holds what, the toasts, the effects asked for, the
/// log on disk, and the screen. Hashes and clock times (the log stamps real
/// time) are masked so two sessions doing the same compare equal.
fn observable(s: &Session) -> String {
    let app = &s.h.app;
    let modal = match &app.ui.modal {
        None => "none".to_string(),
        Some(Modal::Help { scroll }) => format!("help {scroll}"),
        Some(Modal::Note(e)) => format!("note {} {:?} {}", e.item, e.text.lines(), e.then_tick),
        Some(Modal::Waive(f)) => format!(
            "waive {} {:?} {:?} {} {:?}",
            f.item,
            f.reason.lines(),
            f.until.lines(),
            f.field,
            f.error
        ),
        Some(Modal::Unwaive { item }) => format!("unwaive {item}"),
        Some(Modal::Signoff(d)) => format!("signoff {} {:?}", d.choice, d.note.lines()),
        Some(Modal::Filter {
            input,
            before,
            selected,
        }) => format!("filter {:?} {before} {selected:?}", input.lines()),
        Some(Modal::Command(l)) => format!("command {:?} {:?}", l.input.lines(), l.candidates),
    };
    let effects: Vec<String> =
        s.h.effects
            .iter()
            .map(|e| match e {
                Effect::Write(w) => {
                    // What the change records, without the sign-off's facts
                    // (they repeat the screen).
                    let change = match &w.change {
                        Change::Signoff { decision, note, .. } => {
                            format!("signoff {decision} {note:?}")
                        }
                        other => format!("{:?} {:?}", other.item().map(|i| &i.id), other.done()),
                    };
                    format!("write {} {} {change} {}", w.env, w.checklist, w.done)
                }
                other => format!("{other:?}"),
            })
            .collect();
    let mut out = format!(
        "context {:?}\nfocus {:?} section {} cursor {} offset {} selected {:?}\n\
         filter {:?} {:?}\nstack {:?}\nmodal {modal}\n\
         env {} checklist {} generation {} quit {}\ntoasts {:?}\neffects {effects:#?}\n",
        app.context(),
        app.ui.focus,
        app.ui.section,
        app.ui.cursor,
        app.ui.offset,
        app.ui.selected,
        app.ui.filter,
        app.ui.status_filter,
        app.ui.stack,
        app.env,
        app.checklist,
        app.generation,
        app.should_quit(),
        s.toasts(),
    );
    let mut hashes = Vec::new();
    for env in ["dev", "staging", "prod", "archive"] {
        for e in s.log(env) {
            out.push_str(&format!(
                "log {env} {} {} {} {} {}\n",
                e["kind"], e["item"], e["text"], e["reason"], e["decision"]
            ));
            if let Some(h) = e["hash"].as_str() {
                hashes.push(h.to_string());
            }
        }
    }
    if let Ok(dir) = std::fs::read_dir(s.root().join("exports")) {
        for entry in dir.flatten() {
            out.push_str(&format!("export {}\n", entry.file_name().to_string_lossy()));
        }
    }
    let screen: String = s
        .screen()
        .replace(&s.root().display().to_string(), "<root>")
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect();
    out.push_str(&screen);
    for h in hashes {
        out = out.replace(&h, "<hash>").replace(&h[..12], "<hash>");
    }
    out.replace(&s.root().display().to_string(), "<root>")
}

#[test]
fn every_binding_runs_the_command_the_keymap_table_names() {
    let contexts = [
        Context::List,
        Context::Detail,
        Context::Path,
        Context::Log,
        Context::Matrix,
        Context::Objects,
        Context::Object,
        Context::Help,
        Context::Note,
        Context::Form,
        Context::Signoff,
        Context::Confirm,
        Context::Filter,
        Context::Command,
    ];
    let mut checked = 0;
    for b in BINDINGS {
        assert!(!b.keys.is_empty(), "{} has no key", b.description);
        for context in b.contexts {
            assert!(contexts.contains(context));
            for keys in b.keys {
                // The table's own answer for this key here.
                let want = match (b.command, keys) {
                    (Command::SelectEnv(_), Keys::One(c)) => match c.code {
                        KeyCode::Char(d @ '1'..='9') => Command::SelectEnv(d as u8 - b'1'),
                        other => panic!("an environment digit bound to {other:?}"),
                    },
                    (command, _) => command,
                };
                let evs = events(keys);
                let mut pending = None;
                for ev in &evs[..evs.len() - 1] {
                    match keymap::resolve(*context, pending, ev) {
                        Resolved::Prefix(c) => pending = Some(c),
                        other => panic!("{keys:?} in {context:?}: first key gave {other:?}"),
                    }
                }
                let last = evs.last().expect("at least one key");
                assert_eq!(
                    keymap::resolve(*context, pending, last),
                    Resolved::Run(want),
                    "{} in {context:?}",
                    keymap::keys_label(b, false)
                );

                // Pressing the keys does exactly what running the command does.
                let mut pressed = session_in(*context);
                for ev in &evs {
                    pressed.h.send(Action::Key(*ev));
                }
                let mut ran = session_in(*context);
                ran.h.send(Action::Run(want));
                let (a, b2) = (observable(&pressed), observable(&ran));
                assert_eq!(
                    a,
                    b2,
                    "{} in {context:?} did not do what {want:?} does",
                    keys.label(false)
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} key bindings checked");
}

#[test]
fn the_hint_bar_shows_keys_of_the_current_view_from_the_keymap() {
    let mut s = session();
    for (opener, context, must) in [
        (None, Context::List, &["↑↓ move", "Space tick"][..]),
        (Some('n'), Context::Note, &["Ctrl-s save", "Esc back"][..]),
        (
            Some('s'),
            Context::Signoff,
            &["Enter confirm", "Esc back"][..],
        ),
        (Some('?'), Context::Help, &["Esc back"][..]),
    ] {
        if let Some(c) = opener {
            s.ch(c);
        }
        assert_eq!(s.h.app.context(), context);
        let screen = s.screen();
        let bar = screen.lines().last().unwrap_or_default();
        let table: Vec<String> = keymap::hints(context, false)
            .into_iter()
            .map(|(key, word)| format!("{key} {word}"))
            .collect();
        // Every entry on the bar comes from this view's bindings.
        let shown: Vec<&str> = bar
            .split("  ")
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .collect();
        for entry in &shown {
            assert!(
                table.iter().any(|t| t == entry),
                "{context:?}: {entry:?} is not a hint of this view: {table:?}"
            );
        }
        for entry in must {
            assert!(
                shown.contains(entry),
                "{context:?}: {entry} missing from {bar:?}"
            );
        }
        s.esc();
    }
}

// ---------------------------------------------------------------------------
// Re-running probes

#[test]
fn r_reruns_the_probe_under_the_cursor_and_capital_r_all() {
    let mut s = session();
    s.ch('r');
    assert_eq!(
        s.last_toast(),
        (
            Level::Info,
            "runbook is ticked by a person: nothing to re-run".into()
        )
    );
    s.select("api-health");
    s.ch('r');
    assert_eq!(
        s.h.effects.last(),
        Some(&Effect::Rerun(s.h.key("api-health")))
    );
    s.ch('R');
    assert_eq!(s.h.effects.last(), Some(&Effect::RerunAll));
    assert_eq!(s.last_toast(), (Level::Info, "re-running 2 probes".into()));
}

// ---------------------------------------------------------------------------
// Hostile text

const HOSTILE: &str = "\u{1b}[2J\u{1b}[31mred\u{1b}[0m \u{7}bell\u{8} \u{1b}]0;pwned\u{7}title\r\nsecond\tline \u{9b}31m \u{202e}desrever";

fn control_cells(buf: &ratatui::buffer::Buffer) -> Vec<(u16, u16, String)> {
    let area = buf.area;
    let mut bad = Vec::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let sym = buf[(x, y)].symbol();
            if sym
                .chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c))
            {
                bad.push((x, y, sym.escape_debug().to_string()));
            }
        }
    }
    bad
}

#[test]
fn hostile_text_in_a_note_never_reaches_the_screen() {
    let mut s = session();
    s.other_session_appends(
        "dev",
        "mallory\u{1b}[5m",
        EventKind::Note {
            item: "runbook".into(),
            text: HOSTILE.into(),
        },
    );
    s.other_session_appends(
        "dev",
        "mallory",
        EventKind::Waive {
            item: "pager".into(),
            reason: HOSTILE.into(),
            until: None,
        },
    );
    s.h.refresh_logs();
    s.probe("hsts", Verdict::Fail, HOSTILE);
    let theme = Theme::default_dark();
    let mut screens = Vec::new();
    for (w, h) in [(80, 24), (180, 40)] {
        s.resize(w, h);
        screens.push(render(&s.h.app, &theme, w, h));
    }
    s.select("runbook");
    s.enter();
    let detail = render(&s.h.app, &theme, 180, 40);
    let text = buffer_text(&detail);
    assert!(
        text.contains("red bell"),
        "the text itself is kept:\n{text}"
    );
    assert!(text.contains("second"), "{text}");
    assert!(!text.contains("[31m") && !text.contains("pwned"), "{text}");
    screens.push(detail);
    s.esc();
    s.select("pager");
    s.enter();
    screens.push(render(&s.h.app, &theme, 180, 40));
    s.esc();
    s.select("pager");
    s.ch('w');
    screens.push(render(&s.h.app, &theme, 180, 40));
    s.esc();
    s.select("hsts");
    s.enter();
    screens.push(render(&s.h.app, &theme, 180, 40));
    for (n, buf) in screens.iter().enumerate() {
        let bad = control_cells(buf);
        assert!(
            bad.is_empty(),
            "screen {n} has control characters at {bad:?}:\n{}",
            buffer_text(buf)
        );
    }
}

#[test]
fn pasted_hostile_text_is_cleaned_before_it_is_saved() {
    let mut s = session();
    s.ch('n');
    s.h.send(Action::Paste(HOSTILE.into()));
    let bad = control_cells(&render(&s.h.app, &Theme::default_dark(), 80, 24));
    assert!(bad.is_empty(), "{bad:?}");
    s.ctrl('s');
    let log = s.log("dev");
    assert_eq!(log.len(), 1);
    let text = log[0]["text"].as_str().unwrap_or_default();
    assert!(
        !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{text:?}"
    );
    assert!(text.contains("red") && !text.contains("pwned"), "{text:?}");
}

#[test]
fn toasts_take_rows_of_their_own_and_keep_the_selected_row_in_view() {
    let mut s = session();
    // The last row the items pane shows.
    s.select("ops-07");
    let before = s.screen();
    assert!(
        line_with(&before, "Operations task 07").contains('▸'),
        "{before}"
    );
    s.h.send(Action::Execute("env qa".into()));
    s.h.send(Action::Execute("env qb".into()));
    let screen = s.screen();
    // Still on screen and selected, with the two errors below the panes.
    assert!(
        line_with(&screen, "Operations task 07").contains('▸'),
        "{screen}"
    );
    let rows: Vec<&str> = screen.lines().collect();
    let first = rows
        .iter()
        .position(|l| l.contains("no environment `qa`"))
        .expect("the first toast");
    assert!(rows[first - 1].starts_with('┗'), "{screen}");
    assert!(rows[first + 1].contains("no environment `qb`"), "{screen}");
}

#[test]
fn a_later_success_replaces_an_earlier_refusal() {
    let mut s = session();
    s.select("api-health");
    s.ch(' ');
    assert!(s.toasts().iter().any(|(l, _)| *l == Level::Error));
    // A note written on another item: its success replaces the refusal.
    s.select("runbook");
    s.ch('n');
    s.type_text("links checked");
    s.ctrl('s');
    let toasts = s.toasts();
    assert!(
        toasts.iter().all(|(l, _)| *l != Level::Error),
        "the old refusal is gone: {toasts:?}"
    );
    assert!(!s.screen().contains("✘ api-health"));
    // Other errors are not a refusal of a change: they stay until Esc.
    s.h.send(Action::Execute("env qa".into()));
    s.ch('n');
    s.type_text("second look");
    s.ctrl('s');
    assert!(s.screen().contains("no environment `qa`"));
}

#[test]
fn esc_on_a_typed_note_keeps_it_as_a_draft() {
    let mut s = session();
    s.select("runbook");
    s.ch('n');
    s.type_text("checked the rollback section with Dana");
    s.esc();
    assert_eq!(s.h.app.context(), Context::List);
    assert!(s.log_text("dev").is_empty(), "nothing was written");
    assert!(
        s.toasts()
            .iter()
            .any(|(_, t)| t == "note on runbook kept as a draft: n opens it again"),
        "{:?}",
        s.toasts()
    );
    // Another item's editor starts empty; this one's opens with the draft.
    s.select("pager");
    s.ch('n');
    assert!(!s.screen().contains("rollback section"));
    s.esc();
    s.select("runbook");
    s.ch('n');
    assert!(
        s.screen()
            .contains("checked the rollback section with Dana")
    );
    s.type_text(" on Tuesday");
    s.ctrl('s');
    let log = s.log("dev");
    assert_eq!(
        log[0]["text"],
        "checked the rollback section with Dana on Tuesday"
    );
    // Saved, the draft is gone.
    s.ch('n');
    assert!(!s.screen().contains("rollback section"));
}

#[test]
fn the_note_editor_wraps_long_lines() {
    let mut s = session();
    s.select("runbook");
    s.ch('n');
    let words: Vec<String> = (1..=30).map(|n| format!("word{n}")).collect();
    s.type_text(&words.join(" "));
    let screen = s.screen();
    // The first word and the last are both in view: nothing scrolled away
    // sideways.
    assert!(screen.contains("word1 "), "{screen}");
    assert!(screen.contains("word30"), "{screen}");
}

#[test]
fn help_ends_with_a_legend_of_the_status_glyphs() {
    let mut s = session();
    let lines = help_text(&mut s);
    let text = lines.join("\n");
    let legend = text
        .split("Status glyphs")
        .nth(1)
        .expect("a legend after the keys");
    for (glyph, status) in [
        ("✔", "pass"),
        ("✔", "done"),
        ("✘", "fail"),
        ("!", "error"),
        ("…", "pending"),
        ("~", "waived"),
        ("-", "skipped"),
    ] {
        assert!(
            legend
                .lines()
                .any(|l| l.trim_start().starts_with(glyph) && l.contains(&format!("{status}: "))),
            "no {glyph} {status} in the legend:\n{legend}"
        );
    }
}

#[test]
fn problems_come_first_while_no_go_and_o_changes_the_order() {
    let mut s = session_as_started();
    s.probe("hsts", Verdict::Fail, "no Strict-Transport-Security header");
    s.probe("api-health", Verdict::Pass, "200 OK");
    assert_eq!(s.h.app.view.report.decision, gonogo::review::Decision::NoGo);
    // The review is NO-GO: failing first, then what waits, worst first;
    // what passed after all of them.
    let rows = s.rows();
    assert_eq!(rows[0], "hsts", "{rows:?}");
    assert_eq!(rows[1], "restore-drill", "a pending blocker next: {rows:?}");
    assert_eq!(
        rows.last().map(String::as_str),
        Some("api-health"),
        "{rows:?}"
    );
    assert!(s.screen().contains("problems first"), "{}", s.screen());

    // `o` walks the orders, saying which.
    s.ch('o');
    assert!(s.toasts().iter().any(|(_, t)| t == "items by status"));
    s.ch('o');
    let rows = s.rows();
    assert_eq!(
        &rows[..2],
        ["restore-drill", "api-health"],
        "blockers first: {rows:?}"
    );
    assert!(s.screen().contains("by severity"));
    s.h.send(Action::Execute("sort checklist".into()));
    assert_eq!(s.rows()[0], "runbook");
    s.h.send(Action::Execute("sort sideways".into()));
    assert!(
        s.toasts()
            .iter()
            .any(|(_, t)| t.starts_with("no order `sideways`: try auto, checklist")),
        "{:?}",
        s.toasts()
    );
}

#[test]
fn colon_item_goes_to_the_item_through_filters_that_hide_it() {
    let mut s = session();
    s.ch('f');
    s.ch('f'); // failing only: ops-12 is not among them
    assert!(!s.rows().contains(&"ops-12".to_string()));
    s.h.send(Action::Execute("item ops-12".into()));
    assert_eq!(s.selected().as_deref(), Some("ops-12"));
    assert!(line_with(&s.screen(), "Operations task 12").contains('▸'));
    // A typo is named with the closest id.
    s.h.send(Action::Execute("i ops-1x".into()));
    assert!(
        s.toasts()
            .iter()
            .any(|(_, t)| t.starts_with("no item `ops-1x` in this checklist")),
        "{:?}",
        s.toasts()
    );
    // Tab completes item ids.
    s.ch(':');
    s.type_text("item rest");
    s.press(KeyCode::Tab);
    assert!(s.screen().contains(":item restore-drill"), "{}", s.screen());
}

#[test]
fn y_copies_the_item_id_and_capital_y_its_evidence() {
    use gonogo::tui::app::Effect;
    let mut s = session();
    s.probe("hsts", Verdict::Fail, "no Strict-Transport-Security header");
    s.select("hsts");
    let before = s.h.effects.len();
    s.ch('y');
    assert_eq!(s.h.effects[before..], [Effect::Copy("hsts".into())]);
    assert!(s.toasts().iter().any(|(_, t)| t == "copied hsts"));
    s.ch('Y');
    assert_eq!(
        s.h.effects.last(),
        Some(&Effect::Copy(
            "hsts: fail: no Strict-Transport-Security header".into()
        ))
    );
    // From the detail view too.
    s.press(KeyCode::Enter);
    s.ch('y');
    assert_eq!(s.h.effects.last(), Some(&Effect::Copy("hsts".into())));
    // Off with --no-clipboard: nothing sent, and the reason shown.
    s.h.app.clipboard = false;
    let before = s.h.effects.len();
    s.ch('y');
    assert_eq!(s.h.effects.len(), before);
    assert!(
        s.toasts()
            .iter()
            .any(|(_, t)| t == "copying is off (--no-clipboard)")
    );
}

#[test]
fn a_no_go_review_opens_on_its_worst_problem() {
    let mut s = session_as_started();
    s.probe("api-health", Verdict::Pass, "200 OK");
    s.probe("hsts", Verdict::Fail, "no Strict-Transport-Security header");
    // Once the results are in, the order turns problems first and the
    // cursor starts on the first of them.
    assert_eq!(s.selected().as_deref(), Some("hsts"));
}

// ---------------------------------------------------------------------------
// Drilling into a kube item's objects

const CLUSTER_CONFIG: &str = r#"
builtin = false
checklists = ["checklists/cluster.toml"]
state_dir = "state"
export_dir = "exports"
operator = "alice"

[[environments]]
name = "dev"
snapshot = "cluster.yaml"

[[environments]]
name = "bare"
"#;

const CLUSTER_CHECKLIST: &str = r#"
id = "cluster"
title = "Cluster review"
version = "test"

[[sections]]
id = "kube"
title = "Kubernetes"

[[sections.items]]
id = "replicas"
title = "Deployments run two replicas"
severity = "high"
[sections.items.probe]
kind = "kube"
resource = "apps/v1/Deployment"
namespace = "shop"
expect = "object.spec.replicas >= 2"

[[sections.items]]
id = "health"
title = "The API answers its health check"
severity = "high"
[sections.items.probe]
kind = "http"
url = "http://127.0.0.1:9/healthz"

[[sections.items]]
id = "runbook"
title = "Runbook reviewed"
severity = "low"
"#;

const CLUSTER: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec: {replicas: 3}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec: {replicas: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cron, namespace: shop}
spec: {replicas: 1}
";

/// A session on a review of a snapshot cluster (`dev`) and of an
/// environment with none (`bare`), in the checklist's order.
fn kube_session() -> Session {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("checklists")).expect("temp dir is writable");
    std::fs::write(root.join("gonogo.toml"), CLUSTER_CONFIG).expect("write config");
    std::fs::write(root.join("checklists/cluster.toml"), CLUSTER_CHECKLIST)
        .expect("write checklist");
    std::fs::write(root.join("cluster.yaml"), CLUSTER).expect("write the snapshot");
    let options = Options {
        config: Some(root.join("gonogo.toml")),
        ..Options::default()
    };
    let ws = Workspace::load(&options)
        .unwrap_or_else(|e| panic!("the cluster workspace does not load:\n{e}"));
    let mut s = Session {
        h: Headless::new(ws, now()),
        dir,
    };
    s.resize(80, 24);
    s.h.send(Action::Execute("sort checklist".into()));
    s
}

impl Session {
    /// The ids on the objects screen, in order.
    fn object_rows(&self) -> Vec<String> {
        self.h
            .app
            .live
            .objects
            .as_ref()
            .map(|r| r.objects().iter().map(|e| e.id()).collect())
            .unwrap_or_default()
    }
}

#[test]
fn o_lists_a_kube_items_objects_out_of_line_first_and_enter_opens_one() {
    let mut s = kube_session();
    s.select("replicas");
    s.ch('O');
    assert_eq!(s.h.app.context(), Context::Objects);
    assert!(
        s.h.effects
            .iter()
            .any(|e| matches!(e, Effect::ReadObjects { item, .. } if item == "replicas")),
        "{:?}",
        s.h.effects
    );
    assert_eq!(s.object_rows(), ["shop/cron", "shop/worker", "shop/api"]);
    let screen = s.screen();
    assert!(
        screen.contains("object.spec.replicas is 1, wants >= 2"),
        "{screen}"
    );
    assert!(screen.contains("in line"), "{screen}");
    s.ch('j');
    s.enter();
    assert_eq!(s.h.app.context(), Context::Object);
    let screen = s.screen();
    assert!(
        screen.contains("Object · apps/v1/Deployment shop/worker"),
        "{screen}"
    );
    assert!(screen.contains("replicas: 1"), "{screen}");
    // Esc goes back one level each time, and never further than asked.
    s.esc();
    assert_eq!(s.h.app.context(), Context::Objects);
    s.esc();
    assert_eq!(s.h.app.context(), Context::List);
}

#[test]
fn enter_in_a_kube_items_detail_drills_to_its_objects() {
    let mut s = kube_session();
    s.select("replicas");
    s.enter();
    assert_eq!(s.h.app.context(), Context::Detail);
    assert!(
        s.screen().contains("Enter: the objects it selects"),
        "{}",
        s.screen()
    );
    s.enter();
    assert_eq!(s.h.app.context(), Context::Objects);
    s.esc();
    assert_eq!(s.h.app.context(), Context::Detail);
}

#[test]
fn only_kube_items_have_objects() {
    let mut s = kube_session();
    for (item, says) in [
        (
            "health",
            "only kube items have objects: the detail shows the last response",
        ),
        ("runbook", "only kube items have objects"),
    ] {
        s.select(item);
        s.ch('O');
        assert_eq!(s.h.app.context(), Context::List);
        assert_eq!(s.last_toast(), (Level::Info, says.to_string()));
        // From the detail too.
        s.enter();
        s.enter();
        assert_eq!(s.h.app.context(), Context::Detail);
        assert_eq!(s.last_toast(), (Level::Info, says.to_string()));
        s.esc();
    }
    assert!(
        !s.h.effects
            .iter()
            .any(|e| matches!(e, Effect::ReadObjects { .. })),
        "nothing is read for them"
    );
}

#[test]
fn an_environment_without_a_cluster_says_so_on_the_objects_screen() {
    let mut s = kube_session();
    s.ch(']');
    assert_eq!(s.h.app.env_tab().name, "bare");
    s.select("replicas");
    s.ch('O');
    assert_eq!(s.h.app.context(), Context::Objects);
    let screen = s.wide_screen();
    assert!(
        screen.contains("this environment has no kube_context or snapshot configured"),
        "{screen}"
    );
}

#[test]
fn a_snapshot_that_cannot_be_read_says_why_on_the_objects_screen() {
    let mut s = kube_session();
    std::fs::write(
        s.root().join("cluster.yaml"),
        "kind: Deployment\nmetadata: {name: [\n",
    )
    .expect("break the snapshot");
    s.select("replicas");
    s.ch('O');
    assert_eq!(s.h.app.context(), Context::Objects);
    assert!(s.object_rows().is_empty());
    let screen = s.wide_screen();
    assert!(screen.contains("cluster.yaml"), "names the file:\n{screen}");
    assert!(screen.contains("cannot read the cluster: "), "{screen}");
    // Nothing to open.
    s.enter();
    assert_eq!(s.h.app.context(), Context::Objects);
}

#[test]
fn switching_environment_leaves_the_objects_of_the_one_left() {
    let mut s = kube_session();
    s.select("replicas");
    s.ch('O');
    s.enter();
    assert_eq!(s.h.app.context(), Context::Object);
    s.ch(']');
    assert_eq!(s.h.app.context(), Context::List);
    assert!(s.h.app.live.objects.is_none());
}

#[test]
fn y_copies_the_objects_name_and_capital_y_its_yaml() {
    let mut s = kube_session();
    s.select("replicas");
    s.ch('O');
    s.ch('y');
    s.ch('Y');
    s.ch('j');
    s.enter();
    s.ch('Y');
    let copied: Vec<&str> =
        s.h.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Copy(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
    assert_eq!(copied[0], "shop/cron");
    assert_eq!(
        copied[1],
        "shop/cron: object.spec.replicas is 1, wants >= 2"
    );
    assert!(
        copied[2].starts_with("apiVersion: apps/v1\nkind: Deployment\n"),
        "{}",
        copied[2]
    );
    assert!(copied[2].contains("  name: worker\n"), "{}", copied[2]);
}

/// The README's key table is the keymap's: a binding added, changed or
/// removed without the README following fails here, and the message is the
/// table to paste between the markers.
#[test]
fn the_readme_key_table_is_the_keymap() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let start = "<!-- keys: generated from the keymap; tests/tui_app.rs checks it -->\n";
    let end = "<!-- keys end -->";
    let from = readme.find(start).expect("the start marker") + start.len();
    let to = readme[from..].find(end).expect("the end marker") + from;
    let want = keymap::markdown_keys();
    assert!(
        readme[from..to] == want,
        "the README's key table differs from the keymap; it should read:\n{want}"
    );
}
