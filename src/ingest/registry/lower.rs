//! Lowering a reshaped call into the model.

use super::catalogue::ModuleMap;
use super::network::Lowered;
use super::reshape::name_field;
use super::Produces;
use crate::ingest::azure::{self, Node, Resource};
use crate::ingest::value::Val;
use crate::model::{Authoring, Dialect, Field, Link, Model, Peering, ResourceId, Subnet, Unresolved};
use crate::source::Origin;

/// A call lowered: what the module deploys, at `address`.
pub struct Call {
    pub address: String,
    /// The call's header, where table-level findings point.
    pub origin: Origin,
    pub conditional: Option<Unresolved>,
    pub dialect: Dialect,
    pub authoring: Authoring,
    /// The call itself, named as related by every finding inside it.
    pub site: Origin,
}

pub fn lower(module: &ModuleMap, body: Node, call: Call) -> Lowered {
    if let Some(lowered) = super::network::lower(module, &body, &call) {
        return lowered;
    }
    let mut model = Model::default();
    let mut deferred = azure::Deferred::default();
    let name = name_field(&body, &call.origin);
    match module.produces {
        Produces::RouteTable | Produces::Nsg => {
            let res = Resource {
                address: call.address,
                name,
                body,
                origin: call.origin,
                conditional: call.conditional,
                dialect: call.dialect,
                authoring: call.authoring,
            };
            if module.produces == Produces::RouteTable {
                let associated = associated_subnets(&res.body, &res.address, &res.origin);
                let mut t = azure::route_table(res);
                t.called_from.push(call.site);
                model.route_tables.push(t);
                model.subnets.extend(associated);
            } else {
                let mut n = azure::nsg(res);
                n.called_from.push(call.site);
                model.nsgs.push(n);
            }
        }
        Produces::VirtualNetwork => {
            let here = Link::Address(call.address.clone(), call.origin.clone(), 0);
            model.subnets.extend(azure::vnet_subnets(&body, &call.address));
            model.peerings.extend(azure::vnet_peerings(&body, &call.address));
            model.peerings.extend(reverse_peerings(&body, &call.address, &here));
            // The network itself: its subnets and peerings name it, and a
            // gateway naming it by id finds its GatewaySubnet.
            model.vnets.push(azure::vnet(call.address, name, call.origin));
        }
        Produces::Subnet => {
            let vnet = id_at(&body, "parent.resource_id");
            model.subnets.push(azure::subnet(&body, call.address, vnet));
        }
        Produces::HubNetworking => super::pattern::lower(&body, &call, &mut model, &mut deferred),
        Produces::Peering => {
            let local = id_at(&body, "parent.resource_id");
            let remote = id_at(&body, "remote.resource_id");
            let mut p = azure::peering(&body, call.address.clone(), local.clone());
            p.remote = remote.clone();
            model.peerings.push(p);
            if let Some(reverse) = body.present("reverse") {
                model
                    .peerings
                    .extend(reverse_peering(&reverse, format!("{}/reverse", call.address), remote, local));
            }
        }
        // Lowered by `network::lower` above.
        Produces::Firewall | Produces::FirewallPolicy | Produces::RuleCollectionGroup | Produces::Gateway => {}
    }
    Lowered { model, deferred }
}

/// A link to the resource whose id is at `path` (an id or an unknown value).
fn id_at(body: &Node, path: &str) -> Option<Link> {
    let mut cur = body.clone();
    for seg in path.split('.') {
        cur = cur.present(seg)?;
    }
    let field = match cur.to_val() {
        Val::Unknown(r) => Field::unknown(Unresolved {
            reason: r.to_string(),
            origin: cur.origin.clone(),
        }),
        v => match v.to_tf_string() {
            Some(s) => Field::Known(s, cur.origin.clone()),
            None => Field::unknown(Unresolved {
                reason: "the virtual network id is not a string".into(),
                origin: cur.origin.clone(),
            }),
        },
    };
    Some(Link::Id(field))
}

/// The peering a module creates on the remote network when asked
/// (`remotePeeringEnabled`, `create_reverse_peering`): from `local` (the
/// remote network) back to `remote` (the module's). Not created when the
/// flag is false or absent (its default); when the flag is unknown, the
/// peering may exist, so its flags are unknown.
fn reverse_peering(node: &Node, address: String, local: Option<Link>, remote: Option<Link>) -> Option<Peering> {
    let enabled = node.present("enabled")?;
    let mut p = azure::peering(node, address, local);
    p.remote = remote;
    match enabled.to_val() {
        Val::Bool(true) => Some(p),
        Val::Unknown(r) => {
            let why = Unresolved {
                reason: format!("whether the reverse peering is created is unknown ({r})"),
                origin: enabled.origin.clone(),
            };
            p.use_remote_gateways = Field::unknown(why.clone());
            p.allow_gateway_transit = Field::unknown(why);
            Some(p)
        }
        _ => None,
    }
}

/// The reverse peerings of a virtual network module's `peerings`
/// (reshaped to `reversePeerings`, each naming the remote network as
/// `localVirtualNetwork.id`).
fn reverse_peerings(body: &Node, address: &str, here: &Link) -> Vec<Peering> {
    let Some(Ok(items)) = body.present("reversePeerings").map(|l| l.items()) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            reverse_peering(
                item,
                format!("{address}/reversePeerings/{i}"),
                id_at(item, "localVirtualNetwork.id"),
                Some(here.clone()),
            )
        })
        .collect()
}

/// Where a subnet a route table module associates by id
/// (`subnet_resource_ids`) is held until the unit is lowered: the subnet of
/// that id, with the table (see [`join_associated_subnets`]).
const ASSOCIATED: &str = "/subnet_resource_ids/";

/// The subnets a route table module associates with its table by id. An
/// id kmsguard cannot evaluate names no subnet, as for
/// azurerm_subnet_route_table_association.
fn associated_subnets(body: &Node, table: &str, origin: &crate::source::Origin) -> Vec<Subnet> {
    let Some(ids) = body.present("subnetResourceIds") else {
        return Vec::new();
    };
    let Ok(items) = super::reshape::elements(&ids) else {
        return Vec::new();
    };
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, (key, n))| {
            let id = n.to_val().to_tf_string()?;
            let parsed = ResourceId::parse(&id);
            let vnet = parsed.vnet_of_subnet()?.to_string();
            let name = parsed.name().to_string();
            Some(Subnet {
                route_table: Some(Link::Address(table.to_string(), origin.clone(), 0)),
                vnet: Some(Link::Id(Field::Known(vnet, n.origin.clone()))),
                ..Subnet::new(
                    format!("{table}{ASSOCIATED}{}", key.unwrap_or_else(|| i.to_string())),
                    Field::Known(name, n.origin.clone()),
                    n.origin,
                )
            })
        })
        .collect()
}

/// Joins each subnet a route table module associated by id to the one
/// subnet of that name and network the unit declares, which then uses the
/// table; one not declared here stays as the subnet of that id. Run once a
/// unit is lowered (its links are not resolved yet).
pub fn join_associated_subnets(model: &mut Model) {
    let vnet_name = |m: &Model, s: &Subnet| -> Option<String> {
        match s.vnet.as_ref()? {
            Link::Id(Field::Known(id, _)) => Some(ResourceId::parse(id).name().to_ascii_lowercase()),
            Link::Address(a, _, _) => m
                .vnets
                .iter()
                .find(|v| &v.address == a)
                .and_then(|v| v.name.known())
                .map(|n| n.to_ascii_lowercase()),
            Link::Id(Field::Unknown(_)) => None,
        }
    };
    let mut joined = Vec::new();
    for (ai, a) in model.subnets.iter().enumerate() {
        if !a.address.contains(ASSOCIATED) {
            continue;
        }
        let (Some(name), Some(vnet)) = (a.name.known(), vnet_name(model, a)) else {
            continue;
        };
        let found: Vec<usize> = model
            .subnets
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                !s.address.contains(ASSOCIATED)
                    && s.name.known().is_some_and(|n| n.eq_ignore_ascii_case(name))
                    && vnet_name(model, s).as_deref() == Some(vnet.as_str())
            })
            .map(|(i, _)| i)
            .collect();
        if let [one] = found.as_slice() {
            joined.push((ai, *one));
        }
    }
    for (ai, si) in &joined {
        let table = model.subnets.get(*ai).and_then(|a| a.route_table.clone());
        if let Some(s) = model.subnets.get_mut(*si) {
            // An association overrides what the subnet says only when it says nothing.
            if s.route_table.is_none() {
                s.route_table = table;
            }
        }
    }
    let drop: Vec<usize> = joined.iter().map(|(ai, _)| *ai).collect();
    let mut i = 0;
    model.subnets.retain(|_| {
        i += 1;
        !drop.contains(&(i - 1))
    });
}
