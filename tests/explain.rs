//! The explanation of a failing expectation, case by case: the objects in
//! `tests/explain/cases.toml`, each with the exact words gonogo gives a
//! reviewer (the same text the dashboard, the reports and the exports show).

use gonogo::doc::Doc;
use gonogo::probe::{cel, explain};

#[test]
fn every_case_is_explained_as_written() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/explain/cases.toml");
    let text = std::fs::read_to_string(&path).expect("cases.toml is readable");
    let table: toml::Table = text.parse().expect("cases.toml parses");
    let cases = table["case"].as_array().expect("a list of cases");
    assert!(cases.len() >= 12, "only {} cases", cases.len());
    let mut problems = Vec::new();
    for case in cases {
        let field = |k: &str| case[k].as_str().expect("a string field");
        let object: serde_json::Value =
            serde_json::from_str(field("object")).expect("object is JSON");
        let expect = cel::compile(field("expect")).expect("the expression compiles");
        let secret = case
            .get("secret")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let doc = Doc::from_value(&object);
        assert_eq!(
            cel::evaluate(&expect, &[("object", doc.root())]),
            Ok(false),
            "{}: the expectation must be false",
            field("name")
        );
        let got = explain::why_false(&expect, &[("object", doc.root())], secret);
        if got.as_deref() != Some(field("why")) {
            problems.push(format!(
                "{}:\n  want {}\n  got  {}",
                field("name"),
                field("why"),
                got.unwrap_or_default()
            ));
        }
        if let Some(want) = case.get("fields").and_then(|f| f.as_array()) {
            let want: Vec<&str> = want.iter().filter_map(|f| f.as_str()).collect();
            let got: Vec<String> = explain::failing_fields(&expect, &[("object", doc.root())])
                .iter()
                .map(ToString::to_string)
                .collect();
            if got != want {
                problems.push(format!(
                    "{}: fields\n  want {want:?}\n  got  {got:?}",
                    field("name")
                ));
            }
        }
        if secret {
            let data = object["data"].as_object().expect("a Secret has data");
            for value in data.values() {
                let value = value.as_str().unwrap_or_default();
                assert!(
                    !got_contains(&expect, &doc, value),
                    "{}: a Secret value was shown",
                    field("name")
                );
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn got_contains(expect: &gonogo::checklist::model::Expect, object: &Doc, value: &str) -> bool {
    explain::why_false(expect, &[("object", object.root())], true)
        .is_some_and(|w| w.contains(value))
}
