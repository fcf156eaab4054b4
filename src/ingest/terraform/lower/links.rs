//! How one resource refers to another: links by address or id, and the
//! table or NSG a separately declared route or rule belongs to.

use hcl::edit::expr::Expression;
use hcl::edit::Span;

use super::{ByName, Instance, ResourceBlock};
use crate::ingest::terraform::eval::{snippet, Evaluator, Scope};
use crate::ingest::terraform::fields::{eval_or_unknown, Fields};
use crate::ingest::terraform::{reference_to, HclFile};
use crate::ingest::value::Val;
use crate::model::{Dialect, Field, Link, Orphan, OrphanChild, Unresolved};
use crate::source::Origin;

pub(super) enum Parent {
    Found(Vec<usize>),
    Unknown(Unresolved),
    /// Several parents of the module could be meant (one name, resource
    /// groups that do not tell them apart): each is marked incomplete.
    Ambiguous(Vec<usize>, Unresolved),
    /// The parent is not declared in this module: a name to look for in
    /// the whole unit (`name`), or a data source or module output that no
    /// resource here declares; `label` says how the code names it.
    Orphan {
        name: Option<String>,
        label: String,
        origin: Origin,
    },
    /// The child names no parent.
    Missing,
}

impl Parent {
    /// Gives `child` to every parent found (by index into `parents`); when
    /// which parent is unknown, the child might belong to any of them, so
    /// each is marked incomplete rather than guessed. Returns the child and
    /// the parent's names when the parent is not in this module.
    #[allow(clippy::type_complexity)]
    pub(super) fn attach<P, T: Clone>(
        self,
        parents: &mut [P],
        child: T,
        add: impl Fn(&mut P, T),
        incomplete: impl Fn(&mut P, Unresolved),
    ) -> Option<(T, Option<String>, String, Origin)> {
        match self {
            Parent::Found(indices) => {
                for i in indices {
                    if let Some(p) = parents.get_mut(i) {
                        add(p, child.clone());
                    }
                }
            }
            Parent::Unknown(why) => {
                for p in parents {
                    incomplete(p, why.clone());
                }
            }
            Parent::Ambiguous(indices, why) => {
                for i in indices {
                    if let Some(p) = parents.get_mut(i) {
                        incomplete(p, why.clone());
                    }
                }
            }
            Parent::Orphan { name, label, origin } => return Some((child, name, label, origin)),
            Parent::Missing => {}
        }
        None
    }
}

/// Finds the table (or NSG) a separately declared route (or rule) belongs to:
/// by reference (`azurerm_route_table.hub.name`), or by a literal name and
/// resource group. Azure names a table by resource group and name, so a
/// parent in another resource group is never joined; where the child's or a
/// parent's group is unknown the name decides, but only when one parent has
/// it (two are never merged). A parent from a data source or a module
/// output, or a name this module does not declare, is an orphan for the unit.
#[allow(clippy::too_many_arguments)]
pub(super) fn resolve_parent<'m>(
    ev: &Evaluator,
    r: &ResourceBlock,
    inst: &Instance,
    attr: &str,
    parent_type: &str,
    by_name: &ByName,
    name_of: impl Fn(usize) -> Option<&'m Field<String>>,
    group_of: impl Fn(usize) -> Option<&'m String>,
    child_group: Option<&str>,
) -> Parent {
    let Some(a) = r.block.body.get_attribute(attr) else {
        return Parent::Missing;
    };
    let text = &r.file.text;
    let origin = Origin::new(r.file.file, a.value.span().unwrap_or(0..0));
    if let Some((name, index)) = reference_to(&a.value, parent_type, "name") {
        let Some(candidates) = by_name.get(name.as_str()) else {
            return Parent::Missing;
        };
        return match index {
            None => Parent::Found(candidates.iter().map(|(i, _)| *i).collect()),
            Some(index_expr) => match eval_or_unknown(ev, index_expr, text, &inst.scope) {
                Val::Unknown(reason) => Parent::Unknown(Unresolved {
                    reason: format!(
                        "{} belongs to {}, whose instance is unknown: {reason}",
                        inst.address,
                        snippet(text, &a.value)
                    ),
                    origin,
                }),
                key => {
                    let key_str = key.to_tf_string();
                    Parent::Found(
                        candidates
                            .iter()
                            .filter(|(_, k)| k.as_ref().and_then(Val::to_tf_string) == key_str)
                            .map(|(i, _)| *i)
                            .collect(),
                    )
                }
            },
        };
    }
    // A data source reads a parent that exists already: never one declared here.
    if let Some(d) = data_source(&a.value) {
        return Parent::Orphan {
            name: None,
            label: d,
            origin,
        };
    }
    let from_module = matches!(&a.value, Expression::Traversal(t) if matches!(&t.expr, Expression::Variable(v) if v.as_str() == "module"));
    match eval_or_unknown(ev, &a.value, text, &inst.scope) {
        Val::String(name) => {
            let same_group = |i: usize| match (child_group, group_of(i)) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => true,
            };
            let found: Vec<usize> = by_name
                .values()
                .flatten()
                .map(|(i, _)| *i)
                .filter(|i| name_of(*i).and_then(Field::known) == Some(&name) && same_group(*i))
                .collect();
            match found.len() {
                0 => Parent::Orphan {
                    label: name.clone(),
                    name: Some(name),
                    origin,
                },
                1 => Parent::Found(found),
                n => Parent::Ambiguous(
                    found,
                    Unresolved {
                        reason: format!(
                            "{} may belong to this {}: {n} of them are named {name} and its resource group does not tell them apart",
                            inst.address,
                            parent_type.trim_start_matches("azurerm_").replace('_', " ")
                        ),
                        origin,
                    },
                ),
            }
        }
        // A module output the evaluator cannot follow names a parent of another module.
        Val::Unknown(_) if from_module => Parent::Orphan {
            name: None,
            label: snippet(text, &a.value).to_string(),
            origin,
        },
        Val::Unknown(reason) => Parent::Unknown(Unresolved {
            reason: format!(
                "{} may belong to this {}: its {attr} is unknown ({reason})",
                inst.address,
                parent_type.trim_start_matches("azurerm_").replace('_', " ")
            ),
            origin,
        }),
        _ => Parent::Missing,
    }
}

/// A reference to another resource's id: by address when it is written as
/// `TYPE.NAME[KEY].id`, else by the id's value.
pub(super) fn link_of(ev: &Evaluator, expr: &Expression, ty: &str, file: &HclFile, scope: &Scope) -> Link {
    let origin = Origin::new(file.file, expr.span().unwrap_or(0..0));
    for target in [ty, "azapi_resource"] {
        if let Some((name, index)) = reference_to(expr, target, "id") {
            let address = instance_address(ev, format!("{target}.{name}"), index, file, scope);
            return Link::Address(address, origin, 0);
        }
    }
    if let Some(d) = data_source(expr) {
        return Link::Address(d, origin, 0);
    }
    Link::Id(match eval_or_unknown(ev, expr, &file.text, scope) {
        Val::String(s) => Field::Known(s, origin),
        Val::Unknown(r) => Field::unknown(Unresolved {
            reason: r.to_string(),
            origin,
        }),
        other => Field::unknown(Unresolved {
            reason: format!("the id is a {}, not a string", other.type_name()),
            origin,
        }),
    })
}

/// `base` with the instance key a reference's index evaluates to
/// (`x["a"]`, `x[0]`); `base` alone when the index is unknown.
fn instance_address(ev: &Evaluator, mut base: String, index: Option<&Expression>, file: &HclFile, scope: &Scope) -> String {
    if let Some(ix) = index {
        match eval_or_unknown(ev, ix, &file.text, scope) {
            Val::String(k) => base.push_str(&format!("[{k:?}]")),
            Val::Number(n) => base.push_str(&format!("[{}]", crate::ingest::value::format_number(n))),
            _ => {}
        }
    }
    base
}

/// `data.TYPE.NAME.attr`: the data source an expression reads, as an address.
pub(super) fn data_source(expr: &Expression) -> Option<String> {
    use hcl::edit::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else { return None };
    if root.as_str() != "data" {
        return None;
    }
    match t.operators.iter().map(|o| o.value()).collect::<Vec<_>>().as_slice() {
        [Op::GetAttr(ty), Op::GetAttr(name), Op::GetAttr(_)] => Some(format!("data.{}.{}", ty.as_str(), name.as_str())),
        _ => None,
    }
}

/// A reference to another resource by its name (`virtual_network_name =
/// azurerm_virtual_network.hub.name`, a data source's name, or a literal).
pub(super) fn name_link(ev: &Evaluator, expr: &Expression, ty: &str, file: &HclFile, scope: &Scope) -> Link {
    let origin = Origin::new(file.file, expr.span().unwrap_or(0..0));
    if let Some((name, index)) = reference_to(expr, ty, "name") {
        let address = instance_address(ev, format!("{ty}.{name}"), index, file, scope);
        return Link::Address(address, origin, 0);
    }
    if let Some(d) = data_source(expr) {
        return Link::Address(d, origin, 0);
    }
    link_of(ev, expr, ty, file, scope)
}

/// The link a resource's `attr` makes to a resource of type `ty`, when it
/// sets `attr`.
pub(super) fn link_attr(ev: &Evaluator, r: &ResourceBlock, inst: &Instance, attr: &str, ty: &str) -> Option<Link> {
    r.block
        .body
        .get_attribute(attr)
        .map(|a| link_of(ev, &a.value, ty, r.file, &inst.scope))
}

/// Whether a link names the resource with this address and Azure name.
pub(super) fn links_to(link: &Link, address: &str, name: &Field<String>) -> bool {
    match link {
        // An instance-less reference (`azurerm_subnet.a.id`) matches every instance's base address.
        Link::Address(a, _, _) => a == address || address.strip_prefix(a.as_str()).is_some_and(|rest| rest.starts_with('[')),
        Link::Id(Field::Known(id, _)) => {
            let last = id.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
            name.known().is_some_and(|n| n.eq_ignore_ascii_case(last))
        }
        Link::Id(Field::Unknown(_)) => false,
    }
}

/// `next_hop_in_ip_address = azurerm_firewall.X.ip_configuration[0].private_ip_address`.
pub(super) fn firewall_ref(expr: &Expression, file: &HclFile) -> Option<Link> {
    firewall_ref_at(expr, Origin::new(file.file, expr.span().unwrap_or(0..0)))
}

/// The same, or `module.X.resource.ip_configuration[0].private_ip_address`
/// (the AVM firewall module's `resource` output), linked to `module.X`: the
/// address the registry call's firewall gets. A local module's firewall has
/// a longer address, so the link finds nothing, as before.
pub(in crate::ingest::terraform) fn firewall_ref_at(expr: &Expression, origin: Origin) -> Option<Link> {
    use hcl::edit::expr::TraversalOperator as Op;
    let Expression::Traversal(t) = expr else { return None };
    let Expression::Variable(root) = &t.expr else { return None };
    if root.as_str() != "azurerm_firewall" && root.as_str() != "module" {
        return None;
    }
    let name = match t.operators.first().map(|o| o.value()) {
        Some(Op::GetAttr(n)) => n.as_str().to_string(),
        _ => return None,
    };
    // A module's firewall only through the AVM module's `resource` output.
    if root.as_str() == "module" && !matches!(t.operators.get(1).map(|o| o.value()), Some(Op::GetAttr(a)) if a.as_str() == "resource") {
        return None;
    }
    let mentions_ip = t
        .operators
        .iter()
        .any(|o| matches!(o.value(), Op::GetAttr(a) if a.as_str() == "private_ip_address"));
    mentions_ip.then(|| Link::Address(format!("{}.{name}", root.as_str()), origin, 0))
}

/// A route or rule declared apart whose parent is named by a literal string
/// (a `.tf.json` value, or a plan's, where no reference can be followed): an
/// orphan its table or NSG adopts by name and resource group. `None` when
/// the parent's name is not known.
pub(in crate::ingest::terraform) fn orphan_by_name(child: OrphanChild, f: &Fields, origin: Origin) -> Option<Orphan> {
    let parent_key = match child {
        OrphanChild::Route(_) => "route_table_name",
        OrphanChild::Rule(_) => "network_security_group_name",
    };
    let Some(Field::Known(parent, _)) = f.string(parent_key) else {
        return None;
    };
    Some(Orphan {
        child,
        parent_label: parent.clone(),
        parent_name: Some(parent),
        resource_group: f.string("resource_group_name").and_then(|g| g.known().cloned()),
        origin,
        dialect: Dialect::Terraform,
    })
}

/// The subnet an `ip_configuration` block's `subnet_id` names: a gateway's
/// GatewaySubnet or a firewall's AzureFirewallSubnet, which places it in
/// its network.
pub(super) fn ip_configuration_subnet(ev: &Evaluator, r: &ResourceBlock, inst: &Instance) -> Option<Link> {
    r.block
        .body
        .get_blocks("ip_configuration")
        .find_map(|b| b.body.get_attribute("subnet_id"))
        .map(|a| link_of(ev, &a.value, "azurerm_subnet", r.file, &inst.scope))
}
