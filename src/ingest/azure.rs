//! Azure's REST shape, shared by the ARM and Bicep front ends and
//! Terraform's azapi resources: a resource is `{ name, properties: { … } }`, with routes under
//! `properties.routes` and NSG rules under `properties.securityRules`.
//!
//! Front ends evaluate a resource body into a [`Node`] tree — literal
//! objects keep a place per property, evaluated expressions share the
//! expression's place — and this module lowers it into the model.
//! Property names are matched case-insensitively, as Azure matches them.

use crate::ingest::value::Val;
use crate::model::{
    Access, AddressMatch, Authoring, Dialect, Direction, Field, Gateway, GatewayRoute, Link, NextHopType, Nsg, Peering, PortRange,
    Protocol, Route, RoutePrefix, RouteStyle, RouteTable, SecurityRule, Subnet, Unresolved, VirtualNetwork,
};
use crate::source::Origin;

mod firewalls;

pub use firewalls::{firewall, firewall_policy, rule_collection_group, FirewallPolicy, RuleCollectionGroup};

/// A value with the place it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A scalar, an unknown, or a composite produced by an expression.
    Value(Val),
    /// An object written out in the source, each property with its own place.
    Object(Vec<(String, Node)>),
    /// An array written out in the source.
    List(Vec<Node>),
}

impl Node {
    pub fn value(v: Val, origin: Origin) -> Node {
        Node {
            kind: NodeKind::Value(v),
            origin,
        }
    }

    /// A property, case-insensitively.
    pub fn get(&self, key: &str) -> Option<Node> {
        match &self.kind {
            NodeKind::Object(props) => props
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.clone()),
            NodeKind::Value(Val::Object(o)) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| Node::value(v.clone(), self.origin.clone())),
            NodeKind::Value(Val::Unknown(r)) => Some(Node::value(Val::Unknown(r.clone()), self.origin.clone())),
            _ => None,
        }
    }

    /// A property that is present and not null.
    pub fn present(&self, key: &str) -> Option<Node> {
        self.get(key).filter(|n| n.kind != NodeKind::Value(Val::Null))
    }

    /// The elements of an array, or why they are not known.
    pub fn items(&self) -> Result<Vec<Node>, Unresolved> {
        match &self.kind {
            NodeKind::List(l) => Ok(l.clone()),
            NodeKind::Value(Val::List(l)) => Ok(l.iter().map(|v| Node::value(v.clone(), self.origin.clone())).collect()),
            NodeKind::Value(Val::Null) => Ok(Vec::new()),
            NodeKind::Value(Val::Unknown(r)) => Err(Unresolved {
                reason: r.to_string(),
                origin: self.origin.clone(),
            }),
            _ => Err(Unresolved {
                reason: "expected an array".into(),
                origin: self.origin.clone(),
            }),
        }
    }

    /// Converts the tree back to a plain value (for expressions that read it).
    pub fn to_val(&self) -> Val {
        match &self.kind {
            NodeKind::Value(v) => v.clone(),
            NodeKind::Object(props) => Val::Object(props.iter().map(|(k, v)| (k.clone(), v.to_val())).collect()),
            NodeKind::List(l) => Val::List(l.iter().map(Node::to_val).collect()),
        }
    }

    fn string(&self, key: &str) -> Field<String> {
        match &self.kind {
            NodeKind::Value(Val::Unknown(r)) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: self.origin.clone(),
            }),
            NodeKind::Value(v) => match v.to_tf_string() {
                Some(s) => Field::Known(s, self.origin.clone()),
                None => Field::unknown(Unresolved {
                    reason: format!("{key} is a {}, not a string", v.type_name()),
                    origin: self.origin.clone(),
                }),
            },
            _ => Field::unknown(Unresolved {
                reason: format!("{key} is not a string"),
                origin: self.origin.clone(),
            }),
        }
    }
}

fn missing<T>(key: &str, origin: &Origin) -> Field<T> {
    Field::unknown(Unresolved {
        reason: format!("{key} is not set"),
        origin: origin.clone(),
    })
}

fn string_prop(node: &Node, key: &str) -> Option<Field<String>> {
    node.present(key).map(|n| n.string(key))
}

fn parsed<T>(node: &Node, key: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Field<T> {
    match string_prop(node, key) {
        None => missing(key, &node.origin),
        Some(Field::Known(s, o)) => match parse(&s) {
            Some(v) => Field::Known(v, o),
            None => Field::unknown(Unresolved {
                reason: format!("{key} \"{s}\" is not {what}"),
                origin: o,
            }),
        },
        Some(Field::Unknown(u)) => Field::Unknown(u),
    }
}

/// A string property or an array property, one field per entry.
fn list_prop<T>(node: &Node, key: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Vec<Field<T>> {
    let Some(n) = node.present(key) else { return Vec::new() };
    let one = |item: &Node| -> Option<Field<T>> {
        match &item.kind {
            NodeKind::Value(Val::Null) => None,
            NodeKind::Value(Val::String(s)) if s.is_empty() => None,
            _ => Some(match item.string(key) {
                Field::Known(s, o) => match parse(&s) {
                    Some(v) => Field::Known(v, o),
                    None => Field::unknown(Unresolved {
                        reason: format!("{key} entry \"{s}\" is not {what}"),
                        origin: o,
                    }),
                },
                Field::Unknown(u) => Field::Unknown(u),
            }),
        }
    };
    match n.items() {
        Ok(items) if matches!(n.kind, NodeKind::List(_) | NodeKind::Value(Val::List(_))) => items.iter().filter_map(one).collect(),
        Ok(_) | Err(_) => one(&n).into_iter().collect(),
    }
}

/// Application security groups: `[{ id: … }]`.
fn asgs(node: &Node, key: &str) -> Vec<Field<AddressMatch>> {
    let Some(n) = node.present(key) else { return Vec::new() };
    match n.items() {
        Ok(items) => items
            .iter()
            .map(|i| match i.present("id").map(|id| id.string("id")) {
                Some(Field::Known(s, o)) => Field::Known(AddressMatch::ApplicationSecurityGroup(s), o),
                Some(Field::Unknown(u)) => Field::Unknown(u),
                None => Field::Known(AddressMatch::ApplicationSecurityGroup("(unnamed)".into()), i.origin.clone()),
            })
            .collect(),
        Err(u) => vec![Field::unknown(u)],
    }
}

/// A resource found by a front end, before lowering.
pub struct Resource {
    pub address: String,
    pub name: Field<String>,
    /// The whole resource body (`{ name, properties, … }`).
    pub body: Node,
    /// Where the resource is declared; table-level findings point here.
    pub origin: Origin,
    pub conditional: Option<Unresolved>,
    pub dialect: Dialect,
    /// How fixes are written (indent, reference, insertion point).
    pub authoring: Authoring,
}

/// A route from `{ name, properties: { addressPrefix, nextHopType, nextHopIpAddress } }`.
pub fn route(item: &Node, resource: Option<String>) -> Route {
    let props = item
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, item.origin.clone()));
    Route {
        name: string_prop(item, "name").unwrap_or_else(|| missing("name", &item.origin)),
        address_prefix: parsed(&props, "addressPrefix", RoutePrefix::parse, "an address prefix or a service tag"),
        next_hop_type: parsed(&props, "nextHopType", NextHopType::parse, "a next hop type"),
        next_hop_ip: string_prop(&props, "nextHopIpAddress"),
        next_hop_firewall: None,
        origin: item.origin.clone(),
        resource,
    }
}

pub fn route_table(res: Resource) -> RouteTable {
    let props = res
        .body
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, res.origin.clone()));
    let mut routes = Vec::new();
    let mut incomplete = Vec::new();
    if let Some(list) = props.present("routes") {
        match list.items() {
            Ok(items) => routes.extend(items.iter().map(|i| route(i, None))),
            Err(u) => incomplete.push(Unresolved {
                reason: format!("the routes are unknown: {}", u.reason),
                origin: u.origin,
            }),
        }
    }
    let propagate = match props.present("disableBgpRoutePropagation") {
        None => Field::Known(true, res.origin.clone()),
        Some(n) => match &n.kind {
            NodeKind::Value(Val::Bool(b)) => Field::Known(!b, n.origin.clone()),
            NodeKind::Value(Val::String(s)) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                Field::Known(!s.eq_ignore_ascii_case("true"), n.origin.clone())
            }
            _ => Field::unknown(Unresolved {
                reason: "disableBgpRoutePropagation is unknown".into(),
                origin: n.origin.clone(),
            }),
        },
    };
    RouteTable {
        address: res.address,
        namespace: 0,
        name: res.name,
        origin: res.origin,
        routes,
        incomplete,
        propagate_gateway_routes: propagate,
        conditional: res.conditional,
        authoring: res.authoring,
        cloud: None,
        called_from: Vec::new(),
        resource_group: None,
        elsewhere: false,
    }
}

/// An NSG rule from `{ name, properties: { priority, direction, access, protocol, … } }`.
pub fn security_rule(item: &Node, resource: Option<String>) -> SecurityRule {
    let props = item
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, item.origin.clone()));
    let addresses = |single: &str, plural: &str, asg: &str| {
        let mut v = list_prop(&props, single, AddressMatch::parse, "an address prefix or service tag");
        v.extend(list_prop(&props, plural, AddressMatch::parse, "an address prefix or service tag"));
        v.extend(asgs(&props, asg));
        v
    };
    let mut ports = list_prop(&props, "destinationPortRange", PortRange::parse, "a port or port range");
    ports.extend(list_prop(&props, "destinationPortRanges", PortRange::parse, "a port or port range"));
    SecurityRule {
        name: string_prop(item, "name").unwrap_or_else(|| missing("name", &item.origin)),
        priority: parsed(
            &props,
            "priority",
            |s| s.parse::<f64>().ok().filter(|p| p.fract() == 0.0 && *p >= 0.0).map(|p| p as u32),
            "a whole number",
        ),
        direction: parsed(&props, "direction", Direction::parse, "Inbound or Outbound"),
        access: parsed(&props, "access", Access::parse, "Allow or Deny"),
        protocol: parsed(&props, "protocol", Protocol::parse, "a protocol"),
        sources: addresses("sourceAddressPrefix", "sourceAddressPrefixes", "sourceApplicationSecurityGroups"),
        destinations: addresses(
            "destinationAddressPrefix",
            "destinationAddressPrefixes",
            "destinationApplicationSecurityGroups",
        ),
        destination_ports: ports,
        origin: item.origin.clone(),
        resource,
    }
}

pub fn nsg(res: Resource) -> Nsg {
    let props = res
        .body
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, res.origin.clone()));
    let mut rules = Vec::new();
    let mut incomplete = Vec::new();
    if let Some(list) = props.present("securityRules") {
        match list.items() {
            Ok(items) => rules.extend(items.iter().map(|i| security_rule(i, None))),
            Err(u) => incomplete.push(Unresolved {
                reason: format!("the security rules are unknown: {}", u.reason),
                origin: u.origin,
            }),
        }
    }
    Nsg {
        address: res.address,
        namespace: 0,
        name: res.name,
        origin: res.origin,
        rules,
        incomplete,
        conditional: res.conditional,
        dialect: res.dialect,
        cloud: None,
        called_from: Vec::new(),
        resource_group: None,
        elsewhere: false,
    }
}

/// The authoring hint for a REST-shaped table whose routes sit in `properties.routes`.
pub fn inline_authoring(dialect: Dialect, indent: String, reference: String, insert_at: Option<Origin>) -> Authoring {
    Authoring {
        dialect,
        style: RouteStyle::Inline,
        indent,
        reference,
        insert_at,
    }
}

/// A route or NSG rule declared as its own resource, attached to its parent
/// once every resource of the deployment is known.
pub struct ChildResource {
    /// "route table" or "NSG", for messages.
    pub parent_type: &'static str,
    pub parent_name: Val,
    /// The parent's own address when the code names it (`parent: rt`, or a
    /// resource nested in its parent's body), which beats its name.
    pub parent_address: Option<String>,
    pub is_route: bool,
    pub address: String,
    /// The child's body, with `name` set to its own (last) name segment.
    pub node: Node,
    pub origin: Origin,
    pub dialect: Dialect,
    /// For a route: the firewall its next hop address is read from, when the code says.
    pub next_hop_firewall: Option<Link>,
    /// Set when the child exists only under a condition kmsguard cannot
    /// decide (an `if`, a loop over an unknown collection, a copy count).
    pub conditional: Option<Unresolved>,
}

/// Which parents a child joins.
enum Parent {
    Found(Vec<usize>),
    /// Several parents could be meant: each is marked incomplete, none gets the child.
    Ambiguous(Vec<usize>, Unresolved),
    /// The parent is declared outside the checked code.
    Elsewhere,
}

/// A child joins the parent its address names; else the one parent of its
/// name in the deployment (two of one name are never merged); else, when it
/// names a parent that is not declared here, that parent is elsewhere.
fn find_parent<'a>(items: impl Iterator<Item = (&'a str, &'a Field<String>, bool)>, c: &ChildResource) -> Parent {
    let items: Vec<(usize, &str, &Field<String>)> = items
        .enumerate()
        .filter(|(_, (_, _, elsewhere))| !elsewhere)
        .map(|(i, (a, n, _))| (i, a, n))
        .collect();
    let by_address: Vec<usize> = match &c.parent_address {
        Some(p) => items
            .iter()
            .filter(|(_, a, _)| *a == p || a.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('[')))
            .map(|(i, _, _)| *i)
            .collect(),
        None => Vec::new(),
    };
    let name = c.parent_name.to_tf_string();
    let ambiguous = |found: Vec<usize>, what: String| {
        Parent::Ambiguous(
            found,
            Unresolved {
                reason: format!("{} may belong to this {}: {what}", c.address, c.parent_type),
                origin: c.origin.clone(),
            },
        )
    };
    match name {
        Some(name) => {
            let named: Vec<usize> = items
                .iter()
                .filter(|(i, _, n)| {
                    (by_address.is_empty() || by_address.contains(i)) && n.known().is_some_and(|n| n.eq_ignore_ascii_case(&name))
                })
                .map(|(i, _, _)| *i)
                .collect();
            match named.len() {
                1 => Parent::Found(named),
                0 if by_address.len() == 1 => Parent::Found(by_address),
                0 => Parent::Elsewhere,
                _ => ambiguous(named, format!("several {}s are named {name} in this deployment", c.parent_type)),
            }
        }
        None if by_address.len() == 1 => Parent::Found(by_address),
        None if !by_address.is_empty() => ambiguous(by_address, "its parent's name is unknown".into()),
        None if c.parent_address.is_some() => Parent::Elsewhere,
        None => ambiguous(items.iter().map(|(i, _, _)| *i).collect(), "its parent's name is unknown".into()),
    }
}

/// Attaches separately declared routes and rules to their tables and NSGs.
/// A child whose parent is not declared here joins a stand-in for it (see
/// [`RouteTable::elsewhere`]), so what the child proves alone is still judged.
pub fn attach_children(model: &mut crate::model::Model, children: Vec<ChildResource>) {
    for c in children {
        let resource = Some(c.address.clone());
        let stand_in_address = c
            .parent_address
            .clone()
            .or_else(|| c.parent_name.to_tf_string())
            .unwrap_or_else(|| format!("the parent of {}", c.address));
        let stand_in_name = match c.parent_name.to_tf_string() {
            Some(n) => Field::Known(n, c.origin.clone()),
            None => Field::unknown(Unresolved {
                reason: format!("the name of the {} of {} is unknown", c.parent_type, c.address),
                origin: c.origin.clone(),
            }),
        };
        if c.is_route {
            let mut r = Route {
                next_hop_firewall: c.next_hop_firewall.clone(),
                ..route(&c.node, resource)
            };
            if let Some(cond) = &c.conditional {
                r.exists_only_if(&c.address, cond);
            }
            match find_parent(model.route_tables.iter().map(|t| (t.address.as_str(), &t.name, t.elsewhere)), &c) {
                Parent::Found(found) => {
                    for (_, t) in model.route_tables.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                        t.routes.push(r.clone());
                    }
                }
                Parent::Ambiguous(found, why) => {
                    for (_, t) in model.route_tables.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                        t.incomplete.push(why.clone());
                    }
                }
                Parent::Elsewhere => match model.route_tables.iter_mut().find(|t| t.elsewhere && t.address == stand_in_address) {
                    Some(t) => t.routes.push(r),
                    None => {
                        let mut t = RouteTable::elsewhere(stand_in_address, stand_in_name, c.origin.clone(), c.dialect);
                        t.routes.push(r);
                        model.route_tables.push(t);
                    }
                },
            }
        } else {
            let mut rule = security_rule(&c.node, resource);
            if let Some(cond) = &c.conditional {
                rule.exists_only_if(&c.address, cond);
            }
            match find_parent(model.nsgs.iter().map(|n| (n.address.as_str(), &n.name, n.elsewhere)), &c) {
                Parent::Found(found) => {
                    for (_, n) in model.nsgs.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                        n.rules.push(rule.clone());
                    }
                }
                Parent::Ambiguous(found, why) => {
                    for (_, n) in model.nsgs.iter_mut().enumerate().filter(|(i, _)| found.contains(i)) {
                        n.incomplete.push(why.clone());
                    }
                }
                Parent::Elsewhere => match model.nsgs.iter_mut().find(|n| n.elsewhere && n.address == stand_in_address) {
                    Some(n) => n.rules.push(rule),
                    None => {
                        let mut n = Nsg::elsewhere(stand_in_address, stand_in_name, c.origin.clone(), c.dialect);
                        n.rules.push(rule);
                        model.nsgs.push(n);
                    }
                },
            }
        }
    }
    for t in &mut model.route_tables {
        if !t.routes.is_empty() && t.routes.iter().all(|r| r.resource.is_some()) {
            t.authoring.style = RouteStyle::Separate;
        }
    }
}

/// A subnet from `{ name, properties: { routeTable: { id }, networkSecurityGroup: { id } } }`.
pub fn subnet(item: &Node, address: String, vnet: Option<Link>) -> Subnet {
    let props = item
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, item.origin.clone()));
    let id_of = |key: &str| props.present(key).and_then(|n| n.present("id")).map(|id| Link::Id(id.string("id")));
    // The older child form names the subnet "vnet/subnet".
    let (name, vnet) = match string_prop(item, "name").unwrap_or_else(|| missing("name", &item.origin)) {
        Field::Known(n, o) => match n.rsplit_once('/') {
            Some((v, own)) => (
                Field::Known(own.to_string(), o.clone()),
                vnet.or(Some(Link::Id(Field::Known(v.to_string(), o)))),
            ),
            None => (Field::Known(n, o), vnet),
        },
        unknown => (unknown, vnet),
    };
    Subnet {
        address,
        namespace: 0,
        name,
        origin: item.origin.clone(),
        route_table: id_of("routeTable"),
        nsg: id_of("networkSecurityGroup"),
        vnet,
    }
}

/// The subnets of a virtual network (`properties.subnets`).
pub fn vnet_subnets(vnet: &Node, vnet_address: &str) -> Vec<Subnet> {
    let Some(list) = vnet.get("properties").and_then(|p| p.present("subnets")) else {
        return Vec::new();
    };
    match list.items() {
        Ok(items) => items
            .iter()
            .map(|i| {
                let name = i
                    .present("name")
                    .and_then(|n| n.to_val().to_tf_string())
                    .unwrap_or_else(|| "?".into());
                subnet(
                    i,
                    format!("{vnet_address}/subnets/{name}"),
                    Some(Link::Address(vnet_address.to_string(), vnet.origin.clone(), 0)),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// A virtual network gateway that can bring a default route in, or `None`.
pub fn gateway(body: &Node, address: String, name: Field<String>, origin: Origin) -> Option<Gateway> {
    let props = body.get("properties")?;
    let is = |key: &str, want: &str| {
        props
            .present(key)
            .and_then(|n| n.to_val().to_tf_string())
            .is_some_and(|v| v.eq_ignore_ascii_case(want))
    };
    let (kind, reason) = if props.present("gatewayDefaultSite").is_some() {
        (
            GatewayRoute::DefaultSite,
            "has a default site (gatewayDefaultSite), which forces internet traffic to on-premises",
        )
    } else if is("gatewayType", "ExpressRoute") {
        (
            GatewayRoute::ExpressRoute,
            "is an ExpressRoute gateway, so on-premises routes (a 0.0.0.0/0 among them) arrive over BGP",
        )
    } else if is("enableBgp", "true") {
        (GatewayRoute::Bgp, "has BGP enabled, so on-premises can advertise 0.0.0.0/0")
    } else {
        return None;
    };
    // Its network is the one whose GatewaySubnet its IP configuration names.
    let subnet = ip_configuration_subnet(&props);
    Some(Gateway {
        address,
        namespace: 0,
        name,
        origin,
        reason: reason.into(),
        kind,
        subnet,
    })
}

/// A virtual network.
pub fn vnet(address: String, name: Field<String>, origin: Origin) -> VirtualNetwork {
    VirtualNetwork {
        address,
        namespace: 0,
        name,
        resource_group: None,
        origin,
    }
}

/// A peering from `{ name, properties: { remoteVirtualNetwork: { id }, useRemoteGateways, allowGatewayTransit } }`,
/// local to `vnet`.
pub fn peering(item: &Node, address: String, vnet: Option<Link>) -> Peering {
    let props = item
        .get("properties")
        .unwrap_or_else(|| Node::value(Val::Null, item.origin.clone()));
    // Both default to false in the REST API.
    let flag = |key: &str| match props.present(key) {
        None => Field::Known(false, item.origin.clone()),
        Some(n) => match n.to_val() {
            Val::Bool(b) => Field::Known(b, n.origin.clone()),
            Val::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                Field::Known(s.eq_ignore_ascii_case("true"), n.origin.clone())
            }
            _ => Field::unknown(Unresolved {
                reason: format!("{key} is unknown"),
                origin: n.origin.clone(),
            }),
        },
    };
    Peering {
        address,
        namespace: 0,
        origin: item.origin.clone(),
        vnet,
        remote: props
            .present("remoteVirtualNetwork")
            .and_then(|r| r.present("id"))
            .map(|id| Link::Id(id.string("id"))),
        use_remote_gateways: flag("useRemoteGateways"),
        allow_gateway_transit: flag("allowGatewayTransit"),
    }
}

/// The peerings written inside a virtual network (`properties.virtualNetworkPeerings`).
pub fn vnet_peerings(vnet: &Node, vnet_address: &str) -> Vec<Peering> {
    let Some(list) = vnet.get("properties").and_then(|p| p.present("virtualNetworkPeerings")) else {
        return Vec::new();
    };
    match list.items() {
        Ok(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                peering(
                    item,
                    format!("{vnet_address}/virtualNetworkPeerings/{i}"),
                    Some(Link::Address(vnet_address.to_string(), vnet.origin.clone(), 0)),
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// What a deployment can only finish once every file of it is lowered:
/// separately declared children, and firewalls with their policies.
#[derive(Default)]
pub struct Deferred {
    pub children: Vec<ChildResource>,
    /// Each firewall's address and the link to its policy.
    pub firewall_policies: Vec<(String, Link)>,
    pub policies: Vec<FirewallPolicy>,
    pub groups: Vec<RuleCollectionGroup>,
}

impl Deferred {
    pub fn extend(&mut self, other: Deferred) {
        self.children.extend(other.children);
        self.firewall_policies.extend(other.firewall_policies);
        self.policies.extend(other.policies);
        self.groups.extend(other.groups);
    }
}

/// Finishes a deployment: attaches its children, and gives each firewall
/// its policy's rule collection groups (by priority) and DNS proxy setting.
pub fn finish(model: &mut crate::model::Model, deferred: Deferred) {
    attach_children(model, deferred.children);
    firewalls::attach_policies(model, &deferred.firewall_policies, &deferred.policies, &deferred.groups);
}

/// The subnet a gateway's or firewall's first IP configuration names
/// (`properties.ipConfigurations[0].properties.subnet.id`): its
/// GatewaySubnet or AzureFirewallSubnet, which places it in its network.
pub(crate) fn ip_configuration_subnet(props: &Node) -> Option<Link> {
    props
        .present("ipConfigurations")
        .and_then(|l| l.items().ok())
        .and_then(|items| items.into_iter().next())
        .and_then(|c| c.get("properties"))
        .and_then(|p| p.present("subnet"))
        .and_then(|s| s.present("id"))
        .map(|id| Link::Id(id.string("id")))
}
