//! `Reloader` against real files: prepare then swap, invalid files rejected
//! with every problem and nothing swapped, restart-only settings reported,
//! command-line overrides kept, concurrent reloads serialised.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use relay_config::{Config, ConfigError, load_file};
use relay_server::{AppState, ReloadError, ReloadTrigger, Reloader, RestartRequired};

const SECRET: &str = "sk-reload-test-secret-0001";

/// A config file in a directory of its own, removed at the end.
struct TempConfig {
    dir: PathBuf,
    path: PathBuf,
}

impl TempConfig {
    fn new(test: &str, text: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("relay-reload-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.yaml");
        std::fs::write(&path, text).unwrap();
        Self { dir, path }
    }

    fn write(&self, text: &str) {
        std::fs::write(&self.path, text).unwrap();
    }
}

impl Drop for TempConfig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn providers(names: &[&str]) -> String {
    let mut text = String::from("providers:\n");
    for name in names {
        text.push_str(&format!(
            "  - name: {name}\n    enabled: true\n    base_url: http://127.0.0.1:9\n    keys: [ {{ key: {SECRET} }} ]\n"
        ));
    }
    text
}

fn start(path: &Path, overrides: Option<fn(&mut Config)>) -> (Arc<AppState>, Reloader) {
    let loaded = load_file(path).unwrap();
    let mut config = loaded.clone();
    if let Some(overrides) = overrides {
        overrides(&mut config);
    }
    let state = Arc::new(AppState::new(config).unwrap());
    let mut reloader = Reloader::new(Arc::clone(&state), path, loaded);
    if let Some(overrides) = overrides {
        reloader = reloader.with_overrides(overrides);
    }
    (state, reloader)
}

fn names(state: &AppState) -> Vec<String> {
    let snapshot = state.snapshot();
    let providers = snapshot.config.providers.iter();
    providers
        .filter(|p| p.enabled)
        .map(|p| p.name.clone())
        .collect()
}

#[tokio::test]
async fn a_valid_file_is_prepared_and_swapped_in() {
    let file = TempConfig::new("valid", &providers(&["a"]));
    let (state, reloader) = start(&file.path, None);
    let applied = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&applied);
    let reloader = reloader.on_applied(move |c| seen.lock().unwrap().push(c.providers.len()));
    assert_eq!(reloader.generation(), 1);
    let old = state.snapshot();

    file.write(&(providers(&["b", "a"]) + "routing: { strategy: round_robin }\n"));
    let report = reloader.reload_on(ReloadTrigger::FileChange).await.unwrap();
    assert_eq!(report.generation, 2);
    assert_eq!(reloader.generation(), 2);
    assert_eq!(report.trigger, ReloadTrigger::FileChange);
    assert_eq!(report.providers_before, ["a"]);
    assert_eq!(report.providers_after, ["b", "a"]);
    assert_eq!(report.added(), ["b"]);
    assert!(report.removed().is_empty());
    assert!(report.restart_required.is_empty());
    assert_eq!(names(&state), ["b", "a"]);
    assert_eq!(*applied.lock().unwrap(), [2]);
    // A request that started before keeps its snapshot.
    assert_eq!(old.config.providers.len(), 1);
}

#[tokio::test]
async fn an_invalid_file_changes_nothing_and_lists_every_problem() {
    let file = TempConfig::new("invalid", &providers(&["a"]));
    let (state, reloader) = start(&file.path, None);
    file.write(&format!(
        "routing: {{ strategy: fastest }}\nproviders:\n  - name: ''\n    keys: [ {{ key: {SECRET}, rpm_limit: lots }} ]\n"
    ));
    let err = reloader.reload().await.unwrap_err();
    let ReloadError::Config(ConfigError::Invalid { problems, .. }) = &err else {
        panic!("expected an invalid-config error, got {err:?}");
    };
    assert!(problems.len() >= 2, "{err}");
    let text = err.to_string();
    assert!(text.contains("routing.strategy"), "{text}");
    assert!(text.contains("rpm_limit"), "{text}");
    assert!(!text.contains(SECRET), "{text}");
    assert!(!format!("{err:?}").contains(SECRET));
    assert_eq!(reloader.generation(), 1);
    assert_eq!(names(&state), ["a"]);

    file.write("providers: [");
    let err = reloader.reload().await.unwrap_err();
    assert!(
        matches!(err, ReloadError::Config(ConfigError::Parse { .. })),
        "{err}"
    );
    std::fs::remove_file(&file.path).unwrap();
    let err = reloader.reload().await.unwrap_err();
    assert!(
        matches!(err, ReloadError::Config(ConfigError::Read { .. })),
        "{err}"
    );

    // A good file afterwards is taken as usual.
    file.write(&providers(&["c"]));
    assert_eq!(reloader.reload().await.unwrap().generation, 2);
    assert_eq!(names(&state), ["c"]);
}

#[tokio::test]
async fn restart_only_settings_are_reported_and_the_rest_applied() {
    let file = TempConfig::new("restart", &providers(&["a"]));
    let (state, reloader) = start(&file.path, None);
    file.write(
        &(providers(&["b"]) + "server: { listen: '127.0.0.1:9999', enable_http2: false }\n"),
    );
    let report = reloader.reload().await.unwrap();
    assert_eq!(
        report.restart_required,
        [
            RestartRequired {
                setting: "server.listen",
                running: "127.0.0.1:8787".into(),
                configured: "127.0.0.1:9999".into(),
            },
            RestartRequired {
                setting: "server.enable_http2",
                running: "true".into(),
                configured: "false".into(),
            },
        ]
    );
    assert_eq!(names(&state), ["b"]);
    // Still pending at the next reload: only a restart clears it.
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.restart_required.len(), 2);
}

#[tokio::test]
async fn overrides_apply_to_every_load() {
    let file = TempConfig::new("overrides", &providers(&["a"]));
    let overrides: fn(&mut Config) = |c| c.server.listen = "127.0.0.1:0".into();
    let (state, reloader) = start(&file.path, Some(overrides));
    let reloader = reloader.restart_only("server.timeout_ms", |c| c.server.timeout_ms.to_string());
    file.write(&(providers(&["a"]) + "server: { listen: '127.0.0.1:9999', timeout_ms: 7 }\n"));
    let report = reloader.reload().await.unwrap();
    assert_eq!(report.config.server.listen, "127.0.0.1:0");
    assert_eq!(state.snapshot().config.server.listen, "127.0.0.1:0");
    let settings: Vec<_> = report.restart_required.iter().map(|r| r.setting).collect();
    assert_eq!(settings, ["server.timeout_ms"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reloads_take_turns() {
    let file = TempConfig::new("concurrent", &providers(&["a"]));
    let (_state, reloader) = start(&file.path, None);
    let reloader = Arc::new(reloader);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let reloader = Arc::clone(&reloader);
            tokio::spawn(async move { reloader.reload_on(ReloadTrigger::Signal).await })
        })
        .collect();
    let mut generations = Vec::new();
    for task in tasks {
        generations.push(task.await.unwrap().unwrap().generation);
    }
    generations.sort_unstable();
    assert_eq!(generations, [2, 3, 4, 5]);
    assert_eq!(reloader.generation(), 5);
}
