//! Abstract syntax tree produced by [`parse`](crate::parse).
//!
//! Every node carries a `span` with the byte range of the source text it was
//! parsed from, so `&source[node.span.clone()]` is the node's text. Spans of
//! composite nodes run from the first to the last token of the node; they
//! never include surrounding whitespace or comments.
//!
//! The tree is purely syntactic: nothing is resolved, so for instance
//! `az.resourceGroup()` and `storage.listKeys()` are both [`ExprKind::Call`]
//! with a `target`, and it is up to the consumer to decide whether the target
//! names a namespace or a resource.

use crate::Span;

/// A whole `.bicep` or `.bicepparam` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Top-level statements in source order.
    pub statements: Vec<Statement>,
    /// The whole source text, `0..source.len()`.
    pub span: Span,
    /// The span of every comment (`// …` and `/* … */`), in source order:
    /// the lexer's own tokens, so text inside strings never counts.
    pub comments: Vec<Span>,
}

/// An identifier (declaration name, property name, variable reference...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The identifier text.
    pub name: String,
    /// Location of the identifier.
    pub span: Span,
}

/// A decorator such as `@description('...')` or `@sys.secure()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decorator {
    /// Namespace qualifier, `sys` in `@sys.description('x')`.
    pub namespace: Option<Ident>,
    /// Decorator (function) name.
    pub name: Ident,
    /// Call arguments.
    pub args: Vec<Expr>,
    /// From `@` to the closing parenthesis.
    pub span: Span,
}

/// A top-level statement (declaration) together with its decorators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Decorators written before the declaration, in source order.
    pub decorators: Vec<Decorator>,
    /// The declaration itself.
    pub kind: StatementKind,
    /// From the first decorator (or the keyword when there is none) to the
    /// end of the declaration.
    pub span: Span,
}

/// The different kinds of top-level statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// `targetScope = 'subscription'`
    TargetScope(TargetScopeDecl),
    /// `metadata name = value`
    Metadata(MetadataDecl),
    /// `param name type [= default]`, or `param name = value` in
    /// `.bicepparam` files.
    Param(ParamDecl),
    /// `var name [type] = value`
    Var(VarDecl),
    /// `resource sym 'Type@version' [existing] = body`
    Resource(ResourceDecl),
    /// `module sym 'path' = body`
    Module(ModuleDecl),
    /// `test sym 'path' = {...}` (experimental test framework).
    Test(TestDecl),
    /// `output name type = value`
    Output(OutputDecl),
    /// The three `import` forms.
    Import(ImportDecl),
    /// `type name = typeExpr`
    Type(TypeDecl),
    /// `func name(a string) returnType => body`
    Func(FuncDecl),
    /// `extension name [with {...}] [as alias]`, or the older `provider`
    /// spelling of the same statement.
    Extension(ExtensionDecl),
    /// `using './main.bicep' [with {...}]` or `using none` (`.bicepparam`).
    Using(UsingDecl),
    /// `extends './base.bicepparam'` (`.bicepparam`).
    Extends(ExtendsDecl),
    /// `assert name = condition`
    Assert(AssertDecl),
}

/// `targetScope = value`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetScopeDecl {
    /// The scope expression, usually a string literal.
    pub value: Expr,
}

/// `metadata name = value`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataDecl {
    /// Metadata key.
    pub name: Ident,
    /// Metadata value.
    pub value: Expr,
}

/// `param name type [= default]` or, in `.bicepparam` files, `param name = value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamDecl {
    /// Parameter name.
    pub name: Ident,
    /// Declared type; `None` for the `.bicepparam` assignment form.
    pub ty: Option<TypeExpr>,
    /// Default value (`.bicep`) or assigned value (`.bicepparam`).
    pub default: Option<Expr>,
}

/// `var name [type] = value`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDecl {
    /// Variable name.
    pub name: Ident,
    /// Optional declared type (`var x string = ...`).
    pub ty: Option<TypeExpr>,
    /// Variable value.
    pub value: Expr,
}

/// `resource sym 'Microsoft.Network/routeTables@2023-04-01' [existing] = body`
///
/// Also used for resources nested inside another resource's body, see
/// [`ObjectMemberKind::Resource`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDecl {
    /// Symbolic name.
    pub name: Ident,
    /// The resource type string (an [`ExprKind::String`]).
    pub resource_type: Expr,
    /// Whether the `existing` keyword is present.
    pub existing: bool,
    /// The body: an [`ExprKind::Object`], an [`ExprKind::If`] whose body is an
    /// object, or an [`ExprKind::For`] whose body is one of those two.
    pub value: Expr,
}

/// `module sym 'path-or-registry-reference' = body`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleDecl {
    /// Symbolic name.
    pub name: Ident,
    /// Module path, e.g. `'./x.bicep'` or `'br/public:avm/res/x:0.1.0'`
    /// (an [`ExprKind::String`]).
    pub path: Expr,
    /// Same shapes as [`ResourceDecl::value`].
    pub value: Expr,
}

/// `test sym 'path' = {...}`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDecl {
    /// Symbolic name.
    pub name: Ident,
    /// Path of the file under test.
    pub path: Expr,
    /// Test body.
    pub value: Expr,
}

/// `output name type = value`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDecl {
    /// Output name.
    pub name: Ident,
    /// Output type; `output x resource 'T@v' = ...` uses
    /// [`TypeExprKind::Resource`].
    pub ty: TypeExpr,
    /// Output value.
    pub value: Expr,
}

/// `type name = typeExpr`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDecl {
    /// Type alias name.
    pub name: Ident,
    /// The aliased type.
    pub value: TypeExpr,
}

/// `func name(a string, b int) returnType => body`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncDecl {
    /// Function name.
    pub name: Ident,
    /// Typed parameters.
    pub params: Vec<FuncParam>,
    /// Declared return type.
    pub return_type: TypeExpr,
    /// Body expression.
    pub body: Expr,
}

/// One parameter of a [`FuncDecl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuncParam {
    /// Parameter name.
    pub name: Ident,
    /// Parameter type.
    pub ty: TypeExpr,
    /// From the name to the end of the type.
    pub span: Span,
}

/// The three forms of the `import` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportDecl {
    /// `import {a, b as c} from './x.bicep'`
    Named {
        /// Imported symbols.
        items: Vec<ImportItem>,
        /// Source module path (an [`ExprKind::String`]).
        from: Expr,
    },
    /// `import * as ns from './x.bicep'`
    Wildcard {
        /// The namespace alias.
        alias: Ident,
        /// Source module path.
        from: Expr,
    },
    /// Legacy provider import: `import 'az@1.0.0' [with {...}] [as alias]`.
    Provider {
        /// The provider specification.
        specification: ExtensionSpec,
        /// Configuration object after `with`.
        config: Option<Expr>,
        /// Alias after `as`.
        alias: Option<Ident>,
    },
}

/// One entry of `import { ... } from`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportItem {
    /// The exported name: an identifier, or a string when the exported name
    /// is not a valid identifier (then an alias is required).
    pub name: PropertyKey,
    /// Local alias after `as`.
    pub alias: Option<Ident>,
    /// From the name to the end of the alias.
    pub span: Span,
}

/// Which keyword introduced an [`ExtensionDecl`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionKeyword {
    /// `extension`
    Extension,
    /// `provider` (older spelling)
    Provider,
}

/// `extension microsoftGraphV1` / `extension 'br:...' with {...} as alias`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionDecl {
    /// Keyword used.
    pub keyword: ExtensionKeyword,
    /// Built-in extension name or registry reference string.
    pub specification: ExtensionSpec,
    /// Configuration object after `with`.
    pub config: Option<Expr>,
    /// Alias after `as`.
    pub alias: Option<Ident>,
}

/// What an extension or provider import refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionSpec {
    /// A built-in name such as `microsoftGraphV1` or `kubernetes`.
    Ident(Ident),
    /// A string such as `'br:mcr.microsoft.com/...:1.0'` or `'az@1.0.0'`.
    String(Expr),
}

/// `using './main.bicep' [with {...}]` or `using none`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsingDecl {
    /// The referenced template.
    pub target: UsingTarget,
    /// Configuration object after `with`.
    pub config: Option<Expr>,
}

/// Target of a [`UsingDecl`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsingTarget {
    /// A path or registry reference string.
    Path(Expr),
    /// The `none` keyword; the span is that of `none`.
    None(Span),
}

/// `extends './base.bicepparam'`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendsDecl {
    /// Path of the base parameters file.
    pub path: Expr,
}

/// `assert name = condition`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertDecl {
    /// Assertion name.
    pub name: Ident,
    /// Condition.
    pub value: Expr,
}

/// An expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expr {
    /// What kind of expression this is.
    pub kind: ExprKind,
    /// Location of the whole expression.
    pub span: Span,
}

/// The different kinds of expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExprKind {
    /// A single-quoted string, possibly interpolated. Empty text segments are
    /// omitted, so `''` has no parts and `'${x}'` has a single
    /// [`StringPart::Interpolation`].
    String(Vec<StringPart>),
    /// A `'''multi-line'''` string: raw text, no escapes, no interpolation. A
    /// line break directly after the opening quotes is not part of the value.
    MultilineString(String),
    /// A non-negative integer literal (`-1` is [`ExprKind::Unary`] of `1`).
    /// Bicep integers are 64-bit signed; values above `i64::MAX` are kept as
    /// written and left for the consumer to reject or negate.
    Integer(u64),
    /// `true` or `false`.
    Bool(bool),
    /// `null`
    Null,
    /// A reference to a variable, parameter, resource, lambda variable etc.
    Ident(Ident),
    /// `[a, b]` / multi-line arrays.
    Array(Vec<ArrayItem>),
    /// `{ key: value }` / multi-line objects (also resource and module
    /// bodies, which may contain nested resource declarations).
    Object(Vec<ObjectMember>),
    /// `base.name` or, when `safe`, `base.?name`.
    Property {
        /// Accessed expression.
        base: Box<Expr>,
        /// Property name.
        name: Ident,
        /// `.?` safe-dereference.
        safe: bool,
    },
    /// `base[index]`, `base[?index]` (safe) or `base[^index]` (from end).
    Index {
        /// Indexed expression.
        base: Box<Expr>,
        /// Index expression.
        index: Box<Expr>,
        /// `[?` safe-dereference.
        safe: bool,
        /// `[^` index counted from the end.
        from_end: bool,
    },
    /// `name(args)` or `target.name(args)` (`sys.concat(...)`,
    /// `az.resourceGroup()`, `storage.listKeys()`).
    Call {
        /// Expression before the dot, if any: a namespace or a resource.
        target: Option<Box<Expr>>,
        /// Function name.
        name: Ident,
        /// Arguments.
        args: Vec<Expr>,
    },
    /// `parent::child` resource-scoped accessor.
    ResourceAccess {
        /// Parent resource expression.
        base: Box<Expr>,
        /// Child resource symbolic name.
        name: Ident,
    },
    /// `!x` or `-x`.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `x!` non-null assertion.
    NonNull(Box<Expr>),
    /// `lhs op rhs`.
    Binary {
        /// Operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `cond ? then : otherwise`.
    Ternary {
        /// Condition.
        cond: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        otherwise: Box<Expr>,
    },
    /// `(inner)`.
    Paren(Box<Expr>),
    /// `x => body`, `(x, y) => body` or `() => body`.
    Lambda {
        /// Parameter names.
        params: Vec<Ident>,
        /// Body.
        body: Box<Expr>,
    },
    /// `[for item in iterable: body]` / `[for (item, index) in iterable: body]`.
    /// A filtered loop has an [`ExprKind::If`] body.
    For {
        /// Item variable.
        item: Ident,
        /// Index variable, when the `(item, index)` form is used.
        index: Option<Ident>,
        /// Collection iterated over.
        iterable: Box<Expr>,
        /// Loop body.
        body: Box<Expr>,
    },
    /// `if (cond) body`: conditional resource/module body, or the filter of a
    /// `for` loop body.
    If {
        /// Condition (without its parentheses).
        cond: Box<Expr>,
        /// Body, normally an object.
        body: Box<Expr>,
    },
}

/// Part of an interpolated string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StringPart {
    /// Literal text with escapes decoded.
    Text {
        /// Decoded text.
        value: String,
        /// Location of the raw (undecoded) text.
        span: Span,
    },
    /// An interpolated `${expr}`; the expression's span excludes `${` and `}`.
    Interpolation(Expr),
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Binary operators, from loosest to tightest binding:
/// `??`; `||`; `&&`; `==` `!=` `=~` `!~`; `<` `<=` `>` `>=`; `+` `-`;
/// `*` `/` `%`. All are left-associative. (The ternary operator binds
/// looser than all of them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `??`
    Coalesce,
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Equals,
    /// `!=`
    NotEquals,
    /// `=~` (case-insensitive equality)
    EqualsInsensitive,
    /// `!~` (case-insensitive inequality)
    NotEqualsInsensitive,
    /// `<`
    Less,
    /// `<=`
    LessEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterEqual,
    /// `+`
    Add,
    /// `-`
    Subtract,
    /// `*`
    Multiply,
    /// `/`
    Divide,
    /// `%`
    Modulo,
}

impl BinaryOp {
    /// The operator as written in source.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Coalesce => "??",
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Equals => "==",
            BinaryOp::NotEquals => "!=",
            BinaryOp::EqualsInsensitive => "=~",
            BinaryOp::NotEqualsInsensitive => "!~",
            BinaryOp::Less => "<",
            BinaryOp::LessEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterEqual => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
            BinaryOp::Modulo => "%",
        }
    }
}

/// An array element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayItem {
    /// Value or spread.
    pub kind: ArrayItemKind,
    /// Location of the element (including `...` for spreads).
    pub span: Span,
}

/// The kinds of array elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArrayItemKind {
    /// A plain value.
    Value(Expr),
    /// `...expr`
    Spread(Expr),
}

/// An object member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMember {
    /// Property, spread or nested resource.
    pub kind: ObjectMemberKind,
    /// Location of the whole member.
    pub span: Span,
}

/// The kinds of object members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectMemberKind {
    /// `key: value`
    Property {
        /// Property key (its own span).
        key: PropertyKey,
        /// Property value (its own span).
        value: Expr,
    },
    /// `...expr`
    Spread(Expr),
    /// A child resource declared inside a resource body.
    Resource {
        /// Decorators before the nested declaration.
        decorators: Vec<Decorator>,
        /// The declaration.
        decl: Box<ResourceDecl>,
    },
}

/// An object (or object type) property key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyKey {
    /// Identifier or string.
    pub kind: PropertyKeyKind,
    /// Location of the key (including quotes for strings).
    pub span: Span,
}

/// The kinds of property keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyKeyKind {
    /// `name: ...`
    Ident(String),
    /// `'name': ...` or `'${prefix}-name': ...`, same parts as
    /// [`ExprKind::String`].
    String(Vec<StringPart>),
}

impl PropertyKey {
    /// The key's name when it is an identifier or a string without
    /// interpolation.
    pub fn literal_name(&self) -> Option<String> {
        match &self.kind {
            PropertyKeyKind::Ident(name) => Some(name.clone()),
            PropertyKeyKind::String(parts) => literal_text(parts),
        }
    }
}

/// Concatenated text of string parts if none of them is an interpolation.
pub fn literal_text(parts: &[StringPart]) -> Option<String> {
    let mut out = String::new();
    for part in parts {
        match part {
            StringPart::Text { value, .. } => out.push_str(value),
            StringPart::Interpolation(_) => return None,
        }
    }
    Some(out)
}

impl Expr {
    /// The value of a string literal without interpolation (single-quoted or
    /// multi-line), if this expression is one.
    pub fn as_literal_string(&self) -> Option<String> {
        match &self.kind {
            ExprKind::String(parts) => literal_text(parts),
            ExprKind::MultilineString(value) => Some(value.clone()),
            _ => None,
        }
    }
}

/// A type expression (after `param name`, `output name`, in `type` aliases,
/// function signatures...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeExpr {
    /// What kind of type expression this is.
    pub kind: TypeExprKind,
    /// Location of the whole type expression.
    pub span: Span,
}

/// The different kinds of type expressions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExprKind {
    /// A named type: `string`, `int`, `bool`, `object`, `array`, `any` or a
    /// user-defined type. `ns.typeName` is a [`TypeExprKind::Property`] on
    /// a `Named` base.
    Named(Ident),
    /// String literal type `'a'` (decoded; interpolation is not allowed).
    String(String),
    /// Integer literal type; `negative` for `-1`.
    Integer {
        /// Magnitude.
        value: u64,
        /// Whether a leading `-` was written.
        negative: bool,
    },
    /// `true` / `false` literal type.
    Bool(bool),
    /// `null` literal type.
    Null,
    /// `'a' | 'b' | 'c'` (a leading `|` is allowed; a union may then have a
    /// single member).
    Union(Vec<TypeExpr>),
    /// `T[]`
    Array(Box<TypeExpr>),
    /// `T?`
    Nullable(Box<TypeExpr>),
    /// `T!` (non-nullable assertion)
    NonNullable(Box<TypeExpr>),
    /// `{ name: string, *: int }`
    Object(Vec<ObjectTypeMember>),
    /// `[string, int]`
    Tuple(Vec<TupleTypeItem>),
    /// `(T)`
    Paren(Box<TypeExpr>),
    /// `T.name` (also namespace-qualified names such as `sys.string`).
    Property {
        /// Accessed type.
        base: Box<TypeExpr>,
        /// Property name.
        name: Ident,
    },
    /// `T.*` (type of an object's additional properties).
    AdditionalProperties(Box<TypeExpr>),
    /// `T[*]` (type of an array's items).
    Items(Box<TypeExpr>),
    /// `T[0]` (type of a tuple element).
    Index {
        /// Indexed type.
        base: Box<TypeExpr>,
        /// Index expression (normally an integer literal).
        index: Box<Expr>,
    },
    /// `resource<'T@v'>`, `resourceInput<'T@v'>`, `resourceOutput<'T@v'>`,
    /// or namespace-qualified `ns.name<...>`.
    Parameterized {
        /// Namespace qualifier (`sys` in `sys.resourceInput<...>`).
        namespace: Option<Box<TypeExpr>>,
        /// Parameterized type name.
        name: Ident,
        /// Type arguments.
        args: Vec<TypeExpr>,
    },
    /// Legacy `resource 'T@v'` type of a parameter or output. The type string
    /// may be omitted for outputs (`output x resource = ...`).
    Resource(Option<Box<Expr>>),
    /// `-T` / `!T` applied to a non-literal type (integer literals use
    /// [`TypeExprKind::Integer`] with `negative`).
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<TypeExpr>,
    },
}

/// A member of an object type literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectTypeMember {
    /// Decorators such as `@description('...')`.
    pub decorators: Vec<Decorator>,
    /// Named property or `*` additional properties.
    pub kind: ObjectTypeMemberKind,
    /// From the first decorator (or the key) to the end of the value type.
    pub span: Span,
}

/// The kinds of object type members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectTypeMemberKind {
    /// `name: T`
    Property {
        /// Property key.
        key: PropertyKey,
        /// Property type.
        value: TypeExpr,
    },
    /// `*: T`
    AdditionalProperties {
        /// Location of the `*`.
        star: Span,
        /// Type of additional properties.
        value: TypeExpr,
    },
}

/// An element of a tuple type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TupleTypeItem {
    /// Decorators such as `@description('...')`.
    pub decorators: Vec<Decorator>,
    /// Element type.
    pub value: TypeExpr,
    /// From the first decorator (or the type) to the end of the type.
    pub span: Span,
}
