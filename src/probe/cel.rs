//! CEL: compiling `expect` expressions once at load time and evaluating them
//! against the JSON a probe saw, with the Kubernetes-style `quantity()` helper.
//!
//! Every expression compiles and runs against one shared environment: the CEL
//! standard library, the `strings` and `lists` extensions, and `quantity()`.
//!
//! `quantity(q)` reads a Kubernetes quantity ("500m", "256Mi", "1Gi", "2",
//! "1e3", "1.5") and returns its value in base units as a `double`, so plain
//! comparison and arithmetic work: `quantity(c.resources.limits.memory) <=
//! quantity("1Gi")`, `quantity("100m") < quantity("1")`. It also accepts an
//! int or a double (a limit written as a bare YAML number). For expressions
//! written against the Kubernetes CEL library, the value also answers
//! `isLessThan`, `isGreaterThan`, `compareTo`, `asInteger` and
//! `asApproximateFloat`, and `isQuantity(s)` tells whether a string parses.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use cel::common::ast::{Expr, IdedExpr, LiteralValue, operators};
use cel::common::types::{CelBool, CelDouble, CelInt, CelString};
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Value};

use crate::checklist::model::Expect;

pub use super::names::{NameError, Shape, check_names, variables};

/// A syntax error inside an expression; `offset` is a byte offset into the
/// expression text, so the loader can map it to the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
    pub message: String,
}

/// Why an expression did not produce `true` or `false`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalError {
    /// A field the expression reads is not there, e.g. `object.data.OIDC_ISSUER`.
    MissingField(String),
    /// It evaluated to something other than a bool.
    NotBool(String),
    Other(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::MissingField(path) => write!(f, "no field {path}"),
            EvalError::NotBool(got) => write!(f, "expected true or false, got {got}"),
            EvalError::Other(m) => f.write_str(m),
        }
    }
}

/// The one environment every expression is compiled and run with; building it
/// registers a few hundred overloads, so it is done once per process.
pub(crate) static ENV: LazyLock<Arc<Env>> = LazyLock::new(|| Arc::new(build_env()));

fn build_env() -> Env {
    let mut env = Env::stdlib();
    // These only fail on a duplicate declaration, which would be a bug here
    // that every test run would catch.
    env.add_extension(cel::extensions::strings)
        .expect("the strings extension declares nothing the stdlib has");
    env.add_extension(cel::extensions::lists)
        .expect("the lists extension declares nothing the stdlib has");
    env.add_extension(quantity::extension)
        .expect("quantity() declares nothing the stdlib has");
    env
}

/// Compiles `source`, checking the literal regexes of `matches()` calls too,
/// since a bad one would otherwise only fail when the probe runs.
pub fn compile(source: &str) -> Result<Expect, SyntaxError> {
    let program = ENV
        .compile(source)
        .map_err(|errors| match errors.errors.first() {
            Some(first) => {
                let offset = byte_offset(source, first.pos);
                let raw = first.msg.trim_start_matches("Syntax error: ");
                let (offset, message) = plain_syntax_error(source, offset, raw);
                SyntaxError { offset, message }
            }
            None => SyntaxError {
                offset: 0,
                message: errors.to_string(),
            },
        })?;
    check_regexes(program.expression(), &program)?;
    let reads = Arc::new(Reads::of(program.expression()));
    Ok(Expect {
        source: source.to_string(),
        program: Arc::new(program),
        reads,
        id: Expect::next_id(),
    })
}

/// What of a variable an expression can read: all of it, or only some
/// fields (each needed whole or in part). Converting a Pod to CEL costs far
/// more than evaluating `object.spec.replicas >= 2` on it, so only the
/// fields an expression names are converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Needed {
    All,
    Fields(HashMap<String, Needed>),
}

impl Needed {
    fn add(&mut self, path: &[String]) {
        let Needed::Fields(fields) = self else { return };
        match path.split_first() {
            None => *self = Needed::All,
            Some((first, rest)) => fields
                .entry(first.clone())
                .or_insert_with(|| Needed::Fields(HashMap::new()))
                .add(rest),
        }
    }
}

/// For each variable an expression names, what of it the expression reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads(HashMap<String, Needed>);

impl Reads {
    /// Walks the expression: a chain of field selections from a variable
    /// (`object.spec.template`, also inside `has()`) needs that field; a
    /// variable used any other way (iterated, indexed with a computed key,
    /// passed to a function) is needed whole.
    pub fn of(expr: &IdedExpr) -> Reads {
        let mut reads = Reads::default();
        reads.walk(expr);
        reads
    }

    /// What of `name` is read; all of it for a name the walk never saw.
    pub fn of_var(&self, name: &str) -> &Needed {
        static ALL: Needed = Needed::All;
        self.0.get(name).unwrap_or(&ALL)
    }

    fn need(&mut self, name: &str, path: &[String]) {
        self.0
            .entry(name.to_string())
            .or_insert_with(|| Needed::Fields(HashMap::new()))
            .add(path);
    }

    fn walk(&mut self, expr: &IdedExpr) {
        match &expr.expr {
            Expr::Select(_) => {
                let mut path = Vec::new();
                let mut at = expr;
                while let Expr::Select(select) = &at.expr {
                    path.push(select.field.clone());
                    at = &select.operand;
                }
                path.reverse();
                match &at.expr {
                    Expr::Ident(name) => self.need(name, &path),
                    _ => self.walk(at),
                }
            }
            Expr::Ident(name) => self.need(name, &[]),
            Expr::Comprehension(c) => {
                // A loop variable that shadows a variable: keep it whole.
                self.need(&c.iter_var, &[]);
                self.need(&c.accu_var, &[]);
                for part in [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ] {
                    self.walk(part);
                }
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.walk(target);
                }
                call.args.iter().for_each(|a| self.walk(a));
            }
            Expr::List(list) => list.elements.iter().for_each(|e| self.walk(e)),
            Expr::Map(_) | Expr::Struct(_) => {
                entry_values(expr).into_iter().for_each(|e| self.walk(e))
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

/// `to_cel` of only what `needed` names.
fn to_cel_needed(v: &serde_json::Value, needed: &Needed) -> Value {
    match (needed, v) {
        (Needed::Fields(fields), serde_json::Value::Object(map)) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .filter_map(|(name, inner)| {
                    let value = map.get(name)?;
                    Some((
                        Key::String(Arc::new(name.clone())),
                        to_cel_needed(value, inner),
                    ))
                })
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
        _ => to_cel(v),
    }
}

/// The parser's message in plain words, and where the caret belongs: an
/// unclosed bracket is shown at the bracket, an unclosed string at its
/// quote. Unknown shapes keep the parser's words, without its token lists.
fn plain_syntax_error(source: &str, offset: usize, raw: &str) -> (usize, String) {
    let head = raw.split(" expecting ").next().unwrap_or(raw);
    let token = |prefix: &str| -> Option<String> {
        let rest = head.strip_prefix(prefix)?;
        let rest = rest.strip_prefix('\'')?;
        let end = rest.rfind('\'').unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    let expecting = raw.split_once(" expecting ").map(|(_, e)| e).unwrap_or("");
    let unclosed = unclosed_bracket(source);
    if let Some(text) = token("token recognition error at: ") {
        if text.starts_with('\'') || text.starts_with('"') {
            let quote = text.chars().next().unwrap_or('\'');
            return (
                offset,
                format!("a string is not closed: add the final {quote}"),
            );
        }
        if text.trim() == "=" {
            return (offset, "`=` is not an operator: compare with `==`".into());
        }
        return (
            offset,
            format!("`{}` cannot appear in an expression", text.trim()),
        );
    }
    if (raw.starts_with("missing ')'") || raw.starts_with("missing ']'") || raw.contains("<EOF>"))
        && let Some((at, open)) = unclosed
    {
        let close = match open {
            '(' => ')',
            '[' => ']',
            _ => '}',
        };
        return (at, format!("unclosed `{open}`: its `{close}` is missing"));
    }
    if let Some(text) = token("mismatched input ") {
        if text == "<EOF>" {
            let before = source[..offset.min(source.len())].trim_end();
            let last: String = before
                .chars()
                .rev()
                .take_while(|c| {
                    !c.is_alphanumeric() && !c.is_whitespace() && *c != '\'' && *c != ')'
                })
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let after = if last.is_empty() {
                String::new()
            } else {
                format!(" after `{last}`")
            };
            return (
                offset,
                format!("the expression ends too early: a value is missing{after}"),
            );
        }
        return (offset, format!("unexpected `{text}`"));
    }
    if let Some(text) = token("extraneous input ") {
        if (text == ")" || text == "]") && expecting.contains("<EOF>") {
            return (offset, format!("`{text}` closes nothing"));
        }
        if expecting.contains("IDENTIFIER") {
            return (
                offset,
                format!("unexpected `{text}`: a value must come before it"),
            );
        }
        return (offset, format!("unexpected `{text}`"));
    }
    if let Some(text) = token("no viable alternative at input ") {
        return (offset, format!("cannot read `{text}` here"));
    }
    if raw.starts_with("invalid argument to has() macro") {
        return (
            offset,
            "has() takes one field path, like has(object.spec.replicas)".into(),
        );
    }
    let message = raw.split(" expecting ").next().unwrap_or(raw).to_string();
    (offset, message)
}

/// The first bracket still open at the end of `source` (strings skipped):
/// its byte offset and which bracket it is.
fn unclosed_bracket(source: &str) -> Option<(usize, char)> {
    let mut stack: Vec<(usize, char)> = Vec::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (at, c) in source.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '(' | '[' | '{' => stack.push((at, c)),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

/// Turns the parser's 1-based (line, column in characters) into a byte offset.
fn byte_offset(source: &str, (line, column): (isize, isize)) -> usize {
    if line < 1 {
        return 0;
    }
    let mut start = 0;
    for (i, text) in source.split_inclusive('\n').enumerate() {
        if i + 1 == line as usize {
            let column = column.max(1) as usize - 1;
            let within = text
                .char_indices()
                .nth(column)
                .map_or(text.len(), |(at, _)| at);
            return (start + within).min(source.len());
        }
        start += text.len();
    }
    source.len()
}

fn check_regexes(expr: &IdedExpr, program: &cel::Program) -> Result<(), SyntaxError> {
    let mut result = Ok(());
    visit(expr, &mut |node| {
        if result.is_err() {
            return;
        }
        let Expr::Call(call) = &node.expr else {
            return;
        };
        if call.func_name != "matches" {
            return;
        }
        let pattern = match (&call.target, call.args.as_slice()) {
            (Some(_), [pattern]) | (None, [_, pattern]) => pattern,
            _ => return,
        };
        let Expr::Literal(LiteralValue::String(text)) = &pattern.expr else {
            return;
        };
        if let Err(e) = regex::Regex::new(text.inner()) {
            let offset = program
                .source_info()
                .offset_for(pattern.id)
                .map_or(0, |(start, _)| start as usize);
            result = Err(SyntaxError {
                offset,
                message: format!("invalid regular expression: {}", regex_reason(&e)),
            });
        }
    });
    result
}

/// The one-line reason of a regex error, without the caret diagram.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(text.lines().last().unwrap_or_default())
        .to_string()
}

/// Calls `f` on `expr` and every expression inside it.
fn visit(expr: &IdedExpr, f: &mut dyn FnMut(&IdedExpr)) {
    f(expr);
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                visit(target, f);
            }
            call.args.iter().for_each(|a| visit(a, f));
        }
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit(part, f);
            }
        }
        Expr::List(list) => list.elements.iter().for_each(|e| visit(e, f)),
        Expr::Map(_) | Expr::Struct(_) => entry_values(expr).into_iter().for_each(|e| visit(e, f)),
        Expr::Select(select) => visit(&select.operand, f),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// Converts JSON to a CEL value. Integers become `int` (not `uint`, as serde
/// would make them) so that `object.spec.replicas + 1` type-checks; only
/// integers above `i64::MAX` stay `uint`.
pub fn to_cel(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => Value::UInt(u),
            (None, None) => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(to_cel).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Whether `expect` holds over `vars`, as a probe reports it: `Ok` when it
/// holds; otherwise the verdict and summary: a fail when it is false, an
/// error when it cannot be evaluated (a field that is not there, a type
/// that does not fit: the checklist's mistake, not the service's).
pub fn check(
    expect: &Expect,
    vars: &[(&str, &serde_json::Value)],
) -> Result<(), (super::Verdict, String)> {
    use super::Verdict;
    match evaluate(expect, vars) {
        Ok(true) => Ok(()),
        Ok(false) => Err((
            Verdict::Fail,
            super::explain::why_false(expect, vars, false)
                .unwrap_or_else(|| format!("expect does not hold: {}", expect.source)),
        )),
        Err(e) => Err((
            Verdict::Error,
            format!("expect could not be evaluated: {e}"),
        )),
    }
}

/// Evaluates `expect` with the named JSON values bound as variables.
pub fn evaluate(expect: &Expect, vars: &[(&str, &serde_json::Value)]) -> Result<bool, EvalError> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in vars {
        context.add_variable_from_value(*name, to_cel_needed(value, expect.reads.of_var(name)));
    }
    match expect.program.execute(&context) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(EvalError::NotBool(describe(&other))),
        Err(ExecutionError::NoSuchKey(key)) => Err(EvalError::MissingField(missing_path(
            expect.program.expression(),
            &key,
            vars,
        ))),
        Err(ExecutionError::UndeclaredReference(name)) => {
            Err(EvalError::Other(format!("unknown name {name}")))
        }
        Err(e) => Err(EvalError::Other(e.to_string())),
    }
}

/// `int 3`, `string "abc"`: what a non-bool result was, kept short.
fn describe(value: &Value) -> String {
    let shown = value
        .json()
        .map_or_else(|_| format!("{value:?}"), |j| j.to_string());
    format!("{} {}", value.type_of(), crate::text::truncate(&shown, 60))
}

/// One step of a path an expression reads.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    /// Any element of a list, as bound by `all`, `exists`, `map`, ...
    Each,
}

/// A path an expression reads: a variable and the steps from it.
#[derive(Debug, Clone, PartialEq)]
struct Path {
    root: String,
    steps: Vec<Step>,
}

/// Names the field `key` the expression failed to read, as a full path such as
/// `object.data.OIDC_ISSUER` or `object.spec.containers[1].resources.limits`.
/// Each read of `key` in the expression is a candidate; the first one that is
/// really absent from the bound JSON wins.
fn missing_path(expr: &IdedExpr, key: &str, vars: &[(&str, &serde_json::Value)]) -> String {
    let mut candidates = Vec::new();
    collect_reads(expr, key, &HashMap::new(), &mut candidates);
    let concrete = candidates.iter().find_map(|path| {
        let (_, root) = vars.iter().find(|(name, _)| *name == path.root)?;
        locate_absent(root, &path.steps, path.root.clone())
    });
    concrete
        .or_else(|| candidates.first().map(render))
        .unwrap_or_else(|| key.to_string())
}

/// Collects the paths in `expr` whose last step reads the field `key`.
fn collect_reads(expr: &IdedExpr, key: &str, scope: &HashMap<String, Path>, out: &mut Vec<Path>) {
    match &expr.expr {
        Expr::Select(select) => {
            if !select.test
                && select.field == key
                && let Some(mut path) = path_of(&select.operand, scope)
            {
                path.steps.push(Step::Field(key.to_string()));
                out.push(path);
            }
            collect_reads(&select.operand, key, scope, out);
        }
        Expr::Call(call) => {
            if let (operators::INDEX, [operand, index]) =
                (call.func_name.as_str(), call.args.as_slice())
                && matches!(&index.expr, Expr::Literal(LiteralValue::String(s)) if s.inner() == key)
                && let Some(mut path) = path_of(operand, scope)
            {
                path.steps.push(Step::Field(key.to_string()));
                out.push(path);
            }
            if let Some(target) = &call.target {
                collect_reads(target, key, scope, out);
            }
            call.args
                .iter()
                .for_each(|a| collect_reads(a, key, scope, out));
        }
        Expr::Comprehension(c) => {
            collect_reads(&c.iter_range, key, scope, out);
            let mut inner = scope.clone();
            match path_of(&c.iter_range, scope) {
                Some(mut range) => {
                    range.steps.push(Step::Each);
                    inner.insert(c.iter_var.clone(), range);
                }
                // An unknown range: its variable must not pass for a global.
                None => {
                    inner.remove(&c.iter_var);
                }
            }
            for part in [&c.accu_init, &c.loop_cond, &c.loop_step, &c.result] {
                collect_reads(part, key, &inner, out);
            }
        }
        Expr::List(list) => list
            .elements
            .iter()
            .for_each(|e| collect_reads(e, key, scope, out)),
        Expr::Map(_) | Expr::Struct(_) => {
            for child in entry_values(expr) {
                collect_reads(child, key, scope, out);
            }
        }
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// The keys and values of a map or struct literal.
pub(crate) fn entry_values(expr: &IdedExpr) -> Vec<&IdedExpr> {
    use cel::common::ast::EntryExpr;
    let entries = match &expr.expr {
        Expr::Map(map) => &map.entries,
        Expr::Struct(s) => &s.entries,
        _ => return Vec::new(),
    };
    entries
        .iter()
        .flat_map(|e| match &e.expr {
            EntryExpr::StructField(field) => vec![&field.value],
            EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
        })
        .collect()
}

/// The path `expr` spells, when it is a variable followed by field reads and
/// literal indexes.
fn path_of(expr: &IdedExpr, scope: &HashMap<String, Path>) -> Option<Path> {
    match &expr.expr {
        Expr::Ident(name) => Some(scope.get(name).cloned().unwrap_or(Path {
            root: name.clone(),
            steps: Vec::new(),
        })),
        Expr::Select(select) if !select.test => {
            let mut path = path_of(&select.operand, scope)?;
            path.steps.push(Step::Field(select.field.clone()));
            Some(path)
        }
        Expr::Call(call) if call.func_name == operators::INDEX => {
            let [operand, index] = call.args.as_slice() else {
                return None;
            };
            let mut path = path_of(operand, scope)?;
            match &index.expr {
                Expr::Literal(LiteralValue::String(s)) => {
                    path.steps.push(Step::Field(s.inner().to_string()))
                }
                Expr::Literal(LiteralValue::Int(i)) => path.steps.push(Step::Index(*i.inner())),
                _ => return None,
            }
            Some(path)
        }
        _ => None,
    }
}

/// Follows `steps` through `value`; when the last one names a field that is
/// not there, returns the concrete path to it (with list positions filled in).
fn locate_absent(value: &serde_json::Value, steps: &[Step], so_far: String) -> Option<String> {
    let (step, rest) = steps.split_first()?;
    match step {
        Step::Field(name) => {
            let next = value.as_object()?.get(name);
            let here = format!("{so_far}{}", render_field(name));
            match (next, rest.is_empty()) {
                (None, true) => Some(here),
                (Some(next), false) => locate_absent(next, rest, here),
                _ => None,
            }
        }
        Step::Index(i) => {
            let next = value.as_array()?.get(usize::try_from(*i).ok()?)?;
            locate_absent(next, rest, format!("{so_far}[{i}]"))
        }
        Step::Each => value
            .as_array()?
            .iter()
            .enumerate()
            .find_map(|(i, item)| locate_absent(item, rest, format!("{so_far}[{i}]"))),
    }
}

fn render(path: &Path) -> String {
    let mut out = path.root.clone();
    for step in &path.steps {
        match step {
            Step::Field(name) => out.push_str(&render_field(name)),
            Step::Index(i) => out.push_str(&format!("[{i}]")),
            Step::Each => out.push_str("[*]"),
        }
    }
    out
}

/// `.name` for identifier-like keys, `["app.kubernetes.io/name"]` otherwise.
fn render_field(name: &str) -> String {
    let plain = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!(".{name}")
    } else {
        format!("[{name:?}]")
    }
}

/// `quantity()` and its companions, see the module documentation.
mod quantity {
    use super::*;
    use cel::DeclarationError;

    pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
        cel::add_overload!(env, fn of_string: (CelString) -> Result<CelDouble>, name = "quantity")?;
        cel::add_overload!(env, fn of_int: (CelInt) -> CelDouble, name = "quantity")?;
        cel::add_overload!(env, fn of_double: (CelDouble) -> CelDouble, name = "quantity")?;
        cel::add_overload!(env, fn is_quantity: (CelString) -> CelBool)?;
        cel::add_member_overload!(env, fn is_less_than: (CelDouble, CelDouble) -> CelBool)?;
        cel::add_member_overload!(env, fn is_greater_than: (CelDouble, CelDouble) -> CelBool)?;
        cel::add_member_overload!(env, fn compare_to: (CelDouble, CelDouble) -> CelInt)?;
        cel::add_member_overload!(env, fn as_approximate_float: (CelDouble) -> CelDouble)?;
        cel::add_member_overload!(env, fn as_integer: (CelDouble) -> Result<CelInt>)?;
        Ok(())
    }

    fn of_string(text: &CelString<'_>) -> Result<CelDouble, ExecutionError> {
        parse(text.inner()).map(CelDouble::from).ok_or_else(|| {
            ExecutionError::function_error(
                "quantity",
                format!("{:?} is not a Kubernetes quantity", text.inner()),
            )
        })
    }

    fn of_int(n: &CelInt) -> CelDouble {
        CelDouble::from(*n.inner() as f64)
    }

    fn of_double(n: &CelDouble) -> CelDouble {
        CelDouble::from(*n.inner())
    }

    fn is_quantity(text: &CelString<'_>) -> CelBool {
        CelBool::from(parse(text.inner()).is_some())
    }

    fn is_less_than(this: &CelDouble, other: &CelDouble) -> CelBool {
        CelBool::from(this.inner() < other.inner())
    }

    fn is_greater_than(this: &CelDouble, other: &CelDouble) -> CelBool {
        CelBool::from(this.inner() > other.inner())
    }

    fn compare_to(this: &CelDouble, other: &CelDouble) -> CelInt {
        let order = this.inner().partial_cmp(other.inner());
        CelInt::from(order.map_or(0, |o| o as i64))
    }

    fn as_approximate_float(this: &CelDouble) -> CelDouble {
        CelDouble::from(*this.inner())
    }

    fn as_integer(this: &CelDouble) -> Result<CelInt, ExecutionError> {
        let v = *this.inner();
        // i64::MAX as f64 rounds up to 2^63, hence the strict bound.
        if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
            Ok(CelInt::from(v as i64))
        } else {
            Err(ExecutionError::function_error(
                "asInteger",
                format!("{v} is not a whole number that fits an int"),
            ))
        }
    }

    /// A Kubernetes quantity in base units: a signed decimal number followed
    /// by a binary suffix (Ki..Ei), a decimal one (n, u, m, k, M..E) or an
    /// exponent (e3, E-2). The decimal part is rebuilt as `digits e exp` and
    /// parsed once, so "2" and "2000m" give exactly the same double.
    pub(super) fn parse(text: &str) -> Option<f64> {
        let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
        let negative = text.starts_with('-');
        let number_len = unsigned
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(unsigned.len());
        let (number, suffix) = unsigned.split_at(number_len);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let (exp10, exp2) = suffix_exponents(suffix)?;
        let digits = format!("{whole}{fraction}");
        let exp10 = exp10.checked_sub(i32::try_from(fraction.len()).ok()?)?;
        let magnitude: f64 = format!("{digits}e{exp10}").parse().ok()?;
        let value = magnitude * 2f64.powi(exp2);
        value
            .is_finite()
            .then_some(if negative { -value } else { value })
    }

    /// The powers of ten and of two a suffix stands for.
    fn suffix_exponents(suffix: &str) -> Option<(i32, i32)> {
        let exponents = match suffix {
            "" => (0, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            _ => {
                let exponent = suffix.strip_prefix(['e', 'E'])?;
                let digits = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (exponent.parse().ok()?, 0)
            }
        };
        Some(exponents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, object: serde_json::Value) -> Result<bool, EvalError> {
        let expect = compile(source).expect("test expressions compile");
        evaluate(&expect, &[("object", &object)])
    }

    #[test]
    fn json_integers_are_ints() {
        let object = json!({"spec": {"replicas": 2, "ratio": 0.5}});
        assert_eq!(
            eval("object.spec.replicas + 1 == 3", object.clone()),
            Ok(true)
        );
        assert_eq!(
            eval(
                "double(object.spec.replicas) * object.spec.ratio == 1.0",
                object.clone()
            ),
            Ok(true)
        );
        assert_eq!(eval("object.spec.replicas >= 3", object), Ok(false));
    }

    #[test]
    fn has_tests_presence_without_failing() {
        let object = json!({"data": {"DATABASE_URL": "x"}});
        assert_eq!(
            eval("has(object.data.DATABASE_URL)", object.clone()),
            Ok(true)
        );
        assert_eq!(
            eval("has(object.data.OIDC_ISSUER)", object.clone()),
            Ok(false)
        );
        assert_eq!(
            eval(
                "has(object.data.DATABASE_URL) && has(object.data.OIDC_ISSUER)",
                object
            ),
            Ok(false)
        );
    }

    #[test]
    fn missing_field_names_the_full_path() {
        let object = json!({"data": {"DATABASE_URL": "x"}});
        assert_eq!(
            eval("object.data.OIDC_ISSUER != ''", object.clone()),
            Err(EvalError::MissingField("object.data.OIDC_ISSUER".into()))
        );
        assert_eq!(
            eval("object.metadata.labels['app'] == 'x'", object.clone()),
            Err(EvalError::MissingField("object.metadata".into()))
        );
        let labels = json!({"metadata": {"labels": {}}});
        assert_eq!(
            eval(
                "object.metadata.labels['app.kubernetes.io/name'] == 'x'",
                labels
            ),
            Err(EvalError::MissingField(
                "object.metadata.labels[\"app.kubernetes.io/name\"]".into()
            ))
        );
        assert_eq!(
            EvalError::MissingField("object.data.OIDC_ISSUER".into()).to_string(),
            "no field object.data.OIDC_ISSUER"
        );
    }

    #[test]
    fn missing_field_inside_a_macro_names_the_element() {
        let object = json!({"spec": {"containers": [
            {"name": "a", "resources": {"limits": {"memory": "1Gi"}}},
            {"name": "b", "resources": {}},
        ]}});
        assert_eq!(
            eval(
                "object.spec.containers.all(c, quantity(c.resources.limits.memory) <= quantity('2Gi'))",
                object
            ),
            Err(EvalError::MissingField(
                "object.spec.containers[1].resources.limits".into()
            ))
        );
    }

    #[test]
    fn errors_follow_cel_logic() {
        let object = json!({"data": {}});
        assert_eq!(
            eval("object.data.X == 'a' || true", object.clone()),
            Ok(true)
        );
        assert_eq!(
            eval("object.data.X == 'a' && false", object.clone()),
            Ok(false)
        );
        assert!(matches!(
            eval("object.data.X == 'a' || false", object),
            Err(EvalError::MissingField(_))
        ));
    }

    #[test]
    fn non_bool_results_are_reported() {
        assert_eq!(
            eval("object.spec.replicas", json!({"spec": {"replicas": 3}})),
            Err(EvalError::NotBool("int 3".into()))
        );
    }

    #[test]
    fn strings_and_lists_extensions_are_available() {
        let object = json!({"name": "grafana", "ports": [3, 1, 2, 1]});
        assert_eq!(
            eval("object.name.upperAscii() == 'GRAFANA'", object.clone()),
            Ok(true)
        );
        assert_eq!(
            eval("'a,b'.split(',').size() == 2", object.clone()),
            Ok(true)
        );
        assert_eq!(
            eval(
                "object.ports.distinct().sort() == [1, 2, 3]",
                object.clone()
            ),
            Ok(true)
        );
        assert_eq!(eval("lists.range(3) == [0, 1, 2]", object), Ok(true));
    }

    #[test]
    fn matches_uses_regexes() {
        let object = json!({"image": "ghcr.io/acme/app:1.2.3"});
        assert_eq!(
            eval("object.image.matches(':[0-9.]+$')", object.clone()),
            Ok(true)
        );
        assert_eq!(eval("matches(object.image, ':latest$')", object), Ok(false));
    }

    #[test]
    fn quantities_compare_by_value() {
        let cases = [
            "quantity('500Mi') < quantity('1Gi')",
            "quantity('100m') < quantity('1')",
            "quantity('2') == quantity('2000m')",
            "quantity('1e3') == quantity('1k')",
            "quantity('1.5') == quantity('1500m')",
            "quantity('0.1') == quantity('100m')",
            "quantity('1Ki') == 1024.0",
            "quantity('256Mi') == quantity(268435456)",
            "quantity('-1') < quantity('0')",
            "quantity('500m').isLessThan(quantity('1'))",
            "quantity('2Gi').compareTo(quantity('2048Mi')) == 0",
            "quantity('1k').asInteger() == 1000",
            "isQuantity('10Gi') && !isQuantity('10 Gi') && !isQuantity('Gi')",
        ];
        for case in cases {
            assert_eq!(eval(case, json!({})), Ok(true), "{case}");
        }
        let object = json!({"limits": {"memory": "768Mi"}});
        assert_eq!(
            eval(
                "quantity(object.limits.memory) <= quantity('1Gi')",
                object.clone()
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "quantity(object.limits.memory) <= quantity('512Mi')",
                object
            ),
            Ok(false)
        );
    }

    #[test]
    fn bad_quantities_are_errors() {
        for bad in ["", "abc", "1.2.3", "5 Mi", "1e", "10KiB", "."] {
            assert_eq!(quantity::parse(bad), None, "{bad:?}");
        }
        let err = eval("quantity('lots') > 0.0", json!({})).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"lots\" is not a Kubernetes quantity"),
            "{err}"
        );
    }

    #[test]
    fn bad_literal_regex_is_a_compile_error_at_the_literal() {
        let source = "object.name.matches('[a-z')";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.find('\'').unwrap());
        assert!(
            err.message.starts_with("invalid regular expression: "),
            "{}",
            err.message
        );

        let source = "has(object.x) && matches(object.x, 'ok(')";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.find("'ok(").unwrap());

        // Non-ASCII text before the literal: offsets are in bytes.
        let source = "object.name == 'é' || object.name.matches('(')";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.rfind('\'').unwrap() - 2);
    }

    #[test]
    fn syntax_error_offset_points_at_the_problem() {
        let source = "object.spec.replicas >>= 2";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.find(">>").unwrap() + 1, "{err:?}");

        let source = "object.name == 'é' && ) true";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.find(')').unwrap(), "{err:?}");

        let source = "object.spec.replicas ==\n  (1 + )";
        let err = compile(source).unwrap_err();
        assert_eq!(err.offset, source.find(')').unwrap(), "{err:?}");
    }

    #[test]
    fn expectations_can_cross_tasks() {
        fn shared<T: Send + Sync + 'static>(_: &T) {}
        shared(&compile("true").expect("a literal compiles"));
    }

    #[test]
    fn only_the_fields_an_expression_names_are_converted() {
        let e = compile(
            "object.spec.replicas >= 2 && has(object.metadata.labels) \
             && object.spec.template.spec.containers.all(c, c.image != '')",
        )
        .expect("compiles");
        let Needed::Fields(top) = e.reads.of_var("object") else {
            panic!("object is read in part: {:?}", e.reads)
        };
        let mut keys: Vec<&String> = top.keys().collect();
        keys.sort();
        assert_eq!(keys, ["metadata", "spec"]);
        let Needed::Fields(spec) = &top["spec"] else {
            panic!("spec is read in part")
        };
        assert_eq!(spec["replicas"], Needed::All);
        let pod = serde_json::json!({
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"big": "x"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "web:1"}]}}},
            "status": {"conditions": [{"type": "Ready"}]}
        });
        assert_eq!(evaluate(&e, &[("object", &pod)]), Ok(true));
        // Used whole (iterated, or named alone), a variable is converted whole.
        let whole = compile("objects.exists(o, o.metadata.name == 'web')").expect("compiles");
        assert_eq!(whole.reads.of_var("objects"), &Needed::All);
        let bare = compile("size(object) > 2").expect("compiles");
        assert_eq!(bare.reads.of_var("object"), &Needed::All);
        // A missing field is still missing, as on the whole object.
        let missing = compile("object.spec.paused").expect("compiles");
        assert!(matches!(
            evaluate(&missing, &[("object", &pod)]),
            Err(EvalError::MissingField(_))
        ));
    }

    #[test]
    fn to_cel_keeps_json_shapes() {
        assert_eq!(to_cel(&json!(1)), Value::Int(1));
        assert_eq!(to_cel(&json!(u64::MAX)), Value::UInt(u64::MAX));
        assert_eq!(to_cel(&json!(1.5)), Value::Float(1.5));
        assert_eq!(to_cel(&json!(null)), Value::Null);
        assert_eq!(
            to_cel(&json!(["a"])),
            Value::List(Arc::new(vec![Value::String(Arc::new("a".into()))]))
        );
    }
}
