//! `kmsguard graph`: the network kmsguard judged, drawn — subnets, their
//! route tables and NSGs, and each one's path to the KMS addresses, traced
//! by [`crate::trace`]: red where it is broken (with the rule that says so),
//! dashed where it is unknown.
//!
//! Subnets are grouped by their virtual network (by the file that declares
//! them when the code does not say which network), with the network's
//! gateways and firewalls; route tables and NSGs by their file. Peerings
//! join the networks' own nodes. Subnets with the same route table, NSG and
//! path are folded into one node, and spoke networks of one shape (every
//! name left out) into one box with their count and names, which keeps a
//! hub-and-spoke of many identical spokes readable.
//!
//! Formats: Mermaid, Graphviz DOT, a standalone SVG, and a self-contained
//! HTML page (the SVG, the findings, and each subnet's trace; no script,
//! font or style from anywhere else). Node ids are generated; every name
//! from the code is escaped for the format it lands in.
//!
//! The work is split by concern: `subnets` traces each subnet and says
//! how it fares, `shape` gives what two subnets or spokes must share to
//! fold, `spokes` orders the virtual networks and folds spokes of one
//! shape, `draw` turns that into nodes and paths to KMS, `peerings`
//! joins the networks, `markdown` embeds the picture in the markdown
//! report, and `render` writes each format.

mod draw;
mod markdown;
mod peerings;
mod render;
mod shape;
mod spokes;
mod subnets;

pub use markdown::markdown_section;
pub use render::{dot, html, mermaid, svg};

use std::collections::{BTreeMap, HashMap};

use crate::model::{Model, VnetKey};
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::SourceMap;
use crate::trace::{Destination, TraceOptions, TraceReport};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Subnet,
    /// A virtual network's own node, which its peerings join.
    Vnet,
    RouteTable,
    Nsg,
    /// A virtual network gateway (ExpressRoute, VPN), in its network.
    Gateway,
    /// An Azure Firewall, in its network.
    Firewall,
    /// Where the traffic goes next: Internet, a firewall, an appliance, a gateway, a drop.
    NextHop,
    /// The KMS addresses.
    Kms,
}

impl NodeKind {
    /// The column a node is drawn in.
    pub fn column(self) -> usize {
        match self {
            NodeKind::Subnet | NodeKind::Vnet => 0,
            NodeKind::Nsg | NodeKind::RouteTable => 1,
            NodeKind::Gateway | NodeKind::Firewall | NodeKind::NextHop => 2,
            NodeKind::Kms => 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    /// `n0`, `n1`…: never taken from the code.
    pub id: String,
    pub kind: NodeKind,
    /// Raw text from the code; each renderer escapes it.
    pub label: String,
    /// The file that declares it; empty for shared nodes (Internet, KMS).
    pub group: String,
    /// For a subnet node: the traces of the subnets it stands for.
    pub traces: Vec<TraceReport>,
}

/// How a path step fares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Plain,
    Reaches,
    /// Broken, with the rule codes that report it.
    Broken(Vec<String>),
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub label: String,
    pub state: State,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

impl Graph {
    fn node(&mut self, key: &mut BTreeMap<String, String>, k: String, kind: NodeKind, label: String, group: String) -> String {
        if let Some(id) = key.get(&k) {
            return id.clone();
        }
        let id = format!("n{}", self.nodes.len());
        self.nodes.push(Node {
            id: id.clone(),
            kind,
            label,
            group,
            traces: Vec::new(),
        });
        key.insert(k, id.clone());
        id
    }

    fn edge(&mut self, from: &str, to: &str, label: &str, state: State) {
        let e = Edge {
            from: from.to_string(),
            to: to.to_string(),
            label: label.to_string(),
            state,
        };
        if !self.edges.contains(&e) {
            self.edges.push(e);
        }
    }

    /// Node ids in groups, in order: (group, ids).
    pub fn groups(&self) -> Vec<(String, Vec<&Node>)> {
        let mut out: Vec<(String, Vec<&Node>)> = Vec::new();
        for n in &self.nodes {
            match out.iter_mut().find(|(g, _)| g == &n.group) {
                Some((_, list)) => list.push(n),
                None => out.push((n.group.clone(), vec![n])),
            }
        }
        out
    }
}

/// Builds the graph of `model`, tracing every subnet (and every route table
/// no subnet uses) to the KMS addresses.
pub fn build(model: &Model, policy: &Policy, sources: &SourceMap, opts: &TraceOptions, findings: &[Finding]) -> Graph {
    let kms_label = {
        let addrs: Vec<String> = policy
            .endpoints
            .iter()
            .filter(|e| e.id == "kms")
            .filter_map(|e| e.addresses(opts.cloud.as_deref().unwrap_or("public")))
            .flat_map(|a| a.required.iter().map(|x| x.to_string()))
            .collect();
        format!("KMS {}", addrs.join(", "))
    };
    let mut b = Builder {
        g: Graph::default(),
        key: BTreeMap::new(),
        model,
        sources,
        findings,
        kms_label,
        vnet_group: HashMap::new(),
        vnet_rep: HashMap::new(),
        vnet_order: HashMap::new(),
    };
    let to = Destination::Endpoint("kms".into());
    let subnets = b.subnet_infos(policy, opts, &to);
    let vnets = b.vnet_infos(&subnets);
    b.draw_vnets(&subnets, &vnets);
    b.draw_peerings(&vnets);
    // Route tables no subnet in the code uses: their routes alone.
    for (ti, t) in model.route_tables.iter().enumerate() {
        if model.subnets_of(ti).next().is_some() {
            continue;
        }
        let Ok(tr) = crate::trace::trace_table(model, policy, sources, opts, t, &to) else {
            continue;
        };
        b.draw_lone_table(t, &tr);
    }
    b.g
}

/// The graph as it is drawn, with the node ids given so far (by key) and
/// what the nodes are drawn from.
struct Builder<'a> {
    g: Graph,
    key: BTreeMap<String, String>,
    model: &'a Model,
    sources: &'a SourceMap,
    findings: &'a [Finding],
    kms_label: String,
    /// Each virtual network's box (a folded one's for every member).
    vnet_group: HashMap<VnetKey, String>,
    /// The network each one is drawn as: itself, or its fold's first member.
    vnet_rep: HashMap<VnetKey, VnetKey>,
    /// Each network's place in the order they were first seen.
    vnet_order: HashMap<VnetKey, usize>,
}

impl Builder<'_> {
    /// The file a resource is grouped by; empty when the source map does not
    /// hold it, so such a node joins no file's box.
    fn file_of(&self, o: &crate::source::Origin) -> String {
        if self.sources.get(o.file).is_some() {
            self.sources.display(o.file)
        } else {
            String::new()
        }
    }
}

/// `kmsguard graph`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_name = "FORMAT", default_value = "mermaid", value_parser = ["mermaid", "dot", "svg", "html"])]
    pub format: String,
    #[command(flatten)]
    pub model: crate::load::ModelArgs,
}

/// Runs `kmsguard graph`: the text to print, or why the run failed.
pub fn run(args: &GraphArgs) -> Result<String, crate::load::LoadError> {
    let loaded = crate::load::load(&args.model, Vec::new())?.complete()?;
    let opts = TraceOptions::of_check(&loaded.opts);
    let sources = &loaded.outcome.sources;
    let g = build(&loaded.outcome.model, &loaded.policy, sources, &opts, &loaded.outcome.findings);
    Ok(match args.format.as_str() {
        "dot" => dot(&g),
        "svg" => svg(&g),
        "html" => html(&g, sources, &loaded.outcome.findings),
        _ => mermaid(&g),
    })
}
