//! Builders for analysis and rule tests: small models written in a line each.
//! Built for this crate's tests and, with the `testkit` feature, for the
//! rule tests of the crate above.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::*;
use crate::source::{FileId, Origin};

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A fresh, distinct origin.
pub fn here() -> Origin {
    let n = NEXT.fetch_add(10, Ordering::Relaxed);
    Origin::new(FileId(0), n..n + 5)
}

pub fn known<T>(v: T) -> Field<T> {
    Field::Known(v, here())
}

pub fn unknown<T>(reason: &str) -> Field<T> {
    Field::unknown(Unresolved {
        reason: reason.into(),
        origin: here(),
    })
}

pub fn route(name: &str, prefix: &str, hop: &str) -> Route {
    Route {
        name: known(name.into()),
        address_prefix: known(match parse_prefix(prefix) {
            Some(n) => RoutePrefix::Net(n),
            None => RoutePrefix::ServiceTag(prefix.into()),
        }),
        next_hop_type: known(NextHopType::parse(hop).expect("valid next hop in test")),
        next_hop_ip: (hop == "VirtualAppliance").then(|| known("10.0.1.4".into())),
        next_hop_firewall: None,
        origin: here(),
        resource: None,
    }
}

pub fn table(name: &str, routes: Vec<Route>) -> RouteTable {
    RouteTable {
        address: format!("azurerm_route_table.{name}"),
        namespace: 0,
        name: known(name.into()),
        resource_group: None,
        elsewhere: false,
        origin: here(),
        routes,
        incomplete: Vec::new(),
        propagate_gateway_routes: known(true),
        conditional: None,
        authoring: Authoring {
            dialect: Dialect::Terraform,
            style: RouteStyle::Inline,
            indent: "  ".into(),
            reference: format!("azurerm_route_table.{name}"),
            insert_at: None,
        },
        cloud: None,
        called_from: Vec::new(),
    }
}

/// `rule("deny-kms", 100, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"])`
#[allow(clippy::too_many_arguments)]
pub fn rule(
    name: &str,
    priority: u32,
    direction: &str,
    access: &str,
    protocol: &str,
    sources: &[&str],
    destinations: &[&str],
    ports: &[&str],
) -> SecurityRule {
    SecurityRule {
        name: known(name.into()),
        priority: known(priority),
        direction: known(if direction == "Inbound" {
            Direction::Inbound
        } else {
            Direction::Outbound
        }),
        access: known(if access == "Allow" { Access::Allow } else { Access::Deny }),
        protocol: known(Protocol::parse(protocol).expect("valid protocol in test")),
        sources: sources
            .iter()
            .map(|s| known(AddressMatch::parse(s).expect("valid source in test")))
            .collect(),
        destinations: destinations
            .iter()
            .map(|s| known(AddressMatch::parse(s).expect("valid destination in test")))
            .collect(),
        destination_ports: ports
            .iter()
            .map(|p| known(PortRange::parse(p).expect("valid port in test")))
            .collect(),
        origin: here(),
        resource: None,
    }
}

pub fn nsg(name: &str, rules: Vec<SecurityRule>) -> Nsg {
    Nsg {
        address: format!("azurerm_network_security_group.{name}"),
        namespace: 0,
        name: known(name.into()),
        resource_group: None,
        elsewhere: false,
        origin: here(),
        rules,
        incomplete: Vec::new(),
        conditional: None,
        dialect: Dialect::Terraform,
        cloud: None,
        called_from: Vec::new(),
    }
}
