//! Neutralising untrusted text before a renderer prints it.
//!
//! Resource names, messages (which quote names), file paths, error messages
//! (which quote input values) and the source lines the human format echoes
//! all come from the checked tree, i.e. from the author of a pull request
//! (README, "Security model"). Printed raw, such text can:
//!
//! - forge a GitHub workflow command: the runner acts on any log line that
//!   starts with `::` after leading white space (`::warning ...`,
//!   `::add-mask::`, `::stop-commands::`), and on a legacy `##[command]`
//!   anywhere in a line;
//! - run an Azure Pipelines logging command: the agent acts on `##vso[`
//!   anywhere in a line (`task.setvariable`, `task.prependpath`, ...);
//! - start such a line in the first place: LF, a lone CR (the runners read
//!   lines with .NET's `ReadLine`, which also breaks at CR), NEL, U+2028;
//! - drive the terminal: ESC starts CSI and OSC sequences (title changes,
//!   hyperlinks, clearing the screen), C1 controls do the same in some
//!   terminals, bidi overrides reorder what a reviewer reads;
//! - forge markup: a heading or an `<!--` in the step summary, a character
//!   XML 1.0 forbids in the JUnit report.
//!
//! Every renderer passes every untrusted string through one of the functions
//! below, chosen by where the string lands. None of them changes text made
//! only of printable characters without those command prefixes, so ordinary
//! reports look exactly as before.

use std::borrow::Cow;

/// Replaces the second `#` of a logging-command prefix with `_`.
///
/// `##vso[task.setvariable ...]` becomes `#_vso[task.setvariable ...]`: still
/// readable as what the file said, no longer a command. The prefix is matched
/// case-insensitively (`##VSO[`), since an agent that compared loosely would
/// act on it, and `##[` (GitHub's legacy command form and Azure's formatting
/// commands) is broken the same way. The replacement keeps the byte length,
/// so [`source_text`] can use it without moving any offset, and can never
/// create a new prefix (`_` is not `#`), so applying it twice changes nothing.
pub fn defuse_commands(s: &str) -> Cow<'_, str> {
    if !s.contains("##") {
        return Cow::Borrowed(s);
    }
    let mut bytes = s.as_bytes().to_vec();
    let mut i = 0;
    while i + 2 < bytes.len() {
        let hashes = bytes.get(i..i + 2) == Some(b"##");
        if hashes && command_follows(bytes.get(i + 2..).unwrap_or_default()) {
            if let Some(b) = bytes.get_mut(i + 1) {
                *b = b'_';
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    // Only an ASCII byte was swapped for another, so this stays UTF-8.
    Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn command_follows(rest: &[u8]) -> bool {
    rest.first() == Some(&b'[') || rest.get(..4).is_some_and(|r| r.eq_ignore_ascii_case(b"vso["))
}

/// Characters that break a line, control a terminal or reorder text: C0
/// (including LF, CR, TAB, ESC, BEL), DEL, C1 (including NEL and CSI), the
/// Unicode line and paragraph separators, the bidi embeddings, overrides and
/// isolates, and the two non-characters XML forbids.
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{fffe}'
                | '\u{ffff}'
        )
}

fn push_visible(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// Text that is printed inside one log line: a name, a message, a path in a
/// message. Unsafe characters become visible escapes (`\n`, `\u{1b}`), so
/// the text stays on its line and the reader still sees that the name holds
/// a line break; command prefixes are defused. It never starts a line in
/// kmsguard's output by itself; where it could, see [`defuse_line_starts`].
pub fn log_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe(c) {
            push_visible(&mut out, c);
        } else {
            out.push(c);
        }
    }
    defuse_commands(&out).into_owned()
}

/// Text of several lines that kmsguard prints as a block (a fix snippet):
/// LF and TAB stay, CRLF becomes LF, every other unsafe character becomes a
/// visible escape, command prefixes are defused and no line starts with `::`.
pub fn block_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(c),
            '\r' if chars.peek() == Some(&'\n') => {}
            c if is_unsafe(c) => push_visible(&mut out, c),
            c => out.push(c),
        }
    }
    defuse_line_starts(&defuse_commands(&out)).into_owned()
}

/// What a log line that would start with `::` gets in front of it.
///
/// GitHub trims leading white space before it looks for `::`, so indenting is
/// no defence; a printable character is. A backslash reads as "escaped" and
/// is what the reader of a wrapped help text or a snippet line would expect.
pub const LINE_START_GUARD: &str = "\\";

/// Whether a line would be read by GitHub as a workflow command: `::` after
/// leading white space. Colour codes (`ESC [ ... m`) that kmsguard itself
/// writes in front are skipped too, in case a log viewer strips them first.
pub fn starts_like_command(line: &str) -> bool {
    command_start(line).is_some()
}

fn command_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut i = 0;
    loop {
        let rest = line.get(i..)?;
        let c = rest.chars().next()?;
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if b.get(i) == Some(&0x1b) && b.get(i + 1) == Some(&b'[') {
            // A CSI sequence: parameters, then one final byte in 0x40..=0x7e.
            let mut j = i + 2;
            while b.get(j).is_some_and(|x| (0x20..0x40).contains(x)) {
                j += 1;
            }
            if !b.get(j).is_some_and(|x| (0x40..=0x7e).contains(x)) {
                return None;
            }
            i = j + 1;
        } else {
            return rest.starts_with("::").then_some(i);
        }
    }
}

/// Puts [`LINE_START_GUARD`] in front of every line of `text` that would
/// start with `::`. For output whose line breaks kmsguard does not fully
/// control: miette wraps long messages and help texts, so a name containing
/// ` ::warning ...` can land at the start of a wrapped line.
pub fn defuse_line_starts(text: &str) -> Cow<'_, str> {
    if !text.contains("::") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        match command_start(line) {
            Some(at) => {
                out.push_str(&line[..at]);
                out.push_str(LINE_START_GUARD);
                out.push_str(&line[at..]);
            }
            None => out.push_str(line),
        }
    }
    Cow::Owned(out)
}

/// A file path printed at the start of a line (`compact`'s `file:line:col:`).
/// A path can begin with `::` (`kmsguard check ./::warning x.tf`, shown
/// without its `./`); giving it back its `./` keeps it a valid path for
/// editors and problem matchers while no longer being a command.
pub fn path_at_line_start(path: &str) -> String {
    let text = log_text(path);
    if starts_like_command(&text) || text.starts_with(char::is_whitespace) {
        format!("./{text}")
    } else {
        text
    }
}

/// A copy of a source file's text for the human format to echo, with the same
/// byte length and the same line breaks, so every span and line number still
/// points at the same place: each unsafe character becomes as many `?` as it
/// has bytes (LF, TAB and the CR of a CRLF stay), and command prefixes are
/// defused in place. A source line cannot start a log line (the gutter comes
/// first), but it can hold `##vso[`, ESC or a lone CR, which .NET's line
/// reader treats as a line break.
pub fn source_text(s: &str) -> Cow<'_, str> {
    let needs = s.chars().any(|c| is_unsafe(c) && c != '\n' && c != '\t' && c != '\r') || s.contains('\r');
    let text: Cow<'_, str> = if needs {
        let mut out = String::with_capacity(s.len());
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\n' | '\t' => out.push(c),
                '\r' if chars.peek() == Some(&'\n') => out.push(c),
                c if is_unsafe(c) => out.extend(std::iter::repeat_n('?', c.len_utf8())),
                c => out.push(c),
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(s)
    };
    match defuse_commands(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(o) => Cow::Owned(o),
    }
}

/// Inline Markdown text (a message, a fix description in the step summary).
///
/// Unsafe characters become visible escapes first, so the text is one line
/// and cannot end a paragraph, start a heading or a list, or hide what follows
/// in a blank-line-separated block. Then `&`, `<` and `>` become entities
/// (no HTML: no `<!--` hiding the rest, no `<img>`, no autolinks), and the
/// characters that make links, images, emphasis, code spans, strike-through
/// and table cells are backslash-escaped. The text's first character is
/// escaped too when it could start a block (`#`, `-`, `+`, `=`, `:`, a digit
/// run followed by `.` or `)`), since the renderer may put the text at the
/// start of a line. Punctuation inside words (`rt-spoke`, `next_hop_type`,
/// `10.0.1.4`) renders literally and is left alone so the raw Markdown stays
/// readable.
pub fn markdown_text(s: &str) -> String {
    let text = log_text(s);
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.char_indices() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '[' | ']' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '_' if !is_inside_word(&text, i) => out.push_str("\\_"),
            '#' | '-' | '+' | '=' | ':' if i == 0 => {
                out.push('\\');
                out.push(c);
            }
            '.' | ')' if text[..i].bytes().all(|b| b.is_ascii_digit()) && i > 0 => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    // Leading spaces would make an indented code block; a non-breaking
    // entity keeps the text a paragraph.
    if out.starts_with(' ') {
        out.replace_range(..1, "&#32;");
    }
    out
}

fn is_inside_word(s: &str, i: usize) -> bool {
    let before = s[..i].chars().next_back().is_some_and(char::is_alphanumeric);
    let after = s[i + 1..].chars().next().is_some_and(char::is_alphanumeric);
    before && after
}

/// An inline Markdown code span holding `s` verbatim (a path, a resource
/// address): the backtick fence is one longer than the longest backtick run
/// inside, so the text cannot close the span early, and a space pads text
/// that begins or ends with a backtick, as CommonMark requires. Unsafe
/// characters become visible escapes (a line break would end the span's
/// paragraph) and command prefixes are defused.
pub fn markdown_code(s: &str) -> String {
    let text = log_text(s);
    let fence = "`".repeat(longest_run(&text, '`') + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// A fenced Markdown code block holding the lines of `s` (a fix snippet): the
/// fence is at least three backticks and longer than any backtick run inside,
/// so no line of the snippet can close it and turn the rest into Markdown.
pub fn markdown_block(s: &str) -> String {
    let text = block_text(s);
    let fence = "`".repeat((longest_run(&text, '`') + 1).max(3));
    format!("{fence}\n{text}\n{fence}")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for x in s.chars() {
        run = if x == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// Text for an XML attribute value or element content (the JUnit report).
///
/// XML 1.0 forbids most control characters even as character references, so
/// no escaping can carry them; they become visible escapes first (which also
/// keeps a CI log that prints the report free of them), then the five XML
/// specials become entities.
pub fn xml(s: &str) -> String {
    let text = log_text(s);
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Serialised JSON (the JSON and SARIF reports), made safe to print in a CI
/// log without changing what it means: serde already escapes C0 characters,
/// and everything untrusted is inside string literals, where `[` may be
/// written `\u005b` and DEL, C1 and the line separators `\u0085`-style. So
/// `"##vso[task.setvariable ..."` reaches a parser unchanged but an Azure
/// agent reading the log sees no command.
pub fn json_output(s: String) -> String {
    let risky = s.contains("##") || s.chars().any(|c| is_unsafe(c) && c != '\n');
    if !risky {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 16);
    let b = s.as_bytes();
    for (i, c) in s.char_indices() {
        let legacy = i >= 2 && b.get(i - 2..i) == Some(b"##");
        let azure = i >= 5 && b.get(i - 5..i - 3) == Some(b"##") && b.get(i - 3..i).is_some_and(|v| v.eq_ignore_ascii_case(b"vso"));
        if c == '[' && (legacy || azure) {
            out.push_str("\\u005b");
        } else if c != '\n' && is_unsafe(c) {
            // Only reachable inside strings: serde writes no raw controls of
            // its own besides the line breaks of pretty printing.
            for unit in c.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_defused_anywhere_and_in_any_case() {
        assert_eq!(
            defuse_commands("x ##vso[task.setvariable variable=a]1"),
            "x #_vso[task.setvariable variable=a]1"
        );
        assert_eq!(defuse_commands("##VSO[task.prependpath]/tmp"), "#_VSO[task.prependpath]/tmp");
        assert_eq!(defuse_commands("a##[add-mask]b"), "a#_[add-mask]b");
        assert_eq!(defuse_commands("###vso["), "##_vso[");
        assert_eq!(defuse_commands("## vso[ #tag ##"), "## vso[ #tag ##");
        for s in ["##vso[##vso[", "#####[", "##VsO[x]##[y]"] {
            let once = defuse_commands(s).into_owned();
            assert!(!once.to_ascii_lowercase().contains("##vso[") && !once.contains("##["), "{once}");
            assert_eq!(once.len(), s.len());
            assert_eq!(defuse_commands(&once), once);
        }
    }

    #[test]
    fn log_text_keeps_one_line_and_shows_what_was_hidden() {
        assert_eq!(log_text("rt\n::warning file=x.tf::forged"), "rt\\n::warning file=x.tf::forged");
        assert_eq!(log_text("a\rb\u{85}c\u{2028}d\u{2029}e"), "a\\rb\\u{85}c\\u{2028}d\\u{2029}e");
        assert_eq!(log_text("\u{1b}]0;title\u{7}\u{1b}[2J"), "\\u{1b}]0;title\\u{7}\\u{1b}[2J");
        assert_eq!(
            log_text("evil\u{202e}fdp.exe\t\u{7f}\u{9b}"),
            "evil\\u{202e}fdp.exe\\t\\u{7f}\\u{9b}"
        );
        assert_eq!(log_text("rt-spoke ##vso[task.complete]"), "rt-spoke #_vso[task.complete]");
        // Ordinary text, IPv6 prefixes and Windows paths are left alone.
        for s in [
            "route table rt-spoke (10.0.1.4)",
            "::/0 and 2001:db8::/32",
            "C:\\work\\main.tf",
            "ünïcödé ✅",
        ] {
            assert_eq!(log_text(s), s);
        }
    }

    #[test]
    fn lines_that_would_be_commands_get_a_guard() {
        assert_eq!(
            defuse_line_starts("a\n  ::warning x::y\n::error::z"),
            "a\n  \\::warning x::y\n\\::error::z"
        );
        assert_eq!(defuse_line_starts("\t\u{a0}::x::y"), "\t\u{a0}\\::x::y");
        assert_eq!(defuse_line_starts("\u{1b}[31m::error::x"), "\u{1b}[31m\\::error::x");
        assert_eq!(
            defuse_line_starts("ok :: not at start\n2001:db8::1"),
            "ok :: not at start\n2001:db8::1"
        );
        assert!(!starts_like_command("x ::warning"));
        assert!(starts_like_command(" \u{2003}::warning"));
    }

    #[test]
    fn block_text_keeps_lines_but_nothing_else() {
        assert_eq!(
            block_text("a\r\n  ::stop-commands::t\n\u{1b}[2Jb\r"),
            "a\n  \\::stop-commands::t\n\\u{1b}[2Jb\\r"
        );
        assert_eq!(block_text("route {\n\tname = \"x\"\n}"), "route {\n\tname = \"x\"\n}");
    }

    #[test]
    fn paths_at_line_start_are_not_commands() {
        assert_eq!(path_at_line_start("::warning file=x.tf::y.tf"), "./::warning file=x.tf::y.tf");
        assert_eq!(path_at_line_start(" ::x.tf"), "./ ::x.tf");
        assert_eq!(path_at_line_start("a\n::error::b.tf"), "a\\n::error::b.tf");
        assert_eq!(path_at_line_start("examples/main.tf"), "examples/main.tf");
    }

    #[test]
    fn source_text_keeps_every_offset() {
        let s = "a = \"\u{1b}]8;;x\u{7}\"\r\n# \u{85}\u{2028}\u{202e} ##vso[x]\rb\n\t::warning::y\n";
        let t = source_text(s);
        assert_eq!(t.len(), s.len());
        assert_eq!(t.match_indices('\n').collect::<Vec<_>>(), s.match_indices('\n').collect::<Vec<_>>());
        assert!(!t.chars().any(|c| is_unsafe(c) && !matches!(c, '\n' | '\t' | '\r')));
        assert!(!t.contains("##vso[") && !t.contains("\rb"));
        assert!(t.contains("\r\n"));
        assert_eq!(source_text("resource \"x\" {}\n"), "resource \"x\" {}\n");
    }

    #[test]
    fn markdown_text_cannot_make_blocks_links_or_html() {
        let forged = "x\n\n## ✅ no KMS problems found\n\n<!--";
        let t = markdown_text(forged);
        assert!(!t.contains('\n') && !t.contains('<'), "{t}");
        assert_eq!(markdown_text("## ✅ no KMS problems found"), "\\## ✅ no KMS problems found");
        assert_eq!(markdown_text("[x](javascript:alert(1))"), "\\[x\\](javascript:alert(1))");
        assert_eq!(markdown_text("![i](https://e/x.png)"), "\\!\\[i\\](https://e/x.png)");
        assert_eq!(
            markdown_text("<img src=x> & a|b `c` *d* ~e~"),
            "&lt;img src=x&gt; &amp; a\\|b \\`c\\` \\*d\\* \\~e\\~"
        );
        assert_eq!(markdown_text("- item"), "\\- item");
        assert_eq!(markdown_text("12. item"), "12\\. item");
        assert_eq!(markdown_text("    code"), "&#32;   code");
        assert_eq!(markdown_text("::warning::x"), "\\::warning::x");
        assert_eq!(markdown_text("_x_ next_hop_type"), "\\_x\\_ next_hop_type");
        let plain = "route table rt-hub sends KMS traffic (40.83.235.53) to VirtualAppliance 10.10.0.4";
        assert_eq!(markdown_text(plain), plain);
    }

    #[test]
    fn markdown_code_spans_and_blocks_cannot_be_closed_early() {
        assert_eq!(markdown_code("azurerm_route_table.hub"), "`azurerm_route_table.hub`");
        assert_eq!(markdown_code("a`b"), "``a`b``");
        assert_eq!(markdown_code("`x``"), "``` `x`` ```");
        assert_eq!(markdown_code("a\n\n## b"), "`a\\n\\n## b`");
        assert_eq!(markdown_block("x\n```\n# y"), "````\nx\n```\n# y\n````");
        assert_eq!(markdown_block("route {}"), "```\nroute {}\n```");
    }

    #[test]
    fn xml_text_has_only_allowed_characters() {
        assert_eq!(xml("a\u{0}b\u{1b}c\u{fffe}"), "a\\u{0}b\\u{1b}c\\u{fffe}");
        assert_eq!(
            xml("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn json_output_means_the_same_and_hides_commands() {
        let v = serde_json::json!({"name": "##vso[task.setvariable variable=x]1 ##[add-mask]y \u{85}\u{2028}\u{7f}", "n": [1]});
        let text = json_output(serde_json::to_string_pretty(&v).unwrap_or_default());
        assert!(!text.contains("##vso[") && !text.contains("##[") && !text.contains('\u{85}') && !text.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, v);
        let plain = "{\n  \"a\": [\n    1\n  ]\n}".to_string();
        assert_eq!(json_output(plain.clone()), plain);
    }
}
