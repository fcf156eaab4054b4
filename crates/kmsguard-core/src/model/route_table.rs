//! Route tables and their routes.

use std::fmt;

use ipnet::IpNet;

use super::{is_service_tag_name, parse_prefix, Authoring, Dialect, Field, Link, RouteStyle, Unresolved};
use crate::source::Origin;

/// A route table (`azurerm_route_table`, `Microsoft.Network/routeTables`).
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTable {
    /// The resource address: Terraform address, Bicep symbol, or ARM `type/name`.
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    /// Its resource group, when the code names it literally or by a known value.
    pub resource_group: Option<String>,
    /// The resource's header: where table-level findings point.
    pub origin: Origin,
    pub routes: Vec<Route>,
    /// Reasons the route list may hold routes kmsguard cannot see
    /// (a `dynamic` block over an unknown collection, a route whose table is unknown).
    pub incomplete: Vec<Unresolved>,
    /// Whether routes learned over BGP (ExpressRoute, VPN) reach the subnets.
    pub propagate_gateway_routes: Field<bool>,
    /// Set when the resource itself may or may not be created (an unknown `count`).
    pub conditional: Option<Unresolved>,
    pub authoring: Authoring,
    /// The cloud the code says it deploys to (a provider's `environment`), if it says.
    pub cloud: Option<String>,
    /// The module calls that deploy this table, outermost first.
    pub called_from: Vec<Origin>,
    /// Set when the table is declared outside the checked code (a Bicep
    /// `existing` resource, a Terraform data source or module output) and
    /// only routes added to it are seen; `incomplete` then says so too.
    pub elsewhere: bool,
}

impl RouteTable {
    /// A table as its own resource declares it: no routes yet, created
    /// unconditionally, in no named cloud, deployed directly.
    pub fn new(address: String, name: Field<String>, origin: Origin, propagate_gateway_routes: Field<bool>, authoring: Authoring) -> Self {
        RouteTable {
            address,
            namespace: 0,
            name,
            resource_group: None,
            origin,
            routes: Vec::new(),
            incomplete: Vec::new(),
            propagate_gateway_routes,
            conditional: None,
            authoring,
            cloud: None,
            called_from: Vec::new(),
            elsewhere: false,
        }
    }
}

impl RouteTable {
    /// The table routes are added to when the table itself is declared
    /// outside the checked code (`existing`, a data source, a module output):
    /// only those routes are known, so whatever depends on the others is
    /// undecided, while a /32 still decides on its own.
    pub fn elsewhere(address: String, name: Field<String>, origin: Origin, dialect: Dialect) -> Self {
        let label = name.known().cloned().unwrap_or_else(|| address.clone());
        let why = Unresolved {
            reason: format!("route table {label} is declared outside this code: the table's other routes are not in this code"),
            origin: origin.clone(),
        };
        let authoring = Authoring {
            dialect,
            style: RouteStyle::Separate,
            indent: String::new(),
            reference: address.clone(),
            insert_at: None,
        };
        RouteTable {
            incomplete: vec![why.clone()],
            elsewhere: true,
            ..RouteTable::new(address, name, origin, Field::unknown(why), authoring)
        }
    }
}

/// One user-defined route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub name: Field<String>,
    pub address_prefix: Field<RoutePrefix>,
    pub next_hop_type: Field<NextHopType>,
    pub next_hop_ip: Option<Field<String>>,
    /// Set when the code says the next hop is a firewall it also declares
    /// (`next_hop_in_ip_address = azurerm_firewall.hub.ip_configuration[0].private_ip_address`).
    pub next_hop_firewall: Option<Link>,
    /// The route block, object or resource.
    pub origin: Origin,
    /// For a separately declared route: its own resource address.
    pub resource: Option<String>,
}

impl Route {
    /// A route that exists only under a condition kmsguard cannot decide
    /// (an unknown count, for_each, `if` or copy count): where it sends
    /// traffic it might not send at all, so the prefix it would decide for
    /// becomes unknown. A prefix unknown already keeps its own reason.
    pub fn exists_only_if(&mut self, child: &str, condition: &Unresolved) {
        if matches!(self.address_prefix, Field::Known(..)) {
            self.address_prefix = Field::unknown(Unresolved {
                reason: format!("whether {child} exists is unknown: {}", condition.reason),
                origin: condition.origin.clone(),
            });
        }
    }
}

/// The destination of a route: an address prefix or, since 2022, a service tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoutePrefix {
    Net(IpNet),
    ServiceTag(String),
}

impl fmt::Display for RoutePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePrefix::Net(n) => write!(f, "{n}"),
            RoutePrefix::ServiceTag(t) => f.write_str(t),
        }
    }
}

/// Azure's next hop types, as the REST API spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NextHopType {
    VirtualNetworkGateway,
    VnetLocal,
    Internet,
    VirtualAppliance,
    None,
}

impl NextHopType {
    /// Parses a next hop type the way Azure accepts it: case-insensitively
    /// (azurerm v2 documented `vnetlocal`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "virtualnetworkgateway" => Some(NextHopType::VirtualNetworkGateway),
            "vnetlocal" => Some(NextHopType::VnetLocal),
            "internet" => Some(NextHopType::Internet),
            "virtualappliance" => Some(NextHopType::VirtualAppliance),
            "none" => Some(NextHopType::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            NextHopType::VirtualNetworkGateway => "VirtualNetworkGateway",
            NextHopType::VnetLocal => "VnetLocal",
            NextHopType::Internet => "Internet",
            NextHopType::VirtualAppliance => "VirtualAppliance",
            NextHopType::None => "None",
        }
    }
}

impl fmt::Display for NextHopType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl RoutePrefix {
    /// An address prefix, or a service tag name.
    pub fn parse(s: &str) -> Option<Self> {
        match parse_prefix(s) {
            Some(n) => Some(RoutePrefix::Net(n)),
            None if is_service_tag_name(s) => Some(RoutePrefix::ServiceTag(s.trim().to_string())),
            None => None,
        }
    }
}
