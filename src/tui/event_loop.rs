//! The live event loop: terminal input, probe results, sign-off log changes
//! and the clock become `Action`s for `App::update`; the `Effect`s it returns
//! go to the executor (`effects`), which keeps them off the input path. The
//! screen is drawn only when the app says something changed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::app::{Action, App, Setup};
use super::effects::{Executor, Mode};
use super::keymap::Command;
use super::terminal::Screen;
use super::theme::Theme;
use super::views;
use crate::workspace::Workspace;

/// At most this many queued actions are applied before the screen is drawn
/// and input is read again.
const BATCH: usize = 512;

/// Changes from the background (probe results, other sessions' ticks, the
/// clock, the spinner) wait this many times what the last frame cost before
/// they are drawn, so drawing them takes at most a fifth of a core; what the
/// user does is drawn at once. A frame recomputes the review: about a
/// millisecond for the demo (drawn almost at once), tens of milliseconds for
/// two thousand items, where results arriving one by one must not each cost
/// a frame.
const BACKGROUND_PAUSE: u32 = 4;
/// The longest a background change waits, however slow the last frame.
const MAX_BACKGROUND_PAUSE: Duration = Duration::from_secs(1);

/// How long quitting waits for appends and exports still under way.
const FINISH_WRITES: Duration = Duration::from_secs(10);

/// How long a session stopped by a signal may take to end before the
/// process ends without it.
const AFTER_SIGNAL: Duration = Duration::from_secs(FINISH_WRITES.as_secs() + 2);

/// Runs the dashboard until the user quits.
pub async fn run(
    ws: Workspace,
    setup: Setup,
    theme: Theme,
    mouse: bool,
    started: Instant,
) -> Result<(), String> {
    let (tx, mut rx) = unbounded_channel::<Action>();
    let mut session = Executor::new(Arc::new(ws), tx.clone(), Mode::Live);
    let (mut app, effects) = App::new(setup);
    // Before the screen changes: a signal from here on restores it.
    let mut stop = stop_signals();
    let mut screen = Screen::enter(mouse).map_err(|e| format!("cannot use the terminal: {e}"))?;
    if let Ok(size) = screen.terminal.size() {
        app.update(Action::Resize(size.width, size.height));
    }
    for e in effects {
        session.perform(e);
    }
    let mut input = EventStream::new();
    let mut clock = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(1),
        Duration::from_secs(1),
    );
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut spin = tokio::time::interval(Duration::from_millis(150));
    spin.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut first_frame = true;
    let mut next_frame = tokio::time::Instant::now();
    let mut urgent = true;

    let ended = loop {
        let deferred = !urgent && tokio::time::Instant::now() < next_frame;
        if !deferred {
            let t0 = tokio::time::Instant::now();
            app.prepare();
            if app.take_dirty() {
                if let Err(e) = screen.terminal.draw(|f| views::draw(f, &app, &theme)) {
                    break Err(format!("cannot draw: {e}"));
                }
                let cost = t0.elapsed();
                next_frame = tokio::time::Instant::now()
                    + (cost * BACKGROUND_PAUSE).min(MAX_BACKGROUND_PAUSE);
                if first_frame {
                    first_frame = false;
                    tracing::info!(
                        "first frame after {} ms (prepared and drawn in {} us)",
                        started.elapsed().as_millis(),
                        cost.as_micros()
                    );
                    // Lets the pseudo-terminal test check that a panic on
                    // the UI thread gives the terminal back. Debug builds
                    // only: a release binary has no such switch.
                    #[cfg(debug_assertions)]
                    if std::env::var_os("GONOGO_DEBUG_PANIC").is_some() {
                        panic!("GONOGO_DEBUG_PANIC: a panic on the UI thread, on request");
                    }
                }
            }
        }
        if app.should_quit() {
            break Ok(());
        }
        let action = tokio::select! {
            ev = input.next() => match ev {
                Some(Ok(ev)) => match terminal_action(ev) {
                    Some(a) => a,
                    None => continue,
                },
                Some(Err(e)) => break Err(format!("cannot read the terminal: {e}")),
                None => break Ok(()),
            },
            Some(a) = rx.recv() => a,
            _ = clock.tick() => Action::Clock(jiff::Timestamp::now()),
            _ = spin.tick(), if app.is_busy() => Action::Spin,
            _ = stop.recv() => Action::Run(Command::Quit),
            // Time to draw what the background changed meanwhile.
            () = tokio::time::sleep_until(next_frame), if deferred => continue,
        };
        urgent = from_user(&action);
        let mut fx = app.update(action);
        // A burst of results (every probe finishing at start) is drawn once.
        for _ in 0..BATCH {
            match rx.try_recv() {
                Ok(a) => fx.extend(app.update(a)),
                Err(_) => break,
            }
        }
        for e in fx {
            session.perform(e);
        }
    };
    // The shell comes back at once; a tick typed just before `q` is still
    // written before the process ends, and a failure is said on stderr.
    drop(screen);
    match (ended, session.finish(&mut rx, FINISH_WRITES).await) {
        (Ok(()), result) | (result, Ok(())) => result,
        (Err(ended), Err(unsaved)) => Err(format!("{ended}\n{unsaved}")),
    }
}

/// Whether `action` is something the user did, to be drawn at once.
fn from_user(action: &Action) -> bool {
    matches!(
        action,
        Action::Key(_) | Action::Mouse(_) | Action::Paste(_) | Action::Resize(..) | Action::Run(_)
    )
}

fn terminal_action(ev: Event) -> Option<Action> {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => Some(Action::Key(k)),
        Event::Mouse(m) => Some(Action::Mouse(m)),
        Event::Paste(text) => Some(Action::Paste(text)),
        Event::Resize(w, h) => Some(Action::Resize(w, h)),
        _ => None,
    }
}

/// SIGTERM, SIGHUP and SIGINT end the session like `q`, so the terminal is
/// restored (in raw mode Ctrl-C is a key, so SIGINT only comes from `kill`).
fn stop_signals() -> UnboundedReceiver<()> {
    let (tx, rx) = unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [
            SignalKind::terminate(),
            SignalKind::hangup(),
            SignalKind::interrupt(),
        ] {
            if let Ok(mut s) = signal(kind) {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        // The terminal may be gone (a hangup): what is
                        // left of the session may not get as far as the
                        // demo's own clean-up, so its folder goes now.
                        crate::scratch::remove_all();
                        let _ = tx.send(());
                        // Reading a terminal that was hung up can keep the
                        // input loop from ever seeing the request (crossterm
                        // retries a failing read without end). Writes under
                        // way get this long; then the process ends anyway.
                        tokio::spawn(async {
                            tokio::time::sleep(AFTER_SIGNAL).await;
                            // A write that was under way may have made
                            // the folder again.
                            crate::scratch::remove_all();
                            std::process::exit(1);
                        });
                    }
                });
            }
        }
    }
    // Keep the channel open when no signal could be installed.
    std::mem::forget(tx);
    rx
}
