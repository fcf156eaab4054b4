// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use kmsguard_arm_syntax::{
    classify_string, parse_expression, parse_json, split_namespace, Expr, ExprKind, ParseError, StringValue, MAX_DEPTH,
};

/// Parses a whole JSON string value (brackets included) that must be an expression.
fn expression(s: &str) -> Expr {
    match classify_string(s) {
        Ok(StringValue::Expression(expr)) => expr,
        other => panic!("{s:?} is not an expression: {other:?}"),
    }
}

fn error(s: &str) -> ParseError {
    match classify_string(s) {
        Err(err) => {
            assert_well_formed(&err, s);
            err
        }
        Ok(value) => panic!("{s:?} should not parse, got {value:?}"),
    }
}

fn assert_well_formed(err: &ParseError, s: &str) {
    assert!(!err.message.is_empty());
    let first = err.message.chars().next().unwrap_or('x');
    assert!(!first.is_uppercase(), "{:?}", err.message);
    assert!(!err.message.ends_with('.'), "{:?}", err.message);
    assert!(err.span.start <= err.span.end && err.span.end <= s.len(), "{err:?} in {s:?}");
    assert!(s.get(err.span.clone()).is_some(), "{err:?} not on char boundaries of {s:?}");
}

/// A compact rendering of the tree: calls as `name(a, b)`, strings quoted.
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::String(s) => format!("{s:?}"),
        ExprKind::Integer(i) => i.to_string(),
        ExprKind::Call { name, args } => {
            let args: Vec<String> = args.iter().map(show).collect();
            format!("{name}({})", args.join(", "))
        }
        ExprKind::Property { target, name } => format!("{}.{name}", show(target)),
        ExprKind::Index { target, index } => format!("{}[{}]", show(target), show(index)),
    }
}

fn at<'a>(s: &'a str, e: &Expr) -> &'a str {
    &s[e.span.clone()]
}

fn args(e: &Expr) -> &[Expr] {
    e.as_call().map(|(_, a)| a).unwrap_or_default()
}

#[test]
fn concat_of_literal_and_parameter_call() {
    let s = "[concat('a', parameters('p'))]";
    let e = expression(s);
    assert_eq!(show(&e), "concat(\"a\", parameters(\"p\"))");
    assert!(e.is_call_to("CONCAT"));
    assert_eq!(at(s, &e), "concat('a', parameters('p'))");
    assert_eq!(at(s, &args(&e)[0]), "'a'");
    assert_eq!(args(&e)[0].as_str(), Some("a"));
    assert_eq!(at(s, &args(&e)[1]), "parameters('p')");
    assert_eq!(at(s, &args(&args(&e)[1])[0]), "'p'");
}

#[test]
fn double_open_bracket_escapes_a_literal() {
    assert_eq!(classify_string("[[notAnExpr]"), Ok(StringValue::Literal("[notAnExpr]".into())));
    assert_eq!(
        classify_string("[[parameters('effect')]"),
        Ok(StringValue::Literal("[parameters('effect')]".into()))
    );
    assert_eq!(classify_string("[[]"), Ok(StringValue::Literal("[]".into())));
}

#[test]
fn strings_that_are_not_bracketed_stay_literal_unchanged() {
    for s in [
        "",
        "[",
        "]",
        "plain",
        "[Preview]: Deploy agent",
        "[[not closed",
        " [concat('a')]",
        "[concat('a')] ",
        "abc]",
    ] {
        assert_eq!(classify_string(s), Ok(StringValue::Literal(s.into())), "{s:?}");
    }
}

#[test]
fn format_with_a_variables_argument() {
    let s = "[format('{0}-rt', variables('x'))]";
    let e = expression(s);
    assert_eq!(show(&e), "format(\"{0}-rt\", variables(\"x\"))");
    assert_eq!(at(s, &args(&e)[0]), "'{0}-rt'");
}

#[test]
fn doubled_single_quote_decodes_to_one_quote() {
    let s = "['it''s']";
    let e = expression(s);
    assert_eq!(e.kind, ExprKind::String("it's".into()));
    assert_eq!(at(s, &e), "'it''s'");
    assert_eq!(expression("['''']").as_str(), Some("'"));
    assert_eq!(expression("['']").as_str(), Some(""));
}

#[test]
fn index_by_copy_index_then_property() {
    let s = "[parameters('routes')[copyIndex()].name]";
    let e = expression(s);
    assert_eq!(show(&e), "parameters(\"routes\")[copyIndex()].name");
    assert_eq!(at(s, &e), "parameters('routes')[copyIndex()].name");
    let ExprKind::Property { target, name } = &e.kind else {
        panic!("not a property: {e:?}");
    };
    assert_eq!(name, "name");
    assert_eq!(at(s, target), "parameters('routes')[copyIndex()]");
    let ExprKind::Index { target, index } = &target.kind else {
        panic!("not an index: {target:?}");
    };
    assert_eq!(at(s, target), "parameters('routes')");
    assert_eq!(at(s, index), "copyIndex()");
}

#[test]
fn property_of_reference_to_resource_id() {
    let s = "[reference(resourceId('Microsoft.Network/routeTables', 'rt')).id]";
    let e = expression(s);
    assert_eq!(show(&e), "reference(resourceId(\"Microsoft.Network/routeTables\", \"rt\")).id");
    let s = "[reference('x').outputs.id.value]";
    assert_eq!(show(&expression(s)), "reference(\"x\").outputs.id.value");
}

#[test]
fn if_equals_with_a_negative_integer() {
    let s = "[if(equals(parameters('a'), 'x'), 1, -2)]";
    let e = expression(s);
    assert_eq!(show(&e), "if(equals(parameters(\"a\"), \"x\"), 1, -2)");
    assert_eq!(args(&e)[2].as_integer(), Some(-2));
    assert_eq!(at(s, &args(&e)[2]), "-2");
    let err = error("[f(-9223372036854775809)]");
    assert_eq!(err.span, 3..23);
    assert_eq!(args(&expression("[f(-9223372036854775808)]"))[0].as_integer(), Some(i64::MIN));
}

#[test]
fn user_defined_function_keeps_its_namespace() {
    let s = "[contoso.uniqueName( 'a' )]";
    let e = expression(s);
    let (name, _) = e.as_call().unwrap_or_default();
    assert_eq!(name, "contoso.uniqueName");
    assert_eq!(split_namespace(name), (Some("contoso"), "uniqueName"));
    assert_eq!(split_namespace("concat"), (None, "concat"));
    assert_eq!(at(s, &e), "contoso.uniqueName( 'a' )");
    // Whitespace around the dot is allowed and not kept in the name.
    let e = expression("[__bicep . joinArray(1)]");
    assert_eq!(e.as_call().map(|(n, _)| n), Some("__bicep.joinArray"));
}

#[test]
fn lambda_is_an_ordinary_call() {
    let e = expression("[map(range(0, 3), lambda('x', add(lambdaVariables('x'), 1)))]");
    assert_eq!(show(&e), "map(range(0, 3), lambda(\"x\", add(lambdaVariables(\"x\"), 1)))");
}

#[test]
fn whitespace_and_newlines_between_tokens_are_allowed() {
    let s = "[ concat (\n\t'a' ,\r\n  parameters( 'p' ) )  . length [ 0 ] ]";
    let e = expression(s);
    assert_eq!(show(&e), "concat(\"a\", parameters(\"p\")).length[0]");
    assert_eq!(at(s, &e), "concat (\n\t'a' ,\r\n  parameters( 'p' ) )  . length [ 0 ]");
}

#[test]
fn brackets_and_parentheses_inside_string_literals_are_characters() {
    let e = expression("[concat('[', 'a]', '(x', ')')]");
    let texts: Vec<&str> = args(&e).iter().filter_map(Expr::as_str).collect();
    assert_eq!(texts, ["[", "a]", "(x", ")"]);
    let e = expression("['[[x]]']");
    assert_eq!(e.as_str(), Some("[[x]]"));
}

#[test]
fn true_false_and_null_are_function_calls() {
    assert_eq!(show(&expression("[if(true(), null(), false())]")), "if(true(), null(), false())");
    let err = error("[if(true, 1, 2)]");
    assert!(err.message.contains("'true'") && err.message.contains("true()"), "{err:?}");
    assert_eq!(err.span, 8..9); // the ',' where '(' was expected
    let err = error("[null]");
    assert_eq!(err.span, 5..5);
}

#[test]
fn spans_from_parse_expression_are_relative_to_its_input() {
    let e = parse_expression("concat('a')");
    assert_eq!(e.map(|e| e.span), Ok(0..11));
    let e = classify_string("[concat('a')]");
    match e {
        Ok(StringValue::Expression(e)) => assert_eq!(e.span, 1..12),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unclosed_parenthesis_points_at_the_open_parenthesis() {
    let s = "[concat('a', parameters('p')]";
    let err = error(s);
    assert_eq!(err.span, 7..8, "{err:?}");
    assert!(err.message.contains("unclosed '('"), "{err:?}");
    assert!(err.message.contains("concat"), "{err:?}");
    let err = error("[concat(]");
    assert_eq!(err.span, 7..8, "{err:?}");
}

#[test]
fn unterminated_string_runs_from_its_quote_to_the_end() {
    let s = "[concat('a, 1)]";
    let err = error(s);
    assert_eq!(err.message, "unterminated string literal");
    assert_eq!(err.span, 8..14);
}

#[test]
fn trailing_garbage_after_the_expression_is_located() {
    let err = error("[concat('a') x]");
    assert_eq!(err.span, 13..14);
    assert!(err.message.contains("'x'"), "{err:?}");
    let err = error("[concat('a'))]");
    assert_eq!(err.span, 12..13);
    let err = error("[parameters('a') parameters('b')]");
    assert_eq!(err.span, 17..27);
}

#[test]
fn malformed_expressions_report_where_the_problem_is() {
    let cases: &[(&str, std::ops::Range<usize>, &str)] = &[
        ("[]", 1..1, "expected an expression"),
        ("[   ]", 4..4, "expected an expression"),
        ("[concat('a',)]", 12..13, "expected an expression"),
        ("[concat(,)]", 8..9, "expected an expression"),
        ("[concat('a' 'b')]", 12..15, "expected ',' or ')'"),
        ("[add(1.5, 2)]", 5..8, "decimal"),
        ("[add(99999999999999999999, 2)]", 5..25, "64 bits"),
        ("[add(- 1, 2)]", 5..6, "digit after '-'"),
        ("[concat('a') # ]", 13..14, "unexpected character '#'"),
        ("[concat(\"a\")]", 8..9, "unexpected character '\"'"),
        ("[parameters('a')[0]", 16..17, "unclosed '['"),
        ("[parameters('a')[0 1]]", 19..20, "expected ']'"),
        ("[parameters('a').]", 17..17, "property name after '.'"),
        ("[parameters('a').'b']", 17..20, "property name after '.'"),
        ("[parameters]", 11..11, "expected '(' after function name 'parameters'"),
        ("[a.b.c()]", 4..5, "expected '(' after function name 'a.b'"),
        ("[(1)]", 1..2, "expected an expression"),
        ("[concat('é', ~)]", 14..15, "unexpected character '~'"),
    ];
    for (s, span, needle) in cases {
        let err = error(s);
        assert_eq!(&err.span, span, "{s}: {err:?}");
        assert!(err.message.contains(needle), "{s}: {err:?} lacks {needle:?}");
    }
}

#[test]
fn ten_thousand_nested_calls_give_a_located_error_not_a_stack_overflow() {
    let s = format!("[{}1{}]", "f(".repeat(10_000), ")".repeat(10_000));
    let err = error(&s);
    assert!(err.message.contains("nesting"), "{err:?}");
    assert!(err.span.start < 2 * MAX_DEPTH + 10, "{err:?}");

    let s = format!("[{}0{}]", "a()[".repeat(10_000), "]".repeat(10_000));
    let err = error(&s);
    assert!(err.message.contains("nesting"), "{err:?}");
}

#[test]
fn long_property_chains_are_bounded_too() {
    // Each `.x` adds a tree level: a 10,000-long chain must not build a
    // 10,000-deep tree (dropping it would recurse that deep).
    let s = format!("[a(){}]", ".x".repeat(10_000));
    let err = error(&s);
    assert!(err.message.contains("nesting"), "{err:?}");
    let ok = format!("[a(){}]", ".x".repeat(MAX_DEPTH - 1));
    expression(&ok);
    let too_deep = format!("[a(){}]", ".x".repeat(MAX_DEPTH));
    error(&too_deep);
    // Mixed: nested calls each carrying a chain.
    let s = format!("[{}1{}]", "f(".repeat(200), ").x.x.x.x".repeat(200));
    error(&s);
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let n = MAX_DEPTH - 1;
    let s = format!("[{}1{}]", "f(".repeat(n), ")".repeat(n));
    expression(&s);
    let s = format!("[{}1{}]", "f(".repeat(n + 1), ")".repeat(n + 1));
    error(&s);
}

#[test]
fn expression_spans_map_back_to_json_source_through_escapes() {
    let src = r#"{"name": "[concat('caf\u00e9 \"x\"', parameters('p'))]"}"#;
    let root = parse_json(src).unwrap_or_else(|e| panic!("{e:?}"));
    let value = root.get("name").cloned().unwrap_or_else(|| panic!("no name"));
    let e = expression(value.as_str().unwrap_or_default());
    let param = &args(&e)[1];
    let mapped = value.string_source_span(src, param.span.clone());
    assert_eq!(&src[mapped], "parameters('p')");
    let literal = &args(&e)[0];
    let mapped = value.string_source_span(src, literal.span.clone());
    assert_eq!(&src[mapped], r#"'caf\u00e9 \"x\"'"#);
    // An error span maps as well.
    let broken = r#"{"name": "[concat(\"a\")]"}"#;
    let root = parse_json(broken).unwrap_or_else(|e| panic!("{e:?}"));
    let value = root.get("name").cloned().unwrap_or_else(|| panic!("no name"));
    let err = error(value.as_str().unwrap_or_default());
    assert_eq!(&broken[value.string_source_span(broken, err.span)], r#"\""#);
}

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
        (self.next() % n.max(1) as u64) as usize
    }
}

const SAMPLES: &[&str] = &[
    "[concat('a', parameters('p'))]",
    "[parameters('routes')[copyIndex()].name]",
    "[reference(resourceId('Microsoft.Network/routeTables', 'rt'), '2023-04-01').outputs.id.value]",
    "[if(equals(parameters('a'), 'it''s'), -1, ns.fn(2))]",
    "[map(range(0, 3), lambda('x', add(lambdaVariables('x'), 1)))]",
];

#[test]
fn every_prefix_of_sample_expressions_never_panics() {
    for sample in SAMPLES {
        for (i, _) in sample.char_indices() {
            let prefix = &sample[..i];
            if let Err(err) = classify_string(prefix) {
                assert_well_formed(&err, prefix);
            }
            if let Err(err) = parse_expression(prefix) {
                assert_well_formed(&err, prefix);
            }
        }
    }
}

#[test]
fn random_mutations_of_sample_expressions_never_panic() {
    const ALPHABET: &[char] = &[
        '(', ')', '[', ']', '\'', ',', '.', '-', '1', 'a', ' ', 'é', '"', '9', '_', '$', '\n',
    ];
    let mut rng = XorShift(0x2545_F491_4F6C_DD1D);
    let mut errors = 0;
    let mut parsed = 0;
    for round in 0..20_000 {
        let mut chars: Vec<char> = SAMPLES[round % SAMPLES.len()].chars().collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(chars.len());
            match rng.below(3) {
                0 => {
                    if at < chars.len() {
                        chars.remove(at);
                    }
                }
                1 => chars.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
                _ => {
                    if at < chars.len() {
                        chars[at] = ALPHABET[rng.below(ALPHABET.len())];
                    }
                }
            }
        }
        let s: String = chars.into_iter().collect();
        match classify_string(&s) {
            Ok(StringValue::Expression(e)) => {
                parsed += 1;
                assert!(s.get(e.span.clone()).is_some(), "{e:?} in {s:?}");
            }
            Ok(StringValue::Literal(_)) => {}
            Err(err) => {
                errors += 1;
                assert_well_formed(&err, &s);
            }
        }
    }
    assert!(errors > 2_000 && parsed > 2_000, "{errors} errors, {parsed} parsed");
}
