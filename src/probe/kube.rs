//! `kube` probes: select objects from an `ObjectSource`, check their count,
//! and hold each one to `expect` under the probe's quantifier.

use std::sync::Arc;

use serde_json::{Value, json};

use super::cel::{self, EvalError};
use super::{Outcome, Verdict};
use crate::checklist::model::{KubeProbe, Quantifier};
use crate::cluster::{
    Change, Cursor, Delta, HEAD, Obj, Object, ObjectQuery, ObjectSource, SourceError,
};
use crate::doc::{Doc, Json};
use crate::text::sanitize;

/// At most this many objects are listed in the evidence; failing ones first.
pub(super) const MAX_LISTED: usize = 100;
/// At most this many failing objects are named in the one-line summary.
const MAX_NAMED: usize = 5;

pub async fn run(probe: &KubeProbe, cluster: &dyn ObjectSource) -> Outcome {
    run_tallied(probe, cluster, &mut None).await
}

/// Runs the probe, keeping a tally between runs over a source that follows
/// the cluster: a run after one Pod of fifty thousand changed judges that
/// Pod and reads the rest from the tally.
pub async fn run_tallied(
    probe: &KubeProbe,
    cluster: &dyn ObjectSource,
    tally: &mut Option<Tally>,
) -> Outcome {
    let query = ObjectQuery::of(probe);
    let base = json!({
        "resource": probe.resource.to_string(),
        "source": cluster.describe(),
    });
    // An expectation that reads every object judges each against all the
    // others: one change can change every answer, so nothing is kept.
    let keeps = probe.expect.as_ref().is_none_or(|e| !reads_all(e));
    // Taken out while the run works on it: a run cut short (a timeout)
    // leaves none, and the next run starts over.
    let mine = tally.take().filter(|t| keeps && t.fits(probe, &query));
    let since = mine.as_ref().map(|t| t.cursor);
    let read = cluster.read_since(&query, since).await;
    let judged = match read {
        Ok(Delta::All { objects, cursor }) => match cursor.filter(|_| keeps) {
            Some(cursor) => Tally::of(probe, &query, cursor, &objects).map(|mut t| {
                let head = &objects[..objects.len().min(HEAD)];
                let judged = t.judged(probe, head);
                *tally = Some(t);
                judged
            }),
            None => judge_each(probe, &objects),
        },
        Ok(Delta::Since {
            changes,
            head,
            cursor,
        }) => match mine {
            Some(mut t) => t.apply(probe, changes, cursor).map(|()| {
                let judged = t.judged(probe, &head);
                *tally = Some(t);
                judged
            }),
            // Only asked with a cursor; a source that answers otherwise
            // is read whole.
            None => match cluster.list(&query).await {
                Ok(objects) => judge_each(probe, &objects),
                Err(e) => return unlisted(probe, e, base),
            },
        },
        Err(e) => return unlisted(probe, e, base),
    };
    let detail = described(probe, base);
    match judged {
        Ok(judged) => judge(probe, &judged, detail),
        Err(why) => Outcome::new(Verdict::Error, why, detail),
    }
}

/// Judges the objects of a first list that arrived since the last call
/// (`seen` counts them), remembering each answer with its object, so the
/// first run only reads what was said. Errors are left for that run to
/// report.
pub async fn prepare(probe: &KubeProbe, cluster: &dyn ObjectSource, seen: &mut usize) {
    if probe.expect.as_ref().is_none_or(reads_all) {
        return;
    }
    let query = ObjectQuery::of(probe);
    if let Some((objects, now)) = cluster.arriving(&query, *seen).await {
        for object in &objects {
            let _ = in_line(probe, object, None);
        }
        *seen = now;
    }
}

/// The outcome when the objects could not be read.
fn unlisted(probe: &KubeProbe, e: SourceError, base: Value) -> Outcome {
    match e {
        // Not served, and the probe allows none: nothing can be using the
        // type (a removed API version, an absent CRD), as in a snapshot
        // without such objects.
        SourceError::NotServed(why) if probe.min == 0 => {
            let mut detail = described(probe, base);
            detail["not_served"] = json!(why);
            judge(probe, &Judged::default(), detail)
        }
        // The type is not served: a finding about the cluster (CRD missing).
        SourceError::NotServed(why) => Outcome::fail(why, base),
        SourceError::Unavailable(why) => Outcome::new(Verdict::Error, why, base),
    }
}

/// Whether the expression reads `objects`, every selected object at once.
pub(super) fn reads_all(expect: &crate::checklist::model::Expect) -> bool {
    expect.source.contains("objects")
}

/// What a probe over a followed cluster keeps between runs: how many
/// objects it selects and which of them are out of line, in key order.
pub struct Tally {
    /// What it was made for: a reloaded checklist starts over.
    query: ObjectQuery,
    expect: Option<u32>,
    quantifier: Quantifier,
    cursor: Cursor,
    selected: usize,
    /// Out of line, sorted by namespace and name: one pointer each, so a
    /// check that fails on fifty thousand Pods keeps 400 kB.
    bad: Vec<Object>,
    /// Why, for the first of them (explaining costs an evaluation).
    explained: Vec<(Object, String)>,
}

impl Tally {
    fn fits(&self, probe: &KubeProbe, query: &ObjectQuery) -> bool {
        self.query == *query
            && self.expect == probe.expect.as_ref().map(|e| e.id)
            && self.quantifier == probe.quantifier
    }

    /// Judges every object; `objects` come in key order, as a followed
    /// source gives them.
    fn of(
        probe: &KubeProbe,
        query: &ObjectQuery,
        cursor: Cursor,
        objects: &[Object],
    ) -> Result<Tally, String> {
        let mut bad = Vec::new();
        for object in objects {
            if !in_line(probe, object, None)? {
                bad.push(Arc::clone(object));
            }
        }
        Ok(Tally {
            query: query.clone(),
            expect: probe.expect.as_ref().map(|e| e.id),
            quantifier: probe.quantifier,
            cursor,
            selected: objects.len(),
            bad,
            explained: Vec::new(),
        })
    }

    /// Takes in what changed since the last run.
    fn apply(
        &mut self,
        probe: &KubeProbe,
        changes: Vec<Change>,
        cursor: Cursor,
    ) -> Result<(), String> {
        for change in changes {
            let key = (&*change.key.0, &*change.key.1);
            let at = self.bad.binary_search_by(|o| key_of(o).cmp(&key));
            if change.before.is_some() {
                self.selected -= 1;
                if let Ok(at) = at {
                    self.bad.remove(at);
                }
            }
            if let Some(after) = &change.after {
                self.selected += 1;
                if !in_line(probe, after, None)? {
                    let (Ok(at) | Err(at)) = self.bad.binary_search_by(|o| key_of(o).cmp(&key));
                    self.bad.insert(at, Arc::clone(after));
                }
            }
        }
        self.cursor = cursor;
        Ok(())
    }

    /// The objects to show: the first out of line, explained, and the first
    /// of `head` (the first selected objects) in line.
    fn judged(&mut self, probe: &KubeProbe, head: &[Object]) -> Judged {
        let secret = is_secret(probe);
        let known = std::mem::take(&mut self.explained);
        self.explained = self
            .bad
            .iter()
            .take(MAX_LISTED)
            .map(|object| {
                let reason = match known.iter().find(|(o, _)| Arc::ptr_eq(o, object)) {
                    Some((_, reason)) => reason.clone(),
                    None => reason(probe, object, None, secret),
                };
                (Arc::clone(object), reason)
            })
            .collect();
        let bad: Vec<Checked> = self
            .explained
            .iter()
            .map(|(object, reason)| {
                let mut entry = Checked::new(object, false, secret);
                entry.reason = Some(reason.clone());
                entry
            })
            .collect();
        let room = MAX_LISTED - bad.len();
        let listed_bad = |o: &Object| {
            self.bad
                .binary_search_by(|b| key_of(b).cmp(&key_of(o)))
                .is_ok()
        };
        let good = head
            .iter()
            .filter(|o| !listed_bad(o))
            .take(room)
            .map(|o| Checked::new(o, true, secret))
            .collect();
        Judged {
            selected: self.selected,
            out_of_line: self.bad.len(),
            bad,
            good,
        }
    }
}

/// An object's place in key order: namespace (empty for cluster-scoped),
/// then name.
fn key_of(object: &Obj) -> (&str, &str) {
    (
        object.namespace().unwrap_or(""),
        object.name().unwrap_or(""),
    )
}

pub(super) fn is_secret(probe: &KubeProbe) -> bool {
    probe.resource.group.is_empty() && probe.resource.kind == "Secret"
}

/// The probe's settings, for the evidence.
fn described(probe: &KubeProbe, mut detail: Value) -> Value {
    for (key, value) in [
        ("namespace", probe.namespace.clone()),
        ("name", probe.name.clone()),
        (
            "selector",
            Some(probe.selector.to_string()).filter(|s| !s.is_empty()),
        ),
        (
            "field_selector",
            Some(probe.field_selector.to_string()).filter(|s| !s.is_empty()),
        ),
    ] {
        if let Some(value) = value {
            detail[key] = json!(value);
        }
    }
    if let Some(expect) = &probe.expect {
        detail["expect"] = json!(expect.source);
    }
    detail
}

/// How one selected object fared against `expect`.
struct Checked {
    object: Object,
    /// Whether this object is in line with the probe (for `none`: it does
    /// NOT satisfy `expect`).
    ok: bool,
    /// Why not, for the first `MAX_LISTED` objects out of line (explaining
    /// costs a second evaluation; nobody reads fifty thousand reasons).
    reason: Option<String>,
    /// A Secret's data keys (never values).
    keys: Option<Vec<String>>,
}

impl Checked {
    fn new(object: &Object, ok: bool, secret: bool) -> Checked {
        Checked {
            object: Arc::clone(object),
            ok,
            reason: None,
            keys: secret.then(|| secret_keys(object.json())),
        }
    }

    fn namespace(&self) -> Option<String> {
        self.object.namespace().map(|s| sanitize(s, false))
    }

    fn name(&self) -> String {
        self.object
            .name()
            .map_or_else(|| "(unnamed)".into(), |s| sanitize(s, false))
    }

    fn id(&self) -> String {
        id_of(&self.object)
    }

    /// `monitoring/grafana: expect false`, with a Secret's keys when a
    /// field was missing, since that is what the reader will want next.
    fn named_reason(&self) -> String {
        let mut text = self.id();
        if let Some(reason) = &self.reason {
            text.push_str(": ");
            text.push_str(reason);
        }
        if let (Some(keys), false) = (&self.keys, self.ok) {
            text.push_str(&format!(" (keys: {})", list_or_none(keys)));
        }
        text
    }

    fn evidence(&self) -> Value {
        let mut entry = json!({
            "namespace": self.namespace(),
            "name": self.name(),
            "ok": self.ok,
        });
        if let Some(reason) = &self.reason {
            entry["reason"] = json!(reason);
        }
        if let Some(keys) = &self.keys {
            entry["keys"] = json!(keys);
        }
        // Where a snapshot read it, so a report can point at the manifest.
        if let Some(origin) = self.object.origin() {
            entry["file"] = json!(sanitize(&origin.file.display().to_string(), false));
            if let Some(line) = origin.line {
                entry["line"] = json!(line);
            }
        }
        entry
    }
}

/// `namespace/name`, or the name of a cluster-scoped object.
pub(super) fn id_of(object: &Obj) -> String {
    let name = object
        .name()
        .map_or_else(|| "(unnamed)".into(), |s| sanitize(s, false));
    match object.namespace() {
        Some(ns) => format!("{}/{name}", sanitize(ns, false)),
        None => name,
    }
}

/// What a probe's run found: how many objects it selected, how many are
/// out of line, and the first of each to show (at most `MAX_LISTED` in
/// all, out of line first).
#[derive(Default)]
struct Judged {
    selected: usize,
    out_of_line: usize,
    bad: Vec<Checked>,
    good: Vec<Checked>,
}

fn judge(probe: &KubeProbe, judged: &Judged, mut detail: Value) -> Outcome {
    let what = Selection(probe);
    let count = judged.selected as u64;
    detail["selected"] = json!(count);
    detail["quantifier"] = json!(quantifier_name(probe.quantifier));
    detail["objects"] = listed(judged, &mut detail);

    if count < probe.min {
        let summary = if count == 0 {
            format!("no {what}")
        } else {
            format!("{count} {what}, expected at least {}", probe.min)
        };
        return Outcome::fail(summary, detail);
    }
    if let Some(max) = probe.max.filter(|max| count > *max) {
        return Outcome::fail(format!("{count} {what}, expected at most {max}"), detail);
    }
    verdict(probe, &what, judged, detail)
}

/// Judges every object, keeping the first of each kind to show. An
/// expression that cannot be evaluated on one of them (a missing field, a
/// type error) is an error.
fn judge_each(probe: &KubeProbe, objects: &[Object]) -> Result<Judged, String> {
    let secret = is_secret(probe);
    // `objects` is converted for CEL on every evaluation: bind it only when
    // the expression can read it.
    let all = probe
        .expect
        .as_ref()
        .filter(|e| reads_all(e))
        .map(|_| Doc::list(objects.iter().map(|o| o.json())))
        .transpose()
        .map_err(|e| format!("cannot bind objects: {e}"))?;
    let mut judged = Judged {
        selected: objects.len(),
        ..Judged::default()
    };
    for object in objects {
        let ok = in_line(probe, object, all.as_ref())?;
        if ok {
            if judged.good.len() + judged.bad.len() < MAX_LISTED {
                judged.good.push(Checked::new(object, true, secret));
            }
            continue;
        }
        judged.out_of_line += 1;
        if judged.bad.len() < MAX_LISTED {
            let mut entry = Checked::new(object, false, secret);
            entry.reason = Some(reason(probe, object, all.as_ref(), secret));
            judged.bad.push(entry);
        }
    }
    // Out of line first, a hundred in all.
    judged.good.truncate(MAX_LISTED - judged.bad.len());
    Ok(judged)
}

/// Whether `object` is in line with the probe (for `none`: it does NOT
/// satisfy `expect`). What an expectation says of one object depends on
/// that object alone, unless it reads them all (`all`): otherwise it is
/// remembered with the object.
pub(super) fn in_line(
    probe: &KubeProbe,
    object: &Object,
    all: Option<&Doc>,
) -> Result<bool, String> {
    let Some(expect) = &probe.expect else {
        return Ok(true);
    };
    let known = match all {
        None => object.recall(expect.id),
        Some(_) => None,
    };
    let holds = match known {
        Some(held) => held,
        None => {
            let mut vars: Vec<(&str, Json)> = vec![("object", object.json())];
            if let Some(all) = all {
                vars.push(("objects", all.root()));
            }
            let held = cel::evaluate(expect, &vars).map_err(|e| unjudged(probe, object, e))?;
            if all.is_none() {
                object.remember(expect.id, held);
            }
            held
        }
    };
    Ok(holds != (probe.quantifier == Quantifier::None))
}

/// How the summary of a probe that read its objects but could not judge
/// one begins: the cluster answered, the checklist is at fault.
pub const UNJUDGED: &str = "expect could not be evaluated on ";

/// Why `expect` could not be judged on `object`.
fn unjudged(probe: &KubeProbe, object: &Obj, e: EvalError) -> String {
    let id = id_of(object);
    match e {
        // A field the object does not have: the expectation cannot be
        // judged, which is the checklist's mistake (guard it with `has()`),
        // so the probe is an error naming both.
        EvalError::MissingField(path) => format!(
            "{UNJUDGED}{id}: it reads {}, which is not there (guard it with has())",
            sanitize(&path, false)
        ),
        // A Secret's values may show in a type error; never echo it.
        _ if is_secret(probe) => format!(
            "{UNJUDGED}{id}: expect did not give true or false (details withheld for Secrets)"
        ),
        e => format!("{UNJUDGED}{id}: {}", sanitize(&e.to_string(), false)),
    }
}

/// Why an object out of line is: from the values, for `expect` false (a
/// Secret's withheld); `expect true` for `none`.
pub(super) fn reason(
    probe: &KubeProbe,
    object: &Object,
    all: Option<&Doc>,
    secret: bool,
) -> String {
    let Some(expect) = &probe.expect else {
        return String::new();
    };
    let holds = probe.quantifier == Quantifier::None;
    let mut vars: Vec<(&str, Json)> = vec![("object", object.json())];
    if let Some(all) = all {
        vars.push(("objects", all.root()));
    }
    (!holds)
        .then(|| super::explain::why_false(expect, &vars, secret))
        .flatten()
        .unwrap_or_else(|| format!("expect {holds}"))
}

/// The sorted keys of a Secret's `data` and `stringData`.
fn secret_keys(object: Json) -> Vec<String> {
    let mut keys: Vec<String> = ["data", "stringData"]
        .iter()
        .filter_map(|field| object.get(field))
        .flat_map(|map| map.entries().map(|(k, _)| sanitize(k, false)))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn list_or_none(keys: &[String]) -> String {
    if keys.is_empty() {
        "none".into()
    } else {
        keys.join(", ")
    }
}

/// The evidence list: objects out of line first, capped at `MAX_LISTED`.
fn listed(judged: &Judged, detail: &mut Value) -> Value {
    let shown: Vec<Value> = judged
        .bad
        .iter()
        .chain(&judged.good)
        .map(Checked::evidence)
        .collect();
    if judged.selected > shown.len() {
        detail["omitted"] = json!(judged.selected - shown.len());
    }
    Value::Array(shown)
}

fn verdict(probe: &KubeProbe, what: &Selection, judged: &Judged, detail: Value) -> Outcome {
    let n = judged.selected;
    let resource = probe.resource.to_string();
    let bad = &judged.bad;
    let out = judged.out_of_line;
    if probe.expect.is_none() {
        return Outcome::pass(found(what, judged), detail);
    }
    if n == 0 {
        return Outcome::pass(format!("no {what}, as allowed"), detail);
    }
    let single = |c: &Checked| format!("{resource} {}", c.named_reason());
    match probe.quantifier {
        Quantifier::All if out == 0 => Outcome::pass(
            match judged.good.as_slice() {
                [one] if n == 1 => format!("{resource} {} satisfies expect", one.id()),
                _ => format!("all {n} {resource} satisfy expect"),
            },
            detail,
        ),
        Quantifier::All if n == 1 => Outcome::fail(single(&bad[0]), detail),
        Quantifier::All => Outcome::fail(
            format!("{out} of {n} {resource} fail: {}", name_some(bad, out)),
            detail,
        ),
        Quantifier::Any if out < n => Outcome::pass(
            format!("{} of {n} {resource} satisfy expect", n - out),
            detail,
        ),
        Quantifier::Any if n == 1 => Outcome::fail(single(&bad[0]), detail),
        Quantifier::Any => Outcome::fail(
            format!(
                "none of {n} {resource} satisfy expect: {}",
                name_some(bad, out)
            ),
            detail,
        ),
        Quantifier::None if out == 0 => {
            Outcome::pass(format!("none of {n} {resource} match expect"), detail)
        }
        Quantifier::None => Outcome::fail(
            format!(
                "{out} of {n} {resource} match expect, expected none: {}",
                name_ids(bad, out)
            ),
            detail,
        ),
    }
}

/// The failing objects grouped by reason, the most common first:
/// `spec.replicas is 1, wants >= 2 (cmp/jobs, cmp/web); … and 3 more`. A
/// Secret's keys come with its own reason. `bad` are the first `total`
/// objects out of line, explained.
fn name_some(bad: &[Checked], total: usize) -> String {
    let one_by_one = |bad: &[Checked]| -> String {
        let named: Vec<String> = bad
            .iter()
            .take(MAX_NAMED)
            .map(Checked::named_reason)
            .collect();
        named.join("; ") + &more(total)
    };
    if bad.iter().any(|c| c.keys.is_some()) {
        return one_by_one(bad);
    }
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for c in bad {
        let reason = c.reason.as_deref().unwrap_or_default();
        match groups.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, ids)) => ids.push(c.id()),
            None => groups.push((reason, vec![c.id()])),
        }
    }
    // One object per reason: "id: reason", as a reviewer scans a list.
    if groups.iter().all(|(_, ids)| ids.len() == 1) {
        return one_by_one(bad);
    }
    groups.sort_by_key(|(_, ids)| std::cmp::Reverse(ids.len()));
    let shown: Vec<String> = groups
        .iter()
        .take(MAX_NAMED)
        .map(|(reason, ids)| {
            let listed: Vec<&str> = ids.iter().take(MAX_NAMED).map(String::as_str).collect();
            let extra = if ids.len() > MAX_NAMED {
                format!(" and {} more", ids.len() - MAX_NAMED)
            } else {
                String::new()
            };
            format!("{reason} ({}{extra})", listed.join(", "))
        })
        .collect();
    let hidden = groups.len().saturating_sub(MAX_NAMED);
    let mut text = shown.join("; ");
    if hidden > 0 {
        text.push_str(&format!("; and {hidden} other reasons"));
    }
    // Past the first `MAX_LISTED`, objects out of line are counted, not
    // explained.
    let unexplained = total - bad.len();
    if unexplained > 0 {
        text.push_str(&format!("; and {unexplained} more"));
    }
    text
}

/// `cmp/jobs, cmp/web; and 3 more`.
fn name_ids(bad: &[Checked], total: usize) -> String {
    let named: Vec<String> = bad.iter().take(MAX_NAMED).map(Checked::id).collect();
    named.join(", ") + &more(total)
}

fn more(total: usize) -> String {
    if total > MAX_NAMED {
        format!("; and {} more", total - MAX_NAMED)
    } else {
        String::new()
    }
}

/// The pass summary of a probe without `expect`.
fn found(what: &Selection, judged: &Judged) -> String {
    match (judged.selected, judged.good.first()) {
        (0, _) => format!("no {what}, as allowed"),
        (1, Some(one)) => format!("{} {} exists", what.0.resource, one.id()),
        (many, _) => format!("{many} {what} found"),
    }
}

fn quantifier_name(q: Quantifier) -> &'static str {
    match q {
        Quantifier::All => "all",
        Quantifier::Any => "any",
        Quantifier::None => "none",
    }
}

/// What a probe selects, in words: `v1/Secret named cmp-registry-secret in
/// namespace cmp`, `apps/v1/Deployment in namespace monitoring matching
/// app=web`.
struct Selection<'a>(&'a KubeProbe);

impl std::fmt::Display for Selection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.0;
        write!(f, "{}", p.resource)?;
        if let Some(name) = &p.name {
            write!(f, " named {name}")?;
        }
        if let Some(ns) = &p.namespace {
            write!(f, " in namespace {ns}")?;
        }
        if !p.selector.is_empty() {
            write!(f, " matching {}", p.selector)?;
        }
        if !p.field_selector.is_empty() {
            write!(f, " with {}", p.field_selector)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::ResourceType;
    use crate::cluster::NoCluster;
    use crate::cluster::snapshot::{Snapshot, kube_prometheus};
    use std::sync::LazyLock;

    fn probe(resource: &str) -> KubeProbe {
        KubeProbe::of(ResourceType::parse(resource).expect("test resource types are valid"))
    }

    fn expecting(mut p: KubeProbe, source: &str) -> KubeProbe {
        p.expect = Some(cel::compile(source).expect("test expressions compile"));
        p
    }

    fn in_ns(mut p: KubeProbe, ns: &str) -> KubeProbe {
        p.namespace = Some(ns.into());
        p
    }

    fn named(mut p: KubeProbe, name: &str) -> KubeProbe {
        p.name = Some(name.into());
        p
    }

    const CMP: &str = "\
apiVersion: v1
kind: Secret
metadata: {name: cmp-registry-secret, namespace: cmp}
data:
  CMP_REGISTRY_DATABASE_URL: cG9zdGdyZXM6Ly9odW50ZXIy
  OIDC_AUDIENCE: Y21w
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: portal, namespace: cmp, labels: {app: portal}}
spec:
  replicas: 3
  template: {spec: {containers: [{name: web, image: portal:1.2}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: jobs, namespace: cmp, labels: {app: jobs}}
spec:
  replicas: 1
  template: {spec: {containers: [{name: worker, image: jobs:latest}]}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: registry, namespace: cmp, labels: {app: registry}}
spec:
  template: {spec: {containers: [{name: api, image: registry:2.0}]}}
";

    fn cmp() -> Snapshot {
        Snapshot::from_yaml("cmp.yaml", CMP).expect("test snapshot is valid YAML")
    }

    async fn check(p: &KubeProbe) -> Outcome {
        run(p, &cmp()).await
    }

    #[tokio::test]
    async fn secret_keys_pass_and_fail_without_values() {
        let p = named(in_ns(probe("v1/Secret"), "cmp"), "cmp-registry-secret");
        let ok = check(&expecting(
            p.clone(),
            "has(object.data.CMP_REGISTRY_DATABASE_URL)",
        ))
        .await;
        assert_eq!(ok.verdict, Verdict::Pass, "{}", ok.evidence.summary);
        assert_eq!(
            ok.evidence.summary,
            "v1/Secret cmp/cmp-registry-secret satisfies expect"
        );

        // Reading a key that is not there is the checklist's mistake: an
        // error naming the key, never its neighbours' values.
        let unguarded = check(&expecting(p.clone(), "object.data.OIDC_ISSUER != ''")).await;
        assert_eq!(unguarded.verdict, Verdict::Error);
        assert_eq!(
            unguarded.evidence.summary,
            "expect could not be evaluated on cmp/cmp-registry-secret: it reads \
             object.data.OIDC_ISSUER, which is not there (guard it with has())"
        );
        let missing = check(&expecting(p, "has(object.data.OIDC_ISSUER)")).await;
        assert_eq!(missing.verdict, Verdict::Fail);
        assert_eq!(
            missing.evidence.summary,
            "v1/Secret cmp/cmp-registry-secret: object.data has no key OIDC_ISSUER \
             (keys: CMP_REGISTRY_DATABASE_URL, OIDC_AUDIENCE)"
        );
        let entry = &missing.evidence.detail["objects"][0];
        assert_eq!(entry["ok"], json!(false));
        assert_eq!(
            entry["keys"],
            json!(["CMP_REGISTRY_DATABASE_URL", "OIDC_AUDIENCE"])
        );
        for out in [&missing, &unguarded] {
            let all = serde_json::to_string(out).expect("outcomes serialize");
            assert!(!all.contains("cG9zdGdyZXM6Ly9odW50ZXIy") && !all.contains("Y21w"));
        }
    }

    #[tokio::test]
    async fn a_secret_value_never_shows_in_an_expression_error() {
        let p = named(in_ns(probe("v1/Secret"), "cmp"), "cmp-registry-secret");
        let out = check(&expecting(p, "object.data.OIDC_AUDIENCE")).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert!(
            out.evidence.summary.contains("withheld"),
            "{}",
            out.evidence.summary
        );
        let all = serde_json::to_string(&out).expect("outcomes serialize");
        assert!(!all.contains("Y21w"), "{all}");
    }

    #[tokio::test]
    async fn nothing_selected_names_what_was_looked_for() {
        let p = named(in_ns(probe("v1/Secret"), "cmp"), "cmp-oidc");
        let out = check(&expecting(p, "true")).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "no v1/Secret named cmp-oidc in namespace cmp"
        );
        let mut p = in_ns(probe("apps/v1/Deployment"), "cmp");
        p.selector =
            crate::cluster::selector::parse_label_selector("app=billing").expect("valid selector");
        let out = check(&p).await;
        assert_eq!(
            out.evidence.summary,
            "no apps/v1/Deployment in namespace cmp matching app=billing"
        );
        p.min = 0;
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Pass);
    }

    #[tokio::test]
    async fn past_a_hundred_failing_objects_the_rest_are_counted_not_explained() {
        let yaml: String = (0..250)
            .map(|i| {
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i:03}, namespace: big}}\n\
                     data: {{mode: {}}}\n---\n",
                    if i % 2 == 0 { "debug" } else { "dev" }
                )
            })
            .collect();
        let snapshot = Snapshot::from_yaml("big.yaml", &yaml).expect("valid YAML");
        let p = expecting(probe("v1/ConfigMap"), "object.data.mode == 'on'");
        let out = run(&p, &snapshot).await;
        assert_eq!(out.verdict, Verdict::Fail);
        // Two reasons among the first hundred, fifty of each; 150 counted.
        assert_eq!(
            out.evidence.summary,
            "250 of 250 v1/ConfigMap fail: object.data.mode is \"debug\", wants == 'on' \
             (big/cm-000, big/cm-002, big/cm-004, big/cm-006, big/cm-008 and 45 more); \
             object.data.mode is \"dev\", wants == 'on' \
             (big/cm-001, big/cm-003, big/cm-005, big/cm-007, big/cm-009 and 45 more); and 150 more"
        );
        let listed = out.evidence.detail["objects"].as_array().expect("a list");
        assert_eq!(listed.len(), 100);
        assert!(listed.iter().all(|o| o["reason"].is_string()));
        assert_eq!(out.evidence.detail["omitted"], json!(150));
    }

    #[tokio::test]
    async fn all_names_each_failing_object_and_why() {
        let unguarded = expecting(
            in_ns(probe("apps/v1/Deployment"), "cmp"),
            "object.spec.replicas >= 2",
        );
        let out = check(&unguarded).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert!(
            out.evidence
                .summary
                .ends_with("cmp/registry: it reads object.spec.replicas, which is not there (guard it with has())"),
            "{}",
            out.evidence.summary
        );
        let p = expecting(
            in_ns(probe("apps/v1/Deployment"), "cmp"),
            "has(object.spec.replicas) && object.spec.replicas >= 2",
        );
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "2 of 3 apps/v1/Deployment fail: cmp/jobs: object.spec.replicas is 1, wants >= 2; \
             cmp/registry: object.spec has no field replicas"
        );
        let detail = &out.evidence.detail;
        assert_eq!(detail["selected"], json!(3));
        assert_eq!(detail["resource"], json!("apps/v1/Deployment"));
        assert_eq!(detail["source"], json!("snapshot cmp.yaml"));
        // Failing objects are listed first.
        let listed: Vec<(&str, bool)> = detail["objects"]
            .as_array()
            .expect("objects is a list")
            .iter()
            .map(|o| (o["name"].as_str().unwrap_or(""), o["ok"] == json!(true)))
            .collect();
        assert_eq!(
            listed,
            [("jobs", false), ("registry", false), ("portal", true)]
        );
        // Each where the snapshot read it: the jobs Deployment is the third
        // document, on the fifteenth line.
        let jobs = &detail["objects"][0];
        assert_eq!(jobs["file"], json!("cmp.yaml"));
        assert_eq!(jobs["line"], json!(15));

        let p = expecting(
            in_ns(probe("apps/v1/Deployment"), "cmp"),
            "has(object.spec.template)",
        );
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(
            out.evidence.summary,
            "all 3 apps/v1/Deployment satisfy expect"
        );
    }

    #[tokio::test]
    async fn any_and_none_quantifiers() {
        let latest = "object.spec.template.spec.containers.exists(c, c.image.endsWith(':latest'))";
        let mut p = expecting(probe("apps/v1/Deployment"), latest);
        p.quantifier = Quantifier::Any;
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(
            out.evidence.summary,
            "1 of 3 apps/v1/Deployment satisfy expect"
        );

        p.quantifier = Quantifier::None;
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "1 of 3 apps/v1/Deployment match expect, expected none: cmp/jobs"
        );

        let mut p = expecting(
            probe("apps/v1/Deployment"),
            "has(object.spec.replicas) && object.spec.replicas > 5",
        );
        p.quantifier = Quantifier::Any;
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(
            out.evidence.summary.starts_with(
                "none of 3 apps/v1/Deployment satisfy expect: cmp/portal: object.spec.replicas is 3, wants > 5"
            ),
            "{}",
            out.evidence.summary
        );
        // A missing field does not "match" for `none`.
        p.quantifier = Quantifier::None;
        assert_eq!(check(&p).await.verdict, Verdict::Pass);
    }

    #[tokio::test]
    async fn counts_are_checked_before_expect() {
        let mut p = probe("apps/v1/Deployment");
        p.min = 4;
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "3 apps/v1/Deployment, expected at least 4"
        );
        p.min = 1;
        p.max = Some(2);
        let out = check(&p).await;
        assert_eq!(
            out.evidence.summary,
            "3 apps/v1/Deployment, expected at most 2"
        );
        p.max = Some(3);
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(out.evidence.summary, "3 apps/v1/Deployment found");
    }

    #[tokio::test]
    async fn expect_sees_all_selected_objects() {
        let p = expecting(
            probe("apps/v1/Deployment"),
            "objects.size() == 3 && objects.exists(o, o.metadata.name == 'portal')",
        );
        assert_eq!(check(&p).await.verdict, Verdict::Pass);
        let p = expecting(
            probe("apps/v1/Deployment"),
            "objects.filter(o, o.metadata.name != object.metadata.name).size() == 3",
        );
        assert_eq!(check(&p).await.verdict, Verdict::Fail);
    }

    #[tokio::test]
    async fn a_type_error_is_an_error_naming_the_object() {
        let p = expecting(
            named(probe("apps/v1/Deployment"), "portal"),
            "object.spec.replicas + 'x'",
        );
        let out = check(&p).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert!(
            out.evidence
                .summary
                .starts_with("expect could not be evaluated on cmp/portal: "),
            "{}",
            out.evidence.summary
        );
    }

    #[tokio::test]
    async fn no_cluster_is_an_error() {
        let out = run(&probe("v1/Secret"), &NoCluster::UNCONFIGURED).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert!(out.evidence.summary.contains("no kube_context or snapshot"));
    }

    /// The kube-prometheus manifests, loaded once for all tests here.
    static KUBE_PROMETHEUS: LazyLock<Option<Snapshot>> = LazyLock::new(|| {
        let path = kube_prometheus()?;
        Some(Snapshot::load(&[path]).expect("the shared fixtures load"))
    });

    async fn on_fixtures(p: &KubeProbe) -> Option<Outcome> {
        match KUBE_PROMETHEUS.as_ref() {
            Some(snapshot) => Some(run(p, snapshot).await),
            None => {
                eprintln!("skipped: shared/fixtures/kube-prometheus not found");
                None
            }
        }
    }

    #[tokio::test]
    async fn kube_prometheus_deployments_have_limits_but_one_replica() {
        let limits = expecting(
            in_ns(probe("apps/v1/Deployment"), "monitoring"),
            "object.spec.template.spec.containers.all(c, has(c.resources.limits.memory))",
        );
        let Some(out) = on_fixtures(&limits).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);
        assert_eq!(
            out.evidence.summary,
            "all 5 apps/v1/Deployment satisfy expect"
        );

        let replicas = expecting(
            in_ns(probe("apps/v1/Deployment"), "monitoring"),
            "object.spec.replicas >= 2",
        );
        let Some(out) = on_fixtures(&replicas).await else {
            return;
        };
        assert_eq!(
            out.evidence.summary,
            "4 of 5 apps/v1/Deployment fail: object.spec.replicas is 1, wants >= 2 \
             (monitoring/blackbox-exporter, monitoring/grafana, monitoring/kube-state-metrics, \
             monitoring/prometheus-operator)"
        );
    }

    #[tokio::test]
    async fn kube_prometheus_pod_security_context_is_missing_on_three() {
        let p = expecting(
            probe("apps/v1/Deployment"),
            "has(object.spec.template.spec.securityContext) \
             && object.spec.template.spec.securityContext.runAsNonRoot",
        );
        let Some(out) = on_fixtures(&p).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "3 of 5 apps/v1/Deployment fail: \
             object.spec.template.spec has no field securityContext \
             (monitoring/blackbox-exporter, monitoring/kube-state-metrics, monitoring/prometheus-adapter)"
        );
    }

    #[tokio::test]
    async fn kube_prometheus_has_rules_and_network_policies() {
        let mut rules = in_ns(
            probe("monitoring.coreos.com/v1/PrometheusRule"),
            "monitoring",
        );
        let Some(out) = on_fixtures(&rules).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(
            out.evidence.summary,
            "8 monitoring.coreos.com/v1/PrometheusRule in namespace monitoring found"
        );
        rules.max = Some(7);
        let Some(out) = on_fixtures(&rules).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Fail);

        for app in [
            "grafana",
            "prometheus-k8s",
            "alertmanager-main",
            "node-exporter",
        ] {
            let p = named(
                in_ns(probe("networking.k8s.io/v1/NetworkPolicy"), "monitoring"),
                app,
            );
            let Some(out) = on_fixtures(&p).await else {
                return;
            };
            assert_eq!(
                out.verdict,
                Verdict::Pass,
                "{app}: {}",
                out.evidence.summary
            );
        }
        let p = named(
            in_ns(probe("networking.k8s.io/v1/NetworkPolicy"), "monitoring"),
            "pushgateway",
        );
        let Some(out) = on_fixtures(&p).await else {
            return;
        };
        assert_eq!(
            out.evidence.summary,
            "no networking.k8s.io/v1/NetworkPolicy named pushgateway in namespace monitoring"
        );

        // Every policy selects pods of its own app by label.
        let mut p = expecting(
            probe("networking.k8s.io/v1/NetworkPolicy"),
            "object.spec.podSelector.matchLabels['app.kubernetes.io/name'] == object.metadata.labels['app.kubernetes.io/name']",
        );
        p.selector = crate::cluster::selector::parse_label_selector(
            "app.kubernetes.io/part-of=kube-prometheus",
        )
        .expect("valid selector");
        let Some(out) = on_fixtures(&p).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);
        assert_eq!(out.evidence.detail["selected"], json!(8));
    }

    #[tokio::test]
    async fn kube_prometheus_secret_names_keys_only() {
        let p = expecting(
            named(probe("v1/Secret"), "grafana-config"),
            "has(object.data) && has(object.data.admin_password)",
        );
        let Some(out) = on_fixtures(&p).await else {
            return;
        };
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(
            out.evidence.summary.ends_with("(keys: grafana.ini)"),
            "{}",
            out.evidence.summary
        );
        let all = serde_json::to_string(&out).expect("outcomes serialize");
        assert!(
            !all.contains("[date_formats]") && !all.contains("default_timezone"),
            "{all}"
        );
    }

    #[tokio::test]
    async fn a_hundred_probes_over_kube_prometheus() {
        let Some(snapshot) = KUBE_PROMETHEUS.as_ref() else {
            return;
        };
        let kinds = [
            "apps/v1/Deployment",
            "v1/Service",
            "v1/ServiceAccount",
            "networking.k8s.io/v1/NetworkPolicy",
            "monitoring.coreos.com/v1/ServiceMonitor",
        ];
        let started = std::time::Instant::now();
        let mut passed = 0;
        for i in 0..100 {
            let p = expecting(
                in_ns(probe(kinds[i % kinds.len()]), "monitoring"),
                "object.metadata.labels['app.kubernetes.io/part-of'] == 'kube-prometheus'",
            );
            if run(&p, snapshot).await.verdict == Verdict::Pass {
                passed += 1;
            }
        }
        println!(
            "100 kube probes over kube-prometheus in {:?}",
            started.elapsed()
        );
        assert_eq!(passed, 100);
    }
}
