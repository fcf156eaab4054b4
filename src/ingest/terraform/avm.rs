//! Terraform calls of registry modules kmsguard reads from their inputs
//! (see `crate::ingest::registry`), when `terraform init` has not installed
//! them: installed modules are read from their files instead.

use std::collections::BTreeMap;

use hcl::edit::expr::Expression;
use hcl::edit::Span;

use super::eval::Evaluator;
use super::lower::{expand_instances, hcl_node, ResourceBlock};
use super::{header_span, HclFile};
use crate::ingest::azure::{Deferred, Node, NodeKind};
use crate::ingest::registry::{self, Known, ModuleMap};
use crate::ingest::value::Val;
use crate::model::{Authoring, Dialect, Model, RouteStyle, Unresolved};
use crate::source::{indent_at, line_start, Origin};

/// Lowers every instance of the call into `model`; returns what `module.NAME`
/// evaluates to (its outputs, per instance for `count` and `for_each`).
#[allow(clippy::too_many_arguments)]
pub(super) fn lower_call(
    ev: &Evaluator,
    block: &hcl::edit::structure::Block,
    file: &HclFile,
    name: &str,
    prefix: &str,
    sites: &[Origin],
    meta: &[&str],
    module: &ModuleMap,
    version: &Known,
    exact: bool,
    model: &mut Model,
    deferred: &mut Deferred,
) -> Val {
    let header = Origin::new(file.file, header_span(block));
    let rb = ResourceBlock {
        ty: "module",
        name,
        block,
        file,
    };
    let mut outputs: Vec<(Option<Val>, Val)> = Vec::new();
    for inst in expand_instances(ev, &rb) {
        let address = format!("{prefix}{}", inst.address);
        if let Err(reason) = ev
            .budget
            .expand_instance(block.span().map_or(0, |s| s.len()))
            .map_err(|spent| spent.to_string())
        {
            model.unchecked.push((address, Unresolved { reason, origin: header }));
            break;
        }
        let mut props = Vec::new();
        for attr in block.body.attributes() {
            let k = attr.key.as_str();
            if !meta.contains(&k) {
                props.push((k.to_string(), hcl_node(ev, &attr.value, file, &inst.scope, 0)));
            }
        }
        if !exact {
            let passed: Vec<String> = props.iter().map(|(k, _)| k.clone()).collect();
            if let Some(why) = registry::undeclared_inputs(version, &passed) {
                model.unchecked.push((
                    address,
                    Unresolved {
                        reason: format!(
                            "the version of {} is not one kmsguard knows, and the call {why}; the nearest known version is {}",
                            module.name, version.version
                        ),
                        origin: header.clone(),
                    },
                ));
                continue;
            }
        }
        let inputs = Node {
            kind: NodeKind::Object(props),
            origin: header.clone(),
        };
        let body = registry::reshape(module, version, &inputs);
        outputs.push((inst.key.clone(), registry::outputs(module, &body)));
        let mut all_sites = sites.to_vec();
        all_sites.push(header.clone());
        let call = registry::Call {
            address,
            origin: header.clone(),
            conditional: inst.conditional.clone(),
            dialect: Dialect::Terraform,
            authoring: authoring(block, file, name),
            site: header.clone(),
        };
        let registry::Lowered {
            model: mut lowered,
            deferred: later,
        } = registry::lower(module, body, call);
        for t in &mut lowered.route_tables {
            t.called_from = all_sites.clone();
            // A pattern's routes to the firewall it deploys itself are linked already.
            for r in t.routes.iter_mut().filter(|r| r.next_hop_firewall.is_none()) {
                r.next_hop_firewall = r.next_hop_ip.as_ref().and_then(|ip| firewall_ref(file, ip.origin()));
            }
        }
        for n in &mut lowered.nsgs {
            n.called_from = all_sites.clone();
        }
        for g in &mut lowered.gateways {
            if matches!(g.subnet, Some(crate::model::Link::Id(crate::model::Field::Unknown(_)))) {
                if let Some(l) = gateway_network(block, file, prefix) {
                    g.subnet = Some(l);
                }
            }
        }
        model.absorb(lowered);
        deferred.extend(later);
    }
    match outputs.as_slice() {
        [(None, out)] => out.clone(),
        _ if outputs.iter().all(|(k, _)| matches!(k, Some(Val::Number(_)))) => Val::List(outputs.into_iter().map(|(_, o)| o).collect()),
        _ => Val::Object(
            outputs
                .into_iter()
                .filter_map(|(k, o)| Some((k?.to_tf_string()?, o)))
                .collect::<BTreeMap<_, _>>(),
        ),
    }
}

/// The firewall a route's next hop written in the call reads
/// (`module.fw.resource.ip_configuration[0].private_ip_address`,
/// `azurerm_firewall.hub.ip_configuration[0].private_ip_address`), parsed
/// back from the text of the value.
fn firewall_ref(file: &HclFile, at: &Origin) -> Option<crate::model::Link> {
    if at.file != file.file {
        return None;
    }
    let text = file.text.get(at.span())?;
    let expr: Expression = text.trim().parse().ok()?;
    super::lower::firewall_ref_at(&expr, at.clone())
}

/// A resource id is only known after apply, so the gateway's network is
/// linked by reference: `virtual_network_gateway_subnet_id =
/// azurerm_subnet.X.id`, or `virtual_network_id = azurerm_virtual_network.X.id`
/// (the network whose GatewaySubnet the module uses).
fn gateway_network(block: &hcl::edit::structure::Block, file: &HclFile, prefix: &str) -> Option<crate::model::Link> {
    let at = |key: &str, ty: &str| {
        let a = block.body.get_attribute(key)?;
        let (name, index) = super::reference_to(&a.value, ty, "id")?;
        let origin = Origin::new(file.file, a.value.span().unwrap_or(0..0));
        index
            .is_none()
            .then(|| crate::model::Link::Address(format!("{prefix}{ty}.{name}"), origin, 0))
    };
    at("virtual_network_gateway_subnet_id", "azurerm_subnet").or_else(|| at("virtual_network_id", "azurerm_virtual_network"))
}

/// New routes go before the first entry of a written-out `routes = { … }`
/// map, as entries of their own.
fn authoring(block: &hcl::edit::structure::Block, file: &HclFile, name: &str) -> Authoring {
    let text = &file.text;
    let first = match block.body.get_attribute("routes").map(|a| &a.value) {
        Some(Expression::Object(o)) => o.iter().next().and_then(|(k, _)| k.span()),
        _ => None,
    };
    let (indent, insert_at) = match first {
        Some(s) => {
            let start = line_start(text, s.start);
            (indent_at(text, s.start), Some(Origin::new(file.file, start..start)))
        }
        None => (indent_at(text, header_span(block).start) + "    ", None),
    };
    Authoring {
        dialect: Dialect::Terraform,
        style: RouteStyle::ModuleMap,
        indent,
        reference: format!("module.{name}"),
        insert_at,
    }
}
