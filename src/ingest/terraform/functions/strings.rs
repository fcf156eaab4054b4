//! String functions, with Terraform's `format()` verbs.

use super::{err, string_arg, Builtin, ANY};
use crate::ingest::terraform::eval::{to_number, EvalError, EvalResult};
use crate::ingest::value::{format_number, Val};
use crate::limits::{self, Budget};

/// Sorted by name.
pub(super) const FUNCTIONS: &[Builtin] = &[
    Builtin::new("endswith", 2, 2, affix_test),
    Builtin::new("format", 1, ANY, format),
    Builtin::new("formatlist", 1, ANY, formatlist),
    Builtin::new("join", 1, ANY, join),
    Builtin::new("lower", 1, 1, lower),
    Builtin::new("replace", 3, 3, replace),
    Builtin::new("split", 2, 2, split),
    Builtin::new("startswith", 2, 2, affix_test),
    Builtin::new("strcontains", 2, 2, affix_test),
    Builtin::new("substr", 3, 3, substr),
    Builtin::new("title", 1, 1, title),
    Builtin::new("trim", 2, 2, trim),
    Builtin::new("trimprefix", 2, 2, trim),
    Builtin::new("trimspace", 1, 1, trimspace),
    Builtin::new("trimsuffix", 2, 2, trim),
    Builtin::new("upper", 1, 1, upper),
];

fn format(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let Some(Val::String(fmt)) = it.next() else {
        return err("format() needs a format string");
    };
    Ok(sprintf(&fmt, &it.collect::<Vec<_>>())?.map_or_else(|| limits::string_too_long("format()"), Val::String))
}

fn formatlist(_: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
    let mut it = args.into_iter();
    let Some(Val::String(fmt)) = it.next() else {
        return err("formatlist() needs a format string");
    };
    let rest: Vec<Val> = it.collect();
    let n = rest
        .iter()
        .filter_map(|a| if let Val::List(l) = a { Some(l.len()) } else { None })
        .max()
        .unwrap_or(1);
    if limits.exceeds_collection(n as f64) {
        return Ok(Val::unknown(limits.too_many("formatlist()", Some(n as f64))));
    }
    // Each row may be up to the string limit: what the rows add up
    // to is weighed as they are built, against the steps left.
    let mut weight = 0u64;
    let mut out = Vec::new();
    for i in 0..n {
        let row: Vec<Val> = rest
            .iter()
            .map(|a| match a {
                Val::List(l) => l.get(i).cloned().unwrap_or(Val::Null),
                v => v.clone(),
            })
            .collect();
        match sprintf(&fmt, &row)? {
            Some(s) => {
                weight = weight.saturating_add(1 + limits::text_weight(s.len()));
                if !budget.affords(weight) {
                    return Ok(budget.spent());
                }
                out.push(Val::String(s));
            }
            None => return Ok(limits::string_too_long("formatlist()")),
        }
    }
    Ok(Val::List(out))
}

fn join(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let sep = string_arg(it.next(), "join")?;
    let mut parts = Vec::new();
    for l in it {
        let Val::List(l) = l else { return err("join() takes lists") };
        for v in l {
            parts.push(v.to_tf_string().ok_or_else(|| EvalError("join() takes lists of strings".into()))?);
        }
    }
    if limits::joined_len(parts.iter().map(String::as_str), &sep) > limits::MAX_STRING {
        return Ok(limits::string_too_long("join()"));
    }
    Ok(Val::String(parts.join(&sep)))
}

fn split(_: &str, args: Vec<Val>, budget: &Budget) -> EvalResult {
    let limits = &budget.limits;
    let mut it = args.into_iter();
    let sep = string_arg(it.next(), "split")?;
    let s = string_arg(it.next(), "split")?;
    if sep.is_empty() {
        return err("split() needs a non-empty separator");
    }
    let n = s.matches(sep.as_str()).count() + 1;
    if limits.exceeds_collection(n as f64) {
        return Ok(Val::unknown(limits.too_many("split()", Some(n as f64))));
    }
    Ok(Val::List(s.split(sep.as_str()).map(|p| Val::String(p.to_string())).collect()))
}

fn replace(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let s = string_arg(it.next(), "replace")?;
    let from = string_arg(it.next(), "replace")?;
    let to = string_arg(it.next(), "replace")?;
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        return Ok(Val::unknown("replace() with a regular expression is not evaluated by kmsguard"));
    }
    if from.is_empty() {
        return Ok(Val::String(s));
    }
    if limits::replaced_len(&s, &from, &to) > limits::MAX_STRING {
        return Ok(limits::string_too_long("replace()"));
    }
    Ok(Val::String(s.replace(&from, &to)))
}

/// Applies a change of case to the only argument. Changing case can triple
/// a string's length (`ß` to `SS`…), so one already at the limit is not
/// changed.
fn change_case(name: &str, args: Vec<Val>, change: fn(&str) -> String) -> EvalResult {
    if matches!(args.first(), Some(Val::String(s)) if s.len() > limits::MAX_STRING) {
        return Ok(limits::string_too_long(&format!("{name}()")));
    }
    Ok(Val::String(change(&string_arg(args.into_iter().next(), name)?)))
}

fn lower(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    change_case(name, args, str::to_lowercase)
}

fn upper(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    change_case(name, args, str::to_uppercase)
}

fn title(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    change_case(name, args, |s| {
        s.split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ")
    })
}

fn trimspace(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    Ok(Val::String(string_arg(args.into_iter().next(), "trimspace")?.trim().to_string()))
}

/// `trimprefix`, `trimsuffix` and `trim` (of a set of characters).
fn trim(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let s = string_arg(it.next(), name)?;
    let p = string_arg(it.next(), name)?;
    Ok(Val::String(match name {
        "trimprefix" => s.strip_prefix(p.as_str()).unwrap_or(&s).to_string(),
        "trimsuffix" => s.strip_suffix(p.as_str()).unwrap_or(&s).to_string(),
        _ => s.trim_matches(|c| p.contains(c)).to_string(),
    }))
}

/// `startswith`, `endswith` and `strcontains`.
fn affix_test(name: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let s = string_arg(it.next(), name)?;
    let p = string_arg(it.next(), name)?;
    Ok(Val::Bool(match name {
        "startswith" => s.starts_with(&p),
        "endswith" => s.ends_with(&p),
        _ => s.contains(&p),
    }))
}

fn substr(_: &str, args: Vec<Val>, _: &Budget) -> EvalResult {
    let mut it = args.into_iter();
    let s = string_arg(it.next(), "substr")?;
    let off = to_number(&it.next().unwrap_or(Val::Null))? as i64;
    let len = to_number(&it.next().unwrap_or(Val::Null))? as i64;
    let chars: Vec<char> = s.chars().collect();
    let start = if off < 0 { (chars.len() as i64 + off).max(0) } else { off } as usize;
    let end = if len < 0 {
        chars.len()
    } else {
        (start + len as usize).min(chars.len())
    };
    Ok(Val::String(chars.get(start..end).map(|c| c.iter().collect()).unwrap_or_default()))
}

/// Terraform's `format` verbs: %s %d %v %q %f and %%, with optional width.
/// Terraform's `format()`, Go's verbs; `None` when a width or precision would
/// build a string longer than [`limits::MAX_STRING`].
fn sprintf(fmt: &str, args: &[Val]) -> Result<Option<String>, EvalError> {
    match format_bounded(fmt, args) {
        Ok(s) => Ok(Some(s)),
        Err(FormatError::TooLong) => Ok(None),
        Err(FormatError::Eval(e)) => Err(e),
    }
}

enum FormatError {
    TooLong,
    Eval(EvalError),
}

impl From<limits::TooLong> for FormatError {
    fn from(_: limits::TooLong) -> Self {
        FormatError::TooLong
    }
}

impl From<EvalError> for FormatError {
    fn from(e: EvalError) -> Self {
        FormatError::Eval(e)
    }
}

fn format_bounded(fmt: &str, args: &[Val]) -> Result<String, FormatError> {
    let mut out = limits::BoundedString::new();
    let mut chars = fmt.chars().peekable();
    let mut next = 0usize;
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c)?;
            continue;
        }
        let mut spec = String::new();
        let verb = loop {
            match chars.next() {
                Some(v) if v.is_ascii_alphabetic() || v == '%' => break v,
                Some(v) => spec.push(v),
                None => return Err(EvalError("format(): the format string ends in the middle of a verb".into()).into()),
            }
        };
        if verb == '%' {
            out.push('%')?;
            continue;
        }
        let arg = args.get(next).ok_or_else(|| EvalError("format(): not enough arguments".into()))?;
        next += 1;
        // Every argument is printed through the bound: `%v` of a large
        // list, `%q` of a string full of escapes, the same large argument
        // used many times.
        let text = match verb {
            'q' => limits::display_bounded(&format_args!("{:?}", arg.to_tf_string().unwrap_or_default())),
            'd' => Some(format_number(to_number(arg)?.trunc())),
            'f' => {
                let prec = spec.split('.').nth(1).and_then(|p| p.parse::<usize>().ok()).unwrap_or(6);
                if prec > limits::MAX_STRING {
                    return Err(FormatError::TooLong);
                }
                Some(format!("{:.*}", prec, to_number(arg)?))
            }
            _ => match arg.to_tf_string() {
                Some(s) => Some(s),
                None => limits::display_bounded(arg),
            },
        };
        let text = text.ok_or(FormatError::TooLong)?;
        let width = spec.trim_start_matches(['-', '0']).split('.').next().unwrap_or_default();
        let width: usize = match width.parse() {
            Ok(w) if w <= limits::MAX_STRING => w,
            Ok(_) => return Err(FormatError::TooLong),
            Err(_) if width.chars().all(|c| c.is_ascii_digit()) && !width.is_empty() => return Err(FormatError::TooLong),
            Err(_) => 0,
        };
        // Padded by hand: Rust's `{:>width$}` panics on widths above 65,535.
        let pad = width.saturating_sub(text.chars().count());
        if spec.starts_with('-') {
            out.push_str(&text)?;
            out.push_n(' ', pad)?;
        } else if spec.starts_with('0') && verb == 'd' {
            // Go puts the sign before the zeros: %05d of -42 is "-0042".
            let digits = match text.strip_prefix('-') {
                Some(d) => {
                    out.push('-')?;
                    d
                }
                None => text.as_str(),
            };
            out.push_n('0', pad)?;
            out.push_str(digits)?;
        } else {
            out.push_n(' ', pad)?;
            out.push_str(&text)?;
        }
    }
    Ok(out.into_string())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{arity_error, call, check, list, n, s, unknown};
    use super::*;

    #[test]
    fn each_string_function_evaluates() {
        let (t, f) = (Val::Bool(true), Val::Bool(false));
        check(
            FUNCTIONS,
            vec![
                ("endswith", vec![s("rt-hub"), s("hub")], Ok(t.clone())),
                ("endswith", vec![s("rt-hub"), s("rt")], Ok(f.clone())),
                ("format", vec![s("%s/%d"), s("10.0.0.0"), n(8.0)], Ok(s("10.0.0.0/8"))),
                (
                    "formatlist",
                    vec![s("rt-%s"), list(vec![s("a"), s("b")])],
                    Ok(list(vec![s("rt-a"), s("rt-b")])),
                ),
                ("join", vec![s(","), list(vec![s("a")]), list(vec![s("b")])], Ok(s("a,b"))),
                ("join", vec![s(",")], Ok(s(""))),
                ("lower", vec![s("AbC")], Ok(s("abc"))),
                ("replace", vec![s("a-b-c"), s("-"), s("/")], Ok(s("a/b/c"))),
                ("split", vec![s(","), s("a,b")], Ok(list(vec![s("a"), s("b")]))),
                ("startswith", vec![s("rt-hub"), s("rt")], Ok(t.clone())),
                ("startswith", vec![s("rt-hub"), s("hub")], Ok(f)),
                ("strcontains", vec![s("rt-hub"), s("t-h")], Ok(t)),
                ("substr", vec![s("hello"), n(1.0), n(3.0)], Ok(s("ell"))),
                ("title", vec![s("hub spoke")], Ok(s("Hub Spoke"))),
                ("trim", vec![s("?!a?!"), s("!?")], Ok(s("a"))),
                ("trimprefix", vec![s("rt-hub"), s("rt-")], Ok(s("hub"))),
                ("trimspace", vec![s("  a ")], Ok(s("a"))),
                ("trimsuffix", vec![s("rt-hub"), s("-hub")], Ok(s("rt"))),
                ("upper", vec![s("aBc")], Ok(s("ABC"))),
            ],
        );
    }

    #[test]
    fn an_unknown_part_makes_a_string_function_unknown() {
        assert_eq!(call("join", vec![s(","), list(vec![s("a"), unknown()])]), Ok(unknown()));
        assert_eq!(call("format", vec![s("%s"), unknown()]), Ok(unknown()));
        assert_eq!(call("formatlist", vec![s("%s"), list(vec![unknown()])]), Ok(unknown()));
    }

    #[test]
    fn a_call_outside_the_arity_is_an_error() {
        assert_eq!(call("format", vec![]), arity_error("format() takes at least 1 argument, not 0"));
        assert_eq!(call("lower", vec![s("A"), s("B")]), arity_error("lower() takes 1 argument, not 2"));
        assert_eq!(
            call("replace", vec![s("a"), s("b")]),
            arity_error("replace() takes 3 arguments, not 2")
        );
        assert_eq!(
            call("substr", vec![s("a"), n(0.0)]),
            arity_error("substr() takes 3 arguments, not 2")
        );
        assert_eq!(
            call("trimprefix", vec![s("a")]),
            arity_error("trimprefix() takes 2 arguments, not 1")
        );
    }
}
