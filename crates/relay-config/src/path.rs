//! Key paths as users read them: `providers[1].keys[0].key`.
//!
//! Every error names where it is, whichever stage found it (env expansion,
//! deserialization, unknown keys, validation), so all of them render paths
//! through this one module and look the same.

use std::fmt::Write as _;

/// One step from a value to its child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// `segs` as `a.b[0].c`; the empty path (the file itself) renders as "".
pub(crate) fn render(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Key(key) => push_key(&mut out, key),
            Seg::Index(index) => {
                // Writing to a String cannot fail.
                let _ = write!(out, "[{index}]");
            }
        }
    }
    out
}

/// Appends `.key`, quoting keys that are not plain identifiers (model names
/// such as `claude-3.5` in `model_mapping`) so the dots stay unambiguous.
pub(crate) fn push_key(out: &mut String, key: &str) {
    if !out.is_empty() {
        out.push('.');
    }
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if plain {
        out.push_str(key);
    } else {
        let _ = write!(out, "{key:?}");
    }
}

/// `base` followed by `.key`.
pub(crate) fn join(base: &str, key: &str) -> String {
    let mut out = base.to_owned();
    push_key(&mut out, key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_keys_and_indexes() {
        let segs = [
            Seg::Key("providers".into()),
            Seg::Index(1),
            Seg::Key("keys".into()),
            Seg::Index(0),
            Seg::Key("key".into()),
        ];
        assert_eq!(render(&segs), "providers[1].keys[0].key");
        assert_eq!(render(&[]), "");
    }

    #[test]
    fn quotes_keys_with_dots() {
        assert_eq!(
            join("routing.model_mapping", "claude-3.5"),
            r#"routing.model_mapping."claude-3.5""#
        );
        assert_eq!(join("", "server"), "server");
    }
}
