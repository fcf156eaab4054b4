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

    let best_system = best_system_route(addr);

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

/// The longest system route that covers `addr`.
fn best_system_route(addr: IpAddr) -> Option<SystemRoute> {
    system_routes()
        .into_iter()
        .filter(|s| s.prefix.contains(&addr))
        .max_by_key(|s| s.prefix.prefix_len())
}

/// Whether a table holds a user-defined IPv4 default route, which turns off
/// the platform's NSG allowance for KMS ("For deployments using default route
/// 0.0.0.0/0 configuration, this platform rule is disabled", Azure network
/// security groups overview, Azure platform considerations).
pub fn has_custom_default_route(table: &RouteTable) -> bool {
    table.routes.iter().any(|r| match &r.address_prefix {
        crate::model::Field::Known(RoutePrefix::Net(n), _) => n.prefix_len() == 0 && n.addr().is_ipv4(),
        _ => false,
    })
}

/// Where a route in an explanation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteSource {
    User,
    /// A default route learned over BGP or from a VPN gateway's default site.
    Bgp,
    System,
}

impl RouteSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteSource::User => "user",
            RouteSource::Bgp => "bgp",
            RouteSource::System => "system",
        }
    }
}

/// What became of one route that might carry the traffic.
#[derive(Debug, Clone, PartialEq)]
pub enum CandidateStatus {
    Wins,
    /// It covers the address but another route beats it, for this reason.
    Loses(String),
    /// Whether it covers the address or where it goes is not known.
    Unknown(Vec<Unresolved>),
}

/// One route considered for an address.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub source: RouteSource,
    /// The prefix when known (a service tag or unknown prefix has none).
    pub prefix: Option<IpNet>,
    /// The prefix as shown: the network, the tag, or `?`.
    pub prefix_text: String,
    pub next_hop: Option<NextHopType>,
    /// The user-defined route itself.
    pub route: Option<&'a Route>,
    pub status: CandidateStatus,
}

/// A default route gateways may put into the subnet's routes over BGP.
#[derive(Debug, Clone, PartialEq)]
pub struct BgpDefault {
    /// Why one may arrive: a gateway with a default site, `--assume-bgp-default-route`.
    pub why: String,
}

/// The route that decides, once BGP is taken into account.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision<'a> {
    Known {
        source: RouteSource,
        prefix: IpNet,
        next_hop: NextHopType,
        route: Option<&'a Route>,
    },
    Unknown(Vec<Unresolved>),
}

/// Every route that covers (or may cover) `addr`, which one wins and why the
/// others lose: the same longest prefix match as [`effective_route`], step
/// by step (a subnet without a route table is traced through an empty
/// one), plus a BGP default route when one may be learned (it beats a
/// system route of equal length and loses to a user-defined one).
pub fn explain<'a>(t: &'a RouteTable, addr: IpAddr, bgp: Option<&BgpDefault>) -> (Vec<Candidate<'a>>, Decision<'a>) {
    let base = effective_route(t, addr);
    // BGP: learned only where the table keeps gateway route propagation on.
    let bgp_route: Option<Result<IpNet, Vec<Unresolved>>> = match (bgp, addr) {
        (Some(_), IpAddr::V4(_)) => match &t.propagate_gateway_routes {
            crate::model::Field::Known(true, _) => "0.0.0.0/0".parse::<IpNet>().ok().map(Ok),
            crate::model::Field::Known(false, _) => None,
            crate::model::Field::Unknown(u) => Some(Err(vec![(**u).clone()])),
        },
        _ => None,
    };
    let propagation_off = bgp.is_some() && addr.is_ipv4() && bgp_route.is_none();

    let decision: Decision<'_> = match &base {
        RouteDecision::Unknown(why) => Decision::Unknown(why.clone()),
        RouteDecision::Known(er) => match (&er.winner, &bgp_route) {
            (Winner::System(s), Some(Ok(b))) if b.prefix_len() >= s.prefix.prefix_len() => Decision::Known {
                source: RouteSource::Bgp,
                prefix: *b,
                next_hop: NextHopType::VirtualNetworkGateway,
                route: None,
            },
            (Winner::System(s), Some(Err(why))) if s.prefix.prefix_len() == 0 => Decision::Unknown(why.clone()),
            (Winner::User(r), _) => Decision::Known {
                source: RouteSource::User,
                prefix: er.prefix,
                next_hop: er.next_hop,
                route: Some(*r),
            },
            (Winner::System(_), _) => Decision::Known {
                source: RouteSource::System,
                prefix: er.prefix,
                next_hop: er.next_hop,
                route: None,
            },
        },
    };
    let (win_source, win_prefix, win_route) = match &decision {
        Decision::Known { source, prefix, route, .. } => (Some(*source), Some(*prefix), *route),
        Decision::Unknown(_) => (None, None, None),
    };
    let lose_reason = |source: RouteSource, prefix: &IpNet| -> CandidateStatus {
        match (win_source, win_prefix) {
            (Some(ws), Some(wp)) if prefix.prefix_len() < wp.prefix_len() => CandidateStatus::Loses(format!(
                "/{} is shorter than the winning {} route's /{}",
                prefix.prefix_len(),
                ws.as_str(),
                wp.prefix_len()
            )),
            (Some(ws), Some(_)) if ws == source => {
                CandidateStatus::Loses("same prefix as the winning route, which is listed first".to_string())
            }
            (Some(ws), Some(_)) => CandidateStatus::Loses(format!(
                "same prefix length as the winning {} route, and on equal prefixes user-defined beats BGP beats system",
                ws.as_str()
            )),
            _ => CandidateStatus::Unknown(Vec::new()),
        }
    };

    let mut out = Vec::new();
    for r in &t.routes {
        let hop = r.next_hop_type.known().copied();
        match &r.address_prefix {
            crate::model::Field::Known(RoutePrefix::Net(n), _) if n.contains(&addr) => {
                let is_winner = win_route.is_some_and(|w| std::ptr::eq(w, r));
                let status = if is_winner {
                    CandidateStatus::Wins
                } else if let Some(u) = r.next_hop_type.unresolved().filter(|_| win_source.is_none()) {
                    CandidateStatus::Unknown(vec![u.clone()])
                } else {
                    lose_reason(RouteSource::User, n)
                };
                out.push(Candidate {
                    source: RouteSource::User,
                    prefix: Some(*n),
                    prefix_text: n.to_string(),
                    next_hop: hop,
                    route: Some(r),
                    status,
                });
            }
            crate::model::Field::Known(RoutePrefix::Net(_), _) => {}
            crate::model::Field::Known(RoutePrefix::ServiceTag(tag), _) => out.push(Candidate {
                source: RouteSource::User,
                prefix: None,
                prefix_text: tag.clone(),
                next_hop: hop,
                route: Some(r),
                status: unknown_reach(win_prefix, service_tag_unknown(r, tag)),
            }),
            crate::model::Field::Unknown(u) => out.push(Candidate {
                source: RouteSource::User,
                prefix: None,
                prefix_text: "?".into(),
                next_hop: hop,
                route: Some(r),
                status: unknown_reach(win_prefix, (**u).clone()),
            }),
        }
    }
    match (&bgp_route, bgp) {
        (Some(Ok(b)), _) => out.push(Candidate {
            source: RouteSource::Bgp,
            prefix: Some(*b),
            prefix_text: b.to_string(),
            next_hop: Some(NextHopType::VirtualNetworkGateway),
            route: None,
            status: if win_source == Some(RouteSource::Bgp) {
                CandidateStatus::Wins
            } else {
                lose_reason(RouteSource::Bgp, b)
            },
        }),
        (Some(Err(why)), _) => out.push(Candidate {
            source: RouteSource::Bgp,
            prefix: "0.0.0.0/0".parse().ok(),
            prefix_text: "0.0.0.0/0".into(),
            next_hop: Some(NextHopType::VirtualNetworkGateway),
            route: None,
            status: CandidateStatus::Unknown(why.clone()),
        }),
        (None, Some(_)) if propagation_off => out.push(Candidate {
            source: RouteSource::Bgp,
            prefix: "0.0.0.0/0".parse().ok(),
            prefix_text: "0.0.0.0/0".into(),
            next_hop: Some(NextHopType::VirtualNetworkGateway),
            route: None,
            status: CandidateStatus::Loses("not learned: the route table turns gateway route propagation off".into()),
        }),
        _ => {}
    }
    for s in system_routes().into_iter().filter(|s| s.prefix.contains(&addr)) {
        let status = if win_source == Some(RouteSource::System) && win_prefix == Some(s.prefix) {
            CandidateStatus::Wins
        } else {
            lose_reason(RouteSource::System, &s.prefix)
        };
        out.push(Candidate {
            source: RouteSource::System,
            prefix: Some(s.prefix),
            prefix_text: s.prefix.to_string(),
            next_hop: Some(s.next_hop),
            route: None,
            status,
        });
    }
    // Routes kmsguard cannot see (a dynamic block over an unknown collection).
    if win_prefix.is_none_or(|p| p.prefix_len() < p.max_prefix_len()) {
        for u in &t.incomplete {
            out.push(Candidate {
                source: RouteSource::User,
                prefix: None,
                prefix_text: "?".into(),
                next_hop: None,
                route: None,
                status: CandidateStatus::Unknown(vec![u.clone()]),
            });
        }
    }
    (out, decision)
}

/// A route of unknown reach: it cannot beat a host route.
fn unknown_reach(winner: Option<IpNet>, why: Unresolved) -> CandidateStatus {
    match winner {
        Some(w) if w.prefix_len() == w.max_prefix_len() => {
            CandidateStatus::Loses(format!("whatever it covers, it cannot beat the winning /{}", w.prefix_len()))
        }
        _ => CandidateStatus::Unknown(vec![why]),
    }
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
    use crate::model::testkit::*;

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

    fn explained(t: &RouteTable, addr: &str, bgp: bool) -> (Vec<String>, String) {
        let b = BgpDefault { why: "test".into() };
        let (c, d) = explain(t, addr.parse().expect("ip"), bgp.then_some(&b));
        let rows = c
            .iter()
            .map(|c| {
                let st = match &c.status {
                    CandidateStatus::Wins => "wins",
                    CandidateStatus::Loses(_) => "loses",
                    CandidateStatus::Unknown(_) => "unknown",
                };
                format!("{} {} {st}", c.prefix_text, c.source.as_str())
            })
            .collect();
        let d = match d {
            Decision::Known {
                source, prefix, next_hop, ..
            } => format!("{} {prefix} {next_hop}", source.as_str()),
            Decision::Unknown(_) => "unknown".into(),
        };
        (rows, d)
    }

    #[test]
    fn explain_agrees_with_effective_route_and_ranks_bgp_between_user_and_system() {
        let t = table(
            "t",
            vec![
                route("d", "0.0.0.0/0", "VirtualAppliance"),
                route("k", "20.118.99.224/32", "Internet"),
            ],
        );
        let (rows, d) = explained(&t, "20.118.99.224", false);
        assert_eq!(
            rows,
            ["0.0.0.0/0 user loses", "20.118.99.224/32 user wins", "0.0.0.0/0 system loses"]
        );
        assert_eq!(d, "user 20.118.99.224/32 Internet");
        // A learned default beats the system default, not a user route of equal length.
        let empty = table("e", vec![]);
        let (rows, d) = explained(&empty, "40.83.235.53", true);
        assert_eq!(rows, ["0.0.0.0/0 bgp wins", "0.0.0.0/0 system loses"]);
        assert_eq!(d, "bgp 0.0.0.0/0 VirtualNetworkGateway");
        let (_, d) = explained(&t, "40.83.235.53", true);
        assert_eq!(d, "user 0.0.0.0/0 VirtualAppliance");
        // Private ranges: the longer system route beats a learned default.
        let (_, d) = explained(&empty, "10.1.2.3", true);
        assert_eq!(d, "system 10.0.0.0/8 None");
        // Unknown propagation leaves a learned default undecided.
        let mut u = table("u", vec![]);
        u.propagate_gateway_routes = unknown("var.propagate has no value");
        assert_eq!(explained(&u, "40.83.235.53", true).1, "unknown");
    }

    #[test]
    fn ipv6_defaults_go_to_internet() {
        let t = table("t", vec![route("v4", "0.0.0.0/0", "None")]);
        assert_eq!(hop(&t, "2001:db8::1"), Some(("::/0".into(), NextHopType::Internet)));
    }
}
