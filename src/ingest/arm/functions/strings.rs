//! String functions, with .NET's composite formatting for `format()`.

use super::{loose_eq, num_arg, str_arg, Builtin, ANY};
use crate::ingest::value::Val;
use crate::limits::{self, Limits};

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("endswith", 2, 2, |name, args, _| affix_test(name, &args, |s, p| s.ends_with(p))),
    Builtin::new("format", 1, ANY, format),
    Builtin::new("indexof", 2, 2, |name, args, _| position(name, &args, true)),
    Builtin::new("join", 2, 2, join),
    Builtin::new("lastindexof", 2, 2, |name, args, _| position(name, &args, false)),
    Builtin::new("padleft", 2, 3, padleft),
    Builtin::new("replace", 3, 3, replace),
    Builtin::new("split", 2, 2, split),
    Builtin::new("startswith", 2, 2, |name, args, _| affix_test(name, &args, |s, p| s.starts_with(p))),
    Builtin::new("substring", 1, 3, substring),
    Builtin::new("tolower", 1, 1, |name, args, _| {
        change_case(name, &args, "toLower()", str::to_lowercase)
    }),
    Builtin::new("toupper", 1, 1, |name, args, _| {
        change_case(name, &args, "toUpper()", str::to_uppercase)
    }),
    Builtin::new("trim", 1, 1, trim),
];

fn format(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    let Some(fmt) = str_arg(&args, 0) else {
        return Val::unknown("format() needs a format string");
    };
    format_dotnet(&fmt, args.get(1..).unwrap_or_default())
}

/// Changing case can triple a string's length, so one already at the limit
/// is not changed. `what` names the function in the message for a missing
/// string.
fn change_case(name: &str, args: &[Val], what: &str, change: fn(&str) -> String) -> Val {
    if matches!(args.first(), Some(Val::String(s)) if s.len() > limits::MAX_STRING) {
        return limits::string_too_long(&format!("{name}()"));
    }
    str_arg(args, 0)
        .map(|s| Val::String(change(&s)))
        .unwrap_or_else(|| Val::unknown(format!("{what} needs a string")))
}

fn trim(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    str_arg(&args, 0)
        .map(|s| Val::String(s.trim().to_string()))
        .unwrap_or_else(|| Val::unknown("trim() needs a string"))
}

fn replace(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (str_arg(&args, 0), str_arg(&args, 1), str_arg(&args, 2)) {
        (Some(s), Some(a), Some(b)) if limits::replaced_len(&s, &a, &b) > limits::MAX_STRING => limits::string_too_long("replace()"),
        (Some(s), Some(a), Some(b)) if !a.is_empty() => Val::String(s.replace(&a, &b)),
        (Some(s), Some(_), Some(_)) => Val::String(s),
        _ => Val::unknown("replace() needs three strings"),
    }
}

/// By one delimiter, or by each of an array of delimiters.
fn split(_: &str, args: Vec<Val>, limits: &Limits) -> Val {
    match (str_arg(&args, 0), args.get(1)) {
        (Some(s), Some(Val::String(d))) if !d.is_empty() => {
            let n = s.matches(d.as_str()).count() + 1;
            if limits.exceeds_collection(n as f64) {
                return Val::unknown(limits.too_many("split()", Some(n as f64)));
            }
            Val::List(s.split(d.as_str()).map(|p| Val::String(p.into())).collect())
        }
        (Some(s), Some(Val::List(ds))) => {
            let delims: Vec<String> = ds.iter().filter_map(Val::to_tf_string).filter(|d| !d.is_empty()).collect();
            let mut parts = vec![s];
            for d in &delims {
                let n: usize = parts.iter().map(|p| p.matches(d.as_str()).count() + 1).sum();
                if limits.exceeds_collection(n as f64) {
                    return Val::unknown(limits.too_many("split()", Some(n as f64)));
                }
                parts = parts
                    .iter()
                    .flat_map(|p| p.split(d.as_str()).map(String::from).collect::<Vec<_>>())
                    .collect();
            }
            Val::List(parts.into_iter().map(Val::String).collect())
        }
        _ => Val::unknown("split() needs a string and a delimiter"),
    }
}

fn join(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (args.first(), str_arg(&args, 1)) {
        (Some(Val::List(l)), Some(d)) => {
            let parts: Vec<String> = l.iter().filter_map(Val::to_tf_string).collect();
            if limits::joined_len(parts.iter().map(String::as_str), &d) > limits::MAX_STRING {
                return limits::string_too_long("join()");
            }
            Val::String(parts.join(&d))
        }
        _ => Val::unknown("join() needs an array and a delimiter"),
    }
}

/// `startsWith` and `endsWith`, ignoring case.
fn affix_test(name: &str, args: &[Val], holds: fn(&str, &str) -> bool) -> Val {
    match (str_arg(args, 0), str_arg(args, 1)) {
        (Some(s), Some(p)) => Val::Bool(holds(&s.to_lowercase(), &p.to_lowercase())),
        _ => Val::unknown(format!("{name}() needs two strings")),
    }
}

fn substring(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (str_arg(&args, 0), num_arg(&args, 1)) {
        (Some(s), Some(start)) => {
            let chars: Vec<char> = s.chars().collect();
            let start = (start.max(0.0) as usize).min(chars.len());
            let len = num_arg(&args, 2).map(|l| l.max(0.0) as usize).unwrap_or(chars.len() - start);
            Val::String(
                chars
                    .get(start..(start + len).min(chars.len()))
                    .map(|c| c.iter().collect())
                    .unwrap_or_default(),
            )
        }
        _ => Val::unknown("substring() needs a string and a start index"),
    }
}

fn padleft(_: &str, args: Vec<Val>, _: &Limits) -> Val {
    match (str_arg(&args, 0), num_arg(&args, 1)) {
        (Some(s), Some(w)) => {
            let pad = str_arg(&args, 2).and_then(|p| p.chars().next()).unwrap_or(' ');
            let missing = (w.max(0.0) as usize).saturating_sub(s.chars().count());
            if missing > limits::MAX_STRING {
                return limits::string_too_long("padLeft()");
            }
            Val::String(std::iter::repeat_n(pad, missing).chain(s.chars()).collect())
        }
        _ => Val::unknown("padLeft() needs a string and a width"),
    }
}

/// `indexOf` (`first`) and `lastIndexOf`, in a string ignoring case or in
/// an array; -1 when not found.
fn position(name: &str, args: &[Val], first: bool) -> Val {
    match (args.first(), args.get(1)) {
        (Some(Val::String(s)), Some(v)) => {
            let needle = v.to_tf_string().unwrap_or_default().to_lowercase();
            let hay = s.to_lowercase();
            let pos = if first { hay.find(&needle) } else { hay.rfind(&needle) };
            Val::Number(
                pos.map(|p| hay.get(..p).map(|x| x.chars().count()).unwrap_or(0) as f64)
                    .unwrap_or(-1.0),
            )
        }
        (Some(Val::List(l)), Some(v)) => {
            let pos = if first {
                l.iter().position(|x| loose_eq(x, v))
            } else {
                l.iter().rposition(|x| loose_eq(x, v))
            };
            Val::Number(pos.map(|p| p as f64).unwrap_or(-1.0))
        }
        _ => Val::unknown(format!("{name}() needs a string or array and a value")),
    }
}

/// .NET composite formatting: `{0}`, `{1:D2}`, and `{{`/`}}` escapes.
fn format_dotnet(fmt: &str, args: &[Val]) -> Val {
    let mut out = limits::BoundedString::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                if out.push('{').is_err() {
                    return limits::string_too_long("format()");
                }
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                if out.push('}').is_err() {
                    return limits::string_too_long("format()");
                }
            }
            '{' => {
                let mut spec = String::new();
                for n in chars.by_ref() {
                    if n == '}' {
                        break;
                    }
                    spec.push(n);
                }
                let (index, format) = match spec.split_once(':') {
                    Some((i, f)) => (i, Some(f)),
                    None => (spec.as_str(), None),
                };
                let Some(arg) = index.trim().parse::<usize>().ok().and_then(|i| args.get(i)) else {
                    return Val::unknown(format!("format() has no argument for {{{spec}}}"));
                };
                let text = match (arg, format) {
                    (Val::Number(n), Some(f)) if f.starts_with(['D', 'd']) => {
                        let width = f.get(1..).unwrap_or_default();
                        let width: usize = match width.parse() {
                            Ok(w) if w <= limits::MAX_STRING => w,
                            Err(_) if width.is_empty() => 0,
                            Err(_) if !width.bytes().all(|b| b.is_ascii_digit()) => {
                                return Val::unknown(format!("format() cannot read the format {{{spec}}}"))
                            }
                            _ => return limits::string_too_long("format()"),
                        };
                        // Padded by hand: Rust's `{:0width$}` panics past a
                        // width of 65,535 (found by fuzzing).
                        let n = *n as i64;
                        let digits = n.unsigned_abs().to_string();
                        let zeros = "0".repeat(width.saturating_sub(digits.len()));
                        format!("{}{zeros}{digits}", if n < 0 { "-" } else { "" })
                    }
                    (v, _) => match v.to_tf_string() {
                        Some(s) => s,
                        None => return Val::unknown(format!("format() cannot print a {}", v.type_name())),
                    },
                };
                if out.push_str(&text).is_err() {
                    return limits::string_too_long("format()");
                }
            }
            c => {
                if out.push(c).is_err() {
                    return limits::string_too_long("format()");
                }
            }
        }
    }
    Val::String(out.into_string())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{b, call, check, list, n, s, unknown};
    use super::*;

    #[test]
    fn each_string_function_evaluates() {
        check(
            FUNCTIONS,
            vec![
                ("endsWith", vec![s("rt-HUB"), s("hub")], b(true)),
                ("endsWith", vec![s("rt-hub"), s("rt")], b(false)),
                ("format", vec![s("{0}-rt-{1:D2}"), s("hub"), n(7.0)], s("hub-rt-07")),
                ("indexOf", vec![s("abcabc"), s("C")], n(2.0)),
                ("join", vec![list(vec![s("a"), s("b")]), s(",")], s("a,b")),
                ("lastIndexOf", vec![s("abcabc"), s("c")], n(5.0)),
                ("lastIndexOf", vec![list(vec![n(1.0), n(1.0)]), s("1")], n(1.0)),
                ("padLeft", vec![s("7"), n(3.0), s("0")], s("007")),
                ("replace", vec![s("a-b"), s("-"), s("/")], s("a/b")),
                (
                    "split",
                    vec![s("a,b;c"), list(vec![s(","), s(";")])],
                    list(vec![s("a"), s("b"), s("c")]),
                ),
                ("startsWith", vec![s("RT-hub"), s("rt")], b(true)),
                ("startsWith", vec![s("rt-hub"), s("hub")], b(false)),
                ("substring", vec![s("hello"), n(1.0), n(3.0)], s("ell")),
                (
                    "substring",
                    vec![s("hello")],
                    Val::unknown("substring() needs a string and a start index"),
                ),
                ("toLower", vec![s("AbC")], s("abc")),
                ("toUpper", vec![s("aBc")], s("ABC")),
                ("toUpper", vec![list(vec![])], Val::unknown("toUpper() needs a string")),
                ("trim", vec![s("  a ")], s("a")),
            ],
        );
    }

    #[test]
    fn an_unknown_part_makes_a_string_function_unknown() {
        assert_eq!(call("join", vec![list(vec![s("a"), unknown()]), s(",")]), unknown());
        assert_eq!(call("format", vec![s("{0}"), unknown()]), unknown());
    }

    #[test]
    fn a_call_outside_the_arity_is_unknown_saying_so() {
        assert_eq!(call("format", vec![]), Val::unknown("format() takes at least 1 argument, not 0"));
        assert_eq!(
            call("toLower", vec![s("A"), s("B")]),
            Val::unknown("toLower() takes 1 argument, not 2")
        );
        assert_eq!(
            call("padLeft", vec![s("a")]),
            Val::unknown("padLeft() takes 2 to 3 arguments, not 1")
        );
        assert_eq!(
            call("replace", vec![s("a"), s("b")]),
            Val::unknown("replace() takes 3 arguments, not 2")
        );
    }
}
