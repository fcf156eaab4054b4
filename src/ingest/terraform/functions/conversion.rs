//! Type conversion functions, and the sensitivity markers kmsguard ignores.

use super::{err, one, to_set, Builtin};
use crate::ingest::terraform::eval::{to_number, EvalError, EvalResult};
use crate::ingest::value::Val;
use crate::limits::Budget;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("nonsensitive", 1, 1, same),
    Builtin::new("sensitive", 1, 1, same),
    Builtin::new("tobool", 1, 1, tobool),
    Builtin::new("tolist", 1, 1, tolist).partial(),
    Builtin::new("tomap", 1, 1, tomap).partial(),
    Builtin::new("tonumber", 1, 1, tonumber),
    Builtin::new("toset", 1, 1, toset).partial(),
    Builtin::new("tostring", 1, 1, tostring),
];

/// `sensitive` and `nonsensitive`: kmsguard reads values, not their marks.
fn same(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    one(args)
}

fn tolist(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => Ok(Val::List(l)),
        other => err(format!("tolist() takes a list or set, not {}", other.type_name())),
    }
}

fn toset(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::List(l) => Ok(Val::List(to_set(l))),
        other => err(format!("toset() takes a list, not {}", other.type_name())),
    }
}

fn tomap(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Object(o) => Ok(Val::Object(o)),
        other => err(format!("tomap() takes an object, not {}", other.type_name())),
    }
}

fn tostring(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Null => Ok(Val::Null),
        v => v
            .to_tf_string()
            .map(Val::String)
            .ok_or_else(|| EvalError(format!("cannot convert a {} to a string", v.type_name()))),
    }
}

fn tonumber(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Null => Ok(Val::Null),
        v => to_number(&v).map(Val::Number),
    }
}

fn tobool(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    match one(args)? {
        Val::Bool(b) => Ok(Val::Bool(b)),
        Val::String(s) if s == "true" => Ok(Val::Bool(true)),
        Val::String(s) if s == "false" => Ok(Val::Bool(false)),
        Val::Null => Ok(Val::Null),
        other => err(format!("cannot convert {other} to a bool")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{arity_error, call, check, list, n, obj, s, unknown};
    use super::*;

    #[test]
    fn each_conversion_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("nonsensitive", vec![s("a")], Ok(s("a"))),
                ("sensitive", vec![n(1.0)], Ok(n(1.0))),
                ("tobool", vec![s("false")], Ok(Val::Bool(false))),
                ("tobool", vec![n(1.0)], Err(EvalError("cannot convert 1 to a bool".into()))),
                ("tolist", vec![list(vec![s("a")])], Ok(list(vec![s("a")]))),
                ("tomap", vec![obj(&[("a", n(1.0))])], Ok(obj(&[("a", n(1.0))]))),
                ("tonumber", vec![s("42")], Ok(n(42.0))),
                ("toset", vec![list(vec![s("b"), s("a"), s("b")])], Ok(list(vec![s("a"), s("b")]))),
                ("tostring", vec![n(7.0)], Ok(s("7"))),
                ("tostring", vec![Val::Null], Ok(Val::Null)),
            ],
        );
    }

    #[test]
    fn collections_convert_with_unknown_elements_and_scalars_do_not() {
        let l = || list(vec![s("a"), unknown()]);
        assert_eq!(call("tolist", vec![l()]), Ok(l()));
        assert_eq!(call("toset", vec![l()]), Ok(l()));
        assert_eq!(call("tomap", vec![obj(&[("a", unknown())])]), Ok(obj(&[("a", unknown())])));
        assert_eq!(call("sensitive", vec![l()]), Ok(unknown()));
        assert_eq!(call("tostring", vec![unknown()]), Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        assert_eq!(call("tostring", vec![]), arity_error("tostring() takes 1 argument, not 0"));
        assert_eq!(
            call("toset", vec![list(vec![]), list(vec![])]),
            arity_error("toset() takes 1 argument, not 2")
        );
    }
}
