//! Whether an Azure Firewall lets a flow out: network rules in processing
//! order (rule collection groups, then collections, by priority), first
//! match wins, and anything unmatched is denied. FQDN network rules only
//! work with DNS proxy on. Application rules cannot carry TCP 1688, so they
//! do not count.

use std::net::IpAddr;

use super::nsg::{field_is, is_internet, protocol_covers};
use super::routing::{EffectiveRoute, Winner};
use super::Tri;
use crate::model::{Access, AddressMatch, Field, Firewall, FirewallRule, Model, Protocol, RouteTable, Unresolved};

/// The firewall in the code that carries a route's traffic, if any: KG301
/// judges such routes by the firewall's rules, and KG101 leaves them to it.
///
/// The route names it by reference, or by a literal next hop address equal
/// to the known private address of a firewall of the table's own unit.
pub fn firewall_for<'a>(model: &'a Model, table: &RouteTable, er: &EffectiveRoute) -> Option<&'a Firewall> {
    let Winner::User(r) = &er.winner else { return None };
    if r.next_hop_firewall.is_some() {
        return model.firewall_of(table.namespace, r.next_hop_firewall.as_ref());
    }
    let ip = r.next_hop_ip.as_ref()?.known()?.trim().parse::<IpAddr>().ok()?;
    model
        .firewalls
        .iter()
        .find(|f| f.namespace == table.namespace && f.private_ip.as_deref().and_then(|p| p.trim().parse::<IpAddr>().ok()) == Some(ip))
}

/// Whether `fw` allows `protocol`/`port` to `addr` (known by `names`).
pub fn allows(fw: &Firewall, addr: IpAddr, protocol: Protocol, port: u16, names: &[String]) -> Tri {
    decide(fw, addr, protocol, port, names).0
}

/// Whether `fw` allows the flow, and the network rule that decides (none
/// when no rule matches and the firewall's implicit deny applies).
pub fn decide<'a>(fw: &'a Firewall, addr: IpAddr, protocol: Protocol, port: u16, names: &[String]) -> (Tri, Option<&'a FirewallRule>) {
    for rule in &fw.rules {
        let proto = Tri::any(rule.protocols.iter().map(|p| field_is(p, |p| protocol_covers(*p, protocol))));
        let ports = Tri::any(rule.destination_ports.iter().map(|p| field_is(p, |p| p.contains(port))));
        let by_address = Tri::any(rule.destination_addresses.iter().map(|d| match d {
            Field::Known(AddressMatch::Any, _) => Tri::Yes,
            Field::Known(AddressMatch::Prefix(n), _) => Tri::from_bool(n.contains(&addr)),
            Field::Known(AddressMatch::ServiceTag(t), _) if t.eq_ignore_ascii_case("Internet") => Tri::from_bool(is_internet(addr)),
            Field::Known(other, o) => Tri::Unknown(vec![Unresolved {
                reason: format!("kmsguard does not know which addresses {other} covers"),
                origin: o.clone(),
            }]),
            Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
        }));
        let names_kms = Tri::any(
            rule.destination_fqdns
                .iter()
                .map(|f| field_is(f, |f| names.iter().any(|n| n.eq_ignore_ascii_case(f)))),
        );
        let by_name = names_kms.and(match &fw.dns_proxy {
            Field::Known(b, _) => Tri::from_bool(*b),
            Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
        });
        match proto.and(ports).and(by_address.or(by_name)) {
            Tri::No => continue,
            Tri::Yes => {
                let verdict = match &rule.action {
                    Field::Known(Access::Allow, _) => Tri::Yes,
                    Field::Known(Access::Deny, _) => Tri::No,
                    Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
                };
                return (verdict, Some(rule));
            }
            Tri::Unknown(why) => return (Tri::Unknown(why), Some(rule)),
        }
    }
    if !fw.incomplete.is_empty() {
        return (Tri::Unknown(fw.incomplete.clone()), None);
    }
    // A firewall with no network rule in the code at all: its policy's rule
    // collection groups (or its classic rule collections) are most often
    // deployed on their own, by another template or pipeline. That it
    // denies everything cannot be proved from here.
    if fw.rules.is_empty() {
        return (
            Tri::Unknown(vec![Unresolved {
                reason: "none of the firewall's network rules are in the code checked (rule collection groups are often deployed separately); check them for TCP 1688 to the KMS addresses".into(),
                origin: fw.origin.clone(),
            }]),
            None,
        );
    }
    (Tri::No, None)
}
