//! What a key may use (its limits) and what a request asks for or used
//! (estimates and usage), in the units the rate limits count.

use std::fmt;

use relay_config::KeyConfig;

/// Per-minute limits from configuration. 0 means "not configured": the
/// dimension is learned from the upstream's headers, and unlimited until then.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyLimits {
    /// Requests per minute.
    pub rpm: u64,
    /// Input tokens per minute (input + cache creation, see [`Usage::itpm_tokens`]).
    pub itpm: u64,
    /// Output tokens per minute.
    pub otpm: u64,
    /// Legacy combined input + output tokens per minute: one more bucket that
    /// both kinds of token draw from.
    pub tpm: u64,
}

impl KeyLimits {
    /// The limits a key's configuration sets. `tpm_limit` is the Go file's
    /// combined limit; it only applies when neither split limit is set, so a
    /// file that names both styles gets the precise one.
    pub fn from_config(config: &KeyConfig) -> Self {
        let split_unset = config.itpm_limit == 0 && config.otpm_limit == 0;
        Self {
            rpm: config.rpm_limit,
            itpm: config.itpm_limit,
            otpm: config.otpm_limit,
            tpm: if split_unset { config.tpm_limit } else { 0 },
        }
    }

    pub(crate) fn get(&self, dimension: LimitDimension) -> u64 {
        match dimension {
            LimitDimension::Requests => self.rpm,
            LimitDimension::InputTokens => self.itpm,
            LimitDimension::OutputTokens => self.otpm,
            LimitDimension::Tokens => self.tpm,
        }
    }
}

/// One rate-limited quantity of a key. Each has its own token bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitDimension {
    Requests,
    InputTokens,
    OutputTokens,
    /// The legacy combined input + output bucket.
    Tokens,
}

impl LimitDimension {
    pub const ALL: [LimitDimension; 4] = [
        LimitDimension::Requests,
        LimitDimension::InputTokens,
        LimitDimension::OutputTokens,
        LimitDimension::Tokens,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::InputTokens => "input_tokens",
            Self::OutputTokens => "output_tokens",
            Self::Tokens => "tokens",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Self::Requests => 0,
            Self::InputTokens => 1,
            Self::OutputTokens => 2,
            Self::Tokens => 3,
        }
    }
}

impl fmt::Display for LimitDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a request is expected to use, reserved before it is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    /// Estimated input tokens (prompt, including any cached prefix: an
    /// overestimate is refunded when the request settles).
    pub input_tokens: u64,
    /// The request's `max_tokens`: like Anthropic, output capacity is
    /// reserved for the worst case and the unused part is refunded at the end.
    pub max_output_tokens: u64,
}

impl Estimate {
    pub(crate) fn amount(&self, dimension: LimitDimension) -> u64 {
        match dimension {
            LimitDimension::Requests => 1,
            LimitDimension::InputTokens => self.input_tokens,
            LimitDimension::OutputTokens => self.max_output_tokens,
            LimitDimension::Tokens => self.input_tokens.saturating_add(self.max_output_tokens),
        }
    }
}

/// What a request really used, from the response's `usage`.
///
/// Deserializes from a Messages API `usage` object leniently: a missing,
/// null, negative, fractional or non-numeric count is 0, so a partial object
/// (a stream's `message_delta`) still counts. Other fields are skipped
/// without building anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Usage {
    #[serde(deserialize_with = "lenient_count")]
    pub input_tokens: u64,
    #[serde(deserialize_with = "lenient_count")]
    pub output_tokens: u64,
    #[serde(deserialize_with = "lenient_count")]
    pub cache_creation_input_tokens: u64,
    #[serde(deserialize_with = "lenient_count")]
    pub cache_read_input_tokens: u64,
}

/// A token count, or 0 for anything that is not one. A number is decoded
/// without allocating.
fn lenient_count<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
    Ok(value.as_u64().unwrap_or(0))
}

impl Usage {
    /// The tokens Anthropic counts against ITPM: uncached input plus cache
    /// writes. Cache reads are left out because the current models (the ones
    /// Claude Code uses) do not count them; for the few older models that do,
    /// the `input-tokens-remaining` header corrects the bucket anyway.
    pub fn itpm_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_creation_input_tokens)
    }

    pub(crate) fn amount(&self, dimension: LimitDimension) -> u64 {
        match dimension {
            LimitDimension::Requests => 1,
            LimitDimension::InputTokens => self.itpm_tokens(),
            LimitDimension::OutputTokens => self.output_tokens,
            LimitDimension::Tokens => self.itpm_tokens().saturating_add(self.output_tokens),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_core::Secret;

    fn key(rpm: u64, itpm: u64, otpm: u64, tpm: u64) -> KeyConfig {
        KeyConfig {
            key: Secret::new("k"),
            rpm_limit: rpm,
            itpm_limit: itpm,
            otpm_limit: otpm,
            tpm_limit: tpm,
            ..KeyConfig::default()
        }
    }

    #[test]
    fn tpm_applies_only_without_split_limits() {
        let legacy = KeyLimits::from_config(&key(50, 0, 0, 40_000));
        assert_eq!((legacy.rpm, legacy.tpm), (50, 40_000));
        let split = KeyLimits::from_config(&key(50, 30_000, 0, 40_000));
        assert_eq!((split.itpm, split.otpm, split.tpm), (30_000, 0, 0));
    }

    #[test]
    fn itpm_counts_cache_writes_not_reads() {
        let usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
            cache_creation_input_tokens: 100,
            cache_read_input_tokens: 1_000,
        };
        assert_eq!(usage.amount(LimitDimension::InputTokens), 110);
        assert_eq!(usage.amount(LimitDimension::Tokens), 115);
    }

    #[test]
    fn usage_from_partial_json() {
        let json = serde_json::json!({"output_tokens": 7, "input_tokens": "x"});
        let usage: Usage = serde_json::from_value(json).unwrap_or_default();
        assert_eq!((usage.input_tokens, usage.output_tokens), (0, 7));
    }
}
