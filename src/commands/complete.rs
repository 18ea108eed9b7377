//! Shell completion. `gonogo completions SHELL` prints a script that asks
//! the binary itself (`COMPLETE=SHELL gonogo -- …`) what to offer, so
//! `--env` and `--checklist` complete the names of the config in the folder
//! the user is in; `--static` prints clap's self-contained script instead.

use clap::CommandFactory;
use clap_complete::CompletionCandidate;
use clap_complete::env::EnvCompleter;

use super::{EXIT_OK, EXIT_USAGE};
use crate::config::Config;

/// The environment names of the config found from here, each with where
/// its kube items read.
pub fn environments() -> Vec<CompletionCandidate> {
    let Ok(config) = Config::discover(None) else {
        return Vec::new();
    };
    config
        .environments
        .iter()
        .map(|e| CompletionCandidate::new(&e.name).help(Some(e.cluster.label().into())))
        .collect()
}

/// The ids of the checklists the config found from here loads, each with
/// its title. Nothing when they do not load: `gonogo validate` says why.
pub fn checklists() -> Vec<CompletionCandidate> {
    let Ok(config) = Config::discover(None) else {
        return Vec::new();
    };
    let Ok(checklists) = crate::checklist::load::load_all(&config, &[]) else {
        return Vec::new();
    };
    checklists
        .iter()
        .map(|c| CompletionCandidate::new(&c.id).help(Some(c.title.clone().into())))
        .collect()
}

/// `gonogo completions SHELL [--static]`.
pub fn script(shell: clap_complete::Shell, fixed: bool) -> i32 {
    let mut out = std::io::stdout().lock();
    if fixed {
        let mut cmd = crate::cli::Cli::command();
        clap_complete::generate(shell, &mut cmd, "gonogo", &mut out);
        return EXIT_OK;
    }
    use clap_complete::Shell;
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Elvish => &clap_complete::env::Elvish,
        Shell::PowerShell => &clap_complete::env::Powershell,
        _ => {
            eprintln!("gonogo: no completions for {shell}");
            return EXIT_USAGE;
        }
    };
    match completer.write_registration("COMPLETE", "gonogo", "gonogo", "gonogo", &mut out) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("gonogo: cannot write the script: {e}");
            EXIT_USAGE
        }
    }
}
