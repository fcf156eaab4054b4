//! The body of the resource a call deploys, in Azure's REST shape, built
//! from the call's inputs.

use super::catalogue::{Known, ModuleMap, Target};
use super::network;
use crate::ingest::azure::{Node, NodeKind};
use crate::ingest::value::Val;
use crate::model::{Field, Unresolved};
use crate::source::Origin;

/// Sets `value` at `path` in an object node, creating objects on the way.
pub(super) fn set(node: &mut Node, path: &[String], value: Node) {
    let Some((first, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    if !matches!(node.kind, NodeKind::Object(_)) {
        node.kind = NodeKind::Object(Vec::new());
    }
    let NodeKind::Object(props) = &mut node.kind else { return };
    if let Some((_, child)) = props.iter_mut().find(|(k, _)| k == first) {
        set(child, rest, value);
        return;
    }
    let mut child = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: value.origin.clone(),
    };
    set(&mut child, rest, value);
    props.push((first.clone(), child));
}

/// A node along a dotted path; `None` when absent or null.
pub(super) fn at(node: &Node, path: &str) -> Option<Node> {
    let mut cur = node.clone();
    for seg in path.split('.') {
        cur = cur.present(seg)?;
    }
    Some(cur)
}

/// The elements of a list, or the (key, value) pairs of a map, in key order
/// (the order Terraform iterates a map in).
pub(super) fn elements(node: &Node) -> Result<Vec<(Option<String>, Node)>, Node> {
    match &node.kind {
        NodeKind::Object(props) => {
            let mut v: Vec<(Option<String>, Node)> = props.iter().map(|(k, n)| (Some(k.clone()), n.clone())).collect();
            v.sort_by(|a, b| a.0.cmp(&b.0));
            Ok(v)
        }
        NodeKind::Value(Val::Object(o)) => Ok(o
            .iter()
            .map(|(k, v)| (Some(k.clone()), Node::value(v.clone(), node.origin.clone())))
            .collect()),
        _ => match node.items() {
            Ok(items) => Ok(items.into_iter().map(|n| (None, n)).collect()),
            Err(_) => Err(node.clone()),
        },
    }
}

pub(super) fn reshape_element(key: Option<&str>, element: &Node, each: &[(String, Target)], constants: &[(String, String)]) -> Node {
    let mut out = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: element.origin.clone(),
    };
    if let NodeKind::Value(Val::Unknown(_)) = element.kind {
        return element.clone();
    }
    network::constants(&mut out, constants);
    let (nested, each): (Vec<_>, Vec<_>) = each.iter().partition(|(src, _)| src.contains("[]."));
    network::nested_lists(&mut out, element, &nested, constants);
    for (src, target) in each {
        let value = if src == "@key" {
            key.map(|k| Node::value(Val::String(k.to_string()), element.origin.clone()))
        } else {
            at(element, src)
        };
        let Some(value) = value else { continue };
        let value = match &target.wrap {
            None => value,
            Some(w) => match elements(&value) {
                Ok(items) => Node {
                    kind: NodeKind::List(
                        items
                            .into_iter()
                            .map(|(_, n)| Node {
                                origin: n.origin.clone(),
                                kind: NodeKind::Object(vec![(w.clone(), n)]),
                            })
                            .collect(),
                    ),
                    origin: value.origin.clone(),
                },
                Err(n) => n,
            },
        };
        set(&mut out, &target.path, value);
    }
    out
}

/// The body of the resource a call deploys, in Azure's REST shape, built
/// from the call's inputs (`inputs` is the object of its params/arguments).
pub fn reshape(module: &ModuleMap, version: &Known, inputs: &Node) -> Node {
    let mut body = Node {
        kind: NodeKind::Object(Vec::new()),
        origin: inputs.origin.clone(),
    };
    for (_, m) in module.inputs_for(version.version) {
        let Some(value) = inputs.present(&m.name) else { continue };
        let value = match &m.each {
            None => value,
            Some(each) => match elements(&value) {
                Ok(items) => Node {
                    kind: NodeKind::List(items.iter().map(|(k, n)| reshape_element(k.as_deref(), n, each, &m.set)).collect()),
                    origin: value.origin.clone(),
                },
                Err(n) => n,
            },
        };
        let value = match &m.fields {
            Some(fields) if matches!(value.kind, NodeKind::Object(_) | NodeKind::Value(Val::Object(_))) => {
                reshape_element(None, &value, fields, &[])
            }
            _ => value,
        };
        let value = if m.negate {
            match &value.kind {
                NodeKind::Value(Val::Bool(b)) => Node::value(Val::Bool(!b), value.origin.clone()),
                NodeKind::Value(Val::Unknown(_)) => value,
                _ => Node::value(Val::unknown(format!("{} is not a bool", m.name)), value.origin.clone()),
            }
        } else {
            value
        };
        set(&mut body, &m.to.path, value);
    }
    body
}

/// The resource's name as a field.
pub fn name_field(body: &Node, fallback: &Origin) -> Field<String> {
    match body.present("name") {
        None => Field::unknown(Unresolved {
            reason: "the module call passes no name".into(),
            origin: fallback.clone(),
        }),
        Some(n) => match n.to_val() {
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: n.origin,
            }),
            v => match v.to_tf_string() {
                Some(s) => Field::Known(s, n.origin),
                None => Field::unknown(Unresolved {
                    reason: "the name is not a string".into(),
                    origin: n.origin,
                }),
            },
        },
    }
}

/// What the call's outputs evaluate to: its resource's id (in the form the
/// front ends give a declared resource's id, so links resolve the same way)
/// and name.
pub fn outputs(module: &ModuleMap, body: &Node) -> Val {
    let name = body.present("name").map(|n| n.to_val()).unwrap_or(Val::Null);
    let id = match name.to_tf_string() {
        Some(n) => Val::String(format!("/providers/{}/{}", module.produces.resource_type(), n)),
        None => Val::unknown("the resource id of a registry module call is only known at deployment"),
    };
    Val::Object(
        module
            .outputs
            .iter()
            .map(|(k, what)| {
                let v = match what.as_str() {
                    "id" => id.clone(),
                    "name" => name.clone(),
                    // Terraform's `resource` output: the whole resource, of which
                    // kmsguard knows the id and name.
                    "resource" => Val::Object(
                        [("id".to_string(), id.clone()), ("name".to_string(), name.clone())]
                            .into_iter()
                            .collect(),
                    ),
                    other => network::output(other, body),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}
