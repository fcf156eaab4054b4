//! KG102 and KG103 where a route is one entry of the collection its table's
//! routes are made from (a `dynamic "route"` block's `for_each`, `route =
//! local.x`, a variable's default, a var file, a module input): the entry is
//! found by following the collection the way KG101's insertion does
//! ([`super::terraform::with_collection`]), then matched to the route by the
//! name and prefix it makes, and its own field is changed there. Nothing is
//! changed unless exactly one entry makes the route and every field to change
//! is a literal.

use std::collections::BTreeMap;
use std::ops::Range;

use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::Span;

use super::refusal::Refusal;
use super::terraform::{reads, with_collection, Shape, Site};
use super::{literal, Change, Edit, Plan};
use crate::ingest::terraform::{Evaluator, Scope};
use crate::ingest::value::Val;
use crate::model::{Dialect, Field, Route, RoutePrefix, RouteTable};
use crate::source::{display_path, FileId, SourceMap};

/// What to change in a route's entry.
pub(super) enum Want {
    /// The next hop becomes Internet (and the next hop IP address null).
    Internet,
    /// The address `typo` in the prefix `typo/len` becomes `right`.
    Address { typo: String, len: u8, right: String },
}

/// Edits of one file, and where in words ("local.routes", "the value of
/// var.routes", empty for the table's own literal).
pub(super) struct Changed {
    pub file: FileId,
    pub edits: Vec<Edit>,
    pub what: String,
}

fn key_name(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        _ => None,
    }
}

/// The collection's entries: the key a map gives each (an index for a list) and the value.
fn entries(coll: &Expression) -> Vec<(Val, &Expression)> {
    match coll {
        Expression::Array(a) => a.iter().enumerate().map(|(i, e)| (Val::Number(i as f64), e)).collect(),
        Expression::Object(o) => o
            .iter()
            .filter_map(|(k, v)| key_name(k).map(|k| (Val::String(k), v.expr())))
            .collect(),
        _ => Vec::new(),
    }
}

/// An entry's value as far as it is written out: fields that are not
/// literals are unknown.
fn value_of(ev: &Evaluator, entry: &Expression, text: &str) -> Val {
    match entry {
        Expression::Object(o) => Val::Object(
            o.iter()
                .filter_map(|(k, v)| {
                    let val = ev
                        .eval(v.expr(), text, &Scope::default())
                        .unwrap_or_else(|_| Val::unknown("not a literal"));
                    key_name(k).map(|k| (k, val))
                })
                .collect::<BTreeMap<_, _>>(),
        ),
        e => ev
            .eval(e, text, &Scope::default())
            .unwrap_or_else(|_| Val::unknown("not a literal")),
    }
}

/// The field of a route attribute in the entry: the entry's own key.
fn field_of(shape: &Shape, attr: &str) -> Result<String, Refusal> {
    match shape {
        Shape::Attribute => Ok(attr.to_string()),
        Shape::Dynamic { iterator, content } => {
            let expr = &content
                .get_attribute(attr)
                .ok_or_else(|| Refusal::DynamicSetsNo(attr.to_string()))?
                .value;
            match reads(expr, iterator) {
                Some(k) if !k.is_empty() => Ok(k),
                _ => Err(Refusal::DynamicDoesNotRead(attr.to_string())),
            }
        }
    }
}

/// What the route's attribute `attr` evaluates to for an entry.
fn made(ev: &Evaluator, shape: &Shape, text: &str, key: &Val, value: &Val, attr: &str) -> Option<Val> {
    match shape {
        Shape::Attribute => match value {
            Val::Object(m) => Some(m.get(attr).cloned().unwrap_or(Val::Null)),
            _ => None,
        },
        Shape::Dynamic { iterator, content } => {
            let Some(a) = content.get_attribute(attr) else {
                return Some(Val::Null);
            };
            let it = Val::Object(
                [("key".to_string(), key.clone()), ("value".to_string(), value.clone())]
                    .into_iter()
                    .collect(),
            );
            ev.eval(&a.value, text, &Scope::default().with(iterator.as_str(), it)).ok()
        }
    }
}

fn same_prefix(v: &Option<Val>, prefix: &RoutePrefix) -> bool {
    matches!(v, Some(Val::String(s)) if s.parse::<ipnet::IpNet>().ok().is_some_and(|n| RoutePrefix::Net(n) == *prefix))
}

/// The one entry that makes `route`: its key, value and expression.
fn the_entry<'s>(
    ev: &Evaluator,
    shape: &Shape,
    text: &str,
    site: &'s Site,
    site_text: &str,
    route: &Route,
) -> Result<(Val, Val, &'s Expression), Refusal> {
    let Field::Known(prefix, _) = &route.address_prefix else {
        return Err("the route's prefix is not known".into());
    };
    let name = route.name.known();
    let found: Vec<(Val, Val, &Expression)> = entries(&site.expr)
        .into_iter()
        .map(|(k, e)| (k, value_of(ev, e, site_text), e))
        .filter(|(k, v, _)| {
            let named = name.is_none_or(|n| matches!(made(ev, shape, text, k, v, "name"), Some(Val::String(s)) if s == *n));
            named && same_prefix(&made(ev, shape, text, k, v, "address_prefix"), prefix)
        })
        .collect();
    match <[_; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(v) if v.is_empty() => Err("no written-out entry of the routes' collection makes this route".into()),
        Err(_) => Err("more than one entry of the routes' collection makes this route".into()),
    }
}

/// The span of field `k` of an entry object.
fn field_span(entry: &Expression, k: &str) -> Option<Range<usize>> {
    let Expression::Object(o) = entry else { return None };
    o.iter()
        .find(|(key, _)| key_name(key).as_deref() == Some(k))
        .and_then(|(_, v)| v.expr().span())
}

/// Edits that change `route`'s entry in the collection `table` is made from.
fn terraform(sources: &SourceMap, p: &Plan, table: &RouteTable, route: &Route, want: &Want) -> Result<Changed, Refusal> {
    with_collection(sources, p, table, |shape, text, site, site_text| {
        let ev = Evaluator::new(Default::default(), Default::default());
        let (key, value, entry) = the_entry(&ev, shape, text, site, site_text, route)?;
        let not_literal = |k: &str| Refusal::EntryFieldNotLiteral(k.to_string());
        let mut edits = Vec::new();
        match want {
            Want::Address { typo, len, right } => {
                let k = field_of(shape, "address_prefix")?;
                let span = field_span(entry, &k).ok_or_else(|| not_literal(&k))?;
                let inner = literal(site_text, &span, &format!("{typo}/{len}"))
                    .or_else(|| literal(site_text, &span, typo))
                    .ok_or_else(|| not_literal(&k))?;
                edits.push(Edit {
                    range: inner.start..inner.start + typo.len(),
                    text: right.clone(),
                });
            }
            Want::Internet => {
                let k = field_of(shape, "next_hop_type")?;
                let span = field_span(entry, &k).ok_or_else(|| not_literal(&k))?;
                let hop = route.next_hop_type.known().map(|h| h.as_str()).unwrap_or_default();
                let inner = literal(site_text, &span, hop).ok_or_else(|| not_literal(&k))?;
                edits.push(Edit {
                    range: inner,
                    text: "Internet".into(),
                });
                let mut value = value;
                if let Val::Object(m) = &mut value {
                    m.insert(k, Val::String("Internet".into()));
                }
                edits.extend(no_ip(&ev, shape, text, site_text, &key, &value, entry)?);
            }
        }
        Ok(Changed {
            file: site.file,
            edits,
            what: site.what.clone(),
        })
    })
}

/// With next hop Internet the route must have no next hop IP address: fine
/// when the entry then makes none; else the field it is read from becomes null.
fn no_ip(
    ev: &Evaluator,
    shape: &Shape,
    text: &str,
    site_text: &str,
    key: &Val,
    value: &Val,
    entry: &Expression,
) -> Result<Vec<Edit>, Refusal> {
    const IP: &str = "next_hop_in_ip_address";
    if matches!(made(ev, shape, text, key, value, IP), Some(Val::Null)) {
        return Ok(Vec::new());
    }
    let refuse = || Refusal::Because("kmsguard cannot tell that the route is left without a next hop IP address");
    let k = field_of(shape, IP).map_err(|_| refuse())?;
    let span = field_span(entry, &k).ok_or_else(refuse)?;
    let range = match (
        site_text.get(..span.start).and_then(|t| t.chars().next_back()),
        site_text.get(span.clone()),
    ) {
        // The content of a quoted string: widen to its quotes.
        (Some('"'), Some(s)) if !s.starts_with('"') => span.start - 1..span.end + 1,
        _ => span,
    };
    Ok(vec![Edit {
        range,
        text: "null".into(),
    }])
}

/// Edits that change `route`'s entry where `table`'s routes are written, in its language.
pub(super) fn change(sources: &SourceMap, p: &Plan, table: &RouteTable, route: &Route, want: &Want) -> Result<Changed, Refusal> {
    // Routes written out in the table are not entries of a collection.
    if table.authoring.insert_at.is_some() {
        return Err(match want {
            Want::Internet => "the next hop is not a literal written in the route itself",
            Want::Address { .. } => "the address is not a literal written in the route or rule itself",
        }
        .into());
    }
    match table.authoring.dialect {
        Dialect::Terraform => terraform(sources, p, table, route, want),
        Dialect::Bicep | Dialect::Arm => super::azure_entry::change(sources, &p.parameters, table, route, want),
    }
}

/// Adds the edits to the plan: the first does `what`, the others clear the
/// next hop IP address; where they went is said when it is not the route's file.
pub(super) fn record(sources: &SourceMap, p: &mut Plan, code: &'static str, changed: Changed, what: &str) {
    let whose = if changed.what.is_empty() {
        String::new()
    } else {
        format!(" ({} in {})", changed.what, display_path(sources.path(changed.file)))
    };
    for (i, e) in changed.edits.into_iter().enumerate() {
        let what = if i == 0 {
            format!("{what}{whose}")
        } else {
            "cleared the next hop IP address the new next hop does not take".to_string()
        };
        let change = Change {
            code,
            file: changed.file,
            offset: e.range.start,
            what,
        };
        p.edit(changed.file, e, change);
    }
}
