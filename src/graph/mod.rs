//! `kmsguard graph`: the network kmsguard judged, drawn — subnets, their
//! route tables and NSGs, and each one's path to the KMS addresses, traced
//! by [`crate::trace`]: red where it is broken (with the rule that says so),
//! dashed where it is unknown.
//!
//! Subnets are grouped by their virtual network (by the file that declares
//! them when the code does not say which network), route tables and NSGs by
//! their file. Subnets with the same route table, NSG and path are folded
//! into one node, which keeps a hub-and-spoke of many identical spokes
//! readable.
//!
//! Formats: Mermaid, Graphviz DOT, a standalone SVG, and a self-contained
//! HTML page (the SVG, the findings, and each subnet's trace; no script,
//! font or style from anywhere else). Node ids are generated; every name
//! from the code is escaped for the format it lands in.

mod render;

pub use render::{dot, html, mermaid, svg};

use std::collections::BTreeMap;

use crate::model::Model;
use crate::policy::Policy;
use crate::rules::{display_name, Finding};
use crate::source::SourceMap;
use crate::trace::{Destination, TraceOptions, TraceReport};

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeKind {
    Subnet,
    RouteTable,
    Nsg,
    /// Where the traffic goes next: Internet, a firewall, an appliance, a gateway, a drop.
    NextHop,
    /// The KMS addresses.
    Kms,
}

impl NodeKind {
    /// The column a node is drawn in.
    pub fn column(self) -> usize {
        match self {
            NodeKind::Subnet => 0,
            NodeKind::Nsg | NodeKind::RouteTable => 1,
            NodeKind::NextHop => 2,
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

/// The KMS path of one start (a subnet, or a table no subnet uses): the
/// verdict over every KMS address, and where the traffic goes next.
fn summary(t: &TraceReport) -> (State, String) {
    let verdicts: Vec<&str> = t.flows.iter().map(|f| f.verdict).collect();
    let state = if verdicts.contains(&"blocked") {
        State::Broken(Vec::new())
    } else if verdicts.contains(&"unknown") {
        State::Unknown
    } else {
        State::Reaches
    };
    // The hop drawn is the one of the flow that decides the colour.
    let deciding = t
        .flows
        .iter()
        .find(|f| f.verdict == "blocked")
        .or_else(|| t.flows.iter().find(|f| f.verdict == "unknown"))
        .or(t.flows.first());
    let hop = deciding
        .map(|f| match (&f.firewall, &f.next_hop) {
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
        .unwrap_or_default();
    (state, hop)
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
    };
    let to = Destination::Endpoint("kms".into());
    for f in b.fold_subnets(policy, opts, &to) {
        b.draw_fold(f);
    }
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

/// Subnets folded by (table, NSG, path): identical spokes become one node.
struct Fold {
    names: Vec<String>,
    group: String,
    file: crate::source::FileId,
    table: Option<usize>,
    nsg: Option<usize>,
    addresses: Vec<String>,
    traces: Vec<TraceReport>,
    state: State,
    hop: String,
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
}

impl Builder<'_> {
    fn file_of(&self, o: &crate::source::Origin) -> String {
        if self.sources.get(o.file).is_some() {
            self.sources.display(o.file)
        } else {
            String::new()
        }
    }

    /// Rule codes reported on a resource, for broken paths: by address, in
    /// the resource's own file (addresses repeat across root modules).
    fn codes_of(&self, resources: &[(&str, crate::source::FileId)]) -> Vec<String> {
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

    /// Traces every subnet to KMS and folds those that fare alike.
    fn fold_subnets(&self, policy: &Policy, opts: &TraceOptions, to: &Destination) -> Vec<Fold> {
        let model = self.model;
        let mut folds: Vec<Fold> = Vec::new();
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
            let (state, hop) = summary(&t);
            // Subnets sit in their virtual network when the code says which;
            // otherwise in the file that declares them.
            // The file is part of the name: networks of one name in two
            // deployment units are two boxes.
            let group = match model.vnet_of_subnet(si) {
                Some(crate::model::VnetKey::Declared(v)) => model
                    .vnets
                    .get(*v)
                    .map(|v| {
                        format!(
                            "virtual network {} ({})",
                            display_name(&v.name, &v.address),
                            self.file_of(&v.origin)
                        )
                    })
                    .unwrap_or_else(|| self.file_of(&s.origin)),
                Some(crate::model::VnetKey::Named(_, name)) => format!("virtual network {name} ({})", self.file_of(&s.origin)),
                None => self.file_of(&s.origin),
            };
            let name = display_name(&s.name, &s.address);
            match folds
                .iter_mut()
                .find(|f| f.table == table && f.nsg == nsg && f.state == state && f.hop == hop && f.group == group)
            {
                Some(f) => {
                    f.names.push(name);
                    f.addresses.push(s.address.clone());
                    f.traces.push(t);
                }
                None => folds.push(Fold {
                    names: vec![name],
                    group,
                    file: s.origin.file,
                    table,
                    nsg,
                    addresses: vec![s.address.clone()],
                    traces: vec![t],
                    state,
                    hop,
                }),
            }
        }
        folds
    }

    /// The next hop and KMS, with the step into the hop in the colour of `state`.
    fn draw_path(&mut self, from: &str, hop: &str, state: State) {
        let hid = self.g.node(
            &mut self.key,
            format!("hop:{hop}"),
            NodeKind::NextHop,
            hop.to_string(),
            String::new(),
        );
        let k = self
            .g
            .node(&mut self.key, "kms".into(), NodeKind::Kms, self.kms_label.clone(), String::new());
        self.g.edge(from, &hid, &edge_label(&state), state);
        // The verdict is drawn on the step into the next hop; from there to KMS is plain.
        self.g.edge(&hid, &k, "", State::Plain);
    }

    /// One folded subnet node, its NSG and route table, and its path to KMS.
    fn draw_fold(&mut self, f: Fold) {
        let model = self.model;
        let label = match f.names.len() {
            1 => format!("subnet {}", f.names.join("")),
            n if n <= 3 => format!("subnets {}", f.names.join(", ")),
            n => format!(
                "{} subnets: {}, … {}",
                n,
                f.names.first().cloned().unwrap_or_default(),
                f.names.last().cloned().unwrap_or_default()
            ),
        };
        let sid = self.g.node(
            &mut self.key,
            format!("subnet:{}:{}", f.file.0, f.addresses.join(",")),
            NodeKind::Subnet,
            label,
            f.group.clone(),
        );
        if let Some(n) = self.g.nodes.iter_mut().find(|n| n.id == sid) {
            n.traces = f.traces;
        }
        let mut resources: Vec<(&str, crate::source::FileId)> = f.addresses.iter().map(|a| (a.as_str(), f.file)).collect();
        let mut last = sid.clone();
        if let Some(n) = f.nsg.and_then(|ni| model.nsgs.get(ni)) {
            let group = self.file_of(&n.origin);
            let nid = self.g.node(
                &mut self.key,
                format!("nsg:{}:{}:{}", n.origin.file.0, n.namespace, n.address),
                NodeKind::Nsg,
                format!("NSG {}", display_name(&n.name, &n.address)),
                group,
            );
            self.g.edge(&sid, &nid, "", State::Plain);
            resources.push((n.address.as_str(), n.origin.file));
        }
        if let Some(t) = f.table.and_then(|ti| model.route_tables.get(ti)) {
            let tid = self.table_node(t, format!("route table {}", display_name(&t.name, &t.address)));
            self.g.edge(&sid, &tid, "", State::Plain);
            resources.push((t.address.as_str(), t.origin.file));
            last = tid;
        }
        let state = match f.state {
            State::Broken(_) => State::Broken(self.codes_of(&resources)),
            s => s,
        };
        self.draw_path(&last, &f.hop, state);
    }

    fn table_node(&mut self, t: &crate::model::RouteTable, label: String) -> String {
        let group = self.file_of(&t.origin);
        self.g.node(
            &mut self.key,
            format!("table:{}:{}:{}", t.origin.file.0, t.namespace, t.address),
            NodeKind::RouteTable,
            label,
            group,
        )
    }

    /// A route table no subnet uses, and where its routes alone send KMS traffic.
    fn draw_lone_table(&mut self, t: &crate::model::RouteTable, tr: &TraceReport) {
        let (state, hop) = summary(tr);
        // The NSGs are unknown without a subnet; the routes alone decide the colour.
        let state = match state {
            State::Broken(_) => State::Broken(self.codes_of(&[(t.address.as_str(), t.origin.file)])),
            _ if tr.flows.iter().all(|f| {
                f.next_hop.as_ref().is_some_and(|h| h.hop_type == "Internet")
                    || f.firewall.as_ref().is_some_and(|fw| fw.decision == "allow")
            }) =>
            {
                State::Reaches
            }
            _ => State::Unknown,
        };
        let tid = self.table_node(t, format!("route table {} (no subnet)", display_name(&t.name, &t.address)));
        self.draw_path(&tid, &hop, state);
    }
}

fn edge_label(state: &State) -> String {
    match state {
        State::Broken(codes) if !codes.is_empty() => codes.join(", "),
        State::Broken(_) => "blocked".into(),
        State::Unknown => "unknown".into(),
        _ => String::new(),
    }
}

/// The largest model drawn into the markdown report, and the largest graph
/// embedded: past these the picture would not be readable in a pull request
/// (`kmsguard graph` draws any size).
const MARKDOWN_MAX_RESOURCES: usize = 60;
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
pub fn run(args: &GraphArgs) -> Result<String, String> {
    let loaded = crate::load::load(&args.model, Vec::new())?;
    if let Some(e) = loaded.read_error() {
        return Err(e);
    }
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
