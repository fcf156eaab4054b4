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

mod render;

pub use render::{dot, html, mermaid, svg};

use std::collections::{BTreeMap, HashMap};

use crate::model::{Field, Gateway, GatewayRoute, Model, Peering, RouteTable, VnetKey};
use crate::policy::Policy;
use crate::rules::{display_name, Finding};
use crate::source::{display_path, FileId, SourceMap};
use crate::trace::{Destination, FlowTrace, TraceOptions, TraceReport};

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

/// The verdict of one start (a subnet, or a table no subnet uses) over every
/// KMS address, and the flow that decides its colour.
fn summary(t: &TraceReport) -> (State, Option<&FlowTrace>) {
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
enum Hop {
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
struct SubnetInfo {
    name: String,
    address: String,
    file: FileId,
    table: Option<usize>,
    nsg: Option<usize>,
    trace: TraceReport,
    /// Broken with the codes reported on the subnet, its NSG or table.
    state: State,
    hop: Hop,
    vnet: Option<VnetKey>,
    /// Its shape with every name left out: what two spokes must share to fold.
    shape: String,
}

/// A virtual network as drawn: its name and file for the box, and the
/// networks folded into it (itself first).
struct VnetInfo {
    key: VnetKey,
    name: String,
    file: String,
    /// `None` when it never folds: it holds a gateway or firewall (a hub),
    /// or nothing that could tell it apart.
    shape: Option<String>,
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

/// Two peered networks (by first-seen order) and the peerings each way.
type PeeringPair<'a> = ((VnetKey, VnetKey), Vec<&'a Peering>, Vec<&'a Peering>);

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

fn known<T: std::fmt::Debug>(f: &Field<T>) -> String {
    f.known().map(|v| format!("{v:?}")).unwrap_or_else(|| "?".into())
}

/// A route table's routes and settings without its or their names.
fn table_shape(t: Option<&RouteTable>) -> String {
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
fn flows_shape(t: &TraceReport) -> String {
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

/// `a, b, c, … z (n)`: a long list of names cut to its ends.
fn name_list(names: &[String]) -> String {
    if names.len() <= 4 {
        return names.join(", ");
    }
    let head: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    format!("{}, … {}", head.join(", "), names.last().cloned().unwrap_or_default())
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
    fn codes_of(&self, resources: &[(&str, FileId)]) -> Vec<String> {
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
    fn hop_of(&self, f: Option<&FlowTrace>, subnet: Option<usize>) -> Hop {
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
    fn subnet_infos(&self, policy: &Policy, opts: &TraceOptions, to: &Destination) -> Vec<SubnetInfo> {
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

    /// Every virtual network the code names, in the order first seen, with
    /// its shape; and which fold each one is drawn in.
    fn vnet_infos(&mut self, subnets: &[SubnetInfo]) -> Vec<VnetInfo> {
        let model = self.model;
        let mut seen: Vec<(VnetKey, String, String)> = Vec::new();
        let mut order: HashMap<VnetKey, usize> = HashMap::new();
        let this = &*self;
        let mut add = |key: Option<&VnetKey>, origin: &crate::source::Origin, seen: &mut Vec<(VnetKey, String, String)>| {
            let Some(key) = key else { return };
            if order.contains_key(key) {
                return;
            }
            order.insert(key.clone(), seen.len());
            let (name, file) = match key {
                VnetKey::Declared(v) => match model.vnets.get(*v) {
                    Some(v) => (display_name(&v.name, &v.address), this.file_of(&v.origin)),
                    None => (String::new(), this.file_of(origin)),
                },
                VnetKey::Named(_, name) => (name.clone(), this.file_of(origin)),
            };
            seen.push((key.clone(), name, file));
        };
        for (si, s) in model.subnets.iter().enumerate() {
            add(model.vnet_of_subnet(si), &s.origin, &mut seen);
        }
        for (gi, g) in model.gateways.iter().enumerate() {
            add(model.vnet_of_gateway(gi), &g.origin, &mut seen);
        }
        for (fi, f) in model.firewalls.iter().enumerate() {
            add(model.vnet_of_firewall(fi), &f.origin, &mut seen);
        }
        for (vi, v) in model.vnets.iter().enumerate() {
            add(Some(&VnetKey::Declared(vi)), &v.origin, &mut seen);
        }
        let ends = self.peering_ends();
        for (p, (l, r)) in model.peerings.iter().zip(&ends) {
            add(l.as_ref(), &p.origin, &mut seen);
            add(r.as_ref(), &p.origin, &mut seen);
        }
        self.vnet_order = order;
        let flag = |f: &Field<bool>| known(f);
        let mut out: Vec<VnetInfo> = Vec::new();
        for (key, name, file) in seen {
            let hub = (0..model.gateways.len()).any(|gi| model.vnet_of_gateway(gi) == Some(&key))
                || (0..model.firewalls.len()).any(|fi| model.vnet_of_firewall(fi) == Some(&key));
            let mut parts: Vec<String> = subnets
                .iter()
                .filter(|s| s.vnet.as_ref() == Some(&key))
                .map(|s| s.shape.clone())
                .collect();
            let has_subnets = !parts.is_empty();
            for (p, (l, r)) in model.peerings.iter().zip(&ends) {
                let other = |k: &Option<VnetKey>| k.as_ref().and_then(|k| self.vnet_order.get(k)).map(|i| i.to_string());
                if l.as_ref() == Some(&key) {
                    parts.push(format!(
                        "out>{:?} remote={} transit={}",
                        other(r),
                        flag(&p.use_remote_gateways),
                        flag(&p.allow_gateway_transit)
                    ));
                }
                if r.as_ref() == Some(&key) {
                    parts.push(format!(
                        "in<{:?} remote={} transit={}",
                        other(l),
                        flag(&p.use_remote_gateways),
                        flag(&p.allow_gateway_transit)
                    ));
                }
            }
            parts.sort();
            out.push(VnetInfo {
                key,
                name,
                file,
                shape: (!hub && has_subnets).then(|| parts.join("\n")),
            });
        }
        // Networks of one shape fold into the first of them.
        let mut first: HashMap<&str, usize> = HashMap::new();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); out.len()];
        for (i, v) in out.iter().enumerate() {
            let rep = match &v.shape {
                Some(shape) => *first.entry(shape.as_str()).or_insert(i),
                None => i,
            };
            if let Some(m) = members.get_mut(rep) {
                m.push(i);
            }
        }
        for (rep, list) in members.iter().enumerate() {
            let (Some(r), false) = (out.get(rep), list.is_empty()) else {
                continue;
            };
            let label = if list.len() == 1 {
                format!("virtual network {} ({})", r.name, r.file)
            } else {
                let names: Vec<String> = list.iter().filter_map(|i| out.get(*i)).map(|v| v.name.clone()).collect();
                let mut files: Vec<&str> = list.iter().filter_map(|i| out.get(*i)).map(|v| v.file.as_str()).collect();
                files.sort();
                files.dedup();
                let file = if files.len() == 1 {
                    r.file.clone()
                } else {
                    format!("{} files", files.len())
                };
                format!("{} virtual networks alike: {} ({file})", list.len(), name_list(&names))
            };
            for i in list {
                if let Some(v) = out.get(*i) {
                    self.vnet_group.insert(v.key.clone(), label.clone());
                    self.vnet_rep.insert(v.key.clone(), r.key.clone());
                }
            }
        }
        out
    }

    fn peering_ends(&self) -> Vec<(Option<VnetKey>, Option<VnetKey>)> {
        (0..self.model.peerings.len()).map(|pi| self.model.peering_ends(pi)).collect()
    }

    /// Each network's subnets (folded), gateways and firewalls, then the
    /// subnets whose network the code does not say, by file.
    fn draw_vnets(&mut self, subnets: &[SubnetInfo], vnets: &[VnetInfo]) {
        let model = self.model;
        for v in vnets {
            if self.vnet_rep.get(&v.key) != Some(&v.key) {
                continue;
            }
            let group = self.vnet_group.get(&v.key).cloned().unwrap_or_default();
            let folded: Vec<&VnetKey> = vnets
                .iter()
                .map(|m| &m.key)
                .filter(|k| self.vnet_rep.get(*k) == Some(&v.key))
                .collect();
            let own: Vec<&SubnetInfo> = subnets.iter().filter(|s| s.vnet.as_ref() == Some(&v.key)).collect();
            // The subnets of the other members, by shape: their traces go
            // with the representative's node.
            let alike = |shape: &str| -> Vec<&SubnetInfo> {
                subnets
                    .iter()
                    .filter(|s| s.shape == shape && s.vnet.as_ref().is_some_and(|k| k != &v.key && folded.contains(&k)))
                    .collect()
            };
            let mut folds: Vec<Vec<&SubnetInfo>> = Vec::new();
            for s in own {
                match folds.iter_mut().find(|f| {
                    f.first()
                        .is_some_and(|x| x.table == s.table && x.nsg == s.nsg && x.state == s.state && x.hop == s.hop)
                }) {
                    Some(f) => f.push(s),
                    None => folds.push(vec![s]),
                }
            }
            for f in folds {
                let others: Vec<&SubnetInfo> = f.iter().flat_map(|s| alike(&s.shape)).collect();
                self.draw_fold(&f, &others, &group);
            }
            for (gi, g) in model.gateways.iter().enumerate() {
                if model.vnet_of_gateway(gi) == Some(&v.key) {
                    self.gateway_node(gi, g);
                }
            }
            for (fi, f) in model.firewalls.iter().enumerate() {
                if model.vnet_of_firewall(fi) == Some(&v.key) {
                    self.firewall_node(fi, f);
                }
            }
        }
        let mut loose: Vec<(String, Vec<&SubnetInfo>)> = Vec::new();
        for s in subnets.iter().filter(|s| s.vnet.is_none()) {
            let group = self.sources.get(s.file).map(|_| self.sources.display(s.file)).unwrap_or_default();
            match loose.iter_mut().find(|(g, f)| {
                g == &group
                    && f.first()
                        .is_some_and(|x| x.table == s.table && x.nsg == s.nsg && x.state == s.state && x.hop == s.hop)
            }) {
                Some((_, f)) => f.push(s),
                None => loose.push((group, vec![s])),
            }
        }
        for (group, f) in loose {
            self.draw_fold(&f, &[], &group);
        }
    }

    /// The box a gateway or firewall is drawn in: its network's, or none.
    fn group_of_vnet(&self, key: Option<&VnetKey>) -> String {
        key.and_then(|k| self.vnet_group.get(k)).cloned().unwrap_or_default()
    }

    fn gateway_node(&mut self, gi: usize, g: &Gateway) -> String {
        let kind = match g.kind {
            GatewayRoute::ExpressRoute => "ExpressRoute gateway",
            GatewayRoute::Bgp => "VPN gateway",
            GatewayRoute::DefaultSite => "VPN gateway",
        };
        let how = match g.kind {
            GatewayRoute::ExpressRoute | GatewayRoute::Bgp => "BGP",
            GatewayRoute::DefaultSite => "default site",
        };
        let group = self.group_of_vnet(self.model.vnet_of_gateway(gi));
        self.g.node(
            &mut self.key,
            format!("gateway:{gi}"),
            NodeKind::Gateway,
            format!("{kind} {} ({how})", display_name(&g.name, &g.address)),
            group,
        )
    }

    fn firewall_node(&mut self, fi: usize, f: &crate::model::Firewall) -> String {
        let group = self.group_of_vnet(self.model.vnet_of_firewall(fi));
        self.g.node(
            &mut self.key,
            format!("firewall:{fi}"),
            NodeKind::Firewall,
            format!("Azure Firewall {}", display_name(&f.name, &f.address)),
            group,
        )
    }

    /// The next hop and KMS, with the step into the hop in the colour of `state`.
    fn draw_path(&mut self, from: &str, hop: &Hop, state: State) {
        let model = self.model;
        let hid = match hop {
            Hop::Gateway(gi) => match model.gateways.get(*gi) {
                Some(g) => self.gateway_node(*gi, g),
                None => return,
            },
            Hop::Firewall(fi) => match model.firewalls.get(*fi) {
                Some(f) => self.firewall_node(*fi, f),
                None => return,
            },
            Hop::Shared(label) => self.g.node(
                &mut self.key,
                format!("hop:{label}"),
                NodeKind::NextHop,
                label.clone(),
                String::new(),
            ),
        };
        let k = self
            .g
            .node(&mut self.key, "kms".into(), NodeKind::Kms, self.kms_label.clone(), String::new());
        self.g.edge(from, &hid, &edge_label(&state), state);
        // The verdict is drawn on the step into the next hop; from there to KMS is plain.
        self.g.edge(&hid, &k, "", State::Plain);
    }

    /// One folded subnet node (`f`, with `others`: the same subnets of the
    /// networks folded into this one), its NSG and route table, and its path to KMS.
    fn draw_fold(&mut self, f: &[&SubnetInfo], others: &[&SubnetInfo], group: &str) {
        let model = self.model;
        let Some(first) = f.first() else { return };
        let names: Vec<String> = f.iter().map(|s| s.name.clone()).collect();
        let label = match names.len() {
            1 => format!("subnet {}", names.join("")),
            n if n <= 3 => format!("subnets {}", names.join(", ")),
            n => format!(
                "{} subnets: {}, … {}",
                n,
                names.first().cloned().unwrap_or_default(),
                names.last().cloned().unwrap_or_default()
            ),
        };
        let addresses: Vec<&str> = f.iter().map(|s| s.address.as_str()).collect();
        let sid = self.g.node(
            &mut self.key,
            format!("subnet:{}:{}", first.file.0, addresses.join(",")),
            NodeKind::Subnet,
            label,
            group.to_string(),
        );
        if let Some(n) = self.g.nodes.iter_mut().find(|n| n.id == sid) {
            n.traces = f.iter().chain(others).map(|s| s.trace.clone()).collect();
        }
        // How many distinct tables (or NSGs) the folded networks' subnets use.
        let count = |pick: &dyn Fn(&SubnetInfo) -> Option<usize>| {
            let mut all: Vec<usize> = f.iter().chain(others).filter_map(|s| pick(s)).collect();
            all.sort_unstable();
            all.dedup();
            all.len()
        };
        let alike = |n: usize| if n > 1 { format!(" and {} alike", n - 1) } else { String::new() };
        let mut last = sid.clone();
        if let Some(n) = first.nsg.and_then(|ni| model.nsgs.get(ni)) {
            let group = self.file_of(&n.origin);
            let nid = self.g.node(
                &mut self.key,
                format!("nsg:{}:{}:{}", n.origin.file.0, n.namespace, n.address),
                NodeKind::Nsg,
                format!("NSG {}{}", display_name(&n.name, &n.address), alike(count(&|s| s.nsg))),
                group,
            );
            self.g.edge(&sid, &nid, "", State::Plain);
        }
        if let Some(t) = first.table.and_then(|ti| model.route_tables.get(ti)) {
            let label = format!("route table {}{}", display_name(&t.name, &t.address), alike(count(&|s| s.table)));
            let tid = self.table_node(t, label);
            self.g.edge(&sid, &tid, "", State::Plain);
            last = tid;
        }
        // Every subnet of a fold fares alike; the codes are those of all.
        let state = match &first.state {
            State::Broken(_) => {
                let mut codes: Vec<String> = f
                    .iter()
                    .flat_map(|s| match &s.state {
                        State::Broken(c) => c.clone(),
                        _ => Vec::new(),
                    })
                    .collect();
                codes.sort();
                codes.dedup();
                State::Broken(codes)
            }
            s => s.clone(),
        };
        self.draw_path(&last, &first.hop.clone(), state);
    }

    fn table_node(&mut self, t: &RouteTable, label: String) -> String {
        let group = self.file_of(&t.origin);
        self.g.node(
            &mut self.key,
            format!("table:{}:{}:{}", t.origin.file.0, t.namespace, t.address),
            NodeKind::RouteTable,
            label,
            group,
        )
    }

    /// A network's own node, which its peerings join.
    fn vnet_node(&mut self, key: &VnetKey, vnets: &[VnetInfo]) -> Option<String> {
        let rep = self.vnet_rep.get(key)?.clone();
        let group = self.vnet_group.get(&rep).cloned().unwrap_or_default();
        let n = vnets.iter().filter(|v| self.vnet_rep.get(&v.key) == Some(&rep)).count();
        let name = vnets.iter().find(|v| v.key == rep).map(|v| v.name.clone()).unwrap_or_default();
        let label = if n > 1 {
            format!("{n} virtual networks")
        } else {
            format!("virtual network {name}")
        };
        let order = self.vnet_order.get(&rep).copied().unwrap_or_default();
        Some(self.g.node(&mut self.key, format!("vnet:{order}"), NodeKind::Vnet, label, group))
    }

    /// One line per pair of peered networks (folded networks' peerings to
    /// the same network are one line, with their count), from the side that
    /// would use the other's gateway. Where a gateway is at either end, the
    /// flags that decide whether its routes cross (KG104) are on the line.
    fn draw_peerings(&mut self, vnets: &[VnetInfo]) {
        let model = self.model;
        let ends = self.peering_ends();
        let rep = |k: &Option<VnetKey>| k.as_ref().and_then(|k| self.vnet_rep.get(k)).cloned();
        // (a, b) by first-seen order, with the peerings each way.
        let mut pairs: Vec<PeeringPair> = Vec::new();
        for (p, (l, r)) in model.peerings.iter().zip(&ends) {
            let (Some(l), Some(r)) = (rep(l), rep(r)) else { continue };
            if l == r {
                continue;
            }
            let ol = self.vnet_order.get(&l).copied().unwrap_or_default();
            let or = self.vnet_order.get(&r).copied().unwrap_or_default();
            let (a, b, forward) = if ol <= or { (l, r, true) } else { (r, l, false) };
            let i = match pairs.iter().position(|(k, _, _)| k.0 == a && k.1 == b) {
                Some(i) => i,
                None => {
                    pairs.push(((a, b), Vec::new(), Vec::new()));
                    pairs.len() - 1
                }
            };
            if let Some((_, ab, ba)) = pairs.get_mut(i) {
                if forward {
                    ab.push(p);
                } else {
                    ba.push(p);
                }
            }
        }
        let hubs: Vec<VnetKey> = (0..model.gateways.len())
            .filter_map(|gi| rep(&model.vnet_of_gateway(gi).cloned()))
            .collect();
        let has_gateway = |k: &VnetKey| hubs.contains(k);
        for ((a, b), ab, ba) in pairs {
            // Drawn from the side that uses (or may use) the other's gateway;
            // else from the later network to the earlier (spoke to hub).
            let uses = |ps: &[&Peering]| ps.iter().any(|p| !matches!(p.use_remote_gateways, Field::Known(false, _)));
            let (from, to, out, back) = if uses(&ab) && !uses(&ba) { (a, b, ab, ba) } else { (b, a, ba, ab) };
            let count = out.len().max(back.len());
            let mut label = if count > 1 {
                format!("{count} peerings")
            } else {
                "peering".to_string()
            };
            let mut state = State::Plain;
            if has_gateway(&from) || has_gateway(&to) {
                let mut flag = |ps: &[&Peering], get: fn(&Peering) -> &Field<bool>, text: &str| {
                    if ps.iter().any(|p| get(p).unresolved().is_some()) {
                        label.push_str(&format!(", {text} unknown"));
                        state = State::Unknown;
                    } else if ps.iter().any(|p| matches!(get(p), Field::Known(true, _))) {
                        label.push_str(&format!(", {text}"));
                    }
                };
                flag(&out, |p| &p.use_remote_gateways, "uses remote gateways");
                flag(&back, |p| &p.allow_gateway_transit, "allows gateway transit");
                flag(&out, |p| &p.allow_gateway_transit, "allows gateway transit (this side)");
                flag(&back, |p| &p.use_remote_gateways, "uses remote gateways (other side)");
                // Why a peered network with a gateway at the other end learns nothing.
                if !out.is_empty() && !uses(&out) {
                    label.push_str(", not using remote gateways");
                }
            }
            if out.is_empty() || back.is_empty() {
                label.push_str(", one side not in the code");
            }
            let (Some(f), Some(t)) = (self.vnet_node(&from, vnets), self.vnet_node(&to, vnets)) else {
                continue;
            };
            self.g.edge(&f, &t, &label, state);
        }
    }

    /// A route table no subnet uses, and where its routes alone send KMS traffic.
    fn draw_lone_table(&mut self, t: &RouteTable, tr: &TraceReport) {
        let (state, deciding) = summary(tr);
        let hop = self.hop_of(deciding, None);
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
