//! KG104 bgp-default-route-exposure: a subnet can learn a 0.0.0.0/0 over
//! BGP (ExpressRoute, VPN with BGP) or from a VPN gateway's default site,
//! and nothing in its route table keeps KMS traffic on next hop Internet.
//!
//! "Virtual network traffic routing": on equal prefixes a user-defined route
//! beats a BGP route, so any user route covering a KMS address (a /32 to
//! Internet, or the table's own 0.0.0.0/0) decides instead of the learned
//! default; with gateway route propagation off, nothing is learned at all.

use super::{and_list, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::model::{Field, RoutePrefix, Subnet};

pub const CODE: &str = "KG104";

pub struct BgpDefaultRouteExposure;

impl Rule for BgpDefaultRouteExposure {
    fn code(&self) -> &'static str {
        CODE
    }

    fn name(&self) -> &'static str {
        "bgp-default-route-exposure"
    }

    fn check(&self, ctx: &Context, out: &mut Vec<Finding>, undecided: &mut Vec<Undecided>) {
        check(ctx, out, undecided)
    }
}

/// Subnets that hold no Windows VMs, or must learn routes as they are.
const INFRASTRUCTURE_SUBNETS: &[&str] = &[
    "GatewaySubnet",
    "AzureFirewallSubnet",
    "AzureFirewallManagementSubnet",
    "AzureBastionSubnet",
    "RouteServerSubnet",
];

fn check(ctx: &Context, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    let source = match (ctx.model.gateways.first(), ctx.assume_bgp_default_route) {
        (_, true) => None,
        (Some(g), false) => Some(g),
        (None, false) => return,
    };
    let why = match source {
        Some(g) => format!("gateway {} {}", display_name(&g.name, &g.address), g.reason),
        None => "--assume-bgp-default-route says on-premises advertises 0.0.0.0/0".to_string(),
    };
    for (si, subnet) in ctx.model.subnets.iter().enumerate() {
        if subnet
            .name
            .known()
            .is_some_and(|n| INFRASTRUCTURE_SUBNETS.iter().any(|i| i.eq_ignore_ascii_case(n)))
        {
            continue;
        }
        let table = ctx.model.route_table_of(si);
        for endpoint in &ctx.policy.endpoints {
            let cloud = ctx.cloud_for(table.map(|t| &t.cloud).unwrap_or(&None));
            let Some(addrs) = endpoint.addresses(cloud) else { continue };
            if addrs.required.is_empty() {
                continue;
            }
            let exposed: Vec<String> = match table {
                None => addrs.required.iter().map(|a| a.to_string()).collect(),
                Some(t) => {
                    match &t.propagate_gateway_routes {
                        Field::Known(false, _) => continue,
                        Field::Known(true, _) => {}
                        Field::Unknown(u) => {
                            notes.push(undecided(subnet, endpoint, vec![(**u).clone()]));
                            continue;
                        }
                    }
                    let mut exposed = Vec::new();
                    let mut blockers = t.incomplete.clone();
                    for addr in &addrs.required {
                        let mut covered = false;
                        for r in &t.routes {
                            match &r.address_prefix {
                                Field::Known(RoutePrefix::Net(n), _) if n.contains(addr) => covered = true,
                                Field::Known(RoutePrefix::Net(_), _) => {}
                                Field::Known(RoutePrefix::ServiceTag(_), o) => blockers.push(crate::model::Unresolved {
                                    reason: "a route's prefix is a service tag whose addresses kmsguard does not know".into(),
                                    origin: o.clone(),
                                }),
                                Field::Unknown(u) => blockers.push((**u).clone()),
                            }
                        }
                        if !covered {
                            exposed.push(addr.to_string());
                        }
                    }
                    if !exposed.is_empty() && !blockers.is_empty() {
                        notes.push(undecided(subnet, endpoint, blockers));
                        continue;
                    }
                    exposed
                }
            };
            if exposed.is_empty() {
                continue;
            }
            let name = display_name(&subnet.name, &subnet.address);
            let how = match table {
                None => "has no route table".to_string(),
                Some(t) => format!(
                    "uses route table {}, which propagates gateway routes and has no route for them",
                    display_name(&t.name, &t.address)
                ),
            };
            let mut f = ctx.finding(
                CODE,
                &subnet.address,
                format!(
                    "subnet {name} {how}: a default route learned over BGP would send {} traffic ({}) away from Internet",
                    endpoint.title,
                    exposed.join(", ")
                ),
                Label {
                    origin: subnet.origin.clone(),
                    message: format!("this subnet can learn 0.0.0.0/0: {why}"),
                },
            );
            if let Some(g) = source {
                f.related.push(Label {
                    origin: g.origin.clone(),
                    message: format!("this gateway {}", g.reason),
                });
            }
            if let Some(t) = table {
                f.related.push(Label {
                    origin: t.origin.clone(),
                    message: format!("route table {}", display_name(&t.name, &t.address)),
                });
            }
            f.fix = Some(Fix {
                description: format!(
                    "give the subnet a route table with /32 routes to {} with next hop Internet, or turn off gateway route propagation where the subnet must not learn on-premises routes",
                    and_list(&exposed)
                ),
                snippet: None,
                insert_at: None,
            });
            out.push(f);
        }
    }
}

fn undecided(subnet: &Subnet, endpoint: &crate::policy::Endpoint, blockers: Vec<crate::model::Unresolved>) -> Undecided {
    Undecided {
        rule: CODE,
        resource: subnet.address.clone(),
        question: format!(
            "whether subnet {} keeps {} traffic on Internet when a BGP default route arrives",
            display_name(&subnet.name, &subnet.address),
            endpoint.title
        ),
        blockers,
        resource_origin: subnet.origin.clone(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{Gateway, Link, Model, Subnet};
    use crate::rules::testkit::*;

    fn subnet(name: &str, table: Option<&str>) -> Subnet {
        Subnet {
            address: format!("azurerm_subnet.{name}"),
            namespace: 0,
            name: known(name.into()),
            origin: here(),
            route_table: table.map(|t| Link::Address(format!("azurerm_route_table.{t}"), here(), 0)),
            nsg: None,
        }
    }

    fn gateway() -> Gateway {
        Gateway {
            address: "azurerm_virtual_network_gateway.vpn".into(),
            name: known("vgw".into()),
            origin: here(),
            reason: "has a default site, which forces traffic to on-premises".into(),
        }
    }

    #[test]
    fn flags_a_subnet_without_a_route_table_when_a_gateway_has_a_default_site() {
        let m = Model {
            subnets: vec![subnet("app", None)],
            gateways: vec![gateway()],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG104"]);
    }

    #[test]
    fn quiet_when_propagation_is_off_or_kms_routes_exist() {
        let mut off = table("off", vec![]);
        off.propagate_gateway_routes = known(false);
        let with_routes = table(
            "kms",
            vec![
                route("k1", "20.118.99.224/32", "Internet"),
                route("k2", "40.83.235.53/32", "Internet"),
            ],
        );
        let m = Model {
            route_tables: vec![off, with_routes],
            subnets: vec![subnet("a", Some("off")), subnet("b", Some("kms")), subnet("GatewaySubnet", None)],
            gateways: vec![gateway()],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn quiet_without_a_gateway_or_the_assumption() {
        let m = Model {
            subnets: vec![subnet("app", None)],
            ..Model::default()
        };
        assert_eq!(codes(&m), Vec::<&str>::new());
    }

    #[test]
    fn unknown_propagation_is_a_note() {
        let mut t = table("t", vec![]);
        t.propagate_gateway_routes = unknown("var.propagate has no value");
        let m = Model {
            route_tables: vec![t],
            subnets: vec![subnet("a", Some("t"))],
            gateways: vec![gateway()],
            ..Model::default()
        };
        assert_eq!(codes(&m), vec!["KG901"]);
    }
}
