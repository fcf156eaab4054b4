//! `kmsguard fix`: rewrites the code behind KG101, KG102 and KG103 findings
//! in place, touching only the bytes of the routes and addresses it adds or
//! changes; everything else (formatting, comments, order) stays byte for byte.
//!
//! It edits only what it can place reliably: a value written as a literal
//! in the route or rule itself, a route list whose insertion point the
//! front end recorded. Everything else — and every finding that needs a
//! human decision (KG104, KG201–KG204, KG301) — is printed as a suggestion.
//! KG901 notes are never touched. An edited file that would no longer parse
//! is not written.

pub mod diff;

use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::analysis::firewall::firewall_for;
use crate::analysis::routing::{effective_route, RouteDecision, Winner};
use crate::model::{AddressMatch, Dialect, Field, Model, NextHopType, RoutePrefix, RouteStyle, RouteTable};
use crate::policy::Policy;
use crate::report::escape::log_text;
use crate::rules::Finding;
use crate::source::{display_path, line_after, line_start, FileId, Origin, SourceMap};

/// The rules `fix` rewrites code for.
pub const FIXABLE: &[&str] = &["KG101", "KG102", "KG103"];

/// One replacement of a byte range of a file (an empty range inserts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

/// What a fix did, or would do, at one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub code: &'static str,
    pub file: FileId,
    pub offset: usize,
    pub what: String,
}

/// A finding kmsguard does not rewrite, with the change it suggests and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub code: &'static str,
    pub origin: Origin,
    pub suggestion: String,
    pub why: String,
}

/// Every edit, per file, with what each does, and what is left to a human.
#[derive(Debug, Default)]
pub struct Plan {
    pub edits: BTreeMap<FileId, Vec<Edit>>,
    pub changes: Vec<Change>,
    pub suggestions: Vec<Suggestion>,
}

impl Plan {
    fn edit(&mut self, file: FileId, edit: Edit, change: Change) {
        let list = self.edits.entry(file).or_default();
        if list.contains(&edit) {
            return;
        }
        list.push(edit);
        self.changes.push(change);
    }

    fn suggest(&mut self, f: &Finding, why: &str) {
        let suggestion = f.fix.as_ref().map(|x| x.description.clone()).unwrap_or_default();
        let s = Suggestion {
            code: f.code,
            origin: f.primary.origin.clone(),
            suggestion,
            why: why.to_string(),
        };
        if !self.suggestions.contains(&s) {
            self.suggestions.push(s);
        }
    }
}

/// The text of `span` if it is a literal (quoted or bare) whose content
/// equals `expected` ignoring case: the range of the content, to replace.
fn literal(text: &str, span: &Range<usize>, expected: &str) -> Option<Range<usize>> {
    let s = text.get(span.clone())?;
    let trimmed = s.trim();
    let lead = s.len() - s.trim_start().len();
    let start = span.start + lead;
    let inner = match trimmed.chars().next() {
        Some(q @ ('"' | '\'')) if trimmed.len() >= 2 && trimmed.ends_with(q) => start + 1..start + trimmed.len() - 1,
        _ => {
            // The span may hold only the content of a quoted string.
            let before = text.get(..span.start)?.chars().next_back();
            let after = text.get(span.end..)?.chars().next();
            match (before, after) {
                (Some(a @ ('"' | '\'')), Some(b)) if a == b => start..start + trimmed.len(),
                _ => return None,
            }
        }
    };
    text.get(inner.clone())?.eq_ignore_ascii_case(expected).then_some(inner)
}

fn within(inner: &Range<usize>, outer: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The quote a literal at `at` is written with.
fn quote_at(text: &str, at: usize) -> char {
    match text.get(..at).and_then(|t| t.chars().next_back()) {
        Some('\'') => '\'',
        _ => '"',
    }
}

/// The cloud whose addresses apply to a table.
fn cloud_of<'a>(table: &'a RouteTable, forced: Option<&'a str>) -> &'a str {
    forced.or(table.cloud.as_deref()).unwrap_or("public")
}

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

/// Works out the edits for `findings` (those of `rules` only).
pub fn plan(model: &Model, policy: &Policy, sources: &SourceMap, findings: &[Finding], cloud: Option<&str>, rules: &[String]) -> Plan {
    let mut p = Plan::default();
    let wanted = |code: &str| rules.is_empty() || rules.iter().any(|r| r == code);
    let active: Vec<&Finding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    // Addresses a KG103 rewrite of a mistyped route supplies, per table:
    // KG101 must not add them a second time.
    let mut supplied: HashSet<(String, IpAddr)> = HashSet::new();
    for f in active.iter().filter(|f| f.code == "KG103" && wanted(f.code)) {
        kg103(model, policy, sources, f, cloud, &mut p, &mut supplied);
    }
    for f in &active {
        match f.code {
            "KG101" if wanted(f.code) => kg101(model, policy, sources, f, cloud, &mut p, &supplied),
            "KG102" if wanted(f.code) => kg102(model, policy, sources, f, cloud, &mut p),
            "KG103" | "KG901" => {}
            code if !wanted(code) => {}
            _ if f.fix.is_some() => p.suggest(f, "it needs a human decision"),
            _ => {}
        }
    }
    p
}

fn kg101(
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
        let why = match (table.authoring.dialect, &table.authoring.style) {
            (_, RouteStyle::AzapiBody) => "routes in an azapi body are not placed automatically yet",
            (Dialect::Bicep | Dialect::Arm, _) => "the table has no written-out routes array to add to",
            _ => "the table is written where kmsguard cannot add routes (JSON configuration or a plan)",
        };
        return p.suggest(f, why);
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
        let missing: Vec<IpAddr> = addrs
            .required
            .iter()
            .copied()
            .filter(|a| !supplied.contains(&(table.address.clone(), *a)))
            .filter(|a| match effective_route(table, *a) {
                RouteDecision::Known(er) => {
                    er.next_hop != NextHopType::Internet && !er.is_host_route() && firewall_for(model, table, &er).is_none()
                }
                RouteDecision::Unknown(_) => false,
            })
            .collect();
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

fn kg102(model: &Model, policy: &Policy, sources: &SourceMap, f: &Finding, cloud: Option<&str>, p: &mut Plan) {
    let mut done = false;
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
                let Field::Known(hop, hop_origin) = &route.next_hop_type else {
                    continue;
                };
                let Some(text) = sources.get(hop_origin.file).map(|s| s.text().clone()) else {
                    continue;
                };
                let Some(inner) = literal(&text, &hop_origin.span(), hop.as_str()) else {
                    continue;
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
                    continue;
                }
                let name = route.name.known().cloned().unwrap_or_else(|| "(unnamed)".into());
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
                        what: format!("set the next hop of route {name} ({addr}/32) to Internet"),
                    },
                );
                done = true;
                if let Some(ip) = &route.next_hop_ip {
                    remove_next_hop_ip(sources, table, route, ip, p);
                }
            }
        }
    }
    if !done {
        p.suggest(f, "the next hop is not a literal written in the route itself");
    }
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

fn kg103(
    model: &Model,
    policy: &Policy,
    sources: &SourceMap,
    f: &Finding,
    cloud: Option<&str>,
    p: &mut Plan,
    supplied: &mut HashSet<(String, IpAddr)>,
) {
    let before = p.edits.values().map(Vec::len).sum::<usize>();
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
                let Some(text) = sources.get(o.file).map(|s| s.text().clone()) else {
                    continue;
                };
                let span = o.span();
                let typo = n.addr().to_string();
                let Some(inner) = literal(&text, &span, &format!("{typo}/{}", n.prefix_len())).or_else(|| literal(&text, &span, &typo))
                else {
                    continue;
                };
                if !(o.file == route.origin.file && within(&inner, &route.origin.span())) {
                    continue;
                }
                let Some(found) = text.get(inner.clone()).and_then(|s| s.find(&typo)) else {
                    continue;
                };
                let range = inner.start + found..inner.start + found + typo.len();
                supplied.insert((table.address.clone(), right));
                p.edit(
                    o.file,
                    Edit {
                        range: range.clone(),
                        text: right.to_string(),
                    },
                    Change {
                        code: "KG103",
                        file: o.file,
                        offset: range.start,
                        what: format!("replaced the mistyped {} address {typo} with {right}", endpoint.title),
                    },
                );
            }
        }
    }
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
    if p.edits.values().map(Vec::len).sum::<usize>() == before {
        p.suggest(f, "the address is not a literal written in the route or rule itself");
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

/// Whether `text`, after the edits, still parses in its language.
fn parses(path: &Path, text: &str) -> Result<(), String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".tf") || name.ends_with(".tfvars") {
        hcl::edit::parser::parse_body(text).map(|_| ()).map_err(|e| e.to_string())
    } else if name.ends_with(".bicep") || name.ends_with(".bicepparam") {
        kmsguard_bicep_syntax::parse(text).map(|_| ()).map_err(|e| format!("{e:?}"))
    } else if name.ends_with(".json") {
        kmsguard_arm_syntax::parse_json(text).map(|_| ()).map_err(|e| format!("{e:?}"))
    } else {
        Err("kmsguard does not edit this kind of file".into())
    }
}

/// The files as they will be: (file, path, old text, new text), in path
/// order. Files whose edits overlap or would not parse are left out, their
/// changes turned into suggestions.
pub fn apply(plan: &mut Plan, sources: &SourceMap) -> Vec<(FileId, PathBuf, String, String)> {
    let mut out = Vec::new();
    let mut refused: Vec<(FileId, String)> = Vec::new();
    for (file, edits) in &mut plan.edits {
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        let path = sources.path(*file).to_path_buf();
        let Some(src) = sources.get(*file) else { continue };
        let text = src.text().to_string();
        if text.is_empty() {
            refused.push((*file, "the file changed since it was read".into()));
            continue;
        }
        // Two insertions at one place go in the order planned; overlaps are refused.
        let overlap = edits
            .windows(2)
            .any(|w| matches!(w, [a, b] if b.range.start < a.range.end || (b.range.start == a.range.start && !a.range.is_empty())));
        if overlap {
            refused.push((*file, "two fixes would change the same text".into()));
            continue;
        }
        // A file written with CRLF line ends gets CRLF in what is added too.
        if text.contains("\r\n") {
            for e in edits.iter_mut() {
                e.text = e.text.replace("\r\n", "\n").replace('\n', "\r\n");
            }
        }
        let refs: Vec<&Edit> = edits.iter().collect();
        let new = diff::apply(&text, &refs, 0..text.len());
        if let Err(e) = parses(&path, &new) {
            refused.push((*file, format!("the edited file would not parse ({e})")));
            continue;
        }
        if new != text {
            out.push((*file, path, text, new));
        }
    }
    for (file, why) in refused {
        plan.edits.remove(&file);
        let (taken, kept): (Vec<Change>, Vec<Change>) = std::mem::take(&mut plan.changes).into_iter().partition(|c| c.file == file);
        plan.changes = kept;
        for c in taken {
            plan.suggestions.push(Suggestion {
                code: c.code,
                origin: Origin::new(c.file, c.offset..c.offset),
                suggestion: c.what,
                why: why.clone(),
            });
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// Writes `text` over `path` atomically: a temporary file in the same
/// directory, then a rename. Refuses a symbolic link (it would be written
/// through) and anything outside `roots`.
pub fn write_atomically(path: &Path, text: &str, roots: &[PathBuf]) -> Result<(), String> {
    let (real, meta) = writable(path, roots)?;
    let dir = real.parent().unwrap_or(Path::new("."));
    let name = real.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut attempt = 0;
    let temp = loop {
        let t = dir.join(format!(".{name}.kmsguard-fix-{}-{attempt}", std::process::id()));
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&t) {
            Ok(mut f) => {
                use std::io::Write;
                let written = f.write_all(text.as_bytes()).and_then(|_| f.sync_all());
                if let Err(e) = written {
                    let _ = std::fs::remove_file(&t);
                    return Err(format!("cannot write {}: {e}", path.display()));
                }
                break t;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    };
    let _ = std::fs::set_permissions(&temp, meta.permissions());
    std::fs::rename(&temp, &real).map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// Where `path` really is, if kmsguard may replace it: a regular file (not a
/// symbolic link) inside one of `roots`.
pub fn writable(path: &Path, roots: &[PathBuf]) -> Result<(PathBuf, std::fs::Metadata), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(format!("refusing to write {}: it is not a regular file", path.display()));
    }
    let real = std::fs::canonicalize(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    if !roots.iter().any(|r| real.starts_with(r)) {
        return Err(format!("refusing to write {}: it is outside the repository", path.display()));
    }
    Ok((real, meta))
}

/// `kmsguard fix`'s flags.
#[derive(Debug, Clone, clap::Args)]
pub struct FixArgs {
    /// Print a unified diff and write nothing (exit 1 when there is something to fix).
    #[arg(long)]
    pub diff: bool,
    /// Fix only these rules (codes or names; comma-separated or repeated).
    #[arg(long, value_name = "RULES", value_delimiter = ',')]
    pub select: Vec<String>,
    #[command(flatten)]
    pub model: crate::load::ModelArgs,
}

fn place(sources: &SourceMap, file: FileId, offset: usize) -> String {
    let path = display_path(sources.path(file));
    let line = sources.line_col(&Origin::new(file, offset..offset)).line;
    format!("{path}:{line}")
}

/// A diff as printed: each line neutralised like any text from the tree
/// (control characters visible, log commands defused), its line end kept as
/// it is so that the diff still applies to a CRLF file.
fn diff_text(diff: &str) -> String {
    diff.split_inclusive('\n')
        .map(|l| {
            let body = l.trim_end_matches('\n').trim_end_matches('\r');
            let end = l.get(body.len()..).unwrap_or("");
            format!("{}{end}", crate::report::escape::block_text(body))
        })
        .collect()
}

/// Runs `kmsguard fix`: the text to print and the exit code, or why the run failed.
pub fn run(args: &FixArgs) -> Result<(String, u8), String> {
    let loaded = crate::load::load(&args.model, Vec::new())?;
    if let Some(e) = loaded.outcome.errors.first() {
        let (file, lc) = crate::report::error_location(&loaded.outcome.sources, e);
        let at = lc.map(|lc| format!(":{}:{}", lc.line, lc.column)).unwrap_or_default();
        return Err(format!(
            "could not read {file}{at}: {}; fix edits only trees that parse",
            e.message()
        ));
    }
    let mut rules = Vec::new();
    for name in &args.select {
        let code = loaded
            .policy
            .rule(name.trim())
            .map(|r| r.code.clone())
            .ok_or_else(|| format!("no rule named \"{name}\"; `kmsguard rules` lists them"))?;
        rules.push(code);
    }
    let sources = &loaded.outcome.sources;
    let mut plan = plan(
        &loaded.outcome.model,
        &loaded.policy,
        sources,
        &loaded.outcome.findings,
        loaded.opts.cloud.as_deref(),
        &rules,
    );
    let files = apply(&mut plan, sources);
    let mut out = String::new();
    if args.diff {
        for (_, path, old, _) in &files {
            let edits = plan
                .edits
                .iter()
                .find(|(f, _)| sources.path(**f) == path.as_path())
                .map(|(_, e)| e.clone())
                .unwrap_or_default();
            out.push_str(&diff_text(&diff::unified(&display_path(path), old, &edits)));
        }
    } else {
        let roots: Vec<PathBuf> = args.model.paths.iter().map(|p| crate::discover::repository_root(p)).collect();
        // Every file is checked before any is written: all or nothing.
        for (_, path, _, _) in &files {
            writable(path, &roots)?;
        }
        for (_, path, _, new) in &files {
            write_atomically(path, new, &roots)?;
        }
    }
    let mut changes = plan.changes.clone();
    changes.sort_by_key(|c| (display_path(sources.path(c.file)), c.offset));
    for c in &changes {
        out.push_str(&format!(
            "{}{}: {} {}\n",
            if args.diff { "would fix " } else { "fixed " },
            log_text(&place(sources, c.file, c.offset)),
            c.code,
            log_text(&c.what)
        ));
    }
    let mut suggestions = plan.suggestions.clone();
    suggestions.sort_by_key(|s| (display_path(sources.path(s.origin.file)), s.origin.span().start, s.code));
    for s in &suggestions {
        out.push_str(&format!(
            "not fixed {}: {} {} (not rewritten: {})\n",
            log_text(&place(sources, s.origin.file, s.origin.span().start)),
            s.code,
            log_text(&s.suggestion),
            log_text(&s.why)
        ));
    }
    if files.is_empty() && suggestions.is_empty() {
        out.push_str("nothing to fix\n");
    } else if !args.diff && !files.is_empty() {
        out.push_str(&format!(
            "{} file{} written\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
    }
    let code = u8::from(args.diff && !files.is_empty());
    Ok((crate::report::escape::defuse_line_starts(&out).into_owned(), code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_read_with_or_without_their_quotes() {
        let t = r#"a = "VirtualAppliance""#;
        assert_eq!(literal(t, &(4..22), "virtualappliance"), Some(5..21));
        assert_eq!(literal(t, &(5..21), "VirtualAppliance"), Some(5..21));
        assert_eq!(literal("a = var.hop", &(4..11), "VirtualAppliance"), None);
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_and_files_outside_the_roots_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonical");
        let real = root.join("real.tf");
        std::fs::write(&real, "a = 1\n").expect("write");
        std::os::unix::fs::symlink(&real, root.join("link.tf")).expect("symlink");
        let roots = vec![root.clone()];
        assert!(write_atomically(&root.join("link.tf"), "b = 2\n", &roots).is_err());
        assert!(write_atomically(&real, "b = 2\n", &[root.join("elsewhere")]).is_err());
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "a = 1\n");
        assert_eq!(write_atomically(&real, "b = 2\n", &roots), Ok(()));
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "b = 2\n");
        let left: Vec<_> = std::fs::read_dir(&root).expect("ls").flatten().map(|e| e.file_name()).collect();
        assert_eq!(left.len(), 2, "no temporary file is left: {left:?}");
    }

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
            diff::apply(t, &refs, 0..t.len()),
            "    destination_address_prefixes = [\"20.118.99.224\", \"40.83.235.53\"]\n"
        );
    }
}
