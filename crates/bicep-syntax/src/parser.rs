//! Recursive-descent parser (with precedence climbing for binary operators).
//!
//! Newline handling follows the Bicep compiler: a newline ends a statement,
//! an object property or an array item, except that
//!
//! * inside parentheses (argument lists, parenthesized expressions, `if`
//!   conditions, lambda and function parameter lists), index brackets,
//!   interpolation holes and `[for ...]` headers newlines are insignificant;
//! * a newline may precede the `?` and the `:` of a ternary expression;
//! * a newline may follow `=>` (unless a declaration starts on the next line);
//! * a newline may separate `=` from `if` in resource and module
//!   declarations;
//! * a newline may precede a `|` in a union type (including a leading `|`).
//!
//! The parser is deliberately a little more permissive than the Bicep
//! compiler; everything the compiler accepts syntactically is accepted here
//! too, as far as we know. Extras that are accepted:
//!
//! * trailing commas and a comma followed by a newline as separators;
//! * newlines anywhere within parentheses, not only around arguments;
//! * `if (...) {...}` filters in any `for` body, not only in resource and
//!   module bodies;
//! * nested `resource` declarations in any object, not only resource bodies;
//! * repeated prefix operators (`!!x`) and keywords (`true`, `null`...) used
//!   as declaration names.

use crate::ast::*;
use crate::lexer::{lex, Kind, StrPiece, Token};
use crate::{ParseError, Span, MAX_NESTING_DEPTH};

/// Internal result type. Errors (and, on the recursive path, expression and
/// type nodes) are boxed so that `Result` temporaries stay pointer-sized,
/// which keeps stack frames small in unoptimized builds.
type PResult<T> = Result<T, Box<ParseError>>;

pub(crate) fn parse_program(src: &str) -> Result<Program, ParseError> {
    let lexed = lex(src);
    let mut parser = Parser {
        src,
        tokens: lexed.tokens,
        strings: lexed.strings,
        comments: lexed.comments,
        lex_error: lexed.error,
        pos: 0,
        last_end: 0,
        newlines_significant: true,
        depth: 0,
    };
    parser.program().map_err(|error| *error)
}

/// Declaration keywords recognised at the start of a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keyword {
    TargetScope,
    Metadata,
    Param,
    Var,
    Resource,
    Module,
    Test,
    Output,
    Import,
    Type,
    Func,
    Extension,
    Provider,
    Using,
    Extends,
    Assert,
}

fn keyword(text: &str) -> Option<Keyword> {
    Some(match text {
        "targetScope" => Keyword::TargetScope,
        "metadata" => Keyword::Metadata,
        "param" => Keyword::Param,
        "var" => Keyword::Var,
        "resource" => Keyword::Resource,
        "module" => Keyword::Module,
        "test" => Keyword::Test,
        "output" => Keyword::Output,
        "import" => Keyword::Import,
        "type" => Keyword::Type,
        "func" => Keyword::Func,
        "extension" => Keyword::Extension,
        "provider" => Keyword::Provider,
        "using" => Keyword::Using,
        "extends" => Keyword::Extends,
        "assert" => Keyword::Assert,
        _ => return None,
    })
}

fn binary_op(kind: Kind) -> Option<(BinaryOp, u8)> {
    Some(match kind {
        Kind::Coalesce => (BinaryOp::Coalesce, 1),
        Kind::OrOr => (BinaryOp::Or, 2),
        Kind::AndAnd => (BinaryOp::And, 3),
        Kind::Equals => (BinaryOp::Equals, 4),
        Kind::NotEquals => (BinaryOp::NotEquals, 4),
        Kind::EqualsInsensitive => (BinaryOp::EqualsInsensitive, 4),
        Kind::NotEqualsInsensitive => (BinaryOp::NotEqualsInsensitive, 4),
        Kind::Less => (BinaryOp::Less, 5),
        Kind::LessEqual => (BinaryOp::LessEqual, 5),
        Kind::Greater => (BinaryOp::Greater, 5),
        Kind::GreaterEqual => (BinaryOp::GreaterEqual, 5),
        Kind::Plus => (BinaryOp::Add, 6),
        Kind::Minus => (BinaryOp::Subtract, 6),
        Kind::Star => (BinaryOp::Multiply, 7),
        Kind::Slash => (BinaryOp::Divide, 7),
        Kind::Percent => (BinaryOp::Modulo, 7),
        _ => return None,
    })
}

/// Longest identifier text quoted verbatim in error messages.
const MAX_QUOTED: usize = 40;

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    strings: Vec<StrPiece>,
    comments: Vec<Span>,
    lex_error: Option<ParseError>,
    /// Index of the current token.
    pos: usize,
    /// End offset of the last consumed token other than a newline.
    last_end: usize,
    /// Whether `NewLine` tokens are currently visible to `peek`.
    newlines_significant: bool,
    /// Current expression/type nesting depth.
    depth: usize,
}

impl<'a> Parser<'a> {
    // ----------------------------------------------------------------------
    // Token cursor
    // ----------------------------------------------------------------------

    fn kind_at(&self, index: usize) -> Kind {
        self.tokens.get(index).map_or(Kind::Eof, |t| t.kind)
    }

    fn span_at(&self, index: usize) -> Span {
        let end = self.src.len();
        self.tokens.get(index).map_or(end..end, |t| t.span.clone())
    }

    fn text(&self, span: Span) -> &'a str {
        self.src.get(span).unwrap_or("")
    }

    /// Skips newline tokens when they are not significant.
    fn normalize(&mut self) {
        if !self.newlines_significant {
            while self.kind_at(self.pos) == Kind::NewLine {
                self.pos += 1;
            }
        }
    }

    fn peek(&mut self) -> Kind {
        self.normalize();
        self.kind_at(self.pos)
    }

    fn peek_span(&mut self) -> Span {
        self.normalize();
        self.span_at(self.pos)
    }

    fn start(&mut self) -> usize {
        self.peek_span().start
    }

    /// Kind of the token `n` positions after the current one (newlines
    /// included).
    fn nth(&mut self, n: usize) -> Kind {
        self.normalize();
        self.kind_at(self.pos + n)
    }

    /// Index of the `n`-th non-newline token from the current one (`n == 0`
    /// is the current token). Newline tokens are never adjacent, so this is
    /// O(n).
    fn nth_non_newline_index(&mut self, n: usize) -> usize {
        self.normalize();
        let mut index = self.pos;
        let mut seen = 0;
        loop {
            match self.kind_at(index) {
                Kind::Eof => return index,
                Kind::NewLine => {}
                _ => {
                    if seen == n {
                        return index;
                    }
                    seen += 1;
                }
            }
            index += 1;
        }
    }

    fn nth_non_newline(&mut self, n: usize) -> Kind {
        let index = self.nth_non_newline_index(n);
        self.kind_at(index)
    }

    fn is_ident_at(&self, index: usize, text: &str) -> bool {
        self.kind_at(index) == Kind::Ident && self.text(self.span_at(index)) == text
    }

    fn at_ident(&mut self, text: &str) -> bool {
        self.normalize();
        self.is_ident_at(self.pos, text)
    }

    /// Consumes the current token and returns its span.
    fn bump(&mut self) -> Span {
        self.normalize();
        let kind = self.kind_at(self.pos);
        let span = self.span_at(self.pos);
        if kind != Kind::Eof {
            self.pos += 1;
            if kind != Kind::NewLine {
                self.last_end = span.end;
            }
        }
        span
    }

    fn eat(&mut self, kind: Kind) -> bool {
        if self.peek() == kind {
            self.bump();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, kind: Kind, what: &str) -> PResult<Span> {
        if self.peek() == kind {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    fn expect_keyword(&mut self, keyword: &str, what: &str) -> PResult<Span> {
        if self.at_ident(keyword) {
            Ok(self.bump())
        } else {
            Err(self.expected(what))
        }
    }

    fn skip_newlines(&mut self) {
        while self.kind_at(self.pos) == Kind::NewLine {
            self.pos += 1;
        }
    }

    /// If the current token is a newline (significant or not) directly
    /// followed by `kind`, skips the newline. Returns whether `kind` is now
    /// the current token.
    fn continues_with(&mut self, kind: Kind) -> bool {
        if self.peek() == kind {
            return true;
        }
        if self.kind_at(self.pos) == Kind::NewLine && self.kind_at(self.pos + 1) == kind {
            self.pos += 1;
            return true;
        }
        false
    }

    /// Sets whether newlines are significant and returns the previous
    /// setting, to be restored once the closing token has been consumed.
    ///
    /// Restoring is skipped on error paths: the first error aborts the whole
    /// parse, so the parser state no longer matters. The same holds for
    /// [`Parser::enter`]/[`Parser::leave`]. (Explicit calls instead of
    /// closure-taking helpers keep stack frames small in debug builds, which
    /// matters for deeply nested input.)
    fn set_newlines(&mut self, significant: bool) -> bool {
        std::mem::replace(&mut self.newlines_significant, significant)
    }

    /// Enters one nesting level, failing when the limit is reached.
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING_DEPTH {
            return Err(self.too_deep());
        }
        self.depth += 1;
        Ok(())
    }

    fn leave(&mut self) {
        self.leave_n(1);
    }

    fn leave_n(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    // ----------------------------------------------------------------------
    // Errors
    // ----------------------------------------------------------------------

    #[cold]
    fn too_deep(&mut self) -> Box<ParseError> {
        Box::new(ParseError {
            message: format!("nesting too deep, expected at most {MAX_NESTING_DEPTH} nested expressions or types"),
            span: self.peek_span(),
        })
    }

    fn describe_current(&mut self) -> String {
        let kind = self.peek();
        let text = self.text(self.span_at(self.pos));
        match kind {
            Kind::Ident if matches!(text, "true" | "false" | "null") => format!("'{text}'"),
            Kind::Ident | Kind::Integer => {
                let noun = if kind == Kind::Ident { "identifier" } else { "integer" };
                if text.len() > MAX_QUOTED {
                    let cut = (0..=MAX_QUOTED).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
                    format!("{noun} '{}...'", text.get(..cut).unwrap_or(""))
                } else {
                    format!("{noun} '{text}'")
                }
            }
            _ => kind.describe().to_string(),
        }
    }

    /// "expected {what}, found {current token}" at the current token. If the
    /// current token is the end of input produced by a lexical error, that
    /// error is returned instead.
    #[cold]
    fn expected(&mut self, what: &str) -> Box<ParseError> {
        if self.peek() == Kind::Eof {
            if let Some(error) = &self.lex_error {
                return Box::new(error.clone());
            }
        }
        let found = self.describe_current();
        Box::new(ParseError {
            message: format!("expected {what}, found {found}"),
            span: self.peek_span(),
        })
    }

    /// Error for a bracket left open at end of input, located at the opening
    /// bracket.
    #[cold]
    fn unclosed(&mut self, open: Span, close: &str) -> Box<ParseError> {
        if let Some(error) = &self.lex_error {
            return Box::new(error.clone());
        }
        let opener = self.text(open.clone()).to_string();
        Box::new(ParseError {
            message: format!("expected {close} to close this '{opener}', found end of file"),
            span: open,
        })
    }

    // ----------------------------------------------------------------------
    // Program and statements
    // ----------------------------------------------------------------------

    fn program(&mut self) -> PResult<Program> {
        let mut statements = Vec::new();
        loop {
            self.skip_newlines();
            if self.peek() == Kind::Eof {
                break;
            }
            statements.push(self.statement()?);
            match self.peek() {
                Kind::NewLine | Kind::Eof => {}
                _ => return Err(self.expected("newline after declaration")),
            }
        }
        if let Some(error) = self.lex_error.take() {
            return Err(Box::new(error));
        }
        Ok(Program {
            statements,
            span: 0..self.src.len(),
            comments: std::mem::take(&mut self.comments),
        })
    }

    fn statement(&mut self) -> PResult<Statement> {
        let start = self.start();
        let decorators = self.decorators()?;
        let kind = self.declaration()?;
        Ok(Statement {
            decorators,
            kind,
            span: start..self.last_end,
        })
    }

    fn decorators(&mut self) -> PResult<Vec<Decorator>> {
        let mut decorators = Vec::new();
        while self.peek() == Kind::At {
            decorators.push(self.decorator()?);
            if self.newlines_significant {
                match self.peek() {
                    Kind::NewLine => self.skip_newlines(),
                    _ => return Err(self.expected("newline after decorator")),
                }
            }
        }
        Ok(decorators)
    }

    fn decorator(&mut self) -> PResult<Decorator> {
        let start = self.bump().start;
        let first = self.ident("decorator name after '@'")?;
        let (namespace, name) = if self.eat(Kind::Dot) {
            let name = self.ident("decorator name after '.'")?;
            (Some(first), name)
        } else {
            (None, first)
        };
        if self.peek() != Kind::LParen {
            return Err(self.expected("'(' after decorator name"));
        }
        let args = self.call_args()?;
        Ok(Decorator {
            namespace,
            name,
            args,
            span: start..self.last_end,
        })
    }

    fn ident(&mut self, what: &str) -> PResult<Ident> {
        if self.peek() != Kind::Ident {
            return Err(self.expected(what));
        }
        let span = self.bump();
        Ok(Ident {
            name: self.text(span.clone()).to_string(),
            span,
        })
    }

    fn declaration(&mut self) -> PResult<StatementKind> {
        let keyword = match self.peek() {
            Kind::Ident => keyword(self.text(self.span_at(self.pos))),
            _ => None,
        };
        let Some(keyword) = keyword else {
            return Err(self.expected("declaration"));
        };
        Ok(match keyword {
            Keyword::TargetScope => {
                self.bump();
                self.expect(Kind::Assign, "'=' after 'targetScope'")?;
                let value = *self.expr()?;
                StatementKind::TargetScope(TargetScopeDecl { value })
            }
            Keyword::Metadata => {
                self.bump();
                let name = self.ident("metadata name")?;
                self.expect(Kind::Assign, "'=' after metadata name")?;
                let value = *self.expr()?;
                StatementKind::Metadata(MetadataDecl { name, value })
            }
            Keyword::Param => StatementKind::Param(self.param_decl()?),
            Keyword::Var => StatementKind::Var(self.var_decl()?),
            Keyword::Resource => StatementKind::Resource(*self.resource_decl()?),
            Keyword::Module => {
                self.bump();
                let name = self.ident("module symbolic name")?;
                let path = *self.string_expr("module path string after module name")?;
                self.expect(Kind::Assign, "'=' after module path")?;
                let value = *self.declaration_body("module")?;
                StatementKind::Module(ModuleDecl { name, path, value })
            }
            Keyword::Test => {
                self.bump();
                let name = self.ident("test symbolic name")?;
                let path = *self.string_expr("test file path string after test name")?;
                self.expect(Kind::Assign, "'=' after test path")?;
                if self.peek() != Kind::LBrace {
                    return Err(self.expected("'{' after '='"));
                }
                let value = *self.object_nested()?;
                StatementKind::Test(TestDecl { name, path, value })
            }
            Keyword::Output => {
                self.bump();
                let name = self.ident("output name")?;
                if !self.at_type_start() {
                    return Err(self.expected("output type after output name"));
                }
                let ty = *self.declared_type(true)?;
                self.expect(Kind::Assign, "'=' after output type")?;
                let value = *self.expr()?;
                StatementKind::Output(OutputDecl { name, ty, value })
            }
            Keyword::Import => StatementKind::Import(self.import_decl()?),
            Keyword::Type => {
                self.bump();
                let name = self.ident("type name")?;
                self.expect(Kind::Assign, "'=' after type name")?;
                let value = *self.declared_type(false)?;
                StatementKind::Type(TypeDecl { name, value })
            }
            Keyword::Func => StatementKind::Func(self.func_decl()?),
            Keyword::Extension | Keyword::Provider => {
                self.bump();
                let specification = match self.peek() {
                    Kind::Ident => ExtensionSpec::Ident(self.ident("extension name")?),
                    Kind::String | Kind::StringLeft => ExtensionSpec::String(*self.string_expr("extension reference string")?),
                    _ => return Err(self.expected("extension name or reference string")),
                };
                let (config, alias) = self.with_and_as_clauses()?;
                StatementKind::Extension(ExtensionDecl {
                    keyword: if keyword == Keyword::Extension {
                        ExtensionKeyword::Extension
                    } else {
                        ExtensionKeyword::Provider
                    },
                    specification,
                    config,
                    alias,
                })
            }
            Keyword::Using => {
                self.bump();
                let target = if self.at_ident("none") {
                    UsingTarget::None(self.bump())
                } else {
                    UsingTarget::Path(*self.string_expr("file path string or 'none' after 'using'")?)
                };
                let config = self.with_clause()?;
                StatementKind::Using(UsingDecl { target, config })
            }
            Keyword::Extends => {
                self.bump();
                let path = *self.string_expr("file path string after 'extends'")?;
                StatementKind::Extends(ExtendsDecl { path })
            }
            Keyword::Assert => {
                self.bump();
                let name = self.ident("assertion name")?;
                self.expect(Kind::Assign, "'=' after assertion name")?;
                let value = *self.expr()?;
                StatementKind::Assert(AssertDecl { name, value })
            }
        })
    }

    fn param_decl(&mut self) -> PResult<ParamDecl> {
        self.bump();
        let name = self.ident("parameter name")?;
        if self.eat(Kind::Assign) {
            // `.bicepparam` assignment: `param name = value`
            let value = *self.expr()?;
            return Ok(ParamDecl {
                name,
                ty: None,
                default: Some(value),
            });
        }
        if !self.at_type_start() {
            return Err(self.expected("parameter type or '=' after parameter name"));
        }
        let ty = *self.declared_type(false)?;
        let default = match self.peek() {
            Kind::Assign => {
                self.bump();
                Some(*self.expr()?)
            }
            Kind::NewLine | Kind::Eof => None,
            _ => return Err(self.expected("'=' or newline after parameter type")),
        };
        Ok(ParamDecl {
            name,
            ty: Some(ty),
            default,
        })
    }

    fn var_decl(&mut self) -> PResult<VarDecl> {
        self.bump();
        let name = self.ident("variable name")?;
        let ty = if self.peek() == Kind::Assign {
            None
        } else if self.at_type_start() {
            Some(*self.declared_type(false)?)
        } else {
            return Err(self.expected("'=' after variable name"));
        };
        let what = if ty.is_some() {
            "'=' after variable type"
        } else {
            "'=' after variable name"
        };
        self.expect(Kind::Assign, what)?;
        let value = *self.expr()?;
        Ok(VarDecl { name, ty, value })
    }

    /// `resource name 'type' [existing] = body`, at top level or nested in a
    /// resource body. The current token is the `resource` keyword.
    fn resource_decl(&mut self) -> PResult<Box<ResourceDecl>> {
        self.bump();
        let name = self.ident("resource symbolic name")?;
        let resource_type = self.string_expr("resource type string after resource name")?;
        let existing = if self.at_ident("existing") {
            self.bump();
            true
        } else {
            false
        };
        let what = if existing {
            "'=' after 'existing'"
        } else {
            "'=' after resource type"
        };
        self.expect(Kind::Assign, what)?;
        let value = self.declaration_body("resource")?;
        Ok(Box::new(ResourceDecl {
            name,
            resource_type: *resource_type,
            existing,
            value: *value,
        }))
    }

    /// Body of a resource or module declaration: `{...}`, `if (c) {...}` or
    /// `[for ...: {...}]`.
    fn declaration_body(&mut self, what: &str) -> PResult<Box<Expr>> {
        if self.newlines_significant && self.kind_at(self.pos) == Kind::NewLine && self.is_ident_at(self.pos + 1, "if") {
            self.skip_newlines();
        }
        match self.peek() {
            Kind::LBrace => self.object_nested(),
            Kind::LBracket => self.for_expr_nested(true),
            Kind::Ident if self.at_ident("if") => self.if_expr_nested(),
            _ => Err(self.body_start_error(what)),
        }
    }

    #[cold]
    fn body_start_error(&mut self, what: &str) -> Box<ParseError> {
        self.expected(&format!("'{{', 'if' or '[for' to start the {what} body"))
    }

    fn object_nested(&mut self) -> PResult<Box<Expr>> {
        self.enter()?;
        let object = self.object()?;
        self.leave();
        Ok(object)
    }

    fn if_expr_nested(&mut self) -> PResult<Box<Expr>> {
        self.enter()?;
        let expr = self.if_expr()?;
        self.leave();
        Ok(expr)
    }

    fn for_expr_nested(&mut self, declaration_body: bool) -> PResult<Box<Expr>> {
        self.enter()?;
        let expr = self.for_expr(declaration_body)?;
        self.leave();
        Ok(expr)
    }

    fn func_decl(&mut self) -> PResult<FuncDecl> {
        self.bump();
        let name = self.ident("function name")?;
        if self.peek() != Kind::LParen {
            return Err(self.expected("'(' after function name"));
        }
        let open = self.bump();
        let saved = self.set_newlines(false);
        let mut params = Vec::new();
        loop {
            match self.peek() {
                Kind::RParen => break,
                Kind::Eof => return Err(self.unclosed(open, "')'")),
                _ => {}
            }
            let start = self.start();
            let name = self.ident("function parameter name")?;
            let ty = *self.ty()?;
            params.push(FuncParam {
                name,
                ty,
                span: start..self.last_end,
            });
            match self.peek() {
                Kind::Comma => {
                    self.bump();
                }
                Kind::RParen => break,
                _ => return Err(self.expected("',' or ')' after function parameter")),
            }
        }
        self.bump();
        self.newlines_significant = saved;
        if !self.at_type_start() {
            return Err(self.expected("return type after function parameters"));
        }
        let return_type = *self.ty()?;
        self.expect(Kind::Arrow, "'=>' after function return type")?;
        self.skip_newlines_before_body();
        let body = *self.expr()?;
        Ok(FuncDecl {
            name,
            params,
            return_type,
            body,
        })
    }

    fn import_decl(&mut self) -> PResult<ImportDecl> {
        self.bump();
        match self.peek() {
            Kind::LBrace => {
                let open = self.bump();
                let items = self.list(open, Kind::RBrace, "'}'", "imported symbol", Self::import_item)?;
                self.expect_keyword("from", "'from' after import list")?;
                let from = *self.string_expr("file path string after 'from'")?;
                Ok(ImportDecl::Named { items, from })
            }
            Kind::Star => {
                self.bump();
                self.expect_keyword("as", "'as' after 'import *'")?;
                let alias = self.ident("namespace name after 'as'")?;
                self.expect_keyword("from", "'from' after namespace name")?;
                let from = *self.string_expr("file path string after 'from'")?;
                Ok(ImportDecl::Wildcard { alias, from })
            }
            Kind::String | Kind::StringLeft => {
                let specification = ExtensionSpec::String(*self.string_expr("provider string")?);
                let (config, alias) = self.with_and_as_clauses()?;
                Ok(ImportDecl::Provider {
                    specification,
                    config,
                    alias,
                })
            }
            Kind::Ident => {
                let specification = ExtensionSpec::Ident(self.ident("provider name")?);
                let (config, alias) = self.with_and_as_clauses()?;
                Ok(ImportDecl::Provider {
                    specification,
                    config,
                    alias,
                })
            }
            _ => Err(self.expected("'{', '*' or provider string after 'import'")),
        }
    }

    fn import_item(&mut self) -> PResult<Box<ImportItem>> {
        let start = self.start();
        let name = match self.peek() {
            Kind::Ident | Kind::String | Kind::StringLeft => self.property_key()?,
            _ => return Err(self.expected("imported symbol name")),
        };
        let alias = if self.at_ident("as") {
            self.bump();
            Some(self.ident("alias name after 'as'")?)
        } else {
            None
        };
        Ok(Box::new(ImportItem {
            name,
            alias,
            span: start..self.last_end,
        }))
    }

    fn with_clause(&mut self) -> PResult<Option<Expr>> {
        if !self.at_ident("with") {
            return Ok(None);
        }
        self.bump();
        if self.peek() != Kind::LBrace {
            return Err(self.expected("'{' after 'with'"));
        }
        Ok(Some(*self.object_nested()?))
    }

    fn with_and_as_clauses(&mut self) -> PResult<(Option<Expr>, Option<Ident>)> {
        let config = self.with_clause()?;
        let alias = if self.at_ident("as") {
            self.bump();
            Some(self.ident("alias name after 'as'")?)
        } else {
            None
        };
        Ok((config, alias))
    }

    /// After `=>`, a line break may separate the arrow from the body, unless
    /// the next line starts a new declaration.
    fn skip_newlines_before_body(&mut self) {
        if self.kind_at(self.pos) != Kind::NewLine {
            return;
        }
        let next = self.pos + 1;
        let starts_declaration = match self.kind_at(next) {
            Kind::At | Kind::Eof => true,
            Kind::Ident => keyword(self.text(self.span_at(next))).is_some(),
            _ => false,
        };
        if !starts_declaration {
            self.skip_newlines();
        }
    }

    /// Parses a separated list up to and including the `close` token, with
    /// newlines significant. Items are separated by a comma, a newline, or
    /// both. The opening token must already be consumed; `open` is its span.
    fn list<T>(
        &mut self,
        open: Span,
        close: Kind,
        close_text: &str,
        item_name: &str,
        item: fn(&mut Self) -> PResult<Box<T>>,
    ) -> PResult<Vec<T>> {
        let saved = self.set_newlines(true);
        let mut items = Vec::new();
        self.skip_newlines();
        loop {
            let kind = self.peek();
            if kind == close {
                break;
            }
            if kind == Kind::Eof {
                return Err(self.unclosed(open, close_text));
            }
            items.push(*item(self)?);
            match self.peek() {
                Kind::Comma => {
                    self.bump();
                    self.skip_newlines();
                }
                Kind::NewLine => self.skip_newlines(),
                k if k == close => break,
                Kind::Eof => return Err(self.unclosed(open, close_text)),
                _ => return Err(self.list_separator_error(close_text, item_name)),
            }
        }
        self.bump();
        self.newlines_significant = saved;
        Ok(items)
    }

    #[cold]
    fn list_separator_error(&mut self, close_text: &str, item_name: &str) -> Box<ParseError> {
        self.expected(&format!("',', newline or {close_text} after {item_name}"))
    }

    // ----------------------------------------------------------------------
    // Expressions
    //
    // Functions on the recursive path (expr, binary, unary, primary, array,
    // object, list items) are kept small, delegating less common work to
    // helpers, so that deeply nested input stays within the stack even in
    // unoptimized builds.
    // ----------------------------------------------------------------------

    fn expr(&mut self) -> PResult<Box<Expr>> {
        self.enter()?;
        let expr = if self.at_lambda() {
            self.lambda()?
        } else {
            let cond = self.binary(0)?;
            if self.continues_with(Kind::Question) {
                self.ternary(cond)?
            } else {
                cond
            }
        };
        self.leave();
        Ok(expr)
    }

    /// The rest of `cond ? then : otherwise`; the current token is `?`.
    fn ternary(&mut self, cond: Box<Expr>) -> PResult<Box<Expr>> {
        self.bump();
        let then = self.expr()?;
        if !self.continues_with(Kind::Colon) {
            return Err(self.expected("':' in ternary expression"));
        }
        self.bump();
        let otherwise = self.expr()?;
        let span = cond.span.start..otherwise.span.end;
        Ok(Box::new(Expr {
            kind: ExprKind::Ternary { cond, then, otherwise },
            span,
        }))
    }

    /// Whether a lambda starts here: `x =>`, `() =>`, `(x) =>` or
    /// `(x, y, ...) =>`. Look-ahead is bounded (at most four tokens).
    fn at_lambda(&mut self) -> bool {
        match self.peek() {
            Kind::Ident => self.nth(1) == Kind::Arrow,
            Kind::LParen => match self.nth_non_newline(1) {
                Kind::RParen => true,
                Kind::Ident => match self.nth_non_newline(2) {
                    Kind::Comma => true,
                    Kind::RParen => self.nth_non_newline(3) == Kind::Arrow,
                    _ => false,
                },
                _ => false,
            },
            _ => false,
        }
    }

    fn lambda(&mut self) -> PResult<Box<Expr>> {
        let start = self.start();
        let params = if self.peek() == Kind::Ident {
            vec![self.ident("lambda parameter name")?]
        } else {
            self.lambda_params()?
        };
        self.expect(Kind::Arrow, "'=>' after lambda parameters")?;
        self.skip_newlines_before_body();
        let body = self.expr()?;
        Ok(Box::new(Expr {
            span: start..body.span.end,
            kind: ExprKind::Lambda { params, body },
        }))
    }

    fn lambda_params(&mut self) -> PResult<Vec<Ident>> {
        let open = self.bump();
        let saved = self.set_newlines(false);
        let mut params = Vec::new();
        loop {
            match self.peek() {
                Kind::RParen => break,
                Kind::Eof => return Err(self.unclosed(open, "')'")),
                _ => {}
            }
            params.push(self.ident("lambda parameter name")?);
            match self.peek() {
                Kind::Comma => {
                    self.bump();
                }
                Kind::RParen => break,
                _ => return Err(self.expected("',' or ')' after lambda parameter")),
            }
        }
        self.bump();
        self.newlines_significant = saved;
        Ok(params)
    }

    /// Binary operators by precedence climbing; all are left-associative.
    ///
    /// Each operator applied nests the tree built so far one level deeper,
    /// so chains count towards the nesting limit: this bounds the depth of
    /// the resulting tree, not just the parser's recursion, which keeps
    /// recursive consumers of the tree (including `Drop`) safe.
    fn binary(&mut self, min_precedence: u8) -> PResult<Box<Expr>> {
        let mut lhs = self.unary()?;
        let mut chain = 0;
        while let Some((op, precedence)) = binary_op(self.peek()) {
            if precedence < min_precedence {
                break;
            }
            self.enter()?;
            chain += 1;
            lhs = self.binary_rhs(lhs, op, precedence)?;
        }
        self.leave_n(chain);
        Ok(lhs)
    }

    fn binary_rhs(&mut self, lhs: Box<Expr>, op: BinaryOp, precedence: u8) -> PResult<Box<Expr>> {
        self.bump();
        let rhs = self.binary(precedence + 1)?;
        let span = lhs.span.start..rhs.span.end;
        Ok(Box::new(Expr {
            kind: ExprKind::Binary { op, lhs, rhs },
            span,
        }))
    }

    /// Prefix operators, then a primary expression with its postfix
    /// operators.
    fn unary(&mut self) -> PResult<Box<Expr>> {
        match self.peek() {
            Kind::Bang | Kind::Minus => self.prefix_op(),
            _ => {
                // Postfix chains count towards the nesting limit, see `binary`.
                let mut expr = self.primary()?;
                let mut chain = 0;
                while matches!(self.peek(), Kind::Dot | Kind::LBracket | Kind::DoubleColon | Kind::Bang) {
                    self.enter()?;
                    chain += 1;
                    expr = self.postfix(expr)?;
                }
                self.leave_n(chain);
                Ok(expr)
            }
        }
    }

    fn prefix_op(&mut self) -> PResult<Box<Expr>> {
        let op = if self.peek() == Kind::Bang { UnaryOp::Not } else { UnaryOp::Neg };
        let start = self.bump().start;
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        Ok(Box::new(Expr {
            span: start..operand.span.end,
            kind: ExprKind::Unary { op, operand },
        }))
    }

    /// Applies one postfix operator (`.name`, `.?name`, `.name(...)`,
    /// `[i]`, `[?i]`, `[^i]`, `::name`, `!`) to `expr`.
    fn postfix(&mut self, expr: Box<Expr>) -> PResult<Box<Expr>> {
        let start = expr.span.start;
        let kind = match self.peek() {
            Kind::Dot => {
                self.bump();
                let safe = self.eat(Kind::Question);
                let name = self.property_name()?;
                if self.peek() == Kind::LParen {
                    if safe {
                        return Err(Box::new(ParseError {
                            message: "expected property name after '.?', found function call".to_string(),
                            span: name.span,
                        }));
                    }
                    let args = self.call_args()?;
                    ExprKind::Call {
                        target: Some(expr),
                        name,
                        args,
                    }
                } else {
                    ExprKind::Property { base: expr, name, safe }
                }
            }
            Kind::LBracket => {
                let open = self.bump();
                let saved = self.set_newlines(false);
                let safe = self.eat(Kind::Question);
                let from_end = self.eat(Kind::Caret);
                if self.peek() == Kind::Eof {
                    return Err(self.unclosed(open, "']'"));
                }
                let index = self.expr()?;
                self.expect(Kind::RBracket, "']' after index")?;
                self.newlines_significant = saved;
                ExprKind::Index {
                    base: expr,
                    index,
                    safe,
                    from_end,
                }
            }
            Kind::DoubleColon => {
                self.bump();
                let name = self.ident("nested resource name after '::'")?;
                ExprKind::ResourceAccess { base: expr, name }
            }
            _ => {
                // `!` (the only other postfix operator the caller lets in).
                self.bump();
                ExprKind::NonNull(expr)
            }
        };
        Ok(Box::new(Expr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn property_name(&mut self) -> PResult<Ident> {
        self.ident("property name after '.'")
    }

    /// Dispatches on the current token; each arm is a tail call so this
    /// frame stays small.
    fn primary(&mut self) -> PResult<Box<Expr>> {
        match self.peek() {
            Kind::Integer | Kind::MultilineString => self.literal(),
            Kind::String | Kind::StringLeft => self.string_expr("string"),
            Kind::Ident => self.identifier_or_call(),
            Kind::LParen => self.paren_expr(),
            Kind::LBracket => {
                let index = self.nth_non_newline_index(1);
                if self.is_ident_at(index, "for") {
                    self.for_expr(false)
                } else {
                    self.array()
                }
            }
            Kind::LBrace => self.object(),
            _ => Err(self.expected("expression")),
        }
    }

    fn literal(&mut self) -> PResult<Box<Expr>> {
        let start = self.start();
        let kind = if self.peek() == Kind::Integer {
            let value = self.tokens.get(self.pos).map_or(0, |t| t.value);
            self.bump();
            ExprKind::Integer(value)
        } else {
            let (_, piece) = self.bump_string();
            ExprKind::MultilineString(piece.value)
        };
        Ok(Box::new(Expr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn identifier_or_call(&mut self) -> PResult<Box<Expr>> {
        let start = self.start();
        let kind = match self.text(self.span_at(self.pos)) {
            "true" => {
                self.bump();
                ExprKind::Bool(true)
            }
            "false" => {
                self.bump();
                ExprKind::Bool(false)
            }
            "null" => {
                self.bump();
                ExprKind::Null
            }
            _ => {
                let name = self.ident("expression")?;
                if self.peek() == Kind::LParen {
                    let args = self.call_args()?;
                    ExprKind::Call { target: None, name, args }
                } else {
                    ExprKind::Ident(name)
                }
            }
        };
        Ok(Box::new(Expr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn paren_expr(&mut self) -> PResult<Box<Expr>> {
        let open = self.bump();
        let start = open.start;
        let saved = self.set_newlines(false);
        if self.peek() == Kind::Eof {
            return Err(self.unclosed(open, "')'"));
        }
        let inner = self.expr()?;
        match self.peek() {
            Kind::RParen => {
                self.bump();
            }
            Kind::Eof => return Err(self.unclosed(open, "')'")),
            _ => return Err(self.expected("')' after parenthesized expression")),
        }
        self.newlines_significant = saved;
        Ok(Box::new(Expr {
            kind: ExprKind::Paren(inner),
            span: start..self.last_end,
        }))
    }

    /// Consumes a string-ish token and takes its decoded piece.
    fn bump_string(&mut self) -> (Span, StrPiece) {
        self.normalize();
        let index = self
            .tokens
            .get(self.pos)
            .map_or(usize::MAX, |t| usize::try_from(t.value).unwrap_or(usize::MAX));
        let span = self.bump();
        let piece = self.strings.get_mut(index).map(std::mem::take).unwrap_or_default();
        (span, piece)
    }

    fn push_text(parts: &mut Vec<StringPart>, piece: StrPiece) {
        if !piece.value.is_empty() {
            parts.push(StringPart::Text {
                value: piece.value,
                span: piece.content,
            });
        }
    }

    /// Parses a (possibly interpolated) single-quoted string; `what` names
    /// the expectation in the error when there is no string here.
    fn string_expr(&mut self, what: &str) -> PResult<Box<Expr>> {
        let (parts, span) = self.string_parts(what)?;
        Ok(Box::new(Expr {
            kind: ExprKind::String(parts),
            span,
        }))
    }

    fn string_parts(&mut self, what: &str) -> PResult<(Vec<StringPart>, Span)> {
        let mut parts = Vec::new();
        match self.peek() {
            Kind::String => {
                let (span, piece) = self.bump_string();
                Self::push_text(&mut parts, piece);
                Ok((parts, span))
            }
            Kind::StringLeft => {
                let (span, piece) = self.bump_string();
                let start = span.start;
                Self::push_text(&mut parts, piece);
                let saved = self.set_newlines(false);
                loop {
                    let expr = self.expr()?;
                    parts.push(StringPart::Interpolation(*expr));
                    match self.peek() {
                        Kind::StringMiddle => {
                            let (_, piece) = self.bump_string();
                            Self::push_text(&mut parts, piece);
                        }
                        Kind::StringRight => {
                            let (_, piece) = self.bump_string();
                            Self::push_text(&mut parts, piece);
                            break;
                        }
                        _ => return Err(self.expected("'}' to close string interpolation")),
                    }
                }
                self.newlines_significant = saved;
                Ok((parts, start..self.last_end))
            }
            _ => Err(self.expected(what)),
        }
    }

    fn call_args(&mut self) -> PResult<Vec<Expr>> {
        let open = self.bump();
        let saved = self.set_newlines(false);
        let mut args = Vec::new();
        loop {
            match self.peek() {
                Kind::RParen => break,
                Kind::Eof => return Err(self.unclosed(open, "')'")),
                _ => {}
            }
            args.push(*self.expr()?);
            match self.peek() {
                Kind::Comma => {
                    self.bump();
                }
                Kind::RParen => break,
                Kind::Eof => return Err(self.unclosed(open, "')'")),
                _ => return Err(self.expected("',' or ')' after function argument")),
            }
        }
        self.bump();
        self.newlines_significant = saved;
        Ok(args)
    }

    fn array(&mut self) -> PResult<Box<Expr>> {
        let open = self.bump();
        let start = open.start;
        let items = self.list(open, Kind::RBracket, "']'", "array item", Self::array_item)?;
        Ok(Box::new(Expr {
            kind: ExprKind::Array(items),
            span: start..self.last_end,
        }))
    }

    fn array_item(&mut self) -> PResult<Box<ArrayItem>> {
        let start = self.start();
        let spread = self.eat(Kind::Ellipsis);
        let value = self.expr()?;
        let span = start..self.last_end;
        let kind = if spread {
            ArrayItemKind::Spread(*value)
        } else {
            ArrayItemKind::Value(*value)
        };
        Ok(Box::new(ArrayItem { kind, span }))
    }

    fn object(&mut self) -> PResult<Box<Expr>> {
        let open = self.bump();
        let start = open.start;
        let members = self.list(open, Kind::RBrace, "'}'", "object property", Self::object_member)?;
        Ok(Box::new(Expr {
            kind: ExprKind::Object(members),
            span: start..self.last_end,
        }))
    }

    /// Dispatches on the current token; each arm is a tail call so this
    /// frame stays small.
    fn object_member(&mut self) -> PResult<Box<ObjectMember>> {
        match self.peek() {
            Kind::Ellipsis => self.spread_member(),
            Kind::At => self.nested_resource(),
            Kind::Ident if self.at_ident("resource") && self.nth(1) == Kind::Ident => self.nested_resource(),
            Kind::Ident | Kind::String | Kind::StringLeft => self.property_member(),
            _ => Err(self.expected("property name")),
        }
    }

    fn spread_member(&mut self) -> PResult<Box<ObjectMember>> {
        let start = self.bump().start;
        let value = self.expr()?;
        Ok(Box::new(ObjectMember {
            kind: ObjectMemberKind::Spread(*value),
            span: start..self.last_end,
        }))
    }

    fn property_member(&mut self) -> PResult<Box<ObjectMember>> {
        let start = self.start();
        let key = self.property_key()?;
        self.expect(Kind::Colon, "':' after property name")?;
        let value = self.expr()?;
        Ok(Box::new(ObjectMember {
            kind: ObjectMemberKind::Property { key, value: *value },
            span: start..self.last_end,
        }))
    }

    /// A resource declared inside another resource's body, with optional
    /// decorators.
    fn nested_resource(&mut self) -> PResult<Box<ObjectMember>> {
        let start = self.start();
        let decorators = self.decorators()?;
        if !self.at_ident("resource") {
            return Err(self.expected("nested resource declaration after decorators"));
        }
        let decl = self.resource_decl()?;
        Ok(Box::new(ObjectMember {
            kind: ObjectMemberKind::Resource { decorators, decl },
            span: start..self.last_end,
        }))
    }

    fn property_key(&mut self) -> PResult<PropertyKey> {
        if self.peek() == Kind::Ident {
            let ident = self.ident("property name")?;
            return Ok(PropertyKey {
                kind: PropertyKeyKind::Ident(ident.name),
                span: ident.span,
            });
        }
        let (parts, span) = self.string_parts("property name")?;
        Ok(PropertyKey {
            kind: PropertyKeyKind::String(parts),
            span,
        })
    }

    /// `[for item in iterable: body]`; the current token is `[`. In a
    /// resource or module declaration the body must be an object or an `if`.
    fn for_expr(&mut self, declaration_body: bool) -> PResult<Box<Expr>> {
        let open = self.bump();
        let start = open.start;
        let saved = self.set_newlines(false);
        self.expect_keyword("for", "'for' after '['")?;
        let (item, index) = match self.peek() {
            Kind::Ident => (self.ident("loop variable")?, None),
            Kind::LParen => {
                self.bump();
                let item = self.ident("loop item variable")?;
                let index = if self.eat(Kind::Comma) {
                    Some(self.ident("loop index variable")?)
                } else {
                    None
                };
                self.expect(Kind::RParen, "')' after loop variables")?;
                (item, index)
            }
            _ => return Err(self.expected("loop variable after 'for'")),
        };
        self.expect_keyword("in", "'in' after loop variable")?;
        let iterable = self.expr()?;
        self.expect(Kind::Colon, "':' after loop collection")?;
        let body = if self.at_ident("if") && self.nth_non_newline(1) == Kind::LParen {
            self.if_expr_nested()?
        } else if declaration_body {
            if self.peek() != Kind::LBrace {
                return Err(self.expected("'{' or 'if' to start the loop body"));
            }
            self.object_nested()?
        } else {
            self.expr()?
        };
        match self.peek() {
            Kind::RBracket => {
                self.bump();
            }
            Kind::Eof => return Err(self.unclosed(open, "']'")),
            _ => return Err(self.expected("']' after loop body")),
        }
        self.newlines_significant = saved;
        Ok(Box::new(Expr {
            kind: ExprKind::For {
                item,
                index,
                iterable,
                body,
            },
            span: start..self.last_end,
        }))
    }

    /// `if (cond) {...}`; the current token is `if`.
    fn if_expr(&mut self) -> PResult<Box<Expr>> {
        let start = self.bump().start;
        if self.peek() != Kind::LParen {
            return Err(self.expected("'(' after 'if'"));
        }
        let open = self.bump();
        let saved = self.set_newlines(false);
        if self.peek() == Kind::Eof {
            return Err(self.unclosed(open, "')'"));
        }
        let cond = self.expr()?;
        self.expect(Kind::RParen, "')' after condition")?;
        self.newlines_significant = saved;
        if self.peek() != Kind::LBrace {
            return Err(self.expected("'{' after 'if' condition"));
        }
        let body = self.object_nested()?;
        Ok(Box::new(Expr {
            span: start..body.span.end,
            kind: ExprKind::If { cond, body },
        }))
    }

    // ----------------------------------------------------------------------
    // Types
    // ----------------------------------------------------------------------

    fn at_type_start(&mut self) -> bool {
        match self.peek() {
            Kind::Ident
            | Kind::String
            | Kind::StringLeft
            | Kind::MultilineString
            | Kind::Integer
            | Kind::Minus
            | Kind::Bang
            | Kind::LBrace
            | Kind::LBracket
            | Kind::LParen
            | Kind::Pipe => true,
            Kind::NewLine => self.kind_at(self.pos + 1) == Kind::Pipe,
            _ => false,
        }
    }

    /// The type of a declaration, which may be the legacy `resource 'T@v'`
    /// form (with the string optional when `allow_bare_resource`).
    fn declared_type(&mut self, allow_bare_resource: bool) -> PResult<Box<TypeExpr>> {
        if self.at_ident("resource") && self.nth(1) != Kind::Less {
            let start = self.bump().start;
            let type_string = match self.peek() {
                Kind::String | Kind::StringLeft => Some(self.string_expr("resource type string after 'resource'")?),
                _ if allow_bare_resource => None,
                _ => return Err(self.expected("resource type string after 'resource'")),
            };
            return Ok(Box::new(TypeExpr {
                kind: TypeExprKind::Resource(type_string),
                span: start..self.last_end,
            }));
        }
        self.ty()
    }

    fn at_union_separator(&mut self) -> bool {
        match self.peek() {
            Kind::Pipe => true,
            Kind::NewLine => self.kind_at(self.pos + 1) == Kind::Pipe,
            _ => false,
        }
    }

    /// A full type expression: a union, or a single member.
    fn ty(&mut self) -> PResult<Box<TypeExpr>> {
        self.enter()?;
        let mut leading = None;
        if self.at_union_separator() {
            self.skip_newlines();
            leading = Some(self.bump().start);
        }
        let first = self.unary_type()?;
        let ty = if leading.is_none() && !self.at_union_separator() {
            first
        } else {
            self.union_rest(leading, first)?
        };
        self.leave();
        Ok(ty)
    }

    // Boxed on purpose: large by-value arguments bloat debug-build frames on
    // the recursive path.
    #[allow(clippy::boxed_local)]
    fn union_rest(&mut self, leading: Option<usize>, first: Box<TypeExpr>) -> PResult<Box<TypeExpr>> {
        let start = leading.unwrap_or(first.span.start);
        let mut members = vec![*first];
        while self.at_union_separator() {
            self.skip_newlines();
            self.bump();
            members.push(*self.unary_type()?);
        }
        Ok(Box::new(TypeExpr {
            kind: TypeExprKind::Union(members),
            span: start..self.last_end,
        }))
    }

    /// Optional prefix `-`/`!`, a member type, then `?`/`!` suffixes.
    fn unary_type(&mut self) -> PResult<Box<TypeExpr>> {
        let mut ty = match self.peek() {
            Kind::Minus | Kind::Bang => self.prefix_type()?,
            _ => self.member_type()?,
        };
        // Suffix chains count towards the nesting limit, see `binary`.
        let mut chain = 0;
        while matches!(self.peek(), Kind::Question | Kind::Bang) {
            self.enter()?;
            chain += 1;
            ty = self.nullability_suffix(ty);
        }
        self.leave_n(chain);
        Ok(ty)
    }

    fn prefix_type(&mut self) -> PResult<Box<TypeExpr>> {
        let op = if self.peek() == Kind::Minus { UnaryOp::Neg } else { UnaryOp::Not };
        let start = self.bump().start;
        let operand = self.member_type()?;
        let kind = match (op, &operand.kind) {
            (UnaryOp::Neg, TypeExprKind::Integer { value, negative: false }) => TypeExprKind::Integer {
                value: *value,
                negative: true,
            },
            _ => TypeExprKind::Unary { op, operand },
        };
        Ok(Box::new(TypeExpr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn nullability_suffix(&mut self, ty: Box<TypeExpr>) -> Box<TypeExpr> {
        let start = ty.span.start;
        let kind = if self.peek() == Kind::Question {
            TypeExprKind::Nullable(ty)
        } else {
            TypeExprKind::NonNullable(ty)
        };
        self.bump();
        Box::new(TypeExpr {
            kind,
            span: start..self.last_end,
        })
    }

    /// A primary type followed by `[]`, `[*]`, `[index]`, `.name`, `.*` or
    /// `.name<...>` suffixes.
    fn member_type(&mut self) -> PResult<Box<TypeExpr>> {
        let mut ty = self.primary_type()?;
        let mut chain = 0;
        while matches!(self.peek(), Kind::LBracket | Kind::Dot) {
            self.enter()?;
            chain += 1;
            ty = self.type_suffix(ty)?;
        }
        self.leave_n(chain);
        Ok(ty)
    }

    fn type_suffix(&mut self, ty: Box<TypeExpr>) -> PResult<Box<TypeExpr>> {
        let start = ty.span.start;
        let kind = if self.peek() == Kind::LBracket {
            let open = self.bump();
            match self.peek() {
                Kind::RBracket => {
                    self.bump();
                    TypeExprKind::Array(ty)
                }
                Kind::Star => {
                    self.bump();
                    self.expect(Kind::RBracket, "']' after '*'")?;
                    TypeExprKind::Items(ty)
                }
                _ => {
                    let saved = self.set_newlines(false);
                    if self.peek() == Kind::Eof {
                        return Err(self.unclosed(open, "']'"));
                    }
                    let index = self.expr()?;
                    self.expect(Kind::RBracket, "']' after type index")?;
                    self.newlines_significant = saved;
                    TypeExprKind::Index { base: ty, index }
                }
            }
        } else {
            self.bump();
            if self.eat(Kind::Star) {
                TypeExprKind::AdditionalProperties(ty)
            } else {
                let name = self.property_name()?;
                if self.peek() == Kind::Less {
                    let args = self.type_args()?;
                    TypeExprKind::Parameterized {
                        namespace: Some(ty),
                        name,
                        args,
                    }
                } else {
                    TypeExprKind::Property { base: ty, name }
                }
            }
        };
        Ok(Box::new(TypeExpr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn type_args(&mut self) -> PResult<Vec<TypeExpr>> {
        let open = self.bump();
        let saved = self.set_newlines(false);
        let mut args = Vec::new();
        loop {
            match self.peek() {
                Kind::Greater => break,
                Kind::Eof => return Err(self.unclosed(open, "'>'")),
                _ => {}
            }
            args.push(*self.ty()?);
            match self.peek() {
                Kind::Comma => {
                    self.bump();
                }
                Kind::Greater => break,
                _ => return Err(self.expected("',' or '>' after type argument")),
            }
        }
        self.bump();
        self.newlines_significant = saved;
        Ok(args)
    }

    /// Dispatches on the current token; each arm is a tail call so this
    /// frame stays small.
    fn primary_type(&mut self) -> PResult<Box<TypeExpr>> {
        match self.peek() {
            Kind::Integer | Kind::Ident | Kind::String | Kind::StringLeft | Kind::MultilineString => self.simple_type(),
            Kind::LBrace => self.object_type(),
            Kind::LBracket => self.tuple_type(),
            Kind::LParen => self.paren_type(),
            _ => Err(self.expected("type")),
        }
    }

    /// Literal, named and parameterized types.
    fn simple_type(&mut self) -> PResult<Box<TypeExpr>> {
        let start = self.start();
        let kind = match self.peek() {
            Kind::Integer => {
                let value = self.tokens.get(self.pos).map_or(0, |t| t.value);
                self.bump();
                TypeExprKind::Integer { value, negative: false }
            }
            Kind::MultilineString => {
                let (_, piece) = self.bump_string();
                TypeExprKind::String(piece.value)
            }
            Kind::String | Kind::StringLeft => {
                let (parts, span) = self.string_parts("type")?;
                match literal_text(&parts) {
                    Some(value) => TypeExprKind::String(value),
                    None => {
                        return Err(Box::new(ParseError {
                            message: "expected string literal type, found interpolated string".to_string(),
                            span,
                        }))
                    }
                }
            }
            _ => match self.text(self.span_at(self.pos)) {
                "true" => {
                    self.bump();
                    TypeExprKind::Bool(true)
                }
                "false" => {
                    self.bump();
                    TypeExprKind::Bool(false)
                }
                "null" => {
                    self.bump();
                    TypeExprKind::Null
                }
                _ => {
                    let name = self.ident("type")?;
                    if self.peek() == Kind::Less {
                        let args = self.type_args()?;
                        TypeExprKind::Parameterized {
                            namespace: None,
                            name,
                            args,
                        }
                    } else {
                        TypeExprKind::Named(name)
                    }
                }
            },
        };
        Ok(Box::new(TypeExpr {
            kind,
            span: start..self.last_end,
        }))
    }

    fn paren_type(&mut self) -> PResult<Box<TypeExpr>> {
        let open = self.bump();
        let start = open.start;
        let saved = self.set_newlines(false);
        if self.peek() == Kind::Eof {
            return Err(self.unclosed(open, "')'"));
        }
        let inner = self.ty()?;
        self.expect(Kind::RParen, "')' after parenthesized type")?;
        self.newlines_significant = saved;
        Ok(Box::new(TypeExpr {
            kind: TypeExprKind::Paren(inner),
            span: start..self.last_end,
        }))
    }

    fn object_type(&mut self) -> PResult<Box<TypeExpr>> {
        let open = self.bump();
        let start = open.start;
        let members = self.list(open, Kind::RBrace, "'}'", "object type property", Self::object_type_member)?;
        Ok(Box::new(TypeExpr {
            kind: TypeExprKind::Object(members),
            span: start..self.last_end,
        }))
    }

    fn object_type_member(&mut self) -> PResult<Box<ObjectTypeMember>> {
        let start = self.start();
        let decorators = self.decorators()?;
        let kind = match self.peek() {
            Kind::Star => {
                let star = self.bump();
                self.expect(Kind::Colon, "':' after '*'")?;
                let value = self.ty()?;
                ObjectTypeMemberKind::AdditionalProperties { star, value: *value }
            }
            Kind::Ident | Kind::String | Kind::StringLeft => {
                let key = self.property_key()?;
                self.expect(Kind::Colon, "':' after property name")?;
                let value = self.ty()?;
                ObjectTypeMemberKind::Property { key, value: *value }
            }
            _ => return Err(self.expected("property name or '*' in object type")),
        };
        Ok(Box::new(ObjectTypeMember {
            decorators,
            kind,
            span: start..self.last_end,
        }))
    }

    fn tuple_type(&mut self) -> PResult<Box<TypeExpr>> {
        let open = self.bump();
        let start = open.start;
        let items = self.list(open, Kind::RBracket, "']'", "tuple item type", Self::tuple_item)?;
        Ok(Box::new(TypeExpr {
            kind: TypeExprKind::Tuple(items),
            span: start..self.last_end,
        }))
    }

    fn tuple_item(&mut self) -> PResult<Box<TupleTypeItem>> {
        let start = self.start();
        let decorators = self.decorators()?;
        let value = self.ty()?;
        Ok(Box::new(TupleTypeItem {
            decorators,
            value: *value,
            span: start..self.last_end,
        }))
    }
}
