//! Where a trace starts (`--from`) and the flows it follows (`--to`).

use std::net::IpAddr;

use crate::model::{Authoring, Dialect, Field, Model, NetworkInterface, Protocol, RouteStyle, RouteTable, Subnet};
use crate::policy::{Endpoint, Policy};
use crate::source::{FileId, Origin, SourceMap};

use super::flow::{trace_flow, Target};
use super::{place, Destination, Place, StartError, Tool, TraceError, TraceOptions, TraceReport};

/// The resource a trace starts from.
pub(super) enum Start<'a> {
    Subnet(usize, &'a Subnet),
    Nic(&'a NetworkInterface, Option<(usize, &'a Subnet)>),
    Table(&'a RouteTable),
}

fn matches_name(name: &Field<String>, address: &str, wanted: &str) -> bool {
    address == wanted || name.known().is_some_and(|n| n.eq_ignore_ascii_case(wanted))
}

/// Finds `--from`: a subnet, a NIC or a route table, by resource address or name.
pub(super) fn find_start<'a>(model: &'a Model, sources: &SourceMap, from: &str, named: &[String]) -> Result<Start<'a>, StartError> {
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
        0 if crate::model::parse_prefix(from).is_some() => Err(StartError::Prefix(from.to_string())),
        0 => {
            let mut known: Vec<String> = model
                .subnets
                .iter()
                .map(|s| crate::rules::display_name(&s.name, &s.address))
                .chain(model.nics.iter().map(|n| crate::rules::display_name(&n.name, &n.address)))
                .collect();
            known.sort();
            known.dedup();
            Err(StartError::NoMatch {
                from: from.to_string(),
                known,
            })
        }
        _ => {
            let matches: Vec<String> = found
                .iter()
                .map(|(_, p)| format!("{} {} ({}:{})", p.kind.replace('_', " "), p.resource, p.file, p.line))
                .collect();
            Err(StartError::Ambiguous {
                from: from.to_string(),
                matches,
            })
        }
    }
}

pub(super) fn trace_start(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    start: Start,
    to: &Destination,
) -> Result<TraceReport, TraceError> {
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
                .ok_or_else(|| TraceError::NoEndpoint(id.clone()))?;
            let addrs = e.addresses(&cloud).ok_or_else(|| TraceError::NoAddresses {
                title: e.title.clone(),
                cloud: cloud.clone(),
            })?;
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
            (None, None) => return Err(TraceError::NoPort(addr)),
        };
        let protocol = protocol.or(endpoint.map(|e| e.protocol)).unwrap_or(Protocol::Tcp);
        let target = Target {
            addr,
            port,
            protocol,
            endpoint,
        };
        let start = FlowStart {
            table,
            subnet,
            nic,
            cloud: &cloud,
        };
        out.push(trace_flow(model, policy, sources, opts, start, &empty, &target));
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

/// Where a flow starts: the route table that routes it, and the subnet
/// and NIC whose NSGs it meets.
pub(super) struct FlowStart<'a> {
    pub table: Option<&'a RouteTable>,
    pub subnet: Option<(usize, &'a Subnet)>,
    pub nic: Option<&'a NetworkInterface>,
    pub cloud: &'a str,
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
