//! Helpers for tests/observability.rs: admin requests, a Prometheus text
//! parser, the `/admin/events` reader, and token bookkeeping.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use relay_test_support::{RelayProcess, TestClient, TestResponse, TestStream};
use serde_json::{Value, json};

use crate::common::{Provider, RELAY_KEY, RelayConfig};

pub const ADMIN_TOKEN: &str = "admin-token-0123456789abcdef";
pub const KEY_P: &str = "sk-primary-key-0001";
pub const KEY_S: &str = "sk-secondary-key-0002";

/// Clients need [`RELAY_KEY`]; `primary` (priority 2, [`KEY_P`]) fails over
/// to `secondary` ([`KEY_S`]).
pub fn two_providers(primary: &str, secondary: &str) -> RelayConfig {
    let provider = |name, url, priority, key| {
        Provider::anthropic(name, url)
            .priority(priority)
            .models(&["claude-sonnet-4-5"])
            .key(key)
    };
    RelayConfig::new()
        .server("timeout_ms", 5000)
        .server("auth", json!({ "api_key": RELAY_KEY }))
        .provider(provider("primary", primary, 2, KEY_P))
        .provider(provider("secondary", secondary, 1, KEY_S))
}

/// `server.admin` with [`ADMIN_TOKEN`].
pub fn admin(read_only: bool) -> Value {
    json!({ "token": ADMIN_TOKEN, "read_only": read_only })
}

/// A request with the admin token in `x-admin-token`, if any.
pub async fn admin_request(
    relay: &RelayProcess,
    method: &str,
    path: &str,
    token: Option<&str>,
) -> TestResponse {
    let headers: Vec<(&str, &str)> = token.map(|t| ("x-admin-token", t)).into_iter().collect();
    TestClient::new()
        .request(method, format!("{}{path}", relay.url()), &headers, "")
        .await
        .unwrap()
}

pub async fn get_stats(relay: &RelayProcess, token: &str) -> Value {
    let response = admin_request(relay, "GET", "/admin/stats", Some(token)).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(response.header("content-type"), Some("application/json"));
    response.json().unwrap()
}

pub async fn get_metrics(base: &str, token: Option<&str>) -> Metrics {
    let headers: Vec<(&str, &str)> = token.map(|t| ("x-admin-token", t)).into_iter().collect();
    let response = TestClient::new()
        .request("GET", format!("{base}/metrics"), &headers, "")
        .await
        .unwrap();
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(
        response
            .header("content-type")
            .is_some_and(|ct| ct.starts_with("application/openmetrics-text")),
        "{:?}",
        response.headers
    );
    Metrics::parse(&response.text())
}

/// One sample: name, labels, value.
type Sample = (String, Vec<(String, String)>, f64);

/// Parsed exposition text. Parsing panics on any line that is not valid
/// Prometheus/OpenMetrics text, so a successful parse is itself a check.
pub struct Metrics {
    pub text: String,
    samples: Vec<Sample>,
}

impl Metrics {
    pub fn parse(text: &str) -> Self {
        assert!(text.trim_end().ends_with("# EOF"), "no # EOF:\n{text}");
        let mut typed = Vec::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                assert!(
                    ["counter", "gauge", "histogram", "info"].contains(&kind),
                    "{line}"
                );
                typed.push(name.to_owned());
                continue;
            }
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let sample = parse_sample(line);
            assert!(
                typed
                    .iter()
                    .any(|family| sample.0.starts_with(family.as_str())),
                "sample without a # TYPE: {line}"
            );
            samples.push(sample);
        }
        Self {
            text: text.to_owned(),
            samples,
        }
    }

    /// The sum of the samples named `name` whose labels include all of `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, l, _)| {
                n == name
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, v)| v)
            .sum()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.samples.iter().any(|(n, _, _)| n == name)
    }

    pub fn has_bucket(&self, name: &str, le: &str) -> bool {
        self.samples
            .iter()
            .any(|(n, l, _)| n == name && l.iter().any(|(k, v)| k == "le" && v == le))
    }
}

fn parse_sample(line: &str) -> Sample {
    let (head, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
    let value: f64 = value
        .parse()
        .unwrap_or_else(|_| panic!("bad value: {line}"));
    let Some((name, labels)) = head.split_once('{') else {
        return (head.to_owned(), Vec::new(), value);
    };
    let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("{line}"));
    let mut parsed = Vec::new();
    let mut rest = labels;
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        let end = after.find('"').unwrap_or_else(|| panic!("{line}"));
        parsed.push((key.to_owned(), after[..end].to_owned()));
        rest = after[end + 1..].trim_start_matches(',');
    }
    assert!(
        name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
        "{line}"
    );
    (name.to_owned(), parsed, value)
}

/// An open `/admin/events` stream.
pub struct Events {
    stream: TestStream,
    buffer: String,
    /// Every `data:` seen, for the secrets check.
    pub seen: Vec<String>,
}

impl Events {
    pub async fn open(relay: &RelayProcess, token: &str) -> Self {
        let stream = TestClient::new()
            .stream(
                "GET",
                format!("{}/admin/events", relay.url()),
                &[("x-admin-token", token)],
                "",
            )
            .await
            .unwrap();
        assert_eq!(stream.status, 200);
        assert_eq!(
            stream
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        Self {
            stream,
            buffer: String::new(),
            seen: Vec::new(),
        }
    }

    /// The next `event: request`, which must be `response`'s.
    pub async fn next_for(&mut self, response: &TestResponse) -> Value {
        let id = response.header("x-request-id").expect("x-request-id");
        let event = self.next().await;
        assert_eq!(
            event["id"], id,
            "events arrive one per request, in order: {event}"
        );
        event
    }

    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data = Some(v.to_owned());
                    }
                }
                if let (Some(name), Some(data)) = (name, data) {
                    assert_eq!(name, "request");
                    self.seen.push(data.clone());
                    return serde_json::from_str(&data).unwrap();
                }
                continue;
            }
            let (chunk, _) = self
                .stream
                .next_chunk()
                .await
                .expect("the events stream stays open")
                .expect("an event in time");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Tokens the upstream reported, added up from client-visible responses.
#[derive(Debug, Default)]
pub struct Tokens {
    pub input: u64,
    pub output: u64,
    pub last_output: u64,
}

impl Tokens {
    pub fn from_json(body: &Value) -> Self {
        let mut tokens = Self::default();
        tokens.add_json(body);
        tokens
    }

    pub fn add_json(&mut self, body: &Value) {
        self.input += body["usage"]["input_tokens"].as_u64().unwrap();
        self.last_output = body["usage"]["output_tokens"].as_u64().unwrap();
        self.output += self.last_output;
    }

    pub fn add_sse(&mut self, events: &[(String, String)]) {
        for (name, data) in events {
            let value: Value = serde_json::from_str(data).unwrap();
            match name.as_str() {
                "message_start" => {
                    self.input += value["message"]["usage"]["input_tokens"].as_u64().unwrap();
                }
                "message_delta" => {
                    self.last_output = value["usage"]["output_tokens"].as_u64().unwrap();
                    self.output += self.last_output;
                }
                _ => {}
            }
        }
    }
}

/// Every field of the `/admin/stats` contract, with its JSON type.
pub fn assert_stats_shape(stats: &Value) {
    let number = |v: &Value| v.is_number();
    let top = [
        "uptime_secs",
        "config_generation",
        "in_flight",
        "requests_total",
        "errors_total",
        "requests_per_sec",
        "affinity_entries",
    ];
    for field in top {
        assert!(number(&stats[field]), "{field}: {stats}");
    }
    assert!(stats["version"].is_string() && stats["strategy"].is_string());
    for field in ["latency_ms", "ttfb_ms", "overhead_ms"] {
        for p in ["p50", "p90", "p99"] {
            assert!(number(&stats[field][p]), "{field}.{p}: {stats}");
        }
    }
    for kind in ["input", "output", "cache_read", "cache_creation"] {
        assert!(number(&stats["tokens"][kind]), "tokens.{kind}");
    }
    for provider in stats["providers"].as_array().unwrap() {
        for field in ["name", "type", "circuit"] {
            assert!(provider[field].is_string(), "{field}: {provider}");
        }
        for field in ["enabled", "disabled_by_operator", "active"] {
            assert!(provider[field].is_boolean(), "{field}: {provider}");
        }
        for field in ["in_flight", "requests", "errors"] {
            assert!(number(&provider[field]), "{field}: {provider}");
        }
        for field in ["circuit_open_until_secs", "latency_ms"] {
            let v = &provider[field];
            assert!(v.is_null() || v.is_number(), "{field}: {provider}");
        }
        for key in provider["keys"].as_array().unwrap() {
            assert!(key["id"].as_str().is_some_and(|id| id.len() == 8), "{key}");
            assert!(
                number(&key["in_flight"]) && number(&key["headroom"]),
                "{key}"
            );
            for dimension in ["requests", "input_tokens", "output_tokens"] {
                for field in ["limit", "remaining", "resets_in_secs"] {
                    let v = &key[dimension][field];
                    assert!(v.is_null() || v.is_number(), "{dimension}.{field}: {key}");
                }
            }
            let cooling = &key["cooling_down_for_secs"];
            assert!(cooling.is_null() || cooling.is_number(), "{key}");
            let reason = &key["disabled_reason"];
            assert!(reason.is_null() || reason.is_string(), "{key}");
        }
    }
}
