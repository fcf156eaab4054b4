//! One flow, in the order Azure meets it: route selection, the next hop
//! (and the Azure Firewall there, if the code names one), then the NSG
//! walk ([`super::nsg`]), and the verdict.

use std::net::IpAddr;

use crate::analysis::firewall::decide;
use crate::analysis::nsg::is_internet;
use crate::analysis::routing::{explain as explain_routes, BgpDefault, Candidate, CandidateStatus, Decision, RouteSource};
use crate::analysis::Tri;
use crate::model::{Field, Firewall, Link, Model, NextHopType, Protocol, Route, RouteTable, Unresolved};
use crate::policy::{Endpoint, Policy};
use crate::source::SourceMap;

use super::nsg::{nsg_flow, nsg_holders, platform_step, walk_nsgs};
use super::start::FlowStart;
use super::{at, place, unknowns, FirewallStep, FlowTrace, NextHop, RouteRow, TraceOptions};

/// What the traffic is: where it goes, and the endpoint of the pack it belongs to.
pub(super) struct Target<'p> {
    pub addr: IpAddr,
    pub port: u16,
    pub protocol: Protocol,
    pub endpoint: Option<&'p Endpoint>,
}

impl Target<'_> {
    /// How messages name the traffic: the endpoint's title (`KMS`), else "the traffic".
    fn what(&self) -> String {
        self.endpoint.map(|e| e.title.clone()).unwrap_or_else(|| "the traffic".to_string())
    }
}

/// Where a step leaves the flow: it goes on, it is dropped, or what happens is not known.
pub(super) enum Outcome {
    Reaches,
    Blocked(String),
    Unknown(String, Vec<Unresolved>),
}

pub(super) fn trace_flow(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    start: FlowStart,
    empty: &RouteTable,
    target: &Target,
) -> FlowTrace {
    let table = start.table;
    // Without a route table Azure's system routes alone apply: an empty table explains them.
    let routed = table.unwrap_or(empty);
    let bgp = bgp_default(model, opts, &start);
    let (candidates, decision) = explain_routes(routed, target.addr, bgp.as_ref());
    let mut flow = FlowTrace {
        destination: target.addr.to_string(),
        port: target.port,
        protocol: target.protocol.as_str().to_string(),
        endpoint: target.endpoint.map(|e| e.title.clone()),
        cloud: start.cloud.to_string(),
        route_table: table.map(|t| place(sources, "route_table", &t.name, &t.address, &t.origin)),
        routes: route_rows(model, sources, table, &candidates, bgp.as_ref()),
        next_hop: None,
        firewall: None,
        platform: None,
        nsgs: Vec::new(),
        notes: Vec::new(),
        verdict: "unknown",
        reason: String::new(),
        unknown: Vec::new(),
    };
    if let (None, Some((_, s))) = (table, start.subnet) {
        // A subnet associated with a table kmsguard did not find (an id
        // known only at deployment, a table outside the code) may be
        // forced-tunnelled: its routes are not known, so neither is the verdict.
        if let Some(link) = &s.route_table {
            let reason = match link {
                Link::Id(Field::Unknown(u)) => u.reason.clone(),
                _ => "the subnet names a route table kmsguard did not read".into(),
            };
            let why = Unresolved {
                reason,
                origin: link.origin().clone(),
            };
            finish(
                sources,
                &mut flow,
                Outcome::Unknown("the subnet's route table is not in the code".into(), vec![why]),
            );
            return flow;
        }
        flow.notes
            .push("the subnet has no route table in the code: Azure's system routes apply".into());
    }
    let routing = follow_route(model, sources, &start, target, &decision, &mut flow);
    if !matches!(routing, Outcome::Reaches) {
        finish(sources, &mut flow, routing);
        return flow;
    }
    // NSGs: the NIC's, then the subnet's ("How network security groups filter network traffic").
    let nsg_flow = nsg_flow(policy, routed, table, target);
    flow.platform = platform_step(&nsg_flow, &target.what());
    let holders = match nsg_holders(model, &start, &target.what(), &mut flow.notes) {
        Ok(h) => h,
        Err(outcome) => {
            finish(sources, &mut flow, outcome);
            return flow;
        }
    };
    let outcome = walk_nsgs(sources, &nsg_flow, holders, &mut flow.nsgs);
    finish(sources, &mut flow, outcome);
    if flow.verdict == "reaches" {
        flow.reason = reaches_reason(&flow);
    }
    flow
}

/// The default route the subnet may learn over BGP: assumed by the flag, or
/// from a gateway in the code.
fn bgp_default(model: &Model, opts: &TraceOptions, start: &FlowStart) -> Option<BgpDefault> {
    if opts.assume_bgp_default_route {
        return Some(BgpDefault {
            why: "--assume-bgp-default-route says on-premises advertises 0.0.0.0/0".into(),
        });
    }
    // Only a gateway whose routes reach this subnet (its own network, or a
    // peering that uses the remote gateway), as KG104 judges it.
    match start.subnet.map(|(si, s)| crate::rules::kg104::reach(model, si, s)) {
        Some(crate::rules::kg104::Reach::Yes(g)) => Some(BgpDefault {
            why: format!("gateway {} {}", crate::rules::display_name(&g.name, &g.address), g.reason),
        }),
        _ => None,
    }
}

/// Route selection: every route that covers (or may cover) the destination, with why it wins or loses.
fn route_rows(
    model: &Model,
    sources: &SourceMap,
    table: Option<&RouteTable>,
    candidates: &[Candidate],
    bgp: Option<&BgpDefault>,
) -> Vec<RouteRow> {
    let ns = namespace(table);
    candidates
        .iter()
        .map(|c| {
            let (file, line) = match c.route {
                Some(r) => {
                    let (f, l) = at(sources, &r.origin);
                    (Some(f), Some(l))
                }
                None => (None, None),
            };
            let (status, reason) = match &c.status {
                CandidateStatus::Wins => ("wins", win_reason(c.source, c.prefix)),
                CandidateStatus::Loses(why) => ("loses", why.clone()),
                CandidateStatus::Unknown(why) if why.is_empty() => ("unknown", "whether it wins is not known".to_string()),
                CandidateStatus::Unknown(why) => ("unknown", why.iter().map(|u| u.reason.clone()).collect::<Vec<_>>().join("; ")),
            };
            let reason = match (c.source, bgp) {
                (RouteSource::Bgp, Some(b)) => format!("{reason} (learned because {})", b.why),
                _ => reason,
            };
            RouteRow {
                prefix: c.prefix_text.clone(),
                prefix_length: c.prefix.map(|p| p.prefix_len()),
                source: c.source.as_str(),
                next_hop: c.next_hop.map(|h| h.to_string()).or_else(|| c.route.map(|_| "?".to_string())),
                next_hop_ip: if c.next_hop == Some(NextHopType::VirtualAppliance) {
                    hop_ip(model, ns, c.route)
                } else {
                    None
                },
                name: c.route.map(|r| r.name.known().cloned().unwrap_or_else(|| "(unnamed)".into())),
                file,
                line,
                status,
                reason,
            }
        })
        .collect()
}

fn win_reason(source: RouteSource, prefix: Option<ipnet::IpNet>) -> String {
    let len = prefix.map(|p| format!("/{}", p.prefix_len())).unwrap_or_default();
    match source {
        RouteSource::Bgp => format!("longest matching prefix ({len}), and BGP beats a system route of equal length"),
        RouteSource::User | RouteSource::System => format!("longest matching prefix ({len})"),
    }
}

/// The namespace the route table's references resolve in (0 for Azure's system routes).
fn namespace(table: Option<&RouteTable>) -> u32 {
    table.map_or(0, |t| t.namespace)
}

/// The next hop address as written, or the firewall the code names there.
fn hop_ip(model: &Model, ns: u32, route: Option<&Route>) -> Option<String> {
    let route = route?;
    if let Some(fw) = model.firewall_of(ns, route.next_hop_firewall.as_ref()) {
        return Some(format!("(Azure Firewall {})", crate::rules::display_name(&fw.name, &fw.address)));
    }
    route.next_hop_ip.as_ref().map(|f| match f {
        Field::Known(ip, _) => ip.clone(),
        Field::Unknown(_) => "?".to_string(),
    })
}

/// Where the selected route takes the traffic: records the next hop (and
/// the firewall step) on `flow`, and says whether the traffic goes on to the NSGs.
fn follow_route(
    model: &Model,
    sources: &SourceMap,
    start: &FlowStart,
    target: &Target,
    decision: &Decision,
    flow: &mut FlowTrace,
) -> Outcome {
    let (source, prefix, next_hop, route) = match decision {
        Decision::Unknown(why) => return Outcome::Unknown("which route carries the traffic is not known".into(), why.clone()),
        Decision::Known {
            source,
            prefix,
            next_hop,
            route,
        } => (source, prefix, next_hop, route),
    };
    let ns = namespace(start.table);
    flow.next_hop = Some(NextHop {
        hop_type: next_hop.to_string(),
        ip: if *next_hop == NextHopType::VirtualAppliance {
            hop_ip(model, ns, *route)
        } else {
            None
        },
        source: source.as_str(),
        prefix: prefix.to_string(),
    });
    let what = target.what();
    let firewall = route.and_then(|r| model.firewall_of(ns, r.next_hop_firewall.as_ref()));
    let outcome = match (next_hop, firewall) {
        (NextHopType::Internet, _) => Outcome::Reaches,
        (NextHopType::None, _) => Outcome::Blocked(format!("the {prefix} route's next hop None drops {what}")),
        (NextHopType::VirtualAppliance, Some(fw)) => {
            let (step, outcome) = firewall_step(sources, fw, start.cloud, target);
            flow.firewall = Some(step);
            outcome
        }
        (hop, _) if target.endpoint.is_some() => {
            let via = match (hop, source) {
                (NextHopType::VirtualNetworkGateway, RouteSource::Bgp) => "a gateway, by a default route learned over BGP".to_string(),
                (NextHopType::VirtualNetworkGateway, _) => "a virtual network gateway (on-premises)".to_string(),
                (NextHopType::VirtualAppliance, _) => match hop_ip(model, ns, *route).filter(|ip| ip != "?") {
                    Some(ip) => format!("the appliance {ip}, which is not an Azure Firewall in the code"),
                    None => "an appliance whose address is not known, so not an Azure Firewall in the code".to_string(),
                },
                (h, _) => format!("next hop {h}"),
            };
            Outcome::Blocked(format!(
                "the {prefix} {} route sends {what} to {via}; {what} must leave from an Azure public IP (next hop Internet)",
                source.as_str()
            ))
        }
        (NextHopType::VnetLocal, _) => Outcome::Reaches,
        (hop, _) => Outcome::Unknown(
            format!("the traffic leaves through next hop {hop}, whose own rules are not in the code"),
            Vec::new(),
        ),
    };
    // A private address not covered by a user-defined route: whether the
    // virtual network's own space holds it (VnetLocal) is not in the model.
    match (&outcome, source, next_hop) {
        (Outcome::Blocked(_), RouteSource::System, NextHopType::None) if !is_internet(target.addr) => Outcome::Unknown(
            format!("{} is a private address: Azure routes it to VnetLocal if the virtual network (or a peered one) uses it, else drops it, and kmsguard does not know the address space", target.addr),
            Vec::new(),
        ),
        _ => outcome,
    }
}

/// The Azure Firewall at the next hop: what its network rules decide for the flow.
fn firewall_step(sources: &SourceMap, fw: &Firewall, cloud: &str, target: &Target) -> (FirewallStep, Outcome) {
    let Target {
        addr,
        port,
        protocol,
        endpoint,
    } = *target;
    let names: Vec<String> = endpoint
        .and_then(|e| e.addresses(cloud))
        .map(|a| a.names.clone())
        .unwrap_or_default();
    let (verdict, rule) = decide(fw, addr, protocol, port, &names);
    let fw_name = crate::rules::display_name(&fw.name, &fw.address);
    let rule_name = rule.map(|r| r.name.known().cloned().unwrap_or_else(|| "(unnamed)".into()));
    let (rule_file, rule_line) = match rule {
        Some(r) => {
            let (f, l) = at(sources, &r.origin);
            (Some(f), Some(l))
        }
        None => (None, None),
    };
    let (decision, reason, outcome) = match (&verdict, &rule_name) {
        (Tri::Yes, Some(n)) => (
            "allow",
            format!(
                "network rule {n} allows {} {port}; the firewall sends it out from its own public IP",
                protocol.as_str()
            ),
            Outcome::Reaches,
        ),
        (Tri::No, Some(n)) => {
            let r = format!("network rule {n} denies {} {port} to {addr}", protocol.as_str());
            ("deny", r.clone(), Outcome::Blocked(format!("Azure Firewall {fw_name}: {r}")))
        }
        (Tri::No, None) => {
            let r = format!(
                "no network rule allows {} {port} to {addr}, so the firewall's implicit deny applies",
                protocol.as_str()
            );
            ("deny", r.clone(), Outcome::Blocked(format!("Azure Firewall {fw_name}: {r}")))
        }
        (Tri::Unknown(why), _) => {
            let r = "whether the firewall's network rules allow the flow is not known".to_string();
            (
                "unknown",
                r.clone(),
                Outcome::Unknown(format!("Azure Firewall {fw_name}: {r}"), why.clone()),
            )
        }
        (Tri::Yes, None) => ("allow", "allowed".into(), Outcome::Reaches),
    };
    let step = FirewallStep {
        firewall: place(sources, "firewall", &fw.name, &fw.address, &fw.origin),
        decision,
        rule: rule_name,
        rule_file,
        rule_line,
        reason,
    };
    (step, outcome)
}

/// The verdict: the outcome of the step that decided, with the values that left it unknown.
fn finish(sources: &SourceMap, flow: &mut FlowTrace, outcome: Outcome) {
    match outcome {
        Outcome::Reaches => {
            flow.verdict = "reaches";
        }
        Outcome::Blocked(r) => {
            flow.verdict = "blocked";
            flow.reason = r;
        }
        Outcome::Unknown(r, why) => {
            flow.verdict = "unknown";
            flow.reason = r;
            flow.unknown = unknowns(sources, &why);
        }
    }
}

/// Why a flow that reaches does: through the firewall, or straight out past the NSGs.
fn reaches_reason(flow: &FlowTrace) -> String {
    match (&flow.firewall, &flow.platform) {
        (Some(fw), _) => format!("through Azure Firewall {}, which allows it", fw.firewall.name),
        (None, Some(p)) if p.applies => format!(
            "next hop Internet; NSGs let it out (platform traffic: only rules naming {} apply)",
            p.tag
        ),
        _ => "next hop Internet, and every NSG on the way allows it".to_string(),
    }
}
