//! Network security groups and their security rules, with the protocol,
//! address and port matching the rules are written in.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::{is_service_tag_name, parse_prefix, Dialect, Field, Unresolved};
use crate::source::Origin;

/// A network security group (`azurerm_network_security_group`,
/// `Microsoft.Network/networkSecurityGroups`).
#[derive(Debug, Clone, PartialEq)]
pub struct Nsg {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`](super::Link)).
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
