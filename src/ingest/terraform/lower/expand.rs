//! Expansion shared by every family: `count` and `for_each` into instances,
//! static and `dynamic` nested blocks, attribute-form lists, and a
//! resource's own fields.

use hcl::edit::expr::Expression;
use hcl::edit::structure::{Body, Structure};
use hcl::edit::Span;

use super::{Instance, ResourceBlock};
use crate::ingest::terraform::eval::{snippet, Evaluator, Scope};
use crate::ingest::terraform::fields::{eval_or_unknown, Fields};
use crate::ingest::terraform::{header_span, HclFile};
use crate::ingest::value::Val;
use crate::model::Unresolved;
use crate::source::Origin;

/// Expands `count` and `for_each` into instances, charging each to the
/// budget as it is lowered (see [`crate::ingest::terraform::charged`]).
pub(in crate::ingest::terraform) fn instances<'r>(ev: &'r Evaluator, r: &'r ResourceBlock) -> impl Iterator<Item = Instance> + 'r {
    crate::ingest::terraform::charged(ev, r.block, format!("{}.{}", r.ty, r.name), r.file.file, expand_instances(ev, r))
}

/// Expands `count` and `for_each` into instances, uncharged: a module call
/// charges its instances itself.
pub(in crate::ingest::terraform) fn expand_instances(ev: &Evaluator, r: &ResourceBlock) -> Vec<Instance> {
    let base = format!("{}.{}", r.ty, r.name);
    let text = &r.file.text;
    let single = |conditional: Option<Unresolved>, scope: Scope| {
        vec![Instance {
            address: base.clone(),
            key: None,
            scope,
            conditional,
        }]
    };
    if let Some(count) = r.block.body.get_attribute("count") {
        let origin = Origin::new(r.file.file, count.value.span().unwrap_or(0..0));
        return match eval_or_unknown(ev, &count.value, text, &Scope::default()) {
            Val::Number(n) if ev.limits().exceeds_collection(n) => single(
                Some(Unresolved {
                    reason: format!(
                        "count = {} asks for more than the {} instances kmsguard expands, so one is checked; raise the limit with --max-collection-size",
                        snippet(text, &count.value),
                        crate::limits::thousands(ev.limits().collection_size as u64)
                    ),
                    origin,
                }),
                Scope::default().with(
                    "count",
                    Val::Object(
                        [("index".to_string(), Val::unknown("count is above kmsguard's limit"))]
                            .into_iter()
                            .collect(),
                    ),
                ),
            ),
            Val::Number(n) if n >= 0.0 && n.fract() == 0.0 => (0..n as usize)
                .map(|i| Instance {
                    address: format!("{base}[{i}]"),
                    key: Some(Val::Number(i as f64)),
                    scope: Scope::default().with(
                        "count",
                        Val::Object([("index".to_string(), Val::Number(i as f64))].into_iter().collect()),
                    ),
                    conditional: None,
                })
                .collect(),
            Val::Unknown(reason) => {
                let why = format!("count = {} is unknown ({reason})", snippet(text, &count.value));
                let index = Val::Object([("index".to_string(), Val::unknown(why.clone()))].into_iter().collect());
                single(Some(Unresolved { reason: why, origin }), Scope::default().with("count", index))
            }
            other => single(
                Some(Unresolved {
                    reason: format!("count = {} is {other}, not a whole number", snippet(text, &count.value)),
                    origin,
                }),
                Scope::default(),
            ),
        };
    }
    if let Some(fe) = r.block.body.get_attribute("for_each") {
        let origin = Origin::new(r.file.file, fe.value.span().unwrap_or(0..0));
        let each = |k: Val, v: Val| Val::Object([("key".to_string(), k), ("value".to_string(), v)].into_iter().collect());
        let keyed = |key: String, value: Val| Instance {
            address: format!("{base}[{key:?}]"),
            key: Some(Val::String(key.clone())),
            scope: Scope::default().with("each", each(Val::String(key), value)),
            conditional: None,
        };
        return match eval_or_unknown(ev, &fe.value, text, &Scope::default()) {
            Val::Object(o) => o.into_iter().map(|(k, v)| keyed(k, v)).collect(),
            Val::List(l) if l.iter().all(|v| matches!(v, Val::String(_))) => l
                .into_iter()
                .filter_map(|v| v.to_tf_string())
                .map(|k| keyed(k.clone(), Val::String(k)))
                .collect(),
            v => {
                let reason = v
                    .first_unknown()
                    .map(|r| r.to_string())
                    .unwrap_or_else(|| format!("it is a {}", v.type_name()));
                single(
                    Some(Unresolved {
                        reason: format!("for_each = {} is unknown ({reason})", snippet(text, &fe.value)),
                        origin,
                    }),
                    Scope::default().with(
                        "each",
                        Val::unknown(format!(
                            "each is unknown because for_each = {} is unknown",
                            snippet(text, &fe.value)
                        )),
                    ),
                )
            }
        };
    }
    single(None, Scope::default())
}

pub(super) fn resource_fields(ev: &Evaluator, r: &ResourceBlock, inst: &Instance) -> Fields {
    let origin = Origin::new(r.file.file, header_span(r.block));
    Fields::from_body(ev, &r.block.body, &r.file.text, r.file.file, &inst.scope, origin)
}

/// The blocks named `ident` in `body`, static and `dynamic`, each with the
/// scope its content evaluates in; unknown `for_each` collections are returned
/// as reasons the list is incomplete.
pub(super) fn nested_blocks<'b>(
    ev: &Evaluator,
    body: &'b Body,
    ident: &str,
    file: &HclFile,
    scope: &Scope,
) -> (Vec<(&'b Body, Scope, Origin)>, Vec<Unresolved>) {
    let mut out = Vec::new();
    let mut incomplete = Vec::new();
    for s in body.iter() {
        let Structure::Block(b) = s else { continue };
        let span = b.span().unwrap_or(0..0);
        if b.ident.as_str() == ident {
            out.push((&b.body, scope.clone(), Origin::new(file.file, span)));
            continue;
        }
        if b.ident.as_str() != "dynamic" || b.labels.first().map(|l| l.as_str()) != Some(ident) {
            continue;
        }
        let Some(content) = b.body.get_blocks("content").next() else {
            continue;
        };
        let iterator = b
            .body
            .get_attribute("iterator")
            .and_then(|a| match &a.value {
                Expression::Variable(v) => Some(v.as_str().to_string()),
                _ => None,
            })
            .unwrap_or_else(|| ident.to_string());
        let Some(fe) = b.body.get_attribute("for_each") else { continue };
        let origin = Origin::new(file.file, fe.value.span().unwrap_or(span.clone()));
        let items: Vec<(Val, Val)> = match eval_or_unknown(ev, &fe.value, &file.text, scope) {
            Val::List(l) => l.into_iter().enumerate().map(|(i, v)| (Val::Number(i as f64), v)).collect(),
            Val::Object(o) => o.into_iter().map(|(k, v)| (Val::String(k), v)).collect(),
            Val::Null => Vec::new(),
            Val::Unknown(reason) => {
                incomplete.push(Unresolved {
                    reason: format!(
                        "dynamic \"{ident}\" iterates over {}, which is unknown: {reason}",
                        snippet(&file.text, &fe.value)
                    ),
                    origin,
                });
                continue;
            }
            other => {
                incomplete.push(Unresolved {
                    reason: format!("dynamic \"{ident}\" iterates over a {}, not a collection", other.type_name()),
                    origin,
                });
                continue;
            }
        };
        let content_origin = Origin::new(file.file, content.span().unwrap_or(span.clone()));
        let content_bytes = content.span().map_or(0, |s| s.len());
        for (k, v) in items {
            if let Err(reason) = ev.budget.expand_instance(content_bytes).map_err(|spent| spent.to_string()) {
                incomplete.push(Unresolved { reason, origin });
                break;
            }
            // Sets iterate with key = value.
            let key = if matches!(k, Val::Number(_)) && matches!(v, Val::String(_)) && is_set_like(&fe.value) {
                v.clone()
            } else {
                k
            };
            let it = Val::Object([("key".to_string(), key), ("value".to_string(), v)].into_iter().collect());
            out.push((&content.body, scope.with(iterator.clone(), it), content_origin.clone()));
        }
    }
    (out, incomplete)
}

/// `toset(...)` in a `for_each` makes element keys equal to their values.
fn is_set_like(expr: &Expression) -> bool {
    matches!(expr, Expression::FuncCall(c) if c.name.name.as_str() == "toset")
}

/// Entries of an attribute-form list (`route = [ { … } ]`), each as fields.
pub(super) fn attribute_list(ev: &Evaluator, body: &Body, key: &str, file: &HclFile, scope: &Scope) -> (Vec<Fields>, Vec<Unresolved>) {
    let Some(attr) = body.get_attribute(key) else {
        return (Vec::new(), Vec::new());
    };
    let origin = Origin::new(file.file, attr.value.span().unwrap_or(0..0));
    if let Expression::Array(items) = &attr.value {
        return (
            items
                .iter()
                .map(|e| Fields::from_expr(ev, e, &file.text, file.file, scope))
                .collect(),
            Vec::new(),
        );
    }
    match eval_or_unknown(ev, &attr.value, &file.text, scope) {
        Val::List(l) => (l.into_iter().map(|v| Fields::from_value(v, origin.clone())).collect(), Vec::new()),
        Val::Null => (Vec::new(), Vec::new()),
        Val::Unknown(reason) => (
            Vec::new(),
            vec![Unresolved {
                reason: format!("{key} = {} is unknown: {reason}", snippet(&file.text, &attr.value)),
                origin,
            }],
        ),
        other => (
            Vec::new(),
            vec![Unresolved {
                reason: format!("{key} is a {}, not a list", other.type_name()),
                origin,
            }],
        ),
    }
}
