//! Type conversion functions.

use super::{num_arg, str_arg, Builtin};
use crate::ingest::value::Val;
use crate::limits::{self, Limits};

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("bool", 1, 1, bool),
    Builtin::new("int", 1, 1, int),
    Builtin::new("json", 1, 1, json),
    Builtin::new("string", 1, 1, string),
];

fn string(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::String(s)) => Val::String(s.clone()),
        Some(v @ (Val::Number(_) | Val::Bool(_))) => Val::String(v.to_tf_string().unwrap_or_default()),
        Some(Val::Null) => Val::String(String::new()),
        Some(v) => limits::display_bounded(v).map_or_else(|| limits::string_too_long("string()"), Val::String),
        None => Val::unknown("string() needs an argument"),
    }
}

fn int(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    num_arg(&args, 0)
        .map(|n| Val::Number(n.trunc()))
        .unwrap_or_else(|| Val::unknown("int() needs a number"))
}

fn bool(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::Bool(b)) => Val::Bool(*b),
        Some(Val::String(s)) => Val::Bool(s.eq_ignore_ascii_case("true")),
        Some(Val::Number(n)) => Val::Bool(*n != 0.0),
        _ => Val::unknown("bool() needs a value"),
    }
}

fn json(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match str_arg(&args, 0) {
        Some(s) => serde_json::from_str::<serde_json::Value>(&s)
            .map(|j| crate::ingest::value::from_json(&j))
            .unwrap_or_else(|e| Val::unknown(format!("json() could not parse its argument: {e}"))),
        None => Val::unknown("json() needs a string"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{b, call, check, list, n, obj, s, unknown};
    use super::*;

    #[test]
    fn each_conversion_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("bool", vec![s("True")], b(true)),
                ("int", vec![s("42")], n(42.0)),
                ("json", vec![s(r#"{"a":[1]}"#)], obj(&[("a", list(vec![n(1.0)]))])),
                ("string", vec![n(7.0)], s("7")),
                ("string", vec![Val::Null], s("")),
            ],
        );
    }

    #[test]
    fn an_unknown_part_makes_a_conversion_unknown() {
        assert_eq!(call("string", vec![list(vec![unknown()])]), unknown());
        assert_eq!(call("int", vec![unknown()]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(call("string", vec![]), Val::unknown("string() takes 1 argument, not 0"));
        assert_eq!(call("int", vec![n(1.0), n(2.0)]), Val::unknown("int() takes 1 argument, not 2"));
    }
}
