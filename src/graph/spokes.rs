//! The virtual networks as drawn: every network the code names, in the order
//! first seen, and the folding of spokes of one shape (same subnets, same
//! peerings, no gateway or firewall) into one box with their count and names.

use std::collections::HashMap;

use super::shape::known;
use super::subnets::SubnetInfo;
use super::Builder;
use crate::model::{Field, VnetKey};
use crate::rules::display_name;

/// A virtual network as drawn: its name and file for the box, and the
/// networks folded into it (itself first).
pub(super) struct VnetInfo {
    pub(super) key: VnetKey,
    pub(super) name: String,
    pub(super) file: String,
    /// `None` when it never folds: it holds a gateway or firewall (a hub),
    /// or nothing that could tell it apart.
    pub(super) shape: Option<String>,
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
    /// Every virtual network the code names, in the order first seen, with
    /// its shape; and which fold each one is drawn in.
    pub(super) fn vnet_infos(&mut self, subnets: &[SubnetInfo]) -> Vec<VnetInfo> {
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

    pub(super) fn peering_ends(&self) -> Vec<(Option<VnetKey>, Option<VnetKey>)> {
        (0..self.model.peerings.len()).map(|pi| self.model.peering_ends(pi)).collect()
    }
}
