//! Terraform plan JSON (`terraform show -json plan.out`).
//!
//! With the configuration beside the plan, the configuration is checked
//! under the plan's own variable values, so findings point at `.tf` lines.
//! A plan alone is lowered from `planned_values` (child modules included);
//! values the plan marks in `after_unknown` are unknown — an unknown next-hop
//! IP must not hide a forced tunnel, and does not: the next hop type decides.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::fields::Fields;
use super::lower::{lower_route, lower_rule};
use crate::ingest::value::{from_json, Val};
use crate::model::{Authoring, Dialect, Field, Model, Nsg, Orphan, OrphanChild, RouteStyle, RouteTable, Unresolved};
use crate::source::{FileId, Origin};

pub struct Plan {
    pub file: FileId,
    pub text: Arc<str>,
    pub json: serde_json::Value,
}

/// Whether a JSON document is `terraform show -json` output for a plan.
pub fn is_plan(json: &serde_json::Value) -> bool {
    json.get("format_version").is_some() && json.get("planned_values").is_some()
}

/// The variable values the plan was made with.
pub fn variables(plan: &Plan) -> BTreeMap<String, Val> {
    plan.json
        .get("variables")
        .and_then(|v| v.as_object())
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| Some((k.clone(), from_json(v.get("value")?))))
                .collect()
        })
        .unwrap_or_default()
}

struct PlannedResource {
    address: String,
    ty: String,
    values: Val,
    origin: Origin,
}

/// Lowers a plan on its own: every managed resource of `planned_values`.
pub fn lower(plan: &Plan) -> Model {
    let resources = planned_resources(plan);
    let mut model = Model::default();
    for r in &resources {
        lower_parent(&mut model, r);
    }
    // Separately declared routes and rules join their parent by name.
    for r in &resources {
        lower_child(&mut model, r);
    }
    // By resource group and name, as the configuration's own routes join theirs.
    model.adopt_orphans();
    model
}

/// The managed resources of `planned_values`, child modules included, with
/// what `resource_changes` marks unknown after apply.
fn planned_resources(plan: &Plan) -> Vec<PlannedResource> {
    let mut unknowns: BTreeMap<String, &serde_json::Value> = BTreeMap::new();
    for rc in plan.json.get("resource_changes").and_then(|r| r.as_array()).into_iter().flatten() {
        if let (Some(a), Some(u)) = (
            rc.get("address").and_then(|a| a.as_str()),
            rc.get("change").and_then(|c| c.get("after_unknown")),
        ) {
            unknowns.insert(a.to_string(), u);
        }
    }
    let mut resources = Vec::new();
    if let Some(root) = plan.json.get("planned_values").and_then(|p| p.get("root_module")) {
        collect(plan, root, &unknowns, &mut resources, 0);
    }
    resources
}

/// How a fix for a planned resource is written: inline, in the resource
/// the address names.
fn authoring(address: &str) -> Authoring {
    Authoring {
        dialect: Dialect::Terraform,
        style: RouteStyle::Inline,
        indent: "  ".into(),
        reference: address.split('[').next().unwrap_or(address).to_string(),
        insert_at: None,
    }
}

/// Route tables and NSGs, with their inline routes and rules.
fn lower_parent(model: &mut Model, r: &PlannedResource) {
    let f = Fields::from_value(r.values.clone(), r.origin.clone());
    match r.ty.as_str() {
        "azurerm_route_table" => {
            let (routes, incomplete) = list_of(&r.values, "route", &r.origin);
            let propagate = match (f.bool("bgp_route_propagation_enabled"), f.bool("disable_bgp_route_propagation")) {
                (Some(p), _) => p,
                (None, Some(Field::Known(d, o))) => Field::Known(!d, o),
                (None, Some(u)) => u,
                (None, None) => Field::Known(true, r.origin.clone()),
            };
            model.route_tables.push(RouteTable {
                address: r.address.clone(),
                namespace: 0,
                name: name_of(&f, &r.origin),
                resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                origin: r.origin.clone(),
                routes: routes.iter().map(lower_route).collect(),
                incomplete,
                propagate_gateway_routes: propagate,
                conditional: None,
                authoring: authoring(&r.address),
                cloud: None,
                called_from: Vec::new(),
                elsewhere: false,
            });
        }
        "azurerm_network_security_group" => {
            let (rules, incomplete) = list_of(&r.values, "security_rule", &r.origin);
            model.nsgs.push(Nsg {
                address: r.address.clone(),
                namespace: 0,
                name: name_of(&f, &r.origin),
                resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                origin: r.origin.clone(),
                rules: rules.iter().map(lower_rule).collect(),
                incomplete,
                conditional: None,
                dialect: Dialect::Terraform,
                cloud: None,
                called_from: Vec::new(),
                elsewhere: false,
            });
        }
        _ => {}
    }
}

/// Routes and rules declared as resources of their own, left as orphans
/// for their parent to adopt.
fn lower_child(model: &mut Model, r: &PlannedResource) {
    let f = Fields::from_value(r.values.clone(), r.origin.clone());
    match r.ty.as_str() {
        "azurerm_route" => {
            let route = crate::model::Route {
                resource: Some(r.address.clone()),
                ..lower_route(&f)
            };
            match f.string("route_table_name") {
                Some(Field::Known(parent, _)) => model.orphans.push(Orphan {
                    child: OrphanChild::Route(route),
                    parent_label: parent.clone(),
                    parent_name: Some(parent),
                    resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                    origin: r.origin.clone(),
                    dialect: Dialect::Terraform,
                }),
                _ => {
                    let why = Unresolved {
                        reason: format!(
                            "{} may belong to this route table: its route_table_name is unknown in the plan",
                            r.address
                        ),
                        origin: r.origin.clone(),
                    };
                    model.route_tables.iter_mut().for_each(|t| t.incomplete.push(why.clone()));
                }
            }
        }
        "azurerm_network_security_rule" => {
            let rule = crate::model::SecurityRule {
                resource: Some(r.address.clone()),
                ..lower_rule(&f)
            };
            if let Some(Field::Known(parent, _)) = f.string("network_security_group_name") {
                model.orphans.push(Orphan {
                    child: OrphanChild::Rule(rule),
                    parent_label: parent.clone(),
                    parent_name: Some(parent),
                    resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
                    origin: r.origin.clone(),
                    dialect: Dialect::Terraform,
                });
            }
        }
        _ => {}
    }
}

fn name_of(f: &Fields, origin: &Origin) -> Field<String> {
    f.string("name").unwrap_or_else(|| {
        Field::unknown(Unresolved {
            reason: "name is not in the plan".into(),
            origin: origin.clone(),
        })
    })
}

/// A list attribute of objects (`route`, `security_rule`) as fields.
fn list_of(values: &Val, key: &str, origin: &Origin) -> (Vec<Fields>, Vec<Unresolved>) {
    match values {
        Val::Object(o) => match o.get(key) {
            Some(Val::List(items)) => (
                items.iter().map(|v| Fields::from_value(v.clone(), origin.clone())).collect(),
                Vec::new(),
            ),
            Some(Val::Unknown(r)) => (
                Vec::new(),
                vec![Unresolved {
                    reason: r.to_string(),
                    origin: origin.clone(),
                }],
            ),
            _ => (Vec::new(), Vec::new()),
        },
        _ => (Vec::new(), Vec::new()),
    }
}

fn collect(
    plan: &Plan,
    module: &serde_json::Value,
    unknowns: &BTreeMap<String, &serde_json::Value>,
    out: &mut Vec<PlannedResource>,
    depth: usize,
) {
    if depth > 32 {
        return;
    }
    for r in module.get("resources").and_then(|r| r.as_array()).into_iter().flatten() {
        if r.get("mode").and_then(|m| m.as_str()) != Some("managed") {
            continue;
        }
        let (Some(address), Some(ty)) = (r.get("address").and_then(|a| a.as_str()), r.get("type").and_then(|t| t.as_str())) else {
            continue;
        };
        let mut values = r.get("values").map(from_json).unwrap_or(Val::Null);
        if let Some(u) = unknowns.get(address) {
            mark_unknown(&mut values, u, address);
        }
        out.push(PlannedResource {
            address: address.to_string(),
            ty: ty.to_string(),
            values,
            origin: origin_of(plan, address),
        });
    }
    for child in module.get("child_modules").and_then(|c| c.as_array()).into_iter().flatten() {
        collect(plan, child, unknowns, out, depth + 1);
    }
}

/// Marks what `after_unknown` says is only known after apply.
fn mark_unknown(value: &mut Val, unknown: &serde_json::Value, path: &str) {
    match unknown {
        serde_json::Value::Bool(true) => *value = Val::unknown(format!("{path} is only known after apply")),
        serde_json::Value::Object(o) => {
            if let Val::Null = value {
                *value = Val::Object(BTreeMap::new());
            }
            if let Val::Object(map) = value {
                for (k, u) in o {
                    let slot = map.entry(k.clone()).or_insert(Val::Null);
                    mark_unknown(slot, u, &format!("{path}.{k}"));
                }
            }
        }
        serde_json::Value::Array(items) => {
            if let Val::List(list) = value {
                for (i, u) in items.iter().enumerate() {
                    if let Some(slot) = list.get_mut(i) {
                        mark_unknown(slot, u, &format!("{path}[{i}]"));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Where the plan names a resource: its first `"address": "…"`.
fn origin_of(plan: &Plan, address: &str) -> Origin {
    let quoted = serde_json::to_string(address).unwrap_or_default();
    let text = &plan.text;
    let at = [format!("\"address\":{quoted}"), format!("\"address\": {quoted}")]
        .iter()
        .filter_map(|needle| text.find(needle.as_str()))
        .min()
        .unwrap_or(0);
    let len = text.get(at..).and_then(|t| t.find(['}', ',', '\n'])).unwrap_or(0);
    Origin::new(plan.file, at..at + len)
}
