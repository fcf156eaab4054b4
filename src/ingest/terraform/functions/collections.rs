//! Collection functions: lists, sets and maps.

use std::collections::BTreeMap;

use super::{err, one, to_set, Builtin, ANY};
use crate::ingest::terraform::eval::{to_number, EvalError, EvalResult};
use crate::ingest::value::{self, Val};
use crate::limits::Budget;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("alltrue", 1, 1, all_or_any_true),
    Builtin::new("anytrue", 1, 1, all_or_any_true),
    Builtin::new("coalesce", 0, ANY, coalesce).partial(),
    Builtin::new("coalescelist", 0, ANY, coalescelist).partial(),
    Builtin::new("compact", 1, 1, compact).partial(),
    Builtin::new("concat", 0, ANY, concat).partial(),
    Builtin::new("contains", 2, 2, contains).partial(),
    Builtin::new("distinct", 1, 1, distinct).partial(),
    Builtin::new("element", 2, 2, element).partial(),
    Builtin::new("flatten", 1, 1, flatten).partial(),
    Builtin::new("index", 2, 2, index),
    Builtin::new("keys", 1, 1, keys).partial(),
    Builtin::new("length", 1, 1, length).partial(),
    Builtin::new("lookup", 2, 3, lookup).partial(),
    Builtin::new("merge", 0, ANY, merge).partial(),
    Builtin::new("one", 1, 1, one_of).partial(),
    Builtin::new("range", 0, ANY, range),
    Builtin::new("reverse", 1, 1, reverse).partial(),
    Builtin::new("setunion", 1, ANY, setunion).partial(),
    Builtin::new("slice", 3, 3, slice).partial(),
    Builtin::new("sort", 1, 1, sort),
    Builtin::new("values", 1, 1, values).partial(),
    Builtin::new("zipmap", 2, 2, zipmap).partial(),
];

fn concat(_: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
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

fn merge(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn lookup(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn coalesce(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn coalescelist(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    for a in args {
        match a {
            Val::List(ref l) if l.is_empty() => continue,
            Val::List(_) => return Ok(a),
            other => return err(format!("coalescelist() takes lists, not {}", other.type_name())),
        }
    }
    Ok(Val::List(Vec::new()))
}

fn length(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => Ok(Val::Number(l.len() as f64)),
        Val::Object(o) => Ok(Val::Number(o.len() as f64)),
        Val::String(s) => Ok(Val::Number(s.chars().count() as f64)),
        other => err(format!("length() takes a collection or string, not {}", other.type_name())),
    }
}

fn flatten(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn keys(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Object(o) => Ok(Val::List(o.into_keys().map(Val::String).collect())),
        other => err(format!("keys() takes a map, not {}", other.type_name())),
    }
}

fn values(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Object(o) => Ok(Val::List(o.into_values().collect())),
        other => err(format!("values() takes a map, not {}", other.type_name())),
    }
}

fn contains(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn element(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn index(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn distinct(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => Ok(Val::List(value::distinct(l))),
        other => err(format!("distinct() takes a list, not {}", other.type_name())),
    }
}

fn compact(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => Ok(Val::List(
            l.into_iter()
                .filter(|v| !matches!(v, Val::Null) && *v != Val::String(String::new()))
                .collect(),
        )),
        other => err(format!("compact() takes a list, not {}", other.type_name())),
    }
}

fn reverse(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(mut l) => {
            l.reverse();
            Ok(Val::List(l))
        }
        other => err(format!("reverse() takes a list, not {}", other.type_name())),
    }
}

fn slice(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn sort(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => {
            let mut s: Vec<String> = l.iter().map(|v| v.to_tf_string().unwrap_or_default()).collect();
            s.sort();
            Ok(Val::List(s.into_iter().map(Val::String).collect()))
        }
        other => err(format!("sort() takes a list, not {}", other.type_name())),
    }
}

fn one_of(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) if l.is_empty() => Ok(Val::Null),
        Val::List(mut l) if l.len() == 1 => Ok(l.remove(0)),
        _ => err("one() takes a list of zero or one element"),
    }
}

fn setunion(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut out = Vec::new();
    for a in args {
        let Val::List(l) = a else { return err("setunion() takes sets") };
        out.extend(l);
    }
    Ok(Val::List(to_set(out)))
}

fn zipmap(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

fn range(_: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
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

/// `alltrue` and `anytrue`, which also accept the strings "true" and "false".
fn all_or_any_true(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
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
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{arity_error, check, list, n, obj, s, unknown};
    use super::*;

    #[test]
    fn each_collection_function_evaluates() {
        let t = Val::Bool(true);
        check(
            FUNCTIONS,
            vec![
                ("alltrue", vec![list(vec![t.clone(), s("true")])], Ok(t.clone())),
                ("anytrue", vec![list(vec![Val::Bool(false), s("false")])], Ok(Val::Bool(false))),
                ("coalesce", vec![Val::Null, s(""), s("a")], Ok(s("a"))),
                (
                    "coalesce",
                    vec![],
                    Err(EvalError("coalesce() found no non-null, non-empty argument".into())),
                ),
                ("coalescelist", vec![list(vec![]), list(vec![s("a")])], Ok(list(vec![s("a")]))),
                ("compact", vec![list(vec![s("a"), s(""), Val::Null])], Ok(list(vec![s("a")]))),
                (
                    "concat",
                    vec![list(vec![s("a")]), list(vec![s("b")])],
                    Ok(list(vec![s("a"), s("b")])),
                ),
                ("contains", vec![list(vec![s("a")]), s("a")], Ok(t.clone())),
                ("distinct", vec![list(vec![s("a"), s("a")])], Ok(list(vec![s("a")]))),
                ("element", vec![list(vec![s("a"), s("b")]), n(3.0)], Ok(s("b"))),
                (
                    "flatten",
                    vec![list(vec![list(vec![s("a")]), list(vec![list(vec![s("b")])])])],
                    Ok(list(vec![s("a"), s("b")])),
                ),
                ("index", vec![list(vec![s("a"), s("b")]), s("b")], Ok(n(1.0))),
                ("keys", vec![obj(&[("b", n(1.0)), ("a", n(2.0))])], Ok(list(vec![s("a"), s("b")]))),
                ("length", vec![s("abc")], Ok(n(3.0))),
                ("lookup", vec![obj(&[("a", n(1.0))]), s("b"), n(2.0)], Ok(n(2.0))),
                (
                    "merge",
                    vec![obj(&[("a", n(1.0))]), obj(&[("b", n(2.0))])],
                    Ok(obj(&[("a", n(1.0)), ("b", n(2.0))])),
                ),
                ("one", vec![list(vec![s("a")])], Ok(s("a"))),
                ("range", vec![n(3.0)], Ok(list(vec![n(0.0), n(1.0), n(2.0)]))),
                (
                    "range",
                    vec![n(1.0), n(2.0), n(3.0), n(4.0)],
                    Err(EvalError("range() takes one to three numbers".into())),
                ),
                ("reverse", vec![list(vec![n(1.0), n(2.0)])], Ok(list(vec![n(2.0), n(1.0)]))),
                (
                    "setunion",
                    vec![list(vec![s("b")]), list(vec![s("a"), s("b")])],
                    Ok(list(vec![s("a"), s("b")])),
                ),
                (
                    "slice",
                    vec![list(vec![s("a"), s("b"), s("c")]), n(1.0), n(3.0)],
                    Ok(list(vec![s("b"), s("c")])),
                ),
                ("sort", vec![list(vec![s("b"), s("a")])], Ok(list(vec![s("a"), s("b")]))),
                ("values", vec![obj(&[("a", n(1.0))])], Ok(list(vec![n(1.0)]))),
                ("zipmap", vec![list(vec![s("a")]), list(vec![n(1.0)])], Ok(obj(&[("a", n(1.0))]))),
            ],
        );
    }

    /// The partial functions see a list with an unknown element and keep
    /// what is known; the others are unknown.
    #[test]
    fn partial_functions_keep_what_is_known() {
        let with_unknown = || list(vec![s("a"), unknown()]);
        check_call("length", vec![with_unknown()], Ok(n(2.0)));
        check_call("contains", vec![with_unknown(), s("a")], Ok(Val::Bool(true)));
        check_call("compact", vec![list(vec![Val::Null, unknown()])], Ok(list(vec![unknown()])));
        check_call("lookup", vec![obj(&[("a", n(1.0)), ("b", unknown())]), s("a")], Ok(n(1.0)));
        check_call("keys", vec![obj(&[("a", unknown())])], Ok(list(vec![s("a")])));
        check_call("one", vec![list(vec![unknown()])], Ok(unknown()));
        for f in ["sort", "alltrue"] {
            check_call(f, vec![with_unknown()], Ok(unknown()));
        }
        check_call("index", vec![with_unknown(), s("a")], Ok(unknown()));
        check_call("range", vec![unknown()], Ok(unknown()));
        // An argument that is unknown as a whole is unknown for every function.
        check_call("length", vec![unknown()], Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        let m = || obj(&[("a", n(1.0))]);
        check_call("lookup", vec![m()], arity_error("lookup() takes 2 to 3 arguments, not 1"));
        check_call(
            "lookup",
            vec![m(), s("a"), n(1.0), n(2.0)],
            arity_error("lookup() takes 2 to 3 arguments, not 4"),
        );
        check_call(
            "element",
            vec![list(vec![s("a")])],
            arity_error("element() takes 2 arguments, not 1"),
        );
        check_call("setunion", vec![], arity_error("setunion() takes at least 1 argument, not 0"));
        check_call("length", vec![s("a"), s("b")], arity_error("length() takes 1 argument, not 2"));
        check_call("slice", vec![list(vec![]), n(0.0)], arity_error("slice() takes 3 arguments, not 2"));
    }

    fn check_call(name: &str, args: Vec<Val>, expected: EvalResult) {
        assert_eq!(super::super::test_support::call(name, args), expected, "{name}");
    }
}
