//! KG101 for an ARM table whose routes a property `copy` makes from a
//! parameter array (`count: [length(parameters('routes'))]`, the input
//! reading `parameters('routes')[copyIndex('routes')].x`): the entries go
//! into the array the deployment uses — the parameters file's value when
//! it sets the parameter, else the parameter's `defaultValue`.

use std::collections::BTreeMap;

use kmsguard_arm_syntax::{Expr, ExprKind, Json, JsonKind};

use super::azure::{arm_expr, json_append, parameters_file};
use super::refusal::Refusal;
use super::terraform::Placed;
use crate::source::{FileId, SourceMap};

/// The array a copy iterates over: `parameters('P')` or `variables('V')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Source {
    pub parameter: bool,
    pub name: String,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.parameter { "parameter" } else { "variable" };
        write!(f, "{kind} {}", self.name)
    }
}

/// `parameters('P')` or `variables('V')`.
fn parameter(e: &Expr) -> Option<Source> {
    let (name, [arg]) = e.as_call()? else { return None };
    let parameter = name.eq_ignore_ascii_case("parameters");
    (parameter || name.eq_ignore_ascii_case("variables")).then(|| {
        arg.as_str().map(|n| Source {
            parameter,
            name: n.to_string(),
        })
    })?
}

/// `parameters('P')[copyIndex(…)].K`: (P, K).
pub(super) fn entry_key(e: &Expr) -> Option<(Source, String)> {
    let ExprKind::Property { target, name } = &e.kind else {
        return None;
    };
    let ExprKind::Index { target: base, index } = &target.kind else {
        return None;
    };
    if !index.is_call_to("copyIndex") {
        return None;
    }
    Some((parameter(base)?, name.clone()))
}

/// Every `parameters('P')[copyIndex(…)].K` inside an expression.
fn keys_in(e: &Expr, out: &mut Vec<(Source, String)>) {
    if let Some(k) = entry_key(e) {
        out.push(k);
        return;
    }
    match &e.kind {
        ExprKind::Call { args, .. } => args.iter().for_each(|a| keys_in(a, out)),
        ExprKind::Property { target, .. } => keys_in(target, out),
        ExprKind::Index { target, index } => {
            keys_in(target, out);
            keys_in(index, out);
        }
        _ => {}
    }
}

/// A value of the little the copy's input may compute from an entry.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum V {
    Null,
    Str(String),
    Bool(bool),
}

/// Evaluates `if`, `equals`, `not`, `null()`, string literals and reads of
/// the entry; anything else is unknown (None).
pub(super) fn eval(e: &Expr, param: &Source, entry: &BTreeMap<String, V>) -> Option<V> {
    if let Some((p, k)) = entry_key(e) {
        return (p == *param).then(|| entry.get(&k).cloned().unwrap_or(V::Null));
    }
    if let Some(s) = e.as_str() {
        return Some(V::Str(s.to_string()));
    }
    let (name, args) = e.as_call()?;
    let args: Vec<Option<V>> = args.iter().map(|a| eval(a, param, entry)).collect();
    match (name.to_ascii_lowercase().as_str(), args.as_slice()) {
        ("null", []) => Some(V::Null),
        ("equals", [Some(V::Str(a)), Some(V::Str(b))]) => Some(V::Bool(a == b)),
        ("equals", [Some(a), Some(b)]) => Some(V::Bool(a == b)),
        ("not", [Some(V::Bool(b))]) => Some(V::Bool(!b)),
        ("if", [Some(V::Bool(c)), a, b]) => {
            if *c {
                a.clone()
            } else {
                b.clone()
            }
        }
        _ => None,
    }
}

/// What the copy reads from an entry: the parameter, the keys that give
/// the route its name, prefix and next hop ((property, key)), and the other
/// keys it reads (null in a new entry). Refused unless a new entry surely
/// makes a /32 route to Internet without a next hop IP address.
#[allow(clippy::type_complexity)]
fn mapping(copy: &Json) -> Result<(Source, Vec<(String, String)>, BTreeMap<String, Option<String>>), Refusal> {
    let count = copy.get("count").and_then(Json::as_str).and_then(arm_expr);
    let param = count
        .as_ref()
        .and_then(|c| match c.as_call() {
            Some((n, [arg])) if n.eq_ignore_ascii_case("length") => parameter(arg),
            _ => None,
        })
        .ok_or("the copy's count is not the length of a parameter or variable")?;
    let input = copy.get("input").ok_or("the copy has no input")?;
    let props = input.get("properties");
    // Err: the value as written, where it is not read from an entry.
    let read = |j: Option<&Json>| -> Result<Option<String>, String> {
        let Some(s) = j.and_then(Json::as_str) else { return Ok(None) };
        match arm_expr(s).as_ref().and_then(entry_key) {
            Some((p, k)) if p == param => Ok(Some(k)),
            _ => Err(s.to_string()),
        }
    };
    let mut set: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for (json, what) in [
        (input.get("name"), "name"),
        (props.and_then(|p| p.get("addressPrefix")), "addressPrefix"),
        (props.and_then(|p| p.get("nextHopType")), "nextHopType"),
    ] {
        match read(json) {
            Ok(Some(k)) => names.push((what.to_string(), k)),
            Err(s) if what == "nextHopType" && s.eq_ignore_ascii_case("Internet") => {}
            _ => {
                return Err(Refusal::CopyDoesNotRead {
                    what: what.to_string(),
                    param: param.to_string(),
                })
            }
        }
    }
    // Whatever else the input reads from an entry (the next hop IP address) is null.
    let mut others = Vec::new();
    input.walk(|j| {
        if let Some(e) = j.as_str().and_then(arm_expr) {
            keys_in(&e, &mut others);
        }
    });
    for (p, k) in others {
        if p == param && !names.iter().any(|(_, n)| *n == k) {
            set.insert(k, None);
        }
    }
    // A new entry must leave the route without a next hop IP address.
    if let Some(ip) = props.and_then(|p| p.get("nextHopIpAddress")) {
        let mut entry: BTreeMap<String, V> = set.keys().map(|k| (k.clone(), V::Null)).collect();
        for (what, k) in &names {
            let v = if what == "nextHopType" { "Internet" } else { "x" };
            entry.insert(k.clone(), V::Str(v.into()));
        }
        let value = match ip.as_str() {
            Some(s) => arm_expr(s).and_then(|e| eval(&e, &param, &entry)),
            None if ip.is_null() => Some(V::Null),
            None => None,
        };
        if value != Some(V::Null) {
            return Err("kmsguard cannot tell that a new entry leaves the route without a next hop IP address".into());
        }
    }
    Ok((param, names, set))
}

/// The array the deployment iterates over, where it is written: a
/// variable of the template; a parameter's value in the parameters file
/// that sets it, else its defaultValue. With its file, text and a description.
pub(super) fn source_array(
    sources: &SourceMap,
    parameters: &[std::path::PathBuf],
    file: FileId,
    template: &Json,
    src: &Source,
) -> Result<(FileId, std::sync::Arc<str>, Json, String), Refusal> {
    let template_text = sources.get(file).map(|s| s.text().clone()).unwrap_or_default();
    let name = &src.name;
    if !src.parameter {
        let v = template
            .get("variables")
            .and_then(|v| v.get(name))
            .ok_or_else(|| Refusal::VariableNotWritten(name.to_string()))?;
        return Ok((file, template_text, v.clone(), format!("variable {name}")));
    }
    let from_file = parameters_file(sources, parameters, file).and_then(|f| {
        let text = sources.get(f).map(|s| s.text().clone())?;
        let doc = kmsguard_arm_syntax::parse_json(&text).ok()?;
        let value = doc.get("parameters")?.get(name)?.get("value")?;
        Some((f, text, value.clone()))
    });
    match from_file {
        Some((f, text, value)) => Ok((f, text, value, format!("the value of parameter {name}"))),
        None => {
            let d = template
                .get("parameters")
                .and_then(|p| p.get(name))
                .and_then(|p| p.get("defaultValue"))
                .ok_or_else(|| Refusal::ParameterWithoutValue(name.to_string()))?;
            Ok((file, template_text, d.clone(), format!("the defaultValue of parameter {name}")))
        }
    }
}

pub(super) fn place(
    sources: &SourceMap,
    parameters: &[std::path::PathBuf],
    file: FileId,
    root: &Json,
    copy: &Json,
    routes: &[(String, String)],
) -> Result<Placed, Refusal> {
    let (param, names, set) = mapping(copy)?;
    let (target_file, text, array, what) = source_array(sources, parameters, file, root, &param)?;
    let JsonKind::Array(items) = &array.kind else {
        return Err(Refusal::NotAnArray(param.to_string()));
    };
    let sample = items.last();
    let order: Vec<String> = sample
        .and_then(Json::as_object)
        .map(|m| m.iter().map(|m| m.key.clone()).collect())
        .unwrap_or_default();
    if let Some(k) = order.iter().find(|k| !set.contains_key(*k) && !names.iter().any(|(_, n)| n == *k)) {
        return Err(Refusal::UnreadJsonKey(k.to_string()));
    }
    let sample_text = sample.and_then(|s| text.get(s.span.clone())).unwrap_or("").to_string();
    let render = |ind: &str, name: &str, prefix: &str| -> String {
        let mut fields: Vec<(String, String)> = Vec::new();
        for (what, k) in &names {
            let v = match what.as_str() {
                "name" => name,
                "addressPrefix" => prefix,
                _ => "Internet",
            };
            fields.push((k.clone(), format!("\"{v}\"")));
        }
        for k in set.keys() {
            if !fields.iter().any(|(f, _)| f == k) {
                fields.push((k.clone(), "null".into()));
            }
        }
        fields.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
        let parts: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
        if !sample_text.is_empty() && !sample_text.contains('\n') {
            let pad = if sample_text.starts_with("{ ") { " " } else { "" };
            format!("{{{pad}{}{pad}}}", parts.join(", "))
        } else {
            format!("{{\n{ind}  {}\n{ind}}}", parts.join(&format!(",\n{ind}  ")))
        }
    };
    let edits = json_append(&text, &array, routes, &render)?;
    Ok(Placed {
        file: target_file,
        edits_len: edits.len(),
        edits,
        what,
    })
}
