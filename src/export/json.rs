//! The sign-off document as JSON: the same facts as the Markdown. For one
//! environment it is a superset of `check --format json` (DESIGN section 6):
//! the same top-level fields, plus `generator` and the `logs` (sign-offs,
//! notes, waivers, ticks, audit head) by checklist id.

use serde_json::Value;

use super::{Document, EnvironmentDoc};

pub fn render(doc: &Document) -> String {
    let value = match doc.environments.as_slice() {
        [one] => environment(one, doc),
        several => serde_json::json!({
            "generated_at": doc.generated_at,
            "generator": doc.generator,
            "environments": several.iter().map(|e| environment(e, doc)).collect::<Vec<_>>(),
        }),
    };
    serde_json::to_string_pretty(&value).expect("a document is plain data: it always serializes")
        + "\n"
}

fn environment(env: &EnvironmentDoc, doc: &Document) -> Value {
    let mut value = serde_json::to_value(&env.report).expect("a report is plain data");
    value["generator"] = Value::String(doc.generator.clone());
    value["logs"] = serde_json::to_value(&env.logs).expect("logs are plain data");
    value
}
