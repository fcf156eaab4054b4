//! KG104 bgp-default-route-exposure: a subnet can learn a 0.0.0.0/0 over
//! BGP (ExpressRoute, VPN with BGP) or from a VPN gateway's default site,
//! and nothing in its route table keeps KMS traffic on next hop Internet.
//!
//! "Virtual network traffic routing": on equal prefixes a user-defined route
//! beats a BGP route, so any user route covering a KMS address (a /32 to
//! Internet, or the table's own 0.0.0.0/0) decides instead of the learned
//! default; with gateway route propagation off, nothing is learned at all.

use super::{and_list, display_name, Context, Finding, Fix, Label, Rule, Undecided};
use crate::analysis::Tri;
use crate::model::{Field, Gateway, GatewayRoute, Model, RoutePrefix, RouteTable, Subnet, Unresolved};
use crate::policy::{CloudAddresses, Endpoint};

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

/// Where a subnet's default route would come from.
enum Source<'a> {
    Gateway(&'a Gateway),
    Assumed,
}

/// Whether a gateway's routes reach a subnet: yes, no, or unknown because
/// of these missing facts.
pub(crate) enum Reach<'a> {
    Yes(&'a Gateway),
    No,
    Unknown(Vec<Unresolved>),
}

/// A gateway's routes reach the subnets of its own network, and of networks
/// peered with it whose peering uses the remote gateway (the gateway's side
/// allowing transit). Only gateways of the subnet's own deployment unit can
/// leave the question open; one of another unit reaches it only through
/// networks both sides resolve to the same.
pub(crate) fn reach<'a>(model: &'a Model, si: usize, subnet: &Subnet) -> Reach<'a> {
    let sv = model.vnet_of_subnet(si);
    let mut blockers = Vec::new();
    for (gi, g) in model.gateways.iter().enumerate() {
        let same_unit = g.namespace == subnet.namespace;
        let gv = model.vnet_of_gateway(gi);
        let (Some(s), Some(gk)) = (sv, gv) else {
            if same_unit {
                if sv.is_none() {
                    blockers.push(Unresolved {
                        reason: format!(
                            "the virtual network of subnet {} is not known, so whether gateway {} reaches it is not known",
                            display_name(&subnet.name, &subnet.address),
                            display_name(&g.name, &g.address)
                        ),
                        origin: subnet
                            .vnet
                            .as_ref()
                            .map(|l| l.origin().clone())
                            .unwrap_or_else(|| subnet.origin.clone()),
                    });
                }
                if gv.is_none() {
                    blockers.push(Unresolved {
                        reason: format!(
                            "the virtual network of gateway {} is not known (its IP configuration's subnet is not found), so which subnets it reaches is not known",
                            display_name(&g.name, &g.address)
                        ),
                        origin: g.subnet.as_ref().map(|l| l.origin().clone()).unwrap_or_else(|| g.origin.clone()),
                    });
                }
            }
            continue;
        };
        if s == gk {
            return Reach::Yes(g);
        }
        for p in model.peerings_between(s, gk) {
            match &p.use_remote_gateways {
                Field::Known(false, _) => continue,
                Field::Unknown(u) => {
                    blockers.push((**u).clone());
                    continue;
                }
                Field::Known(true, _) => {}
            }
            // The gateway's side must allow transit; a side not in the code may.
            let mut transit = Tri::Yes;
            for back in model.peerings_between(gk, s) {
                match &back.allow_gateway_transit {
                    Field::Known(true, _) => {}
                    Field::Known(false, _) => transit = Tri::No,
                    Field::Unknown(u) => {
                        if transit == Tri::Yes {
                            transit = Tri::Unknown(vec![(**u).clone()]);
                        }
                    }
                }
            }
            match transit {
                Tri::Yes => return Reach::Yes(g),
                Tri::No => {}
                Tri::Unknown(u) => blockers.extend(u),
            }
        }
    }
    if blockers.is_empty() {
        Reach::No
    } else {
        Reach::Unknown(blockers)
    }
}

fn check(ctx: &Context, out: &mut Vec<Finding>, notes: &mut Vec<Undecided>) {
    if ctx.model.gateways.is_empty() && !ctx.assume_bgp_default_route {
        return;
    }
    for (si, subnet) in ctx.model.subnets.iter().enumerate() {
        if subnet
            .name
            .known()
            .is_some_and(|n| INFRASTRUCTURE_SUBNETS.iter().any(|i| i.eq_ignore_ascii_case(n)))
        {
            continue;
        }
        // The user's word applies to every subnet; a gateway only to those it reaches.
        let (source, reach_blockers) = if ctx.assume_bgp_default_route {
            (Some(Source::Assumed), Vec::new())
        } else {
            match reach(ctx.model, si, subnet) {
                Reach::Yes(g) => (Some(Source::Gateway(g)), Vec::new()),
                Reach::No => continue,
                Reach::Unknown(b) => (None, b),
            }
        };
        let table = ctx.model.route_table_of(si);
        for endpoint in &ctx.policy.endpoints {
            let cloud = ctx.cloud_for(table.map(|t| &t.cloud).unwrap_or(&None));
            let Some(addrs) = endpoint.addresses(cloud) else { continue };
            if addrs.required.is_empty() {
                continue;
            }
            let exposed = match exposure(table, addrs) {
                Exposure::Exposed(exposed) => exposed,
                Exposure::Undecided(blockers) => {
                    let mut b = reach_blockers.clone();
                    b.extend(blockers);
                    notes.push(undecided(subnet, endpoint, b));
                    continue;
                }
            };
            if exposed.is_empty() {
                continue;
            }
            let Some(source) = &source else {
                notes.push(undecided(subnet, endpoint, reach_blockers.clone()));
                continue;
            };
            out.push(finding(ctx, subnet, table, endpoint, source, &exposed));
        }
    }
}

/// Which required addresses a learned default route would take from
/// Internet, or what leaves that unknown.
enum Exposure {
    Exposed(Vec<String>),
    Undecided(Vec<Unresolved>),
}

/// The addresses a default route learned from a gateway would carry away:
/// all of them without a route table; with one that propagates gateway
/// routes, those none of its routes covers (a user route covering an
/// address decides instead of the learned default).
fn exposure(table: Option<&RouteTable>, addrs: &CloudAddresses) -> Exposure {
    let Some(t) = table else {
        return Exposure::Exposed(addrs.required.iter().map(|a| a.to_string()).collect());
    };
    match &t.propagate_gateway_routes {
        Field::Known(false, _) => return Exposure::Exposed(Vec::new()),
        Field::Known(true, _) => {}
        Field::Unknown(u) => return Exposure::Undecided(vec![(**u).clone()]),
    }
    let mut exposed = Vec::new();
    let mut blockers = t.incomplete.clone();
    for addr in &addrs.required {
        let mut covered = false;
        for r in &t.routes {
            match &r.address_prefix {
                Field::Known(RoutePrefix::Net(n), _) if n.contains(addr) => covered = true,
                Field::Known(RoutePrefix::Net(_), _) => {}
                Field::Known(RoutePrefix::ServiceTag(_), o) => blockers.push(Unresolved {
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
        return Exposure::Undecided(blockers);
    }
    Exposure::Exposed(exposed)
}

/// The finding for a subnet whose learned default route takes `exposed` away from Internet.
fn finding(
    ctx: &Context,
    subnet: &Subnet,
    table: Option<&RouteTable>,
    endpoint: &Endpoint,
    source: &Source,
    exposed: &[String],
) -> Finding {
    let why = match source {
        Source::Gateway(g) => format!("gateway {} {}", display_name(&g.name, &g.address), g.reason),
        Source::Assumed => "--assume-bgp-default-route says on-premises advertises 0.0.0.0/0".to_string(),
    };
    // A default site forces the route without BGP; the others learn it over BGP.
    let learned = match source {
        Source::Gateway(g) if g.kind == GatewayRoute::DefaultSite => format!(
            "the default route that gateway {}'s default site forces (forced tunneling)",
            display_name(&g.name, &g.address)
        ),
        Source::Gateway(g) if g.kind == GatewayRoute::ExpressRoute => format!(
            "a default route learned over BGP from ExpressRoute gateway {}",
            display_name(&g.name, &g.address)
        ),
        Source::Gateway(g) => format!(
            "a default route learned over BGP from VPN gateway {}",
            display_name(&g.name, &g.address)
        ),
        Source::Assumed => "a default route learned over BGP".to_string(),
    };
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
            "subnet {name} {how}: {learned} would send {} traffic ({}) away from Internet",
            endpoint.title,
            exposed.join(", ")
        ),
        Label {
            origin: subnet.origin.clone(),
            message: format!("this subnet can learn 0.0.0.0/0: {why}"),
        },
    );
    if let Source::Gateway(g) = source {
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
            and_list(exposed)
        ),
        snippet: None,
        insert_at: None,
    });
    f
}

fn undecided(subnet: &Subnet, endpoint: &crate::policy::Endpoint, blockers: Vec<Unresolved>) -> Undecided {
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
    use crate::model::{Field, Gateway, GatewayRoute, Link, Model, Peering, Subnet};
    use crate::rules::testkit::*;

    fn subnet(name: &str, table: Option<&str>) -> Subnet {
        in_vnet(name, table, Some("vnet-hub"))
    }

    fn in_vnet(name: &str, table: Option<&str>, vnet: Option<&str>) -> Subnet {
        Subnet {
            address: format!("azurerm_subnet.{name}"),
            namespace: 0,
            name: known(name.into()),
            origin: here(),
            route_table: table.map(|t| Link::Address(format!("azurerm_route_table.{t}"), here(), 0)),
            nsg: None,
            vnet: vnet.map(|v| Link::Id(known(v.into()))),
        }
    }

    fn gateway() -> Gateway {
        gateway_in(GatewayRoute::DefaultSite, Some("vnet-hub"), 0)
    }

    fn gateway_in(kind: GatewayRoute, vnet: Option<&str>, namespace: u32) -> Gateway {
        Gateway {
            address: "azurerm_virtual_network_gateway.vpn".into(),
            namespace,
            name: known("vgw".into()),
            origin: here(),
            reason: "has a default site, which forces traffic to on-premises".into(),
            kind,
            subnet: vnet.map(|v| {
                Link::Id(known(format!(
                    "/subscriptions/s/resourceGroups/g/providers/Microsoft.Network/virtualNetworks/{v}/subnets/GatewaySubnet"
                )))
            }),
        }
    }

    fn peering(from: &str, to: &str, use_remote: Field<bool>, transit: Field<bool>) -> Peering {
        Peering {
            address: format!("azurerm_virtual_network_peering.{from}"),
            namespace: 0,
            origin: here(),
            vnet: Some(Link::Id(known(from.into()))),
            remote: Some(Link::Id(known(format!("/providers/Microsoft.Network/virtualNetworks/{to}")))),
            use_remote_gateways: use_remote,
            allow_gateway_transit: transit,
        }
    }

    #[test]
    fn flags_a_subnet_without_a_route_table_when_a_gateway_has_a_default_site() {
        let m = Model {
            subnets: vec![subnet("app", None)],
            gateways: vec![gateway()],
            ..Model::default()
        };
        let found = run(&m);
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec!["KG104"]);
        // A default site is forced tunneling, not BGP: the message says which.
        assert!(found[0].1.contains("default site forces (forced tunneling)"), "{found:?}");
        assert!(!found[0].1.contains("BGP"), "{found:?}");
    }

    #[test]
    fn messages_tell_bgp_from_expressroute() {
        for (kind, says) in [
            (GatewayRoute::Bgp, "learned over BGP from VPN gateway vgw"),
            (GatewayRoute::ExpressRoute, "learned over BGP from ExpressRoute gateway vgw"),
        ] {
            let m = Model {
                subnets: vec![subnet("app", None)],
                gateways: vec![gateway_in(kind, Some("vnet-hub"), 0)],
                ..Model::default()
            };
            let found = run(&m);
            assert!(found.len() == 1 && found[0].1.contains(says), "{found:?}");
        }
    }

    #[test]
    fn a_gateway_reaches_only_its_own_network_and_peers_that_use_it() {
        let spoke = || in_vnet("spoke", None, Some("vnet-spoke"));
        // Another network, no peering: the gateway's routes never get there.
        let alone = Model {
            subnets: vec![spoke()],
            gateways: vec![gateway()],
            ..Model::default()
        };
        assert_eq!(codes(&alone), Vec::<&str>::new());
        // Peered, using the remote gateway: they do.
        let using = Model {
            subnets: vec![spoke()],
            gateways: vec![gateway()],
            peerings: vec![peering("vnet-spoke", "vnet-hub", known(true), known(false))],
            ..Model::default()
        };
        assert_eq!(codes(&using), vec!["KG104"]);
        // Peered without using it, or the hub refusing transit: they don't.
        for peerings in [
            vec![peering("vnet-spoke", "vnet-hub", known(false), known(false))],
            vec![
                peering("vnet-spoke", "vnet-hub", known(true), known(false)),
                peering("vnet-hub", "vnet-spoke", known(false), known(false)),
            ],
        ] {
            let m = Model {
                subnets: vec![spoke()],
                gateways: vec![gateway()],
                peerings,
                ..Model::default()
            };
            assert_eq!(codes(&m), Vec::<&str>::new());
        }
        // Whether the peering uses it is unknown: a note.
        let unknown_use = Model {
            subnets: vec![spoke()],
            gateways: vec![gateway()],
            peerings: vec![peering(
                "vnet-spoke",
                "vnet-hub",
                unknown("var.use_remote has no value"),
                known(false),
            )],
            ..Model::default()
        };
        assert_eq!(codes(&unknown_use), vec!["KG901"]);
    }

    #[test]
    fn an_unknown_network_is_a_note_naming_it_not_a_finding() {
        for (subnet_vnet, gateway_vnet, names) in [
            (None, Some("vnet-hub"), "the virtual network of subnet app is not known"),
            (Some("vnet-hub"), None, "the virtual network of gateway vgw is not known"),
        ] {
            let m = Model {
                subnets: vec![in_vnet("app", None, subnet_vnet)],
                gateways: vec![gateway_in(GatewayRoute::Bgp, gateway_vnet, 0)],
                ..Model::default()
            };
            let found = run(&m);
            assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), vec!["KG901"], "{found:?}");
            assert!(found[0].1.contains(names), "{found:?}");
        }
    }

    #[test]
    fn a_gateway_of_another_unit_says_nothing_about_this_one() {
        // Even with both networks unknown, or named alike: units do not share names.
        for (subnet_vnet, gateway_vnet) in [(None, None), (Some("vnet-hub"), Some("vnet-hub"))] {
            let m = Model {
                subnets: vec![in_vnet("app", None, subnet_vnet)],
                gateways: vec![gateway_in(GatewayRoute::Bgp, gateway_vnet, 7)],
                ..Model::default()
            };
            assert_eq!(codes(&m), Vec::<&str>::new());
        }
    }

    #[test]
    fn the_assumption_applies_to_every_subnet() {
        let m = Model {
            subnets: vec![in_vnet("a", None, None), in_vnet("b", None, Some("vnet-x"))],
            ..Model::default()
        };
        let policy = policy();
        let ctx = crate::rules::Context {
            model: &m,
            policy: &policy,
            cloud: "public",
            cloud_forced: false,
            assume_bgp_default_route: true,
        };
        let found = crate::rules::check(&ctx);
        assert_eq!(found.iter().filter(|f| f.code == "KG104").count(), 2, "{found:?}");
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
