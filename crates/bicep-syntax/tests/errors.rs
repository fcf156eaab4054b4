//! Error messages and their locations.
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

#[test]
fn unterminated_string_at_end_of_line() {
    let src = "var a = 1\nvar x = 'abc\nvar y = 2\n";
    let e = parse_err(src);
    assert_eq!(e.message, "unterminated string, expected closing quote, found end of line");
    assert_eq!(text(src, &e.span), "'abc");
    assert_eq!(e.line_col(src), (2, 9));
}

#[test]
fn unterminated_string_at_end_of_file() {
    let src = "var x = 'abc";
    let e = parse_err(src);
    assert_eq!(e.message, "unterminated string, expected closing quote, found end of file");
    assert_eq!(text(src, &e.span), "'abc");
}

#[test]
fn unterminated_interpolation() {
    let src = "var x = '${a'\n";
    let e = parse_err(src);
    // The quote after `a` starts a new (unterminated) string inside the hole.
    assert_eq!(e.message, "unterminated string, expected closing quote, found end of line");
    assert_eq!(text(src, &e.span), "'");
    assert_eq!(e.span.start, 12);

    let src = "var x = '${a b}'\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected '}' to close string interpolation, found identifier 'b'");
    assert_eq!(text(src, &e.span), "b");
}

#[test]
fn unterminated_multi_line_string_and_block_comment() {
    let src = "var x = '''abc\n";
    let e = parse_err(src);
    assert_eq!(e.message, "unterminated multi-line string, expected closing ''', found end of file");
    assert_eq!(e.span, 8..src.len());

    let src = "var x = 1 /* never closed\n";
    let e = parse_err(src);
    assert_eq!(e.message, "unterminated block comment, expected '*/', found end of file");
    assert_eq!(e.span.start, 10);
}

#[test]
fn invalid_escape_sequences() {
    let src = r"var x = 'a\qb'";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        r"invalid escape sequence, expected one of \\ \' \n \r \t \$ \u{...}, found '\q'"
    );
    assert_eq!(text(src, &e.span), r"\q");

    let src = r"var x = '\u{110000}'";
    let e = parse_err(src);
    assert!(e.message.ends_with("found 110000"), "{}", e.message);
    assert_eq!(text(src, &e.span), r"\u{110000}");

    let src = r"var x = '\u{zz}'";
    let e = parse_err(src);
    assert!(
        e.message.starts_with("invalid unicode escape sequence, expected '\\u{'"),
        "{}",
        e.message
    );
    assert!(e.message.ends_with(r"found '\u{'"), "{}", e.message);
    assert_eq!(e.span.start, 9);
}

#[test]
fn missing_equals_in_declarations() {
    let cases = [
        ("metadata info 'x'\n", "expected '=' after metadata name, found string", "'x'"),
        (
            "targetScope 'subscription'\n",
            "expected '=' after 'targetScope', found string",
            "'subscription'",
        ),
        ("var x\n", "expected '=' after variable name, found newline", "\n"),
        ("var x string 'a'\n", "expected '=' after variable type, found string", "'a'"),
        (
            "param p string 'a'\n",
            "expected '=' or newline after parameter type, found string",
            "'a'",
        ),
        ("resource r 'T@v' {\n}\n", "expected '=' after resource type, found '{'", "{"),
        ("resource r 'T@v' existing {\n}\n", "expected '=' after 'existing', found '{'", "{"),
        ("module m './m.bicep' {\n}\n", "expected '=' after module path, found '{'", "{"),
        (
            "output o string rt.id\n",
            "expected '=' after output type, found identifier 'rt'",
            "rt",
        ),
        ("type t {\n}\n", "expected '=' after type name, found '{'", "{"),
    ];
    for (src, message, found) in cases {
        let e = parse_err(src);
        assert_eq!(e.message, message, "for {src:?}");
        assert_eq!(text(src, &e.span), found, "span for {src:?}");
    }
}

#[test]
fn unknown_character_token() {
    let src = "var x = 1 # 2\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected a token, found character '#'");
    assert_eq!(e.span, 10..11);

    let src = "var x = a & b\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected '&&', found '&'");
    assert_eq!(text(src, &e.span), "&");

    let src = "var x = a ; b\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected a token, found character ';'");

    let src = "var x = '€' + €\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected a token, found character '€'");
    assert_eq!(text(src, &e.span), "€");
}

#[test]
fn unclosed_brace_points_at_opening_brace() {
    let src = "resource r 'T@v' = {\n  name: 'x'\n  properties: {\n    a: 1\n  }\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected '}' to close this '{', found end of file");
    assert_eq!(e.span, 19..20);
    assert_eq!(e.line_col(src), (1, 20));
}

#[test]
fn unclosed_brackets_and_parens() {
    let src = "var x = [\n  1\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected ']' to close this '[', found end of file");
    assert_eq!(text(src, &e.span), "[");

    let src = "var x = concat(a,\n  b\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected ')' to close this '(', found end of file");
    assert_eq!(e.span, 14..15);
}

#[test]
fn unexpected_declaration_and_trailing_tokens() {
    let src = "foo = 1\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected declaration, found identifier 'foo'");
    assert_eq!(e.span, 0..3);

    let src = "var x = 1 2\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected newline after declaration, found integer '2'");
    assert_eq!(text(src, &e.span), "2");

    let src = "@description('x') param p string\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected newline after decorator, found identifier 'param'");
}

#[test]
fn missing_separator_between_object_properties() {
    let src = "var o = {\n  a: 1 b: 2\n}\n";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "expected ',', newline or '}' after object property, found identifier 'b'"
    );
    assert_eq!(text(src, &e.span), "b");
}

#[test]
fn missing_expression_and_colon() {
    let src = "var x =\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected expression, found newline");

    let src = "var o = {\n  a 1\n}\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected ':' after property name, found integer '1'");

    let src = "var t = a ? b\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected ':' in ternary expression, found newline");
}

#[test]
fn integer_overflow_is_located() {
    let src = "var x = 99999999999999999999\n";
    let e = parse_err(src);
    assert!(e.message.starts_with("integer literal is too large"), "{}", e.message);
    assert_eq!(text(src, &e.span), "99999999999999999999");
}

#[test]
fn resource_body_must_be_object_if_or_for() {
    let src = "resource r 'T@v' = 42\n";
    let e = parse_err(src);
    assert_eq!(
        e.message,
        "expected '{', 'if' or '[for' to start the resource body, found integer '42'"
    );
    let src = "resource r 'T@v' = [for x in y: 42]\n";
    let e = parse_err(src);
    assert_eq!(e.message, "expected '{' or 'if' to start the loop body, found integer '42'");
}

#[test]
fn long_identifiers_are_truncated_in_messages() {
    let name = "x".repeat(1000);
    let src = format!("{name} = 1\n");
    let e = parse_err(&src);
    assert!(e.message.len() < 100, "{}", e.message);
    assert_eq!(e.span, 0..1000);
}

#[test]
fn errors_display_with_location() {
    let e = parse_err("var x = 'a");
    assert_eq!(
        e.to_string(),
        "unterminated string, expected closing quote, found end of file at bytes 8..10"
    );
}
