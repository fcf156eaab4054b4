//! The parser must never panic, must bound its recursion, and must handle
//! large inputs. Also checks the hand-written fixtures parse with sane spans.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

mod common;

use common::*;
use kmsguard_bicep_syntax::*;

const KITCHEN_SINK: &str = include_str!("fixtures/kitchen_sink.bicep");
const PARAMS: &str = include_str!("fixtures/params.bicepparam");
const FORMATTER_STYLE: &str = include_str!("fixtures/formatter_style.bicep");

/// Tiny deterministic xorshift64 generator (no external crates).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Parses and, on success, checks that every span is valid.
fn parse_and_check(src: &str) -> Result<Program, ParseError> {
    let result = parse(src);
    match &result {
        Ok(program) => {
            check_spans(src, program);
        }
        Err(e) => {
            assert!(e.span.start <= e.span.end && e.span.end <= src.len(), "{e:?}");
            assert!(src.is_char_boundary(e.span.start) && src.is_char_boundary(e.span.end), "{e:?}");
            assert!(!e.message.is_empty() && !e.message.ends_with('.'), "{e:?}");
        }
    }
    result
}

#[test]
fn fixtures_parse_with_valid_spans() {
    for (name, src) in [
        ("kitchen_sink", KITCHEN_SINK),
        ("params", PARAMS),
        ("formatter_style", FORMATTER_STYLE),
    ] {
        let program = parse_ok(src);
        let spans = check_spans(src, &program);
        assert!(spans > 20, "{name}: only {spans} spans");
    }
    let program = parse_ok(KITCHEN_SINK);
    assert_eq!(program.statements.len(), 42);
    let program = parse_ok(FORMATTER_STYLE);
    assert_eq!(program.statements.len(), 5);
}

#[test]
fn kitchen_sink_statement_kinds_in_order() {
    let program = parse_ok(KITCHEN_SINK);
    let kinds: Vec<&str> = program
        .statements
        .iter()
        .map(|s| match &s.kind {
            StatementKind::TargetScope(_) => "targetScope",
            StatementKind::Metadata(_) => "metadata",
            StatementKind::Param(_) => "param",
            StatementKind::Var(_) => "var",
            StatementKind::Resource(_) => "resource",
            StatementKind::Module(_) => "module",
            StatementKind::Test(_) => "test",
            StatementKind::Output(_) => "output",
            StatementKind::Import(_) => "import",
            StatementKind::Type(_) => "type",
            StatementKind::Func(_) => "func",
            StatementKind::Extension(_) => "extension",
            StatementKind::Using(_) => "using",
            StatementKind::Extends(_) => "extends",
            StatementKind::Assert(_) => "assert",
        })
        .collect();
    let mut expected = vec!["targetScope", "metadata", "metadata", "import", "import", "extension"];
    expected.extend(["param"; 6]);
    expected.extend(["var"; 11]);
    expected.extend(["type"; 7]);
    expected.push("func");
    expected.extend(["resource"; 4]);
    expected.extend(["module"; 2]);
    expected.extend(["output"; 4]);
    expected.push("assert");
    assert_eq!(kinds, expected);
}

/// Every 10,000-fold nesting shape must produce the depth error, not a stack
/// overflow.
#[test]
fn deep_nesting_reports_nesting_too_deep() {
    let n = 10_000;
    let shapes: Vec<(&str, String)> = vec![
        ("arrays", format!("var x = {}", "[".repeat(n))),
        ("closed arrays", format!("var x = {}{}", "[".repeat(n), "]".repeat(n))),
        ("parens", format!("var x = {}1{}", "(".repeat(n), ")".repeat(n))),
        ("objects", format!("var x = {}", "{\na: ".repeat(n))),
        ("calls", format!("var x = {}", "f(".repeat(n))),
        ("not", format!("var x = {}a", "!".repeat(n))),
        ("neg", format!("var x = {}1", "-".repeat(n))),
        ("index", format!("var x = a{}", "[b".repeat(n))),
        ("interpolation", format!("var x = {}", "'${".repeat(n))),
        ("lambdas", format!("var x = {}1", "a => ".repeat(n))),
        ("ternary", format!("var x = {}1", "a ? b : ".repeat(n))),
        ("for", format!("var x = {}", "[for a in b: ".repeat(n))),
        ("if", format!("resource r 'T@v' = {}", "if (a) { resource c 'x' = ".repeat(n))),
        ("tuple types", format!("type t = {}", "[".repeat(n))),
        ("object types", format!("type t = {}", "{\na: ".repeat(n))),
        ("paren types", format!("type t = {}", "(".repeat(n))),
        ("type args", format!("type t = {}", "a<".repeat(n))),
        ("decorator args", format!("@a({}", "[".repeat(n))),
        (
            "nested resources",
            format!("resource r 'T@v' = {}", "{\nresource c 'x' = ".repeat(n)),
        ),
        ("spreads", format!("var x = {}", "{\n...".repeat(n))),
        // Left-nested chains are built iteratively, but would still give a
        // tree too deep to drop recursively; they count towards the limit.
        ("binary chain", format!("var x = 1{}", " + 1".repeat(n))),
        ("coalesce chain", format!("var x = a{}", " ?? a".repeat(n))),
        ("member chain", format!("var x = a{}", ".b".repeat(n))),
        ("index chain", format!("var x = a{}", "[0]".repeat(n))),
        ("non-null chain", format!("var x = a{}", "!".repeat(n))),
        ("array type chain", format!("type t = string{}", "[]".repeat(n))),
        ("nullable type chain", format!("type t = string{}", "?!".repeat(n))),
        ("type member chain", format!("type t = a{}", ".b".repeat(n))),
    ];
    for (name, src) in shapes {
        let e = match parse(&src) {
            Ok(_) => panic!("{name}: parsed"),
            Err(e) => e,
        };
        assert!(e.message.starts_with("nesting too deep"), "{name}: {e:?}");
        assert!(e.span.end <= src.len());
    }
}

#[test]
fn nesting_just_below_the_limit_parses() {
    // `var x = [[...]]` uses one level per bracket.
    let depth = MAX_NESTING_DEPTH;
    let src = format!("var x = {}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&src).is_ok());
    let src = format!("var x = {}{}", "[".repeat(depth + 1), "]".repeat(depth + 1));
    let e = parse(&src).unwrap_err();
    assert!(e.message.starts_with("nesting too deep"));
    assert_eq!(e.span, (8 + depth)..(9 + depth));
}

#[test]
fn every_prefix_of_valid_files_never_panics() {
    for src in [KITCHEN_SINK, PARAMS, FORMATTER_STYLE] {
        for end in (0..=src.len()).filter(|&i| src.is_char_boundary(i)) {
            let _ = parse_and_check(&src[..end]);
        }
    }
}

#[test]
fn every_suffix_of_valid_files_never_panics() {
    for src in [KITCHEN_SINK, FORMATTER_STYLE] {
        for start in (0..=src.len()).filter(|&i| src.is_char_boundary(i)) {
            let _ = parse_and_check(&src[start..]);
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    const INTERESTING: &[&str] = &[
        "'",
        "''",
        "'''",
        "${",
        "}",
        "{",
        "[",
        "]",
        "(",
        ")",
        "\n",
        "\r\n",
        "\r",
        ":",
        "::",
        "?",
        "??",
        ".?",
        "!",
        "=",
        "=>",
        "==",
        "|",
        "@",
        "*",
        "...",
        ",",
        "/*",
        "*/",
        "//",
        "\\",
        "\\u{",
        "#",
        "-",
        "^",
        "<",
        ">",
        "resource ",
        "for ",
        "if ",
        "in ",
        "x",
        "1",
        " ",
        "é",
        "\u{1F600}",
        "\t",
        "\u{a0}",
        "#disable-next-line ",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for source in [KITCHEN_SINK, PARAMS, FORMATTER_STYLE] {
        let chars: Vec<char> = source.chars().collect();
        for _ in 0..1500 {
            let mut mutated = chars.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(mutated.len() + 1);
                match rng.below(4) {
                    0 if at < mutated.len() => {
                        mutated.remove(at);
                    }
                    1 if at < mutated.len() => {
                        let len = (rng.below(20) + 1).min(mutated.len() - at);
                        mutated.drain(at..at + len);
                    }
                    2 => {
                        // Duplicate a random slice somewhere else.
                        let from = rng.below(mutated.len());
                        let len = (rng.below(30) + 1).min(mutated.len() - from);
                        let slice: Vec<char> = mutated[from..from + len].to_vec();
                        let at = at.min(mutated.len());
                        mutated.splice(at..at, slice);
                    }
                    _ => {
                        let insert = INTERESTING[rng.below(INTERESTING.len())];
                        let at = at.min(mutated.len());
                        mutated.splice(at..at, insert.chars());
                    }
                }
            }
            let text: String = mutated.into_iter().collect();
            if parse_and_check(&text).is_ok() {
                parsed += 1;
            }
        }
    }
    // Some mutations (e.g. in comments) keep the file valid; most do not.
    assert!(parsed > 0 && parsed < 4500, "parsed {parsed}");
}

#[test]
fn random_token_soup_never_panics() {
    const TOKENS: &[&str] = &[
        "param ",
        "var ",
        "resource ",
        "module ",
        "output ",
        "type ",
        "func ",
        "import ",
        "@a()",
        "x",
        "y",
        " = ",
        "'s'",
        "'${",
        "}'",
        "{",
        "}",
        "[",
        "]",
        "(",
        ")",
        "\n",
        ",",
        ":",
        "?",
        "!",
        ".",
        ".?",
        "[?",
        "::",
        "=>",
        "|",
        "&&",
        "||",
        "??",
        "-",
        "+",
        "*",
        "1",
        "true",
        "null",
        "for ",
        " in ",
        "if ",
        "...",
        "'''m'''",
        "<",
        ">",
        "string",
        "existing ",
    ];
    let mut rng = XorShift(12345);
    for _ in 0..3000 {
        let len = rng.below(40);
        let src: String = (0..len).map(|_| TOKENS[rng.below(TOKENS.len())]).collect();
        let _ = parse_and_check(&src);
    }
}

/// A generated file of more than 1 MB parses (in linear time; the test
/// itself asserts nothing about time).
#[test]
fn one_megabyte_generated_file_parses() {
    let mut src = String::new();
    let mut blocks = 0;
    while src.len() < 1_000_000 {
        let i = blocks;
        src.push_str(&format!(
            "@description('block {i}')\nparam p{i} string = 'v${{prefix}}-{i}'\n\
             var v{i} = [for (x, j) in range(0, {i}): {{\n  name: '${{x}}-{i}'\n  ok: j % 2 == 0 ? true : false\n}}]\n\
             resource r{i} 'Microsoft.Network/routeTables@2023-04-01' = if (p{i} != '') {{\n  name: 'rt{i}'\n  properties: {{\n    routes: [\n      {{\n        name: 'kms'\n        properties: {{\n          addressPrefix: '20.118.99.224/32'\n          nextHopType: 'Internet'\n        }}\n      }}\n    ]\n  }}\n}}\n\
             output o{i} string = r{i}.?id ?? concat('a', 'b', string({i}))\n\n"
        ));
        blocks += 1;
    }
    // Also a long (but not too deeply nested) expression and a very long line.
    src.push_str(&format!("var sum = 0{}\n", " + 1".repeat(200)));
    src.push_str(&format!("var long = '{}'\n", "x".repeat(100_000)));
    let program = parse_ok(&src);
    assert_eq!(program.statements.len(), blocks * 4 + 2);
    assert!(src.len() > 1_000_000);
}
