//! The background task: connect, publish, merge, and on any Redis error
//! reconnect with capped backoff while the relay serves on local state.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisResult};
use relay_config::StateConfig;
use relay_core::Secret;
use relay_router::RouterState;
use relay_router::sync::{
    BlockReason, KeyBlock, LocalEvent, Observation, Remote, SharedView, SyncOutbox, UsageCell,
};
use tokio::time::{Instant, MissedTickBehavior};

use crate::keys::{Keys, LONG_TTL_MS, SLOT_MS, SLOTS_READ, USAGE_TTL_MS};
use crate::status::Status;
use crate::wire::{
    self, Event, WireBlock, WireCircuit, WirePin, WireReason, WireSwitch, WireUsage,
};

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Local pins kept to re-publish after a reconnect.
const PINS_KEPT: usize = 10_000;
/// Remote pins loaded on connect (a bounded SCAN).
const PINS_LOADED: usize = 10_000;

pub(crate) struct Settings {
    url: Secret,
    endpoint: String,
    keys: Keys,
    interval: Duration,
    affinity_ttl_ms: u64,
    instance: String,
}

impl Settings {
    pub(crate) fn new(config: &StateConfig, endpoint: String) -> Self {
        Self {
            url: config.redis_url.clone().unwrap_or_else(|| Secret::new("")),
            endpoint,
            keys: Keys::new(&config.key_prefix),
            interval: Duration::from_millis(config.sync_interval_ms.max(1)),
            // Pins live in Redis as long as the affinity cache keeps them
            // idle by default; refreshed on every change.
            affinity_ttl_ms: 3_600_000,
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }
    }
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Why a session ended. Only the kind is logged: redis-rs errors name the
/// server's address, never the password, but the URL itself is not shown.
#[derive(Debug)]
enum Lost {
    Redis(redis::RedisError),
    Closed,
    Timeout,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Redis(err) => write!(f, "{:?}: {}", err.kind(), err.detail().unwrap_or("")),
            Self::Closed => f.write_str("subscription closed"),
            Self::Timeout => f.write_str("timed out"),
        }
    }
}

impl From<redis::RedisError> for Lost {
    fn from(err: redis::RedisError) -> Self {
        Self::Redis(err)
    }
}

pub(crate) async fn run(
    settings: Settings,
    state: Arc<RouterState>,
    mut outbox: SyncOutbox,
    status: Arc<Status>,
) {
    let mut sync = Sync::new(settings, state, Arc::clone(&status));
    let mut backoff = MIN_BACKOFF;
    let mut reported_down = false;
    loop {
        let lost = sync.session(&mut outbox, &mut backoff).await;
        status.sync_error();
        if status.set_connected(false) || !reported_down {
            tracing::warn!(
                endpoint = %sync.settings.endpoint,
                error = %lost,
                "state backend unavailable; serving on local state and retrying"
            );
            reported_down = true;
        }
        // Keep local events while down; they are published on reconnect.
        let until = Instant::now() + backoff;
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                event = outbox.events.recv() => match event {
                    Some(event) => sync.remember(event),
                    None => return,
                },
            }
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
        status.reconnected();
    }
}

/// Per-key usage this instance published.
#[derive(Debug, Default)]
struct OwnUsage {
    /// `charged` when last published.
    published: [i64; 4],
    slot: u64,
    cell: UsageCell,
}

struct Sync {
    settings: Settings,
    state: Arc<RouterState>,
    status: Arc<Status>,
    view: SharedView,
    usage: HashMap<(String, String), OwnUsage>,
    /// Block ends already published or learned, per (provider, key, cooldown).
    blocks: HashMap<(String, String, bool), u64>,
    /// Circuit generations already announced or caused by a remote change.
    circuits: HashMap<String, u64>,
    switches: HashMap<String, WireSwitch>,
    pins: VecDeque<WirePin>,
    /// Events that could not be published yet.
    pending: VecDeque<Event>,
    baseline_taken: bool,
}

impl Sync {
    fn new(settings: Settings, state: Arc<RouterState>, status: Arc<Status>) -> Self {
        Self {
            settings,
            state,
            status,
            view: SharedView::default(),
            usage: HashMap::new(),
            blocks: HashMap::new(),
            circuits: HashMap::new(),
            switches: HashMap::new(),
            pins: VecDeque::new(),
            pending: VecDeque::new(),
            baseline_taken: false,
        }
    }

    fn instance(&self) -> &str {
        &self.settings.instance
    }

    /// One connection's life: returns why it ended.
    async fn session(&mut self, outbox: &mut SyncOutbox, backoff: &mut Duration) -> Lost {
        let client = match redis::Client::open(self.settings.url.expose()) {
            Ok(client) => client,
            Err(err) => return Lost::Redis(err),
        };
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let mut conn = match client
            .get_multiplexed_async_connection_with_config(&config)
            .await
        {
            Ok(conn) => conn,
            Err(err) => return Lost::Redis(err),
        };
        let mut pubsub =
            match tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await {
                Ok(Ok(pubsub)) => pubsub,
                Ok(Err(err)) => return Lost::Redis(err),
                Err(_) => return Lost::Timeout,
            };
        match tokio::time::timeout(
            RESPONSE_TIMEOUT,
            pubsub.subscribe(self.settings.keys.events()),
        )
        .await
        {
            Ok(Ok(())) => {}
            Ok(Err(err)) => return Lost::Redis(err),
            Err(_) => return Lost::Timeout,
        }
        if let Err(lost) = self.connected(&mut conn).await {
            return lost;
        }
        *backoff = MIN_BACKOFF;
        let mut tick = tokio::time::interval(self.settings.interval);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut messages = pubsub.on_message();
        loop {
            let result = tokio::select! {
                message = messages.next() => match message {
                    Some(message) => {
                        self.message(message.get_payload::<String>().ok().as_deref());
                        Ok(())
                    }
                    None => Err(Lost::Closed),
                },
                () = self.state.changed() => self.publish_changes(&mut conn).await,
                event = outbox.events.recv() => match event {
                    Some(event) => {
                        self.remember(event);
                        self.flush(&mut conn).await
                    }
                    None => return Lost::Closed,
                },
                _ = tick.tick() => self.sync(&mut conn).await,
            };
            if let Err(lost) = result {
                return lost;
            }
        }
    }

    /// A new connection: announce it, re-publish what this instance knows,
    /// and read what the others know.
    async fn connected(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        // Everything local is announced again: others may have restarted,
        // or Redis may have lost its data.
        self.blocks.clear();
        self.circuits.clear();
        for switch in self.switches.values() {
            self.pending.push_back(Event::Switch(switch.clone()));
        }
        for pin in &self.pins {
            self.pending.push_back(Event::Affinity(pin.clone()));
        }
        self.load_pins(conn).await?;
        self.sync(conn).await?;
        if self.status.set_connected(true) {
            tracing::info!(endpoint = %self.settings.endpoint, "state backend connected; sharing routing state");
        }
        Ok(())
    }

    /// A local event, queued for publication (and kept for re-publication).
    fn remember(&mut self, event: LocalEvent) {
        let at_ms = wall_ms();
        let from = self.instance().to_owned();
        let event = match event {
            LocalEvent::Affinity { session, target } => {
                let pin = WirePin {
                    session,
                    at_ms,
                    from,
                    provider: target.provider.to_string(),
                    key: target.key_id,
                };
                self.view.observe(Observation::Affinity {
                    session: pin.session.clone(),
                    stamp: wire::stamp(at_ms, self.instance()),
                    target: pin.target(),
                });
                if self.pins.len() >= PINS_KEPT {
                    self.pins.pop_front();
                }
                self.pins.push_back(pin.clone());
                Event::Affinity(pin)
            }
            LocalEvent::Signatures { provider, ids } => Event::Signatures {
                from,
                provider: provider.to_string(),
                ids: ids.iter().map(|id| id.0).collect(),
            },
            LocalEvent::Switch { provider, disabled } => {
                let switch = WireSwitch {
                    provider: provider.clone(),
                    at_ms,
                    from,
                    disabled,
                };
                self.view.observe(Observation::Switch {
                    provider: provider.clone(),
                    stamp: wire::stamp(at_ms, self.instance()),
                    disabled,
                });
                self.switches.insert(provider, switch.clone());
                Event::Switch(switch)
            }
        };
        if self.pending.len() >= PINS_KEPT {
            self.pending.pop_front();
        }
        self.pending.push_back(event);
    }

    /// Publishes queued events: each is written (where it has a key) and
    /// announced, in one round trip.
    async fn flush(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let keys = &self.settings.keys;
        let channel = keys.events();
        let mut pipe = redis::pipe();
        for event in &self.pending {
            match event {
                Event::Affinity(pin) => {
                    pipe.pset_ex(
                        keys.affinity(&pin.session),
                        wire::encode(pin),
                        self.settings.affinity_ttl_ms,
                    )
                    .ignore();
                }
                Event::Switch(switch) => {
                    pipe.hset(keys.switches(), &switch.provider, wire::encode(switch))
                        .ignore()
                        .pexpire(keys.switches(), LONG_TTL_MS as i64)
                        .ignore();
                }
                Event::Block { block, .. } => {
                    let ttl = block.until_ms.saturating_sub(wall_ms()).max(1);
                    let cooldown = block.reason == WireReason::CoolingDown;
                    pipe.pset_ex(
                        keys.block(&block.provider, &block.key, cooldown),
                        wire::encode(block),
                        ttl,
                    )
                    .ignore();
                }
                Event::Circuit(circuit) => {
                    pipe.pset_ex(
                        keys.circuit(&circuit.provider),
                        wire::encode(circuit),
                        LONG_TTL_MS,
                    )
                    .ignore();
                }
                Event::Signatures { .. } => {}
            }
            pipe.publish(&channel, wire::encode(event)).ignore();
        }
        pipe.query_async::<()>(conn).await?;
        self.pending.clear();
        Ok(())
    }

    /// Announces cooldowns, disables and circuit changes the export shows.
    async fn publish_changes(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        let now_ms = wall_ms();
        let export = self.state.export(Instant::now(), now_ms);
        for key in &export.keys {
            let blocks = key
                .cooling_until_ms
                .map(|until_ms| KeyBlock {
                    until_ms,
                    reason: BlockReason::CoolingDown,
                })
                .into_iter()
                .chain(key.disabled);
            for block in blocks {
                let id = (
                    key.provider.clone(),
                    key.key.clone(),
                    block.reason.is_cooldown(),
                );
                if block.until_ms <= now_ms || self.blocks.get(&id) == Some(&block.until_ms) {
                    continue;
                }
                self.blocks.insert(id, block.until_ms);
                let news = self.view.observe(Observation::Block {
                    provider: key.provider.clone(),
                    key: key.key.clone(),
                    block,
                });
                // Nothing new to the view: it came from another instance.
                if news.is_some() {
                    self.pending.push_back(Event::Block {
                        from: self.settings.instance.clone(),
                        block: WireBlock {
                            provider: key.provider.clone(),
                            key: key.key.clone(),
                            until_ms: block.until_ms,
                            reason: block.reason.into(),
                        },
                    });
                }
            }
        }
        for circuit in &export.circuits {
            let known = self
                .circuits
                .insert(circuit.provider.clone(), circuit.generation);
            if known == Some(circuit.generation) {
                continue;
            }
            let Some(open_until_ms) = circuit.state else {
                continue;
            };
            // A circuit seen for the first time (at start, or after a
            // reconnect) is announced only if open: "closed" with a fresh
            // stamp would override another instance's newer open circuit.
            if known.is_none() && open_until_ms.is_none() {
                continue;
            }
            let stamp = wire::stamp(now_ms, self.instance());
            self.view.observe(Observation::Circuit {
                provider: circuit.provider.clone(),
                stamp,
                open_until_ms,
            });
            self.pending.push_back(Event::Circuit(WireCircuit {
                provider: circuit.provider.clone(),
                at_ms: now_ms,
                from: self.settings.instance.clone(),
                open_until_ms,
            }));
        }
        self.flush(conn).await
    }

    /// The periodic sync: publish changes and usage, read what others
    /// wrote, beat the heart, count peers.
    async fn sync(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        self.publish_changes(conn).await?;
        let now_ms = wall_ms();
        let export = self.state.export(Instant::now(), now_ms);
        let slot = now_ms / SLOT_MS;
        let keys = self.settings.keys.clone();
        let instance = self.settings.instance.clone();
        let mut writes = redis::pipe();
        let first_sync = !self.baseline_taken;
        for key in &export.keys {
            let own = self
                .usage
                .entry((key.provider.clone(), key.key.clone()))
                .or_default();
            if first_sync {
                // Usage from before this sync started is history, not news.
                own.published = key.charged;
                continue;
            }
            if own.published == key.charged {
                continue;
            }
            if own.slot != slot {
                own.slot = slot;
                own.cell.amounts = [0; 4];
            }
            for i in 0..4 {
                own.cell.amounts[i] = own.cell.amounts[i]
                    .saturating_add(key.charged[i].saturating_sub(own.published[i]));
            }
            own.cell.seq += 1;
            own.published = key.charged;
            let name = keys.usage(&key.provider, &key.key, slot);
            let value = WireUsage {
                seq: own.cell.seq,
                amounts: own.cell.amounts,
            };
            writes
                .hset(&name, &instance, wire::encode(&value))
                .ignore()
                .pexpire(&name, USAGE_TTL_MS as i64)
                .ignore();
        }
        self.baseline_taken = true;
        let horizon = now_ms
            .saturating_sub(3 * self.settings.interval.as_millis() as u64)
            .max(1);
        let horizon = horizon.min(now_ms.saturating_sub(3_000));
        writes
            .zadd(keys.peers(), &instance, now_ms)
            .ignore()
            .zrembyscore(keys.peers(), 0, horizon)
            .ignore()
            .pexpire(keys.peers(), LONG_TTL_MS as i64)
            .ignore();
        writes.query_async::<()>(conn).await?;

        // Reads: every value on its own, so one bad value spoils nothing else.
        let mut reads = redis::pipe();
        reads.ignore_errors();
        let oldest = slot.saturating_sub(SLOTS_READ - 1);
        for key in &export.keys {
            for s in oldest..=slot {
                reads.hgetall(keys.usage(&key.provider, &key.key, s));
            }
        }
        let usage: Vec<RedisResult<HashMap<String, String>>> = reads.query_async(conn).await?;
        let mut reads = redis::pipe();
        reads.ignore_errors();
        for key in &export.keys {
            for cooldown in [true, false] {
                reads.get(keys.block(&key.provider, &key.key, cooldown));
            }
        }
        for circuit in &export.circuits {
            reads.get(keys.circuit(&circuit.provider));
        }
        let values: Vec<RedisResult<Option<String>>> = reads.query_async(conn).await?;
        let switches: RedisResult<HashMap<String, String>> = redis::cmd("HGETALL")
            .arg(keys.switches())
            .query_async(conn)
            .await;
        let peers: u64 = redis::cmd("ZCARD")
            .arg(keys.peers())
            .query_async(conn)
            .await?;

        let mut usage = usage.into_iter();
        for key in &export.keys {
            for s in oldest..=slot {
                let Some(cells) = usage.next() else { break };
                let Ok(cells) = cells else {
                    self.status.decode_error();
                    continue;
                };
                for (from, value) in cells {
                    if from == instance {
                        continue;
                    }
                    let Some(cell) = wire::decode::<WireUsage>(&value) else {
                        self.garbage("usage");
                        continue;
                    };
                    self.learn(Observation::Usage {
                        provider: key.provider.clone(),
                        key: key.key.clone(),
                        instance: Arc::from(from.as_str()),
                        slot: s,
                        cell: cell.into(),
                    });
                }
            }
        }
        let mut values = values.into_iter();
        for _ in &export.keys {
            for _ in 0..2 {
                if let Some(block) = self.value::<WireBlock>(values.next(), "block") {
                    self.learn(Observation::Block {
                        provider: block.provider.clone(),
                        key: block.key.clone(),
                        block: block.block(),
                    });
                }
            }
        }
        for _ in &export.circuits {
            if let Some(circuit) = self.value::<WireCircuit>(values.next(), "circuit") {
                self.circuit(circuit);
            }
        }
        match switches {
            Ok(switches) => {
                for value in switches.values() {
                    match wire::decode::<WireSwitch>(value) {
                        Some(switch) => self.switch(switch),
                        None => self.garbage("switch"),
                    }
                }
            }
            Err(_) => self.garbage("switches"),
        }
        self.view.expire(now_ms, oldest);
        self.view
            .forget_pins_before(now_ms.saturating_sub(self.settings.affinity_ttl_ms));
        self.status.synced(wall_ms(), peers.saturating_sub(1));
        Ok(())
    }

    /// Loads the pins other instances made (a bounded SCAN), so a relay
    /// that starts or reconnects knows the fleet's conversations.
    async fn load_pins(&mut self, conn: &mut MultiplexedConnection) -> Result<(), Lost> {
        let mut names = Vec::new();
        {
            let mut iter: redis::AsyncIter<'_, String> =
                redis::AsyncCommands::scan_match(conn, self.settings.keys.affinity_pattern())
                    .await?;
            while let Some(name) = iter.next_item().await {
                let Ok(name) = name else { break };
                names.push(name);
                if names.len() >= PINS_LOADED {
                    break;
                }
            }
        }
        for chunk in names.chunks(500) {
            let mut reads = redis::pipe();
            reads.ignore_errors();
            for name in chunk {
                reads.get(name);
            }
            let values: Vec<RedisResult<Option<String>>> = reads.query_async(conn).await?;
            for value in values {
                if let Some(pin) = self.value::<WirePin>(Some(value), "affinity") {
                    self.pin(pin);
                }
            }
        }
        Ok(())
    }

    fn value<T: for<'a> serde::Deserialize<'a>>(
        &self,
        value: Option<RedisResult<Option<String>>>,
        what: &'static str,
    ) -> Option<T> {
        match value? {
            Ok(Some(text)) => {
                let decoded = wire::decode(&text);
                if decoded.is_none() {
                    self.garbage(what);
                }
                decoded
            }
            Ok(None) => None,
            Err(_) => {
                self.garbage(what);
                None
            }
        }
    }

    fn garbage(&self, what: &'static str) {
        self.status.decode_error();
        tracing::debug!(
            what,
            "skipped a value under the state prefix that cannot be read"
        );
    }

    /// A message from the channel.
    fn message(&mut self, payload: Option<&str>) {
        let Some(event) = payload.and_then(wire::decode::<Event>) else {
            self.garbage("event");
            return;
        };
        if event.from() == self.instance() {
            return;
        }
        match event {
            Event::Block { block, .. } => {
                self.learn(Observation::Block {
                    provider: block.provider.clone(),
                    key: block.key.clone(),
                    block: block.block(),
                });
            }
            Event::Circuit(circuit) => self.circuit(circuit),
            Event::Switch(switch) => self.switch(switch),
            Event::Affinity(pin) => self.pin(pin),
            Event::Signatures { provider, ids, .. } => {
                self.state.apply(
                    Remote::Signatures {
                        provider: Arc::from(provider.as_str()),
                        ids: wire::signature_ids(&ids),
                    },
                    Instant::now(),
                    wall_ms(),
                );
            }
        }
    }

    fn circuit(&mut self, circuit: WireCircuit) {
        if circuit.from == self.settings.instance {
            return;
        }
        let provider = circuit.provider.clone();
        if self.learn(Observation::Circuit {
            provider: circuit.provider,
            stamp: wire::stamp(circuit.at_ms, &circuit.from),
            open_until_ms: circuit.open_until_ms,
        }) {
            // The local breaker's change is this one: adopt its generation
            // so it is not announced back.
            let export = self.state.export(Instant::now(), wall_ms());
            if let Some(local) = export.circuits.iter().find(|c| c.provider == provider) {
                self.circuits.insert(provider, local.generation);
            }
        }
    }

    fn switch(&mut self, switch: WireSwitch) {
        if switch.from == self.settings.instance {
            return;
        }
        self.learn(Observation::Switch {
            provider: switch.provider,
            stamp: wire::stamp(switch.at_ms, &switch.from),
            disabled: switch.disabled,
        });
    }

    fn pin(&mut self, pin: WirePin) {
        if pin.from == self.settings.instance {
            return;
        }
        let target = pin.target();
        self.learn(Observation::Affinity {
            session: pin.session,
            stamp: wire::stamp(pin.at_ms, &pin.from),
            target,
        });
    }

    /// Merges an observation and applies what changed; whether anything did.
    fn learn(&mut self, observation: Observation) -> bool {
        let Some(remote) = self.view.observe(observation) else {
            return false;
        };
        if let Remote::Block {
            provider,
            key,
            block,
        } = &remote
        {
            let id = (provider.clone(), key.clone(), block.reason.is_cooldown());
            self.blocks.insert(id, block.until_ms);
        }
        self.state.apply(remote, Instant::now(), wall_ms());
        true
    }
}
