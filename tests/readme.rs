//! The README's examples work: every checklist in it loads, its CI
//! snippets are YAML, and every `gonogo` command it shows (in the shell
//! blocks and in the snippets' steps) is one gonogo's own command line
//! accepts.

#[path = "support/binary.rs"]
mod binary;

use clap::Parser;
use pulldown_cmark::{CodeBlockKind, Event, Parser as Markdown, Tag, TagEnd};
use serde_json::Value;

/// Each fenced block of the README, with its language.
fn blocks() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Markdown::new(&readme) {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => {
                current = Some((lang.to_string(), String::new()));
            }
            Event::Text(text) => {
                if let Some((_, body)) = current.as_mut() {
                    body.push_str(&text);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(current.take()),
            _ => {}
        }
    }
    out
}

/// `line` split as a shell splits words: on blanks, with '…' and "…"
/// quoting; nothing after an unquoted `#` comment or `>` redirection.
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, '#' | '>') if word.is_none() => break,
            (None, c) if c.is_whitespace() => words.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

fn parses(line: &str) -> Result<(), String> {
    let args = words(line);
    gonogo::cli::Cli::try_parse_from(&args)
        .map(|_| ())
        .map_err(|e| format!("`{line}`: {e}"))
}

fn commands_in_yaml(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("run", Value::String(s)) => out.push(s.clone()),
                    ("script", Value::Array(lines)) => {
                        out.extend(lines.iter().filter_map(|l| l.as_str().map(String::from)))
                    }
                    _ => commands_in_yaml(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| commands_in_yaml(v, out)),
        _ => {}
    }
}

#[test]
fn every_gonogo_command_in_the_readme_parses() {
    let mut checked = 0;
    let mut yaml = 0;
    for (lang, body) in blocks() {
        let lines: Vec<String> = match lang.as_str() {
            "sh" => body.lines().map(String::from).collect(),
            // A transcript: the commands are the `$ ` lines.
            "text" => body
                .lines()
                .filter_map(|l| l.strip_prefix("$ ").map(String::from))
                .collect(),
            "yaml" => {
                let value: Value = serde_saphyr::from_str(&body)
                    .unwrap_or_else(|e| panic!("a YAML block does not parse: {e}\n{body}"));
                yaml += 1;
                let mut runs = Vec::new();
                commands_in_yaml(&value, &mut runs);
                runs
            }
            _ => continue,
        };
        for line in lines.iter().filter(|l| l.starts_with("gonogo ")) {
            parses(line).unwrap_or_else(|e| panic!("{e}"));
            checked += 1;
        }
    }
    assert!(yaml >= 3, "the GitHub Actions, GitLab and SARIF snippets");
    assert!(checked >= 25, "only {checked} commands found");
}

#[test]
fn every_checklist_in_the_readme_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut checked = 0;
    for (n, (lang, body)) in blocks().into_iter().enumerate() {
        if lang != "toml" || !body.starts_with("id = ") {
            continue;
        }
        let name = format!("readme-{n}.toml");
        std::fs::write(dir.path().join(&name), &body).expect("write");
        let out = binary::gonogo(dir.path())
            .args(["validate", &name])
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{body}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        checked += 1;
    }
    assert!(checked >= 2, "the checklist example and the probe kinds");
}

/// SECURITY.md names, for each promise, the tests that prove it: every
/// `path::name` it cites is a function in that file, so a renamed or
/// removed test cannot leave a promise unproven without this failing.
#[test]
fn every_test_security_md_cites_exists() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("SECURITY.md")).expect("SECURITY.md");
    let cited =
        regex::Regex::new(r"`((?:src|tests)/[A-Za-z0-9_/]+\.rs)::([a-z0-9_]+)`").expect("pattern");
    let mut checked = 0;
    for c in cited.captures_iter(&text) {
        let (file, name) = (&c[1], &c[2]);
        let source = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("SECURITY.md cites {file}, which cannot be read: {e}"));
        assert!(
            source.contains(&format!("fn {name}(")),
            "SECURITY.md cites {file}::{name}, which is not there"
        );
        checked += 1;
    }
    // Bare names listed after a file (`src/probe/command.rs`: `a`, `b`).
    let listed =
        regex::Regex::new(r"`((?:src|tests)/[A-Za-z0-9_/]+\.rs)`: ((?:`[a-z0-9_]+`(?:,\s*)?)+)")
            .expect("pattern");
    for c in listed.captures_iter(&text) {
        let source = std::fs::read_to_string(root.join(&c[1])).expect("cited file");
        for name in c[2]
            .split(',')
            .map(|n| n.trim().trim_matches('`'))
            .filter(|n| !n.is_empty())
        {
            assert!(
                source.contains(&format!("fn {name}(")),
                "SECURITY.md cites {}: {name}, which is not there",
                &c[1]
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} citations found");
}
