//! Lowers a module's azurerm resources into route tables and NSGs.

use std::collections::BTreeMap;

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Block, Body, Structure};
use hcl::edit::Span;

use super::eval::{snippet, Evaluator, Scope};
use super::fields::{eval_or_unknown, Fields};
use super::{header_span, reference_to, HclFile, TfModule};
use crate::ingest::azure::{self, Node};
use crate::ingest::value::Val;
use crate::model::{
    Access, AddressMatch, Authoring, Dialect, Direction, Field, Link, Model, NetworkInterface, NextHopType, Nsg, PortRange, Protocol,
    Route, RoutePrefix, RouteStyle, RouteTable, SecurityRule, Subnet, Unresolved,
};
use crate::source::Origin;

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
    // Firewalls with their policy link, and the policies' rule collection groups.
    let mut firewall_policies: Vec<(usize, Option<Link>)> = Vec::new();
    let mut policies: Vec<Policy> = Vec::new();
    // Classic rule collections: (firewall, collection priority, rule).
    let mut classic: Vec<(Link, f64, crate::model::FirewallRule)> = Vec::new();
    // azapi routes and rules, attached to their parent by `parent_id`.
    let mut azapi_children: Vec<(Link, bool, Route, SecurityRule)> = Vec::new();
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
            "azurerm_subnet" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    model.subnets.push(Subnet {
                        address: inst.address,
                        namespace: 0,
                        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                        origin: fields.origin.clone(),
                        route_table: None,
                        nsg: None,
                    });
                }
            }
            "azurerm_virtual_network" => {
                for inst in instances(ev, r) {
                    let (blocks, _) = nested_blocks(ev, &r.block.body, "subnet", r.file, &inst.scope);
                    for (body, scope, origin) in blocks {
                        let f = Fields::from_body(ev, body, &r.file.text, r.file.file, &scope, origin);
                        let name = f.string("name").unwrap_or_else(|| missing(&f, "name"));
                        let label = name.known().cloned().unwrap_or_else(|| "?".into());
                        // azurerm 4 names the table on the subnet block; azurerm 3 names the NSG.
                        let route_table = body
                            .get_attribute("route_table_id")
                            .map(|a| link_of(ev, &a.value, "azurerm_route_table", r.file, &scope));
                        let nsg = body
                            .get_attribute("security_group")
                            .or_else(|| body.get_attribute("network_security_group_id"))
                            .map(|a| link_of(ev, &a.value, "azurerm_network_security_group", r.file, &scope));
                        model.subnets.push(Subnet {
                            address: format!("{}.subnet[{label:?}]", inst.address),
                            namespace: 0,
                            name,
                            origin: f.origin.clone(),
                            route_table,
                            nsg,
                        });
                    }
                }
            }
            "azurerm_virtual_network_gateway" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let is_true = |k: &str| matches!(fields.bool(k), Some(Field::Known(true, _)));
                    let is_type = |want: &str| matches!(fields.string("type"), Some(Field::Known(t, _)) if t.eq_ignore_ascii_case(want));
                    let reason = if fields.present("default_local_network_gateway_id").is_some() {
                        "has a default site (default_local_network_gateway_id), which forces internet traffic to on-premises"
                    } else if is_type("ExpressRoute") {
                        "is an ExpressRoute gateway, so on-premises routes (a 0.0.0.0/0 among them) arrive over BGP"
                    } else if is_true("enable_bgp") || is_true("bgp_enabled") {
                        "has BGP enabled, so on-premises can advertise 0.0.0.0/0"
                    } else {
                        continue;
                    };
                    model.gateways.push(crate::model::Gateway {
                        address: inst.address,
                        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                        origin: fields.origin.clone(),
                        reason: reason.into(),
                    });
                }
            }
            "azurerm_firewall" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let policy = r
                        .block
                        .body
                        .get_attribute("firewall_policy_id")
                        .map(|a| link_of(ev, &a.value, "azurerm_firewall_policy", r.file, &inst.scope));
                    firewall_policies.push((model.firewalls.len(), policy));
                    model.firewalls.push(crate::model::Firewall {
                        address: inst.address,
                        namespace: 0,
                        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                        origin: fields.origin.clone(),
                        rules: Vec::new(),
                        dns_proxy: fields
                            .bool("dns_proxy_enabled")
                            .unwrap_or_else(|| Field::Known(false, fields.origin.clone())),
                        incomplete: Vec::new(),
                    });
                }
            }
            "azurerm_firewall_policy" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let dns = r.block.body.get_blocks("dns").next().map(|b| {
                        Fields::from_body(ev, &b.body, &r.file.text, r.file.file, &inst.scope, fields.origin.clone())
                            .bool("proxy_enabled")
                            .unwrap_or_else(|| Field::Known(false, fields.origin.clone()))
                    });
                    policies.push(Policy {
                        address: inst.address,
                        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                        dns_proxy: dns.unwrap_or_else(|| Field::Known(false, fields.origin.clone())),
                        groups: Vec::new(),
                    });
                }
            }
            "azurerm_network_interface" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let (blocks, _) = nested_blocks(ev, &r.block.body, "ip_configuration", r.file, &inst.scope);
                    let subnets = blocks
                        .iter()
                        .filter_map(|(body, scope, _)| {
                            body.get_attribute("subnet_id")
                                .map(|a| link_of(ev, &a.value, "azurerm_subnet", r.file, scope))
                        })
                        .collect();
                    model.nics.push(NetworkInterface {
                        address: inst.address,
                        namespace: 0,
                        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                        origin: fields.origin.clone(),
                        subnets,
                        nsg: None,
                    });
                }
            }
            "azapi_resource" | "azapi_update_resource" => {
                for inst in instances(ev, r) {
                    azapi(ev, r, inst, &mut model, &mut azapi_children);
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
                        next_hop_firewall: r
                            .block
                            .body
                            .get_attribute("next_hop_in_ip_address")
                            .and_then(|a| firewall_ref(&a.value, r.file)),
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
            "azurerm_subnet_route_table_association" | "azurerm_subnet_network_security_group_association" => {
                for inst in instances(ev, r) {
                    let Some(subnet) = r
                        .block
                        .body
                        .get_attribute("subnet_id")
                        .map(|a| link_of(ev, &a.value, "azurerm_subnet", r.file, &inst.scope))
                    else {
                        continue;
                    };
                    let is_table = r.ty == "azurerm_subnet_route_table_association";
                    let (attr, target) = if is_table {
                        ("route_table_id", "azurerm_route_table")
                    } else {
                        ("network_security_group_id", "azurerm_network_security_group")
                    };
                    let Some(link) = r
                        .block
                        .body
                        .get_attribute(attr)
                        .map(|a| link_of(ev, &a.value, target, r.file, &inst.scope))
                    else {
                        continue;
                    };
                    for sn in model.subnets.iter_mut().filter(|sn| links_to(&subnet, &sn.address, &sn.name)) {
                        if is_table {
                            sn.route_table = Some(link.clone());
                        } else {
                            sn.nsg = Some(link.clone());
                        }
                    }
                }
            }
            "azurerm_network_interface_security_group_association" => {
                for inst in instances(ev, r) {
                    let (Some(nic), Some(nsg)) = (
                        r.block
                            .body
                            .get_attribute("network_interface_id")
                            .map(|a| link_of(ev, &a.value, "azurerm_network_interface", r.file, &inst.scope)),
                        r.block
                            .body
                            .get_attribute("network_security_group_id")
                            .map(|a| link_of(ev, &a.value, "azurerm_network_security_group", r.file, &inst.scope)),
                    ) else {
                        continue;
                    };
                    for n in model.nics.iter_mut().filter(|n| links_to(&nic, &n.address, &n.name)) {
                        n.nsg = Some(nsg.clone());
                    }
                }
            }
            "azurerm_firewall_policy_rule_collection_group" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let Some(link) = r
                        .block
                        .body
                        .get_attribute("firewall_policy_id")
                        .map(|a| link_of(ev, &a.value, "azurerm_firewall_policy", r.file, &inst.scope))
                    else {
                        continue;
                    };
                    let priority = fields
                        .parsed("priority", |s| s.parse::<f64>().ok(), "a number")
                        .and_then(|f| f.known().copied())
                        .unwrap_or(f64::MAX);
                    let rules = network_rules(ev, r, &inst, "network_rule_collection", None);
                    for p in policies.iter_mut().filter(|p| links_to(&link, &p.address, &p.name)) {
                        p.groups.push((priority, rules.clone()));
                    }
                }
            }
            "azurerm_firewall_network_rule_collection" => {
                for inst in instances(ev, r) {
                    let fields = resource_fields(ev, r, &inst);
                    let action = fields
                        .parsed("action", Access::parse, "Allow or Deny")
                        .unwrap_or_else(|| missing(&fields, "action"));
                    let priority = fields
                        .parsed("priority", |s| s.parse::<f64>().ok(), "a number")
                        .and_then(|f| f.known().copied())
                        .unwrap_or(f64::MAX);
                    let mut rules = network_rules(ev, r, &inst, "", Some(action));
                    rules.iter_mut().for_each(|(p, _)| *p = priority);
                    let target = match r.block.body.get_attribute("azure_firewall_name") {
                        Some(a) => match reference_to(&a.value, "azurerm_firewall", "name") {
                            Some((n, _)) => Some(Link::Address(format!("azurerm_firewall.{n}"), fields.origin.clone(), 0)),
                            None => fields.string("azure_firewall_name").map(Link::Id),
                        },
                        None => None,
                    };
                    if let Some(link) = target {
                        classic.extend(rules.into_iter().map(|(p, r)| (link.clone(), p, r)));
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

    for (parent, is_route, route, rule) in azapi_children {
        if is_route {
            for t in model.route_tables.iter_mut().filter(|t| links_to(&parent, &t.address, &t.name)) {
                t.routes.push(route.clone());
            }
        } else {
            for n in model.nsgs.iter_mut().filter(|n| links_to(&parent, &n.address, &n.name)) {
                n.rules.push(rule.clone());
            }
        }
    }

    classic.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (link, _, rule) in classic {
        for fw in model.firewalls.iter_mut().filter(|f| links_to(&link, &f.address, &f.name)) {
            fw.rules.push(rule.clone());
        }
    }

    lower_json(ev, module, &mut model);

    // A firewall's policy brings its rule collection groups, by priority.
    for (i, link) in firewall_policies {
        let Some(fw) = model.firewalls.get_mut(i) else { continue };
        let Some(link) = link else { continue };
        match policies.iter().find(|p| links_to(&link, &p.address, &p.name)) {
            Some(p) => {
                let mut groups = p.groups.clone();
                groups.sort_by(|a, b| a.0.total_cmp(&b.0));
                fw.rules
                    .extend(groups.into_iter().flat_map(|(_, rules)| rules.into_iter().map(|(_, r)| r)));
                fw.dns_proxy = p.dns_proxy.clone();
            }
            None => fw.incomplete.push(Unresolved {
                reason: "the firewall's policy is not in the code checked".into(),
                origin: link.origin().clone(),
            }),
        }
    }

    // `provider "azurerm" { environment = "usgovernment" }` picks the cloud.
    if let Some(cloud) = provider_cloud(ev, module) {
        model.route_tables.iter_mut().for_each(|t| t.cloud = Some(cloud.clone()));
        model.nsgs.iter_mut().for_each(|n| n.cloud = Some(cloud.clone()));
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

/// Expands `count` and `for_each` into instances, charging each to the
/// budget as it is lowered (see [`super::charged`]).
pub(super) fn instances<'r>(ev: &'r Evaluator, r: &'r ResourceBlock) -> impl Iterator<Item = Instance> + 'r {
    super::charged(ev, r.block, format!("{}.{}", r.ty, r.name), r.file.file, expand(ev, r))
}

/// Expands `count` and `for_each` into instances.
pub(super) fn expand(ev: &Evaluator, r: &ResourceBlock) -> Vec<Instance> {
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
            Val::Number(n) if ev.limits().exceeds_collection(n) => single(
                Some(Unresolved {
                    reason: format!(
                        "count = {} asks for more than the {} instances kmsguard expands, so one is checked; raise the limit with --max-collection-size",
                        snippet(text, &count.value),
                        crate::limits::thousands(ev.limits().collection_size as u64)
                    ),
                    origin,
                }),
                Scope::default().with(
                    "count",
                    Val::Object(
                        [("index".to_string(), Val::unknown("count is above kmsguard's limit"))]
                            .into_iter()
                            .collect(),
                    ),
                ),
            ),
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
        let content_bytes = content.span().map_or(0, |s| s.len());
        for (k, v) in items {
            if let Err(reason) = ev.budget.expand_instance(content_bytes) {
                incomplete.push(Unresolved { reason, origin });
                break;
            }
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
        .map(|(body, scope, origin)| Route {
            next_hop_firewall: body
                .get_attribute("next_hop_in_ip_address")
                .and_then(|a| firewall_ref(&a.value, r.file)),
            ..lower_route(&Fields::from_body(ev, body, &r.file.text, r.file.file, scope, origin.clone()))
        })
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
        Some((_, _, o)) => indent_at(text, o.span().start),
        None => match r.block.body.get_attribute("route").and_then(|a| a.span()) {
            Some(s) => indent_at(text, s.start),
            None => indent_at(text, header_span(r.block).start) + "  ",
        },
    };
    // New routes go after the last route block, or before the closing
    // bracket of the attribute list, or before the table's closing brace.
    let block_span = r.block.span().unwrap_or(0..0);
    let insert_at = match (blocks.last(), r.block.body.get_attribute("route").and_then(|a| a.value.span())) {
        (Some((_, _, o)), _) => line_after(text, o.span().end),
        (None, Some(list)) => line_start(text, list.end.saturating_sub(1)),
        (None, None) => line_start(text, block_span.end.saturating_sub(1)),
    };
    RouteTable {
        address: inst.address,
        namespace: 0,
        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
        origin: fields.origin.clone(),
        routes,
        incomplete,
        propagate_gateway_routes: propagate,
        conditional: inst.conditional,
        cloud: None,
        called_from: Vec::new(),
        authoring: Authoring {
            dialect: Dialect::Terraform,
            style,
            indent,
            reference: format!("{}.{}", r.ty, r.name),
            insert_at: Some(Origin::new(r.file.file, insert_at..insert_at)),
        },
    }
}

pub(super) fn lower_route(f: &Fields) -> Route {
    Route {
        name: f.string("name").unwrap_or_else(|| missing(f, "name")),
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
        namespace: 0,
        name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
        origin: fields.origin.clone(),
        rules,
        incomplete,
        conditional: inst.conditional,
        dialect: Dialect::Terraform,
        cloud: None,
        called_from: Vec::new(),
    }
}

pub(super) fn lower_rule(f: &Fields) -> SecurityRule {
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
            .parsed("direction", Direction::parse, "Inbound or Outbound")
            .unwrap_or_else(|| missing(f, "direction")),
        access: f
            .parsed("access", Access::parse, "Allow or Deny")
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
    Field::unknown(Unresolved {
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

/// A reference to another resource's id: by address when it is written as
/// `TYPE.NAME[KEY].id`, else by the id's value.
fn link_of(ev: &Evaluator, expr: &Expression, ty: &str, file: &HclFile, scope: &Scope) -> Link {
    let origin = Origin::new(file.file, expr.span().unwrap_or(0..0));
    for target in [ty, "azapi_resource"] {
        if let Some((name, index)) = reference_to(expr, target, "id") {
            let mut address = format!("{target}.{name}");
            if let Some(ix) = index {
                match eval_or_unknown(ev, ix, &file.text, scope) {
                    Val::String(k) => address.push_str(&format!("[{k:?}]")),
                    Val::Number(n) => address.push_str(&format!("[{}]", crate::ingest::value::format_number(n))),
                    _ => {}
                }
            }
            return Link::Address(address, origin, 0);
        }
    }
    Link::Id(match eval_or_unknown(ev, expr, &file.text, scope) {
        Val::String(s) => Field::Known(s, origin),
        Val::Unknown(r) => Field::unknown(Unresolved {
            reason: r.to_string(),
            origin,
        }),
        other => Field::unknown(Unresolved {
            reason: format!("the id is a {}, not a string", other.type_name()),
            origin,
        }),
    })
}

/// Whether a link names the resource with this address and Azure name.
fn links_to(link: &Link, address: &str, name: &Field<String>) -> bool {
    match link {
        // An instance-less reference (`azurerm_subnet.a.id`) matches every instance's base address.
        Link::Address(a, _, _) => a == address || address.strip_prefix(a.as_str()).is_some_and(|rest| rest.starts_with('[')),
        Link::Id(Field::Known(id, _)) => {
            let last = id.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            name.known().is_some_and(|n| n.eq_ignore_ascii_case(last))
        }
        Link::Id(Field::Unknown(_)) => false,
    }
}

/// `azapi_resource` of the network types kmsguard models, with `body` as an
/// HCL object or `jsonencode(…)` (Azure Verified Modules use both).
fn azapi(ev: &Evaluator, r: &ResourceBlock, inst: Instance, model: &mut Model, children: &mut Vec<(Link, bool, Route, SecurityRule)>) {
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
        let name = fields.string("name").unwrap_or_else(|| missing(&fields, "name"));
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
    let name = fields.string("name").unwrap_or_else(|| missing(&fields, "name"));
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
    children: &mut Vec<(Link, bool, Route, SecurityRule)>,
    body: Node,
    name: Field<String>,
    origin: Origin,
    ty: &str,
) {
    let parent = r
        .block
        .body
        .get_attribute("parent_id")
        .map(|a| link_of(ev, &a.value, "azapi_resource", r.file, &inst.scope));
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
    match ty {
        "microsoft.network/routetables" => model.route_tables.push(azure::route_table(resource)),
        "microsoft.network/networksecuritygroups" => model.nsgs.push(azure::nsg(resource)),
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
        "microsoft.network/virtualnetworks/subnets" => model.subnets.push(azure::subnet(&body, inst.address)),
        "microsoft.network/virtualnetworks" => model.subnets.extend(azure::vnet_subnets(&body, &inst.address)),
        _ => {}
    }
}

/// An HCL expression as a [`Node`]: object and tuple literals keep a place
/// per element; anything else is evaluated.
fn hcl_node(ev: &Evaluator, expr: &Expression, file: &HclFile, scope: &Scope, depth: usize) -> Node {
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

/// A firewall policy and its rule collection groups (priority, rules).
struct Policy {
    address: String,
    name: Field<String>,
    dns_proxy: Field<bool>,
    groups: Vec<(f64, Vec<(f64, crate::model::FirewallRule)>)>,
}

/// `next_hop_in_ip_address = azurerm_firewall.X.ip_configuration[0].private_ip_address`.
fn firewall_ref(expr: &Expression, file: &HclFile) -> Option<Link> {
    use hcl::edit::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else { return None };
    if root.as_str() != "azurerm_firewall" {
        return None;
    }
    let name = match t.operators.first().map(|o| o.value()) {
        Some(Op::GetAttr(n)) => n.as_str().to_string(),
        _ => return None,
    };
    let mentions_ip = t
        .operators
        .iter()
        .any(|o| matches!(o.value(), Op::GetAttr(a) if a.as_str() == "private_ip_address"));
    mentions_ip.then(|| {
        Link::Address(
            format!("azurerm_firewall.{name}"),
            Origin::new(file.file, expr.span().unwrap_or(0..0)),
            0,
        )
    })
}

/// The network rules of `collection` blocks (policy groups) or of the
/// resource's own `rule` blocks (classic collections), each with the
/// collection's priority.
fn network_rules(
    ev: &Evaluator,
    r: &ResourceBlock,
    inst: &Instance,
    collection: &str,
    action: Option<Field<Access>>,
) -> Vec<(f64, crate::model::FirewallRule)> {
    let mut out = Vec::new();
    let lower_rules =
        |body: &Body, scope: &Scope, action: Field<Access>, priority: f64, out: &mut Vec<(f64, crate::model::FirewallRule)>| {
            let (rules, _) = nested_blocks(ev, body, "rule", r.file, scope);
            for (rb, rs, ro) in rules {
                let f = Fields::from_body(ev, rb, &r.file.text, r.file.file, &rs, ro);
                let mut destinations = f.list("destination_addresses", AddressMatch::parse, "an address prefix or service tag");
                destinations.extend(f.list(
                    "destination_ip_groups",
                    |s| Some(AddressMatch::ApplicationSecurityGroup(s.to_string())),
                    "an IP group",
                ));
                out.push((
                    priority,
                    crate::model::FirewallRule {
                        name: f.string("name").unwrap_or_else(|| missing(&f, "name")),
                        action: action.clone(),
                        protocols: f.list("protocols", Protocol::parse, "a protocol"),
                        destination_ports: f.list("destination_ports", PortRange::parse, "a port or port range"),
                        destination_addresses: destinations,
                        destination_fqdns: f.list("destination_fqdns", |s| Some(s.to_ascii_lowercase()), "a name"),
                        origin: f.origin.clone(),
                    },
                ));
            }
        };
    if collection.is_empty() {
        if let Some(action) = action {
            lower_rules(&r.block.body, &inst.scope, action, 0.0, &mut out);
        }
        return out;
    }
    let (collections, _) = nested_blocks(ev, &r.block.body, collection, r.file, &inst.scope);
    for (cb, cs, co) in collections {
        let cf = Fields::from_body(ev, cb, &r.file.text, r.file.file, &cs, co);
        let action = cf
            .parsed("action", Access::parse, "Allow or Deny")
            .unwrap_or_else(|| missing(&cf, "action"));
        let priority = cf
            .parsed("priority", |s| s.parse::<f64>().ok(), "a number")
            .and_then(|f| f.known().copied())
            .unwrap_or(f64::MAX);
        lower_rules(cb, &cs, action, priority, &mut out);
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

/// Route tables, routes, NSGs and rules written in `.tf.json`.
fn lower_json(ev: &Evaluator, module: &TfModule, model: &mut Model) {
    let scope = Scope::default();
    let mut routes: Vec<(Fields, String)> = Vec::new();
    let mut rules: Vec<(Fields, String)> = Vec::new();
    for jf in &module.json_files {
        let Some(resources) = jf.root.get("resource") else { continue };
        for (ty, named) in resources.members() {
            for (name, bodies) in named.members() {
                for body in bodies.blocks() {
                    let address = format!("{ty}.{name}");
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
                            let propagate = match (
                                fields.bool("bgp_route_propagation_enabled"),
                                fields.bool("disable_bgp_route_propagation"),
                            ) {
                                (Some(p), _) => p,
                                (None, Some(Field::Known(d, o))) => Field::Known(!d, o),
                                (None, Some(u)) => u,
                                (None, None) => Field::Known(true, origin.clone()),
                            };
                            model.route_tables.push(RouteTable {
                                address: address.clone(),
                                namespace: 0,
                                name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                                origin: origin.clone(),
                                routes: nested("route").iter().map(lower_route).collect(),
                                incomplete: Vec::new(),
                                propagate_gateway_routes: propagate,
                                conditional: None,
                                authoring: Authoring {
                                    dialect: Dialect::Terraform,
                                    style: RouteStyle::AttributeList,
                                    indent: String::new(),
                                    reference: address,
                                    insert_at: None,
                                },
                                cloud: None,
                                called_from: Vec::new(),
                            });
                        }
                        "azurerm_network_security_group" => model.nsgs.push(Nsg {
                            address,
                            namespace: 0,
                            name: fields.string("name").unwrap_or_else(|| missing(&fields, "name")),
                            origin,
                            rules: nested("security_rule").iter().map(lower_rule).collect(),
                            incomplete: Vec::new(),
                            conditional: None,
                            dialect: Dialect::Terraform,
                            cloud: None,
                            called_from: Vec::new(),
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
            for t in model.route_tables.iter_mut().filter(|t| t.name.known() == Some(&parent)) {
                t.routes.push(route.clone());
            }
        }
    }
    for (f, address) in rules {
        let rule = SecurityRule {
            resource: Some(address),
            ..lower_rule(&f)
        };
        if let Some(Field::Known(parent, _)) = f.string("network_security_group_name") {
            for n in model.nsgs.iter_mut().filter(|n| n.name.known() == Some(&parent)) {
                n.rules.push(rule.clone());
            }
        }
    }
}
