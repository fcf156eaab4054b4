//! Virtual network gateways that can bring a default route into subnets.

use super::{Field, Link};
use crate::source::Origin;

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
