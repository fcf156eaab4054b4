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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::trace::Destination;

    #[test]
    fn a_bad_to_is_a_typed_error_with_the_text_users_see() {
        let p = Policy::embedded().expect("embedded pack");
        let cases = [
            (
                "[::1",
                DestinationError::UnclosedBracket("[::1".into()),
                "cannot read --to [::1: a '[' without its ']'",
            ),
            (
                "1.2.3.4:abc",
                DestinationError::NotAPort {
                    to: "1.2.3.4:abc".into(),
                    port: "abc".into(),
                },
                "cannot read --to 1.2.3.4:abc: abc is not a port",
            ),
            (
                "1.2.3.4:53/icmp",
                DestinationError::Protocol("1.2.3.4:53/icmp".into()),
                "cannot read --to 1.2.3.4:53/icmp: the protocol is tcp or udp",
            ),
        ];
        for (to, want, text) in cases {
            let e = Destination::parse(to, &p).expect_err(to);
            assert_eq!(e, want);
            assert_eq!(e.to_string(), text);
        }
        let e = Destination::parse("dns", &p).expect_err("dns is no endpoint of the pack");
        assert!(matches!(&e, DestinationError::NotAnAddress { endpoints, .. } if endpoints.contains(&"kms".to_string())));
        assert!(e.to_string().ends_with(" or ADDRESS[:PORT[/PROTO]]"), "{e}");
    }

    #[test]
    fn a_from_that_names_nothing_lists_what_the_code_has() {
        let none = StartError::NoMatch {
            from: "x".into(),
            known: Vec::new(),
        };
        assert_eq!(
            none.to_string(),
            "--from x matches no subnet, network interface or route table in the code; the code declares no subnet or network interface; name a route table"
        );
        let two = StartError::Ambiguous {
            from: "rt".into(),
            matches: vec!["route table a (m.tf:1)".into(), "route table b (n.tf:2)".into()],
        };
        assert_eq!(
            two.to_string(),
            "--from rt matches 2 resources: route table a (m.tf:1), route table b (n.tf:2); name one by its resource address"
        );
    }
}
