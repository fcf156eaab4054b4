//! Azure Firewalls and their network rules.

use super::{Access, AddressMatch, Field, PortRange, Protocol, Unresolved};
use crate::source::Origin;

/// An Azure Firewall with the network rules of its policy (or its classic
/// rule collections), in processing order.
#[derive(Debug, Clone, PartialEq)]
pub struct Firewall {
    pub address: String,
    /// The deployment unit it belongs to (see [`Link`](super::Link)).
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
    /// The subnet of its IP configuration (its network's
    /// `AzureFirewallSubnet`), or its network; `None` when the code does not say.
    pub subnet: Option<super::Link>,
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
