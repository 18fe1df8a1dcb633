//! One request's telemetry: a slot every stage fills while the request runs
//! (the proxy: provider, key, model, failovers, time spent waiting on
//! upstreams; the delivery watch: token usage, first token), read once when
//! the response ends, and the finished record built from it.
//!
//! Nothing here may hold a secret: key ids are short hashes, and bodies are
//! never copied in.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use relay_admin_api::RequestEvent;
use relay_router::{FailoverReason, Usage};

/// The shared, per-request slot. Each method takes a short lock.
#[derive(Debug, Default)]
pub struct RequestTelemetry {
    fields: Mutex<Fields>,
}

/// What the stages learned about a request.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    /// The provider and key of the last attempt (the one answered, if any).
    pub provider: Option<Arc<str>>,
    pub key_id: Option<String>,
    /// The model the client asked for.
    pub model: Option<String>,
    pub stream: bool,
    pub attempts: u32,
    pub failovers: Vec<Failover>,
    /// Time spent waiting for upstream response headers (and reading the
    /// error bodies of failed attempts): not the relay's own time.
    pub upstream_wait: Duration,
    pub usage: Option<Usage>,
    /// When the first content delta of a stream passed through.
    pub first_token: Option<Instant>,
}

/// An attempt abandoned for another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failover {
    pub from: Arc<str>,
    pub reason: FailoverReason,
    /// The provider of the attempt that followed, if any.
    pub to: Option<Arc<str>>,
}

impl Failover {
    /// `key` when another key of the same provider was tried next (a retry),
    /// `provider` when another provider was, or none was left.
    pub fn scope(&self) -> &'static str {
        match &self.to {
            Some(to) if *to == self.from => "key",
            _ => "provider",
        }
    }
}

impl RequestTelemetry {
    fn with(&self, change: impl FnOnce(&mut Fields)) {
        change(&mut self.fields.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// The request's body was read: what it asks for.
    pub fn request(&self, model: &str, stream: bool) {
        self.with(|f| {
            f.model = Some(model.to_owned());
            f.stream = stream;
        });
    }

    /// An upstream attempt starts with this provider and key.
    pub fn attempt(&self, provider: &Arc<str>, key_id: Option<&str>) {
        self.with(|f| {
            if let Some(last) = f.failovers.last_mut()
                && last.to.is_none()
            {
                last.to = Some(Arc::clone(provider));
            }
            f.provider = Some(Arc::clone(provider));
            f.key_id = key_id.map(str::to_owned);
            f.attempts += 1;
        });
    }

    /// The attempt on `provider` was abandoned for `reason`.
    pub fn abandoned(&self, provider: &Arc<str>, reason: FailoverReason) {
        self.with(|f| {
            f.failovers.push(Failover {
                from: Arc::clone(provider),
                reason,
                to: None,
            });
        });
    }

    /// Time spent waiting on an upstream.
    pub fn waited(&self, wait: Duration) {
        self.with(|f| f.upstream_wait += wait);
    }

    /// The upstream's reported usage, when the response ended.
    pub fn usage(&self, usage: Usage) {
        self.with(|f| f.usage = Some(usage));
    }

    /// A stream's first content delta passed through now (the first one counts).
    pub fn first_token(&self, at: Instant) {
        self.with(|f| {
            f.first_token.get_or_insert(at);
        });
    }

    /// What was learned so far.
    pub fn snapshot(&self) -> Fields {
        self.fields
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// A finished request, as logged, counted and streamed to dashboards.
#[derive(Clone, Debug)]
pub struct Completed {
    pub id: Arc<str>,
    pub time: SystemTime,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// `complete`, `aborted`, `client_closed` or `relay_error`.
    pub outcome: &'static str,
    /// The relay's own error type, when it produced the response itself.
    pub relay_error: Option<&'static str>,
    pub fields: Fields,
    /// From arrival to the end of the response body.
    pub latency: Duration,
    /// From arrival to the first body byte sent (or the headers, without a body).
    pub ttfb: Duration,
    /// Time to the first content delta of a stream.
    pub ttft: Option<Duration>,
    /// Time to the response headers, less the time waiting on upstreams.
    pub overhead: Duration,
    pub bytes: u64,
}

/// Timings the access log measured, all from the request's arrival.
#[derive(Clone, Copy, Debug)]
pub struct Timings {
    pub started: Instant,
    pub headers_at: Instant,
    pub first_byte_at: Option<Instant>,
    pub ended_at: Instant,
}

impl Completed {
    /// Builds the record from the slot's fields and the measured timings.
    pub fn new(
        id: Arc<str>,
        request: (String, String, u16),
        outcome: &'static str,
        relay_error: Option<&'static str>,
        fields: Fields,
        timings: Timings,
        bytes: u64,
    ) -> Self {
        let since = |at: Instant| at.saturating_duration_since(timings.started);
        let headers = since(timings.headers_at);
        let (method, path, status) = request;
        Self {
            id,
            time: SystemTime::now(),
            method,
            path,
            status,
            outcome: if relay_error.is_some() {
                "relay_error"
            } else {
                outcome
            },
            relay_error,
            latency: since(timings.ended_at),
            ttfb: timings.first_byte_at.map_or(headers, since),
            ttft: fields.first_token.map(since),
            overhead: headers.saturating_sub(fields.upstream_wait),
            fields,
            bytes,
        }
    }

    /// Counted as an error in stats: a 4xx/5xx status or a broken body.
    pub fn is_error(&self) -> bool {
        self.status >= 400 || self.outcome == "aborted"
    }

    /// Failover reasons, in order.
    pub fn failover_reasons(&self) -> Vec<&'static str> {
        self.fields
            .failovers
            .iter()
            .map(|f| f.reason.as_str())
            .collect()
    }

    /// The `/admin/events` form: ids, route, timings and token counts only.
    pub fn event(&self) -> RequestEvent {
        let usage = self.fields.usage.unwrap_or_default();
        RequestEvent {
            id: self.id.to_string(),
            time: humantime::format_rfc3339_millis(self.time)
                .to_string()
                .into(),
            method: self.method.clone(),
            path: self.path.clone(),
            provider: Some(self.fields.provider.as_deref().unwrap_or("").to_owned()),
            key_id: self.fields.key_id.clone(),
            model: Some(self.fields.model.clone().unwrap_or_default()),
            status: self.status,
            stream: self.fields.stream,
            latency_ms: Some(millis(self.latency)),
            ttfb_ms: Some(millis(self.ttfb)),
            ttft_ms: self.ttft.map(millis),
            overhead_ms: Some(millis(self.overhead)),
            input_tokens: Some(usage.input_tokens),
            output_tokens: Some(usage.output_tokens),
            cache_read_tokens: Some(usage.cache_read_input_tokens),
            cache_creation_tokens: Some(usage.cache_creation_input_tokens),
            failovers: self
                .failover_reasons()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            outcome: Some(self.outcome.to_owned()),
            attempts: Some(self.fields.attempts),
            relay_error: self.relay_error.map(str::to_owned),
        }
    }
}

/// Milliseconds, rounded to the microsecond.
pub fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timings(headers_ms: u64, first_byte_ms: Option<u64>, end_ms: u64) -> Timings {
        let started = Instant::now();
        let at = |ms| started + Duration::from_millis(ms);
        Timings {
            started,
            headers_at: at(headers_ms),
            first_byte_at: first_byte_ms.map(at),
            ended_at: at(end_ms),
        }
    }

    fn request() -> (String, String, u16) {
        ("POST".into(), "/v1/messages".into(), 200)
    }

    #[test]
    fn stages_fill_one_record_and_failovers_know_where_they_went() {
        let slot = RequestTelemetry::default();
        let (a, b): (Arc<str>, Arc<str>) = ("a".into(), "b".into());
        slot.request("claude-x", true);
        slot.attempt(&a, Some("11111111"));
        slot.abandoned(&a, FailoverReason::RateLimited);
        slot.attempt(&a, Some("22222222"));
        slot.abandoned(&a, FailoverReason::Overloaded);
        slot.attempt(&b, None);
        slot.waited(Duration::from_millis(30));
        slot.waited(Duration::from_millis(20));
        slot.usage(Usage {
            input_tokens: 7,
            output_tokens: 3,
            ..Usage::default()
        });
        let fields = slot.snapshot();
        assert_eq!(fields.attempts, 3);
        assert_eq!(fields.provider.as_deref(), Some("b"));
        assert_eq!(fields.key_id, None);
        let scopes: Vec<_> = fields.failovers.iter().map(Failover::scope).collect();
        assert_eq!(scopes, ["key", "provider"]);
        assert_eq!(fields.upstream_wait, Duration::from_millis(50));

        let done = Completed::new(
            "req-1".into(),
            request(),
            "complete",
            None,
            fields,
            timings(80, Some(90), 500),
            10,
        );
        assert_eq!(done.overhead, Duration::from_millis(30));
        assert_eq!(done.ttfb, Duration::from_millis(90));
        assert_eq!(done.latency, Duration::from_millis(500));
        let event = serde_json::to_value(done.event()).unwrap();
        assert_eq!(
            event["failovers"],
            serde_json::json!(["rate_limited", "overloaded"])
        );
        assert_eq!(event["provider"], "b");
        assert_eq!(event["key_id"], serde_json::Value::Null);
        assert_eq!(event["input_tokens"], 7);
        assert_eq!(event["overhead_ms"], 30.0);
        assert!(!done.is_error());
    }

    #[test]
    fn relay_errors_have_no_provider_and_their_own_outcome() {
        let slot = RequestTelemetry::default();
        slot.request("m", false);
        let done = Completed::new(
            "r".into(),
            ("POST".into(), "/v1/messages".into(), 429),
            "complete",
            Some("rate_limit_error"),
            slot.snapshot(),
            timings(1, None, 2),
            0,
        );
        assert_eq!(done.outcome, "relay_error");
        assert!(done.is_error());
        // Without a body byte, the first byte is the headers.
        assert_eq!(done.ttfb, Duration::from_millis(1));
        let event = serde_json::to_value(done.event()).unwrap();
        assert_eq!(event["provider"], "");
        assert_eq!(event["relay_error"], "rate_limit_error");
        // All the time was the relay's: nothing waited on an upstream.
        assert_eq!(done.overhead, Duration::from_millis(1));
    }

    #[test]
    fn an_exhausted_plan_counts_as_a_provider_failover() {
        let slot = RequestTelemetry::default();
        let a: Arc<str> = "a".into();
        slot.attempt(&a, None);
        slot.abandoned(&a, FailoverReason::Timeout);
        assert_eq!(slot.snapshot().failovers[0].scope(), "provider");
    }
}
