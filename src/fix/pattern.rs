//! KG101 for the route tables the hub-networking patterns build
//! (`avm/ptn/network/hub-networking`, `Azure/avm-ptn-hubnetworking/azurerm`,
//! read by `ingest::registry::pattern`): such a table is no resource of the
//! user's, but the user's routes in it come from one input of one hub, so
//! the new routes go there — the Bicep hub's `routes` array, the Terraform
//! hub's `route_table_entries_user_subnets` list — added to the hub object
//! when it has none. Every other table of a pattern (the Terraform firewall
//! subnet's) is refused with what to do instead.
//!
//! Versions: Bicep reads `routes` in every version mapped (0.1.0 on), the
//! Terraform pattern has had `route_table_entries_user_subnets` in every
//! version mapped (0.4.0 on; older ones are not read, so have no table).

use std::ops::Range;

use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::Span;
use kmsguard_bicep_syntax::ast::{Expr, ExprKind, ObjectMemberKind, StatementKind};

use super::refusal::Refusal;
use super::terraform::Placed;
use super::{Edit, Plan};
use crate::ingest::registry::{self, Produces, Resolution};
use crate::model::{Dialect, RouteTable};
use crate::source::{indent_at, line_after, SourceMap};

const BICEP: &str = "avm/ptn/network/hub-networking";
const TERRAFORM: &str = "Azure/avm-ptn-hubnetworking/azurerm";
const USER_ENTRIES: &str = "route_table_entries_user_subnets";

/// Which of a pattern's tables `table` is, by the address the pattern
/// gives it: (the call's address and hub key, what the table is).
fn which(table: &RouteTable) -> Option<(&str, Which)> {
    if table.called_from.is_empty() {
        return None;
    }
    let a = table.address.as_str();
    match table.authoring.dialect {
        Dialect::Bicep => a.strip_suffix("/routeTable").map(|r| (r, Which::Hub)),
        Dialect::Terraform => a
            .strip_suffix("/route_table_user_subnets")
            .map(|r| (r, Which::Hub))
            .or_else(|| a.strip_suffix("/route_table_firewall").map(|r| (r, Which::Firewall))),
        Dialect::Arm => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    /// The table whose user routes are one hub input.
    Hub,
    /// The Terraform pattern's AzureFirewallSubnet table.
    Firewall,
}

/// Whether `table` may be one a hub-networking pattern builds: [`place`] decides.
pub(super) fn is_pattern_table(table: &RouteTable) -> bool {
    which(table).is_some()
}

/// The key of the hub, among `keys`, whose table has the address `rest`
/// (the call's address, `/`, the key): the longest that fits.
fn hub_key<'k>(rest: &str, keys: impl Iterator<Item = &'k str>) -> Option<&'k str> {
    keys.filter(|k| rest.strip_suffix(k).is_some_and(|r| r.ends_with('/')))
        .max_by_key(|k| k.len())
}

fn is_hub_networking(r: Option<Resolution>) -> bool {
    matches!(r, Some(Resolution::Mapped { module, .. }) if module.produces == Produces::HubNetworking)
}

/// Adds `routes` ((name, prefix) pairs) to the hub input the pattern
/// table's user routes come from.
pub(super) fn place(sources: &SourceMap, p: &Plan, table: &RouteTable, routes: &[(String, String)]) -> Result<Placed, Refusal> {
    let (rest, what) = which(table).ok_or("the table is not one a registry pattern builds")?;
    match table.authoring.dialect {
        Dialect::Terraform => terraform(sources, p, table, rest, what, routes),
        _ => bicep(sources, table, rest, routes),
    }
}

/// The last entry written on one line in a multi-line object (else the
/// last entry): the new input goes after it, before nested blocks of
/// settings, at the start of the next line.
fn after_entries(text: &str, entries: &[(Range<usize>, Range<usize>)]) -> Option<(usize, String)> {
    let one_line = entries
        .iter()
        .rev()
        .find(|(_, v)| text.get(v.clone()).is_some_and(|t| !t.contains('\n')));
    let (k, v) = one_line.or(entries.last())?;
    Some((line_after(text, v.end.saturating_sub(1)), indent_at(text, k.start)))
}

fn multi_line(text: &str, span: &Range<usize>) -> bool {
    text.get(span.clone()).is_some_and(|t| t.contains('\n'))
}

fn bicep(sources: &SourceMap, table: &RouteTable, rest: &str, routes: &[(String, String)]) -> Result<Placed, Refusal> {
    let call = table.called_from.last().ok_or("the pattern call was not found again")?;
    let file = call.file;
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let program = kmsguard_bicep_syntax::parse(&text).map_err(|_| "the file could not be read again".to_string())?;
    let at = call.span().start;
    let module = program
        .statements
        .iter()
        .find_map(|s| match &s.kind {
            StatementKind::Module(m) if s.span.start <= at && at < s.span.end => Some(m),
            _ => None,
        })
        .ok_or("the pattern call was not found again")?;
    let path = module.path.as_literal_string().unwrap_or_default();
    if !is_hub_networking(registry::catalogue().bicep(&path)) {
        return Err(Refusal::Said(format!(
            "the table is built by the registry module {path}, whose inputs kmsguard does not add routes to"
        )));
    }
    let pattern = format!("the table is built by the registry pattern {BICEP} from its hubVirtualNetworks input");
    let ExprKind::Object(_) = &module.value.kind else {
        return Err(Refusal::Said(format!(
            "{pattern}, in a call that is conditional or a loop; add the routes to the hub's routes"
        )));
    };
    let hubs = super::azure::bicep_property(&module.value, "params")
        .and_then(|p| super::azure::bicep_property(p, "hubVirtualNetworks"))
        .filter(|h| matches!(h.kind, ExprKind::Object(_)))
        .ok_or(format!(
            "{pattern}, which is not written out in the call; add the routes to the hub's routes where it is written"
        ))?;
    let ExprKind::Object(members) = &hubs.kind else {
        return Err(Refusal::Said(format!("{pattern}, which is not written out in the call")));
    };
    let names: Vec<String> = members
        .iter()
        .filter_map(|m| match &m.kind {
            ObjectMemberKind::Property { key, .. } => key.literal_name().map(|n| n.to_string()),
            _ => None,
        })
        .collect();
    let key = hub_key(rest, names.iter().map(String::as_str))
        .ok_or(format!("{pattern}, whose hub is not written out in the call"))?
        .to_string();
    let hub = super::azure::bicep_property(hubs, &key).ok_or(format!("{pattern}, whose hub is not written out in the call"))?;
    let input = format!("hubVirtualNetworks['{key}'].routes");
    let what = format!("{input} of module {}", module.name.name);
    let ExprKind::Object(props) = &hub.kind else {
        return Err(Refusal::Said(format!(
            "{pattern}; hub '{key}' is not written out in the call, add the routes to its routes"
        )));
    };
    let items: Vec<String> = routes
        .iter()
        .map(|(n, p)| super::azure::rest_entry(Dialect::Bicep, "", n, p))
        .collect();
    let edits = match super::azure::bicep_property(hub, "routes") {
        Some(
            array @ Expr {
                kind: ExprKind::Array(_), ..
            },
        ) => super::bicep_loop::append(&text, array, &items)?,
        Some(_) => {
            return Err(Refusal::Said(format!(
                "{pattern}; {input} is not a written-out array, add the routes where it is written"
            )))
        }
        None => {
            if !multi_line(&text, &hub.span) {
                return Err(Refusal::Said(format!(
                    "{pattern}; hub '{key}' is written on one line, add the routes to {input}"
                )));
            }
            let entries: Vec<(Range<usize>, Range<usize>)> = props
                .iter()
                .filter_map(|m| match &m.kind {
                    ObjectMemberKind::Property { key, value } => Some((key.span.clone(), value.span.clone())),
                    _ => None,
                })
                .collect();
            let (at, ind) = after_entries(&text, &entries).ok_or(format!("{pattern}; hub '{key}' is empty, add the routes to {input}"))?;
            let inner = format!("{ind}  ");
            let body: String = items
                .iter()
                .map(|i| format!("{inner}{}\n", i.replace('\n', &format!("\n{inner}"))))
                .collect();
            vec![Edit {
                range: at..at,
                text: format!("{ind}routes: [\n{body}{ind}]\n"),
            }]
        }
    };
    Ok(Placed {
        file,
        edits_len: edits.len(),
        edits,
        what,
    })
}

fn hcl_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Ident(i) => Some(i.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.value().to_string()),
        _ => None,
    }
}

fn terraform(
    sources: &SourceMap,
    p: &Plan,
    table: &RouteTable,
    rest: &str,
    what: Which,
    routes: &[(String, String)],
) -> Result<Placed, Refusal> {
    let call = table.called_from.last().ok_or("the pattern call was not found again")?;
    let (_, body) = super::terraform::parse(sources, call.file)?;
    let block = super::terraform::containing(&body, "module", call.span().start).ok_or("the pattern call was not found again")?;
    let string_attr = |k: &str| match block.body.get_attribute(k).map(|a| &a.value) {
        Some(Expression::String(s)) => Some(s.value().to_string()),
        _ => None,
    };
    let source = string_attr("source").unwrap_or_default();
    if !is_hub_networking(registry::catalogue().terraform(&source, string_attr("version").as_deref())) {
        return Err(Refusal::Said(format!(
            "the table is built by the registry module {source}, whose inputs kmsguard does not add routes to"
        )));
    }
    let label = block.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
    let pattern = format!("the table is built by the registry pattern {TERRAFORM} (module.{label}) from its hub_virtual_networks input");
    // The hub's key is known from the address even when the map is not written out.
    let guess = rest.rsplit('/').next().unwrap_or_default().to_string();
    if what == Which::Firewall {
        return Err(Refusal::Said(format!(
            "{pattern}: it is the table of hub {guess}'s AzureFirewallSubnet, to which kmsguard does not add routes; \
             add them to hub_virtual_networks[\"{guess}\"].route_table_entries_firewall by hand"
        )));
    }
    let input = |k: &str| format!("hub_virtual_networks[\"{k}\"].{USER_ENTRIES}");
    let hubs = block
        .body
        .get_attribute("hub_virtual_networks")
        .ok_or(format!("{pattern}, which the call does not set"))?;
    let site = super::terraform::resolve_input(sources, p, table, call.file, &hubs.value).map_err(|e| {
        format!(
            "{pattern}, which kmsguard cannot follow to a written-out map ({e}); add the routes to {} where it is written",
            input(&guess)
        )
    })?;
    let text = sources.get(site.file).map(|s| s.text().clone()).unwrap_or_default();
    let Expression::Object(o) = &site.expr else {
        return Err(Refusal::Said(format!(
            "{pattern}, which is not a map; add the routes to {}",
            input(&guess)
        )));
    };
    let keys: Vec<String> = o.iter().filter_map(|(k, _)| hcl_key(k)).collect();
    let key = hub_key(rest, keys.iter().map(String::as_str))
        .ok_or(format!(
            "{pattern}, whose hub {guess} is not written out; add the routes to {}",
            input(&guess)
        ))?
        .to_string();
    let shown = if site.what.is_empty() {
        "hub_virtual_networks".to_string()
    } else {
        site.what.clone()
    };
    let hub = super::terraform::entry_at(&site.expr, &key, &[], &shown)?;
    let Expression::Object(h) = hub else {
        return Err(Refusal::Said(format!(
            "{pattern}; hub {key} is not written out, add the routes to {}",
            input(&key)
        )));
    };
    let placed_in = format!("{} of module.{label}", input(&key));
    let what_text = if site.what.is_empty() {
        placed_in
    } else {
        format!("{placed_in}, in {}", site.what)
    };
    let existing = h
        .iter()
        .find(|(k, _)| hcl_key(k).as_deref() == Some(USER_ENTRIES))
        .map(|(_, v)| v.expr());
    let edits = match existing {
        Some(list @ Expression::Array(_)) => {
            let items: Vec<String> = routes.iter().map(|(n, pre)| tf_entry(&text, list, n, pre)).collect();
            super::terraform::insert(&text, list, &items)?
        }
        Some(_) => {
            return Err(Refusal::Said(format!(
                "{pattern}; {} is not a written-out list, add the routes where it is written",
                input(&key)
            )))
        }
        None => {
            let span = hub.span().ok_or("the hub has no place in the file")?;
            if !multi_line(&text, &span) {
                return Err(Refusal::Said(format!(
                    "{pattern}; hub {key} is written on one line, add the routes to {}",
                    input(&key)
                )));
            }
            let entries: Vec<(Range<usize>, Range<usize>)> = h.iter().filter_map(|(k, v)| Some((k.span()?, v.expr().span()?))).collect();
            let (at, ind) =
                after_entries(&text, &entries).ok_or(format!("{pattern}; hub {key} is empty, add the routes to {}", input(&key)))?;
            let inner = format!("{ind}  ");
            let mut s = format!("{ind}{USER_ENTRIES} = [\n");
            for (n, pre) in routes {
                let e = multi_entry(&inner, &format!("{inner}  "), "=", &[], n, pre);
                s.push_str(&format!("{inner}{e},\n"));
            }
            s.push_str(&format!("{ind}]\n"));
            vec![Edit { range: at..at, text: s }]
        }
    };
    Ok(Placed {
        file: site.file,
        edits_len: edits.len(),
        edits,
        what: what_text,
    })
}

/// A new entry of the pattern's `route_table_entries_*` list (name,
/// address_prefix, next_hop_type), written like the list's last entry.
fn tf_entry(text: &str, list: &Expression, name: &str, prefix: &str) -> String {
    let Expression::Array(a) = list else {
        return String::new();
    };
    let sample = a.iter().last();
    let sample_text = sample.and_then(|s| s.span()).and_then(|s| text.get(s)).unwrap_or("");
    let keys: Vec<String> = match sample {
        Some(Expression::Object(o)) => o.iter().filter_map(|(k, _)| hcl_key(k)).collect(),
        _ => Vec::new(),
    };
    let op = if sample_text
        .find(['=', ':'])
        .and_then(|i| sample_text.get(i..))
        .is_some_and(|t| t.starts_with(':'))
    {
        ":"
    } else {
        "="
    };
    if sample.is_some() && !sample_text.contains('\n') {
        let pad = if sample_text.starts_with("{ ") { " " } else { "" };
        let body: Vec<String> = ordered(&keys, name, prefix)
            .iter()
            .map(|(k, v)| format!("{k} {op} \"{v}\""))
            .collect();
        return format!("{{{pad}{}{pad}}}", body.join(", "));
    }
    let base = sample.and_then(|s| s.span()).map(|s| indent_at(text, s.start)).unwrap_or_default();
    let inner = super::terraform::inner_indent(text, sample, &base);
    multi_entry(&base, &inner, op, &keys, name, prefix)
}

/// The three fields, in the order `keys` (the last entry's) writes them.
fn ordered(keys: &[String], name: &str, prefix: &str) -> Vec<(&'static str, String)> {
    let mut set = vec![
        ("name", name.to_string()),
        ("address_prefix", prefix.to_string()),
        ("next_hop_type", "Internet".to_string()),
    ];
    set.sort_by_key(|(k, _)| keys.iter().position(|s| s == k).unwrap_or(usize::MAX));
    set
}

/// One field a line, `op` aligned, the closing brace at `base`.
fn multi_entry(base: &str, inner: &str, op: &str, keys: &[String], name: &str, prefix: &str) -> String {
    let set = ordered(keys, name, prefix);
    let width = set.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s = "{\n".to_string();
    for (k, v) in &set {
        s.push_str(&format!("{inner}{k:<width$} {op} \"{v}\"\n"));
    }
    s.push_str(&format!("{base}}}"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hub_key_is_the_longest_that_ends_the_address() {
        let keys = ["weu", "hub/weu", "eu"];
        assert_eq!(hub_key("module.hubs/hub/weu", keys.into_iter()), Some("hub/weu"));
        assert_eq!(hub_key("module.hubs/weu", keys.into_iter()), Some("weu"));
        assert_eq!(hub_key("module.hubs/neu", keys.into_iter()), None);
    }
}
