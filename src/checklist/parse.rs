//! Reading a checklist file into the model, with every position kept so that
//! errors point at the offending text.

use serde::Deserialize;
use toml::Spanned;

/// A probe table as written: every field any kind accepts, each optional and
/// spanned. `resolve` checks which fields the kind allows.
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Probe")]
pub struct RawProbe {
    #[schemars(with = "Option<String>")]
    pub kind: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub every: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub timeout: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub expect: Option<Spanned<String>>,
    // kube
    #[schemars(with = "Option<String>")]
    pub resource: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub namespace: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub name: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub selector: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub field_selector: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub quantifier: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub min: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub max: Option<Spanned<toml::Value>>,
    // http
    #[schemars(with = "Option<String>")]
    pub url: Option<Spanned<String>>,
    #[schemars(with = "Option<String>")]
    pub method: Option<Spanned<String>>,
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub headers: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    #[schemars(with = "Option<String>")]
    pub body: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub status: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub samples: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<bool>")]
    pub follow_redirects: Option<Spanned<bool>>,
    #[schemars(with = "Option<bool>")]
    pub insecure: Option<Spanned<bool>>,
    #[schemars(with = "Option<String>")]
    pub ca_file: Option<Spanned<String>>,
    // tls
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub port: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub server_name: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub min_days: Option<Spanned<toml::Value>>,
    // file
    #[schemars(with = "Option<String>")]
    pub root: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub glob: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub exclude: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<String>")]
    pub pattern: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub matches: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub min_matches: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub max_matches: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub min_files: Option<Spanned<toml::Value>>,
    #[schemars(with = "Option<String>")]
    pub skip_comments: Option<Spanned<String>>,
    // promql
    #[schemars(with = "Option<String>")]
    pub query: Option<Spanned<String>>,
    // command
    #[schemars(with = "Option<Vec<String>>")]
    pub argv: Option<Spanned<Vec<Spanned<String>>>>,
    #[schemars(with = "Option<String>")]
    pub cwd: Option<Spanned<String>>,
    #[schemars(with = "Option<serde_json::Value>")]
    pub exit: Option<Spanned<toml::Value>>,
}

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

use crate::checklist::model::{Checklist, Item, ProbeKind, ProbeTemplate, Section, Severity};
use crate::diag::{Diagnostics, Source};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Checklist")]
struct RawChecklist {
    #[schemars(with = "String")]
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, serde_json::Value>")]
    vars: BTreeMap<String, Spanned<toml::Value>>,
    signoff: Option<RawSignoff>,
    #[serde(default)]
    sections: Vec<RawSection>,
}

/// `signoff = { roles = [...] }`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Signoff")]
struct RawSignoff {
    #[schemars(with = "Vec<String>")]
    roles: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Section")]
struct RawSection {
    #[schemars(with = "String")]
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    items: Vec<RawItem>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Item")]
struct RawItem {
    #[schemars(with = "String")]
    id: Spanned<String>,
    title: String,
    #[schemars(with = "Option<String>")]
    severity: Option<Spanned<String>>,
    #[serde(default)]
    help: String,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    links: Vec<Spanned<String>>,
    #[schemars(with = "Option<Vec<String>>")]
    envs: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    depends_on: Vec<Spanned<String>>,
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    evidence: Option<Spanned<bool>>,
    probe: Option<RawProbe>,
}

/// The JSON Schema of a checklist file as the loader reads it, before
/// `crate::schema` adds what the types alone do not say.
pub fn raw_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    generator.into_root_schema_for::<RawChecklist>().to_value()
}

/// The fields a probe of `kind` takes besides `kind`, `every`, `timeout`
/// and `expect`, and those it needs: for the schema, from the same tables
/// the loader checks.
pub fn probe_fields(kind: ProbeKind) -> (&'static [&'static str], &'static [&'static str]) {
    (allowed_fields(kind), required_fields(kind))
}

pub const PROBE_COMMON_FIELDS: &[&str] = COMMON_FIELDS;

/// Ids of checklists, sections and items: lowercase letters, digits, dashes.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !id.starts_with('-')
}

/// Parses and checks one checklist file. Every problem found is returned,
/// not just the first. Per-environment checks (vars, CEL, regexes) happen in
/// `resolve`.
pub fn parse(source: Source, builtin: bool) -> Result<Checklist, Diagnostics> {
    match parse_lenient(source, builtin) {
        (Some(c), errors) if errors.is_empty() => Ok(c),
        (_, errors) => Err(errors),
    }
}

/// Like `parse`, but also returns what could be built despite errors, so
/// `validate` can go on to check it per environment and report everything.
/// The checklist is `None` only when the file is not valid TOML of the right
/// shape.
pub fn parse_lenient(source: Source, builtin: bool) -> (Option<Checklist>, Diagnostics) {
    let raw: RawChecklist = match toml::from_str(&source.text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let message = crate::diag::explain_unknown(&e.message().trim_end().replace('\n', "; "));
            return (None, Diagnostics(vec![source.error(span, message)]));
        }
    };
    let mut errors = Diagnostics::default();
    let checklist = build(&source, raw, builtin, &mut errors);
    (Some(checklist), errors)
}

fn build(source: &Source, raw: RawChecklist, builtin: bool, errors: &mut Diagnostics) -> Checklist {
    check_id(source, &raw.id, "checklist", errors);
    let mut vars = BTreeMap::new();
    for (name, value) in raw.vars {
        match scalar_to_string(value.get_ref()) {
            Some(s) => {
                vars.insert(name, s);
            }
            None => errors.push(source.error(
                value.span(),
                format!("var `{name}` must be a string, number or boolean"),
            )),
        }
    }

    let mut signoff_roles: Vec<String> = Vec::new();
    let mut signoff_spans = Vec::new();
    for role in raw.signoff.map(|s| s.roles).unwrap_or_default() {
        if !valid_id(role.get_ref()) {
            errors.push(source.error(
                role.span(),
                format!(
                    "bad role name `{}`: use lowercase letters, digits and dashes",
                    role.get_ref()
                ),
            ));
        } else if signoff_roles.contains(role.get_ref()) {
            errors.push(source.error(
                role.span(),
                format!("role `{}` is required twice", role.get_ref()),
            ));
        } else {
            signoff_spans.push(role.span());
            signoff_roles.push(role.into_inner());
        }
    }

    let mut section_ids: HashSet<String> = HashSet::new();
    let mut item_spans: HashMap<String, Range<usize>> = HashMap::new();
    let mut sections = Vec::new();
    let mut deps = Vec::new();
    for raw_section in raw.sections {
        check_id(source, &raw_section.id, "section", errors);
        if !section_ids.insert(raw_section.id.get_ref().clone()) {
            errors.push(source.error(
                raw_section.id.span(),
                format!("duplicate section id `{}`", raw_section.id.get_ref()),
            ));
        }
        let mut items = Vec::new();
        for raw_item in raw_section.items {
            deps.push((raw_item.id.get_ref().clone(), raw_item.depends_on.clone()));
            check_id(source, &raw_item.id, "item", errors);
            let id = raw_item.id.get_ref().clone();
            if let std::collections::hash_map::Entry::Vacant(slot) = item_spans.entry(id.clone()) {
                slot.insert(raw_item.id.span());
            } else {
                errors.push(source.error(raw_item.id.span(), format!("duplicate item id `{id}`")));
            }
            items.push(build_item(source, raw_item, errors));
        }
        sections.push(Section {
            id: raw_section.id.into_inner(),
            title: raw_section.title,
            items,
        });
    }

    let checklist = Checklist {
        id: raw.id.into_inner(),
        title: raw.title,
        version: raw.version,
        description: raw.description,
        vars,
        sections,
        signoff_roles,
        signoff_spans,
        source: source.clone(),
        builtin,
    };
    check_dependencies(source, &deps, errors);
    checklist
}

fn build_item(source: &Source, raw: RawItem, errors: &mut Diagnostics) -> Item {
    let severity = match &raw.severity {
        None => Severity::Medium,
        Some(s) => Severity::parse(s.get_ref()).unwrap_or_else(|| {
            errors.push(source.error(
                s.span(),
                format!(
                    "unknown severity `{}`: expected blocker, high, medium or low{}",
                    s.get_ref(),
                    crate::diag::did_you_mean(s.get_ref(), ["blocker", "high", "medium", "low"])
                ),
            ));
            Severity::Medium
        }),
    };
    for link in &raw.links {
        if url_problem(link.get_ref()).is_some() {
            errors.push(source.error(
                link.span(),
                format!("`{}` is not an http(s) URL", link.get_ref()),
            ));
        }
    }
    if let Some(envs) = &raw.envs {
        for env in envs {
            if env.get_ref().trim().is_empty() {
                errors.push(source.error(env.span(), "environment names cannot be empty"));
            }
        }
    }
    let probe = raw.probe.and_then(|p| build_probe(source, p, errors));
    if let (Some(evidence), Some(_)) = (&raw.evidence, &probe)
        && *evidence.get_ref()
    {
        errors.push(source.error(
            evidence.span(),
            "`evidence` applies to manual items only; this item has a probe",
        ));
    }
    let line = u32::try_from(source.line_col(raw.id.span().start).0).ok();
    Item {
        line,
        id: raw.id.into_inner(),
        title: raw.title,
        severity,
        help: raw.help,
        links: raw.links.into_iter().map(Spanned::into_inner).collect(),
        envs: raw
            .envs
            .map(|e| e.into_iter().map(Spanned::into_inner).collect()),
        depends_on: raw
            .depends_on
            .into_iter()
            .map(Spanned::into_inner)
            .collect(),
        evidence: raw.evidence.is_some_and(|e| e.into_inner()),
        probe,
    }
}

fn build_probe(source: &Source, raw: RawProbe, errors: &mut Diagnostics) -> Option<ProbeTemplate> {
    let Some(kind_field) = &raw.kind else {
        // The probe table has no span of its own; point at its first field.
        let at = raw.first_span().unwrap_or(0..0);
        errors.push(source.error(
            at,
            "probe has no `kind`: expected kube, http, tls, file, promql or command",
        ));
        return None;
    };
    let Some(kind) = ProbeKind::parse(kind_field.get_ref()) else {
        errors.push(source.error(
            kind_field.span(),
            format!(
                "unknown probe kind `{}`: expected kube, http, tls, file, promql or command{}",
                kind_field.get_ref(),
                crate::diag::did_you_mean(
                    kind_field.get_ref(),
                    ProbeKind::ALL.iter().map(|k| k.as_str())
                )
            ),
        ));
        return None;
    };
    let before = errors.0.len();
    for (field, span) in raw.present_fields() {
        if !allowed_fields(kind).contains(&field) && !COMMON_FIELDS.contains(&field) {
            errors.push(source.error(span, format!("`{field}` is not a field of {kind} probes")));
        }
    }
    for field in required_fields(kind) {
        if !raw.present_fields().iter().any(|(f, _)| f == field) {
            let at = kind_field.span();
            errors.push(source.error(at, format!("{kind} probes need `{field}`")));
        }
    }
    for (field, value) in [("every", &raw.every), ("timeout", &raw.timeout)] {
        if let Some(v) = value
            && let Err(e) = parse_duration(v.get_ref())
        {
            errors.push(source.error(v.span(), format!("bad `{field}`: {e}")));
        }
    }
    if errors.0.len() > before {
        return None;
    }
    Some(ProbeTemplate { kind, raw })
}

const COMMON_FIELDS: &[&str] = &["kind", "every", "timeout", "expect"];

fn allowed_fields(kind: ProbeKind) -> &'static [&'static str] {
    match kind {
        ProbeKind::Kube => &[
            "resource",
            "namespace",
            "name",
            "selector",
            "field_selector",
            "quantifier",
            "min",
            "max",
        ],
        ProbeKind::Http => &[
            "url",
            "method",
            "headers",
            "body",
            "status",
            "samples",
            "follow_redirects",
            "insecure",
            "ca_file",
        ],
        ProbeKind::Tls => &["host", "port", "server_name", "ca_file", "min_days"],
        ProbeKind::File => &[
            "root",
            "glob",
            "exclude",
            "pattern",
            "matches",
            "min_matches",
            "max_matches",
            "min_files",
            "skip_comments",
        ],
        ProbeKind::Promql => &["url", "query"],
        ProbeKind::Command => &["argv", "cwd", "exit"],
    }
}

fn required_fields(kind: ProbeKind) -> &'static [&'static str] {
    match kind {
        ProbeKind::Kube => &["resource"],
        ProbeKind::Http => &["url"],
        ProbeKind::Tls => &["host"],
        ProbeKind::File => &["glob"],
        ProbeKind::Promql => &["url", "query"],
        ProbeKind::Command => &["argv"],
    }
}

impl RawProbe {
    /// The fields that were written, with where.
    pub fn present_fields(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut out = Vec::new();
        macro_rules! field {
            ($($name:ident),*) => {
                $( if let Some(v) = &self.$name { out.push((stringify!($name), v.span())); } )*
            };
        }
        field!(
            kind,
            every,
            timeout,
            expect,
            resource,
            namespace,
            name,
            selector,
            field_selector,
            quantifier,
            min,
            max,
            url,
            method,
            headers,
            body,
            status,
            samples,
            follow_redirects,
            insecure,
            ca_file,
            host,
            port,
            server_name,
            min_days,
            root,
            glob,
            exclude,
            pattern,
            matches,
            min_matches,
            max_matches,
            min_files,
            skip_comments,
            query,
            argv,
            cwd,
            exit
        );
        out
    }

    fn first_span(&self) -> Option<Range<usize>> {
        self.present_fields()
            .into_iter()
            .map(|(_, s)| s)
            .min_by_key(|s| s.start)
    }
}

fn check_id(source: &Source, id: &Spanned<String>, what: &str, errors: &mut Diagnostics) {
    if !valid_id(id.get_ref()) {
        errors.push(source.error(
            id.span(),
            format!(
                "bad {what} id `{}`: use lowercase letters, digits and dashes",
                id.get_ref()
            ),
        ));
    }
}

/// Unknown `depends_on` targets and cycles, pointing at the offending entry.
fn check_dependencies(
    source: &Source,
    deps: &[(String, Vec<Spanned<String>>)],
    errors: &mut Diagnostics,
) {
    let ids: HashSet<&str> = deps.iter().map(|(id, _)| id.as_str()).collect();
    for (item, item_deps) in deps {
        for dep in item_deps {
            if dep.get_ref() == item {
                errors.push(source.error(dep.span(), format!("item `{item}` depends on itself")));
            } else if !ids.contains(dep.get_ref().as_str()) {
                errors.push(source.error(
                    dep.span(),
                    format!(
                        "item `{item}` depends on unknown item `{}`{}",
                        dep.get_ref(),
                        crate::diag::did_you_mean(dep.get_ref(), ids.iter().copied())
                    ),
                ));
            }
        }
    }
    let mut graph: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, d) in deps {
        // A duplicate id is reported elsewhere; its first definition wins.
        graph
            .entry(id.as_str())
            .or_insert_with(|| d.iter().map(|s| s.get_ref().as_str()).collect());
    }
    if let Some(cycle) = find_cycle(deps.iter().map(|(id, _)| id.as_str()), &graph) {
        let (first, second) = (cycle[0], cycle[1 % cycle.len()]);
        let span = deps
            .iter()
            .find(|(id, _)| id == first)
            .and_then(|(_, d)| d.iter().find(|s| s.get_ref() == second))
            .map_or(0..0, |s| s.span());
        let mut shown: Vec<&str> = cycle.clone();
        shown.push(first);
        errors.push(source.error(
            span,
            format!("depends_on forms a cycle: {}", shown.join(" -> ")),
        ));
    }
}

/// A cycle of two or more items in the dependency graph, in order.
fn find_cycle<'a>(
    order: impl Iterator<Item = &'a str>,
    graph: &HashMap<&'a str, Vec<&'a str>>,
) -> Option<Vec<&'a str>> {
    #[derive(PartialEq)]
    enum Mark {
        OnStack,
        Done,
    }
    fn visit<'a>(
        id: &'a str,
        graph: &HashMap<&'a str, Vec<&'a str>>,
        marks: &mut HashMap<&'a str, Mark>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<&'a str>> {
        match marks.get(id) {
            Some(Mark::Done) => return None,
            Some(Mark::OnStack) => {
                let start = stack.iter().position(|s| *s == id)?;
                return Some(stack[start..].to_vec());
            }
            None => {}
        }
        marks.insert(id, Mark::OnStack);
        stack.push(id);
        for dep in graph.get(id).map_or(&[][..], Vec::as_slice) {
            if *dep != id
                && graph.contains_key(dep)
                && let Some(cycle) = visit(dep, graph, marks, stack)
            {
                return Some(cycle);
            }
        }
        stack.pop();
        marks.insert(id, Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for id in order {
        if let Some(cycle) = visit(id, graph, &mut marks, &mut Vec::new()) {
            return Some(cycle);
        }
    }
    None
}

pub fn scalar_to_string(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::String(s) => Some(s.clone()),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Why `s` is not an http(s) URL, if it is not one.
pub fn url_problem(s: &str) -> Option<String> {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("a URL must start with http:// or https://".into());
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() {
        return Some("the URL has no host".into());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some("the URL contains spaces".into());
    }
    if let Some((_, port)) = host.rsplit_once(':')
        && !host.ends_with(']')
        && port.parse::<u16>().is_err()
    {
        return Some(format!("bad port `{port}`"));
    }
    None
}

/// Durations as written in checklists and config: `30s`, `5m`, `1h`,
/// `250ms`, `1m30s`, `2d`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total = std::time::Duration::ZERO;
    let mut rest = s;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(format!(
                "`{s}` is not a duration: write a number and a unit, like 30s, 5m or 1h"
            ));
        }
        let n: u64 = rest[..digits]
            .parse()
            .map_err(|_| format!("`{s}`: number too large"))?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.contains(char::is_whitespace) {
            return Err(format!(
                "`{s}` is not a duration: write a number and a unit with no space, like 30s, 5m or 1h"
            ));
        }
        rest = &rest[unit_len..];
        let d = match unit {
            "ms" => std::time::Duration::from_millis(n),
            "s" => std::time::Duration::from_secs(n),
            "m" => std::time::Duration::from_secs(n * 60),
            "h" => std::time::Duration::from_secs(n * 3600),
            "d" => std::time::Duration::from_secs(n * 86400),
            "" => return Err(format!("`{s}` has no unit: write 30s, 5m, 1h or 250ms")),
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{s}`: use ms, s, m, h or d"
                ));
            }
        };
        total += d;
    }
    if total.is_zero() {
        return Err("a duration must be more than zero".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30s"),
            Ok(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("1m30s"),
            Ok(std::time::Duration::from_secs(90))
        );
        assert_eq!(
            parse_duration("250ms"),
            Ok(std::time::Duration::from_millis(250))
        );
        assert!(parse_duration("30").unwrap_err().contains("no unit"));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("0s").is_err());
    }

    #[test]
    fn urls() {
        assert_eq!(url_problem("https://example.com/x"), None);
        assert_eq!(url_problem("http://127.0.0.1:8080"), None);
        assert!(url_problem("example.com").is_some());
        assert!(url_problem("https://").is_some());
        assert!(url_problem("https://host:99999/").is_some());
    }
}
