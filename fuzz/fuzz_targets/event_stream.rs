//! Fuzzes `relay_providers::event_stream_case`: the first bytes choose where
//! the input is cut into chunks, the rest is the upstream body. A panic or a
//! broken invariant (output that is not whole SSE events, input accepted
//! after an error) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cut_bytes, body) = data.split_at(data.len().min(8));
    let cuts: Vec<usize> = cut_bytes
        .iter()
        .scan(0usize, |at, b| {
            *at += usize::from(*b);
            Some(*at)
        })
        .collect();
    if let Err(broken) = relay_providers::event_stream_case(body, &cuts) {
        panic!("invariant broken: {broken}");
    }
});
