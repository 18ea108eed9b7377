//! The names an `expect` may use, checked at load: the variables its probe
//! kind binds, the fields of the ones whose shape gonogo fixes (`response`,
//! `tls`), and the functions the CEL environment has. A typo is a load
//! error at the name, with the closest valid one, instead of a failing item.
//! Also the fields an expression reads (`paths_read`), which the dashboard
//! marks in an object's YAML.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{Expr, IdedExpr};
use cel::{Context, ExecutionError};

use super::cel::{ENV, Path, Step, entry_values, path_of};
use crate::checklist::model::Expect;

/// What an expression may read: a variable, or a field of one whose shape
/// gonogo fixes (a `response`, a `tls`); the rest (a Kubernetes object, a
/// JSON body, a Prometheus result) is any JSON.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    Any,
    Fields(&'static [(&'static str, Shape)]),
}

const TLS_FIELDS: &[(&str, Shape)] = &[
    ("version", Shape::Any),
    ("subject", Shape::Any),
    ("issuer", Shape::Any),
    ("not_before", Shape::Any),
    ("not_after", Shape::Any),
    ("days_left", Shape::Any),
    ("sans", Shape::Any),
    ("hostname_matches", Shape::Any),
    ("chain_verified", Shape::Any),
    ("chain_error", Shape::Any),
];

const RESPONSE_FIELDS: &[(&str, Shape)] = &[
    ("status", Shape::Any),
    ("headers", Shape::Any),
    ("body", Shape::Any),
    ("json", Shape::Any),
    ("latency_ms", Shape::Any),
    ("p50_ms", Shape::Any),
    ("p95_ms", Shape::Any),
    ("p99_ms", Shape::Any),
    ("error_rate", Shape::Any),
    ("tls", Shape::Fields(TLS_FIELDS)),
];

/// The variables each probe kind binds for its `expect` (DESIGN section 2).
pub fn variables(kind: crate::checklist::model::ProbeKind) -> &'static [(&'static str, Shape)] {
    use crate::checklist::model::ProbeKind as K;
    match kind {
        K::Kube => &[("object", Shape::Any), ("objects", Shape::Any)],
        K::Http => &[("response", Shape::Fields(RESPONSE_FIELDS))],
        K::Tls => &[("tls", Shape::Fields(TLS_FIELDS))],
        K::File => &[
            ("files", Shape::Any),
            ("matches", Shape::Any),
            ("lines", Shape::Any),
        ],
        K::Promql => &[("value", Shape::Any), ("result", Shape::Any)],
        K::Command => &[
            ("exit", Shape::Any),
            ("stdout", Shape::Any),
            ("stderr", Shape::Any),
        ],
    }
}

/// Names that are types, usable as values (`type(x) == string`).
const TYPE_NAMES: &[&str] = &[
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "list",
    "map",
    "null_type",
    "type",
    "dyn",
];

/// Functions worth suggesting for a misspelt one; only those the
/// environment really has are offered.
const FUNCTION_NAMES: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "max",
    "min",
    "lowerAscii",
    "upperAscii",
    "trim",
    "split",
    "join",
    "replace",
    "substring",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "format",
    "quote",
    "reverse",
    "distinct",
    "flatten",
    "sort",
    "slice",
    "quantity",
    "isQuantity",
    "isLessThan",
    "isGreaterThan",
    "compareTo",
    "asInteger",
    "asApproximateFloat",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "exists",
    "all",
    "has",
    "map",
    "filter",
    "exists_one",
];

/// Whether the environment has a function of this name, global or member:
/// calling it with no argument fails with "no such overload" when it does,
/// "undeclared reference" when it does not.
fn function_exists(name: &str) -> bool {
    static KNOWN: LazyLock<std::sync::Mutex<HashMap<String, bool>>> =
        LazyLock::new(Default::default);
    let mut known = KNOWN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = known.get(name) {
        return *found;
    }
    let context = Context::with_env(Arc::clone(&ENV));
    let answers = |source: String| match ENV.compile(&source) {
        Ok(program) => !matches!(
            program.execute(&context),
            Err(ExecutionError::UndeclaredReference(n)) if n.as_str() == name
        ),
        Err(_) => false,
    };
    let found = answers(format!("{name}()")) || answers(format!("0.{name}()"));
    known.insert(name.to_string(), found);
    found
}

/// A name an expression uses that nothing provides, found at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameError {
    /// Where the name starts in the expression, and its length, in bytes.
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// Checks the names `expect` uses against what its probe kind binds: every
/// variable, every field of a fixed-shape variable (`response.p95_ms`,
/// `tls.days_left`) and every function must exist. Reports the first one
/// that does not, with the closest that does.
pub fn check_names(
    expect: &Expect,
    vars: &'static [(&'static str, Shape)],
) -> Result<(), NameError> {
    let program = &expect.program;
    let source = expect.source.as_str();
    let mut found: Option<NameError> = None;
    let scope: Vec<String> = Vec::new();
    // `lists.range(n)`: a namespace, not a variable, when the qualified
    // function exists.
    let mut namespaces: Vec<u64> = Vec::new();
    walk_names(program.expression(), &scope, &mut |node, scope| {
        if let Expr::Call(call) = &node.expr
            && let Some(target) = &call.target
            && let Expr::Ident(ns) = &target.expr
            && !scope.iter().any(|s| s == ns)
            && !vars.iter().any(|(v, _)| v == ns)
            && function_exists(&format!("{ns}.{}", call.func_name))
        {
            namespaces.push(target.id);
        }
    });
    walk_names(program.expression(), &scope, &mut |node, scope| {
        if found.is_some() {
            return;
        }
        let at = program
            .source_info()
            .offset_for(node.id)
            .map_or(0, |(start, _)| start as usize);
        match &node.expr {
            Expr::Ident(name) => {
                if name.starts_with('@')
                    || namespaces.contains(&node.id)
                    || scope.iter().any(|s| s == name)
                    || vars.iter().any(|(v, _)| v == name)
                    || TYPE_NAMES.contains(&name.as_str())
                {
                    return;
                }
                let names: Vec<&str> = vars
                    .iter()
                    .map(|(v, _)| *v)
                    .chain(scope.iter().map(String::as_str))
                    .collect();
                found = Some(NameError {
                    offset: at,
                    len: name.len(),
                    message: format!(
                        "unknown name `{name}`: this probe's expect sees {}{}",
                        names
                            .iter()
                            .filter(|n| !scope.iter().any(|s| s == *n))
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        crate::diag::did_you_mean(name, names.iter().copied()),
                    ),
                });
            }
            Expr::Select(select) => {
                let Some(Shape::Fields(fields)) = shape_of(&select.operand, vars, scope) else {
                    return;
                };
                if fields.iter().any(|(f, _)| *f == select.field) {
                    return;
                }
                // The field's name follows the dot the offset points at.
                let start = source[at.min(source.len())..]
                    .find(select.field.as_str())
                    .map_or(at, |i| at + i);
                found = Some(NameError {
                    offset: start,
                    len: select.field.len(),
                    message: format!(
                        "`{}` has no field `{}`{} (it has {})",
                        path_text(&select.operand),
                        select.field,
                        crate::diag::did_you_mean(&select.field, fields.iter().map(|(f, _)| *f)),
                        fields
                            .iter()
                            .map(|(f, _)| *f)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            Expr::Call(call) => {
                let name = call.func_name.as_str();
                let qualified = match call.target.as_deref().map(|t| &t.expr) {
                    Some(Expr::Ident(ns)) => function_exists(&format!("{ns}.{name}")),
                    _ => false,
                };
                if name.starts_with('_')
                    || name.starts_with('@')
                    || qualified
                    || function_exists(name)
                {
                    return;
                }
                // The offset is the opening parenthesis; the name ends there.
                let end = at.min(source.len());
                let start = source[..end].trim_end().len().saturating_sub(name.len());
                let known: Vec<&str> = FUNCTION_NAMES
                    .iter()
                    .copied()
                    .filter(|f| function_exists(f))
                    .collect();
                found = Some(NameError {
                    offset: start,
                    len: name.len(),
                    message: format!(
                        "no function `{name}`{}",
                        crate::diag::did_you_mean(name, known.iter().copied())
                    ),
                });
            }
            _ => {}
        }
    });
    match found {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// The fields of `var` that `expect` reads, as paths from it: each chain
/// of field selections and literal indexes, a `has()` test and a literal
/// key looked up with `in`, through `all`/`exists` (an `Each` step for the
/// element). Only the deepest are kept: `object.spec.replicas`, not also
/// `object.spec`.
pub fn paths_read(expect: &Expect, var: &str) -> Vec<Path> {
    let mut found = Vec::new();
    collect_paths(expect.program.expression(), &HashMap::new(), &mut found);
    found.retain(|p| p.root == var);
    let deepest: Vec<Path> = found
        .iter()
        .filter(|p| {
            !found
                .iter()
                .any(|q| q.steps.len() > p.steps.len() && p.covers(q))
        })
        .cloned()
        .collect();
    let mut out: Vec<Path> = Vec::new();
    for path in deepest {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

fn collect_paths(expr: &IdedExpr, scope: &HashMap<String, Path>, out: &mut Vec<Path>) {
    let with = |base: Option<Path>, field: &str| {
        base.map(|mut p| {
            p.steps.push(Step::Field(field.to_string()));
            p
        })
    };
    match &expr.expr {
        Expr::Select(select) => {
            let path = if select.test {
                with(path_of(&select.operand, scope), &select.field)
            } else {
                path_of(expr, scope)
            };
            out.extend(path);
            collect_paths(&select.operand, scope, out);
        }
        Expr::Ident(_) => out.extend(path_of(expr, scope)),
        Expr::Call(call) => {
            let args = call.args.as_slice();
            match (call.func_name.as_str(), args) {
                (cel::common::ast::operators::INDEX, _) => out.extend(path_of(expr, scope)),
                (cel::common::ast::operators::IN, [key, map]) => {
                    if let Expr::Literal(cel::common::ast::LiteralValue::String(k)) = &key.expr {
                        out.extend(with(path_of(map, scope), k.inner()));
                    }
                }
                _ => {}
            }
            if let Some(target) = &call.target {
                collect_paths(target, scope, out);
            }
            args.iter().for_each(|a| collect_paths(a, scope, out));
        }
        Expr::Comprehension(c) => {
            collect_paths(&c.iter_range, scope, out);
            let mut inner = scope.clone();
            match path_of(&c.iter_range, scope) {
                Some(mut range) => {
                    range.steps.push(Step::Each);
                    inner.insert(c.iter_var.clone(), range);
                }
                None => {
                    inner.remove(&c.iter_var);
                }
            }
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                collect_paths(part, &inner, out);
            }
        }
        Expr::List(list) => list
            .elements
            .iter()
            .for_each(|e| collect_paths(e, scope, out)),
        Expr::Map(_) | Expr::Struct(_) => entry_values(expr)
            .into_iter()
            .for_each(|e| collect_paths(e, scope, out)),
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Visits every node with the comprehension variables in scope there.
fn walk_names(expr: &IdedExpr, scope: &[String], f: &mut dyn FnMut(&IdedExpr, &[String])) {
    f(expr, scope);
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                walk_names(target, scope, f);
            }
            call.args.iter().for_each(|a| walk_names(a, scope, f));
        }
        Expr::Comprehension(c) => {
            walk_names(&c.iter_range, scope, f);
            let mut inner = scope.to_vec();
            inner.push(c.iter_var.clone());
            inner.push(c.accu_var.clone());
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                walk_names(part, &inner, f);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| walk_names(e, scope, f)),
        Expr::Map(_) | Expr::Struct(_) => entry_values(expr)
            .into_iter()
            .for_each(|e| walk_names(e, scope, f)),
        Expr::Select(select) => walk_names(&select.operand, scope, f),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The shape of `expr` when it is a path into a bound variable whose shape
/// gonogo fixes; `None` when it is anything else.
fn shape_of(
    expr: &IdedExpr,
    vars: &'static [(&'static str, Shape)],
    scope: &[String],
) -> Option<Shape> {
    match &expr.expr {
        Expr::Ident(name) if !scope.iter().any(|s| s == name) => {
            vars.iter().find(|(v, _)| v == name).map(|(_, s)| *s)
        }
        Expr::Select(select) => match shape_of(&select.operand, vars, scope)? {
            Shape::Fields(fields) => fields
                .iter()
                .find(|(f, _)| *f == select.field)
                .map(|(_, s)| *s),
            Shape::Any => Some(Shape::Any),
        },
        _ => None,
    }
}

/// `response.tls`, as written, for messages.
fn path_text(expr: &IdedExpr) -> String {
    match &expr.expr {
        Expr::Ident(name) => name.clone(),
        Expr::Select(select) => format!("{}.{}", path_text(&select.operand), select.field),
        _ => "the value".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(source: &str) -> Vec<String> {
        let expect = super::super::cel::compile(source).expect("the expression compiles");
        paths_read(&expect, "object")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn the_deepest_fields_read_through_tests_keys_and_loops() {
        assert_eq!(read("object.spec.replicas >= 2"), ["object.spec.replicas"]);
        assert_eq!(
            read("has(object.data.A) && 'B' in object.data"),
            ["object.data.A", "object.data.B"]
        );
        assert_eq!(
            read("object.spec.template.spec.containers.all(c, has(c.resources.limits.memory))"),
            ["object.spec.template.spec.containers[*].resources.limits.memory"]
        );
        assert_eq!(
            read("object.metadata.labels['app.kubernetes.io/name'] == 'web'"),
            ["object.metadata.labels[\"app.kubernetes.io/name\"]"]
        );
        // Only the variable asked about.
        assert!(read("objects.size() > 1").is_empty());
    }
}
