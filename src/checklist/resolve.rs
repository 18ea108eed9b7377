//! Making a checklist concrete for one environment: `{{ var }}` filled in,
//! numbers parsed, regexes and CEL compiled, every field typed. Each error
//! points at the text in the checklist file, inside strings too.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use toml::Spanned;

use crate::checklist::model::*;
use crate::checklist::parse::{RawProbe, parse_duration, scalar_to_string, url_problem};
use crate::cluster::selector::{FieldSelector, LabelSelector};
use crate::diag::{Diagnostic, Diagnostics, Source};

/// Defaults for probes that set neither `every` nor `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct ProbeDefaults {
    pub every: Duration,
    pub timeout: Duration,
}

impl Default for ProbeDefaults {
    fn default() -> Self {
        ProbeDefaults {
            every: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The vars one environment sees: its own, then the checklist's defaults.
/// A var's value may name other vars (`base_url = "https://{{ host }}"`),
/// so a default can follow what an environment sets; a reference nobody
/// defines, or a cycle, stays as written and is reported where the var is
/// used.
pub fn env_vars(
    checklist: &Checklist,
    env_vars: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut vars = checklist.vars.clone();
    vars.extend(env_vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    // Each round fills one level of references; a cycle stops changing
    // nothing useful, so a few rounds are enough for any sane nesting.
    for _ in 0..8 {
        let before = vars.clone();
        let mut changed = false;
        for value in vars.values_mut() {
            if value.contains("{{") {
                let filled = fill_known(value, &before);
                if filled != *value {
                    *value = filled;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    vars
}

/// `text` with every `{{ name }}` whose name is in `vars` replaced.
fn fill_known(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        let name = rest[open + 2..open + close].trim();
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// Resolves every probe of `checklist` for an environment named `env` with
/// `vars` (already merged by `env_vars`). Items that skip the environment are
/// not resolved. Returns probes by item id, or every error found.
pub fn resolve_all(
    checklist: &Checklist,
    env: &str,
    vars: &BTreeMap<String, String>,
    defaults: ProbeDefaults,
) -> Result<BTreeMap<String, Probe>, Diagnostics> {
    let mut errors = Diagnostics::default();
    let mut probes = BTreeMap::new();
    for (_, item) in checklist.items() {
        let Some(template) = &item.probe else {
            continue;
        };
        if !item.applies_to(env) {
            continue;
        }
        let mut r = Resolver {
            source: &checklist.source,
            vars,
            env,
            errors: Diagnostics::default(),
        };
        let probe = r.probe(template, defaults);
        if r.errors.is_empty() {
            if let Some(p) = probe {
                probes.insert(item.id.clone(), p);
            }
        } else {
            errors.extend(r.errors);
        }
    }
    if errors.is_empty() {
        Ok(probes)
    } else {
        Err(errors)
    }
}

struct Resolver<'a> {
    source: &'a Source,
    vars: &'a BTreeMap<String, String>,
    env: &'a str,
    errors: Diagnostics,
}

impl Resolver<'_> {
    fn probe(&mut self, t: &ProbeTemplate, defaults: ProbeDefaults) -> Option<Probe> {
        let raw = &t.raw;
        let every = self.duration(&raw.every).unwrap_or(defaults.every);
        let timeout = self.duration(&raw.timeout).unwrap_or(defaults.timeout);
        let spec = match t.kind {
            ProbeKind::Kube => self.kube(raw).map(ProbeSpec::Kube),
            ProbeKind::Http => self.http(raw).map(ProbeSpec::Http),
            ProbeKind::Tls => self.tls(raw).map(ProbeSpec::Tls),
            ProbeKind::File => self.file(raw).map(ProbeSpec::File),
            ProbeKind::Promql => self.promql(raw).map(ProbeSpec::Promql),
            ProbeKind::Command => self.command(raw).map(ProbeSpec::Command),
        }?;
        Some(Probe {
            spec,
            every,
            timeout,
        })
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(Diagnostic::at(self.source, span, message));
    }

    /// A string field with its vars filled in.
    fn text(&mut self, field: &Spanned<String>) -> Option<String> {
        let raw = field.get_ref();
        let mut out = String::with_capacity(raw.len());
        let mut rest_at = 0;
        let mut ok = true;
        while let Some(open) = raw[rest_at..].find("{{") {
            let open = rest_at + open;
            out.push_str(&raw[rest_at..open]);
            let Some(close) = raw[open..].find("}}") else {
                let span = self.inner_span(field, open..raw.len());
                self.error(span, "`{{` without a closing `}}`");
                return None;
            };
            let close = open + close;
            let name = raw[open + 2..close].trim();
            match self.vars.get(name) {
                Some(v) if v.contains("{{") => {
                    let span = self.inner_span(field, open..close + 2);
                    // The first name left in the value is the culprit.
                    let left = v
                        .split("{{")
                        .nth(1)
                        .and_then(|r| r.split("}}").next())
                        .map(str::trim)
                        .unwrap_or_default();
                    let hint = if self.vars.contains_key(left) {
                        String::new()
                    } else {
                        crate::diag::did_you_mean(left, self.vars.keys().map(String::as_str))
                    };
                    self.error(
                        span,
                        format!(
                            "var `{name}` is `{v}` in environment `{}`: it names a var nobody defines, or itself{hint}",
                            self.env
                        ),
                    );
                    ok = false;
                }
                Some(v) => out.push_str(v),
                None => {
                    let span = self.inner_span(field, open..close + 2);
                    let names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
                    let hint = crate::diag::did_you_mean(name, names.iter().copied());
                    let known = if names.is_empty() {
                        "none are defined".to_string()
                    } else {
                        format!("known: {}", names.join(", "))
                    };
                    self.error(
                        span,
                        format!(
                            "unknown var `{name}` in environment `{}` ({known}){hint}",
                            self.env
                        ),
                    );
                    ok = false;
                }
            }
            rest_at = close + 2;
        }
        out.push_str(&raw[rest_at..]);
        ok.then_some(out)
    }

    fn opt_text(&mut self, field: &Option<Spanned<String>>) -> Option<Option<String>> {
        match field {
            None => Some(None),
            Some(f) => self.text(f).map(Some),
        }
    }

    /// The file span of bytes `inner` of a string field's value.
    fn inner_span(&self, field: &Spanned<String>, inner: Range<usize>) -> Range<usize> {
        let span = field.span();
        let written = &self.source.text[span.clone()];
        match value_offsets(written) {
            Some(map) => {
                let at = |i: usize| span.start + map.get(i).copied().unwrap_or(written.len());
                at(inner.start)..at(inner.end).max(at(inner.start) + 1)
            }
            None => span,
        }
    }

    fn number(&mut self, field: &Option<Spanned<toml::Value>>, name: &str) -> Option<Option<i64>> {
        let Some(f) = field else {
            return Some(None);
        };
        let text = match f.get_ref() {
            toml::Value::Integer(i) => return Some(Some(*i)),
            toml::Value::String(_) => {
                let as_string =
                    Spanned::new(f.span(), scalar_to_string(f.get_ref()).unwrap_or_default());
                self.text(&as_string)?
            }
            _ => {
                self.error(f.span(), format!("`{name}` must be a whole number"));
                return None;
            }
        };
        match text.trim().parse::<i64>() {
            Ok(n) => Some(Some(n)),
            Err(_) => {
                self.error(
                    f.span(),
                    format!("`{name}` must be a whole number, got `{text}`"),
                );
                None
            }
        }
    }

    fn count(&mut self, field: &Option<Spanned<toml::Value>>, name: &str) -> Option<Option<u64>> {
        let n = self.number(field, name)?;
        match n {
            Some(n) if n < 0 => {
                let span = field.as_ref().map_or(0..0, |f| f.span());
                self.error(span, format!("`{name}` cannot be negative"));
                None
            }
            n => Some(n.map(|n| n as u64)),
        }
    }

    fn duration(&mut self, field: &Option<Spanned<String>>) -> Option<Duration> {
        let f = field.as_ref()?;
        let text = self.text(f)?;
        match parse_duration(&text) {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(f.span(), e);
                None
            }
        }
    }

    /// Compiles an `expect` and checks the names it uses against what a
    /// probe of `kind` binds, so a typo is a load error at the name, not a
    /// failing item.
    fn expect(
        &mut self,
        field: &Option<Spanned<String>>,
        kind: ProbeKind,
    ) -> Option<Option<Expect>> {
        use crate::probe::cel;
        let Some(f) = field else {
            return Some(None);
        };
        let text = self.text(f)?;
        let (offset, len, message) = match cel::compile(&text) {
            Ok(e) => match cel::check_names(&e, cel::variables(kind)) {
                Ok(()) => return Some(Some(e)),
                Err(n) => (n.offset, n.len, n.message),
            },
            Err(e) => (e.offset, 1, format!("CEL: {}", e.message)),
        };
        // Map the spot in the expression as run (vars filled in) back to
        // the text as written: a filled-in var maps to its `{{`.
        let map = self.substitution_map(f.get_ref());
        let at = |i: usize| map.get(i).copied().unwrap_or(f.get_ref().len());
        let (start, end) = (at(offset), at(offset + len.max(1) - 1) + 1);
        let span = self.inner_span(f, start..end.max(start + 1));
        self.error(span, message);
        None
    }

    /// For each byte of `raw` with its vars filled in, the byte of `raw`
    /// it came from (a var's value maps to the `{{` that named it).
    fn substitution_map(&self, raw: &str) -> Vec<usize> {
        let mut map = Vec::with_capacity(raw.len());
        let mut at = 0;
        while at < raw.len() {
            if raw[at..].starts_with("{{")
                && let Some(close) = raw[at..].find("}}")
            {
                let name = raw[at + 2..at + close].trim();
                let filled = self.vars.get(name).map_or(0, String::len);
                map.extend(std::iter::repeat_n(at, filled));
                at += close + 2;
                continue;
            }
            let width = raw[at..].chars().next().map_or(1, char::len_utf8);
            map.extend(at..at + width);
            at += width;
        }
        map
    }

    fn url(&mut self, field: &Spanned<String>) -> Option<String> {
        let url = self.text(field)?;
        // `${env:NAME}` is read at probe time; check the shape around it.
        let checked = url.replace("${env:", "x").replace('}', "");
        if let Some(problem) = url_problem(&checked) {
            self.error(field.span(), format!("bad URL `{url}`: {problem}"));
            return None;
        }
        Some(url)
    }

    fn path(&mut self, field: &Option<Spanned<String>>) -> Option<Option<PathBuf>> {
        Some(self.opt_text(field)?.map(PathBuf::from))
    }

    /// Every field is resolved even after an error, so one pass reports
    /// every problem of the probe.
    fn kube(&mut self, raw: &RawProbe) -> Option<KubeProbe> {
        let resource_field = raw.resource.as_ref()?;
        let resource = self.text(resource_field).and_then(|text| {
            let parsed = ResourceType::parse(&text);
            if parsed.is_none() {
                self.error(
                    resource_field.span(),
                    format!(
                        "bad resource `{text}`: write [group/]version/Kind, like apps/v1/Deployment or v1/Secret"
                    ),
                );
            }
            parsed
        });
        let quantifier = match raw
            .quantifier
            .as_ref()
            .map(|q| (q.get_ref().as_str(), q.span()))
        {
            None | Some(("all", _)) => Some(Quantifier::All),
            Some(("any", _)) => Some(Quantifier::Any),
            Some(("none", _)) => Some(Quantifier::None),
            Some((other, span)) => {
                self.error(
                    span,
                    format!(
                        "unknown quantifier `{other}`: expected all, any or none{}",
                        crate::diag::did_you_mean(other, ["all", "any", "none"])
                    ),
                );
                None
            }
        };
        // Parsed here, once: the probe keeps the selectors, not their text.
        let selector = match (self.opt_text(&raw.selector), &raw.selector) {
            (Some(Some(s)), Some(f)) => match crate::cluster::selector::parse_label_selector(&s) {
                Ok(parsed) => Some(parsed),
                Err(e) => {
                    self.error(f.span(), format!("bad label selector: {e}"));
                    None
                }
            },
            (Some(_), _) => Some(LabelSelector::default()),
            (None, _) => None,
        };
        let field_selector = match (self.opt_text(&raw.field_selector), &raw.field_selector) {
            (Some(Some(s)), Some(f)) => match crate::cluster::selector::parse_field_selector(&s) {
                Ok(parsed) => Some(parsed),
                Err(e) => {
                    self.error(f.span(), format!("bad field selector: {e}"));
                    None
                }
            },
            (Some(_), _) => Some(FieldSelector::default()),
            (None, _) => None,
        };
        let min = self.count(&raw.min, "min");
        let max = self.count(&raw.max, "max");
        if let (Some(Some(min)), Some(Some(max))) = (min, max)
            && min > max
        {
            let span = raw.max.as_ref().map_or(0..0, |m| m.span());
            self.error(span, format!("`max` ({max}) is less than `min` ({min})"));
        }
        let namespace = self.opt_text(&raw.namespace);
        let name = self.opt_text(&raw.name);
        let expect = self.expect(&raw.expect, ProbeKind::Kube);
        Some(KubeProbe {
            resource: resource?,
            namespace: namespace?.filter(|n| !n.is_empty()),
            name: name?,
            selector: selector?,
            field_selector: field_selector?,
            expect: expect?,
            quantifier: quantifier?,
            min: min?.unwrap_or(KubeProbe::DEFAULT_MIN),
            max: max?,
        })
    }

    fn http(&mut self, raw: &RawProbe) -> Option<HttpProbe> {
        let url = self.url(raw.url.as_ref()?)?;
        let mut headers = BTreeMap::new();
        if let Some(h) = &raw.headers {
            for (name, value) in h.get_ref() {
                let value = self.text(value)?;
                headers.insert(name.clone(), value);
            }
        }
        let method = self
            .opt_text(&raw.method)?
            .unwrap_or_else(|| "GET".into())
            .to_ascii_uppercase();
        if !method.chars().all(|c| c.is_ascii_uppercase()) {
            let span = raw.method.as_ref().map_or(0..0, |m| m.span());
            self.error(span, format!("bad HTTP method `{method}`"));
        }
        let samples = self.count(&raw.samples, "samples")?.unwrap_or(1);
        if samples == 0 || samples > 10_000 {
            let span = raw.samples.as_ref().map_or(0..0, |m| m.span());
            self.error(span, "`samples` must be between 1 and 10000");
        }
        Some(HttpProbe {
            url,
            method,
            headers,
            body: self.opt_text(&raw.body)?,
            status: self.status(&raw.status)?,
            expect: self.expect(&raw.expect, ProbeKind::Http)?,
            samples: samples as u32,
            follow_redirects: raw.follow_redirects.as_ref().is_some_and(|b| *b.get_ref()),
            insecure: raw.insecure.as_ref().is_some_and(|b| *b.get_ref()),
            ca_file: self.path(&raw.ca_file)?,
        })
    }

    fn status(&mut self, field: &Option<Spanned<toml::Value>>) -> Option<Option<StatusMatch>> {
        let Some(f) = field else {
            return Some(None);
        };
        let bad =
            "`status` must be a code (200), a list of codes ([200, 204]) or a class (\"2xx\")";
        let code = |v: &toml::Value| match v {
            toml::Value::Integer(i) if (100..=599).contains(i) => Some(*i as u16),
            toml::Value::String(s) => s.parse::<u16>().ok().filter(|c| (100..=599).contains(c)),
            _ => None,
        };
        let parsed = match f.get_ref() {
            toml::Value::String(s) if s.len() == 3 && s.ends_with("xx") => s[..1]
                .parse::<u16>()
                .ok()
                .filter(|c| (1..=5).contains(c))
                .map(StatusMatch::Class),
            toml::Value::Array(list) => list
                .iter()
                .map(code)
                .collect::<Option<Vec<u16>>>()
                .filter(|l| !l.is_empty())
                .map(StatusMatch::Codes),
            v => code(v).map(|c| StatusMatch::Codes(vec![c])),
        };
        match parsed {
            Some(s) => Some(Some(s)),
            None => {
                self.error(f.span(), bad);
                None
            }
        }
    }

    fn tls(&mut self, raw: &RawProbe) -> Option<TlsProbe> {
        let host = self.text(raw.host.as_ref()?)?;
        let port = self.number(&raw.port, "port")?.unwrap_or(443);
        let Ok(port) = u16::try_from(port) else {
            let span = raw.port.as_ref().map_or(0..0, |p| p.span());
            self.error(span, format!("port {port} is out of range"));
            return None;
        };
        Some(TlsProbe {
            host,
            port,
            server_name: self.opt_text(&raw.server_name)?,
            ca_file: self.path(&raw.ca_file)?,
            min_days: self.number(&raw.min_days, "min_days")?.unwrap_or(14),
            expect: self.expect(&raw.expect, ProbeKind::Tls)?,
        })
    }

    fn file(&mut self, raw: &RawProbe) -> Option<FileProbe> {
        let glob_field = raw.glob.as_ref()?;
        let globs: Vec<String> = match glob_field.get_ref() {
            toml::Value::String(s) => vec![s.clone()],
            toml::Value::Array(list) => list
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        if globs.is_empty() {
            self.error(
                glob_field.span(),
                "`glob` must be a pattern or a list of patterns",
            );
            return None;
        }
        let mut resolved_globs = Vec::new();
        for g in globs {
            let g = self.text(&Spanned::new(glob_field.span(), g))?;
            if let Err(e) = globset::Glob::new(&g) {
                self.error(glob_field.span(), format!("bad glob `{g}`: {e}"));
                return None;
            }
            resolved_globs.push(g);
        }
        let mut exclude = Vec::new();
        for e in raw
            .exclude
            .as_ref()
            .map_or(&[][..], |e| e.get_ref().as_slice())
        {
            let g = self.text(e)?;
            if let Err(err) = globset::Glob::new(&g) {
                self.error(e.span(), format!("bad glob `{g}`: {err}"));
                return None;
            }
            exclude.push(g);
        }
        let pattern = match &raw.pattern {
            None => None,
            Some(p) => {
                let text = self.text(p)?;
                match regex::Regex::new(&text) {
                    Ok(r) => Some(r),
                    Err(e) => {
                        let message = e.to_string();
                        let last = message
                            .lines()
                            .last()
                            .unwrap_or("invalid regex")
                            .trim()
                            .trim_start_matches("error: ");
                        self.error(p.span(), format!("bad regex `{text}`: {last}"));
                        return None;
                    }
                }
            }
        };
        Some(FileProbe {
            root: PathBuf::from(self.opt_text(&raw.root)?.unwrap_or_else(|| ".".into())),
            glob: resolved_globs,
            exclude,
            pattern,
            matches: self.count(&raw.matches, "matches")?,
            min_matches: self.count(&raw.min_matches, "min_matches")?,
            max_matches: self.count(&raw.max_matches, "max_matches")?,
            min_files: self.count(&raw.min_files, "min_files")?.unwrap_or(1),
            skip_comments: self.opt_text(&raw.skip_comments)?,
            expect: self.expect(&raw.expect, ProbeKind::File)?,
        })
    }

    fn promql(&mut self, raw: &RawProbe) -> Option<PromqlProbe> {
        Some(PromqlProbe {
            url: self.url(raw.url.as_ref()?)?,
            query: self.text(raw.query.as_ref()?)?,
            expect: self.expect(&raw.expect, ProbeKind::Promql)?,
        })
    }

    fn command(&mut self, raw: &RawProbe) -> Option<CommandProbe> {
        let argv_field = raw.argv.as_ref()?;
        let mut argv = Vec::new();
        for a in argv_field.get_ref() {
            argv.push(self.text(a)?);
        }
        if argv.is_empty() || argv[0].is_empty() {
            self.error(
                argv_field.span(),
                "`argv` needs at least the program to run",
            );
            return None;
        }
        let exit = self.number(&raw.exit, "exit")?.unwrap_or(0);
        Some(CommandProbe {
            argv,
            cwd: self.path(&raw.cwd)?,
            exit: exit as i32,
            expect: self.expect(&raw.expect, ProbeKind::Command)?,
        })
    }
}

/// For a TOML string as written (quotes included), the offset in the written
/// text of each byte of its value, plus one past the end. `None` when the
/// written form is not a string we can map.
fn value_offsets(written: &str) -> Option<Vec<usize>> {
    let (open, literal) = if written.starts_with("\"\"\"") {
        (3, false)
    } else if written.starts_with("'''") {
        (3, true)
    } else if written.starts_with('"') {
        (1, false)
    } else if written.starts_with('\'') {
        (1, true)
    } else {
        return None;
    };
    let close = written.len().checked_sub(open)?;
    let mut i = open;
    // A newline right after a multi-line opening is not part of the value.
    if open == 3 && written[i..].starts_with('\n') {
        i += 1;
    } else if open == 3 && written[i..].starts_with("\r\n") {
        i += 2;
    }
    let mut map = Vec::with_capacity(close);
    let bytes = written.as_bytes();
    while i < close {
        if !literal && bytes[i] == b'\\' {
            let len = match bytes.get(i + 1) {
                Some(b'u') => 6,
                Some(b'U') => 10,
                _ => 2,
            };
            let decoded = match bytes.get(i + 1) {
                Some(b'u') | Some(b'U') => {
                    let hex = written.get(i + 2..i + len)?;
                    char::from_u32(u32::from_str_radix(hex, 16).ok()?)?.len_utf8()
                }
                // A line-ending backslash in a multi-line string trims
                // whitespace; positions after it are approximate.
                _ => 1,
            };
            for _ in 0..decoded {
                map.push(i);
            }
            i += len;
        } else {
            map.push(i);
            i += 1;
        }
    }
    map.push(close);
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_var_default_follows_the_vars_it_names() {
        let source = Source::new(
            "c.toml",
            "id = \"c\"\ntitle = \"C\"\nversion = \"1\"\n[vars]\nhost = \"app.example.com\"\naddress = \"{{ host }}\"\nurl = \"https://{{ address }}/\"\n[[sections]]\nid = \"s\"\ntitle = \"S\"\n[[sections.items]]\nid = \"i\"\ntitle = \"I\"\n",
        );
        let checklist = crate::checklist::parse::parse(source, false).expect("valid checklist");
        let got = env_vars(&checklist, &vars(&[("host", "shop.example.com")]));
        assert_eq!(got["address"], "shop.example.com");
        assert_eq!(got["url"], "https://shop.example.com/");
        // An environment that sets the address itself keeps it.
        let got = env_vars(&checklist, &vars(&[("address", "10.0.0.7")]));
        assert_eq!(got["url"], "https://10.0.0.7/");
        // A cycle or an unknown name stays visible, for `text` to report.
        let got = env_vars(
            &checklist,
            &vars(&[("host", "{{ url }}"), ("x", "{{ nope }}")]),
        );
        assert!(got["url"].contains("{{"), "{got:?}");
        assert_eq!(got["x"], "{{ nope }}");
    }

    #[test]
    fn maps_offsets_through_quotes_and_escapes() {
        assert_eq!(value_offsets("\"ab\""), Some(vec![1, 2, 3]));
        assert_eq!(value_offsets("'a\\b'"), Some(vec![1, 2, 3, 4]));
        assert_eq!(value_offsets("\"a\\\"b\""), Some(vec![1, 2, 4, 5]));
        assert_eq!(value_offsets("\"\"\"\nab\"\"\""), Some(vec![4, 5, 6]));
    }
}
