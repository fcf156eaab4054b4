//! Property tests: longest-prefix match and NSG evaluation against naive
//! reference implementations on random tables and rule sets.
// Tests may use the panicking shortcuts the workspace lints deny in library code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unreachable,
    clippy::todo
)]

use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net};
use kmsguard::analysis::nsg::{evaluate, Decider, Flow, Verdict};
use kmsguard::analysis::routing::{effective_route, RouteDecision};
use kmsguard::model::*;
use kmsguard::source::{FileId, Origin};
use proptest::prelude::*;

fn o() -> Origin {
    Origin::new(FileId(0), 0..1)
}

fn k<T>(v: T) -> Field<T> {
    Field::Known(v, o())
}

const HOPS: [NextHopType; 5] = [
    NextHopType::VirtualNetworkGateway,
    NextHopType::VnetLocal,
    NextHopType::Internet,
    NextHopType::VirtualAppliance,
    NextHopType::None,
];

fn arb_net() -> impl Strategy<Value = Ipv4Net> {
    (any::<u32>(), 0u8..=32).prop_map(|(a, l)| Ipv4Net::new(Ipv4Addr::from(a), l).map(|n| n.trunc()).unwrap_or_default())
}

/// Addresses near the prefixes, so that matches actually happen.
fn arb_addr(nets: Vec<Ipv4Net>) -> impl Strategy<Value = Ipv4Addr> {
    let n = nets.len().max(1);
    (0..n, any::<u32>(), any::<bool>()).prop_map(move |(i, r, inside)| match nets.get(i) {
        Some(net) if inside => {
            let host_bits = 32 - u32::from(net.prefix_len());
            let mask = if host_bits == 32 { u32::MAX } else { (1u32 << host_bits) - 1 };
            Ipv4Addr::from(u32::from(net.network()) | (r & mask))
        }
        _ => Ipv4Addr::from(r),
    })
}

fn table(routes: &[(Ipv4Net, usize)]) -> RouteTable {
    RouteTable {
        address: "t".into(),
        namespace: 0,
        name: k("t".into()),
        resource_group: None,
        elsewhere: false,
        origin: o(),
        routes: routes
            .iter()
            .map(|(n, h)| Route {
                name: k(format!("r{n}")),
                address_prefix: k(RoutePrefix::Net(IpNet::V4(*n))),
                next_hop_type: k(HOPS[h % HOPS.len()]),
                next_hop_ip: None,
                next_hop_firewall: None,
                origin: o(),
                resource: None,
            })
            .collect(),
        incomplete: vec![],
        propagate_gateway_routes: k(true),
        conditional: None,
        authoring: Authoring {
            dialect: Dialect::Terraform,
            style: RouteStyle::Inline,
            indent: String::new(),
            reference: String::new(),
            insert_at: None,
        },
        cloud: None,
        called_from: vec![],
    }
}

/// The reference: try every route and every system route, keep the longest;
/// user routes first so they win ties.
fn naive_route(routes: &[(Ipv4Net, usize)], addr: Ipv4Addr) -> (u8, NextHopType) {
    let mut best: Option<(u8, NextHopType)> = None;
    for (n, h) in routes {
        if n.contains(&addr) && best.is_none_or(|(l, _)| n.prefix_len() > l) {
            best = Some((n.prefix_len(), HOPS[h % HOPS.len()]));
        }
    }
    let system = [
        ("0.0.0.0/0", NextHopType::Internet),
        ("10.0.0.0/8", NextHopType::None),
        ("172.16.0.0/12", NextHopType::None),
        ("192.168.0.0/16", NextHopType::None),
        ("100.64.0.0/10", NextHopType::None),
    ];
    for (p, h) in system {
        let n: Ipv4Net = p.parse().expect("system prefix");
        if n.contains(&addr) && best.is_none_or(|(l, _)| n.prefix_len() > l) {
            best = Some((n.prefix_len(), h));
        }
    }
    best.unwrap_or((0, NextHopType::Internet))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn longest_prefix_match_agrees_with_the_naive_reference(
        (routes, addr) in proptest::collection::vec((arb_net(), 0usize..5), 0..12)
            .prop_flat_map(|routes| {
                // Azure rejects two routes with the same prefix in one table.
                let mut seen = Vec::new();
                let routes: Vec<(Ipv4Net, usize)> = routes.into_iter().filter(|(n, _)| if seen.contains(n) { false } else { seen.push(*n); true }).collect();
                let nets = routes.iter().map(|(n, _)| *n).collect();
                (Just(routes), arb_addr(nets))
            })
    ) {
        let t = table(&routes);
        let RouteDecision::Known(er) = effective_route(&t, IpAddr::V4(addr)) else {
            return Err(TestCaseError::fail("every prefix is known, so the decision is"));
        };
        let (len, hop) = naive_route(&routes, addr);
        prop_assert_eq!((er.prefix.prefix_len(), er.next_hop), (len, hop));
    }
}

#[derive(Debug, Clone)]
struct R {
    priority: u32,
    outbound: bool,
    allow: bool,
    protocol: usize,
    dest: Option<Ipv4Net>,
    ports: (u16, u16),
}

const PROTOS: [Protocol; 3] = [Protocol::Tcp, Protocol::Udp, Protocol::Any];

fn nsg(rules: &[R]) -> Nsg {
    Nsg {
        address: "n".into(),
        namespace: 0,
        name: k("n".into()),
        resource_group: None,
        elsewhere: false,
        origin: o(),
        rules: rules
            .iter()
            .enumerate()
            .map(|(i, r)| SecurityRule {
                name: k(format!("r{i}")),
                priority: k(r.priority),
                direction: k(if r.outbound { Direction::Outbound } else { Direction::Inbound }),
                access: k(if r.allow { Access::Allow } else { Access::Deny }),
                protocol: k(PROTOS[r.protocol % 3]),
                sources: vec![k(AddressMatch::Any)],
                destinations: vec![k(match r.dest {
                    Some(n) => AddressMatch::Prefix(IpNet::V4(n)),
                    None => AddressMatch::Any,
                })],
                destination_ports: vec![k(PortRange {
                    from: r.ports.0.min(r.ports.1),
                    to: r.ports.0.max(r.ports.1),
                })],
                origin: o(),
                resource: None,
            })
            .collect(),
        incomplete: vec![],
        conditional: None,
        dialect: Dialect::Terraform,
        cloud: None,
        called_from: vec![],
    }
}

/// The reference: sort by priority, take the first rule that matches every
/// field, else the default outbound rules.
fn naive_nsg(rules: &[R], addr: Ipv4Addr, proto: Protocol, port: u16) -> bool {
    let mut sorted = rules.to_vec();
    sorted.sort_by_key(|r| r.priority);
    for r in sorted {
        let p = PROTOS[r.protocol % 3];
        let proto_ok = p == Protocol::Any || p == proto;
        let dest_ok = r.dest.is_none_or(|n| n.contains(&addr));
        let (lo, hi) = (r.ports.0.min(r.ports.1), r.ports.0.max(r.ports.1));
        if r.outbound && proto_ok && dest_ok && lo <= port && port <= hi {
            return r.allow;
        }
    }
    // AllowInternetOutBound for public addresses; DenyAllOutBound otherwise.
    !(addr.is_private()
        || addr.is_loopback()
        || addr.is_link_local()
        || addr.octets()[0] == 0
        || addr.octets()[0] >= 224
        || (addr.octets()[0] == 100 && (64..128).contains(&addr.octets()[1])))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn nsg_evaluation_agrees_with_the_naive_reference(
        rules in proptest::collection::vec(
            (100u32..4096, any::<bool>(), any::<bool>(), 0usize..3, proptest::option::of(arb_net()), (0u16..3000, 0u16..3000))
                .prop_map(|(priority, outbound, allow, protocol, dest, ports)| R { priority, outbound, allow, protocol, dest, ports }),
            0..10,
        ).prop_map(|rs| {
            // NSG priorities are unique.
            let mut seen = Vec::new();
            rs.into_iter().filter(|r| if seen.contains(&r.priority) { false } else { seen.push(r.priority); true }).collect::<Vec<_>>()
        }),
        addr in any::<u32>().prop_map(Ipv4Addr::from),
        tcp in any::<bool>(),
        port in 0u16..3000,
    ) {
        let proto = if tcp { Protocol::Tcp } else { Protocol::Udp };
        let n = nsg(&rules);
        let flow = Flow {
            direction: Direction::Outbound,
            protocol: proto,
            destination: IpAddr::V4(addr),
            port,
            platform_tag: None,
            platform_allowance: false,
            destination_in_virtual_network: false,
        };
        let got = match evaluate(&n, &flow) {
            Verdict::Allow(_) => true,
            Verdict::Deny(_) => false,
            Verdict::Unknown(_) => return Err(TestCaseError::fail("all values are known")),
        };
        prop_assert_eq!(got, naive_nsg(&rules, addr, proto, port));
        // The decider is a rule or a default rule, never the platform.
        prop_assert!(!matches!(evaluate(&n, &flow), Verdict::Allow(Decider::Platform)));
    }
}
