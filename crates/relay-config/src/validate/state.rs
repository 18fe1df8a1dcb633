//! `state:` checks.

use crate::schema::{RedisEndpoint, StateBackend, StateConfig};

use super::Problems;

/// The shortest sync interval: below it the relay would spend more on
/// syncing than on relaying.
const MIN_SYNC_INTERVAL_MS: u64 = 50;
/// Past this, shared limits lag too far behind to hold.
const MAX_SYNC_INTERVAL_MS: u64 = 60_000;

pub(super) fn state(state: &StateConfig, out: &mut Problems) {
    let url = state.redis_url.as_ref().filter(|url| !url.is_empty());
    match (state.backend, url) {
        (StateBackend::Redis, None) => out.add(
            "state.redis_url",
            "is required with backend: redis, e.g. redis://127.0.0.1:6379/0",
        ),
        (_, Some(url)) => {
            if let Err(why) = RedisEndpoint::parse(url.expose()) {
                out.add("state.redis_url", why);
            }
        }
        (StateBackend::Memory, None) => {}
    }
    let prefix = &state.key_prefix;
    if prefix.is_empty()
        || prefix.len() > 64
        || prefix.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        out.add(
            "state.key_prefix",
            "must be 1 to 64 characters without spaces, e.g. cc-relay",
        );
    }
    if !(MIN_SYNC_INTERVAL_MS..=MAX_SYNC_INTERVAL_MS).contains(&state.sync_interval_ms) {
        out.add(
            "state.sync_interval_ms",
            format!(
                "must be from {MIN_SYNC_INTERVAL_MS} to {MAX_SYNC_INTERVAL_MS}; the default is 1000"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::load::{Format, load_str};

    fn load(yaml: &str) -> Result<crate::Config, String> {
        let env = |name: &str| (name == "REDIS_PASSWORD").then(|| "hunter2-secret".to_owned());
        load_str(yaml, Format::Yaml, &env).map_err(|e| e.to_string())
    }

    const PROVIDER: &str = "providers:\n  - name: a\n    type: anthropic\n    enabled: true\n    keys: [{key: sk-1}]\n";

    #[test]
    fn redis_with_a_password_from_the_environment_loads() {
        let config = load(&format!(
            "{PROVIDER}state:\n  backend: redis\n  redis_url: redis://:${{REDIS_PASSWORD}}@127.0.0.1:6390/1\n  sync_interval_ms: 200\n"
        ))
        .unwrap();
        let url = config.state.redis_url.unwrap();
        assert_eq!(url.expose(), "redis://:hunter2-secret@127.0.0.1:6390/1");
        assert!(!format!("{url:?} {url}").contains("hunter2"));
        assert_eq!(config.state.key_prefix, "cc-relay");
    }

    #[test]
    fn every_state_problem_is_reported_with_its_path_and_no_password() {
        let err = load(&format!(
            "{PROVIDER}state:\n  backend: redis\n  redis_url: redis://:${{REDIS_PASSWORD}}@host:99999\n  key_prefix: ''\n  sync_interval_ms: 5\n"
        ))
        .unwrap_err();
        for path in [
            "state.redis_url",
            "state.key_prefix",
            "state.sync_interval_ms",
        ] {
            assert!(err.contains(path), "{path} missing from: {err}");
        }
        assert!(!err.contains("hunter2"), "{err}");
        let err = load(&format!("{PROVIDER}state:\n  backend: redis\n")).unwrap_err();
        assert!(err.contains("state.redis_url: is required"), "{err}");
    }

    #[test]
    fn memory_is_the_default() {
        let config = load(PROVIDER).unwrap();
        assert_eq!(config.state.backend, crate::StateBackend::Memory);
        assert_eq!(config.state.sync_interval_ms, 1_000);
    }
}
