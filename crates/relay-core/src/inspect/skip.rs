//! Skipping a nested array or object 64 bytes at a time.
//!
//! Per block: the bit masks of [`classify`], the escaped bytes worked out
//! from the backslashes, the bytes inside strings as a running parity of the
//! unescaped quotes, and so the brackets outside strings, which are the only
//! bytes looked at one by one. A string still open after half a block is
//! most likely a text, and `memchr` finds its end far faster.
//!
//! Nesting is tracked on the heap, one bit per level, so depth is bounded by
//! the body's size only, as with serde_json's skipping.
//!
//! This checks the structure only: brackets matched by kind, strings closed,
//! no backslash outside a string. Escape sequences, scalars, commas, colons
//! and keys inside the value are not checked.

use memchr::memchr;

use super::classify::{BLOCK, Classes, classify};
use super::scan::Malformed;

/// A string still open over this many trailing bytes of a block, without a
/// quote in them, is skipped with `memchr` rather than block by block.
const LONG_STRING: u32 = 32;

/// From `start`, at a `[` or `{`, to just after its matching bracket.
pub(super) fn skip_container(body: &[u8], start: usize) -> Result<usize, Malformed> {
    let mut nesting = Nesting::default();
    let mut pos = start;
    // All ones while inside a string at a block boundary.
    let mut in_string = 0u64;
    let mut escapes = Escapes::default();
    let mut tail = [b' '; BLOCK];
    loop {
        let block = block_at(body, pos, &mut tail).ok_or(Malformed)?;
        let Classes {
            quotes,
            backslashes,
            brackets,
        } = classify(block);
        let escaped = escapes.next(backslashes);
        let strings = prefix_xor(quotes & !escaped) ^ in_string;
        in_string = 0u64.wrapping_sub(strings >> 63);
        // A backslash outside a string, before the value ends.
        let stray = backslashes & !strings;
        let mut structural = brackets & !strings;
        while structural != 0 {
            let at = structural.trailing_zeros() as usize;
            structural &= structural - 1;
            let byte = block.get(at).copied().unwrap_or(0);
            if !nesting.bracket(byte) {
                return Err(Malformed);
            }
            if nesting.depth == 0 {
                if stray & (u64::MAX >> (63 - at)) != 0 {
                    return Err(Malformed);
                }
                return Ok(pos + at + 1);
            }
        }
        if stray != 0 {
            return Err(Malformed);
        }
        pos += BLOCK;
        // Escaped quotes would stop `memchr` over and over: those texts stay here.
        if strings.leading_ones() >= LONG_STRING && quotes.leading_zeros() >= LONG_STRING {
            pos = string_end(body, pos).ok_or(Malformed)?;
            in_string = 0;
            escapes = Escapes::default();
        }
    }
}

/// From inside a string, the index just after its closing quote: the first
/// quote preceded by an even number of backslashes.
pub(super) fn string_end(body: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let quote = from + memchr(b'"', body.get(from..)?)?;
        let backslashes = body
            .get(..quote)?
            .iter()
            .rev()
            .take_while(|&&byte| byte == b'\\')
            .count();
        from = quote + 1;
        if backslashes % 2 == 0 {
            return Some(from);
        }
    }
}

/// The block at `pos`; the last one is copied to `tail` and padded with
/// spaces, which mean nothing. `None` when nothing of the body is left.
fn block_at<'a>(body: &'a [u8], pos: usize, tail: &'a mut [u8; BLOCK]) -> Option<&'a [u8; BLOCK]> {
    if let Some(block) = body.get(pos..pos + BLOCK) {
        return block.try_into().ok();
    }
    let rest = body.get(pos..).filter(|rest| !rest.is_empty())?;
    tail.fill(b' ');
    tail.get_mut(..rest.len())?.copy_from_slice(rest);
    Some(tail)
}

/// Bit `i` set when an odd number of bits `0..=i` of `bits` are.
pub(super) fn prefix_xor(mut bits: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        bits ^= bits << shift;
    }
    bits
}

/// Which bytes follow an escaping backslash, block after block.
#[derive(Default)]
pub(super) struct Escapes {
    /// 1 when the last byte of the previous block escapes the first of this one.
    carry: u64,
}

impl Escapes {
    /// The escaped bytes of a block whose backslashes are `backslashes`. In a
    /// run of backslashes every other one escapes the next byte, starting
    /// with the first, so a run's parity decides whether the byte after it is
    /// escaped; a subtraction finds the runs' ends all at once (the method
    /// of simdjson).
    pub(super) fn next(&mut self, backslashes: u64) -> u64 {
        const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
        if backslashes | self.carry == 0 {
            return 0;
        }
        let escaping = backslashes & !self.carry;
        // Set on bytes after a run that starts on an even bit, inverted for
        // runs starting on an odd bit, which the XOR with ODD undoes.
        let codes = (((escaping << 1) | ODD).wrapping_sub(escaping)) ^ ODD;
        let escaped = codes ^ (backslashes | self.carry);
        self.carry = (codes & backslashes) >> 63;
        escaped
    }
}

/// The open containers, one bit each (set for an object), the innermost in
/// the low bit of `top`. Each full word of 64 levels moves to `spilled`, so
/// depth is bounded by the body's size only, on the heap.
#[derive(Default)]
struct Nesting {
    depth: usize,
    top: u64,
    spilled: Vec<u64>,
}

impl Nesting {
    /// Opens or closes a container for `byte`, a bracket; false when it
    /// closes one of the other kind, or none.
    fn bracket(&mut self, byte: u8) -> bool {
        // `[` is 0x5b, `{` 0x7b, `]` 0x5d and `}` 0x7d.
        let open = byte & 0x02 != 0;
        let object = u64::from(byte >> 5 & 1);
        if open && self.depth.is_multiple_of(64) && self.depth != 0 {
            self.spilled.push(self.top);
        }
        let matched = open || (self.depth != 0 && self.top & 1 == object);
        self.top = if open {
            (self.top << 1) | object
        } else {
            self.top >> 1
        };
        self.depth = if open {
            self.depth + 1
        } else {
            self.depth.saturating_sub(1)
        };
        if !open && self.depth.is_multiple_of(64) && self.depth != 0 {
            self.top = self.spilled.pop().unwrap_or(0);
        }
        matched
    }
}
