//! KG101: the missing /32 KMS routes, added where the table's routes are written.

use std::collections::HashSet;
use std::net::IpAddr;

use super::{cloud_of, Change, Edit, Plan};
use crate::analysis::firewall::firewall_for;
use crate::analysis::routing::{effective_route, RouteDecision};
use crate::model::{Dialect, Model, NextHopType, RouteStyle, RouteTable};
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::{line_after, line_start, SourceMap};

/// The required addresses a table sends elsewhere than Internet, with no
/// host route and no firewall on the way, that no KG103 rewrite supplies.
fn missing(model: &Model, table: &RouteTable, required: &[IpAddr], supplied: &HashSet<(String, IpAddr)>) -> Vec<IpAddr> {
    required
        .iter()
        .copied()
        .filter(|a| !supplied.contains(&(table.address.clone(), *a)))
        .filter(|a| match effective_route(table, *a) {
            RouteDecision::Known(er) => {
                er.next_hop != NextHopType::Internet && !er.is_host_route() && firewall_for(model, table, &er).is_none()
            }
            RouteDecision::Unknown(_) => false,
        })
        .collect()
}

/// KG101 for a Terraform table whose routes come from a collection (a
/// dynamic block's, or `route = concat(…)`, a local, a variable): the
/// entries go into the literal that holds it, wherever that is written.
#[allow(clippy::too_many_arguments)]
fn in_collection(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    f: &Finding,
    cloud: Option<&str>,
    p: &mut Plan,
    supplied: &HashSet<(String, IpAddr)>,
    table: &RouteTable,
) {
    let mut placed = false;
    for endpoint in &policy.endpoints {
        let Some(addrs) = endpoint.addresses(cloud_of(table, cloud)) else {
            continue;
        };
        let missing = missing(model, table, &addrs.required, supplied);
        if missing.is_empty() {
            // What KG103's rewrites supply needs no route of its own.
            placed |= !self::missing(model, table, &addrs.required, &HashSet::new()).is_empty();
            continue;
        }
        let names = crate::rules::fix::route_names(table, endpoint, missing.len());
        let routes: Vec<(String, String)> = names.into_iter().zip(missing.iter().map(crate::rules::fix::host_prefix)).collect();
        let placed_at = match table.authoring.dialect {
            _ if super::pattern::is_pattern_table(table) => super::pattern::place(sources, p, table, &routes),
            Dialect::Terraform => super::terraform::place(sources, p, table, &routes),
            Dialect::Bicep | Dialect::Arm => super::azure::place(sources, p.parameters.as_slice(), table, &routes),
        };
        match placed_at {
            Ok(done) => {
                let list: Vec<String> = missing.iter().map(|a| a.to_string()).collect();
                let name = crate::rules::display_name(&table.name, &table.address);
                let shown = crate::source::display_path(sources.path(done.file));
                let whose = if done.what.is_empty() {
                    String::new()
                } else {
                    format!(" ({} in {shown})", done.what)
                };
                for (i, e) in done.edits.into_iter().enumerate() {
                    let what = if i + 1 == done.edits_len {
                        format!(
                            "added /32 routes with next hop Internet for {} to the routes of route table {name}{whose}",
                            crate::rules::and_list(&list)
                        )
                    } else {
                        "added the comma the new entries need".into()
                    };
                    let change = Change {
                        code: "KG101",
                        file: done.file,
                        offset: e.range.start,
                        what,
                    };
                    p.edit(done.file, e, change);
                }
                placed = true;
            }
            Err(why) => return p.suggest(f, why),
        }
    }
    if !placed {
        p.suggest(f, "kmsguard cannot place routes in this table");
    }
}

pub(super) fn kg101(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    f: &Finding,
    cloud: Option<&str>,
    p: &mut Plan,
    supplied: &HashSet<(String, IpAddr)>,
) {
    let insert_at = f.fix.as_ref().and_then(|x| x.insert_at.clone());
    let Some(table) = model
        .route_tables
        .iter()
        .find(|t| t.address == f.resource && t.authoring.insert_at == insert_at)
    else {
        return p.suggest(f, "kmsguard cannot place routes in this table");
    };
    let Some(at) = insert_at else {
        let collection = matches!(table.authoring.style, RouteStyle::Inline | RouteStyle::AttributeList)
            || (table.authoring.style == RouteStyle::Separate && table.authoring.dialect != Dialect::Terraform);
        if (collection || super::pattern::is_pattern_table(table)) && !table.elsewhere {
            return in_collection(model, policy, sources, f, cloud, p, supplied, table);
        }
        return p.suggest(f, unplaceable(sources, table));
    };
    let Some(text) = sources.get(at.file).map(|s| s.text().clone()) else {
        return p.suggest(f, "the file could not be read again");
    };
    let offset = at.span().start;
    if !placeable(&text, offset, table) {
        return p.suggest(f, "the place for new routes is not on a line of its own");
    }
    for endpoint in &policy.endpoints {
        let Some(addrs) = endpoint.addresses(cloud_of(table, cloud)) else {
            continue;
        };
        let missing = missing(model, table, &addrs.required, supplied);
        if missing.is_empty() {
            continue;
        }
        let mut snippet = crate::rules::fix::add_routes(table, endpoint, &missing);
        if table.authoring.style == RouteStyle::Separate {
            // A resource of its own, separated from the table by a blank line.
            snippet = format!("\n{snippet}");
        }
        let mut edits = vec![Edit {
            range: offset..offset,
            text: snippet,
        }];
        // `route = [ … ]`: the element before the new ones needs its comma.
        if table.authoring.style == RouteStyle::AttributeList {
            let before = text.get(..offset).unwrap_or("").trim_end();
            if before.ends_with('}') {
                let end = before.len();
                edits.push(Edit {
                    range: end..end,
                    text: ",".into(),
                });
            }
        }
        let list: Vec<String> = missing.iter().map(|a| a.to_string()).collect();
        let name = crate::rules::display_name(&table.name, &table.address);
        for (i, e) in edits.into_iter().enumerate() {
            let what = if i == 0 {
                format!(
                    "added /32 routes with next hop Internet for {} to route table {name}",
                    crate::rules::and_list(&list)
                )
            } else {
                "added the comma the new route entries need".into()
            };
            p.edit(
                at.file,
                e.clone(),
                Change {
                    code: "KG101",
                    file: at.file,
                    offset: e.range.start,
                    what,
                },
            );
        }
    }
}

/// Why routes cannot be added to a table that has no recorded place for them.
fn unplaceable(sources: &SourceMap, table: &RouteTable) -> String {
    let json = sources
        .path(table.origin.file)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    match (table.authoring.dialect, &table.authoring.style) {
        _ if table.elsewhere => {
            "the table is declared outside the checked code (an existing resource, a data source or a module output); add the routes where it is defined".into()
        }
        (_, RouteStyle::AzapiBody) => "routes in an azapi body are not placed automatically yet".into(),
        (Dialect::Terraform, _) if json => "the table is written in JSON (a .tf.json file or a plan), which kmsguard does not edit".into(),
        (Dialect::Terraform, RouteStyle::ModuleMap) => format!(
            "the table is built by the registry module {} from its routes input, which is not a written-out map; add the routes to that input where it is written",
            table.authoring.reference
        ),
        _ => "the table has no written-out routes to add to".into(),
    }
}

/// Whether new routes can go at `offset`: at a line start, next to what
/// the table's style expects there.
fn placeable(text: &str, offset: usize, table: &RouteTable) -> bool {
    if line_start(text, offset) != offset {
        return false;
    }
    let line = text.get(offset..line_after(text, offset)).unwrap_or("").trim();
    let before = text.get(..offset).unwrap_or("").trim_end();
    match (table.authoring.dialect, &table.authoring.style) {
        // Before the first element of a written-out array.
        (Dialect::Bicep | Dialect::Arm, _) => line.starts_with('{'),
        (Dialect::Terraform, RouteStyle::Inline) => before.ends_with('}') || line.starts_with('}'),
        (Dialect::Terraform, RouteStyle::AttributeList) => line.starts_with(']'),
        (Dialect::Terraform, RouteStyle::Separate) => before.ends_with('}'),
        (Dialect::Terraform, RouteStyle::ModuleMap) => line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '"'),
        (Dialect::Terraform, RouteStyle::AzapiBody) => false,
    }
}
