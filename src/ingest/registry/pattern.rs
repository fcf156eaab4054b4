//! The hub-networking patterns (`avm/ptn/network/hub-networking`,
//! `Azure/avm-ptn-hubnetworking/azurerm`): one call deploys, per hub, a
//! virtual network with its subnets, route tables with routes the pattern
//! writes itself (a default route to the hub's firewall or router, routes to
//! the other hubs), a firewall and a mesh of peerings.
//!
//! Why code and not the data mapping of `policies/modules/avm.hcl`: the
//! mapping reshapes inputs into one resource, but here one input (the map of
//! hubs) becomes several resources that refer to each other, and some of
//! what matters most is not an input at all (the pattern's own 0.0.0.0/0
//! route, which subnets get its table). So avm.hcl maps only the map of hubs
//! (`hubs`, with the same version checks as every module: the pattern's
//! interfaces in versions.hcl), and this file builds each hub's resources in
//! Azure's REST shape from it and lowers them with the shared REST lowering,
//! as the pattern's own templates would deploy them. The pattern's behaviour
//! read here was checked against its sources: Bicep 0.1.0–0.5.0 (the route
//! table and firewall are named by the hub's key before 0.3.0, `hubsByKey`),
//! Terraform 0.4.0 onwards (the routing of `locals.routing.tf` and
//! `locals.subnet.tf` has not changed since).

use super::lower::Call;
use super::network::id_input;
use super::reshape::elements;
use crate::analysis::Tri;
use crate::ingest::azure::{self, Deferred, Node, NodeKind, Resource};
use crate::ingest::value::Val;
use crate::model::{Authoring, Field, Link, Model, Peering, Unresolved};
use crate::source::Origin;

fn obj(origin: &Origin, props: Vec<(&str, Node)>) -> Node {
    Node {
        kind: NodeKind::Object(props.into_iter().map(|(k, v)| (k.to_string(), v)).collect()),
        origin: origin.clone(),
    }
}

fn string(s: &str, origin: &Origin) -> Node {
    Node::value(Val::String(s.to_string()), origin.clone())
}

fn field(n: &Node, key: &str) -> Option<Node> {
    n.present(key)
}

/// Whether an optional input is set: absent or null is no, an unknown value
/// is unknown.
fn is_set(n: Option<&Node>) -> Tri {
    let Some(n) = n else { return Tri::No };
    match n.to_val() {
        Val::Null => Tri::No,
        Val::Unknown(r) => Tri::Unknown(vec![Unresolved {
            reason: r.to_string(),
            origin: n.origin.clone(),
        }]),
        _ => Tri::Yes,
    }
}

fn string_of(n: Option<&Node>) -> Option<String> {
    n.and_then(|n| n.to_val().to_tf_string())
}

/// One route in REST shape, with the firewall it goes through (if any).
struct NewRoute {
    node: Node,
    firewall: Option<Link>,
}

fn route(name: &str, prefix: Node, hop: &str, ip: Option<Node>, firewall: Option<Link>, origin: &Origin) -> NewRoute {
    let mut props = vec![("addressPrefix", prefix), ("nextHopType", string(hop, origin))];
    if let Some(ip) = ip {
        props.push(("nextHopIpAddress", ip));
    }
    NewRoute {
        node: obj(origin, vec![("name", string(name, origin)), ("properties", obj(origin, props))]),
        firewall,
    }
}

struct Table {
    address: String,
    name: Field<String>,
    origin: Origin,
    routes: Vec<NewRoute>,
    /// Routes written by the user as one value (Bicep `routes`).
    written: Option<Node>,
    disable_propagation: bool,
    conditional: Option<Unresolved>,
}

fn lower_table(model: &mut Model, call: &Call, t: Table) {
    let mut routes: Vec<Node> = Vec::new();
    let mut firewalls = Vec::new();
    let mut incomplete = Vec::new();
    if let Some(w) = &t.written {
        match w.items() {
            Ok(items) => {
                firewalls.extend(items.iter().map(|_| None));
                routes.extend(items);
            }
            Err(u) => incomplete.push(u),
        }
    }
    for r in t.routes {
        routes.push(r.node);
        firewalls.push(r.firewall);
    }
    let body = obj(
        &t.origin,
        vec![(
            "properties",
            obj(
                &t.origin,
                vec![
                    (
                        "routes",
                        Node {
                            kind: NodeKind::List(routes),
                            origin: t.origin.clone(),
                        },
                    ),
                    (
                        "disableBgpRoutePropagation",
                        Node::value(Val::Bool(t.disable_propagation), t.origin.clone()),
                    ),
                ],
            ),
        )],
    );
    let mut table = azure::route_table(Resource {
        address: t.address,
        name: t.name,
        body,
        origin: t.origin,
        conditional: t.conditional.or_else(|| call.conditional.clone()),
        dialect: call.dialect,
        // New routes cannot be placed inside a pattern's generated table.
        authoring: Authoring {
            insert_at: None,
            ..call.authoring.clone()
        },
    });
    for (r, fw) in table.routes.iter_mut().zip(firewalls) {
        if fw.is_some() {
            r.next_hop_firewall = fw;
        }
    }
    table.incomplete.extend(incomplete);
    table.called_from.push(call.site.clone());
    model.route_tables.push(table);
}

fn here(address: &str, origin: &Origin) -> Link {
    Link::Address(address.to_string(), origin.clone(), 0)
}

fn peering(address: String, origin: &Origin, vnet: Link, remote: Link, transit: Field<bool>, use_gw: Field<bool>) -> Peering {
    Peering {
        address,
        namespace: 0,
        origin: origin.clone(),
        vnet: Some(vnet),
        remote: Some(remote),
        use_remote_gateways: use_gw,
        allow_gateway_transit: transit,
    }
}

fn flag(n: Option<Node>, default: bool, origin: &Origin) -> Field<bool> {
    match n.map(|n| (n.to_val(), n.origin)) {
        None | Some((Val::Null, _)) => Field::Known(default, origin.clone()),
        Some((Val::Bool(b), o)) => Field::Known(b, o),
        Some((Val::Unknown(r), o)) => Field::unknown(Unresolved {
            reason: r.to_string(),
            origin: o,
        }),
        Some((_, o)) => Field::unknown(Unresolved {
            reason: "the flag is not a bool".into(),
            origin: o,
        }),
    }
}

/// The hubs, or why they cannot be read (a KG901 note for the call).
fn hubs(body: &Node) -> Result<(Vec<(String, Node)>, bool), Unresolved> {
    let (node, by_key) = match (body.present("hubs"), body.present("hubsByKey")) {
        (Some(n), _) => (n, false),
        (None, Some(n)) => (n, true),
        (None, None) => return Ok((Vec::new(), false)),
    };
    let items = elements(&node).map_err(|n| Unresolved {
        reason: match n.to_val() {
            Val::Unknown(r) => format!("its hubs are unknown ({r})"),
            _ => "its hubs are not a map kmsguard can read".into(),
        },
        origin: n.origin.clone(),
    })?;
    let mut out = Vec::new();
    for (key, hub) in items {
        let Some(key) = key else {
            return Err(Unresolved {
                reason: "its hubs are not a map".into(),
                origin: hub.origin,
            });
        };
        if let Val::Unknown(r) = hub.to_val() {
            return Err(Unresolved {
                reason: format!("hub {key} is unknown ({r})"),
                origin: hub.origin,
            });
        }
        out.push((key, hub));
    }
    Ok((out, by_key))
}

pub(super) fn lower(body: &Node, call: &Call, model: &mut Model, deferred: &mut Deferred) {
    let read = hubs(body);
    match (read, call.dialect) {
        (Err(why), _) => model.unchecked.push((call.address.clone(), why)),
        (Ok((hubs, by_key)), crate::model::Dialect::Terraform) if !by_key => terraform(&hubs, call, model, deferred),
        (Ok((hubs, by_key)), _) => bicep(&hubs, by_key, call, model, deferred),
    }
}

/// `avm/ptn/network/hub-networking`: per hub (named by its key) a network
/// with the subnets as written, one route table with the hub's `routes`
/// (gateway propagation off) associated with AzureFirewallSubnet when the
/// hub has a firewall, the firewall (its classic network rule collections),
/// and the peerings of `peeringSettings`, each with a route to the remote
/// hub's first address prefix through the firewall.
fn bicep(hubs: &[(String, Node)], by_key: bool, call: &Call, model: &mut Model, deferred: &mut Deferred) {
    for (key, hub) in hubs {
        let o = &hub.origin;
        let base = format!("{}/{key}", call.address);
        let vnet_address = format!("{base}/virtualNetwork");
        let table_address = format!("{base}/routeTable");
        let fw_address = format!("{base}/azureFirewall");
        // Whether the hub has a firewall decides where its routes go (the
        // mesh routes run through it): unknown, the hub is not judged.
        let firewall = match field(hub, "enableAzureFirewall").map(|n| (n.to_val(), n.origin.clone())) {
            Some((Val::Bool(b), _)) => b,
            Some((Val::Unknown(r), at)) => {
                model.unchecked.push((
                    base.clone(),
                    Unresolved {
                        reason: format!("whether hub {key} has an Azure Firewall is unknown ({r}); its routes are not judged"),
                        origin: at,
                    },
                ));
                continue;
            }
            // Absent or null: the pattern deploys no firewall (`if (hub.value.enableAzureFirewall)`).
            _ => false,
        };
        let settings = field(hub, "azureFirewallSettings");
        model
            .vnets
            .push(azure::vnet(vnet_address.clone(), Field::Known(key.clone(), o.clone()), o.clone()));
        bicep_subnets(model, hub, &vnet_address, firewall.then_some(table_address.as_str()));
        let fw_link = firewall.then(|| here(&fw_address, o));
        let mut mesh = Vec::new();
        if let Some(Ok(peers)) = field(hub, "peeringSettings").map(|p| p.items()) {
            for (i, peer) in peers.iter().enumerate() {
                let po = &peer.origin;
                let remote_name = field(peer, "remoteVirtualNetworkName");
                let remote = Link::Id(match remote_name.as_ref().map(|n| (n.to_val(), n.origin.clone())) {
                    Some((Val::String(s), ro)) => Field::Known(s, ro),
                    _ => Field::unknown(Unresolved {
                        reason: "the remote network of a peering is unknown".into(),
                        origin: po.clone(),
                    }),
                });
                model.peerings.push(peering(
                    format!("{base}/peerings/{i}"),
                    po,
                    here(&vnet_address, o),
                    remote,
                    flag(field(peer, "allowGatewayTransit"), false, po),
                    flag(field(peer, "useRemoteGateways"), false, po),
                ));
                // The route to the remote hub: its first address prefix, when
                // the remote is a hub of this call.
                let remote_hub = string_of(remote_name.as_ref()).and_then(|n| hubs.iter().find(|(k, _)| *k == n));
                let prefix = remote_hub
                    .and_then(|(_, h)| field(h, "addressPrefixes"))
                    .and_then(|p| p.items().ok())
                    .and_then(|p| p.into_iter().next())
                    .unwrap_or_else(|| {
                        Node::value(
                            Val::unknown("the address prefix of a peered network that is not a hub of this call"),
                            po.clone(),
                        )
                    });
                mesh.push(route(
                    &format!("{key}-peering-{i}"),
                    prefix,
                    "VirtualAppliance",
                    None,
                    fw_link.clone(),
                    po,
                ));
            }
        }
        let named = |k: &str| {
            if by_key {
                None
            } else {
                settings.as_ref().and_then(|s| field(s, k)).or_else(|| field(hub, k))
            }
        };
        let table_name = named("routeTableName")
            .map(|n| azure_name(&n))
            .unwrap_or_else(|| Field::Known(key.clone(), o.clone()));
        lower_table(
            model,
            call,
            Table {
                address: table_address,
                name: table_name,
                origin: o.clone(),
                routes: mesh,
                written: field(hub, "routes"),
                disable_propagation: true,
                conditional: None,
            },
        );
        if firewall {
            bicep_firewall(model, deferred, hub, by_key, key, fw_address);
        }
    }
}

/// A Bicep hub's subnets as written; AzureFirewallSubnet gets the hub's
/// table when the hub has a firewall (`firewall_table`).
fn bicep_subnets(model: &mut Model, hub: &Node, vnet_address: &str, firewall_table: Option<&str>) {
    let o = &hub.origin;
    let Some(Ok(items)) = field(hub, "subnets").map(|l| l.items()) else {
        return;
    };
    for item in items {
        let name = string_of(field(&item, "name").as_ref()).unwrap_or_else(|| "?".into());
        let id_of = |k: &str| field(&item, k).map(|n| obj(&n.origin.clone(), vec![("id", n)]));
        let mut props = Vec::new();
        if let Some(rt) = id_of("routeTableResourceId") {
            props.push(("routeTable", rt));
        }
        if let Some(nsg) = id_of("networkSecurityGroupResourceId") {
            props.push(("networkSecurityGroup", nsg));
        }
        let rest = obj(
            &item.origin,
            vec![
                ("name", field(&item, "name").unwrap_or_else(|| string("?", &item.origin))),
                ("properties", obj(&item.origin, props)),
            ],
        );
        let mut s = azure::subnet(&rest, format!("{vnet_address}/subnets/{name}"), Some(here(vnet_address, o)));
        if let Some(table) = firewall_table.filter(|_| name.eq_ignore_ascii_case("AzureFirewallSubnet")) {
            s.route_table = Some(here(table, o));
        }
        model.subnets.push(s);
    }
}

/// A Bicep hub's firewall: its classic network rule collections, or the
/// policy of `firewallPolicyId` (joined once the deployment is read, like a
/// firewall resource's), named by `azureFirewallName`, or before 0.3.0
/// (`by_key`) by the hub's key.
fn bicep_firewall(model: &mut Model, deferred: &mut Deferred, hub: &Node, by_key: bool, key: &str, fw_address: String) {
    let o = &hub.origin;
    let settings = field(hub, "azureFirewallSettings");
    let fw_name = settings
        .as_ref()
        .filter(|_| !by_key)
        .and_then(|s| field(s, "azureFirewallName"))
        .map(|n| azure_name(&n))
        .unwrap_or_else(|| Field::Known(key.to_string(), o.clone()));
    let mut props = Vec::new();
    if let Some(c) = settings.as_ref().and_then(|s| field(s, "networkRuleCollections")) {
        props.push(("networkRuleCollections", c));
    }
    let fo = settings.as_ref().map(|s| s.origin.clone()).unwrap_or_else(|| o.clone());
    let (fw, _) = azure::firewall(&obj(&fo, vec![("properties", obj(&fo, props))]), fw_address, fw_name, fo.clone());
    if let Some(id) = id_input(settings.as_ref().and_then(|s| field(s, "firewallPolicyId"))) {
        deferred.firewall_policies.push((fw.address.clone(), Link::Id(id)));
    }
    model.firewalls.push(fw);
}

fn azure_name(n: &Node) -> Field<String> {
    match n.to_val() {
        Val::Unknown(r) => Field::unknown(Unresolved {
            reason: r.to_string(),
            origin: n.origin.clone(),
        }),
        v => match v.to_tf_string() {
            Some(s) => Field::Known(s, n.origin.clone()),
            None => Field::unknown(Unresolved {
                reason: "the name is not a string".into(),
                origin: n.origin.clone(),
            }),
        },
    }
}

/// `Azure/avm-ptn-hubnetworking/azurerm`: per hub a network with its
/// subnets; when the hub has a firewall or a router (`hub_router_ip_address`)
/// two route tables, one for the user subnets (0.0.0.0/0 to the firewall or
/// router, routes to the other hubs' `routing_address_space`, then
/// `route_table_entries_user_subnets`) and one for AzureFirewallSubnet
/// (0.0.0.0/0 to Internet, the mesh routes, `route_table_entries_firewall`),
/// gateway propagation on; user subnets get the first unless
/// `route_table.assign_generated_route_table` is false; the firewall (its
/// policy's rules are not inputs); and a full mesh of peerings between hubs
/// with `mesh_peering_enabled` (transit allowed, remote gateways not used).
fn terraform(hubs: &[(String, Node)], call: &Call, model: &mut Model, deferred: &mut Deferred) {
    for (key, hub) in hubs {
        let o = &hub.origin;
        let vnet_address = addr(call, key, "virtual_network");
        let vnet_name = field(hub, "name")
            .map(|n| azure_name(&n))
            .unwrap_or_else(|| Field::Known(key.clone(), o.clone()));
        model.vnets.push(azure::vnet(vnet_address.clone(), vnet_name, o.clone()));
        let create = creates(hub);
        let conditional = match &create {
            Tri::Unknown(why) => why.first().map(|u| Unresolved {
                reason: format!(
                    "whether hub {key} has a firewall or a router, and so its route tables, is unknown: {}",
                    u.reason
                ),
                origin: u.origin.clone(),
            }),
            _ => None,
        };
        let creating = !matches!(create, Tri::No);
        let (hop_ip, hop_fw) = hop_of(call, key, hub);
        let default_origin = field(hub, "firewall")
            .filter(|_| matches!(fw_of(hub), Tri::Yes))
            .or_else(|| field(hub, "hub_router_ip_address"))
            .map(|n| n.origin)
            .unwrap_or_else(|| o.clone());
        let generated = |what: &str, name_input: &'static str, default_name: String| GeneratedTable {
            hub,
            address: addr(call, key, what),
            name_input,
            default_name,
            conditional: conditional.clone(),
        };
        // The user subnets' table.
        let user = generated(
            "route_table_user_subnets",
            "route_table_name_user_subnets",
            format!("rt-user-subnets-{key}"),
        );
        let user_address = user.address.clone();
        let mut user_routes = Vec::new();
        if creating {
            let prefix = string("0.0.0.0/0", &default_origin);
            user_routes.push(route(
                &format!("{key}-0.0.0.0-0"),
                prefix,
                "VirtualAppliance",
                hop_ip.clone(),
                hop_fw.clone(),
                &default_origin,
            ));
        }
        tf_mesh(hubs, key, hub, creating, call, &mut user_routes);
        let user_table = user.lower(model, call, creating, user_routes, "route_table_entries_user_subnets");
        // The firewall subnet's table.
        let fw = generated("route_table_firewall", "route_table_name_firewall", format!("rt-firewall-{key}"));
        let fw_table_address = fw.address.clone();
        let mut fw_routes = Vec::new();
        if creating {
            fw_routes.push(route(
                "internet",
                string("0.0.0.0/0", &default_origin),
                "Internet",
                None,
                None,
                &default_origin,
            ));
        }
        tf_mesh(hubs, key, hub, creating, call, &mut fw_routes);
        fw.lower(model, call, creating, fw_routes, "route_table_entries_firewall");
        tf_subnets(model, hub, &vnet_address, user_table.then_some(user_address.as_str()));
        tf_firewall(model, deferred, call, key, hub, &vnet_address, &fw_table_address);
        // The mesh of peerings.
        if mesh_enabled(hub) {
            for (tk, _) in hubs.iter().filter(|(tk, _)| tk != key) {
                model.peerings.push(peering(
                    format!("{}/{key}/peering/{tk}", call.address),
                    o,
                    here(&vnet_address, o),
                    here(&addr(call, tk, "virtual_network"), o),
                    Field::Known(true, o.clone()),
                    Field::Known(false, o.clone()),
                ));
            }
        }
    }
}

/// Whether a Terraform hub has a firewall.
fn fw_of(hub: &Node) -> Tri {
    is_set(field(hub, "firewall").as_ref())
}

/// Whether a Terraform hub's route tables are created: it has a firewall or
/// a router.
fn creates(hub: &Node) -> Tri {
    match (fw_of(hub), is_set(field(hub, "hub_router_ip_address").as_ref())) {
        (Tri::Yes, _) | (_, Tri::Yes) => Tri::Yes,
        (Tri::Unknown(a), Tri::Unknown(b)) => Tri::Unknown(a.into_iter().chain(b).collect()),
        (Tri::Unknown(a), _) | (_, Tri::Unknown(a)) => Tri::Unknown(a),
        _ => Tri::No,
    }
}

fn mesh_enabled(hub: &Node) -> bool {
    !matches!(field(hub, "mesh_peering_enabled").map(|n| n.to_val()), Some(Val::Bool(false)))
}

/// The address of what the Terraform pattern deploys for a hub.
fn addr(call: &Call, key: &str, what: &str) -> String {
    format!("{}/{key}/{what}", call.address)
}

/// The next hop a hub's routes to it go through: its firewall, else its router.
fn hop_of(call: &Call, key: &str, hub: &Node) -> (Option<Node>, Option<Link>) {
    match fw_of(hub) {
        Tri::Yes => (None, Some(here(&addr(call, key, "firewall"), &hub.origin))),
        _ => (field(hub, "hub_router_ip_address"), None),
    }
}

/// Routes to the other hubs' routing address spaces.
fn tf_mesh(hubs: &[(String, Node)], key: &str, hub: &Node, creating: bool, call: &Call, out: &mut Vec<NewRoute>) {
    if !mesh_enabled(hub) || !creating {
        return;
    }
    for (dk, dst) in hubs.iter().filter(|(dk, _)| dk != key) {
        if !mesh_enabled(dst) || matches!(creates(dst), Tri::No) {
            continue;
        }
        let (ip, fw) = hop_of(call, dk, dst);
        if let Some(Ok(cidrs)) = field(dst, "routing_address_space").map(|s| s.items()) {
            for (i, cidr) in cidrs.into_iter().enumerate() {
                let ro = cidr.origin.clone();
                out.push(route(
                    &format!("{key}-{dk}-{i}"),
                    cidr,
                    "VirtualAppliance",
                    ip.clone(),
                    fw.clone(),
                    &ro,
                ));
            }
        }
    }
}

/// The routes a hub's `route_table_entries_*` input adds to a table.
fn tf_entries(hub: &Node, k: &str, out: &mut Vec<NewRoute>, incomplete: &mut Vec<Unresolved>) {
    match field(hub, k).map(|e| e.items()) {
        None => {}
        Some(Ok(items)) => {
            for e in items {
                let eo = e.origin.clone();
                let mut props = vec![
                    (
                        "addressPrefix",
                        field(&e, "address_prefix").unwrap_or_else(|| Node::value(Val::Null, eo.clone())),
                    ),
                    (
                        "nextHopType",
                        field(&e, "next_hop_type").unwrap_or_else(|| Node::value(Val::Null, eo.clone())),
                    ),
                ];
                if let Some(ip) = field(&e, "next_hop_ip_address") {
                    props.push(("nextHopIpAddress", ip));
                }
                let name = field(&e, "name").unwrap_or_else(|| string("?", &eo));
                out.push(NewRoute {
                    node: obj(&eo, vec![("name", name), ("properties", obj(&eo, props))]),
                    firewall: None,
                });
            }
        }
        Some(Err(u)) => incomplete.push(u),
    }
}

/// One of the two route tables the Terraform pattern generates for a hub.
struct GeneratedTable<'h> {
    hub: &'h Node,
    address: String,
    /// The input that names it (`route_table_name_user_subnets`, …).
    name_input: &'static str,
    default_name: String,
    conditional: Option<Unresolved>,
}

impl GeneratedTable<'_> {
    /// Lowers the table with `routes` and the hub's `entries`, when the
    /// pattern creates it; whether it does.
    fn lower(self, model: &mut Model, call: &Call, creating: bool, mut routes: Vec<NewRoute>, entries: &str) -> bool {
        let mut incomplete = Vec::new();
        tf_entries(self.hub, entries, &mut routes, &mut incomplete);
        if !(creating || !routes.is_empty() || !incomplete.is_empty()) {
            return false;
        }
        let o = &self.hub.origin;
        let name = field(self.hub, self.name_input)
            .map(|n| azure_name(&n))
            .unwrap_or_else(|| Field::Known(self.default_name.clone(), o.clone()));
        let before = model.route_tables.len();
        lower_table(
            model,
            call,
            Table {
                address: self.address,
                name,
                origin: o.clone(),
                routes,
                written: None,
                disable_propagation: false,
                conditional: self.conditional,
            },
        );
        if let Some(t) = model.route_tables.get_mut(before) {
            t.incomplete.extend(incomplete);
        }
        true
    }
}

/// A Terraform hub's subnets: the user subnets' table unless
/// `route_table.assign_generated_route_table` is false.
fn tf_subnets(model: &mut Model, hub: &Node, vnet_address: &str, user_table: Option<&str>) {
    let o = &hub.origin;
    let Some(Ok(subnets)) = field(hub, "subnets").map(|s| elements(&s).map_err(|_| ())) else {
        return;
    };
    for (sk, s) in subnets {
        let so = s.origin.clone();
        let name = field(&s, "name")
            .map(|n| azure_name(&n))
            .unwrap_or_else(|| Field::Known(sk.clone().unwrap_or_default(), so.clone()));
        let address = format!("{vnet_address}/subnets/{}", sk.unwrap_or_default());
        let rt = field(&s, "route_table");
        let generated = !matches!(
            rt.as_ref()
                .and_then(|r| field(r, "assign_generated_route_table"))
                .map(|n| n.to_val()),
            Some(Val::Bool(false))
        );
        let route_table = if generated {
            user_table.map(|a| here(a, o))
        } else {
            rt.as_ref().and_then(|r| field(r, "id")).map(|id| Link::Id(azure_name(&id)))
        };
        let nsg = field(&s, "network_security_group")
            .and_then(|n| field(&n, "id"))
            .map(|id| Link::Id(azure_name(&id)));
        model.subnets.push(crate::model::Subnet {
            route_table,
            nsg,
            vnet: Some(here(vnet_address, o)),
            ..crate::model::Subnet::new(address, name, so)
        });
    }
}

/// A Terraform hub's firewall and its subnet, with the firewall table
/// unless `subnet_route_table_id` names another. Its rules are those of the
/// policy of `firewall_policy_id`, joined once the deployment is read; the
/// policy the pattern creates otherwise (`firewall_policy`) gets its rules
/// from groups that name it by the pattern's outputs, which are not read:
/// the firewall's rules stay unknown then.
fn tf_firewall(model: &mut Model, deferred: &mut Deferred, call: &Call, key: &str, hub: &Node, vnet_address: &str, fw_table_address: &str) {
    let o = &hub.origin;
    let Some(fw) = field(hub, "firewall").filter(|_| matches!(fw_of(hub), Tri::Yes)) else {
        return;
    };
    let fo = fw.origin.clone();
    let own_table = field(&fw, "subnet_route_table_id").filter(|n| !matches!(n.to_val(), Val::Null));
    model.subnets.push(crate::model::Subnet {
        route_table: Some(match own_table {
            Some(id) => Link::Id(azure_name(&id)),
            None => here(fw_table_address, o),
        }),
        vnet: Some(here(vnet_address, o)),
        ..crate::model::Subnet::new(
            format!("{vnet_address}/subnets/AzureFirewallSubnet"),
            Field::Known("AzureFirewallSubnet".into(), fo.clone()),
            fo.clone(),
        )
    });
    let name = field(&fw, "name")
        .filter(|n| !matches!(n.to_val(), Val::Null))
        .map(|n| azure_name(&n))
        .unwrap_or_else(|| Field::Known(format!("fw-{key}"), fo.clone()));
    let policy = id_input(field(&fw, "firewall_policy_id").filter(|n| !matches!(n.to_val(), Val::Null)));
    let (fw, _) = azure::firewall(&obj(&fo, vec![]), addr(call, key, "firewall"), name, fo);
    if let Some(id) = policy {
        deferred.firewall_policies.push((fw.address.clone(), Link::Id(id)));
    }
    model.firewalls.push(fw);
}
