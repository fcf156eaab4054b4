//! Helpers shared by the integration tests.
#![allow(dead_code)]

use kmsguard_bicep_syntax::*;

/// Parses `src`, failing the test with the error location if it does not parse.
pub fn parse_ok(src: &str) -> Program {
    match parse(src) {
        Ok(program) => program,
        Err(e) => {
            let (line, col) = e.line_col(src);
            panic!("unexpected parse error at {line}:{col}: {}\n--- source ---\n{src}", e.message)
        }
    }
}

/// Parses `src`, failing the test if it parses.
pub fn parse_err(src: &str) -> ParseError {
    match parse(src) {
        Ok(program) => panic!("expected a parse error, got {program:#?}"),
        Err(e) => e,
    }
}

/// The source text covered by `span`.
pub fn text<'a>(src: &'a str, span: &Span) -> &'a str {
    &src[span.clone()]
}

/// The single statement of `src`.
pub fn single_statement(src: &str) -> Statement {
    let mut program = parse_ok(src);
    assert_eq!(program.statements.len(), 1, "expected one statement in {src:?}");
    program.statements.remove(0)
}

/// Parses `var x = <expr>` and returns the expression and the full source.
pub fn var_expr(expr: &str) -> (Expr, String) {
    let src = format!("var x = {expr}\n");
    let statement = single_statement(&src);
    match statement.kind {
        StatementKind::Var(VarDecl { value, .. }) => (value, src),
        other => panic!("expected var, got {other:?}"),
    }
}

/// Parses `type t = <ty>` and returns the type and the full source.
pub fn type_expr(ty: &str) -> (TypeExpr, String) {
    let src = format!("type t = {ty}\n");
    let statement = single_statement(&src);
    match statement.kind {
        StatementKind::Type(TypeDecl { value, .. }) => (value, src),
        other => panic!("expected type declaration, got {other:?}"),
    }
}

/// Text parts of a string expression, panicking on interpolation.
pub fn plain_string(expr: &Expr) -> String {
    expr.as_literal_string()
        .unwrap_or_else(|| panic!("expected a plain string, got {expr:?}"))
}

/// Name of an identifier expression.
pub fn ident_name(expr: &Expr) -> &str {
    match &expr.kind {
        ExprKind::Ident(ident) => &ident.name,
        other => panic!("expected identifier, got {other:?}"),
    }
}

/// Properties of an object expression as (key text, value) pairs, panicking
/// on spreads and nested resources.
pub fn object_props(expr: &Expr) -> Vec<(&PropertyKey, &Expr)> {
    let ExprKind::Object(members) = &expr.kind else {
        panic!("expected object, got {:?}", expr.kind)
    };
    members
        .iter()
        .map(|m| match &m.kind {
            ObjectMemberKind::Property { key, value } => (key, value),
            other => panic!("expected property, got {other:?}"),
        })
        .collect()
}

/// Compact rendering of an expression tree used to assert structure and
/// precedence: binary/ternary/unary are fully parenthesized.
pub fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::String(parts) => {
            let mut out = String::from("'");
            for part in parts {
                match part {
                    StringPart::Text { value, .. } => out.push_str(value),
                    StringPart::Interpolation(inner) => {
                        out.push_str("${");
                        out.push_str(&sexpr(inner));
                        out.push('}');
                    }
                }
            }
            out.push('\'');
            out
        }
        ExprKind::MultilineString(s) => format!("'''{s}'''"),
        ExprKind::Integer(v) => v.to_string(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "null".into(),
        ExprKind::Ident(i) => i.name.clone(),
        ExprKind::Array(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| match &i.kind {
                    ArrayItemKind::Value(v) => sexpr(v),
                    ArrayItemKind::Spread(v) => format!("...{}", sexpr(v)),
                })
                .collect();
            format!("[{}]", inner.join(", "))
        }
        ExprKind::Object(members) => {
            let inner: Vec<String> = members
                .iter()
                .map(|m| match &m.kind {
                    ObjectMemberKind::Property { key, value } => {
                        format!("{}: {}", key.literal_name().unwrap_or_else(|| "<interp>".into()), sexpr(value))
                    }
                    ObjectMemberKind::Spread(v) => format!("...{}", sexpr(v)),
                    ObjectMemberKind::Resource { decl, .. } => format!("resource {}", decl.name.name),
                })
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
        ExprKind::Property { base, name, safe } => {
            format!("{}.{}{}", sexpr(base), if *safe { "?" } else { "" }, name.name)
        }
        ExprKind::Index {
            base,
            index,
            safe,
            from_end,
        } => format!(
            "{}[{}{}{}]",
            sexpr(base),
            if *safe { "?" } else { "" },
            if *from_end { "^" } else { "" },
            sexpr(index)
        ),
        ExprKind::Call { target, name, args } => {
            let args: Vec<String> = args.iter().map(sexpr).collect();
            match target {
                Some(t) => format!("{}.{}({})", sexpr(t), name.name, args.join(", ")),
                None => format!("{}({})", name.name, args.join(", ")),
            }
        }
        ExprKind::ResourceAccess { base, name } => format!("{}::{}", sexpr(base), name.name),
        ExprKind::Unary { op, operand } => {
            let op = match op {
                UnaryOp::Not => "!",
                UnaryOp::Neg => "-",
            };
            format!("({op}{})", sexpr(operand))
        }
        ExprKind::NonNull(inner) => format!("{}!", sexpr(inner)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", sexpr(lhs), op.as_str(), sexpr(rhs))
        }
        ExprKind::Ternary { cond, then, otherwise } => {
            format!("({} ? {} : {})", sexpr(cond), sexpr(then), sexpr(otherwise))
        }
        ExprKind::Paren(inner) => format!("<{}>", sexpr(inner)),
        ExprKind::Lambda { params, body } => {
            let params: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
            format!("(({}) => {})", params.join(", "), sexpr(body))
        }
        ExprKind::For {
            item,
            index,
            iterable,
            body,
        } => match index {
            Some(index) => format!("[for ({}, {}) in {}: {}]", item.name, index.name, sexpr(iterable), sexpr(body)),
            None => format!("[for {} in {}: {}]", item.name, sexpr(iterable), sexpr(body)),
        },
        ExprKind::If { cond, body } => format!("if ({}) {}", sexpr(cond), sexpr(body)),
    }
}

/// Calls `f` on every span in the program (statements, decorators,
/// identifiers, expressions, members, types...).
pub fn for_each_span(program: &Program, f: &mut dyn FnMut(&Span)) {
    f(&program.span);
    for s in &program.statements {
        f(&s.span);
        for d in &s.decorators {
            walk_decorator(d, f);
        }
        match &s.kind {
            StatementKind::TargetScope(d) => walk_expr(&d.value, f),
            StatementKind::Metadata(d) => {
                f(&d.name.span);
                walk_expr(&d.value, f);
            }
            StatementKind::Param(d) => {
                f(&d.name.span);
                if let Some(t) = &d.ty {
                    walk_type(t, f);
                }
                if let Some(e) = &d.default {
                    walk_expr(e, f);
                }
            }
            StatementKind::Var(d) => {
                f(&d.name.span);
                if let Some(t) = &d.ty {
                    walk_type(t, f);
                }
                walk_expr(&d.value, f);
            }
            StatementKind::Resource(d) => walk_resource(d, f),
            StatementKind::Module(d) => {
                f(&d.name.span);
                walk_expr(&d.path, f);
                walk_expr(&d.value, f);
            }
            StatementKind::Test(d) => {
                f(&d.name.span);
                walk_expr(&d.path, f);
                walk_expr(&d.value, f);
            }
            StatementKind::Output(d) => {
                f(&d.name.span);
                walk_type(&d.ty, f);
                walk_expr(&d.value, f);
            }
            StatementKind::Import(d) => match d {
                ImportDecl::Named { items, from } => {
                    for i in items {
                        f(&i.span);
                        walk_key(&i.name, f);
                        if let Some(a) = &i.alias {
                            f(&a.span);
                        }
                    }
                    walk_expr(from, f);
                }
                ImportDecl::Wildcard { alias, from } => {
                    f(&alias.span);
                    walk_expr(from, f);
                }
                ImportDecl::Provider {
                    specification,
                    config,
                    alias,
                } => {
                    walk_spec(specification, f);
                    if let Some(c) = config {
                        walk_expr(c, f);
                    }
                    if let Some(a) = alias {
                        f(&a.span);
                    }
                }
            },
            StatementKind::Type(d) => {
                f(&d.name.span);
                walk_type(&d.value, f);
            }
            StatementKind::Func(d) => {
                f(&d.name.span);
                for p in &d.params {
                    f(&p.span);
                    f(&p.name.span);
                    walk_type(&p.ty, f);
                }
                walk_type(&d.return_type, f);
                walk_expr(&d.body, f);
            }
            StatementKind::Extension(d) => {
                walk_spec(&d.specification, f);
                if let Some(c) = &d.config {
                    walk_expr(c, f);
                }
                if let Some(a) = &d.alias {
                    f(&a.span);
                }
            }
            StatementKind::Using(d) => {
                match &d.target {
                    UsingTarget::Path(p) => walk_expr(p, f),
                    UsingTarget::None(span) => f(span),
                }
                if let Some(c) = &d.config {
                    walk_expr(c, f);
                }
            }
            StatementKind::Extends(d) => walk_expr(&d.path, f),
            StatementKind::Assert(d) => {
                f(&d.name.span);
                walk_expr(&d.value, f);
            }
        }
    }
}

fn walk_spec(spec: &ExtensionSpec, f: &mut dyn FnMut(&Span)) {
    match spec {
        ExtensionSpec::Ident(i) => f(&i.span),
        ExtensionSpec::String(e) => walk_expr(e, f),
    }
}

fn walk_decorator(d: &Decorator, f: &mut dyn FnMut(&Span)) {
    f(&d.span);
    if let Some(ns) = &d.namespace {
        f(&ns.span);
    }
    f(&d.name.span);
    for a in &d.args {
        walk_expr(a, f);
    }
}

fn walk_resource(d: &ResourceDecl, f: &mut dyn FnMut(&Span)) {
    f(&d.name.span);
    walk_expr(&d.resource_type, f);
    walk_expr(&d.value, f);
}

fn walk_key(k: &PropertyKey, f: &mut dyn FnMut(&Span)) {
    f(&k.span);
    if let PropertyKeyKind::String(parts) = &k.kind {
        walk_parts(parts, f);
    }
}

fn walk_parts(parts: &[StringPart], f: &mut dyn FnMut(&Span)) {
    for p in parts {
        match p {
            StringPart::Text { span, .. } => f(span),
            StringPart::Interpolation(e) => walk_expr(e, f),
        }
    }
}

pub fn walk_expr(e: &Expr, f: &mut dyn FnMut(&Span)) {
    f(&e.span);
    match &e.kind {
        ExprKind::String(parts) => walk_parts(parts, f),
        ExprKind::MultilineString(_) | ExprKind::Integer(_) | ExprKind::Bool(_) | ExprKind::Null => {}
        ExprKind::Ident(i) => f(&i.span),
        ExprKind::Array(items) => {
            for i in items {
                f(&i.span);
                match &i.kind {
                    ArrayItemKind::Value(v) | ArrayItemKind::Spread(v) => walk_expr(v, f),
                }
            }
        }
        ExprKind::Object(members) => {
            for m in members {
                f(&m.span);
                match &m.kind {
                    ObjectMemberKind::Property { key, value } => {
                        walk_key(key, f);
                        walk_expr(value, f);
                    }
                    ObjectMemberKind::Spread(v) => walk_expr(v, f),
                    ObjectMemberKind::Resource { decorators, decl } => {
                        for d in decorators {
                            walk_decorator(d, f);
                        }
                        walk_resource(decl, f);
                    }
                }
            }
        }
        ExprKind::Property { base, name, .. } | ExprKind::ResourceAccess { base, name } => {
            walk_expr(base, f);
            f(&name.span);
        }
        ExprKind::Index { base, index, .. } => {
            walk_expr(base, f);
            walk_expr(index, f);
        }
        ExprKind::Call { target, name, args } => {
            if let Some(t) = target {
                walk_expr(t, f);
            }
            f(&name.span);
            for a in args {
                walk_expr(a, f);
            }
        }
        ExprKind::Unary { operand, .. } => walk_expr(operand, f),
        ExprKind::NonNull(inner) | ExprKind::Paren(inner) => walk_expr(inner, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, f);
            walk_expr(rhs, f);
        }
        ExprKind::Ternary { cond, then, otherwise } => {
            walk_expr(cond, f);
            walk_expr(then, f);
            walk_expr(otherwise, f);
        }
        ExprKind::Lambda { params, body } => {
            for p in params {
                f(&p.span);
            }
            walk_expr(body, f);
        }
        ExprKind::For {
            item,
            index,
            iterable,
            body,
        } => {
            f(&item.span);
            if let Some(i) = index {
                f(&i.span);
            }
            walk_expr(iterable, f);
            walk_expr(body, f);
        }
        ExprKind::If { cond, body } => {
            walk_expr(cond, f);
            walk_expr(body, f);
        }
    }
}

pub fn walk_type(t: &TypeExpr, f: &mut dyn FnMut(&Span)) {
    f(&t.span);
    match &t.kind {
        TypeExprKind::Named(i) => f(&i.span),
        TypeExprKind::String(_) | TypeExprKind::Integer { .. } | TypeExprKind::Bool(_) | TypeExprKind::Null => {}
        TypeExprKind::Union(members) => {
            for m in members {
                walk_type(m, f);
            }
        }
        TypeExprKind::Array(inner)
        | TypeExprKind::Nullable(inner)
        | TypeExprKind::NonNullable(inner)
        | TypeExprKind::Paren(inner)
        | TypeExprKind::AdditionalProperties(inner)
        | TypeExprKind::Items(inner) => walk_type(inner, f),
        TypeExprKind::Unary { operand, .. } => walk_type(operand, f),
        TypeExprKind::Object(members) => {
            for m in members {
                f(&m.span);
                for d in &m.decorators {
                    walk_decorator(d, f);
                }
                match &m.kind {
                    ObjectTypeMemberKind::Property { key, value } => {
                        walk_key(key, f);
                        walk_type(value, f);
                    }
                    ObjectTypeMemberKind::AdditionalProperties { star, value } => {
                        f(star);
                        walk_type(value, f);
                    }
                }
            }
        }
        TypeExprKind::Tuple(items) => {
            for i in items {
                f(&i.span);
                for d in &i.decorators {
                    walk_decorator(d, f);
                }
                walk_type(&i.value, f);
            }
        }
        TypeExprKind::Property { base, name } => {
            walk_type(base, f);
            f(&name.span);
        }
        TypeExprKind::Index { base, index } => {
            walk_type(base, f);
            walk_expr(index, f);
        }
        TypeExprKind::Parameterized { namespace, name, args } => {
            if let Some(ns) = namespace {
                walk_type(ns, f);
            }
            f(&name.span);
            for a in args {
                walk_type(a, f);
            }
        }
        TypeExprKind::Resource(s) => {
            if let Some(s) = s {
                walk_expr(s, f);
            }
        }
    }
}

/// Asserts that every span of the program lies within `src` on character
/// boundaries, and returns how many spans there are.
pub fn check_spans(src: &str, program: &Program) -> usize {
    let mut count = 0;
    for_each_span(program, &mut |span| {
        count += 1;
        assert!(span.start <= span.end && span.end <= src.len(), "span {span:?} out of bounds");
        assert!(
            src.is_char_boundary(span.start) && src.is_char_boundary(span.end),
            "span {span:?} not on char boundaries"
        );
    });
    count
}
