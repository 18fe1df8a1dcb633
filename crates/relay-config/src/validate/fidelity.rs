//! Checks for the keys that keep every backend looking like Anthropic to the
//! client: `*` patterns in model mappings, `betas`, `strip_fields`.

use std::collections::BTreeMap;

use relay_core::{ModelMap, ModelPattern};

use super::Problems;
use crate::path::join;
use crate::schema::ProviderConfig;

/// Patterns of equal specificity that can match the same model id: which one
/// wins would be an accident of key order. In `routing.model_mapping`
/// (`prefixes`), a plain key is a prefix, i.e. the pattern `key*`.
pub(super) fn model_patterns(
    table: &BTreeMap<String, String>,
    at: &str,
    prefixes: bool,
    out: &mut Problems,
) {
    let map = ModelMap::new(table.keys().map(|key| {
        let pattern = if prefixes && !key.contains('*') {
            ModelPattern::new(&format!("{key}*"))
        } else {
            ModelPattern::new(key)
        };
        (pattern, key.as_str())
    }));
    let source = |pattern: &str| {
        table
            .keys()
            .find(|key| *key == pattern || (prefixes && format!("{key}*") == pattern))
            .cloned()
            .unwrap_or_else(|| pattern.to_owned())
    };
    for (a, b) in map.overlaps() {
        let (a, b) = (source(a), source(b));
        out.add(
            join(at, &b),
            format!(
                "overlaps `{a}`: both patterns are equally specific and some model ids match both; make one longer (more literal characters) or turn one into an exact key"
            ),
        );
    }
}

/// Fields whose removal would leave no request to send.
const UNSTRIPPABLE: &[&str] = &["model", "messages"];

pub(super) fn provider_lists(provider: &ProviderConfig, at: &str, out: &mut Problems) {
    if provider.betas.is_some() && provider.bedrock_betas.is_some() {
        out.add(
            format!("{at}.bedrock_betas"),
            "is the older name of betas and both are set: keep only betas",
        );
    }
    if let Some(betas) = &provider.betas {
        for (i, beta) in betas.iter().enumerate() {
            if beta.trim().is_empty() {
                out.add(
                    format!("{at}.betas[{i}]"),
                    "is empty: list beta names such as interleaved-thinking-2025-05-14, or `*` for all",
                );
            }
        }
    }
    for (i, field) in provider.strip_fields.iter().flatten().enumerate() {
        if field.trim().is_empty() {
            out.add(
                format!("{at}.strip_fields[{i}]"),
                "is empty: name a top-level request field such as context_management",
            );
        } else if UNSTRIPPABLE.contains(&field.as_str()) {
            out.add(
                format!("{at}.strip_fields[{i}]"),
                format!("`{field}` cannot be removed: every Messages request needs it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load::transparent_default;
    use crate::validate;

    fn problems(change: impl FnOnce(&mut crate::Config)) -> Vec<String> {
        let mut config = transparent_default();
        change(&mut config);
        validate(&config).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn equally_specific_overlapping_patterns_are_reported() {
        let found = problems(|c| {
            let mapping = &mut c.providers[0].model_mapping;
            for (k, v) in [
                ("claude-*", "glm-4.6"),
                ("*-opus-4", "glm-4.5"),
                ("claude-*haiku*", "glm-4.5-air"),
                ("claude-haiku-4-5", "exact"),
            ] {
                mapping.insert(k.into(), v.into());
            }
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(r#"providers[0].model_mapping."claude-*": overlaps `*-opus-4`"#)
                || found[0]
                    .starts_with(r#"providers[0].model_mapping."*-opus-4": overlaps `claude-*`"#),
            "{found:?}"
        );
    }

    #[test]
    fn routing_prefixes_count_as_patterns() {
        let name = |c: &crate::Config| c.providers[0].name.clone();
        let found = problems(|c| {
            let target = name(c);
            c.routing
                .model_mapping
                .insert("claude-".into(), target.clone());
            c.routing
                .model_mapping
                .insert("*-opus-4".into(), target.clone());
            // A longer prefix is more specific: no overlap reported.
            c.routing.model_mapping.insert("claude-opus".into(), target);
        });
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("overlaps"), "{found:?}");
    }

    #[test]
    fn beta_and_strip_lists() {
        let found = problems(|c| {
            let p = &mut c.providers[0];
            p.betas = Some(vec![" ".into()]);
            p.bedrock_betas = Some(vec!["x".into()]);
            p.strip_fields = Some(vec!["messages".into(), "context_management".into()]);
        });
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].starts_with("providers[0].bedrock_betas: is the older name"));
        assert!(found[1].starts_with("providers[0].betas[0]: is empty"));
        assert!(found[2].starts_with("providers[0].strip_fields[0]: `messages` cannot"));
    }
}
