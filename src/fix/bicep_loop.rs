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
use super::Edit;
use crate::model::{Route, RouteTable};
use crate::source::{normalise, FileId, SourceMap};

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

fn parse(sources: &SourceMap, file: FileId) -> Result<(Arc<str>, Program), String> {
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let program = kmsguard_bicep_syntax::parse(&text).map_err(|_| "the file could not be read again".to_string())?;
    Ok((text, program))
}

/// Where a name the loop iterates over is written: a `var`, the one
/// `.bicepparam` file that sets a `param`, else the `param`'s default.
fn written(sources: &SourceMap, file: FileId, program: &Program, name: &str) -> Result<(FileId, String), String> {
    for s in &program.statements {
        match &s.kind {
            StatementKind::Var(v) if v.name.name == name => return Ok((file, format!("var {name}"))),
            StatementKind::Param(p) if p.name.name == name => {
                let (targeting, setters) = param_files_setting(sources, file, name);
                if !setters.is_empty() && setters.len() < targeting {
                    // Deployed both with and without the file's value: no one place fixes it.
                    return Err(format!(
                        "param {name} is set by some .bicepparam files for this template and not by others"
                    ));
                }
                return match setters.as_slice() {
                    [] if p.default.is_some() => Ok((file, format!("the default of param {name}"))),
                    [] => Err(format!("param {name} has no value written in this repository")),
                    [one] => Ok((*one, format!("param {name}"))),
                    _ => Err(format!("param {name} is set by more than one .bicepparam file")),
                };
            }
            _ => {}
        }
    }
    Err(format!(
        "the routes come from {name}, which is not a variable or parameter of this file"
    ))
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
fn value_in<'p>(program: &'p Program, name: &str) -> Option<&'p Expr> {
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

pub(super) fn change(
    sources: &SourceMap,
    _parameters: &[std::path::PathBuf],
    table: &RouteTable,
    route: &Route,
    want: &Want,
) -> Result<Changed, String> {
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
    let (target, what) = written(sources, file, &program, &source.name)?;
    let (target_text, target_program) = parse(sources, target)?;
    let coll = value_in(&target_program, &source.name).ok_or(format!("{} is not written out", source.name))?;
    let props = bicep_property(body, "properties");
    let of = |k: &str| props.and_then(|p| bicep_property(p, k));
    let item = item.name.as_str();
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
        return Err(format!("not exactly one entry of {} makes this route", source.name));
    };
    let attr = if matches!(want, Want::Internet) {
        "nextHopType"
    } else {
        "addressPrefix"
    };
    let key = of(attr)
        .and_then(|e| reads(e, item, items))
        .ok_or(format!("the loop's {attr} is not read from the entries"))?;
    let hop_now = route.next_hop_type.known().map(|h| h.as_str()).unwrap_or_default();
    let span = field(entry, &key).ok_or(format!("the entry's {key} is not written"))?.span.clone();
    let edit = literal_edit(&target_text, &span, want, hop_now).ok_or(format!("the entry's {key} is not a literal"))?;
    let mut edits = vec![edit];
    if matches!(want, Want::Internet) {
        edits.extend(no_ip(of("nextHopIpAddress"), item, items, bound, &key, entry)?);
    }
    Ok(Changed { file: target, edits, what })
}

/// With next hop Internet the route takes no next hop IP address: fine when
/// the body then makes none; else the entry's field it reads becomes null.
fn no_ip(ip: Option<&Expr>, item: &str, items: bool, bound: &B, hop_key: &str, entry: &Expr) -> Result<Vec<Edit>, String> {
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
    let refuse = || "kmsguard cannot tell that the route is left without a next hop IP address".to_string();
    let k = reads(ip, item, items).ok_or_else(refuse)?;
    let at = field(entry, &k).ok_or_else(refuse)?;
    Ok(vec![Edit {
        range: at.span.clone(),
        text: "null".into(),
    }])
}
