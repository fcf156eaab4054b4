//! Evaluates Bicep expressions. Bicep compiles to ARM's template functions,
//! so the function library is ARM's; Bicep adds operators, lambdas, loops
//! and symbolic references to parameters, variables and resources.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use kmsguard_bicep_syntax::{
    ArrayItem, ArrayItemKind, BinaryOp, Expr, ExprKind, FuncDecl, ObjectMember, ObjectMemberKind, PropertyKeyKind, StringPart, UnaryOp,
};

use crate::ingest::arm::functions::call_function;
use crate::ingest::value::Val;
use crate::limits::{self, Budget, Limits};

const MAX_DEPTH: usize = 96;

/// What a symbolic resource name evaluates to: `rt.name`, `rt.id`, `rt.properties…`.
#[derive(Debug, Clone)]
pub struct Symbol {
    pub ty: String,
    pub name: Val,
    pub properties: Val,
}

/// A user-defined function (`func name(a string) T => body`), with the
/// evaluator of the file that declares it when that is another file (an
/// import): its body sees that file's functions, not the caller's.
#[derive(Clone)]
pub struct Func<'a> {
    pub decl: &'a FuncDecl,
    pub home: Option<Rc<Evaluator<'a>>>,
}

/// The declarations of one Bicep file being evaluated.
pub struct Evaluator<'a> {
    pub params: BTreeMap<String, Val>,
    pub vars: HashMap<String, &'a Expr>,
    pub resources: HashMap<String, Symbol>,
    /// Imported variables (`import {a} from …`), and namespaces
    /// (`import * as ns from …`) as objects of their exported variables.
    pub imported: BTreeMap<String, Val>,
    /// User-defined functions, declared here or imported by name.
    pub funcs: HashMap<String, Func<'a>>,
    /// `import * as ns from …`: the namespace's file, for `ns.f()`.
    pub namespaces: HashMap<String, Rc<Evaluator<'a>>>,
    /// Modules by symbolic name: `{ name, outputs }` (a list for a loop),
    /// or unknown with the reason its outputs are.
    pub modules: BTreeMap<String, Val>,
    var_cache: RefCell<HashMap<String, Val>>,
    var_stack: RefCell<HashSet<String>>,
    /// Shared by a deployment's root file and every module it calls.
    pub budget: Budget,
}

/// Loop and lambda variables.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    // Shared, not copied, by nested scopes: an inner loop would otherwise
    // copy every outer loop's (possibly large) item once per element.
    bindings: Vec<(String, Rc<Val>)>,
}

impl Scope {
    pub fn with(&self, name: &str, v: Val) -> Scope {
        let mut s = self.clone();
        s.bindings.push((name.to_string(), Rc::new(v)));
        s
    }

    fn get(&self, name: &str) -> Option<&Val> {
        self.bindings.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_ref())
    }
}

impl<'a> Evaluator<'a> {
    pub fn new(params: BTreeMap<String, Val>, vars: HashMap<String, &'a Expr>) -> Self {
        Evaluator {
            params,
            vars,
            resources: HashMap::new(),
            imported: BTreeMap::new(),
            funcs: HashMap::new(),
            namespaces: HashMap::new(),
            modules: BTreeMap::new(),
            var_cache: RefCell::new(HashMap::new()),
            var_stack: RefCell::new(HashSet::new()),
            budget: Budget::new(Limits::default(), "Bicep deployment"),
        }
    }

    /// Spends steps from `budget` (a deployment's) instead of its own.
    pub fn within(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    pub fn eval(&self, e: &Expr, scope: &Scope) -> Val {
        self.expr(e, scope, 0)
    }

    /// Forgets the variables evaluated so far: a module's outputs became
    /// known, and a variable that reads them was unknown before.
    pub fn forget_cached_vars(&self) {
        self.var_cache.borrow_mut().clear();
    }

    /// Calls the user-defined function `func` with `args` (values).
    fn call_user(&self, func: &Func<'a>, args: Vec<Val>, d: usize) -> Val {
        let home = func.home.as_deref().unwrap_or(self);
        if func.decl.params.len() != args.len() {
            return Val::unknown(format!(
                "{}() takes {} arguments, not {}",
                func.decl.name.name,
                func.decl.params.len(),
                args.len()
            ));
        }
        // A function's body sees only its parameters (and functions).
        let mut scope = Scope::default();
        for (p, v) in func.decl.params.iter().zip(args) {
            scope = scope.with(&p.name.name, v);
        }
        home.expr(&func.decl.body, &scope, d + 1)
    }

    fn expr(&self, e: &Expr, scope: &Scope, depth: usize) -> Val {
        if depth > MAX_DEPTH {
            return Val::unknown("the expression nests too deeply to evaluate");
        }
        // Literals are known whatever the budget says (see `Budget::literal`).
        match &e.kind {
            ExprKind::Integer(i) => return Val::Number(*i as f64),
            ExprKind::Bool(b) => return Val::Bool(*b),
            ExprKind::Null => return Val::Null,
            ExprKind::MultilineString(s) => return self.budget.literal(Val::String(s.clone())),
            ExprKind::String(parts) if parts.iter().all(|p| matches!(p, kmsguard_bicep_syntax::StringPart::Text { .. })) => {
                let text: String = parts
                    .iter()
                    .filter_map(|p| match p {
                        kmsguard_bicep_syntax::StringPart::Text { value, .. } => Some(value.as_str()),
                        _ => None,
                    })
                    .collect();
                return self.budget.literal(Val::String(text));
            }
            _ => {}
        }
        if !self.budget.step() {
            return self.budget.spent();
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::String(parts) => self.string(parts, scope, d),
            // Literals are charged by their size: a loop copies them again.
            ExprKind::MultilineString(s) => self.budget.charge(Val::String(s.clone())),
            ExprKind::Integer(i) => Val::Number(*i as f64),
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Null => Val::Null,
            ExprKind::Ident(id) => self.ident(&id.name, scope, d),
            ExprKind::Array(items) => self.array(items, scope, d),
            ExprKind::Object(members) => self.object(members, scope, d),
            ExprKind::Property { base, name, safe } => self.property(base, &name.name, *safe, scope, d),
            ExprKind::Index {
                base,
                index,
                safe,
                from_end,
            } => self.index(base, index, *safe, *from_end, scope, d),
            ExprKind::Call { target, name, args } => self.call(target.as_deref(), &name.name, args, scope, d),
            ExprKind::ResourceAccess { name, .. } => self.ident(&name.name, scope, d),
            ExprKind::Unary { op, operand } => match (op, self.expr(operand, scope, d)) {
                (_, Val::Unknown(r)) => Val::Unknown(r),
                (UnaryOp::Not, Val::Bool(b)) => Val::Bool(!b),
                (UnaryOp::Neg, Val::Number(n)) => Val::Number(-n),
                _ => Val::unknown("the operator does not apply to this value"),
            },
            ExprKind::NonNull(inner) | ExprKind::Paren(inner) => self.expr(inner, scope, d),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, scope, d),
            ExprKind::Ternary { cond, then, otherwise } => self.ternary(cond, then, otherwise, scope, d),
            ExprKind::Lambda { .. } => Val::unknown("a lambda is only evaluated inside map(), filter() and similar"),
            ExprKind::For {
                item,
                index,
                iterable,
                body,
            } => self.for_loop(&item.name, index.as_ref().map(|i| i.name.as_str()), iterable, body, scope, d),
            ExprKind::If { body, .. } => self.expr(body, scope, d),
        }
    }

    /// `[a, b, ...c]`.
    fn array(&self, items: &[ArrayItem], scope: &Scope, d: usize) -> Val {
        let mut out = Vec::new();
        for item in items {
            match &item.kind {
                ArrayItemKind::Value(v) => out.push(self.expr(v, scope, d)),
                ArrayItemKind::Spread(v) => match self.expr(v, scope, d) {
                    Val::List(l) => out.extend(l),
                    Val::Unknown(r) => return Val::Unknown(r),
                    _ => return Val::unknown("only arrays can be spread into an array"),
                },
            }
        }
        Val::List(out)
    }

    /// `{ a: 1, ...o }`; an unknown key makes the object unknown.
    fn object(&self, members: &[ObjectMember], scope: &Scope, d: usize) -> Val {
        let mut out = BTreeMap::new();
        for m in members {
            match &m.kind {
                ObjectMemberKind::Property { key, value } => {
                    let Some(k) = self.key(key, scope, d) else {
                        return Val::unknown("an object key is unknown");
                    };
                    out.insert(k, self.expr(value, scope, d));
                }
                ObjectMemberKind::Spread(v) => match self.expr(v, scope, d) {
                    Val::Object(o) => out.extend(o),
                    Val::Unknown(r) => return Val::Unknown(r),
                    _ => return Val::unknown("only objects can be spread into an object"),
                },
                ObjectMemberKind::Resource { .. } => {}
            }
        }
        Val::Object(out)
    }

    /// `base.name`, or `base.?name` (`safe`): null where the property or
    /// the base is missing.
    fn property(&self, base: &Expr, name: &str, safe: bool, scope: &Scope, d: usize) -> Val {
        match self.expr(base, scope, d) {
            Val::Object(o) => o
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| {
                    if safe {
                        Val::Null
                    } else {
                        Val::unknown(format!("the value has no property {name}"))
                    }
                }),
            Val::Null if safe => Val::Null,
            Val::Unknown(r) => Val::Unknown(r),
            other => Val::unknown(format!("cannot read {name} of a {}", other.type_name())),
        }
    }

    /// `base[index]`, `base[?index]` (`safe`) or `base[^index]` (`from_end`).
    fn index(&self, base: &Expr, index: &Expr, safe: bool, from_end: bool, scope: &Scope, d: usize) -> Val {
        let b = self.expr(base, scope, d);
        let i = self.expr(index, scope, d);
        match (b, i) {
            (Val::Unknown(r), _) | (_, Val::Unknown(r)) => Val::Unknown(r),
            (Val::Null, _) if safe => Val::Null,
            (Val::List(l), Val::Number(n)) => {
                let idx = if from_end {
                    l.len().checked_sub(n as usize)
                } else {
                    Some(n as usize)
                };
                idx.and_then(|i| l.get(i).cloned()).unwrap_or_else(|| {
                    if safe {
                        Val::Null
                    } else {
                        Val::unknown("the index is out of range")
                    }
                })
            }
            (Val::Object(o), k) => {
                let key = k.to_tf_string().unwrap_or_default();
                o.iter()
                    .find(|(kk, _)| kk.eq_ignore_ascii_case(&key))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_else(|| {
                        if safe {
                            Val::Null
                        } else {
                            Val::unknown(format!("the object has no property {key}"))
                        }
                    })
            }
            (b, _) => Val::unknown(format!("cannot index a {}", b.type_name())),
        }
    }

    /// `cond ? then : otherwise`; an unknown condition is unknown unless
    /// both branches agree.
    fn ternary(&self, cond: &Expr, then: &Expr, otherwise: &Expr, scope: &Scope, d: usize) -> Val {
        match self.expr(cond, scope, d) {
            Val::Bool(true) => self.expr(then, scope, d),
            Val::Bool(false) => self.expr(otherwise, scope, d),
            Val::Unknown(r) => {
                let (a, b) = (self.expr(then, scope, d), self.expr(otherwise, scope, d));
                if a == b && !a.has_unknown() {
                    a
                } else {
                    Val::Unknown(r)
                }
            }
            _ => Val::unknown("the condition is not a bool"),
        }
    }

    /// `[for (item, index) in iterable: body]`, where a body of
    /// `if (cond) value` filters.
    fn for_loop(&self, item: &str, index: Option<&str>, iterable: &Expr, body: &Expr, scope: &Scope, d: usize) -> Val {
        let items = match self.expr(iterable, scope, d) {
            Val::List(l) => l,
            Val::Unknown(r) => return Val::Unknown(r),
            other => return Val::unknown(format!("a for loop needs an array, not a {}", other.type_name())),
        };
        if items.len() > self.budget.limits.collection_size {
            return Val::unknown(self.budget.limits.too_many("the loop", Some(items.len() as f64)));
        }
        let mut out = Vec::new();
        for (i, v) in items.into_iter().enumerate() {
            let mut s = scope.with(item, v);
            if let Some(ix) = index {
                s = s.with(ix, Val::Number(i as f64));
            }
            match &body.kind {
                ExprKind::If { cond, body } => match self.expr(cond, &s, d) {
                    Val::Bool(true) => out.push(self.expr(body, &s, d)),
                    Val::Bool(false) => {}
                    Val::Unknown(r) => return Val::Unknown(r),
                    _ => return Val::unknown("a loop filter is not a bool"),
                },
                _ => out.push(self.expr(body, &s, d)),
            }
        }
        Val::List(out)
    }

    pub fn string(&self, parts: &[StringPart], scope: &Scope, depth: usize) -> Val {
        // Measured before each piece is added: `'${big}${big}…'` stops at
        // the limit instead of building what the pieces add up to.
        let mut out = limits::BoundedString::new();
        for p in parts {
            let added = match p {
                StringPart::Text { value, .. } => out.push_str(value),
                StringPart::Interpolation(e) => match self.expr(e, scope, depth) {
                    Val::Unknown(r) => return Val::Unknown(r),
                    v => match v.to_tf_string() {
                        Some(s) => out.push_str(&s),
                        None => match limits::display_bounded(&v) {
                            Some(s) => out.push_str(&s),
                            None => Err(limits::TooLong),
                        },
                    },
                },
            };
            if added.is_err() {
                return limits::string_too_long("a string interpolation");
            }
        }
        self.budget.charge(Val::String(out.into_string()))
    }

    pub fn key(&self, key: &kmsguard_bicep_syntax::PropertyKey, scope: &Scope, depth: usize) -> Option<String> {
        match &key.kind {
            PropertyKeyKind::Ident(s) => Some(s.clone()),
            PropertyKeyKind::String(parts) => self.string(parts, scope, depth).to_tf_string(),
        }
    }

    fn ident(&self, name: &str, scope: &Scope, depth: usize) -> Val {
        if let Some(v) = scope.get(name) {
            return self.budget.charge(v.clone());
        }
        if let Some(v) = self.params.get(name) {
            return self.budget.charge(v.clone());
        }
        if self.vars.contains_key(name) {
            return self.var(name, depth);
        }
        if let Some(r) = self.resources.get(name) {
            return self.budget.charge(resource_value(r));
        }
        if let Some(v) = self.imported.get(name).or_else(|| self.modules.get(name)) {
            return self.budget.charge(v.clone());
        }
        Val::unknown(format!("{name} is not known to kmsguard"))
    }

    fn var(&self, name: &str, depth: usize) -> Val {
        if let Some(v) = self.var_cache.borrow().get(name) {
            return self.budget.charge(v.clone());
        }
        let Some(e) = self.vars.get(name).copied() else {
            return Val::unknown(format!("variable {name} is not declared"));
        };
        if !self.var_stack.borrow_mut().insert(name.to_string()) {
            return Val::unknown(format!("variable {name} refers to itself through a cycle"));
        }
        let v = self.expr(e, &Scope::default(), depth + 1);
        self.var_stack.borrow_mut().remove(name);
        self.var_cache.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    fn binary(&self, op: BinaryOp, lhs: &Expr, rhs: &Expr, scope: &Scope, d: usize) -> Val {
        let l = self.expr(lhs, scope, d);
        match (op, &l) {
            (BinaryOp::And, Val::Bool(false)) => return Val::Bool(false),
            (BinaryOp::Or, Val::Bool(true)) => return Val::Bool(true),
            (BinaryOp::Coalesce, v) if *v != Val::Null && !v.is_unknown() => return l,
            _ => {}
        }
        let r = self.expr(rhs, scope, d);
        if op == BinaryOp::Coalesce {
            return if l == Val::Null { r } else { l };
        }
        if let (Val::Unknown(x), _) | (_, Val::Unknown(x)) = (&l, &r) {
            if let (BinaryOp::And, Val::Bool(false)) | (BinaryOp::Or, Val::Bool(true)) = (op, &r) {
                return r;
            }
            return Val::Unknown(x.clone());
        }
        let num = |v: &Val| if let Val::Number(n) = v { Some(*n) } else { None };
        match op {
            BinaryOp::Equals => Val::Bool(l == r),
            BinaryOp::NotEquals => Val::Bool(l != r),
            BinaryOp::EqualsInsensitive | BinaryOp::NotEqualsInsensitive => {
                let eq = match (&l, &r) {
                    (Val::String(a), Val::String(b)) => a.eq_ignore_ascii_case(b),
                    _ => l == r,
                };
                Val::Bool(if op == BinaryOp::EqualsInsensitive { eq } else { !eq })
            }
            BinaryOp::And | BinaryOp::Or => match (&l, &r) {
                (Val::Bool(a), Val::Bool(b)) => Val::Bool(if op == BinaryOp::And { *a && *b } else { *a || *b }),
                _ => Val::unknown("logical operators need bools"),
            },
            BinaryOp::Add => match (&l, &r) {
                (Val::Number(a), Val::Number(b)) => Val::Number(a + b),
                _ => Val::unknown("+ needs numbers"),
            },
            _ => match (num(&l), num(&r)) {
                (Some(a), Some(b)) => match op {
                    BinaryOp::Subtract => Val::Number(a - b),
                    BinaryOp::Multiply => Val::Number(a * b),
                    BinaryOp::Divide if b != 0.0 => Val::Number((a / b).trunc()),
                    BinaryOp::Modulo if b != 0.0 => Val::Number(a % b),
                    BinaryOp::Less => Val::Bool(a < b),
                    BinaryOp::LessEqual => Val::Bool(a <= b),
                    BinaryOp::Greater => Val::Bool(a > b),
                    BinaryOp::GreaterEqual => Val::Bool(a >= b),
                    _ => Val::unknown("the operation is not defined for these values"),
                },
                _ => Val::unknown("the operator needs numbers"),
            },
        }
    }

    fn call(&self, target: Option<&Expr>, name: &str, args: &[Expr], scope: &Scope, d: usize) -> Val {
        // `sys.` and `az.` are namespaces; any other target is a resource or an import.
        if let Some(t) = target {
            let ns = match &t.kind {
                ExprKind::Ident(i) => i.name.as_str(),
                _ => "",
            };
            if let Some(home) = self.namespaces.get(ns) {
                let Some(func) = home.funcs.get(name).cloned() else {
                    return Val::unknown(format!("{name}() is not a function {ns} exports"));
                };
                let vals: Vec<Val> = args.iter().map(|a| self.expr(a, scope, d)).collect();
                return home.call_user(&func, vals, d);
            }
            if ns != "sys" && ns != "az" {
                return Val::unknown(format!("{name}() on {ns} is evaluated at deployment or comes from an import"));
            }
        } else if let Some(func) = self.funcs.get(name).cloned() {
            let vals: Vec<Val> = args.iter().map(|a| self.expr(a, scope, d)).collect();
            return self.call_user(&func, vals, d);
        }
        let lname = name.to_ascii_lowercase();
        // Higher-order functions evaluate their lambda per element.
        if matches!(
            lname.as_str(),
            "map" | "filter" | "sort" | "reduce" | "toobject" | "groupby" | "mapvalues"
        ) {
            return self.higher_order(&lname, args, scope, d);
        }
        let vals: Vec<Val> = args.iter().map(|a| self.expr(a, scope, d)).collect();
        match lname.as_str() {
            "flatten" => match vals.first() {
                Some(Val::List(l)) => {
                    let n: usize = l.iter().map(|v| if let Val::List(x) = v { x.len() } else { 1 }).sum();
                    if self.budget.limits.exceeds_collection(n as f64) {
                        return Val::unknown(self.budget.limits.too_many("flatten()", Some(n as f64)));
                    }
                    self.budget.charge(Val::List(
                        l.iter()
                            .flat_map(|v| if let Val::List(x) = v { x.clone() } else { vec![v.clone()] })
                            .collect(),
                    ))
                }
                Some(Val::Unknown(r)) => Val::Unknown(r.clone()),
                _ => Val::unknown("flatten() needs an array"),
            },
            "loadtextcontent" | "loadjsoncontent" | "loadfileasbase64" | "loadyamlcontent" => {
                Val::unknown(format!("{name}() reads another file, which kmsguard does not load"))
            }
            _ => self.budget.charge(call_function(&lname, name, vals, &self.budget)),
        }
    }

    fn higher_order(&self, lname: &str, args: &[Expr], scope: &Scope, d: usize) -> Val {
        let coll = args.first().map(|a| self.expr(a, scope, d)).unwrap_or(Val::Null);
        let Some(ExprKind::Lambda { params, body }) = args.get(1).map(|a| &a.kind) else {
            return Val::unknown(format!("{lname}() needs a lambda"));
        };
        let items = match coll {
            Val::List(l) => l,
            Val::Object(o) if lname == "mapvalues" => o.into_values().collect(),
            Val::Unknown(r) => return Val::Unknown(r),
            _ => return Val::unknown(format!("{lname}() needs an array")),
        };
        let p0 = params.first().map(|p| p.name.as_str()).unwrap_or("_");
        let apply = |v: &Val, i: usize| {
            let mut s = scope.with(p0, v.clone());
            if let Some(p1) = params.get(1) {
                s = s.with(&p1.name, Val::Number(i as f64));
            }
            self.expr(body, &s, d)
        };
        match lname {
            "map" => Val::List(items.iter().enumerate().map(|(i, v)| apply(v, i)).collect()),
            "filter" => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match apply(v, i) {
                        Val::Bool(true) => out.push(v.clone()),
                        Val::Bool(false) => {}
                        Val::Unknown(r) => return Val::Unknown(r),
                        _ => return Val::unknown("filter() needs a bool lambda"),
                    }
                }
                Val::List(out)
            }
            _ => Val::unknown(format!("{lname}() is not evaluated by kmsguard")),
        }
    }
}

/// A resource symbol as an expression sees it.
pub fn resource_value(r: &Symbol) -> Val {
    let id = match r.name.to_tf_string() {
        Some(n) => Val::String(format!("/providers/{}/{}", r.ty, n)),
        None => Val::unknown("the resource id is only known at deployment"),
    };
    Val::Object(
        [
            ("name".to_string(), r.name.clone()),
            ("id".to_string(), id),
            ("type".to_string(), Val::String(r.ty.clone())),
            ("properties".to_string(), r.properties.clone()),
        ]
        .into_iter()
        .collect(),
    )
}
