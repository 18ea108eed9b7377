//! CEL `expect` expressions: the first line of the input is compiled as an
//! expression, the rest is read as JSON (a fixed Kubernetes-like object
//! when it is not JSON) and bound to every variable a probe kind can bind
//! (`object`, `response`, `tls`, ...). The expression is then evaluated
//! (`evaluate`), checked the way a probe reports it (`check`, which also
//! explains why an expression is false), and its names checked against
//! the kube probe's variables.
//!
//! Evaluation is metered (`cel::meter`: a step and a time limit), as it is
//! in gonogo: an expression stopped by the meter is a normal result. A
//! hang or a blow-up of memory past the meter is a finding, as is any
//! panic.

#![no_main]

use gonogo::doc::Doc;
use gonogo::probe::cel;
use libfuzzer_sys::fuzz_target;

/// Every name a probe binds for its `expect`.
const NAMES: &[&str] = &[
    "object", "objects", "response", "tls", "files", "matches", "lines", "value", "result", "exit",
    "stdout", "stderr",
];

fn fallback() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop-api", "namespace": "shop", "labels": {"app": "shop"},
                     "annotations": {"a": "b"}},
        "spec": {"replicas": 2, "template": {"spec": {"containers": [
            {"name": "api", "image": "shop:1.2", "resources": {"limits": {"memory": "256Mi", "cpu": "500m"}}}
        ]}}},
        "status": 200,
        "headers": {"content-type": "application/json"},
        "body": "ok",
        "data": {"KEY": "value"},
        "days_left": 30
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (expression, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(expect) = cel::compile(expression) else {
        return;
    };
    let value = serde_json::from_str::<serde_json::Value>(rest).unwrap_or_else(|_| fallback());
    let doc = Doc::from_value(&value);
    let vars: Vec<(&str, gonogo::doc::Json<'_>)> =
        NAMES.iter().map(|name| (*name, doc.root())).collect();
    let _ = cel::evaluate(&expect, &vars);
    let _ = cel::check(&expect, &vars);
    let _ = cel::check_names(&expect, cel::variables(gonogo::checklist::ProbeKind::Kube));
});
