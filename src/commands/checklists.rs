//! `gonogo checklists [show ID]`: the library of bundled checklists, and one
//! of them printed whole so a team can copy it.

use std::io::Write;

use crate::checklist::load::{BUNDLED, Bundled};
use crate::checklist::parse;
use crate::cli::{ChecklistsAction, ChecklistsArgs, Global};
use crate::commands::{EXIT_OK, EXIT_USAGE};
use crate::config::{Builtin, Config};

pub fn run(global: &Global, args: &ChecklistsArgs) -> i32 {
    match &args.action {
        None => list(global),
        Some(ChecklistsAction::Show { id }) => show(id),
    }
}

fn show(id: &str) -> i32 {
    match Bundled::find(id) {
        Some(bundled) => {
            // A closed pipe (`| head`) is not an error worth a message.
            let _ = std::io::stdout().write_all(bundled.text.as_bytes());
            EXIT_OK
        }
        None => {
            eprintln!(
                "error: no bundled checklist `{id}`{}\n  `gonogo checklists` lists them",
                crate::diag::did_you_mean(id, BUNDLED.iter().map(|b| b.id))
            );
            EXIT_USAGE
        }
    }
}

/// The listing's width: it reads well in a log and an 80-column terminal
/// alike, so it does not depend on the terminal.
const WIDTH: usize = 80;

/// Splits `text` at spaces into lines of at most `width` characters (a
/// longer word stands alone); continuation lines are indented by two.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let fresh = line.is_empty() || line == "  ";
        if !fresh && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::replace(&mut line, "  ".to_string()));
        } else if !fresh {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines
}

fn list(global: &Global) -> i32 {
    // Which ones this folder's config loads; a broken config still lets the
    // library be listed.
    let loaded = match Config::discover(global.config.as_deref()) {
        Ok(config) => Some(config.builtin),
        Err(_) => None,
    };
    let mut rows = Vec::new();
    for bundled in BUNDLED {
        let checklist = match parse::parse(bundled.source(), true) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
        };
        let items = checklist.items().count();
        let probes = checklist.items().filter(|(_, i)| !i.is_manual()).count();
        let is_loaded = loaded.as_ref().map(|choice| match choice {
            Builtin::General => bundled.general,
            Builtin::None => false,
            Builtin::Ids(ids) => ids.iter().any(|i| i == bundled.id),
        });
        rows.push((bundled, checklist, items, probes, is_loaded));
    }
    let id_width = BUNDLED.iter().map(|b| b.id.len()).max().unwrap_or(2).max(2);
    let mut out = String::new();
    out.push_str(&format!(
        "{:<id_width$}  {:>5}  {:>6}  {:<7}  TITLE\n",
        "ID", "ITEMS", "PROBES", "LOADED"
    ));
    for (bundled, checklist, items, probes, is_loaded) in &rows {
        let loaded = match is_loaded {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        out.push_str(&format!(
            "{:<id_width$}  {items:>5}  {probes:>6}  {loaded:<7}  {}\n",
            bundled.id, checklist.title
        ));
        let vars: Vec<&str> = checklist.vars.keys().map(String::as_str).collect();
        if !vars.is_empty() {
            let indent = " ".repeat(id_width + 2);
            for line in wrap(&format!("vars: {}", vars.join(", ")), WIDTH - indent.len()) {
                out.push_str(&format!("{indent}{line}\n"));
            }
        }
    }
    let general: Vec<&str> = BUNDLED.iter().filter(|b| b.general).map(|b| b.id).collect();
    out.push_str(&format!(
        "\n`builtin = true` (or no config) loads {}.\n\
         Pick by id in gonogo.toml: builtin = [\"kubernetes-baseline\", \"{}\"]\n\
         `gonogo checklists show ID` prints one to copy and adapt.\n",
        general.join(", "),
        BUNDLED
            .iter()
            .find(|b| !b.general)
            .map_or("launch-readiness", |b| b.id)
    ));
    let _ = std::io::stdout().write_all(out.as_bytes());
    EXIT_OK
}
