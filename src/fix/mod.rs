//! `kmsguard fix`: rewrites the code behind KG101, KG102 and KG103 findings
//! in place, touching only the bytes of the routes and addresses it adds or
//! changes; everything else (formatting, comments, order) stays byte for byte.
//!
//! It edits only what it can place reliably: a value written as a literal
//! in the route or rule itself, a route list whose insertion point the
//! front end recorded. Everything else — and every finding that needs a
//! human decision (KG104, KG201–KG204, KG301) — is printed as a suggestion.
//! KG901 notes are never touched. An edited file that would no longer parse
//! is not written.

mod address;
mod arm_copy;
mod azure;
mod azure_entry;
mod bicep_loop;
pub mod diff;
mod entry;
mod error;
mod hop;
mod pattern;
mod refusal;
mod routes;
mod terraform;

pub use error::{FixError, WriteError};
pub use refusal::Refusal;

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::model::{Model, RouteTable};
use crate::policy::Policy;
use crate::report::escape::log_text;
use crate::rules::Finding;
use crate::source::{display_path, FileId, Origin, SourceMap};

/// The rules `fix` rewrites code for.
pub const FIXABLE: &[&str] = &["KG101", "KG102", "KG103"];

/// One replacement of a byte range of a file (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// What a fix did, or would do, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: &'static str,
    pub file: FileId,
    pub offset: usize,
    pub what: String,
}

/// A finding kmsguard does not rewrite, with the change it suggests and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub code: &'static str,
    pub origin: Origin,
    pub suggestion: String,
    pub why: Refusal,
}

/// Every edit, per file, with what each does, and what is left to a human.
#[derive(Debug, Default)]
pub struct Plan {
    /// The run's --var-file and --var, in their order: a fix may belong in a var file.
    pub var_args: Vec<crate::VarArg>,
    /// The run's --parameters files: a fix may belong in one.
    pub parameters: Vec<PathBuf>,
    /// The var file entries that make module instances: a fix for one instance may belong there.
    pub instances: Vec<crate::model::InstanceInput>,
    pub edits: BTreeMap<FileId, Vec<Edit>>,
    pub changes: Vec<Change>,
    pub suggestions: Vec<Suggestion>,
}

impl Plan {
    fn edit(&mut self, file: FileId, edit: Edit, change: Change) {
        let list = self.edits.entry(file).or_default();
        if list.contains(&edit) {
            return;
        }
        list.push(edit);
        self.changes.push(change);
    }

    fn suggest(&mut self, f: &Finding, why: impl Into<Refusal>) {
        let suggestion = f.fix.as_ref().map(|x| x.description.clone()).unwrap_or_default();
        let s = Suggestion {
            code: f.code,
            origin: f.primary.origin.clone(),
            suggestion,
            why: why.into(),
        };
        if !self.suggestions.contains(&s) {
            self.suggestions.push(s);
        }
    }
}

/// The text of `span` if it is a literal (quoted or bare) whose content
/// equals `expected` ignoring case: the range of the content, to replace.
fn literal(text: &str, span: &Range<usize>, expected: &str) -> Option<Range<usize>> {
    let s = text.get(span.clone())?;
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    let start = span.start + lead;
    let inner = match trimmed.chars().next() {
        Some(q @ ('"' | '\'')) if trimmed.len() >= 2 && trimmed.ends_with(q) => start + 1..start + trimmed.len() - 1,
        _ => {
            // The span may hold only the content of a quoted string.
            let before = text.get(..span.start)?.chars().next_back();
            let after = text.get(span.end..)?.chars().next();
            match (before, after) {
                (Some(a @ ('"' | '\'')), Some(b)) if a == b => start..start + trimmed.len(),
                _ => return None,
            }
        }
    };
    text.get(inner.clone())?.eq_ignore_ascii_case(expected).then_some(inner)
}

fn within(inner: &Range<usize>, outer: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The quote a literal at `at` is written with.
fn quote_at(text: &str, at: usize) -> char {
    match text.get(..at).and_then(|t| t.chars().next_back()) {
        Some('\'') => '\'',
        _ => '"',
    }
}

/// The cloud whose addresses apply to a table.
fn cloud_of<'a>(table: &'a RouteTable, forced: Option<&'a str>) -> &'a str {
    forced.or(table.cloud.as_deref()).unwrap_or("public")
}

/// Works out the edits for `findings` (those of `rules` only).
pub fn plan(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    findings: &[Finding],
    cloud: Option<&str>,
    rules: &[String],
    inputs: (&[crate::VarArg], &[PathBuf]),
) -> Plan {
    let mut p = Plan {
        var_args: inputs.0.to_vec(),
        parameters: inputs.1.to_vec(),
        instances: model.instance_inputs.clone(),
        ..Plan::default()
    };
    let wanted = |code: &str| rules.is_empty() || rules.iter().any(|r| r == code);
    let active: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    // Addresses a KG103 rewrite of a mistyped route supplies, per table:
    // KG101 must not add them a second time.
    let mut supplied: HashSet<(String, IpAddr)> = HashSet::new();
    for f in active.iter().filter(|f| f.code == "KG103" && wanted(f.code)) {
        address::kg103(model, policy, sources, f, cloud, &mut p, &mut supplied);
    }
    for f in &active {
        match f.code {
            "KG101" if wanted(f.code) => routes::kg101(model, policy, sources, f, cloud, &mut p, &supplied),
            "KG102" if wanted(f.code) => hop::kg102(model, policy, sources, f, cloud, &mut p),
            "KG103" | "KG901" => {}
            code if !wanted(code) => {}
            _ if f.fix.is_some() => p.suggest(f, "it needs a human decision"),
            _ => {}
        }
    }
    p
}

/// Whether `text`, after the edits, still parses in its language; if not,
/// the refusal with the parser's message.
fn parses(path: &Path, text: &str) -> Result<(), Refusal> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tf") || name.ends_with(".tfvars") {
        hcl::edit::parser::parse_body(text)
            .map(|_| ())
            .map_err(|e| Refusal::WouldNotParse(e.to_string()))
    } else if name.ends_with(".bicep") || name.ends_with(".bicepparam") {
        kmsguard_bicep_syntax::parse(text)
            .map(|_| ())
            .map_err(|e| Refusal::WouldNotParse(format!("{e:?}")))
    } else if name.ends_with(".json") {
        kmsguard_arm_syntax::parse_json(text)
            .map(|_| ())
            .map_err(|e| Refusal::WouldNotParse(format!("{e:?}")))
    } else {
        Err(Refusal::WouldNotParse("kmsguard does not edit this kind of file".into()))
    }
}

/// The files as they will be: (file, path, old text, new text), in path
/// order. Files whose edits overlap or would not parse are left out, their
/// changes turned into suggestions.
pub fn apply(plan: &mut Plan, sources: &SourceMap) -> Vec<(FileId, PathBuf, String, String)> {
    let mut out = Vec::new();
    let mut refused: Vec<(FileId, Refusal)> = Vec::new();
    for (file, edits) in &mut plan.edits {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        let path = sources.path(*file).to_path_buf();
        let Some(src) = sources.get(*file) else { continue };
        let text = src.text().to_string();
        if text.is_empty() {
            refused.push((*file, "the file changed since it was read".into()));
            continue;
        }
        // Two insertions at one place go in the order planned; overlaps are refused.
        let overlap = edits
            .windows(2)
            .any(|w| matches!(w, [a, b] if b.range.start < a.range.end || (b.range.start == a.range.start && !a.range.is_empty())));
        if overlap {
            refused.push((*file, "two fixes would change the same text".into()));
            continue;
        }
        // A file written with CRLF line ends gets CRLF in what is added too.
        if text.contains("\r\n") {
            for e in edits.iter_mut() {
                e.text = e.text.replace("\r\n", "\n").replace('\n', "\r\n");
            }
        }
        let refs: Vec<&Edit> = edits.iter().collect();
        let new = diff::apply(&text, &refs, 0..text.len());
        if let Err(e) = parses(&path, &new) {
            refused.push((*file, e));
            continue;
        }
        if new != text {
            out.push((*file, path, text, new));
        }
    }
    for (file, why) in refused {
        plan.edits.remove(&file);
        let (taken, kept): (Vec<Change>, Vec<Change>) = std::mem::take(&mut plan.changes).into_iter().partition(|c| c.file == file);
        plan.changes = kept;
        for c in taken {
            plan.suggestions.push(Suggestion {
                code: c.code,
                origin: Origin::new(c.file, c.offset..c.offset),
                suggestion: c.what,
                why: why.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Writes `text` over `path` atomically: a temporary file in the same
/// directory, then a rename. Refuses a symbolic link (it would be written
/// through) and anything outside `roots`.
pub fn write_atomically(path: &Path, text: &str, roots: &[PathBuf]) -> Result<(), WriteError> {
    let (real, meta) = writable(path, roots)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut attempt = 0;
    let temp = loop {
        let t = dir.join(format!(".{name}.kmsguard-fix-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&t) {
            Ok(mut f) => {
                use std::io::Write;
                let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&t);
                    return Err(WriteError::io(path)(e));
                }
                break t;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(WriteError::io(path)(e)),
        }
    };
    let _ = std::fs::set_permissions(&temp, meta.permissions());
    std::fs::rename(&temp, &real).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        WriteError::io(path)(e)
    })
}

/// Where `path` really is, if kmsguard may replace it: a regular file (not a
/// symbolic link) inside one of `roots`.
pub fn writable(path: &Path, roots: &[PathBuf]) -> Result<(PathBuf, std::fs::Metadata), WriteError> {
    let meta = std::fs::symlink_metadata(path).map_err(WriteError::io(path))?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(WriteError::NotRegular(path.to_path_buf()));
    }
    let real = std::fs::canonicalize(path).map_err(WriteError::io(path))?;
    if !roots.iter().any(|r| real.starts_with(r)) {
        return Err(WriteError::Outside(path.to_path_buf()));
    }
    Ok((real, meta))
}

/// `kmsguard fix`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct FixArgs {
    /// Print a unified diff and write nothing (exit 1 when there is something to fix).
    #[arg(long)]
    pub diff: bool,
    /// Fix only these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Vec<String>,
    #[command(flatten)]
    pub model: crate::load::ModelArgs,
}

fn place(sources: &SourceMap, file: FileId, offset: usize) -> String {
    let path = display_path(sources.path(file));
    let line = sources.line_col(&Origin::new(file, offset..offset)).line;
    format!("{path}:{line}")
}

/// A diff as printed: each line neutralised like any text from the tree
/// (control characters visible, log commands defused), its line end kept as
/// it is so that the diff still applies to a CRLF file.
fn diff_text(diff: &str) -> String {
    diff.split_inclusive('\n')
        .map(|l| {
            let body = l.trim_end_matches('\n').trim_end_matches('\r');
            let end = l.get(body.len()..).unwrap_or("");
            format!("{}{end}", crate::report::escape::block_text(body))
        })
        .collect()
}

/// Runs `kmsguard fix`: the text to print and the exit code, or why the run failed.
pub fn run(args: &FixArgs) -> Result<(String, u8), FixError> {
    let loaded = crate::load::load(&args.model, Vec::new())?;
    if let Some(e) = loaded.read_error() {
        return Err(FixError::Unparsed(e));
    }
    let mut rules = Vec::new();
    for name in &args.select {
        let code = loaded
            .policy
            .rule(name.trim())
            .map(|r| r.code.clone())
            .ok_or_else(|| FixError::UnknownRule(name.clone()))?;
        rules.push(code);
    }
    let sources = &loaded.outcome.sources;
    let mut plan = plan(
        &loaded.outcome.model,
        &loaded.policy,
        sources,
        &loaded.outcome.findings,
        loaded.opts.cloud.as_deref(),
        &rules,
        (&loaded.opts.var_args, &loaded.opts.parameters),
    );
    let files = apply(&mut plan, sources);
    let mut out = String::new();
    if args.diff {
        for (_, path, old, _) in &files {
            let edits = plan
                .edits
                .iter()
                .find(|(f, _)| sources.path(**f) == path.as_path())
                .map(|(_, e)| e.clone())
                .unwrap_or_default();
            out.push_str(&diff_text(&diff::unified(&display_path(path), old, &edits)));
        }
    } else {
        let roots: Vec<PathBuf> = args.model.paths.iter().map(|p| crate::discover::repository_root(p)).collect();
        // Every file is checked before any is written: all or nothing.
        for (_, path, _, _) in &files {
            writable(path, &roots)?;
        }
        for (_, path, _, new) in &files {
            write_atomically(path, new, &roots)?;
        }
    }
    let mut changes = plan.changes.clone();
    changes.sort_by_key(|c| (display_path(sources.path(c.file)), c.offset));
    for c in &changes {
        out.push_str(&format!(
            "{}{}: {} {}\n",
            if args.diff { "would fix " } else { "fixed " },
            log_text(&place(sources, c.file, c.offset)),
            c.code,
            log_text(&c.what)
        ));
    }
    let mut suggestions = plan.suggestions.clone();
    suggestions.sort_by_key(|s| (display_path(sources.path(s.origin.file)), s.origin.span().start, s.code));
    for s in &suggestions {
        out.push_str(&format!(
            "not fixed {}: {} {} (not rewritten: {})\n",
            log_text(&place(sources, s.origin.file, s.origin.span().start)),
            s.code,
            log_text(&s.suggestion),
            log_text(&s.why.to_string())
        ));
    }
    if files.is_empty() && suggestions.is_empty() {
        out.push_str("nothing to fix\n");
    } else if !args.diff && !files.is_empty() {
        out.push_str(&format!(
            "{} file{} written\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
    }
    let code = u8::from(args.diff && !files.is_empty());
    Ok((crate::report::escape::defuse_line_starts(&out).into_owned(), code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_read_with_or_without_their_quotes() {
        let t = r#"a = "VirtualAppliance""#;
        assert_eq!(literal(t, &(4..22), "virtualappliance"), Some(5..21));
        assert_eq!(literal(t, &(5..21), "VirtualAppliance"), Some(5..21));
        assert_eq!(literal("a = var.hop", &(4..11), "VirtualAppliance"), None);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_and_files_outside_the_roots_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let real = root.join("real.tf");
        std::fs::write(&real, "a = 1\n").expect("write");
        std::os::unix::fs::symlink(&real, root.join("link.tf")).expect("symlink");
        let roots = vec![root.clone()];
        assert!(write_atomically(&root.join("link.tf"), "b = 2\n", &roots).is_err());
        assert!(write_atomically(&real, "b = 2\n", &[root.join("elsewhere")]).is_err());
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "a = 1\n");
        assert_eq!(write_atomically(&real, "b = 2\n", &roots), Ok(()));
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "b = 2\n");
        let left: Vec<_> = std::fs::read_dir(&root).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
    }
}
