//! The graph in the markdown report: a Mermaid picture of the paths to KMS,
//! only when it is small enough to read in a pull request and shows
//! something to act on.

use super::{build, mermaid, State};
use crate::model::Model;
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::SourceMap;
use crate::trace::TraceOptions;

/// The largest model the markdown report traces for its picture (a bound on
/// the time a check spends drawing), and the largest graph embedded once
/// identical subnets and spokes are folded: past that the picture would not
/// be readable in a pull request (`kmsguard graph` draws any size).
const MARKDOWN_MAX_RESOURCES: usize = 1000;
const MARKDOWN_MAX_NODES: usize = 40;

/// A Mermaid picture of the paths to KMS for the markdown report (no raw
/// HTML: the report has none),
/// when the network is small and a path is broken or unknown; `None`
/// otherwise.
pub fn markdown_section(model: &Model, policy: &Policy, sources: &SourceMap, opts: &TraceOptions, findings: &[Finding]) -> Option<String> {
    if model.subnets.len() + model.route_tables.len() > MARKDOWN_MAX_RESOURCES {
        return None;
    }
    let g = build(model, policy, sources, opts, findings);
    let worth = g.edges.iter().any(|e| matches!(e.state, State::Broken(_) | State::Unknown));
    if !worth || g.nodes.len() > MARKDOWN_MAX_NODES {
        return None;
    }
    Some(format!(
        "**Paths to KMS** (red: broken, with the rules that say so; dashed: unknown)\n\n```mermaid\n{}```\n",
        mermaid(&g)
    ))
}
