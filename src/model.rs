//! The format-free model of Azure networking that every front end lowers into.
//!
//! Terraform, Bicep and ARM all end up here, and nothing past this module
//! knows which one a resource came from — except the [`Authoring`] hint that
//! lets a fix be written in the file's own style.
//!
//! Every field is either known, with the place it was written, or unknown,
//! with the reason and the place that made it so. Rules decide only on known
//! values; an unknown value that decides a verdict becomes a KG901 note.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::source::Origin;

/// A value the front end could evaluate, or the reason it could not.
///
/// The reason is boxed: most fields are known, and a large model holds
/// millions of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Field<T> {
    Known(T, Origin),
    Unknown(Box<Unresolved>),
}

/// Why a value is not known, and where the expression that made it so sits.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    pub reason: String,
    pub origin: Origin,
}

impl<T> Field<T> {
    pub fn unknown(u: Unresolved) -> Self {
        Field::Unknown(Box::new(u))
    }

    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(v, _) => Some(v),
            Field::Unknown(_) => None,
        }
    }

    pub fn origin(&self) -> &Origin {
        match self {
            Field::Known(_, o) => o,
            Field::Unknown(u) => &u.origin,
        }
    }

    pub fn unresolved(&self) -> Option<&Unresolved> {
        match self {
            Field::Known(..) => None,
            Field::Unknown(u) => Some(u),
        }
    }
}

/// The language a resource was written in; only fixes look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Terraform,
    Bicep,
    Arm,
}

/// How a route table's routes are written, so a fix can add routes the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteStyle {
    /// Nested `route { … }` blocks (Terraform) or a `routes` array (Bicep/ARM).
    Inline,
    /// Terraform's `route = [ { … } ]` attribute form, where every attribute must be set.
    AttributeList,
    /// Separate route resources (`azurerm_route`, `Microsoft.Network/routeTables/routes`).
    Separate,
    /// Routes inside an azapi resource's `body` (HCL objects in the REST shape).
    AzapiBody,
    /// A registry module's `routes` input: a map of route objects by key.
    ModuleMap,
}

/// What a fix needs to know to be written in the file's own style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authoring {
    pub dialect: Dialect,
    pub style: RouteStyle,
    /// Indentation of the existing routes (or of the table's body when it has none).
    pub indent: String,
    /// The expression that names the table from another resource, e.g.
    /// `azurerm_route_table.hub` (Terraform) or `rt` (Bicep).
    pub reference: String,
    /// The start of the line where new routes go (after the last route,
    /// before the closing bracket, or after the table's own block), as an
    /// empty range.
    pub insert_at: Option<Origin>,
}

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

/// A network security group (`azurerm_network_security_group`,
/// `Microsoft.Network/networkSecurityGroups`).
#[derive(Debug, Clone, PartialEq)]
pub struct Nsg {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    /// Its resource group, when known.
    pub resource_group: Option<String>,
    pub origin: Origin,
    pub rules: Vec<SecurityRule>,
    /// Reasons the rule list may hold rules kmsguard cannot see.
    pub incomplete: Vec<Unresolved>,
    pub conditional: Option<Unresolved>,
    pub dialect: Dialect,
    /// The cloud the code says it deploys to, if it says.
    pub cloud: Option<String>,
    /// The module calls that deploy this NSG, outermost first.
    pub called_from: Vec<Origin>,
    /// Set when the NSG is declared outside the checked code and only rules
    /// added to it are seen; `incomplete` then says so too.
    pub elsewhere: bool,
}

impl Nsg {
    /// An NSG as its own resource declares it: no rules yet, created
    /// unconditionally, in no named cloud, deployed directly.
    pub fn new(address: String, name: Field<String>, origin: Origin, dialect: Dialect) -> Self {
        Nsg {
            address,
            namespace: 0,
            name,
            resource_group: None,
            origin,
            rules: Vec::new(),
            incomplete: Vec::new(),
            conditional: None,
            dialect,
            cloud: None,
            called_from: Vec::new(),
            elsewhere: false,
        }
    }
}

impl Nsg {
    /// The NSG rules are added to when the NSG itself is declared outside
    /// the checked code: only those rules are known.
    pub fn elsewhere(address: String, name: Field<String>, origin: Origin, dialect: Dialect) -> Self {
        let label = name.known().cloned().unwrap_or_else(|| address.clone());
        Nsg {
            incomplete: vec![Unresolved {
                reason: format!("NSG {label} is declared outside this code: its other rules are not in this code"),
                origin: origin.clone(),
            }],
            elsewhere: true,
            ..Nsg::new(address, name, origin, dialect)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "inbound" => Some(Direction::Inbound),
            "outbound" => Some(Direction::Outbound),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allow,
    Deny,
}

impl Access {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "allow" => Some(Access::Allow),
            "deny" => Some(Access::Deny),
            _ => None,
        }
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

/// An NSG rule's protocol; `Any` is Azure's `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    Any,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "icmp" => Some(Protocol::Icmp),
            "esp" => Some(Protocol::Esp),
            "ah" => Some(Protocol::Ah),
            "*" | "any" => Some(Protocol::Any),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::Esp => "Esp",
            Protocol::Ah => "Ah",
            Protocol::Any => "*",
        }
    }
}

/// One entry of an NSG rule's source or destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressMatch {
    /// `*` or `Any`.
    Any,
    Prefix(IpNet),
    /// A service tag such as `Internet`, `VirtualNetwork` or `AzurePlatformLKM`.
    ServiceTag(String),
    /// An application security group, by id or expression text.
    ApplicationSecurityGroup(String),
}

impl AddressMatch {
    /// Parses `*`, an address, a prefix or a service tag.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s == "*" || s.eq_ignore_ascii_case("any") {
            return Some(AddressMatch::Any);
        }
        if let Some(net) = parse_prefix(s) {
            return Some(AddressMatch::Prefix(net));
        }
        if is_service_tag_name(s) {
            return Some(AddressMatch::ServiceTag(s.to_string()));
        }
        None
    }

    pub fn is_tag(&self, tag: &str) -> bool {
        matches!(self, AddressMatch::ServiceTag(t) if t.eq_ignore_ascii_case(tag))
    }
}

impl fmt::Display for AddressMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressMatch::Any => f.write_str("*"),
            AddressMatch::Prefix(n) => {
                if n.prefix_len() == n.max_prefix_len() {
                    write!(f, "{}", n.addr())
                } else {
                    write!(f, "{n}")
                }
            }
            AddressMatch::ServiceTag(t) => f.write_str(t),
            AddressMatch::ApplicationSecurityGroup(a) => write!(f, "application security group {a}"),
        }
    }
}

/// An inclusive port range; `*` is `0-65535`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub from: u16,
    pub to: u16,
}

impl PortRange {
    pub const ANY: PortRange = PortRange { from: 0, to: 65535 };

    /// Parses `*`, `1688` or `1000-2000`.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s == "*" {
            return Some(PortRange::ANY);
        }
        if let Some((a, b)) = s.split_once('-') {
            let from: u16 = a.trim().parse().ok()?;
            let to: u16 = b.trim().parse().ok()?;
            return (from <= to).then_some(PortRange { from, to });
        }
        let p: u16 = s.parse().ok()?;
        Some(PortRange { from: p, to: p })
    }

    pub fn contains(&self, port: u16) -> bool {
        self.from <= port && port <= self.to
    }

    pub fn covers(&self, other: &PortRange) -> bool {
        self.from <= other.from && other.to <= self.to
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == PortRange::ANY {
            f.write_str("*")
        } else if self.from == self.to {
            write!(f, "{}", self.from)
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// One NSG rule. List fields hold one entry per address or port; an entry
/// that could not be evaluated is unknown on its own, so a list with one
/// unknown element still matches on the elements that are known.
#[derive(Debug, Clone, PartialEq)]
pub struct SecurityRule {
    pub name: Field<String>,
    pub priority: Field<u32>,
    pub direction: Field<Direction>,
    pub access: Field<Access>,
    pub protocol: Field<Protocol>,
    pub sources: Vec<Field<AddressMatch>>,
    pub destinations: Vec<Field<AddressMatch>>,
    pub destination_ports: Vec<Field<PortRange>>,
    pub origin: Origin,
    /// For a separately declared rule: its own resource address.
    pub resource: Option<String>,
}

impl SecurityRule {
    /// A rule that exists only under a condition kmsguard cannot decide: a
    /// flow it matches is decided by it or by what comes after it, so its
    /// access becomes unknown.
    pub fn exists_only_if(&mut self, child: &str, condition: &Unresolved) {
        if matches!(self.access, Field::Known(..)) {
            self.access = Field::unknown(Unresolved {
                reason: format!("whether {child} exists is unknown: {}", condition.reason),
                origin: condition.origin.clone(),
            });
        }
    }

    /// The single addresses (host prefixes) the rule names as destinations.
    pub fn listed_hosts(&self) -> Vec<IpAddr> {
        self.destinations
            .iter()
            .filter_map(|d| match d.known() {
                Some(AddressMatch::Prefix(n)) if n.prefix_len() == n.max_prefix_len() => Some(n.addr()),
                _ => None,
            })
            .collect()
    }
}

/// Everything the front ends found, in one place.
#[derive(Debug, Default)]
pub struct Model {
    pub route_tables: Vec<RouteTable>,
    pub nsgs: Vec<Nsg>,
    /// Subnets seen in the code; associations come with the Terraform-depth and
    /// Bicep/ARM front ends.
    pub subnets: Vec<Subnet>,
    pub nics: Vec<NetworkInterface>,
    /// Gateways that can bring a default route in over BGP or a default site.
    pub gateways: Vec<Gateway>,
    /// Azure Firewalls and the network rules that apply to them.
    pub firewalls: Vec<Firewall>,
    /// Virtual networks declared in the code.
    pub vnets: Vec<VirtualNetwork>,
    /// Virtual network peerings, each seen from its local network.
    pub peerings: Vec<Peering>,
    /// Separately declared routes and rules whose parent their own module
    /// does not declare, kept until the whole deployment unit is known
    /// ([`Model::adopt_orphans`]).
    pub orphans: Vec<Orphan>,
    /// Code kmsguard could not follow (a linked template, a registry module),
    /// with the address of the resource or module that refers to it; reported
    /// as KG901 notes.
    pub unchecked: Vec<(String, Unresolved)>,
    /// Links resolved on first use, once the model is complete.
    pub links: std::sync::OnceLock<Links>,
    /// Suppressions written on resources themselves (ARM `metadata.kmsguard.ignore`):
    /// the resource's address, the entry (`"KG101 -- reason"`) and where it is written.
    pub resource_suppressions: Vec<(String, String, Origin)>,
    /// The values that drive instances of a root module's module calls:
    /// a `for_each` over a variable whose map is written in a tfvars file.
    pub instance_inputs: Vec<InstanceInput>,
}

/// Where the value that makes one module instance is written (the `db`
/// entry of `spokes = { … }` in terraform.tfvars): the place a fix for that
/// instance alone belongs, rather than the module every instance shares.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceInput {
    pub namespace: u32,
    /// The instance's address prefix, `module.spoke["db"].`.
    pub prefix: String,
    pub origin: Origin,
    /// What it is, e.g. "the `db` entry of var.spokes".
    pub what: String,
}

/// How one resource refers to another: by Azure resource id (Bicep, ARM,
/// literal ids) or by the front end's own address (a Terraform reference
/// such as `azurerm_route_table.hub`), with the place the reference is written.
///
/// Links resolve inside the referrer's deployment unit (its namespace: a
/// Terraform root with its modules, a Bicep deployment, an ARM template with
/// its nested deployments). Only an id that names subscription, resource
/// group, type and name in full may reach into another unit, and then only
/// a resource whose resource group is known and the same.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Id(Field<String>),
    /// A front end's own address, within a namespace: addresses are unique
    /// only inside one deployment unit.
    Address(String, Origin, u32),
}

impl Link {
    pub fn origin(&self) -> &Origin {
        match self {
            Link::Id(f) => f.origin(),
            Link::Address(_, o, _) => o,
        }
    }
}

/// An Azure resource id taken apart: `/subscriptions/S/resourceGroups/G/providers/NS/TYPE/NAME/…`.
/// kmsguard's own ids (`/providers/NS/TYPE/NAME`) and bare names parse too,
/// with what they do not say left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceId {
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    /// The segments after the provider namespace: types and names.
    pub segments: Vec<String>,
}

impl ResourceId {
    pub fn parse(id: &str) -> Self {
        let mut out = ResourceId {
            subscription: None,
            resource_group: None,
            segments: Vec::new(),
        };
        let mut parts = id.split('/').filter(|p| !p.is_empty()).peekable();
        while let Some(p) = parts.next() {
            if p.eq_ignore_ascii_case("subscriptions") && out.segments.is_empty() {
                out.subscription = parts.next().map(str::to_string);
            } else if p.eq_ignore_ascii_case("resourceGroups") && out.segments.is_empty() {
                out.resource_group = parts.next().map(str::to_string);
            } else if p.eq_ignore_ascii_case("providers") && out.segments.is_empty() {
                // The provider namespace (`Microsoft.Network`) is part of the type, not a name.
                parts.next();
            } else {
                out.segments.push(p.to_string());
            }
        }
        out
    }

    /// The last segment: the resource's own name.
    pub fn name(&self) -> &str {
        self.segments.last().map(String::as_str).unwrap_or_default()
    }

    /// Whether the id names subscription, resource group, type and name.
    pub fn is_full(&self) -> bool {
        self.subscription.is_some() && self.resource_group.is_some() && self.segments.len() >= 2
    }

    /// The virtual network a subnet id names (`…/virtualNetworks/V/subnets/S`,
    /// or kmsguard's `resourceId()` shape `…/virtualNetworks/subnets/V/S`).
    pub fn vnet_of_subnet(&self) -> Option<&str> {
        let i = self.segments.iter().position(|s| s.eq_ignore_ascii_case("virtualNetworks"))?;
        let next = self.segments.get(i + 1)?;
        if next.eq_ignore_ascii_case("subnets") {
            // Types first: both names must follow, or the network is not named
            // (a Bicep child's id carries only its own name).
            self.segments.get(i + 3)?;
            self.segments.get(i + 2).map(String::as_str)
        } else {
            self.segments.get(i + 3)?;
            Some(next.as_str())
        }
    }
}

/// A subnet and the route table and NSG associated with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub route_table: Option<Link>,
    pub nsg: Option<Link>,
    /// Its virtual network (a link to a [`VirtualNetwork`], or the network's
    /// name when it is not declared here); `None` when the code does not say.
    pub vnet: Option<Link>,
}

impl Subnet {
    /// A subnet with no route table or NSG associated yet.
    pub fn new(address: String, name: Field<String>, origin: Origin) -> Self {
        Subnet {
            address,
            namespace: 0,
            name,
            origin,
            route_table: None,
            nsg: None,
            vnet: None,
        }
    }
}

/// A virtual network.
#[derive(Debug, Clone, PartialEq)]
pub struct VirtualNetwork {
    pub address: String,
    pub namespace: u32,
    pub name: Field<String>,
    pub resource_group: Option<String>,
    pub origin: Origin,
}

/// A peering from `vnet` to `remote`: subnets of `vnet` learn `remote`'s
/// gateway routes when it uses remote gateways.
#[derive(Debug, Clone, PartialEq)]
pub struct Peering {
    pub address: String,
    pub namespace: u32,
    pub origin: Origin,
    /// The local network; `None` when the code does not say.
    pub vnet: Option<Link>,
    pub remote: Option<Link>,
    pub use_remote_gateways: Field<bool>,
    pub allow_gateway_transit: Field<bool>,
}

/// How a gateway can put a 0.0.0.0/0 into subnets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayRoute {
    /// A VPN gateway's default site (forced tunneling): no BGP involved.
    DefaultSite,
    /// A VPN gateway with BGP: on-premises may advertise 0.0.0.0/0.
    Bgp,
    /// An ExpressRoute gateway: on-premises routes always arrive over BGP.
    ExpressRoute,
}

/// A virtual network gateway that can put a 0.0.0.0/0 into subnets: a VPN
/// gateway with a default site (forced tunneling) or BGP, or an ExpressRoute
/// gateway (routes from on-premises always arrive over BGP).
#[derive(Debug, Clone, PartialEq)]
pub struct Gateway {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    /// Why a default route may arrive, e.g. "it has a default site".
    pub reason: String,
    pub kind: GatewayRoute,
    /// The subnet of its IP configuration (its network's `GatewaySubnet`);
    /// `None` when the code does not say.
    pub subnet: Option<Link>,
}

/// An Azure Firewall with the network rules of its policy (or its classic
/// rule collections), in processing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Firewall {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub rules: Vec<FirewallRule>,
    /// Whether DNS proxy is on, which FQDN network rules need.
    pub dns_proxy: Field<bool>,
    /// Its private address when the code writes it (it is usually only known
    /// after deployment), so a route naming it literally finds the firewall.
    pub private_ip: Option<String>,
    /// Reasons the rule list may hold rules kmsguard cannot see.
    pub incomplete: Vec<Unresolved>,
}

/// One network rule of a firewall.
#[derive(Debug, Clone, PartialEq)]
pub struct FirewallRule {
    pub name: Field<String>,
    pub action: Field<Access>,
    pub protocols: Vec<Field<Protocol>>,
    pub destination_ports: Vec<Field<PortRange>>,
    pub destination_addresses: Vec<Field<AddressMatch>>,
    pub destination_fqdns: Vec<Field<String>>,
    pub origin: Origin,
}

/// A network interface: its subnet and its own NSG.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkInterface {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`]).
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub subnets: Vec<Link>,
    pub nsg: Option<Link>,
}

/// A separately declared route or NSG rule waiting for its parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Orphan {
    pub child: OrphanChild,
    /// The parent's name, when known and when it may be declared in the unit
    /// (a data source's table never is: it exists already).
    pub parent_name: Option<String>,
    /// The child's resource group, when known.
    pub resource_group: Option<String>,
    /// How the code names the parent (`data.azurerm_route_table.hub`,
    /// `module.hub.route_table_name`, or the name): the stand-in's address.
    pub parent_label: String,
    pub origin: Origin,
    pub dialect: Dialect,
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrphanChild {
    Route(Route),
    Rule(SecurityRule),
}

/// Which virtual network a subnet, gateway or peering is in: one declared
/// in the code, or one named but declared elsewhere (by its unit and
/// lower-cased name or reference).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VnetKey {
    Declared(usize),
    Named(u32, String),
}

/// Which resource each link points at, resolved once: rules ask for a
/// subnet's table or a table's subnets thousands of times on large repos.
#[derive(Debug, Default)]
pub struct Links {
    table_of_subnet: Vec<Option<usize>>,
    subnets_of_table: Vec<Vec<usize>>,
    nics_of_subnet: Vec<Vec<usize>>,
    nsgs: Index,
    firewalls: Index,
    vnet_of_subnet: Vec<Option<VnetKey>>,
    vnet_of_gateway: Vec<Option<VnetKey>>,
    /// Each peering's (local, remote) networks.
    peering_ends: Vec<(Option<VnetKey>, Option<VnetKey>)>,
}

/// Resources of one kind by (namespace, address) and by lower-cased name,
/// with each one's namespace and resource group.
#[derive(Debug, Default)]
struct Index {
    by_address: std::collections::HashMap<(u32, String), usize>,
    by_name: std::collections::HashMap<String, Vec<usize>>,
    namespace: Vec<u32>,
    resource_group: Vec<Option<String>>,
}

impl Index {
    fn new<'a>(items: impl Iterator<Item = (u32, &'a str, &'a Field<String>, Option<&'a String>)>) -> Self {
        let mut ix = Index::default();
        for (i, (ns, address, name, rg)) in items.enumerate() {
            ix.by_address.entry((ns, address.to_string())).or_insert(i);
            if let Some(n) = name.known() {
                ix.by_name.entry(n.to_ascii_lowercase()).or_default().push(i);
            }
            ix.namespace.push(ns);
            ix.resource_group.push(rg.cloned());
        }
        ix
    }

    /// The resource `link` names, seen from a resource in unit `from`.
    fn resolve(&self, link: &Link, from: u32) -> Option<usize> {
        match link {
            Link::Address(a, _, ns) => self.by_address.get(&(*ns, a.clone())).copied(),
            Link::Id(Field::Known(id, _)) => {
                let id = ResourceId::parse(id);
                let candidates = self.by_name.get(&id.name().to_ascii_lowercase())?;
                // A resource group both sides name must agree; one side not
                // naming it leaves the name to decide, inside the unit only.
                let same_group = |i: usize| match (&id.resource_group, self.resource_group.get(i).and_then(Option::as_ref)) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                };
                let ns = |i: usize| self.namespace.get(i).copied();
                if let Some(i) = candidates.iter().copied().find(|i| ns(*i) == Some(from) && same_group(*i)) {
                    return Some(i);
                }
                if !id.is_full() {
                    return None;
                }
                candidates
                    .iter()
                    .copied()
                    .find(|i| ns(*i) != Some(from) && self.resource_group.get(*i).is_some_and(Option::is_some) && same_group(*i))
            }
            Link::Id(Field::Unknown(_)) => None,
        }
    }
}

impl Model {
    fn links(&self) -> &Links {
        self.links.get_or_init(|| {
            let tables = Index::new(
                self.route_tables
                    .iter()
                    .map(|t| (t.namespace, t.address.as_str(), &t.name, t.resource_group.as_ref())),
            );
            let subnets = Index::new(self.subnets.iter().map(|s| (s.namespace, s.address.as_str(), &s.name, None)));
            let vnets = Index::new(
                self.vnets
                    .iter()
                    .map(|v| (v.namespace, v.address.as_str(), &v.name, v.resource_group.as_ref())),
            );
            let table_of_subnet: Vec<Option<usize>> = self
                .subnets
                .iter()
                .map(|s| s.route_table.as_ref().and_then(|l| tables.resolve(l, s.namespace)))
                .collect();
            let mut subnets_of_table = vec![Vec::new(); self.route_tables.len()];
            for (si, t) in table_of_subnet.iter().enumerate() {
                if let Some(list) = t.and_then(|t| subnets_of_table.get_mut(t)) {
                    list.push(si);
                }
            }
            let mut nics_of_subnet = vec![Vec::new(); self.subnets.len()];
            for (ni, nic) in self.nics.iter().enumerate() {
                for l in &nic.subnets {
                    if let Some(list) = subnets.resolve(l, nic.namespace).and_then(|s| nics_of_subnet.get_mut(s)) {
                        list.push(ni);
                    }
                }
            }
            let vnet_key = |link: Option<&Link>, ns: u32| -> Option<VnetKey> {
                let link = link?;
                if let Some(i) = vnets.resolve(link, ns) {
                    return Some(VnetKey::Declared(i));
                }
                match link {
                    Link::Id(Field::Known(id, _)) => {
                        let name = ResourceId::parse(id).name().to_ascii_lowercase();
                        (!name.is_empty()).then_some(VnetKey::Named(ns, name))
                    }
                    Link::Address(a, _, n) => Some(VnetKey::Named(*n, format!("@{a}"))),
                    Link::Id(Field::Unknown(_)) => None,
                }
            };
            let vnet_of_subnet: Vec<Option<VnetKey>> = self.subnets.iter().map(|s| vnet_key(s.vnet.as_ref(), s.namespace)).collect();
            let vnet_of_gateway = self
                .gateways
                .iter()
                .map(|g| match &g.subnet {
                    // A subnet id names its network: no need to find the
                    // subnet (every gateway's is called GatewaySubnet).
                    Some(Link::Id(Field::Known(id, o))) => ResourceId::parse(id)
                        .vnet_of_subnet()
                        .and_then(|v| vnet_key(Some(&Link::Id(Field::Known(v.to_string(), o.clone()))), g.namespace)),
                    Some(l) => subnets
                        .resolve(l, g.namespace)
                        .and_then(|si| vnet_of_subnet.get(si).cloned().flatten()),
                    None => None,
                })
                .collect();
            let peering_ends = self
                .peerings
                .iter()
                .map(|p| (vnet_key(p.vnet.as_ref(), p.namespace), vnet_key(p.remote.as_ref(), p.namespace)))
                .collect();
            Links {
                table_of_subnet,
                subnets_of_table,
                nics_of_subnet,
                nsgs: Index::new(
                    self.nsgs
                        .iter()
                        .map(|n| (n.namespace, n.address.as_str(), &n.name, n.resource_group.as_ref())),
                ),
                firewalls: Index::new(self.firewalls.iter().map(|f| (f.namespace, f.address.as_str(), &f.name, None))),
                vnet_of_subnet,
                vnet_of_gateway,
                peering_ends,
            }
        })
    }

    /// The route table of the subnet at `subnet` (an index into `subnets`).
    pub fn route_table_of(&self, subnet: usize) -> Option<&RouteTable> {
        self.links()
            .table_of_subnet
            .get(subnet)
            .copied()
            .flatten()
            .and_then(|t| self.route_tables.get(t))
    }

    /// The firewall `link` names, seen from a resource in unit `from`.
    pub fn firewall_of(&self, from: u32, link: Option<&Link>) -> Option<&Firewall> {
        self.links().firewalls.resolve(link?, from).and_then(|i| self.firewalls.get(i))
    }

    /// The NSG `link` names, seen from a resource in unit `from`.
    pub fn nsg_of(&self, from: u32, link: Option<&Link>) -> Option<&Nsg> {
        self.links().nsgs.resolve(link?, from).and_then(|i| self.nsgs.get(i))
    }

    /// The subnets associated with the route table at `table` (an index into `route_tables`).
    pub fn subnets_of(&self, table: usize) -> impl Iterator<Item = &Subnet> + '_ {
        self.links()
            .subnets_of_table
            .get(table)
            .into_iter()
            .flatten()
            .filter_map(|i| self.subnets.get(*i))
    }

    /// The network interfaces in the subnet at `subnet`.
    pub fn nics_in(&self, subnet: usize) -> impl Iterator<Item = &NetworkInterface> + '_ {
        self.links()
            .nics_of_subnet
            .get(subnet)
            .into_iter()
            .flatten()
            .filter_map(|i| self.nics.get(*i))
    }

    /// The virtual network of the subnet at `subnet`, when the code says.
    pub fn vnet_of_subnet(&self, subnet: usize) -> Option<&VnetKey> {
        self.links().vnet_of_subnet.get(subnet).and_then(Option::as_ref)
    }

    /// The virtual network of the gateway at `gateway`, when the code says.
    pub fn vnet_of_gateway(&self, gateway: usize) -> Option<&VnetKey> {
        self.links().vnet_of_gateway.get(gateway).and_then(Option::as_ref)
    }

    /// The peerings from `local` to `remote`.
    pub fn peerings_between<'a>(&'a self, local: &'a VnetKey, remote: &'a VnetKey) -> impl Iterator<Item = &'a Peering> + 'a {
        self.links()
            .peering_ends
            .iter()
            .zip(&self.peerings)
            .filter(move |((l, r), _)| l.as_ref() == Some(local) && r.as_ref() == Some(remote))
            .map(|(_, p)| p)
    }

    /// Puts every resource and address link of one deployment unit in `ns`.
    pub fn set_namespace(&mut self, ns: u32) {
        let set = |l: &mut Link| {
            if let Link::Address(_, _, n) = l {
                *n = ns;
            }
        };
        for t in &mut self.route_tables {
            t.namespace = ns;
            for r in &mut t.routes {
                if let Some(l) = &mut r.next_hop_firewall {
                    set(l);
                }
            }
        }
        for n in &mut self.nsgs {
            n.namespace = ns;
        }
        for s in &mut self.subnets {
            s.namespace = ns;
            s.route_table.iter_mut().for_each(set);
            s.nsg.iter_mut().for_each(set);
            s.vnet.iter_mut().for_each(set);
        }
        for n in &mut self.nics {
            n.namespace = ns;
            n.nsg.iter_mut().for_each(set);
            n.subnets.iter_mut().for_each(set);
        }
        for f in &mut self.firewalls {
            f.namespace = ns;
        }
        for i in &mut self.instance_inputs {
            i.namespace = ns;
        }
        for g in &mut self.gateways {
            g.namespace = ns;
            g.subnet.iter_mut().for_each(set);
        }
        for v in &mut self.vnets {
            v.namespace = ns;
        }
        for p in &mut self.peerings {
            p.namespace = ns;
            p.vnet.iter_mut().for_each(set);
            p.remote.iter_mut().for_each(set);
        }
    }

    /// Gives each orphan to the one parent of its name (and resource group,
    /// where both name one) in the unit. Two parents of one name are never
    /// merged: each is marked incomplete instead. A parent not declared in
    /// the unit gets a stand-in ([`RouteTable::elsewhere`], [`Nsg::elsewhere`]).
    pub fn adopt_orphans(&mut self) {
        let same_group = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => true,
        };
        let named = |n: &Field<String>, want: &Option<String>| match (n.known(), want) {
            (Some(n), Some(w)) => n.eq_ignore_ascii_case(w),
            _ => false,
        };
        for o in std::mem::take(&mut self.orphans) {
            let stand_in_name = match &o.parent_name {
                Some(n) => Field::Known(n.clone(), o.origin.clone()),
                None => Field::unknown(Unresolved {
                    reason: format!("{} is not known here", o.parent_label),
                    origin: o.origin.clone(),
                }),
            };
            match o.child.clone() {
                OrphanChild::Route(route) => {
                    let found: Vec<usize> = (0..self.route_tables.len())
                        .filter(|i| {
                            self.route_tables.get(*i).is_some_and(|t| {
                                !t.elsewhere && named(&t.name, &o.parent_name) && same_group(&t.resource_group, &o.resource_group)
                            })
                        })
                        .collect();
                    let from_module = module_members(&o, self.route_tables.iter().map(|t| (t.address.as_str(), t.elsewhere)));
                    if !from_module.is_empty() {
                        let why = from_module_output(route.resource.as_deref(), "route table", &o);
                        for i in from_module {
                            if let Some(t) = self.route_tables.get_mut(i) {
                                t.incomplete.push(why.clone());
                            }
                        }
                        continue;
                    }
                    match found.as_slice() {
                        [one] => {
                            if let Some(t) = self.route_tables.get_mut(*one) {
                                t.routes.push(route);
                            }
                        }
                        [] => match self.route_tables.iter_mut().find(|t| t.elsewhere && t.address == o.parent_label) {
                            Some(t) => t.routes.push(route),
                            None => {
                                let mut t = RouteTable::elsewhere(o.parent_label.clone(), stand_in_name, o.origin.clone(), o.dialect);
                                t.resource_group = o.resource_group.clone();
                                t.routes.push(route);
                                self.route_tables.push(t);
                            }
                        },
                        several => {
                            let why = ambiguous(route.resource.as_deref(), "route table", &o, several.len());
                            for i in several {
                                if let Some(t) = self.route_tables.get_mut(*i) {
                                    t.incomplete.push(why.clone());
                                }
                            }
                        }
                    }
                }
                OrphanChild::Rule(rule) => {
                    let found: Vec<usize> = (0..self.nsgs.len())
                        .filter(|i| {
                            self.nsgs.get(*i).is_some_and(|n| {
                                !n.elsewhere && named(&n.name, &o.parent_name) && same_group(&n.resource_group, &o.resource_group)
                            })
                        })
                        .collect();
                    let from_module = module_members(&o, self.nsgs.iter().map(|n| (n.address.as_str(), n.elsewhere)));
                    if !from_module.is_empty() {
                        let why = from_module_output(rule.resource.as_deref(), "NSG", &o);
                        for i in from_module {
                            if let Some(n) = self.nsgs.get_mut(i) {
                                n.incomplete.push(why.clone());
                            }
                        }
                        continue;
                    }
                    match found.as_slice() {
                        [one] => {
                            if let Some(n) = self.nsgs.get_mut(*one) {
                                n.rules.push(rule);
                            }
                        }
                        [] => match self.nsgs.iter_mut().find(|n| n.elsewhere && n.address == o.parent_label) {
                            Some(n) => n.rules.push(rule),
                            None => {
                                let mut n = Nsg::elsewhere(o.parent_label.clone(), stand_in_name, o.origin.clone(), o.dialect);
                                n.resource_group = o.resource_group.clone();
                                n.rules.push(rule);
                                self.nsgs.push(n);
                            }
                        },
                        several => {
                            let why = ambiguous(rule.resource.as_deref(), "NSG", &o, several.len());
                            for i in several {
                                if let Some(n) = self.nsgs.get_mut(*i) {
                                    n.incomplete.push(why.clone());
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Moves everything `other` holds into this model (its links must not be resolved yet).
    pub fn absorb(&mut self, other: Model) {
        self.route_tables.extend(other.route_tables);
        self.nsgs.extend(other.nsgs);
        self.subnets.extend(other.subnets);
        self.nics.extend(other.nics);
        self.gateways.extend(other.gateways);
        self.firewalls.extend(other.firewalls);
        self.vnets.extend(other.vnets);
        self.peerings.extend(other.peerings);
        self.orphans.extend(other.orphans);
        self.unchecked.extend(other.unchecked);
        self.resource_suppressions.extend(other.resource_suppressions);
        self.instance_inputs.extend(other.instance_inputs);
    }
}

/// The parents a module declares itself, when an orphan's parent is that
/// module's output (`module.network.route_table_name`) and kmsguard could
/// not follow it: the child may belong to any of them.
///
/// The call may be indexed by a key kmsguard could not evaluate
/// (`module.rt[each.value.hub].name` under an unknown for_each): then every
/// instance's parents are candidates. A registry module read from its
/// inputs is itself the parent (its table's address is the call's,
/// `module.rt["hub"]`).
fn module_members<'a>(o: &Orphan, items: impl Iterator<Item = (&'a str, bool)>) -> Vec<usize> {
    if o.parent_name.is_some() {
        return Vec::new();
    }
    let Some((call, _output)) = o.parent_label.rsplit_once('.') else {
        return Vec::new();
    };
    if !(call.starts_with("module.") || call.contains(".module.")) {
        return Vec::new();
    }
    // The call's own path, without the instance key written after its name.
    let last = call.rfind("module.").unwrap_or(0);
    let call = match call.get(last..).and_then(|tail| tail.find('[')) {
        Some(i) => call.get(..last + i).unwrap_or(call),
        None => call,
    };
    let member = |a: &str| {
        let Some(rest) = a.strip_prefix(call) else { return false };
        // Past an instance key, if any.
        let rest = match rest.strip_prefix('[') {
            Some(r) => match r.find(']') {
                Some(i) => r.get(i + 1..).unwrap_or_default(),
                None => return false,
            },
            None => rest,
        };
        rest.is_empty() || rest.strip_prefix('.').is_some_and(|r| !r.is_empty() && !r.starts_with("module."))
    };
    items
        .enumerate()
        .filter(|(_, (a, elsewhere))| !elsewhere && member(a))
        .map(|(i, _)| i)
        .collect()
}

fn from_module_output(child: Option<&str>, what: &str, o: &Orphan) -> Unresolved {
    Unresolved {
        reason: format!(
            "{} may belong to this {what}: it names its parent by {}, a module output kmsguard could not follow",
            child.unwrap_or("a separately declared child"),
            o.parent_label
        ),
        origin: o.origin.clone(),
    }
}

fn ambiguous(child: Option<&str>, what: &str, o: &Orphan, count: usize) -> Unresolved {
    Unresolved {
        reason: format!(
            "{} may belong to this {what}: {count} {what}s are named {} and its resource group does not tell them apart",
            child.unwrap_or("a separately declared child"),
            o.parent_name.as_deref().unwrap_or(&o.parent_label)
        ),
        origin: o.origin.clone(),
    }
}

/// Parses an IPv4/IPv6 prefix, taking a bare address as a host prefix and
/// dropping host bits the way Azure normalises them.
pub fn parse_prefix(s: &str) -> Option<IpNet> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Some(net.trunc());
    }
    s.parse::<IpAddr>().ok().map(IpNet::from)
}

/// Service tags are letters, digits and dots (`Storage.WestEurope`), starting with a letter.
pub fn is_service_tag_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_hop_types_compare_case_insensitively() {
        assert_eq!(NextHopType::parse("vnetlocal"), Some(NextHopType::VnetLocal));
        assert_eq!(NextHopType::parse("INTERNET"), Some(NextHopType::Internet));
        assert_eq!(NextHopType::parse("Firewall"), None);
    }

    #[test]
    fn prefixes_accept_bare_addresses_and_drop_host_bits() {
        assert_eq!(
            parse_prefix("20.118.99.224").map(|n| n.to_string()).as_deref(),
            Some("20.118.99.224/32")
        );
        assert_eq!(parse_prefix("10.1.2.3/8").map(|n| n.to_string()).as_deref(), Some("10.0.0.0/8"));
        assert_eq!(parse_prefix("AzureCloud"), None);
    }

    #[test]
    fn address_matches_know_stars_prefixes_and_tags() {
        assert_eq!(AddressMatch::parse("*"), Some(AddressMatch::Any));
        assert!(AddressMatch::parse("AzurePlatformLKM").is_some_and(|a| a.is_tag("azureplatformlkm")));
        assert_eq!(AddressMatch::parse("not a tag!"), None);
    }

    #[test]
    fn port_ranges_parse_singles_ranges_and_star() {
        assert_eq!(PortRange::parse("1688"), Some(PortRange { from: 1688, to: 1688 }));
        assert!(PortRange::parse("1000-2000").is_some_and(|r| r.contains(1688)));
        assert_eq!(PortRange::parse("*"), Some(PortRange::ANY));
        assert_eq!(PortRange::parse("2000-1000"), None);
        assert_eq!(PortRange::parse("70000"), None);
    }

    #[test]
    fn resource_ids_come_apart_in_every_shape() {
        let full = ResourceId::parse(
            "/subscriptions/s1/resourceGroups/rg-hub/providers/Microsoft.Network/virtualNetworks/vnet-hub/subnets/GatewaySubnet",
        );
        assert_eq!(full.subscription.as_deref(), Some("s1"));
        assert_eq!(full.resource_group.as_deref(), Some("rg-hub"));
        assert_eq!(full.name(), "GatewaySubnet");
        assert!(full.is_full());
        assert_eq!(full.vnet_of_subnet(), Some("vnet-hub"));
        // kmsguard's resourceId() shape: types first, then names.
        let own = ResourceId::parse("/providers/Microsoft.Network/virtualNetworks/subnets/vnet-a/GatewaySubnet");
        assert_eq!(own.vnet_of_subnet(), Some("vnet-a"));
        assert!(!own.is_full());
        // A child's id with only its own name does not name the network.
        assert_eq!(
            ResourceId::parse("/providers/Microsoft.Network/virtualNetworks/subnets/GatewaySubnet").vnet_of_subnet(),
            None
        );
        let bare = ResourceId::parse("rt-hub");
        assert_eq!((bare.name(), bare.is_full()), ("rt-hub", false));
    }

    fn table_in(ns: u32, name: &str, rg: Option<&str>) -> RouteTable {
        let o = Origin::new(crate::source::FileId(0), 0..0);
        let authoring = Authoring {
            dialect: Dialect::Bicep,
            style: RouteStyle::Inline,
            indent: String::new(),
            reference: String::new(),
            insert_at: None,
        };
        RouteTable {
            namespace: ns,
            resource_group: rg.map(str::to_string),
            ..RouteTable::new(
                name.into(),
                Field::Known(name.into(), o.clone()),
                o.clone(),
                Field::Known(true, o),
                authoring,
            )
        }
    }

    fn subnet_linked(ns: u32, id: &str) -> Subnet {
        let o = Origin::new(crate::source::FileId(0), 0..0);
        Subnet {
            namespace: ns,
            route_table: Some(Link::Id(Field::Known(id.into(), o.clone()))),
            ..Subnet::new("s".into(), Field::Known("s".into(), o.clone()), o)
        }
    }

    fn linked(tables: Vec<RouteTable>, subnet: Subnet) -> Option<String> {
        let m = Model {
            route_tables: tables,
            subnets: vec![subnet],
            ..Model::default()
        };
        m.route_table_of(0)
            .map(|t| format!("{}:{}", t.namespace, t.resource_group.clone().unwrap_or_default()))
    }

    #[test]
    fn ids_link_inside_their_unit_and_across_only_when_fully_known() {
        let partial = "/providers/Microsoft.Network/routeTables/rt";
        let full = |rg: &str| format!("/subscriptions/s/resourceGroups/{rg}/providers/Microsoft.Network/routeTables/rt");
        // A name alone never reaches another unit.
        assert_eq!(linked(vec![table_in(2, "rt", Some("rg-a"))], subnet_linked(1, partial)), None);
        // Inside the unit the name does, unless both name different groups.
        assert_eq!(linked(vec![table_in(1, "rt", None)], subnet_linked(1, partial)), Some("1:".into()));
        assert_eq!(linked(vec![table_in(1, "rt", Some("rg-b"))], subnet_linked(1, &full("rg-a"))), None);
        // The referrer's own unit comes first.
        assert_eq!(
            linked(
                vec![table_in(2, "rt", Some("rg-a")), table_in(1, "rt", Some("rg-a"))],
                subnet_linked(1, &full("rg-a"))
            ),
            Some("1:rg-a".into())
        );
        // A full id reaches another unit's table of that group, and only one whose group is known.
        assert_eq!(
            linked(vec![table_in(2, "rt", Some("RG-A"))], subnet_linked(1, &full("rg-a"))),
            Some("2:RG-A".into())
        );
        assert_eq!(linked(vec![table_in(2, "rt", None)], subnet_linked(1, &full("rg-a"))), None);
        assert_eq!(linked(vec![table_in(2, "rt", Some("rg-b"))], subnet_linked(1, &full("rg-a"))), None);
    }
}
