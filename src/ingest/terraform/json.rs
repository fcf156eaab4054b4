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
            let escaped = s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
            let source: Arc<str> = Arc::from(format!("\"{escaped}\""));
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
