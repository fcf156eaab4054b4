//! A subnet's shape with every name left out: its route table's routes and
//! settings and what each flow of its trace meets. Two subnets (and so two
//! spokes) of one shape are drawn once, which keeps a hub-and-spoke of many
//! identical spokes readable.

use crate::model::{Field, RouteTable};
use crate::trace::TraceReport;

pub(super) fn known<T: std::fmt::Debug>(f: &Field<T>) -> String {
    f.known().map(|v| format!("{v:?}")).unwrap_or_else(|| "?".into())
}

/// A route table's routes and settings without its or their names.
pub(super) fn table_shape(t: Option<&RouteTable>) -> String {
    let Some(t) = t else { return "-".into() };
    let mut routes: Vec<String> = t
        .routes
        .iter()
        .map(|r| {
            format!(
                "{}>{}@{}",
                known(&r.address_prefix),
                known(&r.next_hop_type),
                r.next_hop_ip.as_ref().map(known).unwrap_or_default()
            )
        })
        .collect();
    routes.sort();
    format!(
        "{routes:?} propagate={} incomplete={} conditional={}",
        known(&t.propagate_gateway_routes),
        t.incomplete.len(),
        t.conditional.is_some()
    )
}

/// What each flow of a trace meets, without names: routes, hop, firewall
/// and NSG decisions, the verdict.
pub(super) fn flows_shape(t: &TraceReport) -> String {
    t.flows
        .iter()
        .map(|f| {
            let hop = f
                .next_hop
                .as_ref()
                .map(|h| format!("{}@{:?}/{}/{}", h.hop_type, h.ip, h.source, h.prefix))
                .unwrap_or_default();
            let nsgs: Vec<String> = f
                .nsgs
                .iter()
                .map(|n| {
                    let rule = n
                        .rules
                        .iter()
                        .find(|r| r.status == "decides")
                        .map(|r| format!("{:?}/{:?}", r.priority, r.access))
                        .unwrap_or_default();
                    format!("{}:{}:{rule}", n.holder, n.decision)
                })
                .collect();
            format!(
                "{}:{}/{} {} {hop} fw={:?} platform={:?} nsgs={nsgs:?} unknown={}",
                f.destination,
                f.port,
                f.protocol,
                f.verdict,
                f.firewall.as_ref().map(|fw| fw.decision),
                f.platform.as_ref().map(|p| p.applies),
                f.unknown.len()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}
