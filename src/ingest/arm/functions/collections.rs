//! Array and object functions.

use std::collections::BTreeMap;

use super::{loose_eq, num_arg, Builtin, ANY};
use crate::ingest::value::{self, Val};
use crate::limits::{self, Limits};

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("array", 1, 1, array).partial(),
    Builtin::new("concat", 1, ANY, concat).partial(),
    Builtin::new("contains", 2, 2, contains),
    Builtin::new("createarray", 0, ANY, createarray).partial(),
    Builtin::new("createobject", 0, ANY, createobject).partial(),
    Builtin::new("empty", 1, 1, empty).partial(),
    Builtin::new("first", 1, 1, first).partial(),
    Builtin::new("items", 1, 1, items),
    Builtin::new("last", 1, 1, last).partial(),
    Builtin::new("length", 1, 1, length).partial(),
    Builtin::new("objectkeys", 1, 1, objectkeys),
    Builtin::new("range", 2, 2, range),
    Builtin::new("skip", 2, 2, skip),
    Builtin::new("take", 2, 2, take),
    Builtin::new("tryget", 2, ANY, tryget),
    Builtin::new("union", 1, ANY, union).partial(),
];

/// Arrays when every argument is one, otherwise strings.
fn concat(_: &str, args: Vec<Val>, limits: &Limits) -> Val {
    if args.iter().all(|a| matches!(a, Val::List(_))) && !args.is_empty() {
        let n: usize = args.iter().map(|a| if let Val::List(l) = a { l.len() } else { 0 }).sum();
        if limits.exceeds_collection(n as f64) {
            return Val::unknown(limits.too_many("concat()", Some(n as f64)));
        }
        return Val::List(
            args.into_iter()
                .flat_map(|a| if let Val::List(l) = a { l } else { Vec::new() })
                .collect(),
        );
    }
    let mut s = limits::BoundedString::new();
    for a in &args {
        match a.to_tf_string() {
            Some(t) => {
                if s.push_str(&t).is_err() {
                    return limits::string_too_long("concat()");
                }
            }
            None => return Val::unknown(format!("concat() cannot join a {}", a.type_name())),
        }
    }
    Val::String(s.into_string())
}

fn createarray(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    Val::List(args)
}

fn array(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.into_iter().next() {
        Some(Val::List(l)) => Val::List(l),
        Some(v) => Val::List(vec![v]),
        None => Val::List(Vec::new()),
    }
}

fn createobject(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    let mut o = BTreeMap::new();
    let mut it = args.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        match k.to_tf_string() {
            Some(k) => {
                o.insert(k, v);
            }
            None => return Val::unknown("createObject() keys are strings"),
        }
    }
    Val::Object(o)
}

/// Objects merged when every argument is one, otherwise arrays joined
/// without duplicates.
fn union(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    if args.iter().all(|a| matches!(a, Val::Object(_))) {
        let mut o = BTreeMap::new();
        for a in args {
            if let Val::Object(m) = a {
                o.extend(m);
            }
        }
        return Val::Object(o);
    }
    Val::List(value::distinct(args.into_iter().flat_map(|a| {
        if let Val::List(l) = a {
            l
        } else {
            Vec::new()
        }
    })))
}

fn empty(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    Val::Bool(match args.first() {
        Some(Val::Null) | None => true,
        Some(Val::String(s)) => s.is_empty(),
        Some(Val::List(l)) => l.is_empty(),
        Some(Val::Object(o)) => o.is_empty(),
        Some(_) => false,
    })
}

fn length(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::String(s)) => Val::Number(s.chars().count() as f64),
        Some(Val::List(l)) => Val::Number(l.len() as f64),
        Some(Val::Object(o)) => Val::Number(o.len() as f64),
        _ => Val::unknown("length() needs a string, array or object"),
    }
}

/// Case-insensitive for strings and object keys.
fn contains(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (args.first(), args.get(1)) {
        (Some(Val::String(s)), Some(v)) => Val::Bool(v.to_tf_string().is_some_and(|v| s.to_lowercase().contains(&v.to_lowercase()))),
        (Some(Val::List(l)), Some(v)) => Val::Bool(l.iter().any(|x| loose_eq(x, v))),
        (Some(Val::Object(o)), Some(v)) => Val::Bool(v.to_tf_string().is_some_and(|k| o.keys().any(|kk| kk.eq_ignore_ascii_case(&k)))),
        _ => Val::unknown("contains() needs a collection and a value"),
    }
}

fn first(name: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::List(l)) => l.first().cloned().unwrap_or(Val::Null),
        Some(Val::String(s)) => Val::String(s.chars().next().map(String::from).unwrap_or_default()),
        _ => Val::unknown(format!("{name}() needs an array or string")),
    }
}

fn last(name: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::List(l)) => l.last().cloned().unwrap_or(Val::Null),
        Some(Val::String(s)) => Val::String(s.chars().last().map(String::from).unwrap_or_default()),
        _ => Val::unknown(format!("{name}() needs an array or string")),
    }
}

fn skip(name: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (args.first(), num_arg(&args, 1)) {
        (Some(Val::List(l)), Some(n)) => {
            let n = (n.max(0.0) as usize).min(l.len());
            Val::List(l.get(n..).unwrap_or_default().to_vec())
        }
        (Some(Val::String(s)), Some(n)) => Val::String(s.chars().skip(n.max(0.0) as usize).collect()),
        _ => Val::unknown(format!("{name}() needs an array or string and a number")),
    }
}

fn take(name: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (args.first(), num_arg(&args, 1)) {
        (Some(Val::List(l)), Some(n)) => {
            let n = (n.max(0.0) as usize).min(l.len());
            Val::List(l.get(..n).unwrap_or_default().to_vec())
        }
        (Some(Val::String(s)), Some(n)) => Val::String(s.chars().take(n.max(0.0) as usize).collect()),
        _ => Val::unknown(format!("{name}() needs an array or string and a number")),
    }
}

fn range(_: &str, args: Vec<Val>, limits: &Limits) -> Val {
    match (num_arg(&args, 0), num_arg(&args, 1)) {
        (Some(_), Some(count)) if limits.exceeds_collection(count) => Val::unknown(limits.too_many("range()", Some(count))),
        (Some(start), Some(count)) if count >= 0.0 => Val::List((0..count as usize).map(|i| Val::Number(start + i as f64)).collect()),
        _ => Val::unknown("range() needs a start and a non-negative count"),
    }
}

/// What Bicep's `.?` compiles to: a missing property or index is null.
fn tryget(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    let mut v = args.first().cloned().unwrap_or(Val::Null);
    for k in args.iter().skip(1) {
        v = match (v, k) {
            (Val::Object(o), k) => k
                .to_tf_string()
                .and_then(|k| o.iter().find(|(kk, _)| kk.eq_ignore_ascii_case(&k)).map(|(_, x)| x.clone()))
                .unwrap_or(Val::Null),
            (Val::List(l), Val::Number(n)) => l.get(*n as usize).cloned().unwrap_or(Val::Null),
            (Val::Unknown(r), _) => Val::Unknown(r),
            _ => Val::Null,
        };
    }
    v
}

fn items(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::Object(o)) => Val::List(
            o.iter()
                .map(|(k, v)| {
                    Val::Object(
                        [("key".to_string(), Val::String(k.clone())), ("value".to_string(), v.clone())]
                            .into_iter()
                            .collect(),
                    )
                })
                .collect(),
        ),
        _ => Val::unknown("items() needs an object"),
    }
}

fn objectkeys(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::Object(o)) => Val::List(o.keys().map(|k| Val::String(k.clone())).collect()),
        _ => Val::unknown("objectKeys() needs an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{b, call, check, list, n, obj, s, unknown};
    use super::*;

    #[test]
    fn each_collection_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("array", vec![s("a")], list(vec![s("a")])),
                ("concat", vec![list(vec![s("a")]), list(vec![s("b")])], list(vec![s("a"), s("b")])),
                ("concat", vec![s("rt-"), n(1.0)], s("rt-1")),
                ("contains", vec![s("HubNet"), s("hub")], b(true)),
                ("contains", vec![obj(&[("Key", n(1.0))]), s("key")], b(true)),
                ("createArray", vec![n(1.0), n(2.0)], list(vec![n(1.0), n(2.0)])),
                ("createObject", vec![s("a"), n(1.0)], obj(&[("a", n(1.0))])),
                ("empty", vec![list(vec![])], b(true)),
                ("first", vec![list(vec![s("a"), s("b")])], s("a")),
                (
                    "items",
                    vec![obj(&[("a", n(1.0))])],
                    list(vec![obj(&[("key", s("a")), ("value", n(1.0))])]),
                ),
                ("last", vec![s("abc")], s("c")),
                ("length", vec![obj(&[("a", n(1.0))])], n(1.0)),
                ("objectKeys", vec![obj(&[("b", n(1.0)), ("a", n(1.0))])], list(vec![s("a"), s("b")])),
                ("range", vec![n(5.0), n(2.0)], list(vec![n(5.0), n(6.0)])),
                ("skip", vec![list(vec![s("a"), s("b")]), n(1.0)], list(vec![s("b")])),
                ("take", vec![s("abc"), n(2.0)], s("ab")),
                ("tryGet", vec![obj(&[("a", n(1.0))]), s("b")], Val::Null),
                (
                    "union",
                    vec![list(vec![s("a")]), list(vec![s("a"), s("b")])],
                    list(vec![s("a"), s("b")]),
                ),
            ],
        );
    }

    /// The partial functions see an array with an unknown element and keep
    /// what is known; the others are unknown.
    #[test]
    fn partial_functions_keep_what_is_known() {
        let with_unknown = || list(vec![s("a"), unknown()]);
        assert_eq!(call("length", vec![with_unknown()]), n(2.0));
        assert_eq!(call("first", vec![with_unknown()]), s("a"));
        assert_eq!(call("empty", vec![with_unknown()]), b(false));
        assert_eq!(
            call("createArray", vec![s("a"), with_unknown()]),
            list(vec![s("a"), with_unknown()])
        );
        for f in ["contains", "skip", "tryGet"] {
            assert_eq!(call(f, vec![with_unknown(), n(0.0)]), unknown(), "{f}");
        }
        assert_eq!(call("length", vec![unknown()]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(call("length", vec![]), Val::unknown("length() takes 1 argument, not 0"));
        assert_eq!(call("concat", vec![]), Val::unknown("concat() takes at least 1 argument, not 0"));
        assert_eq!(call("range", vec![n(1.0)]), Val::unknown("range() takes 2 arguments, not 1"));
        assert_eq!(call("First", vec![s("a"), s("b")]), Val::unknown("First() takes 1 argument, not 2"));
    }
}
