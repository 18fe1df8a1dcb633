//! What an upstream attempt's result means for routing: deliver it, or try
//! again elsewhere — and if so, whether another key of the same provider can
//! help (the failure belongs to the key) or only another provider can.

use std::time::Duration;

use http::HeaderMap;

/// How an attempt ended, before anything reached the client.
#[derive(Clone, Copy, Debug)]
pub enum Outcome<'a> {
    /// The upstream answered. `error_body` is the (bounded) body of a non-2xx answer.
    Response {
        status: u16,
        headers: &'a HeaderMap,
        error_body: Option<&'a [u8]>,
    },
    /// No answer: the connection failed, was reset, or timed out.
    Transport(TransportFailure),
}

/// A failure to get any answer from the upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportFailure {
    Connect,
    Timeout,
    Broken,
}

/// Why an attempt was abandoned for another, for logs and metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailoverReason {
    RateLimited,
    SpendLimit,
    InvalidKey,
    Overloaded,
    ServerError,
    Connect,
    Timeout,
    Transport,
}

impl FailoverReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RateLimited => "rate_limited",
            Self::SpendLimit => "spend_limit",
            Self::InvalidKey => "invalid_key",
            Self::Overloaded => "overloaded",
            Self::ServerError => "server_error",
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
        }
    }
}

/// Where a retry may go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryScope {
    /// The key failed (rate limit, invalid key): another key of the same provider may serve.
    NextKey,
    /// The provider failed: only another provider may serve.
    NextProvider,
}

/// The routing meaning of an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    /// Give it to the client as it is (success, or the client's own mistake).
    Deliver,
    /// Try again elsewhere; `cool_down` is how long the key is set aside when
    /// waiting cannot help (spent budget, refused key). A rate-limited key's
    /// rest is read from the response headers by the pool itself.
    Retry {
        scope: RetryScope,
        reason: FailoverReason,
        cool_down: Option<Duration>,
    },
}

/// How long a key is set aside after its spend limit or an authentication refusal.
pub(crate) const KEY_DISABLED_FOR: Duration = Duration::from_secs(15 * 60);

/// Classifies an attempt's outcome. `has_keys`: whether the provider uses a
/// key pool (a key-specific failure with no pool is the client's own
/// credential's, so it is delivered).
pub fn classify(outcome: Outcome<'_>, has_keys: bool) -> Classification {
    let (status, body) = match outcome {
        Outcome::Transport(failure) => {
            let reason = match failure {
                TransportFailure::Connect => FailoverReason::Connect,
                TransportFailure::Timeout => FailoverReason::Timeout,
                TransportFailure::Broken => FailoverReason::Transport,
            };
            return Classification::Retry {
                scope: RetryScope::NextProvider,
                reason,
                cool_down: None,
            };
        }
        Outcome::Response {
            status, error_body, ..
        } => (status, error_body.unwrap_or_default()),
    };
    match status {
        200..=399 => Classification::Deliver,
        429 if is_spend_limit(body) && has_keys => Classification::Retry {
            scope: RetryScope::NextKey,
            reason: FailoverReason::SpendLimit,
            cool_down: Some(KEY_DISABLED_FOR),
        },
        429 => Classification::Retry {
            scope: if has_keys {
                RetryScope::NextKey
            } else {
                RetryScope::NextProvider
            },
            reason: FailoverReason::RateLimited,
            cool_down: None,
        },
        401 | 403 if has_keys => Classification::Retry {
            scope: RetryScope::NextKey,
            reason: FailoverReason::InvalidKey,
            cool_down: Some(KEY_DISABLED_FOR),
        },
        529 => Classification::Retry {
            scope: RetryScope::NextProvider,
            reason: FailoverReason::Overloaded,
            cool_down: None,
        },
        500 | 502 | 503 | 504 => Classification::Retry {
            scope: RetryScope::NextProvider,
            reason: FailoverReason::ServerError,
            cool_down: None,
        },
        // 400, 404, 413, 422 and the like: every backend would refuse it the same way.
        _ => Classification::Deliver,
    }
}

/// Anthropic marks a spent budget (as opposed to a rate limit) in the error
/// details; waiting for a rate-limit window will not help such a key.
fn is_spend_limit(body: &[u8]) -> bool {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return false;
    };
    let error = &value["error"];
    let code = error["details"]["error_code"].as_str().unwrap_or_default();
    code.contains("spend_limit") || code.contains("credit") || code.contains("billing")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn response(status: u16, headers: &HeaderMap, body: &'static str) -> Outcome<'static> {
        let headers: &'static HeaderMap = Box::leak(Box::new(headers.clone()));
        Outcome::Response {
            status,
            headers,
            error_body: Some(body.as_bytes()),
        }
    }

    #[test]
    fn success_and_client_errors_are_delivered() {
        let none = HeaderMap::new();
        for status in [200, 400, 404, 413, 422] {
            assert!(
                matches!(
                    classify(response(status, &none, ""), true),
                    Classification::Deliver
                ),
                "{status}"
            );
        }
    }

    #[test]
    fn rate_limits_move_to_the_next_key() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("17"));
        assert_eq!(
            classify(response(429, &headers, "{}"), true),
            Classification::Retry {
                scope: RetryScope::NextKey,
                reason: FailoverReason::RateLimited,
                cool_down: None
            }
        );
        // Without a pool the limit is provider-wide from our point of view.
        assert!(matches!(
            classify(response(429, &headers, "{}"), false),
            Classification::Retry {
                scope: RetryScope::NextProvider,
                ..
            }
        ));
    }

    #[test]
    fn a_spent_budget_sets_the_key_aside() {
        let body = r#"{"type":"error","error":{"type":"rate_limit_error","message":"x","details":{"error_code":"spend_limit_reached"}}}"#;
        assert_eq!(
            classify(response(429, &HeaderMap::new(), body), true),
            Classification::Retry {
                scope: RetryScope::NextKey,
                reason: FailoverReason::SpendLimit,
                cool_down: Some(KEY_DISABLED_FOR)
            }
        );
    }

    #[test]
    fn overload_and_server_errors_move_to_the_next_provider() {
        let none = HeaderMap::new();
        for (status, reason) in [
            (529, FailoverReason::Overloaded),
            (500, FailoverReason::ServerError),
            (503, FailoverReason::ServerError),
        ] {
            assert_eq!(
                classify(response(status, &none, ""), true),
                Classification::Retry {
                    scope: RetryScope::NextProvider,
                    reason,
                    cool_down: None
                }
            );
        }
        assert!(matches!(
            classify(Outcome::Transport(TransportFailure::Timeout), true),
            Classification::Retry {
                reason: FailoverReason::Timeout,
                ..
            }
        ));
    }

    #[test]
    fn bad_keys_are_key_specific_only_with_a_pool() {
        let none = HeaderMap::new();
        assert!(matches!(
            classify(response(401, &none, ""), true),
            Classification::Retry {
                scope: RetryScope::NextKey,
                ..
            }
        ));
        assert!(matches!(
            classify(response(401, &none, ""), false),
            Classification::Deliver
        ));
    }
}
