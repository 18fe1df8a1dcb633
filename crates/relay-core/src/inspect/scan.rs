//! The fast reading: one structural pass that locates the top-level values,
//! decoding nothing but the top-level keys.
//!
//! The top level is read token by token and held to the JSON grammar: an
//! object, keys that are valid strings, colons, commas, scalars spelled
//! right, nothing after the closing brace. Nested arrays and objects are
//! skipped by [`skip_container`] and strings by their closing quote, both
//! checked for structure only (see the module documentation of `inspect`).

use std::ops::Range;

use super::skip::{skip_container, string_end};
use super::{Field, Spans};

/// The scan found something it does not accept. It does not say what: the
/// caller re-reads the body with serde_json for the exact error.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Malformed;

type Scan<T = ()> = Result<T, Malformed>;

/// Locates the top-level values of interest; duplicate keys resolve to the
/// last one. The values themselves are only checked structurally: the caller
/// decodes the ones it reads.
pub(super) fn top_level_spans(body: &[u8]) -> Scan<Spans> {
    let mut scanner = Scanner { body, pos: 0 };
    let mut spans = Spans::default();
    scanner.expect(b'{')?;
    if scanner.peek_after_whitespace() == b'}' {
        scanner.pos += 1;
    } else {
        loop {
            scanner.expect(b'"')?;
            let key_start = scanner.pos - 1;
            scanner.pos = string_end(body, scanner.pos).ok_or(Malformed)?;
            let field = field(body.get(key_start..scanner.pos).ok_or(Malformed)?)?;
            scanner.expect(b':')?;
            let value = scanner.skip_value()?;
            if let Some(slot) = spans.slot(field) {
                *slot = Some(value);
            }
            match scanner.peek_after_whitespace() {
                b',' => scanner.pos += 1,
                b'}' => {
                    scanner.pos += 1;
                    break;
                }
                _ => return Err(Malformed),
            }
        }
    }
    scanner.peek_after_whitespace();
    if scanner.pos == body.len() {
        Ok(spans)
    } else {
        Err(Malformed)
    }
}

/// One member of a JSON object: where its key starts and its value's span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    /// The key, unescaped.
    pub(crate) key: String,
    /// The offset of the key's opening quote.
    pub(crate) start: usize,
    /// The value, without surrounding whitespace.
    pub(crate) value: Range<usize>,
}

/// Every member of the object that `body` is (whitespace around it allowed),
/// in order, duplicates included; nested values are checked for structure
/// only, as by [`top_level_spans`].
pub(crate) fn object_members(body: &[u8]) -> Scan<Vec<Member>> {
    let mut scanner = Scanner { body, pos: 0 };
    let mut members = Vec::new();
    scanner.expect(b'{')?;
    if scanner.peek_after_whitespace() == b'}' {
        scanner.pos += 1;
    } else {
        loop {
            scanner.expect(b'"')?;
            let start = scanner.pos - 1;
            scanner.pos = string_end(body, scanner.pos).ok_or(Malformed)?;
            let literal = body.get(start..scanner.pos).ok_or(Malformed)?;
            let key = match std::str::from_utf8(&literal[1..literal.len() - 1]) {
                Ok(plain) if !plain.contains('\\') => plain.to_owned(),
                _ => serde_json::from_slice(literal).map_err(|_| Malformed)?,
            };
            scanner.expect(b':')?;
            let value = scanner.skip_value()?;
            members.push(Member { key, start, value });
            match scanner.peek_after_whitespace() {
                b',' => scanner.pos += 1,
                b'}' => {
                    scanner.pos += 1;
                    break;
                }
                _ => return Err(Malformed),
            }
        }
    }
    scanner.peek_after_whitespace();
    if scanner.pos == body.len() {
        Ok(members)
    } else {
        Err(Malformed)
    }
}

/// Which top-level key `literal` (a string literal, quotes included) is, once
/// unescaped: `"mod\u0065l"` is `model`. Keys are decoded strictly, as
/// serde_json would, since a key that is not valid text cannot be told apart
/// from the ones the relay reads.
fn field(literal: &[u8]) -> Scan<Field> {
    let inner = literal
        .get(1..literal.len().saturating_sub(1))
        .ok_or(Malformed)?;
    let plain = inner
        .iter()
        .all(|&byte| byte != b'\\' && (0x20..0x7f).contains(&byte));
    if plain {
        return Ok(Field::of(inner));
    }
    let key: String = serde_json::from_slice(literal).map_err(|_| Malformed)?;
    Ok(Field::of(key.as_bytes()))
}

struct Scanner<'a> {
    body: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    /// The byte at the cursor; NUL past the end, which no JSON token starts
    /// with, so the end of input needs no separate case.
    fn peek(&self) -> u8 {
        self.body.get(self.pos).copied().unwrap_or(0)
    }

    fn peek_after_whitespace(&mut self) -> u8 {
        loop {
            let byte = self.peek();
            if !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return byte;
            }
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Scan {
        if self.peek_after_whitespace() == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// Skips one top-level value and returns its span.
    fn skip_value(&mut self) -> Scan<Range<usize>> {
        let byte = self.peek_after_whitespace();
        let start = self.pos;
        match byte {
            b'"' => self.pos = string_end(self.body, self.pos + 1).ok_or(Malformed)?,
            b'{' | b'[' => self.pos = skip_container(self.body, self.pos)?,
            b't' => self.skip_word(b"true")?,
            b'f' => self.skip_word(b"false")?,
            b'n' => self.skip_word(b"null")?,
            b'-' | b'0'..=b'9' => self.skip_number()?,
            _ => return Err(Malformed),
        }
        Ok(start..self.pos)
    }

    fn skip_word(&mut self, word: &[u8]) -> Scan {
        let end = self.pos + word.len();
        if self.body.get(self.pos..end) != Some(word) {
            return Err(Malformed);
        }
        self.pos = end;
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn skip_number(&mut self) -> Scan {
        if self.peek() == b'-' {
            self.pos += 1;
        }
        match self.peek() {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return Err(Malformed),
        }
        if self.peek() == b'.' {
            self.pos += 1;
            self.skip_some_digits()?;
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.pos += 1;
            if matches!(self.peek(), b'+' | b'-') {
                self.pos += 1;
            }
            self.skip_some_digits()?;
        }
        Ok(())
    }

    fn skip_digits(&mut self) {
        while self.peek().is_ascii_digit() {
            self.pos += 1;
        }
    }

    fn skip_some_digits(&mut self) -> Scan {
        if !self.peek().is_ascii_digit() {
            return Err(Malformed);
        }
        self.skip_digits();
        Ok(())
    }
}
