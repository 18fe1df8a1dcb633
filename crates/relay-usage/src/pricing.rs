//! What a request cost: the provider's `cost` settings when it has them (the
//! one price configuration, shared with cost routing), else the built-in
//! table of Anthropic's list prices. A model neither knows is unpriced: its
//! cost is recorded as null and counted, never guessed.

use relay_config::{CostConfig, TokenPrices};

/// Tokens of one request, by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    /// Cache writes, all of them (5 min + 1 h).
    pub cache_write: u64,
    /// Of `cache_write`, those with the 1-hour lifetime (when the upstream
    /// reports the split; otherwise all are priced as 5-minute writes).
    pub cache_write_1h: u64,
}

/// Anthropic's list prices in US dollars per million tokens (input, 5 min
/// cache writes, 1 h cache writes, cache hits, output), from
/// <https://platform.claude.com/docs/en/about-claude/pricing> ("Model
/// pricing"), read 2026-12-04. Models whose prices that page did not show
/// (or that are priced by prompt length) are left out: configure them under
/// `providers[].cost`.
const LIST_PRICES: &[(&str, [f64; 5])] = &[
    ("claude-fable-5-1", [10.0, 12.5, 20.0, 0.25, 50.0]),
    ("claude-mythos-5-1", [10.0, 12.5, 20.0, 0.25, 50.0]),
    ("claude-fable-5", [10.0, 12.5, 20.0, 1.0, 50.0]),
    ("claude-mythos-5", [10.0, 12.5, 20.0, 1.0, 50.0]),
    ("claude-opus-5", [5.0, 6.25, 10.0, 0.5, 25.0]),
    ("claude-opus-4-8", [5.0, 6.25, 10.0, 0.5, 25.0]),
    ("claude-opus-4-7", [5.0, 6.25, 10.0, 0.5, 25.0]),
    ("claude-opus-4-6", [5.0, 6.25, 10.0, 0.5, 25.0]),
    ("claude-opus-4-5", [5.0, 6.25, 10.0, 0.5, 25.0]),
    ("claude-opus-4-1", [15.0, 18.75, 30.0, 1.5, 75.0]),
    ("claude-opus-4-0", [15.0, 18.75, 30.0, 1.5, 75.0]),
    ("claude-opus-4", [15.0, 18.75, 30.0, 1.5, 75.0]),
    ("claude-sonnet-4-6", [3.0, 3.75, 6.0, 0.3, 15.0]),
    ("claude-sonnet-4-5", [3.0, 3.75, 6.0, 0.3, 15.0]),
    ("claude-sonnet-4-0", [3.0, 3.75, 6.0, 0.3, 15.0]),
    ("claude-sonnet-4", [3.0, 3.75, 6.0, 0.3, 15.0]),
    ("claude-3-7-sonnet", [3.0, 3.75, 6.0, 0.3, 15.0]),
    ("claude-haiku-4-5", [1.0, 1.25, 2.0, 0.1, 5.0]),
    ("claude-3-5-haiku", [0.8, 1.0, 1.6, 0.08, 4.0]),
    ("claude-3-opus", [15.0, 18.75, 30.0, 1.5, 75.0]),
    ("claude-3-haiku", [0.25, 0.30, 0.50, 0.03, 1.25]),
];

/// The list prices of a model, if the table has it. Cloud spellings are
/// understood (`anthropic.` / `us.anthropic.` prefixes on Bedrock, `@date`
/// on Vertex); a name matches an entry only as that entry plus a date or
/// version suffix, so an unknown newer model is not priced as an older one.
pub fn list_prices(model: &str) -> Option<TokenPrices> {
    let model = model
        .rsplit_once("anthropic.")
        .map_or(model, |(_, rest)| rest);
    LIST_PRICES
        .iter()
        .find(|(name, _)| {
            model.strip_prefix(name).is_some_and(|rest| {
                rest.is_empty()
                    || rest.starts_with('@')
                    || rest.starts_with('[')
                    || rest.starts_with("-v")
                    || rest.strip_prefix('-').is_some_and(|date| {
                        date.len() >= 8 && date[..8].bytes().all(|b| b.is_ascii_digit())
                    })
            })
        })
        .map(
            |(_, [input, write_5m, write_1h, read, output])| TokenPrices {
                input: *input,
                output: *output,
                cache_write_5m: *write_5m,
                cache_write_1h: *write_1h,
                cache_read: *read,
            },
        )
}

/// The prices for a request: the provider's `cost` (matched against the
/// client's model, as cost routing does), else the list price of the model
/// sent upstream.
pub fn prices(
    cost: Option<&CostConfig>,
    model_asked: &str,
    model_sent: &str,
) -> Option<TokenPrices> {
    match cost {
        Some(cost) => Some(cost.token_prices(model_asked)),
        None => list_prices(model_sent).or_else(|| list_prices(model_asked)),
    }
}

/// The cost of `tokens` in US dollars.
pub fn cost_usd(prices: &TokenPrices, tokens: &Tokens) -> f64 {
    let write_1h = tokens.cache_write_1h.min(tokens.cache_write);
    let write_5m = tokens.cache_write - write_1h;
    let per_mtok = [
        (tokens.input, prices.input),
        (tokens.output, prices.output),
        (tokens.cache_read, prices.cache_read),
        (write_5m, prices.cache_write_5m),
        (write_1h, prices.cache_write_1h),
    ];
    per_mtok
        .iter()
        .map(|&(count, price)| count as f64 * price)
        .sum::<f64>()
        / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_prices_know_dated_and_cloud_spellings_but_do_not_guess() {
        let opus = list_prices("claude-opus-4-5-20251101").unwrap();
        assert_eq!((opus.input, opus.output), (5.0, 25.0));
        assert_eq!(list_prices("claude-opus-4-20250514").unwrap().input, 15.0);
        assert_eq!(list_prices("claude-opus-4-1").unwrap().input, 15.0);
        assert_eq!(
            list_prices("us.anthropic.claude-haiku-4-5-20251001-v1:0")
                .unwrap()
                .input,
            1.0
        );
        assert_eq!(
            list_prices("claude-sonnet-4-5@20250929")
                .unwrap()
                .cache_read,
            0.3
        );
        assert_eq!(list_prices("claude-3-5-haiku-latest"), None);
        assert_eq!(list_prices("claude-opus-4-9"), None);
        assert_eq!(list_prices("glm-4.6"), None);
    }

    #[test]
    fn every_kind_of_token_has_its_price() {
        let haiku = list_prices("claude-haiku-4-5").unwrap();
        let tokens = Tokens {
            input: 1_000_000,
            output: 1_000_000,
            cache_read: 1_000_000,
            cache_write: 2_000_000,
            cache_write_1h: 1_000_000,
        };
        // 1 + 5 + 0.1 + 1.25 + 2
        assert!((cost_usd(&haiku, &tokens) - 9.35).abs() < 1e-9);
    }

    #[test]
    fn a_providers_cost_settings_win_and_fill_cache_prices_by_multiplier() {
        let cost = CostConfig {
            input_per_mtok: 2.0,
            output_per_mtok: 8.0,
            ..CostConfig::default()
        };
        let prices = prices(Some(&cost), "claude-opus-4-5", "claude-opus-4-5").unwrap();
        assert_eq!(prices.cache_write_5m, 2.5);
        assert_eq!(prices.cache_write_1h, 4.0);
        assert!((prices.cache_read - 0.2).abs() < 1e-12);
        assert!(super::prices(None, "big-model", "glm-4.6").is_none());
    }
}
