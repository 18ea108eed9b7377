//! Drilling from a kube item to its objects, as the dashboard shows them:
//! every object the probe selects judged one by one (out of line first,
//! each with its reason), and one object written out as YAML with the
//! fields its expectation reads and the field that fails marked. A
//! Secret's values never leave here: they are replaced before the YAML is
//! written.

use serde_json::Value;

use super::cel::{Path, Step};
use super::kube;
use crate::checklist::model::{KubeProbe, Quantifier};
use crate::cluster::{Obj, Object};
use crate::doc::Doc;
use crate::text::sanitize;

/// One selected object and how it stands against the probe.
#[derive(Debug, Clone)]
pub struct Examined {
    pub object: Object,
    /// In line with the probe (for `none`: it does not match `expect`).
    pub in_line: bool,
    /// Why not, for the first objects out of line (explaining costs an
    /// evaluation each), or why it could not be judged.
    pub reason: Option<String>,
}

impl Examined {
    /// `namespace/name`, cleaned for the screen.
    pub fn id(&self) -> String {
        kube::id_of(&self.object)
    }
}

/// Judges each object as the probe does, out of line first, then in key
/// order. An object the expectation cannot be evaluated on is out of line,
/// with the reason; the others are still judged.
pub fn examine(probe: &KubeProbe, objects: Vec<Object>) -> Result<Vec<Examined>, String> {
    let secret = kube::is_secret(probe);
    let all = probe
        .expect
        .as_ref()
        .filter(|e| kube::reads_all(e))
        .map(|_| Doc::list(objects.iter().map(|o| o.json())))
        .transpose()
        .map_err(|e| format!("cannot bind objects: {e}"))?;
    let mut explained = 0;
    let mut out: Vec<Examined> = objects
        .into_iter()
        .map(|object| {
            let (in_line, reason) = match kube::in_line(probe, &object, all.as_ref()) {
                Ok(true) => (true, None),
                Ok(false) if explained < kube::MAX_LISTED => {
                    explained += 1;
                    let why = kube::reason(probe, &object, all.as_ref(), secret);
                    (false, Some(why).filter(|w| !w.is_empty()))
                }
                Ok(false) => (false, None),
                // The object is named beside its reason already.
                Err(why) => {
                    let named = format!(" on {}:", kube::id_of(&object));
                    (false, Some(why.replacen(&named, ":", 1)))
                }
            };
            Examined {
                object,
                in_line,
                reason,
            }
        })
        .collect();
    let key = |e: &Examined| {
        (
            e.in_line,
            e.object.namespace().unwrap_or("").to_string(),
            e.object.name().unwrap_or("").to_string(),
        )
    };
    out.sort_by_cached_key(key);
    Ok(out)
}

/// How a line of the YAML relates to the expectation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Plain,
    /// It shows a field the expectation reads.
    Read,
    /// It shows the field that makes the expectation false (or, when that
    /// field is missing, the nearest one that is there).
    Failing,
}

/// One line of an object's YAML, cleaned for the screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub text: String,
    pub mark: Mark,
    /// What is missing below a failing line: `no key DATABASE_PASSWORD`.
    pub note: Option<String>,
}

/// `object` as YAML lines, `kubectl get -o yaml` style (apiVersion, kind
/// and metadata first, status last), with a Secret's values redacted and,
/// for `probe`, the fields its expectation reads and the failing one
/// marked (when the object is out of line, `in_line` false).
pub fn show(probe: Option<&KubeProbe>, object: &Obj, in_line: bool) -> Vec<Shown> {
    let mut value = object.to_json();
    let secret = probe.is_some_and(kube::is_secret)
        || value.get("kind").and_then(Value::as_str) == Some("Secret");
    if secret {
        super::redact::secret_values(&mut value);
    }
    let root = Path {
        root: "object".into(),
        steps: Vec::new(),
    };
    let mut lines = Vec::new();
    write_map(&mut lines, &value, 0, &root, true);
    let mut shown: Vec<Shown> = lines
        .iter()
        .map(|(text, _)| Shown {
            text: text.clone(),
            mark: Mark::Plain,
            note: None,
        })
        .collect();
    let Some(expect) = probe.and_then(|p| p.expect.as_ref()) else {
        return shown;
    };
    let read = super::names::paths_read(expect, "object");
    for (line, (_, path)) in shown.iter_mut().zip(&lines) {
        if read.iter().any(|r| r.covers(path)) {
            line.mark = Mark::Read;
        }
    }
    let mut failing = match probe.map(|p| p.quantifier) {
        _ if in_line => Vec::new(),
        // Out of line for matching: what it read made it match.
        Some(Quantifier::None) => read.clone(),
        _ => super::explain::failing_fields(expect, &[("object", object.json())]),
    };
    if failing.is_empty() && !in_line {
        // Not judged at all: a field it reads is not there.
        failing = read
            .into_iter()
            .filter(|r| !lines.iter().any(|(_, p)| r.covers(p)))
            .collect();
    }
    for path in &failing {
        mark_failing(&mut shown, &lines, path);
    }
    shown
}

/// Marks the first line that shows `path`, or, when the field is not there,
/// the line of its nearest parent that is, with what is missing.
fn mark_failing(shown: &mut [Shown], lines: &[(String, Path)], path: &Path) {
    for depth in (0..=path.steps.len()).rev() {
        let parent = Path {
            root: path.root.clone(),
            steps: path.steps[..depth].to_vec(),
        };
        let found = lines
            .iter()
            .position(|(_, p)| p.steps.len() == depth && parent.covers(p));
        let Some(at) = found else { continue };
        shown[at].mark = Mark::Failing;
        if depth < path.steps.len() {
            shown[at].note = Some(missing(path, depth));
        }
        return;
    }
}

/// `no key DATABASE_PASSWORD`, `no field limits`.
fn missing(path: &Path, depth: usize) -> String {
    let keyed = matches!(
        depth.checked_sub(1).and_then(|d| path.steps.get(d)),
        Some(Step::Field(f)) if matches!(f.as_str(), "data" | "stringData" | "labels" | "annotations")
    );
    let noun = if keyed { "key" } else { "field" };
    match path.steps.get(depth) {
        Some(Step::Field(name)) => format!("no {noun} {}", sanitize(name, false)),
        Some(Step::Index(i)) => format!("no item {i}"),
        _ => "nothing there".into(),
    }
}

/// The order of an object's top-level fields: as kubectl writes them.
fn rank(key: &str) -> (u8, &str) {
    match key {
        "apiVersion" => (0, key),
        "kind" => (1, key),
        "metadata" => (2, key),
        "status" => (4, key),
        _ => (3, key),
    }
}

/// The lines of a map's entries at `indent`, each with the path it shows.
fn write_map(out: &mut Vec<(String, Path)>, map: &Value, indent: usize, at: &Path, top: bool) {
    let Value::Object(fields) = map else { return };
    let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
    if top {
        entries.sort_by_key(|(k, _)| rank(k));
    }
    let pad = " ".repeat(indent);
    for (key, value) in entries {
        let path = child(at, Step::Field(key.clone()));
        let key = scalar_string(key);
        match value {
            Value::Object(m) if !m.is_empty() => {
                out.push((format!("{pad}{key}:"), path.clone()));
                write_map(out, value, indent + 2, &path, false);
            }
            // kubectl's layout: a list's dashes under its key.
            Value::Array(items) if !items.is_empty() => {
                out.push((format!("{pad}{key}:"), path.clone()));
                write_list(out, items, indent, &path);
            }
            Value::String(s) if s.contains('\n') => {
                out.push((format!("{pad}{key}: |"), path.clone()));
                block(out, s, indent + 2, &path);
            }
            scalar => out.push((format!("{pad}{key}: {}", scalar_text(scalar)), path)),
        }
    }
}

fn write_list(out: &mut Vec<(String, Path)>, items: &[Value], indent: usize, at: &Path) {
    let pad = " ".repeat(indent);
    for (i, value) in items.iter().enumerate() {
        let path = child(at, Step::Index(i as i64));
        match value {
            Value::Object(m) if !m.is_empty() => {
                let first = out.len();
                write_map(out, value, indent + 2, &path, false);
                // The first field of an entry carries the dash.
                if let Some((text, _)) = out.get_mut(first) {
                    *text = format!("{pad}- {}", &text[indent + 2..]);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push((format!("{pad}-"), path.clone()));
                write_list(out, inner, indent + 2, &path);
            }
            Value::String(s) if s.contains('\n') => {
                out.push((format!("{pad}- |"), path.clone()));
                block(out, s, indent + 2, &path);
            }
            scalar => out.push((format!("{pad}- {}", scalar_text(scalar)), path)),
        }
    }
}

/// A multi-line string as a literal block, one screen line per line.
fn block(out: &mut Vec<(String, Path)>, text: &str, indent: usize, at: &Path) {
    let pad = " ".repeat(indent);
    for line in text.lines() {
        out.push((format!("{pad}{}", sanitize(line, false)), at.clone()));
    }
}

fn child(at: &Path, step: Step) -> Path {
    let mut path = at.clone();
    path.steps.push(step);
    path
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => scalar_string(s),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => other.to_string(),
    }
}

/// A string as YAML writes it, quoted when it would otherwise read as
/// something else (a number, `true`, a key), on one line and cleaned.
fn scalar_string(s: &str) -> String {
    let clean = sanitize(s, false);
    // The YAML writer knows when a plain scalar would be misread; one that
    // would need a block (or fails) is written as a JSON string, which YAML
    // reads the same.
    match serde_saphyr::to_string(&clean) {
        Ok(text) if !text.trim_end_matches('\n').contains('\n') => {
            text.trim_end_matches('\n').to_string()
        }
        _ => serde_json::Value::String(clean).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::ResourceType;
    use crate::cluster::snapshot::Snapshot;
    use crate::cluster::{ObjectQuery, ObjectSource};

    const SHOP: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, labels: {app: api}}
spec:
  replicas: 3
  template:
    spec:
      containers:
        - {name: web, image: 'api:1.2', resources: {limits: {memory: 512Mi}}}
        - {name: proxy, image: 'envoy:1.30', resources: {requests: {cpu: 10m}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec:
  replicas: 1
  template: {spec: {containers: [{name: worker, image: 'worker:2'}]}}
---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: shop}
type: Opaque
data:
  DATABASE_URL: cG9zdGdyZXM6Ly9odW50ZXIy
stringData:
  NOTE: |
    two
    lines
";

    fn probe(resource: &str, expect: &str) -> KubeProbe {
        let mut p = KubeProbe::of(ResourceType::parse(resource).expect("a valid resource"));
        p.expect = Some(super::super::cel::compile(expect).expect("the expression compiles"));
        p
    }

    fn objects(p: &KubeProbe) -> Vec<Object> {
        let snapshot = Snapshot::from_yaml("shop.yaml", SHOP).expect("valid YAML");
        futures::executor::block_on(snapshot.list(&ObjectQuery::of(p))).expect("listed")
    }

    fn one(p: &KubeProbe, name: &str) -> Object {
        objects(p)
            .into_iter()
            .find(|o| o.name() == Some(name))
            .expect("the object is in the snapshot")
    }

    fn marked(lines: &[Shown], mark: Mark) -> Vec<String> {
        lines
            .iter()
            .filter(|l| l.mark == mark)
            .map(|l| match &l.note {
                Some(note) => format!("{} ({note})", l.text.trim()),
                None => l.text.trim().to_string(),
            })
            .collect()
    }

    #[test]
    fn objects_out_of_line_come_first_with_their_reasons() {
        let p = probe("apps/v1/Deployment", "object.spec.replicas >= 2");
        let examined = examine(&p, objects(&p)).expect("judged");
        let listed: Vec<(String, bool, Option<String>)> = examined
            .iter()
            .map(|e| (e.id(), e.in_line, e.reason.clone()))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "shop/worker".to_string(),
                    false,
                    Some("object.spec.replicas is 1, wants >= 2".to_string())
                ),
                ("shop/api".to_string(), true, None),
            ]
        );
    }

    #[test]
    fn an_object_the_expectation_cannot_read_is_out_of_line_and_says_why() {
        let p = probe("apps/v1/Deployment", "object.metadata.labels.app == 'api'");
        let examined = examine(&p, objects(&p)).expect("judged");
        assert_eq!(examined[0].id(), "shop/worker");
        assert!(!examined[0].in_line);
        assert_eq!(
            examined[0].reason.as_deref(),
            Some(
                "expect could not be evaluated: it reads object.metadata.labels, \
                 which is not there (guard it with has())"
            )
        );
        assert!(examined[1].in_line);
        // Its YAML marks where the field should be.
        let lines = show(Some(&p), &examined[0].object, false);
        assert_eq!(
            marked(&lines, Mark::Failing),
            ["metadata: (no field labels)"]
        );
    }

    #[test]
    fn yaml_reads_like_kubectl_with_the_compared_field_failing() {
        let p = probe("apps/v1/Deployment", "object.spec.replicas >= 2");
        let lines = show(Some(&p), &one(&p, "worker"), false);
        let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            text,
            [
                "apiVersion: apps/v1",
                "kind: Deployment",
                "metadata:",
                "  name: worker",
                "  namespace: shop",
                "spec:",
                "  replicas: 1",
                "  template:",
                "    spec:",
                "      containers:",
                "      - image: worker:2",
                "        name: worker",
            ]
        );
        assert_eq!(marked(&lines, Mark::Failing), ["replicas: 1"]);
        assert!(marked(&lines, Mark::Read).is_empty());
        // In line, the same field is only read.
        let lines = show(Some(&p), &one(&p, "api"), true);
        assert_eq!(marked(&lines, Mark::Read), ["replicas: 3"]);
        assert!(marked(&lines, Mark::Failing).is_empty());
    }

    #[test]
    fn the_element_an_all_fails_on_is_marked_where_its_field_is_missing() {
        let p = probe(
            "apps/v1/Deployment",
            "object.spec.template.spec.containers.all(c, has(c.resources.limits) && has(c.resources.limits.memory))",
        );
        let lines = show(Some(&p), &one(&p, "api"), false);
        assert_eq!(marked(&lines, Mark::Read), ["memory: 512Mi"]);
        assert_eq!(
            marked(&lines, Mark::Failing),
            ["resources: (no field limits)"]
        );
        // The failing container is the second one.
        let at = lines
            .iter()
            .position(|l| l.mark == Mark::Failing)
            .expect("a failing line");
        assert_eq!(lines[at - 1].text.trim(), "name: proxy");
    }

    #[test]
    fn a_secret_shows_its_keys_never_its_values() {
        let p = probe(
            "v1/Secret",
            "has(object.data.DATABASE_URL) && has(object.data.DATABASE_PASSWORD)",
        );
        let secret = one(&p, "db");
        let lines = show(Some(&p), &secret, false);
        let all: String = lines.iter().map(|l| format!("{}\n", l.text)).collect();
        assert!(!all.contains("cG9zdGdyZXM6Ly9odW50ZXIy"), "{all}");
        assert!(!all.contains("two"), "{all}");
        assert!(
            all.contains("  DATABASE_URL: ‹redacted, 18 bytes›\n"),
            "{all}"
        );
        assert!(all.contains("  NOTE: ‹redacted, 10 bytes›\n"), "{all}");
        assert_eq!(
            marked(&lines, Mark::Read),
            ["DATABASE_URL: ‹redacted, 18 bytes›"]
        );
        assert_eq!(
            marked(&lines, Mark::Failing),
            ["data: (no key DATABASE_PASSWORD)"]
        );
        // Without the probe, the object's own kind is enough.
        let unprobed = show(None, &secret, false);
        assert!(unprobed.iter().all(|l| !l.text.contains("cG9zdGdy")));
    }

    #[test]
    fn strings_that_would_read_as_something_else_are_quoted() {
        assert_eq!(scalar_string("plain"), "plain");
        assert_eq!(scalar_string("true"), "\"true\"");
        assert_eq!(scalar_string("8080"), "\"8080\"");
        assert_eq!(scalar_string("a: b"), "\"a: b\"");
        assert_eq!(scalar_string(""), "\"\"");
        assert_eq!(scalar_string("‹redacted, 7 bytes›"), "‹redacted, 7 bytes›");
        assert_eq!(scalar_string("\u{1b}[31mred"), "red");
    }
}
