//! Syntax layer for Azure Resource Manager (ARM) templates, with exact source
//! positions.
//!
//! Two parts:
//!
//! 1. [`parse_json`]: a spanned JSON tree ([`Json`], [`Member`]). Comments
//!    (`//`, `/* */`) and trailing commas are accepted, as ARM accepts them.
//!    Object keys are looked up case-insensitively ([`Json::get`]), and a
//!    duplicate key (compared case-insensitively) keeps the *last* value at the
//!    position of its *first* appearance.
//! 2. [`classify_string`] / [`parse_expression`]: the ARM template expression
//!    language (`"[concat('a', parameters('p'))]"`) as an [`Expr`] tree.
//!
//! # Spans
//!
//! Every [`Span`] is a byte range. JSON spans are offsets into the text given
//! to [`parse_json`]. Expression spans are offsets into the *decoded content*
//! of the JSON string they came from (the text between the JSON quotes, after
//! JSON escapes such as `\"` and `\u00e9` are decoded). Use
//! [`Json::string_source_span`] (or [`map_string_span`]) to turn such a span
//! back into a range of the JSON source; it is exact character by character,
//! with a JSON escape sequence mapped as one unit.
//!
//! # Example
//!
//! ```
//! use kmsguard_arm_syntax::{classify_string, line_col, parse_json, ExprKind, StringValue};
//!
//! let source = r#"{
//!   "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
//!   // ARM allows comments
//!   "resources": [ { "name": "[concat('rt-', parameters('suffix'))]" } ]
//! }"#;
//! let root = parse_json(source).unwrap();
//! assert!(kmsguard_arm_syntax::is_deployment_template(&root));
//! let name = &root.get("RESOURCES").unwrap().as_array().unwrap()[0].get("name").unwrap();
//! let StringValue::Expression(expr) = classify_string(name.as_str().unwrap()).unwrap() else {
//!     panic!("not an expression");
//! };
//! let ExprKind::Call { name: function, args } = &expr.kind else { panic!() };
//! assert_eq!(function, "concat");
//! // Where is `parameters('suffix')` in the file?
//! let span = name.string_source_span(source, args[1].span.clone());
//! assert_eq!(&source[span.clone()], "parameters('suffix')");
//! assert_eq!(line_col(source, span.start), (4, 44));
//! ```
//!
//! # Expression details
//!
//! See [`classify_string`] for which strings are expressions and
//! [`parse_expression`] for the grammar. Notable choices: `true`, `false` and
//! `null` must be written as calls (`true()`), as ARM requires; a bare name is
//! an error. A string or integer literal is accepted as the whole expression
//! (`"['it''s']"`), although ARM's own parser may insist on a function call
//! there. Decimal numbers are rejected (ARM has no decimal literals).
//!
//! # Robustness
//!
//! No function here panics on any input. Nesting is limited (JSON containers
//! and expression nesting both to [`MAX_DEPTH`]) and reported as a located
//! [`ParseError`], so hostile input cannot overflow the stack. Parsing is
//! linear in the input size.

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

mod expr;
mod json;

pub use expr::{classify_string, parse_expression, split_namespace, Expr, ExprKind, StringValue};
pub use json::{is_deployment_template, is_parameters_file, map_string_span, parse_json, Json, JsonKind, Member};

/// A byte range into a source text.
pub type Span = std::ops::Range<usize>;

/// The maximum nesting depth of JSON containers and of expressions.
pub const MAX_DEPTH: usize = 256;

/// A syntax error with its location.
///
/// `message` is lowercase and has no trailing period. `span` is a byte range
/// into the text that was parsed (for [`classify_string`], into the string's
/// content); it may be empty when it marks a position (e.g. end of input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

impl ParseError {
    pub(crate) fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError {
            message: message.into(),
            span,
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

/// 1-based line and column of a byte offset in `source`.
///
/// The column counts characters (not bytes) from the start of the line. Lines
/// end at `\n`. An offset past the end is clamped to the end; an offset inside
/// a multi-byte character counts as that character's start.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut line = 1;
    let mut col = 1;
    for (i, c) in source.char_indices() {
        if i >= offset {
            break;
        }
        if c == '\n' {
            line += 1;
            col = 1;
        } else if i + c.len_utf8() <= offset {
            col += 1;
        }
    }
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn line_col_counts_characters_and_lines() {
        let s = "ab\néx\ny";
        assert_eq!(line_col(s, 0), (1, 1));
        assert_eq!(line_col(s, 2), (1, 3));
        assert_eq!(line_col(s, 3), (2, 1));
        assert_eq!(line_col(s, 5), (2, 2)); // after the 2-byte é
        assert_eq!(line_col(s, 4), (2, 1)); // inside é
        assert_eq!(line_col(s, 7), (3, 1));
        assert_eq!(line_col(s, 100), (3, 2));
    }
}
