//! The bundled checklists as a team meets them: each validates, each runs
//! over the real kube-prometheus manifests with no Kubernetes probe in
//! `error`, each worked example under `assets/examples/<id>/` runs offline
//! with the statuses its fixtures make plain, and `builtin` picks which of
//! them load.
//!
//! The statuses live in `tests/expect/<id>.toml`, one file per checklist:
//! `[kube_prometheus]` (vars and statuses for the fixture run),
//! `[example.<env>]` (statuses in the worked example) and optionally
//! `[critical_path]` (the first ids of an environment's critical path).

#[path = "support/binary.rs"]
mod binary;
use binary::gonogo;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gonogo::checklist::load::BUNDLED;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Expectations {
    id: String,
    fixture_vars: toml::Table,
    fixture_status: BTreeMap<String, String>,
    example: BTreeMap<String, BTreeMap<String, String>>,
    critical_path: BTreeMap<String, Vec<String>>,
}

fn statuses(table: Option<&toml::Value>) -> BTreeMap<String, String> {
    table
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("status is a string").into()))
                .collect()
        })
        .unwrap_or_default()
}

fn expectations(id: &str) -> Expectations {
    let path = root().join(format!("tests/expect/{id}.toml"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("bundled checklist {id} has no {}: {e}", path.display()));
    let table: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let fixture = table.get("kube_prometheus").and_then(|v| v.as_table());
    Expectations {
        id: id.to_string(),
        fixture_vars: fixture
            .and_then(|f| f.get("vars"))
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default(),
        fixture_status: statuses(fixture.and_then(|f| f.get("status"))),
        example: table
            .get("example")
            .and_then(|v| v.as_table())
            .map(|envs| {
                envs.iter()
                    .map(|(env, s)| (env.clone(), statuses(Some(s))))
                    .collect()
            })
            .unwrap_or_default(),
        critical_path: table
            .get("critical_path")
            .and_then(|v| v.as_table())
            .map(|t| {
                t.iter()
                    .map(|(env, ids)| {
                        let ids = ids
                            .as_array()
                            .expect("a list of item ids")
                            .iter()
                            .map(|i| i.as_str().expect("an item id").to_string())
                            .collect();
                        (env.clone(), ids)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Runs `check --format json` and returns the report and exit code.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = gonogo(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .expect("gonogo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "check {args:?} printed no JSON ({e}): {stdout}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), report)
}

/// Every item of the report: (checklist id, item).
fn items(report: &serde_json::Value) -> Vec<(String, serde_json::Value)> {
    let mut all = Vec::new();
    for c in report["checklists"].as_array().expect("checklists") {
        for s in c["sections"].as_array().expect("sections") {
            for i in s["items"].as_array().expect("items") {
                all.push((c["id"].as_str().expect("id").to_string(), i.clone()));
            }
        }
    }
    all
}

/// Compares the listed statuses with the report's, collecting every
/// difference so one run shows them all.
fn compare(
    what: &str,
    report: &serde_json::Value,
    checklist: &str,
    want: &BTreeMap<String, String>,
    problems: &mut Vec<String>,
) {
    let got: BTreeMap<String, (String, String)> = items(report)
        .into_iter()
        .filter(|(c, _)| c == checklist)
        .map(|(_, i)| {
            (
                i["id"].as_str().expect("id").to_string(),
                (
                    i["status"].as_str().expect("status").to_string(),
                    i["summary"].as_str().unwrap_or("").to_string(),
                ),
            )
        })
        .collect();
    for (item, status) in want {
        match got.get(item) {
            None => problems.push(format!("{what}: no item `{item}` in {checklist}")),
            Some((s, summary)) if s != status => problems.push(format!(
                "{what}: {checklist}/{item} is {s}, expected {status} ({summary})"
            )),
            Some(_) => {}
        }
    }
}

#[test]
fn every_bundled_checklist_has_expectations_and_a_worked_example() {
    for bundled in BUNDLED {
        let e = expectations(bundled.id);
        assert!(
            !e.fixture_status.is_empty(),
            "{}: no statuses for kube-prometheus",
            e.id
        );
        let config = root().join(format!("assets/examples/{}/gonogo.toml", e.id));
        assert!(config.is_file(), "{} has no worked example", e.id);
        assert!(
            !e.example.is_empty(),
            "{}: no statuses for its example",
            e.id
        );
        let text = std::fs::read_to_string(&config).expect("readable");
        assert!(
            text.contains(&format!("\"{}\"", e.id)),
            "{}'s example picks its checklist with builtin = [\"{}\"]",
            e.id,
            e.id
        );
    }
}

/// `gonogo validate` with every bundled checklist picked by id, for every
/// environment of every worked example.
#[test]
fn every_bundled_checklist_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ids: Vec<String> = BUNDLED.iter().map(|b| format!("{:?}", b.id)).collect();
    std::fs::write(
        dir.path().join("gonogo.toml"),
        format!("builtin = [{}]\n", ids.join(", ")),
    )
    .expect("write config");
    let out = gonogo(dir.path()).arg("validate").output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("ok: {} checklists valid", BUNDLED.len())),
        "{stdout}"
    );
    for bundled in BUNDLED {
        let example = root().join(format!("assets/examples/{}", bundled.id));
        let out = gonogo(&example).arg("validate").output().expect("runs");
        assert!(
            out.status.success(),
            "{}: {}",
            bundled.id,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Each bundled checklist over the kube-prometheus manifests: no `kube`
/// item ends in `error`, and the plain ones have the status the manifests
/// give them.
#[test]
fn bundled_checklists_over_kube_prometheus() {
    let fixture = root().join("tests/fixtures/kube-prometheus");
    let mut problems = Vec::new();
    for bundled in BUNDLED {
        let e = expectations(bundled.id);
        let dir = tempfile::tempdir().expect("tempdir");
        let vars: Vec<String> = e
            .fixture_vars
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        std::fs::write(
            dir.path().join("gonogo.toml"),
            format!(
                "builtin = [{:?}]\nstate_dir = \"state\"\n\n[[environments]]\nname = \"fixture\"\nsnapshot = {:?}\nvars = {{ {} }}\n",
                e.id,
                fixture.display().to_string(),
                vars.join(", ")
            ),
        )
        .expect("write config");
        let (_, report) = check(dir.path(), &["--env", "fixture"]);
        for (_, item) in items(&report) {
            if item["kind"] == "kube" && item["status"] == "error" {
                problems.push(format!(
                    "kube-prometheus: {}/{} is error: {}",
                    e.id, item["id"], item["summary"]
                ));
            }
        }
        compare(
            "kube-prometheus",
            &report,
            &e.id,
            &e.fixture_status,
            &mut problems,
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each worked example, environment by environment, offline: its endpoint
/// probes point at a closed port on 127.0.0.1.
#[test]
fn worked_examples_give_the_expected_statuses() {
    let mut problems = Vec::new();
    let mut runs = 0;
    for bundled in BUNDLED {
        let e = expectations(bundled.id);
        let example = root().join(format!("assets/examples/{}", e.id));
        for (env, want) in &e.example {
            // A state folder of its own, so ticks someone made while trying
            // the example do not change what it asserts.
            let state = tempfile::tempdir().expect("tempdir");
            let state_dir = state.path().display().to_string();
            let (_, report) = check(&example, &["--env", env, "--state-dir", &state_dir]);
            assert_eq!(report["environment"], env.as_str());
            compare(
                &format!("example {env}"),
                &report,
                &e.id,
                want,
                &mut problems,
            );
            if let Some(prefix) = e.critical_path.get(env) {
                let path: Vec<String> = report["checklists"]
                    .as_array()
                    .expect("checklists")
                    .iter()
                    .find(|c| c["id"] == e.id.as_str())
                    .and_then(|c| c["critical_path"].as_array())
                    .map(|p| {
                        p.iter()
                            .map(|i| i.as_str().unwrap_or("").to_string())
                            .collect()
                    })
                    .unwrap_or_default();
                if !path.starts_with(prefix) {
                    problems.push(format!(
                        "example {env}: {} critical path starts {:?}, expected {prefix:?}",
                        e.id,
                        &path[..path.len().min(prefix.len() + 2)]
                    ));
                }
            }
            runs += 1;
        }
    }
    assert!(runs >= BUNDLED.len(), "every example runs at least once");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The ids of the checklists `check` loads with this config text.
fn loaded_ids(config: &str) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("gonogo.toml"), config).expect("write config");
    let out = gonogo(dir.path())
        .args(["validate"])
        .output()
        .expect("runs");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let out = gonogo(dir.path())
        .args(["checklists"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.len() > 4 && cols[3] == "yes").then(|| cols[0].to_string())
        })
        .collect())
}

#[test]
fn builtin_picks_the_general_checklists_by_default_and_others_by_id() {
    let general = ["kubernetes-baseline", "launch-readiness", "web-hardening"];
    assert_eq!(loaded_ids("").expect("valid"), general);
    assert_eq!(loaded_ids("builtin = true\n").expect("valid"), general);
    assert_eq!(
        loaded_ids("builtin = false\n").expect("valid"),
        Vec::<String>::new()
    );
    let specific = BUNDLED
        .iter()
        .find(|b| !b.general)
        .expect("a system-specific checklist is bundled");
    assert_eq!(
        loaded_ids(&format!(
            "builtin = [\"kubernetes-baseline\", \"{}\"]\n",
            specific.id
        ))
        .expect("valid"),
        ["kubernetes-baseline", specific.id]
    );

    let err = loaded_ids("# pick two\nbuiltin = [\"launch-readiness\", \"kubernetes-baselin\"]\n")
        .expect_err("an unknown id is a load error");
    assert!(
        err.starts_with(
            "gonogo.toml:2:33: error: no bundled checklist `kubernetes-baselin`; did you mean `kubernetes-baseline`?"
        ),
        "{err}"
    );
    let err = loaded_ids("builtin = \"yes\"\n").expect_err("a string is not a choice");
    assert!(
        err.starts_with("gonogo.toml:1:11: error: `builtin` is true"),
        "{err}"
    );
}

#[test]
fn checklists_lists_the_library_and_shows_one_to_copy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = gonogo(dir.path()).arg("checklists").output().expect("runs");
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    for bundled in BUNDLED {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(bundled.id))
            .unwrap_or_else(|| panic!("{} not listed:\n{stdout}", bundled.id));
        let items: usize = row
            .split_whitespace()
            .nth(1)
            .expect("count")
            .parse()
            .expect("a number");
        let in_file = bundled.text.matches("[[sections.items]]").count();
        assert_eq!(items, in_file, "{row}");
    }
    assert!(stdout.contains("vars: "), "{stdout}");

    // `show` prints the file as bundled: copied under a new id, it validates.
    let out = gonogo(dir.path())
        .args(["checklists", "show", "kubernetes-baseline"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(text, BUNDLED[0].text);
    let copy = text.replacen("id = \"kubernetes-baseline\"", "id = \"our-baseline\"", 1);
    std::fs::write(dir.path().join("ours.toml"), copy).expect("write");
    std::fs::write(
        dir.path().join("gonogo.toml"),
        "builtin = [\"kubernetes-baseline\"]\nchecklists = [\"ours.toml\"]\n",
    )
    .expect("write");
    let out = gonogo(dir.path()).arg("validate").output().expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = gonogo(dir.path())
        .args(["checklists", "show", "web-hardenning"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no bundled checklist `web-hardenning`; did you mean `web-hardening`?"),
        "{stderr}"
    );
}

/// checklists/README.md describes every bundled checklist with a table of
/// its vars; a var added to a checklist and not to the table is caught here.
#[test]
fn the_readme_lists_every_checklist_and_its_vars() {
    let readme = std::fs::read_to_string(root().join("checklists/README.md")).expect("readable");
    for bundled in BUNDLED {
        let heading = format!("\n## {}\n", bundled.id);
        let start = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("checklists/README.md has no section {heading:?}"));
        let rest = &readme[start + heading.len()..];
        let section = &rest[..rest.find("\n## ").unwrap_or(rest.len())];
        let table: toml::Table = bundled.text.parse().expect("bundled checklists parse");
        let vars = table
            .get("vars")
            .and_then(|v| v.as_table())
            .cloned()
            .unwrap_or_default();
        for name in vars.keys() {
            assert!(
                section.contains(&format!("| `{name}` |")),
                "the {} section of checklists/README.md has no row for var `{name}`",
                bundled.id
            );
        }
    }
}
