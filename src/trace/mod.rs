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

use crate::model::{Field, Model, Protocol, RouteTable, Unresolved};
use crate::policy::Policy;
use crate::source::{display_path, Origin, SourceMap};

mod error;
mod flow;
mod nsg;
mod render;
mod start;

pub use error::{DestinationError, StartError, TraceError};
pub use render::{render_human, render_json, render_markdown};
use start::{find_start, trace_start, Start};

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
    pub fn parse(s: &str, policy: &Policy) -> Result<Destination, DestinationError> {
        let s = s.trim();
        if let Some(e) = policy.endpoints.iter().find(|e| e.id.eq_ignore_ascii_case(s)) {
            return Ok(Destination::Endpoint(e.id.clone()));
        }
        let (host, rest) = if let Some(v6) = s.strip_prefix('[') {
            match v6.split_once(']') {
                Some((h, r)) => (h, r.strip_prefix(':')),
                None => return Err(DestinationError::UnclosedBracket(s.to_string())),
            }
        } else if s.matches(':').count() > 1 {
            (s, None)
        } else {
            match s.split_once(':') {
                Some((h, r)) => (h, Some(r)),
                None => (s, None),
            }
        };
        let addr: IpAddr = host.parse().map_err(|_| DestinationError::NotAnAddress {
            to: s.to_string(),
            endpoints: policy.endpoints.iter().map(|e| e.id.clone()).collect(),
        })?;
        let (port, protocol) = match rest {
            None => (None, None),
            Some(r) => {
                let (p, proto) = match r.split_once('/') {
                    Some((p, proto)) => (p, Some(proto)),
                    None => (r, None),
                };
                let port: u16 = p.parse().map_err(|_| DestinationError::NotAPort {
                    to: s.to_string(),
                    port: p.to_string(),
                })?;
                let protocol = match proto {
                    None => None,
                    Some(x) => match Protocol::parse(x) {
                        Some(Protocol::Tcp) => Some(Protocol::Tcp),
                        Some(Protocol::Udp) => Some(Protocol::Udp),
                        _ => return Err(DestinationError::Protocol(s.to_string())),
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

impl TraceOptions {
    /// Flows judged as `check` judged the code: its cloud and BGP assumption.
    pub fn of_check(opts: &crate::CheckOptions) -> TraceOptions {
        TraceOptions {
            cloud: opts.cloud.clone(),
            assume_bgp_default_route: opts.assume_bgp_default_route,
            named_files: Vec::new(),
        }
    }
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

/// Traces the flows from `from` to `to` through `model`.
pub fn trace(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    opts: &TraceOptions,
    from: &str,
    to: &Destination,
) -> Result<TraceReport, TraceError> {
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
) -> Result<TraceReport, TraceError> {
    let s = model.subnets.get(subnet).ok_or(TraceError::NoSuchSubnet)?;
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
) -> Result<TraceReport, TraceError> {
    trace_start(model, policy, sources, opts, Start::Table(table), to)
}

/// Exit code of a trace: 1 when a flow is blocked, else 0.
pub fn exit_code(r: &TraceReport) -> u8 {
    u8::from(r.flows.iter().any(|f| f.verdict == "blocked"))
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
pub fn run(args: &TraceArgs) -> Result<(String, u8), TraceError> {
    let loaded = crate::load::load(&args.model, Vec::new())?.complete()?;
    let to = Destination::parse(&args.to, &loaded.policy)?;
    let opts = TraceOptions {
        named_files: args.model.paths.iter().filter(|p| p.is_file()).map(|p| display_path(p)).collect(),
        ..TraceOptions::of_check(&loaded.opts)
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
