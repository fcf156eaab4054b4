//! `azurerm_route_table` with its `route` blocks (static, `dynamic` or the
//! attribute-form list), and `azurerm_route` resources attached to their
//! table by name.

use hcl::edit::Span;

use super::expand::{attribute_list, instances, nested_blocks, resource_fields};
use super::links::{firewall_ref, resolve_parent};
use super::{known_string, missing, name, Lowering, ResourceBlock};
use crate::ingest::terraform::eval::Evaluator;
use crate::ingest::terraform::fields::Fields;
use crate::ingest::terraform::header_span;
use crate::model::{Authoring, Dialect, Field, Model, NextHopType, Orphan, OrphanChild, Route, RoutePrefix, RouteStyle, RouteTable};
use crate::source::{indent_at, line_after, line_start, Origin};

pub(super) fn table<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    // New routes follow the written-out `route` blocks; a dynamic block's
    // content is no place for them (its collection is: fix). The same for
    // every instance.
    let written: Vec<std::ops::Range<usize>> = r.block.body.get_blocks("route").filter_map(|b| b.span()).collect();
    let authoring = authoring(r, written.first().cloned(), written.last().cloned());
    for inst in instances(ev, r) {
        l.tables_by_name
            .entry(r.name)
            .or_default()
            .push((l.model.route_tables.len(), inst.key.clone()));
        let fields = resource_fields(ev, r, &inst);
        let (blocks, mut incomplete) = nested_blocks(ev, &r.block.body, "route", r.file, &inst.scope);
        let mut routes: Vec<Route> = blocks
            .iter()
            .map(|(body, scope, origin)| Route {
                next_hop_firewall: body
                    .get_attribute("next_hop_in_ip_address")
                    .and_then(|a| firewall_ref(&a.value, r.file)),
                ..lower_route(&Fields::from_body(ev, body, &r.file.text, r.file.file, scope, origin.clone()))
            })
            .collect();
        let (listed, more_incomplete) = attribute_list(ev, &r.block.body, "route", r.file, &inst.scope);
        routes.extend(listed.iter().map(lower_route));
        incomplete.extend(more_incomplete);
        l.model.route_tables.push(RouteTable {
            routes,
            incomplete,
            conditional: inst.conditional,
            resource_group: known_string(&fields, "resource_group_name"),
            ..RouteTable::new(
                inst.address,
                name(&fields),
                fields.origin.clone(),
                propagation(&fields, &fields.origin),
                authoring.clone(),
            )
        });
        let end = line_after(&r.file.text, r.block.span().map(|s| s.end).unwrap_or(0));
        l.after_table.push(Origin::new(r.file.file, end..end));
    }
}

/// How new routes are written into the table: in the style of its routes,
/// with their indentation, after the last route block, or before the
/// closing bracket of the attribute list, or before the table's closing brace.
fn authoring(r: &ResourceBlock, first_route: Option<std::ops::Range<usize>>, last_route: Option<std::ops::Range<usize>>) -> Authoring {
    let text = &r.file.text;
    let listed = r.block.body.get_attribute("route");
    let style = if listed.is_some() {
        RouteStyle::AttributeList
    } else {
        RouteStyle::Inline
    };
    let indent = match first_route {
        Some(o) => indent_at(text, o.start),
        None => match listed.and_then(|a| a.span()) {
            Some(s) => indent_at(text, s.start),
            None => indent_at(text, header_span(r.block).start) + "  ",
        },
    };
    let block_span = r.block.span().unwrap_or(0..0);
    let dynamic = r
        .block
        .body
        .get_blocks("dynamic")
        .any(|b| b.labels.first().map(|l| l.as_str()) == Some("route"));
    // Only a written-out list takes new elements in place; `concat(…)`,
    // a local or a variable is the fix's to follow to its literal.
    let written_list = listed.filter(|a| matches!(a.value, hcl::edit::expr::Expression::Array(_)));
    let insert_at = match (last_route, listed, written_list.and_then(|a| a.value.span())) {
        (Some(o), None, _) => Some(line_after(text, o.end)),
        (None, Some(_), Some(list)) => Some(line_start(text, list.end.saturating_sub(1))),
        (None, None, _) if !dynamic => Some(line_start(text, block_span.end.saturating_sub(1))),
        _ => None,
    };
    Authoring {
        dialect: Dialect::Terraform,
        style,
        indent,
        reference: format!("{}.{}", r.ty, r.name),
        insert_at: insert_at.map(|at| Origin::new(r.file.file, at..at)),
    }
}

/// Whether gateway routes propagate: `bgp_route_propagation_enabled`
/// (azurerm 4), else the negation of `disable_bgp_route_propagation`
/// (azurerm ≤ 3), else yes (Azure's default), placed at `default`.
pub(super) fn propagation(fields: &Fields, default: &Origin) -> Field<bool> {
    match (
        fields.bool("bgp_route_propagation_enabled"),
        fields.bool("disable_bgp_route_propagation"),
    ) {
        (Some(f), _) => f,
        (None, Some(Field::Known(d, o))) => Field::Known(!d, o),
        (None, Some(u)) => u,
        (None, None) => Field::Known(true, default.clone()),
    }
}

pub(in crate::ingest::terraform) fn lower_route(f: &Fields) -> Route {
    Route {
        name: name(f),
        address_prefix: f
            .parsed("address_prefix", RoutePrefix::parse, "an address prefix or a service tag")
            .unwrap_or_else(|| missing(f, "address_prefix")),
        next_hop_type: f
            .parsed(
                "next_hop_type",
                NextHopType::parse,
                "a next hop type (VirtualNetworkGateway, VnetLocal, Internet, VirtualAppliance, None)",
            )
            .unwrap_or_else(|| missing(f, "next_hop_type")),
        next_hop_ip: f.string("next_hop_in_ip_address"),
        next_hop_firewall: None,
        origin: f.origin.clone(),
        resource: None,
    }
}

/// `azurerm_route`: joins the table it names, every instance of it; a
/// route whose table is unknown might belong to any table of the module.
pub(super) fn route<'a>(ev: &Evaluator, r: &ResourceBlock<'a>, l: &mut Lowering<'a>) {
    for inst in instances(ev, r) {
        let fields = resource_fields(ev, r, &inst);
        let mut route = Route {
            resource: Some(inst.address.clone()),
            next_hop_firewall: r
                .block
                .body
                .get_attribute("next_hop_in_ip_address")
                .and_then(|a| firewall_ref(&a.value, r.file)),
            ..lower_route(&fields)
        };
        if let Some(c) = &inst.conditional {
            route.exists_only_if(&inst.address, c);
        }
        let tables = &l.model.route_tables;
        let group = known_string(&fields, "resource_group_name");
        let target = resolve_parent(
            ev,
            r,
            &inst,
            "route_table_name",
            "azurerm_route_table",
            &l.tables_by_name,
            |i| tables.get(i).map(|t| &t.name),
            |i| tables.get(i).and_then(|t| t.resource_group.as_ref()),
            group.as_deref(),
        );
        if let Some((route, parent_name, parent_label, origin)) = target.attach(
            &mut l.model.route_tables,
            route,
            |t, r| t.routes.push(r),
            |t, why| t.incomplete.push(why),
        ) {
            l.model.orphans.push(Orphan {
                child: OrphanChild::Route(route),
                parent_name,
                resource_group: group,
                parent_label,
                origin,
                dialect: Dialect::Terraform,
            });
        }
    }
}

/// A table whose routes are all separate resources gets its fix as one
/// too, written after the table's block (`after_table`, one per table
/// lowered from HCL, in order).
pub(super) fn separate_style(model: &mut Model, after_table: Vec<Origin>) {
    for (t, after) in model.route_tables.iter_mut().zip(after_table) {
        if t.authoring.style == RouteStyle::Inline && !t.routes.is_empty() && t.routes.iter().all(|r| r.resource.is_some()) {
            t.authoring.style = RouteStyle::Separate;
            t.authoring.insert_at = Some(after);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testkit::*;
    use crate::ingest::value::Val;
    use crate::model::{Field, RouteStyle};

    #[test]
    fn inline_routes_with_propagation_off_and_where_new_routes_go() {
        let text = r#"resource "azurerm_route_table" "hub" {
  name                          = "rt-hub"
  disable_bgp_route_propagation = true
  route {
    name           = "default"
    address_prefix = "0.0.0.0/0"
    next_hop_type  = "VirtualAppliance"
  }
  route {
    name           = "kms"
    address_prefix = "20.118.99.224/32"
    next_hop_type  = "Internet"
  }
}
"#;
        let m = lower_tf(text);
        let [t] = m.route_tables.as_slice() else {
            panic!("one table: {:?}", m.route_tables)
        };
        assert_eq!(t.address, "azurerm_route_table.hub");
        assert_eq!(show(&t.name), "rt-hub");
        assert_eq!(routes(t), ["default 0.0.0.0/0 VirtualAppliance", "kms 20.118.99.224/32 Internet"]);
        assert!(matches!(t.propagate_gateway_routes, Field::Known(false, _)));
        assert_eq!(t.authoring.style, RouteStyle::Inline);
        assert_eq!(t.authoring.indent, "  ");
        assert_eq!(t.authoring.reference, "azurerm_route_table.hub");
        // New routes go after the last route block: the line of the table's closing brace.
        let at = t.authoring.insert_at.as_ref().map(|o| o.span().start).unwrap_or_default();
        assert_eq!(text.get(at..), Some("}\n"));
        assert!(t.incomplete.is_empty());
    }

    #[test]
    fn attribute_list_routes_and_an_unknown_dynamic_collection() {
        let text = r#"resource "azurerm_route_table" "a" {
  name = "rt-a"
  route = [
    { name = "d", address_prefix = "0.0.0.0/0", next_hop_type = "VirtualNetworkGateway" },
  ]
}
resource "azurerm_route_table" "b" {
  name = "rt-b"
  dynamic "route" {
    for_each = var.routes
    content {
      name = route.key
    }
  }
}
resource "azurerm_route_table" "c" {
  name = "rt-c"
  dynamic "route" {
    for_each = ["20.118.99.224", "40.83.235.53"]
    content {
      name           = "kms-${route.key}"
      address_prefix = "${route.value}/32"
      next_hop_type  = "Internet"
    }
  }
}
"#;
        let m = lower_tf_with(text, &[("routes", Val::unknown("var.routes has no value"))]);
        let [a, b, c] = m.route_tables.as_slice() else {
            panic!("three tables")
        };
        assert_eq!(routes(c), ["kms-0 20.118.99.224/32 Internet", "kms-1 40.83.235.53/32 Internet"]);
        assert_eq!(routes(a), ["d 0.0.0.0/0 VirtualNetworkGateway"]);
        assert_eq!(a.authoring.style, RouteStyle::AttributeList);
        assert!(matches!(a.propagate_gateway_routes, Field::Known(true, _)));
        assert!(b.routes.is_empty());
        assert_eq!(b.incomplete.len(), 1);
        assert!(b.incomplete[0].reason.contains("var.routes has no value"), "{:?}", b.incomplete);
    }

    #[test]
    fn separate_routes_join_their_table_by_reference_instance_or_name() {
        let text = r#"resource "azurerm_route_table" "spoke" {
  for_each = { a = "rt-a", b = "rt-b" }
  name     = each.value
  bgp_route_propagation_enabled = false
}
resource "azurerm_route" "to_b" {
  name                = "default"
  route_table_name    = azurerm_route_table.spoke["b"].name
  address_prefix      = "0.0.0.0/0"
  next_hop_type       = "None"
}
resource "azurerm_route" "by_name" {
  name                = "kms"
  route_table_name    = "rt-a"
  address_prefix      = "20.118.99.224/32"
  next_hop_type       = "Internet"
}
resource "azurerm_route" "elsewhere" {
  name                = "x"
  route_table_name    = "rt-not-here"
  address_prefix      = "10.0.0.0/8"
  next_hop_type       = "None"
}
"#;
        let m = lower_tf(text);
        let [a, b] = m.route_tables.as_slice() else { panic!("two tables") };
        assert_eq!(a.address, r#"azurerm_route_table.spoke["a"]"#);
        assert_eq!(routes(a), ["kms 20.118.99.224/32 Internet"]);
        assert_eq!(routes(b), ["default 0.0.0.0/0 None"]);
        assert_eq!(b.routes[0].resource.as_deref(), Some("azurerm_route.to_b"));
        // All its routes are resources, so the fix is one too, after the table's block.
        assert_eq!(b.authoring.style, RouteStyle::Separate);
        assert!(matches!(a.propagate_gateway_routes, Field::Known(false, _)));
    }

    #[test]
    fn a_route_whose_table_is_unknown_makes_every_table_incomplete() {
        let text = r#"resource "azurerm_route_table" "a" {
  name = "rt-a"
}
resource "azurerm_route" "r" {
  name             = "default"
  route_table_name = var.table
  address_prefix   = "0.0.0.0/0"
}
"#;
        let m = lower_tf_with(text, &[("table", Val::unknown("var.table has no value"))]);
        let [a] = m.route_tables.as_slice() else { panic!("one table") };
        assert!(a.routes.is_empty());
        assert_eq!(a.incomplete.len(), 1);
        assert!(a.incomplete[0].reason.starts_with("azurerm_route.r may belong to this route table"));
    }

    #[test]
    fn a_route_without_next_hop_type_is_unknown_not_guessed() {
        let m = lower_tf("resource \"azurerm_route_table\" \"a\" {\n  route {\n    address_prefix = \"0.0.0.0/0\"\n  }\n}\n");
        let r = &m.route_tables[0].routes[0];
        assert_eq!(why(&r.next_hop_type), "next_hop_type is not set");
        assert_eq!(why(&r.name), "name is not set");
        assert_eq!(why(&m.route_tables[0].name), "name is not set");
    }
}
