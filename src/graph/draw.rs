//! The nodes and paths drawn from the gathered facts: each network's folded
//! subnets with their NSG and route table, its gateways and firewalls, the
//! subnets whose network the code does not say, the route tables no subnet
//! uses, and each one's path through its next hop to KMS.

use super::spokes::VnetInfo;
use super::subnets::{summary, Hop, SubnetInfo};
use super::{Builder, NodeKind, State};
use crate::model::{Gateway, GatewayRoute, RouteTable, VnetKey};
use crate::rules::display_name;
use crate::trace::TraceReport;

impl Builder<'_> {
    /// Each network's subnets (folded), gateways and firewalls, then the
    /// subnets whose network the code does not say, by file.
    pub(super) fn draw_vnets(&mut self, subnets: &[SubnetInfo], vnets: &[VnetInfo]) {
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

    /// A route table no subnet uses, and where its routes alone send KMS traffic.
    pub(super) fn draw_lone_table(&mut self, t: &RouteTable, tr: &TraceReport) {
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
