//! A bracket check that runs before the HCL parser.
//!
//! hcl-edit backtracks, and when a file ends inside an open bracket it can
//! take exponential time to say so: each level of `x-%k%{` re-parses
//! everything after it twice, because a binary-operator chain that fails with
//! a recoverable error is rewound and then tried again by the enclosing
//! expression loop. Twenty levels take seconds, forty would take days. Its
//! error for such a file is also poor ("unexpected token" at 1:1).
//!
//! This scanner knows just enough of HCL's lexical structure (quoted
//! templates with `${…}` and `%{…}`, heredocs, the three comment forms) to
//! find brackets, in linear time. It reports only what is certainly invalid
//! HCL — a bracket never closed, a closer that matches no opener, a quoted
//! string broken by a newline, a heredoc without its end line — and has no
//! opinion on anything it does not fully understand, which is left to the
//! parser.

/// A bracket-level syntax error, at a byte offset of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BracketError {
    pub offset: usize,
    pub len: usize,
    pub message: String,
}

/// What the scan found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scan {
    /// Brackets balance; the deepest nesting, and where it is first reached.
    Balanced { depth: usize, deepest: usize },
    /// Certainly invalid HCL.
    Invalid(BracketError),
    /// Nesting deeper than the limit it was given, first reached here.
    TooDeep { deepest: usize },
    /// Something the scanner does not model (a heredoc marker outside ASCII);
    /// the parser decides.
    NoOpinion { depth: usize, deepest: usize },
}

/// Where the scanner is: in code (the file, or inside brackets and
/// interpolations), or inside a quoted string or a heredoc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// `(`, `[` or `{` in code, at this offset.
    Bracket(u8, usize),
    /// `${` or `%{` inside a template; closed by `}`.
    Interpolation(usize),
    /// A quoted template opened at this offset.
    Quoted(usize),
    /// A heredoc opened by the `<<` at `start`; its end marker is the text
    /// at `marker_start..marker_end`.
    Heredoc {
        start: usize,
        marker_start: usize,
        marker_end: usize,
    },
}

/// Scans `text`, giving up with [`Scan::TooDeep`] past `max_depth` levels.
pub fn scan(text: &str, max_depth: usize) -> Scan {
    scan_collecting(text, max_depth, &mut Vec::new())
}

/// [`scan`], also returning the byte span of every comment (`#`, `//`,
/// `/* */`) it passed: comment tokens as HCL's lexer sees them, so that
/// text inside a quoted string, a template or a heredoc never counts. After
/// a result other than [`Scan::Balanced`] the list stops where the scan did.
pub fn scan_with_comments(text: &str, max_depth: usize) -> (Scan, Vec<std::ops::Range<usize>>) {
    let mut comments = Vec::new();
    let scan = scan_collecting(text, max_depth, &mut comments);
    (scan, comments)
}

fn scan_collecting(text: &str, max_depth: usize, comments: &mut Vec<std::ops::Range<usize>>) -> Scan {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        stack: Vec::new(),
        depth: 0,
        deepest: 0,
        i: 0,
        comments,
    };
    while s.i < s.bytes.len() {
        // Most bytes mean nothing to the scan: skip them in a tight loop.
        let table = match s.stack.last() {
            Some(Frame::Quoted(_)) => &QUOTED,
            Some(Frame::Heredoc { .. }) => &HEREDOC,
            _ => &CODE,
        };
        while s
            .bytes
            .get(s.i)
            .is_some_and(|b| !table.get(usize::from(*b)).copied().unwrap_or(true))
        {
            s.i += 1;
        }
        let Some(&b) = s.bytes.get(s.i) else { break };
        let step = match s.stack.last().copied() {
            Some(Frame::Quoted(start)) => s.in_quoted(b, start),
            Some(Frame::Heredoc {
                marker_start, marker_end, ..
            }) => s.in_heredoc(b, marker_start, marker_end),
            // Code: the top level, inside brackets, or inside an interpolation.
            _ => s.in_code(b),
        };
        match step {
            Step::Byte => {}
            Step::Jumped => continue,
            Step::Done(scan) => return scan,
        }
        if s.stack.len() > s.depth {
            s.depth = s.stack.len();
            s.deepest = s.i;
            if s.depth > max_depth {
                return Scan::TooDeep { deepest: s.deepest };
            }
        }
        s.i += 1;
    }
    s.at_end()
}

/// The scan's state: the open frames, the deepest nesting so far, and the
/// offset of the byte it is at.
struct Scanner<'t, 'c> {
    text: &'t str,
    bytes: &'t [u8],
    stack: Vec<Frame>,
    depth: usize,
    deepest: usize,
    i: usize,
    comments: &'c mut Vec<std::ops::Range<usize>>,
}

/// What one step of the scan did.
enum Step {
    /// Read the byte at the offset (and perhaps the ones it skipped): the
    /// scan goes on after it.
    Byte,
    /// Moved the offset to where the scan goes on.
    Jumped,
    Done(Scan),
}

fn invalid(offset: usize, len: usize, message: String) -> Scan {
    Scan::Invalid(BracketError { offset, len, message })
}

impl Scanner<'_, '_> {
    fn no_opinion(&self) -> Step {
        Step::Done(Scan::NoOpinion {
            depth: self.depth,
            deepest: self.deepest,
        })
    }

    /// `${` or `%{` opens an interpolation; `$${` and `%%{` are escapes.
    fn template(&mut self) {
        match template_open(self.bytes, self.i) {
            Some(Open::Escaped) => self.i += 2,
            Some(Open::Interpolation) => {
                self.stack.push(Frame::Interpolation(self.i));
                self.i += 1;
            }
            None => {}
        }
    }

    /// A byte inside a quoted string opened at `start`.
    fn in_quoted(&mut self, b: u8, start: usize) -> Step {
        match b {
            b'\\' => self.i += 1,
            b'"' => {
                self.stack.pop();
            }
            b'\n' => return Step::Done(invalid(start, 1, QUOTED_NEWLINE.to_string())),
            b'$' | b'%' => self.template(),
            _ => {}
        }
        Step::Byte
    }

    /// A byte inside a heredoc: a newline may start its end line.
    fn in_heredoc(&mut self, b: u8, marker_start: usize, marker_end: usize) -> Step {
        if b != b'\n' {
            self.template();
            return Step::Byte;
        }
        match heredoc_end(self.bytes, self.i + 1, self.bytes.get(marker_start..marker_end).unwrap_or_default()) {
            End::At(j) => {
                self.stack.pop();
                self.i = j;
                Step::Jumped
            }
            End::Unsure => self.no_opinion(),
            End::No => Step::Byte,
        }
    }

    /// A byte of code: a string, comment or heredoc starts, or a bracket
    /// opens or closes.
    fn in_code(&mut self, b: u8) -> Step {
        let (bytes, i) = (self.bytes, self.i);
        match b {
            b'"' => self.stack.push(Frame::Quoted(i)),
            b'#' => self.line_comment(),
            b'/' if bytes.get(i + 1) == Some(&b'/') => self.line_comment(),
            b'/' if bytes.get(i + 1) == Some(&b'*') => match find(bytes, b"*/", i + 2) {
                Some(end) => {
                    self.comments.push(i..end + 2);
                    self.i = end + 1;
                }
                None => return Step::Done(invalid(i, 2, "this comment is never closed with `*/`".to_string())),
            },
            b'<' if bytes.get(i + 1) == Some(&b'<') => return self.heredoc_start(),
            b'(' | b'[' | b'{' => self.stack.push(Frame::Bracket(b, i)),
            b')' | b']' | b'}' => return self.closer(b),
            _ => {}
        }
        Step::Byte
    }

    /// `#` or `//` to the end of the line.
    fn line_comment(&mut self) {
        let end = memchr(b'\n', self.bytes, self.i).unwrap_or(self.bytes.len());
        self.comments.push(self.i..end);
        self.i = end;
    }

    /// `<<` in code: a heredoc's introducer, or certainly not HCL.
    fn heredoc_start(&mut self) -> Step {
        let (bytes, i) = (self.bytes, self.i);
        match heredoc_intro(bytes, i) {
            Some((marker_start, marker_end, body)) => {
                match heredoc_end(bytes, body, bytes.get(marker_start..marker_end).unwrap_or_default()) {
                    // An empty heredoc: its first line is the marker.
                    End::At(j) => self.i = j,
                    End::Unsure => return self.no_opinion(),
                    End::No => {
                        self.stack.push(Frame::Heredoc {
                            start: i,
                            marker_start,
                            marker_end,
                        });
                        self.i = body;
                    }
                }
                Step::Jumped
            }
            // A marker hcl-edit may read as a Unicode identifier.
            None if bytes
                .get(i + 2 + usize::from(bytes.get(i + 2) == Some(&b'-')))
                .is_some_and(|c| !c.is_ascii()) =>
            {
                self.no_opinion()
            }
            None => Step::Done(invalid(
                i,
                2,
                "`<<` starts a heredoc, but no marker and newline follow it (as in `<<EOT`)".to_string(),
            )),
        }
    }

    /// `)`, `]` or `}` in code: it must close the innermost frame.
    fn closer(&mut self, b: u8) -> Step {
        let i = self.i;
        let error = match self.stack.pop() {
            Some(Frame::Bracket(open, _)) if closer(open) == b => return Step::Byte,
            Some(Frame::Interpolation(_)) if b == b'}' => return Step::Byte,
            Some(Frame::Bracket(open, at)) => format!(
                "`{}` does not close the `{}` at {}; expected `{}`",
                b as char,
                open as char,
                line_col(self.text, at),
                closer(open) as char
            ),
            Some(Frame::Interpolation(at)) => format!(
                "`{}` inside the template interpolation at {}; expected `}}`",
                b as char,
                line_col(self.text, at)
            ),
            _ => format!("`{}` closes nothing", b as char),
        };
        Step::Done(invalid(i, 1, error))
    }

    /// The end of the file: every frame must be closed.
    fn at_end(&self) -> Scan {
        let text = self.text;
        match self.stack.last() {
            None => Scan::Balanced {
                depth: self.depth,
                deepest: self.deepest,
            },
            Some(Frame::Bracket(open, at)) => invalid(
                *at,
                1,
                format!(
                    "this `{}` is never closed; expected `{}` before the end of the file",
                    *open as char,
                    closer(*open) as char
                ),
            ),
            Some(Frame::Interpolation(at)) => invalid(*at, 2, "this template interpolation is never closed with `}`".to_string()),
            Some(Frame::Quoted(at)) => invalid(*at, 1, "this quoted string is never closed".to_string()),
            Some(Frame::Heredoc {
                start,
                marker_start,
                marker_end,
            }) => invalid(
                *start,
                marker_end - start,
                format!(
                    "this heredoc is never closed: no line reads `{}`",
                    text.get(*marker_start..*marker_end).unwrap_or_default()
                ),
            ),
        }
    }
}

/// Terraform's parser (hclsyntax, `TokenQuotedNewline`) refuses a newline
/// inside a quoted string, though hcl-edit accepts one.
pub const QUOTED_NEWLINE: &str =
    "this quoted string is not closed on its line; Terraform does not allow a newline in one (use \\n, or a heredoc for several lines)";

/// The bytes that matter in each context, as lookup tables.
const CODE: [bool; 256] = table(b"\"#/<([{)]}");
const QUOTED: [bool; 256] = table(b"\\\"\n$%");
const HEREDOC: [bool; 256] = table(b"\n$%");

// A const fn cannot use `get`; every index is below the lengths it loops to.
#[allow(clippy::indexing_slicing)]
const fn table(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

fn closer(open: u8) -> u8 {
    match open {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

pub(super) enum Open {
    /// `$${` or `%%{`: a literal `${` or `%{`.
    Escaped,
    /// `${` or `%{`.
    Interpolation,
}

pub(super) fn template_open(bytes: &[u8], i: usize) -> Option<Open> {
    let sigil = *bytes.get(i)?;
    match (bytes.get(i + 1), bytes.get(i + 2)) {
        (Some(&b'{'), _) => Some(Open::Interpolation),
        (Some(&s), Some(&b'{')) if s == sigil => Some(Open::Escaped),
        _ => None,
    }
}

pub(super) enum End {
    /// The line is the heredoc's end; code resumes at this offset.
    At(usize),
    No,
    /// The marker is followed by a non-ASCII character, which hcl-edit may
    /// or may not read as part of an identifier.
    Unsure,
}

/// Whether the line starting at `line` ends the heredoc, as hcl-edit reads
/// it: spaces or tabs, the marker, then no identifier character (code may
/// follow on the same line).
pub(super) fn heredoc_end(bytes: &[u8], line: usize, marker: &[u8]) -> End {
    let mut j = line;
    while matches!(bytes.get(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    if bytes.get(j..j + marker.len()) != Some(marker) {
        return End::No;
    }
    match bytes.get(j + marker.len()) {
        Some(c) if !c.is_ascii() => End::Unsure,
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-' => End::No,
        _ => End::At(j + marker.len()),
    }
}

/// `<<MARKER` or `<<-MARKER` followed by a newline: the marker's range and
/// where the body starts.
pub(super) fn heredoc_intro(bytes: &[u8], i: usize) -> Option<(usize, usize, usize)> {
    let mut j = i + 2;
    if bytes.get(j) == Some(&b'-') {
        j += 1;
    }
    let marker_start = j;
    if !bytes.get(j).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_') {
        return None;
    }
    while bytes.get(j).is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-') {
        j += 1;
    }
    let marker_end = j;
    if bytes.get(j) == Some(&b'\r') {
        j += 1;
    }
    (bytes.get(j) == Some(&b'\n')).then_some((marker_start, marker_end, j + 1))
}

pub(super) fn memchr(needle: u8, bytes: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..)?.iter().position(|b| *b == needle).map(|p| p + from)
}

pub(super) fn find(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|p| p + from)
}

/// 1-based `line:column` of a byte offset, for messages that name a second place.
fn line_col(text: &str, offset: usize) -> String {
    let before = text.get(..offset).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{column}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> (String, usize) {
        match scan(text, 256) {
            Scan::Invalid(e) => (e.message, e.offset),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn brackets_in_strings_comments_and_heredocs_do_not_count() {
        let text = r#"
# a comment with { and (
// another ]
/* a block comment with } */
locals {
  a = "a string with { and ${var.x["k"]} and $${literal} and %%{literal}"
  b = <<-EOT
    a heredoc with } and ${join(",", [for s in var.list : "${s}}"])} and "quotes
    EOT
  c = <<EOT
%{ for x in var.xs }${x}%{ endfor }
  EOT
  d = { for k, v in var.m : k => [v] if v != "}" }
}
"#;
        assert!(matches!(scan(text, 256), Scan::Balanced { .. }), "{:?}", scan(text, 256));
    }

    #[test]
    fn an_unclosed_brace_points_at_its_opener() {
        let text = "resource \"a\" \"b\" {\n  name = \"x\"\n";
        let (message, offset) = error(text);
        assert_eq!(offset, text.find('{').unwrap_or(usize::MAX));
        assert!(message.contains("never closed"), "{message}");
    }

    #[test]
    fn a_mismatched_closer_names_the_opener() {
        let (message, offset) = error("a = {\n  b = [1, 2\n}\n");
        assert_eq!(offset, 18);
        assert_eq!(message, "`}` does not close the `[` at 2:7; expected `]`");
    }

    #[test]
    fn a_closer_with_nothing_open() {
        assert_eq!(error("a = 1\n}\n").0, "`}` closes nothing");
    }

    #[test]
    fn a_quoted_string_broken_by_a_newline() {
        let (message, offset) = error("a = \"abc\nb = 1\n");
        assert_eq!(offset, 4);
        assert_eq!(message, QUOTED_NEWLINE);
    }

    #[test]
    fn a_heredoc_without_its_end_line() {
        let (message, _) = error("a = <<EOT\nbody\nEO\n");
        assert_eq!(message, "this heredoc is never closed: no line reads `EOT`");
    }

    #[test]
    fn an_unclosed_interpolation_and_block_comment() {
        assert_eq!(error("a = \"${var.x").0, "this template interpolation is never closed with `}`");
        assert_eq!(error("a = 1 /* and then").0, "this comment is never closed with `*/`");
    }

    #[test]
    fn a_shift_is_not_hcl_but_a_unicode_marker_is_left_to_the_parser() {
        assert!(error("a = 1 << 2\n").0.contains("starts a heredoc"));
        assert!(matches!(scan("a = <<\u{e9}t\nbody\n\u{e9}t\n", 256), Scan::NoOpinion { .. }));
    }

    #[test]
    fn a_heredoc_ends_at_its_indented_marker_with_code_after_it() {
        let text = "a = [<<EOT\n  ] not a bracket\n  EOT\n, <<-X\nEOTX\nX]\n";
        assert!(matches!(scan(text, 256), Scan::Balanced { .. }), "{:?}", scan(text, 256));
        assert!(matches!(scan("a = <<EOT\nEOT\n", 256), Scan::Balanced { .. }), "an empty heredoc");
    }

    /// Found by fuzzing: a file of `<` and unclosed `[` ending in a stray
    /// `<<` took hcl-edit more than ten seconds; the scan used to stop at the
    /// `<<` with no opinion.
    #[test]
    fn a_stray_heredoc_start_after_open_brackets_is_rejected() {
        let text = format!("lo = {}<qi  <<", "s<p<s[_<p<s[s_".repeat(8));
        assert!(matches!(scan(&text, 256), Scan::Invalid(_)), "{:?}", scan(&text, 256));
    }

    #[test]
    fn nesting_past_the_limit_is_too_deep() {
        let text = format!("a = {}1{}\n", "[".repeat(300), "]".repeat(300));
        assert_eq!(scan(&text, 256), Scan::TooDeep { deepest: 4 + 256 });
        assert!(matches!(scan(&text, 400), Scan::Balanced { depth: 300, .. }));
    }

    /// The input that makes hcl-edit backtrack exponentially (see the module
    /// docs) is rejected here, in linear time, at its last open brace.
    #[test]
    fn the_backtracking_pattern_is_rejected_before_parsing() {
        let text = format!("a = {}\n", "x-%k%{".repeat(60));
        let (message, offset) = error(&text);
        assert!(message.contains("never closed"), "{message}");
        assert_eq!(offset, text.rfind('{').unwrap_or(0));
    }
}
