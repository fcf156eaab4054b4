//! Rewrites of a Terraform file that hcl-edit refuses and Terraform
//! accepts, for a second parse: newlines inside `for` expressions, and an
//! object key written twice. Each copy keeps the original's length and
//! lines, so every span the parser returns is a span of the original text.

use super::brackets::{find, heredoc_end, heredoc_intro, memchr, template_open, End, Open};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
