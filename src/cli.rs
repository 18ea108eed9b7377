//! The command line (DESIGN section 6). Global flags work before or after the
//! subcommand.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gonogo",
    version,
    about = "Production-readiness reviews: checklists that check themselves, and a go / no-go sign-off",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Global {
    /// What the core needs of these flags.
    pub fn options(&self) -> crate::workspace::Options {
        use crate::config::ClusterSource;
        crate::workspace::Options {
            config: self.config.clone(),
            envs: self.env.clone(),
            checklists: self.checklist.clone(),
            state_dir: self.state_dir.clone(),
            // `--context` wins over `--snapshot`, as it always has.
            cluster: match (&self.context, &self.snapshot) {
                (Some(c), _) => Some(ClusterSource::Context(c.clone())),
                (None, Some(p)) => Some(ClusterSource::Snapshot(p.clone())),
                (None, None) => None,
            },
            operator: self.operator.clone(),
            allow_exec: self.allow_exec,
        }
    }

    /// What the dashboard needs of these flags.
    pub fn look(&self) -> crate::tui::Look {
        crate::tui::Look {
            theme: self.theme.clone(),
            ascii: self.ascii,
            mouse: self.mouse,
            clipboard: !self.no_clipboard,
        }
    }
}

#[derive(Debug, Clone, Args, Default)]
pub struct Global {
    /// Config file (default: ./gonogo.toml, then the user config)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Environment to review (default: the first in the config)
    #[arg(long = "env", global = true, value_name = "NAME",
          add = clap_complete::ArgValueCandidates::new(crate::commands::complete::environments))]
    pub env: Vec<String>,
    /// Only this checklist (by id); repeatable
    #[arg(long = "checklist", global = true, value_name = "ID",
          add = clap_complete::ArgValueCandidates::new(crate::commands::complete::checklists))]
    pub checklist: Vec<String>,
    /// Where sign-off logs live (overrides the config's state_dir)
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Evaluate kube probes against these manifests instead of a cluster
    #[arg(long, global = true, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// Kubeconfig context to use (overrides the environment's kube_context)
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Name recorded in the sign-off log (default: config operator, then $USER)
    #[arg(long, global = true, value_name = "NAME")]
    pub operator: Option<String>,
    /// No progress line on stderr while `check` and `export` run probes
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Let `command` probes run programs on this machine
    #[arg(long, global = true)]
    pub allow_exec: bool,
    /// Colour theme for the TUI
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Use only ASCII characters on screen
    #[arg(long, global = true)]
    pub ascii: bool,
    /// Let the dashboard use the mouse (scroll, click to select)
    #[arg(long, global = true)]
    pub mouse: bool,
    /// Never copy to the clipboard (y and Y in the dashboard send OSC 52
    /// to the terminal otherwise)
    #[arg(long, global = true)]
    pub no_clipboard: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every probe once and print the result; exit 1 when the gate fails
    Check(CheckArgs),
    /// Check checklist files and the config; print every error
    Validate(ValidateArgs),
    /// The dashboard on a bundled demo: no cluster, network or config needed;
    /// `demo check` and `demo export` run the same review headless
    Demo(DemoArgs),
    /// The sign-off document (Markdown, JSON or JUnit) after a fresh probe run
    Export(ExportArgs),
    /// The audit trail of one checklist in one environment
    Log(LogArgs),
    /// Where sign-off logs are kept: copy a log between the dir and kube stores
    State(StateArgs),
    /// The bundled checklists (id, items, title, vars); `show ID` prints one to copy
    Checklists(ChecklistsArgs),
    /// Print shell completions (bash, zsh, fish, elvish, powershell); they
    /// complete environment names and checklist ids from the config
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        /// A self-contained script instead: subcommands and flags only, no
        /// names from the config (for packaging)
        #[arg(long = "static")]
        fixed: bool,
    },
    /// Print the man page (roff), e.g. `gonogo man > gonogo.1`
    Man,
    /// Write a commented gonogo.toml (an environment per kubeconfig context)
    /// and a starter checklist into this folder; never overwrites
    Init,
    /// Print the JSON Schema of a checklist file or of gonogo.toml, for an
    /// editor's TOML language server (`#:schema PATH` on a file's first line)
    Schema {
        #[arg(value_enum)]
        of: SchemaOf,
    },
    #[command(flatten)]
    Decide(DecideCommand),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaOf {
    /// A checklist file
    Checklist,
    /// gonogo.toml
    Config,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Print the config the demo runs with, then exit
    #[arg(long)]
    pub print_config: bool,
    #[command(subcommand)]
    pub action: Option<DemoAction>,
}

#[derive(Debug, Subcommand)]
pub enum DemoAction {
    /// `check` on the demo review: every probe once, the gate's exit code
    Check(CheckArgs),
    /// `export` of the demo review's sign-off document
    Export(ExportArgs),
}

#[derive(Debug, Args)]
pub struct ChecklistsArgs {
    #[command(subcommand)]
    pub action: Option<ChecklistsAction>,
}

#[derive(Debug, Subcommand)]
pub enum ChecklistsAction {
    /// Print one bundled checklist's file, to copy into your own folder
    Show {
        /// The checklist's id, as `gonogo checklists` lists it
        id: String,
    },
}

/// Changes to a review, recorded in its sign-off log.
#[derive(Debug, Subcommand)]
pub enum DecideCommand {
    /// Mark a manual item done
    Tick {
        /// ITEM or CHECKLIST/ITEM
        item: String,
        /// A note recorded with the tick (required for evidence items without one)
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
    /// Withdraw a tick
    Untick {
        /// ITEM or CHECKLIST/ITEM
        item: String,
    },
    /// Add a note to an item
    Note {
        /// ITEM or CHECKLIST/ITEM
        item: String,
        /// The note (a link to the ticket, the drill record, a remark)
        text: String,
    },
    /// Accept an open item for now, with a reason
    Waive {
        /// ITEM or CHECKLIST/ITEM
        item: String,
        /// Who accepted what risk, and why
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// Last day the waiver applies (YYYY-MM-DD, UTC)
        #[arg(long, value_name = "DATE")]
        until: Option<String>,
    },
    /// Withdraw a waiver
    Unwaive {
        /// ITEM or CHECKLIST/ITEM
        item: String,
    },
    /// Sign the review off: go, go-with-conditions or no-go
    Signoff {
        #[arg(value_parser = parse_decision)]
        decision: crate::ledger::SignoffDecision,
        /// A remark recorded with the sign-off
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
    },
}

impl DecideCommand {
    /// The item the command is about; `None` for a sign-off.
    pub fn item(&self) -> Option<&str> {
        match self {
            DecideCommand::Tick { item, .. }
            | DecideCommand::Untick { item }
            | DecideCommand::Note { item, .. }
            | DecideCommand::Waive { item, .. }
            | DecideCommand::Unwaive { item } => Some(item),
            DecideCommand::Signoff { .. } => None,
        }
    }
}

fn parse_decision(s: &str) -> Result<crate::ledger::SignoffDecision, String> {
    crate::ledger::SignoffDecision::parse(s)
        .ok_or_else(|| format!("`{s}` is not a decision: use go, go-with-conditions or no-go"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// A log file to read instead of the one --env and --checklist name
    /// (no config or checklist needed: a document's audit trail names it)
    #[arg(value_name = "FILE")]
    pub file: Option<std::path::PathBuf>,
    /// Re-hash every line and check the chain; exit 1 if it was altered
    #[arg(long)]
    pub verify: bool,
    /// With --verify: the head a sign-off document recorded (`HASH`, or
    /// `EVENTS:HASH` as the document prints it); exit 1 unless the log ends
    /// exactly there, saying how many events were cut off or added
    #[arg(long, value_name = "HASH", requires = "verify")]
    pub head: Option<String>,
    /// Write the log, from whichever store keeps it, to this new JSON Lines
    /// file (which `gonogo log --verify FILE` checks); exit 1 if it was altered
    #[arg(long, value_name = "FILE", conflicts_with = "verify")]
    pub archive: Option<std::path::PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
}

#[derive(Debug, Args)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Copy the --env's logs (every loaded checklist's, or --checklist's)
    /// from the other store into this one, byte for byte: every hash stays
    Copy {
        /// The store to copy into; the logs are read from the other one
        #[arg(long, value_enum)]
        to: StoreArg,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreArg {
    /// A JSON Lines file per review under state_dir
    Dir,
    /// A ConfigMap per event in [state]'s namespace
    Kube,
}

impl StoreArg {
    pub fn kind(self) -> crate::config::StoreKind {
        match self {
            StoreArg::Dir => crate::config::StoreKind::Dir,
            StoreArg::Kube => crate::config::StoreKind::Kube,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Md,
    Junit,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Blocker,
    High,
    Medium,
    Low,
    None,
}

impl FailOn {
    pub fn severity(self) -> Option<crate::checklist::Severity> {
        use crate::checklist::Severity;
        match self {
            FailOn::Blocker => Some(Severity::Blocker),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::None => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Fail (exit 1) when an open item has this severity or worse
    #[arg(long, value_enum, default_value_t = FailOn::Blocker)]
    pub fail_on: FailOn,
    /// Keep re-running the probes until the gate holds (exit 0) or this long
    /// has passed (exit 1), printing each change of status on stderr; like
    /// `kubectl wait`. A snapshot environment is checked once
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Md,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Document format
    #[arg(long, value_enum, default_value_t = ExportFormat::Md)]
    pub format: ExportFormat,
    /// Write to this file (atomically) instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Do not run the probes: probe items show as not checked
    #[arg(long)]
    pub no_probe: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Checklist files to check (default: every checklist the config loads)
    #[arg(value_name = "FILES")]
    pub files: Vec<PathBuf>,
}
