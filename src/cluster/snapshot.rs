//! The snapshot cluster: Kubernetes objects read once from YAML or JSON files
//! and folders (`helm template` output, `kubectl get -o yaml` dumps, a repo's
//! `manifests/`), indexed by apiVersion and kind and served as an `ObjectSource`.
//!
//! Namespaces: an object without `metadata.namespace` matches a query for any
//! namespace. Rendered charts and manifest folders usually leave the namespace
//! to `kubectl apply -n` or a kustomization, so such an object is taken to live
//! wherever the checklist looks for it; cluster-scoped objects have no
//! namespace either and are found the same way.
//!
//! YAML is read the way kubectl reads it (YAML 1.1 scalars): `0644` is the
//! octal number 420, `yes`/`no`/`on`/`off` are booleans, an unquoted `=` is a
//! string, and a key repeated in one mapping is an error.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::selector::ObjectFilter;
use super::{Obj, Object, ObjectQuery, ObjectSource, Origin, STRIP, STRIPPED, SourceError};
use crate::doc::{Doc, Edits, Json};

/// A resource type as a snapshot files it: `(apiVersion, kind)`.
pub(super) type TypeKey = (String, String);

/// Objects by type, each list in file order.
type Index = HashMap<TypeKey, Vec<Object>>;

/// Kubernetes objects loaded from files.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    label: String,
    objects: Index,
    files: usize,
    skipped: Vec<String>,
}

/// Why a snapshot could not be loaded. Its `Display` starts with the file
/// (and the line and column for parse errors), like a compiler message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    Read {
        path: PathBuf,
        message: String,
    },
    Parse {
        path: PathBuf,
        line: u64,
        column: u64,
        message: String,
    },
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::Read { path, message } => {
                write!(f, "{}: {message}", path.display())
            }
            SnapshotError::Parse {
                path,
                line,
                column,
                message,
            } => write!(f, "{}:{line}:{column}: {message}", path.display()),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// Reads every file in `paths`; a folder is read recursively for
    /// `*.yaml`, `*.yml` and `*.json` (names starting with `.` are skipped),
    /// in sorted order so that the result never depends on the file system.
    pub fn load(paths: &[PathBuf]) -> Result<Snapshot, SnapshotError> {
        Snapshot::load_kinds(paths, None)
    }

    /// Like `load`, reading in full only the YAML documents whose `kind` is
    /// in `kinds` (and lists, whose items may be): a review that looks at
    /// Deployments need not parse the megabytes of CRDs beside them.
    pub fn load_kinds(
        paths: &[PathBuf],
        kinds: Option<&std::collections::HashSet<String>>,
    ) -> Result<Snapshot, SnapshotError> {
        let label = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut snapshot = Snapshot {
            label,
            ..Snapshot::default()
        };
        let mut files = Vec::new();
        for path in paths {
            files.extend(manifest_files(path)?);
        }
        for (file, docs) in files.iter().zip(parse_files(&files, kinds)) {
            let file: Arc<Path> = file.as_path().into();
            for read in docs? {
                snapshot.ingest_read(read, &file);
            }
            snapshot.files += 1;
        }
        Ok(snapshot)
    }

    /// A snapshot from YAML text already in memory (a bundled demo cluster);
    /// `label` names it in `describe` and in errors.
    pub fn from_yaml(label: &str, text: &str) -> Result<Snapshot, SnapshotError> {
        let mut snapshot = Snapshot {
            label: label.to_string(),
            ..Snapshot::default()
        };
        let path = PathBuf::from(label);
        let file: Arc<Path> = path.as_path().into();
        for read in parse_yaml_located(&path, text, None)? {
            snapshot.ingest_read(read, &file);
        }
        snapshot.files = 1;
        Ok(snapshot)
    }

    /// How many objects were loaded (list items counted one by one).
    pub fn len(&self) -> usize {
        self.objects.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many files were read.
    pub fn files(&self) -> usize {
        self.files
    }

    /// Documents that were read but are not Kubernetes objects (no
    /// `apiVersion` or `kind`, not a mapping), one line each naming the file.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    /// Adds one document as a file holds it.
    fn ingest_read(&mut self, read: Located, file: &Arc<Path>) {
        let origin = Origin {
            file: file.clone(),
            line: read.line,
        };
        self.ingest(read.doc, origin, &read.item_lines);
    }

    /// Adds one document: an object, a `List` / `…List` of objects, or
    /// nothing (an empty document). `item_lines`: where a list's items
    /// start, when the text showed them plainly.
    fn ingest(&mut self, doc: Doc, origin: Origin, item_lines: &[u32]) {
        let path = &*origin.file;
        let root = doc.root();
        if !root.is_map() {
            if !root.is_null() {
                self.skip(path, "a document is not a mapping");
            }
            return;
        }
        let text = |key: &str| root.get(key).and_then(Json::as_str);
        let (api_version, kind) = (text("apiVersion"), text("kind"));
        if let Some(kind) = kind
            && is_list(kind, root)
        {
            // A typed list (`DeploymentList`) names its items' type; a plain
            // `List` does not, and its items carry their own.
            let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
            let mut fill = Vec::new();
            if let Some(item_kind) = item_kind {
                fill.push(("kind", item_kind));
                fill.extend(api_version.map(|api| ("apiVersion", api)));
            }
            let edits = Edits {
                drop: STRIPPED,
                set: &[],
                fill: &fill,
            };
            // `kubectl get` of nothing prints `items: []`, some tools `null`.
            let items: Vec<Json> = root
                .get("items")
                .into_iter()
                .flat_map(Json::items)
                .collect();
            // Lines read from the text count only when they agree with
            // the list on how many items there are.
            let lines: Vec<Option<u32>> = if items.len() == item_lines.len() {
                item_lines.iter().copied().map(Some).collect()
            } else {
                vec![origin.line; items.len()]
            };
            for (item, line) in items.into_iter().zip(lines) {
                let at = Origin {
                    file: origin.file.clone(),
                    line,
                };
                match Doc::edited(item, &edits) {
                    Ok(item) => self.ingest(item, at, &[]),
                    Err(e) => self.skip(path, &format!("a list item is {e}")),
                }
            }
            return;
        }
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            self.skip(path, "a document has no apiVersion or kind");
            return;
        };
        let key = (api_version.to_string(), kind.to_string());
        // Read with `STRIP`: nothing is left to remove.
        let object = Obj::read_at(doc, Some(origin));
        self.objects.entry(key).or_default().push(object);
    }

    fn skip(&mut self, path: &Path, why: &str) {
        self.skipped.push(format!("{}: {why}", path.display()));
    }

    /// Takes over `before`'s objects of every type whose objects read the
    /// same here (so what was said of them is not said again), and returns
    /// the types whose objects came, went or changed.
    pub(super) fn carry_over(&mut self, before: &Snapshot) -> HashSet<TypeKey> {
        let mut changed: HashSet<TypeKey> = before
            .objects
            .keys()
            .filter(|key| !self.objects.contains_key(*key))
            .cloned()
            .collect();
        for (key, objects) in &mut self.objects {
            match before.objects.get(key) {
                Some(held) if held == objects => objects.clone_from(held),
                _ => {
                    changed.insert(key.clone());
                }
            }
        }
        changed
    }

    pub(super) fn select(&self, query: &ObjectQuery) -> Result<Vec<Object>, SourceError> {
        let filter = ObjectFilter::new(query);
        let Some(objects) = self.objects.get(&type_key(query)) else {
            return Ok(Vec::new());
        };
        Ok(objects
            .iter()
            .filter(|o| filter.matches(o))
            .cloned()
            .collect())
    }
}

impl ObjectSource for Snapshot {
    fn describe(&self) -> String {
        format!("snapshot {}", self.label)
    }

    fn list<'a>(
        &'a self,
        query: &'a ObjectQuery,
    ) -> BoxFuture<'a, Result<Vec<Object>, SourceError>> {
        Box::pin(async move { self.select(query) })
    }
}

/// The type `query` selects, as a snapshot files it.
pub(super) fn type_key(query: &ObjectQuery) -> TypeKey {
    (query.resource.api_version(), query.resource.kind.clone())
}

/// `List`, or a typed `FooList` with `items` and no name of its own (a CRD
/// whose kind merely ends in "List" has a name).
fn is_list(kind: &str, map: Json) -> bool {
    kind.ends_with("List")
        && map.get("items").is_some_and(|i| i.is_list() || i.is_null())
        && map.get("metadata").and_then(|m| m.get("name")).is_none()
}

/// A document as a file holds it, read with `STRIP`: an object is stored
/// as read; the items of a list are copied out (and stripped) when it is
/// unwrapped.
struct Read(Doc);

impl<'de> serde::Deserialize<'de> for Read {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Read, D::Error> {
        Doc::read(deserializer, &STRIP).map(Read)
    }
}

fn docs(read: Vec<Read>) -> Vec<Doc> {
    read.into_iter().map(|Read(doc)| doc).collect()
}

fn has_extension(path: &Path, ext: &str) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

fn is_manifest(path: &Path) -> bool {
    ["yaml", "yml", "json"]
        .iter()
        .any(|ext| has_extension(path, ext))
}

fn read_error(path: &Path, e: &std::io::Error) -> SnapshotError {
    let message = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => format!("cannot read: {e}"),
    };
    SnapshotError::Read {
        path: path.to_path_buf(),
        message,
    }
}

/// The files to read for one path: the path itself when it is a file (any
/// extension: the user named it), else the manifests under the folder.
fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, &e))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    walk(path, &mut files, &mut visited)?;
    files.sort();
    Ok(files)
}

fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), SnapshotError> {
    // A symlink back up the tree must not loop forever.
    let canonical = dir.canonicalize().map_err(|e| read_error(dir, &e))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| read_error(dir, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| read_error(dir, &e))?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path).map_err(|e| read_error(&path, &e))?;
        if meta.is_dir() {
            walk(&path, files, visited)?;
        } else if is_manifest(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// Parses every file, on all cores (a cluster dump is mostly parsing time),
/// returning the results in the order of `files`.
fn parse_files(
    files: &[PathBuf],
    kinds: Option<&std::collections::HashSet<String>>,
) -> Vec<Result<Vec<Located>, SnapshotError>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(file) = files.get(i) else {
                return done;
            };
            done.push((i, parse_file(file, kinds)));
        }
    };
    let mut results: Vec<(usize, Result<Vec<Located>, SnapshotError>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    // Deeply nested documents recurse; give them room.
                    std::thread::Builder::new()
                        .stack_size(16 * 1024 * 1024)
                        .spawn_scoped(scope, work)
                })
                .collect();
            let mut results = Vec::new();
            for handle in handles {
                match handle {
                    Ok(handle) => results.extend(handle.join().unwrap_or_default()),
                    // No thread to be had: parse here instead.
                    Err(_) => results.extend(work()),
                }
            }
            results
        });
    let mut slots: Vec<Option<Result<Vec<Located>, SnapshotError>>> =
        files.iter().map(|_| None).collect();
    for (i, result) in results.drain(..) {
        slots[i] = Some(result);
    }
    // A slot stays empty only if its worker panicked inside the parser.
    files
        .iter()
        .zip(slots)
        .map(|(path, slot)| {
            slot.unwrap_or_else(|| {
                Err(SnapshotError::Read {
                    path: path.clone(),
                    message: "the YAML parser crashed on this file".into(),
                })
            })
        })
        .collect()
}

fn parse_file(
    path: &Path,
    kinds: Option<&std::collections::HashSet<String>>,
) -> Result<Vec<Located>, SnapshotError> {
    let bytes = std::fs::read(path).map_err(|e| read_error(path, &e))?;
    let text = String::from_utf8(bytes).map_err(|_| SnapshotError::Read {
        path: path.to_path_buf(),
        message: "not UTF-8 text".into(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if has_extension(path, "json") {
        return parse_json(path, text);
    }
    parse_yaml_located(path, text, kinds)
}

/// A document as a file holds it, with where it starts.
struct Located {
    doc: Doc,
    /// 1-based: its first line that is neither blank nor a comment.
    line: Option<u32>,
    /// For a list written in block style, where each of its `items`
    /// starts (its `-` line); empty when the text does not show them
    /// plainly.
    item_lines: Vec<u32>,
}

/// Parses the documents of a YAML stream one by one, each knowing its
/// line; with `kinds`, only those whose top-level `kind` is wanted (or
/// cannot be told without parsing). Errors keep the file's line numbers.
fn parse_yaml_located(
    path: &Path,
    text: &str,
    kinds: Option<&std::collections::HashSet<String>>,
) -> Result<Vec<Located>, SnapshotError> {
    if text.contains("\n%") || text.starts_with('%') {
        // A directive holds for the documents after it: read the stream
        // whole, without lines.
        return parse_yaml(path, text).map(|docs| {
            docs.into_iter()
                .map(|doc| Located {
                    doc,
                    line: None,
                    item_lines: Vec::new(),
                })
                .collect()
        });
    }
    let mut values = Vec::new();
    for (before, doc) in documents(text) {
        let kind = top_level_kind(doc);
        // `List` may hold anything; `ConfigMapList` only ConfigMaps.
        let wanted = match (kinds, kind) {
            (None, _) | (_, Some("List") | None) => true,
            (Some(kinds), Some(kind)) => kinds.contains(kind.strip_suffix("List").unwrap_or(kind)),
        };
        if !wanted {
            continue;
        }
        let docs = match parse_yaml(path, doc) {
            Ok(docs) => docs,
            Err(SnapshotError::Parse {
                path,
                line,
                column,
                message,
            }) => {
                return Err(SnapshotError::Parse {
                    path,
                    line: line + before as u64,
                    column,
                    message,
                });
            }
            Err(e) => return Err(e),
        };
        let shift = |line: usize| u32::try_from(before + line).ok();
        let line = first_content_line(doc).and_then(shift);
        let item_lines: Vec<u32> = match kind {
            Some(kind) if kind.ends_with("List") => {
                list_item_lines(doc).into_iter().filter_map(shift).collect()
            }
            _ => Vec::new(),
        };
        // A chunk between two `---` is one document; should a `...` end
        // one and another follow unmarked, that one's line is not known.
        for (i, doc) in docs.into_iter().enumerate() {
            values.push(Located {
                doc,
                line: line.filter(|_| i == 0),
                item_lines: if i == 0 {
                    item_lines.clone()
                } else {
                    Vec::new()
                },
            });
        }
    }
    Ok(values)
}

/// The 1-based line of `doc`'s first line that is neither blank nor a
/// comment.
fn first_content_line(doc: &str) -> Option<usize> {
    doc.lines()
        .position(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#')
        })
        .map(|i| i + 1)
}

/// The 1-based lines where the entries of a top-level block sequence
/// `items:` start, as `kubectl get -o yaml` writes a list: each entry's
/// `-` at the column of the first. Empty when `items` is not written so.
fn list_item_lines(doc: &str) -> Vec<usize> {
    let mut lines = doc.lines().enumerate();
    let opens = |l: &str| {
        l.strip_prefix("items:")
            .is_some_and(|rest| rest.trim().is_empty() || rest.trim_start().starts_with('#'))
    };
    if !lines.by_ref().any(|(_, l)| opens(l)) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut column = None;
    for (i, l) in lines {
        let bare = l.trim_start_matches(' ');
        if bare.is_empty() || bare.starts_with('#') {
            continue;
        }
        let indent = l.len() - bare.len();
        let entry = bare == "-" || bare.starts_with("- ");
        match column {
            None if entry => column = Some(indent),
            None => return Vec::new(),
            Some(c) if indent == c && entry => {}
            Some(c) if indent > c => continue,
            // Back at the sequence's column (or left of it) without a
            // `-`: the next key of the list.
            Some(_) => break,
        }
        found.push(i + 1);
    }
    found
}

/// The documents of a YAML stream, split at `---` lines, each with how many
/// lines come before it.
fn documents(text: &str) -> Vec<(usize, &str)> {
    let mut docs = Vec::new();
    let (mut start, mut start_line, mut line) = (0, 0, 0);
    let mut at = 0;
    for l in text.split_inclusive('\n') {
        let bare = l.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            docs.push((start_line, &text[start..at]));
            start = at + l.len();
            start_line = line + 1;
        }
        at += l.len();
        line += 1;
    }
    docs.push((start_line, &text[start..]));
    docs
}

/// The value of a document's top-level `kind:` line, unquoted; `None` when
/// there is none to read without parsing.
fn top_level_kind(doc: &str) -> Option<&str> {
    doc.lines()
        .find_map(|l| l.strip_prefix("kind:"))
        .map(|v| {
            v.split('#')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches(['"', '\''])
        })
        .filter(|v| !v.is_empty())
}

fn yaml_options() -> serde_saphyr::Options {
    // Dumps of whole clusters are far larger than the default budget allows;
    // the depth limit stays, to keep deeply nested input off the stack.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 128;
    budget.max_nodes = 100_000_000;
    budget.max_events = 200_000_000;
    budget.max_documents = 10_000_000;
    budget.max_total_scalar_bytes = usize::MAX;
    budget.max_reader_input_bytes = None;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    // Kubernetes reads YAML 1.1: `0644` is octal.
    options.legacy_octal_numbers = true;
    options.with_snippet = false;
    options.emit_comments = false;
    options
}

fn parse_yaml(path: &Path, text: &str) -> Result<Vec<Doc>, SnapshotError> {
    let read = serde_saphyr::from_multiple_with_options::<Read>(text, yaml_options());
    read.map(docs).map_err(|e| {
        use serde_saphyr::MessageFormatter;
        let message = serde_saphyr::DefaultMessageFormatter
            .format_message(e.without_snippet())
            .into_owned();
        let message = plain_yaml_message(&crate::text::sanitize(&message, false));
        match e.location() {
            Some(loc) => SnapshotError::Parse {
                path: path.to_path_buf(),
                line: loc.line(),
                column: loc.column(),
                message,
            },
            None => SnapshotError::Read {
                path: path.to_path_buf(),
                message: format!("invalid YAML: {message}"),
            },
        }
    })
}

/// The YAML parser's limits in the reader's words, not its options'.
fn plain_yaml_message(message: &str) -> String {
    if message.contains("budget breached") {
        return format!(
            "refused: its anchors and aliases expand too far (a \"billion laughs\" file?) [{message}]"
        );
    }
    if message.contains("recursion limit exceeded") {
        return "refused: nested more than 128 levels deep".into();
    }
    message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .to_string()
}

/// One JSON value, or several one after another (`kubectl get -o json` of
/// several names prints one object each), each with the line it starts on.
fn parse_json(path: &Path, text: &str) -> Result<Vec<Located>, SnapshotError> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Read>();
    let mut values = Vec::new();
    // Lines counted up to `counted`, so a file of many values is read once.
    let (mut counted, mut line) = (0, 1);
    loop {
        let after_last = stream.byte_offset();
        let Some(read) = stream.next() else {
            break;
        };
        let Read(doc) = read.map_err(|e| SnapshotError::Parse {
            path: path.to_path_buf(),
            line: e.line() as u64,
            column: e.column() as u64,
            message: e.to_string(),
        })?;
        let gap = &text[after_last..];
        let start = after_last + (gap.len() - gap.trim_start().len());
        line += text[counted..start].matches('\n').count();
        counted = start;
        values.push(Located {
            doc,
            line: u32::try_from(line).ok(),
            item_lines: Vec::new(),
        });
    }
    Ok(values)
}

/// The kube-prometheus manifests in the shared fixtures folder, which sits
/// beside the project (`../shared`) or beside a worktree folder
/// (`../../shared`); `None` when neither exists.
#[cfg(test)]
/// The kube-prometheus manifests vendored under `tests/fixtures` (the CRDs
/// left out), so tests never depend on anything outside the repository.
#[cfg(test)]
pub(crate) fn kube_prometheus() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kube-prometheus");
    assert!(
        path.is_dir(),
        "tests/fixtures/kube-prometheus is part of the repository"
    );
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checklist::model::ResourceType;

    /// Reading only some kinds gives exactly those objects, and a mistake
    /// in a document that is read still names the file's own line.
    #[test]
    fn loading_some_kinds_reads_just_those() {
        let fixtures = kube_prometheus().expect("vendored fixtures");
        let all = Snapshot::load(std::slice::from_ref(&fixtures)).expect("fixtures load");
        let kinds: std::collections::HashSet<String> =
            ["Deployment".to_string(), "Secret".to_string()].into();
        let some = Snapshot::load_kinds(std::slice::from_ref(&fixtures), Some(&kinds))
            .expect("fixtures load");
        for resource in ["apps/v1/Deployment", "v1/Secret"] {
            let q = ObjectQuery {
                resource: ResourceType::parse(resource).expect("valid"),
                namespace: None,
                name: None,
                label_selector: Default::default(),
                field_selector: Default::default(),
            };
            assert_eq!(some.select(&q).ok(), all.select(&q).ok(), "{resource}");
        }
        assert!(some.len() < all.len(), "other kinds were left out");

        let text = "kind: ConfigMap\nmetadata: {name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n  labels: {x: [}\n";
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("two.yaml");
        std::fs::write(&path, text).expect("write");
        let err = Snapshot::load_kinds(std::slice::from_ref(&path), Some(&kinds))
            .expect_err("the Secret document is broken");
        assert!(
            err.to_string().contains("two.yaml:8:"),
            "the file's line, not the document's: {err}"
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("temp dir is writable");
        }
        std::fs::write(&path, text).expect("temp dir is writable");
        path
    }

    fn query(resource: &str) -> ObjectQuery {
        ObjectQuery {
            resource: ResourceType::parse(resource).expect("test resource types are valid"),
            namespace: None,
            name: None,
            label_selector: Default::default(),
            field_selector: Default::default(),
        }
    }

    fn names(snapshot: &Snapshot, q: &ObjectQuery) -> Vec<String> {
        snapshot
            .select(q)
            .expect("query is valid")
            .iter()
            .map(|o| o.name().unwrap_or("?").to_string())
            .collect()
    }

    const MULTI: &str = "\
# Source: chart/templates/a.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: first
  namespace: shop
  labels: {app: web}
data:
  mode: =
  enabled: yes
---
# Source: chart/templates/empty.yaml
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  managedFields:
  - manager: kubectl
spec:
  replicas: 2
  template:
    spec:
      volumes:
      - name: cfg
        configMap:
          name: first
          defaultMode: 0644
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: floating
  labels: {app: db}
...
";

    #[test]
    fn multi_document_yaml_is_read_like_kubectl() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = write(dir.path(), "all.yaml", MULTI);
        let snapshot = Snapshot::load(&[file]).expect("valid YAML");
        assert_eq!(snapshot.len(), 3);
        assert!(snapshot.skipped().is_empty());

        let deploys = snapshot
            .select(&query("apps/v1/Deployment"))
            .expect("valid");
        assert_eq!(deploys.len(), 1);
        let deploy = deploys[0].to_json();
        let mode = &deploy["spec"]["template"]["spec"]["volumes"][0]["configMap"]["defaultMode"];
        assert_eq!(
            mode,
            &serde_json::json!(420),
            "0644 is octal, as Kubernetes reads it"
        );
        assert!(
            deploy["metadata"].get("managedFields").is_none(),
            "managedFields are dropped"
        );

        let maps = snapshot.select(&query("v1/ConfigMap")).expect("valid");
        let map = maps[0].to_json();
        assert_eq!(map["data"]["mode"], serde_json::json!("="));
        assert_eq!(map["data"]["enabled"], serde_json::json!(true));
    }

    /// Where each object's document starts, by name.
    fn lines(snapshot: &Snapshot, resource: &str) -> Vec<(String, Option<u32>)> {
        snapshot
            .select(&query(resource))
            .expect("query is valid")
            .iter()
            .map(|o| {
                let origin = o.origin().expect("a snapshot object knows its file");
                (o.name().unwrap_or("?").to_string(), origin.line)
            })
            .collect()
    }

    #[test]
    fn objects_know_their_file_and_first_line() {
        let dir = tempfile::tempdir().expect("temp dir");
        let multi = write(dir.path(), "multi.yaml", MULTI);
        write(
            dir.path(),
            "dump.yaml",
            "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: listed-a
  data:
    script: |
      - not an item
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-b}
metadata:
  resourceVersion: \"1\"
---
kind: ConfigMapList
apiVersion: v1
items: [{metadata: {name: flow-a}}, {metadata: {name: flow-b}}]
",
        );
        write(
            dir.path(),
            "svc.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"one\"}}\n\n  \
             {\"apiVersion\": \"v1\",\n \"kind\": \"Service\", \"metadata\": {\"name\": \"two\"}}",
        );
        for kinds in [
            None,
            Some(["ConfigMap", "Service"].map(String::from).into()),
        ] {
            let snapshot = Snapshot::load_kinds(&[dir.path().to_path_buf()], kinds.as_ref())
                .expect("valid files");
            assert_eq!(
                lines(&snapshot, "v1/ConfigMap"),
                [
                    ("listed-a".to_string(), Some(4)),
                    ("listed-b".to_string(), Some(11)),
                    // Flow style: the list's own line.
                    ("flow-a".to_string(), Some(17)),
                    ("flow-b".to_string(), Some(17)),
                    // After a `# Source:` comment.
                    ("first".to_string(), Some(2)),
                    ("floating".to_string(), Some(31)),
                ],
                "kinds {kinds:?}"
            );
            assert_eq!(
                lines(&snapshot, "v1/Service"),
                [("one".to_string(), Some(1)), ("two".to_string(), Some(3))]
            );
        }
        let snapshot = Snapshot::load(std::slice::from_ref(&multi)).expect("valid YAML");
        let deploy = &snapshot
            .select(&query("apps/v1/Deployment"))
            .expect("valid")[0];
        let origin = deploy.origin().expect("read from a file");
        assert_eq!(&*origin.file, multi.as_path());
        assert_eq!(origin.line, Some(14));
        let text = std::fs::read_to_string(&multi).expect("written");
        assert_eq!(text.lines().nth(13), Some("apiVersion: apps/v1"));
    }

    #[test]
    fn lists_are_unwrapped() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            dir.path(),
            "dump.yaml",
            "\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata: {name: s1, namespace: a}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: d1, namespace: a}
",
        );
        write(
            dir.path(),
            "typed.yaml",
            "\
apiVersion: apps/v1
kind: DeploymentList
metadata: {resourceVersion: \"1\"}
items:
- metadata: {name: d2, namespace: b}
- metadata: {name: d3, namespace: b}
  kind: Deployment
  apiVersion: apps/v1
",
        );
        write(
            dir.path(),
            "empty.yaml",
            "apiVersion: v1\nkind: List\nitems: []\n---\napiVersion: v1\nkind: SecretList\nitems: null\n",
        );
        let snapshot = Snapshot::load(&[dir.path().to_path_buf()]).expect("valid YAML");
        assert_eq!(snapshot.len(), 4, "empty lists add nothing");
        assert!(snapshot.skipped().is_empty(), "{:?}", snapshot.skipped());
        assert_eq!(names(&snapshot, &query("v1/Secret")), ["s1"]);
        assert_eq!(
            names(&snapshot, &query("apps/v1/Deployment")),
            ["d1", "d2", "d3"]
        );
    }

    #[test]
    fn json_files_and_folders_are_read_recursively_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        write(
            dir.path(),
            "b/svc.json",
            r#"{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "from-json"}}
               {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "second-json"}}"#,
        );
        write(
            dir.path(),
            "a/nested/svc.yml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: from-yml}\n",
        );
        write(dir.path(), "notes.txt", "not: [a manifest");
        write(dir.path(), ".git/config.yaml", "broken: [");
        write(dir.path(), "values.yaml", "replicas: 3\n");
        let snapshot = Snapshot::load(&[dir.path().to_path_buf()]).expect("valid files");
        assert_eq!(
            names(&snapshot, &query("v1/Service")),
            ["from-yml", "from-json", "second-json"]
        );
        assert_eq!(snapshot.files(), 3);
        assert_eq!(snapshot.skipped().len(), 1);
        assert!(snapshot.skipped()[0].contains("values.yaml"));
        assert_eq!(
            snapshot.describe(),
            format!("snapshot {}", dir.path().display())
        );
    }

    #[test]
    fn bad_yaml_names_file_line_and_column() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = write(
            dir.path(),
            "broken.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n",
        );
        let err = Snapshot::load(std::slice::from_ref(&file)).expect_err("invalid YAML");
        let SnapshotError::Parse { line, column, .. } = &err else {
            panic!("expected a parse error, got {err:?}");
        };
        assert_eq!((*line, *column), (5, 7));
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("{}:5:7: ", file.display())),
            "{text}"
        );
        assert!(text.contains("mapping"), "{text}");
    }

    #[test]
    fn bad_json_and_missing_files_name_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = write(dir.path(), "x.json", "{\"a\": 1,\n \"b\" 2}");
        let err = Snapshot::load(std::slice::from_ref(&file)).expect_err("invalid JSON");
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2:6: ", file.display())),
            "{err}"
        );
        let missing = dir.path().join("nope.yaml");
        let err = Snapshot::load(std::slice::from_ref(&missing)).expect_err("missing");
        assert_eq!(
            err.to_string(),
            format!("{}: no such file or folder", missing.display())
        );
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = Snapshot::from_yaml("dup.yaml", "a: 1\nb: 2\na: 3\n").expect_err("duplicate");
        assert!(err.to_string().starts_with("dup.yaml:3:"), "{err}");
    }

    #[test]
    fn queries_select_by_namespace_name_and_selectors() {
        let snapshot = Snapshot::from_yaml("multi.yaml", MULTI).expect("valid YAML");
        let mut q = query("v1/ConfigMap");
        assert_eq!(names(&snapshot, &q), ["first", "floating"]);
        q.namespace = Some("shop".into());
        assert_eq!(names(&snapshot, &q), ["first", "floating"]);
        q.namespace = Some("other".into());
        assert_eq!(
            names(&snapshot, &q),
            ["floating"],
            "no namespace: any namespace"
        );
        q.namespace = None;
        q.label_selector =
            crate::cluster::selector::parse_label_selector("app in (web)").expect("valid");
        assert_eq!(names(&snapshot, &q), ["first"]);
        q.label_selector = Default::default();
        q.field_selector = crate::cluster::selector::parse_field_selector("metadata.name!=first")
            .expect("valid selector");
        assert_eq!(names(&snapshot, &q), ["floating"]);
        q.field_selector = Default::default();
        q.name = Some("floating".into());
        assert_eq!(names(&snapshot, &q), ["floating"]);
        // The version is part of the type: apps/v1beta1 is another type.
        assert!(names(&snapshot, &query("apps/v1beta1/Deployment")).is_empty());
        assert!(names(&snapshot, &query("v1/Secret")).is_empty());
    }

    #[test]
    fn loads_the_kube_prometheus_manifests() {
        let Some(fixtures) = kube_prometheus() else {
            eprintln!("skipped: shared/fixtures/kube-prometheus not found");
            return;
        };
        let started = std::time::Instant::now();
        let snapshot = Snapshot::load(&[fixtures]).expect("fixtures load");
        println!(
            "loaded {} objects from {} files in {:?}",
            snapshot.len(),
            snapshot.files(),
            started.elapsed()
        );
        assert_eq!(snapshot.files(), 84);
        // Held in about the room of their compact JSON (a `serde_json::Value`
        // took seven times that).
        let all: Vec<&Object> = snapshot.objects.values().flatten().collect();
        let held: usize = all.iter().map(|o| o.doc().heap_bytes()).sum();
        let json: usize = all.iter().map(|o| o.to_json().to_string().len()).sum();
        assert!(held < json + json / 4, "{held} bytes for {json} of JSON");
        assert!(snapshot.skipped().is_empty(), "{:?}", snapshot.skipped());
        assert_eq!(
            snapshot
                .select(&query("apps/v1/Deployment"))
                .expect("valid")
                .len(),
            5
        );
        assert_eq!(
            snapshot
                .select(&query("monitoring.coreos.com/v1/PrometheusRule"))
                .expect("valid")
                .len(),
            8
        );
        // grafana-dashboardDefinitions.yaml is a ConfigMapList of 33.
        assert_eq!(
            snapshot
                .select(&query("v1/ConfigMap"))
                .expect("valid")
                .len(),
            3 + 33
        );
    }
}
