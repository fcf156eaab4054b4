//! Route tables, routes, NSGs and rules written in `.tf.json`.

use super::nsg::lower_rule;
use super::route_table::{lower_route, propagation};
use super::{known_string, name};
use crate::ingest::terraform::eval::{Evaluator, Scope};
use crate::ingest::terraform::fields::Fields;
use crate::ingest::terraform::TfModule;
use crate::model::{Authoring, Dialect, Field, Model, Nsg, Orphan, OrphanChild, Route, RouteStyle, RouteTable, SecurityRule};
use crate::source::Origin;

pub(super) fn lower(ev: &Evaluator, module: &TfModule, model: &mut Model) {
    let scope = Scope::default();
    let mut routes: Vec<(Fields, String)> = Vec::new();
    let mut rules: Vec<(Fields, String)> = Vec::new();
    for jf in &module.json_files {
        let Some(resources) = jf.root.get("resource") else { continue };
        for (ty, named) in resources.members() {
            for (name_label, bodies) in named.members() {
                for body in bodies.blocks() {
                    let address = format!("{ty}.{name_label}");
                    let fields = body.fields(ev, jf.file, &scope);
                    let origin = Origin::new(jf.file, body.span.clone());
                    let nested = |key: &str| -> Vec<Fields> {
                        body.get(key)
                            .map(|b| b.blocks())
                            .unwrap_or_default()
                            .iter()
                            .map(|b| b.fields(ev, jf.file, &scope))
                            .collect()
                    };
                    match ty.as_str() {
                        "azurerm_route_table" => {
                            let authoring = Authoring {
                                dialect: Dialect::Terraform,
                                style: RouteStyle::AttributeList,
                                indent: String::new(),
                                reference: address.clone(),
                                insert_at: None,
                            };
                            let propagate = propagation(&fields, &origin);
                            model.route_tables.push(RouteTable {
                                routes: nested("route").iter().map(lower_route).collect(),
                                resource_group: known_string(&fields, "resource_group_name"),
                                ..RouteTable::new(address, name(&fields), origin, propagate, authoring)
                            });
                        }
                        "azurerm_network_security_group" => model.nsgs.push(Nsg {
                            rules: nested("security_rule").iter().map(lower_rule).collect(),
                            resource_group: known_string(&fields, "resource_group_name"),
                            ..Nsg::new(address, name(&fields), origin, Dialect::Terraform)
                        }),
                        "azurerm_route" => routes.push((fields, address)),
                        "azurerm_network_security_rule" => rules.push((fields, address)),
                        _ => {}
                    }
                }
            }
        }
    }
    // Separate routes and rules join their parent by name (a `${…name}`
    // reference to another resource is unknown here, so by literal name only).
    for (f, address) in routes {
        let route = Route {
            resource: Some(address),
            ..lower_route(&f)
        };
        if let Some(Field::Known(parent, _)) = f.string("route_table_name") {
            model.orphans.push(Orphan {
                child: OrphanChild::Route(route),
                parent_label: parent.clone(),
                parent_name: Some(parent),
                resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                origin: f.origin.clone(),
                dialect: Dialect::Terraform,
            });
        }
    }
    for (f, address) in rules {
        let rule = SecurityRule {
            resource: Some(address),
            ..lower_rule(&f)
        };
        if let Some(Field::Known(parent, _)) = f.string("network_security_group_name") {
            model.orphans.push(Orphan {
                child: OrphanChild::Rule(rule),
                parent_label: parent.clone(),
                parent_name: Some(parent),
                resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                origin: f.origin.clone(),
                dialect: Dialect::Terraform,
            });
        }
    }
}
