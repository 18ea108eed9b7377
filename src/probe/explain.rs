//! Why an expectation is false, in words a reviewer can act on: the
//! sub-expressions that made it false and their actual values
//! (`object.spec.replicas is 1, wants >= 2`; `object.data has no key
//! DATABASE_PASSWORD`), through `&&` and `||`, `!`, comparisons, `has()`,
//! `in`, string tests, and `all` / `exists` (which element failed).
//!
//! The expression is evaluated again piece by piece over the same values
//! the probe bound; nothing here can change an outcome, only explain it.
//! Those pieces are metered as the evaluation was (`cel::meter`): an
//! explanation that would cost more than the limits is cut short.

use std::collections::HashMap;
use std::sync::Arc;

use cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};
use cel::{Context, Value};

use super::cel::{ENV, Path, Step, meter, path_of, to_cel_needed};
use crate::doc::Json;

/// How many reasons an explanation gives at most; the rest are counted.
const MAX_REASONS: usize = 3;

/// Why `expect` is false over `vars`, or `None` when it is not false (or
/// cannot be said). With `withhold`, values are never shown (a Secret's
/// data): the explanation names the path and the test only.
pub fn why_false(
    expect: &crate::checklist::model::Expect,
    vars: &[(&str, Json<'_>)],
    withhold: bool,
) -> Option<String> {
    let (why, stop) = meter::run(meter::Limits::default(), || explain(expect, vars, withhold));
    // Cut short, an explanation may blame the wrong thing: none is better.
    why.filter(|_| stop.is_none())
}

fn explain(
    expect: &crate::checklist::model::Expect,
    vars: &[(&str, Json<'_>)],
    withhold: bool,
) -> Option<String> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    // Only the fields the expression names: the explanation reads no others.
    for (name, value) in vars {
        context.add_variable_from_value(*name, to_cel_needed(*value, expect.reads.of_var(name)));
    }
    let explainer = Explainer { withhold };
    let reasons = explainer.reasons(expect.program.expression(), &context);
    if reasons.is_empty() {
        return None;
    }
    let shown: Vec<&str> = reasons
        .iter()
        .take(MAX_REASONS)
        .map(String::as_str)
        .collect();
    let more = reasons.len().saturating_sub(MAX_REASONS);
    let mut text = shown.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    Some(crate::text::sanitize(&text, false))
}

/// The fields that make `expect` false over `vars`, as paths from the
/// variables with list positions filled in (`object.spec.containers[1]
/// .resources.limits`): the side of a comparison read from the data, the
/// field a `has()` misses (which may not be there), the elements of an
/// `all` that fail. It follows `why_false` branch for branch, so the field
/// it names is the one the reason speaks of. Empty when `expect` is not
/// false, or when what made it false is not a field.
pub fn failing_fields(
    expect: &crate::checklist::model::Expect,
    vars: &[(&str, Json<'_>)],
) -> Vec<Path> {
    let (found, stop) = meter::run(meter::Limits::default(), || blamed(expect, vars));
    if stop.is_some() {
        return Vec::new();
    }
    found
}

fn blamed(expect: &crate::checklist::model::Expect, vars: &[(&str, Json<'_>)]) -> Vec<Path> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in vars {
        context.add_variable_from_value(*name, to_cel_needed(*value, expect.reads.of_var(name)));
    }
    let expr = expect.program.expression();
    if !is_false(expr, &context) {
        return Vec::new();
    }
    let mut found = Vec::new();
    culprits(expr, &context, &HashMap::new(), &mut found);
    let mut out: Vec<Path> = Vec::new();
    // A loop variable over a computed range is no field of the data.
    found.retain(|p| vars.iter().any(|(name, _)| *name == p.root));
    for path in found {
        if !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// The fields `expr`, false in `ctx`, is false because of (`reasons`, as
/// paths). `scope` binds the loop variables to the elements they stand for.
fn culprits(expr: &IdedExpr, ctx: &Context, scope: &HashMap<String, Path>, out: &mut Vec<Path>) {
    let field = |base: Option<Path>, name: &str| {
        base.map(|mut p| {
            p.steps.push(Step::Field(name.to_string()));
            p
        })
    };
    match &expr.expr {
        Expr::Call(call) => {
            let args = call.args.as_slice();
            match (call.func_name.as_str(), args) {
                (operators::LOGICAL_AND, _) => args
                    .iter()
                    .filter(|a| is_false(a, ctx))
                    .for_each(|a| culprits(a, ctx, scope, out)),
                (operators::LOGICAL_OR, _) => {
                    args.iter().for_each(|a| culprits(a, ctx, scope, out))
                }
                (operators::LOGICAL_NOT, [inner]) => out.extend(match &inner.expr {
                    Expr::Select(sel) if sel.test => {
                        field(path_of(&sel.operand, scope), &sel.field)
                    }
                    _ => path_in(inner, scope),
                }),
                (
                    operators::EQUALS
                    | operators::NOT_EQUALS
                    | operators::LESS
                    | operators::LESS_EQUALS
                    | operators::GREATER
                    | operators::GREATER_EQUALS,
                    [left, right],
                ) => [left, right]
                    .into_iter()
                    .filter(|side| !is_literal(side))
                    .for_each(|side| out.extend(path_in(side, scope))),
                (operators::IN, [item, list]) => {
                    let in_map = matches!(eval(ctx, list), Ok(Value::Map(_)));
                    out.extend(match &item.expr {
                        Expr::Literal(LiteralValue::String(key)) if in_map => {
                            field(path_of(list, scope), key.inner())
                        }
                        _ => path_in(item, scope).or_else(|| path_in(list, scope)),
                    });
                }
                ("startsWith" | "endsWith" | "contains" | "matches", [_]) => {
                    out.extend(call.target.as_deref().and_then(|t| path_in(t, scope)))
                }
                _ => out.extend(path_in(expr, scope)),
            }
        }
        Expr::Select(select) if select.test => {
            out.extend(field(path_of(&select.operand, scope), &select.field))
        }
        Expr::Comprehension(c) => {
            let range = path_of(&c.iter_range, scope);
            let predicate = match &c.loop_step.expr {
                Expr::Call(step) if step.func_name == operators::LOGICAL_AND => step.args.get(1),
                _ => None,
            };
            // `exists` and the rest: no one element is to blame.
            let (Some(predicate), Ok(Value::List(items))) = (predicate, eval(ctx, &c.iter_range))
            else {
                out.extend(range);
                return;
            };
            let guarded = meter::guard(predicate);
            for (i, item) in items.iter().enumerate() {
                if !meter::step() {
                    break;
                }
                let mut inner = ctx.new_inner_scope();
                inner.add_variable_from_value(c.iter_var.clone(), item.clone());
                if !matches!(inner.resolve(&guarded), Ok(Value::Bool(false))) {
                    continue;
                }
                let mut bound = scope.clone();
                match &range {
                    Some(range) => {
                        let mut element = range.clone();
                        element.steps.push(Step::Index(i as i64));
                        bound.insert(c.iter_var.clone(), element);
                    }
                    None => {
                        bound.remove(&c.iter_var);
                    }
                }
                culprits(predicate, &inner, &bound, out);
            }
        }
        _ => out.extend(path_in(expr, scope)),
    }
}

/// The path `expr` reads: itself when it is one, else the first path
/// among its operands (`size(object.spec.ports)`, `int(c.port)`).
fn path_in(expr: &IdedExpr, scope: &HashMap<String, Path>) -> Option<Path> {
    if let Some(path) = path_of(expr, scope) {
        return Some(path);
    }
    match &expr.expr {
        Expr::Call(call) => call
            .target
            .as_deref()
            .into_iter()
            .chain(&call.args)
            .filter(|e| !is_literal(e))
            .find_map(|e| path_in(e, scope)),
        _ => None,
    }
}

struct Explainer {
    withhold: bool,
}

impl Explainer {
    /// Why `expr`, which evaluated to false in `ctx`, is false.
    fn reasons(&self, expr: &IdedExpr, ctx: &Context) -> Vec<String> {
        match &expr.expr {
            Expr::Call(call) => {
                let args = call.args.as_slice();
                match (call.func_name.as_str(), args) {
                    (operators::LOGICAL_AND, _) => args
                        .iter()
                        .filter(|a| is_false(a, ctx))
                        .flat_map(|a| self.reasons(a, ctx))
                        .collect(),
                    (operators::LOGICAL_OR, _) => {
                        let each: Vec<String> = args
                            .iter()
                            .map(|a| self.reasons(a, ctx).join(", "))
                            .collect();
                        vec![format!("neither holds: {}", each.join("; nor "))]
                    }
                    (operators::LOGICAL_NOT, [inner]) => vec![match &inner.expr {
                        Expr::Select(sel) if sel.test => {
                            format!("{} has {}", text(&sel.operand), sel.field)
                        }
                        Expr::Select(_) | Expr::Ident(_) => format!("{} is true", text(inner)),
                        _ => format!("{} holds", text(inner)),
                    }],
                    (
                        op @ (operators::EQUALS
                        | operators::NOT_EQUALS
                        | operators::LESS
                        | operators::LESS_EQUALS
                        | operators::GREATER
                        | operators::GREATER_EQUALS),
                        [left, right],
                    ) => vec![self.comparison(op, left, right, ctx)],
                    (operators::IN, [item, list]) => {
                        let in_map = matches!(eval(ctx, list), Ok(Value::Map(_)));
                        vec![match (in_map, is_literal(item)) {
                            (true, true) => format!("{} has no key {}", text(list), text(item)),
                            (true, false) => format!(
                                "{} has no key {} ({})",
                                text(list),
                                text(item),
                                self.value(item, ctx)
                            ),
                            (false, true) => {
                                format!(
                                    "{} is not in {}",
                                    text(item),
                                    self.shown_or_text(list, ctx)
                                )
                            }
                            (false, false) => format!(
                                "{} is {}, not in {}",
                                text(item),
                                self.value(item, ctx),
                                self.shown_or_text(list, ctx)
                            ),
                        }]
                    }
                    (name @ ("startsWith" | "endsWith" | "contains" | "matches"), [arg])
                        if call.target.is_some() =>
                    {
                        let target = call.target.as_deref().expect("checked above");
                        let verb = match name {
                            "startsWith" => "does not start with",
                            "endsWith" => "does not end with",
                            "contains" => "does not contain",
                            _ => "does not match",
                        };
                        vec![format!(
                            "{} is {}, which {verb} {}",
                            text(target),
                            self.value(target, ctx),
                            self.shown_or_text(arg, ctx)
                        )]
                    }
                    _ => vec![format!("{} is false", text(expr))],
                }
            }
            Expr::Select(select) if select.test => {
                let noun = if holds_keys(&select.operand) {
                    "key"
                } else {
                    "field"
                };
                vec![format!(
                    "{} has no {noun} {}",
                    text(&select.operand),
                    select.field
                )]
            }
            Expr::Comprehension(c) => self.comprehension(expr, c, ctx),
            _ => vec![format!("{} is false", text(expr))],
        }
    }

    /// `all`: the elements the predicate fails on; `exists`: that none
    /// passes.
    fn comprehension(
        &self,
        expr: &IdedExpr,
        c: &cel::common::ast::ComprehensionExpr,
        ctx: &Context,
    ) -> Vec<String> {
        let Expr::Call(step) = &c.loop_step.expr else {
            return vec![format!("{} is false", text(expr))];
        };
        let Some(predicate) = step.args.get(1) else {
            return vec![format!("{} is false", text(expr))];
        };
        let Ok(Value::List(items)) = eval(ctx, &c.iter_range) else {
            return vec![format!("{} is false", text(expr))];
        };
        let range = text(&c.iter_range);
        match step.func_name.as_str() {
            operators::LOGICAL_AND => {
                let mut out = Vec::new();
                let guarded = meter::guard(predicate);
                for (i, item) in items.iter().enumerate() {
                    if !meter::step() {
                        break;
                    }
                    let mut inner = ctx.new_inner_scope();
                    inner.add_variable_from_value(c.iter_var.clone(), item.clone());
                    if matches!(inner.resolve(&guarded), Ok(Value::Bool(false))) {
                        // A plain path names the element by index; a
                        // computed range (containers and init containers
                        // joined) by its name only.
                        let which = match (is_path(&c.iter_range), element_name(item)) {
                            (true, Some(n)) => format!("{range}[{i}] ({n})"),
                            (true, None) => format!("{range}[{i}]"),
                            (false, Some(n)) => format!("item {n}"),
                            (false, None) => format!("item {i}"),
                        };
                        let why: Vec<String> = self
                            .reasons(predicate, &inner)
                            .iter()
                            .map(|r| strip_var(r, &c.iter_var))
                            .collect();
                        out.push(format!("{which}: {}", why.join(", ")));
                    }
                }
                out
            }
            operators::LOGICAL_OR => vec![format!(
                "none of the {} items of {range} satisfies {}",
                items.len(),
                text(predicate)
            )],
            _ => vec![format!("{} is false", text(expr))],
        }
    }

    fn comparison(&self, op: &str, left: &IdedExpr, right: &IdedExpr, ctx: &Context) -> String {
        let sign = match op {
            operators::EQUALS => "==",
            operators::NOT_EQUALS => "!=",
            operators::LESS => "<",
            operators::LESS_EQUALS => "<=",
            operators::GREATER => ">",
            _ => ">=",
        };
        // Say it about the side that is read from the data.
        if is_literal(left) && !is_literal(right) {
            let flipped = match sign {
                "<" => ">",
                "<=" => ">=",
                ">" => "<",
                ">=" => "<=",
                same => same,
            };
            return format!(
                "{} is {}, wants {flipped} {}",
                text(right),
                self.value(right, ctx),
                self.shown_or_text(left, ctx)
            );
        }
        format!(
            "{} is {}, wants {sign} {}",
            text(left),
            self.value(left, ctx),
            self.shown_or_text(right, ctx)
        )
    }

    /// The value of `expr` for a message, or "withheld".
    fn value(&self, expr: &IdedExpr, ctx: &Context) -> String {
        if self.secret_value(expr) {
            return "‹withheld›".into();
        }
        match eval(ctx, expr) {
            Ok(v) => show(&v),
            Err(_) => "not there".into(),
        }
    }

    /// A literal as written; anything else by its value.
    fn shown_or_text(&self, expr: &IdedExpr, ctx: &Context) -> String {
        if is_literal(expr) {
            return text(expr);
        }
        match (self.secret_value(expr), eval(ctx, expr)) {
            (false, Ok(v)) => format!("{} ({})", text(expr), show(&v)),
            _ => text(expr),
        }
    }

    /// Whether `expr` may read a Secret's values: anything under its
    /// `data` or `stringData`, or the whole object. Its type, name and
    /// labels are not secret.
    fn secret_value(&self, expr: &IdedExpr) -> bool {
        if !self.withhold {
            return false;
        }
        let path = text(expr);
        path == "object"
            || path == "objects"
            || path.contains(".data")
            || path.contains(".stringData")
            || path.contains("data[")
            || path.contains("stringData[")
    }
}

/// Whether `expr` reads a map of keys rather than an object with fields:
/// `data`, `stringData`, labels, annotations, headers.
fn holds_keys(expr: &IdedExpr) -> bool {
    matches!(
        &expr.expr,
        Expr::Select(s) if matches!(s.field.as_str(), "data" | "stringData" | "labels" | "annotations" | "headers")
    )
}

/// `why` with the loop variable's `c.` dropped where it starts a path
/// (`c.image` reads `image` once the element is named).
fn strip_var(why: &str, var: &str) -> String {
    // "c has no field resources": the element is already named.
    let mut spoken = why
        .strip_prefix(&format!("{var} "))
        .unwrap_or(why)
        .to_string();
    for (with, without) in [
        (format!(": {var} has "), ": has ".to_string()),
        (format!("; nor {var} has "), "; nor has ".to_string()),
        (format!(": {var} is "), ": is ".to_string()),
    ] {
        spoken = spoken.replace(&with, &without);
    }
    let why = spoken.as_str();
    let prefix = format!("{var}.");
    let mut out = String::with_capacity(why.len());
    let mut rest = why;
    while let Some(at) = rest.find(&prefix) {
        let starts_word = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        out.push_str(&rest[..at]);
        if !starts_word {
            out.push_str(&prefix);
        }
        rest = &rest[at + prefix.len()..];
    }
    out.push_str(rest);
    out
}

/// `expr` evaluated in `ctx`, guarded as `cel::evaluate` guards it.
fn eval(ctx: &Context, expr: &IdedExpr) -> Result<Value, cel::ExecutionError> {
    ctx.resolve(&meter::guard(expr))
}

fn is_false(expr: &IdedExpr, ctx: &Context) -> bool {
    matches!(eval(ctx, expr), Ok(Value::Bool(false)))
}

/// `object.spec.containers`: a variable and fields, nothing computed.
fn is_path(expr: &IdedExpr) -> bool {
    match &expr.expr {
        Expr::Ident(_) => true,
        Expr::Select(s) => !s.test && is_path(&s.operand),
        _ => false,
    }
}

fn is_literal(expr: &IdedExpr) -> bool {
    matches!(&expr.expr, Expr::Literal(_) | Expr::List(_))
}

/// A list element's `name`, when it has one (containers, ports, rules).
fn element_name(item: &Value) -> Option<String> {
    let Value::Map(map) = item else {
        return None;
    };
    map.map
        .iter()
        .find(|(k, _)| matches!(k, cel::objects::Key::String(s) if s.as_str() == "name"))
        .and_then(|(_, v)| match v {
            Value::String(s) => Some(s.to_string()),
            _ => None,
        })
}

/// A value as a reviewer reads it: JSON, kept short, remote text cleaned
/// before it is quoted (so no escape survives even as `\u001b`).
fn show(value: &Value) -> String {
    fn clean(v: serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) => {
                serde_json::Value::String(crate::text::sanitize(&s, false))
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.into_iter().map(clean).collect())
            }
            serde_json::Value::Object(fields) => serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (crate::text::sanitize(&k, false), clean(v)))
                    .collect(),
            ),
            other => other,
        }
    }
    let text = value
        .json()
        .map_or_else(|_| format!("{value:?}"), |j| clean(j).to_string());
    crate::text::truncate(&text, 80)
}

/// The expression as CEL text, close to how it was written.
pub fn text(expr: &IdedExpr) -> String {
    match &expr.expr {
        Expr::Ident(name) => name.clone(),
        Expr::Select(s) if s.test => format!("has({}.{})", text(&s.operand), s.field),
        Expr::Select(s) => format!("{}.{}", text(&s.operand), s.field),
        Expr::Literal(l) => literal(l),
        Expr::List(list) => format!(
            "[{}]",
            list.elements
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::Call(call) => {
            let args: Vec<String> = call.args.iter().map(text).collect();
            let binary = |sign: &str| format!("{} {sign} {}", args[0], args[1]);
            match (call.func_name.as_str(), args.len()) {
                (operators::LOGICAL_AND, 2) => binary("&&"),
                (operators::LOGICAL_OR, 2) => binary("||"),
                (operators::EQUALS, 2) => binary("=="),
                (operators::NOT_EQUALS, 2) => binary("!="),
                (operators::LESS, 2) => binary("<"),
                (operators::LESS_EQUALS, 2) => binary("<="),
                (operators::GREATER, 2) => binary(">"),
                (operators::GREATER_EQUALS, 2) => binary(">="),
                (operators::ADD, 2) => binary("+"),
                (operators::SUBSTRACT, 2) => binary("-"),
                (operators::IN, 2) => binary("in"),
                (operators::LOGICAL_NOT, 1) => format!("!{}", args[0]),
                (operators::CONDITIONAL, 3) => {
                    format!("({} ? {} : {})", args[0], args[1], args[2])
                }
                (operators::INDEX, 2) => format!("{}[{}]", args[0], args[1]),
                (name, _) => match &call.target {
                    Some(t) => format!("{}.{name}({})", text(t), args.join(", ")),
                    None => format!("{name}({})", args.join(", ")),
                },
            }
        }
        Expr::Comprehension(c) => match &c.loop_step.expr {
            Expr::Call(step) if step.args.len() == 2 => {
                let which = if step.func_name == operators::LOGICAL_AND {
                    "all"
                } else {
                    "exists"
                };
                format!(
                    "{}.{which}({}, {})",
                    text(&c.iter_range),
                    c.iter_var,
                    text(&step.args[1])
                )
            }
            _ => "(comprehension)".into(),
        },
        _ => "(expression)".into(),
    }
}

fn literal(l: &LiteralValue) -> String {
    match l {
        LiteralValue::String(s) => format!("'{}'", s.inner()),
        LiteralValue::Boolean(b) => b.inner().to_string(),
        LiteralValue::Int(i) => i.inner().to_string(),
        LiteralValue::UInt(u) => format!("{}u", u.inner()),
        LiteralValue::Double(d) => d.inner().to_string(),
        LiteralValue::Null => "null".into(),
        LiteralValue::Bytes(_) => "b'…'".into(),
    }
}
