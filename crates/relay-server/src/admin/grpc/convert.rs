//! The contract's types (`relay-admin-api`) in their protobuf form. One
//! function per message, field for field: a field added to either side
//! without the other is a compile error here (exhaustive struct literals).

use relay_admin_api as api;
use relay_admin_api::grpc as pb;

pub fn stats(s: api::Stats) -> pb::Stats {
    pb::Stats {
        version: s.version,
        uptime_secs: s.uptime_secs,
        config_generation: s.config_generation,
        strategy: s.strategy,
        read_only: s.read_only.unwrap_or(true),
        in_flight: s.in_flight,
        requests_total: s.requests_total,
        errors_total: s.errors_total,
        requests_per_sec: s.requests_per_sec,
        latency_samples: s.latency_samples.unwrap_or(0),
        latency_ms: Some(percentiles(s.latency_ms)),
        ttfb_ms: Some(percentiles(s.ttfb_ms)),
        overhead_ms: Some(percentiles(s.overhead_ms)),
        tokens: Some(pb::Tokens {
            input: s.tokens.input,
            output: s.tokens.output,
            cache_read: s.tokens.cache_read,
            cache_creation: s.tokens.cache_creation,
        }),
        affinity_entries: s.affinity_entries,
        providers: s.providers.into_iter().map(provider).collect(),
    }
}

fn percentiles(p: api::Percentiles) -> pb::Percentiles {
    pb::Percentiles {
        p50: p.p50,
        p90: p.p90,
        p99: p.p99,
    }
}

fn provider(p: api::ProviderStats) -> pb::ProviderStats {
    let circuit = match p.circuit {
        api::Circuit::Closed => pb::Circuit::Closed,
        api::Circuit::Open => pb::Circuit::Open,
        api::Circuit::HalfOpen => pb::Circuit::HalfOpen,
        api::Circuit::Unknown => pb::Circuit::Unspecified,
    };
    pb::ProviderStats {
        name: p.name,
        r#type: p.kind,
        enabled: p.enabled,
        disabled_by_operator: p.disabled_by_operator,
        active: p.active,
        circuit: circuit.into(),
        circuit_open_until_secs: p.circuit_open_until_secs,
        in_flight: p.in_flight,
        latency_ms: p.latency_ms,
        request_latency_ms: Some(percentiles(p.request_latency_ms)),
        request_ttfb_ms: Some(percentiles(p.request_ttfb_ms)),
        requests: p.requests,
        errors: p.errors,
        keys: p.keys.into_iter().map(key).collect(),
    }
}

fn key(k: api::KeyStats) -> pb::KeyStats {
    pb::KeyStats {
        id: k.id,
        in_flight: k.in_flight,
        headroom: k.headroom,
        requests: Some(limit(k.requests)),
        input_tokens: Some(limit(k.input_tokens)),
        output_tokens: Some(limit(k.output_tokens)),
        tokens: Some(limit(k.tokens)),
        cooling_down_for_secs: k.cooling_down_for_secs,
        disabled_for_secs: k.disabled_for_secs,
        disabled_reason: k.disabled_reason,
        used: Some(pb::KeyUsage {
            requests: k.used.requests,
            input_tokens: k.used.input_tokens,
            output_tokens: k.used.output_tokens,
            cache_read_tokens: k.used.cache_read_tokens,
        }),
    }
}

fn limit(l: api::Limit) -> pb::Limit {
    pb::Limit {
        limit: l.limit,
        remaining: l.remaining,
        resets_in_secs: l.resets_in_secs,
        configured: l.configured,
        learned: l.learned,
    }
}

pub fn event(e: &api::RequestEvent) -> pb::RequestEvent {
    pb::RequestEvent {
        id: e.id.clone(),
        time: e
            .time
            .as_str()
            .map_or_else(|| e.time.to_string(), str::to_owned),
        method: e.method.clone(),
        path: e.path.clone(),
        provider: e.provider.clone().unwrap_or_default(),
        key_id: e.key_id.clone(),
        model: e.model.clone().unwrap_or_default(),
        status: u32::from(e.status),
        stream: e.stream,
        latency_ms: e.latency_ms.unwrap_or_default(),
        ttfb_ms: e.ttfb_ms.unwrap_or_default(),
        ttft_ms: e.ttft_ms,
        overhead_ms: e.overhead_ms.unwrap_or_default(),
        input_tokens: e.input_tokens.unwrap_or_default(),
        output_tokens: e.output_tokens.unwrap_or_default(),
        cache_read_tokens: e.cache_read_tokens.unwrap_or_default(),
        cache_creation_tokens: e.cache_creation_tokens.unwrap_or_default(),
        failovers: e.failovers.clone(),
        outcome: e.outcome.clone().unwrap_or_default(),
        attempts: e.attempts.unwrap_or_default(),
        relay_error: e.relay_error.clone(),
    }
}

pub fn switch(s: api::ProviderSwitch) -> pb::ProviderSwitch {
    pb::ProviderSwitch {
        provider: s.provider,
        disabled_by_operator: s.disabled_by_operator,
        changed: s.changed,
    }
}

pub fn reload(r: api::ReloadResult) -> pb::ReloadResult {
    pb::ReloadResult {
        generation: r.generation,
        providers: r.providers,
        added: r.added,
        removed: r.removed,
        restart_required: r.restart_required,
    }
}

pub fn config(c: api::ConfigView) -> pb::ConfigView {
    pb::ConfigView {
        generation: c.generation,
        path: c.path,
        effective: c.effective,
        last_reload: c.last_reload.map(|l| pb::LastReload {
            time: l.time,
            trigger: l.trigger,
            ok: l.ok,
            generation: l.generation,
            problems: l.problems,
        }),
    }
}
