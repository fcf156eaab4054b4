//! KG101 for Bicep and ARM tables whose routes are not a written-out
//! `routes` array: child route resources (`Microsoft.Network/routeTables/routes`
//! with `parent:`, a `rt/name` name, or nested in the table) get siblings
//! written like the last one; `concat(…)`/`union(…)` get entries in their
//! written-out operand (a literal, a Bicep `var`, an ARM variable); an ARM
//! `copy` over a parameter array gets entries in the parameters file that
//! sets it, else in its `defaultValue`. Anything else stays a suggestion.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use kmsguard_arm_syntax::{classify_string, Expr as ArmExpr, Json, JsonKind, StringValue};
use kmsguard_bicep_syntax::ast::{Expr, ExprKind, ObjectMemberKind, Program, ResourceDecl, StatementKind, StringPart};

use super::refusal::Refusal;
use super::terraform::Placed;
use super::Edit;
use crate::model::{Dialect, RouteTable};
use crate::source::{indent_at, line_after, FileId, SourceMap};

fn text_of(sources: &SourceMap, file: FileId) -> std::sync::Arc<str> {
    sources.get(file).map(|s| s.text().clone()).unwrap_or_default()
}

fn contains(span: &Range<usize>, offset: usize) -> bool {
    span.start <= offset && offset < span.end
}

/// Adds `routes` ((name, prefix) pairs) where `table`'s routes are written.
pub(super) fn place(
    sources: &SourceMap,
    parameters: &[std::path::PathBuf],
    table: &RouteTable,
    routes: &[(String, String)],
) -> Result<Placed, Refusal> {
    let children: Vec<&crate::model::Route> = table.routes.iter().filter(|r| r.resource.is_some()).collect();
    if !table.routes.is_empty() && children.len() == table.routes.len() {
        let last = children
            .iter()
            .max_by_key(|r| (r.origin.file.0, r.origin.span().start))
            .ok_or("no route resource")?;
        let old = last.name.known().cloned().ok_or("the last route resource's name is not known")?;
        let file = last.origin.file;
        let text = text_of(sources, file);
        let edits = match table.authoring.dialect {
            Dialect::Bicep => bicep_child(&text, last.origin.span().start, &old, routes)?,
            _ => arm_child(&text, last.origin.span().start, &old, routes)?,
        };
        return Ok(Placed {
            file,
            edits_len: edits.len(),
            edits,
            what: String::new(),
        });
    }
    match table.authoring.dialect {
        Dialect::Bicep => bicep_collection(sources, table, routes),
        _ => arm_collection(sources, parameters, table, routes),
    }
}

/// Every resource declaration of a Bicep file, nested ones included, with
/// the span of its whole statement.
pub(super) fn bicep_resources(program: &Program) -> Vec<(&ResourceDecl, Range<usize>)> {
    fn nested<'a>(decl: &'a ResourceDecl, out: &mut Vec<(&'a ResourceDecl, Range<usize>)>) {
        if let ExprKind::Object(members) = &decl.value.kind {
            for m in members {
                if let ObjectMemberKind::Resource { decl: d, .. } = &m.kind {
                    out.push((d, m.span.clone()));
                    nested(d, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for s in &program.statements {
        if let StatementKind::Resource(d) = &s.kind {
            out.push((d, s.span.clone()));
            nested(d, &mut out);
        }
    }
    out
}

pub(super) fn bicep_property<'a>(body: &'a Expr, key: &str) -> Option<&'a Expr> {
    let ExprKind::Object(members) = &body.kind else { return None };
    members.iter().rev().find_map(|m| match &m.kind {
        ObjectMemberKind::Property { key: k, value } if k.literal_name().is_some_and(|n| n.eq_ignore_ascii_case(key)) => Some(value),
        _ => None,
    })
}

/// A name value written as `…old'` (Bicep) or `…old"`/`…old')]"` (JSON):
/// the same with `new` for `old`.
fn renamed(value: &str, old: &str, new: &str) -> Option<String> {
    for tail in ["'", "\"", "')]\"", "'))]\""] {
        if let Some(head) = value.strip_suffix(&format!("{old}{tail}")) {
            return Some(format!("{head}{new}{tail}"));
        }
    }
    None
}

/// `text` with the (sorted, disjoint) replacements made, offsets relative to `base`.
fn replaced(text: &str, base: usize, mut repl: Vec<(Range<usize>, String)>) -> Option<String> {
    repl.sort_by_key(|(r, _)| r.start);
    let mut out = String::new();
    let mut at = 0;
    for (r, s) in repl {
        out.push_str(text.get(at..r.start.checked_sub(base)?)?);
        out.push_str(&s);
        at = r.end.checked_sub(base)?;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

/// A symbol `azureKmsN` the file does not use, N from `*next` on.
fn unused_symbol(text: &str, next: &mut usize) -> String {
    loop {
        let s = format!("azureKms{next}");
        *next += 1;
        if !text.contains(&s) {
            return s;
        }
    }
}

fn bicep_properties(ind: &str, prefix: &str) -> String {
    format!("{{\n{ind}  addressPrefix: '{prefix}'\n{ind}  nextHopType: 'Internet'\n{ind}}}")
}

fn json_properties(ind: &str, prefix: &str) -> String {
    format!("{{\n{ind}  \"addressPrefix\": \"{prefix}\",\n{ind}  \"nextHopType\": \"Internet\"\n{ind}}}")
}

fn bicep_child(text: &str, at: usize, old: &str, routes: &[(String, String)]) -> Result<Vec<Edit>, Refusal> {
    let program = kmsguard_bicep_syntax::parse(text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    let (decl, span) = bicep_resources(&program)
        .into_iter()
        .filter(|(d, s)| contains(s, at) && d.name.span.start < d.value.span.start)
        .min_by_key(|(_, s)| s.len())
        .ok_or("the route resource was not found again")?;
    if !matches!(decl.value.kind, ExprKind::Object(_)) {
        return Err("the route resource is conditional or a loop".into());
    }
    let name = bicep_property(&decl.value, "name").ok_or("the route resource has no name")?;
    let props = bicep_property(&decl.value, "properties").ok_or("the route resource has no properties")?;
    // From the `resource` keyword: the copy takes no decorator (a description is the original's).
    let start = text
        .get(..decl.name.span.start)
        .and_then(|t| t.rfind("resource"))
        .filter(|s| *s >= span.start)
        .ok_or("the route resource was not found again")?;
    let span = start..span.end;
    let whole = text.get(span.clone()).ok_or("the route resource was not found again")?;
    let ind = indent_at(text, span.start);
    let mut out = String::new();
    let mut next = 1;
    for (new, prefix) in routes {
        let name_text = text.get(name.span.clone()).unwrap_or("");
        let new_name = renamed(name_text, old, new).ok_or("the route resource's name does not end in its route's name")?;
        let repl = vec![
            (decl.name.span.clone(), unused_symbol(text, &mut next)),
            (name.span.clone(), new_name),
            (props.span.clone(), bicep_properties(&indent_at(text, props.span.start), prefix)),
        ];
        let copy = replaced(whole, span.start, repl).ok_or("the route resource could not be copied")?;
        out.push_str(&format!("\n{ind}{copy}\n"));
    }
    let at = line_after(text, span.end.saturating_sub(1));
    Ok(vec![Edit { range: at..at, text: out }])
}

/// The smallest JSON object containing `at` that satisfies `pred`.
fn json_object_at<'a>(root: &'a Json, at: usize, pred: &dyn Fn(&Json) -> bool) -> Option<&'a Json> {
    let mut best: Option<&Json> = None;
    root.walk(|j| {
        if matches!(j.kind, JsonKind::Object(_)) && contains(&j.span, at) && pred(j) && best.is_none_or(|b| j.span.len() < b.span.len()) {
            best = Some(j);
        }
    });
    best
}

fn arm_child(text: &str, at: usize, old: &str, routes: &[(String, String)]) -> Result<Vec<Edit>, Refusal> {
    let root = kmsguard_arm_syntax::parse_json(text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    let is_route = |j: &Json| {
        j.get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.to_ascii_lowercase().ends_with("routes"))
    };
    let child = json_object_at(&root, at, &is_route).ok_or("the route resource was not found again")?;
    if child.get("copy").is_some() || child.get("condition").is_some() {
        return Err("the route resource is conditional or a loop".into());
    }
    let name = child.get("name").ok_or("the route resource has no name")?;
    let props = child.get("properties").ok_or("the route resource has no properties")?;
    let whole = text.get(child.span.clone()).ok_or("the route resource was not found again")?;
    let ind = indent_at(text, child.span.start);
    let mut out = String::new();
    for (new, prefix) in routes {
        let name_text = text.get(name.span.clone()).unwrap_or("");
        let new_name = renamed(name_text, old, new).ok_or("the route resource's name does not end in its route's name")?;
        let repl = vec![
            (name.span.clone(), new_name),
            (props.span.clone(), json_properties(&indent_at(text, props.span.start), prefix)),
        ];
        let copy = replaced(whole, child.span.start, repl).ok_or("the route resource could not be copied")?;
        out.push_str(&format!(",\n{ind}{copy}"));
    }
    Ok(vec![Edit {
        range: child.span.end..child.span.end,
        text: out,
    }])
}

/// A route entry in the REST shape, one property a line, indented for `ind`.
pub(super) fn rest_entry(dialect: Dialect, ind: &str, name: &str, prefix: &str) -> String {
    match dialect {
        Dialect::Bicep => format!(
            "{{\n{ind}  name: '{name}'\n{ind}  properties: {}\n{ind}}}",
            bicep_properties(&format!("{ind}  "), prefix)
        ),
        _ => format!(
            "{{\n{ind}  \"name\": \"{name}\",\n{ind}  \"properties\": {}\n{ind}}}",
            json_properties(&format!("{ind}  "), prefix)
        ),
    }
}

/// Bicep `routes: concat(a, [ … ])`, `union(…)` or a `var`: the written-out array.
fn bicep_collection(sources: &SourceMap, table: &RouteTable, routes: &[(String, String)]) -> Result<Placed, Refusal> {
    let file = table.origin.file;
    let text = text_of(sources, file);
    let program = kmsguard_bicep_syntax::parse(&text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    let at = table.origin.span().start;
    let value = match bicep_resources(&program)
        .into_iter()
        .filter(|(_, s)| contains(s, at))
        .min_by_key(|(_, s)| s.len())
    {
        Some((decl, _)) => bicep_property(&decl.value, "properties")
            .and_then(|p| bicep_property(p, "routes"))
            .ok_or("the table has no routes property to add to")?,
        None => module_routes(&program, at)?,
    };
    if matches!(value.kind, ExprKind::For { .. }) {
        return super::bicep_loop::place(sources, table, &program, value, routes);
    }
    // Params whose value is written in another file (a .bicepparam) are read first.
    let mut others: Vec<(String, FileId, String, Arc<str>, Program)> = Vec::new();
    for s in &program.statements {
        if let StatementKind::Param(p) = &s.kind {
            if let Ok((target, what)) = super::bicep_loop::written(sources, file, &program, &p.name.name) {
                if target != file {
                    let t = text_of(sources, target);
                    if let Ok(prog) = kmsguard_bicep_syntax::parse(&t) {
                        others.push((p.name.name.clone(), target, what, t, prog));
                    }
                }
            }
        }
    }
    let mut vars: Vec<Named> = Vec::new();
    for s in &program.statements {
        match &s.kind {
            StatementKind::Var(v) => vars.push((v.name.name.as_str(), &v.value, file, format!("var {}", v.name.name))),
            StatementKind::Param(p) => {
                let name = p.name.name.as_str();
                let found = match others.iter().find(|o| o.0 == name) {
                    Some((_, target, what, _, prog)) => super::bicep_loop::value_in(prog, name).map(|v| (v, *target, what.clone())),
                    None => match super::bicep_loop::written(sources, file, &program, name) {
                        Ok((_, what)) => p.default.as_ref().map(|d| (d, file, what)),
                        Err(_) => None,
                    },
                };
                if let Some((v, target, what)) = found {
                    vars.push((name, v, target, what));
                }
            }
            _ => {}
        }
    }
    let (array, what, target) = bicep_array(value, &vars, file, 0)?;
    let text = if target == file {
        text
    } else {
        others.iter().find(|o| o.1 == target).map(|o| o.3.clone()).unwrap_or_default()
    };
    let items: Vec<String> = routes.iter().map(|(n, p)| rest_entry(Dialect::Bicep, "", n, p)).collect();
    let edits = super::bicep_loop::append(&text, array, &items)?;
    Ok(Placed {
        file: target,
        edits_len: edits.len(),
        edits,
        what,
    })
}

/// The `routes` input of the registry module call at `at` that deploys a table.
fn module_routes(program: &Program, at: usize) -> Result<&Expr, Refusal> {
    let (m, _) = program
        .statements
        .iter()
        .find_map(|s| match &s.kind {
            StatementKind::Module(m) if contains(&s.span, at) => Some((m, &s.span)),
            _ => None,
        })
        .ok_or("the table's declaration was not found again")?;
    let path = m.path.as_literal_string().unwrap_or_default();
    if !matches!(m.value.kind, ExprKind::Object(_)) {
        return Err(format!("the table is built by the registry module {path} in a call that is conditional or a loop").into());
    }
    bicep_property(&m.value, "params").and_then(|p| bicep_property(p, "routes")).ok_or(
        format!("the table is built by the registry module {path}, and the call sets no routes input; add `routes: [ … ]` to its params")
            .into(),
    )
}

/// A name whose value the routes may come from: (name, value, file it is written in, description).
type Named<'a> = (&'a str, &'a Expr, FileId, String);

fn bicep_array<'a>(e: &'a Expr, vars: &[Named<'a>], file: FileId, depth: usize) -> Result<(&'a Expr, String, FileId), Refusal> {
    if depth > 16 {
        return Err("the routes' references go too deep to follow".into());
    }
    match &e.kind {
        ExprKind::Array(_) => Ok((e, String::new(), file)),
        ExprKind::Paren(inner) => bicep_array(inner, vars, file, depth + 1),
        ExprKind::Ident(i) => match vars.iter().find(|(n, ..)| *n == i.name) {
            // What another file writes is taken only as a written-out array.
            Some((_, v, f, what)) if *f != file => match v.kind {
                ExprKind::Array(_) => Ok((v, what.clone(), *f)),
                _ => Err(Refusal::NotWrittenOutArray(what.clone())),
            },
            Some((_, v, _, what)) => {
                bicep_array(v, vars, file, depth + 1).map(|(a, w, f)| (a, if w.is_empty() { what.clone() } else { w }, f))
            }
            None => Err(Refusal::NotInRepository(i.name.to_string())),
        },
        ExprKind::Call { target: None, name, args } if ["concat", "union"].contains(&name.name.as_str()) => {
            if let Some(lit) = args.iter().rev().find(|a| matches!(a.kind, ExprKind::Array(_))) {
                return Ok((lit, String::new(), file));
            }
            let mut why = None;
            for a in args.iter().rev() {
                match bicep_array(a, vars, file, depth + 1) {
                    Ok(found) => return Ok(found),
                    Err(e) if why.is_none() => why = Some(e),
                    Err(_) => {}
                }
            }
            // A call with no operands gives no reason (as it always has).
            Err(why.unwrap_or(Refusal::Because("")))
        }
        ExprKind::String(parts) if parts.iter().all(|p| matches!(p, StringPart::Text { .. })) => Err("the routes are a string".into()),
        _ => Err("the routes are computed, not written out".into()),
    }
}

/// A parsed ARM expression string, or None for a literal.
pub(super) fn arm_expr(s: &str) -> Option<ArmExpr> {
    match classify_string(s).ok()? {
        StringValue::Expression(e) => Some(e),
        StringValue::Literal(_) => None,
    }
}

/// `variables('x')` / `parameters('x')`: ("variables", "x").
fn arm_ref(e: &ArmExpr) -> Option<(String, String)> {
    let (name, args) = e.as_call()?;
    let [arg] = args else { return None };
    let lower = name.to_ascii_lowercase();
    (lower == "variables" || lower == "parameters").then(|| (lower, arg.as_str().unwrap_or_default().to_string()))
}

fn arm_collection(
    sources: &SourceMap,
    parameters: &[std::path::PathBuf],
    table: &RouteTable,
    routes: &[(String, String)],
) -> Result<Placed, Refusal> {
    let file = table.origin.file;
    let text = text_of(sources, file);
    let root = kmsguard_arm_syntax::parse_json(&text).map_err(|_| Refusal::Because("the file could not be read again"))?;
    let props = arm_table_properties(&root, table)?;
    if let Some(input) = arm_routes_copy(props)? {
        return super::arm_copy::place(sources, parameters, file, &root, input, routes);
    }
    let value = props
        .get("routes")
        .and_then(Json::as_str)
        .ok_or("the table's routes are not written out")?;
    let e = arm_expr(value).ok_or("the table's routes are a string")?;
    let (name, args) = e.as_call().ok_or("the routes are computed, not written out")?;
    if !["concat", "union"].contains(&name.to_ascii_lowercase().as_str()) {
        return Err("the routes are computed, not written out".into());
    }
    // The last operand that is a variable written out as an array.
    let vars = root.get("variables");
    let target = args
        .iter()
        .rev()
        .filter_map(arm_ref)
        .find_map(|(kind, n)| {
            (kind == "variables")
                .then(|| vars.and_then(|v| v.get(&n)).map(|a| (a, n)))
                .flatten()
        })
        .filter(|(a, _)| matches!(a.kind, JsonKind::Array(_)))
        .ok_or("none of the operands is a variable written out as an array")?;
    let edits = json_append(&text, target.0, routes, &|ind, n, p| rest_entry(Dialect::Arm, ind, n, p))?;
    Ok(Placed {
        file,
        edits_len: edits.len(),
        edits,
        what: format!("variable {}", target.1),
    })
}

/// The `properties` of the ARM table resource `table` stands for.
pub(super) fn arm_table_properties<'a>(root: &'a Json, table: &RouteTable) -> Result<&'a Json, Refusal> {
    let is_table = |j: &Json| {
        j.get("type")
            .and_then(Json::as_str)
            .is_some_and(|t| t.to_ascii_lowercase().ends_with("routetables"))
    };
    let res = json_object_at(root, table.origin.span().start, &is_table).ok_or("the table was not found again")?;
    res.get("properties").ok_or(Refusal::Because("the table has no properties"))
}

/// The property `copy` that makes a table's routes, if it has a copy.
pub(super) fn arm_routes_copy(props: &Json) -> Result<Option<&Json>, Refusal> {
    let Some(copy) = props.get("copy").and_then(Json::as_array) else {
        return Ok(None);
    };
    copy.iter()
        .find(|c| {
            c.get("name")
                .and_then(Json::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("routes"))
        })
        .map(Some)
        .ok_or(Refusal::Because("the table's copy does not make its routes"))
}

/// Appends entries to a JSON array after its last element (or into `[]`).
pub(super) fn json_append(
    text: &str,
    array: &Json,
    routes: &[(String, String)],
    render: &dyn Fn(&str, &str, &str) -> String,
) -> Result<Vec<Edit>, Refusal> {
    let items = array.as_array().ok_or("not an array")?;
    match items.last() {
        Some(last) => {
            let one_line = !text.get(array.span.clone()).is_some_and(|t| t.contains('\n'));
            let ind = indent_at(text, last.span.start);
            let added: String = routes
                .iter()
                .map(|(n, p)| {
                    if one_line {
                        format!(", {}", render("", n, p))
                    } else {
                        format!(",\n{ind}{}", render(&ind, n, p))
                    }
                })
                .collect();
            Ok(vec![Edit {
                range: last.span.end..last.span.end,
                text: added,
            }])
        }
        None => {
            let ind = indent_at(text, array.span.start);
            let inner = format!("{ind}  ");
            let body: Vec<String> = routes.iter().map(|(n, p)| format!("{inner}{}", render(&inner, n, p))).collect();
            Ok(vec![Edit {
                range: array.span.clone(),
                text: format!("[\n{}\n{ind}]", body.join(",\n")),
            }])
        }
    }
}

/// The parameters file that applies to `template`: the last --parameters
/// file, else `X.parameters.json` beside `X.json`.
pub(super) fn parameters_file(sources: &SourceMap, parameters: &[std::path::PathBuf], template: FileId) -> Option<FileId> {
    let ids = || (0..sources.len()).filter_map(|i| u32::try_from(i).ok().map(FileId));
    if let Some(last) = parameters.last() {
        return ids().rfind(|f| sources.path(*f) == last.as_path());
    }
    let path = sources.path(template);
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let dir = path.parent().unwrap_or(Path::new(""));
    let want = format!("{stem}.parameters.json");
    ids().find(|f| {
        let p = sources.path(*f);
        p.parent().unwrap_or(Path::new("")) == dir
            && p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.to_ascii_lowercase() == want)
    })
}
