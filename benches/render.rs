//! Frame render time of the dashboard on a large review: 2,000 items in 20
//! sections, half of them probes with results, at 80x24 and at 250x70.
//! The app is built through the headless harness (the real loader, the real
//! sign-off log on disk) and drawn into ratatui's `TestBackend`.
//!
//! `cargo bench --bench render [-- ITERATIONS]` (default 300 per case).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::KeyCode;
use gonogo::probe::{Outcome, Verdict};
use gonogo::tui::app::Action;
use gonogo::tui::headless::{self, Headless};
use gonogo::tui::theme::Theme;
use gonogo::tui::views;
use gonogo::workspace::{Options, Workspace};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SECTIONS: usize = 20;
const ITEMS_PER_SECTION: usize = 100;
const SIZES: &[(u16, u16)] = &[(80, 24), (250, 70)];

const CONFIG: &str = r#"
builtin = false
checklists = ["checklists/big.toml"]
state_dir = "state"
operator = "bench"

[[environments]]
name = "dev"

[[environments]]
name = "prod"
"#;

/// Every other item is an HTTP probe (never run: results are fed in), the
/// rest manual, with the four severities in turn.
fn checklist() -> String {
    let severities = ["blocker", "high", "medium", "low"];
    let mut text = String::from(
        "id = \"big\"\ntitle = \"A large launch review\"\nversion = \"bench\"\n\n[vars]\nurl = \"http://127.0.0.1:9\"\n",
    );
    for s in 0..SECTIONS {
        text.push_str(&format!(
            "\n[[sections]]\nid = \"section-{s:02}\"\ntitle = \"Section {s:02}: area of the launch\"\n"
        ));
        for i in 0..ITEMS_PER_SECTION {
            let n = s * ITEMS_PER_SECTION + i;
            text.push_str(&format!(
                "\n[[sections.items]]\nid = \"item-{n:04}\"\ntitle = \"Item {n:04}: a check with a title of ordinary length\"\nseverity = \"{}\"\n",
                severities[n % severities.len()]
            ));
            if n.is_multiple_of(2) {
                text.push_str(&format!(
                    "[sections.items.probe]\nkind = \"http\"\nurl = \"{{{{ url }}}}/item/{n}\"\n"
                ));
            }
        }
    }
    text
}

fn workspace(root: &Path) -> Workspace {
    std::fs::create_dir_all(root.join("checklists")).expect("the temp dir is writable");
    std::fs::write(root.join("gonogo.toml"), CONFIG).expect("write the config");
    std::fs::write(root.join("checklists/big.toml"), checklist()).expect("write the checklist");
    let options = Options {
        config: Some(root.join("gonogo.toml")),
        ..Options::default()
    };
    match Workspace::load(&options) {
        Ok(ws) => ws,
        Err(e) => panic!("the bench workspace does not load:\n{e}"),
    }
}

/// Pass, fail and error in turn, for every probe item.
fn feed_outcomes(h: &mut Headless) -> Duration {
    let verdicts = [Verdict::Pass, Verdict::Pass, Verdict::Fail, Verdict::Error];
    let start = Instant::now();
    let mut fed = 0u32;
    for n in (0..SECTIONS * ITEMS_PER_SECTION).step_by(2) {
        let verdict = verdicts[(n / 2) % verdicts.len()];
        let outcome = Outcome::new(verdict, format!("result {n}"), serde_json::json!({}));
        h.probe_result(&format!("item-{n:04}"), outcome);
        fed += 1;
    }
    start.elapsed() / fed
}

fn iterations() -> u32 {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(300)
}

fn per_frame(runs: u32, mut frame: impl FnMut()) -> (Duration, Duration) {
    // A few frames to warm caches and allocations first.
    for _ in 0..runs.min(10) {
        frame();
    }
    let mut best = Duration::MAX;
    let start = Instant::now();
    for _ in 0..runs {
        let t = Instant::now();
        frame();
        best = best.min(t.elapsed());
    }
    (start.elapsed() / runs, best)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not,
    // and a debug build would take minutes to measure nothing useful.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("render: a measurement; run it with `cargo bench --bench render`");
        return;
    }
    let runs = iterations();
    let dir = tempfile::tempdir().expect("a temp dir");
    let ws = workspace(dir.path());
    let now = jiff::Timestamp::now();
    let mut h = Headless::new(ws, now);
    let per_result = feed_outcomes(&mut h);
    let items: usize = h
        .app
        .current_checklist()
        .map(|c| c.items().count())
        .unwrap_or(0);
    println!(
        "{items} items in {SECTIONS} sections, {} probe results fed: {:.1} us per result (update + recompute)",
        items / 2,
        per_result.as_secs_f64() * 1e6
    );
    let theme = Theme::bundled("default").expect("the default theme");
    // Half way down the list, so the items pane is scrolled.
    h.press(KeyCode::Char('l'));
    for _ in 0..items / 2 {
        h.press(KeyCode::Char('j'));
    }

    for &(w, ht) in SIZES {
        h.send(Action::Resize(w, ht));

        // The live loop's path: one terminal kept across frames, the whole
        // view drawn each time and diffed against the previous frame.
        let mut terminal = Terminal::new(TestBackend::new(w, ht)).expect("a test backend");
        let (mean, best) = per_frame(runs, || {
            terminal
                .draw(|f| views::draw(f, &h.app, &theme))
                .expect("drawing into a test backend");
        });
        report(
            w,
            ht,
            "views::draw into a kept TestBackend",
            runs,
            mean,
            best,
        );

        // A fresh terminal and buffer per frame: a full redraw from blank.
        let (mean, best) = per_frame(runs, || {
            black_box(headless::render(&h.app, &theme, w, ht));
        });
        report(w, ht, "headless::render (fresh buffer)", runs, mean, best);
    }
}

fn report(w: u16, h: u16, what: &str, runs: u32, mean: Duration, best: Duration) {
    println!(
        "{w:>3}x{h:<3} {what:<38} mean {:>8.1} us  best {:>8.1} us  ({runs} frames)",
        mean.as_secs_f64() * 1e6,
        best.as_secs_f64() * 1e6
    );
}
