//! Fuzzes `relay_core::sse_case`: the first byte picks the size limit, the
//! next eight where the input is cut into chunks, the rest is the upstream
//! stream. A panic or a broken invariant (the splitter altering or
//! over-holding bytes, the parse depending on the chunking) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, rest)) = data.split_first() else {
        return;
    };
    let limit = if limit == u8::MAX {
        1 << 20
    } else {
        usize::from(limit) + 1
    };
    let (cut_bytes, input) = rest.split_at(rest.len().min(8));
    let cuts: Vec<usize> = cut_bytes
        .iter()
        .scan(0usize, |at, b| {
            *at += usize::from(*b);
            Some(*at)
        })
        .collect();
    if let Err(broken) = relay_core::sse_case(input, &cuts, limit) {
        panic!("invariant broken: {broken}");
    }
});
