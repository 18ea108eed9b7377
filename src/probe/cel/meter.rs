//! What one evaluation of an `expect` may cost, and the meter that stops it.
//!
//! A checklist comes from a repository, and its `expect` runs on the
//! operator's machine. The interpreter has no limit of its own: nested
//! loops multiply (`lists.range(1000).map(x, lists.range(1000).map(...))`),
//! a `replace` or a `format` can ask for gigabytes in one call, and
//! evaluation is synchronous, so no probe timeout can interrupt it.
//!
//! So the expression is evaluated in a guarded form (`guard`): the same
//! tree with a few calls the parser cannot produce (their names start with
//! `@`) wrapped around the places where cost grows. Each charges a
//! thread-local meter:
//!
//! - every turn of a loop (`all`, `exists`, `exists_one`, `map`, `filter`,
//!   `sortBy`): one step;
//! - every value a `map` keeps, and every `+` result: its size (a list or
//!   map four steps an element, a string one step per 16 bytes), so what
//!   an evaluation holds is bounded too;
//! - `replace`, `join` and `format`: the size of what they would build,
//!   charged before they build it (`%.999999999f` asks for a gigabyte);
//!   `distinct`, which compares every pair: a step per 64 pairs.
//!
//! Past `STEP_LIMIT` steps, or `TIME_LIMIT` of wall time (for work between
//! charges, such as comparing two large objects in every turn of a loop),
//! every further charge fails, which ends each loop at its next turn, and
//! the evaluation is reported as stopped whatever it returned. A probe run
//! (`until`) also stops its evaluations at its own timeout, so that one
//! evaluation per object cannot add up past it. The limits
//! are far above any expression a checklist needs (the bundled ones take
//! well under a thousand steps per object) and far below what hurts.
//!
//! The guarded tree keeps the ids and shapes the interpreter's fast paths
//! look for (`@result + [e]` for `map` and `filter`, `@result && e` for
//! `all`), so guarding costs a few function calls per loop turn, not a
//! slower loop.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedEntryExpr, IdedExpr, ListExpr, MapEntryExpr,
    MapExpr, SelectExpr, StructExpr, StructFieldExpr, operators,
};
use cel::common::types::{CelString, DYN_TYPE, Kind};
use cel::common::value::{CowVal, Val};
use cel::{Context, DeclarationError, Env, ExecutionError, Value};

/// The most steps one evaluation may take.
pub const STEP_LIMIT: u64 = 1_000_000;

/// The longest one evaluation may run.
pub const TIME_LIMIT: Duration = Duration::from_secs(2);

/// A list or map element, in steps.
const ELEMENT: u64 = 4;

/// Bytes of a string per step.
const BYTES_PER_STEP: u64 = 16;

/// How many charges pass between two looks at the clock.
const CLOCK_EVERY: u32 = 16;

/// Why an evaluation was stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// It would have taken more than this many steps.
    Steps(u64),
    /// It ran longer than this.
    Time(Duration),
    /// The probe it was evaluated for ran out of time (its `timeout`),
    /// across all the evaluations it made.
    ProbeTimeout,
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Steps(limit) => write!(
                f,
                "stopped: it needs more than {} steps, the most one evaluation may take \
                 (loops inside loops multiply; so do replace, join and format on large values)",
                grouped(*limit)
            ),
            Stop::Time(limit) => write!(
                f,
                "stopped: it ran longer than {} s, the most one evaluation may take",
                limit.as_secs_f64()
            ),
            Stop::ProbeTimeout => f.write_str(
                "stopped: the probe's timeout passed while it was being evaluated \
                 (it evaluates once per object: this expression costs too much on each)",
            ),
        }
    }
}

/// `10000000` as `10,000,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The limits of one evaluation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub steps: u64,
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: STEP_LIMIT,
            time: TIME_LIMIT,
        }
    }
}

struct Meter {
    limits: Limits,
    left: u64,
    deadline: Instant,
    /// Whether `deadline` is the probe's, not this evaluation's own.
    probes: bool,
    since_clock: u32,
    stop: Option<Stop>,
}

impl Meter {
    fn late(&self) -> Stop {
        if self.probes {
            Stop::ProbeTimeout
        } else {
            Stop::Time(self.limits.time)
        }
    }
}

thread_local! {
    static METER: RefCell<Option<Meter>> = const { RefCell::new(None) };
    /// The deadline of the probe this thread works for outside the async
    /// runtime (`blocking_until`).
    static BLOCKING_DEADLINE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

tokio::task_local! {
    /// The deadline of the probe this task runs (`until`).
    static PROBE_DEADLINE: Instant;
}

/// Runs `probe` (one run of a probe) with every evaluation it makes
/// stopped at `deadline` as well: a `kube` probe evaluates once per object,
/// and the per-evaluation limits alone would let ten thousand objects take
/// ten thousand times as long.
pub async fn until<F: std::future::Future>(deadline: Instant, probe: F) -> F::Output {
    PROBE_DEADLINE.scope(deadline, probe).await
}

/// The deadline of the probe being run, if any: to hand to work moved to a
/// blocking thread (`blocking_until`).
pub fn probe_deadline() -> Option<Instant> {
    PROBE_DEADLINE
        .try_with(|d| *d)
        .ok()
        .or_else(|| BLOCKING_DEADLINE.get())
}

/// Runs `f` on this (blocking) thread with evaluations stopped at
/// `deadline` as well, as `until` does for a task.
pub fn blocking_until<T>(deadline: Option<Instant>, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<Instant>);
    impl Drop for Reset {
        fn drop(&mut self) {
            BLOCKING_DEADLINE.set(self.0);
        }
    }
    let _reset = Reset(BLOCKING_DEADLINE.replace(deadline));
    f()
}

/// Runs `f` (which evaluates guarded expressions) under a fresh meter, and
/// says whether it was stopped. Inside another `run` on this thread, `f`
/// shares that one's meter, which reports the stop.
pub fn run<T>(limits: Limits, f: impl FnOnce() -> T) -> (T, Option<Stop>) {
    let nested = METER.with_borrow(Option::is_some);
    if nested {
        return (f(), None);
    }
    let now = Instant::now();
    let own = now + limits.time;
    let (deadline, probes) = match probe_deadline() {
        Some(probe) if probe < own => (probe, true),
        _ => (own, false),
    };
    // A probe past its deadline evaluates nothing more, even an
    // expression too cheap to look at the clock.
    let stop = (probes && now >= deadline).then_some(Stop::ProbeTimeout);
    METER.with_borrow_mut(|m| {
        *m = Some(Meter {
            limits,
            left: limits.steps,
            deadline,
            probes,
            since_clock: 0,
            stop,
        })
    });
    // Taken down even if `f` panics, so the next evaluation on this
    // thread starts afresh.
    struct Done;
    impl Drop for Done {
        fn drop(&mut self) {
            METER.with_borrow_mut(|m| *m = None);
        }
    }
    let done = Done;
    let value = f();
    let stop = METER.with_borrow(|m| m.as_ref().and_then(|m| m.stop));
    drop(done);
    (value, stop)
}

/// Takes `steps` from the meter; an error once it is spent (and for every
/// charge after that). Outside `run`, nothing is metered.
fn charge(steps: u64) -> Result<(), ExecutionError> {
    METER.with_borrow_mut(|meter| {
        let Some(m) = meter else {
            return Ok(());
        };
        if m.stop.is_none() {
            if steps > m.left {
                m.left = 0;
                m.stop = Some(Stop::Steps(m.limits.steps));
            } else {
                m.left -= steps;
                m.since_clock += 1;
                if m.since_clock >= CLOCK_EVERY {
                    m.since_clock = 0;
                    if Instant::now() >= m.deadline {
                        m.stop = Some(m.late());
                    }
                }
            }
        }
        match m.stop {
            None => Ok(()),
            Some(stop) => Err(ExecutionError::function_error("expect", stop)),
        }
    })
}

/// One step of work done outside the interpreter (the explanation's own
/// loops): whether the meter still allows it.
pub fn step() -> bool {
    charge(1).is_ok()
}

/// What holding `value` costs: its elements, or its bytes; nothing for a
/// number or a bool.
fn size(value: &dyn Val) -> u64 {
    if let Some(len) = string_len(value) {
        return len / BYTES_PER_STEP;
    }
    let Some(sizer) = value.as_sizer() else {
        return 0;
    };
    let n = u64::try_from(*sizer.size().inner()).unwrap_or(0);
    match value.get_type().kind() {
        Kind::Bytes => n / BYTES_PER_STEP,
        _ => n.saturating_mul(ELEMENT),
    }
}

fn as_str(value: &dyn Val) -> Option<&str> {
    value.downcast_ref::<CelString>().map(|s| s.inner())
}

fn string_len(value: &dyn Val) -> Option<u64> {
    as_str(value).map(|s| s.len() as u64)
}

/// Registers the guard calls.
pub(super) fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(TICK, "@tick(dyn)", vec![DYN_TYPE], tick)?;
    env.add_overload(KEEP, "@keep(dyn)", vec![DYN_TYPE], keep)?;
    env.add_overload(GROW, "@grow(dyn)", vec![DYN_TYPE], grow)?;
    // Each takes the call's target and then its arguments, of any type: a
    // wrong one is the delegated call's own error.
    for call in DELEGATED {
        for &count in call.arguments {
            let types = (0..=count).map(|_| DYN_TYPE).collect();
            let id = format!("{}/{}", call.guard, count + 1);
            env.add_overload(call.guard, &id, types, call.charge)?;
        }
    }
    Ok(())
}

const TICK: &str = "@tick";
const KEEP: &str = "@keep";
const GROW: &str = "@grow";

/// A member function charged for what it would build before it runs:
/// `guard` rewrites `target.member(args)` with one of `arguments` as
/// `guard(target, args)`, which `charge` and then makes the call.
struct Delegated {
    member: &'static str,
    arguments: &'static [usize],
    guard: &'static str,
    charge: cel::common::functions::Function,
}

const DELEGATED: &[Delegated] = &[
    Delegated {
        member: "replace",
        arguments: &[2, 3],
        guard: "@replace",
        charge: replace,
    },
    Delegated {
        member: "join",
        arguments: &[0, 1],
        guard: "@join",
        charge: join,
    },
    Delegated {
        member: "format",
        arguments: &[1],
        guard: "@format",
        charge: format,
    },
    Delegated {
        member: "distinct",
        arguments: &[0],
        guard: "@distinct",
        charge: distinct,
    },
];

/// The only argument of a guard call.
fn only<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let count = args.len();
    let [value] =
        <[_; 1]>::try_from(args).map_err(|_| ExecutionError::invalid_argument_count(1, count))?;
    Ok(value)
}

/// One loop turn: a step, then its argument as it is.
fn tick<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    charge(1)?;
    only(args)
}

/// One turn of a `map`, and the value it keeps: a step and its size, then
/// the value.
fn keep<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let value = only(args)?;
    charge(1 + size(value.as_ref()))?;
    Ok(value)
}

/// What a `+` built: its size (nothing for a number), then the value.
fn grow<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let value = only(args)?;
    charge(size(value.as_ref()))?;
    Ok(value)
}

/// `this.replace(from, to[, n])`: the longest result it can build, then
/// the call itself.
fn replace<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if let [this, from, to, rest @ ..] = args.as_slice() {
        let limit = rest
            .first()
            .and_then(|n| n.downcast_ref::<cel::common::types::CelInt>())
            .and_then(|n| u64::try_from(*n.inner()).ok());
        if let (Some(this), Some(from), Some(to)) = (
            as_str(this.as_ref()),
            as_str(from.as_ref()),
            string_len(to.as_ref()),
        ) {
            let found = if from.is_empty() {
                this.chars().count() as u64 + 1
            } else {
                this.matches(from).count() as u64
            };
            let found = limit.map_or(found, |n| found.min(n));
            let longest = this.len() as u64 + found.saturating_mul(to);
            charge(1 + longest / BYTES_PER_STEP)?;
        }
    }
    delegate("replace", args)
}

/// `list.join([sep])`: the length of the joined string, then the call.
fn join<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if let Some(list) = args.first().and_then(|l| l.as_iterable()) {
        let sep = args
            .get(1)
            .and_then(|s| string_len(s.as_ref()))
            .unwrap_or(0);
        let (mut count, mut bytes) = (0u64, 0u64);
        let mut items = list.iter();
        while let Some(item) = items.next() {
            count += 1;
            bytes = bytes.saturating_add(string_len(item).unwrap_or(0));
        }
        let longest = bytes.saturating_add(count.saturating_mul(sep));
        charge(1 + count + longest / BYTES_PER_STEP)?;
    }
    delegate("join", args)
}

/// `format.format(args)`: the format's text, each argument's size and
/// every precision it asks for (`%.1000000f` is a megabyte), then the
/// call.
fn format<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if let [this, list] = args.as_slice() {
        let mut steps = 1;
        if let Some(text) = as_str(this.as_ref()) {
            steps += text.len() as u64 / BYTES_PER_STEP;
            steps += precisions(text) / BYTES_PER_STEP;
        }
        if let Some(items) = list.as_iterable() {
            let mut items = items.iter();
            while let Some(item) = items.next() {
                steps = steps.saturating_add(size(item));
            }
        }
        charge(steps)?;
    }
    delegate("format", args)
}

/// `list.distinct()`, which compares every element with those kept before
/// it: a step per 64 pairs, then the call.
fn distinct<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if let Some(sizer) = args.first().and_then(|l| l.as_sizer()) {
        let n = u64::try_from(*sizer.size().inner()).unwrap_or(0);
        charge(1 + n.saturating_mul(n) / 64)?;
    }
    delegate("distinct", args)
}

/// The sum of the precisions a format text asks for (`%.3f` is 3).
fn precisions(text: &str) -> u64 {
    let mut total: u64 = 0;
    let mut rest = text;
    while let Some(at) = rest.find("%.") {
        rest = &rest[at + 2..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let precision = rest[..digits].parse::<u64>().unwrap_or(u64::MAX);
        total = total.saturating_add(precision);
        rest = &rest[digits..];
    }
    total
}

/// Calls the member function `name` on `args[0]` with the rest, as the
/// expression wrote it: the result and the errors are the function's own.
fn delegate<'b, 'v>(
    name: &'static str,
    args: Vec<CowVal<'b, 'v>>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    static NAMES: [&str; 4] = ["@0", "@1", "@2", "@3"];
    let call = IdedExpr {
        id: 0,
        expr: Expr::Call(CallExpr {
            func_name: name.to_string(),
            target: Some(Box::new(ident(NAMES[0]))),
            args: NAMES[1..args.len().min(NAMES.len())]
                .iter()
                .map(|n| ident(n))
                .collect(),
        }),
    };
    let mut context = Context::with_env(Arc::clone(&super::ENV));
    for (name, value) in NAMES.iter().zip(args) {
        context.add_variable_as_val(*name, value.into_owned());
    }
    let result = Value::resolve_val(&call, &context)?.into_owned();
    Ok(CowVal::Owned(result))
}

fn ident(name: &str) -> IdedExpr {
    IdedExpr {
        id: 0,
        expr: Expr::Ident(name.to_string()),
    }
}

/// `expr` with the meter's calls wrapped where cost grows (see the module
/// documentation). Every node keeps its id.
pub fn guard(expr: &IdedExpr) -> IdedExpr {
    let id = expr.id;
    let node = |expr| IdedExpr { id, expr };
    match &expr.expr {
        Expr::Call(call) => {
            let args: Vec<IdedExpr> = call.args.iter().map(guard).collect();
            let target = call.target.as_deref().map(guard);
            let delegated = DELEGATED
                .iter()
                .find(|d| d.member == call.func_name && d.arguments.contains(&args.len()));
            if let (Some(delegated), Some(target)) = (delegated, &target) {
                let mut all = vec![target.clone()];
                all.extend(args);
                return node(global(delegated.guard, all));
            }
            let guarded = node(Expr::Call(CallExpr {
                func_name: call.func_name.clone(),
                target: target.map(Box::new),
                args,
            }));
            // With a literal on one side, a `+` grows what it adds to by
            // no more than the expression's own text (or adds numbers), so
            // only a `+` of two computed values is charged: that is how
            // sizes multiply.
            let literal = call
                .args
                .iter()
                .any(|a| matches!(a.expr, Expr::Literal(_) | Expr::List(_) | Expr::Map(_)));
            if call.func_name == operators::ADD && call.target.is_none() && !literal {
                return wrap(GROW, guarded);
            }
            guarded
        }
        Expr::Comprehension(c) => node(Expr::Comprehension(Box::new(guard_loop(c)))),
        Expr::List(list) => node(Expr::List(ListExpr::new_with_optionals(
            list.elements.iter().map(guard).collect(),
            list.optional_indices.clone(),
        ))),
        Expr::Map(map) => node(Expr::Map(MapExpr {
            entries: map.entries.iter().map(guard_entry).collect(),
        })),
        Expr::Select(select) => node(Expr::Select(SelectExpr {
            operand: Box::new(guard(&select.operand)),
            field: select.field.clone(),
            test: select.test,
        })),
        Expr::Struct(s) => node(Expr::Struct(StructExpr {
            type_name: s.type_name.clone(),
            entries: s.entries.iter().map(guard_entry).collect(),
        })),
        Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => expr.clone(),
    }
}

fn guard_entry(entry: &IdedEntryExpr) -> IdedEntryExpr {
    let expr = match &entry.expr {
        EntryExpr::StructField(f) => EntryExpr::StructField(StructFieldExpr {
            field: f.field.clone(),
            value: guard(&f.value),
            optional: f.optional,
        }),
        EntryExpr::MapEntry(e) => EntryExpr::MapEntry(MapEntryExpr {
            key: guard(&e.key),
            value: guard(&e.value),
            optional: e.optional,
        }),
    };
    IdedEntryExpr { id: entry.id, expr }
}

/// A loop with a step charged on every turn, in the place that keeps the
/// interpreter's shape for it:
/// - `all` / `exists` (a condition that can end the loop early): the
///   condition, which is checked before each turn and whose error ends the
///   loop at once;
/// - `map` (`@result + [e]`): the element, which also charges its size;
/// - `filter` (`c ? @result + [e] : @result`): the test `c`, and the
///   element kept;
/// - anything else (`exists_one`): the whole step.
fn guard_loop(c: &ComprehensionExpr) -> ComprehensionExpr {
    let mut out = ComprehensionExpr {
        iter_range: guard(&c.iter_range),
        iter_var: c.iter_var.clone(),
        iter_var2: c.iter_var2.clone(),
        accu_var: c.accu_var.clone(),
        accu_init: guard(&c.accu_init),
        loop_cond: guard(&c.loop_cond),
        loop_step: guard(&c.loop_step),
        result: guard(&c.result),
    };
    let literal_cond = matches!(out.loop_cond.expr, Expr::Literal(_));
    if !literal_cond {
        out.loop_cond = wrap(TICK, out.loop_cond);
        return out;
    }
    let accu = out.accu_var.clone();
    if keep_appended(&mut out.loop_step, &accu) {
        return out;
    }
    if let Expr::Call(call) = &mut out.loop_step.expr
        && call.func_name == operators::CONDITIONAL
        && call.args.len() == 3
        && is_ident(&call.args[2], &accu)
        && keep_appended(&mut call.args[1], &accu)
    {
        let test = std::mem::take(&mut call.args[0]);
        call.args[0] = wrap(TICK, test);
        return out;
    }
    out.loop_step = wrap(TICK, std::mem::take(&mut out.loop_step));
    out
}

/// For a step `accu + [e]` (the shape the interpreter appends in place):
/// `accu + [@keep(e)]`, and true; otherwise false, untouched.
fn keep_appended(step: &mut IdedExpr, accu: &str) -> bool {
    // `+` was wrapped in `@grow` by `guard`; the accumulator's own `+`
    // must not be, or the interpreter would copy the list every turn.
    if let Expr::Call(outer) = &step.expr
        && outer.func_name == GROW
        && let [inner] = outer.args.as_slice()
        && is_append(inner, accu)
    {
        *step = outer.args[0].clone();
    }
    if !is_append(step, accu) {
        return false;
    }
    let Expr::Call(add) = &mut step.expr else {
        return false;
    };
    let Expr::List(items) = &mut add.args[1].expr else {
        return false;
    };
    for item in &mut items.elements {
        *item = wrap(KEEP, std::mem::take(item));
    }
    true
}

fn is_append(step: &IdedExpr, accu: &str) -> bool {
    matches!(&step.expr, Expr::Call(add)
        if add.func_name == operators::ADD
            && add.target.is_none()
            && add.args.len() == 2
            && is_ident(&add.args[0], accu)
            && matches!(add.args[1].expr, Expr::List(_)))
}

fn is_ident(expr: &IdedExpr, name: &str) -> bool {
    matches!(&expr.expr, Expr::Ident(n) if n == name)
}

fn wrap(function: &str, inner: IdedExpr) -> IdedExpr {
    IdedExpr {
        id: inner.id,
        expr: global(function, vec![inner]),
    }
}

fn global(function: &str, args: Vec<IdedExpr>) -> Expr {
    Expr::Call(CallExpr {
        func_name: function.to_string(),
        target: None,
        args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Doc;
    use crate::probe::cel::{EvalError, compile, evaluate_within};
    use serde_json::json;

    /// A step limit a debug build reaches in a fraction of a second (it
    /// interprets some twenty times slower than a release one, so the
    /// real limit would take it a minute a test).
    const SMALL: u64 = 100_000;

    /// Evaluated within `steps` and no practical time limit, so that what
    /// stops it is the steps, in a debug build as in a release one.
    fn eval_within(
        steps: u64,
        source: &str,
        object: &serde_json::Value,
    ) -> Result<bool, EvalError> {
        let expect = compile(source).expect("test expressions compile");
        let object = Doc::from_value(object);
        let limits = Limits {
            steps,
            time: Duration::from_secs(3600),
        };
        evaluate_within(&expect, &[("object", object.root())], limits)
    }

    fn eval(source: &str, object: &serde_json::Value) -> Result<bool, EvalError> {
        eval_within(STEP_LIMIT, source, object)
    }

    fn stopped(result: Result<bool, EvalError>) -> Stop {
        match result {
            Err(EvalError::Stopped(stop)) => stop,
            other => panic!("expected the evaluation to be stopped, got {other:?}"),
        }
    }

    /// The fuzzer's first finding (`fuzz/regressions/cel/nested-map-timeout`,
    /// a million turns) and loops one level deeper (a billion) end at the
    /// limit, whichever macro loops.
    #[test]
    fn loops_inside_loops_are_stopped_at_the_step_limit() {
        let object = json!({});
        let finding = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fuzz/regressions/cel/nested-map-timeout"
        ))
        .expect("the fuzzer's regression is in the repository");
        let finding = finding
            .lines()
            .next()
            .expect("its first line is the expression");
        let deep = "lists.range(1000).map(x, lists.range(1000).map(y, \
                    lists.range(1000).map(z, x * y * z))).size() > 0";
        let all = "lists.range(1000).all(x, lists.range(1000).all(y, \
                   lists.range(1000).all(z, x + y + z >= 0)))";
        let filter = "lists.range(1000).exists(x, lists.range(1000).filter(y, \
                      lists.range(1000).exists_one(z, z == x + y)).size() > 1000)";
        let sorted = "lists.range(1000).all(x, lists.range(1000).sortBy(y, -y)[0] == 999)";
        for source in [finding, deep, all, filter, sorted] {
            assert_eq!(
                stopped(eval_within(SMALL, source, &object)),
                Stop::Steps(SMALL),
                "{source}"
            );
        }
    }

    #[test]
    fn the_limit_counts_turns_over_the_data_too() {
        let items: Vec<u32> = (0..400).collect();
        let object = json!({ "items": items });
        // 400 x 400: 160,000 turns.
        let pairs = "object.items.all(a, object.items.all(b, a + b >= 0))";
        assert_eq!(
            stopped(eval_within(SMALL, pairs, &object)),
            Stop::Steps(SMALL)
        );
        // 200 x 400 (and the 400 outer turns): within.
        let fewer = "object.items.all(a, a >= 200 || object.items.all(b, a + b >= 0))";
        assert_eq!(eval_within(SMALL, fewer, &object), Ok(true));
    }

    #[test]
    fn strings_that_multiply_are_stopped_before_they_are_built() {
        let object = json!({ "s": "0123456789", "long": "x".repeat(2000) });
        // Each replace makes the string 11 times longer: 10^11 bytes at the end.
        let replace = "object.s.replace('', object.s).replace('', object.s)\
                       .replace('', object.s).replace('', object.s).replace('', object.s)\
                       .replace('', object.s).replace('', object.s).replace('', object.s)\
                       .replace('', object.s).replace('', object.s).size() > 0";
        assert_eq!(stopped(eval(replace, &object)), Stop::Steps(STEP_LIMIT));
        let precision = "'%.999999999f'.format([1.0]).size() > 0";
        assert_eq!(stopped(eval(precision, &object)), Stop::Steps(STEP_LIMIT));
        // A trillion comparisons, in one call.
        let pairs = "lists.range(1000000).distinct().size() > 0";
        assert_eq!(stopped(eval(pairs, &object)), Stop::Steps(STEP_LIMIT));
        // 400 MB of separators.
        let joined = "lists.range(100000).map(x, 'a').join(object.long + object.long).size() > 0";
        assert_eq!(stopped(eval(joined, &object)), Stop::Steps(STEP_LIMIT));
        // What map keeps is paid for: a hundred thousand strings of 4 kB.
        let kept = "lists.range(100000).map(x, object.long + object.long).size() > 0";
        assert_eq!(stopped(eval(kept, &object)), Stop::Steps(STEP_LIMIT));
    }

    /// Work the steps do not see (comparing two large objects in every turn)
    /// is stopped by the clock.
    #[test]
    fn slow_turns_are_stopped_by_the_clock() {
        let fields: serde_json::Map<String, serde_json::Value> =
            (0..2000).map(|i| (format!("f{i}"), json!(i))).collect();
        let object = json!({ "big": fields, "copy": fields });
        let expect =
            compile("lists.range(1000000).all(x, object.big == object.copy)").expect("compiles");
        let doc = Doc::from_value(&object);
        let limits = Limits {
            steps: u64::MAX,
            time: Duration::from_millis(100),
        };
        let result = evaluate_within(&expect, &[("object", doc.root())], limits);
        assert_eq!(stopped(result), Stop::Time(Duration::from_millis(100)));
    }

    /// Inside a probe run, evaluations also stop at the probe's deadline,
    /// in the async runtime (`until`) and on a blocking thread alike.
    #[test]
    fn a_probes_deadline_stops_its_evaluations() {
        let object = json!({ "n": 1 });
        let doc = Doc::from_value(&object);
        let vars = [("object", doc.root())];
        let cheap = compile("object.n == 1").expect("compiles");
        let costly = compile("lists.range(1000000).all(x, x >= 0)").expect("compiles");
        let far = Limits {
            steps: u64::MAX,
            time: Duration::from_secs(3600),
        };
        // Past the deadline, not even a cheap expression is evaluated.
        let past = Some(Instant::now() - Duration::from_secs(1));
        let result = blocking_until(past, || evaluate_within(&cheap, &vars, far));
        assert_eq!(stopped(result), Stop::ProbeTimeout);
        // Outside a probe's run there is no such deadline.
        assert_eq!(evaluate_within(&cheap, &vars, far), Ok(true));
        let soon = Instant::now() + Duration::from_millis(50);
        let result = blocking_until(Some(soon), || evaluate_within(&costly, &vars, far));
        assert_eq!(stopped(result), Stop::ProbeTimeout);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let soon = Instant::now() + Duration::from_millis(50);
        let result = runtime.block_on(until(soon, async { evaluate_within(&costly, &vars, far) }));
        assert_eq!(stopped(result), Stop::ProbeTimeout);
        assert!(
            Stop::ProbeTimeout
                .to_string()
                .starts_with("stopped: the probe's timeout passed"),
            "{}",
            Stop::ProbeTimeout
        );
    }

    #[test]
    fn a_stopped_evaluation_says_why_and_the_next_one_starts_afresh() {
        let object = json!({ "n": 3 });
        let result = eval_within(
            SMALL,
            "lists.range(1000000).all(x, lists.range(1000000).all(y, true))",
            &object,
        );
        let text = result.expect_err("stopped").to_string();
        assert_eq!(
            text,
            "stopped: it needs more than 100,000 steps, the most one evaluation may take \
             (loops inside loops multiply; so do replace, join and format on large values)"
        );
        assert_eq!(eval("object.n == 3", &object), Ok(true));
        let (verdict, summary) = crate::probe::cel::check(
            &compile("lists.range(1000000).exists(x, lists.range(1000000).exists(y, x + y < 0))")
                .expect("compiles"),
            &[("object", Doc::from_value(&object).root())],
        )
        .expect_err("stopped, not true");
        assert_eq!(verdict, crate::probe::Verdict::Error);
        assert!(
            summary.starts_with("expect could not be evaluated: stopped:"),
            "{summary}"
        );
    }

    /// The guarded expression means what the written one means: the same
    /// values and the same errors.
    #[test]
    fn guarding_changes_no_result_and_no_error() {
        let object = json!({
            "s": "a-b-c",
            "items": [3, 1, 2],
            "names": ["x", "y"],
            "map": {"k": "v"},
        });
        let cases = [
            "object.s.replace('-', '+')",
            "object.s.replace('-', '+', 1)",
            "object.s.replace('', '.')",
            "object.names.join()",
            "object.names.join(', ')",
            "'%s has %d items, %.2f%%'.format([object.s, size(object.items), 12.5])",
            "object.items.map(x, x * 2)",
            "object.items.filter(x, x > 1)",
            "object.items.map(x, x > 1, x + 100)",
            "object.items.exists_one(x, x == 2)",
            "object.items.all(x, x > 0) && object.items.exists(x, x == 3)",
            "object.items.sortBy(x, -x)",
            "(object.items + object.items).distinct()",
            "object.map.distinct()",
            "object.map.all(k, k == 'k')",
            "object.s + '!' + object.s",
            "object.items + [4] + object.items",
            "[object.s] + object.names",
            "lists.range(5).map(x, [x, x + 1]).flatten()",
            // errors, word for word
            "object.s.replace(1, 2)",
            "object.items.join(',')",
            "'%d'.format(['x'])",
            "object.items.map(x, x / 0)",
            "object.items.all(x, x.nope)",
            "1 + 'a'",
        ];
        let doc = Doc::from_value(&object);
        for source in cases {
            let expect = compile(source).expect("compiles");
            let written = {
                let mut context = Context::with_env(Arc::clone(&super::super::ENV));
                context.add_variable_from_value("object", super::super::to_cel(doc.root()));
                expect.program.execute(&context)
            };
            let guarded = {
                let mut context = Context::with_env(Arc::clone(&super::super::ENV));
                context.add_variable_from_value("object", super::super::to_cel(doc.root()));
                let (value, stop) = run(Limits::default(), || {
                    Value::resolve(&expect.guarded, &context)
                });
                assert_eq!(stop, None, "{source}");
                value
            };
            assert_eq!(guarded, written, "{source}");
        }
    }

    #[test]
    fn guarding_keeps_the_shapes_the_interpreter_speeds_up() {
        let expect =
            compile("object.items.map(x, x + 1).filter(y, y > 2).all(z, z < 9)").expect("compiles");
        let text = format!("{:?}", expect.guarded);
        // The accumulators are appended to in place, never `@keep`-wrapped.
        assert!(!text.contains("Ident(\"@result\")], }) }], }"), "{text}");
        assert_eq!(
            text.matches("\"@tick\"").count(),
            2,
            "filter's test and all's condition"
        );
        assert_eq!(
            text.matches("\"@keep\"").count(),
            2,
            "what map and filter keep"
        );
        assert_eq!(text.matches("\"@grow\"").count(), 0, "x + 1 is a number");
        let joined = compile("object.items.map(x, x.name + '-' + x.kind)").expect("compiles");
        let text = format!("{:?}", joined.guarded);
        assert_eq!(
            text.matches("\"@grow\"").count(),
            1,
            "(x.name + '-') + x.kind: {text}"
        );
    }
}
