//! Fuzzes `relay_core::inspect_case`: the first eight bytes (as text) are
//! the model to rewrite to, the rest is a client's request body. A panic or
//! a broken invariant (a wrong model span, a rewrite that changes other
//! bytes) is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (model, body) = data.split_at(data.len().min(8));
    let model = String::from_utf8_lossy(model);
    if let Err(broken) = relay_core::inspect_case(body, &model) {
        panic!("invariant broken: {broken}");
    }
});
