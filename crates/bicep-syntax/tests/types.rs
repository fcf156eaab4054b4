//! Type expressions.
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

fn named(t: &TypeExpr) -> &str {
    match &t.kind {
        TypeExprKind::Named(i) => &i.name,
        other => panic!("expected named type, got {other:?}"),
    }
}

#[test]
fn primitive_and_user_named_types() {
    for name in ["string", "int", "bool", "object", "array", "subnetType"] {
        let (t, src) = type_expr(name);
        assert_eq!(named(&t), name);
        assert_eq!(text(&src, &t.span), name);
    }
}

#[test]
fn namespaced_type_is_property_access() {
    let (t, src) = type_expr("types.subnetType");
    let TypeExprKind::Property { base, name } = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(named(base), "types");
    assert_eq!(text(&src, &name.span), "subnetType");
    assert_eq!(text(&src, &t.span), "types.subnetType");
}

#[test]
fn literal_types() {
    let (t, _) = type_expr("'Standard'");
    assert_eq!(t.kind, TypeExprKind::String("Standard".into()));
    let (t, _) = type_expr("3");
    assert_eq!(t.kind, TypeExprKind::Integer { value: 3, negative: false });
    let (t, src) = type_expr("-1");
    assert_eq!(t.kind, TypeExprKind::Integer { value: 1, negative: true });
    assert_eq!(text(&src, &t.span), "-1");
    let (t, _) = type_expr("true");
    assert_eq!(t.kind, TypeExprKind::Bool(true));
    let (t, _) = type_expr("null");
    assert_eq!(t.kind, TypeExprKind::Null);
}

#[test]
fn union_single_line() {
    let (t, src) = type_expr("'Allow' | 'Deny'");
    let TypeExprKind::Union(members) = &t.kind else { panic!("{t:?}") };
    assert_eq!(members.len(), 2);
    assert_eq!(text(&src, &members[1].span), "'Deny'");
    assert_eq!(text(&src, &t.span), "'Allow' | 'Deny'");
}

#[test]
fn union_multi_line_with_leading_pipe() {
    let src = "type sku =\n  | 'Basic'\n  | 'Standard'\n  | 'Premium'\n\nparam p sku\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 2);
    let StatementKind::Type(t) = &program.statements[0].kind else {
        panic!()
    };
    let TypeExprKind::Union(members) = &t.value.kind else {
        panic!("{t:?}")
    };
    assert_eq!(members.len(), 3);
    assert_eq!(text(src, &t.value.span), "| 'Basic'\n  | 'Standard'\n  | 'Premium'");
}

#[test]
fn union_in_object_type_property_on_next_line_with_nullable_last_member() {
    let src = "type t = {\n  @description('x')\n  sku:\n    | 'LRS'\n    | 'GRS'?\n  other: int\n}\n";
    let StatementKind::Type(t) = single_statement(src).kind else {
        panic!()
    };
    let TypeExprKind::Object(members) = &t.value.kind else { panic!() };
    assert_eq!(members.len(), 2);
    let ObjectTypeMemberKind::Property { value, .. } = &members[0].kind else {
        panic!()
    };
    let TypeExprKind::Union(u) = &value.kind else { panic!("{value:?}") };
    assert!(matches!(u[1].kind, TypeExprKind::Nullable(_)));
    assert_eq!(text(src, &u[1].span), "'GRS'?");
}

#[test]
fn array_nullable_and_nonnullable_types() {
    let (t, src) = type_expr("string[]?");
    let TypeExprKind::Nullable(inner) = &t.kind else { panic!("{t:?}") };
    assert!(matches!(&inner.kind, TypeExprKind::Array(e) if named(e) == "string"));
    assert_eq!(text(&src, &inner.span), "string[]");
    let (t, _) = type_expr("int[][]");
    let TypeExprKind::Array(inner) = &t.kind else { panic!() };
    assert!(matches!(inner.kind, TypeExprKind::Array(_)));
    let (t, _) = type_expr("foo!");
    assert!(matches!(t.kind, TypeExprKind::NonNullable(_)));
}

#[test]
fn object_type_with_decorators_nullable_and_additional_properties() {
    let src = "type t = {\n  name: string\n  @description('x')\n  @minValue(1)\n  value: int?\n  'quoted-key': bool\n  *: string\n}\n";
    let StatementKind::Type(t) = single_statement(src).kind else {
        panic!()
    };
    let TypeExprKind::Object(members) = &t.value.kind else { panic!() };
    assert_eq!(members.len(), 4);
    assert_eq!(members[1].decorators.len(), 2);
    assert_eq!(text(src, &members[1].span), "@description('x')\n  @minValue(1)\n  value: int?");
    let ObjectTypeMemberKind::Property { key, value } = &members[1].kind else {
        panic!()
    };
    assert_eq!(text(src, &key.span), "value");
    assert_eq!(text(src, &value.span), "int?");
    let ObjectTypeMemberKind::Property { key, .. } = &members[2].kind else {
        panic!()
    };
    assert_eq!(key.literal_name().as_deref(), Some("quoted-key"));
    let ObjectTypeMemberKind::AdditionalProperties { star, value } = &members[3].kind else {
        panic!()
    };
    assert_eq!(text(src, star), "*");
    assert_eq!(named(value), "string");
}

#[test]
fn single_line_object_type() {
    let (t, _) = type_expr("{ name: string, value: int? }");
    let TypeExprKind::Object(members) = &t.kind else { panic!() };
    assert_eq!(members.len(), 2);
}

#[test]
fn parenthesized_type() {
    let (t, src) = type_expr("('a' | 'b')[]");
    let TypeExprKind::Array(inner) = &t.kind else { panic!("{t:?}") };
    let TypeExprKind::Paren(u) = &inner.kind else { panic!() };
    assert!(matches!(u.kind, TypeExprKind::Union(_)));
    assert_eq!(text(&src, &inner.span), "('a' | 'b')");
}

#[test]
fn resource_parameterized_types() {
    let (t, src) = type_expr("resource<'Microsoft.Network/routeTables@2023-04-01'>");
    let TypeExprKind::Parameterized { name, args, .. } = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(name.name, "resource");
    assert_eq!(text(&src, &args[0].span), "'Microsoft.Network/routeTables@2023-04-01'");
    let (t, _) = type_expr("resourceOutput<'Microsoft.Network/virtualNetworks@2024-01-01'>.properties");
    assert!(matches!(t.kind, TypeExprKind::Property { .. }));
    let (t, _) = type_expr("sys.resourceInput<'Microsoft.Network/virtualNetworks@2024-01-01'>");
    let TypeExprKind::Parameterized { namespace, .. } = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(named(namespace.as_ref().unwrap()), "sys");
}

#[test]
fn tuple_types_with_decorators() {
    let src = "type pair = [\n  @description('first')\n  string\n  int\n]\n";
    let StatementKind::Type(t) = single_statement(src).kind else {
        panic!()
    };
    let TypeExprKind::Tuple(items) = &t.value.kind else { panic!() };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].decorators.len(), 1);
    assert_eq!(text(src, &items[0].span), "@description('first')\n  string");
    let (t, _) = type_expr("[string, int]");
    assert!(matches!(&t.kind, TypeExprKind::Tuple(items) if items.len() == 2));
}

#[test]
fn type_member_access_forms() {
    let (t, _) = type_expr("myType.prop");
    assert!(matches!(t.kind, TypeExprKind::Property { .. }));
    let (t, src) = type_expr("myArray[*]");
    assert!(matches!(t.kind, TypeExprKind::Items(_)));
    assert_eq!(text(&src, &t.span), "myArray[*]");
    let (t, _) = type_expr("myObject.*");
    assert!(matches!(t.kind, TypeExprKind::AdditionalProperties(_)));
    let (t, _) = type_expr("myTuple[0]");
    let TypeExprKind::Index { index, .. } = &t.kind else {
        panic!("{t:?}")
    };
    assert_eq!(index.kind, ExprKind::Integer(0));
}

#[test]
fn output_with_bare_resource_type() {
    let src = "output r resource = rt\n";
    let StatementKind::Output(o) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(o.ty.kind, TypeExprKind::Resource(None));
}

#[test]
fn param_with_inline_object_type_and_default() {
    let src = "param settings {\n  name: string\n}? = null\n";
    let StatementKind::Param(p) = single_statement(src).kind else {
        panic!()
    };
    assert!(matches!(p.ty.as_ref().unwrap().kind, TypeExprKind::Nullable(_)));
    assert_eq!(p.default.unwrap().kind, ExprKind::Null);
}
