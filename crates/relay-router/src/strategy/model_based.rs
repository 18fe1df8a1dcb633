//! `model_based`: the provider that `routing.model_mapping` assigns to the
//! request's model comes first. A plain key is a prefix, a key with `*` a
//! pattern over the whole id (`claude-*haiku*`); a prefix counts as the
//! pattern `key*`, and the most specific match (most literal characters)
//! wins (`{"claude-opus": bedrock, "claude-": anthropic}` sends
//! `claude-opus-4-1` to bedrock). When that provider is not among the
//! candidates, the next most specific match's provider is used, then
//! `routing.default_provider`. Everything not placed that way follows by
//! priority, as `failover`.

use relay_config::RoutingConfig;
use relay_core::{ModelMap, ModelPattern};

use super::{Candidate, failover};

#[derive(Debug)]
pub(super) struct ModelRoutes {
    /// Pattern (a prefix `p` as `p*`) -> provider.
    by_model: ModelMap<Box<str>>,
    default_provider: Option<Box<str>>,
}

impl ModelRoutes {
    pub(super) fn new(routing: &RoutingConfig) -> Self {
        // Equal specificity keeps the map's (alphabetical) order; `config
        // validate` reports such overlaps.
        let by_model = ModelMap::new(routing.model_mapping.iter().map(|(key, provider)| {
            let pattern = if key.contains('*') {
                ModelPattern::new(key)
            } else {
                ModelPattern::new(&format!("{key}*"))
            };
            (pattern, provider.as_str().into())
        }));
        let default_provider = routing
            .default_provider
            .as_deref()
            .filter(|name| !name.is_empty())
            .map(Into::into);
        Self {
            by_model,
            default_provider,
        }
    }

    /// The providers preferred for `model`, best first (may repeat).
    fn preferred<'s>(&'s self, model: &'s str) -> impl Iterator<Item = &'s str> {
        self.by_model
            .matching(model)
            .map(|provider| &**provider)
            .chain(self.default_provider.as_deref())
    }

    pub(super) fn arrange(&self, candidates: &[Candidate<'_>], order: &mut [usize], model: &str) {
        failover::arrange(candidates, order);
        let mut placed = 0;
        for provider in self.preferred(model) {
            let Some(rest) = order.get_mut(placed..) else {
                return;
            };
            if let Some(found) = rest.iter().position(|&i| candidates[i].name == provider) {
                rest[..=found].rotate_right(1);
                placed += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn routes(mapping: &[(&str, &str)], default_provider: Option<&str>) -> ModelRoutes {
        ModelRoutes::new(&RoutingConfig {
            model_mapping: mapping
                .iter()
                .map(|(prefix, provider)| ((*prefix).to_owned(), (*provider).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            default_provider: default_provider.map(str::to_owned),
            ..RoutingConfig::default()
        })
    }

    fn candidates() -> Vec<Candidate<'static>> {
        [("anthropic", 1), ("zai", 1), ("bedrock", 1), ("backup", 5)]
            .into_iter()
            .map(|(name, priority)| Candidate {
                priority,
                ..Candidate::new(name)
            })
            .collect()
    }

    fn names(
        routes: &ModelRoutes,
        candidates: &[Candidate<'static>],
        model: &str,
    ) -> Vec<&'static str> {
        let mut order: Vec<usize> = (0..candidates.len()).collect();
        routes.arrange(candidates, &mut order, model);
        order.iter().map(|&i| candidates[i].name).collect()
    }

    #[test]
    fn the_longest_prefix_wins_then_shorter_ones_then_the_default() {
        let routes = routes(
            &[
                ("claude-", "anthropic"),
                ("claude-opus", "bedrock"),
                ("glm-", "zai"),
            ],
            Some("zai"),
        );
        let all = candidates();
        assert_eq!(
            names(&routes, &all, "claude-opus-4-1"),
            ["bedrock", "anthropic", "zai", "backup"]
        );
        assert_eq!(
            names(&routes, &all, "claude-sonnet-4-5"),
            ["anthropic", "zai", "backup", "bedrock"]
        );
        assert_eq!(
            names(&routes, &all, "glm-4.6"),
            ["zai", "backup", "anthropic", "bedrock"]
        );
        assert_eq!(
            names(&routes, &all, "gpt-5"),
            ["zai", "backup", "anthropic", "bedrock"]
        );
    }

    #[test]
    fn unavailable_or_unknown_providers_are_skipped() {
        let routes = routes(
            &[("claude-opus", "bedrock"), ("claude-", "nowhere")],
            Some("zai"),
        );
        let without_bedrock: Vec<_> = candidates()
            .into_iter()
            .filter(|c| c.name != "bedrock")
            .collect();
        assert_eq!(
            names(&routes, &without_bedrock, "claude-opus-4-1"),
            ["zai", "backup", "anthropic"]
        );
    }

    #[test]
    fn without_a_match_or_default_it_is_failover() {
        let routes = routes(&[("glm-", "zai")], Some(""));
        let all = candidates();
        assert_eq!(
            names(&routes, &all, "claude-haiku-4-5"),
            ["backup", "anthropic", "zai", "bedrock"]
        );
    }

    #[test]
    fn patterns_route_ids_no_key_names() {
        let routes = routes(
            &[
                ("claude-", "anthropic"),
                ("claude-*haiku*", "zai"),
                ("claude-opus-*", "bedrock"),
            ],
            None,
        );
        let all = candidates();
        assert_eq!(names(&routes, &all, "claude-haiku-4-5-20251001")[0], "zai");
        assert_eq!(names(&routes, &all, "claude-opus-4-8")[0], "bedrock");
        assert_eq!(names(&routes, &all, "claude-sonnet-4-6")[0], "anthropic");
    }

    #[test]
    fn zero_and_one_candidate() {
        let routes = routes(&[("claude-", "anthropic")], Some("anthropic"));
        assert!(names(&routes, &[], "claude-x").is_empty());
        let one = [Candidate::new("zai")];
        assert_eq!(names(&routes, &one, "claude-x"), ["zai"]);
    }
}
