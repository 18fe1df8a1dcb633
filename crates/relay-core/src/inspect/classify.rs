//! Which bytes of a 64-byte block matter to the structure: quotes,
//! backslashes and brackets, as bit masks (bit `i` for byte `i`).
//!
//! Comparing 16 bytes at a time and keeping one bit per byte is what lets the
//! skipper handle a block's strings and brackets with a few integer
//! operations instead of a branch per token. On x86-64 that is SSE2 (part
//! of the baseline, so no detection is needed), through `safe_arch` since
//! this crate forbids `unsafe`; elsewhere the same masks come from 8-byte
//! words, slower but identical.

/// Bit masks over one block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Classes {
    pub quotes: u64,
    pub backslashes: u64,
    /// `[`, `]`, `{` and `}`.
    pub brackets: u64,
}

pub(super) const BLOCK: usize = 64;

pub(super) fn classify(block: &[u8; BLOCK]) -> Classes {
    #[cfg(target_arch = "x86_64")]
    {
        sse2(block)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        portable(block)
    }
}

#[cfg(target_arch = "x86_64")]
fn sse2(block: &[u8; BLOCK]) -> Classes {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |byte: u8| set_splat_i8_m128i(i8::from_ne_bytes([byte]));
    let (quote, backslash, case, open, close) = (
        splat(b'"'),
        splat(b'\\'),
        splat(0x20),
        splat(b'{'),
        splat(b'}'),
    );
    let bits = |lanes| u64::from(move_mask_i8_m128i(lanes) as u16);
    let mut classes = Classes {
        quotes: 0,
        backslashes: 0,
        brackets: 0,
    };
    let (chunks, _) = block.as_chunks::<16>();
    let mut any_backslash = set_splat_i8_m128i(0);
    for (index, chunk) in chunks.iter().enumerate() {
        let shift = 16 * index;
        let bytes = load_unaligned_m128i(chunk);
        classes.quotes |= bits(cmp_eq_mask_i8_m128i(bytes, quote)) << shift;
        any_backslash = bitor_m128i(any_backslash, cmp_eq_mask_i8_m128i(bytes, backslash));
        // `[` and `]` are `{` and `}` without bit 0x20, and nothing else is.
        let folded = bitor_m128i(bytes, case);
        let brackets = bitor_m128i(
            cmp_eq_mask_i8_m128i(folded, open),
            cmp_eq_mask_i8_m128i(folded, close),
        );
        classes.brackets |= bits(brackets) << shift;
    }
    // Most blocks have no backslash: one test instead of four masks.
    if bits(any_backslash) != 0 {
        for (index, chunk) in chunks.iter().enumerate() {
            let bytes = load_unaligned_m128i(chunk);
            classes.backslashes |= bits(cmp_eq_mask_i8_m128i(bytes, backslash)) << (16 * index);
        }
    }
    classes
}

/// The same masks from 8-byte words; the reference the SSE2 version is
/// tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn portable(block: &[u8; BLOCK]) -> Classes {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const LOW7: u64 = u64::from_le_bytes([0x7f; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    // The high bit of each byte equal to `byte`; exact, since adding within
    // the low seven bits never carries into the next byte.
    let equal = |word: u64, byte: u8| {
        let diff = word ^ (ONES * u64::from(byte));
        !(((diff & LOW7) + LOW7) | diff) & HIGH
    };
    // Moves the eight high bits into the top byte, in order.
    let gather = |high: u64| (high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56;
    let mut classes = Classes {
        quotes: 0,
        backslashes: 0,
        brackets: 0,
    };
    let (words, _) = block.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let shift = 8 * index;
        let word = u64::from_le_bytes(*word);
        classes.quotes |= gather(equal(word, b'"')) << shift;
        classes.backslashes |= gather(equal(word, b'\\')) << shift;
        let folded = word | (ONES * 0x20);
        classes.brackets |= gather(equal(folded, b'{') | equal(folded, b'}')) << shift;
    }
    classes
}
