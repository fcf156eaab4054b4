//! KG102: a KMS /32 route's next hop set to Internet.

use std::ops::Range;

use super::refusal::Refusal;
use super::{cloud_of, literal, within, Change, Edit, Plan, Suggestion};
use crate::analysis::routing::{effective_route, RouteDecision, Winner};
use crate::model::{Dialect, Field, Model, NextHopType, RouteTable};
use crate::policy::Policy;
use crate::rules::Finding;
use crate::source::{line_after, line_start, Origin, SourceMap};

pub(super) fn kg102(model: &Model, policy: &Policy, sources: &SourceMap, f: &Finding, cloud: Option<&str>, p: &mut Plan) {
    let mut done = false;
    let mut why = None;
    for table in model.route_tables.iter().filter(|t| t.address == f.resource) {
        for endpoint in &policy.endpoints {
            let Some(addrs) = endpoint.addresses(cloud_of(table, cloud)) else {
                continue;
            };
            for addr in &addrs.required {
                let RouteDecision::Known(er) = effective_route(table, *addr) else {
                    continue;
                };
                let Winner::User(route) = er.winner else { continue };
                if er.next_hop == NextHopType::Internet || !er.is_host_route() {
                    continue;
                }
                let name = route.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
                let what = format!("set the next hop of route {name} ({addr}/32) to Internet");
                if in_route(model, sources, table, route, &what, p) {
                    done = true;
                    continue;
                }
                match super::entry::change(sources, p, table, route, &super::entry::Want::Internet) {
                    Ok(changed) => {
                        super::entry::record(sources, p, "KG102", changed, &what);
                        done = true;
                    }
                    Err(e) => why = why.or(Some(e)),
                }
            }
        }
    }
    if !done {
        p.suggest(
            f,
            why.unwrap_or(Refusal::Because("the next hop is not a literal written in the route itself")),
        );
    }
}

/// The next hop changed where it is written in the route itself (or in a
/// value only this route reads): whether it was.
fn in_route(model: &Model, sources: &SourceMap, table: &RouteTable, route: &crate::model::Route, what: &str, p: &mut Plan) -> bool {
    let Field::Known(hop, hop_origin) = &route.next_hop_type else {
        return false;
    };
    let Some(text) = sources.get(hop_origin.file).map(|s| s.text().clone()) else {
        return false;
    };
    let Some(inner) = literal(&text, &hop_origin.span(), hop.as_str()) else {
        return false;
    };
    // A value written elsewhere (a local, a variable's default)
    // may feed other routes: change it only when this route alone reads it.
    let shared = model
        .route_tables
        .iter()
        .flat_map(|t| &t.routes)
        .filter(|r| r.next_hop_type.origin() == hop_origin)
        .count()
        > 1;
    let own = hop_origin.file == route.origin.file && within(&inner, &route.origin.span());
    if shared && !own {
        return false;
    }
    p.edit(
        hop_origin.file,
        Edit {
            range: inner.clone(),
            text: "Internet".into(),
        },
        Change {
            code: "KG102",
            file: hop_origin.file,
            offset: inner.start,
            what: what.to_string(),
        },
    );
    if let Some(ip) = &route.next_hop_ip {
        remove_next_hop_ip(sources, table, route, ip, p);
    }
    true
}

/// Drops a route's next hop IP address, which Azure refuses beside next hop
/// Internet: `null` in Terraform; the property's line in Bicep and ARM.
fn remove_next_hop_ip(sources: &SourceMap, table: &RouteTable, route: &crate::model::Route, ip: &Field<String>, p: &mut Plan) {
    let o = ip.origin();
    let name = route.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
    let Some(text) = sources.get(o.file).map(|s| s.text().clone()) else {
        return;
    };
    let span = o.span();
    let own = o.file == route.origin.file && within(&span, &route.origin.span());
    if !own {
        p.suggestions.push(Suggestion {
            code: "KG102",
            origin: Origin::new(o.file, span.start..span.start),
            suggestion: format!("make the next hop IP address of route {name} null now that its next hop is Internet"),
            why: "the address is written outside the route and may feed others".into(),
        });
        return;
    }
    let change = |offset| Change {
        code: "KG102",
        file: o.file,
        offset,
        what: format!("removed the next hop IP address of route {name}"),
    };
    match table.authoring.dialect {
        Dialect::Terraform => {
            let range = match literal_or_expr(&text, &span) {
                Some(r) => r,
                None => return,
            };
            p.edit(
                o.file,
                Edit {
                    range: range.clone(),
                    text: "null".into(),
                },
                change(range.start),
            );
        }
        Dialect::Bicep | Dialect::Arm => {
            let start = line_start(&text, span.start);
            let end = line_after(&text, span.end.saturating_sub(1).max(span.start));
            let line = text.get(start..end).unwrap_or("");
            let key_ok = {
                let t = line.trim_start().trim_start_matches('"');
                t.starts_with("nextHopIpAddress")
            };
            if !key_ok || line.matches(':').count() != 1 && table.authoring.dialect == Dialect::Bicep {
                return;
            }
            p.edit(
                o.file,
                Edit {
                    range: start..end,
                    text: String::new(),
                },
                change(start),
            );
            // JSON: the property before the last one loses its trailing comma.
            if table.authoring.dialect == Dialect::Arm && !line.trim_end().ends_with(',') {
                let before = text.get(..start).unwrap_or("").trim_end();
                if before.ends_with(',') {
                    let at = before.len() - 1;
                    p.edit(
                        o.file,
                        Edit {
                            range: at..at + 1,
                            text: String::new(),
                        },
                        Change {
                            code: "KG102",
                            file: o.file,
                            offset: at,
                            what: "dropped the comma before the removed property".into(),
                        },
                    );
                }
            }
        }
    }
}

/// The span of a Terraform value as written (a quoted string widened to its quotes).
fn literal_or_expr(text: &str, span: &Range<usize>) -> Option<Range<usize>> {
    let s = text.get(span.clone())?;
    if s.trim().is_empty() {
        return None;
    }
    let before = text.get(..span.start)?.chars().next_back();
    let after = text.get(span.end..)?.chars().next();
    match (before, after) {
        (Some('"'), Some('"')) if !s.starts_with('"') => Some(span.start - 1..span.end + 1),
        _ => Some(span.clone()),
    }
}
