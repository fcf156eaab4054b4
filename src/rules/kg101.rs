//! KG101 forced-tunnel-blocks-kms: a route broader than /32 sends a required
//! KMS address somewhere other than next hop Internet.

use super::routes::{breaks, dedup, describe_hop, required_routes};
use super::{and_list, conditional_note, display_name, fix, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::firewall::firewall_for;
use crate::analysis::routing::{RouteDecision, Winner};

pub const CODE: &str = "KG101";

pub struct ForcedTunnelBlocksKms;

impl Rule for ForcedTunnelBlocksKms {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "forced-tunnel-blocks-kms"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        check(ctx, out, undecided)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    for (ti, table) in ctx.model.route_tables.iter().enumerate() {
        let name = display_name(&table.name, &table.address);
        for endpoint in &ctx.policy.endpoints {
            let routes = required_routes(table, endpoint, ctx.cloud_for(&table.cloud));
            let mut broken = Vec::new();
            let mut blockers = Vec::new();
            let mut undecided_addrs = Vec::new();
            for ar in &routes {
                match &ar.decision {
                    // Through a firewall declared in the code, KG301 decides.
                    RouteDecision::Known(er) if firewall_for(ctx.model, table, er).is_some() => {}
                    RouteDecision::Known(er) if breaks(er) && !er.is_host_route() => broken.push((ar.address, er.clone())),
                    RouteDecision::Known(_) => {}
                    RouteDecision::Unknown(why) => {
                        undecided_addrs.push(ar.address.to_string());
                        blockers.extend(why.iter().cloned());
                    }
                }
            }
            if !blockers.is_empty() {
                notes.push(Undecided {
                    rule: CODE,
                    resource: table.address.clone(),
                    question: format!(
                        "where route table {name} sends {} traffic ({})",
                        endpoint.title,
                        undecided_addrs.join(", ")
                    ),
                    blockers: dedup(blockers),
                    resource_origin: table.origin.clone(),
                });
            }
            let Some((_, first)) = broken.first() else { continue };
            let addrs: Vec<String> = broken.iter().map(|(a, _)| a.to_string()).collect();
            let all_same_winner = broken.iter().all(|(_, er)| er.winner == first.winner);
            let message = format!(
                "route table {name} sends {} traffic ({}) to {}{}",
                endpoint.title,
                addrs.join(", "),
                describe_hop(first),
                conditional_note(&table.conditional)
            );
            let scope = if addrs.len() == 1 {
                format!("for {}", addrs.join(""))
            } else if all_same_winner {
                format!(
                    "for {} KMS addresses",
                    if addrs.len() == 2 {
                        "both".to_string()
                    } else {
                        format!("all {}", addrs.len())
                    }
                )
            } else {
                format!("for {}", addrs.first().cloned().unwrap_or_default())
            };
            let primary = match &first.winner {
                Winner::User(r) => Label {
                    origin: r.address_prefix.origin().clone(),
                    message: format!("this {} route wins {scope}", first.prefix),
                },
                Winner::System(s) => Label {
                    origin: table.origin.clone(),
                    message: format!("Azure's system route {} wins {scope}", s.prefix),
                },
            };
            let mut f = ctx.finding(CODE, &table.address, message, primary);
            f.unit = Some(table.namespace);
            if !matches!(first.winner, Winner::System(_)) {
                f.related.push(Label {
                    origin: table.origin.clone(),
                    message: format!("route table {name}"),
                });
            }
            for (addr, er) in broken.iter().skip(1) {
                if er.winner != first.winner {
                    if let Winner::User(r) = &er.winner {
                        f.related.push(Label {
                            origin: r.address_prefix.origin().clone(),
                            message: format!("this {} route wins for {addr}", er.prefix),
                        });
                    }
                }
            }
            for subnet in ctx.model.subnets_of(ti) {
                f.related.push(Label {
                    origin: subnet.origin.clone(),
                    message: format!("subnet {} uses this route table", display_name(&subnet.name, &subnet.address)),
                });
            }
            if let Some(c) = &table.conditional {
                f.related.push(Label {
                    origin: c.origin.clone(),
                    message: "whether the route table is created depends on this".into(),
                });
            }
            let addresses: Vec<std::net::IpAddr> = broken.iter().map(|(a, _)| *a).collect();
            let through_appliance = broken
                .iter()
                .any(|(_, er)| er.next_hop == crate::model::NextHopType::VirtualAppliance);
            let alternative = if through_appliance {
                // Azure Firewall SNATs to its own public IP, which KMS accepts.
                format!(
                    " (or, if the appliance is an Azure Firewall, allow TCP {} to {} in its network rules)",
                    endpoint.port,
                    and_list(&addrs)
                )
            } else {
                String::new()
            };
            f.fix = Some(Fix {
                description: format!("add /32 routes with next hop Internet for {}{alternative}", and_list(&addrs)),
                snippet: Some(fix::add_routes(table, endpoint, &addresses)),
                insert_at: table.authoring.insert_at.clone(),
            });
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::Model;
    use crate::rules::testkit::*;

    fn one_table(routes: Vec<crate::model::Route>) -> Model {
        Model {
            route_tables: vec![table("rt-spoke", routes)],
            ..Model::default()
        }
    }

    #[test]
    fn flags_default_route_to_appliance() {
        let m = one_table(vec![route("default", "0.0.0.0/0", "VirtualAppliance")]);
        let found = run(&m);
        assert_eq!(
            found,
            vec![(
                "KG101",
                "route table rt-spoke sends KMS traffic (20.118.99.224, 40.83.235.53) to VirtualAppliance 10.0.1.4".to_string()
            )]
        );
    }

    #[test]
    fn flags_split_default_and_next_hop_none() {
        let m = one_table(vec![
            route("low", "0.0.0.0/1", "VirtualNetworkGateway"),
            route("high", "128.0.0.0/1", "None"),
        ]);
        assert_eq!(codes(&m), vec!["KG101"]);
        let m = one_table(vec![route("drop", "0.0.0.0/0", "None")]);
        assert_eq!(codes(&m), vec!["KG101"]);
    }

    #[test]
    fn quiet_when_both_kms_routes_go_to_internet() {
        let m = one_table(vec![
            route("default", "0.0.0.0/0", "VirtualAppliance"),
            route("kms1", "20.118.99.224/32", "Internet"),
            route("kms2", "40.83.235.53/32", "Internet"),
        ]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn quiet_when_an_aggregate_covers_kms_with_internet() {
        let m = one_table(vec![
            route("default", "0.0.0.0/0", "VirtualAppliance"),
            route("azure", "20.0.0.0/6", "Internet"),
            route("k2", "40.83.235.53/32", "Internet"),
        ]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn quiet_without_a_forced_tunnel() {
        let m = one_table(vec![route("onprem", "10.0.0.0/8", "VirtualNetworkGateway")]);
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn names_only_the_kms_address_still_broken() {
        let m = one_table(vec![
            route("default", "0.0.0.0/0", "VirtualAppliance"),
            route("kms1", "20.118.99.224/32", "Internet"),
        ]);
        let found = run(&m);
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("(40.83.235.53)"), "{found:?}");
    }

    #[test]
    fn unknown_next_hop_is_a_note_not_an_error() {
        let mut r = route("default", "0.0.0.0/0", "VirtualAppliance");
        r.next_hop_type = unknown("var.hop_type has no default");
        let found = run(&one_table(vec![r]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "KG901");
        assert!(found[0].1.contains("var.hop_type"), "{}", found[0].1);
    }

    #[test]
    fn an_unknown_dynamic_block_makes_a_forced_tunnel_undecided() {
        let mut t = table("rt", vec![route("default", "0.0.0.0/0", "VirtualAppliance")]);
        t.incomplete.push(crate::model::Unresolved {
            reason: "dynamic \"route\" iterates over var.routes, which is unknown".into(),
            origin: here(),
        });
        let m = Model {
            route_tables: vec![t],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG901"]);
    }
}
