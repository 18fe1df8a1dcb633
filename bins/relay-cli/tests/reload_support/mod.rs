//! The hot-reload test's harness: configurations rendered for mock
//! upstreams, a background client loop that records every failure, and
//! checks that requests go where the file says.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use relay_test_support::{MockUpstream, RelayProcess, TestClient};
use serde_json::{Value, json};

pub const MODEL: &str = "claude-sonnet-4-5";
pub const RELOAD_WITHIN: Duration = Duration::from_secs(10);

/// One entry of `providers:`.
#[derive(Clone, Debug)]
pub struct P {
    pub name: &'static str,
    pub key: &'static str,
    pub enabled: bool,
}

pub fn on(name: &'static str, key: &'static str) -> P {
    P {
        name,
        key,
        enabled: true,
    }
}

pub fn off(name: &'static str, key: &'static str) -> P {
    P {
        name,
        key,
        enabled: false,
    }
}

/// A test configuration; upstream URLs come from [`Upstreams`].
#[derive(Clone, Debug)]
pub struct Cfg {
    pub providers: Vec<P>,
    pub strategy: &'static str,
    pub server_extra: &'static str,
    pub level: &'static str,
}

impl Cfg {
    pub fn new(providers: Vec<P>) -> Self {
        Self {
            providers,
            strategy: "failover",
            server_extra: "",
            level: "debug",
        }
    }

    pub fn strategy(mut self, strategy: &'static str) -> Self {
        self.strategy = strategy;
        self
    }

    pub fn server(mut self, extra: &'static str) -> Self {
        self.server_extra = extra;
        self
    }

    pub fn level(mut self, level: &'static str) -> Self {
        self.level = level;
        self
    }

    /// The provider requests must reach: the first enabled one.
    pub fn serving(&self) -> &P {
        self.providers.iter().find(|p| p.enabled).unwrap()
    }

    pub fn models(&self) -> Vec<String> {
        let mut models = vec![MODEL.to_owned()];
        for p in self.providers.iter().filter(|p| p.enabled) {
            models.push(format!("model-{}", p.name));
        }
        models
    }
}

/// The mock upstreams, by provider name.
pub struct Upstreams(pub Vec<(&'static str, MockUpstream)>);

impl Upstreams {
    pub async fn start(names: &[&'static str]) -> Self {
        let mut all = Vec::new();
        for name in names {
            all.push((*name, MockUpstream::start().await.unwrap()));
        }
        Self(all)
    }

    pub fn get(&self, name: &str) -> &MockUpstream {
        &self.0.iter().find(|(n, _)| *n == name).unwrap().1
    }

    pub fn render(&self, cfg: &Cfg) -> String {
        let mut text = format!(
            "server:\n  timeout_ms: 10000\n{}routing:\n  strategy: {}\nproviders:\n",
            cfg.server_extra, cfg.strategy
        );
        for (i, p) in cfg.providers.iter().enumerate() {
            text.push_str(&format!(
                "  - name: {name}\n    type: anthropic\n    enabled: {enabled}\n    \
                 base_url: \"{url}\"\n    priority: {priority}\n    \
                 models: [{MODEL}, model-{name}]\n    keys:\n      - key: \"{key}\"\n",
                name = p.name,
                enabled = p.enabled,
                url = self.get(p.name).url(),
                priority = 10 - i,
                key = p.key,
            ));
        }
        text.push_str(&format!("logging:\n  level: {}\n", cfg.level));
        text
    }
}

pub fn request_body(text: &str, stream: bool) -> Value {
    json!({
        "model": MODEL,
        "max_tokens": 64,
        "stream": stream,
        "messages": [{ "role": "user", "content": text }]
    })
}

/// Streaming and non-streaming requests in a loop until stopped; every
/// failure is recorded.
pub struct ClientLoop {
    stop: Arc<AtomicBool>,
    done: [Arc<AtomicUsize>; 2],
    failures: Arc<Mutex<Vec<String>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl ClientLoop {
    pub fn start(url: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let done = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
        let failures = Arc::new(Mutex::new(Vec::new()));
        let tasks = [false, true]
            .into_iter()
            .zip(done.iter().cloned())
            .map(|(stream, done)| {
                let (stop, failures) = (Arc::clone(&stop), Arc::clone(&failures));
                let url = format!("{url}/v1/messages");
                tokio::spawn(async move {
                    let client = TestClient::new().with_timeout(Duration::from_secs(15));
                    while !stop.load(Ordering::SeqCst) {
                        match one_request(&client, &url, stream).await {
                            Ok(()) => done.fetch_add(1, Ordering::SeqCst),
                            Err(e) => {
                                failures
                                    .lock()
                                    .unwrap()
                                    .push(format!("stream={stream}: {e}"));
                                0
                            }
                        };
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                })
            })
            .collect();
        Self {
            stop,
            done,
            failures,
            tasks,
        }
    }

    /// Stops the loop and returns (non-streaming, streaming) successes.
    pub async fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.unwrap();
        }
        let failures = self.failures.lock().unwrap();
        assert!(
            failures.is_empty(),
            "client-visible failures: {failures:#?}"
        );
        let [plain, streamed] = &self.done;
        (
            plain.load(Ordering::SeqCst),
            streamed.load(Ordering::SeqCst),
        )
    }
}

async fn one_request(client: &TestClient, url: &str, stream: bool) -> Result<(), String> {
    let body = request_body("background", stream).to_string();
    let json = [("content-type", "application/json")];
    if stream {
        let response = client.stream("POST", url, &json, body).await;
        let response = response.map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!("status {}", response.status));
        }
        let events = response.collect_events().await.map_err(|e| e.to_string())?;
        let names: Vec<&str> = events.iter().map(|(n, _, _)| n.as_str()).collect();
        if names.last() != Some(&"message_stop") || names.contains(&"error") {
            return Err(format!("stream events {names:?}"));
        }
    } else {
        let response = client.request("POST", url, &json, body).await;
        let response = response.map_err(|e| e.to_string())?;
        let value = response.json().map_err(|e| e.to_string())?;
        if response.status != 200 || value["type"] != "message" {
            return Err(format!("status {}: {value}", response.status));
        }
    }
    Ok(())
}

/// The relay under test, its upstreams and what has been applied so far.
pub struct Harness {
    pub relay: RelayProcess,
    pub upstreams: Upstreams,
    pub client: TestClient,
    pub generation: u64,
    pub probes: usize,
    pub rewrites: usize,
}

impl Harness {
    /// For a relay started with `upstreams.render(...)`: generation 1.
    pub fn new(relay: RelayProcess, upstreams: Upstreams) -> Self {
        Self {
            relay,
            upstreams,
            client: TestClient::new(),
            generation: 1,
            probes: 0,
            rewrites: 0,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.relay.url())
    }

    /// Writes the file: in place, or (every other time) as an editor's
    /// temporary file renamed over it.
    pub fn write(&mut self, text: &str) {
        self.rewrites += 1;
        if self.rewrites.is_multiple_of(2) {
            self.relay.rewrite_config(text).unwrap();
        } else {
            let path = self.relay.config_path().unwrap();
            let temp = path.with_file_name(format!(".config.yaml.{}.tmp", self.rewrites));
            std::fs::write(&temp, text).unwrap();
            std::fs::rename(&temp, path).unwrap();
        }
    }

    /// Rewrites the file, waits for the reload, checks where requests go.
    pub async fn apply(&mut self, cfg: &Cfg) {
        let text = self.upstreams.render(cfg);
        self.write(&text);
        self.reloaded().await;
        self.check(cfg).await;
    }

    /// Waits for the next generation's "configuration reloaded" line.
    pub async fn reloaded(&mut self) -> String {
        self.generation += 1;
        let needle = format!("configuration reloaded (generation {})", self.generation);
        self.relay
            .wait_for_log(&needle, RELOAD_WITHIN)
            .await
            .unwrap();
        self.relay
            .logs()
            .into_iter()
            .find(|l| l.contains(&needle))
            .unwrap()
    }

    /// Writes an invalid file; the relay must log why and keep serving `still`.
    pub async fn reject(&mut self, text: &str, expected: &[&str], still: &Cfg) {
        let failed = "configuration reload failed";
        let before = count(&self.relay, failed);
        self.write(text);
        wait_count(&self.relay, failed, before + 1).await;
        let logs = self.relay.logs().join("\n");
        let report = &logs[logs.rfind(failed).unwrap()..];
        let serving = format!("still serving generation {}", self.generation);
        for needle in expected.iter().chain([&serving.as_str()]) {
            assert!(report.contains(needle), "{needle:?} not in {report}");
        }
        self.check(still).await;
    }

    /// `/v1/providers`, `/v1/models` and a marked request all match `cfg`.
    pub async fn check(&mut self, cfg: &Cfg) {
        let providers = self.client.get(self.url("/v1/providers")).await.unwrap();
        let providers = providers.json().unwrap();
        let listed: Vec<(&str, bool)> = providers["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["name"].as_str().unwrap(), p["active"].as_bool().unwrap()))
            .collect();
        let expected: Vec<(&str, bool)> =
            cfg.providers.iter().map(|p| (p.name, p.enabled)).collect();
        assert_eq!(listed, expected, "generation {}", self.generation);
        let models = self
            .client
            .get(self.url("/v1/models?limit=100"))
            .await
            .unwrap();
        let models = models.json().unwrap();
        let ids: Vec<&str> = models["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, cfg.models(), "generation {}", self.generation);

        self.probes += 1;
        let marker = format!("[probe {}]", self.probes);
        let body = request_body(&marker, false);
        let response = self
            .client
            .post_json(self.url("/v1/messages"), &[], &body)
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{}", response.text());
        let serving = cfg.serving();
        for (name, upstream) in &self.upstreams.0 {
            let hit = upstream
                .requests()
                .into_iter()
                .find(|r| String::from_utf8_lossy(&r.body).contains(&marker));
            if *name == serving.name {
                let hit = hit.unwrap_or_else(|| panic!("{marker} did not reach {name}"));
                assert_eq!(hit.header("x-api-key"), Some(serving.key), "{marker}");
            } else {
                assert!(
                    hit.is_none(),
                    "{marker} reached {name}, not {}",
                    serving.name
                );
            }
        }
    }
}

pub fn count(relay: &RelayProcess, needle: &str) -> usize {
    relay.logs().iter().filter(|l| l.contains(needle)).count()
}

pub async fn wait_count(relay: &RelayProcess, needle: &str, n: usize) {
    let deadline = Instant::now() + RELOAD_WITHIN;
    while count(relay, needle) < n {
        assert!(
            Instant::now() < deadline,
            "no {needle:?} #{n}:\n{}",
            relay.logs().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until a line after the first `mark` lines contains `needle`.
pub async fn wait_line_after(relay: &RelayProcess, mark: usize, needle: &str) {
    let deadline = Instant::now() + RELOAD_WITHIN;
    while !relay.logs().iter().skip(mark).any(|l| l.contains(needle)) {
        assert!(Instant::now() < deadline, "no {needle:?} after line {mark}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
