//! `azapi_resource` and `azapi_update_resource` of the network types
//! kmsguard models, lowered through the REST-shape lowering shared with
//! Bicep and ARM; routes and rules declared as their own resources join
//! their parent (`parent_id`) once every resource is known.

use hcl::edit::expr::Expression;
use hcl::edit::Span;

use super::expand::{instances, resource_fields};
use super::links::{link_attr, links_to};
use super::{name, Instance, Lowering, ResourceBlock};
use crate::ingest::azure::{self, Node};
use crate::ingest::terraform::eval::{Evaluator, Scope};
use crate::ingest::terraform::fields::eval_or_unknown;
use crate::ingest::terraform::{header_span, HclFile};
use crate::ingest::value::Val;
use crate::model::{
    Authoring, Dialect, Field, Link, Model, Nsg, ResourceId, Route, RouteStyle, RouteTable, SecurityRule, Unresolved, VirtualNetwork,
};
use crate::source::{indent_at, Origin};

/// A route or NSG rule resource and its parent: (parent, is a route, the
/// child lowered as a route, as a rule).
pub(super) type Child = (Link, bool, Route, SecurityRule);

pub(super) fn resource<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        azapi(ev, r, inst, &mut l.model, &mut l.azapi_children);
    }
}

pub(super) fn attach_children(model: &mut Model, children: Vec<Child>) {
    for (parent, is_route, route, rule) in children {
        // By address, or by id: name, and resource group where both say it.
        // Two parents the id cannot tell apart are never merged.
        let group = match &parent {
            Link::Id(Field::Known(id, _)) => ResourceId::parse(id).resource_group,
            _ => None,
        };
        let fits = |address: &str, name: &Field<String>, rg: &Option<String>| {
            links_to(&parent, address, name)
                && match (&group, rg) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                }
        };
        let why = |what: &str| Unresolved {
            reason: format!(
                "{} may belong to this {what}: its parent_id names more than one",
                route.resource.as_deref().unwrap_or("an azapi child")
            ),
            origin: parent.origin().clone(),
        };
        if is_route {
            let found: Vec<usize> = (0..model.route_tables.len())
                .filter(|i| {
                    model
                        .route_tables
                        .get(*i)
                        .is_some_and(|t| fits(&t.address, &t.name, &t.resource_group))
                })
                .collect();
            let several = found.len() > 1 && matches!(parent, Link::Id(_));
            for (_, t) in model.route_tables.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                if several {
                    t.incomplete.push(why("route table"));
                } else {
                    t.routes.push(route.clone());
                }
            }
        } else {
            let found: Vec<usize> = (0..model.nsgs.len())
                .filter(|i| model.nsgs.get(*i).is_some_and(|n| fits(&n.address, &n.name, &n.resource_group)))
                .collect();
            let several = found.len() > 1 && matches!(parent, Link::Id(_));
            for (_, n) in model.nsgs.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                if several {
                    n.incomplete.push(why("NSG"));
                } else {
                    n.rules.push(rule.clone());
                }
            }
        }
    }
}

/// `azapi_resource` of the network types kmsguard models, with `body` as an
/// HCL object or `jsonencode(…)` (Azure Verified Modules use both).
fn azapi(ev: &Evaluator, r: &ResourceBlock, inst: Instance, model: &mut Model, children: &mut Vec<Child>) {
    let fields = resource_fields(ev, r, &inst);
    let Some(Field::Known(ty, _)) = fields.string("type") else { return };
    let ty = ty.split('@').next().unwrap_or_default().to_ascii_lowercase();
    let origin = fields.origin.clone();
    // The body: an object written out (each property keeps its line), an
    // evaluated object, or a JSON string from jsonencode().
    if let Some(attr) = r
        .block
        .body
        .get_attribute("body")
        .filter(|a| matches!(a.value, Expression::Object(_)))
    {
        let mut body = hcl_node(ev, &attr.value, r.file, &inst.scope, 0);
        let name = name(&fields);
        if let (crate::ingest::azure::NodeKind::Object(props), Some(n)) = (&mut body.kind, name.known()) {
            if !props.iter().any(|(k, _)| k == "name") {
                props.push(("name".into(), Node::value(Val::String(n.clone()), origin.clone())));
            }
        }
        return azapi_lower(ev, r, inst, model, children, body, name, origin, &ty);
    }
    let body_val = match fields.present("body").map(|(v, _)| v.clone()) {
        Some(Val::String(s)) => serde_json::from_str::<serde_json::Value>(&s)
            .map(|j| crate::ingest::value::from_json(&j))
            .unwrap_or_else(|_| Val::unknown("the azapi body is not valid JSON")),
        Some(v) => v,
        None => Val::Null,
    };
    let body_origin = fields.present("body").map(|(_, o)| o.clone()).unwrap_or_else(|| origin.clone());
    let name = name(&fields);
    let mut body = Node::value(body_val, body_origin);
    if let crate::ingest::azure::NodeKind::Value(Val::Object(o)) = &mut body.kind {
        if let Some(n) = name.known() {
            o.entry("name".to_string()).or_insert(Val::String(n.clone()));
        }
    }
    azapi_lower(ev, r, inst, model, children, body, name, origin, &ty);
}

#[allow(clippy::too_many_arguments)]
fn azapi_lower(
    ev: &Evaluator,
    r: &ResourceBlock,
    inst: Instance,
    model: &mut Model,
    children: &mut Vec<Child>,
    body: Node,
    name: Field<String>,
    origin: Origin,
    ty: &str,
) {
    let parent = link_attr(ev, r, &inst, "parent_id", "azapi_resource");
    let resource = azure::Resource {
        address: inst.address.clone(),
        name: name.clone(),
        body: body.clone(),
        origin: origin.clone(),
        conditional: inst.conditional.clone(),
        dialect: Dialect::Terraform,
        authoring: Authoring {
            dialect: Dialect::Terraform,
            style: RouteStyle::AzapiBody,
            indent: indent_at(&r.file.text, header_span(r.block).start) + "      ",
            reference: format!("{}.{}", r.ty, r.name),
            insert_at: None,
        },
    };
    // A literal parent id names the resource group.
    let group = match &parent {
        Some(Link::Id(Field::Known(id, _))) => ResourceId::parse(id).resource_group,
        _ => None,
    };
    match ty {
        "microsoft.network/routetables" => model.route_tables.push(RouteTable {
            resource_group: group,
            ..azure::route_table(resource)
        }),
        "microsoft.network/networksecuritygroups" => model.nsgs.push(Nsg {
            resource_group: group,
            ..azure::nsg(resource)
        }),
        "microsoft.network/routetables/routes" | "microsoft.network/networksecuritygroups/securityrules" => {
            if let Some(p) = parent {
                let is_route = ty.ends_with("routes");
                children.push((
                    p,
                    is_route,
                    azure::route(&body, Some(inst.address.clone())),
                    azure::security_rule(&body, Some(inst.address)),
                ));
            }
        }
        "microsoft.network/virtualnetworks/subnets" => model.subnets.push(azure::subnet(&body, inst.address, parent)),
        "microsoft.network/virtualnetworks" => {
            model.subnets.extend(azure::vnet_subnets(&body, &inst.address));
            model.peerings.extend(azure::vnet_peerings(&body, &inst.address));
            model.vnets.push(VirtualNetwork {
                resource_group: group,
                ..azure::vnet(inst.address, name, origin)
            });
        }
        "microsoft.network/virtualnetworks/virtualnetworkpeerings" => model.peerings.push(azure::peering(&body, inst.address, parent)),
        _ => {}
    }
}

/// An HCL expression as a [`Node`]: object and tuple literals keep a place
/// per element; anything else is evaluated.
pub(in crate::ingest::terraform) fn hcl_node(ev: &Evaluator, expr: &Expression, file: &HclFile, scope: &Scope, depth: usize) -> Node {
    let origin = Origin::new(file.file, expr.span().unwrap_or(0..0));
    if depth > 64 {
        return Node::value(Val::unknown("the body nests too deeply to evaluate"), origin);
    }
    match expr {
        Expression::Object(obj) => {
            let mut props = Vec::new();
            for (k, v) in obj.iter() {
                let key = match k {
                    hcl::edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                    hcl::edit::expr::ObjectKey::Expression(e) => match eval_or_unknown(ev, e, &file.text, scope) {
                        Val::String(s) => s,
                        _ => continue,
                    },
                };
                props.push((key, hcl_node(ev, v.expr(), file, scope, depth + 1)));
            }
            Node {
                kind: crate::ingest::azure::NodeKind::Object(props),
                origin,
            }
        }
        Expression::Array(items) => Node {
            kind: crate::ingest::azure::NodeKind::List(items.iter().map(|e| hcl_node(ev, e, file, scope, depth + 1)).collect()),
            origin,
        },
        _ => Node::value(eval_or_unknown(ev, expr, &file.text, scope), origin),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::model::RouteStyle;

    #[test]
    fn a_route_table_with_an_hcl_body_and_a_child_route() {
        let text = r#"resource "azapi_resource" "rt" {
  type      = "Microsoft.Network/routeTables@2023-09-01"
  name      = "rt-azapi"
  parent_id = azapi_resource.rg.id
  body = {
    properties = {
      routes = [
        {
          name = "default"
          properties = { addressPrefix = "0.0.0.0/0", nextHopType = "VirtualAppliance", nextHopIpAddress = "10.0.0.4" }
        }
      ]
    }
  }
}
resource "azapi_resource" "kms" {
  type      = "Microsoft.Network/routeTables/routes@2023-09-01"
  name      = "kms"
  parent_id = azapi_resource.rt.id
  body = {
    properties = { addressPrefix = "20.118.99.224/32", nextHopType = "Internet" }
  }
}
"#;
        let m = lower_tf(text);
        let [t] = m.route_tables.as_slice() else {
            panic!("one table: {:?}", m.route_tables)
        };
        assert_eq!(t.address, "azapi_resource.rt");
        assert_eq!(show(&t.name), "rt-azapi");
        assert_eq!(routes(t), ["default 0.0.0.0/0 VirtualAppliance", "kms 20.118.99.224/32 Internet"]);
        assert_eq!(t.routes[1].resource.as_deref(), Some("azapi_resource.kms"));
        assert_eq!(t.authoring.style, RouteStyle::AzapiBody);
        assert_eq!(t.authoring.indent, "      ");
    }

    #[test]
    fn an_nsg_with_a_jsonencode_body_and_subnets_of_a_vnet() {
        let text = r#"resource "azapi_resource" "nsg" {
  type = "Microsoft.Network/networkSecurityGroups@2023-09-01"
  name = "nsg-azapi"
  body = jsonencode({
    properties = {
      securityRules = [{
        name = "deny-kms"
        properties = {
          priority = 100, direction = "Outbound", access = "Deny", protocol = "Tcp",
          sourceAddressPrefix = "*", destinationAddressPrefix = "AzurePlatformLKM", destinationPortRange = "1688"
        }
      }]
    }
  })
}
resource "azapi_resource" "vnet" {
  type = "Microsoft.Network/virtualNetworks@2023-09-01"
  name = "vnet"
  body = {
    properties = {
      subnets = [{ name = "snet-a", properties = { addressPrefix = "10.0.0.0/24" } }]
    }
  }
}
resource "azapi_resource" "other" {
  type = "Microsoft.Storage/storageAccounts@2023-01-01"
  name = "st"
}
"#;
        let m = lower_tf(text);
        let [n] = m.nsgs.as_slice() else { panic!("one NSG") };
        assert_eq!(show(&n.name), "nsg-azapi");
        assert_eq!(n.rules.iter().map(|r| show(&r.name)).collect::<Vec<_>>(), ["deny-kms"]);
        assert_eq!(n.rules[0].destinations.iter().map(show).collect::<Vec<_>>(), ["AzurePlatformLKM"]);
        assert_eq!(m.subnets.iter().map(|s| show(&s.name)).collect::<Vec<_>>(), ["snet-a"]);
        assert!(m.route_tables.is_empty());
    }

    #[test]
    fn an_azapi_route_joins_the_table_of_its_resource_group_only() {
        let table = |key: &str, rg: &str| {
            format!(
                r#"resource "azapi_resource" "{key}" {{
  type      = "Microsoft.Network/routeTables@2023-09-01"
  name      = "rt-spoke"
  parent_id = "/subscriptions/s/resourceGroups/{rg}"
  body      = {{ properties = {{ routes = [] }} }}
}}
"#
            )
        };
        let route = |rg: &str| {
            format!(
                r#"resource "azapi_resource" "kms_{rg}" {{
  type      = "Microsoft.Network/routeTables/routes@2023-09-01"
  name      = "kms"
  parent_id = "/subscriptions/s/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/rt-spoke"
  body      = {{ properties = {{ addressPrefix = "20.118.99.224/32", nextHopType = "Internet" }} }}
}}
"#
            )
        };
        let m = lower_tf(&(table("hub", "rg-hub") + &table("net", "rg-net") + &route("rg-hub")));
        let counts: Vec<usize> = m.route_tables.iter().map(|t| t.routes.len()).collect();
        assert_eq!(counts, [1, 0]);
        // A parent id without a resource group cannot tell them apart: neither gets it.
        let m = lower_tf(&(table("hub", "rg-hub") + &table("net", "rg-net") + &route("rg-hub").replace("/resourceGroups/rg-hub", "")));
        assert!(
            m.route_tables.iter().all(|t| t.routes.is_empty() && t.incomplete.len() == 1),
            "{:?}",
            m.route_tables
        );
    }
}
