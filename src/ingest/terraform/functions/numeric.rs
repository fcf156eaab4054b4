//! Numeric functions.

use super::{err, one, Builtin, ANY};
use crate::ingest::terraform::eval::{to_number, EvalResult};
use crate::ingest::value::Val;
use crate::limits::Budget;

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("abs", 1, 1, abs),
    Builtin::new("ceil", 1, 1, ceil),
    Builtin::new("floor", 1, 1, floor),
    Builtin::new("max", 0, ANY, min_or_max),
    Builtin::new("min", 0, ANY, min_or_max),
];

fn abs(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    Ok(Val::Number(to_number(&one(args)?)?.abs()))
}

fn floor(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    Ok(Val::Number(to_number(&one(args)?)?.floor()))
}

fn ceil(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    Ok(Val::Number(to_number(&one(args)?)?.ceil()))
}

fn min_or_max(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{arity_error, call, check, n, s, unknown};
    use super::*;
    use crate::ingest::terraform::eval::EvalError;

    #[test]
    fn each_numeric_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("abs", vec![n(-2.5)], Ok(n(2.5))),
                ("ceil", vec![n(1.2)], Ok(n(2.0))),
                ("floor", vec![s("1.8")], Ok(n(1.0))),
                ("max", vec![n(1.0), n(5.0), n(3.0)], Ok(n(5.0))),
                ("min", vec![n(4.0), s("2")], Ok(n(2.0))),
                ("min", vec![], Err(EvalError("min() needs at least one number".into()))),
            ],
        );
    }

    #[test]
    fn an_unknown_number_is_unknown() {
        assert_eq!(call("max", vec![n(1.0), unknown()]), Ok(unknown()));
        assert_eq!(call("abs", vec![unknown()]), Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        assert_eq!(call("abs", vec![]), arity_error("abs() takes 1 argument, not 0"));
        assert_eq!(call("floor", vec![n(1.0), n(2.0)]), arity_error("floor() takes 1 argument, not 2"));
    }
}
