//! Route tables, routes, NSGs and rules written in `.tf.json`.

use super::links::orphan_by_name;
use super::nsg::lower_rule;
use super::route_table::{lower_route, propagation};
use super::{known_string, name};
use crate::ingest::terraform::eval::{Evaluator, Scope};
use crate::ingest::terraform::fields::Fields;
use crate::ingest::terraform::json::{JKind, JVal};
use crate::ingest::terraform::TfModule;
use crate::ingest::value::Val;
use crate::model::Unresolved;
use crate::model::{Authoring, Dialect, Model, Nsg, OrphanChild, Route, RouteStyle, RouteTable, SecurityRule};
use crate::source::FileId;
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
                    let nested = |key: &str| blocks(ev, body, key, jf.file, &scope);
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
                            let (routes, incomplete) = nested("route");
                            model.route_tables.push(RouteTable {
                                routes: routes.iter().map(lower_route).collect(),
                                incomplete,
                                resource_group: known_string(&fields, "resource_group_name"),
                                ..RouteTable::new(address, name(&fields), origin, propagate, authoring)
                            });
                        }
                        "azurerm_network_security_group" => {
                            let (rules, incomplete) = nested("security_rule");
                            model.nsgs.push(Nsg {
                                rules: rules.iter().map(lower_rule).collect(),
                                incomplete,
                                resource_group: known_string(&fields, "resource_group_name"),
                                ..Nsg::new(address, name(&fields), origin, Dialect::Terraform)
                            })
                        }
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
        model
            .orphans
            .extend(orphan_by_name(OrphanChild::Route(route), &f, f.origin.clone()));
    }
    for (f, address) in rules {
        let rule = SecurityRule {
            resource: Some(address),
            ..lower_rule(&f)
        };
        model.orphans.extend(orphan_by_name(OrphanChild::Rule(rule), &f, f.origin.clone()));
    }
}

/// The nested blocks `key` of a JSON resource body, written out
/// (`"route": [{…}]`) or as `"dynamic": {"route": {"for_each": …,
/// "content": {…}}}` (Terraform's JSON syntax, "Nested block"), each as
/// fields; a `dynamic` whose `for_each` is unknown makes the list incomplete.
fn blocks(ev: &Evaluator, body: &JVal, key: &str, file: FileId, scope: &Scope) -> (Vec<Fields>, Vec<Unresolved>) {
    let mut out: Vec<Fields> = body
        .get(key)
        .map(|b| b.blocks())
        .unwrap_or_default()
        .iter()
        .map(|b| b.fields(ev, file, scope))
        .collect();
    let mut incomplete = Vec::new();
    let dynamics = body.members().iter().filter(|(k, _)| k == "dynamic");
    for (label, specs) in dynamics.flat_map(|(_, d)| d.members()) {
        if label != key {
            continue;
        }
        for spec in specs.blocks() {
            let (Some(for_each), Some(content)) = (spec.get("for_each"), spec.get("content")) else {
                continue;
            };
            // `iterator` is a bare name, written as a plain string.
            let iterator = match spec.get("iterator").map(|i| &i.kind) {
                Some(JKind::String(name)) => name.clone(),
                _ => key.to_string(),
            };
            let origin = Origin::new(file, for_each.span.clone());
            let described = match &for_each.kind {
                JKind::Template(_, text) => text.to_string(),
                _ => "a literal value".to_string(),
            };
            let set_like = matches!(&for_each.kind, JKind::Template(_, text) if text.trim_start_matches('"').starts_with("${toset("));
            let items: Vec<(Val, Val)> = match for_each.eval(ev, scope) {
                Val::List(l) => l.into_iter().enumerate().map(|(i, v)| (Val::Number(i as f64), v)).collect(),
                Val::Object(o) => o.into_iter().map(|(k, v)| (Val::String(k), v)).collect(),
                Val::Null => Vec::new(),
                Val::Unknown(reason) => {
                    incomplete.push(Unresolved {
                        reason: format!("dynamic \"{key}\" iterates over {described}, which is unknown: {reason}"),
                        origin,
                    });
                    continue;
                }
                other => {
                    incomplete.push(Unresolved {
                        reason: format!("dynamic \"{key}\" iterates over a {}, not a collection", other.type_name()),
                        origin,
                    });
                    continue;
                }
            };
            for (k, v) in items {
                if let Err(reason) = ev.budget.expand_instance(content.span.len()).map_err(|spent| spent.to_string()) {
                    incomplete.push(Unresolved { reason, origin });
                    break;
                }
                // Sets iterate with key = value.
                let k = if set_like && matches!(v, Val::String(_)) { v.clone() } else { k };
                let it = Val::Object([("key".to_string(), k), ("value".to_string(), v)].into_iter().collect());
                out.push(content.fields(ev, file, &scope.with(iterator.clone(), it)));
            }
        }
    }
    (out, incomplete)
}
