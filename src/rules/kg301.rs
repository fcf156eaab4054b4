//! KG301 firewall-blocks-kms: the forced tunnel's next hop is an Azure
//! Firewall declared in the code, and its network rules let no TCP 1688 out
//! to the KMS addresses (nor to the azkms name with DNS proxy on).
//!
//! Azure Firewall SNATs to its own public IP, which KMS accepts, so where the
//! firewall does allow TCP 1688 the tunnel works and KG101 stays quiet.

use super::routes::required_routes;
use super::{and_list, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::firewall::{allows, firewall_for};
use crate::analysis::routing::{RouteDecision, Winner};
use crate::analysis::Tri;

pub const CODE: &str = "KG301";

pub struct FirewallBlocksKms;

impl Rule for FirewallBlocksKms {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "firewall-blocks-kms"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        check(ctx, out, undecided)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    for table in &ctx.model.route_tables {
        let name = display_name(&table.name, &table.address);
        let cloud = ctx.cloud_for(&table.cloud);
        for endpoint in &ctx.policy.endpoints {
            let names: Vec<String> = endpoint.addresses(cloud).map(|a| a.names.clone()).unwrap_or_default();
            let mut blocked = Vec::new();
            for ar in required_routes(table, endpoint, cloud) {
                let RouteDecision::Known(er) = &ar.decision else { continue };
                let Some(fw) = firewall_for(ctx.model, table, er) else { continue };
                match allows(fw, ar.address, endpoint.protocol, endpoint.port, &names) {
                    Tri::Yes => {}
                    Tri::No => blocked.push((ar.address, er.clone(), fw)),
                    Tri::Unknown(blockers) => notes.push(Undecided {
                        rule: CODE,
                        resource: table.address.clone(),
                        question: format!(
                            "whether firewall {} lets {} traffic to {} out",
                            display_name(&fw.name, &fw.address),
                            endpoint.title,
                            ar.address
                        ),
                        blockers,
                        resource_origin: fw.origin.clone(),
                    }),
                }
            }
            let Some((_, er, fw)) = blocked.first() else { continue };
            let addrs: Vec<String> = blocked.iter().map(|(a, _, _)| a.to_string()).collect();
            let fw_name = display_name(&fw.name, &fw.address);
            let origin = match &er.winner {
                Winner::User(r) => r
                    .next_hop_ip
                    .as_ref()
                    .map(|f| f.origin().clone())
                    .unwrap_or_else(|| r.origin.clone()),
                Winner::System(_) => table.origin.clone(),
            };
            let mut f = ctx.finding(
                CODE,
                &table.address,
                format!(
                    "route table {name} sends {} traffic ({}) through Azure Firewall {fw_name}, whose network rules allow no TCP {} to it",
                    endpoint.title,
                    addrs.join(", "),
                    endpoint.port
                ),
                Label {
                    origin,
                    message: format!("this route's next hop is firewall {fw_name}"),
                },
            );
            f.unit = Some(table.namespace);
            f.related.push(Label {
                origin: fw.origin.clone(),
                message: format!("Azure Firewall {fw_name}"),
            });
            f.fix = Some(Fix {
                description: format!(
                    "add a network rule allowing TCP {} to {} to the firewall's policy (it SNATs to an Azure public IP, which KMS accepts), or add /32 routes with next hop Internet",
                    endpoint.port,
                    and_list(&addrs)
                ),
                snippet: None,
                insert_at: None,
            });
            out.push(f);
        }
    }
}
