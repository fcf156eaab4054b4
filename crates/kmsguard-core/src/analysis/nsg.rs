//! NSG evaluation: what a network security group decides for a flow, and
//! which rules deny Azure platform traffic.
//!
//! "How network security groups filter network traffic" (Microsoft docs):
//! rules are processed in priority order, lowest number first, and the first
//! rule that matches decides; after the custom rules come the default rules
//! (AllowVnetOutBound 65000, AllowInternetOutBound 65001, DenyAllOutBound 65500
//! and the inbound trio).
//!
//! Platform traffic — KMS, Azure DNS (168.63.129.16), IMDS (169.254.169.254) —
//! "isn't subject to the configured network security groups unless targeted by
//! service tags specific to each service" (Azure platform considerations): only
//! a rule that names `AzurePlatformLKM`, `AzurePlatformDNS` or
//! `AzurePlatformIMDS` meets it, and a deny on `Internet` or `*` does not.

use std::net::IpAddr;

use super::Tri;
use crate::model::{Access, AddressMatch, Direction, Field, Nsg, PortRange, Protocol, SecurityRule, Unresolved};

/// One packet's worth of traffic, as an NSG sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub direction: Direction,
    pub protocol: Protocol,
    pub destination: IpAddr,
    pub port: u16,
    /// Set for Azure platform traffic: the service tag that alone can filter it.
    pub platform_tag: Option<String>,
    /// Whether the platform allowance is on. Under a custom default route it is off
    /// ("For deployments using default route 0.0.0.0/0 configuration, this platform
    /// rule is disabled"), and platform traffic meets every rule like any other.
    pub platform_allowance: bool,
    /// Whether the destination is inside the `VirtualNetwork` service tag, which
    /// includes the prefixes of user-defined routes.
    pub destination_in_virtual_network: bool,
}

/// Who decided a verdict.
#[derive(Debug, Clone, PartialEq)]
pub enum Decider<'a> {
    Rule(&'a SecurityRule),
    Default(&'static str),
    /// The platform allowance let the traffic through without meeting a rule.
    Platform,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict<'a> {
    Allow(Decider<'a>),
    Deny(Decider<'a>),
    Unknown(Vec<Unresolved>),
}

/// Rules in processing order: known priorities ascending, then rules whose
/// priority is unknown (which make any verdict they might change unknown).
fn ordered(nsg: &Nsg) -> (Vec<(u32, &SecurityRule)>, Vec<&SecurityRule>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for r in &nsg.rules {
        match r.priority {
            Field::Known(p, _) => known.push((p, r)),
            Field::Unknown(_) => unknown.push(r),
        }
    }
    known.sort_by_key(|(p, _)| *p);
    (known, unknown)
}

/// What an NSG decides for `flow`.
pub fn evaluate<'a>(nsg: &'a Nsg, flow: &Flow) -> Verdict<'a> {
    let (known, unknown_priority) = ordered(nsg);
    let platform_only = platform_only(flow);
    let applies = |r: &SecurityRule| applies(r, flow);

    let mut blockers: Vec<Unresolved> = Vec::new();
    for r in &unknown_priority {
        match applies(r) {
            Tri::No => {}
            Tri::Yes | Tri::Unknown(_) => blockers.push(r.priority.unresolved().cloned().unwrap_or_else(|| unreachable_reason(r))),
        }
    }
    if !nsg.incomplete.is_empty() {
        blockers.extend(nsg.incomplete.iter().cloned());
    }

    // Walk the rules; an undecided match makes the verdict depend on it unless
    // every outcome it could lead to is the same.
    let mut pending: Vec<(Access, Vec<Unresolved>)> = Vec::new();
    let mut decided: Option<Verdict<'a>> = None;
    for (_, r) in &known {
        match applies(r) {
            Tri::No => continue,
            Tri::Yes => match &r.access {
                Field::Known(a, _) => {
                    decided = Some(verdict(*a, Decider::Rule(r)));
                    break;
                }
                Field::Unknown(u) => {
                    blockers.push((**u).clone());
                    break;
                }
            },
            Tri::Unknown(why) => match &r.access {
                Field::Known(a, _) => pending.push((*a, why)),
                Field::Unknown(u) => {
                    blockers.push((**u).clone());
                    blockers.extend(why);
                    break;
                }
            },
        }
    }
    let decided = decided.unwrap_or_else(|| default_verdict(flow, platform_only));

    if !blockers.is_empty() {
        return Verdict::Unknown(blockers);
    }
    let outcome = match &decided {
        Verdict::Allow(_) => Access::Allow,
        Verdict::Deny(_) => Access::Deny,
        Verdict::Unknown(_) => return decided,
    };
    let disagreeing: Vec<Unresolved> = pending
        .into_iter()
        .filter(|(a, _)| *a != outcome)
        .flat_map(|(_, why)| why)
        .collect();
    if disagreeing.is_empty() {
        decided
    } else {
        Verdict::Unknown(disagreeing)
    }
}

/// Whether only rules naming the flow's platform tag meet it.
fn platform_only(flow: &Flow) -> bool {
    flow.platform_allowance && flow.platform_tag.is_some()
}

/// Whether a rule meets and matches a flow: platform traffic under the
/// platform allowance meets only rules that name its service tag.
fn applies(r: &SecurityRule, flow: &Flow) -> Tri {
    if platform_only(flow) {
        names_tag(r, flow.platform_tag.as_deref().unwrap_or_default()).and(matches(r, flow))
    } else {
        matches(r, flow)
    }
}

/// What became of one rule when a flow met an NSG.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleStatus {
    /// The first rule that matches: it decides.
    Decides,
    NoMatch,
    /// It may match; these values decide whether.
    Unknown(Vec<Unresolved>),
    /// A rule before it decided.
    NotReached,
    /// Platform traffic under the platform allowance meets only rules naming its tag.
    PlatformSkipped,
}

/// One rule in processing order, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleStep<'a> {
    pub rule: &'a SecurityRule,
    pub status: RuleStatus,
}

/// The rules an NSG walked for a flow, in processing order (rules whose
/// priority is unknown last), and the verdict [`evaluate`] reaches.
pub fn explain<'a>(nsg: &'a Nsg, flow: &Flow) -> (Vec<RuleStep<'a>>, Verdict<'a>) {
    let verdict = evaluate(nsg, flow);
    let decider = match &verdict {
        Verdict::Allow(Decider::Rule(r)) | Verdict::Deny(Decider::Rule(r)) => Some(*r),
        _ => None,
    };
    let (known, unknown_priority) = ordered(nsg);
    let mut steps = Vec::new();
    let mut decided = false;
    for r in known.into_iter().map(|(_, r)| r).chain(unknown_priority) {
        let status = if decided {
            RuleStatus::NotReached
        } else if platform_only(flow) && names_tag(r, flow.platform_tag.as_deref().unwrap_or_default()) == Tri::No {
            RuleStatus::PlatformSkipped
        } else if decider.is_some_and(|d| std::ptr::eq(d, r)) {
            decided = true;
            RuleStatus::Decides
        } else {
            match applies(r, flow) {
                Tri::No => RuleStatus::NoMatch,
                Tri::Yes => {
                    let mut why: Vec<Unresolved> = r.access.unresolved().cloned().into_iter().collect();
                    why.extend(r.priority.unresolved().cloned());
                    RuleStatus::Unknown(why)
                }
                Tri::Unknown(why) => RuleStatus::Unknown(why),
            }
        };
        steps.push(RuleStep { rule: r, status });
    }
    (steps, verdict)
}

fn unreachable_reason(r: &SecurityRule) -> Unresolved {
    Unresolved {
        reason: "the rule's priority is unknown".into(),
        origin: r.origin.clone(),
    }
}

fn verdict(access: Access, by: Decider<'_>) -> Verdict<'_> {
    match access {
        Access::Allow => Verdict::Allow(by),
        Access::Deny => Verdict::Deny(by),
    }
}

/// The default rules, for traffic no custom rule decided.
fn default_verdict<'a>(flow: &Flow, platform_only: bool) -> Verdict<'a> {
    if platform_only {
        return Verdict::Allow(Decider::Platform);
    }
    match flow.direction {
        Direction::Outbound => {
            if flow.destination_in_virtual_network {
                Verdict::Allow(Decider::Default("AllowVnetOutBound"))
            } else if is_internet(flow.destination) {
                Verdict::Allow(Decider::Default("AllowInternetOutBound"))
            } else {
                Verdict::Deny(Decider::Default("DenyAllOutBound"))
            }
        }
        Direction::Inbound => {
            if flow.destination_in_virtual_network {
                Verdict::Allow(Decider::Default("AllowVnetInBound"))
            } else {
                Verdict::Deny(Decider::Default("DenyAllInBound"))
            }
        }
    }
}

/// Whether a rule matches a flow on direction, protocol, port and destination.
/// Sources are taken to be the VMs behind the NSG: `*` and `VirtualNetwork` match
/// them; narrower sources make the answer unknown.
pub fn matches(r: &SecurityRule, flow: &Flow) -> Tri {
    field_is(&r.direction, |d| *d == flow.direction)
        .and(field_is(&r.protocol, |p| protocol_covers(*p, flow.protocol)))
        .and(Tri::any(r.destination_ports.iter().map(|p| field_is(p, |p| p.contains(flow.port)))))
        .and(Tri::any(r.destinations.iter().map(|d| destination_matches(d, flow))))
        .and(Tri::any(r.sources.iter().map(|s| match s {
            Field::Known(AddressMatch::Any, _) => Tri::Yes,
            Field::Known(AddressMatch::ServiceTag(t), _) if t.eq_ignore_ascii_case("VirtualNetwork") => Tri::Yes,
            Field::Known(_, origin) => Tri::Unknown(vec![Unresolved {
                reason: "the rule's source may or may not include the VMs behind the NSG".into(),
                origin: origin.clone(),
            }]),
            Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
        })))
}

fn destination_matches(d: &Field<AddressMatch>, flow: &Flow) -> Tri {
    match d {
        Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
        Field::Known(m, origin) => match m {
            AddressMatch::Any => Tri::Yes,
            AddressMatch::Prefix(net) => Tri::from_bool(net.contains(&flow.destination)),
            AddressMatch::ServiceTag(tag) => {
                if flow.platform_tag.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(tag)) {
                    Tri::Yes
                } else if tag.eq_ignore_ascii_case("Internet") {
                    Tri::from_bool(is_internet(flow.destination))
                } else if tag.eq_ignore_ascii_case("VirtualNetwork") {
                    Tri::from_bool(flow.destination_in_virtual_network)
                } else if tag.to_ascii_lowercase().starts_with("azureplatform") {
                    // Another platform tag: it covers only its own service's address.
                    Tri::No
                } else {
                    Tri::Unknown(vec![Unresolved {
                        reason: format!("kmsguard does not know which addresses the service tag {tag} covers"),
                        origin: origin.clone(),
                    }])
                }
            }
            AddressMatch::ApplicationSecurityGroup(_) => Tri::No,
        },
    }
}

pub(crate) fn field_is<T>(f: &Field<T>, pred: impl Fn(&T) -> bool) -> Tri {
    match f {
        Field::Known(v, _) => Tri::from_bool(pred(v)),
        Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
    }
}

/// Whether a rule's protocol covers a flow's protocol.
pub fn protocol_covers(rule: Protocol, flow: Protocol) -> bool {
    rule == Protocol::Any || rule == flow
}

/// The public internet as the `Internet` service tag sees it: not private,
/// shared, loopback, link-local or otherwise reserved.
pub fn is_internet(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            !(a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_unspecified()
                || a.is_broadcast()
                || a.is_multicast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] >= 240
                || o[0] == 0)
        }
        IpAddr::V6(a) => {
            !(a.is_loopback()
                || a.is_unspecified()
                || a.is_multicast()
                || (a.segments()[0] & 0xfe00) == 0xfc00
                || (a.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// Whether a rule names `tag` among its destinations.
pub fn names_tag(r: &SecurityRule, tag: &str) -> Tri {
    Tri::any(r.destinations.iter().map(|d| match d {
        Field::Known(m, _) => Tri::from_bool(m.is_tag(tag)),
        Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
    }))
}

/// An outbound deny on a platform service tag that takes effect.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformDeny<'a> {
    pub rule: &'a SecurityRule,
    /// The service's flows the rule blocks (e.g. UDP 53 only).
    pub flows: Vec<(Protocol, u16)>,
}

/// What kmsguard can say about one rule against one platform service.
#[derive(Debug, Clone, PartialEq)]
pub enum PlatformRuleVerdict<'a> {
    Denies(PlatformDeny<'a>),
    /// The rule might deny the service; these values decide it.
    Undecided(&'a SecurityRule, Vec<Unresolved>),
}

/// Outbound rules that deny `tag` for one of `flows`, and are not shadowed by
/// an earlier allow that also names the tag and covers the same traffic.
///
/// Only rules naming the tag meet platform traffic, so an earlier allow on `*`
/// does not shadow a deny on the tag.
pub fn platform_denies<'a>(nsg: &'a Nsg, tag: &str, flows: &[(Protocol, u16)]) -> Vec<PlatformRuleVerdict<'a>> {
    let mut out = Vec::new();
    for r in &nsg.rules {
        let base = names_tag(r, tag)
            .and(field_is(&r.direction, |d| *d == Direction::Outbound))
            .and(field_is(&r.access, |a| *a == Access::Deny));
        if base == Tri::No {
            continue;
        }
        let mut blocked = Vec::new();
        let mut undecided: Vec<Unresolved> = Vec::new();
        if let Tri::Unknown(why) = base.clone() {
            undecided.extend(why);
        }
        for &(proto, port) in flows {
            let covers = field_is(&r.protocol, |p| protocol_covers(*p, proto))
                .and(Tri::any(r.destination_ports.iter().map(|p| field_is(p, |p| p.contains(port)))));
            match covers {
                Tri::No => continue,
                Tri::Unknown(why) => {
                    undecided.extend(why);
                    continue;
                }
                Tri::Yes => {}
            }
            match shadowed(nsg, r, tag, proto, port) {
                Tri::Yes => {}
                Tri::No => blocked.push((proto, port)),
                Tri::Unknown(why) => undecided.extend(why),
            }
        }
        if base == Tri::Yes && !blocked.is_empty() {
            out.push(PlatformRuleVerdict::Denies(PlatformDeny { rule: r, flows: blocked }));
        } else if !undecided.is_empty() {
            out.push(PlatformRuleVerdict::Undecided(r, undecided));
        }
    }
    out
}

/// Whether an earlier allow naming `tag` covers everything `deny` matches for one flow.
fn shadowed(nsg: &Nsg, deny: &SecurityRule, tag: &str, proto: Protocol, port: u16) -> Tri {
    let deny_priority = match &deny.priority {
        Field::Known(p, _) => Some(*p),
        Field::Unknown(_) => None,
    };
    let mut result = Tri::No;
    for r in &nsg.rules {
        if std::ptr::eq(r, deny) {
            continue;
        }
        let earlier = match (deny_priority, &r.priority) {
            (Some(d), Field::Known(p, _)) => Tri::from_bool(*p < d),
            (None, _) => Tri::Unknown(deny.priority.unresolved().cloned().into_iter().collect()),
            (_, Field::Unknown(u)) => Tri::Unknown(vec![(**u).clone()]),
        };
        let covers = earlier
            .and(names_tag(r, tag))
            .and(field_is(&r.direction, |d| *d == Direction::Outbound))
            .and(field_is(&r.access, |a| *a == Access::Allow))
            .and(field_is(&r.protocol, |p| protocol_covers(*p, proto)))
            .and(Tri::any(r.destination_ports.iter().map(|p| field_is(p, |p| p.contains(port)))))
            .and(sources_cover(&r.sources, &deny.sources));
        result = result.or(covers);
        if result == Tri::Yes {
            break;
        }
    }
    result
}

/// Whether the allow's sources include every source of the deny.
fn sources_cover(allow: &[Field<AddressMatch>], deny: &[Field<AddressMatch>]) -> Tri {
    let one = |d: &Field<AddressMatch>| -> Tri {
        let Field::Known(d, _) = d else {
            return Tri::Unknown(d.unresolved().cloned().into_iter().collect());
        };
        Tri::any(allow.iter().map(|a| match a {
            Field::Unknown(u) => Tri::Unknown(vec![(**u).clone()]),
            Field::Known(AddressMatch::Any, _) => Tri::Yes,
            Field::Known(a, _) if a == d => Tri::Yes,
            Field::Known(AddressMatch::Prefix(an), _) => match d {
                AddressMatch::Prefix(dn) => Tri::from_bool(an.contains(dn)),
                _ => Tri::No,
            },
            Field::Known(AddressMatch::ServiceTag(t), _) if t.eq_ignore_ascii_case("VirtualNetwork") => match d {
                // The VMs behind the NSG are in the virtual network, but a prefix
                // may reach beyond it.
                AddressMatch::ServiceTag(dt) if dt.eq_ignore_ascii_case("VirtualNetwork") => Tri::Yes,
                _ => Tri::No,
            },
            Field::Known(..) => Tri::No,
        }))
    };
    deny.iter().map(one).fold(Tri::Yes, Tri::and)
}

/// Port ranges a rule lists, for messages.
pub fn describe_ports(ports: &[Field<PortRange>]) -> String {
    let parts: Vec<String> = ports
        .iter()
        .map(|p| p.known().map(|p| p.to_string()).unwrap_or_else(|| "?".into()))
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::testkit::*;

    fn flow(dest: &str, protocol: Protocol, port: u16) -> Flow {
        Flow {
            direction: Direction::Outbound,
            protocol,
            destination: dest.parse().expect("ip"),
            port,
            platform_tag: None,
            platform_allowance: true,
            destination_in_virtual_network: false,
        }
    }

    fn kms_platform() -> Flow {
        Flow {
            platform_tag: Some("AzurePlatformLKM".into()),
            ..flow("20.118.99.224", Protocol::Tcp, 1688)
        }
    }

    fn decided_by(v: &Verdict) -> String {
        match v {
            Verdict::Allow(Decider::Rule(r)) => format!("allow {}", r.name.known().cloned().unwrap_or_default()),
            Verdict::Deny(Decider::Rule(r)) => format!("deny {}", r.name.known().cloned().unwrap_or_default()),
            Verdict::Allow(Decider::Default(d)) => format!("allow {d}"),
            Verdict::Deny(Decider::Default(d)) => format!("deny {d}"),
            Verdict::Allow(Decider::Platform) => "allow platform".into(),
            Verdict::Deny(Decider::Platform) => "deny platform".into(),
            Verdict::Unknown(_) => "unknown".into(),
        }
    }

    #[test]
    fn lower_priority_number_wins_whatever_the_order_written() {
        let n = nsg(
            "n",
            vec![
                rule("deny", 200, "Outbound", "Deny", "Tcp", &["*"], &["*"], &["443"]),
                rule("allow", 100, "Outbound", "Allow", "Tcp", &["*"], &["Internet"], &["443"]),
            ],
        );
        assert_eq!(decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 443))), "allow allow");
    }

    #[test]
    fn port_ranges_and_lists_match() {
        let n = nsg(
            "n",
            vec![rule("r", 100, "Outbound", "Deny", "Tcp", &["*"], &["*"], &["22", "1000-2000"])],
        );
        assert_eq!(decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 1688))), "deny r");
        assert_eq!(decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 22))), "deny r");
        assert_eq!(
            decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 2001))),
            "allow AllowInternetOutBound"
        );
    }

    #[test]
    fn protocols_and_direction_must_match() {
        let n = nsg(
            "n",
            vec![
                rule("udp", 100, "Outbound", "Deny", "Udp", &["*"], &["*"], &["*"]),
                rule("in", 110, "Inbound", "Deny", "*", &["*"], &["*"], &["*"]),
            ],
        );
        assert_eq!(
            decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 53))),
            "allow AllowInternetOutBound"
        );
        assert_eq!(decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Udp, 53))), "deny udp");
    }

    #[test]
    fn internet_tag_and_prefixes_match_by_address() {
        let n = nsg(
            "n",
            vec![
                rule("prefix", 100, "Outbound", "Deny", "*", &["*"], &["20.118.99.0/24"], &["*"]),
                rule("internet", 200, "Outbound", "Allow", "*", &["*"], &["Internet"], &["*"]),
            ],
        );
        assert_eq!(
            decided_by(&evaluate(&n, &flow("20.118.99.224", Protocol::Tcp, 1688))),
            "deny prefix"
        );
        assert_eq!(
            decided_by(&evaluate(&n, &flow("40.83.235.53", Protocol::Tcp, 1688))),
            "allow internet"
        );
        // Private addresses are not in the Internet tag; the default rules decide.
        assert_eq!(
            decided_by(&evaluate(&n, &flow("10.0.0.5", Protocol::Tcp, 1688))),
            "deny DenyAllOutBound"
        );
    }

    #[test]
    fn platform_traffic_ignores_rules_that_do_not_name_its_tag() {
        let n = nsg("n", vec![rule("deny-all", 100, "Outbound", "Deny", "*", &["*"], &["*"], &["*"])]);
        assert_eq!(decided_by(&evaluate(&n, &kms_platform())), "allow platform");
        let n = nsg(
            "n",
            vec![rule(
                "deny-lkm",
                100,
                "Outbound",
                "Deny",
                "Tcp",
                &["*"],
                &["AzurePlatformLKM"],
                &["1688"],
            )],
        );
        assert_eq!(decided_by(&evaluate(&n, &kms_platform())), "deny deny-lkm");
    }

    #[test]
    fn without_the_platform_allowance_every_rule_applies() {
        // Under a custom default route the KMS allowance is off.
        let n = nsg(
            "n",
            vec![rule("deny-internet", 4000, "Outbound", "Deny", "*", &["*"], &["Internet"], &["*"])],
        );
        let f = Flow {
            platform_allowance: false,
            ..kms_platform()
        };
        assert_eq!(decided_by(&evaluate(&n, &f)), "deny deny-internet");
    }

    #[test]
    fn an_undecided_rule_that_agrees_with_the_outcome_does_not_matter() {
        let mut maybe = rule("maybe", 100, "Outbound", "Allow", "Tcp", &["*"], &["*"], &["443"]);
        maybe.destinations = vec![unknown("var.dest has no value")];
        let n = nsg("n", vec![maybe.clone()]);
        // Unknown destination, but both outcomes allow port 443 to the internet.
        assert_eq!(
            decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 443))),
            "allow AllowInternetOutBound"
        );
        maybe.access = known(Access::Deny);
        let n = nsg("n", vec![maybe]);
        assert_eq!(decided_by(&evaluate(&n, &flow("8.8.8.8", Protocol::Tcp, 443))), "unknown");
    }

    #[test]
    fn explain_walks_rules_in_priority_order_and_marks_the_decider() {
        let n = nsg(
            "n",
            vec![
                rule("deny-all", 4000, "Outbound", "Deny", "*", &["*"], &["*"], &["*"]),
                rule("other", 100, "Outbound", "Deny", "Udp", &["*"], &["*"], &["53"]),
                rule("deny-lkm", 200, "Outbound", "Deny", "Tcp", &["*"], &["AzurePlatformLKM"], &["1688"]),
            ],
        );
        let status = |f: &Flow| -> Vec<(String, RuleStatus)> {
            explain(&n, f)
                .0
                .into_iter()
                .map(|s| (s.rule.name.known().cloned().unwrap_or_default(), s.status))
                .collect()
        };
        assert_eq!(
            status(&kms_platform()),
            [
                ("other".to_string(), RuleStatus::PlatformSkipped),
                ("deny-lkm".to_string(), RuleStatus::Decides),
                ("deny-all".to_string(), RuleStatus::NotReached)
            ]
        );
        let plain = flow("20.1.2.3", Protocol::Tcp, 1688);
        assert_eq!(
            status(&plain),
            [
                ("other".to_string(), RuleStatus::NoMatch),
                ("deny-lkm".to_string(), RuleStatus::NoMatch),
                ("deny-all".to_string(), RuleStatus::Decides)
            ]
        );
        assert_eq!(decided_by(&explain(&n, &plain).1), decided_by(&evaluate(&n, &plain)));
    }

    #[test]
    fn virtual_network_tag_follows_the_flow() {
        let n = nsg(
            "n",
            vec![rule("deny-vnet", 100, "Outbound", "Deny", "*", &["*"], &["VirtualNetwork"], &["*"])],
        );
        let inside = Flow {
            destination_in_virtual_network: true,
            ..flow("20.118.99.224", Protocol::Tcp, 1688)
        };
        assert_eq!(decided_by(&evaluate(&n, &inside)), "deny deny-vnet");
        assert_eq!(
            decided_by(&evaluate(&n, &flow("20.118.99.224", Protocol::Tcp, 1688))),
            "allow AllowInternetOutBound"
        );
    }
}
