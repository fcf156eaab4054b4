//! Lowers a module's azurerm and azapi resources into the model, one
//! resource family per module, each resource type found in [`FAMILIES`].

mod azapi;
mod expand;
mod firewall;
mod gateway;
mod json;
mod links;
pub(in crate::ingest::terraform) use links::firewall_ref_at;
mod nic;
mod nsg;
mod route_table;
mod subnet;

use std::collections::BTreeMap;

use hcl::edit::structure::Block;

use super::eval::{Evaluator, Scope};
use super::fields::{eval_or_unknown, Fields};
use super::{HclFile, TfModule};
use crate::ingest::value::Val;
use crate::model::{Field, Model, Unresolved};
use crate::source::Origin;

pub(in crate::ingest::terraform) use azapi::hcl_node;
pub(in crate::ingest::terraform) use expand::expand_instances;
pub(in crate::ingest::terraform) use nsg::lower_rule;
pub(in crate::ingest::terraform) use route_table::lower_route;

/// One instance of a resource block: its address and the names `count` or
/// `for_each` bind.
pub(super) struct Instance {
    pub address: String,
    /// The instance key, to match references like `azurerm_route_table.x["a"]`.
    pub key: Option<Val>,
    pub scope: Scope,
    pub conditional: Option<Unresolved>,
}

pub(super) struct ResourceBlock<'a> {
    /// The resource type, or `module` for a module call.
    pub ty: &'a str,
    pub name: &'a str,
    pub block: &'a Block,
    pub file: &'a HclFile,
}

/// Resources of one resource name (`azurerm_route_table.hub` is `hub`), by
/// index into the model's list, with their instance keys.
type ByName<'a> = BTreeMap<&'a str, Vec<(usize, Option<Val>)>>;

/// What lowering a module builds: the model, and what the second pass and
/// the finishing steps need from the first.
#[derive(Default)]
struct Lowering<'a> {
    model: Model,
    /// Route tables and NSGs by resource name, so that separately declared
    /// routes and rules can find them.
    tables_by_name: ByName<'a>,
    nsgs_by_name: ByName<'a>,
    /// Where a separate route resource goes: after its table's own block.
    after_table: Vec<Origin>,
    firewalls: firewall::Pending,
    azapi_children: Vec<azapi::Child>,
}

/// The first pass lowers the resources others attach to; the second
/// attaches separately declared routes, rules, associations and rule
/// collections to what the first built.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    Parents,
    Children,
}

type LowerFamily = for<'a> fn(&Evaluator, &ResourceBlock<'a>, &mut Lowering<'a>);

/// Which family lowers each resource type, and in which pass.
const FAMILIES: &[(&str, Pass, LowerFamily)] = &[
    ("azurerm_route_table", Pass::Parents, route_table::table),
    ("azurerm_network_security_group", Pass::Parents, nsg::nsg),
    ("azurerm_subnet", Pass::Parents, subnet::subnet),
    ("azurerm_virtual_network", Pass::Parents, subnet::virtual_network),
    ("azurerm_virtual_network_gateway", Pass::Parents, gateway::gateway),
    ("azurerm_virtual_network_peering", Pass::Parents, subnet::peering),
    ("azurerm_firewall", Pass::Parents, firewall::firewall),
    ("azurerm_firewall_policy", Pass::Parents, firewall::policy),
    ("azurerm_network_interface", Pass::Parents, nic::nic),
    ("azapi_resource", Pass::Parents, azapi::resource),
    ("azapi_update_resource", Pass::Parents, azapi::resource),
    ("azurerm_route", Pass::Children, route_table::route),
    ("azurerm_network_security_rule", Pass::Children, nsg::rule),
    ("azurerm_subnet_route_table_association", Pass::Children, subnet::association),
    (
        "azurerm_subnet_network_security_group_association",
        Pass::Children,
        subnet::association,
    ),
    (
        "azurerm_network_interface_security_group_association",
        Pass::Children,
        nic::nsg_association,
    ),
    (
        "azurerm_firewall_policy_rule_collection_group",
        Pass::Children,
        firewall::rule_collection_group,
    ),
    (
        "azurerm_firewall_network_rule_collection",
        Pass::Children,
        firewall::classic_collection,
    ),
];

pub fn lower(ev: &Evaluator, module: &TfModule) -> Model {
    let mut resources: Vec<(ResourceBlock, Pass, LowerFamily)> = Vec::new();
    for f in &module.files {
        for block in f.body.get_blocks("resource") {
            let [ty, name] = block.labels.as_slice() else { continue };
            let Some((_, pass, lower)) = FAMILIES.iter().find(|(t, _, _)| *t == ty.as_str()) else {
                continue;
            };
            let r = ResourceBlock {
                ty: ty.as_str(),
                name: name.as_str(),
                block,
                file: f,
            };
            resources.push((r, *pass, *lower));
        }
    }

    let mut l = Lowering::default();
    for pass in [Pass::Parents, Pass::Children] {
        for (r, _, lower) in resources.iter().filter(|(_, p, _)| *p == pass) {
            lower(ev, r, &mut l);
        }
    }

    let mut model = l.model;
    azapi::attach_children(&mut model, l.azapi_children);
    json::lower(ev, module, &mut model);
    firewall::finish(&mut model, l.firewalls);

    // `provider "azurerm" { environment = "usgovernment" }` picks the cloud.
    if let Some(cloud) = provider_cloud(ev, module) {
        model.route_tables.iter_mut().for_each(|t| t.cloud = Some(cloud.clone()));
        model.nsgs.iter_mut().for_each(|n| n.cloud = Some(cloud.clone()));
    }
    route_table::separate_style(&mut model, l.after_table);
    model
}

/// The cloud named by the module's `azurerm` provider (`environment`), when
/// every azurerm provider block that names one agrees.
fn provider_cloud(ev: &Evaluator, module: &TfModule) -> Option<String> {
    let mut found: Option<String> = None;
    for f in &module.files {
        for block in f.body.get_blocks("provider") {
            if block.labels.first().map(|l| l.as_str()) != Some("azurerm") {
                continue;
            }
            let Some(attr) = block.body.get_attribute("environment") else {
                continue;
            };
            let Val::String(env) = eval_or_unknown(ev, &attr.value, &f.text, &Scope::default()) else {
                continue;
            };
            let cloud = match env.to_ascii_lowercase().as_str() {
                "public" => "public",
                "usgovernment" => "usgov",
                "china" => "china",
                "german" => "germany",
                _ => continue,
            };
            match &found {
                Some(c) if c != cloud => return None,
                _ => found = Some(cloud.to_string()),
            }
        }
    }
    found
}

/// The resource's or block's `name`.
fn name(f: &Fields) -> Field<String> {
    f.string("name").unwrap_or_else(|| missing(f, "name"))
}

/// A string attribute whose value is known (a resource group name, say).
fn known_string(f: &Fields, key: &str) -> Option<String> {
    f.string(key).and_then(|v| v.known().cloned())
}

fn missing<T>(f: &Fields, key: &str) -> Field<T> {
    Field::unknown(Unresolved {
        reason: format!("{key} is not set"),
        origin: f.origin.clone(),
    })
}

#[cfg(test)]
pub(super) mod testkit {
    use std::collections::{BTreeMap, HashMap};
    use std::sync::Arc;

    use crate::ingest::terraform::eval::Evaluator;
    use crate::ingest::terraform::{parse, TfModule};
    use crate::ingest::value::Val;
    use crate::model::{Field, Model, RouteTable};
    use crate::source::FileId;

    /// Lowers one `.tf` file's text as a module.
    pub fn lower_tf(text: &str) -> Model {
        lower_tf_with(text, &[])
    }

    /// Lowers one `.tf` file's text with these variable values.
    pub fn lower_tf_with(text: &str, vars: &[(&str, Val)]) -> Model {
        let file = parse(FileId(0), Arc::from(text)).unwrap_or_else(|e| panic!("parses: {e:?}"));
        let module = TfModule {
            files: vec![file],
            ..TfModule::default()
        };
        let variables: BTreeMap<String, Val> = vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        let ev = Evaluator::new(variables, HashMap::new());
        super::lower(&ev, &module)
    }

    /// A known field as text ("?" when unknown), to compare in one line.
    pub fn show<T: std::fmt::Display>(f: &Field<T>) -> String {
        f.known().map(|v| v.to_string()).unwrap_or_else(|| "?".into())
    }

    /// Why a field is unknown ("" when it is known).
    pub fn why<T>(f: &Field<T>) -> &str {
        f.unresolved().map(|u| u.reason.as_str()).unwrap_or("")
    }

    /// A table's routes as `name prefix hop`.
    pub fn routes(t: &RouteTable) -> Vec<String> {
        t.routes
            .iter()
            .map(|r| format!("{} {} {}", show(&r.name), show(&r.address_prefix), show(&r.next_hop_type)))
            .collect()
    }
}
