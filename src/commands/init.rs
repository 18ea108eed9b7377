//! `gonogo init`: a commented `gonogo.toml` with an environment per
//! kubeconfig context, and a starter checklist with one item of each probe
//! kind. It writes nothing when either file is already there.

use std::fmt::Write as _;
use std::path::Path;

use super::{EXIT_OK, EXIT_USAGE};

/// The starter checklist `init` writes.
pub const STARTER: &str = include_str!("../../assets/init/starter.toml");

const CONFIG: &str = "gonogo.toml";
const CHECKLIST: &str = "checklists/starter.toml";
/// Where the JSON Schemas go, for the `#:schema` lines of both files.
const SCHEMAS: &str = ".gonogo";

pub fn run() -> i32 {
    let here = Path::new(".");
    let checklist_schema = format!("{SCHEMAS}/{}", crate::schema::CHECKLIST_FILE);
    let config_schema = format!("{SCHEMAS}/{}", crate::schema::CONFIG_FILE);
    for file in [CONFIG, CHECKLIST, &checklist_schema, &config_schema] {
        if here.join(file).exists() {
            eprintln!(
                "error: {file} is already here; init never overwrites (move it away to start again)"
            );
            return EXIT_USAGE;
        }
    }
    let contexts = contexts();
    let config = config_text(&contexts);
    let pretty = |v: serde_json::Value| {
        serde_json::to_string_pretty(&v).expect("a schema is plain data") + "\n"
    };
    let starter = format!("#:schema ../{checklist_schema}\n{STARTER}");
    let written = std::fs::create_dir_all("checklists")
        .and_then(|()| std::fs::create_dir_all(SCHEMAS))
        .and_then(|()| {
            crate::export::write_atomically(
                Path::new(&checklist_schema),
                &pretty(crate::schema::checklist()),
            )
        })
        .and_then(|()| {
            crate::export::write_atomically(
                Path::new(&config_schema),
                &pretty(crate::schema::config()),
            )
        })
        .and_then(|()| crate::export::write_atomically(Path::new(CHECKLIST), &starter))
        .and_then(|()| crate::export::write_atomically(Path::new(CONFIG), &config));
    if let Err(e) = written {
        eprintln!("error: cannot write the starter files: {e}");
        return EXIT_USAGE;
    }
    let envs: Vec<String> = environments(&contexts)
        .into_iter()
        .map(|e| e.name)
        .collect();
    println!(
        "wrote {CONFIG} ({}) and {CHECKLIST}, with their JSON Schemas in {SCHEMAS}/ for your editor",
        describe(&contexts, &envs)
    );
    let check = format!(
        "gonogo check --env {}",
        envs.first().map_or("dev", String::as_str)
    );
    println!("next:");
    for (command, what) in [
        ("gonogo validate", "the config and the checklist load"),
        (check.as_str(), "every probe once, against that context"),
        ("gonogo", "the dashboard"),
    ] {
        println!("  {command:<32} # {what}");
    }
    EXIT_OK
}

fn describe(contexts: &Contexts, envs: &[String]) -> String {
    match &contexts.error {
        Some(e) => format!("one environment, no kubeconfig read: {e}"),
        None => format!(
            "{} environment{} from your kubeconfig: {}",
            envs.len(),
            if envs.len() == 1 { "" } else { "s" },
            envs.join(", ")
        ),
    }
}

/// The kubeconfig's contexts, the current one first.
pub struct Contexts {
    pub names: Vec<String>,
    /// The namespace a context sets, by context name.
    pub namespaces: std::collections::HashMap<String, String>,
    pub error: Option<String>,
}

fn contexts() -> Contexts {
    match kube::config::Kubeconfig::read() {
        Ok(k) => {
            let mut names: Vec<String> = k.contexts.iter().map(|c| c.name.clone()).collect();
            let namespaces = k
                .contexts
                .iter()
                .filter_map(|c| {
                    let ns = c.context.as_ref()?.namespace.clone()?;
                    Some((c.name.clone(), ns))
                })
                .collect();
            if let Some(current) = &k.current_context
                && let Some(at) = names.iter().position(|n| n == current)
            {
                let c = names.remove(at);
                names.insert(0, c);
            }
            Contexts {
                names,
                namespaces,
                error: None,
            }
        }
        Err(e) => Contexts {
            names: Vec::new(),
            namespaces: Default::default(),
            error: Some(e.to_string()),
        },
    }
}

/// One environment of the written config.
pub struct Env {
    pub name: String,
    pub context: Option<String>,
    pub production: bool,
    pub promote_from: Option<String>,
}

use crate::config::environment_name as env_name;

fn looks_like(name: &str, words: &[&str]) -> bool {
    name.split('-').any(|part| words.contains(&part))
}

/// The environments to write: one per context (names made unique), prod
/// marked, prod promoted from a staging-looking one when there is one.
pub fn environments(contexts: &Contexts) -> Vec<Env> {
    let mut envs: Vec<Env> = Vec::new();
    for context in &contexts.names {
        let base = env_name(context);
        let mut name = base.clone();
        let mut n = 2;
        while envs.iter().any(|e| e.name == name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        envs.push(Env {
            production: looks_like(&name, &["prod", "production", "live", "prd"]),
            name,
            context: Some(context.clone()),
            promote_from: None,
        });
    }
    if envs.is_empty() {
        envs.push(Env {
            name: "dev".into(),
            context: None,
            production: false,
            promote_from: None,
        });
    }
    let staging = envs
        .iter()
        .find(|e| looks_like(&e.name, &["staging", "stage", "stg", "uat", "preprod"]))
        .map(|e| e.name.clone());
    if let Some(staging) = staging {
        for env in envs.iter_mut().filter(|e| e.production) {
            env.promote_from = Some(staging.clone());
        }
    }
    envs
}

/// The commented config.
pub fn config_text(contexts: &Contexts) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let mut out = format!("#:schema {SCHEMAS}/{}\n", crate::schema::CONFIG_FILE);
    out.push_str(
        "# gonogo's config, written by `gonogo init`. Every key is explained in\n\
         # the README (\"Configuration\"); unknown keys are errors.\n\n\
         checklists = [\"checklists/*.toml\"]   # your own checklists\n\
         builtin = true                        # and the bundled general ones (`gonogo checklists`)\n\
         state_dir = \"reviews\"                 # the sign-off logs: commit them, or see [state] in the README\n\
         export_dir = \"signoffs\"\n",
    );
    if let Some(e) = &contexts.error {
        let _ = writeln!(
            out,
            "\n# No kubeconfig could be read ({}), so kube items will say so.\n\
             # Give the environment a `kube_context`, or a `snapshot` of rendered\n\
             # manifests (`helm template ... > rendered/dev.yaml`).",
            e.replace('\n', " ")
        );
    }
    for env in environments(contexts) {
        let _ = writeln!(out, "\n[[environments]]\nname = {}", quote(&env.name));
        match &env.context {
            Some(c) => {
                let _ = writeln!(out, "kube_context = {}", quote(c));
            }
            None => {
                let _ = writeln!(
                    out,
                    "# kube_context = \"my-cluster\"   # or: snapshot = \"rendered/dev.yaml\""
                );
            }
        }
        if env.production {
            let _ = writeln!(
                out,
                "# Production: set read_only = true to look without ticking, waiving or signing here.\n\
                 read_only = false"
            );
        }
        if let Some(from) = &env.promote_from {
            let _ = writeln!(
                out,
                "promote_from = {}   # a go here needs the same checklist signed go there first",
                quote(from)
            );
        }
        let namespace = env
            .context
            .as_ref()
            .and_then(|c| contexts.namespaces.get(c));
        match namespace {
            Some(ns) => {
                let _ = writeln!(
                    out,
                    "vars = {{ namespace = {} }}   # the context's namespace; override other vars here too",
                    quote(ns)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "# vars = {{ namespace = \"my-app\" }}   # override the checklists' vars here"
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Contexts {
        Contexts {
            names: names.iter().map(|s| s.to_string()).collect(),
            namespaces: [("staging".to_string(), "shop".to_string())].into(),
            error: None,
        }
    }

    #[test]
    fn contexts_become_environments_and_prod_follows_staging() {
        let envs = environments(&named(&[
            "kind-dev",
            "gke_acme_staging",
            "Prod EU",
            "prod-eu",
        ]));
        let names: Vec<&str> = envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            ["kind-dev", "gke-acme-staging", "prod-eu", "prod-eu-2"]
        );
        assert!(envs[2].production && envs[3].production && !envs[0].production);
        assert_eq!(envs[2].promote_from.as_deref(), Some("gke-acme-staging"));
        assert_eq!(envs[0].promote_from, None);
    }

    #[test]
    fn the_written_config_loads() {
        for contexts in [
            named(&["dev", "staging", "production"]),
            Contexts {
                names: Vec::new(),
                namespaces: Default::default(),
                error: Some("no file".into()),
            },
        ] {
            let text = config_text(&contexts);
            if contexts.error.is_none() {
                // The context's namespace is written as the env's var.
                assert!(text.contains("vars = { namespace = \"shop\" }"), "{text}");
            }
            let config = crate::config::Config::parse(crate::diag::Source::new(
                "gonogo.toml",
                text.as_str(),
            ))
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(!config.environments.is_empty());
        }
    }
}
