//! Finding and loading every checklist a run uses: the bundled ones, the
//! config's globs and files named on the command line; then checking each
//! one against every environment, so `validate` reports all errors at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::checklist::model::Checklist;
use crate::checklist::parse;
use crate::checklist::resolve::{self, ProbeDefaults};
use crate::config::{Builtin, Config};
use crate::diag::{Diagnostic, Diagnostics, Source};

/// A checklist compiled into the binary.
pub struct Bundled {
    /// Its `id`, which is also its file name without `.toml`.
    pub id: &'static str,
    pub text: &'static str,
    /// Loaded by `builtin = true` (and with no config): the checklists that
    /// fit any service. The others review one named system and are picked by
    /// id.
    pub general: bool,
}

macro_rules! bundled {
    ($id:literal, general: $general:expr) => {
        Bundled {
            id: $id,
            text: include_str!(concat!("../../checklists/", $id, ".toml")),
            general: $general,
        }
    };
}

/// The checklists compiled into the binary, general-purpose ones first.
pub const BUNDLED: &[Bundled] = &[
    bundled!("kubernetes-baseline", general: true),
    bundled!("launch-readiness", general: true),
    bundled!("web-hardening", general: true),
    bundled!("cmp-operator", general: false),
    bundled!("ampora-hardening", general: false),
    bundled!("certctl-chart", general: false),
    bundled!("gravl-readiness", general: false),
];

impl Bundled {
    pub fn find(id: &str) -> Option<&'static Bundled> {
        BUNDLED.iter().find(|b| b.id == id)
    }

    pub fn source(&self) -> Source {
        Source::new(format!("<builtin>/{}.toml", self.id), self.text)
    }

    /// The bundled checklists a config's `builtin` choice loads.
    pub fn chosen(choice: &Builtin) -> Vec<&'static Bundled> {
        match choice {
            Builtin::General => BUNDLED.iter().filter(|b| b.general).collect(),
            Builtin::None => Vec::new(),
            Builtin::Ids(ids) => ids.iter().filter_map(|id| Bundled::find(id)).collect(),
        }
    }
}

/// Loads the bundled checklists (unless the config says `builtin = false`),
/// those matched by the config's `checklists` globs, and `extra` files.
/// Every error in every file is returned together.
pub fn load_all(config: &Config, extra: &[PathBuf]) -> Result<Vec<Checklist>, Diagnostics> {
    let mut sources = Vec::new();
    let mut errors = Diagnostics::default();
    for bundled in Bundled::chosen(&config.builtin) {
        sources.push((bundled.source(), true));
    }
    let mut paths = Vec::new();
    for pattern in &config.checklists {
        match expand(&config.base_dir, pattern) {
            Ok(found) => paths.extend(found),
            Err(e) => errors.push(Diagnostic::file(
                config.path.as_deref().unwrap_or(Path::new("gonogo.toml")),
                e,
            )),
        }
    }
    // A glob like `*.toml` next to the config must not read the config itself.
    if let Some(config_path) = config
        .path
        .as_deref()
        .and_then(|p| std::fs::canonicalize(p).ok())
    {
        paths.retain(|p| std::fs::canonicalize(p).ok().as_deref() != Some(config_path.as_path()));
    }
    paths.extend(extra.iter().cloned());
    paths.dedup();
    for path in paths {
        match Source::read(&path, "checklist") {
            Ok(source) => sources.push((source, false)),
            Err(e) => errors.push(e),
        }
    }

    let mut checklists: Vec<Checklist> = Vec::new();
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (source, builtin) in sources {
        let (parsed, parse_errors) = parse::parse_lenient(source, builtin);
        let clean = parse_errors.is_empty();
        errors.extend(parse_errors);
        match parsed {
            Some(c) if !clean => errors.extend(check_environments(&c, config)),
            Some(c) => {
                if let Some(first) = seen.get(&c.id) {
                    let span = id_span(&c.source);
                    errors.push(c.source.error(
                        span,
                        format!(
                            "duplicate checklist id `{}` (also in {})",
                            c.id,
                            first.display()
                        ),
                    ));
                    continue;
                }
                seen.insert(c.id.clone(), c.source.path.clone());
                checklists.push(c);
            }
            None => {}
        }
    }
    for c in &checklists {
        errors.extend(check_environments(c, config));
    }
    if errors.is_empty() {
        Ok(checklists)
    } else {
        Err(errors.sorted())
    }
}

/// Resolves `checklist` for every configured environment and returns the
/// errors, each reported once: an error several environments share names
/// them all.
pub fn check_environments(checklist: &Checklist, config: &Config) -> Diagnostics {
    let mut all: Vec<(crate::diag::Diagnostic, Vec<String>)> = Vec::new();
    for env in &config.environments {
        let vars = resolve::env_vars(checklist, &env.vars);
        let Err(errors) = resolve::resolve_all(checklist, &env.name, &vars, probe_defaults(config))
        else {
            continue;
        };
        let marker = format!(" in environment `{}`", env.name);
        for mut e in errors.0 {
            e.message = e.message.replace(&marker, "");
            match all.iter_mut().find(|(seen, _)| *seen == e) {
                Some((_, envs)) => envs.push(env.name.clone()),
                None => all.push((e, vec![env.name.clone()])),
            }
        }
    }
    let n_envs = config.environments.len();
    Diagnostics(
        all.into_iter()
            .map(|(mut e, envs)| {
                if e.message.starts_with("unknown var") {
                    let which = if envs.len() == n_envs && n_envs > 1 {
                        " in every environment".to_string()
                    } else {
                        let names: Vec<String> = envs.iter().map(|n| format!("`{n}`")).collect();
                        format!(
                            " in environment{} {}",
                            if envs.len() == 1 { "" } else { "s" },
                            names.join(", ")
                        )
                    };
                    e.message = e.message.replacen(" (", &format!("{which} ("), 1);
                }
                e
            })
            .collect(),
    )
}

pub fn probe_defaults(config: &Config) -> ProbeDefaults {
    let d = ProbeDefaults::default();
    ProbeDefaults {
        every: config.every.unwrap_or(d.every),
        timeout: config.timeout.unwrap_or(d.timeout),
    }
}

fn id_span(source: &Source) -> std::ops::Range<usize> {
    source
        .text
        .lines()
        .scan(0, |at, line| {
            let start = *at;
            *at += line.len() + 1;
            Some((start, line))
        })
        .find(|(_, line)| line.trim_start().starts_with("id"))
        .map_or(0..0, |(start, line)| start..start + line.len())
}

/// The files a config entry names: a file, a folder (its `*.toml`), or a
/// glob relative to the config's folder.
fn expand(base: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let full = base.join(pattern);
    if !pattern.contains(['*', '?', '[', '{']) {
        if full.is_dir() {
            let mut found = Vec::new();
            walk(&full, &mut |p| {
                if p.extension().is_some_and(|e| e == "toml") {
                    found.push(p.to_path_buf());
                }
            });
            found.sort();
            return Ok(found);
        }
        return Ok(vec![full]);
    }
    let glob = globset::Glob::new(pattern)
        .map_err(|e| format!("bad checklists pattern `{pattern}`: {e}"))?
        .compile_matcher();
    // Walk from the longest folder prefix that has no wildcard.
    let literal: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    let mut found = Vec::new();
    walk(&base.join(&literal), &mut |p| {
        if let Ok(rel) = p.strip_prefix(base)
            && glob.is_match(rel)
        {
            found.push(p.to_path_buf());
        }
    });
    found.sort();
    Ok(found)
}

fn walk(dir: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => walk(&path, visit),
            Ok(_) => visit(&path),
            Err(_) => {}
        }
    }
}
