//! KG204 nsg-blocks-kms-under-forced-tunnel: in a subnet with a custom
//! default route, the platform's KMS allowance is off, so an ordinary NSG
//! deny (on Internet, `*`, a prefix) on TCP 1688 blocks activation even where
//! the /32 KMS routes are right.
//!
//! "For deployments using default route 0.0.0.0/0 configuration, this
//! platform rule is disabled" (Azure network security groups overview,
//! Azure platform considerations).

use super::{display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::nsg::{evaluate, Decider, Flow, Verdict};
use crate::analysis::routing::{effective_route, has_custom_default_route, RouteDecision};
use crate::model::{Direction, NextHopType, Nsg, Subnet};

pub const CODE: &str = "KG204";

pub struct NsgBlocksKmsUnderForcedTunnel;

impl Rule for NsgBlocksKmsUnderForcedTunnel {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "nsg-blocks-kms-under-forced-tunnel"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        check(ctx, out, undecided)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    for (si, subnet) in ctx.model.subnets.iter().enumerate() {
        let Some(table) = ctx.model.route_table_of(si) else { continue };
        if !has_custom_default_route(table) {
            continue;
        }
        // The NSGs the traffic meets: each NIC's, then the subnet's.
        let mut nsgs: Vec<(&Nsg, String)> = Vec::new();
        for nic in ctx.model.nics_in(si) {
            if let Some(n) = ctx.model.nsg_of(nic.namespace, nic.nsg.as_ref()) {
                nsgs.push((n, format!("network interface {}", display_name(&nic.name, &nic.address))));
            }
        }
        if let Some(n) = ctx.model.nsg_of(subnet.namespace, subnet.nsg.as_ref()) {
            nsgs.push((n, format!("subnet {}", display_name(&subnet.name, &subnet.address))));
        }
        if nsgs.is_empty() {
            continue;
        }
        for endpoint in &ctx.policy.endpoints {
            let Some(addrs) = endpoint.addresses(ctx.cloud_for(&table.cloud)) else {
                continue;
            };
            for (nsg, holder) in &nsgs {
                let mut denied = Vec::new();
                for addr in &addrs.required {
                    // Only where the routes already send KMS to Internet; otherwise KG101/KG102 speak.
                    match effective_route(table, *addr) {
                        RouteDecision::Known(er) if er.next_hop == NextHopType::Internet => {}
                        _ => continue,
                    }
                    let flow = Flow {
                        direction: Direction::Outbound,
                        protocol: endpoint.protocol,
                        destination: *addr,
                        port: endpoint.port,
                        platform_tag: None,
                        platform_allowance: false,
                        // The VirtualNetwork tag includes the prefixes of user-defined routes.
                        destination_in_virtual_network: true,
                    };
                    match evaluate(nsg, &flow) {
                        Verdict::Deny(Decider::Rule(rule)) => denied.push((*addr, rule)),
                        Verdict::Unknown(blockers) => notes.push(Undecided {
                            rule: CODE,
                            resource: subnet.address.clone(),
                            question: format!(
                                "whether NSG {} lets {} traffic to {addr} out of {holder}",
                                display_name(&nsg.name, &nsg.address),
                                endpoint.title
                            ),
                            blockers,
                            resource_origin: subnet.origin.clone(),
                        }),
                        _ => {}
                    }
                }
                let Some((_, rule)) = denied.first() else { continue };
                out.push(finding(ctx, subnet, nsg, holder, endpoint, &denied, rule));
            }
        }
    }
}

fn finding(
    ctx: &Context,
    subnet: &Subnet,
    nsg: &Nsg,
    holder: &str,
    endpoint: &crate::policy::Endpoint,
    denied: &[(std::net::IpAddr, &crate::model::SecurityRule)],
    rule: &crate::model::SecurityRule,
) -> Finding {
    let addrs: Vec<String> = denied.iter().map(|(a, _)| a.to_string()).collect();
    let rule_name = rule.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
    let priority = rule.priority.known().map(|p| format!(" (priority {p})")).unwrap_or_default();
    let mut f = ctx.finding(
        CODE,
        &subnet.address,
        format!(
            "NSG {} blocks {} traffic ({}) from {holder}: under its custom default route the platform allowance is off, and rule {rule_name}{priority} denies TCP {}",
            display_name(&nsg.name, &nsg.address),
            endpoint.title,
            addrs.join(", "),
            endpoint.port
        ),
        Label {
            origin: rule.origin.clone(),
            message: format!("this rule denies TCP {} to {}", endpoint.port, addrs.join(", ")),
        },
    );
    f.related.push(Label {
        origin: subnet.origin.clone(),
        message: format!(
            "subnet {} has a custom 0.0.0.0/0 route",
            display_name(&subnet.name, &subnet.address)
        ),
    });
    f.related.push(Label {
        origin: nsg.origin.clone(),
        message: format!("NSG {}", display_name(&nsg.name, &nsg.address)),
    });
    f.fix = Some(Fix {
        description: format!(
            "add an outbound rule allowing TCP {} to {} with a lower priority number than {rule_name}",
            endpoint.port,
            addrs.join(" and ")
        ),
        snippet: None,
        insert_at: None,
    });
    f
}

#[cfg(test)]
mod tests {
    use crate::model::{Link, Model, Subnet};
    use crate::rules::testkit::*;

    fn subnet_with(table: &str, nsg: &str) -> Subnet {
        Subnet {
            address: "azurerm_subnet.app".into(),
            namespace: 0,
            name: known("snet-app".into()),
            origin: here(),
            route_table: Some(Link::Address(format!("azurerm_route_table.{table}"), here(), 0)),
            nsg: Some(Link::Address(format!("azurerm_network_security_group.{nsg}"), here(), 0)),
            vnet: None,
        }
    }

    fn forced_tunnel_with_kms_routes() -> crate::model::RouteTable {
        table(
            "rt",
            vec![
                route("d", "0.0.0.0/0", "VirtualAppliance"),
                route("k1", "20.118.99.224/32", "Internet"),
                route("k2", "40.83.235.53/32", "Internet"),
            ],
        )
    }

    #[test]
    fn flags_a_deny_all_under_a_custom_default_route() {
        let m = Model {
            route_tables: vec![forced_tunnel_with_kms_routes()],
            nsgs: vec![nsg(
                "n",
                vec![rule("deny-all", 4000, "Outbound", "Deny", "*", &["*"], &["*"], &["*"])],
            )],
            subnets: vec![subnet_with("rt", "n")],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG204"]);
    }

    #[test]
    fn quiet_without_a_custom_default_route() {
        let m = Model {
            route_tables: vec![table("rt", vec![route("onprem", "10.0.0.0/8", "VirtualNetworkGateway")])],
            nsgs: vec![nsg(
                "n",
                vec![rule("deny-all", 4000, "Outbound", "Deny", "*", &["*"], &["*"], &["*"])],
            )],
            subnets: vec![subnet_with("rt", "n")],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn quiet_when_an_earlier_rule_allows_kms() {
        let m = Model {
            route_tables: vec![forced_tunnel_with_kms_routes()],
            nsgs: vec![nsg(
                "n",
                vec![
                    rule(
                        "allow-kms",
                        100,
                        "Outbound",
                        "Allow",
                        "Tcp",
                        &["*"],
                        &["20.118.99.224", "40.83.235.53"],
                        &["1688"],
                    ),
                    rule("deny-all", 4000, "Outbound", "Deny", "*", &["*"], &["*"], &["*"]),
                ],
            )],
            subnets: vec![subnet_with("rt", "n")],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn the_default_vnet_rule_covers_kms_routes_under_a_forced_tunnel() {
        // Only DenyAll-style custom rules block: the /32 UDR prefixes are in the
        // VirtualNetwork tag, so AllowVnetOutBound lets KMS out by default.
        let m = Model {
            route_tables: vec![forced_tunnel_with_kms_routes()],
            nsgs: vec![nsg("n", vec![])],
            subnets: vec![subnet_with("rt", "n")],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }
}
