//! The JSON Schemas editors read (`assets/schema/`, `#:schema` lines) say
//! what the loader says: every bundled checklist and example config passes
//! them, and files the loader refuses for a reason a schema can see are
//! refused by them too.

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn toml_as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: toml::Value =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::to_value(value).expect("TOML is JSON-shaped")
}

fn files(dir: &str, name: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| name(p))
        .collect();
    out.sort();
    out
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_written_schemas_are_the_generated_ones() {
    for (file, schema) in [
        (gonogo::schema::CHECKLIST_FILE, gonogo::schema::checklist()),
        (gonogo::schema::CONFIG_FILE, gonogo::schema::config()),
    ] {
        let path = root().join("assets/schema").join(file);
        let written: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}")),
        )
        .expect("the written schema is JSON");
        assert!(
            written == schema,
            "assets/schema/{file} is out of date: run `cargo run -- schema {} > assets/schema/{file}`",
            file.split('.').next().unwrap_or_default()
        );
    }
}

#[test]
fn every_bundled_checklist_and_example_passes_the_checklist_schema() {
    let validator =
        jsonschema::validator_for(&gonogo::schema::checklist()).expect("the schema compiles");
    let mut checked = files("checklists", |p| p.extension().is_some_and(|e| e == "toml"));
    assert!(checked.len() >= 7, "{checked:?}");
    for path in &checked {
        let text = std::fs::read_to_string(path).expect("readable");
        assert!(
            text.starts_with("#:schema ../assets/schema/checklist.schema.json\n"),
            "{} does not name its schema on its first line",
            path.display()
        );
    }
    checked.push(root().join("assets/init/starter.toml"));
    checked.push(root().join("assets/demo/demo.toml"));
    checked.push(root().join("tests/review/checklists/shop.toml"));
    checked.push(root().join("benches/cluster/checklist.toml"));
    checked.push(root().join("benches/kube-prometheus/checklist.toml"));
    for path in &checked {
        let found = errors(&validator, &toml_as_json(path));
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
    }
}

#[test]
fn every_example_config_passes_the_config_schema() {
    let validator =
        jsonschema::validator_for(&gonogo::schema::config()).expect("the schema compiles");
    let mut checked: Vec<PathBuf> = files("assets/examples", |p| p.is_dir())
        .into_iter()
        .map(|d| d.join("gonogo.toml"))
        .collect();
    checked.push(root().join("tests/review/gonogo.toml"));
    checked.push(root().join("benches/cluster/gonogo.toml"));
    checked.push(root().join("benches/kube-prometheus/gonogo.toml"));
    checked.push(root().join("benches/kube-prometheus-baseline/gonogo.toml"));
    assert!(checked.len() >= 10);
    for path in &checked {
        let found = errors(&validator, &toml_as_json(path));
        assert!(found.is_empty(), "{}: {found:#?}", path.display());
    }
    // What `gonogo init` writes, with contexts and without a kubeconfig.
    for contexts in [
        gonogo::commands::init::Contexts {
            names: vec!["kind-dev".into(), "staging".into(), "prod-eu".into()],
            namespaces: [("staging".to_string(), "shop".to_string())].into(),
            error: None,
        },
        gonogo::commands::init::Contexts {
            names: Vec::new(),
            namespaces: Default::default(),
            error: Some("no kubeconfig".into()),
        },
    ] {
        let text = gonogo::commands::init::config_text(&contexts);
        assert!(
            text.starts_with("#:schema .gonogo/config.schema.json\n"),
            "{text}"
        );
        let value: toml::Value = toml::from_str(&text).expect("init writes TOML");
        let found = errors(
            &validator,
            &serde_json::to_value(value).expect("JSON-shaped"),
        );
        assert!(found.is_empty(), "{text}\n{found:#?}");
    }
}

/// Files the loader refuses (tests/cli.rs checks its messages) for reasons
/// a schema can see: the schema refuses each too, at the same key.
#[test]
fn the_schema_refuses_what_the_loader_refuses() {
    let validator =
        jsonschema::validator_for(&gonogo::schema::checklist()).expect("the schema compiles");
    let invalid = root().join("tests/checklists/invalid");
    for (file, at) in [
        ("unknown-key.toml", "/sections/0/items/0"),
        ("field-typo-in-probe.toml", "/sections/0/items/0/probe"),
        ("wrong-field-for-kind.toml", "/sections/0/items/0/probe"),
        ("unknown-kind.toml", "/sections/0/items/0/probe/kind"),
        ("kind-typo.toml", "/sections/0/items/0/probe/kind"),
        ("bad-severity.toml", "/sections/0/items/0/severity"),
        ("severity-typo.toml", "/sections/0/items/0/severity"),
        (
            "quantifier-typo.toml",
            "/sections/0/items/0/probe/quantifier",
        ),
        ("bad-id.toml", "/sections/0/id"),
    ] {
        let found = errors(&validator, &toml_as_json(&invalid.join(file)));
        assert!(
            found.iter().any(|e| e.ends_with(&format!(" at {at}"))),
            "{file}: the schema should refuse it at {at}, it says {found:#?}"
        );
    }
    // And the loader refuses what the schema refuses for a missing field.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("no-url.toml");
    std::fs::write(
        &path,
        "id = \"x\"\ntitle = \"X\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n\
         [[sections.items]]\nid = \"i\"\ntitle = \"I\"\n[sections.items.probe]\nkind = \"http\"\n",
    )
    .expect("write");
    assert!(!errors(&validator, &toml_as_json(&path)).is_empty());
    let source = gonogo::diag::Source::read(&path, "checklist").expect("readable");
    let refused = gonogo::checklist::parse::parse(source, false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("http probes need `url`"), "{refused}");
}
