//! Terraform's JSON syntax (`.tf.json`): the same resources as HCL, written
//! as JSON objects, with `${…}` templates inside strings. Values keep the
//! line of the JSON text they come from.

use std::sync::Arc;

use hcl::edit::expr::Expression;
use kmsguard_arm_syntax::{parse_json, Json, JsonKind};

use super::eval::{Evaluator, Scope};
use super::fields::{eval_or_unknown, Fields};
use crate::ingest::value::Val;
use crate::ingest::FileError;
use crate::source::{FileId, Origin};

/// A parsed `.tf.json` file.
pub struct TfJsonFile {
    pub file: FileId,
    pub root: JVal,
}

/// A JSON value whose strings are parsed as Terraform templates.
pub struct JVal {
    pub kind: JKind,
    pub span: std::ops::Range<usize>,
}

pub enum JKind {
    Null,
    Bool(bool),
    Number(f64),
    /// A plain string.
    String(String),
    /// A string with `${…}` or `%{…}` in it, parsed as a template.
    Template(Expression, Arc<str>),
    Array(Vec<JVal>),
    Object(Vec<(String, JVal)>),
}

pub fn parse(file: FileId, text: &str) -> Result<TfJsonFile, FileError> {
    let json = parse_json(text).map_err(|e| {
        let at = e.span.start.min(text.len());
        FileError::at(
            Origin::new(file, at..e.span.end.clamp(at, text.len())),
            format!("could not parse JSON: {}", e.message),
        )
    })?;
    Ok(TfJsonFile {
        file,
        root: convert(&json),
    })
}

fn convert(j: &Json) -> JVal {
    let kind = match &j.kind {
        JsonKind::Null => JKind::Null,
        JsonKind::Bool(b) => JKind::Bool(*b),
        JsonKind::Number(n) => n.parse::<f64>().map(JKind::Number).unwrap_or(JKind::Null),
        JsonKind::String(s) if s.contains("${") || s.contains("%{") => {
            // A quoted HCL string: the same template, parsed by hcl-edit.
            let source: Arc<str> = Arc::from(quote_template(s));
            match hcl::edit::parser::parse_expr(&source) {
                Ok(expr) => JKind::Template(expr, source),
                Err(_) => JKind::String(s.clone()),
            }
        }
        JsonKind::String(s) => JKind::String(s.clone()),
        JsonKind::Array(items) => JKind::Array(items.iter().map(convert).collect()),
        JsonKind::Object(members) => JKind::Object(members.iter().map(|m| (m.key.clone(), convert(&m.value))).collect()),
    };
    JVal {
        kind,
        span: j.span.clone(),
    }
}

/// A JSON string's template as a quoted HCL template: its literal text
/// escaped, the code of its `${…}` and `%{…}` (with any strings inside them,
/// `"${lookup(var.m, "k")}"`) copied as it is.
fn quote_template(s: &str) -> String {
    enum State {
        /// Code inside an interpolation; the braces opened in it.
        Code(usize),
        /// A quoted string inside code.
        Str,
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut stack: Vec<State> = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match stack.last_mut() {
            // The template's own literal text.
            None => match c {
                '$' | '%' if chars.peek() == Some(&c) => {
                    // `$${` and `%%{` are escapes for a literal `${` / `%{`.
                    out.push(c);
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '$' | '%' if chars.peek() == Some(&'{') => {
                    out.push(c);
                    out.extend(chars.next());
                    stack.push(State::Code(0));
                }
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            },
            Some(State::Code(depth)) => {
                out.push(c);
                match c {
                    '{' => *depth += 1,
                    '}' if *depth == 0 => {
                        stack.pop();
                    }
                    '}' => *depth -= 1,
                    '"' => stack.push(State::Str),
                    _ => {}
                }
            }
            Some(State::Str) => {
                out.push(c);
                match c {
                    '\\' => out.extend(chars.next()),
                    '"' => {
                        stack.pop();
                    }
                    '$' | '%' if chars.peek() == Some(&'{') => {
                        out.extend(chars.next());
                        stack.push(State::Code(0));
                    }
                    _ => {}
                }
            }
        }
    }
    out.push('"');
    out
}

impl JVal {
    pub fn get(&self, key: &str) -> Option<&JVal> {
        match &self.kind {
            JKind::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn members(&self) -> &[(String, JVal)] {
        match &self.kind {
            JKind::Object(m) => m,
            _ => &[],
        }
    }

    /// A block written as one object or as an array of objects.
    pub fn blocks(&self) -> Vec<&JVal> {
        match &self.kind {
            JKind::Array(items) => items.iter().collect(),
            JKind::Object(_) => vec![self],
            _ => Vec::new(),
        }
    }

    pub fn eval(&self, ev: &Evaluator, scope: &Scope) -> Val {
        match &self.kind {
            JKind::Null => Val::Null,
            JKind::Bool(b) => Val::Bool(*b),
            JKind::Number(n) => Val::Number(*n),
            JKind::String(s) => Val::String(s.clone()),
            JKind::Template(expr, text) => eval_or_unknown(ev, expr, text, scope),
            JKind::Array(items) => Val::List(items.iter().map(|i| i.eval(ev, scope)).collect()),
            JKind::Object(m) => Val::Object(m.iter().map(|(k, v)| (k.clone(), v.eval(ev, scope))).collect()),
        }
    }

    /// An object's attributes as fields, each at its own place; nested
    /// blocks (objects and arrays of objects) are left to the caller.
    pub fn fields(&self, ev: &Evaluator, file: FileId, scope: &Scope) -> Fields {
        Fields::from_pairs(
            self.members()
                .iter()
                .map(|(k, v)| (k.clone(), v.eval(ev, scope), Origin::new(file, v.span.clone()))),
            Origin::new(file, self.span.clone()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_quote_their_literal_text_and_keep_their_code() {
        assert_eq!(quote_template(r#"a "b" \ ${x}"#), r#""a \"b\" \\ ${x}""#);
        assert_eq!(quote_template(r#"${lookup(var.m, "k\"")}/32"#), r#""${lookup(var.m, "k\"")}/32""#);
        assert_eq!(quote_template(r#"${ { a = "}" }.a }"#), r#""${ { a = "}" }.a }""#);
        assert_eq!(quote_template("$${x} \"${\"${y}\"}\""), "\"$${x} \\\"${\"${y}\"}\\\"\"");
    }

    #[test]
    fn a_string_inside_an_interpolation_parses() {
        let json = r#"{"a": "${format(\"%s/32\", \"20.118.99.224\")}"}"#;
        let f = parse(FileId(0), json).unwrap_or_else(|e| panic!("{}", e.message()));
        let a = f.root.get("a").expect("a");
        assert!(matches!(a.kind, JKind::Template(..)));
        let ev = Evaluator::new(Default::default(), Default::default());
        assert_eq!(a.eval(&ev, &Scope::default()), Val::String("20.118.99.224/32".into()));
    }
}
