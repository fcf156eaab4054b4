//! The Terraform built-in functions that network configurations commonly
//! use. A function kmsguard does not implement evaluates to unknown, naming
//! the function, so a verdict that depends on it becomes a KG901 note.
//!
//! Each family module declares its functions once, in a table sorted by
//! name: arity, whether the function sees partly unknown arguments, and the
//! implementation. [`call`] looks the name up there.

use crate::ingest::value::{self, Val};
use crate::limits::{self, Budget};

use super::eval::{EvalError, EvalResult};

mod collections;
mod conversion;
mod encoding;
mod network;
mod numeric;
mod strings;

/// An implementation: the name it was called by (several share one), the
/// evaluated arguments, whose count is within the declared arity, and the
/// budget.
type Eval = fn(&str, Vec<Val>, &Budget) -> EvalResult;

/// No upper bound on the argument count.
const ANY: usize = usize::MAX;

/// One built-in function.
struct Builtin {
    name: &'static str,
    /// Argument counts Terraform's signature accepts, after `...` expansion:
    /// a function whose parameters are all variadic (`range`, `min`…)
    /// takes any count there and checks it itself, as Terraform does.
    min: usize,
    max: usize,
    /// Evaluated with unknowns nested in its arguments (a list with one
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
    encoding::FUNCTIONS,
    network::FUNCTIONS,
    numeric::FUNCTIONS,
    strings::FUNCTIONS,
];

fn lookup(name: &str) -> Option<&'static Builtin> {
    FAMILIES
        .iter()
        .find_map(|family| family.binary_search_by(|b| b.name.cmp(name)).ok().and_then(|i| family.get(i)))
}

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
    let builtin = lookup(name);
    // Most functions return unknown when an argument is unknown; the partial
    // ones (coalesce, merge, concat, length of a list with unknown
    // elements…) handle nested unknowns themselves.
    if !builtin.is_some_and(|b| b.partial) {
        if let Some(r) = args.iter().find_map(Val::first_unknown) {
            return Ok(Val::Unknown(r));
        }
    } else if let Some(r) = args
        .iter()
        .find_map(|a| if let Val::Unknown(r) = a { Some(r.clone()) } else { None })
    {
        return Ok(Val::Unknown(r));
    }
    let Some(builtin) = builtin else {
        return Ok(Val::unknown(format!("the function {name}() is not evaluated by kmsguard")));
    };
    if args.len() < builtin.min || args.len() > builtin.max {
        return err(format!("{name}() takes {}, not {}", arity(builtin), args.len()));
    }
    (builtin.eval)(name, args, budget)
}

/// The argument counts a function accepts, as an error message says them.
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

/// Helpers for the family tests: every family lists one or more calls of
/// each of its functions, so an entry with the wrong implementation, arity
/// or partial flag fails its family's test.
#[cfg(test)]
mod test_support {
    use std::collections::BTreeSet;

    use super::Builtin;
    use crate::ingest::terraform::eval::{EvalError, EvalResult};
    use crate::ingest::value::Val;
    use crate::limits::{Budget, Limits};

    pub fn call(name: &str, args: Vec<Val>) -> EvalResult {
        super::call(name, args, &Budget::new(Limits::default(), "module"))
    }

    pub fn s(x: &str) -> Val {
        Val::String(x.into())
    }

    pub fn n(x: f64) -> Val {
        Val::Number(x)
    }

    pub fn list(items: Vec<Val>) -> Val {
        Val::List(items)
    }

    pub fn obj(members: &[(&str, Val)]) -> Val {
        Val::Object(members.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    pub fn unknown() -> Val {
        Val::unknown("not known before apply")
    }

    /// The error an argument count outside the arity gives.
    pub fn arity_error(text: &str) -> EvalResult {
        Err(EvalError(text.into()))
    }

    /// Runs `cases` (name, arguments, expected result) and checks that they
    /// call every function of `family`.
    pub fn check(family: &[Builtin], cases: Vec<(&str, Vec<Val>, EvalResult)>) {
        let unregistered: Vec<_> = family.iter().map(|b| b.name).filter(|n| super::lookup(n).is_none()).collect();
        assert!(
            unregistered.is_empty(),
            "{unregistered:?} cannot be found: is the family in FAMILIES?"
        );
        let mut called = BTreeSet::new();
        for (name, args, expected) in cases {
            let shown = format!("{name}({args:?})");
            assert_eq!(call(name, args), expected, "{shown}");
            called.insert(name);
        }
        let missing: Vec<_> = family.iter().map(|b| b.name).filter(|n| !called.contains(n)).collect();
        assert!(missing.is_empty(), "no test calls {missing:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup binary-searches each family: each must be sorted, and a
    /// name in two families would make one of them unreachable.
    #[test]
    fn the_tables_are_sorted_and_each_name_is_declared_once() {
        let mut seen = std::collections::BTreeSet::new();
        for family in FAMILIES {
            assert!(family.windows(2).all(|w| w[0].name < w[1].name), "a family is not sorted");
            for b in family.iter() {
                assert!(seen.insert(b.name), "{} is declared twice", b.name);
                assert!(lookup(b.name).is_some_and(|found| found.name == b.name), "{} is not found", b.name);
                assert!(b.min <= b.max, "{}", b.name);
            }
        }
        assert!(lookup("templatefile").is_none());
    }

    #[test]
    fn arity_is_said_in_words() {
        let b = |min, max| Builtin::new("f", min, max, |_, _, _| Ok(Val::Null));
        assert_eq!(arity(&b(1, 1)), "1 argument");
        assert_eq!(arity(&b(2, 3)), "2 to 3 arguments");
        assert_eq!(arity(&b(0, ANY)), "at least 0 arguments");
        assert_eq!(arity(&b(1, ANY)), "at least 1 argument");
    }

    /// An unknown argument makes an unimplemented function unknown with the
    /// argument's reason, as it always did, not with the function's.
    #[test]
    fn an_unimplemented_function_with_an_unknown_argument_keeps_its_reason() {
        let v = call("templatefile", vec![Val::List(vec![Val::unknown("var.x")])]).expect("ok");
        assert_eq!(v, Val::unknown("var.x"));
    }

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
