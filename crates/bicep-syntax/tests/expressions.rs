//! Expressions: literals, operators and precedence, access forms, calls,
//! lambdas, loops, arrays and objects.
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

#[test]
fn literals_integer_bool_null() {
    let (e, src) = var_expr("[\n  42\n  true\n  false\n  null\n]");
    let ExprKind::Array(items) = &e.kind else { panic!() };
    let kinds: Vec<&ExprKind> = items
        .iter()
        .map(|i| match &i.kind {
            ArrayItemKind::Value(v) => &v.kind,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            &ExprKind::Integer(42),
            &ExprKind::Bool(true),
            &ExprKind::Bool(false),
            &ExprKind::Null
        ]
    );
    assert_eq!(text(&src, &items[0].span), "42");
    assert_eq!(text(&src, &items[3].span), "null");
}

#[test]
fn large_integer_is_kept_unsigned() {
    let (e, _) = var_expr("9223372036854775808");
    assert_eq!(e.kind, ExprKind::Integer(9_223_372_036_854_775_808));
    let (e, _) = var_expr("-9223372036854775808");
    assert_eq!(sexpr(&e), "(-9223372036854775808)");
}

#[test]
fn identifier_reference() {
    let (e, src) = var_expr("hubVnetName");
    assert_eq!(ident_name(&e), "hubVnetName");
    assert_eq!(text(&src, &e.span), "hubVnetName");
}

#[test]
fn binary_precedence_matches_bicep() {
    let cases = [
        ("a + b * c", "(a + (b * c))"),
        ("a * b + c", "((a * b) + c)"),
        ("a - b - c", "((a - b) - c)"),
        ("a % b / c", "((a % b) / c)"),
        ("a < b + 1", "(a < (b + 1))"),
        ("a == b < c", "(a == (b < c))"),
        ("a != b && c =~ d", "((a != b) && (c =~ d))"),
        ("a !~ b || c && d", "((a !~ b) || (c && d))"),
        ("a ?? b || c", "(a ?? (b || c))"),
        ("a || b ?? c", "((a || b) ?? c)"),
        ("a ?? b ?? c", "((a ?? b) ?? c)"),
        ("a >= 1 && b <= 2 || c > 3", "(((a >= 1) && (b <= 2)) || (c > 3))"),
        ("!a && -b < c", "((!a) && ((-b) < c))"),
        ("-a.b", "(-a.b)"),
        ("!empty(x)", "(!empty(x))"),
    ];
    for (input, expected) in cases {
        let (e, src) = var_expr(input);
        assert_eq!(sexpr(&e), expected, "for {input}");
        assert_eq!(text(&src, &e.span), input, "span for {input}");
    }
}

#[test]
fn binary_node_spans_cover_operands() {
    let (e, src) = var_expr("a + b * c");
    let ExprKind::Binary { op, lhs, rhs } = &e.kind else { panic!() };
    assert_eq!(*op, BinaryOp::Add);
    assert_eq!(text(&src, &lhs.span), "a");
    assert_eq!(text(&src, &rhs.span), "b * c");
}

#[test]
fn ternary_is_lowest_and_right_associative() {
    let (e, src) = var_expr("a ?? b ? c || d : e ? f : g");
    assert_eq!(sexpr(&e), "((a ?? b) ? (c || d) : (e ? f : g))");
    let ExprKind::Ternary { cond, then, otherwise } = &e.kind else {
        panic!()
    };
    assert_eq!(text(&src, &cond.span), "a ?? b");
    assert_eq!(text(&src, &then.span), "c || d");
    assert_eq!(text(&src, &otherwise.span), "e ? f : g");
}

#[test]
fn multi_line_ternary_with_leading_question_and_colon() {
    let src = "var x = !empty(name)\n  ? '${name}-rt'\n  : 'default'\nvar y = 1\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 2);
    let StatementKind::Var(v) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "((!empty(name)) ? '${name}-rt' : 'default')");
    assert_eq!(text(src, &v.value.span), "!empty(name)\n  ? '${name}-rt'\n  : 'default'");
}

#[test]
fn property_access_and_safe_access() {
    let (e, src) = var_expr("hub.?settings.name");
    assert_eq!(sexpr(&e), "hub.?settings.name");
    let ExprKind::Property { base, name, safe } = &e.kind else {
        panic!()
    };
    assert!(!safe);
    assert_eq!(text(&src, &name.span), "name");
    assert_eq!(text(&src, &base.span), "hub.?settings");
    let ExprKind::Property { safe, .. } = &base.kind else { panic!() };
    assert!(*safe);
}

#[test]
fn index_safe_index_and_from_end_index() {
    let (e, src) = var_expr("subnets[0].properties[?'x'][^1]");
    assert_eq!(sexpr(&e), "subnets[0].properties[?'x'][^1]");
    let ExprKind::Index {
        base,
        index,
        safe,
        from_end,
    } = &e.kind
    else {
        panic!()
    };
    assert!(!safe && *from_end);
    assert_eq!(text(&src, &index.span), "1");
    let ExprKind::Index { safe, index, .. } = &base.kind else {
        panic!()
    };
    assert!(*safe);
    assert_eq!(text(&src, &index.span), "'x'");
}

#[test]
fn function_calls_plain_and_namespaced() {
    let (e, src) = var_expr("sys.concat(az.resourceGroup().id, stg.listKeys().keys[0].value)");
    let ExprKind::Call { target, name, args } = &e.kind else { panic!() };
    assert_eq!(name.name, "concat");
    assert_eq!(ident_name(target.as_ref().unwrap()), "sys");
    assert_eq!(args.len(), 2);
    assert_eq!(text(&src, &args[0].span), "az.resourceGroup().id");
    assert_eq!(sexpr(&args[0]), "az.resourceGroup().id");
    assert_eq!(sexpr(&args[1]), "stg.listKeys().keys[0].value");
    let (e, _) = var_expr("resourceGroup()");
    assert!(matches!(&e.kind, ExprKind::Call { target: None, args, .. } if args.is_empty()));
}

#[test]
fn multi_line_function_arguments() {
    let (e, src) = var_expr("union(\n  a,\n  b\n)");
    assert_eq!(sexpr(&e), "union(a, b)");
    assert_eq!(text(&src, &e.span), "union(\n  a,\n  b\n)");
}

#[test]
fn resource_accessor() {
    let (e, src) = var_expr("vnet::subnet::nsg.id");
    assert_eq!(sexpr(&e), "vnet::subnet::nsg.id");
    let ExprKind::Property { base, .. } = &e.kind else { panic!() };
    let ExprKind::ResourceAccess { name, .. } = &base.kind else {
        panic!()
    };
    assert_eq!(text(&src, &name.span), "nsg");
    assert_eq!(text(&src, &base.span), "vnet::subnet::nsg");
}

#[test]
fn non_null_assertion_postfix() {
    let (e, src) = var_expr("settings.?ip!.address");
    assert_eq!(sexpr(&e), "settings.?ip!.address");
    let ExprKind::Property { base, .. } = &e.kind else { panic!() };
    assert!(matches!(base.kind, ExprKind::NonNull(_)));
    assert_eq!(text(&src, &base.span), "settings.?ip!");
    let (e, _) = var_expr("a! != b");
    assert_eq!(sexpr(&e), "(a! != b)");
}

#[test]
fn parenthesized_expression() {
    let (e, src) = var_expr("(a || b) && c");
    assert_eq!(sexpr(&e), "(<(a || b)> && c)");
    let ExprKind::Binary { lhs, .. } = &e.kind else { panic!() };
    assert_eq!(text(&src, &lhs.span), "(a || b)");
}

#[test]
fn lambdas_single_multi_and_zero_params() {
    let (e, src) = var_expr("map(items, x => x.name)");
    assert_eq!(sexpr(&e), "map(items, ((x) => x.name))");
    let ExprKind::Call { args, .. } = &e.kind else { panic!() };
    assert_eq!(text(&src, &args[1].span), "x => x.name");

    let (e, src) = var_expr("reduce(xs, 0, (cur, next) => cur + next)");
    assert_eq!(sexpr(&e), "reduce(xs, 0, ((cur, next) => (cur + next)))");
    let ExprKind::Call { args, .. } = &e.kind else { panic!() };
    let ExprKind::Lambda { params, .. } = &args[2].kind else { panic!() };
    assert_eq!(text(&src, &params[1].span), "next");

    let (e, _) = var_expr("() => 'x'");
    assert_eq!(sexpr(&e), "(() => 'x')");
    let (e, _) = var_expr("(x) => x");
    assert_eq!(sexpr(&e), "((x) => x)");
    // A parenthesized identifier is not a lambda.
    let (e, _) = var_expr("(x)");
    assert_eq!(sexpr(&e), "<x>");
}

#[test]
fn lambda_body_on_next_line() {
    let (e, _) = var_expr("filter(xs, x =>\n  x.enabled)");
    assert_eq!(sexpr(&e), "filter(xs, ((x) => x.enabled))");
}

#[test]
fn for_expression_forms() {
    let (e, src) = var_expr("[for x in items: x.name]");
    assert_eq!(sexpr(&e), "[for x in items: x.name]");
    assert_eq!(text(&src, &e.span), "[for x in items: x.name]");

    let (e, _) = var_expr("[for (x, i) in range(0, 3): {\n  id: i\n}]");
    assert_eq!(sexpr(&e), "[for (x, i) in range(0, 3): {id: i}]");

    let (e, src) = var_expr("[for x in items: if (x.enabled) {\n  name: x.name\n}]");
    assert_eq!(sexpr(&e), "[for x in items: if (x.enabled) {name: x.name}]");
    let ExprKind::For { body, .. } = &e.kind else { panic!() };
    assert_eq!(text(&src, &body.span), "if (x.enabled) {\n  name: x.name\n}");

    let (e, _) = var_expr("[\n  for x in items: x\n]");
    assert_eq!(sexpr(&e), "[for x in items: x]");
}

#[test]
fn arrays_single_line_multi_line_and_mixed_separators() {
    let (e, _) = var_expr("['a', 'b']");
    assert_eq!(sexpr(&e), "['a', 'b']");
    let (e, _) = var_expr("[\n  'a'\n  'b', 'c'\n  'd',\n  'e'\n]");
    assert_eq!(sexpr(&e), "['a', 'b', 'c', 'd', 'e']");
    let (e, _) = var_expr("[]");
    assert_eq!(sexpr(&e), "[]");
    let (e, _) = var_expr("[\n]");
    assert_eq!(sexpr(&e), "[]");
}

#[test]
fn array_spread_items() {
    let (e, src) = var_expr("[\n  ...base\n  'extra'\n]");
    let ExprKind::Array(items) = &e.kind else { panic!() };
    assert!(matches!(&items[0].kind, ArrayItemKind::Spread(v) if ident_name(v) == "base"));
    assert_eq!(text(&src, &items[0].span), "...base");
    assert_eq!(text(&src, &items[1].span), "'extra'");
}

#[test]
fn objects_keys_spans_and_separators() {
    let src = "var o = {\n  name: 'a'\n  'quoted-key': 1, other: true\n  '${prefix}-x': null\n  ...extra\n}\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    let ExprKind::Object(members) = &v.value.kind else { panic!() };
    assert_eq!(members.len(), 5);
    let ObjectMemberKind::Property { key, value } = &members[1].kind else {
        panic!()
    };
    assert_eq!(text(src, &key.span), "'quoted-key'");
    assert_eq!(key.literal_name().as_deref(), Some("quoted-key"));
    assert_eq!(text(src, &value.span), "1");
    assert_eq!(text(src, &members[1].span), "'quoted-key': 1");
    let ObjectMemberKind::Property { key, .. } = &members[3].kind else {
        panic!()
    };
    assert!(key.literal_name().is_none());
    let PropertyKeyKind::String(parts) = &key.kind else { panic!() };
    assert!(matches!(&parts[0], StringPart::Interpolation(e) if ident_name(e) == "prefix"));
    assert!(matches!(&parts[1], StringPart::Text { value, .. } if value == "-x"));
    let ObjectMemberKind::Spread(e) = &members[4].kind else { panic!() };
    assert_eq!(ident_name(e), "extra");
    assert_eq!(text(src, &members[4].span), "...extra");
}

#[test]
fn single_line_objects() {
    let (e, _) = var_expr("{ a: 1, b: { c: [1, 2] } }");
    assert_eq!(sexpr(&e), "{a: 1, b: {c: [1, 2]}}");
    let (e, _) = var_expr("{}");
    assert_eq!(sexpr(&e), "{}");
}

#[test]
fn keyword_like_property_names() {
    let (e, _) = var_expr("{\n  if: 1\n  for: 2\n  existing: 3\n  type: 4\n}.type");
    assert_eq!(sexpr(&e), "{if: 1, for: 2, existing: 3, type: 4}.type");
}

#[test]
fn spread_of_conditional_object() {
    let src = "var o = {\n  a: 1\n  ...(cond\n    ? { b: 2 }\n    : {})\n}\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "{a: 1, ...<(cond ? {b: 2} : {})>}");
}

#[test]
fn multi_line_ternary_inside_object_property() {
    let src = "var o = {\n  properties: (tier == 'Basic')\n    ? {\n        sku: tier\n      }\n    : null\n  next: 1\n}\n";
    let StatementKind::Var(v) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(sexpr(&v.value), "{properties: (<(tier == 'Basic')> ? {sku: tier} : null), next: 1}");
}

#[test]
fn long_chains_within_the_nesting_limit_parse() {
    let (e, _) = var_expr(&format!("a{}", ".b".repeat(200)));
    assert!(matches!(e.kind, ExprKind::Property { .. }));
    let (e, _) = var_expr(&format!("1{}", " + 1".repeat(200)));
    assert!(matches!(e.kind, ExprKind::Binary { op: BinaryOp::Add, .. }));
}
