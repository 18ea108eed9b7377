use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;

/// Any JSON value: every kind, numbers at the edges of each width, keys
/// and strings with any characters (short ones shared, long ones not).
fn any_json() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        Just(Value::from(i64::MIN)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::from(i32::MAX) + 1)),
        any::<f64>()
            .prop_filter("JSON has finite numbers only", |f| f.is_finite())
            .prop_map(Value::from),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number,
        any::<String>().prop_map(Value::String),
        "[a-z]{0,3}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        let key = prop_oneof!["[a-zA-Z./-]{0,12}", any::<String>(), "k{60,70}"];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn a_value_comes_back_as_it_went_in(value in any_json()) {
        let doc = Doc::from_value(&value);
        prop_assert_eq!(doc.to_value(), value);
    }

    #[test]
    fn json_text_reads_as_serde_json_reads_it(value in any_json()) {
        let text = value.to_string();
        let doc: Doc = serde_json::from_str(&text).expect("our own JSON parses");
        let expected: Value = serde_json::from_str(&text).expect("our own JSON parses");
        prop_assert_eq!(doc.to_value(), expected);
    }

    #[test]
    fn documents_are_equal_when_their_json_is(a in any_json(), b in any_json()) {
        prop_assert_eq!(Doc::from_value(&a) == Doc::from_value(&b), a == b);
        prop_assert!(Doc::from_value(&a) == Doc::from_value(&a));
    }

    #[test]
    fn lookups_agree_with_serde_json(value in any_json()) {
        let doc = Doc::from_value(&value);
        agree(doc.root(), &value)?;
    }

    #[test]
    fn a_copy_is_the_same_json(value in any_json()) {
        let doc = Doc::from_value(&value);
        let copy = Doc::edited(doc.root(), &Edits::NONE).expect("fits");
        prop_assert_eq!(copy.to_value(), value);
    }
}

/// Every read of `json` gives what the same read of `value` gives, all the
/// way down.
fn agree(json: Json, value: &Value) -> Result<(), TestCaseError> {
    prop_assert_eq!(json.is_null(), value.is_null());
    prop_assert_eq!(json.as_bool(), value.as_bool());
    prop_assert_eq!(json.as_str(), value.as_str());
    match value {
        Value::Number(n) => {
            let expected = match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Number::Int(i),
                (None, Some(u)) => Number::UInt(u),
                _ => Number::Float(n.as_f64().expect("a float")),
            };
            prop_assert_eq!(json.as_number(), Some(expected));
        }
        Value::Array(items) => {
            prop_assert_eq!(json.len(), items.len());
            for (item, expected) in json.items().zip(items) {
                agree(item, expected)?;
            }
        }
        Value::Object(map) => {
            prop_assert_eq!(json.len(), map.len());
            let keys: Vec<&str> = json.entries().map(|(k, _)| k).collect();
            let expected: Vec<&str> = map.keys().map(String::as_str).collect();
            prop_assert_eq!(keys, expected);
            for (key, expected) in map {
                let found = json.get(key);
                prop_assert!(found.is_some(), "{key:?} is found");
                agree(found.expect("checked"), expected)?;
            }
            let absent = json.get("\u{10ffff} not a key");
            prop_assert!(absent.is_none(), "a key that is not there");
        }
        _ => prop_assert_eq!(json.as_number(), None),
    }
    Ok(())
}

#[test]
fn integers_and_floats_stay_apart() {
    let doc: Doc = serde_json::from_str(
        r#"{"small": 3, "neg": -3, "wide": 4294967296, "huge": 18446744073709551615,
            "least": -9223372036854775808, "float": 3.0, "exp": 1e3, "half": 0.5}"#,
    )
    .expect("valid JSON");
    let number = |key: &str| doc.root().get(key).and_then(Json::as_number);
    assert_eq!(number("small"), Some(Number::Int(3)));
    assert_eq!(number("neg"), Some(Number::Int(-3)));
    assert_eq!(number("wide"), Some(Number::Int(1 << 32)));
    assert_eq!(number("huge"), Some(Number::UInt(u64::MAX)));
    assert_eq!(number("least"), Some(Number::Int(i64::MIN)));
    assert_eq!(number("float"), Some(Number::Float(3.0)));
    assert_eq!(number("exp"), Some(Number::Float(1000.0)));
    assert_eq!(number("half"), Some(Number::Float(0.5)));
    // 3 and 3.0 are different JSON numbers, as in serde_json.
    assert_ne!(Doc::from_value(&json!(3)), Doc::from_value(&json!(3.0)));
    assert_eq!(doc.to_value()["float"], json!(3.0));
}

#[test]
fn later_duplicate_keys_win_and_maps_are_sorted() {
    let doc: Doc = serde_json::from_str(r#"{"b": 1, "a": 2, "b": 3, "c": {"z": 1, "y": 2}}"#)
        .expect("valid JSON");
    assert_eq!(
        doc.to_value(),
        json!({"a": 2, "b": 3, "c": {"y": 2, "z": 1}})
    );
    let keys: Vec<&str> = doc.root().entries().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "b", "c"]);
    assert_eq!(doc.root().len(), 3);
}

#[test]
fn empty_containers_nulls_and_unicode_are_kept() {
    let value = json!({
        "annotations": {},
        "items": [],
        "nothing": null,
        "text": "naïve ☃ \u{1F680} \u{0}",
        "ключ": "значение",
        "": ""
    });
    let doc = Doc::from_value(&value);
    let root = doc.root();
    assert!(
        root.get("annotations")
            .is_some_and(|a| a.is_map() && a.is_empty())
    );
    assert!(
        root.get("items")
            .is_some_and(|i| i.is_list() && i.is_empty())
    );
    assert!(root.get("nothing").is_some_and(Json::is_null));
    assert_eq!(root.get("ключ").and_then(Json::as_str), Some("значение"));
    assert_eq!(root.get("").and_then(Json::as_str), Some(""));
    assert_eq!(doc.to_value(), value);
}

#[test]
fn scalars_have_no_entries_or_items() {
    let doc = Doc::from_value(&json!("text"));
    assert_eq!(doc.root().len(), 0);
    assert_eq!(doc.root().entries().count(), 0);
    assert_eq!(doc.root().items().count(), 0);
    assert!(doc.root().get("text").is_none());
    assert_eq!(Doc::default().to_value(), Value::Null);
}

const STRIP: &[&[&str]] = &[
    &["metadata", "managedFields"],
    &[
        "metadata",
        "annotations",
        "kubectl.kubernetes.io/last-applied-configuration",
    ],
];

fn pod() -> Value {
    json!({
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "managedFields": [{"manager": "kubelet"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...}"},
            "labels": {"managedFields": "a label, not the field"}
        },
        "spec": {"metadata": {"managedFields": "deeper: kept"}}
    })
}

#[test]
fn edits_drop_paths_and_set_top_fields() {
    let edits = Edits {
        drop: STRIP,
        set: &[("kind", "Pod"), ("apiVersion", "v1")],
        fill: &[],
    };
    let mut value = pod();
    value["kind"] = json!("Wrong");
    let expected = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            // Emptied, the map stays: has(object.metadata.annotations) holds.
            "annotations": {},
            "labels": {"managedFields": "a label, not the field"}
        },
        "spec": {"metadata": {"managedFields": "deeper: kept"}}
    });
    let read = Doc::read(&value, &edits).expect("fits");
    assert_eq!(read.to_value(), expected);
    let text = value.to_string();
    let wire = Doc::read(&mut serde_json::Deserializer::from_str(&text), &edits).expect("fits");
    assert_eq!(wire.to_value(), expected);
    let copied = Doc::edited(Doc::from_value(&value).root(), &edits).expect("fits");
    assert_eq!(copied.to_value(), expected);
}

#[test]
fn fill_writes_only_what_is_missing() {
    let edits = Edits {
        drop: &[],
        set: &[],
        fill: &[("kind", "Deployment"), ("apiVersion", "apps/v1")],
    };
    let doc = Doc::edited(Doc::from_value(&json!({"kind": "Own"})).root(), &edits).expect("fits");
    assert_eq!(
        doc.to_value(),
        json!({"kind": "Own", "apiVersion": "apps/v1"})
    );
    // Only a map has fields to fill.
    let list = Doc::edited(Doc::from_value(&json!([1])).root(), &edits).expect("fits");
    assert_eq!(list.to_value(), json!([1]));
}

#[test]
fn a_list_of_documents_copies_each() {
    let a = Doc::from_value(&json!({"name": "a"}));
    let b = Doc::from_value(&json!({"name": "b", "n": 1.5}));
    let list = Doc::list([a.root(), b.root()]).expect("fits");
    assert_eq!(
        list.to_value(),
        json!([{"name": "a"}, {"name": "b", "n": 1.5}])
    );
}

#[test]
fn yaml_reads_as_into_a_value() {
    let text = "a: 1\nb: [x, 2.5, null, true, '3']\nc: {}\n---\nd: ~\n";
    let doc: Vec<Doc> = serde_saphyr::from_multiple(text).expect("valid YAML");
    let value: Vec<Value> = serde_saphyr::from_multiple(text).expect("valid YAML");
    let doc: Vec<Value> = doc.iter().map(Doc::to_value).collect();
    assert_eq!(doc, value);
}

#[test]
fn a_giant_document_takes_the_buffers_and_the_next_one_builds_anew() {
    let many: Vec<u32> = (0..1_200_000).collect();
    let text = serde_json::to_string(&json!({"items": many, "name": "big"})).expect("JSON");
    let doc: Doc = serde_json::from_str(&text).expect("valid JSON");
    let items = doc.root().get("items").expect("items");
    assert_eq!(items.len(), many.len());
    assert_eq!(
        items.items().last().and_then(Json::as_number),
        Some(Number::Int(1_199_999))
    );
    let small = Doc::from_value(&json!({"name": "small"}));
    assert_eq!(small.to_value(), json!({"name": "small"}));
    assert_eq!(doc.root().get("name").and_then(Json::as_str), Some("big"));
}
