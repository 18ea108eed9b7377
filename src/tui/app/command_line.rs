//! The `:` command line: its words come from `keymap::WORDS`, shared with
//! the keys and the help; Tab completes a word, then its argument.

use super::*;

impl App {
    /// Runs a `:` command: a word of `keymap::WORDS` and its argument.
    pub(super) fn execute(&mut self, line: &str, fx: &mut Vec<Effect>) {
        self.dirty = true;
        let line = line.trim();
        let (typed, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        if typed.is_empty() {
            return;
        }
        let Some(word) = keymap::word(typed) else {
            let names: Vec<&str> = keymap::WORDS.iter().map(|w| w.name).collect();
            return self.error(format!(
                "unknown command `{typed}`{}: try {}",
                crate::diag::did_you_mean(typed, names.iter().copied()),
                names.join(", ")
            ));
        };
        match word.does {
            Does::Run(cmd) => self.command(cmd, fx),
            Does::SwitchEnv => match self.environments.iter().position(|e| e.name == arg) {
                Some(i) => self.switch_env(i, fx),
                None => self.error(format!(
                    "no environment `{arg}`{} (configured: {})",
                    crate::diag::did_you_mean(
                        arg,
                        self.environments.iter().map(|e| e.name.as_str())
                    ),
                    self.environments
                        .iter()
                        .map(|e| e.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Does::SwitchChecklist => match self.checklists.iter().position(|c| c.id == arg) {
                Some(i) => self.switch_checklist(i),
                None => self.error(format!(
                    "no checklist `{arg}` (loaded: {})",
                    self.checklists
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            },
            Does::SetFilter => {
                match arg {
                    "all" => self.ui.status_filter = StatusFilter::All,
                    "open" => self.ui.status_filter = StatusFilter::Open,
                    "failing" => self.ui.status_filter = StatusFilter::Failing,
                    text => self.ui.filter = text.to_string(),
                }
                self.stale = true;
            }
            Does::ExportTo => self.export((!arg.is_empty()).then(|| expand_home(arg)), fx),
            Does::SetSort => match Sort::parse(arg) {
                Some(sort) => {
                    self.ui.sort = sort;
                    self.ui.auto_sort =
                        (sort == Sort::Auto).then(|| Sort::auto_for(self.view.report.decision));
                    self.stale = true;
                }
                None => self.error(format!(
                    "no order `{arg}`: try {}",
                    Sort::names().collect::<Vec<_>>().join(", ")
                )),
            },
            Does::JumpToItem => self.jump_to(arg),
        }
    }

    /// `:item ID`: selects the item in the shown checklist, clearing a
    /// filter or section that hides it.
    fn jump_to(&mut self, id: &str) {
        let ids: Vec<String> = self
            .current_checklist()
            .map(|c| c.items().map(|(_, i)| i.id.clone()).collect())
            .unwrap_or_default();
        if !ids.iter().any(|i| i == id) {
            return self.error(format!(
                "no item `{id}` in this checklist{}",
                crate::diag::did_you_mean(id, ids.iter().map(String::as_str))
            ));
        }
        self.recompute();
        let shown = |app: &App| {
            app.view
                .rows
                .iter()
                .any(|(s, i)| app.view.report.sections[*s].items[*i].id == id)
        };
        if !shown(self) {
            self.ui.filter.clear();
            self.ui.status_filter = StatusFilter::All;
            self.ui.section = 0;
            self.recompute();
        }
        self.ui.selected = Some(id.to_string());
        self.ui.focus = Pane::Items;
        self.ui.stack.clear();
        self.stale = true;
        self.clamp();
    }

    /// Tab on the command line: completes the command, then its argument.
    pub(super) fn complete(&mut self) {
        let envs: Vec<String> = self.environments.iter().map(|e| e.name.clone()).collect();
        let lists: Vec<String> = self.checklists.iter().map(|c| c.id.clone()).collect();
        let items: Vec<String> = self
            .current_checklist()
            .map(|c| c.items().map(|(_, i)| i.id.clone()).collect())
            .unwrap_or_default();
        let Some(Modal::Command(line)) = &mut self.ui.modal else {
            return;
        };
        let text = line.input.lines().join(" ");
        let (options, prefix, typed): (Vec<String>, String, String) = match text.split_once(' ') {
            None => (
                keymap::WORDS.iter().map(|w| w.name.to_string()).collect(),
                String::new(),
                text.clone(),
            ),
            Some((cmd, arg)) => {
                let opts = match keymap::word(cmd).map(|w| w.arg) {
                    Some(Arg::Env) => envs,
                    Some(Arg::Checklist) => lists,
                    Some(Arg::Filter) => vec!["all".into(), "open".into(), "failing".into()],
                    Some(Arg::Item) => items,
                    Some(Arg::Sort) => Sort::names().map(str::to_string).collect(),
                    _ => Vec::new(),
                };
                (opts, format!("{cmd} "), arg.to_string())
            }
        };
        let matching: Vec<String> = options
            .into_iter()
            .filter(|o| o.starts_with(typed.as_str()))
            .collect();
        let completed = match matching.as_slice() {
            [] => None,
            [one] => Some(format!(
                "{prefix}{one}{}",
                if prefix.is_empty() { " " } else { "" }
            )),
            many => {
                let common = common_prefix(many);
                (common.len() > typed.len()).then(|| format!("{prefix}{common}"))
            }
        };
        line.candidates = if matching.len() > 1 {
            matching
        } else {
            Vec::new()
        };
        if let Some(new) = completed {
            line.input = single_line(&new);
        }
    }
}

pub(super) fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut len = first.len();
    for w in &words[1..] {
        len = len.min(
            first
                .char_indices()
                .zip(w.chars())
                .take_while(|((_, a), b)| a == b)
                .count(),
        );
    }
    first.chars().take(len).collect()
}

/// `~/x` as the home folder's `x`, the way a shell would read a path typed
/// on the `:` line; anything else as it stands (relative to where gonogo
/// was started, like `-o`).
pub(super) fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::PathBuf::from(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}
