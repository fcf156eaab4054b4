//! KG103 stale-kms-address: an NSG rule that allows TCP 1688 to explicit KMS
//! addresses lists a retired or mistyped one but not every current one; or a
//! route or rule names the mistyped address.

use std::net::IpAddr;

use super::{and_list, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::nsg::protocol_covers;
use crate::model::{Access, AddressMatch, Direction, Field, Nsg, Protocol, RoutePrefix, RouteTable, SecurityRule};
use crate::policy::{CloudAddresses, Endpoint};
use crate::source::Origin;

pub const CODE: &str = "KG103";

pub struct StaleKmsAddress;

impl Rule for StaleKmsAddress {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "stale-kms-address"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, _undecided: &mut Vec<Undecided>) {
        check(ctx, out)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for endpoint in &ctx.policy.endpoints {
        for table in &ctx.model.route_tables {
            out.extend(mistyped_route(ctx, endpoint, table));
        }
        for nsg in &ctx.model.nsgs {
            out.extend(stale_nsg_rules(ctx, endpoint, nsg));
        }
    }
}

fn is_host(net: &ipnet::IpNet, list: &[IpAddr]) -> bool {
    net.prefix_len() == net.max_prefix_len() && list.contains(&net.addr())
}

fn current_of(addrs: &CloudAddresses) -> String {
    and_list(&addrs.required.iter().map(|a| a.to_string()).collect::<Vec<_>>())
}

/// A route table that routes a mistyped address of the endpoint (one finding for all its routes).
fn mistyped_route(ctx: &Context, endpoint: &Endpoint, table: &RouteTable) -> Option<Finding> {
    let addrs = endpoint.addresses(ctx.cloud_for(&table.cloud))?;
    let current = current_of(addrs);
    let typo_routes: Vec<_> = table
        .routes
        .iter()
        .filter_map(|r| match &r.address_prefix {
            Field::Known(RoutePrefix::Net(n), o) if is_host(n, &addrs.typos) => Some((n.addr(), o)),
            _ => None,
        })
        .collect();
    let (typo, origin) = typo_routes.first()?;
    let name = display_name(&table.name, &table.address);
    let mut f = ctx.finding(
        CODE,
        &table.address,
        format!(
            "route table {name} routes {typo}, a mistyped {} address; the current addresses are {current}",
            endpoint.title
        ),
        Label {
            origin: (*origin).clone(),
            message: format!("{typo} is not a {} address", endpoint.title),
        },
    );
    f.unit = Some(table.namespace);
    f.related.extend(typo_routes.iter().skip(1).map(|(a, o)| Label {
        origin: (*o).clone(),
        message: format!("{a} is not a {} address", endpoint.title),
    }));
    f.related.push(Label {
        origin: table.origin.clone(),
        message: format!("route table {name}"),
    });
    f.fix = Some(Fix {
        description: format!("route the current {} addresses instead: {current}", endpoint.title),
        snippet: None,
        insert_at: None,
    });
    Some(f)
}

/// The stale addresses `rule` names, when they matter: a mistyped address
/// always does; a retired one only in a rule meant to let the endpoint's
/// traffic out that does not also cover the current addresses.
fn stale_addresses(rule: &SecurityRule, endpoint: &Endpoint, addrs: &CloudAddresses) -> Option<Vec<IpAddr>> {
    let listed: Vec<IpAddr> = rule.listed_hosts();
    let typos: Vec<IpAddr> = listed.iter().filter(|a| addrs.typos.contains(a)).copied().collect();
    let retired: Vec<IpAddr> = listed.iter().filter(|a| addrs.retired.contains(a)).copied().collect();
    let stale: Vec<IpAddr> = typos.iter().chain(retired.iter()).copied().collect();
    if stale.is_empty() {
        return None;
    }
    let allows_endpoint = rule.access.known() == Some(&Access::Allow)
        && rule.direction.known() == Some(&Direction::Outbound)
        && rule
            .protocol
            .known()
            .is_some_and(|p| protocol_covers(*p, endpoint.protocol) || *p == Protocol::Any)
        && rule
            .destination_ports
            .iter()
            .any(|p| p.known().is_some_and(|p| p.contains(endpoint.port)));
    let covers_current = addrs.required.iter().all(|req| {
        rule.destinations.iter().any(|d| match d.known() {
            Some(AddressMatch::Prefix(n)) => n.contains(req),
            Some(AddressMatch::Any) => true,
            Some(m) => m.is_tag("AzurePlatformLKM") || m.is_tag("Internet"),
            None => false,
        })
    });
    (!typos.is_empty() || (allows_endpoint && !covers_current)).then_some(stale)
}

/// The destination entry of `r` that names a stale address, else the rule.
fn stale_origin(r: &SecurityRule, stale: &[IpAddr]) -> Origin {
    r.destinations
        .iter()
        .find_map(|d| match d {
            Field::Known(AddressMatch::Prefix(n), o) if stale.contains(&n.addr()) => Some(o.clone()),
            _ => None,
        })
        .unwrap_or_else(|| r.origin.clone())
}

/// An NSG whose rules name stale addresses of the endpoint (one finding for all its rules).
fn stale_nsg_rules(ctx: &Context, endpoint: &Endpoint, nsg: &Nsg) -> Option<Finding> {
    let addrs = endpoint.addresses(ctx.cloud_for(&nsg.cloud))?;
    let current = current_of(addrs);
    let name = display_name(&nsg.name, &nsg.address);
    let hits: Vec<(&SecurityRule, Vec<IpAddr>)> = nsg
        .rules
        .iter()
        .filter_map(|rule| stale_addresses(rule, endpoint, addrs).map(|stale| (rule, stale)))
        .collect();
    let (first, stale) = hits.first()?;
    let rule_name = first.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
    let stale_s: Vec<String> = stale.iter().map(|a| a.to_string()).collect();
    let kind = if stale.iter().all(|a| addrs.retired.contains(a)) {
        "retired"
    } else {
        "stale"
    };
    let mut f = ctx.finding(
        CODE,
        &nsg.address,
        format!(
            "NSG {name} rule {rule_name} names the {kind} {} address {}; the current addresses are {current}",
            endpoint.title,
            and_list(&stale_s)
        ),
        Label {
            origin: stale_origin(first, stale),
            message: format!("this rule lists {}", and_list(&stale_s)),
        },
    );
    f.unit = Some(nsg.namespace);
    f.related.extend(hits.iter().skip(1).map(|(r, s)| Label {
        origin: stale_origin(r, s),
        message: format!("this rule lists {}", and_list(&s.iter().map(|a| a.to_string()).collect::<Vec<_>>())),
    }));
    f.related.push(Label {
        origin: nsg.origin.clone(),
        message: format!("NSG {name}"),
    });
    f.fix = Some(Fix {
        description: format!(
            "allow the current {} addresses ({current}) or the AzurePlatformLKM service tag",
            endpoint.title
        ),
        snippet: None,
        insert_at: None,
    });
    Some(f)
}

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    #[test]
    fn flags_an_allow_to_the_retired_address_only() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "allow-kms",
                    100,
                    "Outbound",
                    "Allow",
                    "Tcp",
                    &["*"],
                    &["23.102.135.246"],
                    &["1688"],
                )],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG103"]);
    }

    #[test]
    fn quiet_when_the_retired_address_sits_beside_current_ones() {
        let m = Model {
            nsgs: vec![nsg(
                "n",
                vec![rule(
                    "allow-kms",
                    100,
                    "Outbound",
                    "Allow",
                    "Tcp",
                    &["*"],
                    &["23.102.135.246", "20.118.99.224", "40.83.235.53"],
                    &["1688"],
                )],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn flags_a_route_to_the_documented_typo() {
        let m = Model {
            route_tables: vec![table(
                "rt",
                vec![
                    route("d", "0.0.0.0/0", "VirtualAppliance"),
                    route("k1", "20.118.99.244/32", "Internet"),
                    route("k2", "40.83.235.53/32", "Internet"),
                ],
            )],
            ..Model::default()
        };
        // The typo leaves the real address behind the firewall too.
        assert_eq!(codes(&m), vec!["KG101", "KG103"]);
    }

    #[test]
    fn a_route_to_the_retired_address_beside_current_ones_is_harmless() {
        let m = Model {
            route_tables: vec![table(
                "rt",
                vec![
                    route("d", "0.0.0.0/0", "VirtualAppliance"),
                    route("k0", "23.102.135.246/32", "Internet"),
                    route("k1", "20.118.99.224/32", "Internet"),
                    route("k2", "40.83.235.53/32", "Internet"),
                ],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }
}
