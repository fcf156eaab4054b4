//! `kmsguard trace`: one flow from a subnet (or a NIC, or a route table)
//! followed through the code, step by step, before anything is deployed.
//!
//! Routes are explained by [`crate::analysis::routing::explain`], NSGs by
//! [`crate::analysis::nsg::explain`] and firewalls by
//! [`crate::analysis::firewall::decide`]: the same evaluation the rules
//! use, recorded step by step. What cannot be decided is reported as
//! unknown with its reason, never guessed.

use std::net::IpAddr;

use serde::Serialize;

use crate::analysis::firewall::decide;
use crate::analysis::nsg::{explain as explain_nsg, is_internet, Decider, Flow, RuleStatus, Verdict};
use crate::analysis::routing::{explain as explain_routes, has_custom_default_route, BgpDefault, CandidateStatus, Decision, RouteSource};
use crate::analysis::Tri;
use crate::model::{
    Access, Authoring, Dialect, Direction, Field, Model, NetworkInterface, NextHopType, Nsg, Protocol, RoutePrefix, RouteStyle, RouteTable,
    Subnet, Unresolved,
};
use crate::policy::{Endpoint, Policy};
use crate::report::escape::{log_text, markdown_code, markdown_text};
use crate::source::{display_path, FileId, Origin, SourceMap};

/// The documentation behind the platform allowance, named in every trace that relies on it.
pub const PLATFORM_DOC: &str = "\"Azure network security groups overview\", Azure platform considerations";

/// Where the traffic goes: `kms` (or another endpoint of the policy pack),
/// or an address with an optional port and protocol.
#[derive(Debug, Clone, PartialEq)]
pub enum Destination {
    /// Every required address of an endpoint of the pack, in the cloud that applies.
    Endpoint(String),
    Address {
        addr: IpAddr,
        port: Option<u16>,
        protocol: Option<Protocol>,
    },
}

impl Destination {
    /// Parses `kms`, `ADDRESS`, `ADDRESS:PORT`, `ADDRESS:PORT/PROTO`
    /// (`[v6]:PORT` for IPv6 with a port).
    pub fn parse(s: &str, policy: &Policy) -> Result<Destination, String> {
        let s = s.trim();
        if let Some(e) = policy.endpoints.iter().find(|e| e.id.eq_ignore_ascii_case(s)) {
            return Ok(Destination::Endpoint(e.id.clone()));
        }
        let (host, rest) = if let Some(v6) = s.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, r)) => (h, r.strip_prefix(':')),
                None => return Err(format!("cannot read --to {s}: a '[' without its ']'")),
            }
        } else if s.matches(':').count() > 1 {
            (s, None)
        } else {
            match s.split_once(':') {
                Some((h, r)) => (h, Some(r)),
                None => (s, None),
            }
        };
        let addr: IpAddr = host.parse().map_err(|_| {
            let ids: Vec<&str> = policy.endpoints.iter().map(|e| e.id.as_str()).collect();
            format!("cannot read --to {s}: expected {} or ADDRESS[:PORT[/PROTO]]", ids.join(", "))
        })?;
        let (port, protocol) = match rest {
            None => (None, None),
            Some(r) => {
                let (p, proto) = match r.split_once('/') {
                    Some((p, proto)) => (p, Some(proto)),
                    None => (r, None),
                };
                let port: u16 = p.parse().map_err(|_| format!("cannot read --to {s}: {p} is not a port"))?;
                let protocol = match proto {
                    None => None,
                    Some(x) => match Protocol::parse(x) {
                        Some(Protocol::Tcp) => Some(Protocol::Tcp),
                        Some(Protocol::Udp) => Some(Protocol::Udp),
                        _ => return Err(format!("cannot read --to {s}: the protocol is tcp or udp")),
                    },
                };
                (Some(port), protocol)
            }
        };
        Ok(Destination::Address { addr, port, protocol })
    }
}

/// How the flows are judged: the cloud and the BGP assumption of `check`.
#[derive(Debug, Clone, Default)]
pub struct TraceOptions {
    /// `--cloud`: applies even where the code names another.
    pub cloud: Option<String>,
    pub assume_bgp_default_route: bool,
    /// The files named on the command line, as reports show them: `--from`
    /// prefers a match in one of them.
    pub named_files: Vec<String>,
}

/// The trace report; its JSON form is version 1 of the trace contract
/// (README, "kmsguard trace"). Fields may be added; none is renamed or
/// removed without bumping `version`.
#[derive(Debug, Clone, Serialize)]
pub struct TraceReport {
    pub version: u32,
    pub tool: Tool,
    pub from: Place,
    pub flows: Vec<FlowTrace>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

/// A resource, with where it is written.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Place {
    /// `subnet`, `network_interface`, `route_table`, `nsg`, `firewall`.
    pub kind: &'static str,
    pub name: String,
    pub resource: String,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FlowTrace {
    pub destination: String,
    pub port: u16,
    pub protocol: String,
    /// The endpoint of the pack the address belongs to (`KMS`), if any.
    pub endpoint: Option<String>,
    pub cloud: String,
    pub route_table: Option<Place>,
    /// Every route that covers (or may cover) the destination.
    pub routes: Vec<RouteRow>,
    pub next_hop: Option<NextHop>,
    pub firewall: Option<FirewallStep>,
    /// Whether Azure's platform rules take the flow past NSG rules that do not name its tag.
    pub platform: Option<PlatformStep>,
    /// NSGs in the order the traffic meets them: the NIC's, then the subnet's.
    pub nsgs: Vec<NsgStep>,
    /// Things about the flow worth knowing that are not steps (NICs with their own NSG).
    pub notes: Vec<String>,
    /// `reaches`, `blocked` or `unknown`.
    pub verdict: &'static str,
    pub reason: String,
    /// The values that left the verdict unknown.
    pub unknown: Vec<UnknownValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RouteRow {
    pub prefix: String,
    pub prefix_length: Option<u8>,
    /// `user`, `bgp` (assumed or from a gateway in the code) or `system`.
    pub source: &'static str,
    pub next_hop: Option<String>,
    pub next_hop_ip: Option<String>,
    pub name: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    /// `wins`, `loses` or `unknown`.
    pub status: &'static str,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextHop {
    #[serde(rename = "type")]
    pub hop_type: String,
    pub ip: Option<String>,
    pub source: &'static str,
    pub prefix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FirewallStep {
    pub firewall: Place,
    /// `allow`, `deny` or `unknown`.
    pub decision: &'static str,
    /// The network rule that decides; none when the implicit deny does.
    pub rule: Option<String>,
    pub rule_file: Option<String>,
    pub rule_line: Option<usize>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformStep {
    pub tag: String,
    /// Whether the platform rule lets the flow past rules that do not name `tag`.
    pub applies: bool,
    pub reason: String,
    pub reference: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct NsgStep {
    /// `network interface nic-app`, `subnet snet-app`.
    pub holder: String,
    pub nsg: Place,
    pub rules: Vec<NsgRuleRow>,
    /// `allow`, `deny` or `unknown`.
    pub decision: &'static str,
    /// The rule, default rule or platform rule that decided.
    pub decided_by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NsgRuleRow {
    pub priority: Option<u32>,
    pub name: String,
    pub access: Option<&'static str>,
    /// `decides`, `no-match`, `unknown`, `not-reached` or `skipped`.
    pub status: &'static str,
    pub reason: String,
    pub file: String,
    pub line: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnknownValue {
    pub reason: String,
    pub file: String,
    pub line: usize,
}

/// The resource a trace starts from.
enum Start<'a> {
    Subnet(usize, &'a Subnet),
    Nic(&'a NetworkInterface, Option<(usize, &'a Subnet)>),
    Table(&'a RouteTable),
}

fn place(sources: &SourceMap, kind: &'static str, name: &Field<String>, resource: &str, origin: &Origin) -> Place {
    let (file, line) = at(sources, origin);
    Place {
        kind,
        name: crate::rules::display_name(name, resource),
        resource: resource.to_string(),
        file,
        line,
    }
}

fn at(sources: &SourceMap, origin: &Origin) -> (String, usize) {
    if sources.get(origin.file).is_none() {
        return (String::new(), 0);
    }
    (display_path(sources.path(origin.file)), sources.line_col(origin).line)
}

fn unknowns(sources: &SourceMap, why: &[Unresolved]) -> Vec<UnknownValue> {
    let mut out: Vec<UnknownValue> = Vec::new();
    for u in why {
        let (file, line) = at(sources, &u.origin);
        if !out.iter().any(|o| o.reason == u.reason && o.file == file && o.line == line) {
            out.push(UnknownValue {
                reason: u.reason.clone(),
                file,
                line,
            });
        }
    }
    out
}

fn matches_name(name: &Field<String>, address: &str, wanted: &str) -> bool {
    address == wanted || name.known().is_some_and(|n| n.eq_ignore_ascii_case(wanted))
}

/// Finds `--from`: a subnet, a NIC or a route table, by resource address or name.
fn find_start<'a>(model: &'a Model, sources: &SourceMap, from: &str, named: &[String]) -> Result<Start<'a>, String> {
    let from = from.trim();
    let mut found: Vec<(Start<'a>, Place)> = Vec::new();
    for (si, s) in model.subnets.iter().enumerate() {
        if matches_name(&s.name, &s.address, from) {
            found.push((Start::Subnet(si, s), place(sources, "subnet", &s.name, &s.address, &s.origin)));
        }
    }
    for n in &model.nics {
        if matches_name(&n.name, &n.address, from) {
            let subnet = model
                .subnets
                .iter()
                .enumerate()
                .find(|(si, _)| model.nics_in(*si).any(|x| std::ptr::eq(x, n)));
            found.push((
                Start::Nic(n, subnet),
                place(sources, "network_interface", &n.name, &n.address, &n.origin),
            ));
        }
    }
    for t in &model.route_tables {
        if matches_name(&t.name, &t.address, from) {
            found.push((Start::Table(t), place(sources, "route_table", &t.name, &t.address, &t.origin)));
        }
    }
    // Named files (`kmsguard trace … main.tf`) are read with their whole
    // deployment unit; a name that also matches a resource of another file
    // of the unit means the one in the named file.
    if found.len() > 1 && found.iter().any(|(_, p)| named.contains(&p.file)) {
        found.retain(|(_, p)| named.contains(&p.file));
    }
    match found.len() {
        1 => Ok(found.remove(0).0),
        0 if crate::model::parse_prefix(from).is_some() => Err(format!(
            "--from {from}: kmsguard does not record subnet address prefixes yet; name the subnet, its resource address, a network interface or a route table"
        )),
        0 => {
            let mut known: Vec<String> = model
                .subnets
                .iter()
                .map(|s| crate::rules::display_name(&s.name, &s.address))
                .chain(model.nics.iter().map(|n| crate::rules::display_name(&n.name, &n.address)))
                .collect();
            known.sort();
            known.dedup();
            let hint = if known.is_empty() {
                "the code declares no subnet or network interface; name a route table".to_string()
            } else {
                format!("known subnets and network interfaces: {}", known.join(", "))
            };
            Err(format!("--from {from} matches no subnet, network interface or route table in the code; {hint}"))
        }
        _ => {
            let list: Vec<String> = found
                .iter()
                .map(|(_, p)| format!("{} {} ({}:{})", p.kind.replace('_', " "), p.resource, p.file, p.line))
                .collect();
            Err(format!(
                "--from {from} matches {} resources: {}; name one by its resource address",
                found.len(),
                list.join(", ")
            ))
        }
    }
}

/// Traces the flows from `from` to `to` through `model`.
pub fn trace(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    from: &str,
    to: &Destination,
) -> Result<TraceReport, String> {
    let start = find_start(model, sources, from, &opts.named_files)?;
    trace_start(model, policy, sources, opts, start, to)
}

/// Traces `to` from the subnet at index `subnet` of the model.
pub fn trace_subnet(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    subnet: usize,
    to: &Destination,
) -> Result<TraceReport, String> {
    let s = model.subnets.get(subnet).ok_or_else(|| "no such subnet".to_string())?;
    trace_start(model, policy, sources, opts, Start::Subnet(subnet, s), to)
}

/// Traces `to` through a route table alone (no subnet in the code uses it).
pub fn trace_table(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    table: &RouteTable,
    to: &Destination,
) -> Result<TraceReport, String> {
    trace_start(model, policy, sources, opts, Start::Table(table), to)
}

fn trace_start(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    start: Start,
    to: &Destination,
) -> Result<TraceReport, String> {
    let (from_place, table, subnet, nic) = match &start {
        Start::Subnet(si, s) => (
            place(sources, "subnet", &s.name, &s.address, &s.origin),
            model.route_table_of(*si),
            Some((*si, *s)),
            None,
        ),
        Start::Nic(n, sub) => (
            place(sources, "network_interface", &n.name, &n.address, &n.origin),
            sub.and_then(|(si, _)| model.route_table_of(si)),
            *sub,
            Some(*n),
        ),
        Start::Table(t) => (place(sources, "route_table", &t.name, &t.address, &t.origin), Some(*t), None, None),
    };
    let cloud = match (&opts.cloud, table.and_then(|t| t.cloud.as_ref())) {
        (Some(c), _) => c.clone(),
        (None, Some(c)) => c.clone(),
        (None, None) => "public".to_string(),
    };
    let flows: Vec<(IpAddr, Option<u16>, Option<Protocol>)> = match to {
        Destination::Endpoint(id) => {
            let e = policy
                .endpoints
                .iter()
                .find(|e| &e.id == id)
                .ok_or_else(|| format!("no endpoint {id} in the policy pack"))?;
            let addrs = e
                .addresses(&cloud)
                .ok_or_else(|| format!("the policy pack lists no {} addresses for the {cloud} cloud", e.title))?;
            addrs.required.iter().map(|a| (*a, Some(e.port), Some(e.protocol))).collect()
        }
        Destination::Address { addr, port, protocol } => vec![(*addr, *port, *protocol)],
    };
    let empty = empty_table();
    let mut out = Vec::new();
    for (addr, port, protocol) in flows {
        let endpoint = endpoint_of(policy, &cloud, addr);
        let port = match (port, endpoint) {
            (Some(p), _) => p,
            (None, Some(e)) => e.port,
            (None, None) => return Err(format!("--to {addr}: say which port, as {addr}:PORT or {addr}:PORT/udp")),
        };
        let protocol = protocol.or(endpoint.map(|e| e.protocol)).unwrap_or(Protocol::Tcp);
        out.push(trace_flow(
            model,
            policy,
            sources,
            opts,
            FlowStart {
                table,
                subnet,
                nic,
                cloud: &cloud,
            },
            &empty,
            (addr, port, protocol, endpoint),
        ));
    }
    Ok(TraceReport {
        version: 1,
        tool: Tool {
            name: "kmsguard",
            version: env!("CARGO_PKG_VERSION"),
        },
        from: from_place,
        flows: out,
    })
}

struct FlowStart<'a> {
    table: Option<&'a RouteTable>,
    subnet: Option<(usize, &'a Subnet)>,
    nic: Option<&'a NetworkInterface>,
    cloud: &'a str,
}

fn empty_table() -> RouteTable {
    let o = Origin::new(FileId(u32::MAX), 0..0);
    RouteTable::new(
        String::new(),
        Field::Known(String::new(), o.clone()),
        o.clone(),
        Field::Known(true, o),
        Authoring {
            dialect: Dialect::Terraform,
            style: RouteStyle::Inline,
            indent: String::new(),
            reference: String::new(),
            insert_at: None,
        },
    )
}

fn endpoint_of<'p>(policy: &'p Policy, cloud: &str, addr: IpAddr) -> Option<&'p Endpoint> {
    policy.endpoints.iter().find(|e| {
        e.addresses(cloud)
            .is_some_and(|a| a.required.contains(&addr) || a.retired.contains(&addr))
    })
}

/// The platform service tag that alone filters this flow, if it is platform traffic.
fn platform_tag(policy: &Policy, endpoint: Option<&Endpoint>, addr: IpAddr, protocol: Protocol, port: u16) -> Option<String> {
    policy
        .platform_services
        .iter()
        .find(|s| {
            let by_address = match s.address {
                Some(a) => a == addr,
                None => endpoint.is_some_and(|e| e.title.eq_ignore_ascii_case(&s.title)),
            };
            by_address && s.flows.iter().any(|(p, q)| *p == protocol && *q == port)
        })
        .map(|s| s.tag.clone())
}

/// The next hop address as written, or the firewall the code names there.
fn hop_ip(model: &Model, ns: u32, route: Option<&crate::model::Route>) -> Option<String> {
    let route = route?;
    if let Some(fw) = model.firewall_of(ns, route.next_hop_firewall.as_ref()) {
        return Some(format!("(Azure Firewall {})", crate::rules::display_name(&fw.name, &fw.address)));
    }
    route.next_hop_ip.as_ref().map(|f| match f {
        Field::Known(ip, _) => ip.clone(),
        Field::Unknown(_) => "?".to_string(),
    })
}

enum Outcome {
    Reaches,
    Blocked(String),
    Unknown(String, Vec<Unresolved>),
}

fn trace_flow(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    start: FlowStart,
    empty: &RouteTable,
    (addr, port, protocol, endpoint): (IpAddr, u16, Protocol, Option<&Endpoint>),
) -> FlowTrace {
    let table = start.table;
    let routed = table.unwrap_or(empty);
    let bgp = if opts.assume_bgp_default_route {
        Some(BgpDefault {
            why: "--assume-bgp-default-route says on-premises advertises 0.0.0.0/0".into(),
        })
    } else {
        // Only a gateway whose routes reach this subnet (its own network, or a
        // peering that uses the remote gateway), as KG104 judges it.
        match start.subnet.map(|(si, s)| crate::rules::kg104::reach(model, si, s)) {
            Some(crate::rules::kg104::Reach::Yes(g)) => Some(BgpDefault {
                why: format!("gateway {} {}", crate::rules::display_name(&g.name, &g.address), g.reason),
            }),
            _ => None,
        }
    };
    let (candidates, decision) = explain_routes(routed, addr, bgp.as_ref());
    let routes: Vec<RouteRow> = candidates
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
            let reason = match (c.source, &bgp) {
                (RouteSource::Bgp, Some(b)) => format!("{reason} (learned because {})", b.why),
                _ => reason,
            };
            RouteRow {
                prefix: c.prefix_text.clone(),
                prefix_length: c.prefix.map(|p| p.prefix_len()),
                source: c.source.as_str(),
                next_hop: c.next_hop.map(|h| h.to_string()).or_else(|| c.route.map(|_| "?".to_string())),
                next_hop_ip: if c.next_hop == Some(NextHopType::VirtualAppliance) {
                    hop_ip(model, table.map_or(0, |t| t.namespace), c.route)
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
        .collect();

    let mut flow = FlowTrace {
        destination: addr.to_string(),
        port,
        protocol: protocol.as_str().to_string(),
        endpoint: endpoint.map(|e| e.title.clone()),
        cloud: start.cloud.to_string(),
        route_table: table.map(|t| place(sources, "route_table", &t.name, &t.address, &t.origin)),
        routes,
        next_hop: None,
        firewall: None,
        platform: None,
        nsgs: Vec::new(),
        notes: Vec::new(),
        verdict: "unknown",
        reason: String::new(),
        unknown: Vec::new(),
    };
    if table.is_none() && start.subnet.is_some() {
        flow.notes
            .push("the subnet has no route table in the code: Azure's system routes apply".into());
    }
    let what = endpoint.map(|e| e.title.clone()).unwrap_or_else(|| "the traffic".to_string());

    let routing = match &decision {
        Decision::Unknown(why) => Outcome::Unknown("which route carries the traffic is not known".into(), why.clone()),
        Decision::Known {
            source,
            prefix,
            next_hop,
            route,
        } => {
            flow.next_hop = Some(NextHop {
                hop_type: next_hop.to_string(),
                ip: if *next_hop == NextHopType::VirtualAppliance {
                    hop_ip(model, table.map_or(0, |t| t.namespace), *route)
                } else {
                    None
                },
                source: source.as_str(),
                prefix: prefix.to_string(),
            });
            let firewall = route.and_then(|r| model.firewall_of(table.map_or(0, |t| t.namespace), r.next_hop_firewall.as_ref()));
            match (next_hop, firewall) {
                (NextHopType::Internet, _) => Outcome::Reaches,
                (NextHopType::None, _) => Outcome::Blocked(format!("the {prefix} route's next hop None drops {what}")),
                (NextHopType::VirtualAppliance, Some(fw)) => {
                    let names: Vec<String> = endpoint
                        .and_then(|e| e.addresses(start.cloud))
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
                    flow.firewall = Some(FirewallStep {
                        firewall: place(sources, "firewall", &fw.name, &fw.address, &fw.origin),
                        decision,
                        rule: rule_name,
                        rule_file,
                        rule_line,
                        reason,
                    });
                    outcome
                }
                (hop, _) if endpoint.is_some() => {
                    let via = match (hop, source) {
                        (NextHopType::VirtualNetworkGateway, RouteSource::Bgp) => {
                            "a gateway, by a default route learned over BGP".to_string()
                        }
                        (NextHopType::VirtualNetworkGateway, _) => "a virtual network gateway (on-premises)".to_string(),
                        (NextHopType::VirtualAppliance, _) => {
                            match hop_ip(model, table.map_or(0, |t| t.namespace), *route).filter(|ip| ip != "?") {
                                Some(ip) => format!("the appliance {ip}, which is not an Azure Firewall in the code"),
                                None => "an appliance whose address is not known, so not an Azure Firewall in the code".to_string(),
                            }
                        }
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
            }
        }
    };
    // A private address not covered by a user-defined route: whether the
    // virtual network's own space holds it (VnetLocal) is not in the model.
    let routing = match (&routing, &decision) {
        (Outcome::Blocked(_), Decision::Known { source: RouteSource::System, next_hop: NextHopType::None, .. }) if !is_internet(addr) => {
            Outcome::Unknown(
                format!("{addr} is a private address: Azure routes it to VnetLocal if the virtual network (or a peered one) uses it, else drops it, and kmsguard does not know the address space"),
                Vec::new(),
            )
        }
        _ => routing,
    };

    let finish = |flow: &mut FlowTrace, o: Outcome| match o {
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
    };
    if !matches!(routing, Outcome::Reaches) {
        finish(&mut flow, routing);
        return flow;
    }

    // NSGs: the NIC's, then the subnet's ("How network security groups filter network traffic").
    let tag = platform_tag(policy, endpoint, addr, protocol, port);
    let allowance = !table.is_some_and(has_custom_default_route);
    if let Some(t) = &tag {
        flow.platform = Some(PlatformStep {
            tag: t.clone(),
            applies: allowance,
            reason: if allowance {
                format!("{what} is Azure platform traffic: NSG rules do not apply to it unless they name {t}, and no custom default route turns that off")
            } else {
                format!(
                    "the route table has a custom 0.0.0.0/0 route, which turns the platform rule off (\"For deployments using default route 0.0.0.0/0 configuration, this platform rule is disabled\"): every NSG rule applies to {what}"
                )
            },
            reference: PLATFORM_DOC,
        });
    }
    let mut holders: Vec<(&Nsg, String)> = Vec::new();
    if let Some(n) = start.nic {
        if let Some(nsg) = model.nsg_of(n.namespace, n.nsg.as_ref()) {
            holders.push((
                nsg,
                format!("network interface {}", crate::rules::display_name(&n.name, &n.address)),
            ));
        } else if n.nsg.is_some() {
            flow.notes.push("the network interface names an NSG that is not in the code".into());
        }
    }
    match start.subnet {
        Some((si, s)) => {
            if let Some(nsg) = model.nsg_of(s.namespace, s.nsg.as_ref()) {
                holders.push((nsg, format!("subnet {}", crate::rules::display_name(&s.name, &s.address))));
            } else if s.nsg.is_some() {
                finish(
                    &mut flow,
                    Outcome::Unknown(
                        "the subnet's NSG is not in the code".into(),
                        vec![Unresolved {
                            reason: "the subnet names an NSG kmsguard did not read".into(),
                            origin: s.nsg.as_ref().map(|l| l.origin().clone()).unwrap_or_else(|| s.origin.clone()),
                        }],
                    ),
                );
                return flow;
            }
            if start.nic.is_none() {
                let with_own: Vec<String> = model
                    .nics_in(si)
                    .filter(|n| n.nsg.is_some())
                    .map(|n| crate::rules::display_name(&n.name, &n.address))
                    .collect();
                if !with_own.is_empty() {
                    flow.notes.push(format!(
                        "network interfaces in this subnet with their own NSG, met before the subnet's: {} (trace --from one of them)",
                        with_own.join(", ")
                    ));
                }
            }
        }
        None if start.nic.is_none() => {
            let users: Vec<String> = table
                .map(|t| {
                    let ti = model.route_tables.iter().position(|x| std::ptr::eq(x, t)).unwrap_or(usize::MAX);
                    model
                        .subnets_of(ti)
                        .map(|s| crate::rules::display_name(&s.name, &s.address))
                        .collect()
                })
                .unwrap_or_default();
            let why = if users.is_empty() {
                "no subnet in the code uses this route table, so which NSGs apply is not known".to_string()
            } else {
                format!(
                    "a route table alone does not say which NSGs apply; trace --from one of its subnets: {}",
                    users.join(", ")
                )
            };
            let origin = table
                .map(|t| t.origin.clone())
                .unwrap_or_else(|| Origin::new(FileId(u32::MAX), 0..0));
            finish(
                &mut flow,
                Outcome::Unknown(
                    format!("the routes send {what} to Internet, but {why}"),
                    vec![Unresolved { reason: why, origin }],
                ),
            );
            return flow;
        }
        None => flow
            .notes
            .push("the network interface's subnet is not in the code: only its own NSG is walked".into()),
    }
    // The VirtualNetwork tag includes the prefixes of user-defined routes.
    let in_vnet = routed.routes.iter().any(|r| match &r.address_prefix {
        Field::Known(RoutePrefix::Net(n), _) => n.contains(&addr),
        _ => false,
    });
    let nsg_flow = Flow {
        direction: Direction::Outbound,
        protocol,
        destination: addr,
        port,
        platform_tag: tag.clone(),
        platform_allowance: allowance,
        destination_in_virtual_network: in_vnet,
    };
    let mut outcome = Outcome::Reaches;
    for (nsg, holder) in holders {
        let (steps, verdict) = explain_nsg(nsg, &nsg_flow);
        let rules = steps
            .iter()
            .map(|s| {
                let (file, line) = at(sources, &s.rule.origin);
                let (status, reason) = match &s.status {
                    RuleStatus::Decides => ("decides", "the first rule that matches".to_string()),
                    RuleStatus::NoMatch => ("no-match", "does not match the flow".to_string()),
                    RuleStatus::Unknown(why) if why.is_empty() => ("unknown", "whether it matches is not known".to_string()),
                    RuleStatus::Unknown(why) => ("unknown", why.iter().map(|u| u.reason.clone()).collect::<Vec<_>>().join("; ")),
                    RuleStatus::NotReached => ("not-reached", "an earlier rule decided".to_string()),
                    RuleStatus::PlatformSkipped => (
                        "skipped",
                        format!("platform traffic meets only rules naming {}", tag.as_deref().unwrap_or("its tag")),
                    ),
                };
                NsgRuleRow {
                    priority: s.rule.priority.known().copied(),
                    name: s.rule.name.known().cloned().unwrap_or_else(|| "(unnamed)".into()),
                    access: s.rule.access.known().map(|a| match a {
                        Access::Allow => "Allow",
                        Access::Deny => "Deny",
                    }),
                    status,
                    reason,
                    file,
                    line,
                }
            })
            .collect();
        let decided_by = |d: &Decider| match d {
            Decider::Rule(r) => format!(
                "rule {}{}",
                r.name.known().cloned().unwrap_or_else(|| "(unnamed)".into()),
                r.priority.known().map(|p| format!(" (priority {p})")).unwrap_or_default()
            ),
            Decider::Default(d) => format!("default rule {d}"),
            Decider::Platform => format!("Azure's platform rule (no rule names {})", tag.as_deref().unwrap_or("the tag")),
        };
        let nsg_name = crate::rules::display_name(&nsg.name, &nsg.address);
        let (decision, by) = match &verdict {
            Verdict::Allow(d) => ("allow", decided_by(d)),
            Verdict::Deny(d) => {
                let by = decided_by(d);
                if matches!(outcome, Outcome::Reaches) {
                    outcome = Outcome::Blocked(format!("NSG {nsg_name} of {holder} denies it: {by}"));
                }
                ("deny", by)
            }
            Verdict::Unknown(why) => {
                if matches!(outcome, Outcome::Reaches) {
                    outcome = Outcome::Unknown(format!("what NSG {nsg_name} of {holder} decides is not known"), why.clone());
                }
                ("unknown", String::new())
            }
        };
        flow.nsgs.push(NsgStep {
            holder,
            nsg: place(sources, "nsg", &nsg.name, &nsg.address, &nsg.origin),
            rules,
            decision,
            decided_by: by,
        });
    }
    finish(&mut flow, outcome);
    if flow.verdict == "reaches" {
        flow.reason = match (&flow.firewall, &flow.platform) {
            (Some(fw), _) => format!("through Azure Firewall {}, which allows it", fw.firewall.name),
            (None, Some(p)) if p.applies => format!(
                "next hop Internet; NSGs let it out (platform traffic: only rules naming {} apply)",
                p.tag
            ),
            _ => "next hop Internet, and every NSG on the way allows it".to_string(),
        };
    }
    flow
}

fn win_reason(source: RouteSource, prefix: Option<ipnet::IpNet>) -> String {
    let len = prefix.map(|p| format!("/{}", p.prefix_len())).unwrap_or_default();
    match source {
        RouteSource::Bgp => format!("longest matching prefix ({len}), and BGP beats a system route of equal length"),
        RouteSource::User | RouteSource::System => format!("longest matching prefix ({len})"),
    }
}

/// Exit code of a trace: 1 when a flow is blocked, else 0.
pub fn exit_code(r: &TraceReport) -> u8 {
    u8::from(r.flows.iter().any(|f| f.verdict == "blocked"))
}

pub fn render_json(r: &TraceReport) -> String {
    serde_json::to_string_pretty(r).map(|s| s + "\n").unwrap_or_default()
}

fn loc(file: &Option<String>, line: Option<usize>) -> String {
    match (file, line) {
        (Some(f), Some(l)) if !f.is_empty() => format!("{f}:{l}"),
        _ => String::new(),
    }
}

fn pad(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::from("    ");
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                let w = widths.get(c).copied().unwrap_or(0);
                line.push_str(&" ".repeat(w.saturating_sub(cell.chars().count()) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// A readable report: a table of routes and of NSG rules per flow. Every
/// name, path and message from the code goes through [`log_text`].
pub fn render_human(r: &TraceReport) -> String {
    let e = |s: &str| log_text(s);
    let mut out = format!(
        "trace from {} {} ({}:{})\n",
        r.from.kind.replace('_', " "),
        e(&r.from.name),
        e(&r.from.file),
        r.from.line
    );
    for f in &r.flows {
        out.push_str(&format!(
            "\nto {}:{}/{}{} [{} cloud]\n",
            f.destination,
            f.port,
            f.protocol,
            f.endpoint.as_ref().map(|t| format!(" ({})", e(t))).unwrap_or_default(),
            e(&f.cloud)
        ));
        out.push_str(&match &f.route_table {
            Some(t) => format!("  routes (route table {}, {}:{}):\n", e(&t.name), e(&t.file), t.line),
            None => "  routes (no route table: system routes):\n".to_string(),
        });
        let mut rows = vec![vec![
            "PREFIX".to_string(),
            "SOURCE".into(),
            "NEXT HOP".into(),
            "ROUTE".into(),
            "RESULT".into(),
        ]];
        for row in &f.routes {
            let hop = match (&row.next_hop, &row.next_hop_ip) {
                (Some(h), Some(ip)) => format!("{} {}", e(h), e(ip)),
                (Some(h), None) => e(h),
                (None, _) => "?".into(),
            };
            let name = match (&row.name, loc(&row.file, row.line)) {
                (Some(n), l) if !l.is_empty() => format!("{} ({})", e(n), e(&l)),
                (Some(n), _) => e(n),
                (None, _) => "-".into(),
            };
            rows.push(vec![
                e(&row.prefix),
                row.source.to_string(),
                hop,
                name,
                format!("{}: {}", row.status, e(&row.reason)),
            ]);
        }
        out.push_str(&pad(&rows));
        if let Some(h) = &f.next_hop {
            out.push_str(&format!(
                "  next hop: {}{} ({} route {})\n",
                e(&h.hop_type),
                h.ip.as_ref().map(|ip| format!(" {}", e(ip))).unwrap_or_default(),
                h.source,
                e(&h.prefix)
            ));
        }
        if let Some(fw) = &f.firewall {
            out.push_str(&format!(
                "  firewall {} ({}:{}): {}: {}\n",
                e(&fw.firewall.name),
                e(&fw.firewall.file),
                fw.firewall.line,
                fw.decision,
                e(&fw.reason)
            ));
            if let Some(l) = Some(loc(&fw.rule_file, fw.rule_line)).filter(|l| !l.is_empty()) {
                out.push_str(&format!("    rule at {}\n", e(&l)));
            }
        }
        if let Some(p) = &f.platform {
            out.push_str(&format!(
                "  platform rule for {}: {}: {} ({})\n",
                e(&p.tag),
                if p.applies { "on" } else { "off" },
                e(&p.reason),
                p.reference
            ));
        }
        for n in &f.nsgs {
            out.push_str(&format!(
                "  NSG {} of {} ({}:{}): {}{}\n",
                e(&n.nsg.name),
                e(&n.holder),
                e(&n.nsg.file),
                n.nsg.line,
                n.decision,
                if n.decided_by.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", e(&n.decided_by))
                }
            ));
            if !n.rules.is_empty() {
                let mut rows = vec![vec!["PRIORITY".to_string(), "RULE".into(), "ACCESS".into(), "RESULT".into()]];
                for r in &n.rules {
                    rows.push(vec![
                        r.priority.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                        format!("{} ({}:{})", e(&r.name), e(&r.file), r.line),
                        r.access.unwrap_or("?").to_string(),
                        format!("{}: {}", r.status, e(&r.reason)),
                    ]);
                }
                out.push_str(&pad(&rows));
            }
        }
        for n in &f.notes {
            out.push_str(&format!("  note: {}\n", e(n)));
        }
        out.push_str(&format!(
            "  verdict: {}{}\n",
            f.verdict.to_uppercase(),
            if f.reason.is_empty() {
                String::new()
            } else {
                format!(": {}", e(&f.reason))
            }
        ));
        for u in &f.unknown {
            let l = loc(&Some(u.file.clone()), Some(u.line));
            out.push_str(&format!(
                "    unknown: {}{}\n",
                e(&u.reason),
                if l.is_empty() { String::new() } else { format!(" ({})", e(&l)) }
            ));
        }
    }
    out
}

/// Markdown for a step summary or a pull-request comment: names in code
/// spans, messages escaped.
pub fn render_markdown(r: &TraceReport) -> String {
    let t = |s: &str| markdown_text(s);
    let c = |s: &str| markdown_code(s);
    let mut out = format!(
        "### kmsguard trace from {} {} ({}:{})\n",
        r.from.kind.replace('_', " "),
        c(&r.from.name),
        c(&r.from.file),
        r.from.line
    );
    for f in &r.flows {
        out.push_str(&format!(
            "\n#### {} {}:{}/{}{}: **{}**\n\n",
            match f.verdict {
                "reaches" => "✅",
                "blocked" => "❌",
                _ => "❔",
            },
            f.destination,
            f.port,
            f.protocol,
            f.endpoint.as_ref().map(|x| format!(" ({})", t(x))).unwrap_or_default(),
            f.verdict
        ));
        if !f.reason.is_empty() {
            out.push_str(&format!("{}\n\n", t(&f.reason)));
        }
        out.push_str("| prefix | source | next hop | route | result |\n|---|---|---|---|---|\n");
        for row in &f.routes {
            out.push_str(&format!(
                "| {} | {} | {}{} | {} | {}: {} |\n",
                c(&row.prefix),
                row.source,
                t(row.next_hop.as_deref().unwrap_or("?")),
                row.next_hop_ip.as_ref().map(|ip| format!(" {}", c(ip))).unwrap_or_default(),
                row.name.as_ref().map(|n| c(n)).unwrap_or_else(|| "-".into()),
                row.status,
                t(&row.reason)
            ));
        }
        if let Some(fw) = &f.firewall {
            out.push_str(&format!(
                "\nFirewall {}: **{}**: {}\n",
                c(&fw.firewall.name),
                fw.decision,
                t(&fw.reason)
            ));
        }
        if let Some(p) = &f.platform {
            out.push_str(&format!(
                "\nPlatform rule for {}: **{}**: {} ({})\n",
                c(&p.tag),
                if p.applies { "on" } else { "off" },
                t(&p.reason),
                t(p.reference)
            ));
        }
        for n in &f.nsgs {
            out.push_str(&format!(
                "\nNSG {} of {}: **{}**{}\n\n| priority | rule | access | result |\n|---|---|---|---|\n",
                c(&n.nsg.name),
                t(&n.holder),
                n.decision,
                if n.decided_by.is_empty() {
                    String::new()
                } else {
                    format!(" by {}", t(&n.decided_by))
                }
            ));
            for r in &n.rules {
                out.push_str(&format!(
                    "| {} | {} | {} | {}: {} |\n",
                    r.priority.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                    c(&r.name),
                    r.access.unwrap_or("?"),
                    r.status,
                    t(&r.reason)
                ));
            }
        }
        for n in &f.notes {
            out.push_str(&format!("\nNote: {}\n", t(n)));
        }
        for u in &f.unknown {
            out.push_str(&format!("\n- unknown: {} ({}:{})\n", t(&u.reason), c(&u.file), u.line));
        }
    }
    out
}

/// `kmsguard trace`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct TraceArgs {
    /// The subnet, network interface or route table the traffic starts from: its name or resource address.
    #[arg(long, value_name = "SUBNET")]
    pub from: String,
    /// `kms` (every KMS address of the cloud), or ADDRESS[:PORT[/PROTO]].
    #[arg(long, value_name = "DESTINATION")]
    pub to: String,
    /// Output format: human, json or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "human", value_parser = ["human", "json", "markdown"])]
    pub format: String,
    #[command(flatten)]
    pub model: crate::load::ModelArgs,
}

/// Runs `kmsguard trace`: the text to print and the exit code (0 every
/// flow reaches or is unknown, 1 one is blocked), or why the run failed.
pub fn run(args: &TraceArgs) -> Result<(String, u8), String> {
    let loaded = crate::load::load(&args.model, Vec::new())?;
    if let Some(e) = loaded.outcome.errors.first() {
        let (file, lc) = crate::report::error_location(&loaded.outcome.sources, e);
        let at = lc.map(|lc| format!(":{}:{}", lc.line, lc.column)).unwrap_or_default();
        return Err(format!("could not read {file}{at}: {}", e.message()));
    }
    let to = Destination::parse(&args.to, &loaded.policy)?;
    let opts = TraceOptions {
        cloud: loaded.opts.cloud.clone(),
        assume_bgp_default_route: loaded.opts.assume_bgp_default_route,
        named_files: args.model.paths.iter().filter(|p| p.is_file()).map(|p| display_path(p)).collect(),
    };
    let report = trace(
        &loaded.outcome.model,
        &loaded.policy,
        &loaded.outcome.sources,
        &opts,
        &args.from,
        &to,
    )?;
    let text = match args.format.as_str() {
        "json" => render_json(&report),
        "markdown" => render_markdown(&report),
        _ => render_human(&report),
    };
    Ok((text, exit_code(&report)))
}
