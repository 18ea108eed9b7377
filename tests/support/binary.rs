//! The gonogo binary as the CLI tests run it: in a folder of their own,
//! with the user's own config and state kept out.

use std::path::Path;
use std::process::Command;

pub fn gonogo(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gonogo"));
    cmd.current_dir(dir);
    let home = dir.join(".test-home");
    cmd.env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        // No kubeconfig of the user's: with no config, a test reviews
        // `local`, with no cluster.
        .env("KUBECONFIG", home.join("no-kubeconfig"));
    cmd
}
