//! Virtual networks, subnets and peerings, and the links and resource ids
//! by which resources refer to one another.

use super::Field;
use crate::source::Origin;

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
