//! Lowers a module's azurerm resources into route tables and NSGs.

use std::collections::BTreeMap;

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::Span;

use super::eval::{snippet, Evaluator, Scope};
use super::fields::{eval_or_unknown, Fields};
use super::{header_span, reference_to, HclFile, TfModule};
use crate::ingest::value::Val;
use crate::model::{
    Access, AddressMatch, Authoring, Dialect, Direction, Field, Model, NextHopType, Nsg, PortRange, Protocol, Route, RoutePrefix,
    RouteStyle, RouteTable, SecurityRule, Unresolved,
};
use crate::source::Origin;

/// One instance of a resource block: its address and the names `count` or
/// `for_each` bind.
struct Instance {
    address: String,
    /// The instance key, to match references like `azurerm_route_table.x["a"]`.
    key: Option<Val>,
    scope: Scope,
    conditional: Option<Unresolved>,
}

struct ResourceBlock<'a> {
    ty: &'a str,
    name: &'a str,
    block: &'a Block,
    file: &'a HclFile,
}

pub fn lower(ev: &Evaluator, module: &TfModule) -> Model {
    let mut resources: Vec<ResourceBlock> = Vec::new();
    for f in &module.files {
        for block in f.body.get_blocks("resource") {
            if let [ty, name] = block.labels.as_slice() {
                resources.push(ResourceBlock {
                    ty: ty.as_str(),
                    name: name.as_str(),
                    block,
                    file: f,
                });
            }
        }
    }

    let mut model = Model::default();
    // Route tables and NSGs first, keyed by resource name, so that separately
    // declared routes and rules can find them.
    let mut tables_by_name: BTreeMap<&str, Vec<(usize, Option<Val>)>> = BTreeMap::new();
    let mut nsgs_by_name: BTreeMap<&str, Vec<(usize, Option<Val>)>> = BTreeMap::new();
    // Where a separate route resource goes: after the table's own block.
    let mut after_table: Vec<Origin> = Vec::new();
    for r in &resources {
        match r.ty {
            "azurerm_route_table" => {
                for inst in instances(ev, r) {
                    tables_by_name
                        .entry(r.name)
                        .or_default()
                        .push((model.route_tables.len(), inst.key.clone()));
                    model.route_tables.push(route_table(ev, r, inst));
                    let end = line_after(&r.file.text, r.block.span().map(|s| s.end).unwrap_or(0));
                    after_table.push(Origin::new(r.file.file, end..end));
                }
            }
            "azurerm_network_security_group" => {
                for inst in instances(ev, r) {
                    nsgs_by_name.entry(r.name).or_default().push((model.nsgs.len(), inst.key.clone()));
                    model.nsgs.push(nsg(ev, r, inst));
                }
            }
            _ => {}
        }
    }

    for r in &resources {
        match r.ty {
            "azurerm_route" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let route = Route {
                        resource: Some(inst.address.clone()),
                        ..lower_route(&fields)
                    };
                    let target = resolve_parent(ev, r, &inst, "route_table_name", "azurerm_route_table", &tables_by_name, |i| {
                        model.route_tables.get(i).map(|t| &t.name)
                    });
                    match target {
                        Parent::Found(indices) => {
                            for i in indices {
                                if let Some(t) = model.route_tables.get_mut(i) {
                                    t.routes.push(route.clone());
                                }
                            }
                        }
                        Parent::Unknown(why) => {
                            // The route might belong to any table of the module.
                            for t in &mut model.route_tables {
                                t.incomplete.push(why.clone());
                            }
                        }
                        Parent::Elsewhere => {}
                    }
                }
            }
            "azurerm_network_security_rule" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let rule = SecurityRule {
                        resource: Some(inst.address.clone()),
                        ..lower_rule(&fields)
                    };
                    let target = resolve_parent(
                        ev,
                        r,
                        &inst,
                        "network_security_group_name",
                        "azurerm_network_security_group",
                        &nsgs_by_name,
                        |i| model.nsgs.get(i).map(|n| &n.name),
                    );
                    match target {
                        Parent::Found(indices) => {
                            for i in indices {
                                if let Some(n) = model.nsgs.get_mut(i) {
                                    n.rules.push(rule.clone());
                                }
                            }
                        }
                        Parent::Unknown(why) => {
                            for n in &mut model.nsgs {
                                n.incomplete.push(why.clone());
                            }
                        }
                        Parent::Elsewhere => {}
                    }
                }
            }
            _ => {}
        }
    }

    // A table whose routes are all separate resources gets its fix as one too.
    for (t, after) in model.route_tables.iter_mut().zip(after_table) {
        if t.authoring.style == RouteStyle::Inline && !t.routes.is_empty() && t.routes.iter().all(|r| r.resource.is_some()) {
            t.authoring.style = RouteStyle::Separate;
            t.authoring.insert_at = Some(after);
        }
    }
    model
}

enum Parent {
    Found(Vec<usize>),
    Unknown(Unresolved),
    /// The parent is not in the scanned code.
    Elsewhere,
}

/// Finds the table (or NSG) a separately declared route (or rule) belongs to:
/// by reference (`azurerm_route_table.hub.name`) or by a literal name.
#[allow(clippy::too_many_arguments)]
fn resolve_parent<'m>(
    ev: &Evaluator,
    r: &ResourceBlock,
    inst: &Instance,
    attr: &str,
    parent_type: &str,
    by_name: &BTreeMap<&str, Vec<(usize, Option<Val>)>>,
    name_of: impl Fn(usize) -> Option<&'m Field<String>>,
) -> Parent {
    let Some(a) = r.block.body.get_attribute(attr) else {
        return Parent::Elsewhere;
    };
    let text = &r.file.text;
    let origin = Origin::new(r.file.file, a.value.span().unwrap_or(0..0));
    if let Some((name, index)) = reference_to(&a.value, parent_type, "name") {
        let Some(candidates) = by_name.get(name.as_str()) else {
            return Parent::Elsewhere;
        };
        return match index {
            None => Parent::Found(candidates.iter().map(|(i, _)| *i).collect()),
            Some(index_expr) => match eval_or_unknown(ev, index_expr, text, &inst.scope) {
                Val::Unknown(reason) => Parent::Unknown(Unresolved {
                    reason: format!(
                        "{} belongs to {}, whose instance is unknown: {reason}",
                        inst.address,
                        snippet(text, &a.value)
                    ),
                    origin,
                }),
                key => {
                    let key_str = key.to_tf_string();
                    Parent::Found(
                        candidates
                            .iter()
                            .filter(|(_, k)| k.as_ref().and_then(Val::to_tf_string) == key_str)
                            .map(|(i, _)| *i)
                            .collect(),
                    )
                }
            },
        };
    }
    match eval_or_unknown(ev, &a.value, text, &inst.scope) {
        Val::String(name) => {
            let found: Vec<usize> = by_name
                .values()
                .flatten()
                .map(|(i, _)| *i)
                .filter(|i| name_of(*i).and_then(Field::known) == Some(&name))
                .collect();
            if found.is_empty() {
                Parent::Elsewhere
            } else {
                Parent::Found(found)
            }
        }
        Val::Unknown(reason) => Parent::Unknown(Unresolved {
            reason: format!(
                "{} may belong to this {}: its {attr} is unknown ({reason})",
                inst.address,
                parent_type.trim_start_matches("azurerm_").replace('_', " ")
            ),
            origin,
        }),
        _ => Parent::Elsewhere,
    }
}

/// Expands `count` and `for_each` into instances.
fn instances(ev: &Evaluator, r: &ResourceBlock) -> Vec<Instance> {
    let base = format!("{}.{}", r.ty, r.name);
    let text = &r.file.text;
    let single = |conditional: Option<Unresolved>, scope: Scope| {
        vec![Instance {
            address: base.clone(),
            key: None,
            scope,
            conditional,
        }]
    };
    if let Some(count) = r.block.body.get_attribute("count") {
        let origin = Origin::new(r.file.file, count.value.span().unwrap_or(0..0));
        return match eval_or_unknown(ev, &count.value, text, &Scope::default()) {
            Val::Number(n) if n >= 0.0 && n.fract() == 0.0 => (0..n as usize)
                .map(|i| Instance {
                    address: format!("{base}[{i}]"),
                    key: Some(Val::Number(i as f64)),
                    scope: Scope::default().with(
                        "count",
                        Val::Object([("index".to_string(), Val::Number(i as f64))].into_iter().collect()),
                    ),
                    conditional: None,
                })
                .collect(),
            Val::Unknown(reason) => {
                let why = format!("count = {} is unknown ({reason})", snippet(text, &count.value));
                let index = Val::Object([("index".to_string(), Val::unknown(why.clone()))].into_iter().collect());
                single(Some(Unresolved { reason: why, origin }), Scope::default().with("count", index))
            }
            other => single(
                Some(Unresolved {
                    reason: format!("count = {} is {other}, not a whole number", snippet(text, &count.value)),
                    origin,
                }),
                Scope::default(),
            ),
        };
    }
    if let Some(fe) = r.block.body.get_attribute("for_each") {
        let origin = Origin::new(r.file.file, fe.value.span().unwrap_or(0..0));
        let each = |k: Val, v: Val| Val::Object([("key".to_string(), k), ("value".to_string(), v)].into_iter().collect());
        let keyed = |key: String, value: Val| Instance {
            address: format!("{base}[{key:?}]"),
            key: Some(Val::String(key.clone())),
            scope: Scope::default().with("each", each(Val::String(key), value)),
            conditional: None,
        };
        return match eval_or_unknown(ev, &fe.value, text, &Scope::default()) {
            Val::Object(o) => o.into_iter().map(|(k, v)| keyed(k, v)).collect(),
            Val::List(l) if l.iter().all(|v| matches!(v, Val::String(_))) => l
                .into_iter()
                .filter_map(|v| v.to_tf_string())
                .map(|k| keyed(k.clone(), Val::String(k)))
                .collect(),
            v => {
                let reason = v
                    .first_unknown()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| format!("it is a {}", v.type_name()));
                single(
                    Some(Unresolved {
                        reason: format!("for_each = {} is unknown ({reason})", snippet(text, &fe.value)),
                        origin,
                    }),
                    Scope::default().with(
                        "each",
                        Val::unknown(format!(
                            "each is unknown because for_each = {} is unknown",
                            snippet(text, &fe.value)
                        )),
                    ),
                )
            }
        };
    }
    single(None, Scope::default())
}

fn resource_fields(ev: &Evaluator, r: &ResourceBlock, inst: &Instance) -> Fields {
    let origin = Origin::new(r.file.file, header_span(r.block));
    Fields::from_body(ev, &r.block.body, &r.file.text, r.file.file, &inst.scope, origin)
}

/// The blocks named `ident` in `body`, static and `dynamic`, each with the
/// scope its content evaluates in; unknown `for_each` collections are returned
/// as reasons the list is incomplete.
fn nested_blocks<'b>(
    ev: &Evaluator,
    body: &'b Body,
    ident: &str,
    file: &HclFile,
    scope: &Scope,
) -> (Vec<(&'b Body, Scope, Origin)>, Vec<Unresolved>) {
    let mut out = Vec::new();
    let mut incomplete = Vec::new();
    for s in body.iter() {
        let Structure::Block(b) = s else { continue };
        let span = b.span().unwrap_or(0..0);
        if b.ident.as_str() == ident {
            out.push((&b.body, scope.clone(), Origin::new(file.file, span)));
            continue;
        }
        if b.ident.as_str() != "dynamic" || b.labels.first().map(|l| l.as_str()) != Some(ident) {
            continue;
        }
        let Some(content) = b.body.get_blocks("content").next() else {
            continue;
        };
        let iterator = b
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(v) => Some(v.as_str().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| ident.to_string());
        let Some(fe) = b.body.get_attribute("for_each") else { continue };
        let origin = Origin::new(file.file, fe.value.span().unwrap_or(span.clone()));
        let items: Vec<(Val, Val)> = match eval_or_unknown(ev, &fe.value, &file.text, scope) {
            Val::List(l) => l.into_iter().enumerate().map(|(i, v)| (Val::Number(i as f64), v)).collect(),
            Val::Object(o) => o.into_iter().map(|(k, v)| (Val::String(k), v)).collect(),
            Val::Null => Vec::new(),
            Val::Unknown(reason) => {
                incomplete.push(Unresolved {
                    reason: format!(
                        "dynamic \"{ident}\" iterates over {}, which is unknown: {reason}",
                        snippet(&file.text, &fe.value)
                    ),
                    origin,
                });
                continue;
            }
            other => {
                incomplete.push(Unresolved {
                    reason: format!("dynamic \"{ident}\" iterates over a {}, not a collection", other.type_name()),
                    origin,
                });
                continue;
            }
        };
        let content_origin = Origin::new(file.file, content.span().unwrap_or(span.clone()));
        for (k, v) in items {
            // Sets iterate with key = value.
            let key = if matches!(k, Val::Number(_)) && matches!(v, Val::String(_)) && is_set_like(&fe.value) {
                v.clone()
            } else {
                k
            };
            let it = Val::Object([("key".to_string(), key), ("value".to_string(), v)].into_iter().collect());
            out.push((&content.body, scope.with(iterator.clone(), it), content_origin.clone()));
        }
    }
    (out, incomplete)
}

/// `toset(...)` in a `for_each` makes element keys equal to their values.
fn is_set_like(expr: &Expression) -> bool {
    matches!(expr, Expression::FuncCall(c) if c.name.name.as_str() == "toset")
}

/// Entries of an attribute-form list (`route = [ { … } ]`), each as fields.
fn attribute_list(ev: &Evaluator, body: &Body, key: &str, file: &HclFile, scope: &Scope) -> (Vec<Fields>, Vec<Unresolved>) {
    let Some(attr) = body.get_attribute(key) else {
        return (Vec::new(), Vec::new());
    };
    let origin = Origin::new(file.file, attr.value.span().unwrap_or(0..0));
    if let Expression::Array(items) = &attr.value {
        return (
            items
                .iter()
                .map(|e| Fields::from_expr(ev, e, &file.text, file.file, scope))
                .collect(),
            Vec::new(),
        );
    }
    match eval_or_unknown(ev, &attr.value, &file.text, scope) {
        Val::List(l) => (l.into_iter().map(|v| Fields::from_value(v, origin.clone())).collect(), Vec::new()),
        Val::Null => (Vec::new(), Vec::new()),
        Val::Unknown(reason) => (
            Vec::new(),
            vec![Unresolved {
                reason: format!("{key} = {} is unknown: {reason}", snippet(&file.text, &attr.value)),
                origin,
            }],
        ),
        other => (
            Vec::new(),
            vec![Unresolved {
                reason: format!("{key} is a {}, not a list", other.type_name()),
                origin,
            }],
        ),
    }
}

fn route_table(ev: &Evaluator, r: &ResourceBlock, inst: Instance) -> RouteTable {
    let fields = resource_fields(ev, r, &inst);
    let (blocks, mut incomplete) = nested_blocks(ev, &r.block.body, "route", r.file, &inst.scope);
    let mut routes: Vec<Route> = blocks
        .iter()
        .map(|(body, scope, origin)| lower_route(&Fields::from_body(ev, body, &r.file.text, r.file.file, scope, origin.clone())))
        .collect();
    let (listed, more_incomplete) = attribute_list(ev, &r.block.body, "route", r.file, &inst.scope);
    let style = if r.block.body.get_attribute("route").is_some() {
        RouteStyle::AttributeList
    } else {
        RouteStyle::Inline
    };
    routes.extend(listed.iter().map(lower_route));
    incomplete.extend(more_incomplete);

    // `disable_bgp_route_propagation` (azurerm ≤ 3) and `bgp_route_propagation_enabled` (azurerm 4).
    let propagate = match (
        fields.bool("bgp_route_propagation_enabled"),
        fields.bool("disable_bgp_route_propagation"),
    ) {
        (Some(f), _) => f,
        (None, Some(Field::Known(d, o))) => Field::Known(!d, o),
        (None, Some(u)) => u,
        (None, None) => Field::Known(true, fields.origin.clone()),
    };

    let text = &r.file.text;
    let indent = match blocks.first() {
        Some((_, _, o)) => indent_at(text, o.span.start),
        None => match r.block.body.get_attribute("route").and_then(|a| a.span()) {
            Some(s) => indent_at(text, s.start),
            None => indent_at(text, header_span(r.block).start) + "  ",
        },
    };
    // New routes go after the last route block, or before the closing
    // bracket of the attribute list, or before the table's closing brace.
    let block_span = r.block.span().unwrap_or(0..0);
    let insert_at = match (blocks.last(), r.block.body.get_attribute("route").and_then(|a| a.value.span())) {
        (Some((_, _, o)), _) => line_after(text, o.span.end),
        (None, Some(list)) => line_start(text, list.end.saturating_sub(1)),
        (None, None) => line_start(text, block_span.end.saturating_sub(1)),
    };
    RouteTable {
        address: inst.address,
        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
        origin: fields.origin.clone(),
        routes,
        incomplete,
        propagate_gateway_routes: propagate,
        conditional: inst.conditional,
        authoring: Authoring {
            dialect: Dialect::Terraform,
            style,
            indent,
            reference: format!("{}.{}", r.ty, r.name),
            insert_at: Some(Origin::new(r.file.file, insert_at..insert_at)),
        },
    }
}

fn lower_route(f: &Fields) -> Route {
    Route {
        name: f.string("name").unwrap_or_else(|| missing(f, "name")),
        address_prefix: f
            .parsed(
                "address_prefix",
                |s| match crate::model::parse_prefix(s) {
                    Some(n) => Some(RoutePrefix::Net(n)),
                    None if crate::model::is_service_tag_name(s) => Some(RoutePrefix::ServiceTag(s.to_string())),
                    None => None,
                },
                "an address prefix or a service tag",
            )
            .unwrap_or_else(|| missing(f, "address_prefix")),
        next_hop_type: f
            .parsed(
                "next_hop_type",
                NextHopType::parse,
                "a next hop type (VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, None)",
            )
            .unwrap_or_else(|| missing(f, "next_hop_type")),
        next_hop_ip: f.string("next_hop_in_ip_address"),
        origin: f.origin.clone(),
        resource: None,
    }
}

fn nsg(ev: &Evaluator, r: &ResourceBlock, inst: Instance) -> Nsg {
    let fields = resource_fields(ev, r, &inst);
    let (blocks, mut incomplete) = nested_blocks(ev, &r.block.body, "security_rule", r.file, &inst.scope);
    let mut rules: Vec<SecurityRule> = blocks
        .iter()
        .map(|(body, scope, origin)| lower_rule(&Fields::from_body(ev, body, &r.file.text, r.file.file, scope, origin.clone())))
        .collect();
    let (listed, more_incomplete) = attribute_list(ev, &r.block.body, "security_rule", r.file, &inst.scope);
    rules.extend(listed.iter().map(lower_rule));
    incomplete.extend(more_incomplete);
    Nsg {
        address: inst.address,
        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
        origin: fields.origin.clone(),
        rules,
        incomplete,
        conditional: inst.conditional,
        dialect: Dialect::Terraform,
    }
}

fn lower_rule(f: &Fields) -> SecurityRule {
    let addresses = |single: &str, plural: &str, asgs: &str| {
        let mut v = f.list(single, AddressMatch::parse, "an address prefix or service tag");
        v.extend(f.list(plural, AddressMatch::parse, "an address prefix or service tag"));
        v.extend(f.list(
            asgs,
            |s| Some(AddressMatch::ApplicationSecurityGroup(s.to_string())),
            "an application security group id",
        ));
        v
    };
    let mut ports = f.list("destination_port_range", PortRange::parse, "a port or port range");
    ports.extend(f.list("destination_port_ranges", PortRange::parse, "a port or port range"));
    SecurityRule {
        name: f.string("name").unwrap_or_else(|| missing(f, "name")),
        priority: f
            .parsed(
                "priority",
                |s| s.parse::<f64>().ok().filter(|p| p.fract() == 0.0 && *p >= 0.0).map(|p| p as u32),
                "a whole number",
            )
            .unwrap_or_else(|| missing(f, "priority")),
        direction: f
            .parsed(
                "direction",
                |s| match s.to_ascii_lowercase().as_str() {
                    "inbound" => Some(Direction::Inbound),
                    "outbound" => Some(Direction::Outbound),
                    _ => None,
                },
                "Inbound or Outbound",
            )
            .unwrap_or_else(|| missing(f, "direction")),
        access: f
            .parsed(
                "access",
                |s| match s.to_ascii_lowercase().as_str() {
                    "allow" => Some(Access::Allow),
                    "deny" => Some(Access::Deny),
                    _ => None,
                },
                "Allow or Deny",
            )
            .unwrap_or_else(|| missing(f, "access")),
        protocol: f
            .parsed("protocol", Protocol::parse, "a protocol")
            .unwrap_or_else(|| missing(f, "protocol")),
        sources: addresses(
            "source_address_prefix",
            "source_address_prefixes",
            "source_application_security_group_ids",
        ),
        destinations: addresses(
            "destination_address_prefix",
            "destination_address_prefixes",
            "destination_application_security_group_ids",
        ),
        destination_ports: ports,
        origin: f.origin.clone(),
        resource: None,
    }
}

fn missing<T>(f: &Fields, key: &str) -> Field<T> {
    Field::Unknown(Unresolved {
        reason: format!("{key} is not set"),
        origin: f.origin.clone(),
    })
}

/// The leading white space of the line holding `offset`.
fn indent_at(text: &str, offset: usize) -> String {
    let start = text.get(..offset).and_then(|t| t.rfind('\n')).map(|i| i + 1).unwrap_or(0);
    text.get(start..)
        .unwrap_or("")
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// The start of the line holding `offset`.
fn line_start(text: &str, offset: usize) -> usize {
    text.get(..offset).and_then(|t| t.rfind('\n')).map(|i| i + 1).unwrap_or(0)
}

/// The start of the line after the one holding `offset`.
fn line_after(text: &str, offset: usize) -> usize {
    text.get(offset..)
        .and_then(|t| t.find('\n'))
        .map(|i| offset + i + 1)
        .unwrap_or(text.len())
}
