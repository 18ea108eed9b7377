//! Config loading: arbitrary text as a `gonogo.toml` through
//! `Config::parse` (TOML, environments, vars, roles, state store,
//! durations, promotions). Errors are rendered as the CLI prints them.
//!
//! The property: no input panics, hangs or exhausts memory.

#![no_main]

use gonogo::config::Config;
use gonogo::diag::Source;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A config is read as UTF-8 text, like a checklist.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Config::parse(Source::new("/fuzz/project/gonogo.toml", text)) {
        Ok(config) => {
            // Touch what the rest of the program reads first.
            for env in &config.environments {
                let _ = env.cluster.label();
            }
            let _ = gonogo::checklist::load::probe_defaults(&config);
        }
        Err(errors) => {
            let _ = errors.to_string();
        }
    }
});
