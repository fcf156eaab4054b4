//! What Terraform's and ARM's built-in function tables share: one entry per
//! function (name, arity, whether it sees partly unknown arguments, its
//! implementation), the lookup over families sorted by name, the unknown an
//! argument makes of a call, and the bound on every result. Each language
//! keeps only its own functions and its own way of failing (an error in
//! Terraform, an unknown in ARM).

use crate::ingest::value::Val;
use crate::limits::{self, Limits};
use std::sync::Arc;

/// No upper bound on the argument count.
pub(crate) const ANY: usize = usize::MAX;

/// One built-in function; `E` is the language's implementation type.
pub(crate) struct Builtin<E> {
    /// As looked up: Terraform's names, or ARM's lower-cased (template
    /// function names are case-insensitive).
    pub name: &'static str,
    /// Argument counts the function's signature accepts, after `...`
    /// expansion: a function whose parameters are all variadic takes any
    /// count here and checks it itself.
    pub min: usize,
    pub max: usize,
    /// Evaluated with unknowns nested in its arguments (a list with one
    /// unknown element…), which it handles itself; any other function is
    /// unknown as soon as any part of an argument is.
    pub partial: bool,
    pub eval: E,
}

impl<E: Copy> Builtin<E> {
    pub(crate) const fn new(name: &'static str, min: usize, max: usize, eval: E) -> Self {
        Builtin {
            name,
            min,
            max,
            partial: false,
            eval,
        }
    }

    pub(crate) const fn partial(self) -> Self {
        Builtin {
            name: self.name,
            min: self.min,
            max: self.max,
            partial: true,
            eval: self.eval,
        }
    }
}

impl<E> Builtin<E> {
    /// Why `count` arguments are refused (`f() takes 2 to 3 arguments, not
    /// 1`), or `None` when the arity accepts them.
    pub(crate) fn refuses(&self, shown: &str, count: usize) -> Option<String> {
        (count < self.min || count > self.max).then(|| format!("{shown}() takes {}, not {count}", self.arity()))
    }

    /// The argument counts the function accepts, in words.
    pub(crate) fn arity(&self) -> String {
        let n = |k: usize| {
            if k == 1 {
                "1 argument".to_string()
            } else {
                format!("{k} arguments")
            }
        };
        match (self.min, self.max) {
            (min, ANY) => format!("at least {}", n(min)),
            (min, max) if min == max => n(min),
            (min, max) => format!("{min} to {}", n(max)),
        }
    }
}

/// The function `name` in `families`, each sorted by name.
pub(crate) fn lookup<'a, E>(families: &[&'a [Builtin<E>]], name: &str) -> Option<&'a Builtin<E>> {
    families
        .iter()
        .find_map(|family| family.binary_search_by(|b| b.name.cmp(name)).ok().and_then(|i| family.get(i)))
}

/// The unknown an argument makes of a call before the function runs: any
/// unknown inside any argument, unless the function is partial, which
/// handles nested unknowns itself and is stopped only by a wholly unknown
/// argument. A function kmsguard does not have (`None`) is treated as not
/// partial.
pub(crate) fn unknown_argument<E>(builtin: Option<&Builtin<E>>, args: &[Val]) -> Option<Arc<str>> {
    if builtin.is_some_and(|b| b.partial) {
        args.iter()
            .find_map(|a| if let Val::Unknown(r) = a { Some(r.clone()) } else { None })
    } else {
        args.iter().find_map(Val::first_unknown)
    }
}

/// `result` unless it is a string longer than [`limits::MAX_STRING`] or a
/// collection past the collection limit. The functions whose result can
/// outgrow their arguments measure it before building it; this check, on
/// every result, is there so that a function added later cannot forget.
pub(crate) fn bounded(shown: &str, result: Val, limits: &Limits) -> Val {
    match result {
        Val::String(s) if s.len() > limits::MAX_STRING => limits::string_too_long(&format!("{shown}()")),
        Val::List(l) if limits.exceeds_collection(l.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{shown}()"), Some(l.len() as f64)))
        }
        Val::Object(o) if limits.exceeds_collection(o.len() as f64) => {
            Val::unknown(limits.too_many(&format!("{shown}()"), Some(o.len() as f64)))
        }
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Test = Builtin<fn()>;

    fn b(min: usize, max: usize) -> Test {
        Builtin::new("f", min, max, || {})
    }

    #[test]
    fn arity_is_said_in_words() {
        assert_eq!(b(1, 1).arity(), "1 argument");
        assert_eq!(b(2, 3).arity(), "2 to 3 arguments");
        assert_eq!(b(0, ANY).arity(), "at least 0 arguments");
        assert_eq!(b(1, ANY).arity(), "at least 1 argument");
        assert_eq!(b(2, 3).refuses("f", 1).as_deref(), Some("f() takes 2 to 3 arguments, not 1"));
        assert_eq!(b(2, 3).refuses("f", 4).as_deref(), Some("f() takes 2 to 3 arguments, not 4"));
        assert_eq!(b(2, 3).refuses("f", 2), None);
        assert_eq!(b(0, ANY).refuses("f", 1000), None);
    }

    #[test]
    fn lookup_searches_every_family() {
        let a = [b(0, 0)];
        let mut c = [b(0, 0), b(0, 0)];
        c[0].name = "a";
        c[1].name = "g";
        let families: &[&[Test]] = &[&a, &c];
        assert_eq!(lookup(families, "f").map(|x| x.name), Some("f"));
        assert_eq!(lookup(families, "g").map(|x| x.name), Some("g"));
        assert!(lookup(families, "h").is_none());
    }

    #[test]
    fn a_partial_function_sees_nested_unknowns() {
        let nested = vec![Val::List(vec![Val::unknown("x")])];
        assert!(unknown_argument(Some(&b(0, 1)), &nested).is_some());
        assert!(unknown_argument(Some(&b(0, 1).partial()), &nested).is_none());
        assert!(unknown_argument::<fn()>(None, &nested).is_some());
        assert!(unknown_argument(Some(&b(0, 1).partial()), &[Val::unknown("y")]).is_some());
    }
}
