//! gonogo's entry point: parse the command line, install the error hooks,
//! dispatch. Everything else lives in the library.

use clap::Parser;

use gonogo::cli::{Cli, Command};
use gonogo::commands;

fn main() {
    // A shell asking for completions (COMPLETE=bash gonogo -- …) is
    // answered here, before anything else runs.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
    let cli = Cli::parse();
    gonogo::install_crypto_provider();
    // A crash report in colour unless NO_COLOR asks for none.
    let hooks = if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        color_eyre::config::HookBuilder::default().theme(color_eyre::config::Theme::new())
    } else {
        color_eyre::config::HookBuilder::default()
    };
    let _ = hooks.install();
    gonogo::crash::install();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(commands::EXIT_USAGE);
        }
    };
    let code = runtime.block_on(async {
        match &cli.command {
            Some(Command::Check(args)) => commands::check(&cli.global, args).await,
            Some(Command::Validate(args)) => commands::validate(&cli.global, args),
            Some(Command::Demo(args)) if args.print_config || args.action.is_some() => {
                gonogo::tui::demo::headless(&cli.global, args).await
            }
            Some(Command::Demo(_)) => {
                gonogo::tui::demo::run(&cli.global.options(), &cli.global.look()).await
            }
            None => gonogo::tui::run(&cli.global.options(), &cli.global.look()).await,
            Some(Command::Export(args)) => commands::export(&cli.global, args).await,
            Some(Command::Log(args)) => commands::decide::log(&cli.global, args),
            Some(Command::State(args)) => commands::decide::state(&cli.global, args),
            Some(Command::Checklists(args)) => commands::checklists::run(&cli.global, args),
            Some(Command::Decide(command)) => commands::decide::decide(&cli.global, command).await,
            Some(Command::Completions { shell, fixed }) => {
                commands::complete::script(*shell, *fixed)
            }
            Some(Command::Man) => commands::man(),
            Some(Command::Init) => commands::init::run(),
            Some(Command::Schema { of }) => commands::schema(*of),
        }
    });
    // Probe tasks may still hold sockets; do not wait for them.
    runtime.shutdown_background();
    std::process::exit(code);
}
