//! A resource body's attributes, evaluated once, each with the place it was
//! written. Blocks, `dynamic` content and objects of the attribute form
//! (`route = [ { … } ]`) all become [`Fields`], so one lowering function
//! serves every way a route or a rule can be written.

use std::collections::BTreeMap;

use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::Body;
use hcl::edit::Span;

use super::eval::{snippet, Evaluator, Scope};
use crate::ingest::value::Val;
use crate::model::{Field, Unresolved};
use crate::source::{FileId, Origin};

pub struct Fields {
    map: BTreeMap<String, (Val, Origin)>,
    /// The block or object itself.
    pub origin: Origin,
}

impl Fields {
    /// Evaluates every attribute of a block body.
    pub fn from_body(ev: &Evaluator, body: &Body, text: &str, file: FileId, scope: &Scope, origin: Origin) -> Fields {
        let mut map = BTreeMap::new();
        for attr in body.attributes() {
            let o = Origin::new(file, attr.value.span().unwrap_or(origin.span().clone()));
            map.insert(attr.key.as_str().to_string(), (eval_or_unknown(ev, &attr.value, text, scope), o));
        }
        Fields { map, origin }
    }

    /// Evaluates an object written out in the source, keeping each item's place.
    pub fn from_expr(ev: &Evaluator, expr: &Expression, text: &str, file: FileId, scope: &Scope) -> Fields {
        let origin = Origin::new(file, expr.span().unwrap_or(0..0));
        if let Expression::Object(obj) = expr {
            let mut map = BTreeMap::new();
            for (k, v) in obj.iter() {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(e) => match ev.eval(e, text, scope) {
                        Ok(Val::String(s)) => s,
                        _ => continue,
                    },
                };
                let o = Origin::new(file, v.expr().span().unwrap_or(origin.span().clone()));
                map.insert(key, (eval_or_unknown(ev, v.expr(), text, scope), o));
            }
            return Fields { map, origin };
        }
        Fields::from_value(eval_or_unknown(ev, expr, text, scope), origin)
    }

    /// Fields from (key, value, place) triples.
    pub fn from_pairs(pairs: impl Iterator<Item = (String, Val, Origin)>, origin: Origin) -> Fields {
        Fields {
            map: pairs.map(|(k, v, o)| (k, (v, o))).collect(),
            origin,
        }
    }

    /// Wraps an evaluated object; every field shares the object's place.
    pub fn from_value(value: Val, origin: Origin) -> Fields {
        let map = match value {
            Val::Object(o) => o.into_iter().map(|(k, v)| (k, (v, origin.clone()))).collect(),
            _ => BTreeMap::new(),
        };
        Fields { map, origin }
    }

    /// An attribute that is set to something other than null.
    pub fn present(&self, key: &str) -> Option<&(Val, Origin)> {
        self.map.get(key).filter(|(v, _)| *v != Val::Null)
    }

    /// A string attribute; numbers and bools convert as Terraform converts them.
    pub fn string(&self, key: &str) -> Option<Field<String>> {
        let (v, o) = self.present(key)?;
        Some(match v {
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: o.clone(),
            }),
            v => match v.to_tf_string() {
                Some(s) => Field::Known(s, o.clone()),
                None => Field::unknown(Unresolved {
                    reason: format!("{key} is a {}, not a string", v.type_name()),
                    origin: o.clone(),
                }),
            },
        })
    }

    /// A string attribute parsed by `parse`; a value it rejects is unknown with `what` as the reason.
    pub fn parsed<T>(&self, key: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Option<Field<T>> {
        Some(match self.string(key)? {
            Field::Known(s, o) => match parse(&s) {
                Some(v) => Field::Known(v, o),
                None => Field::unknown(Unresolved {
                    reason: format!("{key} \"{s}\" is not {what}"),
                    origin: o,
                }),
            },
            Field::Unknown(u) => Field::Unknown(u),
        })
    }

    /// A list attribute (or a single string) as one field per element.
    pub fn list<T>(&self, key: &str, parse: impl Fn(&str) -> Option<T>, what: &str) -> Vec<Field<T>> {
        let Some((v, o)) = self.present(key) else {
            return Vec::new();
        };
        let one = |v: &Val| -> Option<Field<T>> {
            match v {
                Val::Unknown(r) => Some(Field::unknown(Unresolved {
                    reason: r.to_string(),
                    origin: o.clone(),
                })),
                Val::Null => None,
                Val::String(s) if s.is_empty() => None,
                v => {
                    let s = v.to_tf_string()?;
                    Some(match parse(&s) {
                        Some(t) => Field::Known(t, o.clone()),
                        None => Field::unknown(Unresolved {
                            reason: format!("{key} entry \"{s}\" is not {what}"),
                            origin: o.clone(),
                        }),
                    })
                }
            }
        };
        match v {
            Val::List(items) => items.iter().filter_map(one).collect(),
            other => one(other).into_iter().collect(),
        }
    }

    pub fn bool(&self, key: &str) -> Option<Field<bool>> {
        let (v, o) = self.present(key)?;
        Some(match v {
            Val::Bool(b) => Field::Known(*b, o.clone()),
            Val::String(s) if s == "true" || s == "false" => Field::Known(s == "true", o.clone()),
            Val::Unknown(r) => Field::unknown(Unresolved {
                reason: r.to_string(),
                origin: o.clone(),
            }),
            other => Field::unknown(Unresolved {
                reason: format!("{key} is a {}, not a bool", other.type_name()),
                origin: o.clone(),
            }),
        })
    }
}

/// Evaluates an expression; an evaluation error becomes an unknown value
/// whose reason quotes the expression, so no verdict rests on it.
pub fn eval_or_unknown(ev: &Evaluator, expr: &Expression, text: &str, scope: &Scope) -> Val {
    match ev.eval(expr, text, scope) {
        Ok(v) => v,
        Err(e) => Val::unknown(format!("cannot evaluate {}: {}", snippet(text, expr), e.0)),
    }
}
