//! The driver the examples share: mock upstreams in this process, a
//! `relay_router::Router` built from a YAML configuration, and a loop that
//! sends requests the way an embedding proxy would — ask the router for a
//! plan, try its attempts, report each outcome — printing where each went.
//!
//! It uses `relay-router` alone, never `relay-server`: that is the point.
#![allow(clippy::print_stdout)] // Printing what went where is what the examples are for.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use relay_router::{Outcome, RouteRequest, Router, RouterState, TransportFailure, Verdict};
use relay_test_support::{MockUpstream, TestClient};
use tokio::time::Instant;

/// Mock upstreams named in order; `{name}` in the YAML is replaced by each one's URL.
pub struct Demo {
    pub upstreams: BTreeMap<String, MockUpstream>,
    pub router: Router,
    client: TestClient,
}

impl Demo {
    /// Starts one mock per name and builds the router from `yaml` (with `{name}` placeholders).
    pub async fn start(names: &[&str], yaml: &str) -> anyhow::Result<Self> {
        let mut upstreams = BTreeMap::new();
        let mut yaml = yaml.to_owned();
        for name in names {
            let mock = MockUpstream::start().await?;
            yaml = yaml.replace(&format!("{{{name}}}"), &mock.url());
            upstreams.insert((*name).to_owned(), mock);
        }
        let config = relay_config::load_str(&yaml, relay_config::Format::Yaml, &|_| None)?;
        let state = Arc::new(RouterState::new(&config.routing.affinity));
        let router = Router::new(&config, state);
        router.activate();
        Ok(Self {
            upstreams,
            router,
            client: TestClient::new().with_timeout(Duration::from_secs(10)),
        })
    }

    /// The mock behind a provider name.
    pub fn upstream(&self, name: &str) -> anyhow::Result<&MockUpstream> {
        self.upstreams
            .get(name)
            .with_context(|| format!("no upstream named {name}"))
    }

    /// Sends one request for `model` through the router; returns the provider that served it.
    pub async fn send(
        &self,
        label: &str,
        model: &str,
        session: Option<&str>,
    ) -> anyhow::Result<Option<String>> {
        let request = RouteRequest {
            model,
            session,
            estimate: relay_router::Estimate {
                input_tokens: 20,
                max_output_tokens: 64,
            },
        };
        let mut plan = self.router.plan(&request, Instant::now())?;
        let body = serde_json::json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]});
        let mut trail = Vec::new();
        loop {
            let attempt = match plan.next_attempt(Instant::now()) {
                Ok(attempt) => attempt,
                Err(why) => {
                    println!(
                        "{label:>12}  {model:<22} -> nobody: {why}   (tried {})",
                        trail.join(" , ")
                    );
                    return Ok(None);
                }
            };
            let url = self
                .upstreams
                .get(&*attempt.provider)
                .map(MockUpstream::url)
                .context("no mock for provider")?;
            let key = attempt
                .key
                .as_ref()
                .map(|k| k.expose().to_owned())
                .unwrap_or_default();
            let started = Instant::now();
            let sent = self
                .client
                .post_json(
                    format!("{url}/v1/messages"),
                    &[("x-api-key", key.as_str())],
                    &body,
                )
                .await;
            let provider = attempt.provider.to_string();
            let key_id = attempt.key_id.clone().unwrap_or_else(|| "-".into());
            let verdict = match &sent {
                Ok(response) => {
                    let outcome = Outcome::Response {
                        status: response.status,
                        headers: &response.headers,
                        error_body: Some(&response.body),
                    };
                    plan.report(attempt, outcome, Instant::now())
                }
                Err(_) => plan.report(
                    attempt,
                    Outcome::Transport(TransportFailure::Connect),
                    Instant::now(),
                ),
            };
            let status = sent
                .as_ref()
                .map_or("unreachable".to_owned(), |r| r.status.to_string());
            trail.push(format!("{provider}/{key_id}={status}"));
            match verdict {
                Verdict::Deliver(delivery) => {
                    delivery.finish(relay_router::DeliveryEnd::default());
                    println!(
                        "{label:>12}  {model:<22} -> {provider:<10} key {key_id}  status {status}  in {:>4} ms  {}",
                        started.elapsed().as_millis(),
                        if trail.len() > 1 {
                            format!("(after {})", trail[..trail.len() - 1].join(", "))
                        } else {
                            String::new()
                        },
                    );
                    return Ok(Some(provider));
                }
                Verdict::Retry(_) => continue,
            }
        }
    }

    /// Sends `n` requests and prints how many each provider served.
    pub async fn run(&self, n: usize, model: &str) -> anyhow::Result<()> {
        let mut served: BTreeMap<String, usize> = BTreeMap::new();
        for i in 1..=n {
            if let Some(provider) = self.send(&format!("request {i}"), model, None).await? {
                *served.entry(provider).or_default() += 1;
            }
        }
        summary(&served);
        Ok(())
    }
}

/// Prints a `provider: count` summary.
pub fn summary(served: &BTreeMap<String, usize>) {
    println!("\nserved:");
    for (provider, count) in served {
        println!("  {provider:<10} {count:>3}  {}", "#".repeat(*count));
    }
}
