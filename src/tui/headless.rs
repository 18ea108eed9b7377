//! The app without a terminal: actions in, state and rendered buffers out.
//! Effects go to the same executor the live dashboard uses, inline: the
//! sign-off log is real, on disk; probes are not started (tests feed their
//! results as actions), so tests can drive the whole app step by step.

use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::app::Effect;
use super::app::{Action, App, EnvTab, Setup};
use super::effects::{Executor, Mode};
use super::theme::Theme;
use super::views;
use crate::probe::Outcome;
use crate::runner::{ItemKey, RunnerEvent};
use crate::workspace::Workspace;

pub struct Headless {
    pub app: App,
    pub ws: Arc<Workspace>,
    executor: Executor,
    actions: UnboundedReceiver<Action>,
    /// What frames are drawn with between steps.
    theme: Theme,
    /// Every effect the app asked for, in order.
    pub effects: Vec<Effect>,
}

/// The app's setup from a workspace, as `gonogo` builds it.
pub fn setup(ws: &Workspace, now: jiff::Timestamp, demo: bool, ascii: bool) -> Setup {
    let start_env = ws
        .options
        .envs
        .first()
        .and_then(|n| ws.config.environments.iter().position(|e| &e.name == n))
        .unwrap_or(0);
    Setup {
        checklists: ws.checklists.iter().cloned().map(Arc::new).collect(),
        environments: ws
            .config
            .environments
            .iter()
            .map(|e| EnvTab {
                name: e.name.clone(),
                read_only: e.read_only,
                promote_from: e.promote_from.clone(),
            })
            .collect(),
        roles: ws.config.roles.clone(),
        operator: ws
            .operator()
            .unwrap_or_else(|| "nobody (no operator set)".into()),
        demo,
        ascii,
        clipboard: true,
        now,
        start_env,
        start_checklist: 0,
    }
}

impl Headless {
    /// Starts the app on `ws` (its state dir must be set) at time `now`.
    pub fn new(ws: Workspace, now: jiff::Timestamp) -> Headless {
        Headless::with_look(ws, now, false)
    }

    /// The same, drawing only ASCII when `ascii` is set (`--ascii`).
    pub fn with_look(ws: Workspace, now: jiff::Timestamp, ascii: bool) -> Headless {
        let (app, fx) = App::new(setup(&ws, now, false, ascii));
        let ws = Arc::new(ws);
        let (tx, actions) = unbounded_channel();
        let mut h = Headless {
            app,
            executor: Executor::new(ws.clone(), tx, Mode::Inline),
            ws,
            actions,
            theme: Theme::mono(),
            effects: Vec::new(),
        };
        h.perform_all(fx);
        h.settle();
        h
    }

    /// Applies an action and everything that follows from it.
    pub fn send(&mut self, action: Action) {
        let fx = self.app.update(action);
        self.perform_all(fx);
        self.settle();
    }

    /// Presses one key.
    pub fn press(&mut self, code: KeyCode) {
        self.send(Action::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn press_ctrl(&mut self, c: char) {
        self.send(Action::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::CONTROL,
        )));
    }

    /// Types text, one key per character (`\n` is Enter).
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let code = if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            };
            self.press(code);
        }
    }

    /// A probe result arriving for an item of the current checklist.
    pub fn probe_result(&mut self, item: &str, outcome: Outcome) {
        let Some(key) = self.app.key(item) else {
            return;
        };
        self.send(Action::Probe {
            generation: self.app.generation,
            event: RunnerEvent::Finished(key, outcome),
        });
    }

    pub fn probe_started(&mut self, item: &str) {
        let Some(key) = self.app.key(item) else {
            return;
        };
        self.send(Action::Probe {
            generation: self.app.generation,
            event: RunnerEvent::Started(key),
        });
    }

    /// What the log watcher does when another session appends: re-read.
    pub fn refresh_logs(&mut self) {
        self.executor.refresh_logs();
        self.settle();
    }

    /// The screen at `w` x `h`.
    pub fn render(&mut self, theme: &Theme, w: u16, h: u16) -> Buffer {
        self.send(Action::Resize(w, h));
        render(&self.app, theme, w, h)
    }

    pub fn log_path(&self, checklist: &str, env: &str) -> PathBuf {
        self.ws
            .state_dir()
            .join(checklist)
            .join(format!("{env}.jsonl"))
    }

    /// Applies every action the executor sent back, and what follows,
    /// then draws a frame as the live loop would (navigation reads back
    /// what the last frame drew).
    fn settle(&mut self) {
        while let Ok(action) = self.actions.try_recv() {
            let fx = self.app.update(action);
            self.perform_all(fx);
        }
        self.app.prepare();
        let (w, h) = self.app.ui.size;
        if w > 0 && h > 0 {
            render(&self.app, &self.theme, w, h);
        }
    }

    fn perform_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.effects.push(e.clone());
            self.executor.perform(e);
        }
    }

    /// The key of an item of the current checklist.
    pub fn key(&self, item: &str) -> ItemKey {
        self.app.key(item).unwrap_or_else(|| ItemKey::new("", item))
    }
}

/// Draws `app` into a fresh buffer of `w` x `h`.
pub fn render(app: &App, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut terminal =
        Terminal::new(TestBackend::new(w, h)).expect("a test backend cannot fail to start");
    terminal
        .draw(|f| views::draw(f, app, theme))
        .expect("drawing into a test backend cannot fail");
    terminal.backend().buffer().clone()
}

/// The buffer as plain text, one line per row, trailing spaces trimmed.
pub fn buffer_text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            if skip > 0 {
                skip -= 1;
                continue;
            }
            line.push_str(cell.symbol());
            skip = views::width(cell.symbol()).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
