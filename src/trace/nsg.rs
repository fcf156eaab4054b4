//! The NSG walk of a flow that the routes let out: Azure's platform rule,
//! which NSGs the traffic meets (the NIC's, then the subnet's), and what
//! each decides.

use crate::analysis::nsg::{explain as explain_nsg, Decider, Flow, RuleStatus, Verdict};
use crate::analysis::routing::has_custom_default_route;
use crate::model::{Access, Direction, Field, Model, Nsg, RoutePrefix, RouteTable, Unresolved};
use crate::policy::Policy;
use crate::source::{FileId, Origin, SourceMap};

use super::flow::{Outcome, Target};
use super::start::FlowStart;
use super::{at, place, NsgRuleRow, NsgStep, PlatformStep, PLATFORM_DOC};

/// The flow as the NSG evaluation sees it: outbound, with the platform
/// service tag that alone filters it (if it is platform traffic) and
/// whether Azure's platform rule is on.
pub(super) fn nsg_flow(policy: &Policy, routed: &RouteTable, table: Option<&RouteTable>, target: &Target) -> Flow {
    // The VirtualNetwork tag includes the prefixes of user-defined routes.
    let in_vnet = routed.routes.iter().any(|r| match &r.address_prefix {
        Field::Known(RoutePrefix::Net(n), _) => n.contains(&target.addr),
        _ => false,
    });
    Flow {
        direction: Direction::Outbound,
        protocol: target.protocol,
        destination: target.addr,
        port: target.port,
        platform_tag: platform_tag(policy, target),
        platform_allowance: !table.is_some_and(has_custom_default_route),
        destination_in_virtual_network: in_vnet,
    }
}

/// The platform service tag that alone filters this flow, if it is platform traffic.
fn platform_tag(policy: &Policy, target: &Target) -> Option<String> {
    policy
        .platform_services
        .iter()
        .find(|s| {
            let by_address = match s.address {
                Some(a) => a == target.addr,
                None => target.endpoint.is_some_and(|e| e.title.eq_ignore_ascii_case(&s.title)),
            };
            by_address && s.flows.iter().any(|(p, q)| *p == target.protocol && *q == target.port)
        })
        .map(|s| s.tag.clone())
}

/// Whether Azure's platform rule takes platform traffic past the NSG rules
/// that do not name its tag; none for other traffic.
pub(super) fn platform_step(flow: &Flow, what: &str) -> Option<PlatformStep> {
    let t = flow.platform_tag.as_ref()?;
    let allowance = flow.platform_allowance;
    Some(PlatformStep {
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
    })
}

/// The NSGs the traffic meets, in order, each with what holds it; notes go
/// to `notes`. An outcome instead when which NSGs apply is not known.
pub(super) fn nsg_holders<'m>(
    model: &'m Model,
    start: &FlowStart,
    what: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<(&'m Nsg, String)>, Outcome> {
    let mut holders: Vec<(&Nsg, String)> = Vec::new();
    if let Some(n) = start.nic {
        if let Some(nsg) = model.nsg_of(n.namespace, n.nsg.as_ref()) {
            holders.push((
                nsg,
                format!("network interface {}", crate::rules::display_name(&n.name, &n.address)),
            ));
        } else if n.nsg.is_some() {
            notes.push("the network interface names an NSG that is not in the code".into());
        }
    }
    match start.subnet {
        Some((si, s)) => {
            if let Some(nsg) = model.nsg_of(s.namespace, s.nsg.as_ref()) {
                holders.push((nsg, format!("subnet {}", crate::rules::display_name(&s.name, &s.address))));
            } else if s.nsg.is_some() {
                return Err(Outcome::Unknown(
                    "the subnet's NSG is not in the code".into(),
                    vec![Unresolved {
                        reason: "the subnet names an NSG kmsguard did not read".into(),
                        origin: s.nsg.as_ref().map(|l| l.origin().clone()).unwrap_or_else(|| s.origin.clone()),
                    }],
                ));
            }
            if start.nic.is_none() {
                let with_own: Vec<String> = model
                    .nics_in(si)
                    .filter(|n| n.nsg.is_some())
                    .map(|n| crate::rules::display_name(&n.name, &n.address))
                    .collect();
                if !with_own.is_empty() {
                    notes.push(format!(
                        "network interfaces in this subnet with their own NSG, met before the subnet's: {} (trace --from one of them)",
                        with_own.join(", ")
                    ));
                }
            }
        }
        None if start.nic.is_none() => return Err(table_alone(model, start.table, what)),
        None => notes.push("the network interface's subnet is not in the code: only its own NSG is walked".into()),
    }
    Ok(holders)
}

/// A route table traced alone: the routes let the traffic out, but no
/// subnet says which NSGs it meets.
fn table_alone(model: &Model, table: Option<&RouteTable>, what: &str) -> Outcome {
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
    Outcome::Unknown(
        format!("the routes send {what} to Internet, but {why}"),
        vec![Unresolved { reason: why, origin }],
    )
}

/// The NSG walk: each NSG's rules in priority order, recorded in `steps`;
/// the first NSG that denies (or cannot be decided) sets the outcome.
pub(super) fn walk_nsgs(sources: &SourceMap, flow: &Flow, holders: Vec<(&Nsg, String)>, steps: &mut Vec<NsgStep>) -> Outcome {
    let tag = flow.platform_tag.as_deref();
    let mut outcome = Outcome::Reaches;
    for (nsg, holder) in holders {
        let (rule_steps, verdict) = explain_nsg(nsg, flow);
        let rules = rule_steps
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
                        format!("platform traffic meets only rules naming {}", tag.unwrap_or("its tag")),
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
        let nsg_name = crate::rules::display_name(&nsg.name, &nsg.address);
        let (decision, by) = match &verdict {
            Verdict::Allow(d) => ("allow", decided_by(d, tag)),
            Verdict::Deny(d) => {
                let by = decided_by(d, tag);
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
        steps.push(NsgStep {
            holder,
            nsg: place(sources, "nsg", &nsg.name, &nsg.address, &nsg.origin),
            rules,
            decision,
            decided_by: by,
        });
    }
    outcome
}

/// The rule, default rule or platform rule that decided, as the trace names it.
fn decided_by(d: &Decider, tag: Option<&str>) -> String {
    match d {
        Decider::Rule(r) => format!(
            "rule {}{}",
            r.name.known().cloned().unwrap_or_else(|| "(unnamed)".into()),
            r.priority.known().map(|p| format!(" (priority {p})")).unwrap_or_default()
        ),
        Decider::Default(d) => format!("default rule {d}"),
        Decider::Platform => format!("Azure's platform rule (no rule names {})", tag.unwrap_or("the tag")),
    }
}
