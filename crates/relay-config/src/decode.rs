//! Turns the expanded tree into a `Config`, collecting every type error and
//! every unknown key with its path.
//!
//! Unknown keys come from `serde_ignored` (the schema does not use
//! `deny_unknown_fields`, which would stop at the first). Type errors get
//! their path from `serde_path_to_error`; serde stops at the first one, so
//! after each the offending entry is removed (it falls back to its default)
//! and the tree is decoded again, until it decodes or nothing can be removed.

use serde_path_to_error::Segment;

use crate::de::{Ctx, NodeDe};
use crate::error::Problem;
use crate::node::Node;
use crate::path::{Seg, render};
use crate::schema::Config;

/// More type errors than this in one file are not worth listing.
const MAX_TYPE_ERRORS: usize = 50;

pub(crate) struct Decoded {
    /// `None` if a type error remained after the retries: then no config can
    /// be trusted for validation.
    pub config: Option<Config>,
    /// Whether any type error was found, even if a later pass decoded.
    pub had_type_errors: bool,
    pub problems: Vec<Problem>,
}

pub(crate) fn decode(mut tree: Node) -> Decoded {
    let ctx = Ctx::default();
    let mut unknown: Vec<Vec<Seg>> = Vec::new();
    let mut type_errors = Vec::new();
    let config = loop {
        let attempt = {
            let mut on_ignored = |path: serde_ignored::Path<'_>| {
                let mut segs = Vec::new();
                ignored_segments(&path, &mut segs);
                if !unknown.contains(&segs) {
                    unknown.push(segs);
                }
            };
            let de =
                serde_ignored::Deserializer::new(NodeDe::new(tree.clone(), &ctx), &mut on_ignored);
            serde_path_to_error::deserialize::<_, Config>(de)
        };
        match attempt {
            Ok(config) => break Some(config),
            Err(err) => {
                let segs = error_segments(err.path());
                type_errors.push(Problem::new(render(&segs), err.into_inner().to_string()));
                if type_errors.len() >= MAX_TYPE_ERRORS || !tree.remove_entry_at(&segs) {
                    break None;
                }
            }
        }
    };
    let had_type_errors = !type_errors.is_empty();
    let mut problems = type_errors;
    problems.extend(unknown.iter().map(|segs| unknown_key(&tree, &ctx, segs)));
    Decoded {
        config,
        had_type_errors,
        problems,
    }
}

fn ignored_segments(path: &serde_ignored::Path<'_>, out: &mut Vec<Seg>) {
    use serde_ignored::Path;
    match path {
        Path::Root => {}
        Path::Seq { parent, index } => {
            ignored_segments(parent, out);
            out.push(Seg::Index(*index));
        }
        Path::Map { parent, key } => {
            ignored_segments(parent, out);
            out.push(Seg::Key(key.clone()));
        }
        Path::Some { parent }
        | Path::NewtypeStruct { parent }
        | Path::NewtypeVariant { parent } => {
            ignored_segments(parent, out);
        }
    }
}

fn error_segments(path: &serde_path_to_error::Path) -> Vec<Seg> {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(Seg::Index(*index)),
            Segment::Map { key } => Some(Seg::Key(key.clone())),
            Segment::Enum { .. } | Segment::Unknown => None,
        })
        .collect()
}

/// Unknown keys longer than this are not quoted (known ones are shorter).
const MAX_SHOWN_UNKNOWN_KEY: usize = 32;

/// "unknown key", with the closest known key when it is a likely typo, else
/// the keys that are valid there.
fn unknown_key(tree: &Node, ctx: &Ctx, segs: &[Seg]) -> Problem {
    let path = match segs.split_last() {
        // A value pasted where a key goes (an API key, say) is not shown: the
        // problem ends up in logs. Every known key is far shorter.
        Some((Seg::Key(key), parent)) if key.chars().count() > MAX_SHOWN_UNKNOWN_KEY => {
            let parent = render(parent);
            let dot = if parent.is_empty() { "" } else { "." };
            format!(
                "{parent}{dot}<a key of {} characters, not shown>",
                key.chars().count()
            )
        }
        _ => render(segs),
    };
    let known = match (
        segs.split_last(),
        segs.split_last().and_then(|(_, parent)| tree.get(parent)),
    ) {
        (Some((Seg::Key(key), _)), Some(Node::Map(map))) => ctx
            .fields
            .borrow()
            .get(&map.id)
            .map(|fields| (key.clone(), *fields)),
        _ => None,
    };
    let Some((key, fields)) = known else {
        return Problem::new(path, "unknown key: remove it");
    };
    let message = match closest(&key, fields) {
        Some(suggestion) => format!("unknown key (did you mean `{suggestion}`?)"),
        None => format!(
            "unknown key: remove it; valid keys here are {}",
            fields.join(", ")
        ),
    };
    Problem::new(path, message)
}

/// The known key within a small edit distance of `key`, ignoring case and
/// `-`/`_` differences.
fn closest(key: &str, known: &[&'static str]) -> Option<&'static str> {
    let wanted: Vec<char> = key.to_ascii_lowercase().replace('-', "_").chars().collect();
    known
        .iter()
        .map(|candidate| {
            (
                distance(&wanted, &candidate.chars().collect::<Vec<_>>()),
                *candidate,
            )
        })
        .filter(|(d, candidate)| *d <= candidate.len().div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, candidate)| candidate)
}

/// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
/// so `kyes` is one edit from `keys`.
fn distance(a: &[char], b: &[char]) -> usize {
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    rows[0] = (0..=b.len()).collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::node::from_yaml;

    fn problems(yaml: &str) -> Vec<String> {
        decode(from_yaml(yaml).unwrap())
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn suggests_close_keys() {
        assert_eq!(closest("kyes", &["name", "keys"]), Some("keys"));
        assert_eq!(closest("timeout-ms", &["timeout_ms"]), Some("timeout_ms"));
        assert_eq!(closest("Listen", &["listen"]), Some("listen"));
        assert_eq!(closest("zzz", &["keys"]), None);
    }

    #[test]
    fn unknown_keys_in_lists_and_nested_sections() {
        let found = problems(
            "server: { auth: { apikey: x } }\nproviders: [ { name: a, enabled: true }, { name: b, enabled: true, kyes: [] } ]\nbogus: 1",
        );
        assert_eq!(
            found,
            [
                "server.auth.apikey: unknown key (did you mean `api_key`?)",
                "providers[1].kyes: unknown key (did you mean `keys`?)",
                "bogus: unknown key: remove it; valid keys here are server, routing, providers, health, logging, cache, grpc, metrics, state, usage",
            ]
        );
    }

    #[test]
    fn every_type_error_is_reported() {
        let found = problems(
            "server: { timeout_ms: abc, max_body_bytes: [1] }\nrouting: { strategy: fastest }",
        );
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found[0],
            r#"server.timeout_ms: invalid type: string "abc", expected u64"#
        );
        assert!(found[1].starts_with("server.max_body_bytes: invalid type: sequence"));
        assert!(found[2].starts_with(
            "routing.strategy: unknown variant `fastest`, expected one of `failover`"
        ));
    }

    #[test]
    fn nulls_keep_defaults() {
        let decoded = decode(from_yaml("server:\nlogging: { output: ~ }\n").unwrap());
        assert!(decoded.problems.is_empty());
        assert_eq!(decoded.config.unwrap().logging.output, "stderr");
    }
}
