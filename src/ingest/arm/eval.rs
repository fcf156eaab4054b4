//! Evaluates ARM template expressions (`"[concat('rt-', parameters('env'))]"`).
//!
//! Deployment-time values (`reference()`, `resourceGroup().location`,
//! `uniqueString()`, `utcNow()`…) are unknown with the reason; an expression
//! that cannot be parsed is unknown too, never a guess.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use kmsguard_arm_syntax::{classify_string, Expr, ExprKind, Json, JsonKind, StringValue};

use crate::ingest::value::{format_number, Val};
use crate::limits::{self, Budget, Limits};

/// Nesting deeper than this (variables referring to variables…) is refused.
const MAX_DEPTH: usize = 64;

/// Parameters, variables and copy indexes of one template scope.
pub struct Scope<'a> {
    /// Parameter values by lower-cased name, shared by every copy and
    /// lambda scope (copying them per copy-loop iteration made a large
    /// parameter cost its size once per instance, unseen by the budget).
    pub parameters: Rc<BTreeMap<String, Val>>,
    /// The template's `variables` object.
    pub variables: Option<&'a Json>,
    // Shared by every copy and lambda scope of the template: variables cannot
    // depend on a resource's copy index, so one evaluation serves them all.
    var_cache: Rc<RefCell<BTreeMap<String, Val>>>,
    var_stack: Rc<RefCell<HashSet<String>>>,
    /// Evaluation steps of the whole template, nested deployments included.
    pub budget: Budget,
    /// Active copy loops, innermost last: (loop name, index).
    pub copies: Vec<(String, usize)>,
    /// Lambda variables bound by map(), filter() and friends, innermost last.
    lambdas: Vec<(String, Rc<Val>)>,
    pub depth: usize,
}

impl<'a> Scope<'a> {
    /// A scope with a budget of its own, under the default limits.
    pub fn new(parameters: BTreeMap<String, Val>, variables: Option<&'a Json>, depth: usize) -> Self {
        Scope::within(parameters, variables, depth, Budget::new(Limits::default(), "template"))
    }

    /// A scope that spends from `budget`.
    pub fn within(parameters: BTreeMap<String, Val>, variables: Option<&'a Json>, depth: usize, budget: Budget) -> Self {
        Scope {
            parameters: Rc::new(parameters),
            variables,
            var_cache: Rc::new(RefCell::new(BTreeMap::new())),
            var_stack: Rc::new(RefCell::new(HashSet::new())),
            budget,
            copies: Vec::new(),
            lambdas: Vec::new(),
            depth,
        }
    }

    fn with_lambda(&self, bindings: Vec<(String, Val)>) -> Scope<'a> {
        let mut s = self.with_copy("", 0);
        s.copies.pop();
        s.lambdas.extend(bindings.into_iter().map(|(n, v)| (n, Rc::new(v))));
        s
    }

    /// The same scope inside one more copy loop iteration.
    pub fn with_copy(&self, name: &str, index: usize) -> Scope<'a> {
        let mut copies = self.copies.clone();
        copies.push((name.to_string(), index));
        Scope {
            parameters: self.parameters.clone(),
            variables: self.variables,
            var_cache: self.var_cache.clone(),
            var_stack: self.var_stack.clone(),
            budget: self.budget.clone(),
            copies,
            lambdas: self.lambdas.clone(),
            depth: self.depth,
        }
    }

    /// Evaluates any JSON value: strings may be expressions; objects and
    /// arrays are evaluated member by member.
    pub fn json(&self, j: &Json) -> Val {
        self.json_at(j, 0)
    }

    fn json_at(&self, j: &Json, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::unknown("the template nests values too deeply to evaluate");
        }
        match &j.kind {
            JsonKind::Null => Val::Null,
            JsonKind::Bool(b) => Val::Bool(*b),
            JsonKind::Number(n) => n.parse::<f64>().map(Val::Number).unwrap_or(Val::Null),
            JsonKind::String(s) => self.string(s, depth),
            // Arrays and objects cost a step each, like an expression: a copy
            // loop over nested empty arrays builds values from no expression.
            JsonKind::Array(_) | JsonKind::Object(_) if !self.budget.step() => self.budget.spent(),
            JsonKind::Array(items) => Val::List(items.iter().map(|i| self.json_at(i, depth + 1)).collect()),
            JsonKind::Object(members) => Val::Object(members.iter().map(|m| (m.key.clone(), self.json_at(&m.value, depth + 1))).collect()),
        }
    }

    /// A JSON string: a literal, or an expression when written `[...]`.
    pub fn string(&self, s: &str, depth: usize) -> Val {
        match classify_string(s) {
            // Literals are charged by their size: a copy loop copies them again.
            // Known whatever the budget says (see `Budget::literal`).
            Ok(StringValue::Literal(l)) => self.budget.literal(Val::String(l)),
            Ok(StringValue::Expression(e)) => self.expr(&e, depth),
            Err(e) => Val::unknown(format!("cannot parse the expression {s}: {}", e.message)),
        }
    }

    pub fn expr(&self, e: &Expr, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::unknown("the expression nests too deeply to evaluate");
        }
        if !self.budget.step() {
            return self.budget.spent();
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::String(s) => self.budget.charge(Val::String(s.clone())),
            ExprKind::Integer(i) => Val::Number(*i as f64),
            ExprKind::Property { target, name } => match self.expr(target, d) {
                Val::Object(o) => o
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| Val::unknown(format!("the value has no property {name}"))),
                Val::Unknown(r) => Val::Unknown(r),
                other => Val::unknown(format!("cannot read property {name} of a {}", other.type_name())),
            },
            ExprKind::Index { target, index } => {
                let t = self.expr(target, d);
                let i = self.expr(index, d);
                match (t, i) {
                    (Val::Unknown(r), _) | (_, Val::Unknown(r)) => Val::Unknown(r),
                    (Val::List(l), Val::Number(n)) => l
                        .get(n as usize)
                        .cloned()
                        .unwrap_or_else(|| Val::unknown(format!("index {} is out of range", format_number(n)))),
                    (Val::Object(o), k) => {
                        let key = k.to_tf_string().unwrap_or_default();
                        o.iter()
                            .find(|(kk, _)| kk.eq_ignore_ascii_case(&key))
                            .map(|(_, v)| v.clone())
                            .unwrap_or_else(|| Val::unknown(format!("the object has no property {key}")))
                    }
                    (t, _) => Val::unknown(format!("cannot index a {}", t.type_name())),
                }
            }
            ExprKind::Call { name, args } => self.call(name, args, d),
        }
    }

    fn call(&self, name: &str, args: &[Expr], depth: usize) -> Val {
        let lname = name.to_ascii_lowercase();
        // Functions that look at their arguments lazily or by name.
        match lname.as_str() {
            "parameters" => {
                let Some(Val::String(p)) = args.first().map(|a| self.expr(a, depth)) else {
                    return Val::unknown("parameters() needs a name");
                };
                return match self.parameters.get(&p.to_ascii_lowercase()) {
                    Some(v) => self.budget.charge(v.clone()),
                    None => Val::unknown(format!("the template has no parameter {p}")),
                };
            }
            "variables" => {
                let Some(Val::String(v)) = args.first().map(|a| self.expr(a, depth)) else {
                    return Val::unknown("variables() needs a name");
                };
                return self.variable(&v, depth);
            }
            "copyindex" => {
                let mut name = None;
                let mut offset = 0.0;
                for a in args {
                    match self.expr(a, depth) {
                        Val::String(s) => name = Some(s),
                        Val::Number(n) => offset = n,
                        other => return Val::unknown(format!("copyIndex() got a {}", other.type_name())),
                    }
                }
                let found = match &name {
                    Some(n) => self.copies.iter().rev().find(|(c, _)| c.eq_ignore_ascii_case(n)),
                    None => self.copies.last(),
                };
                return match found {
                    Some((_, i)) => Val::Number(*i as f64 + offset),
                    None => Val::unknown("copyIndex() is used outside a copy loop"),
                };
            }
            "if" => {
                let cond = args.first().map(|a| self.expr(a, depth));
                let pick = |i: usize| args.get(i).map(|a| self.expr(a, depth)).unwrap_or(Val::Null);
                return match cond {
                    Some(Val::Bool(true)) => pick(1),
                    Some(Val::Bool(false)) => pick(2),
                    Some(Val::Unknown(r)) => {
                        let (a, b) = (pick(1), pick(2));
                        if a == b && !a.has_unknown() {
                            a
                        } else {
                            Val::Unknown(r)
                        }
                    }
                    _ => Val::unknown("if() needs a bool condition"),
                };
            }
            "lambdavariables" => {
                let Some(Val::String(v)) = args.first().map(|a| self.expr(a, depth)) else {
                    return Val::unknown("lambdaVariables() needs a name");
                };
                return self
                    .lambdas
                    .iter()
                    .rev()
                    .find(|(n, _)| n.eq_ignore_ascii_case(&v))
                    .map(|(_, x)| self.budget.charge(Val::clone(x)))
                    .unwrap_or_else(|| Val::unknown(format!("lambdaVariables('{v}') is used outside its lambda")));
            }
            "map" | "filter" => {
                let coll = args.first().map(|a| self.expr(a, depth)).unwrap_or(Val::Null);
                let Some((params, body)) = args.get(1).and_then(lambda_parts) else {
                    return Val::unknown(format!("{name}() needs a lambda"));
                };
                let items = match coll {
                    Val::List(l) => l,
                    Val::Unknown(r) => return Val::Unknown(r),
                    other => return Val::unknown(format!("{name}() needs an array, not a {}", other.type_name())),
                };
                let mut out = Vec::new();
                for (i, item) in items.into_iter().enumerate() {
                    let mut b = vec![(params.first().cloned().unwrap_or_default(), item.clone())];
                    if let Some(p) = params.get(1) {
                        b.push((p.clone(), Val::Number(i as f64)));
                    }
                    let v = self.with_lambda(b).expr(body, depth);
                    if lname == "map" {
                        out.push(v);
                    } else {
                        match v {
                            Val::Bool(true) => out.push(item),
                            Val::Bool(false) => {}
                            Val::Unknown(r) => return Val::Unknown(r),
                            _ => return Val::unknown("filter() needs a bool lambda"),
                        }
                    }
                }
                return Val::List(out);
            }
            "reference" | "list" | "listkeys" | "listsecrets" => {
                return Val::unknown(format!("{name}() is read from Azure during the deployment"));
            }
            _ => {}
        }
        let vals: Vec<Val> = args.iter().map(|a| self.expr(a, depth)).collect();
        self.budget.charge(call_function(&lname, name, vals, &self.budget))
    }

    fn variable(&self, name: &str, depth: usize) -> Val {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.var_cache.borrow().get(&key) {
            return self.budget.charge(v.clone());
        }
        let Some(vars) = self.variables else {
            return Val::unknown(format!("the template has no variable {name}"));
        };
        if !self.var_stack.borrow_mut().insert(key.clone()) {
            return Val::unknown(format!("variable {name} refers to itself through a cycle"));
        }
        let v = match vars.get(name) {
            Some(def) => self.json_at(def, depth + 1),
            None => copy_variable(self, vars, name, depth).unwrap_or_else(|| Val::unknown(format!("the template has no variable {name}"))),
        };
        self.var_stack.borrow_mut().remove(&key);
        self.var_cache.borrow_mut().insert(key, v.clone());
        v
    }
}

/// `lambda('x', 'i', body)`: the parameter names and the body.
fn lambda_parts(e: &Expr) -> Option<(Vec<String>, &Expr)> {
    let ExprKind::Call { name, args } = &e.kind else { return None };
    if !name.eq_ignore_ascii_case("lambda") {
        return None;
    }
    let (body, names) = args.split_last()?;
    let names: Option<Vec<String>> = names.iter().map(|n| n.as_str().map(String::from)).collect();
    Some((names?, body))
}

/// A variable defined by a variables-level `copy` loop.
fn copy_variable(scope: &Scope, vars: &Json, name: &str, depth: usize) -> Option<Val> {
    let loops = vars.get("copy")?.as_array()?;
    let def = loops
        .iter()
        .find(|l| l.get("name").and_then(Json::as_str).is_some_and(|n| n.eq_ignore_ascii_case(name)))?;
    let count = match def.get("count").map(|c| scope.json_at(c, depth + 1)) {
        Some(Val::Number(n)) if n >= 0.0 => n as usize,
        Some(Val::Unknown(r)) => return Some(Val::Unknown(r)),
        _ => return Some(Val::unknown(format!("the copy count of variable {name} is not a number"))),
    };
    if count > scope.budget.limits.collection_size {
        return Some(Val::unknown(
            scope
                .budget
                .limits
                .too_many(&format!("the copy loop of variable {name}"), Some(count as f64)),
        ));
    }
    let input = def.get("input")?;
    let mut out = Vec::new();
    for i in 0..count {
        // Charged by the size of the input each element copies.
        if let Err(reason) = scope.budget.expand_instance(input.span.len()) {
            return Some(Val::unknown(reason));
        }
        out.push(scope.with_copy(name, i).json_at(input, depth + 1));
    }
    Some(Val::List(out))
}

/// The template functions that network templates commonly use, shared with
/// Bicep.
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
    // Functions that can work with partly unknown arrays and objects.
    let partial = matches!(
        lname,
        "concat" | "union" | "createarray" | "createobject" | "length" | "array" | "coalesce" | "first" | "last" | "empty"
    );
    if !partial {
        if let Some(r) = args.iter().find_map(Val::first_unknown) {
            return Val::Unknown(r);
        }
    } else if let Some(r) = args
        .iter()
        .find_map(|a| if let Val::Unknown(r) = a { Some(r.clone()) } else { None })
    {
        return Val::Unknown(r);
    }
    let str_arg = |i: usize| args.get(i).and_then(Val::to_tf_string);
    let num_arg = |i: usize| match args.get(i) {
        Some(Val::Number(n)) => Some(*n),
        Some(Val::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    match lname {
        "concat" => {
            if args.iter().all(|a| matches!(a, Val::List(_))) && !args.is_empty() {
                let n: usize = args.iter().map(|a| if let Val::List(l) = a { l.len() } else { 0 }).sum();
                if limits.exceeds_collection(n as f64) {
                    return Val::unknown(limits.too_many("concat()", Some(n as f64)));
                }
                Val::List(
                    args.into_iter()
                        .flat_map(|a| if let Val::List(l) = a { l } else { Vec::new() })
                        .collect(),
                )
            } else {
                let mut s = limits::BoundedString::new();
                for a in &args {
                    match a.to_tf_string() {
                        Some(t) => {
                            if s.push_str(&t).is_err() {
                                return limits::string_too_long("concat()");
                            }
                        }
                        None => return Val::unknown(format!("concat() cannot join a {}", a.type_name())),
                    }
                }
                Val::String(s.into_string())
            }
        }
        "format" => {
            let Some(fmt) = str_arg(0) else {
                return Val::unknown("format() needs a format string");
            };
            format_dotnet(&fmt, args.get(1..).unwrap_or_default())
        }
        "equals" => match (args.first(), args.get(1)) {
            (Some(a), Some(b)) => Val::Bool(loose_eq(a, b)),
            _ => Val::unknown("equals() needs two arguments"),
        },
        "and" => Val::Bool(args.iter().all(|a| *a == Val::Bool(true))),
        "or" => Val::Bool(args.contains(&Val::Bool(true))),
        "not" => match args.first() {
            Some(Val::Bool(b)) => Val::Bool(!b),
            _ => Val::unknown("not() needs a bool"),
        },
        "true" => Val::Bool(true),
        "false" => Val::Bool(false),
        "null" => Val::Null,
        "createarray" | "array" => {
            if lname == "array" {
                match args.into_iter().next() {
                    Some(Val::List(l)) => Val::List(l),
                    Some(v) => Val::List(vec![v]),
                    None => Val::List(Vec::new()),
                }
            } else {
                Val::List(args)
            }
        }
        "createobject" => {
            let mut o = BTreeMap::new();
            let mut it = args.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                match k.to_tf_string() {
                    Some(k) => {
                        o.insert(k, v);
                    }
                    None => return Val::unknown("createObject() keys are strings"),
                }
            }
            Val::Object(o)
        }
        "union" => {
            if args.iter().all(|a| matches!(a, Val::Object(_))) {
                let mut o = BTreeMap::new();
                for a in args {
                    if let Val::Object(m) = a {
                        o.extend(m);
                    }
                }
                Val::Object(o)
            } else {
                Val::List(crate::ingest::value::distinct(args.into_iter().flat_map(|a| {
                    if let Val::List(l) = a {
                        l
                    } else {
                        Vec::new()
                    }
                })))
            }
        }
        "empty" => Val::Bool(match args.first() {
            Some(Val::Null) | None => true,
            Some(Val::String(s)) => s.is_empty(),
            Some(Val::List(l)) => l.is_empty(),
            Some(Val::Object(o)) => o.is_empty(),
            Some(_) => false,
        }),
        "length" => match args.first() {
            Some(Val::String(s)) => Val::Number(s.chars().count() as f64),
            Some(Val::List(l)) => Val::Number(l.len() as f64),
            Some(Val::Object(o)) => Val::Number(o.len() as f64),
            _ => Val::unknown("length() needs a string, array or object"),
        },
        "contains" => match (args.first(), args.get(1)) {
            (Some(Val::String(s)), Some(v)) => Val::Bool(v.to_tf_string().is_some_and(|v| s.to_lowercase().contains(&v.to_lowercase()))),
            (Some(Val::List(l)), Some(v)) => Val::Bool(l.iter().any(|x| loose_eq(x, v))),
            (Some(Val::Object(o)), Some(v)) => Val::Bool(v.to_tf_string().is_some_and(|k| o.keys().any(|kk| kk.eq_ignore_ascii_case(&k)))),
            _ => Val::unknown("contains() needs a collection and a value"),
        },
        "first" | "last" => match args.first() {
            Some(Val::List(l)) => (if lname == "first" { l.first() } else { l.last() }).cloned().unwrap_or(Val::Null),
            Some(Val::String(s)) => Val::String(
                (if lname == "first" { s.chars().next() } else { s.chars().last() })
                    .map(String::from)
                    .unwrap_or_default(),
            ),
            _ => Val::unknown(format!("{name}() needs an array or string")),
        },
        // Changing case can triple a string's length, so one already at
        // the limit is not changed.
        "tolower" | "toupper" if matches!(args.first(), Some(Val::String(s)) if s.len() > limits::MAX_STRING) => {
            limits::string_too_long(&format!("{name}()"))
        }
        "tolower" => str_arg(0)
            .map(|s| Val::String(s.to_lowercase()))
            .unwrap_or_else(|| Val::unknown("toLower() needs a string")),
        "toupper" => str_arg(0)
            .map(|s| Val::String(s.to_uppercase()))
            .unwrap_or_else(|| Val::unknown("toUpper() needs a string")),
        "trim" => str_arg(0)
            .map(|s| Val::String(s.trim().to_string()))
            .unwrap_or_else(|| Val::unknown("trim() needs a string")),
        "replace" => match (str_arg(0), str_arg(1), str_arg(2)) {
            (Some(s), Some(a), Some(b)) if limits::replaced_len(&s, &a, &b) > limits::MAX_STRING => limits::string_too_long("replace()"),
            (Some(s), Some(a), Some(b)) if !a.is_empty() => Val::String(s.replace(&a, &b)),
            (Some(s), Some(_), Some(_)) => Val::String(s),
            _ => Val::unknown("replace() needs three strings"),
        },
        "split" => match (str_arg(0), args.get(1)) {
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
        },
        "join" => match (args.first(), str_arg(1)) {
            (Some(Val::List(l)), Some(d)) => {
                let parts: Vec<String> = l.iter().filter_map(Val::to_tf_string).collect();
                if limits::joined_len(parts.iter().map(String::as_str), &d) > limits::MAX_STRING {
                    return limits::string_too_long("join()");
                }
                Val::String(parts.join(&d))
            }
            _ => Val::unknown("join() needs an array and a delimiter"),
        },
        "startswith" | "endswith" => match (str_arg(0), str_arg(1)) {
            (Some(s), Some(p)) => {
                let (s, p) = (s.to_lowercase(), p.to_lowercase());
                Val::Bool(if lname == "startswith" {
                    s.starts_with(&p)
                } else {
                    s.ends_with(&p)
                })
            }
            _ => Val::unknown(format!("{name}() needs two strings")),
        },
        "string" => match args.first() {
            Some(Val::String(s)) => Val::String(s.clone()),
            Some(v @ (Val::Number(_) | Val::Bool(_))) => Val::String(v.to_tf_string().unwrap_or_default()),
            Some(Val::Null) => Val::String(String::new()),
            Some(v) => limits::display_bounded(v).map_or_else(|| limits::string_too_long("string()"), Val::String),
            None => Val::unknown("string() needs an argument"),
        },
        "int" => num_arg(0)
            .map(|n| Val::Number(n.trunc()))
            .unwrap_or_else(|| Val::unknown("int() needs a number")),
        "bool" => match args.first() {
            Some(Val::Bool(b)) => Val::Bool(*b),
            Some(Val::String(s)) => Val::Bool(s.eq_ignore_ascii_case("true")),
            Some(Val::Number(n)) => Val::Bool(*n != 0.0),
            _ => Val::unknown("bool() needs a value"),
        },
        "add" | "sub" | "mul" | "div" | "mod" => match (num_arg(0), num_arg(1)) {
            (Some(a), Some(b)) => match lname {
                "add" => Val::Number(a + b),
                "sub" => Val::Number(a - b),
                "mul" => Val::Number(a * b),
                "div" if b != 0.0 => Val::Number((a / b).trunc()),
                "mod" if b != 0.0 => Val::Number(a % b),
                _ => Val::unknown("division by zero"),
            },
            _ => Val::unknown(format!("{name}() needs two numbers")),
        },
        "less" | "lessorequals" | "greater" | "greaterorequals" => match (num_arg(0), num_arg(1)) {
            (Some(a), Some(b)) => Val::Bool(match lname {
                "less" => a < b,
                "lessorequals" => a <= b,
                "greater" => a > b,
                _ => a >= b,
            }),
            _ => Val::unknown(format!("{name}() needs two numbers")),
        },
        "min" | "max" => {
            let nums: Vec<f64> = args
                .iter()
                .flat_map(|a| match a {
                    Val::List(l) => l
                        .iter()
                        .filter_map(|v| if let Val::Number(n) = v { Some(*n) } else { None })
                        .collect(),
                    Val::Number(n) => vec![*n],
                    _ => Vec::new(),
                })
                .collect();
            let r = if lname == "min" {
                nums.iter().cloned().reduce(f64::min)
            } else {
                nums.iter().cloned().reduce(f64::max)
            };
            r.map(Val::Number)
                .unwrap_or_else(|| Val::unknown(format!("{name}() needs numbers")))
        }
        "coalesce" => args.into_iter().find(|a| *a != Val::Null).unwrap_or(Val::Null),
        "skip" | "take" => match (args.first(), num_arg(1)) {
            (Some(Val::List(l)), Some(n)) => {
                let n = (n.max(0.0) as usize).min(l.len());
                Val::List(if lname == "skip" {
                    l.get(n..).unwrap_or_default().to_vec()
                } else {
                    l.get(..n).unwrap_or_default().to_vec()
                })
            }
            (Some(Val::String(s)), Some(n)) => {
                let n = n.max(0.0) as usize;
                Val::String(if lname == "skip" {
                    s.chars().skip(n).collect()
                } else {
                    s.chars().take(n).collect()
                })
            }
            _ => Val::unknown(format!("{name}() needs an array or string and a number")),
        },
        "range" => match (num_arg(0), num_arg(1)) {
            (Some(_), Some(count)) if limits.exceeds_collection(count) => Val::unknown(limits.too_many("range()", Some(count))),
            (Some(start), Some(count)) if count >= 0.0 => Val::List((0..count as usize).map(|i| Val::Number(start + i as f64)).collect()),
            _ => Val::unknown("range() needs a start and a non-negative count"),
        },
        "json" => match str_arg(0) {
            Some(s) => serde_json::from_str::<serde_json::Value>(&s)
                .map(|j| crate::ingest::value::from_json(&j))
                .unwrap_or_else(|e| Val::unknown(format!("json() could not parse its argument: {e}"))),
            None => Val::unknown("json() needs a string"),
        },
        "resourceid" | "subscriptionresourceid" | "tenantresourceid" | "extensionresourceid" => {
            // Only the type and names matter for matching resources by id.
            let strs: Vec<String> = args.iter().filter_map(Val::to_tf_string).collect();
            match strs
                .iter()
                .position(|s| s.contains('/') && s.split('/').next().is_some_and(|p| p.contains('.')))
            {
                Some(i) => Val::String(format!(
                    "/providers/{}/{}",
                    strs.get(i).cloned().unwrap_or_default(),
                    strs.get(i + 1..).unwrap_or_default().join("/")
                )),
                None => Val::unknown(format!("{name}() could not be read")),
            }
        }
        "tryget" => {
            // What Bicep's `.?` compiles to: a missing property or index is null.
            let mut v = args.first().cloned().unwrap_or(Val::Null);
            for k in args.iter().skip(1) {
                v = match (v, k) {
                    (Val::Object(o), k) => k
                        .to_tf_string()
                        .and_then(|k| o.iter().find(|(kk, _)| kk.eq_ignore_ascii_case(&k)).map(|(_, x)| x.clone()))
                        .unwrap_or(Val::Null),
                    (Val::List(l), Val::Number(n)) => l.get(*n as usize).cloned().unwrap_or(Val::Null),
                    (Val::Unknown(r), _) => Val::Unknown(r),
                    _ => Val::Null,
                };
            }
            v
        }
        "items" => match args.first() {
            Some(Val::Object(o)) => Val::List(
                o.iter()
                    .map(|(k, v)| {
                        Val::Object(
                            [("key".to_string(), Val::String(k.clone())), ("value".to_string(), v.clone())]
                                .into_iter()
                                .collect(),
                        )
                    })
                    .collect(),
            ),
            _ => Val::unknown("items() needs an object"),
        },
        "objectkeys" => match args.first() {
            Some(Val::Object(o)) => Val::List(o.keys().map(|k| Val::String(k.clone())).collect()),
            _ => Val::unknown("objectKeys() needs an object"),
        },
        "substring" => match (str_arg(0), num_arg(1)) {
            (Some(s), Some(start)) => {
                let chars: Vec<char> = s.chars().collect();
                let start = (start.max(0.0) as usize).min(chars.len());
                let len = num_arg(2).map(|l| l.max(0.0) as usize).unwrap_or(chars.len() - start);
                Val::String(
                    chars
                        .get(start..(start + len).min(chars.len()))
                        .map(|c| c.iter().collect())
                        .unwrap_or_default(),
                )
            }
            _ => Val::unknown("substring() needs a string and a start index"),
        },
        "padleft" => match (str_arg(0), num_arg(1)) {
            (Some(s), Some(w)) => {
                let pad = str_arg(2).and_then(|p| p.chars().next()).unwrap_or(' ');
                let missing = (w.max(0.0) as usize).saturating_sub(s.chars().count());
                if missing > limits::MAX_STRING {
                    return limits::string_too_long("padLeft()");
                }
                Val::String(std::iter::repeat_n(pad, missing).chain(s.chars()).collect())
            }
            _ => Val::unknown("padLeft() needs a string and a width"),
        },
        "indexof" | "lastindexof" => match (args.first(), args.get(1)) {
            (Some(Val::String(s)), Some(v)) => {
                let needle = v.to_tf_string().unwrap_or_default().to_lowercase();
                let hay = s.to_lowercase();
                let pos = if lname == "indexof" {
                    hay.find(&needle)
                } else {
                    hay.rfind(&needle)
                };
                Val::Number(
                    pos.map(|p| hay.get(..p).map(|x| x.chars().count()).unwrap_or(0) as f64)
                        .unwrap_or(-1.0),
                )
            }
            (Some(Val::List(l)), Some(v)) => {
                let pos = if lname == "indexof" {
                    l.iter().position(|x| loose_eq(x, v))
                } else {
                    l.iter().rposition(|x| loose_eq(x, v))
                };
                Val::Number(pos.map(|p| p as f64).unwrap_or(-1.0))
            }
            _ => Val::unknown(format!("{name}() needs a string or array and a value")),
        },
        "cidrsubnet" => match (str_arg(0), num_arg(1), num_arg(2)) {
            (Some(net), Some(len), Some(index)) => cidr_subnet(&net, len, index),
            _ => Val::unknown("cidrSubnet() needs a prefix, a prefix length and an index"),
        },
        "resourcegroup" => deployment_object("resourceGroup()"),
        "subscription" => deployment_object("subscription()"),
        "deployment" => deployment_object("deployment()"),
        "tenant" | "managementgroup" => deployment_object(&format!("{name}()")),
        "environment" => deployment_object("environment()"),
        _ => Val::unknown(format!("the template function {name}() is not evaluated by kmsguard")),
    }
}

/// ARM's `cidrSubnet(network, newPrefixLength, index)`.
fn cidr_subnet(net: &str, len: f64, index: f64) -> Val {
    let Ok(net) = net.trim().parse::<ipnet::Ipv4Net>() else {
        return Val::unknown(format!("cidrSubnet(): {net} is not an IPv4 prefix kmsguard can split"));
    };
    let new_len = len as u8;
    if new_len < net.prefix_len() || new_len > 32 || index < 0.0 {
        return Val::unknown("cidrSubnet(): the prefix length or index is out of range");
    }
    let count = 1u64 << (new_len - net.prefix_len());
    let index = index as u64;
    if index >= count {
        return Val::unknown("cidrSubnet(): the index is out of range");
    }
    let size = 1u64 << (32 - new_len);
    let start = u64::from(u32::from(net.network())) + index * size;
    match ipnet::Ipv4Net::new(std::net::Ipv4Addr::from(start as u32), new_len) {
        Ok(n) => Val::String(n.to_string()),
        Err(_) => Val::unknown("cidrSubnet(): the result is not a prefix"),
    }
}

/// An object whose properties are only known at deployment.
fn deployment_object(what: &str) -> Val {
    Val::unknown(format!("{what} is only known during the deployment"))
}

fn loose_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::String(x), Val::String(y)) => x == y,
        (Val::Number(_), Val::String(_)) | (Val::String(_), Val::Number(_)) => a.to_tf_string() == b.to_tf_string(),
        _ => a == b,
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
    use super::*;

    /// Found by fuzzing (the arm_expr target, after 3.3 million runs):
    /// Rust's `{:0width$}` panics past a width of 65,535.
    #[test]
    fn a_huge_format_width_is_unknown_not_a_panic() {
        for spec in ["[format('r {0:d777777777777777777', copyIndex(1))]", "[format('{0:D70000000}', 1)]"] {
            let v = Scope::new(BTreeMap::new(), None, 0).with_copy("", 0).string(spec, 0);
            assert!(matches!(&v, Val::Unknown(r) if r.contains("format()")), "{spec}: {v:?}");
        }
        assert!(matches!(eval("[format('{0:Dx}', 1)]", &[]), Val::Unknown(r) if r.contains("cannot read")));
        assert!(matches!(eval("[format('{0:D70000}', 1)]", &[]), Val::String(s) if s.len() == 70_000));
    }

    fn eval(expr: &str, params: &[(&str, Val)]) -> Val {
        let scope = Scope::new(params.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(), None, 0);
        scope.string(expr, 0)
    }

    fn s(x: &str) -> Val {
        Val::String(x.into())
    }

    #[test]
    fn literals_and_escapes() {
        assert_eq!(eval("plain", &[]), s("plain"));
        assert_eq!(eval("[[notAnExpression]", &[]), s("[notAnExpression]"));
        assert_eq!(eval("['it''s']", &[]), s("it's"));
    }

    #[test]
    fn parameters_are_case_insensitive() {
        assert_eq!(
            eval("[concat(parameters('FirewallIp'), '/32')]", &[("firewallip", s("10.0.1.4"))]),
            s("10.0.1.4/32")
        );
    }

    #[test]
    fn format_and_if() {
        assert_eq!(eval("[format('{0}-rt-{1:D2}', 'hub', 7)]", &[]), s("hub-rt-07"));
        assert_eq!(eval("[format('{0:D5}', -42)]", &[]), s("-00042"));
        assert_eq!(
            eval(
                "[if(equals(parameters('hop'), 'fw'), 'VirtualAppliance', 'Internet')]",
                &[("hop", s("fw"))]
            ),
            s("VirtualAppliance")
        );
    }

    #[test]
    fn deployment_values_are_unknown() {
        assert!(eval("[reference('fw').ipConfigurations[0].properties.privateIPAddress]", &[]).is_unknown());
        assert!(eval("[resourceGroup().location]", &[]).is_unknown());
        assert!(eval("[uniqueString('x')]", &[]).is_unknown());
    }

    #[test]
    fn a_missing_parameter_is_unknown_not_an_error() {
        assert!(eval("[parameters('nope')]", &[]).is_unknown());
    }

    #[test]
    fn arrays_and_objects() {
        assert_eq!(eval("[length(createArray(1, 2, 3))]", &[]), Val::Number(3.0));
        assert_eq!(eval("[union(createObject('a', 1), createObject('b', 2)).b]", &[]), Val::Number(2.0));
        assert_eq!(eval("[contains(createArray('a'), 'a')]", &[]), Val::Bool(true));
        assert_eq!(eval("[tryGet(createObject('a', 1), 'b')]", &[]), Val::Null);
        assert_eq!(
            eval("[map(createArray(1, 2), lambda('x', add(lambdaVariables('x'), 10)))]", &[]),
            Val::List(vec![Val::Number(11.0), Val::Number(12.0)])
        );
        assert_eq!(eval("[cidrSubnet('10.144.0.0/20', 24, 2)]", &[]), s("10.144.2.0/24"));
    }
}
