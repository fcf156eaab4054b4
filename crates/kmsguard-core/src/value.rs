//! Values as kmsguard evaluates them, for every front end: JSON's types
//! plus an unknown value that carries why it is unknown.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// An evaluated Terraform value. Lists, tuples and sets are `List`; maps and
/// objects are `Object`, whose keys iterate in lexical order as Terraform's do.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    List(Vec<Val>),
    Object(BTreeMap<String, Val>),
    /// Known only after apply, or not supplied: the reason says which.
    Unknown(Arc<str>),
}

impl Val {
    pub fn unknown(reason: impl Into<String>) -> Val {
        Val::Unknown(Arc::from(reason.into()))
    }

    /// What copying this value costs, in evaluation steps: one for each
    /// value it holds, nested ones included, and one for each 64 bytes of
    /// string. Stops counting once past `cap`, so that weighing a huge
    /// value costs no more than the budget it would exceed.
    pub fn weight(&self, cap: u64) -> u64 {
        let text = |s: &str| (s.len() / 64) as u64;
        match self {
            Val::String(s) => return 1 + text(s),
            Val::List(_) | Val::Object(_) => {}
            _ => return 1,
        }
        let mut total = 0u64;
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            total += 1;
            match v {
                Val::String(s) => total += text(s),
                Val::List(l) => stack.extend(l),
                Val::Object(o) => {
                    for (k, v) in o {
                        total += text(k);
                        stack.push(v);
                    }
                }
                _ => {}
            }
            if total > cap {
                break;
            }
        }
        total
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Val::Unknown(_))
    }

    /// Whether the value or anything inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Val::Unknown(_) => true,
            Val::List(l) => l.iter().any(Val::has_unknown),
            Val::Object(o) => o.values().any(Val::has_unknown),
            _ => false,
        }
    }

    /// The first unknown's reason, searching depth-first.
    pub fn first_unknown(&self) -> Option<Arc<str>> {
        match self {
            Val::Unknown(r) => Some(r.clone()),
            Val::List(l) => l.iter().find_map(Val::first_unknown),
            Val::Object(o) => o.values().find_map(Val::first_unknown),
            _ => None,
        }
    }

    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Number(_) => "number",
            Val::String(_) => "string",
            Val::List(_) => "list",
            Val::Object(_) => "object",
            Val::Unknown(_) => "unknown",
        }
    }

    /// The value as Terraform would convert it to a string, when that is defined.
    pub fn to_tf_string(&self) -> Option<String> {
        match self {
            Val::String(s) => Some(s.clone()),
            Val::Number(n) => Some(format_number(*n)),
            Val::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

/// `values` without repeats, first occurrences kept in order. Each value is
/// compared through a canonical text key in a hash set: comparing every
/// value with every one kept before took quadratic time, and `toset()` of
/// 100,000 strings ran for minutes.
pub fn distinct(values: impl IntoIterator<Item = Val>) -> Vec<Val> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for v in values {
        let mut key = String::new();
        v.key(&mut key);
        if seen.insert(key) {
            out.push(v);
        }
    }
    out
}

impl Val {
    /// Appends a text that two values share exactly when they are equal
    /// (lengths prefix strings, so that no two sequences of pieces run
    /// together).
    fn key(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Val::Null => out.push('n'),
            Val::Bool(b) => out.push(if *b { 't' } else { 'f' }),
            // 0 and -0 are equal values.
            Val::Number(n) => {
                let _ = write!(out, "#{:?};", if *n == 0.0 { 0.0 } else { *n });
            }
            Val::String(s) => {
                let _ = write!(out, "s{}:{s}", s.len());
            }
            Val::List(l) => {
                out.push('[');
                for v in l {
                    v.key(out);
                }
                out.push(']');
            }
            Val::Object(o) => {
                out.push('{');
                for (k, v) in o {
                    let _ = write!(out, "{}:{k}", k.len());
                    v.key(out);
                }
                out.push('}');
            }
            Val::Unknown(r) => {
                let _ = write!(out, "u{}:{r}", r.len());
            }
        }
    }
}

pub fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Null => f.write_str("null"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Number(n) => f.write_str(&format_number(*n)),
            Val::String(s) => write!(f, "{s:?}"),
            Val::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Val::Object(o) => {
                f.write_str("{")?;
                for (i, (k, v)) in o.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Val::Unknown(_) => f.write_str("(unknown)"),
        }
    }
}

/// Converts JSON (from `*.tfvars.json`) into a value.
pub fn from_json(v: &serde_json::Value) -> Val {
    match v {
        serde_json::Value::Null => Val::Null,
        serde_json::Value::Bool(b) => Val::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map(Val::Number).unwrap_or(Val::Null),
        serde_json::Value::String(s) => Val::String(s.clone()),
        serde_json::Value::Array(a) => Val::List(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => Val::Object(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_keeps_first_occurrences_of_equal_values_only() {
        let s = |x: &str| Val::String(x.into());
        let obj = |k: &str, v: Val| Val::Object([(k.to_string(), v)].into_iter().collect());
        let input = vec![
            s("a"),
            Val::Number(1.0),
            s("1"),
            Val::Number(-0.0),
            Val::Number(0.0),
            Val::List(vec![s("ab"), s("c")]),
            Val::List(vec![s("a"), s("bc")]),
            Val::List(vec![s("ab"), s("c")]),
            obj("k", s("v")),
            obj("k", s("v")),
            Val::Null,
            Val::Bool(false),
            s("a"),
        ];
        let expected = vec![
            s("a"),
            Val::Number(1.0),
            s("1"),
            Val::Number(-0.0),
            Val::List(vec![s("ab"), s("c")]),
            Val::List(vec![s("a"), s("bc")]),
            obj("k", s("v")),
            Val::Null,
            Val::Bool(false),
        ];
        assert_eq!(distinct(input), expected);
    }
}
