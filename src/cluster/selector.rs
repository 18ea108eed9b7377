//! Kubernetes label and field selectors: parsing them with the API server's
//! grammar, and matching them against objects, so snapshots and live
//! clusters select exactly the same objects.

use std::borrow::Cow;
use std::fmt;

use super::{Obj, ObjectQuery};
use crate::doc::{Json, Kind, Number};

/// A parsed label selector such as `app=web,tier!=db,env in (a,b),!legacy`.
/// The empty selector matches every object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Requirement {
    key: String,
    op: LabelOp,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LabelOp {
    Exists,
    DoesNotExist,
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    GreaterThan(i64),
    LessThan(i64),
}

impl LabelSelector {
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether an object whose labels are `labels` (a map) is selected; a
    /// label whose value is not a string counts as absent.
    pub fn matches_labels(&self, labels: Option<Json>) -> bool {
        self.requirements.iter().all(|r| {
            let value = labels.and_then(|l| l.get(&r.key)).and_then(Json::as_str);
            r.op.holds(value)
        })
    }

    /// Whether `object` (a whole Kubernetes object) is selected. Runs for
    /// every object of a type on every check, so the empty selector costs
    /// nothing.
    pub fn matches(&self, object: Json) -> bool {
        if self.requirements.is_empty() {
            return true;
        }
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .filter(|l| l.is_map());
        self.matches_labels(labels)
    }
}

impl LabelOp {
    fn holds(&self, value: Option<&str>) -> bool {
        match (self, value) {
            (LabelOp::Exists, v) => v.is_some(),
            (LabelOp::DoesNotExist, v) => v.is_none(),
            (LabelOp::Equals(want), Some(v)) => v == want,
            (LabelOp::In(set), Some(v)) => set.iter().any(|s| s == v),
            (LabelOp::Equals(_) | LabelOp::In(_), None) => false,
            // As in Kubernetes: an object without the label is "not equal".
            (LabelOp::NotEquals(want), v) => v != Some(want.as_str()),
            (LabelOp::NotIn(set), v) => v.is_none_or(|v| !set.iter().any(|s| s == v)),
            (LabelOp::GreaterThan(n), v) => v
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            (LabelOp::LessThan(n), v) => v
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let key = &r.key;
            match &r.op {
                LabelOp::Exists => write!(f, "{key}")?,
                LabelOp::DoesNotExist => write!(f, "!{key}")?,
                LabelOp::Equals(v) => write!(f, "{key}={v}")?,
                LabelOp::NotEquals(v) => write!(f, "{key}!={v}")?,
                LabelOp::In(set) => write!(f, "{key} in ({})", set.join(","))?,
                LabelOp::NotIn(set) => write!(f, "{key} notin ({})", set.join(","))?,
                LabelOp::GreaterThan(n) => write!(f, "{key}>{n}")?,
                LabelOp::LessThan(n) => write!(f, "{key}<{n}")?,
            }
        }
        Ok(())
    }
}

/// Parses a label selector with the grammar of `kubectl get -l`: comma-joined
/// requirements `key`, `!key`, `key=value`, `key==value`, `key!=value`,
/// `key in (a,b)`, `key notin (a)`, `key>1`, `key<1`.
pub fn parse_label_selector(input: &str) -> Result<LabelSelector, String> {
    LabelParser {
        tokens: lex(input),
        pos: 0,
    }
    .selector()
    .map_err(|e| format!("label selector {input:?}: {e}"))
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Not,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Word(w) => write!(f, "{w:?}"),
            Token::Not => f.write_str("\"!\""),
            Token::Equals => f.write_str("\"=\""),
            Token::DoubleEquals => f.write_str("\"==\""),
            Token::NotEquals => f.write_str("\"!=\""),
            Token::Greater => f.write_str("\">\""),
            Token::Less => f.write_str("\"<\""),
            Token::Open => f.write_str("\"(\""),
            Token::Close => f.write_str("\")\""),
            Token::Comma => f.write_str("\",\""),
        }
    }
}

fn lex(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '(' => Token::Open,
            ')' => Token::Close,
            ',' => Token::Comma,
            '>' => Token::Greater,
            '<' => Token::Less,
            '=' if chars.next_if(|&(_, c)| c == '=').is_some() => Token::DoubleEquals,
            '=' => Token::Equals,
            '!' if chars.next_if(|&(_, c)| c == '=').is_some() => Token::NotEquals,
            '!' => Token::Not,
            c => {
                let mut word = String::from(c);
                while let Some((_, c)) = chars.next_if(|&(_, c)| !is_label_special(c)) {
                    word.push(c);
                }
                Token::Word(word)
            }
        };
        tokens.push(token);
    }
    tokens
}

fn is_label_special(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | ',' | '>' | '<' | '=' | '!')
}

struct LabelParser {
    tokens: Vec<Token>,
    pos: usize,
}

impl LabelParser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn selector(&mut self) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        if self.peek().is_none() {
            return Ok(LabelSelector { requirements });
        }
        loop {
            requirements.push(self.requirement()?);
            match self.next() {
                None => return Ok(LabelSelector { requirements }),
                Some(Token::Comma) => {}
                Some(other) => return Err(format!("expected \",\" or the end, found {other}")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        if self.peek() == Some(&Token::Not) {
            self.pos += 1;
            let key = self.key()?;
            return Ok(Requirement {
                key,
                op: LabelOp::DoesNotExist,
            });
        }
        let key = self.key()?;
        let op = match self.peek() {
            None | Some(Token::Comma) => LabelOp::Exists,
            Some(Token::Equals | Token::DoubleEquals) => {
                self.pos += 1;
                LabelOp::Equals(self.value(&key)?)
            }
            Some(Token::NotEquals) => {
                self.pos += 1;
                LabelOp::NotEquals(self.value(&key)?)
            }
            Some(Token::Greater) => {
                self.pos += 1;
                LabelOp::GreaterThan(self.integer(&key)?)
            }
            Some(Token::Less) => {
                self.pos += 1;
                LabelOp::LessThan(self.integer(&key)?)
            }
            Some(Token::Word(w)) if w == "in" => {
                self.pos += 1;
                LabelOp::In(self.set(&key)?)
            }
            Some(Token::Word(w)) if w == "notin" => {
                self.pos += 1;
                LabelOp::NotIn(self.set(&key)?)
            }
            Some(other) => {
                return Err(format!(
                    "after key {key:?} expected one of = == != in notin, found {other}"
                ));
            }
        };
        Ok(Requirement { key, op })
    }

    fn key(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Token::Word(w)) => {
                validate_key(&w)?;
                Ok(w)
            }
            Some(other) => Err(format!("expected a label key, found {other}")),
            None => Err("expected a label key, found the end".into()),
        }
    }

    /// A value after `=` or `!=`; it may be empty (`app=` selects `app: ""`).
    fn value(&mut self, key: &str) -> Result<String, String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let w = w.clone();
                self.pos += 1;
                validate_value(key, &w)?;
                Ok(w)
            }
            None | Some(Token::Comma) => Ok(String::new()),
            Some(other) => Err(format!("expected a value for {key:?}, found {other}")),
        }
    }

    fn integer(&mut self, key: &str) -> Result<i64, String> {
        match self.next() {
            Some(Token::Word(w)) => w
                .parse()
                .map_err(|_| format!("{key:?} is compared with {w:?}, which is not an integer")),
            Some(other) => Err(format!("expected an integer for {key:?}, found {other}")),
            None => Err(format!("expected an integer for {key:?}, found the end")),
        }
    }

    fn set(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            Some(other) => return Err(format!("expected \"(\" after {key:?} in, found {other}")),
            None => return Err(format!("expected \"(\" after {key:?} in, found the end")),
        }
        let mut values = Vec::new();
        loop {
            let value = match self.peek() {
                Some(Token::Word(w)) => {
                    let w = w.clone();
                    self.pos += 1;
                    validate_value(key, &w)?;
                    w
                }
                _ => String::new(),
            };
            values.push(value);
            match self.next() {
                Some(Token::Comma) => {}
                Some(Token::Close) => break,
                Some(other) => {
                    return Err(format!(
                        "expected \",\" or \")\" in the values of {key:?}, found {other}"
                    ));
                }
                None => return Err(format!("the values of {key:?} are missing \")\"")),
            }
        }
        if values == [""] {
            return Err(format!("the set of values for {key:?} is empty"));
        }
        Ok(values)
    }
}

/// `[prefix/]name`: the prefix a DNS subdomain, the name at most 63
/// characters of alphanumerics, `-`, `_` and `.`, starting and ending
/// alphanumeric.
fn validate_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let valid_prefix = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !valid_prefix {
            return Err(format!(
                "label key {key:?} has an invalid prefix (a DNS subdomain such as example.com is required)"
            ));
        }
    }
    if !is_label_name(name) || name.is_empty() {
        return Err(format!(
            "invalid label key {key:?}: a name of at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ));
    }
    Ok(())
}

fn validate_value(key: &str, value: &str) -> Result<(), String> {
    if is_label_name(value) {
        Ok(())
    } else {
        Err(format!(
            "invalid value {value:?} for {key:?}: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
        ))
    }
}

/// The shape of a label name or value (empty allowed).
fn is_label_name(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let edge = |c: char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && s.starts_with(edge)
        && s.ends_with(edge)
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A parsed field selector such as `metadata.name=web,status.phase!=Running`.
/// Any dotted path into the object may be used; a missing field compares as
/// the empty string, as the API server does for unset fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FieldTerm {
    path: Vec<String>,
    equal: bool,
    value: String,
}

impl FieldSelector {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, object: Json) -> bool {
        self.terms.iter().all(|t| {
            let found = field_text(object, &t.path);
            (found.as_deref() == Some(t.value.as_str())) == t.equal
        })
    }
}

impl fmt::Display for FieldTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.equal { "=" } else { "!=" };
        let mut value = String::new();
        for c in self.value.chars() {
            if matches!(c, '\\' | ',' | '=') {
                value.push('\\');
            }
            value.push(c);
        }
        write!(f, "{}{op}{value}", self.path.join("."))
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let terms: Vec<String> = self.terms.iter().map(FieldTerm::to_string).collect();
        f.write_str(&terms.join(","))
    }
}

/// The text a field compares as: strings as they are, numbers and booleans
/// as JSON spells them, missing or null as empty. Objects and arrays have no
/// text and never equal a value.
fn field_text<'a>(object: Json<'a>, path: &[String]) -> Option<Cow<'a, str>> {
    let Some(found) = object.pointer(path) else {
        return Some(Cow::Borrowed(""));
    };
    match found.kind() {
        Kind::Null => Some(Cow::Borrowed("")),
        Kind::String => found.as_str().map(Cow::Borrowed),
        Kind::Bool => Some(Cow::Borrowed(if found.as_bool() == Some(true) {
            "true"
        } else {
            "false"
        })),
        Kind::Number => found.as_number().map(|n| {
            Cow::Owned(match n {
                Number::Int(i) => i.to_string(),
                Number::UInt(u) => u.to_string(),
                // Spelled as JSON spells it (`1.0`, `1e300`).
                Number::Float(_) => found.to_value().to_string(),
            })
        }),
        Kind::List | Kind::Map => None,
    }
}

/// Parses a field selector with the grammar of `kubectl get
/// --field-selector`: comma-joined `path=value`, `path==value` or
/// `path!=value`; `\,`, `\=` and `\\` escape those characters in values.
pub fn parse_field_selector(input: &str) -> Result<FieldSelector, String> {
    let mut terms = Vec::new();
    if input.trim().is_empty() {
        return Ok(FieldSelector { terms });
    }
    for raw in split_unescaped(input, ',') {
        let term =
            parse_field_term(raw.trim()).map_err(|e| format!("field selector {input:?}: {e}"))?;
        terms.push(term);
    }
    Ok(FieldSelector { terms })
}

fn split_unescaped(input: &str, sep: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in input.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == sep => {
                parts.push(&input[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&input[start..]);
    parts
}

fn parse_field_term(term: &str) -> Result<FieldTerm, String> {
    if term.is_empty() {
        return Err("an empty term (two commas in a row?)".into());
    }
    let (field, equal, raw_value) = split_field_term(term).ok_or_else(|| {
        format!("term {term:?} has no operator (expected path=value, path==value or path!=value)")
    })?;
    let field = field.trim();
    if field.is_empty() {
        return Err(format!(
            "term {term:?} has no field path before the operator"
        ));
    }
    let path: Vec<String> = field.split('.').map(str::to_string).collect();
    let valid_segment = |s: &String| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
    };
    if !path.iter().all(valid_segment) {
        return Err(format!(
            "field path {field:?} must be dot-separated names such as metadata.name"
        ));
    }
    Ok(FieldTerm {
        path,
        equal,
        value: unescape(raw_value)?,
    })
}

/// Splits at the first unescaped `!=`, `==` or `=`.
fn split_field_term(term: &str) -> Option<(&str, bool, &str)> {
    let bytes = term.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((&term[..i], false, &term[i + 2..]));
            }
            b'=' if bytes.get(i + 1) == Some(&b'=') => {
                return Some((&term[..i], true, &term[i + 2..]));
            }
            b'=' => return Some((&term[..i], true, &term[i + 1..])),
            _ => {}
        }
        i += 1;
    }
    None
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('\\' | ',' | '=')) => out.push(e),
            Some(e) => return Err(format!("invalid escape \\{e} in value {raw:?}")),
            None => return Err(format!("value {raw:?} ends with a lone backslash")),
        }
    }
    Ok(out)
}

/// An `ObjectQuery` made ready to test objects one by one: the same rules
/// for a snapshot, a list answer and (later) a watch cache.
#[derive(Debug, Clone)]
pub struct ObjectFilter {
    namespace: Option<String>,
    name: Option<String>,
    labels: LabelSelector,
    fields: FieldSelector,
}

impl ObjectFilter {
    pub fn new(query: &ObjectQuery) -> ObjectFilter {
        ObjectFilter {
            namespace: query.namespace.clone(),
            name: query.name.clone(),
            labels: query.label_selector.clone(),
            fields: query.field_selector.clone(),
        }
    }

    pub fn labels(&self) -> &LabelSelector {
        &self.labels
    }

    pub fn fields(&self) -> &FieldSelector {
        &self.fields
    }

    /// An object without `metadata.namespace` (cluster-scoped, or a rendered
    /// manifest that leaves the namespace to `kubectl apply -n`) matches any
    /// namespace.
    pub fn matches(&self, object: &Obj) -> bool {
        if let Some(want) = &self.namespace
            && let Some(ns) = object.namespace()
            && want != ns
        {
            return false;
        }
        if let Some(want) = &self.name
            && object.name() != Some(want.as_str())
        {
            return false;
        }
        (self.labels.is_empty() || self.labels.matches_labels(object.labels()))
            && self.fields.matches(object.json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Doc;
    use serde_json::{Value, json};

    fn labelled(labels: Value) -> Doc {
        Doc::from_value(&json!({"metadata": {"name": "x", "labels": labels}}))
    }

    fn selects(selector: &str, labels: Value) -> bool {
        parse_label_selector(selector)
            .expect("test selectors are valid")
            .matches(labelled(labels).root())
    }

    fn doc(value: Value) -> Doc {
        Doc::from_value(&value)
    }

    #[test]
    fn equality_and_inequality() {
        let web = json!({"app": "web", "tier": "front"});
        assert!(selects("app=web", web.clone()));
        assert!(selects("app==web", web.clone()));
        assert!(!selects("app=db", web.clone()));
        assert!(selects("app!=db", web.clone()));
        assert!(!selects("app!=web", web.clone()));
        assert!(selects("app=web,tier=front", web.clone()));
        assert!(!selects("app=web,tier=back", web.clone()));
        // A missing label is "not equal" to anything, as in Kubernetes.
        assert!(selects("env!=prod", web.clone()));
        assert!(!selects("env=prod", web));
    }

    #[test]
    fn sets_and_existence() {
        let web = json!({"app": "web", "env": "prod"});
        assert!(selects("env in (prod, staging)", web.clone()));
        assert!(!selects("env in (dev)", web.clone()));
        assert!(selects("env notin (dev)", web.clone()));
        assert!(!selects("env notin (dev,prod)", web.clone()));
        assert!(selects("tier notin (db)", web.clone()));
        assert!(selects("app", web.clone()));
        assert!(!selects("tier", web.clone()));
        assert!(selects("!tier", web.clone()));
        assert!(!selects("!app", web.clone()));
        assert!(selects("app,!legacy,env in (prod)", web.clone()));
        assert!(selects("", web.clone()));
        assert!(selects(
            "example.com/team in (a,b),app",
            json!({"example.com/team": "b", "app": "x"})
        ));
    }

    #[test]
    fn numeric_comparisons() {
        assert!(selects("replicas>2", json!({"replicas": "3"})));
        assert!(!selects("replicas>2", json!({"replicas": "2"})));
        assert!(selects("replicas<2", json!({"replicas": "1"})));
        assert!(!selects("replicas<2", json!({"replicas": "many"})));
    }

    #[test]
    fn empty_value_selects_empty_label() {
        assert!(selects("app=", json!({"app": ""})));
        assert!(!selects("app=", json!({"app": "web"})));
    }

    #[test]
    fn object_without_labels() {
        let unlabelled = doc(json!({"metadata": {"name": "x"}}));
        let sel = parse_label_selector("!app").expect("valid");
        assert!(sel.matches(unlabelled.root()));
        let sel = parse_label_selector("app").expect("valid");
        assert!(!sel.matches(unlabelled.root()));
    }

    #[test]
    fn label_parse_errors_say_what_is_wrong() {
        let err = |s: &str| parse_label_selector(s).expect_err("invalid selector");
        assert!(
            err("app in (a,b").contains("missing \")\""),
            "{}",
            err("app in (a,b")
        );
        assert!(err("app in a").contains("expected \"(\""));
        assert!(err("app in ()").contains("empty"));
        assert!(err("app=web,").contains("expected a label key, found the end"));
        assert!(err("app=web extra").contains("expected \",\" or the end"));
        assert!(err("=web").contains("expected a label key"));
        assert!(err("-app=web").contains("invalid label key \"-app\""));
        assert!(err("app=we b").contains("found \"b\""));
        assert!(err("app=a/b").contains("invalid value \"a/b\""));
        assert!(err("app>two").contains("not an integer"));
        assert!(err("app foo").contains("expected one of"));
        // Every message names the selector it is about.
        assert!(err("app in (a").starts_with("label selector \"app in (a\""));
    }

    #[test]
    fn label_selector_displays_canonically() {
        let sel = parse_label_selector(" app = web , env in (a, b),!x ").expect("valid");
        assert_eq!(sel.to_string(), "app=web,env in (a,b),!x");
    }

    #[test]
    fn field_selectors_follow_dotted_paths() {
        let pod = doc(json!({
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"replicas": 3, "paused": false, "nodeName": null, "ratio": 1.0},
            "status": {"phase": "Running"}
        }));
        let pod = pod.root();
        let sel = |s: &str| parse_field_selector(s).expect("valid");
        assert!(sel("metadata.name=web-1").matches(pod));
        assert!(sel("metadata.name==web-1,metadata.namespace=shop").matches(pod));
        assert!(!sel("metadata.namespace!=shop").matches(pod));
        assert!(sel("status.phase!=Pending").matches(pod));
        assert!(sel("spec.replicas=3").matches(pod));
        assert!(sel("spec.ratio=1.0").matches(pod), "as JSON spells it");
        assert!(sel("spec.paused=false").matches(pod));
        // Unset and null fields compare as empty, as the API server does.
        assert!(sel("spec.nodeName=").matches(pod));
        assert!(sel("spec.missing.deeper=").matches(pod));
        assert!(!sel("spec.missing=x").matches(pod));
        // Objects have no text: never equal.
        assert!(!sel("spec=").matches(pod));
        assert!(sel("").matches(pod));
    }

    #[test]
    fn field_selector_escapes() {
        let obj = doc(json!({"metadata": {"name": "a,b=c"}}));
        let sel = parse_field_selector(r"metadata.name=a\,b\=c").expect("valid");
        assert!(sel.matches(obj.root()));
        assert_eq!(sel.to_string(), r"metadata.name=a\,b\=c");
    }

    #[test]
    fn field_parse_errors_say_what_is_wrong() {
        let err = |s: &str| parse_field_selector(s).expect_err("invalid selector");
        assert!(err("metadata.name").contains("no operator"));
        assert!(err("=x").contains("no field path"));
        assert!(err("metadata..name=x").contains("dot-separated"));
        assert!(err("a=b,,c=d").contains("empty term"));
        assert!(err(r"a=b\q").contains("invalid escape"));
        assert!(err("metadata.name").starts_with("field selector \"metadata.name\""));
    }

    #[test]
    fn filter_treats_missing_namespace_as_any() {
        let query = |ns: Option<&str>| ObjectQuery {
            resource: crate::checklist::model::ResourceType::parse("v1/ConfigMap")
                .expect("valid resource"),
            namespace: ns.map(str::to_string),
            name: Some("cfg".into()),
            label_selector: crate::cluster::selector::parse_label_selector("app=web")
                .expect("valid selector"),
            field_selector: Default::default(),
        };
        let object = |value: Value| Obj::new(doc(value));
        let placed = object(
            json!({"metadata": {"name": "cfg", "namespace": "a", "labels": {"app": "web"}}}),
        );
        let floating = object(json!({"metadata": {"name": "cfg", "labels": {"app": "web"}}}));
        let filter = ObjectFilter::new(&query(Some("a")));
        assert!(filter.matches(&placed));
        assert!(filter.matches(&floating));
        let filter = ObjectFilter::new(&query(Some("b")));
        assert!(!filter.matches(&placed));
        assert!(filter.matches(&floating));
        let filter = ObjectFilter::new(&query(None));
        assert!(filter.matches(&placed));
        let other = object(
            json!({"metadata": {"name": "other", "namespace": "a", "labels": {"app": "web"}}}),
        );
        assert!(!filter.matches(&other));
    }
}
