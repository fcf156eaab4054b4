//! Effective routes: longest prefix match over a route table's user-defined
//! routes and Azure's system routes.
//!
//! "Virtual network traffic routing" (Microsoft docs): the route with the
//! longest matching prefix wins; on equal prefixes a user-defined route beats
//! a BGP route, which beats a system route. System routes send 0.0.0.0/0 to
//! Internet and drop the private and shared ranges (next hop None) unless a
//! virtual network uses them.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{NextHopType, Route, RoutePrefix, RouteTable, Unresolved};

/// A route Azure adds to every subnet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemRoute {
    pub prefix: IpNet,
    pub next_hop: NextHopType,
}

/// Azure's default system routes, except the virtual network's own space
/// (VnetLocal), which only matters for private addresses.
pub fn system_routes() -> Vec<SystemRoute> {
    let r = |p: &str, next_hop| p.parse::<IpNet>().ok().map(|prefix| SystemRoute { prefix, next_hop });
    [
        r("0.0.0.0/0", NextHopType::Internet),
        r("10.0.0.0/8", NextHopType::None),
        r("172.16.0.0/12", NextHopType::None),
        r("192.168.0.0/16", NextHopType::None),
        r("100.64.0.0/10", NextHopType::None),
        r("::/0", NextHopType::Internet),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The route that carries traffic to one address.
#[derive(Debug, Clone, PartialEq)]
pub enum Winner<'a> {
    User(&'a Route),
    System(SystemRoute),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveRoute<'a> {
    pub winner: Winner<'a>,
    /// The winning route's prefix.
    pub prefix: IpNet,
    pub next_hop: NextHopType,
}

impl EffectiveRoute<'_> {
    /// True when the winning route is exactly the address's host route (/32, /128).
    pub fn is_host_route(&self) -> bool {
        self.prefix.prefix_len() == self.prefix.max_prefix_len()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteDecision<'a> {
    Known(EffectiveRoute<'a>),
    /// kmsguard cannot tell which route wins, or where it goes.
    Unknown(Vec<Unresolved>),
}

/// Longest prefix match for `addr` over `table` plus the system routes.
pub fn effective_route(table: &RouteTable, addr: IpAddr) -> RouteDecision<'_> {
    let host_len = if addr.is_ipv4() { 32 } else { 128 };

    let mut best_user: Option<(&Route, IpNet)> = None;
    // Routes that might cover the address but whose prefix kmsguard cannot read.
    let mut uncertain: Vec<Unresolved> = Vec::new();
    for route in &table.routes {
        match &route.address_prefix {
            crate::model::Field::Known(RoutePrefix::Net(net), _) => {
                if net.contains(&addr) && best_user.is_none_or(|(_, b)| net.prefix_len() > b.prefix_len()) {
                    best_user = Some((route, *net));
                }
            }
            crate::model::Field::Known(RoutePrefix::ServiceTag(tag), _) => {
                uncertain.push(service_tag_unknown(route, tag));
            }
            crate::model::Field::Unknown(u) => uncertain.push((**u).clone()),
        }
    }

    let best_system = system_routes()
        .into_iter()
        .filter(|s| s.prefix.contains(&addr))
        .max_by_key(|s| s.prefix.prefix_len());

    let user_len = best_user.map(|(_, n)| n.prefix_len());
    // A host route cannot be beaten, so routes kmsguard cannot read only matter
    // when the best known route is broader.
    if user_len != Some(host_len) {
        let mut blockers = uncertain;
        blockers.extend(table.incomplete.iter().cloned());
        if !blockers.is_empty() {
            return RouteDecision::Unknown(blockers);
        }
    }

    // On equal prefixes a user-defined route beats a system route.
    let user_wins = match (&best_user, &best_system) {
        (Some((_, net)), Some(sys)) => net.prefix_len() >= sys.prefix.prefix_len(),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if let (true, Some((route, net))) = (user_wins, best_user) {
        return match &route.next_hop_type {
            crate::model::Field::Known(hop, _) => RouteDecision::Known(EffectiveRoute {
                winner: Winner::User(route),
                prefix: net,
                next_hop: *hop,
            }),
            crate::model::Field::Unknown(u) => RouteDecision::Unknown(vec![(**u).clone()]),
        };
    }
    // Every address is covered by a system default route (0.0.0.0/0 or ::/0).
    let system = best_system.unwrap_or(SystemRoute {
        prefix: IpNet::from(addr),
        next_hop: NextHopType::Internet,
    });
    RouteDecision::Known(EffectiveRoute {
        prefix: system.prefix,
        next_hop: system.next_hop,
        winner: Winner::System(system),
    })
}

/// A route to a service tag covers an address only if kmsguard knew the
/// tag's published ranges; it does not, so the route's reach is unknown.
fn service_tag_unknown(route: &Route, tag: &str) -> Unresolved {
    Unresolved {
        reason: format!(
            "route {} uses the service tag {tag} as its address prefix, and kmsguard does not know which addresses the tag covers",
            route.name.known().map(String::as_str).unwrap_or("(unnamed)")
        ),
        origin: route.address_prefix.origin().clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testkit::*;

    fn hop(t: &RouteTable, addr: &str) -> Option<(String, NextHopType)> {
        match effective_route(t, addr.parse().expect("ip")) {
            RouteDecision::Known(er) => Some((er.prefix.to_string(), er.next_hop)),
            RouteDecision::Unknown(_) => None,
        }
    }

    #[test]
    fn longest_prefix_wins() {
        let t = table(
            "t",
            vec![
                route("default", "0.0.0.0/0", "VirtualAppliance"),
                route("azure", "20.0.0.0/8", "Internet"),
                route("host", "20.118.99.224/32", "VirtualNetworkGateway"),
            ],
        );
        assert_eq!(
            hop(&t, "20.118.99.224"),
            Some(("20.118.99.224/32".into(), NextHopType::VirtualNetworkGateway))
        );
        assert_eq!(hop(&t, "20.1.2.3"), Some(("20.0.0.0/8".into(), NextHopType::Internet)));
        assert_eq!(hop(&t, "40.83.235.53"), Some(("0.0.0.0/0".into(), NextHopType::VirtualAppliance)));
    }

    #[test]
    fn a_user_route_beats_a_system_route_of_equal_length() {
        let t = table("t", vec![route("default", "0.0.0.0/0", "VirtualAppliance")]);
        assert_eq!(hop(&t, "8.8.8.8"), Some(("0.0.0.0/0".into(), NextHopType::VirtualAppliance)));
    }

    #[test]
    fn system_routes_apply_without_user_routes() {
        let t = table("t", vec![]);
        assert_eq!(hop(&t, "20.118.99.224"), Some(("0.0.0.0/0".into(), NextHopType::Internet)));
        assert_eq!(hop(&t, "10.1.2.3"), Some(("10.0.0.0/8".into(), NextHopType::None)));
        assert_eq!(hop(&t, "100.64.0.1"), Some(("100.64.0.0/10".into(), NextHopType::None)));
    }

    #[test]
    fn host_bits_in_a_prefix_are_dropped() {
        let t = table(
            "t",
            vec![route("odd", "20.118.99.1/24", "Internet"), route("d", "0.0.0.0/0", "None")],
        );
        assert_eq!(hop(&t, "20.118.99.224"), Some(("20.118.99.0/24".into(), NextHopType::Internet)));
    }

    #[test]
    fn an_unknown_prefix_blocks_only_broader_decisions() {
        let mut maybe = route("maybe", "1.2.3.4/32", "Internet");
        maybe.address_prefix = unknown("var.prefix has no value");
        let t = table("t", vec![route("default", "0.0.0.0/0", "VirtualAppliance"), maybe.clone()]);
        assert_eq!(hop(&t, "20.118.99.224"), None);
        // A host route cannot be beaten, whatever the unknown prefix is.
        let t = table("t", vec![route("k", "20.118.99.224/32", "Internet"), maybe]);
        assert_eq!(hop(&t, "20.118.99.224"), Some(("20.118.99.224/32".into(), NextHopType::Internet)));
    }

    #[test]
    fn a_service_tag_prefix_is_unknown_reach() {
        let t = table(
            "t",
            vec![
                route("default", "0.0.0.0/0", "VirtualAppliance"),
                route("storage", "Storage", "Internet"),
            ],
        );
        match effective_route(&t, "20.118.99.224".parse().expect("ip")) {
            RouteDecision::Unknown(why) => assert!(why[0].reason.contains("service tag Storage"), "{why:?}"),
            other => panic!("expected unknown, got {other:?}"),
        }
    }

    #[test]
    fn ipv6_defaults_go_to_internet() {
        let t = table("t", vec![route("v4", "0.0.0.0/0", "None")]);
        assert_eq!(hop(&t, "2001:db8::1"), Some(("::/0".into(), NextHopType::Internet)));
    }
}
