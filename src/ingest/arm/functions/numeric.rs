//! Numeric functions.

use super::{num_arg, Builtin, ANY};
use crate::ingest::value::Val;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("add", 2, 2, |name, args, _| arithmetic(name, &args, |a, b| Some(a + b))),
    Builtin::new("div", 2, 2, |name, args, _| {
        arithmetic(name, &args, |a, b| (b != 0.0).then(|| (a / b).trunc()))
    }),
    Builtin::new("max", 1, ANY, |name, args, _| min_or_max(name, &args, f64::max)),
    Builtin::new("min", 1, ANY, |name, args, _| min_or_max(name, &args, f64::min)),
    Builtin::new("mod", 2, 2, |name, args, _| {
        arithmetic(name, &args, |a, b| (b != 0.0).then(|| a % b))
    }),
    Builtin::new("mul", 2, 2, |name, args, _| arithmetic(name, &args, |a, b| Some(a * b))),
    Builtin::new("sub", 2, 2, |name, args, _| arithmetic(name, &args, |a, b| Some(a - b))),
];

/// `op` is `None` for a division by zero.
fn arithmetic(name: &str, args: &[Val], op: fn(f64, f64) -> Option<f64>) -> Val {
    match (num_arg(args, 0), num_arg(args, 1)) {
        (Some(a), Some(b)) => op(a, b).map(Val::Number).unwrap_or_else(|| Val::unknown("division by zero")),
        _ => Val::unknown(format!("{name}() needs two numbers")),
    }
}

/// Over numbers and arrays of numbers; anything else is skipped.
fn min_or_max(name: &str, args: &[Val], pick: fn(f64, f64) -> f64) -> Val {
    let nums: Vec<f64> = args
        .iter()
        .flat_map(|a| match a {
            Val::List(l) => l
                .iter()
                .filter_map(|v| if let Val::Number(n) = v { Some(*n) } else { None })
                .collect(),
            Val::Number(n) => vec![*n],
            _ => Vec::new(),
        })
        .collect();
    nums.into_iter()
        .reduce(pick)
        .map(Val::Number)
        .unwrap_or_else(|| Val::unknown(format!("{name}() needs numbers")))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, check, list, n, s, unknown};
    use super::*;

    #[test]
    fn each_numeric_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("add", vec![n(1.0), s("2")], n(3.0)),
                ("div", vec![n(7.0), n(2.0)], n(3.0)),
                ("div", vec![n(7.0), n(0.0)], Val::unknown("division by zero")),
                ("max", vec![list(vec![n(1.0), n(5.0)]), n(3.0)], n(5.0)),
                ("min", vec![list(vec![n(4.0), n(2.0)])], n(2.0)),
                ("mod", vec![n(7.0), n(4.0)], n(3.0)),
                ("mul", vec![n(3.0), n(4.0)], n(12.0)),
                ("sub", vec![n(3.0), n(4.0)], n(-1.0)),
            ],
        );
    }

    #[test]
    fn an_unknown_number_is_unknown() {
        assert_eq!(call("max", vec![list(vec![n(1.0), unknown()])]), unknown());
        assert_eq!(call("add", vec![n(1.0), unknown()]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(call("add", vec![n(1.0)]), Val::unknown("add() takes 2 arguments, not 1"));
        assert_eq!(call("max", vec![]), Val::unknown("max() takes at least 1 argument, not 0"));
    }
}
