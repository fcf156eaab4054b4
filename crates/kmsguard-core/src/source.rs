//! Source files as read from disk, and the positions findings point at.
//!
//! Every value kmsguard reasons about remembers where it came from as an
//! [`Origin`]: a file and a byte range. Line and column numbers are computed
//! only when a report is rendered.

use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Where a value, a resource or a finding comes from.
///
/// Offsets are kept in 32 bits (files over 4 GiB are never read): the model
/// of a large tree holds millions of origins, and this halves their size.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: FileId,
    start: u32,
    end: u32,
}

impl Origin {
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        let at = |o: usize| u32::try_from(o).unwrap_or(u32::MAX);
        Origin {
            file,
            start: at(span.start),
            end: at(span.end),
        }
    }

    /// The byte range in the file.
    pub fn span(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A file's text with an index of line starts, so that byte offsets turn into
/// 1-based line and column numbers.
///
/// A large tree is checked one directory at a time, and each file's text is
/// let go once the directory is done ([`SourceFile::released`]): only its
/// line index, its length, a digest and its suppression comments stay. The
/// text is read again the first time a report needs it, and only if the file
/// still has the same content; otherwise the report shows no snippet.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as reached from the command-line arguments (relative stays relative).
    pub path: PathBuf,
    text: OnceLock<Arc<str>>,
    line_starts: OnceLock<Vec<u32>>,
    len: usize,
    digest: u64,
    /// The comments that hold `kmsguard:ignore`, with their byte ranges.
    directives: Vec<(Range<usize>, String)>,
    /// The path relative to its repository's root, computed once.
    repository_path: OnceLock<String>,
    /// The syntactic constructs a suppression comment can stand above
    /// (blocks, attributes, object members, array elements, statements),
    /// kept only for a file that has suppression comments.
    constructs: Constructs,
}

/// Files larger than this cannot be indexed (offsets are stored in 32 bits);
/// the reader refuses them whatever `--max-file-size` says.
pub const MAX_INDEXED_LEN: u64 = u32::MAX as u64;

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    /// A file whose text stays in memory.
    pub fn new(path: PathBuf, text: Arc<str>) -> Self {
        let f = SourceFile::released(path, &text);
        let _ = f.line_starts.set(line_starts(&text));
        let _ = f.text.set(text);
        f
    }

    /// A file whose text is read again from `path` when needed.
    pub fn released(path: PathBuf, text: &str) -> Self {
        SourceFile {
            path,
            text: OnceLock::new(),
            line_starts: OnceLock::new(),
            len: text.len(),
            digest: digest(text),
            directives: Vec::new(),
            repository_path: OnceLock::new(),
            constructs: Constructs::default(),
        }
    }

    /// The path relative to the root of the git repository that holds the
    /// file, with forward slashes, whatever the working directory and the
    /// path typed: what fingerprints hash, so that a baseline written from
    /// one directory applies from another. Outside a repository, the path
    /// as reached.
    pub fn repository_path(&self) -> &str {
        self.repository_path.get_or_init(|| {
            // Lexically, so a file reached through a link inside the
            // repository keeps the path it was reached by.
            let absolute = if self.path.is_absolute() {
                Some(normalise(&self.path))
            } else {
                std::env::current_dir().ok().map(|cwd| normalise(&cwd.join(&self.path)))
            };
            absolute
                .and_then(|a| {
                    let root = git_root_above(a.parent()?)?;
                    a.strip_prefix(root).ok().map(display_path)
                })
                .unwrap_or_else(|| display_path(&self.path))
        })
    }

    /// Keeps the comments, among those the file's parser found in `text`,
    /// that hold `kmsguard:ignore`. Only the parser's comment tokens are
    /// given here, so the text of a string, a template or a heredoc can
    /// never suppress a finding.
    ///
    /// `constructs` is asked for only when there is such a comment: the
    /// spans of the syntax a comment may stand above (see
    /// [`SourceFile::enclosing`]).
    pub fn keep_directives(&mut self, text: &str, comments: &[Range<usize>], constructs: impl FnOnce() -> Vec<Range<usize>>) {
        self.directives = comments
            .iter()
            .filter_map(|r| text.get(r.clone()).map(|c| (r.clone(), c)))
            .filter(|(_, c)| c.contains("kmsguard:ignore"))
            .map(|(r, c)| (r, c.to_string()))
            .collect();
        if !self.directives.is_empty() {
            self.constructs = Constructs::new(constructs());
        }
    }

    /// The start offsets of the constructs that enclose `offset`, innermost
    /// first: the nested block, object or attribute a finding sits in, up
    /// to its resource. Empty for a file without suppression comments.
    pub fn enclosing(&self, offset: usize) -> Vec<usize> {
        self.constructs.enclosing(offset)
    }

    /// The file's text, read again from disk if it was released; empty if
    /// the file has changed or gone since it was checked.
    ///
    /// The read is bounded by the length checked and refuses anything but a
    /// regular file: the file may have been swapped for a FIFO or a device
    /// since (a report must never block or read without end).
    pub fn text(&self) -> &Arc<str> {
        self.text.get_or_init(|| match crate::read::read_text(&self.path, self.len as u64) {
            Ok(t) if t.len() == self.len && digest(&t) == self.digest => Arc::from(t),
            _ => Arc::from(""),
        })
    }

    fn lines(&self) -> &[u32] {
        self.line_starts.get_or_init(|| line_starts(self.text()))
    }

    /// The comments holding `kmsguard:ignore`, for the `suppress` layer.
    pub fn directive_comments(&self) -> &[(Range<usize>, String)] {
        &self.directives
    }

    /// The line and column of a byte offset; offsets past the end clamp to it.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.len);
        let key = u32::try_from(offset).unwrap_or(u32::MAX);
        let line_index = match self.lines().binary_search(&key) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_start(line_index + 1).unwrap_or(0).min(offset);
        let column = self.text().get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        LineCol {
            line: line_index + 1,
            column: column + 1,
        }
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.lines().get(line.checked_sub(1)?).map(|s| *s as usize)
    }

    /// The text of the 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        let end = self.line_start(line + 1).unwrap_or(self.len);
        self.text().get(start..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }

    pub fn snippet(&self, span: &Range<usize>) -> &str {
        self.text().get(span.clone()).unwrap_or("")
    }
}

/// Properly nested spans as a tree, so that the chain enclosing an offset
/// is found in time proportional to its depth, not to the file's size: a
/// file with many findings and many constructs must stay linear.
#[derive(Debug, Default)]
struct Constructs {
    /// Sorted by start, outer before inner on equal starts.
    spans: Vec<(u32, u32)>,
    /// The index of the innermost span that holds each one.
    parent: Vec<Option<usize>>,
}

impl Constructs {
    fn new(mut spans: Vec<Range<usize>>) -> Self {
        spans.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        spans.dedup();
        let at = |o: usize| u32::try_from(o).unwrap_or(u32::MAX);
        let spans: Vec<(u32, u32)> = spans.into_iter().map(|r| (at(r.start), at(r.end))).collect();
        let mut parent = Vec::with_capacity(spans.len());
        let mut open: Vec<usize> = Vec::new();
        for (i, (start, end)) in spans.iter().enumerate() {
            while open
                .last()
                .and_then(|o| spans.get(*o))
                .is_some_and(|(_, e)| e < end || *e <= *start)
            {
                open.pop();
            }
            parent.push(open.last().copied());
            open.push(i);
        }
        Constructs { spans, parent }
    }

    fn enclosing(&self, offset: usize) -> Vec<usize> {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        // The last span starting at or before the offset; walk out from it.
        let mut at = self.spans.partition_point(|(s, _)| *s <= offset).checked_sub(1);
        let mut out = Vec::new();
        while let Some(i) = at {
            if let Some((s, e)) = self.spans.get(i) {
                if *s <= offset && offset < *e {
                    out.push(*s as usize);
                }
            }
            at = self.parent.get(i).copied().flatten();
        }
        out
    }
}

/// All files read in one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Adds a file whose text stays in memory.
    pub fn add(&mut self, path: PathBuf, text: Arc<str>) -> FileId {
        self.push(SourceFile::new(path, text))
    }

    pub fn push(&mut self, file: SourceFile) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(file);
        id
    }

    /// Reserves an id for a file not read yet; [`SourceMap::set`] fills it in.
    pub fn reserve(&mut self, path: PathBuf) -> FileId {
        self.push(SourceFile::released(path, ""))
    }

    pub fn set(&mut self, id: FileId, file: SourceFile) {
        if let Some(slot) = self.files.get_mut(id.0 as usize) {
            *slot = file;
        }
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The path reports show for a file: relative to the root of the git
    /// repository that holds it, whatever the working directory and the
    /// path typed (so annotations, SARIF and baselines agree however
    /// kmsguard was started); outside a repository, the path as reached.
    pub fn display(&self, id: FileId) -> String {
        match self.get(id) {
            Some(f) => f.repository_path().to_string(),
            None => "<unknown>".to_string(),
        }
    }

    pub fn path(&self, id: FileId) -> &Path {
        self.get(id).map(|f| f.path.as_path()).unwrap_or(Path::new("<unknown>"))
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn line_col(&self, origin: &Origin) -> LineCol {
        self.get(origin.file)
            .map(|f| f.line_col(origin.span().start))
            .unwrap_or(LineCol { line: 1, column: 1 })
    }

    pub fn end_line_col(&self, origin: &Origin) -> LineCol {
        self.get(origin.file)
            .map(|f| f.line_col(origin.span().end))
            .unwrap_or(LineCol { line: 1, column: 1 })
    }
}

/// The byte offset where each line starts.
/// The start of the line holding `offset`: where a fix inserts whole lines.
pub fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset).and_then(|t| t.rfind('\n')).map(|i| i + 1).unwrap_or(0)
}

/// The start of the line after the one holding `offset` (the end of the
/// text on the last line).
pub fn line_after(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|t| t.find('\n'))
        .map(|i| offset + i + 1)
        .unwrap_or(text.len())
}

/// The leading white space of the line holding `offset`, so that a fix
/// written there matches its neighbours.
pub fn indent_at(text: &str, offset: usize) -> String {
    text.get(line_start(text, offset)..)
        .unwrap_or("")
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

fn line_starts(text: &str) -> Vec<u32> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)));
    starts
}

fn digest(text: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// A lexically normalised path: `a/./b/../c` is `a/c`. Nothing is read
/// from disk, so a symbolic link is never followed here.
pub fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            // `..` cancels a name before it, but not another `..` (nor the
            // root): `../../x` stays two levels up.
            std::path::Component::ParentDir => match out.components().next_back() {
                Some(std::path::Component::Normal(_)) => {
                    out.pop();
                }
                Some(std::path::Component::RootDir | std::path::Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The nearest directory from `start` upwards that holds `.git` (a
/// directory in a clone, a file in a worktree or submodule).
pub fn git_root_above(start: &Path) -> Option<&Path> {
    start.ancestors().find(|d| std::fs::symlink_metadata(d.join(".git")).is_ok())
}

/// Renders a path with forward slashes so reports are the same on every OS.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' {
        s.replace('\\', "/")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_characters() {
        let f = SourceFile::new("a.tf".into(), Arc::from("ab\néé x\n"));
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(3), LineCol { line: 2, column: 1 });
        // "éé " is 5 bytes and 3 characters.
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 4 });
        assert_eq!(f.line_text(2), "éé x");
    }

    #[test]
    fn offsets_past_the_end_clamp() {
        let f = SourceFile::new("a.tf".into(), Arc::from("x"));
        assert_eq!(f.line_col(99), LineCol { line: 1, column: 2 });
    }

    #[test]
    fn a_released_file_is_read_again_when_a_report_needs_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("main.tf");
        let text = "a = 1\n# kmsguard:ignore KG101 -- lab\nb = 2\n";
        std::fs::write(&path, text).expect("write");
        let mut f = SourceFile::released(path.clone(), text);
        let comment = 6..36;
        f.keep_directives(text, std::slice::from_ref(&comment), Vec::new);
        assert_eq!(f.directive_comments().len(), 1, "suppression comments are kept");
        assert_eq!(f.line_col(text.len() - 2), LineCol { line: 3, column: 5 });
        assert_eq!(f.line_text(1), "a = 1");
    }

    #[test]
    fn a_file_changed_since_the_check_shows_no_text_rather_than_wrong_text() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("main.tf");
        std::fs::write(&path, "a = 1\n").expect("write");
        let f = SourceFile::released(path.clone(), "a = 1\n");
        std::fs::write(&path, "b = 22\n").expect("rewrite");
        assert_eq!(f.text().as_ref(), "");
        assert_eq!(f.line_col(3).line, 1);
    }

    /// A report re-reads released files; one swapped for a FIFO (or grown
    /// without end) since the check must show no text, not block or read on.
    #[cfg(unix)]
    #[test]
    fn a_file_swapped_for_a_fifo_or_a_device_is_not_read_again() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("main.tf");
        std::fs::write(&fifo, "a = 1\n").expect("write");
        let swapped = SourceFile::released(fifo.clone(), "a = 1\n");
        std::fs::remove_file(&fifo).expect("rm");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().is_ok_and(|s| s.success());
        let zero = dir.path().join("zero.tf");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let device = SourceFile::released(zero, "a = 1\n");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send((swapped.text().to_string(), device.text().to_string()));
        });
        let (from_fifo, from_device) = rx.recv_timeout(std::time::Duration::from_secs(10)).expect("the re-read ends");
        if made {
            assert_eq!(from_fifo, "");
        }
        assert_eq!(from_device, "");
    }

    #[test]
    fn the_constructs_enclosing_an_offset_are_found_innermost_first() {
        let c = Constructs::new(vec![0..100, 10..50, 12..20, 25..40, 60..90, 61..70]);
        assert_eq!(c.enclosing(30), vec![25, 10, 0]);
        assert_eq!(c.enclosing(22), vec![10, 0]);
        assert_eq!(c.enclosing(65), vec![61, 60, 0]);
        assert_eq!(c.enclosing(95), vec![0]);
        assert!(c.enclosing(100).is_empty());
        // Siblings that end before the offset are passed over.
        let c = Constructs::new(vec![0..10, 10..20, 20..30]);
        assert_eq!(c.enclosing(25), vec![20]);
    }

    #[test]
    fn normalising_keeps_every_leading_parent() {
        assert_eq!(normalise(Path::new("../../modules/spoke")), PathBuf::from("../../modules/spoke"));
        assert_eq!(normalise(Path::new("./../../a/./b/../c")), PathBuf::from("../../a/c"));
        assert_eq!(normalise(Path::new("envs/prod/../../modules/x")), PathBuf::from("modules/x"));
        assert_eq!(normalise(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn origins_outside_32_bits_saturate() {
        let o = Origin::new(FileId(0), 5..(u32::MAX as usize + 10));
        assert_eq!(o.span(), 5..u32::MAX as usize);
    }
}
