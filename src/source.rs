//! Source files as read from disk, and the positions findings point at.
//!
//! Every value kmsguard reasons about remembers where it came from as an
//! [`Origin`]: a file and a byte range. Line and column numbers are computed
//! only when a report is rendered.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// Where a value, a resource or a finding comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: FileId,
    pub span: Range<usize>,
}

impl Origin {
    pub fn new(file: FileId, span: Range<usize>) -> Self {
        Origin { file, span }
    }
}

/// A file's text with an index of line starts, so that byte offsets turn into
/// 1-based line and column numbers.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as reached from the command-line arguments (relative stays relative).
    pub path: PathBuf,
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

/// A 1-based line and column; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: Arc<str>) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile { path, text, line_starts }
    }

    /// The line and column of a byte offset; offsets past the end clamp to it.
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = offset.min(self.text.len());
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let column = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        LineCol {
            line: line_index + 1,
            column: column + 1,
        }
    }

    /// The byte offset where a 1-based line starts.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        self.line_starts.get(line.checked_sub(1)?).copied()
    }

    /// The text of the 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let Some(start) = self.line_start(line) else {
            return "";
        };
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or("").trim_end_matches(['\n', '\r'])
    }

    /// The leading white space of the line holding `offset`.
    pub fn indent_at(&self, offset: usize) -> String {
        let line = self.line_col(offset).line;
        self.line_text(line).chars().take_while(|c| *c == ' ' || *c == '\t').collect()
    }

    pub fn snippet(&self, span: &Range<usize>) -> &str {
        self.text.get(span.clone()).unwrap_or("")
    }
}

/// All files read in one run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn add(&mut self, path: PathBuf, text: Arc<str>) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(path, text));
        id
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
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
            .map(|f| f.line_col(origin.span.start))
            .unwrap_or(LineCol { line: 1, column: 1 })
    }

    pub fn end_line_col(&self, origin: &Origin) -> LineCol {
        self.get(origin.file)
            .map(|f| f.line_col(origin.span.end))
            .unwrap_or(LineCol { line: 1, column: 1 })
    }
}

/// A lexically normalised path: `a/./b/../c` is `a/c`. Nothing is read
/// from disk, so a symbolic link is never followed here.
pub fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
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
}
