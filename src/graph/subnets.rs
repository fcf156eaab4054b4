//! What each subnet's trace to KMS says, as the graph draws it: the verdict
//! over every KMS address, the next hop it is drawn through, the rule codes
//! that make a broken path red, and its shape. Gathered once per subnet so
//! that folding and drawing read facts, not traces.

use super::shape::{flows_shape, table_shape};
use super::{Builder, State};
use crate::model::VnetKey;
use crate::policy::Policy;
use crate::rules::display_name;
use crate::source::{display_path, FileId};
use crate::trace::{Destination, FlowTrace, TraceOptions, TraceReport};

/// The verdict of one start (a subnet, or a table no subnet uses) over every
/// KMS address, and the flow that decides its colour.
pub(super) fn summary(t: &TraceReport) -> (State, Option<&FlowTrace>) {
    let verdicts: Vec<&str> = t.flows.iter().map(|f| f.verdict).collect();
    let state = if verdicts.contains(&"blocked") {
        State::Broken(Vec::new())
    } else if verdicts.contains(&"unknown") {
        State::Unknown
    } else {
        State::Reaches
    };
    let deciding = t
        .flows
        .iter()
        .find(|f| f.verdict == "blocked")
        .or_else(|| t.flows.iter().find(|f| f.verdict == "unknown"))
        .or(t.flows.first());
    (state, deciding)
}

/// Where a flow goes next, in words, for a hop drawn as a shared node.
fn hop_label(f: Option<&FlowTrace>) -> String {
    f.map(|f| match (&f.firewall, &f.next_hop) {
        (Some(fw), _) => format!("Azure Firewall {}", fw.firewall.name),
        (None, Some(h)) => match (h.hop_type.as_str(), &h.ip, h.source) {
            ("VirtualAppliance", Some(ip), _) if ip != "?" => format!("appliance {ip}"),
            ("VirtualAppliance", _, _) => "appliance (address not known)".to_string(),
            ("VirtualNetworkGateway", _, "bgp") => "gateway (BGP default route)".to_string(),
            ("VirtualNetworkGateway", _, _) => "virtual network gateway".to_string(),
            ("None", _, _) => "dropped (next hop None)".to_string(),
            (other, _, _) => other.to_string(),
        },
        (None, None) => "unknown next hop".to_string(),
    })
    .unwrap_or_default()
}

/// Where the traffic goes next, as drawn: a gateway or firewall of the code
/// is a node of its own inside its network; any other hop (Internet, an
/// appliance, a drop, a gateway not found) is one shared node per label.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Hop {
    Shared(String),
    Gateway(usize),
    Firewall(usize),
}

/// Subnet names Azure gives a role: they fold only with their namesakes.
const ROLE_SUBNETS: &[&str] = &[
    "GatewaySubnet",
    "AzureFirewallSubnet",
    "AzureFirewallManagementSubnet",
    "AzureBastionSubnet",
    "RouteServerSubnet",
];

/// One subnet as drawn: where it sits, what it uses, and how it fares.
pub(super) struct SubnetInfo {
    pub(super) name: String,
    pub(super) address: String,
    pub(super) file: FileId,
    pub(super) table: Option<usize>,
    pub(super) nsg: Option<usize>,
    pub(super) trace: TraceReport,
    /// Broken with the codes reported on the subnet, its NSG or table.
    pub(super) state: State,
    pub(super) hop: Hop,
    pub(super) vnet: Option<VnetKey>,
    /// Its shape with every name left out: what two spokes must share to fold.
    pub(super) shape: String,
}

impl Builder<'_> {
    /// Rule codes reported on a resource, for broken paths: by address, in
    /// the resource's own file (addresses repeat across root modules).
    pub(super) fn codes_of(&self, resources: &[(&str, FileId)]) -> Vec<String> {
        let mut c: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none() && f.code != "KG901")
            .filter(|f| {
                resources.iter().any(|(address, file)| {
                    f.resource == *address && (f.primary.origin.file == *file || f.related.iter().any(|l| l.origin.file == *file))
                })
            })
            .map(|f| f.code.to_string())
            .collect();
        c.sort();
        c.dedup();
        c
    }

    /// The node a flow's next hop is drawn as: the firewall or gateway of
    /// the code it reaches (for a subnet: the gateway whose routes it
    /// learns, or its route's gateway), else a shared node.
    pub(super) fn hop_of(&self, f: Option<&FlowTrace>, subnet: Option<usize>) -> Hop {
        let model = self.model;
        if let Some(fw) = f.and_then(|f| f.firewall.as_ref()) {
            let found = model.firewalls.iter().position(|m| {
                m.address == fw.firewall.resource
                    && self.sources.get(m.origin.file).is_some()
                    && display_path(self.sources.path(m.origin.file)) == fw.firewall.file
                    && self.sources.line_col(&m.origin).line == fw.firewall.line
            });
            if let Some(i) = found {
                return Hop::Firewall(i);
            }
        }
        let via_gateway = f
            .and_then(|f| f.next_hop.as_ref())
            .is_some_and(|h| h.hop_type == "VirtualNetworkGateway");
        if let (true, Some(si)) = (via_gateway && f.is_some_and(|f| f.firewall.is_none()), subnet) {
            if let Some(s) = model.subnets.get(si) {
                if let crate::rules::kg104::Reach::Yes(g) = crate::rules::kg104::reach(model, si, s) {
                    if let Some(gi) = model.gateways.iter().position(|x| std::ptr::eq(x, g)) {
                        return Hop::Gateway(gi);
                    }
                }
            }
        }
        Hop::Shared(hop_label(f))
    }

    /// Traces every subnet to KMS.
    pub(super) fn subnet_infos(&self, policy: &Policy, opts: &TraceOptions, to: &Destination) -> Vec<SubnetInfo> {
        let model = self.model;
        let mut out = Vec::new();
        for (si, s) in model.subnets.iter().enumerate() {
            let Ok(t) = crate::trace::trace_subnet(model, policy, self.sources, opts, si, to) else {
                continue;
            };
            let table = model
                .route_table_of(si)
                .and_then(|t| model.route_tables.iter().position(|x| std::ptr::eq(x, t)));
            let nsg = model
                .nsg_of(s.namespace, s.nsg.as_ref())
                .and_then(|n| model.nsgs.iter().position(|x| std::ptr::eq(x, n)));
            let (state, deciding) = summary(&t);
            let hop = self.hop_of(deciding, Some(si));
            let state = match state {
                State::Broken(_) => {
                    let mut resources: Vec<(&str, FileId)> = vec![(s.address.as_str(), s.origin.file)];
                    if let Some(n) = nsg.and_then(|i| model.nsgs.get(i)) {
                        resources.push((n.address.as_str(), n.origin.file));
                    }
                    if let Some(t) = table.and_then(|i| model.route_tables.get(i)) {
                        resources.push((t.address.as_str(), t.origin.file));
                    }
                    State::Broken(self.codes_of(&resources))
                }
                other => other,
            };
            let name = display_name(&s.name, &s.address);
            let role = s
                .name
                .known()
                .and_then(|n| ROLE_SUBNETS.iter().find(|r| r.eq_ignore_ascii_case(n)))
                .copied()
                .unwrap_or("workload");
            // A subnet Azure reserves for a gateway, firewall, Bastion or
            // Route Server holds no Windows VM: a path no rule reports there
            // (it learns the gateway's routes as it must) is not drawn as broken.
            let state = match state {
                State::Broken(codes) if codes.is_empty() && role != "workload" => State::Plain,
                other => other,
            };
            let shape = format!(
                "{role} table={} nsg={} {state:?} {hop:?} {}",
                table_shape(table.and_then(|i| model.route_tables.get(i))),
                nsg.is_some(),
                flows_shape(&t)
            );
            out.push(SubnetInfo {
                name,
                address: s.address.clone(),
                file: s.origin.file,
                table,
                nsg,
                trace: t,
                state,
                hop,
                vnet: model.vnet_of_subnet(si).cloned(),
                shape,
            });
        }
        out
    }
}
