//! A hand-written lexer and parser for the [Bicep] language.
//!
//! The crate only deals with syntax: [`parse`] turns the text of a `.bicep`
//! or `.bicepparam` file into a [`Program`], an abstract syntax tree in which
//! every node carries the byte [`Span`] of the source text it was parsed from.
//! Nothing is evaluated or type-checked.
//!
//! ```
//! use kmsguard_bicep_syntax::{parse, StatementKind};
//!
//! let src = "param location string = 'westeurope'\n";
//! let program = parse(src).expect("valid bicep");
//! let StatementKind::Param(param) = &program.statements[0].kind else { panic!() };
//! assert_eq!(param.name.name, "location");
//! assert_eq!(&src[param.default.as_ref().unwrap().span.clone()], "'westeurope'");
//! ```
//!
//! Guarantees:
//!
//! * the parser never panics, whatever the input;
//! * it runs in time linear in the size of the input (it never backtracks; all
//!   look-ahead is bounded);
//! * nesting of expressions and types is limited to [`MAX_NESTING_DEPTH`]
//!   levels, beyond which a "nesting too deep" error is returned instead of
//!   exhausting the stack. Chains of binary operators, member accesses and
//!   type suffixes count too (each link nests the tree one level deeper), so
//!   the depth of the returned tree is bounded and recursive traversals of it
//!   (including its `Drop`) are safe.
//!
//! Only the first error is reported; there is no error recovery.
//!
//! [Bicep]: https://learn.microsoft.com/azure/azure-resource-manager/bicep/

#![warn(missing_docs)]
// Nothing derived from input may panic: the workspace lints (Cargo.toml)
// keep the panicking shortcuts out; tests may use them.
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod ast;
mod lexer;
mod parser;

use std::fmt;

pub use ast::*;

/// A range of byte offsets into the parsed source text.
pub type Span = std::ops::Range<usize>;

/// Maximum number of nested expressions or type expressions accepted by
/// [`parse`]. Deeper nesting yields a "nesting too deep" [`ParseError`].
///
/// Each bracket, parenthesis, interpolation, prefix operator, lambda or
/// ternary branch counts one level, as does each link of a chain such as
/// `a + b + c` (two levels) or `a.b[0]` (two levels). At this limit the
/// parser needs under 1 MiB of stack even in unoptimized builds.
pub const MAX_NESTING_DEPTH: usize = 256;

/// The first syntax error found in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Lower-case description without a trailing period, saying what was
    /// expected and what was found, e.g.
    /// `expected '=' after metadata name, found '{'`.
    pub message: String,
    /// Location of the offending text (may be empty, e.g. at end of file).
    pub span: Span,
}

impl ParseError {
    /// One-based line and column (in characters) of the start of the error.
    pub fn line_col(&self, source: &str) -> (usize, usize) {
        line_col(source, self.span.start)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at bytes {}..{}", self.message, self.span.start, self.span.end)
    }
}

impl std::error::Error for ParseError {}

/// Converts a byte offset into a one-based `(line, column)` pair, counting
/// columns in characters. Offsets past the end (or inside a multi-byte
/// character) are clamped to the nearest preceding character boundary.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while offset > 0 && !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = source.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Parses the text of a `.bicep` or `.bicepparam` file.
///
/// Both file kinds share one grammar here: `.bicepparam`-only statements
/// (`using`, `extends`, `param name = value`) are accepted in any file, and
/// it is up to the caller to reject statements that do not belong in the kind
/// of file being checked.
pub fn parse(source: &str) -> Result<Program, ParseError> {
    parser::parse_program(source)
}
