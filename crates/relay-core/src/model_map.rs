//! Model-name tables whose keys may be `*` patterns, compiled once per
//! configuration so a lookup on the request path is a hash probe plus a
//! short scan of the patterns.
//!
//! Claude Code asks for new model ids as soon as they ship
//! (`claude-opus-4-8`, `claude-haiku-4-5-20251001`), so exact-match tables
//! silently stop matching; patterns such as `claude-*haiku*` keep working.
//!
//! Precedence: an exact key beats any pattern; among patterns the most
//! specific wins, that is the one with the most literal (non-`*`)
//! characters; equally specific patterns that can match the same id are
//! reported by `config validate` ([`ModelMap::overlaps`]) and otherwise
//! resolve in key order.

use std::collections::HashMap;

/// One key: a literal id, or a pattern in which `*` matches any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelPattern {
    source: String,
    /// The literal pieces between `*`s; a pattern has at least two.
    parts: Vec<String>,
}

impl ModelPattern {
    /// Compiles `source`; any key is valid.
    pub fn new(source: &str) -> Self {
        Self {
            source: source.to_owned(),
            parts: source.split('*').map(str::to_owned).collect(),
        }
    }

    /// Whether the key contains a `*`.
    pub fn is_pattern(&self) -> bool {
        self.parts.len() > 1
    }

    /// The key as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// How specific the key is: its number of literal characters.
    pub fn specificity(&self) -> usize {
        self.parts.iter().map(|p| p.chars().count()).sum()
    }

    /// Whether `model` matches as a whole.
    pub fn matches(&self, model: &str) -> bool {
        let [first, middle @ .., last] = self.parts.as_slice() else {
            return self.source == model;
        };
        let Some(mut rest) = model.strip_prefix(first.as_str()) else {
            return false;
        };
        for part in middle {
            match rest.find(part.as_str()) {
                // Leftmost is optimal for a glob: it leaves the most room for the rest.
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last.as_str())
    }

    /// Whether some model id matches both patterns.
    pub fn intersects(&self, other: &Self) -> bool {
        let a: Vec<Option<char>> = glob_tokens(&self.source);
        let b: Vec<Option<char>> = glob_tokens(&other.source);
        // Reachability over (position in a, position in b); `None` is a star.
        let mut seen = vec![false; (a.len() + 1) * (b.len() + 1)];
        let mut stack = vec![(0usize, 0usize)];
        let index = |i: usize, j: usize| i * (b.len() + 1) + j;
        while let Some((i, j)) = stack.pop() {
            if std::mem::replace(&mut seen[index(i, j)], true) {
                continue;
            }
            if i == a.len() && j == b.len() {
                return true;
            }
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            let mut next = Vec::with_capacity(3);
            // A star may match nothing.
            if x == Some(None) {
                next.push((i + 1, j));
            }
            if y == Some(None) {
                next.push((i, j + 1));
            }
            // One character consumed by both.
            match (x, y) {
                (Some(None), Some(Some(_))) => next.push((i, j + 1)),
                (Some(Some(_)), Some(None)) => next.push((i + 1, j)),
                (Some(Some(c)), Some(Some(d))) if c == d => next.push((i + 1, j + 1)),
                _ => {}
            }
            stack.extend(next.into_iter().filter(|&(i, j)| !seen[index(i, j)]));
        }
        false
    }
}

fn glob_tokens(source: &str) -> Vec<Option<char>> {
    source.chars().map(|c| (c != '*').then_some(c)).collect()
}

/// A compiled table from model ids (or patterns) to values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelMap<V> {
    exact: HashMap<String, V>,
    /// Most specific first; equal ones in the order given.
    patterns: Vec<(ModelPattern, V)>,
}

impl<V> Default for ModelMap<V> {
    fn default() -> Self {
        Self {
            exact: HashMap::new(),
            patterns: Vec::new(),
        }
    }
}

impl<V> ModelMap<V> {
    /// Compiles `(key, value)` entries; keys with `*` become patterns.
    pub fn new(entries: impl IntoIterator<Item = (ModelPattern, V)>) -> Self {
        let mut map = Self::default();
        for (key, value) in entries {
            if key.is_pattern() {
                map.patterns.push((key, value));
            } else {
                map.exact.insert(key.source, value);
            }
        }
        map.patterns
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.specificity()));
        map
    }

    /// The value for `model`: its exact key's, else the most specific matching pattern's.
    pub fn get(&self, model: &str) -> Option<&V> {
        self.exact.get(model).or_else(|| {
            self.patterns
                .iter()
                .find(|(p, _)| p.matches(model))
                .map(|(_, v)| v)
        })
    }

    /// Every matching pattern's value, most specific first (exact key first when present).
    pub fn matching<'s>(&'s self, model: &'s str) -> impl Iterator<Item = &'s V> + 's {
        self.exact.get(model).into_iter().chain(
            self.patterns
                .iter()
                .filter(move |(p, _)| p.matches(model))
                .map(|(_, v)| v),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.patterns.is_empty()
    }

    /// Pairs of patterns of the same specificity that some id matches both
    /// ways: which wins would be an accident of key order.
    pub fn overlaps(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for (i, (a, _)) in self.patterns.iter().enumerate() {
            for (b, _) in &self.patterns[i + 1..] {
                if a.specificity() == b.specificity() && a.intersects(b) {
                    out.push((a.as_str(), b.as_str()));
                }
            }
        }
        out
    }
}

impl<'a, V: Clone + 'a> ModelMap<V> {
    /// From a configuration table (`model_mapping`).
    pub fn from_table(table: impl IntoIterator<Item = (&'a String, &'a V)>) -> Self {
        Self::new(
            table
                .into_iter()
                .map(|(k, v)| (ModelPattern::new(k), v.clone())),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(entries: &[(&str, &str)]) -> ModelMap<String> {
        ModelMap::new(
            entries
                .iter()
                .map(|(k, v)| (ModelPattern::new(k), (*v).to_owned())),
        )
    }

    #[test]
    fn patterns_match_whole_ids() {
        let p = ModelPattern::new("claude-*haiku*");
        assert!(p.matches("claude-haiku-4-5-20251001"));
        assert!(p.matches("claude-3-5-haiku-latest"));
        assert!(!p.matches("claude-sonnet-4-5"));
        assert!(!p.matches("xclaude-haiku"));
        assert!(ModelPattern::new("*").matches(""));
        assert!(ModelPattern::new("a*a").matches("aa"));
        assert!(!ModelPattern::new("a*a").matches("a"));
        assert!(ModelPattern::new("*-4-5").matches("claude-opus-4-5"));
        assert!(ModelPattern::new("claude-opus-4-5").matches("claude-opus-4-5"));
        assert!(!ModelPattern::new("claude-opus-4-5").matches("claude-opus-4-50"));
    }

    #[test]
    fn exact_beats_patterns_and_the_most_specific_pattern_wins() {
        let m = map(&[
            ("claude-*", "glm-4.6"),
            ("claude-*haiku*", "glm-4.5-air"),
            ("claude-haiku-4-5", "exact"),
        ]);
        assert_eq!(m.get("claude-haiku-4-5").unwrap(), "exact");
        assert_eq!(m.get("claude-haiku-4-5-20251001").unwrap(), "glm-4.5-air");
        assert_eq!(m.get("claude-opus-4-8").unwrap(), "glm-4.6");
        assert!(m.get("gpt-5").is_none());
        let all: Vec<_> = m.matching("claude-haiku-4-5").collect();
        assert_eq!(all, ["exact", "glm-4.5-air", "glm-4.6"]);
    }

    #[test]
    fn overlaps_of_equal_specificity_are_found() {
        let m = map(&[
            ("claude-*", "a"),
            ("*-opus-4", "b"),
            ("claude-opus-*", "c"),
            ("*-sonnet-*", "d"),
        ]);
        // `claude-*` (7) and `*-opus-4` (7) both match `claude-opus-4`;
        // `*-sonnet-*` (8) and `claude-*` differ in specificity.
        assert_eq!(m.overlaps(), [("claude-*", "*-opus-4")]);
        let disjoint = map(&[("claude-a*", "a"), ("claude-b*", "b")]);
        assert!(disjoint.overlaps().is_empty());
        assert!(ModelPattern::new("a*b").intersects(&ModelPattern::new("*ab*")));
        assert!(!ModelPattern::new("a*").intersects(&ModelPattern::new("b*")));
        assert!(!ModelPattern::new("*a").intersects(&ModelPattern::new("*b")));
    }
}
