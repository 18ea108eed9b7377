//! `file` probes: select files in a folder tree by glob and count the lines
//! that match a pattern, as `grep -c` would over all of them.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::json;

use super::Outcome;
use super::cel;
use crate::checklist::model::FileProbe;
use crate::doc::Doc;

/// At most this many matching lines are kept for CEL and the evidence.
const MAX_LINES: usize = 200;
/// A matching line is shortened to this many characters.
const MAX_LINE_CHARS: usize = 300;
/// At most this many paths are listed in the evidence (CEL sees them all).
const MAX_LISTED_FILES: usize = 500;
/// Larger files are skipped: a deploy repo's text files are far smaller.
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

pub async fn run(probe: &FileProbe, base_dir: &Path) -> Outcome {
    let probe = probe.clone();
    let root = base_dir.join(&probe.root);
    let deadline = super::cel::meter::probe_deadline();
    match tokio::task::spawn_blocking(move || {
        super::cel::meter::blocking_until(deadline, || check(&probe, &root))
    })
    .await
    {
        Ok(outcome) => outcome,
        Err(e) => Outcome::error(format!("the file scan stopped: {e}")),
    }
}

/// What a scan found.
#[derive(Debug, Default)]
struct Scan {
    /// Selected files, relative to the root with `/` separators, sorted.
    files: Vec<String>,
    /// Matching lines counted over all selected files.
    matches: u64,
    /// Files with at least one matching line.
    files_hit: usize,
    /// The first `MAX_LINES` matching lines, as `path:line: text`.
    lines: Vec<String>,
    /// Files or folders that were not searched, and why.
    skipped: Vec<(String, String)>,
}

fn check(probe: &FileProbe, root: &Path) -> Outcome {
    let include = match glob_set(&probe.glob) {
        Ok(set) => set,
        Err(e) => return Outcome::error(e),
    };
    let exclude = match glob_set(&probe.exclude) {
        Ok(set) => set,
        Err(e) => return Outcome::error(e),
    };
    match std::fs::metadata(root) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Outcome::error(format!("root {} is not a folder", root.display())),
        Err(e) => return Outcome::error(format!("cannot read root {}: {e}", root.display())),
    }
    let mut scan = Scan::default();
    let mut selected = Vec::new();
    walk(
        root,
        "",
        &include,
        &exclude,
        &mut selected,
        &mut scan.skipped,
    );
    selected.sort();
    for (rel, path) in &selected {
        search(probe, rel, path, &mut scan);
    }
    scan.files = selected.into_iter().map(|(rel, _)| rel).collect();
    judge(probe, root, &scan)
}

/// Globs match paths relative to the root; `*` stays within one folder and
/// `**` crosses folders, as in .gitignore.
fn glob_set(patterns: &[String]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob: Glob = GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("bad glob {pattern:?}: {}", e.kind()))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| format!("bad glob: {e}"))
}

/// Collects the files under `dir` that `include` selects and `exclude` does
/// not. Symlinked folders are not followed, so a link loop cannot trap it.
fn walk(
    dir: &Path,
    rel: &str,
    include: &GlobSet,
    exclude: &GlobSet,
    out: &mut Vec<(String, PathBuf)>,
    skipped: &mut Vec<(String, String)>,
) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            skipped.push((display_rel(rel), e.to_string()));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                skipped.push((display_rel(rel), e.to_string()));
                continue;
            }
        };
        let name = entry.file_name().to_string_lossy().into_owned();
        let child_rel = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        if exclude.is_match(&child_rel) {
            continue;
        }
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk(&path, &child_rel, include, exclude, out, skipped);
        } else if include.is_match(&child_rel) && (file_type.is_file() || path.is_file()) {
            out.push((child_rel, path));
        }
    }
}

fn display_rel(rel: &str) -> String {
    if rel.is_empty() {
        ".".into()
    } else {
        rel.into()
    }
}

/// Counts the matching lines of one file into `scan`.
fn search(probe: &FileProbe, rel: &str, path: &Path, scan: &mut Scan) {
    let Some(pattern) = &probe.pattern else {
        return;
    };
    let too_large = std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES);
    if too_large {
        scan.skipped.push((rel.into(), "larger than 32 MiB".into()));
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            scan.skipped.push((rel.into(), e.to_string()));
            return;
        }
    };
    if bytes.contains(&0) {
        scan.skipped.push((rel.into(), "binary".into()));
        return;
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut hit = false;
    for (number, line) in text.lines().enumerate() {
        let comment = probe
            .skip_comments
            .as_deref()
            .is_some_and(|prefix| !prefix.is_empty() && line.trim_start().starts_with(prefix));
        if comment || !pattern.is_match(line) {
            continue;
        }
        hit = true;
        scan.matches += 1;
        if scan.lines.len() < MAX_LINES {
            let shown = crate::text::truncate(&crate::text::sanitize(line, false), MAX_LINE_CHARS);
            scan.lines.push(format!("{rel}:{}: {shown}", number + 1));
        }
    }
    if hit {
        scan.files_hit += 1;
    }
}

/// Applies the probe's expectations to a scan, first failing one first.
fn judge(probe: &FileProbe, root: &Path, scan: &Scan) -> Outcome {
    let detail = evidence(probe, root, scan);
    let found = scan.files.len() as u64;
    if found < probe.min_files {
        let globs = probe.glob.join(", ");
        let summary = if found == 0 {
            format!("no file matches glob {globs} under {}", root.display())
        } else {
            format!(
                "{} glob {globs} (expected at least {})",
                files_match(found),
                probe.min_files
            )
        };
        return Outcome::fail(summary, detail);
    }
    if let Some((miss, summary)) = count_problem(probe, scan) {
        let mut detail = detail;
        // Too many matches: each line listed is a finding of its own (a
        // report can point at it); too few, and none of them is.
        if let Miss::Over = miss {
            detail["too_many"] = json!(true);
        }
        return Outcome::fail(summary, detail);
    }
    if let Some(expect) = &probe.expect {
        let files = Doc::from_value(&json!(scan.files));
        let matches = Doc::from_value(&json!(scan.matches));
        let lines = Doc::from_value(&json!(scan.lines));
        let vars = [
            ("files", files.root()),
            ("matches", matches.root()),
            ("lines", lines.root()),
        ];
        if let Err((verdict, summary)) = cel::check(expect, &vars) {
            return Outcome::new(verdict, summary, detail);
        }
    }
    Outcome::pass(pass_summary(probe, scan), detail)
}

/// Which way a count missed its bound.
enum Miss {
    Over,
    Under,
}

/// Which of `matches`, `min_matches`, `max_matches` does not hold, if any,
/// and the summary saying so.
fn count_problem(probe: &FileProbe, scan: &Scan) -> Option<(Miss, String)> {
    let count = scan.matches;
    let over = |bound: u64| {
        if count > bound {
            Miss::Over
        } else {
            Miss::Under
        }
    };
    let (miss, expected) = match (probe.matches, probe.min_matches, probe.max_matches) {
        (Some(exact), _, _) if count != exact => (over(exact), format!("expected {exact}")),
        (_, Some(min), _) if count < min => (Miss::Under, format!("expected at least {min}")),
        (_, _, Some(max)) if count > max => (Miss::Over, format!("expected at most {max}")),
        _ => return None,
    };
    let mut summary = format!("{} ({expected})", match_phrase(probe, scan));
    if let Some(first) = scan.lines.first() {
        summary.push_str(": ");
        summary.push_str(first);
    }
    Some((miss, summary))
}

/// `3 lines match /change-me-/ in 2 files`, `no line matches /x/`.
fn match_phrase(probe: &FileProbe, scan: &Scan) -> String {
    let pattern = probe.pattern.as_ref().map_or("", |p| p.as_str());
    match scan.matches {
        0 => format!("no line matches /{pattern}/"),
        1 => format!("1 line matches /{pattern}/ in 1 file"),
        n => format!(
            "{n} lines match /{pattern}/ in {}",
            plural(scan.files_hit as u64, "file", "files")
        ),
    }
}

fn pass_summary(probe: &FileProbe, scan: &Scan) -> String {
    let searched = plural(scan.files.len() as u64, "file", "files");
    if probe.pattern.is_some() {
        format!("{} ({searched} searched)", match_phrase(probe, scan))
    } else {
        format!(
            "{} glob {}",
            files_match(scan.files.len() as u64),
            probe.glob.join(", ")
        )
    }
}

fn files_match(n: u64) -> String {
    if n == 1 {
        "1 file matches".into()
    } else {
        format!("{n} files match")
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn evidence(probe: &FileProbe, root: &Path, scan: &Scan) -> serde_json::Value {
    let skipped: Vec<_> = scan
        .skipped
        .iter()
        .map(|(path, reason)| json!({"path": path, "reason": reason}))
        .collect();
    let listed: Vec<&String> = scan.files.iter().take(MAX_LISTED_FILES).collect();
    json!({
        "root": root.display().to_string(),
        "glob": probe.glob,
        "exclude": probe.exclude,
        "pattern": probe.pattern.as_ref().map(|p| p.as_str()),
        "file_count": scan.files.len(),
        "files": listed,
        "matches": scan.matches,
        "lines": scan.lines,
        "skipped": skipped,
        "expect": probe.expect.as_ref().map(|e| e.source.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Verdict;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("a temp dir can be made");
        let files: &[(&str, &[u8])] = &[
            (
                "deploy/compose.yml",
                b"image: app\npassword: change-me-db\n# token: change-me-old\n",
            ),
            (
                "deploy/prod/values.yml",
                b"  # change-me-commented\nkey: change-me-key\n",
            ),
            ("deploy/prod/notes.txt", b"change-me-txt\n"),
            ("deploy/vendor/lib.yml", b"change-me-vendored\n"),
            ("deploy/logo.yml", b"change-me-\0binary\n"),
            ("README.md", b"nothing here\n"),
        ];
        for (path, body) in files {
            let path = dir.path().join("repo").join(path);
            std::fs::create_dir_all(path.parent().expect("test paths have a parent"))
                .expect("temp folders can be made");
            std::fs::write(path, body).expect("temp files can be written");
        }
        dir
    }

    fn probe(glob: &[&str]) -> FileProbe {
        FileProbe {
            root: PathBuf::from("repo"),
            glob: glob.iter().map(|g| g.to_string()).collect(),
            exclude: vec![],
            pattern: Some(regex::Regex::new("change-me-").expect("the test regex is valid")),
            matches: None,
            min_matches: None,
            max_matches: None,
            min_files: 1,
            skip_comments: None,
            expect: None,
        }
    }

    /// Runs `probe`, whose root `repo` is relative to the temp dir.
    async fn run_in(dir: &tempfile::TempDir, probe: &FileProbe) -> Outcome {
        run(probe, dir.path()).await
    }

    #[tokio::test]
    async fn counts_lines_like_grep_across_folders() {
        let dir = tree();
        let mut p = probe(&["**/*.yml"]);
        p.exclude = vec!["deploy/vendor/**".into()];
        p.matches = Some(0);
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "4 lines match /change-me-/ in 2 files (expected 0): deploy/compose.yml:2: password: change-me-db"
        );
        let detail = &out.evidence.detail;
        assert_eq!(detail["matches"], 4);
        assert_eq!(detail["too_many"], true, "each line listed is a finding");
        assert_eq!(
            detail["files"],
            json!([
                "deploy/compose.yml",
                "deploy/logo.yml",
                "deploy/prod/values.yml"
            ])
        );
        assert_eq!(
            detail["skipped"],
            json!([{"path": "deploy/logo.yml", "reason": "binary"}])
        );
        assert_eq!(
            detail["lines"][2],
            "deploy/prod/values.yml:1:   # change-me-commented"
        );
    }

    #[tokio::test]
    async fn skips_comment_lines() {
        let dir = tree();
        let mut p = probe(&["deploy/**/*.yml"]);
        p.exclude = vec!["**/vendor".into()];
        p.skip_comments = Some("#".into());
        p.max_matches = Some(2);
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);
        assert_eq!(
            out.evidence.summary,
            "2 lines match /change-me-/ in 2 files (3 files searched)"
        );
    }

    #[tokio::test]
    async fn single_star_stays_in_one_folder() {
        let dir = tree();
        let mut p = probe(&["deploy/*.yml"]);
        p.min_matches = Some(3);
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(
            out.evidence.summary,
            "2 lines match /change-me-/ in 1 file (expected at least 3): deploy/compose.yml:2: password: change-me-db"
        );
        assert!(
            out.evidence.detail.get("too_many").is_none(),
            "too few: the lines found are not what fails"
        );
    }

    #[tokio::test]
    async fn no_file_is_a_fail_naming_the_glob() {
        let dir = tree();
        let out = run_in(&dir, &probe(&["charts/**/*.yaml"])).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert!(
            out.evidence
                .summary
                .starts_with("no file matches glob charts/**/*.yaml under "),
            "{}",
            out.evidence.summary
        );
    }

    #[tokio::test]
    async fn min_files_counts_selected_files() {
        let dir = tree();
        let mut p = probe(&["*.md"]);
        p.pattern = None;
        p.min_files = 2;
        let out = run_in(&dir, &p).await;
        assert_eq!(
            out.evidence.summary,
            "1 file matches glob *.md (expected at least 2)"
        );
        p.min_files = 1;
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Pass);
        assert_eq!(out.evidence.summary, "1 file matches glob *.md");
    }

    #[tokio::test]
    async fn expect_sees_files_matches_and_lines() {
        let dir = tree();
        let mut p = probe(&["deploy/prod/*"]);
        p.expect = Some(
            cel::compile(
                "files == ['deploy/prod/notes.txt', 'deploy/prod/values.yml'] && matches == 3 \
                 && lines.exists(l, l.startsWith('deploy/prod/notes.txt:1: '))",
            )
            .expect("the test expression compiles"),
        );
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Pass, "{}", out.evidence.summary);

        p.expect = Some(cel::compile("matches < 3").expect("the test expression compiles"));
        let out = run_in(&dir, &p).await;
        assert_eq!(out.verdict, Verdict::Fail);
        assert_eq!(out.evidence.summary, "matches is 3, wants < 3");
    }

    #[tokio::test]
    async fn a_missing_root_is_an_error() {
        let p = probe(&["**"]);
        let out = run(&p, Path::new("/nonexistent-gonogo-test")).await;
        assert_eq!(out.verdict, Verdict::Error);
        assert!(
            out.evidence
                .summary
                .starts_with("cannot read root /nonexistent-gonogo-test/repo")
        );
    }
}
