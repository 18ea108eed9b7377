//! The app without a terminal: actions in, state and rendered buffers out.
//! Effects are carried out synchronously (the sign-off log is real, on
//! disk; probes are not started: tests feed their results as actions), so
//! tests can drive the whole app step by step.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use super::app::Effect;
use super::app::{Action, App, EnvTab, Setup};
use super::store::ReviewStore;
use super::theme::Theme;
use super::views;
use crate::checklist::model::Probe;
use crate::probe::Outcome;
use crate::runner::{ItemKey, RunnerEvent};
use crate::session::Workspace;

pub struct Headless {
    pub app: App,
    pub ws: Workspace,
    state_dir: PathBuf,
    stores: HashMap<String, ReviewStore>,
    /// Every effect the app asked for, in order.
    pub effects: Vec<Effect>,
    queue: VecDeque<Action>,
}

/// The app's setup from a workspace, as `gonogo` builds it.
pub fn setup(ws: &Workspace, now: jiff::Timestamp, demo: bool) -> Setup {
    let start_env = ws
        .global
        .env
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
            })
            .collect(),
        operator: ws.operator(),
        demo,
        ascii: ws.global.ascii,
        now,
        start_env,
        start_checklist: 0,
    }
}

impl Headless {
    /// Starts the app on `ws` (its state dir must be set) at time `now`.
    pub fn new(ws: Workspace, now: jiff::Timestamp) -> Headless {
        let (app, fx) = App::new(setup(&ws, now, false));
        let mut h = Headless {
            app,
            state_dir: ws.state_dir(),
            ws,
            stores: HashMap::new(),
            effects: Vec::new(),
            queue: VecDeque::new(),
        };
        h.perform_all(fx);
        h.settle();
        h
    }

    /// Applies an action and everything that follows from it.
    pub fn send(&mut self, action: Action) {
        self.queue.push_back(action);
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
        let mut actions = Vec::new();
        for (checklist, store) in &self.stores {
            if let Ok(Some(snapshot)) = store.refresh() {
                actions.push(Action::Review {
                    generation: self.app.generation,
                    checklist: checklist.clone(),
                    snapshot,
                });
            }
        }
        self.queue.extend(actions);
        self.settle();
    }

    /// The screen at `w` x `h`.
    pub fn render(&mut self, theme: &Theme, w: u16, h: u16) -> Buffer {
        self.send(Action::Resize(w, h));
        render(&self.app, theme, w, h)
    }

    pub fn log_path(&self, checklist: &str, env: &str) -> PathBuf {
        self.state_dir.join(checklist).join(format!("{env}.jsonl"))
    }

    fn settle(&mut self) {
        while let Some(action) = self.queue.pop_front() {
            let fx = self.app.update(action);
            self.perform_all(fx);
        }
        self.app.prepare();
    }

    fn perform_all(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.effects.push(e.clone());
            self.perform(e);
        }
    }

    fn perform(&mut self, effect: Effect) {
        match effect {
            Effect::StartEnvironment { generation, env } => self.start(generation, &env),
            Effect::Write(req) => {
                let Some(store) = self.stores.get(&req.checklist) else {
                    return;
                };
                let action = super::store::write_action(store, &self.ws.operator(), *req);
                self.queue.push_back(action);
            }
            Effect::Rerun(_) | Effect::RerunAll => {}
            Effect::Export(req) => {
                let result = super::event_loop::export_document(&self.ws, req, self.app.now);
                self.queue.push_back(Action::Exported(result));
            }
        }
    }

    fn start(&mut self, generation: u64, name: &str) {
        self.stores.clear();
        let env = match self.ws.environment(Some(name)) {
            Ok(e) => e,
            Err(e) => {
                self.queue.push_back(Action::EnvFailed {
                    generation,
                    message: e.to_string(),
                });
                return;
            }
        };
        for c in &self.ws.checklists {
            let store = match ReviewStore::open(&self.state_dir, &c.id, &env.name) {
                Ok(s) => s,
                Err(message) => {
                    self.queue.push_back(Action::ReviewFailed {
                        generation,
                        checklist: c.id.clone(),
                        message,
                    });
                    continue;
                }
            };
            let action = match store.load() {
                Ok(snapshot) => Action::Review {
                    generation,
                    checklist: c.id.clone(),
                    snapshot,
                },
                Err(message) => Action::ReviewFailed {
                    generation,
                    checklist: c.id.clone(),
                    message,
                },
            };
            self.queue.push_back(action);
            self.stores.insert(c.id.clone(), store);
        }
        let action = match self.ws.probes(&env) {
            Ok(probes) => {
                let probes: HashMap<String, BTreeMap<String, Probe>> = probes.into_iter().collect();
                let cluster = env.cluster.label();
                Action::EnvReady {
                    generation,
                    probes,
                    has_cluster: env.cluster.is_some(),
                    cluster,
                }
            }
            Err(e) => Action::EnvFailed {
                generation,
                message: e.to_string(),
            },
        };
        self.queue.push_back(action);
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
