//! Links between resources resolved once per model: which table a subnet
//! uses, which subnets a table serves, which network a gateway is in.

use super::{Field, Firewall, Link, Model, NetworkInterface, Nsg, Peering, ResourceId, RouteTable, Subnet};

/// Which virtual network a subnet, gateway or peering is in: one declared
/// in the code, or one named but declared elsewhere (by its unit and
/// lower-cased name or reference).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VnetKey {
    Declared(usize),
    Named(u32, String),
}

/// Which resource each link points at, resolved once: rules ask for a
/// subnet's table or a table's subnets thousands of times on large repos.
#[derive(Debug, Default)]
pub struct Links {
    table_of_subnet: Vec<Option<usize>>,
    subnets_of_table: Vec<Vec<usize>>,
    nics_of_subnet: Vec<Vec<usize>>,
    nsgs: Index,
    firewalls: Index,
    vnet_of_subnet: Vec<Option<VnetKey>>,
    vnet_of_gateway: Vec<Option<VnetKey>>,
    vnet_of_firewall: Vec<Option<VnetKey>>,
    /// Each peering's (local, remote) networks.
    peering_ends: Vec<(Option<VnetKey>, Option<VnetKey>)>,
}

/// Resources of one kind by (namespace, address) and by lower-cased name,
/// with each one's namespace and resource group.
#[derive(Debug, Default)]
struct Index {
    by_address: std::collections::HashMap<(u32, String), usize>,
    by_name: std::collections::HashMap<String, Vec<usize>>,
    namespace: Vec<u32>,
    resource_group: Vec<Option<String>>,
}

impl Index {
    fn new<'a>(items: impl Iterator<Item = (u32, &'a str, &'a Field<String>, Option<&'a String>)>) -> Self {
        let mut ix = Index::default();
        for (i, (ns, address, name, rg)) in items.enumerate() {
            ix.by_address.entry((ns, address.to_string())).or_insert(i);
            if let Some(n) = name.known() {
                ix.by_name.entry(n.to_ascii_lowercase()).or_default().push(i);
            }
            ix.namespace.push(ns);
            ix.resource_group.push(rg.cloned());
        }
        ix
    }

    /// The resource `link` names, seen from a resource in unit `from`.
    fn resolve(&self, link: &Link, from: u32) -> Option<usize> {
        match link {
            Link::Address(a, _, ns) => self.by_address.get(&(*ns, a.clone())).copied(),
            Link::Id(Field::Known(id, _)) => {
                let id = ResourceId::parse(id);
                let candidates = self.by_name.get(&id.name().to_ascii_lowercase())?;
                // A resource group both sides name must agree; one side not
                // naming it leaves the name to decide, inside the unit only.
                let same_group = |i: usize| match (&id.resource_group, self.resource_group.get(i).and_then(Option::as_ref)) {
                    (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                    _ => true,
                };
                let ns = |i: usize| self.namespace.get(i).copied();
                if let Some(i) = candidates.iter().copied().find(|i| ns(*i) == Some(from) && same_group(*i)) {
                    return Some(i);
                }
                if !id.is_full() {
                    return None;
                }
                candidates
                    .iter()
                    .copied()
                    .find(|i| ns(*i) != Some(from) && self.resource_group.get(*i).is_some_and(Option::is_some) && same_group(*i))
            }
            Link::Id(Field::Unknown(_)) => None,
        }
    }
}

impl Model {
    fn links(&self) -> &Links {
        self.links.get_or_init(|| {
            let tables = Index::new(
                self.route_tables
                    .iter()
                    .map(|t| (t.namespace, t.address.as_str(), &t.name, t.resource_group.as_ref())),
            );
            let subnets = Index::new(self.subnets.iter().map(|s| (s.namespace, s.address.as_str(), &s.name, None)));
            let vnets = Index::new(
                self.vnets
                    .iter()
                    .map(|v| (v.namespace, v.address.as_str(), &v.name, v.resource_group.as_ref())),
            );
            let table_of_subnet: Vec<Option<usize>> = self
                .subnets
                .iter()
                .map(|s| s.route_table.as_ref().and_then(|l| tables.resolve(l, s.namespace)))
                .collect();
            let mut subnets_of_table = vec![Vec::new(); self.route_tables.len()];
            for (si, t) in table_of_subnet.iter().enumerate() {
                if let Some(list) = t.and_then(|t| subnets_of_table.get_mut(t)) {
                    list.push(si);
                }
            }
            let mut nics_of_subnet = vec![Vec::new(); self.subnets.len()];
            for (ni, nic) in self.nics.iter().enumerate() {
                for l in &nic.subnets {
                    if let Some(list) = subnets.resolve(l, nic.namespace).and_then(|s| nics_of_subnet.get_mut(s)) {
                        list.push(ni);
                    }
                }
            }
            let vnet_key = |link: Option<&Link>, ns: u32| -> Option<VnetKey> {
                let link = link?;
                if let Some(i) = vnets.resolve(link, ns) {
                    return Some(VnetKey::Declared(i));
                }
                match link {
                    Link::Id(Field::Known(id, _)) => {
                        let name = ResourceId::parse(id).name().to_ascii_lowercase();
                        (!name.is_empty()).then_some(VnetKey::Named(ns, name))
                    }
                    Link::Address(a, _, n) => Some(VnetKey::Named(*n, format!("@{a}"))),
                    Link::Id(Field::Unknown(_)) => None,
                }
            };
            let vnet_of_subnet: Vec<Option<VnetKey>> = self.subnets.iter().map(|s| vnet_key(s.vnet.as_ref(), s.namespace)).collect();
            // A gateway or firewall sits in the network of its IP configuration's subnet.
            let vnet_of_ip_config = |subnet: Option<&Link>, namespace: u32| match subnet {
                // A subnet id names its network: no need to find the
                // subnet (every gateway's is called GatewaySubnet).
                Some(Link::Id(Field::Known(id, o))) => ResourceId::parse(id)
                    .vnet_of_subnet()
                    .and_then(|v| vnet_key(Some(&Link::Id(Field::Known(v.to_string(), o.clone()))), namespace)),
                // Or the network itself: a registry module that puts
                // its gateway in the network's GatewaySubnet.
                Some(l) => match subnets.resolve(l, namespace) {
                    Some(si) => vnet_of_subnet.get(si).cloned().flatten(),
                    None => vnets.resolve(l, namespace).map(VnetKey::Declared),
                },
                None => None,
            };
            let vnet_of_gateway = self
                .gateways
                .iter()
                .map(|g| vnet_of_ip_config(g.subnet.as_ref(), g.namespace))
                .collect();
            let vnet_of_firewall = self
                .firewalls
                .iter()
                .map(|f| vnet_of_ip_config(f.subnet.as_ref(), f.namespace))
                .collect();
            let peering_ends = self
                .peerings
                .iter()
                .map(|p| (vnet_key(p.vnet.as_ref(), p.namespace), vnet_key(p.remote.as_ref(), p.namespace)))
                .collect();
            Links {
                table_of_subnet,
                subnets_of_table,
                nics_of_subnet,
                nsgs: Index::new(
                    self.nsgs
                        .iter()
                        .map(|n| (n.namespace, n.address.as_str(), &n.name, n.resource_group.as_ref())),
                ),
                firewalls: Index::new(self.firewalls.iter().map(|f| (f.namespace, f.address.as_str(), &f.name, None))),
                vnet_of_subnet,
                vnet_of_gateway,
                vnet_of_firewall,
                peering_ends,
            }
        })
    }

    /// The route table of the subnet at `subnet` (an index into `subnets`).
    pub fn route_table_of(&self, subnet: usize) -> Option<&RouteTable> {
        self.links()
            .table_of_subnet
            .get(subnet)
            .copied()
            .flatten()
            .and_then(|t| self.route_tables.get(t))
    }

    /// The firewall `link` names, seen from a resource in unit `from`.
    pub fn firewall_of(&self, from: u32, link: Option<&Link>) -> Option<&Firewall> {
        self.links().firewalls.resolve(link?, from).and_then(|i| self.firewalls.get(i))
    }

    /// The NSG `link` names, seen from a resource in unit `from`.
    pub fn nsg_of(&self, from: u32, link: Option<&Link>) -> Option<&Nsg> {
        self.links().nsgs.resolve(link?, from).and_then(|i| self.nsgs.get(i))
    }

    /// The subnets associated with the route table at `table` (an index into `route_tables`).
    pub fn subnets_of(&self, table: usize) -> impl Iterator<Item = &Subnet> + '_ {
        self.links()
            .subnets_of_table
            .get(table)
            .into_iter()
            .flatten()
            .filter_map(|i| self.subnets.get(*i))
    }

    /// The network interfaces in the subnet at `subnet`.
    pub fn nics_in(&self, subnet: usize) -> impl Iterator<Item = &NetworkInterface> + '_ {
        self.links()
            .nics_of_subnet
            .get(subnet)
            .into_iter()
            .flatten()
            .filter_map(|i| self.nics.get(*i))
    }

    /// The virtual network of the subnet at `subnet`, when the code says.
    pub fn vnet_of_subnet(&self, subnet: usize) -> Option<&VnetKey> {
        self.links().vnet_of_subnet.get(subnet).and_then(Option::as_ref)
    }

    /// The virtual network of the gateway at `gateway`, when the code says.
    pub fn vnet_of_gateway(&self, gateway: usize) -> Option<&VnetKey> {
        self.links().vnet_of_gateway.get(gateway).and_then(Option::as_ref)
    }

    /// The virtual network of the firewall at `firewall`, when the code says.
    pub fn vnet_of_firewall(&self, firewall: usize) -> Option<&VnetKey> {
        self.links().vnet_of_firewall.get(firewall).and_then(Option::as_ref)
    }

    /// The (local, remote) networks of the peering at `peering`, where the code says.
    pub fn peering_ends(&self, peering: usize) -> (Option<VnetKey>, Option<VnetKey>) {
        self.links().peering_ends.get(peering).cloned().unwrap_or((None, None))
    }

    /// The peerings from `local` to `remote`.
    pub fn peerings_between<'a>(&'a self, local: &'a VnetKey, remote: &'a VnetKey) -> impl Iterator<Item = &'a Peering> + 'a {
        self.links()
            .peering_ends
            .iter()
            .zip(&self.peerings)
            .filter(move |((l, r), _)| l.as_ref() == Some(local) && r.as_ref() == Some(remote))
            .map(|(_, p)| p)
    }
}
