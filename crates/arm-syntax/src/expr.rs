//! The ARM template expression language.
//!
//! Grammar (whitespace is allowed between any two tokens):
//!
//! ```text
//! expression := primary postfix*
//! primary    := string | integer | call
//! call       := name ( "." name )? "(" ( expression ( "," expression )* )? ")"
//! postfix    := "." name | "[" expression "]"
//! string     := "'" ( any character but "'" | "''" )* "'"
//! integer    := "-"? digit+                      (must fit in an i64)
//! name       := ( letter | "_" | "$" ) ( letter | digit | "_" | "$" )*
//! ```
//!
//! `true`, `false` and `null` are functions (`true()`); a bare name without an
//! argument list is an error, as in ARM (see [`parse_expression`]).

use crate::{ParseError, Span, MAX_DEPTH};

/// What a JSON string value means to ARM.
#[derive(Debug, Clone, PartialEq)]
pub enum StringValue {
    /// A plain string (after removing the `[[` escape, if any).
    Literal(String),
    /// A template expression; spans are relative to the string content, so
    /// the outer `[` is at offset 0 and the expression starts at offset 1.
    Expression(Expr),
}

/// The kind of an expression node.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A single-quoted string literal, decoded (`'it''s'` is `it's`).
    String(String),
    Integer(i64),
    /// A function call. `name` is kept as written (ARM compares names
    /// case-insensitively); a user-defined function keeps its namespace as
    /// `namespace.function` (see [`split_namespace`]).
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `target.name`.
    Property {
        target: Box<Expr>,
        name: String,
    },
    /// `target[index]`.
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
}

/// An expression node with its byte range.
///
/// A call's span runs from the first character of its name to its `)`; a
/// property access from its target's start to the end of the name; an index
/// from its target's start to the `]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// The name and arguments, if this is a call.
    pub fn as_call(&self) -> Option<(&str, &[Expr])> {
        match &self.kind {
            ExprKind::Call { name, args } => Some((name, args)),
            _ => None,
        }
    }

    /// Whether this is a call to `name` (compared case-insensitively, as ARM does).
    pub fn is_call_to(&self, name: &str) -> bool {
        self.as_call().is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    /// The decoded text, if this is a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value, if this is an integer literal.
    pub fn as_integer(&self) -> Option<i64> {
        match self.kind {
            ExprKind::Integer(i) => Some(i),
            _ => None,
        }
    }
}

/// Splits a call name into its namespace (for user-defined functions) and
/// function name: `"contoso.uniqueName"` gives `(Some("contoso"), "uniqueName")`,
/// `"concat"` gives `(None, "concat")`.
pub fn split_namespace(name: &str) -> (Option<&str>, &str) {
    match name.split_once('.') {
        Some((namespace, function)) => (Some(namespace), function),
        None => (None, name),
    }
}

/// Classifies a JSON string value the way ARM does.
///
/// - `"[...]"` (starts with `[`, ends with `]`, second character not `[`) is
///   an expression; the text between the brackets is parsed.
/// - `"[[...]"` is the escape for a literal starting with `[`: the result is
///   the literal `"[...]"` (first character removed).
/// - Anything else is a literal, unchanged. That includes a string starting
///   with `[[` that does not end with `]`, and strings with whitespace before
///   the `[` or after the `]`.
///
/// `s` is the decoded string content; error and expression spans are
/// relative to it (the opening `[` is offset 0).
pub fn classify_string(s: &str) -> Result<StringValue, ParseError> {
    let Some(inner) = s.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) else {
        return Ok(StringValue::Literal(s.to_string()));
    };
    if inner.starts_with('[') {
        return Ok(StringValue::Literal(inner.to_string() + "]"));
    }
    parse_at(inner, 1).map(StringValue::Expression)
}

/// Parses an expression: the text between the outer `[` and `]` of an ARM
/// expression string. Spans are relative to `src`.
///
/// Accepted: function calls (`concat('a', 1)`, user-defined `ns.fn()`),
/// string literals with `''` for a quote, integers (optionally negative,
/// 64-bit), and property access / indexing after any value
/// (`reference('x').outputs.id.value`, `parameters('a')[copyIndex()].name`).
///
/// Rejected with a located error: bare names such as `true` or `x` without
/// `(...)`, decimal numbers (ARM has none; use `json('1.5')`), empty or
/// trailing-comma argument lists (`f(a,)`), unterminated strings, unclosed
/// brackets, trailing text, and nesting deeper than [`MAX_DEPTH`].
pub fn parse_expression(src: &str) -> Result<Expr, ParseError> {
    parse_at(src, 0)
}

fn parse_at(src: &str, base: usize) -> Result<Expr, ParseError> {
    let tokens = lex(src, base)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        end: base + src.len(),
    };
    let (expr, _height) = parser.expression(0)?;
    let next = parser.peek();
    match next.tok {
        Tok::Eof => Ok(expr),
        _ => Err(ParseError::new(
            format!("unexpected {} after the end of the expression", next.tok.describe()),
            next.span.clone(),
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Integer(i64),
    Str(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eof,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Name(name) => format!("name '{name}'"),
            Tok::Integer(i) => format!("integer {i}"),
            Tok::Str(_) => "string literal".to_string(),
            Tok::LParen => "'('".to_string(),
            Tok::RParen => "')'".to_string(),
            Tok::LBracket => "'['".to_string(),
            Tok::RBracket => "']'".to_string(),
            Tok::Comma => "','".to_string(),
            Tok::Dot => "'.'".to_string(),
            Tok::Eof => "end of expression".to_string(),
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    span: Span,
}

fn is_name_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_name_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

fn lex(src: &str, base: usize) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let start = base + i;
        let single = |tok| Token {
            tok,
            span: start..start + 1,
        };
        match c {
            c if c.is_whitespace() => {}
            '(' => tokens.push(single(Tok::LParen)),
            ')' => tokens.push(single(Tok::RParen)),
            '[' => tokens.push(single(Tok::LBracket)),
            ']' => tokens.push(single(Tok::RBracket)),
            ',' => tokens.push(single(Tok::Comma)),
            '.' => tokens.push(single(Tok::Dot)),
            '\'' => {
                let mut value = String::new();
                let mut closed = None;
                while let Some((j, d)) = chars.next() {
                    if d == '\'' {
                        if let Some(&(_, '\'')) = chars.peek() {
                            chars.next();
                            value.push('\'');
                        } else {
                            closed = Some(j + 1);
                            break;
                        }
                    } else {
                        value.push(d);
                    }
                }
                let Some(end) = closed else {
                    return Err(ParseError::new("unterminated string literal", start..base + src.len()));
                };
                tokens.push(Token {
                    tok: Tok::Str(value),
                    span: start..base + end,
                });
            }
            '-' | '0'..='9' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = j + 1;
                    chars.next();
                }
                let text = src.get(i..end).unwrap_or_default();
                if text == "-" {
                    return Err(ParseError::new("expected a digit after '-'", start..start + 1));
                }
                // A decimal point followed by a digit: a decimal number.
                let mut lookahead = chars.clone();
                if let (Some((_, '.')), Some((k, d))) = (lookahead.next(), lookahead.next()) {
                    if d.is_ascii_digit() {
                        let mut frac_end = k + 1;
                        for (k, d) in lookahead {
                            if !d.is_ascii_digit() {
                                break;
                            }
                            frac_end = k + 1;
                        }
                        return Err(ParseError::new(
                            "decimal numbers are not supported in expressions (use json('...'))",
                            start..base + frac_end,
                        ));
                    }
                }
                let value = text
                    .parse::<i64>()
                    .map_err(|_| ParseError::new("integer literal does not fit in 64 bits", start..base + end))?;
                tokens.push(Token {
                    tok: Tok::Integer(value),
                    span: start..base + end,
                });
            }
            c if is_name_start(c) => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !is_name_continue(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                let name = src.get(i..end).unwrap_or_default().to_string();
                tokens.push(Token {
                    tok: Tok::Name(name),
                    span: start..base + end,
                });
            }
            other => {
                return Err(ParseError::new(
                    format!("unexpected character {other:?}"),
                    start..start + other.len_utf8(),
                ));
            }
        }
    }
    let end = base + src.len();
    tokens.push(Token {
        tok: Tok::Eof,
        span: end..end,
    });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    /// Offset of the end of the input (for the end-of-input token).
    end: usize,
}

impl Parser {
    fn peek(&self) -> Token {
        match self.tokens.get(self.pos) {
            Some(token) => token.clone(),
            None => Token {
                tok: Tok::Eof,
                span: self.end..self.end,
            },
        }
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if self.pos < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn too_deep(span: Span) -> ParseError {
        ParseError::new(format!("expression nesting is deeper than the limit of {MAX_DEPTH}"), span)
    }

    fn expected(&self, what: &str) -> ParseError {
        let next = self.peek();
        ParseError::new(format!("expected {what} but found {}", next.tok.describe()), next.span)
    }

    /// Parses one expression. `nesting` counts the enclosing brackets and
    /// argument lists (bounding recursion); the returned height (nodes on the
    /// longest root-to-leaf path) bounds the tree.
    fn expression(&mut self, nesting: usize) -> Result<(Expr, usize), ParseError> {
        let first = self.peek();
        if nesting >= MAX_DEPTH {
            return Err(Self::too_deep(first.span));
        }
        let (mut expr, mut height) = match first.tok {
            Tok::Str(value) => {
                self.bump();
                let expr = Expr {
                    kind: ExprKind::String(value),
                    span: first.span,
                };
                (expr, 1)
            }
            Tok::Integer(value) => {
                self.bump();
                let expr = Expr {
                    kind: ExprKind::Integer(value),
                    span: first.span,
                };
                (expr, 1)
            }
            Tok::Name(_) => self.call(nesting)?,
            _ => return Err(self.expected("an expression")),
        };
        loop {
            match self.peek_tok() {
                Some(Tok::Dot) => {
                    let dot = self.bump();
                    height += 1;
                    if height > MAX_DEPTH {
                        return Err(Self::too_deep(dot.span));
                    }
                    let name_token = self.peek();
                    let Tok::Name(name) = name_token.tok else {
                        return Err(self.expected("a property name after '.'"));
                    };
                    self.bump();
                    let span = expr.span.start..name_token.span.end;
                    expr = Expr {
                        kind: ExprKind::Property {
                            target: Box::new(expr),
                            name,
                        },
                        span,
                    };
                }
                Some(Tok::LBracket) => {
                    let open = self.bump();
                    if matches!(self.peek_tok(), Some(Tok::Eof)) {
                        return Err(ParseError::new("unclosed '['", open.span));
                    }
                    let (index, index_height) = self.expression(nesting + 1)?;
                    let close = self.peek();
                    match close.tok {
                        Tok::RBracket => {
                            self.bump();
                        }
                        Tok::Eof => return Err(ParseError::new("unclosed '['", open.span)),
                        _ => return Err(self.expected("']'")),
                    }
                    height = 1 + height.max(index_height);
                    if height > MAX_DEPTH {
                        return Err(Self::too_deep(open.span));
                    }
                    let span = expr.span.start..close.span.end;
                    expr = Expr {
                        kind: ExprKind::Index {
                            target: Box::new(expr),
                            index: Box::new(index),
                        },
                        span,
                    };
                }
                _ => return Ok((expr, height)),
            }
        }
    }

    fn call(&mut self, nesting: usize) -> Result<(Expr, usize), ParseError> {
        let first = self.bump();
        let Tok::Name(mut name) = first.tok else {
            return Err(self.expected("a function name"));
        };
        // `namespace.function(` for user-defined functions.
        if matches!(self.peek_tok(), Some(Tok::Dot)) {
            let after_dot = self.tokens.get(self.pos + 1).map(|t| &t.tok);
            if let Some(Tok::Name(function)) = after_dot {
                name = format!("{name}.{function}");
                self.pos += 2;
            }
        }
        let open = self.peek();
        if open.tok != Tok::LParen {
            let hint = match name.to_ascii_lowercase().as_str() {
                "true" | "false" | "null" => format!(" (write {name}())"),
                _ => String::new(),
            };
            return Err(ParseError::new(
                format!("expected '(' after function name '{name}' but found {}{hint}", open.tok.describe()),
                open.span,
            ));
        }
        self.bump();
        let mut args = Vec::new();
        let mut height = 1;
        if matches!(self.peek_tok(), Some(Tok::RParen)) {
            let close = self.bump();
            let expr = Expr {
                kind: ExprKind::Call { name, args },
                span: first.span.start..close.span.end,
            };
            return Ok((expr, height));
        }
        loop {
            if matches!(self.peek_tok(), Some(Tok::Eof)) {
                return Err(unclosed_call(&name, open.span));
            }
            let (arg, arg_height) = self.expression(nesting + 1)?;
            height = height.max(1 + arg_height);
            if height > MAX_DEPTH {
                return Err(Self::too_deep(first.span));
            }
            args.push(arg);
            let next = self.peek();
            match next.tok {
                Tok::Comma => {
                    self.bump();
                }
                Tok::RParen => {
                    self.bump();
                    let expr = Expr {
                        kind: ExprKind::Call { name, args },
                        span: first.span.start..next.span.end,
                    };
                    return Ok((expr, height));
                }
                Tok::Eof => return Err(unclosed_call(&name, open.span)),
                _ => return Err(self.expected(&format!("',' or ')' in the arguments of '{name}'"))),
            }
        }
    }
}

fn unclosed_call(name: &str, open: Span) -> ParseError {
    ParseError::new(format!("unclosed '(' in the call to '{name}'"), open)
}
