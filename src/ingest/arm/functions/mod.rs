//! The template functions that network templates commonly use, shared with
//! Bicep. A function kmsguard does not implement evaluates to unknown,
//! naming it.
//!
//! Each family module declares its functions once, in a table sorted by
//! lower-cased name: arity, whether the function sees partly unknown
//! arguments, and the implementation. [`call_function`] looks the name up
//! there. The functions that read their arguments lazily or by name
//! (`parameters`, `if`, `map`, `copyIndex`…) belong to the evaluator.

use crate::ingest::value::Val;
use crate::limits::{self, Budget, Limits};

mod collections;
mod conversion;
mod deployment;
mod logical;
mod network;
mod numeric;
mod strings;

/// An implementation: the name as the template wrote it (for messages),
/// the evaluated arguments, whose count is within the declared arity, and
/// the limits.
type Eval = fn(&str, Vec<Val>, &Limits) -> Val;

/// No upper bound on the argument count.
const ANY: usize = usize::MAX;

/// One template function.
struct Builtin {
    /// Lower-cased: template function names are case-insensitive.
    name: &'static str,
    /// Argument counts the function's signature accepts.
    min: usize,
    max: usize,
    /// Evaluated with unknowns nested in its arguments (an array with one
    /// unknown element…), which it handles itself; any other function is
    /// unknown as soon as any part of an argument is.
    partial: bool,
    eval: Eval,
}

impl Builtin {
    const fn new(name: &'static str, min: usize, max: usize, eval: Eval) -> Self {
        Builtin {
            name,
            min,
            max,
            partial: false,
            eval,
        }
    }

    const fn partial(self) -> Self {
        Builtin { partial: true, ..self }
    }
}

/// Every family's table; each is sorted by name, and no name is in two.
const FAMILIES: &[&[Builtin]] = &[
    collections::FUNCTIONS,
    conversion::FUNCTIONS,
    deployment::FUNCTIONS,
    logical::FUNCTIONS,
    network::FUNCTIONS,
    numeric::FUNCTIONS,
    strings::FUNCTIONS,
];

fn lookup(lname: &str) -> Option<&'static Builtin> {
    FAMILIES
        .iter()
        .find_map(|family| family.binary_search_by(|b| b.name.cmp(lname)).ok().and_then(|i| family.get(i)))
}

/// Calls the function `name` (`lname` lower-cased) with evaluated arguments.
///
/// No function builds a string longer than [`limits::MAX_STRING`] or a
/// collection past the collection limit: the ones whose result can outgrow
/// their arguments (`replace`, `join`, `concat`, `format`, `padLeft`,
/// `string`, `split`…) measure it before building it, and every result is
/// checked again here, so that a function added later cannot forget.
pub(crate) fn call_function(lname: &str, name: &str, args: Vec<Val>, budget: &Budget) -> Val {
    let limits = &budget.limits;
    match call_unbounded(lname, name, args, limits) {
        Val::String(s) if s.len() > limits::MAX_STRING => limits::string_too_long(&format!("{name}()")),
        Val::List(l) if limits.exceeds_collection(l.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{name}()"), Some(l.len() as f64)))
        }
        Val::Object(o) if limits.exceeds_collection(o.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{name}()"), Some(o.len() as f64)))
        }
        v => v,
    }
}

fn call_unbounded(lname: &str, name: &str, args: Vec<Val>, limits: &Limits) -> Val {
    let builtin = lookup(lname);
    if !builtin.is_some_and(|b| b.partial) {
        if let Some(r) = args.iter().find_map(Val::first_unknown) {
            return Val::Unknown(r);
        }
    } else if let Some(r) = args
        .iter()
        .find_map(|a| if let Val::Unknown(r) = a { Some(r.clone()) } else { None })
    {
        return Val::Unknown(r);
    }
    let Some(builtin) = builtin else {
        return Val::unknown(format!("the template function {name}() is not evaluated by kmsguard"));
    };
    if args.len() < builtin.min || args.len() > builtin.max {
        return Val::unknown(format!("{name}() takes {}, not {}", arity(builtin), args.len()));
    }
    (builtin.eval)(name, args, limits)
}

/// The argument counts a function accepts, as a message says them.
fn arity(b: &Builtin) -> String {
    let n = |k: usize| {
        if k == 1 {
            "1 argument".to_string()
        } else {
            format!("{k} arguments")
        }
    };
    match (b.min, b.max) {
        (min, ANY) => format!("at least {}", n(min)),
        (min, max) if min == max => n(min),
        (min, max) => format!("{min} to {}", n(max)),
    }
}

/// Argument `i` as a string, if it is one or prints as one.
fn str_arg(args: &[Val], i: usize) -> Option<String> {
    args.get(i).and_then(Val::to_tf_string)
}

/// Argument `i` as a number, if it is one or a string that reads as one.
fn num_arg(args: &[Val], i: usize) -> Option<f64> {
    match args.get(i) {
        Some(Val::Number(n)) => Some(*n),
        Some(Val::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Equality as `equals()`, `contains()` and `indexOf()` see it: a number
/// equals the string that prints it.
fn loose_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::String(x), Val::String(y)) => x == y,
        (Val::Number(_), Val::String(_)) | (Val::String(_), Val::Number(_)) => a.to_tf_string() == b.to_tf_string(),
        _ => a == b,
    }
}

/// Helpers for the family tests: every family lists one or more calls of
/// each of its functions, so an entry with the wrong implementation, arity
/// or partial flag fails its family's test.
#[cfg(test)]
mod test_support {
    use std::collections::BTreeSet;

    use super::Builtin;
    use crate::ingest::value::Val;
    use crate::limits::{Budget, Limits};

    /// Calls a function by the name a template writes.
    pub fn call(name: &str, args: Vec<Val>) -> Val {
        super::call_function(&name.to_ascii_lowercase(), name, args, &Budget::new(Limits::default(), "template"))
    }

    pub fn s(x: &str) -> Val {
        Val::String(x.into())
    }

    pub fn n(x: f64) -> Val {
        Val::Number(x)
    }

    pub fn b(x: bool) -> Val {
        Val::Bool(x)
    }

    pub fn list(items: Vec<Val>) -> Val {
        Val::List(items)
    }

    pub fn obj(members: &[(&str, Val)]) -> Val {
        Val::Object(members.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    pub fn unknown() -> Val {
        Val::unknown("reference() is read from Azure during the deployment")
    }

    /// Runs `cases` (name as a template writes it, arguments, expected
    /// result) and checks that they call every function of `family`.
    pub fn check(family: &[Builtin], cases: Vec<(&str, Vec<Val>, Val)>) {
        let unregistered: Vec<_> = family.iter().map(|b| b.name).filter(|n| super::lookup(n).is_none()).collect();
        assert!(
            unregistered.is_empty(),
            "{unregistered:?} cannot be found: is the family in FAMILIES?"
        );
        let mut called = BTreeSet::new();
        for (name, args, expected) in cases {
            let shown = format!("{name}({args:?})");
            assert_eq!(call(name, args), expected, "{shown}");
            called.insert(name.to_ascii_lowercase());
        }
        let missing: Vec<_> = family.iter().map(|b| b.name).filter(|n| !called.contains(*n)).collect();
        assert!(missing.is_empty(), "no test calls {missing:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{call, list, s, unknown};
    use super::*;

    /// The lookup binary-searches each family: each must be sorted by the
    /// lower-cased name, and a name in two families would make one of them
    /// unreachable.
    #[test]
    fn the_tables_are_sorted_and_each_name_is_declared_once() {
        let mut seen = std::collections::BTreeSet::new();
        for family in FAMILIES {
            assert!(family.windows(2).all(|w| w[0].name < w[1].name), "a family is not sorted");
            for b in family.iter() {
                assert_eq!(b.name, b.name.to_ascii_lowercase());
                assert!(seen.insert(b.name), "{} is declared twice", b.name);
                assert!(lookup(b.name).is_some_and(|found| found.name == b.name), "{} is not found", b.name);
                assert!(b.min <= b.max, "{}", b.name);
            }
        }
        assert!(lookup("uniquestring").is_none());
    }

    #[test]
    fn an_unimplemented_function_is_unknown_naming_it_unless_an_argument_is() {
        assert_eq!(
            call("uniqueString", vec![s("x")]),
            Val::unknown("the template function uniqueString() is not evaluated by kmsguard")
        );
        assert_eq!(call("uniqueString", vec![list(vec![unknown()])]), unknown());
    }
}
