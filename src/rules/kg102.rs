//! KG102 kms-route-not-internet: the winning route for a KMS address is its
//! own /32, and it does not go to Internet.

use super::routes::{breaks, describe_hop, required_routes};
use super::{conditional_note, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::routing::{RouteDecision, Winner};

pub const CODE: &str = "KG102";

pub struct KmsRouteNotInternet;

impl Rule for KmsRouteNotInternet {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "kms-route-not-internet"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, _undecided: &mut Vec<Undecided>) {
        check(ctx, out)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for (ti, table) in ctx.model.route_tables.iter().enumerate() {
        let name = display_name(&table.name, &table.address);
        for endpoint in &ctx.policy.endpoints {
            let broken: Vec<_> = required_routes(table, endpoint, ctx.cloud_for(&table.cloud))
                .into_iter()
                .filter_map(|ar| match ar.decision {
                    RouteDecision::Known(er) if breaks(&er) && er.is_host_route() => Some((ar.address, er)),
                    _ => None,
                })
                .collect();
            let Some((first_addr, first)) = broken.first() else { continue };
            let Winner::User(first_route) = &first.winner else { continue };
            let addrs: Vec<String> = broken.iter().map(|(a, _)| a.to_string()).collect();
            // Each address is named with its own next hop: one /32 to None
            // and another to a gateway are two different mistakes.
            let mut hops: Vec<(String, Vec<String>)> = Vec::new();
            for (addr, er) in &broken {
                let hop = describe_hop(er);
                match hops.iter_mut().find(|(h, _)| *h == hop) {
                    Some((_, list)) => list.push(addr.to_string()),
                    None => hops.push((hop, vec![addr.to_string()])),
                }
            }
            let message = match hops.as_slice() {
                [(hop, _)] => format!(
                    "route table {name} sends {} traffic ({}) to {hop} through its own /32 route{}",
                    endpoint.title,
                    addrs.join(", "),
                    conditional_note(&table.conditional)
                ),
                _ => format!(
                    "route table {name} sends {} traffic away from Internet through its own /32 routes: {}{}",
                    endpoint.title,
                    hops.iter()
                        .map(|(hop, list)| format!("{} to {hop}", list.join(", ")))
                        .collect::<Vec<_>>()
                        .join("; "),
                    conditional_note(&table.conditional)
                ),
            };
            let mut f = ctx.finding(
                CODE,
                &table.address,
                message,
                Label {
                    origin: first_route.next_hop_type.origin().clone(),
                    message: format!("the route to {first_addr} goes to {}, not Internet", first.next_hop),
                },
            );
            f.unit = Some(table.namespace);
            for (addr, er) in broken.iter().skip(1) {
                if let Winner::User(r) = &er.winner {
                    f.related.push(Label {
                        origin: r.next_hop_type.origin().clone(),
                        message: format!("the route to {addr} goes to {}, not Internet", er.next_hop),
                    });
                }
            }
            f.related.push(Label {
                origin: table.origin.clone(),
                message: format!("route table {name}"),
            });
            for subnet in ctx.model.subnets_of(ti) {
                f.related.push(Label {
                    origin: subnet.origin.clone(),
                    message: format!("subnet {} uses this route table", display_name(&subnet.name, &subnet.address)),
                });
            }
            f.fix = Some(Fix {
                description: format!(
                    "set the next hop of the /32 route{} to Internet and remove its next hop IP address",
                    if addrs.len() > 1 { "s" } else { "" }
                ),
                snippet: None,
                insert_at: None,
            });
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    #[test]
    fn flags_kms_host_route_to_the_firewall() {
        let m = Model {
            route_tables: vec![table(
                "rt-hub",
                vec![
                    route("default", "0.0.0.0/0", "VirtualAppliance"),
                    route("kms1", "20.118.99.224/32", "VirtualAppliance"),
                    route("kms2", "40.83.235.53/32", "Internet"),
                ],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG102"]);
    }

    #[test]
    fn a_host_route_to_internet_is_fine_even_without_a_default_route() {
        let m = Model {
            route_tables: vec![table("rt", vec![route("kms1", "20.118.99.224/32", "Internet")])],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn each_address_is_named_with_its_own_next_hop() {
        let m = Model {
            route_tables: vec![table(
                "rt",
                vec![
                    route("kms1", "20.118.99.224/32", "None"),
                    route("kms2", "40.83.235.53/32", "VirtualNetworkGateway"),
                ],
            )],
            ..Model::default()
        };
        let found = run(&m);
        let [(_, message)] = found.as_slice() else {
            panic!("one finding: {found:?}")
        };
        assert_eq!(
            message,
            "route table rt sends KMS traffic away from Internet through its own /32 routes: \
             20.118.99.224 to next hop None, which drops it; 40.83.235.53 to VirtualNetworkGateway"
        );
    }

    #[test]
    fn addresses_with_the_same_next_hop_are_named_together() {
        let m = Model {
            route_tables: vec![table(
                "rt",
                vec![route("kms1", "20.118.99.224/32", "None"), route("kms2", "40.83.235.53/32", "None")],
            )],
            ..Model::default()
        };
        let found = run(&m);
        let [(_, message)] = found.as_slice() else {
            panic!("one finding: {found:?}")
        };
        assert_eq!(
            message,
            "route table rt sends KMS traffic (20.118.99.224, 40.83.235.53) to next hop None, which drops it through its own /32 route"
        );
    }

    #[test]
    fn next_hop_case_does_not_matter() {
        let mut r = route("kms1", "20.118.99.224/32", "internet");
        r.next_hop_type = known(crate::model::NextHopType::parse("INTERNET").expect("parses"));
        let m = Model {
            route_tables: vec![table(
                "rt",
                vec![
                    route("d", "0.0.0.0/0", "VirtualAppliance"),
                    r,
                    route("k2", "40.83.235.53/32", "Internet"),
                ],
            )],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }
}
