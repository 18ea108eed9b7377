//! Checklist loading: arbitrary text goes through the TOML parser and
//! gonogo's checks (`parse_lenient`, which keeps what it could build
//! despite errors, as `gonogo validate` does), then every probe is resolved
//! for three environments with a few vars set (`check_environments`), which
//! fills `{{ var }}`s and compiles the CEL expressions and regexes.
//! Every error is rendered the way the CLI prints it.
//!
//! The property: no input panics, hangs or exhausts memory; bad input only
//! ever comes back as diagnostics.

#![no_main]

use std::sync::LazyLock;

use gonogo::checklist::{load, parse};
use gonogo::config::Config;
use gonogo::diag::Source;
use libfuzzer_sys::fuzz_target;

/// The environments a checklist is resolved for, with vars of the kinds
/// checklists use (a host, a number, a flag).
static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    let text = r#"
builtin = false

[[environments]]
name = "dev"
vars = { host = "dev.example.com", replicas = 1, strict = false }

[[environments]]
name = "staging"
vars = { host = "staging.example.com", replicas = 2, namespace = "shop" }

[[environments]]
name = "prod"
vars = { host = "example.com", replicas = 3, strict = true, namespace = "shop", base_url = "https://{{ host }}" }
promote_from = "staging"
"#;
    Config::parse(Source::new("/fuzz/gonogo.toml", text)).expect("the fixed config is valid")
});

fuzz_target!(|data: &[u8]| {
    // Files are read as UTF-8 (`Source::read` refuses anything else), so
    // only valid text gets this far in the product.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = Source::new("/fuzz/checklists/fuzz.toml", text);
    let (checklist, errors) = parse::parse_lenient(source, false);
    let _ = errors.to_string();
    let Some(checklist) = checklist else {
        return;
    };
    let problems = load::check_environments(&checklist, &CONFIG);
    let _ = problems.to_string();
});
