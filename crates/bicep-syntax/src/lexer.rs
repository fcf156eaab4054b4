//! Tokenizer for Bicep source text.
//!
//! The whole input is tokenized up front. Whitespace and comments are
//! dropped; runs of line breaks (together with any whitespace and comments
//! between them) collapse into a single [`Kind::NewLine`] token, so two
//! `NewLine` tokens are never adjacent.
//!
//! Interpolated strings are split the way the Bicep compiler splits them:
//! `'a${x}b${y}c'` becomes `StringLeft("a")`, `x`, `StringMiddle("b")`, `y`,
//! `StringRight("c")`. A stack of brace depths tells a `}` that closes an
//! interpolation hole from one that closes an object.
//!
//! Lexing stops at the first error; the token list then ends with an `Eof`
//! token placed at the error and the error is returned alongside.

use crate::{ParseError, Span};

/// Token kinds. String payloads live in [`Lexed::strings`], integer values
/// in [`Token::value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Ident,
    Integer,
    /// `'text'`
    String,
    /// `'text${`
    StringLeft,
    /// `}text${`
    StringMiddle,
    /// `}text'`
    StringRight,
    /// `'''text'''`
    MultilineString,
    NewLine,
    At,
    Comma,
    Dot,
    Question,
    Colon,
    DoubleColon,
    Assign,
    Equals,
    NotEquals,
    EqualsInsensitive,
    NotEqualsInsensitive,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Bang,
    AndAnd,
    OrOr,
    Coalesce,
    Arrow,
    Ellipsis,
    Pipe,
    Caret,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Eof,
}

impl Kind {
    /// Human-readable name used in "found ..." parts of error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Ident => "identifier",
            Kind::Integer => "integer",
            Kind::String | Kind::StringLeft => "string",
            Kind::StringMiddle | Kind::StringRight => "'}'",
            Kind::MultilineString => "multi-line string",
            Kind::NewLine => "newline",
            Kind::At => "'@'",
            Kind::Comma => "','",
            Kind::Dot => "'.'",
            Kind::Question => "'?'",
            Kind::Colon => "':'",
            Kind::DoubleColon => "'::'",
            Kind::Assign => "'='",
            Kind::Equals => "'=='",
            Kind::NotEquals => "'!='",
            Kind::EqualsInsensitive => "'=~'",
            Kind::NotEqualsInsensitive => "'!~'",
            Kind::Less => "'<'",
            Kind::LessEqual => "'<='",
            Kind::Greater => "'>'",
            Kind::GreaterEqual => "'>='",
            Kind::Plus => "'+'",
            Kind::Minus => "'-'",
            Kind::Star => "'*'",
            Kind::Slash => "'/'",
            Kind::Percent => "'%'",
            Kind::Bang => "'!'",
            Kind::AndAnd => "'&&'",
            Kind::OrOr => "'||'",
            Kind::Coalesce => "'??'",
            Kind::Arrow => "'=>'",
            Kind::Ellipsis => "'...'",
            Kind::Pipe => "'|'",
            Kind::Caret => "'^'",
            Kind::LParen => "'('",
            Kind::RParen => "')'",
            Kind::LBracket => "'['",
            Kind::RBracket => "']'",
            Kind::LBrace => "'{'",
            Kind::RBrace => "'}'",
            Kind::Eof => "end of file",
        }
    }
}

/// One token.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub kind: Kind,
    /// The whole token, e.g. `'abc${` for a `StringLeft`.
    pub span: Span,
    /// Integer value for `Integer`; index into [`Lexed::strings`] for the
    /// string kinds; unused otherwise.
    pub value: u64,
}

/// Decoded text of a string token (or string piece).
#[derive(Debug, Clone, Default)]
pub(crate) struct StrPiece {
    /// Text with escapes decoded.
    pub value: String,
    /// Raw text between the delimiters (quotes, `${`, `}`).
    pub content: Span,
}

/// Result of tokenizing a source file.
pub(crate) struct Lexed {
    /// Always ends with an `Eof` token.
    pub tokens: Vec<Token>,
    pub strings: Vec<StrPiece>,
    /// The byte span of every `//` and `/* */` comment, in order.
    pub comments: Vec<Span>,
    pub error: Option<ParseError>,
}

pub(crate) fn lex(src: &str) -> Lexed {
    let mut lexer = Lexer {
        src,
        bytes: src.as_bytes(),
        pos: 0,
        tokens: Vec::new(),
        strings: Vec::new(),
        holes: Vec::new(),
        comments: Vec::new(),
    };
    let error = lexer.run().err();
    let end = match &error {
        Some(e) => e.span.start.min(src.len()),
        None => src.len(),
    };
    lexer.tokens.push(Token {
        kind: Kind::Eof,
        span: end..end,
        value: 0,
    });
    Lexed {
        tokens: lexer.tokens,
        strings: lexer.strings,
        comments: lexer.comments,
        error,
    }
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    tokens: Vec<Token>,
    strings: Vec<StrPiece>,
    /// One entry per open interpolation hole: the number of `{` opened inside
    /// it and not yet closed.
    holes: Vec<usize>,
    comments: Vec<Span>,
}

type LexResult = Result<(), ParseError>;

fn error(message: impl Into<String>, span: Span) -> ParseError {
    ParseError {
        message: message.into(),
        span,
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Pragmas that the Bicep compiler treats as trivia when they start a line.
const PRAGMAS: [&str; 3] = ["#disable-next-line", "#disable-diagnostics", "#restore-diagnostics"];

impl<'a> Lexer<'a> {
    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    fn push(&mut self, kind: Kind, start: usize) {
        self.tokens.push(Token {
            kind,
            span: start..self.pos,
            value: 0,
        });
    }

    fn push_string(&mut self, kind: Kind, start: usize, piece: StrPiece) {
        let index = self.strings.len() as u64;
        self.strings.push(piece);
        self.tokens.push(Token {
            kind,
            span: start..self.pos,
            value: index,
        });
    }

    /// The character starting at byte `at`, if `at` is a character boundary.
    fn char_at(&self, at: usize) -> Option<char> {
        self.src.get(at..).and_then(|s| s.chars().next())
    }

    fn newline(&mut self, len: usize) {
        let start = self.pos;
        self.pos += len;
        if let Some(last) = self.tokens.last_mut() {
            if last.kind == Kind::NewLine {
                last.span.end = self.pos;
                return;
            }
        }
        self.push(Kind::NewLine, start);
    }

    /// True if only spaces and tabs precede `self.pos` on its line.
    fn at_line_start(&self) -> bool {
        let before = self.bytes.get(..self.pos).unwrap_or(&[]);
        before
            .iter()
            .rev()
            .take_while(|&&b| b != b'\n' && b != b'\r')
            .all(|&b| b == b' ' || b == b'\t')
    }

    fn skip_to_line_end(&mut self) {
        while let Some(b) = self.peek_at(0) {
            if b == b'\n' || b == b'\r' {
                break;
            }
            self.pos += 1;
        }
    }

    fn run(&mut self) -> LexResult {
        // A byte order mark is not part of the program text.
        if self.src.starts_with('\u{feff}') {
            self.pos = '\u{feff}'.len_utf8();
        }
        while let Some(b) = self.peek_at(0) {
            let start = self.pos;
            match b {
                b' ' | b'\t' => self.pos += 1,
                b'\n' => self.newline(1),
                b'\r' => {
                    let len = if self.peek_at(1) == Some(b'\n') { 2 } else { 1 };
                    self.newline(len);
                }
                b'/' if self.peek_at(1) == Some(b'/') => {
                    self.skip_to_line_end();
                    self.comments.push(start..self.pos);
                }
                b'/' if self.peek_at(1) == Some(b'*') => {
                    self.block_comment()?;
                    self.comments.push(start..self.pos);
                }
                b'#' if self.at_line_start()
                    && PRAGMAS
                        .iter()
                        .any(|p| self.src.get(self.pos..).is_some_and(|rest| rest.starts_with(p))) =>
                {
                    self.skip_to_line_end()
                }
                b'\'' => {
                    if self.peek_at(1) == Some(b'\'') && self.peek_at(2) == Some(b'\'') {
                        self.multiline_string()?;
                    } else {
                        self.pos += 1;
                        self.string_body(start, true)?;
                    }
                }
                b'0'..=b'9' => self.integer()?,
                _ if is_ident_start(b) => {
                    while self.peek_at(0).is_some_and(is_ident_continue) {
                        self.pos += 1;
                    }
                    self.push(Kind::Ident, start);
                }
                b'{' => {
                    if let Some(depth) = self.holes.last_mut() {
                        *depth += 1;
                    }
                    self.pos += 1;
                    self.push(Kind::LBrace, start);
                }
                b'}' => match self.holes.last_mut() {
                    Some(0) => {
                        self.holes.pop();
                        self.pos += 1;
                        self.string_body(start, false)?;
                    }
                    Some(depth) => {
                        *depth -= 1;
                        self.pos += 1;
                        self.push(Kind::RBrace, start);
                    }
                    None => {
                        self.pos += 1;
                        self.push(Kind::RBrace, start);
                    }
                },
                _ if b.is_ascii() => self.punctuation(b)?,
                _ => {
                    let c = self.char_at(self.pos).unwrap_or('\u{fffd}');
                    let len = c.len_utf8().max(1);
                    if c.is_whitespace() {
                        // Unicode spaces (NBSP and friends), except line
                        // separators which we treat as plain whitespace too.
                        self.pos += len;
                    } else {
                        return Err(error(
                            format!("expected a token, found character '{}'", c.escape_debug()),
                            start..start + len,
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn block_comment(&mut self) -> LexResult {
        let start = self.pos;
        let body = self.src.get(start + 2..).unwrap_or("");
        match body.find("*/") {
            Some(i) => {
                self.pos = start + 2 + i + 2;
                Ok(())
            }
            None => Err(error(
                "unterminated block comment, expected '*/', found end of file",
                start..self.src.len(),
            )),
        }
    }

    fn integer(&mut self) -> LexResult {
        let start = self.pos;
        let mut value: Option<u64> = Some(0);
        while let Some(b) = self.peek_at(0) {
            if !b.is_ascii_digit() {
                break;
            }
            value = value
                .and_then(|v| v.checked_mul(10))
                .and_then(|v| v.checked_add(u64::from(b - b'0')));
            self.pos += 1;
        }
        match value {
            Some(value) => {
                self.tokens.push(Token {
                    kind: Kind::Integer,
                    span: start..self.pos,
                    value,
                });
                Ok(())
            }
            None => Err(error(
                "integer literal is too large, expected at most 18446744073709551615",
                start..self.pos,
            )),
        }
    }

    fn punctuation(&mut self, b: u8) -> LexResult {
        let start = self.pos;
        let next = self.peek_at(1);
        let (kind, len) = match (b, next) {
            (b'@', _) => (Kind::At, 1),
            (b',', _) => (Kind::Comma, 1),
            (b'.', Some(b'.')) if self.peek_at(2) == Some(b'.') => (Kind::Ellipsis, 3),
            (b'.', _) => (Kind::Dot, 1),
            (b'?', Some(b'?')) => (Kind::Coalesce, 2),
            (b'?', _) => (Kind::Question, 1),
            (b':', Some(b':')) => (Kind::DoubleColon, 2),
            (b':', _) => (Kind::Colon, 1),
            (b'=', Some(b'=')) => (Kind::Equals, 2),
            (b'=', Some(b'~')) => (Kind::EqualsInsensitive, 2),
            (b'=', Some(b'>')) => (Kind::Arrow, 2),
            (b'=', _) => (Kind::Assign, 1),
            (b'!', Some(b'=')) => (Kind::NotEquals, 2),
            (b'!', Some(b'~')) => (Kind::NotEqualsInsensitive, 2),
            (b'!', _) => (Kind::Bang, 1),
            (b'<', Some(b'=')) => (Kind::LessEqual, 2),
            (b'<', _) => (Kind::Less, 1),
            (b'>', Some(b'=')) => (Kind::GreaterEqual, 2),
            (b'>', _) => (Kind::Greater, 1),
            (b'+', _) => (Kind::Plus, 1),
            (b'-', _) => (Kind::Minus, 1),
            (b'*', _) => (Kind::Star, 1),
            (b'/', _) => (Kind::Slash, 1),
            (b'%', _) => (Kind::Percent, 1),
            (b'&', Some(b'&')) => (Kind::AndAnd, 2),
            (b'|', Some(b'|')) => (Kind::OrOr, 2),
            (b'|', _) => (Kind::Pipe, 1),
            (b'^', _) => (Kind::Caret, 1),
            (b'(', _) => (Kind::LParen, 1),
            (b')', _) => (Kind::RParen, 1),
            (b'[', _) => (Kind::LBracket, 1),
            (b']', _) => (Kind::RBracket, 1),
            (b'&', _) => return Err(error("expected '&&', found '&'", start..start + 1)),
            _ => {
                let shown = char::from(b).escape_debug().to_string();
                return Err(error(format!("expected a token, found character '{shown}'"), start..start + 1));
            }
        };
        self.pos += len;
        self.push(kind, start);
        Ok(())
    }

    /// Scans string text after an opening `'` (when `first`) or after the `}`
    /// closing an interpolation hole, up to and including the closing `'` or
    /// the `${` opening the next hole. `start` is the offset of the opening
    /// delimiter.
    fn string_body(&mut self, start: usize, first: bool) -> LexResult {
        let content_start = self.pos;
        let mut value = String::new();
        loop {
            let Some(b) = self.peek_at(0) else {
                return Err(error(
                    "unterminated string, expected closing quote, found end of file",
                    start..self.pos,
                ));
            };
            match b {
                b'\n' | b'\r' => {
                    return Err(error(
                        "unterminated string, expected closing quote, found end of line",
                        start..self.pos,
                    ));
                }
                b'\'' => {
                    let content = content_start..self.pos;
                    self.pos += 1;
                    let kind = if first { Kind::String } else { Kind::StringRight };
                    self.push_string(kind, start, StrPiece { value, content });
                    return Ok(());
                }
                b'$' if self.peek_at(1) == Some(b'{') => {
                    let content = content_start..self.pos;
                    self.pos += 2;
                    let kind = if first { Kind::StringLeft } else { Kind::StringMiddle };
                    self.push_string(kind, start, StrPiece { value, content });
                    self.holes.push(0);
                    return Ok(());
                }
                b'\\' => value.push(self.escape()?),
                _ => {
                    let c = self.char_at(self.pos).unwrap_or('\u{fffd}');
                    value.push(c);
                    self.pos += c.len_utf8().max(1);
                }
            }
        }
    }

    /// Decodes the escape sequence at `self.pos` (which is at a backslash).
    fn escape(&mut self) -> Result<char, ParseError> {
        let start = self.pos;
        let decoded = match self.peek_at(1) {
            Some(b'\\') => '\\',
            Some(b'\'') => '\'',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'$') => '$',
            Some(b'u') => return self.unicode_escape(),
            None => {
                return Err(error(
                    "unterminated string, expected closing quote, found end of file",
                    start..start + 1,
                ))
            }
            Some(_) => {
                let c = self.char_at(start + 1).unwrap_or('\u{fffd}');
                let end = start + 1 + c.len_utf8().max(1);
                return Err(error(
                    format!(
                        "invalid escape sequence, expected one of \\\\ \\' \\n \\r \\t \\$ \\u{{...}}, found '\\{}'",
                        c.escape_debug()
                    ),
                    start..end,
                ));
            }
        };
        self.pos += 2;
        Ok(decoded)
    }

    /// Decodes `\u{XXXX}` at `self.pos`.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let start = self.pos;
        let mut at = start + 2;
        let invalid = |end: usize| {
            let found = self.src.get(start..end).unwrap_or("");
            error(
                format!(
                    "invalid unicode escape sequence, expected '\\u{{' followed by 1 to 6 hexadecimal digits and '}}', found '{found}'"
                ),
                start..end,
            )
        };
        if self.bytes.get(at) != Some(&b'{') {
            return Err(invalid(at));
        }
        at += 1;
        let digits_start = at;
        let mut code: u32 = 0;
        while let Some(&b) = self.bytes.get(at) {
            let digit = match b {
                b'0'..=b'9' => b - b'0',
                b'a'..=b'f' => b - b'a' + 10,
                b'A'..=b'F' => b - b'A' + 10,
                _ => break,
            };
            if at - digits_start >= 6 {
                return Err(invalid(at + 1));
            }
            code = code * 16 + u32::from(digit);
            at += 1;
        }
        if at == digits_start || self.bytes.get(at) != Some(&b'}') {
            return Err(invalid(at.min(self.src.len())));
        }
        at += 1;
        match char::from_u32(code) {
            Some(c) => {
                self.pos = at;
                Ok(c)
            }
            None => Err(error(
                format!(
                    "invalid unicode escape sequence, expected a unicode scalar value (at most 10FFFF, not D800 to DFFF), found {code:X}"
                ),
                start..at,
            )),
        }
    }

    /// Scans `'''...'''`. As in the Bicep compiler, the string ends at the
    /// first run of three quotes, and any quotes directly following that run
    /// belong to the content; a line break right after the opening quotes is
    /// not part of the value.
    fn multiline_string(&mut self) -> LexResult {
        let start = self.pos;
        self.pos += 3;
        let mut quotes = 0;
        while let Some(b) = self.peek_at(0) {
            self.pos += 1;
            if b == b'\'' {
                quotes += 1;
                if quotes == 3 {
                    while self.peek_at(0) == Some(b'\'') {
                        self.pos += 1;
                    }
                    let mut content_start = start + 3;
                    if self.bytes.get(content_start) == Some(&b'\r') {
                        content_start += 1;
                    }
                    if self.bytes.get(content_start) == Some(&b'\n') {
                        content_start += 1;
                    }
                    let content_end = self.pos - 3;
                    let content = content_start.min(content_end)..content_end;
                    let value = self.src.get(content.clone()).unwrap_or("").to_string();
                    self.push_string(Kind::MultilineString, start, StrPiece { value, content });
                    return Ok(());
                }
            } else {
                quotes = 0;
            }
        }
        Err(error(
            "unterminated multi-line string, expected closing ''', found end of file",
            start..self.src.len(),
        ))
    }
}
