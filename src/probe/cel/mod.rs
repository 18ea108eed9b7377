//! CEL: compiling `expect` expressions once at load time and evaluating them
//! against the JSON a probe saw (compact documents, `doc::Doc`), read
//! through views rather than converted (`json_view`), with the
//! Kubernetes-style `quantity()` helper.
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

use cel::common::ast::{ComprehensionExpr, Expr, IdedExpr, LiteralValue, operators};
use cel::common::types::{CelBool, CelDouble, CelInt, CelString};
use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Value};

use crate::checklist::model::Expect;
use crate::doc::{Json, Kind, Number};

pub use super::names::{NameError, Shape, check_names, variables};

pub mod meter;

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
    /// It would have taken more than one evaluation may.
    Stopped(meter::Stop),
    Other(String),
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::MissingField(path) => write!(f, "no field {path}"),
            EvalError::NotBool(got) => write!(f, "expected true or false, got {got}"),
            EvalError::Stopped(stop) => write!(f, "{stop}"),
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
    env.add_extension(meter::extension)
        .expect("the meter's calls are named so that nothing else can be");
    env
}

/// Compiles `source`, checking the literal regexes of `matches()` calls too,
/// since a bad one would otherwise only fail when the probe runs.
///
/// An expression is compiled once per process: loading validates every
/// checklist for every environment and then resolves the chosen one, and
/// most expressions read the same in each, so the same text is asked for
/// several times. Compiling (the parser and its regexes) was half of a
/// whole `gonogo check` over a 74-check review before this.
pub fn compile(source: &str) -> Result<Expect, SyntaxError> {
    static COMPILED: LazyLock<std::sync::Mutex<HashMap<String, Result<Expect, SyntaxError>>>> =
        LazyLock::new(Default::default);
    let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(done) = compiled.get(source) {
        return done.clone();
    }
    let done = compile_anew(source);
    compiled.insert(source.to_string(), done.clone());
    done
}

fn compile_anew(source: &str) -> Result<Expect, SyntaxError> {
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
    let guarded = Arc::new(meter::guard(program.expression()));
    Ok(Expect {
        source: source.to_string(),
        program: Arc::new(program),
        guarded,
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

/// How an expression reads its variables: for each variable it names, what
/// of it; and whether it can read them through views of the JSON at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reads {
    fields: HashMap<String, Needed>,
    binding: Binding,
}

/// How `evaluate` binds the JSON variables of an expression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Binding {
    /// Each variable is a view of its JSON (`json_view`): a field becomes a
    /// CEL value when the expression reads it, and nothing is copied.
    #[default]
    View,
    /// The fields the expression names are converted to CEL values first.
    /// For an expression that may compare a list or map it builds itself
    /// (`[80, 443] == object.ports`, `object.x in [{'a': 1}]`) with data:
    /// CEL's own list and map are only ever equal to their own kind, so they
    /// would call a view of the same values unequal.
    Converted,
}

impl Reads {
    /// Walks the expression: a chain of field selections from a variable
    /// (`object.spec.template`, also inside `has()`) needs that field; a
    /// variable used any other way (iterated, indexed with a computed key,
    /// passed to a function) is needed whole.
    pub fn of(expr: &IdedExpr) -> Reads {
        let mut reads = Reads::default();
        reads.walk(expr);
        if Built::default().compared_with_data(expr) {
            reads.binding = Binding::Converted;
        }
        reads
    }

    /// What of `name` is read; all of it for a name the walk never saw.
    pub fn of_var(&self, name: &str) -> &Needed {
        static ALL: Needed = Needed::All;
        self.fields.get(name).unwrap_or(&ALL)
    }

    /// How `evaluate` binds the variables.
    pub fn binding(&self) -> Binding {
        self.binding
    }

    fn need(&mut self, name: &str, path: &[String]) {
        self.fields
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
pub(crate) fn to_cel_needed(v: Json, needed: &Needed) -> Value {
    match needed {
        Needed::Fields(fields) if v.is_map() => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .filter_map(|(name, inner)| {
                    let value = v.get(name)?;
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

/// Operators and functions whose result is never a list or map.
const SCALAR_RESULTS: &[&str] = &[
    operators::LOGICAL_AND,
    operators::LOGICAL_OR,
    operators::LOGICAL_NOT,
    operators::NOT_STRICTLY_FALSE,
    operators::EQUALS,
    operators::NOT_EQUALS,
    operators::LESS,
    operators::LESS_EQUALS,
    operators::GREATER,
    operators::GREATER_EQUALS,
    operators::IN,
    operators::SUBSTRACT,
    operators::MULTIPLY,
    operators::DIVIDE,
    operators::MODULO,
    operators::NEGATE,
    "size",
    "int",
    "uint",
    "double",
    "string",
    "bool",
    "bytes",
    "type",
    "timestamp",
    "duration",
    "matches",
    "startsWith",
    "endsWith",
    "contains",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "substring",
    "trim",
    "join",
    "format",
    "quantity",
    "isQuantity",
    "isLessThan",
    "isGreaterThan",
    "compareTo",
    "asInteger",
    "asApproximateFloat",
];

/// Where an expression may meet CEL's own lists and maps: which of its
/// values may be a list or map it builds (or a value held in one), and
/// whether such a value is ever the side of an equality that decides it.
/// `scope` holds the comprehension variables, innermost last, each with
/// whether what it is bound to may be built.
#[derive(Default)]
struct Built {
    scope: Vec<(String, bool)>,
}

impl Built {
    /// Whether some `==`, `!=`, `in` or `distinct()` in `expr` may run the
    /// equality of a list or map the expression built, with data on the
    /// other side. CEL runs the left side's equality, and a list's `in` runs
    /// its elements'; a view of the JSON compares with anything itself.
    fn compared_with_data(&mut self, expr: &IdedExpr) -> bool {
        let here = match &expr.expr {
            Expr::Call(call) => match (call.func_name.as_str(), call.args.as_slice()) {
                (operators::EQUALS | operators::NOT_EQUALS, [left, right]) => {
                    self.may_build(left) && !is_constant(right)
                }
                (operators::IN, [item, range]) => {
                    self.elements_may_build(range) && !is_constant(item)
                }
                ("distinct", []) => call
                    .target
                    .as_deref()
                    .is_some_and(|list| self.elements_may_build(list)),
                _ => false,
            },
            _ => false,
        };
        here || self.inside_compared(expr)
    }

    fn inside_compared(&mut self, expr: &IdedExpr) -> bool {
        match &expr.expr {
            Expr::Comprehension(c) => {
                self.compared_with_data(&c.iter_range)
                    || self.compared_with_data(&c.accu_init)
                    || self.within(c, |built| {
                        [&c.loop_cond, &c.loop_step, &c.result]
                            .into_iter()
                            .any(|part| built.compared_with_data(part))
                    })
            }
            Expr::Call(call) => call
                .target
                .as_deref()
                .into_iter()
                .chain(&call.args)
                .any(|part| self.compared_with_data(part)),
            Expr::Select(select) => self.compared_with_data(&select.operand),
            Expr::List(list) => list.elements.iter().any(|e| self.compared_with_data(e)),
            Expr::Map(_) | Expr::Struct(_) => entry_values(expr)
                .into_iter()
                .any(|e| self.compared_with_data(e)),
            Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => false,
        }
    }

    /// Whether `expr` may evaluate to a list or map CEL builds (a literal,
    /// the result of `map()`, `+` or a function), or to a value held in one.
    /// A variable, and anything read from it, is data.
    fn may_build(&mut self, expr: &IdedExpr) -> bool {
        match &expr.expr {
            Expr::Literal(_) => false,
            Expr::Ident(name) => self.bound_to_built(name),
            Expr::Select(select) => !select.test && self.may_build(&select.operand),
            Expr::Comprehension(c) => self.within(c, |built| built.may_build(&c.result)),
            Expr::Call(call) => match (call.func_name.as_str(), call.args.as_slice()) {
                (operators::INDEX | operators::OPT_INDEX | "dyn", [operand, ..]) => {
                    self.may_build(operand)
                }
                (operators::CONDITIONAL, [_, yes, no]) => self.may_build(yes) || self.may_build(no),
                (name, _) => !SCALAR_RESULTS.contains(&name),
            },
            Expr::List(_) | Expr::Map(_) | Expr::Struct(_) | Expr::Unspecified => true,
        }
    }

    /// Whether what iterating `range`, or `in` on it, compares may be built:
    /// not for a literal list of scalars, nor for a map's keys.
    fn elements_may_build(&mut self, range: &IdedExpr) -> bool {
        match &range.expr {
            Expr::List(list) => list.elements.iter().any(|e| self.may_build(e)),
            Expr::Map(_) => false,
            _ => self.may_build(range),
        }
    }

    fn bound_to_built(&self, name: &str) -> bool {
        self.scope
            .iter()
            .rev()
            .find(|(bound, _)| bound == name)
            .is_some_and(|(_, built)| *built)
    }

    /// Runs `f` with the variables of `c` in scope. An accumulator that
    /// starts as a literal (`all`, `exists`, `exists_one`) stays a scalar.
    fn within<T>(&mut self, c: &ComprehensionExpr, f: impl FnOnce(&mut Self) -> T) -> T {
        let element = self.elements_may_build(&c.iter_range);
        let accumulator = !matches!(c.accu_init.expr, Expr::Literal(_));
        let depth = self.scope.len();
        self.scope.push((c.iter_var.clone(), element));
        if let Some(second) = &c.iter_var2 {
            self.scope.push((second.clone(), element));
        }
        self.scope.push((c.accu_var.clone(), accumulator));
        let out = f(self);
        self.scope.truncate(depth);
        out
    }
}

/// Whether `expr` is written out in full: a literal, or a list or map of
/// them.
fn is_constant(expr: &IdedExpr) -> bool {
    match &expr.expr {
        Expr::Literal(_) => true,
        Expr::List(list) => list.elements.iter().all(is_constant),
        Expr::Map(_) => entry_values(expr).into_iter().all(is_constant),
        _ => false,
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

/// A JSON number as CEL reads it: integers are `int` (not `uint`, as serde
/// would make them) so that `object.spec.replicas + 1` type-checks; only
/// integers above `i64::MAX` stay `uint` (which is how `doc::Number` keeps
/// them).
fn number(n: Number) -> Value {
    match n {
        Number::Int(i) => Value::Int(i),
        Number::UInt(u) => Value::UInt(u),
        Number::Float(d) => Value::Float(d),
    }
}

/// Converts JSON to a CEL value, numbers as `number` reads them.
pub fn to_cel(v: Json) -> Value {
    match v.kind() {
        Kind::Null => Value::Null,
        Kind::Bool => Value::Bool(v.as_bool() == Some(true)),
        Kind::Number => v.as_number().map_or(Value::Null, number),
        Kind::String => Value::String(Arc::new(v.as_str().unwrap_or_default().to_owned())),
        Kind::List => Value::List(Arc::new(v.items().map(to_cel).collect())),
        Kind::Map => {
            let map: HashMap<Key, Value> = v
                .entries()
                .map(|(k, v)| (Key::String(Arc::new(k.to_owned())), to_cel(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Whether `expect` holds over `vars`, as a probe reports it: `Ok` when it
/// holds; otherwise the verdict and summary: a fail when it is false, an
/// error when it cannot be evaluated (a field that is not there, a type
/// that does not fit: the checklist's mistake, not the service's).
pub fn check(expect: &Expect, vars: &[(&str, Json<'_>)]) -> Result<(), (super::Verdict, String)> {
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

/// Evaluates `expect` with the named JSON values bound as variables, as
/// views of the JSON unless the expression needs them converted (see
/// `Binding`).
///
/// It is metered (see `meter`): an expression that would loop or build
/// past the limits is stopped, and says so.
pub fn evaluate(expect: &Expect, vars: &[(&str, Json<'_>)]) -> Result<bool, EvalError> {
    evaluate_within(expect, vars, meter::Limits::default())
}

/// `evaluate` within other limits than the usual ones.
pub fn evaluate_within(
    expect: &Expect,
    vars: &[(&str, Json<'_>)],
    limits: meter::Limits,
) -> Result<bool, EvalError> {
    let (result, stop) = meter::run(limits, || match expect.reads.binding() {
        Binding::View => evaluate_viewed(expect, vars),
        Binding::Converted => evaluate_converted(expect, vars),
    });
    match stop {
        Some(stop) => Err(EvalError::Stopped(stop)),
        None => result,
    }
}

/// Evaluates `expect` over views of the JSON. A result that is not a bool,
/// and an error worded from a view (see `misquotes_a_view`), are evaluated
/// again over converted values, so that they read exactly as they do
/// there; both only happen when the expression is wrong.
fn evaluate_viewed(expect: &Expect, vars: &[(&str, Json<'_>)]) -> Result<bool, EvalError> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in vars {
        context.add_variable_as_val(*name, json_view::bind(*value));
    }
    let result = Value::resolve_val(&expect.guarded, &context)
        .map(|value| value.downcast_ref::<CelBool>().map(|b| *b.inner()));
    match result {
        Ok(Some(holds)) => Ok(holds),
        Ok(None) => evaluate_converted(expect, vars),
        Err(e) if misquotes_a_view(&e) => evaluate_converted(expect, vars),
        Err(e) => Err(eval_error(e, expect, vars)),
    }
}

/// Evaluates `expect` with the fields it names converted to CEL values.
fn evaluate_converted(expect: &Expect, vars: &[(&str, Json<'_>)]) -> Result<bool, EvalError> {
    let mut context = Context::with_env(Arc::clone(&ENV));
    for (name, value) in vars {
        context.add_variable_from_value(*name, to_cel_needed(*value, expect.reads.of_var(name)));
    }
    match Value::resolve(&expect.guarded, &context) {
        Ok(Value::Bool(b)) => Ok(b),
        Ok(other) => Err(EvalError::NotBool(describe(&other))),
        Err(e) => Err(eval_error(e, expect, vars)),
    }
}

fn eval_error(e: ExecutionError, expect: &Expect, vars: &[(&str, Json<'_>)]) -> EvalError {
    match e {
        ExecutionError::NoSuchKey(key) => {
            EvalError::MissingField(missing_path(expect.program.expression(), &key, vars))
        }
        ExecutionError::UndeclaredReference(name) => {
            EvalError::Other(format!("unknown name {name}"))
        }
        e => EvalError::Other(e.to_string()),
    }
}

/// Whether `e` may be worded from a view of the JSON, which CEL cannot turn
/// into a `Value` to quote it: it quotes `null` instead (`1 + object.spec`)
/// or fails on the conversion itself (`'a' + object.spec.ports`).
fn misquotes_a_view(e: &ExecutionError) -> bool {
    let quoted: &[&Value] = match e {
        ExecutionError::UnexpectedType { want, .. } => {
            return want == "a type representable as `Value`";
        }
        ExecutionError::UnsupportedBinaryOperator(_, a, b)
        | ExecutionError::ValuesNotComparable(a, b)
        | ExecutionError::UnsupportedIndex(a, b)
        | ExecutionError::Overflow(_, a, b) => &[a, b],
        ExecutionError::UnsupportedKeyType(v)
        | ExecutionError::IndexOutOfBounds(v)
        | ExecutionError::DuplicateKey(v)
        | ExecutionError::DivisionByZero(v)
        | ExecutionError::RemainderByZero(v)
        | ExecutionError::UnsupportedTargetType { target: v }
        | ExecutionError::NotSupportedAsMethod { target: v, .. } => &[v],
        _ => &[],
    };
    quoted.iter().any(|v| matches!(v, Value::Null))
}

/// `int 3`, `string "abc"`: what a non-bool result was, kept short.
fn describe(value: &Value) -> String {
    let shown = value
        .json()
        .map_or_else(|_| format!("{value:?}"), |j| j.to_string());
    format!("{} {}", value.type_of(), crate::text::truncate(&shown, 60))
}

/// One step of a path an expression reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Field(String),
    Index(i64),
    /// Any element of a list, as bound by `all`, `exists`, `map`, ...
    Each,
}

/// A path an expression reads: a variable and the steps from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub root: String,
    pub steps: Vec<Step>,
}

impl Path {
    /// Whether `self` names `other` or a field within it: an `Each` step
    /// stands for any position.
    pub fn covers(&self, other: &Path) -> bool {
        self.root == other.root
            && self.steps.len() <= other.steps.len()
            && self
                .steps
                .iter()
                .zip(&other.steps)
                .all(|(a, b)| match (a, b) {
                    (Step::Each, Step::Index(_) | Step::Each) => true,
                    (a, b) => a == b,
                })
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&render(self))
    }
}

/// Names the field `key` the expression failed to read, as a full path such as
/// `object.data.OIDC_ISSUER` or `object.spec.containers[1].resources.limits`.
/// Each read of `key` in the expression is a candidate; the first one that is
/// really absent from the bound JSON wins.
fn missing_path(expr: &IdedExpr, key: &str, vars: &[(&str, Json<'_>)]) -> String {
    let mut candidates = Vec::new();
    collect_reads(expr, key, &HashMap::new(), &mut candidates);
    let concrete = candidates.iter().find_map(|path| {
        let (_, root) = vars.iter().find(|(name, _)| *name == path.root)?;
        locate_absent(*root, &path.steps, path.root.clone())
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
/// literal indexes; a comprehension variable in `scope` stands for the path
/// it is bound to.
pub(crate) fn path_of(expr: &IdedExpr, scope: &HashMap<String, Path>) -> Option<Path> {
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
fn locate_absent(value: Json, steps: &[Step], so_far: String) -> Option<String> {
    let (step, rest) = steps.split_first()?;
    match step {
        Step::Field(name) => {
            if !value.is_map() {
                return None;
            }
            let next = value.get(name);
            let here = format!("{so_far}{}", render_field(name));
            match (next, rest.is_empty()) {
                (None, true) => Some(here),
                (Some(next), false) => locate_absent(next, rest, here),
                _ => None,
            }
        }
        Step::Index(i) => {
            let next = value.items().nth(usize::try_from(*i).ok()?)?;
            locate_absent(next, rest, format!("{so_far}[{i}]"))
        }
        Step::Each => value
            .items()
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

/// CEL values that are views of a borrowed document, so that evaluating
/// `object.spec.replicas >= 2` on a Pod reads two fields of it instead of
/// converting it. An object is a map and an array a list. A field becomes
/// a CEL value when the expression reads it. The entries of a map are made
/// when the expression iterates over it or compares it, the elements of a
/// list when it reads any, one level at a time: CEL borrows them from the
/// view then. A string is borrowed from the document's text, not copied;
/// numbers are read as `to_cel` reads them.
/// Everything a view does matches what CEL's own list and map do with the
/// converted values, errors included.
mod json_view {
    use std::sync::{Arc, OnceLock};

    use cel::common::traits::{self, Adder, Container, Indexer, Iterable, Sizer, Zeroer};
    use cel::common::types::{
        CelBool, CelDouble, CelInt, CelList, CelNull, CelString, CelUInt, Kind, LIST_TYPE,
        MAP_TYPE, Type,
    };
    use cel::common::value::{CowVal, Val};
    use cel::{ExecutionError, Value};

    use super::to_cel;
    use crate::doc::{self, Json, Number};

    /// `json` as the value of a variable.
    pub(super) fn bind(json: Json<'_>) -> Box<dyn Val + '_> {
        Node::of(json).boxed()
    }

    /// One JSON value as CEL sees it: a leaf is CEL's own value (a string
    /// borrowing the JSON's), an object or array a view.
    #[derive(Debug)]
    enum Node<'v> {
        Null(CelNull),
        Bool(CelBool),
        Int(CelInt),
        UInt(CelUInt),
        Double(CelDouble),
        String(CelString<'v>),
        Map(JsonMap<'v>),
        List(JsonList<'v>),
    }

    impl<'v> Node<'v> {
        fn of(json: Json<'v>) -> Node<'v> {
            match json.kind() {
                doc::Kind::Null => Node::Null(CelNull),
                doc::Kind::Bool => Node::Bool(CelBool::from(json.as_bool() == Some(true))),
                doc::Kind::Number => match json.as_number() {
                    Some(Number::Int(i)) => Node::Int(CelInt::from(i)),
                    Some(Number::UInt(u)) => Node::UInt(CelUInt::from(u)),
                    Some(Number::Float(d)) => Node::Double(CelDouble::from(d)),
                    None => Node::Null(CelNull),
                },
                doc::Kind::String => {
                    Node::String(CelString::from(json.as_str().unwrap_or_default()))
                }
                doc::Kind::List => Node::List(JsonList::new(json)),
                doc::Kind::Map => Node::Map(JsonMap::new(json)),
            }
        }

        fn as_val(&self) -> &(dyn Val + 'v) {
            match self {
                Node::Null(v) => v,
                Node::Bool(v) => v,
                Node::Int(v) => v,
                Node::UInt(v) => v,
                Node::Double(v) => v,
                Node::String(v) => v,
                Node::Map(v) => v,
                Node::List(v) => v,
            }
        }

        fn boxed(self) -> Box<dyn Val + 'v> {
            match self {
                Node::Null(v) => Box::new(v),
                Node::Bool(v) => Box::new(v),
                Node::Int(v) => Box::new(v),
                Node::UInt(v) => Box::new(v),
                Node::Double(v) => Box::new(v),
                Node::String(v) => Box::new(v),
                Node::Map(v) => Box::new(v),
                Node::List(v) => Box::new(v),
            }
        }
    }

    /// A JSON object as a CEL `map` with string keys.
    #[derive(Debug)]
    struct JsonMap<'v> {
        fields: Json<'v>,
        /// The entries as CEL values, sorted by key (as the document keeps
        /// them), made when the map is first iterated or compared.
        entries: OnceLock<Box<[(CelString<'v>, Node<'v>)]>>,
    }

    impl<'v> JsonMap<'v> {
        fn new(fields: Json<'v>) -> Self {
            JsonMap {
                fields,
                entries: OnceLock::new(),
            }
        }

        fn entries(&self) -> &[(CelString<'v>, Node<'v>)] {
            self.entries.get_or_init(|| {
                self.fields
                    .entries()
                    .map(|(key, value)| (CelString::from(key), Node::of(value)))
                    .collect()
            })
        }

        fn find(&self, key: &str) -> Option<&Node<'v>> {
            let entries = self.entries();
            let at = entries
                .binary_search_by(|(name, _)| name.inner().cmp(key))
                .ok()?;
            Some(&entries[at].1)
        }
    }

    impl Val for JsonMap<'_> {
        fn get_type(&self) -> &Type {
            &MAP_TYPE
        }

        fn cel_type() -> &'static Type {
            &MAP_TYPE
        }

        fn as_container(&self) -> Option<&dyn Container> {
            Some(self)
        }

        fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }

        fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }

        fn as_sizer(&self) -> Option<&dyn Sizer> {
            Some(self)
        }

        fn as_zeroer(&self) -> Option<&dyn Zeroer> {
            Some(self)
        }

        /// As CEL's map: the same size, and each of our keys in `other` with
        /// an equal value. `other` may be CEL's map or a view.
        fn equals(&self, other: &dyn Val) -> bool {
            if other.get_type().kind() != Kind::Map {
                return false;
            }
            let (Some(size), Some(other)) = (other.as_sizer(), other.as_indexer()) else {
                return false;
            };
            *size.size().inner() == self.fields.len() as i64
                && self.entries().iter().all(|(key, value)| {
                    other
                        .get(key)
                        .is_ok_and(|theirs| value.as_val().equals(theirs.as_ref()))
                })
        }

        /// A fresh view of the same JSON: what the original has made of its
        /// entries is made again when the copy is looked into.
        fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
        where
            Self: 'w,
        {
            Box::new(JsonMap::new(self.fields))
        }
    }

    impl Indexer for JsonMap<'_> {
        fn get<'b, 'w>(&'b self, key: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
        where
            Self: 'w,
        {
            let Some(name) = key.downcast_ref::<CelString>() else {
                return Err(not_a_string_key(key));
            };
            let missing = || ExecutionError::NoSuchKey(Arc::new(name.inner().to_owned()));
            // Reading one field is one lookup and one small value, not the
            // whole map's entries; those are made only to iterate or compare.
            if self.entries.get().is_none() {
                let field = self.fields.get(name.inner()).ok_or_else(missing)?;
                return Ok(CowVal::Owned(Node::of(field).boxed()));
            }
            let node = self.find(name.inner()).ok_or_else(missing)?;
            Ok(CowVal::Borrowed(node.as_val()))
        }

        fn steal<'w>(self: Box<Self>, key: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
        where
            Self: 'w,
        {
            self.get(key).map(CowVal::into_owned)
        }
    }

    /// A lookup with a key that is not a string: as in CEL's map, another
    /// kind of key is simply not there, and a value that cannot be a key at
    /// all is the wrong type.
    fn not_a_string_key(key: &dyn Val) -> ExecutionError {
        let shown = if let Some(i) = key.downcast_ref::<CelInt>() {
            i.inner().to_string()
        } else if let Some(u) = key.downcast_ref::<CelUInt>() {
            u.inner().to_string()
        } else if let Some(d) = key.downcast_ref::<CelDouble>() {
            d.inner().to_string()
        } else if let Some(b) = key.downcast_ref::<CelBool>() {
            b.inner().to_string()
        } else {
            return ExecutionError::UnexpectedType {
                got: key.get_type().name().to_owned(),
                want: "map key".to_owned(),
            };
        };
        ExecutionError::NoSuchKey(Arc::new(shown))
    }

    impl Container for JsonMap<'_> {
        fn contains(&self, key: &dyn Val) -> Result<bool, ExecutionError> {
            match key.downcast_ref::<CelString>() {
                Some(name) => Ok(self.fields.get(name.inner()).is_some()),
                None => match not_a_string_key(key) {
                    ExecutionError::NoSuchKey(_) => Ok(false),
                    _ => Err(ExecutionError::UnsupportedKeyType(
                        Value::try_from(key).unwrap_or(Value::Null),
                    )),
                },
            }
        }
    }

    impl Iterable for JsonMap<'_> {
        fn iter<'b, 'w>(&'b self) -> Box<dyn traits::Iterator<'b, 'w> + 'b>
        where
            Self: 'w,
        {
            Box::new(Keys(self.entries().iter()))
        }
    }

    struct Keys<'b, 'v>(std::slice::Iter<'b, (CelString<'v>, Node<'v>)>);

    impl<'b, 'v: 'w, 'w> traits::Iterator<'b, 'w> for Keys<'b, 'v> {
        fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
            self.0.next().map(|(key, _)| key as &(dyn Val + 'w))
        }
    }

    impl Sizer for JsonMap<'_> {
        fn size(&self) -> CelInt {
            CelInt::from(self.fields.len() as i64)
        }
    }

    impl Zeroer for JsonMap<'_> {
        fn is_zero_value(&self) -> bool {
            self.fields.is_empty()
        }
    }

    /// A JSON array as a CEL `list`.
    #[derive(Debug)]
    struct JsonList<'v> {
        items: Json<'v>,
        /// The elements as CEL values, made on first use.
        nodes: OnceLock<Box<[Node<'v>]>>,
    }

    impl<'v> JsonList<'v> {
        fn new(items: Json<'v>) -> Self {
            JsonList {
                items,
                nodes: OnceLock::new(),
            }
        }

        fn nodes(&self) -> &[Node<'v>] {
            self.nodes
                .get_or_init(|| self.items.items().map(Node::of).collect())
        }

        /// The list as CEL's own, for the messages that quote it.
        fn quoted(&self) -> Value {
            to_cel(self.items)
        }

        /// The position `index` names, as CEL's list reads it: an `int`, a
        /// `uint` or a whole `double`.
        fn position(&self, index: &dyn Val) -> Result<usize, ExecutionError> {
            let kind = index.get_type().kind();
            if let (Kind::Int, Some(i)) = (kind, index.downcast_ref::<CelInt>()) {
                let i = *i.inner();
                return usize::try_from(i).map_err(|_| ExecutionError::IndexOutOfBounds(i.into()));
            }
            if let (Kind::UInt, Some(u)) = (kind, index.downcast_ref::<CelUInt>()) {
                let u = *u.inner();
                return usize::try_from(u).map_err(|_| ExecutionError::IndexOutOfBounds(u.into()));
            }
            if let (Kind::Double, Some(d)) = (kind, index.downcast_ref::<CelDouble>()) {
                let d = *d.inner();
                // The bounds first: `as` saturates, so 2^63 would round-trip.
                let whole = (d > i64::MIN as f64 && d < i64::MAX as f64 && (d as i64) as f64 == d)
                    .then_some(d as i64)
                    .ok_or_else(|| ExecutionError::UnsupportedIndex(d.into(), self.quoted()))?;
                return usize::try_from(whole)
                    .map_err(|_| ExecutionError::IndexOutOfBounds(whole.into()));
            }
            Err(ExecutionError::UnexpectedType {
                got: index.get_type().name().to_owned(),
                want: "int|uint|double".to_owned(),
            })
        }
    }

    impl Val for JsonList<'_> {
        fn get_type(&self) -> &Type {
            &LIST_TYPE
        }

        fn cel_type() -> &'static Type {
            &LIST_TYPE
        }

        fn as_adder<'b, 'w>(&'b self) -> Option<&'b (dyn Adder + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }

        fn as_container(&self) -> Option<&dyn Container> {
            Some(self)
        }

        fn as_indexer<'b, 'w>(&'b self) -> Option<&'b (dyn Indexer + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }

        fn as_iterable<'b, 'w>(&'b self) -> Option<&'b (dyn Iterable + 'w)>
        where
            Self: 'w,
        {
            Some(self)
        }

        fn as_sizer(&self) -> Option<&dyn Sizer> {
            Some(self)
        }

        fn as_zeroer(&self) -> Option<&dyn Zeroer> {
            Some(self)
        }

        /// As CEL's list: the same size, and equal elements in order.
        /// `other` may be CEL's list or a view.
        fn equals(&self, other: &dyn Val) -> bool {
            if other.get_type().kind() != Kind::List {
                return false;
            }
            let (Some(size), Some(other)) = (other.as_sizer(), other.as_iterable()) else {
                return false;
            };
            if *size.size().inner() != self.items.len() as i64 {
                return false;
            }
            let mut theirs = other.iter();
            self.nodes()
                .iter()
                .all(|ours| theirs.next().is_some_and(|t| ours.as_val().equals(t)))
        }

        /// A fresh view of the same JSON, as for a map.
        fn clone_as_boxed<'w>(&self) -> Box<dyn Val + 'w>
        where
            Self: 'w,
        {
            Box::new(JsonList::new(self.items))
        }
    }

    impl Indexer for JsonList<'_> {
        fn get<'b, 'w>(&'b self, index: &dyn Val) -> Result<CowVal<'b, 'w>, ExecutionError>
        where
            Self: 'w,
        {
            let at = self.position(index)?;
            match self.nodes().get(at) {
                Some(node) => Ok(CowVal::Borrowed(node.as_val())),
                None => Err(ExecutionError::IndexOutOfBounds(
                    Value::try_from(index).unwrap_or(Value::Null),
                )),
            }
        }

        fn steal<'w>(self: Box<Self>, index: &dyn Val) -> Result<Box<dyn Val + 'w>, ExecutionError>
        where
            Self: 'w,
        {
            self.get(index).map(CowVal::into_owned)
        }
    }

    /// `+`: a new CEL list of our elements (still views) and those of any
    /// list on the right.
    impl Adder for JsonList<'_> {
        fn add<'b, 'w>(&'b self, rhs: &(dyn Val + 'w)) -> Result<CowVal<'b, 'w>, ExecutionError>
        where
            Self: 'w,
        {
            let Some(theirs) = rhs.as_iterable() else {
                return Err(ExecutionError::UnsupportedBinaryOperator(
                    "add",
                    self.quoted(),
                    Value::try_from(rhs).unwrap_or(Value::Null),
                ));
            };
            let mut joined: Vec<Box<dyn Val + 'w>> = Vec::with_capacity(self.items.len());
            joined.extend(self.items.items().map(|item| Node::of(item).boxed()));
            let mut theirs = theirs.iter();
            while let Some(item) = theirs.next() {
                joined.push(item.clone_as_boxed());
            }
            Ok(CowVal::owned(CelList::from(joined)))
        }
    }

    impl Container for JsonList<'_> {
        fn contains(&self, value: &dyn Val) -> Result<bool, ExecutionError> {
            Ok(self.nodes().iter().any(|node| node.as_val().equals(value)))
        }
    }

    impl Iterable for JsonList<'_> {
        fn iter<'b, 'w>(&'b self) -> Box<dyn traits::Iterator<'b, 'w> + 'b>
        where
            Self: 'w,
        {
            Box::new(Elements(self.nodes().iter()))
        }
    }

    struct Elements<'b, 'v>(std::slice::Iter<'b, Node<'v>>);

    impl<'b, 'v: 'w, 'w> traits::Iterator<'b, 'w> for Elements<'b, 'v> {
        fn next(&mut self) -> Option<&'b (dyn Val + 'w)> {
            self.0.next().map(|node| node.as_val() as &(dyn Val + 'w))
        }
    }

    impl Sizer for JsonList<'_> {
        fn size(&self) -> CelInt {
            CelInt::from(self.items.len() as i64)
        }
    }

    impl Zeroer for JsonList<'_> {
        fn is_zero_value(&self) -> bool {
            self.items.is_empty()
        }
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
    use crate::doc::Doc;
    use serde_json::json;

    fn eval(source: &str, object: serde_json::Value) -> Result<bool, EvalError> {
        let expect = compile(source).expect("test expressions compile");
        let object = Doc::from_value(&object);
        evaluate(&expect, &[("object", object.root())])
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
        let pod = Doc::from_value(&serde_json::json!({
            "metadata": {"name": "web", "labels": {"app": "web"}, "annotations": {"big": "x"}},
            "spec": {"replicas": 3, "template": {"spec": {"containers": [{"image": "web:1"}]}}},
            "status": {"conditions": [{"type": "Ready"}]}
        }));
        let pod = pod.root();
        assert_eq!(evaluate(&e, &[("object", pod)]), Ok(true));
        // Used whole (iterated, or named alone), a variable is converted whole.
        let whole = compile("objects.exists(o, o.metadata.name == 'web')").expect("compiles");
        assert_eq!(whole.reads.of_var("objects"), &Needed::All);
        let bare = compile("size(object) > 2").expect("compiles");
        assert_eq!(bare.reads.of_var("object"), &Needed::All);
        // A missing field is still missing, as on the whole object.
        let missing = compile("object.spec.paused").expect("compiles");
        assert!(matches!(
            evaluate(&missing, &[("object", pod)]),
            Err(EvalError::MissingField(_))
        ));
    }

    /// A Pod-like object with every JSON shape: maps, lists of scalars,
    /// of lists and of maps, an empty list and map, a double, a `null` and
    /// an integer above `i64::MAX`.
    fn sample() -> serde_json::Value {
        json!({
            "metadata": {
                "name": "web",
                "labels": {"app": "web", "tier": "front"},
                "annotations": {}
            },
            "spec": {
                "replicas": 3,
                "ratio": 0.5,
                "big": u64::MAX,
                "paused": false,
                "nothing": null,
                "ports": [80, 443],
                "names": ["a", "b"],
                "empty": [],
                "matrix": [[1, 2], [3]],
                "selector": {"app": "web"},
                "containers": [
                    {"name": "app", "image": "r/app:1", "resources": {"limits": {"memory": "512Mi"}}},
                    {"name": "side", "image": "r/side:latest", "resources": {}}
                ]
            }
        })
    }

    /// `source` over `object` as `evaluate` does it and over today's
    /// conversion of the fields it names: the two must agree.
    fn both_ways(source: &str, object: &serde_json::Value) -> Result<bool, EvalError> {
        let expect = compile(source).expect("test expressions compile");
        let doc = Doc::from_value(object);
        let vars = [("object", doc.root())];
        let converted = evaluate_converted(&expect, &vars);
        assert_eq!(evaluate(&expect, &vars), converted, "{source}");
        let reference = over_a_value(&expect, object);
        assert!(
            agree(&evaluate(&expect, &vars), &reference),
            "{source}: {:?} over the document, {reference:?} over a serde_json::Value",
            evaluate(&expect, &vars)
        );
        converted
    }

    /// The same result, the same missing field, or the same kind of error
    /// (an error may quote only the fields the expression names).
    fn agree(a: &Result<bool, EvalError>, b: &Result<bool, EvalError>) -> bool {
        match (a, b) {
            (Ok(x), Ok(y)) => x == y,
            (Err(EvalError::MissingField(x)), Err(EvalError::MissingField(y))) => x == y,
            (Err(EvalError::NotBool(_)), Err(EvalError::NotBool(_))) => true,
            (Err(EvalError::Other(_)), Err(EvalError::Other(_))) => true,
            _ => false,
        }
    }

    /// A Pod-like object whose fields may be missing or of any JSON kind.
    fn any_object() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        let scalar = prop_oneof![
            Just(json!(null)),
            any::<bool>().prop_map(|b| json!(b)),
            (-3i64..4).prop_map(|i| json!(i)),
            prop_oneof![Just(json!(0.5)), Just(json!(2.0)), Just(json!(u64::MAX))],
            "[ab]{0,2}".prop_map(|s| json!(s)),
        ];
        let value = scalar.prop_recursive(2, 12, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[ab]{1,2}", inner, 0..3)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        let maybe = |v: BoxedStrategy<serde_json::Value>| proptest::option::of(v);
        let labels = prop::collection::btree_map("[ab]{1,2}", "[ab]{0,2}", 0..3)
            .prop_map(|m| json!(m))
            .boxed();
        let container = (
            maybe("[ab]{0,2}".prop_map(|s| json!(s)).boxed()),
            maybe(value.clone().boxed()),
            maybe(
                prop::collection::vec(-1i64..3, 0..3)
                    .prop_map(|v| json!(v))
                    .boxed(),
            ),
        )
            .prop_map(|(name, image, ports)| {
                let mut c = serde_json::Map::new();
                c.extend(name.map(|v| ("name".to_string(), v)));
                c.extend(image.map(|v| ("image".to_string(), v)));
                c.extend(ports.map(|v| ("ports".to_string(), v)));
                serde_json::Value::Object(c)
            });
        (
            maybe(labels),
            maybe(value.clone().boxed()),
            maybe(value.boxed()),
            prop::collection::vec(container, 0..3),
        )
            .prop_map(|(labels, x, list, containers)| {
                let mut metadata = serde_json::Map::new();
                metadata.insert("name".into(), json!("web"));
                metadata.extend(labels.map(|l| ("labels".to_string(), l)));
                let mut spec = serde_json::Map::new();
                spec.extend(x.map(|v| ("x".to_string(), v)));
                spec.extend(list.map(|v| ("list".to_string(), v)));
                spec.insert("containers".into(), json!(containers));
                json!({"metadata": metadata, "spec": spec})
            })
    }

    const AGREEING: &[&str] = &[
        "object.spec.x == 1",
        "object.spec.x != 'a' && has(object.spec.x)",
        "has(object.metadata.labels) && 'a' in object.metadata.labels",
        "object.metadata.labels == {'a': 'b'}",
        "{'a': 'b'} == object.metadata.labels",
        "size(object.metadata.labels) > 1",
        "object.metadata.labels.all(k, k.startsWith('a'))",
        "object.metadata.labels.exists(k, object.metadata.labels[k] == '')",
        "object.spec.containers.all(c, has(c.image) && c.image != '')",
        "object.spec.containers.exists(c, has(c.ports) && 1 in c.ports)",
        "object.spec.containers.map(c, c.name) == ['a']",
        "object.spec.containers.filter(c, has(c.name)).size() == 1",
        "object.spec.containers.exists_one(c, c.image == null)",
        "object.spec.x == null || type(object.spec.x) == int",
        "object.spec.x in [1, 'a', true, null, [1], {'a': 1}]",
        "object.spec.x == object.spec.list",
        "[1, 2] == object.spec.list",
        "object.spec.list + [1] == [1]",
        "size(object.spec.list) == 0",
        "object.spec.list.exists(i, i == 2.0)",
        "object.spec.list[0] == 1",
        "object.spec.x > 1",
        "object.spec.x",
        "object.spec.containers[0].image.startsWith('a')",
        "object.spec.containers.all(c, c.ports.all(p, p >= 0))",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(64))]
        /// CEL over a document reads as CEL over the same JSON as a
        /// `serde_json::Value`, converted whole.
        #[test]
        fn views_of_documents_agree_with_values(object in any_object()) {
            let doc = Doc::from_value(&object);
            for source in AGREEING {
                let expect = compile(source).expect("test expressions compile");
                let viewed = evaluate(&expect, &[("object", doc.root())]);
                let reference = over_a_value(&expect, &object);
                proptest::prop_assert!(
                    agree(&viewed, &reference),
                    "{}: {:?} over the document, {:?} over the value, object {}",
                    source, viewed, reference, object
                );
            }
        }
    }

    /// `expect` over `object` as a `serde_json::Value` converted whole to
    /// CEL's own values, the way expressions were evaluated before views and
    /// documents: the reference the views must agree with.
    fn over_a_value(expect: &Expect, object: &serde_json::Value) -> Result<bool, EvalError> {
        fn convert(v: &serde_json::Value) -> Value {
            match v {
                serde_json::Value::Null => Value::Null,
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                    (Some(i), _) => Value::Int(i),
                    (None, Some(u)) => Value::UInt(u),
                    _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
                },
                serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
                serde_json::Value::Array(items) => {
                    Value::List(Arc::new(items.iter().map(convert).collect()))
                }
                serde_json::Value::Object(fields) => Value::Map(Map {
                    map: Arc::new(
                        fields
                            .iter()
                            .map(|(k, v)| (Key::String(Arc::new(k.clone())), convert(v)))
                            .collect(),
                    ),
                }),
            }
        }
        let mut context = Context::with_env(Arc::clone(&ENV));
        context.add_variable_from_value("object", convert(object));
        let doc = Doc::from_value(object);
        let vars = [("object", doc.root())];
        match expect.program.execute(&context) {
            Ok(Value::Bool(b)) => Ok(b),
            Ok(other) => Err(EvalError::NotBool(describe(&other))),
            Err(e) => Err(eval_error(e, expect, &vars)),
        }
    }

    fn all_hold(cases: &[&str]) {
        let object = sample();
        for case in cases {
            assert_eq!(both_ways(case, &object), Ok(true), "{case}");
        }
    }

    #[test]
    fn views_equal_literal_lists_and_maps_either_way_round() {
        all_hold(&[
            "object.spec.ports == [80, 443]",
            "[80, 443] == object.spec.ports",
            "object.spec.ports != [443, 80]",
            "[443, 80] != object.spec.ports",
            "object.spec.ports == [80.0, 443u]",
            "object.spec.selector == {'app': 'web'}",
            "{'app': 'web'} == object.spec.selector",
            "object.metadata.labels != {'app': 'web'}",
            "{'app': 'web'} != object.metadata.labels",
            "object.spec.matrix == [[1, 2], [3]]",
            "[[1, 2], [3]] == object.spec.matrix",
            "object.spec.empty == [] && [] == object.spec.empty",
            "object.metadata.annotations == {} && {} == object.metadata.annotations",
            "object.spec.containers[1] == {'name': 'side', 'image': 'r/side:latest', 'resources': {}}",
            "[object.spec.selector] == [{'app': 'web'}]",
            "[{'app': 'web'}] == [object.spec.selector]",
            "{'s': object.spec.ports} == {'s': [80, 443]}",
            "dyn(object.spec.ports) == [80, 443]",
        ]);
    }

    #[test]
    fn views_equal_each_other_and_what_cel_builds_from_them() {
        all_hold(&[
            "object.spec.ports == object.spec.ports",
            "object.spec.selector != object.metadata.labels",
            "object.spec.ports != object.spec.names",
            "object.spec.ports != 80 && 80 != object.spec.ports",
            "object.spec.selector != object.spec.ports",
            "object.spec.ports.map(p, p) == object.spec.ports",
            "object.spec.ports == object.spec.ports.map(p, p)",
            "object.spec.containers.map(c, c.resources).exists(r, r == {})",
            "object.spec.containers.map(c, c.resources).exists(r, {} == r)",
        ]);
    }

    #[test]
    fn views_concatenate_with_any_list() {
        all_hold(&[
            "object.spec.ports + [8080] == [80, 443, 8080]",
            "[8080] + object.spec.ports == [8080, 80, 443]",
            "object.spec.ports + object.spec.ports == [80, 443, 80, 443]",
            "size(object.spec.names + object.spec.ports) == 4",
            "(object.spec.containers + object.spec.containers).all(c, has(c.image))",
            "object.spec.empty + [] == []",
        ]);
    }

    #[test]
    fn in_looks_into_views_and_literals() {
        all_hold(&[
            "80 in object.spec.ports",
            "!(8080 in object.spec.ports)",
            "80.0 in object.spec.ports && 443u in object.spec.ports",
            "'app' in object.metadata.labels && !('x' in object.metadata.labels)",
            "!(1 in object.metadata.labels)",
            "[1, 2] in object.spec.matrix",
            "{'app': 'web'} in [object.spec.selector]",
            "object.spec.selector in [{'app': 'web'}]",
            "object.spec.ports in [[80, 443]]",
            "object.spec.selector in [object.metadata.labels, object.spec.selector]",
            "object.spec.containers.all(c, c.name in ['app', 'side'])",
            "object.metadata.name in {'web': 1}",
        ]);
    }

    #[test]
    fn comprehensions_run_over_list_elements_and_map_keys() {
        all_hold(&[
            "object.metadata.labels.all(k, k in ['app', 'tier'])",
            "object.metadata.labels.exists(k, object.metadata.labels[k] == 'front')",
            "object.metadata.labels.exists_one(k, k.startsWith('a'))",
            "object.metadata.labels.map(k, k).size() == 2",
            "object.metadata.labels.filter(k, k != 'app') == ['tier']",
            "object.metadata.labels.map(k, object.metadata.labels[k]).sort() == ['front', 'web']",
            "object.spec.containers.map(c, c.name) == ['app', 'side']",
            "object.spec.ports.filter(p, p > 100) == [443]",
            "object.spec.containers.exists_one(c, c.image.endsWith(':latest'))",
            "object.spec.matrix.all(row, row.all(n, n > 0))",
            "object.metadata.annotations.all(k, false)",
            "!object.spec.empty.exists(x, true)",
        ]);
    }

    #[test]
    fn views_are_sized_and_indexed_as_cel_lists_and_maps() {
        all_hold(&[
            "size(object.spec.ports) == 2 && object.spec.ports.size() == 2",
            "size(object.metadata.labels) == 2 && size(object.metadata.annotations) == 0",
            "size(object.metadata.name) == 3",
            "object.metadata.labels['tier'] == 'front'",
            "object.spec.ports[1] == 443 && object.spec.ports[1u] == 443",
            "object.spec.ports[1.0] == 443",
            "object.spec.matrix[1][0] == 3",
            "object.spec['containers'][0]['name'] == 'app'",
            "has(object.spec.selector.app) && !has(object.spec.selector.tier)",
            "has(object.spec.containers[0].resources.limits)",
            "!has(object.spec.containers[1].resources.limits)",
        ]);
    }

    #[test]
    fn leaves_keep_their_cel_types() {
        all_hold(&[
            "object.spec.big == 18446744073709551615u && type(object.spec.big) == uint",
            "type(object.spec.replicas) == int && object.spec.replicas + 1 == 4",
            "type(object.spec.ratio) == double",
            "object.spec.nothing == null && type(object.spec.nothing) == null_type",
            "type(object.spec.ports) == list && type(object.spec.selector) == map",
            "object.spec.big > object.spec.replicas",
            "object.spec.replicas > 2 && object.spec.ratio < 1.0",
            "object.metadata.name < 'x' && object.spec.paused < true",
            "string(object.spec.replicas) == '3' && int(object.spec.ratio * 2.0) == 1",
        ]);
    }

    #[test]
    fn functions_and_extensions_take_views_and_their_leaves() {
        all_hold(&[
            "object.metadata.name.startsWith('w') && object.metadata.name.contains('e')",
            "object.spec.containers[0].image.matches(':[0-9]+$')",
            "object.metadata.name.upperAscii() == 'WEB'",
            "object.spec.names.join('-') == 'a-b'",
            "'%s'.format([object.spec.ports]) == '[80, 443]'",
            "'%s'.format([object.spec.selector]) == '{app: web}'",
            "object.spec.ports.reverse() == [443, 80]",
            "object.spec.matrix.flatten() == [1, 2, 3]",
            "object.spec.ports.slice(0, 1) == [80]",
            "(object.spec.ports + [80]).distinct() == [80, 443]",
            "object.spec.names.sort() == ['a', 'b']",
            "object.spec.containers.sortBy(c, c.image)[0].name == 'app'",
            "quantity(object.spec.containers[0].resources.limits.memory) == quantity('512Mi')",
            "quantity(object.spec.replicas) == 3.0 && quantity(object.spec.ratio) == 0.5",
        ]);
    }

    #[test]
    fn a_missing_field_is_named_as_before() {
        let object = sample();
        let missing = |source: &str| both_ways(source, &object);
        assert_eq!(
            missing("object.spec.paused || object.spec.missing == 1"),
            Err(EvalError::MissingField("object.spec.missing".into()))
        );
        assert_eq!(
            missing("object.metadata.labels['app.kubernetes.io/name'] == 'web'"),
            Err(EvalError::MissingField(
                "object.metadata.labels[\"app.kubernetes.io/name\"]".into()
            ))
        );
        assert_eq!(
            missing("object.spec.containers.all(c, c.resources.limits.memory != '')"),
            Err(EvalError::MissingField(
                "object.spec.containers[1].resources.limits".into()
            ))
        );
        assert!(matches!(
            missing("object.metadata.labels[1] == 'web'"),
            Err(EvalError::MissingField(_))
        ));
    }

    #[test]
    fn errors_and_non_bool_results_read_as_before() {
        let object = sample();
        for case in [
            "object.spec.ports[2] == 80",
            "object.spec.ports[-1] == 80",
            "object.spec.ports[1.5] == 80",
            "object.spec.ports['a'] == 80",
            "object.spec.selector[[1]] == 80",
            "[1] in object.metadata.labels",
            "1 + object.spec.selector == 1",
            "object.spec.selector + 1 == 1",
            "'a' + object.spec.ports == 'a'",
            "object.spec.ports + 1 == []",
            "object.spec.replicas + 'a' == 1",
            "object.spec.selector < 1",
            "object.spec.selector",
            "object.spec.ports.map(p, object.spec.selector)",
            "object.spec.replicas",
        ] {
            let got = both_ways(case, &object);
            assert!(
                matches!(got, Err(EvalError::Other(_) | EvalError::NotBool(_))),
                "{case}: {got:?}"
            );
        }
        assert_eq!(
            both_ways("object.spec.selector", &object),
            Err(EvalError::NotBool("map {\"app\":\"web\"}".into()))
        );
    }

    #[test]
    fn only_built_lists_compared_with_data_need_conversion() {
        for (source, binding) in [
            ("object.spec.ports == [80, 443]", Binding::View),
            ("[80, 443] == object.spec.ports", Binding::Converted),
            ("object.x in ['a', 'b']", Binding::View),
            ("object.x in [[1]]", Binding::Converted),
            ("object.x in [object.y]", Binding::View),
            (
                "['a', 'b'].exists(k, k in object.m && object.m[k] == 'x')",
                Binding::View,
            ),
            ("object.l.all(x, x == object.y)", Binding::View),
            ("object.l.map(x, x) == object.m", Binding::Converted),
            (
                "object.l.map(x, [x]).exists(l, l == object.y)",
                Binding::Converted,
            ),
            ("[object.a] == [{'k': 1}]", Binding::View),
            (
                "(object.a + [{'k': 1}]).distinct() == []",
                Binding::Converted,
            ),
            ("object.a.distinct() == []", Binding::View),
            (
                "size(object.a) == object.n && object.s.lowerAscii() == object.t",
                Binding::View,
            ),
        ] {
            let expect = compile(source).expect("test expressions compile");
            assert_eq!(expect.reads.binding(), binding, "{source}");
        }
    }

    #[test]
    fn views_borrow_the_json() {
        let object = Doc::from_value(&sample());
        let view = json_view::bind(object.root());
        let name = CelString::from("metadata");
        let metadata = view
            .as_indexer()
            .expect("an object is a map")
            .get(&name)
            .expect("the sample has metadata");
        let name = CelString::from("name");
        let read = metadata
            .as_indexer()
            .expect("metadata is a map")
            .get(&name)
            .expect("the sample has a name");
        let read = read
            .downcast_ref::<CelString>()
            .expect("a name is a string");
        let written = object
            .root()
            .pointer(&["metadata", "name"])
            .and_then(Json::as_str)
            .expect("a string");
        assert!(std::ptr::eq(read.inner(), written), "the name was copied");
    }

    #[test]
    fn to_cel_keeps_json_shapes() {
        let cel = |value: serde_json::Value| to_cel(Doc::from_value(&value).root());
        assert_eq!(cel(json!(1)), Value::Int(1));
        assert_eq!(cel(json!(u64::MAX)), Value::UInt(u64::MAX));
        assert_eq!(cel(json!(1.5)), Value::Float(1.5));
        assert_eq!(cel(json!(null)), Value::Null);
        assert_eq!(
            cel(json!(["a"])),
            Value::List(Arc::new(vec![Value::String(Arc::new("a".into()))]))
        );
    }
}
