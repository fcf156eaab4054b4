//! Statement-level constructs: one test per declaration form, asserting AST
//! shape and spans.
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
fn target_scope_declaration() {
    let src = "targetScope = 'subscription'\n";
    let stmt = single_statement(src);
    assert_eq!(text(src, &stmt.span), "targetScope = 'subscription'");
    let StatementKind::TargetScope(decl) = &stmt.kind else {
        panic!("{stmt:?}")
    };
    assert_eq!(plain_string(&decl.value), "subscription");
    assert_eq!(text(src, &decl.value.span), "'subscription'");
}

#[test]
fn metadata_declaration_with_object_value() {
    let src = "metadata info = {\n  title: 'Hub'\n  version: 2\n}\n";
    let stmt = single_statement(src);
    let StatementKind::Metadata(decl) = &stmt.kind else {
        panic!("{stmt:?}")
    };
    assert_eq!(decl.name.name, "info");
    assert_eq!(text(src, &decl.name.span), "info");
    assert_eq!(text(src, &decl.value.span), "{\n  title: 'Hub'\n  version: 2\n}");
    let props = object_props(&decl.value);
    assert_eq!(props.len(), 2);
    assert_eq!(text(src, &props[1].0.span), "version");
    assert_eq!(text(src, &props[1].1.span), "2");
}

#[test]
fn param_with_type_and_default() {
    let src = "param location string = resourceGroup().location\n";
    let stmt = single_statement(src);
    let StatementKind::Param(p) = &stmt.kind else { panic!("{stmt:?}") };
    assert_eq!(p.name.name, "location");
    let ty = p.ty.as_ref().unwrap();
    assert!(matches!(&ty.kind, TypeExprKind::Named(i) if i.name == "string"));
    assert_eq!(text(src, &ty.span), "string");
    let default = p.default.as_ref().unwrap();
    assert_eq!(text(src, &default.span), "resourceGroup().location");
    assert_eq!(sexpr(default), "resourceGroup().location");
    assert_eq!(text(src, &stmt.span), src.trim_end());
}

#[test]
fn param_without_default() {
    let src = "param count int\n";
    let StatementKind::Param(p) = single_statement(src).kind else {
        panic!()
    };
    assert!(p.default.is_none());
    assert_eq!(text(src, &p.ty.unwrap().span), "int");
}

#[test]
fn param_with_resource_input_property_type() {
    let src = "param subnets resourceInput<'Microsoft.Network/virtualNetworks@2023-01-01'>.properties.subnets\n";
    let StatementKind::Param(p) = single_statement(src).kind else {
        panic!()
    };
    let ty = p.ty.unwrap();
    assert_eq!(
        text(src, &ty.span),
        "resourceInput<'Microsoft.Network/virtualNetworks@2023-01-01'>.properties.subnets"
    );
    let TypeExprKind::Property { base, name } = &ty.kind else {
        panic!("{ty:?}")
    };
    assert_eq!(name.name, "subnets");
    let TypeExprKind::Property { base, name } = &base.kind else {
        panic!("{base:?}")
    };
    assert_eq!(name.name, "properties");
    let TypeExprKind::Parameterized { namespace, name, args } = &base.kind else {
        panic!("{base:?}")
    };
    assert!(namespace.is_none());
    assert_eq!(name.name, "resourceInput");
    assert_eq!(args.len(), 1);
    assert!(matches!(&args[0].kind, TypeExprKind::String(s) if s == "Microsoft.Network/virtualNetworks@2023-01-01"));
}

#[test]
fn param_with_legacy_resource_type() {
    let src = "param rt resource 'Microsoft.Network/routeTables@2023-04-01'\n";
    let StatementKind::Param(p) = single_statement(src).kind else {
        panic!()
    };
    let ty = p.ty.unwrap();
    assert_eq!(text(src, &ty.span), "resource 'Microsoft.Network/routeTables@2023-04-01'");
    let TypeExprKind::Resource(Some(type_string)) = &ty.kind else {
        panic!("{ty:?}")
    };
    assert_eq!(plain_string(type_string), "Microsoft.Network/routeTables@2023-04-01");
}

#[test]
fn bicepparam_param_assignment_has_no_type() {
    let src = "using './main.bicep'\n\nparam location = 'westeurope'\nparam tags = {\n  env: 'prod'\n}\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 3);
    let StatementKind::Param(p) = &program.statements[1].kind else {
        panic!()
    };
    assert!(p.ty.is_none());
    assert_eq!(text(src, &p.default.as_ref().unwrap().span), "'westeurope'");
    assert_eq!(text(src, &program.statements[2].span), "param tags = {\n  env: 'prod'\n}");
}

#[test]
fn using_path_and_using_none() {
    let src = "using './main.bicep'\n";
    let StatementKind::Using(u) = single_statement(src).kind else {
        panic!()
    };
    let UsingTarget::Path(path) = &u.target else { panic!() };
    assert_eq!(plain_string(path), "./main.bicep");
    assert_eq!(text(src, &path.span), "'./main.bicep'");
    assert!(u.config.is_none());

    let src = "using none\n";
    let StatementKind::Using(u) = single_statement(src).kind else {
        panic!()
    };
    let UsingTarget::None(span) = &u.target else { panic!() };
    assert_eq!(text(src, span), "none");
}

#[test]
fn using_with_config_and_extends() {
    let src = "using 'main.bicep' with {\n  mode: 'stack'\n}\nextends './base.bicepparam'\n";
    let program = parse_ok(src);
    let StatementKind::Using(u) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(text(src, &u.config.as_ref().unwrap().span), "{\n  mode: 'stack'\n}");
    let StatementKind::Extends(e) = &program.statements[1].kind else {
        panic!()
    };
    assert_eq!(plain_string(&e.path), "./base.bicepparam");
}

#[test]
fn var_untyped_and_typed() {
    let src = "var prefix = 'kms'\nvar port int = 1688\n";
    let program = parse_ok(src);
    let StatementKind::Var(v) = &program.statements[0].kind else {
        panic!()
    };
    assert!(v.ty.is_none());
    assert_eq!(text(src, &v.value.span), "'kms'");
    let StatementKind::Var(v) = &program.statements[1].kind else {
        panic!()
    };
    assert_eq!(text(src, &v.ty.as_ref().unwrap().span), "int");
    assert_eq!(v.value.kind, ExprKind::Integer(1688));
    assert_eq!(text(src, &v.value.span), "1688");
    assert_eq!(text(src, &program.statements[1].span), "var port int = 1688");
}

#[test]
fn resource_with_object_body() {
    let src = "resource rt 'Microsoft.Network/routeTables@2023-04-01' = {\n  name: 'rt-hub'\n  location: location\n}\n";
    let stmt = single_statement(src);
    let StatementKind::Resource(r) = &stmt.kind else { panic!() };
    assert_eq!(r.name.name, "rt");
    assert_eq!(text(src, &r.name.span), "rt");
    assert_eq!(plain_string(&r.resource_type), "Microsoft.Network/routeTables@2023-04-01");
    assert_eq!(text(src, &r.resource_type.span), "'Microsoft.Network/routeTables@2023-04-01'");
    assert!(!r.existing);
    let props = object_props(&r.value);
    assert_eq!(props[0].0.literal_name().as_deref(), Some("name"));
    assert_eq!(text(src, &props[0].1.span), "'rt-hub'");
    assert_eq!(ident_name(props[1].1), "location");
    assert_eq!(text(src, &stmt.span), src.trim_end());
}

#[test]
fn existing_resource() {
    let src =
        "resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' existing = {\n  name: vnetName\n  scope: resourceGroup(rg)\n}\n";
    let StatementKind::Resource(r) = single_statement(src).kind else {
        panic!()
    };
    assert!(r.existing);
    assert_eq!(sexpr(&r.value), "{name: vnetName, scope: resourceGroup(rg)}");
}

#[test]
fn conditional_resource() {
    let src = "resource fw 'Microsoft.Network/azureFirewalls@2023-04-01' = if (deployFirewall && !empty(name)) {\n  name: name\n}\n";
    let StatementKind::Resource(r) = single_statement(src).kind else {
        panic!()
    };
    let ExprKind::If { cond, body } = &r.value.kind else {
        panic!("{:?}", r.value)
    };
    assert_eq!(text(src, &cond.span), "deployFirewall && !empty(name)");
    assert_eq!(sexpr(cond), "(deployFirewall && (!empty(name)))");
    assert_eq!(text(src, &body.span), "{\n  name: name\n}");
    assert_eq!(text(src, &r.value.span), "if (deployFirewall && !empty(name)) {\n  name: name\n}");
}

#[test]
fn conditional_module_with_if_on_next_line() {
    let src = "module m 'modules/a.bicep' =\n  if (architecture == 'singletier') {\n    name: 'a'\n  }\n";
    let StatementKind::Module(m) = single_statement(src).kind else {
        panic!()
    };
    assert!(matches!(m.value.kind, ExprKind::If { .. }));
    assert!(text(src, &m.value.span).starts_with("if (architecture"));
}

#[test]
fn resource_loop_with_index_and_filter() {
    let src = "resource rts 'Microsoft.Network/routeTables@2023-04-01' = [\n  for (hub, i) in hubs: if (hub.enabled) {\n    name: '${hub.name}-rt'\n  }\n]\n";
    let StatementKind::Resource(r) = single_statement(src).kind else {
        panic!()
    };
    let ExprKind::For {
        item,
        index,
        iterable,
        body,
    } = &r.value.kind
    else {
        panic!("{:?}", r.value)
    };
    assert_eq!(item.name, "hub");
    assert_eq!(text(src, &item.span), "hub");
    assert_eq!(index.as_ref().unwrap().name, "i");
    assert_eq!(text(src, &iterable.span), "hubs");
    let ExprKind::If { cond, body: inner } = &body.kind else {
        panic!("{body:?}")
    };
    assert_eq!(sexpr(cond), "hub.enabled");
    assert_eq!(sexpr(inner), "{name: '${hub.name}-rt'}");
    assert!(text(src, &r.value.span).starts_with("[\n  for (hub, i)"));
    assert!(text(src, &r.value.span).ends_with("}\n]"));
}

#[test]
fn module_loop_without_index() {
    let src = "module peers './peer.bicep' = [for spoke in spokes: {\n  name: spoke.name\n  params: {\n    id: spoke.id\n  }\n}]\n";
    let StatementKind::Module(m) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(plain_string(&m.path), "./peer.bicep");
    let ExprKind::For { index, body, .. } = &m.value.kind else {
        panic!()
    };
    assert!(index.is_none());
    assert_eq!(sexpr(body), "{name: spoke.name, params: {id: spoke.id}}");
}

#[test]
fn module_with_registry_references() {
    let src = "module a 'br/public:avm/res/network/route-table:0.4.0' = {\n  name: 'a'\n}\nmodule b 'br:myreg.azurecr.io/bicep/vnet:v1' = {\n  name: 'b'\n}\nmodule c 'ts:00000000-0000-0000-0000-000000000000/rg/spec:1.0' = {\n  name: 'c'\n}\n";
    let program = parse_ok(src);
    let paths: Vec<String> = program
        .statements
        .iter()
        .map(|s| match &s.kind {
            StatementKind::Module(m) => plain_string(&m.path),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        paths,
        [
            "br/public:avm/res/network/route-table:0.4.0",
            "br:myreg.azurecr.io/bicep/vnet:v1",
            "ts:00000000-0000-0000-0000-000000000000/rg/spec:1.0"
        ]
    );
}

#[test]
fn nested_child_resource_inside_resource_body() {
    let src = "resource vnet 'Microsoft.Network/virtualNetworks@2023-04-01' = {\n  name: 'vnet'\n  @batchSize(1)\n  resource subnet 'subnets' = {\n    name: 'default'\n  }\n  resource: 'not a declaration'\n}\n";
    let StatementKind::Resource(r) = single_statement(src).kind else {
        panic!()
    };
    let ExprKind::Object(members) = &r.value.kind else { panic!() };
    assert_eq!(members.len(), 3);
    let ObjectMemberKind::Resource { decorators, decl } = &members[1].kind else {
        panic!("{:?}", members[1])
    };
    assert_eq!(decorators.len(), 1);
    assert_eq!(decorators[0].name.name, "batchSize");
    assert_eq!(decl.name.name, "subnet");
    assert_eq!(plain_string(&decl.resource_type), "subnets");
    assert_eq!(
        text(src, &members[1].span),
        "@batchSize(1)\n  resource subnet 'subnets' = {\n    name: 'default'\n  }"
    );
    // `resource:` followed by a colon is an ordinary property.
    let ObjectMemberKind::Property { key, value } = &members[2].kind else {
        panic!()
    };
    assert_eq!(text(src, &key.span), "resource");
    assert_eq!(text(src, &value.span), "'not a declaration'");
}

#[test]
fn output_with_type_and_resource_output() {
    let src = "output id string = rt.id\noutput rtRes resource 'Microsoft.Network/routeTables@2023-04-01' = rt\n";
    let program = parse_ok(src);
    let StatementKind::Output(o) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(o.name.name, "id");
    assert_eq!(text(src, &o.ty.span), "string");
    assert_eq!(sexpr(&o.value), "rt.id");
    assert_eq!(text(src, &o.value.span), "rt.id");
    let StatementKind::Output(o) = &program.statements[1].kind else {
        panic!()
    };
    assert!(matches!(o.ty.kind, TypeExprKind::Resource(Some(_))));
    assert_eq!(text(src, &o.ty.span), "resource 'Microsoft.Network/routeTables@2023-04-01'");
}

#[test]
fn legacy_provider_import() {
    let src = "import 'az@1.0.0'\nimport 'kubernetes@1.0.0' with {\n  namespace: 'default'\n} as k8s\n";
    let program = parse_ok(src);
    let StatementKind::Import(ImportDecl::Provider {
        specification,
        config,
        alias,
    }) = &program.statements[0].kind
    else {
        panic!()
    };
    let ExtensionSpec::String(spec) = specification else { panic!() };
    assert_eq!(plain_string(spec), "az@1.0.0");
    assert!(config.is_none() && alias.is_none());
    let StatementKind::Import(ImportDecl::Provider { config, alias, .. }) = &program.statements[1].kind else {
        panic!()
    };
    assert_eq!(sexpr(config.as_ref().unwrap()), "{namespace: 'default'}");
    assert_eq!(text(src, &alias.as_ref().unwrap().span), "k8s");
}

#[test]
fn named_imports_with_alias_and_newlines() {
    let src = "import { subnetType, routeType as rt } from './types.bicep'\nimport {\n  a\n  'b-c' as bc\n} from 'br/public:avm/utl/types/avm-common-types:0.5.1'\n";
    let program = parse_ok(src);
    let StatementKind::Import(ImportDecl::Named { items, from }) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].name.literal_name().as_deref(), Some("subnetType"));
    assert!(items[0].alias.is_none());
    assert_eq!(text(src, &items[1].span), "routeType as rt");
    assert_eq!(items[1].alias.as_ref().unwrap().name, "rt");
    assert_eq!(text(src, &from.span), "'./types.bicep'");
    let StatementKind::Import(ImportDecl::Named { items, .. }) = &program.statements[1].kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);
    assert!(matches!(items[1].name.kind, PropertyKeyKind::String(_)));
    assert_eq!(text(src, &items[1].name.span), "'b-c'");
}

#[test]
fn wildcard_import() {
    let src = "import * as types from './types.bicep'\n";
    let stmt = single_statement(src);
    let StatementKind::Import(ImportDecl::Wildcard { alias, from }) = &stmt.kind else {
        panic!()
    };
    assert_eq!(alias.name, "types");
    assert_eq!(plain_string(from), "./types.bicep");
    assert_eq!(text(src, &stmt.span), src.trim_end());
}

#[test]
fn type_declaration_with_export_decorator() {
    let src = "@export()\n@description('A subnet')\ntype subnetType = {\n  name: string\n  prefix: string?\n}\n";
    let stmt = single_statement(src);
    assert_eq!(stmt.decorators.len(), 2);
    assert_eq!(stmt.decorators[0].name.name, "export");
    assert!(stmt.decorators[0].args.is_empty());
    assert_eq!(text(src, &stmt.decorators[1].span), "@description('A subnet')");
    assert_eq!(text(src, &stmt.span), src.trim_end());
    let StatementKind::Type(t) = &stmt.kind else { panic!() };
    assert_eq!(t.name.name, "subnetType");
    assert!(matches!(t.value.kind, TypeExprKind::Object(_)));
}

#[test]
fn func_declaration() {
    let src = "func buildName(prefix string, index int) string => '${prefix}-${index}'\n";
    let stmt = single_statement(src);
    let StatementKind::Func(f) = &stmt.kind else { panic!() };
    assert_eq!(f.name.name, "buildName");
    assert_eq!(f.params.len(), 2);
    assert_eq!(text(src, &f.params[0].span), "prefix string");
    assert_eq!(text(src, &f.params[1].ty.span), "int");
    assert_eq!(text(src, &f.return_type.span), "string");
    assert_eq!(sexpr(&f.body), "'${prefix}-${index}'");
    assert_eq!(text(src, &stmt.span), src.trim_end());
}

#[test]
fn func_declaration_with_body_on_next_line() {
    let src = "func f(a array) string =>\n  join(a, ',')\n\nvar x = 1\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 2);
    let StatementKind::Func(f) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(text(src, &f.body.span), "join(a, ',')");
}

#[test]
fn extension_and_provider_statements() {
    let src = "extension microsoftGraphV1\nextension 'br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:0.1.8-preview' as graph\nprovider kubernetes with {\n  kubeConfig: kubeConfig\n} as k8s\n";
    let program = parse_ok(src);
    let StatementKind::Extension(e) = &program.statements[0].kind else {
        panic!()
    };
    assert_eq!(e.keyword, ExtensionKeyword::Extension);
    let ExtensionSpec::Ident(name) = &e.specification else { panic!() };
    assert_eq!(name.name, "microsoftGraphV1");
    let StatementKind::Extension(e) = &program.statements[1].kind else {
        panic!()
    };
    assert!(matches!(e.specification, ExtensionSpec::String(_)));
    assert_eq!(e.alias.as_ref().unwrap().name, "graph");
    let StatementKind::Extension(e) = &program.statements[2].kind else {
        panic!()
    };
    assert_eq!(e.keyword, ExtensionKeyword::Provider);
    assert_eq!(sexpr(e.config.as_ref().unwrap()), "{kubeConfig: kubeConfig}");
    assert_eq!(
        text(src, &program.statements[2].span),
        "provider kubernetes with {\n  kubeConfig: kubeConfig\n} as k8s"
    );
}

#[test]
fn assert_declaration() {
    let src = "assert nameIsShort = length(name) < 24\n";
    let StatementKind::Assert(a) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(a.name.name, "nameIsShort");
    assert_eq!(sexpr(&a.value), "(length(name) < 24)");
}

#[test]
fn test_declaration() {
    let src = "test t1 './main.bicep' = {\n  params: {}\n}\n";
    let StatementKind::Test(t) = single_statement(src).kind else {
        panic!()
    };
    assert_eq!(t.name.name, "t1");
    assert_eq!(sexpr(&t.value), "{params: {}}");
}

#[test]
fn decorators_namespaced_and_with_arguments() {
    let src = "@sys.description('The SKU')\n@allowed([\n  'Standard'\n  'Premium'\n])\n@minValue(1)\n@metadata({\n  owner: 'net'\n})\n@secure()\nparam sku string\n";
    let stmt = single_statement(src);
    let names: Vec<&str> = stmt.decorators.iter().map(|d| d.name.name.as_str()).collect();
    assert_eq!(names, ["description", "allowed", "minValue", "metadata", "secure"]);
    assert_eq!(stmt.decorators[0].namespace.as_ref().unwrap().name, "sys");
    assert_eq!(text(src, &stmt.decorators[0].span), "@sys.description('The SKU')");
    assert_eq!(sexpr(&stmt.decorators[1].args[0]), "['Standard', 'Premium']");
    assert_eq!(stmt.decorators[2].args[0].kind, ExprKind::Integer(1));
    assert_eq!(text(src, &stmt.decorators[3].args[0].span), "{\n  owner: 'net'\n}");
    assert!(stmt.span.start == 0 && text(src, &stmt.span).ends_with("param sku string"));
}

#[test]
fn discriminator_and_sealed_decorators_on_type() {
    let src = "@discriminator('kind')\ntype u = aType | bType\n\n@sealed()\ntype s = {\n  a: int\n}\n";
    let program = parse_ok(src);
    assert_eq!(program.statements[0].decorators[0].name.name, "discriminator");
    assert_eq!(program.statements[1].decorators[0].name.name, "sealed");
}

#[test]
fn statements_separated_by_blank_lines_comments_and_crlf() {
    let src = "// header\r\n\r\n/* block\r\ncomment */ param a string // trailing\r\n#disable-next-line no-unused-vars\r\nvar b = a\r\n";
    let program = parse_ok(src);
    assert_eq!(program.statements.len(), 2);
    assert_eq!(text(src, &program.statements[0].span), "param a string");
    assert_eq!(text(src, &program.statements[1].span), "var b = a");
    assert_eq!(program.span, 0..src.len());
}

#[test]
fn empty_and_comment_only_files() {
    assert!(parse_ok("").statements.is_empty());
    assert!(parse_ok("\n\n// nothing\n/* here */\n").statements.is_empty());
    assert!(parse_ok("\u{feff}var x = 1").statements.len() == 1);
}

#[test]
fn statement_at_end_of_file_without_newline() {
    let src = "output o int = 1";
    let stmt = single_statement(src);
    assert_eq!(text(src, &stmt.span), src);
}
