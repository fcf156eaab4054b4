//! Evaluates ARM template expressions (`"[concat('rt-', parameters('env'))]"`).
//!
//! Deployment-time values (`reference()`, `resourceGroup().location`,
//! `uniqueString()`, `utcNow()`…) are unknown with the reason; an expression
//! that cannot be parsed is unknown too, never a guess.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashSet};
use std::rc::Rc;

use kmsguard_arm_syntax::{classify_string, Expr, ExprKind, Json, JsonKind, StringValue};

use super::functions::call_function;
use crate::ingest::value::{format_number, Val};
use crate::limits::{Budget, Limits};

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
        if let Err(reason) = scope.budget.expand_instance(input.span.len()).map_err(|spent| spent.to_string()) {
            return Some(Val::unknown(reason));
        }
        out.push(scope.with_copy(name, i).json_at(input, depth + 1));
    }
    Some(Val::List(out))
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
