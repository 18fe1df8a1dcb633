//! Fuzzes `relay_config::config_case`: the first byte picks YAML or TOML,
//! the rest is the file. Loading must never panic. (Whether errors quote
//! secrets depends on where they sit, which the structured proptest suite
//! controls; here any text goes, so only panics are findings.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay_config::{Format, config_case};

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let format = if which % 2 == 0 {
        Format::Yaml
    } else {
        Format::Toml
    };
    if let Err(broken) = config_case(text, format, &[], &[]) {
        panic!("invariant broken: {broken}");
    }
});
