//! KG101 where a Terraform table's routes come from a collection: a
//! `dynamic "route"` block's `for_each`, or `route = concat(…)`, a local or
//! a variable. The fix follows the expression to the literal that holds the
//! routes — in place, in a `locals` block, a variable's default, the var
//! file whose value counts (Terraform's order), or the module call that
//! passes it — and adds entries there in that literal's own style. What
//! it cannot follow to a literal (a data source, a module output, a value
//! given with --var or computed) stays a suggestion, with the reason.

use std::path::{Path, PathBuf};

use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::structure::{Block, Body};
use hcl::edit::Span;

use super::refusal::Refusal;
use super::{Edit, Plan};
use crate::ingest::terraform::{Evaluator, Scope};
use crate::ingest::value::Val;
use crate::model::{InstanceInput, RouteTable};
use crate::source::{indent_at, line_after, normalise, FileId, Origin, SourceMap};
use crate::VarArg;

/// Following references deeper than this is refused (a cycle of locals).
const MAX_HOPS: usize = 16;

/// The literal that holds the routes: its file, the expression, and how it
/// was reached ("local.routes", "var.routes in terraform.tfvars").
pub(super) struct Site {
    pub file: FileId,
    pub expr: Expression,
    pub what: String,
}

/// The edits that add the routes, the file they go to and what it is.
pub(super) struct Placed {
    pub file: FileId,
    pub edits: Vec<Edit>,
    /// How many edits there are: the last one adds the entries.
    pub edits_len: usize,
    pub what: String,
}

/// How the table turns an entry of the collection into a route.
pub(super) enum Shape<'b> {
    /// `route = …`: each entry is a route object with every attribute set.
    Attribute,
    /// `dynamic "route"`: the content block reads the entry through `iterator`.
    Dynamic { iterator: String, content: &'b Body },
}

struct Cx<'a> {
    sources: &'a SourceMap,
    var_args: &'a [VarArg],
    /// The var file entry that makes the table's module instance, if one does.
    instance: Option<&'a InstanceInput>,
    /// The root module call the table is deployed through, and its instance's key.
    root_call: Option<(&'a Origin, String)>,
}

pub(super) fn parse(sources: &SourceMap, file: FileId) -> Result<(std::sync::Arc<str>, Body), Refusal> {
    let text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let body = hcl::edit::parser::parse_body(&text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    Ok((text, body))
}

pub(super) fn containing<'b>(body: &'b Body, ident: &'b str, offset: usize) -> Option<&'b Block> {
    body.get_blocks(ident)
        .find(|b| b.span().is_some_and(|s| s.start <= offset && offset < s.end))
}

/// Adds `routes` ((name, prefix) pairs) to the collection `table`'s routes
/// are made from.
pub(super) fn place(sources: &SourceMap, p: &Plan, table: &RouteTable, routes: &[(String, String)]) -> Result<Placed, Refusal> {
    with_collection(sources, p, table, |shape, text, site, site_text| {
        let items = routes
            .iter()
            .map(|(name, prefix)| entry(shape, text, site, site_text, name, prefix))
            .collect::<Result<Vec<String>, Refusal>>()?;
        let edits = insert(site_text, &site.expr, &items)?;
        Ok(Placed {
            file: site.file,
            edits_len: edits.len(),
            edits,
            what: site.what.clone(),
        })
    })
}

/// Follows the collection `table`'s routes are made from to the literal
/// that holds it and hands `f` how an entry becomes a route, the table's
/// file text, the literal and its file's text.
pub(super) fn with_collection<R>(
    sources: &SourceMap,
    p: &Plan,
    table: &RouteTable,
    f: impl FnOnce(&Shape, &str, &Site, &str) -> Result<R, Refusal>,
) -> Result<R, Refusal> {
    let file = table.origin.file;
    let (text, body) = parse(sources, file)?;
    let block = containing(&body, "resource", table.origin.span().start).ok_or("the table's block was not found again")?;
    let (shape, expr) = match block.body.get_attribute("route") {
        Some(a) => (Shape::Attribute, a.value.clone()),
        None => {
            let dynamics: Vec<&Block> = block
                .body
                .get_blocks("dynamic")
                .filter(|b| b.labels.first().map(|l| l.as_str()) == Some("route"))
                .collect();
            let [d] = dynamics.as_slice() else {
                return Err("the table has no single dynamic route block to follow".into());
            };
            let content = d.body.get_blocks("content").next().ok_or("the dynamic block has no content")?;
            let iterator = match d.body.get_attribute("iterator").map(|a| &a.value) {
                Some(Expression::Variable(v)) => v.as_str().to_string(),
                Some(_) => return Err("the dynamic block's iterator is not a plain name".into()),
                None => "route".to_string(),
            };
            let fe = d.body.get_attribute("for_each").ok_or("the dynamic block has no for_each")?;
            (
                Shape::Dynamic {
                    iterator,
                    content: &content.body,
                },
                fe.value.clone(),
            )
        }
    };
    let site = resolve(&cx_of(sources, p, table), file, &expr, &table.called_from, 0)?;
    let site_text = if site.file == file {
        text.clone()
    } else {
        sources.get(site.file).map(|s| s.text().clone()).unwrap_or_default()
    };
    f(&shape, &text, &site, &site_text)
}

fn cx_of<'a>(sources: &'a SourceMap, p: &'a Plan, table: &'a RouteTable) -> Cx<'a> {
    let instance = p
        .instances
        .iter()
        .find(|i| i.namespace == table.namespace && table.address.starts_with(&i.prefix));
    Cx {
        sources,
        var_args: &p.var_args,
        instance,
        root_call: table.called_from.first().zip(instance_key(&table.address)),
    }
}

/// Follows `expr`, an input written in `file` in the module call that
/// deploys `table` (the last of its callers), to the literal it comes from.
pub(super) fn resolve_input(sources: &SourceMap, p: &Plan, table: &RouteTable, file: FileId, expr: &Expression) -> Result<Site, Refusal> {
    let callers = table.called_from.split_last().map_or(&[][..], |(_, outer)| outer);
    resolve(&cx_of(sources, p, table), file, expr, callers, 0)
}

fn snippet(expr: &Expression, text: &str) -> String {
    let s = expr.span().and_then(|s| text.get(s)).unwrap_or("the expression");
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 60 {
        format!("{}…", one.chars().take(60).collect::<String>())
    } else {
        one
    }
}

/// Follows `expr` (in `file`, inside the module calls `callers`) to the
/// list or map literal it comes from.
fn resolve(cx: &Cx, file: FileId, expr: &Expression, callers: &[Origin], hops: usize) -> Result<Site, Refusal> {
    if hops > MAX_HOPS {
        return Err("the routes' references go too deep to follow".into());
    }
    let text = cx.sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    match expr {
        Expression::Array(_) | Expression::Object(_) => Ok(Site {
            file,
            expr: expr.clone(),
            what: String::new(),
        }),
        Expression::Parenthesis(p) => resolve(cx, file, p.inner(), callers, hops + 1),
        Expression::FuncCall(c) => {
            let name = c.name.name.as_str();
            let args: Vec<&Expression> = c.args.iter().collect();
            match (name, args.as_slice()) {
                ("tolist" | "toset" | "tomap", [one]) => resolve(cx, file, one, callers, hops + 1),
                ("concat" | "merge", _) if !args.is_empty() => {
                    // The written-out operand, else the last one that leads to one.
                    if let Some(lit) = args
                        .iter()
                        .rev()
                        .find(|a| matches!(a, Expression::Array(_) | Expression::Object(_)))
                    {
                        return resolve(cx, file, lit, callers, hops + 1);
                    }
                    let mut why = None;
                    for a in args.iter().rev() {
                        match resolve(cx, file, a, callers, hops + 1) {
                            Ok(site) => return Ok(site),
                            Err(e) if why.is_none() => why = Some(e),
                            Err(_) => {}
                        }
                    }
                    // Not reached: `args` is not empty.
                    Err(why.unwrap_or_else(|| Refusal::Computed(snippet(expr, &text))))
                }
                _ => Err(Refusal::Computed(snippet(expr, &text))),
            }
        }
        Expression::Traversal(t) => {
            let Expression::Variable(root) = &t.expr else {
                return Err(Refusal::Computed(snippet(expr, &text)));
            };
            let attrs: Vec<&str> = t
                .operators
                .iter()
                .map(|o| match o.value() {
                    TraversalOperator::GetAttr(a) => Some(a.as_str()),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .unwrap_or_default();
            match (root.as_str(), attrs.as_slice()) {
                ("local", [name]) => local(cx, file, name, callers, hops),
                ("each", ["value", path @ ..]) if callers.is_empty() => each_value(cx, path, hops),
                ("var", [name]) => variable(cx, file, name, callers, hops),
                ("data" | "module", _) => Err(Refusal::NotFollowed(snippet(expr, &text))),
                _ => Err(Refusal::Computed(snippet(expr, &text))),
            }
        }
        _ => Err(Refusal::Computed(snippet(expr, &text))),
    }
}

/// `each.value.a.b` in a root module call whose instance a var file entry
/// makes: the entry's `a.b`, followed on from there.
fn each_value(cx: &Cx, path: &[&str], hops: usize) -> Result<Site, Refusal> {
    let Some(inst) = cx.instance else {
        return each_value_in_for_each(cx, path, hops);
    };
    let (_, body) = parse(cx.sources, inst.origin.file)?;
    let at = inst.origin.span().start;
    let entry = body
        .attributes()
        .filter_map(|a| match &a.value {
            Expression::Object(o) => o
                .iter()
                .find(|(k, _)| k.span().is_some_and(|s| s.start == at))
                .map(|(_, v)| v.expr()),
            _ => None,
        })
        .next()
        .ok_or("the var file entry was not found again")?;
    let value = match path.split_first() {
        Some((first, rest)) => entry_at(entry, first, rest, &inst.what)?,
        None => entry,
    };
    let site = resolve(cx, inst.origin.file, value, &[], hops + 1)?;
    let shown: Vec<String> = std::iter::once("each.value".to_string())
        .chain(path.iter().map(|k| k.to_string()))
        .collect();
    Ok(named(site, format!("{} of {}", shown.join("."), inst.what)))
}

/// `KEY` of a table deployed through `module.NAME["KEY"].…`.
fn instance_key(address: &str) -> Option<String> {
    let rest = address.strip_prefix("module.")?;
    let open = rest.find('[')?;
    if rest.get(..open)?.contains('.') {
        return None;
    }
    let inner = rest.get(open + 1..)?.strip_prefix('"')?;
    Some(inner.get(..inner.find("\"]")?)?.to_string())
}

/// The entry `key` of an object literal, and a step down `path` from it.
pub(super) fn entry_at<'e>(mut value: &'e Expression, key: &str, path: &[&str], what: &str) -> Result<&'e Expression, Refusal> {
    for k in std::iter::once(&key).chain(path) {
        let Expression::Object(o) = value else {
            return Err(Refusal::KeyNotWritten {
                what: what.to_string(),
                key: k.to_string(),
            });
        };
        value = o
            .iter()
            .find(|(ok, _)| match ok {
                ObjectKey::Ident(i) => i.as_str() == *k,
                ObjectKey::Expression(Expression::String(s)) => s.value() == *k,
                _ => false,
            })
            .map(|(_, v)| v.expr())
            .ok_or_else(|| Refusal::KeyNotWritten {
                what: what.to_string(),
                key: k.to_string(),
            })?;
    }
    Ok(value)
}

/// `each.value.a.b` where the root module call's `for_each` is a map written
/// out in the repository (a local, a variable's default or var file value).
fn each_value_in_for_each(cx: &Cx, path: &[&str], hops: usize) -> Result<Site, Refusal> {
    let (call, key) = cx
        .root_call
        .clone()
        .ok_or("the routes come from each.value of a module call kmsguard cannot place")?;
    let (_, body) = parse(cx.sources, call.file)?;
    let block = containing(&body, "module", call.span().start).ok_or("the module call was not found again")?;
    let fe = block.body.get_attribute("for_each").ok_or("the module call has no for_each")?;
    let map = resolve(cx, call.file, &fe.value, &[], hops + 1)?;
    let what = if map.what.is_empty() {
        "the module call's for_each".to_string()
    } else {
        map.what.clone()
    };
    let value = entry_at(&map.expr, &key, path, &what)?;
    let site = resolve(cx, map.file, value, &[], hops + 1)?;
    let shown: Vec<String> = std::iter::once("each.value".to_string())
        .chain(path.iter().map(|k| k.to_string()))
        .collect();
    Ok(named(site, format!("{} of the `{key}` entry of {what}", shown.join("."))))
}

fn dir_of(sources: &SourceMap, file: FileId) -> PathBuf {
    normalise(sources.path(file).parent().unwrap_or(Path::new("")))
}

/// The `.tf` files of `dir`, parsed.
fn module_files(sources: &SourceMap, dir: &Path) -> Vec<(FileId, Body)> {
    (0..sources.len())
        .filter_map(|i| u32::try_from(i).ok().map(FileId))
        .filter(|f| sources.path(*f).extension().is_some_and(|e| e == "tf") && dir_of(sources, *f) == dir)
        .filter_map(|f| parse(sources, f).ok().map(|(_, b)| (f, b)))
        .collect()
}

fn local(cx: &Cx, file: FileId, name: &str, callers: &[Origin], hops: usize) -> Result<Site, Refusal> {
    for (f, body) in module_files(cx.sources, &dir_of(cx.sources, file)) {
        for block in body.get_blocks("locals") {
            if let Some(a) = block.body.get_attribute(name) {
                let site = resolve(cx, f, &a.value, callers, hops + 1)?;
                return Ok(named(site, format!("local.{name}")));
            }
        }
    }
    Err(Refusal::LocalUndefined(name.to_string()))
}

fn named(site: Site, what: String) -> Site {
    let what = if site.what.is_empty() { what } else { site.what };
    Site { what, ..site }
}

/// A variable: the module call's input when the module is called, else the
/// value the root's var files or flags give it last, else its default.
fn variable(cx: &Cx, file: FileId, name: &str, callers: &[Origin], hops: usize) -> Result<Site, Refusal> {
    if let Some((call, outer)) = callers.split_last() {
        let (_, body) = parse(cx.sources, call.file)?;
        let block = containing(&body, "module", call.span().start).ok_or("the module call was not found again")?;
        if let Some(a) = block.body.get_attribute(name) {
            let label = block.labels.first().map(|l| l.as_str().to_string()).unwrap_or_default();
            let site = resolve(cx, call.file, &a.value, outer, hops + 1)?;
            return Ok(named(site, format!("the {name} input of module.{label}")));
        }
    } else if let Some(given) = root_value(cx, &dir_of(cx.sources, file), name) {
        let (f, expr) = given?;
        let site = resolve(cx, f, &expr, &[], hops + 1)?;
        return Ok(named(site, format!("the value of var.{name}")));
    }
    for (f, body) in module_files(cx.sources, &dir_of(cx.sources, file)) {
        for block in body.get_blocks("variable") {
            if block.labels.first().map(|l| l.as_str()) != Some(name) {
                continue;
            }
            let Some(d) = block.body.get_attribute("default") else {
                return Err(Refusal::VarWithoutValue(name.to_string()));
            };
            let site = resolve(cx, f, &d.value, &[], hops + 1)?;
            return Ok(named(site, format!("the default of var.{name}")));
        }
    }
    Err(Refusal::VarUndeclared(name.to_string()))
}

/// The value a root module's variable takes from outside the module, in
/// Terraform's order: terraform.tfvars, terraform.tfvars.json,
/// *.auto.tfvars[.json] by name, then --var-file and --var as given. None
/// when nothing sets it; an error when what sets it last is no HCL file.
fn root_value(cx: &Cx, dir: &Path, name: &str) -> Option<Result<(FileId, Expression), Refusal>> {
    let mut auto: Vec<((u8, String), FileId)> = (0..cx.sources.len())
        .filter_map(|i| u32::try_from(i).ok().map(FileId))
        .filter(|f| dir_of(cx.sources, *f) == dir)
        .filter_map(|f| {
            let n = cx.sources.path(f).file_name()?.to_string_lossy().to_string();
            let rank = match n.as_str() {
                "terraform.tfvars" => 0,
                "terraform.tfvars.json" => 1,
                _ if n.ends_with(".auto.tfvars") || n.ends_with(".auto.tfvars.json") => 2,
                _ => return None,
            };
            Some(((rank, n), f))
        })
        .collect();
    auto.sort();
    let mut files: Vec<Result<FileId, Refusal>> = auto.into_iter().map(|(_, f)| Ok(f)).collect();
    for arg in cx.var_args {
        match arg {
            VarArg::File(p) => {
                let found = (0..cx.sources.len())
                    .rev()
                    .filter_map(|i| u32::try_from(i).ok().map(FileId))
                    .find(|f| cx.sources.path(*f) == p.as_path());
                if let Some(f) = found {
                    files.push(Ok(f));
                }
            }
            VarArg::Value(k, _) if k == name => files.push(Err(Refusal::VarFlag(name.to_string()))),
            VarArg::Value(..) => {}
        }
    }
    let mut winner = None;
    for f in files {
        let f = match f {
            Ok(f) => f,
            Err(e) => {
                winner = Some(Err(e));
                continue;
            }
        };
        let path = cx.sources.path(f).to_path_buf();
        if path.extension().is_some_and(|e| e == "json") {
            let text = cx.sources.get(f).map(|s| s.text().clone()).unwrap_or_default();
            let sets = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .is_some_and(|v| v.get(name).is_some());
            if sets {
                let shown = crate::source::display_path(&path);
                winner = Some(Err(Refusal::VarInJson {
                    name: name.to_string(),
                    file: shown,
                }));
            }
        } else if let Ok((_, body)) = parse(cx.sources, f) {
            if let Some(a) = body.get_attribute(name) {
                winner = Some(Ok((f, a.value.clone())));
            }
        }
    }
    winner
}

/// A value of an entry: a string or null.
fn lit(v: &Option<String>) -> String {
    match v {
        Some(s) => format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")),
        None => "null".into(),
    }
}

/// `it.value.K` or `it.value["K"]`: K; `it.key`: "" (the map key).
pub(super) fn reads(expr: &Expression, iterator: &str) -> Option<String> {
    let Expression::Traversal(t) = expr else { return None };
    if !matches!(&t.expr, Expression::Variable(v) if v.as_str() == iterator) {
        return None;
    }
    let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
    match ops.as_slice() {
        [TraversalOperator::GetAttr(k)] if k.as_str() == "key" => Some(String::new()),
        [TraversalOperator::GetAttr(v), TraversalOperator::GetAttr(k)] if v.as_str() == "value" => Some(k.as_str().to_string()),
        [TraversalOperator::GetAttr(v), TraversalOperator::Index(Expression::String(k))] if v.as_str() == "value" => {
            Some(k.value().to_string())
        }
        _ => None,
    }
}

/// Every `it.value.K` an expression reads, as K.
fn keys_read(text: &str, iterator: &str) -> Vec<String> {
    let mut out = Vec::new();
    let pat = format!("{iterator}.value.");
    let mut rest = text;
    while let Some(at) = rest.find(&pat) {
        let after = rest.get(at + pat.len()..).unwrap_or("");
        let key: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if !key.is_empty() {
            out.push(key);
        }
        rest = after;
    }
    out
}

/// The last entry of the collection: its key (maps) and value.
fn last_entry(coll: &Expression) -> Option<(Option<&ObjectKey>, &Expression)> {
    match coll {
        Expression::Array(a) => a.iter().last().map(|e| (None, e)),
        Expression::Object(o) => o.iter().last().map(|(k, v)| (Some(k), v.expr())),
        _ => None,
    }
}

/// The fields of a new entry (in the order the existing entries write
/// them), checked by evaluating the dynamic block's content with it.
fn fields(
    shape: &Shape,
    text: &str,
    sample: Option<&Expression>,
    is_map: bool,
    name: &str,
    prefix: &str,
) -> Result<Vec<(String, Option<String>)>, Refusal> {
    let sample_keys: Option<Vec<String>> = match sample {
        None => None,
        Some(Expression::Object(o)) => Some(
            o.iter()
                .map(|(k, _)| match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                    _ => String::new(),
                })
                .collect(),
        ),
        Some(_) => return Err("the collection's entries are not objects kmsguard can add to".into()),
    };
    let (iterator, content) = match shape {
        Shape::Attribute => {
            if is_map {
                return Err("the route attribute is given a map, not a list".into());
            }
            let mut set: Vec<(String, Option<String>)> = vec![
                ("name".into(), Some(name.into())),
                ("address_prefix".into(), Some(prefix.into())),
                ("next_hop_type".into(), Some("Internet".into())),
                ("next_hop_in_ip_address".into(), None),
            ];
            if let Some(keys) = sample_keys {
                set.sort_by_key(|(k, _)| keys.iter().position(|s| s == k).unwrap_or(usize::MAX));
            }
            return Ok(set);
        }
        Shape::Dynamic { iterator, content } => (iterator.as_str(), *content),
    };
    let mut set: Vec<(String, Option<String>)> = Vec::new();
    for (attr, value) in [("name", name), ("address_prefix", prefix), ("next_hop_type", "Internet")] {
        let expr = &content
            .get_attribute(attr)
            .ok_or_else(|| Refusal::DynamicSetsNo(attr.to_string()))?
            .value;
        match reads(expr, iterator) {
            // The map's key names the route.
            Some(k) if k.is_empty() && attr == "name" && is_map => {}
            Some(k) if !k.is_empty() => set.push((k, Some(value.into()))),
            _ if attr == "next_hop_type" && matches!(expr, Expression::String(s) if s.value().eq_ignore_ascii_case("Internet")) => {}
            _ => return Err(Refusal::DynamicDoesNotRead(attr.to_string())),
        }
    }
    // What else the content reads from an entry (the next hop IP address) is null.
    for a in content.attributes() {
        let written = a.value.span().and_then(|s| text.get(s)).unwrap_or("");
        for k in keys_read(written, iterator) {
            if !set.iter().any(|(s, _)| *s == k) {
                set.push((k, None));
            }
        }
    }
    if let Some(keys) = &sample_keys {
        if let Some(k) = keys.iter().find(|k| !set.iter().any(|(s, _)| s == *k)) {
            return Err(Refusal::UnreadKey(k.to_string()));
        }
        set.sort_by_key(|(k, _)| keys.iter().position(|s| s == k).unwrap_or(usize::MAX));
    }
    verify(content, text, iterator, &set, is_map, name, prefix)?;
    Ok(set)
}

/// Evaluates the content block with the new entry: it must make the route
/// intended (name, /32 prefix, next hop Internet, no next hop IP address).
fn verify(
    content: &Body,
    text: &str,
    iterator: &str,
    set: &[(String, Option<String>)],
    is_map: bool,
    name: &str,
    prefix: &str,
) -> Result<(), Refusal> {
    let value = Val::Object(
        set.iter()
            .map(|(k, v)| (k.clone(), v.clone().map(Val::String).unwrap_or(Val::Null)))
            .collect(),
    );
    let key = if is_map { Val::String(name.into()) } else { Val::Number(0.0) };
    let it = Val::Object([("key".to_string(), key), ("value".to_string(), value)].into_iter().collect());
    let ev = Evaluator::new(Default::default(), Default::default());
    let scope = Scope::default().with(iterator, it);
    let get = |attr: &str| -> Option<Val> {
        let a = content.get_attribute(attr)?;
        ev.eval(&a.value, text, &scope).ok()
    };
    let is = |attr: &str, want: &str| matches!(get(attr), Some(Val::String(s)) if s.eq_ignore_ascii_case(want));
    let no_ip = content.get_attribute("next_hop_in_ip_address").is_none() || matches!(get("next_hop_in_ip_address"), Some(Val::Null));
    if is("name", name) && is("address_prefix", prefix) && is("next_hop_type", "Internet") && no_ip {
        Ok(())
    } else {
        Err("kmsguard cannot tell that a new entry makes a /32 route with next hop Internet".into())
    }
}

/// One new entry, written like the last existing one (one line or one
/// attribute a line, `=` aligned), indented for `indent`.
fn entry(shape: &Shape, content_text: &str, site: &Site, text: &str, name: &str, prefix: &str) -> Result<String, Refusal> {
    let is_map = matches!(site.expr, Expression::Object(_));
    let last = last_entry(&site.expr);
    let sample = last.map(|(_, v)| v);
    let set = fields(shape, content_text, sample, is_map, name, prefix)?;
    let sample_text = sample.and_then(|s| s.span()).and_then(|s| text.get(s)).unwrap_or("");
    // `key = value` or `key: value`, as the entries already write it.
    let colon = sample_text
        .find(['=', ':'])
        .and_then(|i| sample_text.get(i..))
        .is_some_and(|t| t.starts_with(':'));
    let op = if colon { ":" } else { "=" };
    let multi = sample.is_none() || sample_text.contains('\n');
    let object = if multi {
        let base = last
            .and_then(|(k, v)| k.and_then(|k| k.span()).or(v.span()))
            .map(|s| indent_at(text, s.start));
        let base = base.unwrap_or_default();
        let inner = inner_indent(text, sample, &base);
        let width = set.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let mut s = "{\n".to_string();
        for (k, v) in &set {
            s.push_str(&format!("{inner}{k:<width$} {op} {}\n", lit(v)));
        }
        s.push_str(&format!("{base}}}"));
        s
    } else {
        let pad = if sample_text.starts_with("{ ") { " " } else { "" };
        let body: Vec<String> = set.iter().map(|(k, v)| format!("{k} {op} {}", lit(v))).collect();
        format!("{{{pad}{}{pad}}}", body.join(", "))
    };
    if !is_map {
        return Ok(object);
    }
    let quoted = matches!(last, Some((Some(ObjectKey::Expression(_)), _)));
    let key = if quoted { format!("\"{name}\"") } else { name.to_string() };
    Ok(format!("{key} {op} {object}"))
}

/// Edits that add `items` to the list or map literal `coll`, after its
/// last entry, with its separators and indentation.
pub(super) fn insert(text: &str, coll: &Expression, items: &[String]) -> Result<Vec<Edit>, Refusal> {
    let span = coll.span().ok_or("the collection has no place in the file")?;
    let is_list = matches!(coll, Expression::Array(_));
    let close = span.end.saturating_sub(1);
    let Some((key, last)) = last_entry(coll) else {
        // Empty: written out anew, one entry a line.
        let ind = indent_at(text, span.start);
        let (open, shut, comma) = if is_list { ("[", "]", ",") } else { ("{", "}", "") };
        let mut s = format!("{open}\n");
        for i in items {
            s.push_str(&format!("{ind}  {i}{comma}\n"));
        }
        s.push_str(&format!("{ind}{shut}"));
        return Ok(vec![Edit { range: span, text: s }]);
    };
    let last_span = last.span().ok_or("the last entry has no place in the file")?;
    let start = key.and_then(|k| k.span()).map_or(last_span.start, |s| s.start);
    let after = text.get(last_span.end..close).unwrap_or("");
    let trailing = after.trim_start().starts_with(',');
    let comma_at = last_span.end + after.find(',').unwrap_or(0);
    let multi_line = text.get(span.clone()).is_some_and(|t| t.contains('\n'));
    if !multi_line {
        let joined: String = items.iter().map(|i| format!(", {i}")).collect();
        return Ok(vec![Edit {
            range: last_span.end..last_span.end,
            text: joined,
        }]);
    }
    let anchor = if trailing { comma_at } else { last_span.end };
    let at = line_after(text, anchor);
    if at > close || text.get(anchor..close).is_none_or(|t| !t.contains('\n')) {
        return Err("the collection's closing bracket is not on a line of its own".into());
    }
    let ind = indent_at(text, start);
    let sep = if trailing || is_list { "," } else { "" };
    let mut edits = Vec::new();
    let mut added = String::new();
    for (n, i) in items.iter().enumerate() {
        let last_one = n + 1 == items.len();
        let s = if last_one && !trailing { "" } else { sep };
        added.push_str(&format!("{ind}{i}{s}\n"));
    }
    if is_list && !trailing {
        edits.push(Edit {
            range: last_span.end..last_span.end,
            text: ",".into(),
        });
    }
    edits.push(Edit {
        range: at..at,
        text: added,
    });
    Ok(edits)
}

/// The indentation of a new entry's keys: that of the first key of `sample`
/// (an entry already written), else two spaces past `base`.
pub(super) fn inner_indent(text: &str, sample: Option<&Expression>, base: &str) -> String {
    match sample {
        Some(Expression::Object(o)) => o
            .iter()
            .next()
            .and_then(|(k, _)| k.span())
            .map(|s| indent_at(text, s.start))
            .unwrap_or_else(|| format!("{base}  ")),
        _ => format!("{base}  "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_by_an_expression_are_found() {
        assert_eq!(
            keys_read("route.value.hop == \"VirtualAppliance\" ? route.value.ip : null", "route"),
            vec!["hop".to_string(), "ip".to_string()]
        );
    }
}
