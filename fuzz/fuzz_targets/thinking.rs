//! Fuzzes `relay_core::thinking_case`: the first eight bytes choose which
//! signatures the backend can verify, the next four an arbitrary span, the
//! rest is a client's request body. A panic or a broken invariant (bytes
//! outside `messages` changed, an unverifiable block kept) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, body) = data.split_at(12);
    let mut keep = [0u8; 8];
    keep.copy_from_slice(&head[..8]);
    let start = usize::from(u16::from_le_bytes([head[8], head[9]]));
    let end = usize::from(u16::from_le_bytes([head[10], head[11]]));
    if let Err(broken) = relay_core::thinking_case(body, start..end, u64::from_le_bytes(keep)) {
        panic!("invariant broken: {broken}");
    }
});
