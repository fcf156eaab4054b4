//! Encoding functions: JSON.

use super::{one, string_arg, Builtin};
use crate::ingest::terraform::eval::{EvalError, EvalResult};
use crate::ingest::value::Val;
use crate::limits::{self, Budget};

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("jsondecode", 1, 1, jsondecode),
    Builtin::new("jsonencode", 1, 1, jsonencode).partial(),
];

fn jsonencode(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    Ok(match one(args)? {
        v if v.has_unknown() => Val::Unknown(v.first_unknown().unwrap_or_else(|| "unknown".into())),
        v => limits::json_bounded(&to_json(&v)).map_or_else(|| limits::string_too_long("jsonencode()"), Val::String),
    })
}

fn jsondecode(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let s = string_arg(args.into_iter().next(), "jsondecode")?;
    serde_json::from_str::<serde_json::Value>(&s)
        .map(|j| crate::ingest::value::from_json(&j))
        .map_err(|e| EvalError(format!("jsondecode(): {e}")))
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
    use super::super::test_support::{arity_error, call, check, list, n, obj, s, unknown};
    use super::*;

    #[test]
    fn each_encoding_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("jsondecode", vec![s(r#"{"a":[1]}"#)], Ok(obj(&[("a", list(vec![n(1.0)]))]))),
                ("jsonencode", vec![obj(&[("a", list(vec![s("x")]))])], Ok(s(r#"{"a":["x"]}"#))),
            ],
        );
    }

    #[test]
    fn jsonencode_of_a_value_with_an_unknown_part_names_that_part() {
        assert_eq!(call("jsonencode", vec![list(vec![s("a"), unknown()])]), Ok(unknown()));
        assert_eq!(call("jsondecode", vec![unknown()]), Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        assert_eq!(call("jsonencode", vec![]), arity_error("jsonencode() takes 1 argument, not 0"));
        assert_eq!(
            call("jsondecode", vec![s("1"), s("2")]),
            arity_error("jsondecode() takes 1 argument, not 2")
        );
    }
}
