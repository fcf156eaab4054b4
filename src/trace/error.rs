//! Why a trace cannot run: what could not be loaded, a `--from` that names
//! no single resource, a `--to` that cannot be read, or a destination the
//! policy pack does not describe. The text is what the user sees.

use std::net::IpAddr;

use crate::load::LoadError;

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    From(#[from] StartError),
    #[error(transparent)]
    To(#[from] DestinationError),
    #[error("no endpoint {0} in the policy pack")]
    NoEndpoint(String),
    #[error("the policy pack lists no {title} addresses for the {cloud} cloud")]
    NoAddresses { title: String, cloud: String },
    #[error("--to {0}: say which port, as {0}:PORT or {0}:PORT/udp")]
    NoPort(IpAddr),
    #[error("no such subnet")]
    NoSuchSubnet,
}

/// A `--from` that names no single subnet, network interface or route table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error(
        "--from {0}: kmsguard does not record subnet address prefixes yet; name the subnet, its resource address, a network interface or a route table"
    )]
    Prefix(String),
    /// `known`: the subnets and network interfaces the code names, sorted.
    #[error("--from {from} matches no subnet, network interface or route table in the code; {}", hint(.known))]
    NoMatch { from: String, known: Vec<String> },
    /// `matches`: each resource it matches, as `kind address (file:line)`.
    #[error("--from {from} matches {} resources: {}; name one by its resource address", .matches.len(), .matches.join(", "))]
    Ambiguous { from: String, matches: Vec<String> },
}

fn hint(known: &[String]) -> String {
    if known.is_empty() {
        "the code declares no subnet or network interface; name a route table".to_string()
    } else {
        format!("known subnets and network interfaces: {}", known.join(", "))
    }
}

/// A `--to` that is neither an endpoint of the pack nor `ADDRESS[:PORT[/PROTO]]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DestinationError {
    #[error("cannot read --to {0}: a '[' without its ']'")]
    UnclosedBracket(String),
    /// `endpoints`: the ids of the pack's endpoints, which `--to` also takes.
    #[error("cannot read --to {to}: expected {} or ADDRESS[:PORT[/PROTO]]", .endpoints.join(", "))]
    NotAnAddress { to: String, endpoints: Vec<String> },
    #[error("cannot read --to {to}: {port} is not a port")]
    NotAPort { to: String, port: String },
    #[error("cannot read --to {0}: the protocol is tcp or udp")]
    Protocol(String),
}
