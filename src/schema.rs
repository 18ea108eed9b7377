//! JSON Schemas for checklist files and `gonogo.toml`, so that an editor
//! with a TOML language server (Taplo, "Even Better TOML") completes keys and
//! flags mistakes as the file is typed. They are derived from the types the
//! loader deserialises into (`schemars`), then given what the types alone
//! do not say, each from the loader's own tables: the probe kinds and the
//! fields each takes and needs, the severities, the id pattern, the bundled
//! checklist ids. `assets/schema/` holds the written copies; a test keeps
//! them equal to these.

use serde_json::{Value, json};

use crate::checklist::model::{ProbeKind, Severity};

/// File names of the schemas, in `assets/schema/` and where `init` writes.
pub const CHECKLIST_FILE: &str = "checklist.schema.json";
pub const CONFIG_FILE: &str = "config.schema.json";

/// What `valid_id` accepts.
const ID_PATTERN: &str = "^[a-z0-9][a-z0-9-]*$";

/// The schema of a checklist file.
pub fn checklist() -> Value {
    let mut schema = crate::checklist::parse::raw_schema();
    schema["title"] = json!("gonogo checklist");
    schema["description"] = json!(
        "A gonogo checklist: sections of items, each ticked by a person or checked by a probe."
    );
    let id = |what: &str| {
        json!({
            "type": "string",
            "pattern": ID_PATTERN,
            "description": format!("The {what}'s id: lowercase letters, digits and dashes."),
        })
    };
    schema["properties"]["id"] = id("checklist");
    schema["properties"]["vars"]["additionalProperties"] = scalar();
    let defs = &mut schema["definitions"];
    defs["Section"]["properties"]["id"] = id("section");
    defs["Item"]["properties"]["id"] = id("item");
    defs["Item"]["properties"]["severity"] = json!({
        "enum": Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "description": "How bad it is to launch with this item open (default: medium).",
    });
    defs["Item"]["properties"]["depends_on"]["items"] = json!({
        "type": "string",
        "pattern": "^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)?$",
    });
    defs["Section"]["description"] = json!("A section: a titled group of items.");
    defs["Item"]["description"] = json!("An item: ticked by a person, or checked by its probe.");
    defs["Signoff"]["description"] = json!("The roles that must sign this checklist off.");
    let probe = &mut defs["Probe"];
    probe["description"] = json!(
        "How a machine checks the item. Each kind takes its own fields; see the README's probe examples."
    );
    probe["properties"]["kind"] = json!({
        "enum": ProbeKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "description": "What checks the item: kube, http, tls, file, promql or command.",
    });
    probe["required"] = json!(["kind"]);
    probe["properties"]["quantifier"] = json!({
        "enum": ["all", "any", "none"],
        "description": "How many of the selected objects must meet `expect` (default: all).",
    });
    // Each kind takes its own fields and needs some of them.
    let common = crate::checklist::parse::PROBE_COMMON_FIELDS;
    let rules: Vec<Value> = ProbeKind::ALL
        .iter()
        .map(|kind| {
            let (allowed, required) = crate::checklist::parse::probe_fields(*kind);
            let names: Vec<&str> = common.iter().chain(allowed).copied().collect();
            json!({
                "if": { "properties": { "kind": { "const": kind.as_str() } }, "required": ["kind"] },
                "then": { "propertyNames": { "enum": names }, "required": required },
            })
        })
        .collect();
    probe["allOf"] = Value::Array(rules);
    strip_null(&mut schema);
    schema
}

/// The schema of `gonogo.toml`.
pub fn config() -> Value {
    let mut schema = crate::config::raw_schema();
    schema["title"] = json!("gonogo config");
    schema["description"] =
        json!("gonogo.toml: the checklists to review, the environments, and where state is kept.");
    let bundled: Vec<&str> = crate::checklist::load::BUNDLED
        .iter()
        .map(|b| b.id)
        .collect();
    schema["properties"]["builtin"] = json!({
        "description": "The bundled checklists: true (the general ones, the default), false (none), or a list of ids.",
        "anyOf": [
            { "type": "boolean" },
            { "type": "array", "items": { "enum": bundled } },
        ],
    });
    schema["properties"]["concurrency"]["minimum"] = json!(1);
    schema["properties"]["roles"]["additionalProperties"] =
        json!({ "type": "array", "items": { "type": "string" } });
    let defs = &mut schema["definitions"];
    defs["Environment"]["description"] = json!(
        "An environment under review: its cluster (kube_context or snapshot), vars and promotion."
    );
    defs["State"]["description"] = json!("Where the sign-off logs are kept.");
    defs["Environment"]["properties"]["vars"]["additionalProperties"] = scalar();
    defs["State"]["properties"]["store"] = json!({
        "enum": ["dir", "kube"],
        "description": "Where sign-off logs live: files under state_dir, or ConfigMaps in a cluster.",
    });
    strip_null(&mut schema);
    schema
}

/// A var's value: TOML's string, number or boolean.
fn scalar() -> Value {
    json!({ "type": ["string", "number", "boolean"] })
}

/// TOML has no null: an optional key is left out, never written empty, so
/// `"type": ["string", "null"]` becomes `"type": "string"` (and a
/// `null` branch of an `anyOf` goes).
fn strip_null(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types[0].clone();
                    map.insert("type".into(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(branches)) = map.get_mut(key) {
                    branches.retain(|b| b.get("type").is_none_or(|t| t != "null"));
                    if branches.len() == 1 {
                        let only = branches.remove(0);
                        map.remove(key);
                        if let Value::Object(inner) = only {
                            for (k, v) in inner {
                                map.entry(k).or_insert(v);
                            }
                        }
                    }
                }
            }
            map.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
