//! KG102 and KG103 where a Bicep or ARM route is one entry of the array a
//! loop or a property `copy` makes the routes from: the entry is found
//! where the array is written (a variable, a parameter's value or default),
//! matched to the route by the name and prefix it makes, and its own field
//! is changed there. Nothing is changed unless exactly one entry makes the
//! route and every field to change is a literal.

use std::collections::BTreeMap;
use std::ops::Range;

use kmsguard_arm_syntax::{Json, JsonKind};

use super::arm_copy::{entry_key, eval, source_array, Source, V};
use super::azure::{arm_expr, arm_routes_copy, arm_table_properties};
use super::entry::{Changed, Want};
use super::refusal::Refusal;
use super::{literal, Edit};
use crate::model::{Dialect, Field, Route, RoutePrefix, RouteTable};
use crate::source::SourceMap;

pub(super) fn change(
    sources: &SourceMap,
    parameters: &[std::path::PathBuf],
    table: &RouteTable,
    route: &Route,
    want: &Want,
) -> Result<Changed, Refusal> {
    match table.authoring.dialect {
        Dialect::Arm => arm(sources, parameters, table, route, want),
        _ => super::bicep_loop::change(sources, parameters, table, route, want),
    }
}

/// Whether a made name and prefix are the route's.
pub(super) fn is_route(route: &Route, name: Option<&str>, prefix: Option<&str>) -> bool {
    let Field::Known(p, _) = &route.address_prefix else {
        return false;
    };
    let named = route.name.known().is_none_or(|n| name == Some(n.as_str()));
    named
        && prefix
            .and_then(|s| s.parse::<ipnet::IpNet>().ok())
            .is_some_and(|n| RoutePrefix::Net(n) == *p)
}

/// The range of a replacement for a literal JSON/Bicep value: the edit for
/// `want` in the field's value at `span`, whose current content is `hop`.
pub(super) fn literal_edit(text: &str, span: &Range<usize>, want: &Want, hop: &str) -> Option<Edit> {
    match want {
        Want::Internet => literal(text, span, hop).map(|range| Edit {
            range,
            text: "Internet".into(),
        }),
        Want::Address { typo, len, right } => {
            let inner = literal(text, span, &format!("{typo}/{len}")).or_else(|| literal(text, span, typo))?;
            Some(Edit {
                range: inner.start..inner.start + typo.len(),
                text: right.clone(),
            })
        }
    }
}

/// A JSON entry's literal fields.
fn entry_values(entry: &Json) -> BTreeMap<String, V> {
    entry
        .as_object()
        .unwrap_or_default()
        .iter()
        .filter_map(|m| {
            let v = match &m.value.kind {
                JsonKind::Null => V::Null,
                JsonKind::String(s) => V::Str(s.clone()),
                JsonKind::Bool(b) => V::Bool(*b),
                _ => return None,
            };
            Some((m.key.clone(), v))
        })
        .collect()
}

fn arm(sources: &SourceMap, parameters: &[std::path::PathBuf], table: &RouteTable, route: &Route, want: &Want) -> Result<Changed, Refusal> {
    let file = table.origin.file;
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let root = kmsguard_arm_syntax::parse_json(&text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    let props = arm_table_properties(&root, table)?;
    let copy = arm_routes_copy(props)?.ok_or("the route is not written out in the table")?;
    let input = copy.get("input").ok_or("the copy has no input")?;
    let inner = input.get("properties");
    let expr_of = |j: Option<&Json>| j.and_then(Json::as_str).and_then(arm_expr);
    let (name, prefix, hop, ip) = (
        expr_of(input.get("name")),
        expr_of(inner.and_then(|p| p.get("addressPrefix"))),
        expr_of(inner.and_then(|p| p.get("nextHopType"))),
        inner.and_then(|p| p.get("nextHopIpAddress")),
    );
    let read = |e: &Option<kmsguard_arm_syntax::Expr>, what: &str| -> Result<(Source, String), Refusal> {
        e.as_ref()
            .and_then(entry_key)
            .ok_or_else(|| Refusal::CopyDoesNotReadEntries(what.to_string()))
    };
    let (src, prefix_key) = read(&prefix, "addressPrefix")?;
    let (target, target_text, array, what) = source_array(sources, parameters, file, &root, &src)?;
    let str_of = |v: Option<V>| match v {
        Some(V::Str(s)) => Some(s),
        _ => None,
    };
    let found: Vec<&Json> = array
        .as_array()
        .unwrap_or_default()
        .iter()
        .filter(|e| {
            let vals = entry_values(e);
            let made = |x: &Option<kmsguard_arm_syntax::Expr>| str_of(x.as_ref().and_then(|x| eval(x, &src, &vals)));
            is_route(route, made(&name).as_deref(), made(&prefix).as_deref())
        })
        .collect();
    let [entry] = found.as_slice() else {
        return Err(Refusal::NotOneEntry(src.to_string()));
    };
    let key = match want {
        Want::Internet => read(&hop, "nextHopType")?.1,
        Want::Address { .. } => prefix_key,
    };
    let hop_now = route.next_hop_type.known().map(|h| h.as_str()).unwrap_or_default();
    let field = entry.get(&key).ok_or_else(|| Refusal::EntryFieldNotWritten(key.clone()))?;
    let edit = literal_edit(&target_text, &field.span, want, hop_now).ok_or_else(|| Refusal::EntryFieldNotLiteral(key.clone()))?;
    let mut edits = vec![edit];
    if matches!(want, Want::Internet) {
        let mut vals = entry_values(entry);
        vals.insert(key, V::Str("Internet".into()));
        let left = match ip {
            None => Some(V::Null),
            Some(j) if j.is_null() => Some(V::Null),
            Some(j) => j.as_str().and_then(arm_expr).and_then(|e| eval(&e, &src, &vals)),
        };
        if left != Some(V::Null) {
            // Read straight from the entry: that field becomes null.
            let ip_key = expr_of(ip)
                .as_ref()
                .and_then(entry_key)
                .filter(|(s, _)| *s == src)
                .map(|(_, k)| k)
                .ok_or("kmsguard cannot tell that the route is left without a next hop IP address")?;
            let at = entry.get(&ip_key).ok_or("the entry's next hop IP address is not written")?;
            edits.push(Edit {
                range: at.span.clone(),
                text: "null".into(),
            });
        }
    }
    Ok(Changed { file: target, edits, what })
}
