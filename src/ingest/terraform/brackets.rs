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
    let bytes = text.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    // Deepest nesting of any frame (brackets, strings, interpolations), and
    // where it is first reached.
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0usize;
    let invalid = |offset: usize, len: usize, message: String| Scan::Invalid(BracketError { offset, len, message });
    while i < bytes.len() {
        // Most bytes mean nothing to the scan: skip them in a tight loop.
        let table = match stack.last() {
            Some(Frame::Quoted(_)) => &QUOTED,
            Some(Frame::Heredoc { .. }) => &HEREDOC,
            _ => &CODE,
        };
        while bytes.get(i).is_some_and(|b| !table.get(usize::from(*b)).copied().unwrap_or(true)) {
            i += 1;
        }
        let Some(&b) = bytes.get(i) else { break };
        match stack.last().copied() {
            Some(Frame::Quoted(start)) => match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'\n' => return invalid(start, 1, QUOTED_NEWLINE.to_string()),
                b'$' | b'%' => match template_open(bytes, i) {
                    Some(Open::Escaped) => i += 2,
                    Some(Open::Interpolation) => {
                        stack.push(Frame::Interpolation(i));
                        i += 1;
                    }
                    None => {}
                },
                _ => {}
            },
            Some(Frame::Heredoc {
                marker_start, marker_end, ..
            }) => {
                if b == b'\n' {
                    match heredoc_end(bytes, i + 1, bytes.get(marker_start..marker_end).unwrap_or_default()) {
                        End::At(j) => {
                            stack.pop();
                            i = j;
                            continue;
                        }
                        End::Unsure => return Scan::NoOpinion { depth, deepest },
                        End::No => {}
                    }
                } else {
                    match template_open(bytes, i) {
                        Some(Open::Escaped) => i += 2,
                        Some(Open::Interpolation) => {
                            stack.push(Frame::Interpolation(i));
                            i += 1;
                        }
                        None => {}
                    }
                }
            }
            // Code: the top level, inside brackets, or inside an interpolation.
            _ => match b {
                b'"' => stack.push(Frame::Quoted(i)),
                b'#' => {
                    let end = memchr(b'\n', bytes, i).unwrap_or(bytes.len());
                    comments.push(i..end);
                    i = end;
                }
                b'/' if bytes.get(i + 1) == Some(&b'/') => {
                    let end = memchr(b'\n', bytes, i).unwrap_or(bytes.len());
                    comments.push(i..end);
                    i = end;
                }
                b'/' if bytes.get(i + 1) == Some(&b'*') => match find(bytes, b"*/", i + 2) {
                    Some(end) => {
                        comments.push(i..end + 2);
                        i = end + 1;
                    }
                    None => return invalid(i, 2, "this comment is never closed with `*/`".to_string()),
                },
                b'<' if bytes.get(i + 1) == Some(&b'<') => match heredoc_intro(bytes, i) {
                    Some((marker_start, marker_end, body)) => {
                        match heredoc_end(bytes, body, bytes.get(marker_start..marker_end).unwrap_or_default()) {
                            // An empty heredoc: its first line is the marker.
                            End::At(j) => i = j,
                            End::Unsure => return Scan::NoOpinion { depth, deepest },
                            End::No => {
                                stack.push(Frame::Heredoc {
                                    start: i,
                                    marker_start,
                                    marker_end,
                                });
                                i = body;
                            }
                        }
                        continue;
                    }
                    // A marker hcl-edit may read as a Unicode identifier.
                    None if bytes
                        .get(i + 2 + usize::from(bytes.get(i + 2) == Some(&b'-')))
                        .is_some_and(|c| !c.is_ascii()) =>
                    {
                        return Scan::NoOpinion { depth, deepest }
                    }
                    None => {
                        return invalid(
                            i,
                            2,
                            "`<<` starts a heredoc, but no marker and newline follow it (as in `<<EOT`)".to_string(),
                        )
                    }
                },
                b'(' | b'[' | b'{' => stack.push(Frame::Bracket(b, i)),
                b')' | b']' | b'}' => match stack.pop() {
                    Some(Frame::Bracket(open, _)) if closer(open) == b => {}
                    Some(Frame::Interpolation(_)) if b == b'}' => {}
                    Some(Frame::Bracket(open, at)) => {
                        return invalid(
                            i,
                            1,
                            format!(
                                "`{}` does not close the `{}` at {}; expected `{}`",
                                b as char,
                                open as char,
                                line_col(text, at),
                                closer(open) as char
                            ),
                        )
                    }
                    Some(Frame::Interpolation(at)) => {
                        return invalid(
                            i,
                            1,
                            format!(
                                "`{}` inside the template interpolation at {}; expected `}}`",
                                b as char,
                                line_col(text, at)
                            ),
                        )
                    }
                    _ => return invalid(i, 1, format!("`{}` closes nothing", b as char)),
                },
                _ => {}
            },
        }
        if stack.len() > depth {
            depth = stack.len();
            deepest = i;
            if depth > max_depth {
                return Scan::TooDeep { deepest };
            }
        }
        i += 1;
    }
    match stack.last() {
        None => Scan::Balanced { depth, deepest },
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

/// What [`walk_code`] meets in code (outside strings, heredocs and
/// comments, which it skips).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Token {
    Open(u8),
    Close(u8),
    Newline,
    /// A comment, from this offset to the next token's (its newline excluded).
    Comment(usize),
    /// Any other byte of code.
    Other(u8),
}

/// Walks the code of `text` from `from`, depth 0 there, calling `visit`
/// with each token's offset and the bracket depth; stops when it returns
/// false or at something it does not model. Interpolations inside strings
/// are skipped with the string.
fn walk_code(text: &str, from: usize, mut visit: impl FnMut(usize, Token, usize) -> bool) {
    #[derive(Clone, Copy)]
    enum Ctx {
        Bracket,
        Interpolation,
        Quoted,
        Heredoc(usize, usize),
    }
    let bytes = text.as_bytes();
    let mut stack: Vec<Ctx> = Vec::new();
    let mut depth = 0usize;
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        let in_string = stack.iter().any(|c| !matches!(c, Ctx::Bracket));
        match stack.last().copied() {
            Some(Ctx::Quoted) => match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%' => match template_open(bytes, i) {
                    Some(Open::Escaped) => i += 2,
                    Some(Open::Interpolation) => {
                        stack.push(Ctx::Interpolation);
                        i += 1;
                    }
                    None => {}
                },
                _ => {}
            },
            Some(Ctx::Heredoc(ms, me)) => {
                if b == b'\n' {
                    if let End::At(j) = heredoc_end(bytes, i + 1, bytes.get(ms..me).unwrap_or_default()) {
                        stack.pop();
                        i = j;
                        continue;
                    }
                } else if b == b'$' || b == b'%' {
                    match template_open(bytes, i) {
                        Some(Open::Escaped) => i += 2,
                        Some(Open::Interpolation) => {
                            stack.push(Ctx::Interpolation);
                            i += 1;
                        }
                        None => {}
                    }
                }
            }
            _ => {
                let token = match b {
                    b'"' => {
                        if !in_string && !visit(i, Token::Other(b), depth) {
                            return;
                        }
                        stack.push(Ctx::Quoted);
                        i += 1;
                        continue;
                    }
                    b'#' | b'/' if b == b'#' || bytes.get(i + 1) == Some(&b'/') => {
                        let end = memchr(b'\n', bytes, i).unwrap_or(bytes.len());
                        if !in_string && !visit(i, Token::Comment(end), depth) {
                            return;
                        }
                        i = end;
                        continue;
                    }
                    b'/' if bytes.get(i + 1) == Some(&b'*') => {
                        let end = find(bytes, b"*/", i + 2).map_or(bytes.len(), |e| e + 2);
                        if !in_string && !visit(i, Token::Comment(end), depth) {
                            return;
                        }
                        i = end;
                        continue;
                    }
                    b'<' if bytes.get(i + 1) == Some(&b'<') => {
                        let Some((ms, me, body)) = heredoc_intro(bytes, i) else { return };
                        if !in_string && !visit(i, Token::Other(b), depth) {
                            return;
                        }
                        match heredoc_end(bytes, body, bytes.get(ms..me).unwrap_or_default()) {
                            End::At(j) => i = j,
                            End::Unsure => return,
                            End::No => {
                                stack.push(Ctx::Heredoc(ms, me));
                                i = body;
                            }
                        }
                        continue;
                    }
                    b'(' | b'[' | b'{' => {
                        stack.push(Ctx::Bracket);
                        depth += usize::from(!in_string);
                        Token::Open(b)
                    }
                    b')' | b']' | b'}' => {
                        match stack.pop() {
                            Some(Ctx::Bracket) if !in_string => depth = depth.saturating_sub(1),
                            Some(_) => {}
                            None => return,
                        }
                        Token::Close(b)
                    }
                    b'\n' => Token::Newline,
                    other => Token::Other(other),
                };
                if !in_string && !visit(i, token, depth) {
                    return;
                }
            }
        }
        i += 1;
    }
}

/// A copy of `text` that hcl-edit 0.10 can parse where it refuses valid
/// HCL, or `None` when there is nothing to change.
///
/// Inside a `for` expression Terraform ignores newlines altogether
/// (hclsyntax pushes "include newlines: false" for its whole body), so
/// `{ for l in ls : l => local.a &&\n local.b }` is valid. hcl-edit parses
/// the collection of every `for` and the key and value of an object `for`
/// as if they stood alone on a line, and refuses a newline before or after
/// a binary operator, `?`/`:` or a `.` there. The copy replaces every
/// newline (and every comment, whose end is a newline) whose innermost
/// bracket is a `for` expression's by spaces: byte for byte the same
/// length, so every span the parser returns is a span of the original
/// text, whose lines stay as they are. Newlines in quoted strings,
/// heredocs, and in brackets nested inside the `for` (an object
/// constructor's newlines separate its items) are kept.
pub fn join_lines_in_for(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut changed = false;
    // Whether each open bracket starts a `for` expression.
    let mut fors: Vec<bool> = Vec::new();
    walk_code(text, 0, |i, token, _| {
        let in_for = fors.last() == Some(&true);
        match token {
            Token::Open(b'(') => fors.push(false),
            Token::Open(_) => fors.push(opens_for(bytes, i + 1)),
            Token::Close(_) => {
                fors.pop();
            }
            Token::Newline | Token::Other(b'\r') if in_for => {
                blank(&mut out, i, i + 1);
                changed = true;
            }
            Token::Comment(end) if in_for => {
                blank(&mut out, i, end);
                changed = true;
            }
            _ => {}
        }
        true
    });
    if !changed {
        return None;
    }
    String::from_utf8(out).ok()
}

/// A copy of `text` without the earlier of two items of one object
/// constructor that have the same key, the later one starting at `later`
/// (where hcl-edit reports "redefined object key"); `None` when it cannot
/// be found.
///
/// Terraform accepts a key written twice in an object constructor and
/// keeps the last value (hashicorp/terraform#28727); hcl-edit refuses it.
/// The earlier item is replaced by spaces, newlines kept, so that offsets
/// and lines stay those of the original text.
pub fn blank_earlier_duplicate(text: &str, later: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let key = object_key_at(bytes, later)?;
    // The object the later key is in: the innermost `{` open before it.
    let mut open: Vec<usize> = Vec::new();
    let mut object = None;
    walk_code(text, 0, |i, token, _| {
        if i >= later {
            object = open.last().copied();
            return false;
        }
        match token {
            Token::Open(b) => open.push(if b == b'{' { i } else { usize::MAX }),
            Token::Close(_) => {
                open.pop();
            }
            _ => {}
        }
        true
    });
    let object = object.filter(|o| *o != usize::MAX)?;
    // Its items at depth 1: the first with the same key, and where it ends
    // (a newline or comma at depth 1, or the closing brace).
    let mut at_item_start = true;
    let mut found: Option<(usize, usize)> = None;
    let mut item: Option<usize> = None;
    walk_code(text, object, |i, token, depth| {
        if i == object {
            return true;
        }
        if let Some(start) = item {
            let ends = match token {
                Token::Newline | Token::Other(b',') => depth == 1,
                Token::Close(_) => depth == 0,
                _ => false,
            };
            if ends {
                found = Some((start, i));
                return false;
            }
            return true;
        }
        if depth == 0 || i >= later {
            return false;
        }
        match token {
            Token::Newline | Token::Other(b',') if depth == 1 => at_item_start = true,
            Token::Other(b' ' | b'\t' | b'\r') | Token::Comment(_) => {}
            _ if depth == 1 && at_item_start => {
                at_item_start = false;
                if object_key_at(bytes, i) == Some(key) && i != later {
                    item = Some(i);
                }
            }
            _ => at_item_start = false,
        }
        true
    });
    let (start, end) = found?;
    let mut out = bytes.to_vec();
    for c in out.iter_mut().take(end).skip(start) {
        if *c != b'\n' {
            *c = b' ';
        }
    }
    String::from_utf8(out).ok()
}

/// The key written at `at`: an identifier or a quoted string without
/// interpolation, as bytes.
fn object_key_at(bytes: &[u8], at: usize) -> Option<&[u8]> {
    let ident = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-';
    match bytes.get(at)? {
        b'"' => {
            let len = bytes
                .get(at + 1..)?
                .iter()
                .position(|c| matches!(c, b'"' | b'\\' | b'$' | b'%' | b'\n'))?;
            (bytes.get(at + 1 + len) == Some(&b'"')).then(|| bytes.get(at + 1..at + 1 + len))?
        }
        c if c.is_ascii_alphabetic() || *c == b'_' => {
            let len = bytes.get(at..)?.iter().position(|c| !ident(c)).unwrap_or(bytes.len() - at);
            bytes.get(at..at + len)
        }
        _ => None,
    }
}

/// Replaces `from..to` by spaces: only whole comments and newlines are
/// blanked, so no UTF-8 sequence is cut.
fn blank(out: &mut [u8], from: usize, to: usize) {
    for c in out.iter_mut().take(to).skip(from) {
        *c = b' ';
    }
}

/// Whether the bracket's content, from `i`, starts with the keyword `for`
/// (after spaces, newlines and comments), as hcl-edit decides it.
fn opens_for(bytes: &[u8], mut i: usize) -> bool {
    loop {
        match bytes.get(i) {
            Some(b' ' | b'\t' | b'\r' | b'\n') => i += 1,
            Some(b'#') => i = memchr(b'\n', bytes, i).unwrap_or(bytes.len()),
            Some(b'/') if bytes.get(i + 1) == Some(&b'/') => i = memchr(b'\n', bytes, i).unwrap_or(bytes.len()),
            Some(b'/') if bytes.get(i + 1) == Some(&b'*') => match find(bytes, b"*/", i + 2) {
                Some(e) => i = e + 2,
                None => return false,
            },
            _ => break,
        }
    }
    bytes.get(i..i + 3) == Some(b"for") && matches!(bytes.get(i + 3), Some(b' ' | b'\t' | b'\r' | b'\n' | b'#' | b'/'))
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

enum Open {
    /// `$${` or `%%{`: a literal `${` or `%{`.
    Escaped,
    /// `${` or `%{`.
    Interpolation,
}

fn template_open(bytes: &[u8], i: usize) -> Option<Open> {
    let sigil = *bytes.get(i)?;
    match (bytes.get(i + 1), bytes.get(i + 2)) {
        (Some(&b'{'), _) => Some(Open::Interpolation),
        (Some(&s), Some(&b'{')) if s == sigil => Some(Open::Escaped),
        _ => None,
    }
}

enum End {
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
fn heredoc_end(bytes: &[u8], line: usize, marker: &[u8]) -> End {
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
fn heredoc_intro(bytes: &[u8], i: usize) -> Option<(usize, usize, usize)> {
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

fn memchr(needle: u8, bytes: &[u8], from: usize) -> Option<usize> {
    bytes.get(from..)?.iter().position(|b| *b == needle).map(|p| p + from)
}

fn find(bytes: &[u8], needle: &[u8], from: usize) -> Option<usize> {
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
    fn newlines_in_a_for_expression_become_spaces_at_the_same_offsets() {
        let text = "x = { for l in ls : l =>\n  a && # why\n  b }\ny = 1\n";
        let joined = join_lines_in_for(text).expect("changed");
        assert_eq!(joined.len(), text.len());
        assert_eq!(joined, "x = { for l in ls : l =>   a &&         b }\ny = 1\n");
    }

    #[test]
    fn newlines_outside_for_expressions_are_kept() {
        // An object constructor's newlines separate its items, inside a
        // `for` or not; a heredoc's and a block's are content and structure.
        let text = "x = [for a in b : {\n  k = a\n  v = \"${a}\"\n}]\nh = <<EOT\n[for x\nEOT\nz = (a\n && b)\n";
        assert_eq!(join_lines_in_for(text), None);
        let text = "x = [for a in b : {\n  k = a\n} if a\n != 1]\n";
        assert_eq!(
            join_lines_in_for(text).as_deref(),
            Some("x = [for a in b : {\n  k = a\n} if a  != 1]\n")
        );
    }

    #[test]
    fn the_earlier_of_two_equal_keys_is_blanked_lines_kept() {
        let text = "x = {\n  a = [1,\n    2]\n  b = 3\n  a = 4\n}\n";
        let later = text.rfind("a = 4").unwrap_or(0);
        let out = blank_earlier_duplicate(text, later).expect("found");
        assert_eq!(out, format!("x = {{\n{}\n{}\n  b = 3\n  a = 4\n}}\n", " ".repeat(9), " ".repeat(6)));
        // Quoted keys, comma-separated items, and a key that only starts alike.
        let text = "x = { \"k\" = 1, kk = 2, \"k\" = 3 }\n";
        let later = text.rfind("\"k\"").unwrap_or(0);
        assert_eq!(
            blank_earlier_duplicate(text, later).as_deref(),
            Some("x = {        , kk = 2, \"k\" = 3 }\n")
        );
        // A nested object's key of the same name is not the duplicate.
        let text = "x = {\n  n = { a = 1 }\n  a = 2\n}\n";
        assert_eq!(blank_earlier_duplicate(text, text.rfind("a = 2").unwrap_or(0)), None);
    }

    #[test]
    fn a_word_starting_with_for_is_not_a_for_expression() {
        assert_eq!(join_lines_in_for("x = [format\n, 1]\ny = {forward = 1\n}\n"), None);
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
