//! Evaluates Terraform expressions (hcl-edit's AST) to [`Val`]s.
//!
//! What kmsguard cannot know before apply (resource attributes, data sources,
//! variables without a value) evaluates to [`Val::Unknown`] with the reason.
//! Genuine evaluation errors (a missing map key, a wrong type) are kept apart
//! as [`EvalError`], because `try()` and `can()` treat them differently from
//! unknown values, as Terraform does.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use hcl::edit::expr::{
    BinaryOperator, Conditional, Expression, ForExpr, FuncCall, Object, ObjectKey, Traversal, TraversalOperator, UnaryOperator,
};
use hcl::edit::template::{Element, Template};
use hcl::edit::Span;

use super::functions;
use super::json::{JKind, JVal};
use crate::ingest::value::Val;
use crate::limits::{self, Budget, Limits};

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 128;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalError(pub String);

pub type EvalResult = Result<Val, EvalError>;

fn err<T>(msg: impl Into<String>) -> Result<T, EvalError> {
    Err(EvalError(msg.into()))
}

/// Names bound while evaluating: `each`, `count`, a dynamic block's iterator,
/// a for-expression's variables.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    // Shared, not copied, by the scopes nested in this one: a dynamic block
    // inside a resource with a large `each.value` would otherwise copy that
    // value once per element it iterates over.
    bindings: Vec<(String, Rc<Val>)>,
}

impl Scope {
    pub fn with(&self, name: impl Into<String>, value: Val) -> Scope {
        let mut s = self.clone();
        s.bindings.push((name.into(), Rc::new(value)));
        s
    }

    fn get(&self, name: &str) -> Option<&Val> {
        self.bindings.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_ref())
    }
}

/// A local value's definition: its expression and the text it was parsed from.
pub struct LocalDef<'a> {
    pub expr: &'a Expression,
    pub text: Arc<str>,
}

/// Everything needed to evaluate expressions of one module.
pub struct Evaluator<'a> {
    pub variables: BTreeMap<String, Val>,
    /// Outputs of the module calls evaluated so far, by call name.
    pub modules: BTreeMap<String, Val>,
    pub locals: HashMap<String, LocalDef<'a>>,
    /// Locals written in `.tf.json` files (`"locals": {…}`).
    pub json_locals: HashMap<String, &'a JVal>,
    local_cache: RefCell<HashMap<String, Val>>,
    local_stack: RefCell<HashSet<String>>,
    /// Shared by a root module and every module it calls.
    pub budget: Budget,
}

impl<'a> Evaluator<'a> {
    pub fn new(variables: BTreeMap<String, Val>, locals: HashMap<String, LocalDef<'a>>) -> Self {
        Evaluator {
            variables,
            modules: BTreeMap::new(),
            locals,
            json_locals: HashMap::new(),
            local_cache: RefCell::new(HashMap::new()),
            local_stack: RefCell::new(HashSet::new()),
            budget: Budget::new(Limits::default(), "module"),
        }
    }

    /// Spends steps from `budget` (a root module's) instead of its own.
    pub fn within(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    pub fn limits(&self) -> &Limits {
        &self.budget.limits
    }

    /// Evaluates `expr`, parsed from `text`, in `scope`.
    pub fn eval(&self, expr: &Expression, text: &str, scope: &Scope) -> EvalResult {
        self.expr(expr, text, scope, 0)
    }

    fn expr(&self, expr: &Expression, text: &str, scope: &Scope, depth: usize) -> EvalResult {
        if depth > MAX_DEPTH {
            return err("expression nesting is too deep to evaluate");
        }
        // Literals are known whatever the budget says (see `Budget::literal`);
        // a string is charged by its size while steps are left: in a resource
        // with `count`, each instance copies it again.
        match expr {
            Expression::Null(_) => return Ok(Val::Null),
            Expression::Bool(b) => return Ok(Val::Bool(*b.value())),
            Expression::Number(n) => return Ok(n.value().as_f64().map(Val::Number).unwrap_or(Val::Null)),
            Expression::String(s) => return Ok(self.budget.literal(Val::String(s.value().clone()))),
            _ => {}
        }
        if !self.budget.step() {
            return Ok(self.budget.spent());
        }
        let d = depth + 1;
        match expr {
            Expression::Null(_) => Ok(Val::Null),
            Expression::Bool(b) => Ok(Val::Bool(*b.value())),
            Expression::Number(n) => Ok(n.value().as_f64().map(Val::Number).unwrap_or(Val::Null)),
            Expression::String(s) => Ok(Val::String(s.value().clone())),
            Expression::Array(a) => {
                let mut out = Vec::with_capacity(a.len());
                for e in a.iter() {
                    out.push(self.expr(e, text, scope, d)?);
                }
                Ok(Val::List(out))
            }
            Expression::Object(o) => self.object(o, text, scope, d),
            // A template that is one interpolation and nothing else is the
            // interpolated value itself, not converted to a string (HCL's
            // template "unwrapping"): `"${var.routes}"` is a list.
            Expression::StringTemplate(t) => match t.iter().collect::<Vec<_>>().as_slice() {
                [Element::Interpolation(i)] if !i.strip.strip_start() && !i.strip.strip_end() => self.expr(&i.expr, text, scope, d),
                _ => self.template(t, text, scope, d),
            },
            Expression::HeredocTemplate(h) => {
                let v = self.template(&h.template, text, scope, d)?;
                Ok(match (v, h.indent()) {
                    (Val::String(s), Some(indent)) => Val::String(dedent(&s, indent)),
                    (v, _) => v,
                })
            }
            Expression::Parenthesis(p) => self.expr(p.inner(), text, scope, d),
            Expression::Variable(v) => self.root(v.as_str(), scope),
            Expression::Conditional(c) => self.conditional(c, text, scope, d),
            Expression::FuncCall(call) => self.func_call(call, expr, text, scope, d),
            Expression::Traversal(t) => self.traversal(t, expr, text, scope, d),
            Expression::UnaryOp(u) => {
                let v = self.expr(&u.expr, text, scope, d)?;
                match (u.operator.value(), v) {
                    (_, Val::Unknown(r)) => Ok(Val::Unknown(r)),
                    (UnaryOperator::Not, Val::Bool(b)) => Ok(Val::Bool(!b)),
                    (UnaryOperator::Neg, Val::Number(n)) => Ok(Val::Number(-n)),
                    (op, v) => err(format!("cannot apply {op:?} to {}", v.type_name())),
                }
            }
            Expression::BinaryOp(b) => {
                let op = *b.operator.value();
                let l = self.expr(&b.lhs_expr, text, scope, d)?;
                // `false && x` and `true || x` do not need x.
                match (op, &l) {
                    (BinaryOperator::And, Val::Bool(false)) => return Ok(Val::Bool(false)),
                    (BinaryOperator::Or, Val::Bool(true)) => return Ok(Val::Bool(true)),
                    _ => {}
                }
                let r = self.expr(&b.rhs_expr, text, scope, d)?;
                binary(op, l, r)
            }
            Expression::ForExpr(f) => self.for_expr(f, text, scope, d),
        }
    }

    /// An object constructor; a key that is unknown makes the object unknown.
    fn object(&self, o: &Object, text: &str, scope: &Scope, d: usize) -> EvalResult {
        let mut out = BTreeMap::new();
        for (k, v) in o.iter() {
            let key = match k {
                ObjectKey::Ident(i) => i.as_str().to_string(),
                ObjectKey::Expression(e) => match self.expr(e, text, scope, d)? {
                    Val::Unknown(r) => return Ok(Val::Unknown(r)),
                    other => other
                        .to_tf_string()
                        .ok_or_else(|| EvalError(format!("object key must be a string, not {}", other.type_name())))?,
                },
            };
            out.insert(key, self.expr(v.expr(), text, scope, d)?);
        }
        Ok(Val::Object(out))
    }

    /// `cond ? a : b`.
    fn conditional(&self, c: &Conditional, text: &str, scope: &Scope, d: usize) -> EvalResult {
        let cond = self.expr(&c.cond_expr, text, scope, d)?;
        match cond {
            Val::Bool(true) => self.expr(&c.true_expr, text, scope, d),
            Val::Bool(false) => self.expr(&c.false_expr, text, scope, d),
            Val::Unknown(r) => {
                // Both branches may agree, as in `x ? "Internet" : "Internet"`.
                let a = self.expr(&c.true_expr, text, scope, d)?;
                let b = self.expr(&c.false_expr, text, scope, d)?;
                if a == b && !a.has_unknown() {
                    Ok(a)
                } else {
                    Ok(Val::Unknown(r))
                }
            }
            other => err(format!("condition must be a bool, not {}", other.type_name())),
        }
    }

    /// A function call: `try()` and `can()` here, the built-ins through
    /// their tables, `f(list...)` expanded first.
    fn func_call(&self, call: &FuncCall, expr: &Expression, text: &str, scope: &Scope, d: usize) -> EvalResult {
        let name = call.name.name.as_str();
        let namespaced = call.name.is_namespaced();
        if namespaced {
            return Ok(Val::unknown(format!(
                "the provider function {} is not evaluated by kmsguard",
                snippet(text, expr)
            )));
        }
        // try() and can() see errors of their arguments, so they evaluate lazily.
        match name {
            "try" => {
                let mut last = EvalError("try() needs at least one argument".into());
                for arg in call.args.iter() {
                    match self.expr(arg, text, scope, d) {
                        Ok(v) => return Ok(v),
                        Err(e) => last = e,
                    }
                }
                return Err(EvalError(format!("no argument of try() could be evaluated: {}", last.0)));
            }
            "can" => {
                return Ok(match call.args.iter().next().map(|a| self.expr(a, text, scope, d)) {
                    Some(Ok(v)) if v.is_unknown() => v,
                    Some(Ok(_)) => Val::Bool(true),
                    Some(Err(_)) => Val::Bool(false),
                    None => return err("can() needs one argument"),
                });
            }
            _ => {}
        }
        let mut args = Vec::with_capacity(call.args.len());
        for arg in call.args.iter() {
            args.push(self.expr(arg, text, scope, d)?);
        }
        if call.args.expand_final() {
            match args.pop() {
                Some(Val::List(rest)) => args.extend(rest),
                Some(Val::Unknown(r)) => return Ok(Val::Unknown(r)),
                Some(other) => return err(format!("cannot expand {} as function arguments", other.type_name())),
                None => {}
            }
        }
        functions::call(name, args, &self.budget).map(|v| self.budget.charge(v))
    }

    fn traversal(&self, t: &Traversal, expr: &Expression, text: &str, scope: &Scope, d: usize) -> EvalResult {
        // var.X and local.X are resolved by name, so that only the
        // locals actually used are evaluated (and cycles are caught).
        let mut ops = t.operators.iter().map(|o| o.value()).peekable();
        let mut value = match (&t.expr, ops.peek()) {
            (Expression::Variable(v), Some(TraversalOperator::GetAttr(attr))) if v.as_str() == "var" => {
                let name = attr.as_str().to_string();
                ops.next();
                match self.variables.get(&name) {
                    Some(v) => self.budget.charge(v.clone()),
                    None => return err(format!("there is no variable named \"{name}\" in this module")),
                }
            }
            (Expression::Variable(v), Some(TraversalOperator::GetAttr(attr)))
                if v.as_str() == "module" && self.modules.contains_key(attr.as_str()) =>
            {
                let v = self.budget.charge(self.modules.get(attr.as_str()).cloned().unwrap_or(Val::Null));
                ops.next();
                v
            }
            (Expression::Variable(v), Some(TraversalOperator::GetAttr(attr))) if v.as_str() == "local" => {
                let name = attr.as_str().to_string();
                ops.next();
                self.local(&name, d)?
            }
            (Expression::Variable(v), _) if scope.get(v.as_str()).is_none() && is_reference_root(v.as_str()) => {
                return Ok(Val::unknown(reference_reason(&snippet(text, expr))));
            }
            (base, _) => self.expr(base, text, scope, d)?,
        };
        let ops: Vec<&TraversalOperator> = ops.collect();
        value = self.traverse(value, &ops, text, scope, d)?;
        Ok(value)
    }

    /// `[for k, v in coll : …]` and `{for k, v in coll : k => v}`, with
    /// `if` and grouping (`...`).
    fn for_expr(&self, f: &ForExpr, text: &str, scope: &Scope, d: usize) -> EvalResult {
        let coll = self.expr(&f.intro.collection_expr, text, scope, d)?;
        let items: Vec<(Val, Val)> = match coll {
            Val::Unknown(r) => return Ok(Val::Unknown(r)),
            Val::List(l) => l.into_iter().enumerate().map(|(i, v)| (Val::Number(i as f64), v)).collect(),
            Val::Object(o) => o.into_iter().map(|(k, v)| (Val::String(k), v)).collect(),
            other => return err(format!("for expression needs a list or map, not {}", other.type_name())),
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_string());
        let value_var = f.intro.value_var.as_str().to_string();
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Val> = BTreeMap::new();
        let mut grouped: BTreeMap<String, Vec<Val>> = BTreeMap::new();
        for (k, v) in items {
            let mut inner = scope.with(value_var.clone(), v);
            if let Some(kv) = &key_var {
                inner = inner.with(kv.clone(), k);
            }
            if let Some(cond) = &f.cond {
                match self.expr(&cond.expr, text, &inner, d)? {
                    Val::Bool(true) => {}
                    Val::Bool(false) => continue,
                    Val::Unknown(r) => return Ok(Val::Unknown(r)),
                    other => return err(format!("for expression condition must be a bool, not {}", other.type_name())),
                }
            }
            let value = self.expr(&f.value_expr, text, &inner, d)?;
            match &f.key_expr {
                None => list.push(value),
                Some(ke) => {
                    let key = match self.expr(ke, text, &inner, d)? {
                        Val::Unknown(r) => return Ok(Val::Unknown(r)),
                        k => k
                            .to_tf_string()
                            .ok_or_else(|| EvalError("for expression key must be a string".into()))?,
                    };
                    if f.grouping {
                        grouped.entry(key).or_default().push(value);
                    } else if object.insert(key.clone(), value).is_some() {
                        return err(format!("duplicate key \"{key}\" in for expression (use ... to group)"));
                    }
                }
            }
            if list.len() + object.len() + grouped.len() > self.limits().collection_size {
                return Ok(Val::unknown(self.limits().too_many("a for expression", None)));
            }
        }
        Ok(match &f.key_expr {
            None => Val::List(list),
            Some(_) if f.grouping => Val::Object(grouped.into_iter().map(|(k, v)| (k, Val::List(v))).collect()),
            Some(_) => Val::Object(object),
        })
    }

    fn root(&self, name: &str, scope: &Scope) -> EvalResult {
        if let Some(v) = scope.get(name) {
            return Ok(self.budget.charge(v.clone()));
        }
        match name {
            "var" => Ok(self.budget.charge(Val::Object(self.variables.clone()))),
            "path" => Ok(Val::unknown("path.* values depend on where Terraform runs")),
            "terraform" => Ok(Val::unknown("terraform.workspace depends on where Terraform runs")),
            "each" => Ok(Val::unknown("each.key and each.value are only known for a resource with for_each")),
            "count" => Ok(Val::unknown("count.index is only known for a resource with count")),
            other if is_reference_root(other) => Ok(Val::unknown(reference_reason(other))),
            other => err(format!("unknown name \"{other}\"")),
        }
    }

    fn local(&self, name: &str, depth: usize) -> EvalResult {
        if let Some(v) = self.local_cache.borrow().get(name) {
            return Ok(self.budget.charge(v.clone()));
        }
        let def = self.locals.get(name);
        let json = self.json_locals.get(name);
        if def.is_none() && json.is_none() {
            return err(format!("there is no local value named \"{name}\" in this module"));
        }
        if !self.local_stack.borrow_mut().insert(name.to_string()) {
            return Ok(Val::unknown(format!("local.{name} refers to itself through a cycle")));
        }
        let result = match (def, json) {
            (Some(def), _) => {
                let text = def.text.clone();
                self.expr(def.expr, &text, &Scope::default(), depth + 1)
            }
            (None, Some(json)) => self.json(json, &Scope::default(), depth + 1),
            (None, None) => Ok(Val::Null),
        };
        self.local_stack.borrow_mut().remove(name);
        let v = result?;
        self.local_cache.borrow_mut().insert(name.to_string(), v.clone());
        Ok(v)
    }

    /// Evaluates a value written in Terraform's JSON syntax, whose strings
    /// are templates.
    pub(super) fn json(&self, value: &JVal, scope: &Scope, depth: usize) -> EvalResult {
        if depth > MAX_DEPTH {
            return err("expression nesting is too deep to evaluate");
        }
        Ok(match &value.kind {
            JKind::Null => Val::Null,
            JKind::Bool(b) => Val::Bool(*b),
            JKind::Number(n) => Val::Number(*n),
            JKind::String(s) => self.budget.literal(Val::String(s.clone())),
            JKind::Template(expr, text) => return self.expr(expr, text, scope, depth + 1),
            JKind::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.json(item, scope, depth + 1)?);
                }
                Val::List(out)
            }
            JKind::Object(members) => {
                let mut out = BTreeMap::new();
                for (k, v) in members {
                    out.insert(k.clone(), self.json(v, scope, depth + 1)?);
                }
                Val::Object(out)
            }
        })
    }

    fn traverse(&self, mut value: Val, ops: &[&TraversalOperator], text: &str, scope: &Scope, depth: usize) -> EvalResult {
        let mut i = 0;
        while let Some(op) = ops.get(i) {
            if let Val::Unknown(_) = value {
                return Ok(value);
            }
            match op {
                TraversalOperator::GetAttr(attr) => value = get_attr(value, attr.as_str())?,
                TraversalOperator::Index(e) => {
                    let idx = self.expr(e, text, scope, depth)?;
                    value = index(value, idx)?;
                }
                TraversalOperator::LegacyIndex(n) => value = index(value, Val::Number(*n.value() as f64))?,
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let rest = ops.get(i + 1..).unwrap_or_default();
                    let elems = match value {
                        Val::List(l) => l,
                        Val::Null => Vec::new(),
                        single => vec![single],
                    };
                    let mut out = Vec::with_capacity(elems.len());
                    for e in elems {
                        out.push(self.traverse(e, rest, text, scope, depth)?);
                    }
                    return Ok(Val::List(out));
                }
            }
            i += 1;
        }
        Ok(value)
    }

    fn template(&self, t: &Template, text: &str, scope: &Scope, depth: usize) -> EvalResult {
        // Measured before each piece is added: a template that repeats a
        // large value stops at the limit rather than after building it all.
        let mut out = limits::BoundedString::new();
        for el in t.iter() {
            let added = match el {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.expr(&i.expr, text, scope, depth)? {
                    Val::Unknown(r) => return Ok(Val::Unknown(r)),
                    v => match v.to_tf_string() {
                        Some(s) => out.push_str(&s),
                        None if v == Val::Null => return err("cannot interpolate null into a string"),
                        None => return err(format!("cannot interpolate a {} into a string", v.type_name())),
                    },
                },
                Element::Directive(_) => {
                    return Ok(Val::unknown(
                        "template directives (%{ if } / %{ for }) are not evaluated by kmsguard",
                    ));
                }
            };
            if added.is_err() {
                return Ok(limits::string_too_long("a string template"));
            }
        }
        Ok(self.budget.charge(Val::String(out.into_string())))
    }
}

/// Roots that name another resource, a data source or a module: their
/// attributes are only known after apply.
fn is_reference_root(name: &str) -> bool {
    name == "data" || name == "module" || name.contains('_')
}

fn reference_reason(text: &str) -> String {
    let text = text.trim();
    if text.starts_with("data.") {
        format!("{text} is read from Azure when Terraform runs")
    } else if text.starts_with("module.") {
        format!("{text} is an output of another module")
    } else {
        format!("{text} is only known after apply")
    }
}

/// The source text of an expression, for messages.
pub fn snippet(text: &str, expr: &Expression) -> String {
    expr.span()
        .and_then(|s| text.get(s))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "an expression".into())
}

fn dedent(s: &str, indent: usize) -> String {
    s.split_inclusive('\n')
        .map(|line| {
            let strip = line.chars().take(indent).take_while(|c| *c == ' ').count();
            line.get(strip..).unwrap_or(line)
        })
        .collect()
}

fn get_attr(value: Val, attr: &str) -> EvalResult {
    match value {
        Val::Object(mut o) => match o.remove(attr) {
            Some(v) => Ok(v),
            None => err(format!("the value has no attribute \"{attr}\"")),
        },
        Val::Unknown(r) => Ok(Val::Unknown(r)),
        Val::Null => err(format!("cannot read \"{attr}\" of null")),
        other => err(format!("cannot read \"{attr}\" of a {}", other.type_name())),
    }
}

fn index(value: Val, idx: Val) -> EvalResult {
    match (value, idx) {
        (Val::Unknown(r), _) | (_, Val::Unknown(r)) => Ok(Val::Unknown(r)),
        (Val::List(mut l), Val::Number(n)) => {
            if n < 0.0 || n.fract() != 0.0 || n as usize >= l.len() {
                return err(format!(
                    "index {} is out of range for a list of {}",
                    crate::ingest::value::format_number(n),
                    l.len()
                ));
            }
            Ok(l.swap_remove(n as usize))
        }
        (Val::List(l), Val::String(s)) => match s.parse::<usize>() {
            Ok(i) if i < l.len() => Ok(l.into_iter().nth(i).unwrap_or(Val::Null)),
            _ => err(format!("cannot index a list with \"{s}\"")),
        },
        (Val::Object(o), k) => {
            let key = k.to_tf_string().ok_or_else(|| EvalError("map keys are strings".into()))?;
            get_attr(Val::Object(o), &key)
        }
        (v, _) => err(format!("cannot index a {}", v.type_name())),
    }
}

fn binary(op: BinaryOperator, l: Val, r: Val) -> EvalResult {
    use BinaryOperator as B;
    match op {
        B::Eq | B::NotEq => {
            if l.has_unknown() || r.has_unknown() {
                return Ok(l
                    .first_unknown()
                    .or_else(|| r.first_unknown())
                    .map(Val::Unknown)
                    .unwrap_or(Val::Null));
            }
            let eq = loose_eq(&l, &r);
            Ok(Val::Bool(if op == B::Eq { eq } else { !eq }))
        }
        B::And | B::Or => match (l, r) {
            (Val::Bool(a), Val::Bool(b)) => Ok(Val::Bool(if op == B::And { a && b } else { a || b })),
            (Val::Unknown(x), Val::Bool(b)) | (Val::Bool(b), Val::Unknown(x)) => {
                // unknown && false is false; unknown || true is true.
                if op == B::And && !b {
                    Ok(Val::Bool(false))
                } else if op == B::Or && b {
                    Ok(Val::Bool(true))
                } else {
                    Ok(Val::Unknown(x))
                }
            }
            (Val::Unknown(x), _) | (_, Val::Unknown(x)) => Ok(Val::Unknown(x)),
            (a, b) => err(format!("logical operators need bools, not {} and {}", a.type_name(), b.type_name())),
        },
        _ => {
            let (a, b) = match (l, r) {
                (Val::Unknown(x), _) | (_, Val::Unknown(x)) => return Ok(Val::Unknown(x)),
                (a, b) => (to_number(&a)?, to_number(&b)?),
            };
            Ok(match op {
                B::Plus => Val::Number(a + b),
                B::Minus => Val::Number(a - b),
                B::Mul => Val::Number(a * b),
                B::Div if b == 0.0 => return err("division by zero"),
                B::Div => Val::Number(a / b),
                B::Mod if b == 0.0 => return err("modulo by zero"),
                B::Mod => Val::Number(a % b),
                B::Less => Val::Bool(a < b),
                B::LessEq => Val::Bool(a <= b),
                B::Greater => Val::Bool(a > b),
                B::GreaterEq => Val::Bool(a >= b),
                _ => return err("unsupported operator"),
            })
        }
    }
}

/// Terraform compares a number and its string form as different values, but
/// tfvars often carry numbers as strings; kmsguard compares by string form.
fn loose_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Number(_), Val::String(_)) | (Val::String(_), Val::Number(_)) => a.to_tf_string() == b.to_tf_string(),
        _ => a == b,
    }
}

pub fn to_number(v: &Val) -> Result<f64, EvalError> {
    match v {
        Val::Number(n) => Ok(*n),
        Val::String(s) => s.trim().parse().map_err(|_| EvalError(format!("\"{s}\" is not a number"))),
        other => err(format!("expected a number, not {}", other.type_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_with(src: &str, vars: &[(&str, Val)]) -> EvalResult {
        let expr = hcl::edit::parser::parse_expr(src).expect("parses");
        let ev = Evaluator::new(vars.iter().map(|(k, v)| (k.to_string(), v.clone())).collect(), HashMap::new());
        ev.eval(&expr, src, &Scope::default())
    }

    fn eval(src: &str) -> EvalResult {
        eval_with(src, &[])
    }

    fn s(x: &str) -> Val {
        Val::String(x.into())
    }

    #[test]
    fn templates_interpolate_known_values() {
        assert_eq!(
            eval_with(r#""${var.ip}/32""#, &[("ip", s("20.118.99.224"))]),
            Ok(s("20.118.99.224/32"))
        );
    }

    #[test]
    fn a_variable_without_value_stays_unknown_with_its_reason() {
        let v = eval_with(r#""${var.ip}/32""#, &[("ip", Val::unknown("var.ip has no value"))]).expect("evaluates");
        assert_eq!(v, Val::unknown("var.ip has no value"));
    }

    #[test]
    fn resource_attributes_are_unknown_until_apply() {
        let v = eval("azurerm_firewall.hub.ip_configuration[0].private_ip_address").expect("evaluates");
        assert!(matches!(&v, Val::Unknown(r) if r.contains("only known after apply")), "{v:?}");
    }

    #[test]
    fn conditionals_pick_a_branch_or_agree_when_unknown() {
        assert_eq!(eval(r#"true ? "Internet" : "None""#), Ok(s("Internet")));
        let agree = eval_with(r#"var.x ? "Internet" : "Internet""#, &[("x", Val::unknown("?"))]);
        assert_eq!(agree, Ok(s("Internet")));
        let differ = eval_with(r#"var.x ? "Internet" : "None""#, &[("x", Val::unknown("?"))]).expect("ok");
        assert!(differ.is_unknown());
    }

    #[test]
    fn for_expressions_build_lists_and_maps() {
        assert_eq!(eval(r#"[for x in ["a", "b"] : upper(x)]"#), Ok(Val::List(vec![s("A"), s("B")])));
        let m = eval(r#"{ for k, v in { a = 1, b = 2 } : v => k if v > 1 }"#).expect("ok");
        assert_eq!(m, Val::Object([("2".to_string(), s("b"))].into_iter().collect()));
    }

    #[test]
    fn try_falls_back_on_errors_but_not_on_unknowns() {
        assert_eq!(eval(r#"try({ a = 1 }.b, "fallback")"#), Ok(s("fallback")));
        let u = eval_with(r#"try(var.x, "fallback")"#, &[("x", Val::unknown("?"))]).expect("ok");
        assert!(u.is_unknown());
        assert_eq!(eval(r#"can({ a = 1 }.b)"#), Ok(Val::Bool(false)));
    }

    #[test]
    fn splats_map_over_lists() {
        assert_eq!(eval(r#"[{ n = "a" }, { n = "b" }][*].n"#), Ok(Val::List(vec![s("a"), s("b")])));
    }

    #[test]
    fn logic_with_unknowns_is_three_valued() {
        let x = [("x", Val::unknown("?"))];
        assert_eq!(eval_with("var.x && false", &x), Ok(Val::Bool(false)));
        assert_eq!(eval_with("var.x || true", &x), Ok(Val::Bool(true)));
        assert!(eval_with("var.x == 1", &x).expect("ok").is_unknown());
    }

    #[test]
    fn a_long_chain_of_locals_is_an_error_not_a_crash() {
        // hcl-edit refuses nesting past 64 levels itself; chains of locals are
        // the only way to recurse deeper.
        let texts: Vec<(String, Arc<str>)> = (0..400)
            .map(|i| {
                (
                    format!("l{i}"),
                    Arc::from(if i == 399 { "1".to_string() } else { format!("local.l{}", i + 1) }),
                )
            })
            .collect();
        let exprs: Vec<Expression> = texts
            .iter()
            .map(|(_, t)| hcl::edit::parser::parse_expr(t).expect("parses"))
            .collect();
        let locals = texts
            .iter()
            .zip(&exprs)
            .map(|((n, t), e)| (n.clone(), LocalDef { expr: e, text: t.clone() }))
            .collect();
        let ev = Evaluator::new(BTreeMap::new(), locals);
        let start = hcl::edit::parser::parse_expr("local.l0").expect("parses");
        assert!(ev.eval(&start, "local.l0", &Scope::default()).is_err());
    }

    #[test]
    fn a_template_of_one_interpolation_is_the_value_itself() {
        let text = "x = \"${[1, 2]}\"\ny = \"a${1}\"\nz = \"${~ 1 ~}\"\n";
        let body = hcl::edit::parser::parse_body(text).expect("parses");
        let ev = Evaluator::new(BTreeMap::new(), HashMap::new());
        let get = |k: &str| ev.eval(&body.get_attribute(k).expect("attr").value, text, &Scope::default());
        assert_eq!(get("x"), Ok(Val::List(vec![Val::Number(1.0), Val::Number(2.0)])));
        assert_eq!(get("y"), Ok(Val::String("a1".into())));
        assert_eq!(get("z"), Ok(Val::String("1".into())));
    }

    #[test]
    fn a_cycle_of_locals_is_unknown() {
        let (ta, tb): (Arc<str>, Arc<str>) = (Arc::from("local.b"), Arc::from("local.a"));
        let (ea, eb) = (
            hcl::edit::parser::parse_expr(&ta).expect("a"),
            hcl::edit::parser::parse_expr(&tb).expect("b"),
        );
        let locals = [
            (
                "a".to_string(),
                LocalDef {
                    expr: &ea,
                    text: ta.clone(),
                },
            ),
            (
                "b".to_string(),
                LocalDef {
                    expr: &eb,
                    text: tb.clone(),
                },
            ),
        ]
        .into_iter()
        .collect();
        let ev = Evaluator::new(BTreeMap::new(), locals);
        let v = ev.eval(&ea, &ta, &Scope::default()).expect("evaluates");
        assert!(matches!(&v, Val::Unknown(r) if r.contains("cycle")), "{v:?}");
    }
}
