//! Where each required endpoint address goes, per route table: shared by
//! KG101 (a broad route wins) and KG102 (the address's own /32 is wrong).

use std::net::IpAddr;

use crate::analysis::routing::{effective_route, EffectiveRoute, RouteDecision};
use crate::model::{NextHopType, RouteTable, Unresolved};
use crate::policy::Endpoint;

pub struct AddressRoute<'a> {
    pub address: IpAddr,
    pub decision: RouteDecision<'a>,
}

/// The effective route of every required address of `endpoint` in `cloud`.
pub fn required_routes<'a>(table: &'a RouteTable, endpoint: &Endpoint, cloud: &str) -> Vec<AddressRoute<'a>> {
    endpoint
        .addresses(cloud)
        .map(|a| a.required.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|addr| AddressRoute {
            address: *addr,
            decision: effective_route(table, *addr),
        })
        .collect()
}

/// A route that sends an address somewhere other than Internet.
pub fn breaks(er: &EffectiveRoute) -> bool {
    er.next_hop != NextHopType::Internet
}

/// "VirtualAppliance 10.0.1.4", "VirtualNetworkGateway", "None (dropped)".
pub fn describe_hop(er: &EffectiveRoute) -> String {
    use crate::analysis::routing::Winner;
    let ip = match &er.winner {
        Winner::User(r) => r.next_hop_ip.as_ref().and_then(|f| f.known().cloned()),
        Winner::System(_) => None,
    };
    match (er.next_hop, ip) {
        (NextHopType::None, _) => "next hop None, which drops it".to_string(),
        (NextHopType::VirtualAppliance, Some(ip)) => format!("VirtualAppliance {ip}"),
        (hop, _) => hop.to_string(),
    }
}

/// Unresolved values, without repeats, in the order met.
pub fn dedup(mut v: Vec<Unresolved>) -> Vec<Unresolved> {
    let mut seen = Vec::new();
    v.retain(|u| {
        let key = (u.reason.clone(), u.origin.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    v
}
