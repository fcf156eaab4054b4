//! Logical and comparison functions.

use super::{loose_eq, num_arg, Builtin, ANY};
use crate::ingest::value::Val;
use crate::limits::Limits;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("and", 2, ANY, and),
    Builtin::new("coalesce", 1, ANY, coalesce).partial(),
    Builtin::new("equals", 2, 2, equals),
    Builtin::new("false", 0, 0, |_, _, _| Val::Bool(false)),
    Builtin::new("greater", 2, 2, |name, args, _| compare(name, &args, |a, b| a > b)),
    Builtin::new("greaterorequals", 2, 2, |name, args, _| compare(name, &args, |a, b| a >= b)),
    Builtin::new("less", 2, 2, |name, args, _| compare(name, &args, |a, b| a < b)),
    Builtin::new("lessorequals", 2, 2, |name, args, _| compare(name, &args, |a, b| a <= b)),
    Builtin::new("not", 1, 1, not),
    Builtin::new("null", 0, 0, |_, _, _| Val::Null),
    Builtin::new("or", 2, ANY, or),
    Builtin::new("true", 0, 0, |_, _, _| Val::Bool(true)),
];

fn equals(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (args.first(), args.get(1)) {
        (Some(a), Some(b)) => Val::Bool(loose_eq(a, b)),
        _ => Val::unknown("equals() needs two arguments"),
    }
}

fn and(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    Val::Bool(args.iter().all(|a| *a == Val::Bool(true)))
}

fn or(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    Val::Bool(args.contains(&Val::Bool(true)))
}

fn not(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match args.first() {
        Some(Val::Bool(b)) => Val::Bool(!b),
        _ => Val::unknown("not() needs a bool"),
    }
}

/// The first argument that is not null.
fn coalesce(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    args.into_iter().find(|a| *a != Val::Null).unwrap_or(Val::Null)
}

/// `less`, `greater` and friends, on numbers.
fn compare(name: &str, args: &[Val], holds: fn(f64, f64) -> bool) -> Val {
    match (num_arg(args, 0), num_arg(args, 1)) {
        (Some(a), Some(b)) => Val::Bool(holds(a, b)),
        _ => Val::unknown(format!("{name}() needs two numbers")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{b, call, check, list, n, s, unknown};
    use super::*;

    #[test]
    fn each_logical_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("and", vec![b(true), b(true), b(false)], b(false)),
                ("coalesce", vec![Val::Null, s("a")], s("a")),
                ("equals", vec![n(1.0), s("1")], b(true)),
                ("false", vec![], b(false)),
                ("greater", vec![n(2.0), n(1.0)], b(true)),
                ("greaterOrEquals", vec![n(1.0), n(1.0)], b(true)),
                ("less", vec![n(2.0), n(1.0)], b(false)),
                ("lessOrEquals", vec![n(2.0), n(1.0)], b(false)),
                ("not", vec![b(false)], b(true)),
                ("null", vec![], Val::Null),
                ("or", vec![b(false), b(true)], b(true)),
                ("true", vec![], b(true)),
            ],
        );
    }

    #[test]
    fn coalesce_keeps_what_is_known_and_the_rest_do_not() {
        assert_eq!(call("coalesce", vec![list(vec![unknown()])]), list(vec![unknown()]));
        assert_eq!(call("coalesce", vec![unknown(), s("a")]), unknown());
        assert_eq!(call("equals", vec![list(vec![unknown()]), list(vec![])]), unknown());
        assert_eq!(call("or", vec![b(true), unknown()]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(call("and", vec![b(true)]), Val::unknown("and() takes at least 2 arguments, not 1"));
        assert_eq!(call("equals", vec![n(1.0)]), Val::unknown("equals() takes 2 arguments, not 1"));
        assert_eq!(call("true", vec![n(1.0)]), Val::unknown("true() takes 0 arguments, not 1"));
    }
}
