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
    /// Where `address` is unique (see [`Link::Address`]); 0 outside Terraform.
    pub namespace: u32,
    pub name: Field<String>,
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
}

impl RouteTable {
    /// A table as its own resource declares it: no routes yet, created
    /// unconditionally, in no named cloud, deployed directly.
    pub fn new(address: String, name: Field<String>, origin: Origin, propagate_gateway_routes: Field<bool>, authoring: Authoring) -> Self {
        RouteTable {
            address,
            namespace: 0,
            name,
            origin,
            routes: Vec::new(),
            incomplete: Vec::new(),
            propagate_gateway_routes,
            conditional: None,
            authoring,
            cloud: None,
            called_from: Vec::new(),
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
    /// Where `address` is unique (see [`Link::Address`]); 0 outside Terraform.
    pub namespace: u32,
    pub name: Field<String>,
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
}

impl Nsg {
    /// An NSG as its own resource declares it: no rules yet, created
    /// unconditionally, in no named cloud, deployed directly.
    pub fn new(address: String, name: Field<String>, origin: Origin, dialect: Dialect) -> Self {
        Nsg {
            address,
            namespace: 0,
            name,
            origin,
            rules: Vec::new(),
            incomplete: Vec::new(),
            conditional: None,
            dialect,
            cloud: None,
            called_from: Vec::new(),
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
    /// Code kmsguard could not follow (a linked template, a registry module),
    /// with the address of the resource or module that refers to it; reported
    /// as KG901 notes.
    pub unchecked: Vec<(String, Unresolved)>,
    /// Links resolved on first use, once the model is complete.
    pub links: std::sync::OnceLock<Links>,
    /// Suppressions written on resources themselves (ARM `metadata.kmsguard.ignore`):
    /// the resource's address, the entry (`"KG101 -- reason"`) and where it is written.
    pub resource_suppressions: Vec<(String, String, Origin)>,
}

/// How one resource refers to another: by Azure resource id (Bicep, ARM,
/// literal ids) or by the front end's own address (a Terraform reference
/// such as `azurerm_route_table.hub`), with the place the reference is written.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    Id(Field<String>),
    /// A front end's own address, within a namespace: Terraform addresses
    /// are unique only inside one root module's tree.
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

/// A subnet and the route table and NSG associated with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subnet {
    pub address: String,
    /// Where `address` is unique (see [`Link::Address`]); 0 outside Terraform.
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub route_table: Option<Link>,
    pub nsg: Option<Link>,
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
        }
    }
}

/// A virtual network gateway that can put a 0.0.0.0/0 into subnets: a VPN
/// gateway with a default site (forced tunneling) or BGP, or an ExpressRoute
/// gateway (routes from on-premises always arrive over BGP).
#[derive(Debug, Clone, PartialEq)]
pub struct Gateway {
    pub address: String,
    pub name: Field<String>,
    pub origin: Origin,
    /// Why a default route may arrive, e.g. "it has a default site".
    pub reason: String,
}

/// An Azure Firewall with the network rules of its policy (or its classic
/// rule collections), in processing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Firewall {
    pub address: String,
    /// Where `address` is unique (see [`Link::Address`]); 0 outside Terraform.
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub rules: Vec<FirewallRule>,
    /// Whether DNS proxy is on, which FQDN network rules need.
    pub dns_proxy: Field<bool>,
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
    /// Where `address` is unique (see [`Link::Address`]); 0 outside Terraform.
    pub namespace: u32,
    pub name: Field<String>,
    pub origin: Origin,
    pub subnets: Vec<Link>,
    pub nsg: Option<Link>,
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
}

/// Resources of one kind by (namespace, address) and by lower-cased name.
#[derive(Debug, Default)]
struct Index {
    by_address: std::collections::HashMap<(u32, String), usize>,
    by_name: std::collections::HashMap<String, usize>,
}

impl Index {
    fn new<'a>(items: impl Iterator<Item = (u32, &'a str, &'a Field<String>)>) -> Self {
        let mut ix = Index::default();
        for (i, (ns, address, name)) in items.enumerate() {
            ix.by_address.entry((ns, address.to_string())).or_insert(i);
            if let Some(n) = name.known() {
                ix.by_name.entry(n.to_ascii_lowercase()).or_insert(i);
            }
        }
        ix
    }

    fn resolve(&self, link: &Link) -> Option<usize> {
        match link {
            Link::Address(a, _, ns) => self.by_address.get(&(*ns, a.clone())).copied(),
            Link::Id(Field::Known(id, _)) => {
                let last = id.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
                self.by_name.get(&last.to_ascii_lowercase()).copied()
            }
            Link::Id(Field::Unknown(_)) => None,
        }
    }
}

impl Model {
    fn links(&self) -> &Links {
        self.links.get_or_init(|| {
            let tables = Index::new(self.route_tables.iter().map(|t| (t.namespace, t.address.as_str(), &t.name)));
            let subnets = Index::new(self.subnets.iter().map(|s| (s.namespace, s.address.as_str(), &s.name)));
            let table_of_subnet: Vec<Option<usize>> = self
                .subnets
                .iter()
                .map(|s| s.route_table.as_ref().and_then(|l| tables.resolve(l)))
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
                    if let Some(list) = subnets.resolve(l).and_then(|s| nics_of_subnet.get_mut(s)) {
                        list.push(ni);
                    }
                }
            }
            Links {
                table_of_subnet,
                subnets_of_table,
                nics_of_subnet,
                nsgs: Index::new(self.nsgs.iter().map(|n| (n.namespace, n.address.as_str(), &n.name))),
                firewalls: Index::new(self.firewalls.iter().map(|f| (f.namespace, f.address.as_str(), &f.name))),
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

    pub fn firewall_of(&self, link: Option<&Link>) -> Option<&Firewall> {
        self.links().firewalls.resolve(link?).and_then(|i| self.firewalls.get(i))
    }

    pub fn nsg_of(&self, link: Option<&Link>) -> Option<&Nsg> {
        self.links().nsgs.resolve(link?).and_then(|i| self.nsgs.get(i))
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
}
