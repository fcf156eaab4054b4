//! Lexical details: strings, escapes, interpolation, multi-line strings,
//! comments, line endings.
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

fn parts(e: &Expr) -> &[StringPart] {
    match &e.kind {
        ExprKind::String(parts) => parts,
        other => panic!("expected string, got {other:?}"),
    }
}

#[test]
fn plain_string_has_one_text_part_with_raw_span() {
    let (e, src) = var_expr("'hello'");
    let [StringPart::Text { value, span }] = parts(&e) else {
        panic!("{e:?}")
    };
    assert_eq!(value, "hello");
    assert_eq!(text(&src, span), "hello");
    assert_eq!(text(&src, &e.span), "'hello'");
}

#[test]
fn empty_string_has_no_parts() {
    let (e, _) = var_expr("''");
    assert!(parts(&e).is_empty());
    assert_eq!(e.as_literal_string().as_deref(), Some(""));
}

#[test]
fn escape_sequences_are_decoded() {
    let (e, src) = var_expr(r"'a\\b\'c\nd\re\tf\$g\u{1F600}h\u{41}'");
    assert_eq!(plain_string(&e), "a\\b'c\nd\re\tf$g\u{1F600}hA");
    let [StringPart::Text { span, .. }] = parts(&e) else { panic!() };
    assert_eq!(text(&src, span), r"a\\b\'c\nd\re\tf\$g\u{1F600}h\u{41}");
}

#[test]
fn escaped_dollar_brace_is_not_interpolation() {
    let (e, _) = var_expr(r"'\${notInterpolated}'");
    assert_eq!(plain_string(&e), "${notInterpolated}");
    let (e, _) = var_expr("'cost: $5 {x}'");
    assert_eq!(plain_string(&e), "cost: $5 {x}");
}

#[test]
fn interpolation_parts_and_spans() {
    let (e, src) = var_expr("'${prefix}-rt-${location}'");
    let p = parts(&e);
    assert_eq!(p.len(), 3);
    let StringPart::Interpolation(first) = &p[0] else { panic!() };
    assert_eq!(text(&src, &first.span), "prefix");
    let StringPart::Text { value, span } = &p[1] else { panic!() };
    assert_eq!(value, "-rt-");
    assert_eq!(text(&src, span), "-rt-");
    let StringPart::Interpolation(last) = &p[2] else { panic!() };
    assert_eq!(ident_name(last), "location");
    assert_eq!(text(&src, &e.span), "'${prefix}-rt-${location}'");
}

#[test]
fn interpolation_with_nested_braces_and_strings() {
    let (e, src) = var_expr("'a${ {k: 'v${x}'}.k }b${concat('}', '{')}c'");
    assert_eq!(sexpr(&e), "'a${{k: 'v${x}'}.k}b${concat('}', '{')}c'");
    let StringPart::Interpolation(obj) = &parts(&e)[1] else { panic!() };
    assert_eq!(text(&src, &obj.span), "{k: 'v${x}'}.k");
}

#[test]
fn interpolation_with_ternary_and_escaped_quotes() {
    let (e, _) = var_expr(r"'\'${join(xs, '\',\'')}\''");
    assert_eq!(sexpr(&e), r"''${join(xs, '','')}''");
}

#[test]
fn multi_line_string_is_raw_and_drops_leading_newline() {
    let src = "var script = '''\nline1 ${notInterpolated} \\n\r\nline2'''\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(
        v.value.kind,
        ExprKind::MultilineString("line1 ${notInterpolated} \\n\r\nline2".into())
    );
    assert_eq!(text(src, &v.value.span), "'''\nline1 ${notInterpolated} \\n\r\nline2'''");
}

#[test]
fn multi_line_string_trailing_quotes_belong_to_content() {
    let (e, _) = var_expr("'''it's ''quoted'''''");
    assert_eq!(e.kind, ExprKind::MultilineString("it's ''quoted''".into()));
    let (e, _) = var_expr("''''''");
    assert_eq!(e.kind, ExprKind::MultilineString(String::new()));
}

#[test]
fn comments_anywhere_whitespace_is_allowed() {
    let src = "var x = /* a */ concat( // b\n  'a', /* c */ 'b' // d\n) // e\n/* f */ var y = [ // g\n  1 /* h */\n  2 // i\n]\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 2);
    let StatementKind::Var(v) = &program.statements[1].kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "[1, 2]");
}

#[test]
fn crlf_line_endings_in_objects_and_arrays() {
    let src = "var o = {\r\n  a: 1\r\n  b: [\r\n    'x'\r\n    'y'\r\n  ]\r\n}\r\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "{a: 1, b: ['x', 'y']}");
    assert_eq!(text(src, &v.value.span), "{\r\n  a: 1\r\n  b: [\r\n    'x'\r\n    'y'\r\n  ]\r\n}");
}

#[test]
fn non_ascii_text_in_strings_and_comments() {
    let src = "// café ☕\nvar s = 'naïve ${x} 日本'\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "'naïve ${x} 日本'");
    assert_eq!(text(src, &v.value.span), "'naïve ${x} 日本'");
}

#[test]
fn pragma_lines_are_ignored_inside_objects() {
    let src = "var o = {\n  #disable-next-line BCP037\n  a: 1\n}\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "{a: 1}");
}
