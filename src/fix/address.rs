//! KG103: a retired or mistyped KMS address replaced with the current ones.

use std::collections::HashSet;
use std::net::IpAddr;
use std::ops::Range;

use super::refusal::Refusal;
use super::{cloud_of, literal, quote_at, within, Change, Edit, Plan};
use crate::model::{AddressMatch, Dialect, Field, Model, RoutePrefix};
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::{line_start, SourceMap};

/// The required address a mistyped one stands for: the one sharing the
/// longest leading bits with it (20.118.99.244 → 20.118.99.224).
fn nearest(typo: IpAddr, candidates: &[IpAddr]) -> Option<IpAddr> {
    let bits = |a: IpAddr, b: IpAddr| -> u32 {
        match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) ^ u32::from(b)).leading_zeros(),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a) ^ u128::from(b)).leading_zeros(),
            _ => 0,
        }
    };
    candidates.iter().copied().max_by_key(|c| (bits(typo, *c), std::cmp::Reverse(*c)))
}

pub(super) fn kg103(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    f: &Finding,
    cloud: Option<&str>,
    p: &mut Plan,
    supplied: &mut HashSet<(String, IpAddr)>,
) {
    let before = p.edits.values().map(Vec::len).sum::<usize>();
    let mut why: Option<Refusal> = None;
    for table in model.route_tables.iter().filter(|t| t.address == f.resource) {
        for endpoint in &policy.endpoints {
            let Some(addrs) = endpoint.addresses(cloud_of(table, cloud)) else {
                continue;
            };
            for route in &table.routes {
                let Field::Known(RoutePrefix::Net(n), o) = &route.address_prefix else {
                    continue;
                };
                if n.prefix_len() != n.max_prefix_len() || !addrs.typos.contains(&n.addr()) {
                    continue;
                }
                let Some(right) = nearest(n.addr(), &addrs.required) else {
                    continue;
                };
                let typo = n.addr().to_string();
                let what = format!("replaced the mistyped {} address {typo} with {right}", endpoint.title);
                if let Some(range) = in_route(sources, route, o, &typo, n.prefix_len()) {
                    supplied.insert((table.address.clone(), right));
                    let change = Change {
                        code: "KG103",
                        file: o.file,
                        offset: range.start,
                        what,
                    };
                    p.edit(
                        o.file,
                        Edit {
                            range,
                            text: right.to_string(),
                        },
                        change,
                    );
                    continue;
                }
                let want = super::entry::Want::Address {
                    typo,
                    len: n.prefix_len(),
                    right: right.to_string(),
                };
                match super::entry::change(sources, p, table, route, &want) {
                    Ok(changed) => {
                        supplied.insert((table.address.clone(), right));
                        super::entry::record(sources, p, "KG103", changed, &what);
                    }
                    Err(e) => why = why.or(Some(e)),
                }
            }
        }
    }
    nsg_rules(model, policy, sources, f, cloud, p);
    if p.edits.values().map(Vec::len).sum::<usize>() == before {
        p.suggest(
            f,
            why.unwrap_or(Refusal::Because("the address is not a literal written in the route or rule itself")),
        );
    }
}

/// The typo's range where the route itself writes its prefix.
fn in_route(sources: &SourceMap, route: &crate::model::Route, o: &crate::source::Origin, typo: &str, len: u8) -> Option<Range<usize>> {
    let text = sources.get(o.file).map(|s| s.text().clone())?;
    let span = o.span();
    let inner = literal(&text, &span, &format!("{typo}/{len}")).or_else(|| literal(&text, &span, typo))?;
    if !(o.file == route.origin.file && within(&inner, &route.origin.span())) {
        return None;
    }
    let found = text.get(inner.clone())?.find(typo)?;
    Some(inner.start + found..inner.start + found + typo.len())
}

/// KG103 in NSG rules: a stale destination gives way to the current addresses.
fn nsg_rules(model: &Model, policy: &Policy, sources: &SourceMap, f: &Finding, cloud: Option<&str>, p: &mut Plan) {
    for nsg in model.nsgs.iter().filter(|n| n.address == f.resource) {
        for endpoint in &policy.endpoints {
            let Some(addrs) = endpoint.addresses(cloud.or(nsg.cloud.as_deref()).unwrap_or("public")) else {
                continue;
            };
            for rule in &nsg.rules {
                let listed: Vec<IpAddr> = rule.listed_hosts();
                let missing: Vec<IpAddr> = addrs.required.iter().copied().filter(|a| !listed.contains(a)).collect();
                let mut first = true;
                for d in &rule.destinations {
                    let Field::Known(AddressMatch::Prefix(n), o) = d else { continue };
                    let stale = n.addr();
                    if !(addrs.typos.contains(&stale) || addrs.retired.contains(&stale)) {
                        continue;
                    }
                    let Some(text) = sources.get(o.file).map(|s| s.text().clone()) else {
                        continue;
                    };
                    let Some(inner) = literal(&text, &o.span(), &stale.to_string())
                        .or_else(|| literal(&text, &o.span(), &format!("{stale}/{}", n.prefix_len())))
                    else {
                        continue;
                    };
                    if !(o.file == rule.origin.file && within(&inner, &rule.origin.span())) {
                        continue;
                    }
                    // Each stale entry gives way to the current addresses the rule lacks (once).
                    let with: Vec<IpAddr> = if first { missing.clone() } else { Vec::new() };
                    let Some(edit) = replace_entry(&text, &inner, &with, nsg_dialect(nsg)) else {
                        continue;
                    };
                    first = false;
                    let list: Vec<String> = with.iter().map(|a| a.to_string()).collect();
                    p.edit(
                        o.file,
                        edit.clone(),
                        Change {
                            code: "KG103",
                            file: o.file,
                            offset: edit.range.start,
                            what: if list.is_empty() {
                                format!("removed the {} address {stale}", endpoint.title)
                            } else {
                                format!(
                                    "replaced the {} address {stale} with {}",
                                    endpoint.title,
                                    crate::rules::and_list(&list)
                                )
                            },
                        },
                    );
                }
            }
        }
    }
}

fn nsg_dialect(nsg: &crate::model::Nsg) -> Dialect {
    nsg.dialect
}

/// Replaces one destination entry with `with` (possibly none). In a list the
/// entry's place takes the new elements; a single-valued property
/// (`destination_address_prefix`) becomes its plural form with a list.
fn replace_entry(text: &str, inner: &Range<usize>, with: &[IpAddr], dialect: Dialect) -> Option<Edit> {
    let q = quote_at(text, inner.start);
    let quoted = inner.start.checked_sub(1)?..inner.end + 1;
    let before = text.get(..quoted.start)?.trim_end();
    let singular = before.ends_with('=') || before.ends_with(':');
    let items: Vec<String> = with.iter().map(|a| format!("{q}{a}{q}")).collect();
    if !singular {
        if items.is_empty() {
            return None;
        }
        let sep = match dialect {
            // Bicep arrays are one element per line.
            Dialect::Bicep => format!("\n{}", crate::source::indent_at(text, quoted.start)),
            _ => ", ".to_string(),
        };
        return Some(Edit {
            range: quoted,
            text: items.join(&sep),
        });
    }
    // The key: the last word before `=`/`:` on the same line.
    let line_begin = line_start(text, quoted.start);
    let head = text.get(line_begin..quoted.start)?;
    let key_names = [
        ("destination_address_prefix", "destination_address_prefixes"),
        ("destinationAddressPrefix", "destinationAddressPrefixes"),
    ];
    let (old_key, new_key) = key_names.iter().find(|(k, _)| {
        let h = head.trim().trim_end_matches(['=', ':']).trim().trim_matches('"');
        h == *k
    })?;
    let key_at = line_begin + head.find(old_key)?;
    if items.is_empty() {
        return None;
    }
    let list = match dialect {
        Dialect::Bicep => {
            let ind = crate::source::indent_at(text, quoted.start);
            format!("[\n{ind}  {}\n{ind}]", items.join(&format!("\n{ind}  ")))
        }
        _ => format!("[{}]", items.join(", ")),
    };
    let mut new = text.get(key_at..quoted.start)?.replacen(old_key, new_key, 1);
    new.push_str(&list);
    Some(Edit {
        range: key_at..quoted.end,
        text: new,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_maps_to_the_address_it_misspells() {
        let req: Vec<IpAddr> = vec!["20.118.99.224".parse().expect("ip"), "40.83.235.53".parse().expect("ip")];
        assert_eq!(nearest("20.118.99.244".parse().expect("ip"), &req), req.first().copied());
    }

    #[test]
    fn a_singular_destination_becomes_a_list_of_the_current_addresses() {
        let t = "    destination_address_prefix = \"23.102.135.246\"\n";
        let at = t.find("23.").unwrap_or_default();
        let with: Vec<IpAddr> = vec!["20.118.99.224".parse().expect("ip"), "40.83.235.53".parse().expect("ip")];
        let e = replace_entry(t, &(at..at + 14), &with, Dialect::Terraform).expect("edit");
        let refs = vec![&e];
        assert_eq!(
            super::super::diff::apply(t, &refs, 0..t.len()),
            "    destination_address_prefixes = [\"20.118.99.224\", \"40.83.235.53\"]\n"
        );
    }
}
