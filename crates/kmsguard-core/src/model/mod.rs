//! The format-free model of Azure networking that every front end lowers into.
//!
//! Terraform, Bicep and ARM all end up here, and nothing past this module
//! knows which one a resource came from — except the [`Authoring`] hint that
//! lets a fix be written in the file's own style.
//!
//! Every field is either known, with the place it was written, or unknown,
//! with the reason and the place that made it so. Rules decide only on known
//! values; an unknown value that decides a verdict becomes a KG901 note.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::source::Origin;

// One file per family of resources; their items are this module's own.
mod firewall;
mod gateway;
mod links;
mod network;
mod nic;
mod nsg;
mod orphan;
mod route_table;
#[cfg(any(test, feature = "testkit"))]
#[allow(clippy::expect_used)]
pub mod testkit;

pub use firewall::*;
pub use gateway::*;
pub use links::*;
pub use network::*;
pub use nic::*;
pub use nsg::*;
pub use orphan::*;
pub use route_table::*;

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

impl Model {
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
            f.subnet.iter_mut().for_each(set);
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
