//! Spanned JSON tree built on `jsonc-parser`.

use std::collections::HashMap;

use jsonc_parser::ast::{ObjectPropName, Value};
use jsonc_parser::common::Ranged;
use jsonc_parser::errors::ParseErrorKind;
use jsonc_parser::{CollectOptions, ParseOptions};

use crate::{ParseError, Span, MAX_DEPTH};

/// The kind of a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number's text exactly as written in the source (e.g. `-1.5e3`).
    Number(String),
    /// The decoded string (escapes resolved).
    String(String),
    Array(Vec<Json>),
    /// Members in document order, with duplicate keys merged (see [`parse_json`]).
    Object(Vec<Member>),
}

/// A JSON value with the byte range it occupies in the source.
///
/// For strings the span includes the quotes; for arrays and objects it runs
/// from the opening to the closing bracket or brace.
#[derive(Debug, Clone, PartialEq)]
pub struct Json {
    pub kind: JsonKind,
    pub span: Span,
}

/// An object member.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The decoded key.
    pub key: String,
    /// The key's string literal, quotes included.
    pub key_span: Span,
    pub value: Json,
}

/// Parses JSON as ARM reads it: strict JSON plus `//` and `/* */` comments
/// and trailing commas in arrays and objects.
///
/// A leading UTF-8 byte order mark is skipped (spans still count its 3 bytes,
/// so they remain offsets into `source`). Other JSON5 extensions (single-quoted
/// strings, unquoted keys, hexadecimal or `+` numbers, `NaN`, missing commas)
/// are rejected.
///
/// Duplicate keys in an object are compared case-insensitively, as ARM does:
/// the member stays at the position where the key first appeared, and takes
/// the key, key span and value of the last occurrence.
///
/// Containers nested deeper than [`MAX_DEPTH`] are an error located at the
/// offending bracket.
pub fn parse_json(source: &str) -> Result<Json, ParseError> {
    let padded;
    let text = match source.strip_prefix('\u{feff}') {
        // Replace the 3-byte BOM with 3 spaces so offsets stay the same.
        Some(rest) => {
            padded = format!("   {rest}");
            padded.as_str()
        }
        None => source,
    };
    let options = ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: true,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed = jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &options).map_err(convert_error)?;
    match parsed.value {
        Some(value) => convert(&value, 0),
        None => Err(ParseError::new("expected a json value", source.len()..source.len())),
    }
}

fn depth_error(span: Span) -> ParseError {
    ParseError::new(format!("json nesting is deeper than the limit of {MAX_DEPTH}"), span)
}

fn convert_error(err: jsonc_parser::errors::ParseError) -> ParseError {
    let range = err.range();
    let span = range.start..range.end.max(range.start);
    if let ParseErrorKind::NestingDepthExceeded = err.kind() {
        // jsonc-parser's own limit (512 ranges) is only reached beyond ours.
        return depth_error(span);
    }
    let mut message = err.kind().to_string();
    if let Some(first) = message.chars().next() {
        let lower: String = first.to_lowercase().collect();
        message.replace_range(..first.len_utf8(), &lower);
    }
    while message.ends_with('.') {
        message.pop();
    }
    ParseError::new(message, span)
}

fn span_of(value: &impl Ranged) -> Span {
    let range = value.range();
    range.start..range.end
}

fn convert(value: &Value<'_>, depth: usize) -> Result<Json, ParseError> {
    let span = span_of(value);
    let kind = match value {
        Value::NullKeyword(_) => JsonKind::Null,
        Value::BooleanLit(b) => JsonKind::Bool(b.value),
        Value::NumberLit(n) => JsonKind::Number(n.value.to_string()),
        Value::StringLit(s) => JsonKind::String(s.value.to_string()),
        Value::Array(array) => {
            if depth >= MAX_DEPTH {
                return Err(depth_error(span.start..span.start + 1));
            }
            let mut elements = Vec::with_capacity(array.elements.len());
            for element in &array.elements {
                elements.push(convert(element, depth + 1)?);
            }
            JsonKind::Array(elements)
        }
        Value::Object(object) => {
            if depth >= MAX_DEPTH {
                return Err(depth_error(span.start..span.start + 1));
            }
            let mut members: Vec<Member> = Vec::with_capacity(object.properties.len());
            let mut seen: HashMap<String, usize> = HashMap::new();
            for prop in &object.properties {
                let key = match &prop.name {
                    ObjectPropName::String(lit) => lit.value.to_string(),
                    ObjectPropName::Word(word) => word.value.to_string(),
                };
                let member = Member {
                    key_span: span_of(&prop.name),
                    value: convert(&prop.value, depth + 1)?,
                    key,
                };
                let folded = fold_case(&member.key);
                match seen.get(&folded).and_then(|&i| members.get_mut(i)) {
                    Some(slot) => *slot = member,
                    None => {
                        seen.insert(folded, members.len());
                        members.push(member);
                    }
                }
            }
            JsonKind::Object(members)
        }
    };
    Ok(Json { kind, span })
}

fn fold_case(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars().flat_map(char::to_lowercase).eq(b.chars().flat_map(char::to_lowercase))
}

impl Json {
    /// The value of the member named `key` (case-insensitive, as ARM looks up
    /// keys), if this is an object that has one.
    pub fn get(&self, key: &str) -> Option<&Json> {
        self.member(key).map(|m| &m.value)
    }

    /// The member named `key` (case-insensitive), with its key span.
    pub fn member(&self, key: &str) -> Option<&Member> {
        self.as_object()?.iter().find(|m| eq_ignore_case(&m.key, key))
    }

    /// The decoded string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.kind {
            JsonKind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number's source text, if this is a number.
    pub fn as_number_text(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `i64`, if this is a number written as an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number_text()?.parse().ok()
    }

    pub fn as_array(&self) -> Option<&[Json]> {
        match &self.kind {
            JsonKind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.kind {
            JsonKind::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, JsonKind::Null)
    }

    /// `"null"`, `"boolean"`, `"number"`, `"string"`, `"array"` or `"object"`,
    /// for messages.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "boolean",
            JsonKind::Number(_) => "number",
            JsonKind::String(_) => "string",
            JsonKind::Array(_) => "array",
            JsonKind::Object(_) => "object",
        }
    }

    /// Calls `f` on this value and every value nested in it, parents before
    /// children, in document order. Object keys are not visited (use
    /// [`Json::as_object`] for those). Iterative: safe on any depth.
    pub fn walk<'a>(&'a self, mut f: impl FnMut(&'a Json)) {
        let mut stack: Vec<&'a Json> = vec![self];
        while let Some(value) = stack.pop() {
            f(value);
            match &value.kind {
                JsonKind::Array(items) => stack.extend(items.iter().rev()),
                JsonKind::Object(members) => stack.extend(members.iter().rev().map(|m| &m.value)),
                _ => {}
            }
        }
    }

    /// Maps `content`, a byte range within this string's decoded content
    /// (e.g. an [`Expr`](crate::Expr) span), to a byte range of `source`, the
    /// text this value was parsed from. See [`map_string_span`].
    ///
    /// If this is not a string, returns the whole value's span.
    pub fn string_source_span(&self, source: &str, content: Span) -> Span {
        match &self.kind {
            JsonKind::String(decoded) => map_string_span_checked(source, &self.span, content, Some(decoded.len())),
            _ => self.span.clone(),
        }
    }
}

/// Maps a byte range of a JSON string's decoded content to a byte range of
/// the source.
///
/// `literal` is the span of the string literal in `source`, quotes included
/// (a [`Json::span`] or [`Member::key_span`]). Each character maps exactly; a
/// range that starts or ends inside an escape sequence (`\n`, `\u00e9`, a
/// `\ud83d\ude00` surrogate pair) is widened to cover the whole escape. An
/// empty range maps to an empty range at the matching position.
///
/// Falls back to `literal` itself when the range does not fit in the content
/// or `literal` does not delimit a JSON string in `source`. Linear in the
/// length of the literal.
pub fn map_string_span(source: &str, literal: &Span, content: Span) -> Span {
    map_string_span_checked(source, literal, content, None)
}

fn map_string_span_checked(source: &str, literal: &Span, content: Span, expected_len: Option<usize>) -> Span {
    let whole = literal.clone();
    let Some(raw) = source.get(literal.start..literal.end) else {
        return whole;
    };
    let Some(inner) = raw.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return whole;
    };
    if content.start > content.end {
        return whole;
    }
    let base = literal.start + 1;
    let mut start = None;
    let mut end = None;
    let mut decoded = 0usize;
    let mut units = Units { text: inner, pos: 0 };
    loop {
        let unit = match units.next_unit() {
            Ok(Some(unit)) => unit,
            Ok(None) => break,
            Err(()) => return whole,
        };
        let (raw_start, raw_end, len) = unit;
        let unit_end = decoded + len;
        if start.is_none() && content.start < unit_end {
            start = Some(raw_start);
        }
        if end.is_none() {
            if content.end == decoded {
                end = Some(raw_start);
            } else if content.end < unit_end {
                end = Some(raw_end);
            }
        }
        decoded = unit_end;
    }
    if expected_len.is_some_and(|n| n != decoded) {
        return whole;
    }
    if start.is_none() && content.start == decoded {
        start = Some(inner.len());
    }
    if end.is_none() && content.end == decoded {
        end = Some(inner.len());
    }
    match (start, end) {
        (Some(s), Some(e)) if s <= e => base + s..base + e,
        _ => whole,
    }
}

/// Walks a JSON string's raw content one decoded character at a time.
struct Units<'a> {
    text: &'a str,
    pos: usize,
}

impl Units<'_> {
    /// The next unit as (raw start, raw end, decoded byte length).
    fn next_unit(&mut self) -> Result<Option<(usize, usize, usize)>, ()> {
        let start = self.pos;
        let Some(rest) = self.text.get(start..) else {
            return Err(());
        };
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return Ok(None);
        };
        if c != '\\' {
            self.pos = start + c.len_utf8();
            return Ok(Some((start, self.pos, c.len_utf8())));
        }
        match chars.next() {
            Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => {
                self.pos = start + 2;
                Ok(Some((start, self.pos, 1)))
            }
            Some('u') => {
                let high = self.hex4(start + 2)?;
                if (0xD800..0xDC00).contains(&high) {
                    let low_escape = self.text.get(start + 6..start + 8);
                    if low_escape != Some("\\u") {
                        return Err(());
                    }
                    let low = self.hex4(start + 8)?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return Err(());
                    }
                    self.pos = start + 12;
                    return Ok(Some((start, self.pos, 4)));
                }
                let c = char::from_u32(high).ok_or(())?;
                self.pos = start + 6;
                Ok(Some((start, self.pos, c.len_utf8())))
            }
            _ => Err(()),
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, ()> {
        let digits = self.text.get(at..at + 4).ok_or(())?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(());
        }
        u32::from_str_radix(digits, 16).map_err(|_| ())
    }
}

fn schema_contains(root: &Json, needle: &str) -> bool {
    root.get("$schema")
        .and_then(Json::as_str)
        .is_some_and(|schema| schema.to_ascii_lowercase().contains(needle))
}

/// Whether `root` is an ARM deployment template: an object whose `$schema`
/// contains `deploymentTemplate.json` (case-insensitive), which also covers
/// the subscription, management group and tenant variants.
pub fn is_deployment_template(root: &Json) -> bool {
    schema_contains(root, "deploymenttemplate.json")
}

/// Whether `root` is an ARM parameters file: an object whose `$schema`
/// contains `deploymentParameters.json` (case-insensitive).
pub fn is_parameters_file(root: &Json) -> bool {
    schema_contains(root, "deploymentparameters.json")
}
