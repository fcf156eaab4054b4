//! Lowering a reshaped call into the model.

use super::catalogue::ModuleMap;
use super::reshape::name_field;
use super::Produces;
use crate::ingest::azure::{self, Node, Resource};
use crate::model::{Authoring, Dialect, Model, Unresolved};
use crate::source::Origin;

/// A call lowered: what the module deploys, at `address`.
pub struct Call {
    pub address: String,
    /// The call's header, where table-level findings point.
    pub origin: Origin,
    pub conditional: Option<Unresolved>,
    pub dialect: Dialect,
    pub authoring: Authoring,
    /// The call itself, named as related by every finding inside it.
    pub site: Origin,
}

pub fn lower(module: &ModuleMap, body: Node, call: Call) -> Model {
    let mut model = Model::default();
    let name = name_field(&body, &call.origin);
    match module.produces {
        Produces::RouteTable | Produces::Nsg => {
            let res = Resource {
                address: call.address,
                name,
                body,
                origin: call.origin,
                conditional: call.conditional,
                dialect: call.dialect,
                authoring: call.authoring,
            };
            if module.produces == Produces::RouteTable {
                let mut t = azure::route_table(res);
                t.called_from.push(call.site);
                model.route_tables.push(t);
            } else {
                let mut n = azure::nsg(res);
                n.called_from.push(call.site);
                model.nsgs.push(n);
            }
        }
        Produces::VirtualNetwork => model.subnets.extend(azure::vnet_subnets(&body, &call.address)),
    }
    model
}
