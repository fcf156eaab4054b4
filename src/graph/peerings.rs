//! Peerings drawn between the networks' own nodes: one line per pair of
//! peered networks, with the flags that decide whether a gateway's routes
//! cross the peering (KG104) where a gateway is at either end.

use super::spokes::VnetInfo;
use super::{Builder, NodeKind, State};
use crate::model::{Field, Peering, VnetKey};

/// Two peered networks (by first-seen order) and the peerings each way.
type PeeringPair<'a> = ((VnetKey, VnetKey), Vec<&'a Peering>, Vec<&'a Peering>);

impl Builder<'_> {
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
    pub(super) fn draw_peerings(&mut self, vnets: &[VnetInfo]) {
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
}
