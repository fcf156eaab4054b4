//! The Terraform built-in functions that network configurations commonly
//! use. A function kmsguard does not implement evaluates to unknown, naming
//! the function, so a verdict that depends on it becomes a KG901 note.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use super::eval::{to_number, EvalError, EvalResult};
use crate::ingest::value::{self, format_number, Val};
use crate::limits::{self, Budget};

fn err<T>(msg: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(msg.into()))
}

/// Calls `name` with evaluated arguments. `try` and `can` are handled by the
/// evaluator, which must see their arguments' errors.
///
/// No function builds a string longer than [`limits::MAX_STRING`] or a
/// collection past the collection limit: the ones whose result can outgrow
/// their arguments (`replace`, `join`, `format`, `formatlist`, `split`,
/// `jsonencode`…) measure it before building it, and every result is checked
/// again here, so that a function added later cannot forget.
pub fn call(name: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
    Ok(match call_unbounded(name, args, budget)? {
        Val::String(s) if s.len() > limits::MAX_STRING => limits::string_too_long(&format!("{name}()")),
        Val::List(l) if limits.exceeds_collection(l.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{name}()"), Some(l.len() as f64)))
        }
        Val::Object(o) if limits.exceeds_collection(o.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{name}()"), Some(o.len() as f64)))
        }
        v => v,
    })
}

fn call_unbounded(name: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
    // Most functions return unknown when an argument is unknown; the ones
    // that can do better (coalesce, merge, concat, length of a list with
    // unknown elements…) handle it themselves below.
    let partial = matches!(
        name,
        "concat"
            | "merge"
            | "coalesce"
            | "coalescelist"
            | "length"
            | "tolist"
            | "toset"
            | "tomap"
            | "flatten"
            | "keys"
            | "values"
            | "lookup"
            | "element"
            | "compact"
            | "distinct"
            | "one"
            | "contains"
            | "jsonencode"
            | "setunion"
            | "slice"
            | "reverse"
            | "zipmap"
    );
    if !partial {
        if let Some(r) = args.iter().find_map(Val::first_unknown) {
            return Ok(Val::Unknown(r));
        }
    } else if let Some(r) = args
        .iter()
        .find_map(|a| if let Val::Unknown(r) = a { Some(r.clone()) } else { None })
    {
        return Ok(Val::Unknown(r));
    }

    match name {
        "concat" => {
            let n: usize = args.iter().map(|a| if let Val::List(l) = a { l.len() } else { 0 }).sum();
            if limits.exceeds_collection(n as f64) {
                return Ok(Val::unknown(limits.too_many("concat()", Some(n as f64))));
            }
            let mut out = Vec::with_capacity(n);
            for a in args {
                match a {
                    Val::List(l) => out.extend(l),
                    other => return err(format!("concat() takes lists, not {}", other.type_name())),
                }
            }
            Ok(Val::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Val::Object(o) => out.extend(o),
                    Val::Null => {}
                    other => return err(format!("merge() takes maps or objects, not {}", other.type_name())),
                }
            }
            Ok(Val::Object(out))
        }
        "lookup" => {
            let mut it = args.into_iter();
            let (map, key, default) = (it.next(), it.next(), it.next());
            let key = key
                .and_then(|k| k.to_tf_string())
                .ok_or_else(|| EvalError("lookup() needs a string key".into()))?;
            match map {
                Some(Val::Object(mut o)) => match (o.remove(&key), default) {
                    (Some(v), _) => Ok(v),
                    (None, Some(d)) => Ok(d),
                    (None, None) => err(format!("lookup() found no key \"{key}\" and has no default")),
                },
                _ => err("lookup() takes a map"),
            }
        }
        "coalesce" => {
            for a in args {
                match a {
                    Val::Null => continue,
                    Val::String(ref s) if s.is_empty() => continue,
                    // An unknown argument might be null or empty: the result is unknown.
                    v => return Ok(v),
                }
            }
            err("coalesce() found no non-null, non-empty argument")
        }
        "coalescelist" => {
            for a in args {
                match a {
                    Val::List(ref l) if l.is_empty() => continue,
                    Val::List(_) => return Ok(a),
                    other => return err(format!("coalescelist() takes lists, not {}", other.type_name())),
                }
            }
            Ok(Val::List(Vec::new()))
        }
        "tolist" => match one(args)? {
            Val::List(l) => Ok(Val::List(l)),
            other => err(format!("tolist() takes a list or set, not {}", other.type_name())),
        },
        "toset" => match one(args)? {
            Val::List(l) => Ok(Val::List(to_set(l))),
            other => err(format!("toset() takes a list, not {}", other.type_name())),
        },
        "tomap" => match one(args)? {
            Val::Object(o) => Ok(Val::Object(o)),
            other => err(format!("tomap() takes an object, not {}", other.type_name())),
        },
        "tostring" => match one(args)? {
            Val::Null => Ok(Val::Null),
            v => v
                .to_tf_string()
                .map(Val::String)
                .ok_or_else(|| EvalError(format!("cannot convert a {} to a string", v.type_name()))),
        },
        "tonumber" => match one(args)? {
            Val::Null => Ok(Val::Null),
            v => to_number(&v).map(Val::Number),
        },
        "tobool" => match one(args)? {
            Val::Bool(b) => Ok(Val::Bool(b)),
            Val::String(s) if s == "true" => Ok(Val::Bool(true)),
            Val::String(s) if s == "false" => Ok(Val::Bool(false)),
            Val::Null => Ok(Val::Null),
            other => err(format!("cannot convert {other} to a bool")),
        },
        "format" => {
            let mut it = args.into_iter();
            let Some(Val::String(fmt)) = it.next() else {
                return err("format() needs a format string");
            };
            Ok(format(&fmt, &it.collect::<Vec<_>>())?.map_or_else(|| limits::string_too_long("format()"), Val::String))
        }
        "formatlist" => {
            let mut it = args.into_iter();
            let Some(Val::String(fmt)) = it.next() else {
                return err("formatlist() needs a format string");
            };
            let rest: Vec<Val> = it.collect();
            let n = rest
                .iter()
                .filter_map(|a| if let Val::List(l) = a { Some(l.len()) } else { None })
                .max()
                .unwrap_or(1);
            if limits.exceeds_collection(n as f64) {
                return Ok(Val::unknown(limits.too_many("formatlist()", Some(n as f64))));
            }
            // Each row may be up to the string limit: what the rows add up
            // to is weighed as they are built, against the steps left.
            let mut weight = 0u64;
            let mut out = Vec::new();
            for i in 0..n {
                let row: Vec<Val> = rest
                    .iter()
                    .map(|a| match a {
                        Val::List(l) => l.get(i).cloned().unwrap_or(Val::Null),
                        v => v.clone(),
                    })
                    .collect();
                match format(&fmt, &row)? {
                    Some(s) => {
                        weight = weight.saturating_add(1 + limits::text_weight(s.len()));
                        if !budget.affords(weight) {
                            return Ok(budget.spent());
                        }
                        out.push(Val::String(s));
                    }
                    None => return Ok(limits::string_too_long("formatlist()")),
                }
            }
            Ok(Val::List(out))
        }
        "join" => {
            let mut it = args.into_iter();
            let sep = string_arg(it.next(), "join")?;
            let mut parts = Vec::new();
            for l in it {
                let Val::List(l) = l else { return err("join() takes lists") };
                for v in l {
                    parts.push(v.to_tf_string().ok_or_else(|| EvalError("join() takes lists of strings".into()))?);
                }
            }
            if limits::joined_len(parts.iter().map(String::as_str), &sep) > limits::MAX_STRING {
                return Ok(limits::string_too_long("join()"));
            }
            Ok(Val::String(parts.join(&sep)))
        }
        "split" => {
            let mut it = args.into_iter();
            let sep = string_arg(it.next(), "split")?;
            let s = string_arg(it.next(), "split")?;
            if sep.is_empty() {
                return err("split() needs a non-empty separator");
            }
            let n = s.matches(sep.as_str()).count() + 1;
            if limits.exceeds_collection(n as f64) {
                return Ok(Val::unknown(limits.too_many("split()", Some(n as f64))));
            }
            Ok(Val::List(s.split(sep.as_str()).map(|p| Val::String(p.to_string())).collect()))
        }
        "replace" => {
            let mut it = args.into_iter();
            let s = string_arg(it.next(), "replace")?;
            let from = string_arg(it.next(), "replace")?;
            let to = string_arg(it.next(), "replace")?;
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return Ok(Val::unknown("replace() with a regular expression is not evaluated by kmsguard"));
            }
            if from.is_empty() {
                return Ok(Val::String(s));
            }
            if limits::replaced_len(&s, &from, &to) > limits::MAX_STRING {
                return Ok(limits::string_too_long("replace()"));
            }
            Ok(Val::String(s.replace(&from, &to)))
        }
        // Changing case can triple a string's length (`ß` to `SS`…), so
        // one already at the limit is not changed.
        "lower" | "upper" | "title" if matches!(args.first(), Some(Val::String(s)) if s.len() > limits::MAX_STRING) => {
            Ok(limits::string_too_long(&format!("{name}()")))
        }
        "lower" => Ok(Val::String(string_arg(args.into_iter().next(), "lower")?.to_lowercase())),
        "upper" => Ok(Val::String(string_arg(args.into_iter().next(), "upper")?.to_uppercase())),
        "title" => Ok(Val::String(
            string_arg(args.into_iter().next(), "title")?
                .split(' ')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(" "),
        )),
        "trimspace" => Ok(Val::String(string_arg(args.into_iter().next(), "trimspace")?.trim().to_string())),
        "trimprefix" | "trimsuffix" | "trim" => {
            let mut it = args.into_iter();
            let s = string_arg(it.next(), name)?;
            let p = string_arg(it.next(), name)?;
            Ok(Val::String(match name {
                "trimprefix" => s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
                "trimsuffix" => s.strip_suffix(p.as_str()).unwrap_or(&s).to_string(),
                _ => s.trim_matches(|c| p.contains(c)).to_string(),
            }))
        }
        "startswith" | "endswith" | "strcontains" => {
            let mut it = args.into_iter();
            let s = string_arg(it.next(), name)?;
            let p = string_arg(it.next(), name)?;
            Ok(Val::Bool(match name {
                "startswith" => s.starts_with(&p),
                "endswith" => s.ends_with(&p),
                _ => s.contains(&p),
            }))
        }
        "substr" => {
            let mut it = args.into_iter();
            let s = string_arg(it.next(), "substr")?;
            let off = to_number(&it.next().unwrap_or(Val::Null))? as i64;
            let len = to_number(&it.next().unwrap_or(Val::Null))? as i64;
            let chars: Vec<char> = s.chars().collect();
            let start = if off < 0 { (chars.len() as i64 + off).max(0) } else { off } as usize;
            let end = if len < 0 {
                chars.len()
            } else {
                (start + len as usize).min(chars.len())
            };
            Ok(Val::String(chars.get(start..end).map(|c| c.iter().collect()).unwrap_or_default()))
        }
        "length" => match one(args)? {
            Val::List(l) => Ok(Val::Number(l.len() as f64)),
            Val::Object(o) => Ok(Val::Number(o.len() as f64)),
            Val::String(s) => Ok(Val::Number(s.chars().count() as f64)),
            other => err(format!("length() takes a collection or string, not {}", other.type_name())),
        },
        "flatten" => {
            fn flat(v: Val, out: &mut Vec<Val>) {
                match v {
                    Val::List(l) => l.into_iter().for_each(|x| flat(x, out)),
                    other => out.push(other),
                }
            }
            let mut out = Vec::new();
            match one(args)? {
                Val::List(l) => l.into_iter().for_each(|x| flat(x, &mut out)),
                other => return err(format!("flatten() takes a list, not {}", other.type_name())),
            }
            Ok(Val::List(out))
        }
        "keys" => match one(args)? {
            Val::Object(o) => Ok(Val::List(o.into_keys().map(Val::String).collect())),
            other => err(format!("keys() takes a map, not {}", other.type_name())),
        },
        "values" => match one(args)? {
            Val::Object(o) => Ok(Val::List(o.into_values().collect())),
            other => err(format!("values() takes a map, not {}", other.type_name())),
        },
        "contains" => {
            let mut it = args.into_iter();
            match (it.next(), it.next()) {
                (Some(Val::List(l)), Some(v)) => {
                    if l.contains(&v) {
                        Ok(Val::Bool(true))
                    } else if let Some(r) = l.iter().find_map(Val::first_unknown).or_else(|| v.first_unknown()) {
                        Ok(Val::Unknown(r))
                    } else {
                        Ok(Val::Bool(false))
                    }
                }
                _ => err("contains() takes a list and a value"),
            }
        }
        "element" => {
            let mut it = args.into_iter();
            match (it.next(), it.next()) {
                (Some(Val::List(l)), Some(i)) if !l.is_empty() => {
                    if let Val::Unknown(r) = i {
                        return Ok(Val::Unknown(r));
                    }
                    let i = to_number(&i)? as usize;
                    Ok(l.get(i % l.len()).cloned().unwrap_or(Val::Null))
                }
                _ => err("element() takes a non-empty list and an index"),
            }
        }
        "index" => {
            let mut it = args.into_iter();
            match (it.next(), it.next()) {
                (Some(Val::List(l)), Some(v)) => l
                    .iter()
                    .position(|x| *x == v)
                    .map(|p| Val::Number(p as f64))
                    .ok_or_else(|| EvalError("index() did not find the value".into())),
                _ => err("index() takes a list and a value"),
            }
        }
        "distinct" => match one(args)? {
            Val::List(l) => Ok(Val::List(value::distinct(l))),
            other => err(format!("distinct() takes a list, not {}", other.type_name())),
        },
        "compact" => match one(args)? {
            Val::List(l) => Ok(Val::List(
                l.into_iter()
                    .filter(|v| !matches!(v, Val::Null) && *v != Val::String(String::new()))
                    .collect(),
            )),
            other => err(format!("compact() takes a list, not {}", other.type_name())),
        },
        "reverse" => match one(args)? {
            Val::List(mut l) => {
                l.reverse();
                Ok(Val::List(l))
            }
            other => err(format!("reverse() takes a list, not {}", other.type_name())),
        },
        "slice" => {
            let mut it = args.into_iter();
            match (it.next(), it.next(), it.next()) {
                (Some(Val::List(l)), Some(a), Some(b)) => {
                    let (a, b) = (to_number(&a)? as usize, to_number(&b)? as usize);
                    l.get(a..b)
                        .map(|s| Val::List(s.to_vec()))
                        .ok_or_else(|| EvalError("slice() indices are out of range".into()))
                }
                _ => err("slice() takes a list and two indices"),
            }
        }
        "sort" => match one(args)? {
            Val::List(l) => {
                let mut s: Vec<String> = l.iter().map(|v| v.to_tf_string().unwrap_or_default()).collect();
                s.sort();
                Ok(Val::List(s.into_iter().map(Val::String).collect()))
            }
            other => err(format!("sort() takes a list, not {}", other.type_name())),
        },
        "one" => match one(args)? {
            Val::List(l) if l.is_empty() => Ok(Val::Null),
            Val::List(mut l) if l.len() == 1 => Ok(l.remove(0)),
            _ => err("one() takes a list of zero or one element"),
        },
        "setunion" => {
            let mut out = Vec::new();
            for a in args {
                let Val::List(l) = a else { return err("setunion() takes sets") };
                out.extend(l);
            }
            Ok(Val::List(to_set(out)))
        }
        "zipmap" => {
            let mut it = args.into_iter();
            match (it.next(), it.next()) {
                (Some(Val::List(k)), Some(Val::List(v))) if k.len() == v.len() => {
                    let mut out = BTreeMap::new();
                    for (k, v) in k.into_iter().zip(v) {
                        match k {
                            Val::Unknown(r) => return Ok(Val::Unknown(r)),
                            k => {
                                out.insert(k.to_tf_string().ok_or_else(|| EvalError("zipmap() keys are strings".into()))?, v);
                            }
                        }
                    }
                    Ok(Val::Object(out))
                }
                _ => err("zipmap() takes two lists of the same length"),
            }
        }
        "range" => {
            let nums: Result<Vec<f64>, _> = args.iter().map(to_number).collect();
            let nums = nums?;
            let (start, end, step) = match nums.as_slice() {
                [e] => (0.0, *e, 1.0),
                [s, e] => (*s, *e, if s <= e { 1.0 } else { -1.0 }),
                [s, e, st] => (*s, *e, *st),
                _ => return err("range() takes one to three numbers"),
            };
            if step == 0.0 {
                return err("range() step must not be zero");
            }
            let n = ((end - start) / step).ceil();
            if limits.exceeds_collection(n) {
                return Ok(Val::unknown(limits.too_many("range()", Some(n))));
            }
            Ok(Val::List(
                (0..n.max(0.0) as usize).map(|i| Val::Number(start + step * i as f64)).collect(),
            ))
        }
        "min" | "max" => {
            let nums: Result<Vec<f64>, _> = args.iter().map(to_number).collect();
            let nums = nums?;
            let r = if name == "min" {
                nums.iter().cloned().fold(f64::INFINITY, f64::min)
            } else {
                nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
            };
            if nums.is_empty() {
                return err(format!("{name}() needs at least one number"));
            }
            Ok(Val::Number(r))
        }
        "abs" => Ok(Val::Number(to_number(&one(args)?)?.abs())),
        "floor" => Ok(Val::Number(to_number(&one(args)?)?.floor())),
        "ceil" => Ok(Val::Number(to_number(&one(args)?)?.ceil())),
        "alltrue" | "anytrue" => match one(args)? {
            Val::List(l) => {
                let all = name == "alltrue";
                let mut result = all;
                for v in l {
                    match v {
                        Val::Bool(b) if all && !b => return Ok(Val::Bool(false)),
                        Val::Bool(b) if !all && b => return Ok(Val::Bool(true)),
                        Val::Bool(_) => {}
                        Val::String(s) if s == "true" || s == "false" => {
                            let b = s == "true";
                            if all && !b {
                                result = false;
                            } else if !all && b {
                                result = true;
                            }
                        }
                        _ => return err(format!("{name}() takes a list of bools")),
                    }
                }
                Ok(Val::Bool(result))
            }
            _ => err(format!("{name}() takes a list of bools")),
        },
        "cidrhost" => {
            let mut it = args.into_iter();
            let net = parse_net(&string_arg(it.next(), "cidrhost")?)?;
            let n = to_number(&it.next().unwrap_or(Val::Null))?;
            cidrhost(net, n).map(|a| Val::String(a.to_string()))
        }
        "cidrsubnet" => {
            let mut it = args.into_iter();
            let net = parse_net(&string_arg(it.next(), "cidrsubnet")?)?;
            let bits = to_number(&it.next().unwrap_or(Val::Null))?;
            let num = to_number(&it.next().unwrap_or(Val::Null))?;
            cidrsubnet(net, bits, num).map(|n| Val::String(n.to_string()))
        }
        "cidrnetmask" => {
            let net = parse_net(&string_arg(args.into_iter().next(), "cidrnetmask")?)?;
            Ok(Val::String(net.netmask().to_string()))
        }
        "jsonencode" => Ok(match one(args)? {
            v if v.has_unknown() => Val::Unknown(v.first_unknown().unwrap_or_else(|| "unknown".into())),
            v => limits::json_bounded(&to_json(&v)).map_or_else(|| limits::string_too_long("jsonencode()"), Val::String),
        }),
        "jsondecode" => {
            let s = string_arg(args.into_iter().next(), "jsondecode")?;
            serde_json::from_str::<serde_json::Value>(&s)
                .map(|j| crate::ingest::value::from_json(&j))
                .map_err(|e| EvalError(format!("jsondecode(): {e}")))
        }
        "sensitive" | "nonsensitive" => one(args),
        other => Ok(Val::unknown(format!("the function {other}() is not evaluated by kmsguard"))),
    }
}

fn one(args: Vec<Val>) -> EvalResult {
    let mut it = args.into_iter();
    match (it.next(), it.next()) {
        (Some(v), None) => Ok(v),
        _ => err("the function takes exactly one argument"),
    }
}

fn string_arg(v: Option<Val>, f: &str) -> Result<String, EvalError> {
    match v {
        Some(v) => v
            .to_tf_string()
            .ok_or_else(|| EvalError(format!("{f}() expects a string, not {}", v.type_name()))),
        None => err(format!("{f}() is missing an argument")),
    }
}

/// Terraform sets iterate in a stable order: strings lexically.
fn to_set(l: Vec<Val>) -> Vec<Val> {
    let mut out = value::distinct(l);
    if out.iter().all(|v| matches!(v, Val::String(_))) {
        out.sort_by(|a, b| match (a, b) {
            (Val::String(a), Val::String(b)) => a.cmp(b),
            _ => std::cmp::Ordering::Equal,
        });
    }
    out
}

/// Terraform's `format` verbs: %s %d %v %q %f and %%, with optional width.
/// Terraform's `format()`, Go's verbs; `None` when a width or precision would
/// build a string longer than [`limits::MAX_STRING`].
fn format(fmt: &str, args: &[Val]) -> Result<Option<String>, EvalError> {
    match format_bounded(fmt, args) {
        Ok(s) => Ok(Some(s)),
        Err(FormatError::TooLong) => Ok(None),
        Err(FormatError::Eval(e)) => Err(e),
    }
}

enum FormatError {
    TooLong,
    Eval(EvalError),
}

impl From<limits::TooLong> for FormatError {
    fn from(_: limits::TooLong) -> Self {
        FormatError::TooLong
    }
}

impl From<EvalError> for FormatError {
    fn from(e: EvalError) -> Self {
        FormatError::Eval(e)
    }
}

fn format_bounded(fmt: &str, args: &[Val]) -> Result<String, FormatError> {
    let mut out = limits::BoundedString::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c)?;
            continue;
        }
        let mut spec = String::new();
        let verb = loop {
            match chars.next() {
                Some(v) if v.is_ascii_alphabetic() || v == '%' => break v,
                Some(v) => spec.push(v),
                None => return Err(EvalError("format(): the format string ends in the middle of a verb".into()).into()),
            }
        };
        if verb == '%' {
            out.push('%')?;
            continue;
        }
        let arg = args.get(next).ok_or_else(|| EvalError("format(): not enough arguments".into()))?;
        next += 1;
        // Every argument is printed through the bound: `%v` of a large
        // list, `%q` of a string full of escapes, the same large argument
        // used many times.
        let text = match verb {
            'q' => limits::display_bounded(&format_args!("{:?}", arg.to_tf_string().unwrap_or_default())),
            'd' => Some(format_number(to_number(arg)?.trunc())),
            'f' => {
                let prec = spec.split('.').nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(6);
                if prec > limits::MAX_STRING {
                    return Err(FormatError::TooLong);
                }
                Some(format!("{:.*}", prec, to_number(arg)?))
            }
            _ => match arg.to_tf_string() {
                Some(s) => Some(s),
                None => limits::display_bounded(arg),
            },
        };
        let text = text.ok_or(FormatError::TooLong)?;
        let width = spec.trim_start_matches(['-', '0']).split('.').next().unwrap_or_default();
        let width: usize = match width.parse() {
            Ok(w) if w <= limits::MAX_STRING => w,
            Ok(_) => return Err(FormatError::TooLong),
            Err(_) if width.chars().all(|c| c.is_ascii_digit()) && !width.is_empty() => return Err(FormatError::TooLong),
            Err(_) => 0,
        };
        // Padded by hand: Rust's `{:>width$}` panics on widths above 65,535.
        let pad = width.saturating_sub(text.chars().count());
        if spec.starts_with('-') {
            out.push_str(&text)?;
            out.push_n(' ', pad)?;
        } else if spec.starts_with('0') && verb == 'd' {
            // Go puts the sign before the zeros: %05d of -42 is "-0042".
            let digits = match text.strip_prefix('-') {
                Some(d) => {
                    out.push('-')?;
                    d
                }
                None => text.as_str(),
            };
            out.push_n('0', pad)?;
            out.push_str(digits)?;
        } else {
            out.push_n(' ', pad)?;
            out.push_str(&text)?;
        }
    }
    Ok(out.into_string())
}

fn parse_net(s: &str) -> Result<IpNet, EvalError> {
    s.trim()
        .parse::<IpNet>()
        .map_err(|_| EvalError(format!("\"{s}\" is not a CIDR prefix")))
}

fn cidrhost(net: IpNet, n: f64) -> Result<IpAddr, EvalError> {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size: u128 = if host_bits >= 128 { u128::MAX } else { 1u128 << host_bits };
    let n = n as i128;
    let offset: u128 = if n < 0 {
        size.checked_sub(n.unsigned_abs())
            .ok_or_else(|| EvalError("cidrhost(): host number out of range".into()))?
    } else {
        n as u128
    };
    if offset >= size {
        return err(format!("cidrhost(): prefix {net} has no host number {n}"));
    }
    Ok(match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from((u32::from(a) as u128 + offset) as u32)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(offset))),
    })
}

fn cidrsubnet(net: IpNet, newbits: f64, num: f64) -> Result<IpNet, EvalError> {
    let newbits = newbits as u8;
    let new_len = net
        .prefix_len()
        .checked_add(newbits)
        .filter(|l| *l <= net.max_prefix_len())
        .ok_or_else(|| EvalError(format!("cidrsubnet(): {net} cannot be extended by {newbits} bits")))?;
    let num = num as u128;
    if newbits < 128 && num >= (1u128 << newbits) {
        return err(format!("cidrsubnet(): {num} does not fit in {newbits} bits"));
    }
    let shift = u32::from(net.max_prefix_len() - new_len);
    let add = if shift >= 128 { 0 } else { num << shift };
    let addr = match net.network() {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from((u32::from(a) as u128 + add) as u32)),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a).wrapping_add(add))),
    };
    IpNet::new(addr, new_len).map_err(|e| EvalError(format!("cidrsubnet(): {e}")))
}

fn to_json(v: &Val) -> serde_json::Value {
    match v {
        Val::Null | Val::Unknown(_) => serde_json::Value::Null,
        Val::Bool(b) => serde_json::Value::Bool(*b),
        Val::Number(n) => serde_json::Number::from_f64(*n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Val::String(s) => serde_json::Value::String(s.clone()),
        Val::List(l) => serde_json::Value::Array(l.iter().map(to_json).collect()),
        Val::Object(o) => serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Val>) -> EvalResult {
        super::call(name, args, &Budget::new(crate::limits::Limits::default(), "module"))
    }

    fn s(x: &str) -> Val {
        Val::String(x.into())
    }

    #[test]
    fn format_pads_as_go_does() {
        assert_eq!(call("format", vec![s("[%5d]"), Val::Number(42.0)]), Ok(s("[   42]")));
        assert_eq!(call("format", vec![s("[%-5s]"), s("ab")]), Ok(s("[ab   ]")));
        assert_eq!(call("format", vec![s("%05d"), Val::Number(-42.0)]), Ok(s("-0042")));
    }

    /// Found while writing the hostile-input tests: Rust's `{:>width$}`
    /// panics past a width of 65,535, and a width of a billion would build a
    /// gigabyte. Such a width is unknown, naming the limit.
    #[test]
    fn a_huge_format_width_is_unknown_not_a_panic() {
        for spec in ["%1000000000d", "%99999999999999999999999s", "%.1000000000f"] {
            let v = call("format", vec![s(spec), Val::Number(1.0)]).expect("no error");
            assert!(matches!(&v, Val::Unknown(r) if r.contains("format()")), "{spec}: {v:?}");
        }
        assert_eq!(
            call("format", vec![s("%70000d"), Val::Number(1.0)]).map(|v| v.to_string().len() > 70_000),
            Ok(true)
        );
    }

    #[test]
    fn range_past_the_collection_limit_names_the_flag() {
        let v = call("range", vec![Val::Number(1e6)]).expect("no error");
        assert!(matches!(&v, Val::Unknown(r) if r.contains("--max-collection-size")), "{v:?}");
    }

    #[test]
    fn cidr_functions_match_terraform() {
        assert_eq!(call("cidrhost", vec![s("10.0.1.0/24"), Val::Number(4.0)]), Ok(s("10.0.1.4")));
        assert_eq!(call("cidrhost", vec![s("10.0.1.0/24"), Val::Number(-2.0)]), Ok(s("10.0.1.254")));
        assert_eq!(
            call("cidrsubnet", vec![s("10.0.0.0/16"), Val::Number(8.0), Val::Number(2.0)]),
            Ok(s("10.0.2.0/24"))
        );
        assert!(call("cidrsubnet", vec![s("10.0.0.0/16"), Val::Number(8.0), Val::Number(256.0)]).is_err());
    }

    #[test]
    fn format_handles_common_verbs() {
        assert_eq!(
            call("format", vec![s("%s/%d"), s("20.118.99.224"), Val::Number(32.0)]),
            Ok(s("20.118.99.224/32"))
        );
        assert_eq!(call("format", vec![s("rt-%03d"), Val::Number(7.0)]), Ok(s("rt-007")));
    }

    #[test]
    fn merge_and_concat_keep_partial_knowledge() {
        let l = call("concat", vec![Val::List(vec![s("a")]), Val::List(vec![Val::unknown("x")])]).expect("ok");
        assert_eq!(l, Val::List(vec![s("a"), Val::unknown("x")]));
    }

    #[test]
    fn unknown_functions_are_unknown_not_errors() {
        let v = call("templatefile", vec![s("x")]).expect("ok");
        assert!(matches!(v, Val::Unknown(r) if r.contains("templatefile")));
    }

    #[test]
    fn toset_sorts_strings_and_drops_duplicates() {
        assert_eq!(
            call("toset", vec![Val::List(vec![s("b"), s("a"), s("b")])]),
            Ok(Val::List(vec![s("a"), s("b")]))
        );
    }
}
