//! The shipped ValidatingAdmissionPolicy (`assets/rbac/admission-policy.yaml`)
//! refuses a gonogo event object whose signer annotation is not the user
//! writing it. Its CEL is evaluated here with gonogo's own CEL engine over
//! admission requests shaped as the API server sends them.

use gonogo::doc::Doc;
use gonogo::probe::cel;
use serde_json::{Value, json};

fn documents() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/rbac/admission-policy.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the policy is shipped");
    serde_saphyr::from_multiple(&text).expect("the policy is YAML")
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind)
        .unwrap_or_else(|| panic!("the file has a {kind}"))
}

/// A ConfigMap as gonogo creates one for an event, optionally signed.
fn event(name: &str, labelled: bool, by: Option<&str>) -> Value {
    let mut object = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "gonogo"},
        "immutable": true,
        "data": {"event": "{\"seq\":3}"}
    });
    if labelled {
        object["metadata"]["labels"] = json!({
            "app.kubernetes.io/managed-by": "gonogo",
            "gonogo.dev/checklist": "shop",
            "gonogo.dev/environment": "prod"
        });
    }
    if let Some(by) = by {
        object["metadata"]["annotations"] = json!({"gonogo.dev/by": by});
    }
    object
}

fn request(user: &str) -> Value {
    json!({
        "operation": "CREATE",
        "userInfo": {"username": user, "groups": ["platform-sre", "system:authenticated"]}
    })
}

/// Whether every validation of the policy admits `object` from `user`.
fn admitted(object: &Value, user: &str) -> bool {
    let docs = documents();
    let policy = of_kind(&docs, "ValidatingAdmissionPolicy");
    let validations = policy["spec"]["validations"]
        .as_array()
        .expect("the policy has validations");
    assert!(!validations.is_empty());
    let request = Doc::from_value(&request(user));
    let object = Doc::from_value(object);
    validations.iter().all(|v| {
        let source = v["expression"].as_str().expect("an expression");
        let expect = cel::compile(source).unwrap_or_else(|e| panic!("{source}: {e:?}"));
        cel::evaluate(
            &expect,
            &[("object", object.root()), ("request", request.root())],
        )
        .unwrap_or_else(|e| panic!("{source}: {e:?}"))
    })
}

#[test]
fn an_event_signed_by_its_writer_is_admitted() {
    let object = event("shop.prod.00000003", true, Some("alice@example.com"));
    assert!(admitted(&object, "alice@example.com"));
}

#[test]
fn an_event_signed_with_another_name_is_refused() {
    let object = event("shop.prod.00000003", true, Some("bob@example.com"));
    assert!(!admitted(&object, "alice@example.com"));
}

#[test]
fn an_unsigned_event_is_refused() {
    assert!(!admitted(&event("shop.prod.00000003", true, None), "alice"));
    // Labels without annotations, and annotations without the signer.
    let mut other_note = event("shop.prod.00000003", true, None);
    other_note["metadata"]["annotations"] = json!({"team": "shop"});
    assert!(!admitted(&other_note, "alice"));
}

#[test]
fn an_object_named_like_an_event_is_held_to_the_same_rule_without_the_label() {
    // Taking the next event's name first would block the review's writes.
    let squatter = event("shop.prod.00000004", false, Some("mallory"));
    assert!(!admitted(&squatter, "alice"));
    assert!(admitted(&squatter, "mallory"));
}

#[test]
fn other_config_maps_are_left_alone() {
    let unrelated = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-root-ca.crt", "namespace": "gonogo"},
        "data": {"ca.crt": "..."}
    });
    assert!(admitted(
        &unrelated,
        "system:serviceaccount:kube-system:root-ca-cert-publisher"
    ));
}

#[test]
fn the_binding_denies_in_the_review_namespace() {
    let docs = documents();
    let policy = of_kind(&docs, "ValidatingAdmissionPolicy");
    let binding = of_kind(&docs, "ValidatingAdmissionPolicyBinding");
    for doc in [policy, binding] {
        assert_eq!(doc["apiVersion"], "admissionregistration.k8s.io/v1");
    }
    assert_eq!(binding["spec"]["policyName"], policy["metadata"]["name"]);
    assert_eq!(binding["spec"]["validationActions"], json!(["Deny"]));
    assert_eq!(
        binding["spec"]["matchResources"]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "gonogo"
    );
    let rules = &policy["spec"]["matchConstraints"]["resourceRules"][0];
    assert_eq!(rules["resources"], json!(["configmaps"]));
    assert_eq!(rules["operations"], json!(["CREATE", "UPDATE"]));
    assert_eq!(policy["spec"]["failurePolicy"], "Fail");
}
