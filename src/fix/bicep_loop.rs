//! KG102 and KG103 where a Bicep table's routes are a `[for … in …]` loop
//! over an array or `items(…)` of an object written in the repository (a
//! `var`, a `param`'s default, or the one `.bicepparam` file that sets it):
//! the entry that makes the route is changed where it is written.

use std::collections::BTreeMap;
use std::sync::Arc;

use kmsguard_bicep_syntax::ast::{ArrayItemKind, BinaryOp, Expr, ExprKind, ObjectMemberKind, Program, StatementKind, UsingTarget};

use super::azure::{bicep_property, bicep_resources};
use super::azure_entry::{is_route, literal_edit};
use super::entry::{Changed, Want};
use super::refusal::Refusal;
use super::terraform::Placed;
use super::Edit;
use crate::model::{Route, RouteTable};
use crate::source::{indent_at, line_after, line_start, normalise, FileId, SourceMap};

/// A value of the little a loop body may compute from its item.
#[derive(Debug, Clone, PartialEq)]
enum B {
    Null,
    Str(String),
    Bool(bool),
    Obj(BTreeMap<String, B>),
    Unknown,
}

impl B {
    fn get(&self, k: &str) -> B {
        match self {
            B::Obj(m) => m.get(k).cloned().unwrap_or(B::Unknown),
            _ => B::Unknown,
        }
    }
}

/// A literal value (objects field by field).
fn value(e: &Expr) -> B {
    match &e.kind {
        ExprKind::Null => B::Null,
        ExprKind::Bool(b) => B::Bool(*b),
        ExprKind::Paren(i) => value(i),
        ExprKind::Object(members) => B::Obj(
            members
                .iter()
                .filter_map(|m| match &m.kind {
                    ObjectMemberKind::Property { key, value: v } => key.literal_name().map(|k| (k, value(v))),
                    _ => None,
                })
                .collect(),
        ),
        _ => e.as_literal_string().map(B::Str).unwrap_or(B::Unknown),
    }
}

/// Evaluates the loop body's `e` with `item` bound.
fn eval(e: &Expr, item: &str, bound: &B) -> B {
    match &e.kind {
        ExprKind::Ident(i) if i.name == item => bound.clone(),
        ExprKind::Property { base, name, .. } => eval(base, item, bound).get(&name.name),
        ExprKind::Paren(i) => eval(i, item, bound),
        ExprKind::Binary { op, lhs, rhs } => {
            let (a, b) = (eval(lhs, item, bound), eval(rhs, item, bound));
            let (B::Str(a), B::Str(b)) = (&a, &b) else { return B::Unknown };
            match op {
                BinaryOp::Equals => B::Bool(a == b),
                BinaryOp::NotEquals => B::Bool(a != b),
                BinaryOp::EqualsInsensitive => B::Bool(a.eq_ignore_ascii_case(b)),
                BinaryOp::NotEqualsInsensitive => B::Bool(!a.eq_ignore_ascii_case(b)),
                _ => B::Unknown,
            }
        }
        ExprKind::Ternary { cond, then, otherwise } => match eval(cond, item, bound) {
            B::Bool(true) => eval(then, item, bound),
            B::Bool(false) => eval(otherwise, item, bound),
            _ => B::Unknown,
        },
        _ => value(e),
    }
}

/// `item.K` (an array's entry) or `item.value.K` (`items(…)`): K.
fn reads(e: &Expr, item: &str, items: bool) -> Option<String> {
    let ExprKind::Property { base, name, .. } = &e.kind else {
        return None;
    };
    let base = if items {
        let ExprKind::Property { base: b, name: v, .. } = &base.kind else {
            return None;
        };
        if v.name != "value" {
            return None;
        }
        b
    } else {
        base
    };
    matches!(&base.kind, ExprKind::Ident(i) if i.name == item).then(|| name.name.clone())
}

fn parse(sources: &SourceMap, file: FileId) -> Result<(Arc<str>, Program), Refusal> {
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let program = kmsguard_bicep_syntax::parse(&text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    Ok((text, program))
}

/// Where a name the loop iterates over is written: a `var`, the one
/// `.bicepparam` file that sets a `param`, else the `param`'s default.
pub(super) fn written(sources: &SourceMap, file: FileId, program: &Program, name: &str) -> Result<(FileId, String), Refusal> {
    for s in &program.statements {
        match &s.kind {
            StatementKind::Var(v) if v.name.name == name => return Ok((file, format!("var {name}"))),
            StatementKind::Param(p) if p.name.name == name => {
                let (targeting, setters) = param_files_setting(sources, file, name);
                if !setters.is_empty() && setters.len() < targeting {
                    // Deployed both with and without the file's value: no one place fixes it.
                    return Err(Refusal::ParamSetSometimes(name.to_string()));
                }
                return match setters.as_slice() {
                    [] if p.default.is_some() => Ok((file, format!("the default of param {name}"))),
                    [] => Err(Refusal::ParamWithoutValue(name.to_string())),
                    [one] => Ok((*one, format!("param {name}"))),
                    _ => Err(Refusal::ParamSetTwice(name.to_string())),
                };
            }
            _ => {}
        }
    }
    Err(Refusal::NotInFile(name.to_string()))
}

/// How many `.bicepparam` files name `template` in their `using`, and those that set `name`.
fn param_files_setting(sources: &SourceMap, template: FileId, name: &str) -> (usize, Vec<FileId>) {
    let want = normalise(sources.path(template));
    let targeting: Vec<(FileId, Program)> = (0..sources.len())
        .filter_map(|i| u32::try_from(i).ok().map(FileId))
        .filter(|f| sources.path(*f).extension().is_some_and(|e| e == "bicepparam"))
        .filter_map(|f| parse(sources, f).ok().map(|(_, p)| (f, p)))
        .filter(|(f, program)| {
            let dir = sources.path(*f).parent().map(|d| d.to_path_buf()).unwrap_or_default();
            program.statements.iter().any(|s| match &s.kind {
                StatementKind::Using(u) => match &u.target {
                    UsingTarget::Path(p) => p.as_literal_string().is_some_and(|p| normalise(&dir.join(p)) == want),
                    UsingTarget::None(_) => false,
                },
                _ => false,
            })
        })
        .collect();
    let setters = targeting
        .iter()
        .filter(|(_, program)| {
            program
                .statements
                .iter()
                .any(|s| matches!(&s.kind, StatementKind::Param(p) if p.name.name == name))
        })
        .map(|(f, _)| *f)
        .collect();
    (targeting.len(), setters)
}

/// The expression `name` has in `file` (a var's value, a param's default or assigned value).
pub(super) fn value_in<'p>(program: &'p Program, name: &str) -> Option<&'p Expr> {
    program.statements.iter().find_map(|s| match &s.kind {
        StatementKind::Var(v) if v.name.name == name => Some(&v.value),
        StatementKind::Param(p) if p.name.name == name => p.default.as_ref(),
        _ => None,
    })
}

/// The entries of a loop's collection: (bound item, entry expression).
fn entries(coll: &Expr, items: bool) -> Vec<(B, &Expr)> {
    match (&coll.kind, items) {
        (ExprKind::Array(list), false) => list
            .iter()
            .filter_map(|i| match &i.kind {
                ArrayItemKind::Value(e) => Some((value(e), e)),
                ArrayItemKind::Spread(_) => None,
            })
            .collect(),
        (ExprKind::Object(members), true) => members
            .iter()
            .filter_map(|m| match &m.kind {
                ObjectMemberKind::Property { key, value: v } => {
                    let k = key.literal_name()?;
                    Some((B::Obj([("key".to_string(), B::Str(k)), ("value".to_string(), value(v))].into()), v))
                }
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The span of field `k` of an entry object.
fn field<'e>(entry: &'e Expr, k: &str) -> Option<&'e Expr> {
    let ExprKind::Object(members) = &entry.kind else { return None };
    members.iter().find_map(|m| match &m.kind {
        ObjectMemberKind::Property { key, value } if key.literal_name().as_deref() == Some(k) => Some(value),
        _ => None,
    })
}

/// A routes loop: its item's name, whether it iterates `items(…)`, its
/// body and the name it iterates over.
struct Loop<'p> {
    item: &'p str,
    items: bool,
    body: &'p Expr,
    source: &'p str,
}

fn loop_of(routes: &Expr) -> Result<Loop<'_>, Refusal> {
    let ExprKind::For { item, iterable, body, .. } = &routes.kind else {
        return Err("the route is not written out in the table".into());
    };
    let (items, source) = match &iterable.kind {
        ExprKind::Call { target: None, name, args } if name.name == "items" => match args.as_slice() {
            [one] => (true, one),
            _ => return Err("the loop's items() call is not over one value".into()),
        },
        _ => (false, iterable.as_ref()),
    };
    let ExprKind::Ident(source) = &source.kind else {
        return Err("the loop is not over a variable or parameter".into());
    };
    Ok(Loop {
        item: item.name.as_str(),
        items,
        body,
        source: source.name.as_str(),
    })
}

pub(super) fn change(
    sources: &SourceMap,
    _parameters: &[std::path::PathBuf],
    table: &RouteTable,
    route: &Route,
    want: &Want,
) -> Result<Changed, Refusal> {
    let file = table.origin.file;
    let (_, program) = parse(sources, file)?;
    let at = table.origin.span().start;
    let (decl, _) = bicep_resources(&program)
        .into_iter()
        .filter(|(_, s)| s.start <= at && at < s.end)
        .min_by_key(|(_, s)| s.len())
        .ok_or("the table was not found again")?;
    let routes = bicep_property(&decl.value, "properties")
        .and_then(|p| bicep_property(p, "routes"))
        .ok_or("the route is not written out in the table")?;
    let Loop { item, items, body, source } = loop_of(routes)?;
    let (target, what) = written(sources, file, &program, source)?;
    let (target_text, target_program) = parse(sources, target)?;
    let coll = value_in(&target_program, source).ok_or_else(|| Refusal::NotWrittenOut(source.to_string()))?;
    let props = bicep_property(body, "properties");
    let of = |k: &str| props.and_then(|p| bicep_property(p, k));
    let made = |e: Option<&Expr>, b: &B| match e.map(|e| eval(e, item, b)) {
        Some(B::Str(s)) => Some(s),
        _ => None,
    };
    let found: Vec<(B, &Expr)> = entries(coll, items)
        .into_iter()
        .filter(|(b, _)| {
            is_route(
                route,
                made(bicep_property(body, "name"), b).as_deref(),
                made(of("addressPrefix"), b).as_deref(),
            )
        })
        .collect();
    let [(bound, entry)] = found.as_slice() else {
        return Err(Refusal::NotOneEntry(source.to_string()));
    };
    let attr = if matches!(want, Want::Internet) {
        "nextHopType"
    } else {
        "addressPrefix"
    };
    let key = of(attr)
        .and_then(|e| reads(e, item, items))
        .ok_or_else(|| Refusal::LoopDoesNotRead(attr.to_string()))?;
    let hop_now = route.next_hop_type.known().map(|h| h.as_str()).unwrap_or_default();
    let span = field(entry, &key)
        .ok_or_else(|| Refusal::EntryFieldNotWritten(key.clone()))?
        .span
        .clone();
    let edit = literal_edit(&target_text, &span, want, hop_now).ok_or_else(|| Refusal::EntryFieldNotLiteral(key.clone()))?;
    let mut edits = vec![edit];
    if matches!(want, Want::Internet) {
        edits.extend(no_ip(of("nextHopIpAddress"), item, items, bound, &key, entry)?);
    }
    Ok(Changed { file: target, edits, what })
}

/// With next hop Internet the route takes no next hop IP address: fine when
/// the body then makes none; else the entry's field it reads becomes null.
fn no_ip(ip: Option<&Expr>, item: &str, items: bool, bound: &B, hop_key: &str, entry: &Expr) -> Result<Vec<Edit>, Refusal> {
    let Some(ip) = ip else { return Ok(Vec::new()) };
    let mut b = bound.clone();
    let fields = match &mut b {
        B::Obj(m) if items => m.get_mut("value"),
        other => Some(other),
    };
    if let Some(B::Obj(m)) = fields {
        m.insert(hop_key.to_string(), B::Str("Internet".into()));
    }
    if eval(ip, item, &b) == B::Null {
        return Ok(Vec::new());
    }
    let refuse = || Refusal::Because("kmsguard cannot tell that the route is left without a next hop IP address");
    let k = reads(ip, item, items).ok_or_else(refuse)?;
    let at = field(entry, &k).ok_or_else(refuse)?;
    Ok(vec![Edit {
        range: at.span.clone(),
        text: "null".into(),
    }])
}

/// Edits that add `items` (written for no indentation) to the array or
/// object literal `coll`: after its last entry, one a line, indented like
/// it; an empty one is written out anew.
pub(super) fn append(text: &str, coll: &Expr, items: &[String]) -> Result<Vec<Edit>, Refusal> {
    let spans: Vec<(std::ops::Range<usize>, bool)> = match &coll.kind {
        ExprKind::Array(list) => list
            .iter()
            .map(|i| (i.span.clone(), matches!(i.kind, ArrayItemKind::Spread(_))))
            .collect(),
        ExprKind::Object(members) => members
            .iter()
            .map(|m| (m.span.clone(), !matches!(m.kind, ObjectMemberKind::Property { .. })))
            .collect(),
        _ => return Err("the routes are not a written-out array".into()),
    };
    let indented = |ind: &str, item: &str| item.replace('\n', &format!("\n{ind}"));
    let Some((last, odd)) = spans.last() else {
        let ind = indent_at(text, line_start(text, coll.span.start));
        let inner = format!("{ind}  ");
        let (open, close) = if matches!(coll.kind, ExprKind::Array(_)) {
            ("[", "]")
        } else {
            ("{", "}")
        };
        let body: String = items.iter().map(|i| format!("{inner}{}\n", indented(&inner, i))).collect();
        return Ok(vec![Edit {
            range: coll.span.clone(),
            text: format!("{open}\n{body}{ind}{close}"),
        }]);
    };
    if *odd {
        return Err("the routes' collection ends with a spread".into());
    }
    let close = coll.span.end.saturating_sub(1);
    if !text.get(last.end..close).is_some_and(|t| t.contains('\n')) {
        return Err("the routes' closing bracket is not on a line of its own".into());
    }
    let ind = indent_at(text, last.start);
    let added: String = items.iter().map(|i| format!("{ind}{}\n", indented(&ind, i))).collect();
    let at = line_after(text, last.end.saturating_sub(1));
    Ok(vec![Edit {
        range: at..at,
        text: added,
    }])
}

/// Every `item.K` (`item.value.K` for `items(…)`) a loop body's text reads, as K.
fn keys_read(text: &str, item: &str, items: bool) -> Vec<String> {
    let pat = if items { format!("{item}.value.") } else { format!("{item}.") };
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out: Vec<String> = Vec::new();
    for (at, _) in text.match_indices(&pat) {
        if text.get(..at).and_then(|t| t.chars().next_back()).is_some_and(ident) {
            continue;
        }
        let key: String = text.get(at + pat.len()..).unwrap_or("").chars().take_while(|c| ident(*c)).collect();
        if !key.is_empty() && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

/// A Bicep string literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// KG101 for a table whose routes are a loop: entries added to the array
/// (or `items(…)` object) the loop iterates over, where it is written, once
/// the body is checked to make each a /32 route to Internet without a next
/// hop IP address.
pub(super) fn place(
    sources: &SourceMap,
    table: &RouteTable,
    program: &Program,
    routes: &Expr,
    add: &[(String, String)],
) -> Result<Placed, Refusal> {
    let file = table.origin.file;
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let Loop { item, items, body, source } = loop_of(routes)?;
    if matches!(body.kind, ExprKind::If { .. }) {
        return Err("the loop is filtered".into());
    }
    let (target, what) = written(sources, file, program, source)?;
    let (target_text, target_program) = parse(sources, target)?;
    let coll = value_in(&target_program, source).ok_or_else(|| Refusal::NotWrittenOut(source.to_string()))?;
    let props = bicep_property(body, "properties");
    let of = |k: &str| props.and_then(|p| bicep_property(p, k));
    let name_e = bicep_property(body, "name").ok_or("the loop's routes have no name")?;
    let by_key = items
        && matches!(&name_e.kind, ExprKind::Property { base, name, .. } if name.name == "key" && matches!(&base.kind, ExprKind::Ident(i) if i.name == item));
    let name_key = if by_key {
        None
    } else {
        Some(reads(name_e, item, items).ok_or("the loop's name is not read from the entries")?)
    };
    let prefix_key = of("addressPrefix")
        .and_then(|e| reads(e, item, items))
        .ok_or("the loop's addressPrefix is not read from the entries")?;
    let hop_key = match of("nextHopType") {
        Some(e) if e.as_literal_string().is_some_and(|s| s.eq_ignore_ascii_case("Internet")) => None,
        Some(e) => Some(reads(e, item, items).ok_or("the loop's nextHopType is not read from the entries")?),
        None => return Err("the loop's routes have no nextHopType".into()),
    };
    let body_text = text.get(body.span.clone()).unwrap_or("");
    let sample = entries(coll, items).last().map(|(_, e)| *e);
    let sample_keys: Vec<String> = match sample.map(|e| &e.kind) {
        Some(ExprKind::Object(m)) => m
            .iter()
            .filter_map(|m| match &m.kind {
                ObjectMemberKind::Property { key, .. } => key.literal_name(),
                _ => None,
            })
            .collect(),
        Some(_) => return Err(Refusal::EntriesNotObjects(source.to_string())),
        None => Vec::new(),
    };
    let read = keys_read(body_text, item, items);
    if let Some(k) = sample_keys.iter().find(|k| !read.contains(k)) {
        return Err(Refusal::UnreadKey(k.to_string()));
    }
    let sample_text = sample.and_then(|e| target_text.get(e.span.clone())).unwrap_or("");
    let one_line = !sample_text.is_empty() && !sample_text.contains('\n');
    let mut out = Vec::new();
    for (name, prefix) in add {
        let mut fields: Vec<(String, B)> = read.iter().map(|k| (k.clone(), B::Null)).collect();
        let set = |fields: &mut Vec<(String, B)>, k: &Option<String>, v: &str| {
            if let Some(k) = k {
                if let Some(f) = fields.iter_mut().find(|(f, _)| f == k) {
                    f.1 = B::Str(v.to_string());
                }
            }
        };
        set(&mut fields, &name_key, name);
        set(&mut fields, &Some(prefix_key.clone()), prefix);
        set(&mut fields, &hop_key, "Internet");
        fields.sort_by_key(|(k, _)| sample_keys.iter().position(|s| s == k).unwrap_or(usize::MAX));
        let entry = B::Obj(fields.iter().cloned().collect());
        let bound = if items {
            B::Obj([("key".to_string(), B::Str(name.clone())), ("value".to_string(), entry)].into())
        } else {
            entry
        };
        let is = |e: Option<&Expr>, want: &str| matches!(e.map(|e| eval(e, item, &bound)), Some(B::Str(s)) if s.eq_ignore_ascii_case(want));
        let no_ip = of("nextHopIpAddress").is_none_or(|e| eval(e, item, &bound) == B::Null);
        if !(is(Some(name_e), name) && is(of("addressPrefix"), prefix) && is(of("nextHopType"), "Internet") && no_ip) {
            return Err("kmsguard cannot tell that a new entry makes a /32 route with next hop Internet".into());
        }
        let written = |v: &B| match v {
            B::Str(s) => quoted(s),
            _ => "null".to_string(),
        };
        let object = if one_line {
            let parts: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {}", written(v))).collect();
            format!("{{ {} }}", parts.join(", "))
        } else {
            let parts: String = fields.iter().map(|(k, v)| format!("  {k}: {}\n", written(v))).collect();
            format!("{{\n{parts}}}")
        };
        out.push(if items {
            let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !name.starts_with(|c: char| c.is_ascii_digit());
            let key = if plain { name.clone() } else { quoted(name) };
            format!("{key}: {object}")
        } else {
            object
        });
    }
    let edits = append(&target_text, coll, &out)?;
    Ok(Placed {
        file: target,
        edits_len: edits.len(),
        edits,
        what,
    })
}
