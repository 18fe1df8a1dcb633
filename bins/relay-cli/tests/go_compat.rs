//! The Go cc-relay's corpus through the real binary: every file passes
//! `cc-relay config validate` and `cc-relay serve` starts with it (on a
//! free port: the files' fixed addresses are overridden from the command
//! line, never edited). Plus the Go CLI's habits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use relay_test_support::go_corpus;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const START_TIMEOUT: Duration = Duration::from_secs(30);

struct Corpus {
    files: Vec<PathBuf>,
    env: BTreeMap<String, String>,
    home: tempfile::TempDir,
}

fn corpus() -> Corpus {
    let dir = go_corpus::dir().unwrap_or_else(|why| panic!("{why}"));
    Corpus {
        files: go_corpus::files(&dir).unwrap_or_else(|why| panic!("{why}")),
        env: go_corpus::env(&dir).unwrap_or_else(|why| panic!("{why}")),
        home: tempfile::tempdir().unwrap(),
    }
}

/// `cc-relay` with only env.sh's variables (passed explicitly), a throw-away
/// HOME and no inherited configuration.
fn cc_relay(corpus: &Corpus, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cc-relay"));
    command
        .args(args)
        .env_clear()
        .envs(&corpus.env)
        .env("HOME", corpus.home.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(corpus.home.path())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

async fn validate(corpus: &Corpus, file: &Path) -> Result<String, String> {
    let output = cc_relay(
        corpus,
        &["--config", &file.to_string_lossy(), "config", "validate"],
    )
    .output()
    .await
    .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(text)
    }
}

/// Starts `serve` on free ports, waits for its listening line, stops it.
async fn serve(corpus: &Corpus, file: &Path, log_format: &str) -> Result<(), String> {
    let mut child = cc_relay(
        corpus,
        &[
            "serve",
            "--config",
            &file.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
            "--no-watch",
            "--log-format",
            log_format,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let mut lines = BufReader::new(stdout).lines();
    let started = tokio::time::timeout(START_TIMEOUT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("cc-relay listening on http://127.0.0.1:") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    let _ = child.start_kill();
    let _ = tokio::time::timeout(START_TIMEOUT, child.wait()).await;
    if started {
        return Ok(());
    }
    let mut errors = String::new();
    let mut err_lines = BufReader::new(stderr).lines();
    while let Ok(Ok(Some(line))) =
        tokio::time::timeout(Duration::from_secs(2), err_lines.next_line()).await
    {
        errors.push_str(&line);
        errors.push('\n');
    }
    Err(format!("serve did not start:\n{errors}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_corpus_file_validates_and_serves() {
    let corpus = corpus();
    assert!(corpus.files.len() >= 83, "{} files", corpus.files.len());
    let mut failures = Vec::new();
    // The Go names of the console format, alternately.
    for (i, file) in corpus.files.iter().enumerate() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        if let Err(why) = validate(&corpus, file).await {
            failures.push(format!("{name}: config validate failed:\n{why}"));
            continue;
        }
        let format = if i % 2 == 0 { "text" } else { "console" };
        if let Err(why) = serve(&corpus, file, format).await {
            failures.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files fail:\n{}",
        failures.len(),
        corpus.files.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn validate_prints_each_warning_with_its_key() {
    let corpus = corpus();
    let file = corpus
        .files
        .iter()
        .find(|f| f.ends_with("config_init_template.yaml"))
        .unwrap();
    let out = validate(&corpus, file).await.unwrap();
    for key in [
        "warning: grpc.listen: the gRPC management service is not served yet",
        "warning: health.check_interval_seconds: read as health.health_check.interval_ms: 30000",
        "warning: metrics.prometheus_listen: read as server.metrics_listen",
        "warning: health.circuit_breaker.triggers:",
    ] {
        assert!(out.contains(key), "{key} missing from:\n{out}");
    }
    assert!(out.contains("is valid"), "{out}");
}

#[tokio::test]
async fn go_cli_habits() {
    let corpus = corpus();
    let version = cc_relay(&corpus, &["-v"]).output().await.unwrap();
    assert!(version.status.success());
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");

    let completion = cc_relay(&corpus, &["completion", "bash"])
        .output()
        .await
        .unwrap();
    assert!(completion.status.success());
    assert!(String::from_utf8_lossy(&completion.stdout).contains("cc-relay"));

    // A command's own --config wins over the root one.
    let good = corpus
        .files
        .iter()
        .find(|f| f.ends_with("example.yaml"))
        .unwrap();
    let missing = corpus.home.path().join("missing.yaml");
    let output = cc_relay(
        &corpus,
        &[
            "--config",
            &missing.to_string_lossy(),
            "config",
            "validate",
            "--config",
            &good.to_string_lossy(),
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let output = cc_relay(
        &corpus,
        &["--config", &missing.to_string_lossy(), "config", "validate"],
    )
    .output()
    .await
    .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("missing.yaml"));
}

#[tokio::test]
async fn cc_init_sets_the_relays_credential_and_cc_remove_undoes_go_too() {
    let corpus = corpus();
    let home = corpus.home.path();
    let config = home.join("relay.yaml");
    std::fs::write(
        &config,
        "server:\n  listen: \":8787\"\n  auth:\n    api_key: relay-client-key-0001\nproviders:\n  - name: a\n    enabled: true\n    keys: [{ key: k }]\n",
    )
    .unwrap();
    let settings = home.join("settings.json");
    std::fs::write(&settings, r#"{"model":"opus","env":{"OTHER":"x"}}"#).unwrap();
    let (config_arg, settings_arg) = (config.to_string_lossy(), settings.to_string_lossy());
    let init = cc_relay(
        &corpus,
        &[
            "--config",
            &config_arg,
            "config",
            "cc",
            "init",
            "--settings",
            &settings_arg,
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(init.status.success(), "{init:?}");
    assert!(!String::from_utf8_lossy(&init.stdout).contains("relay-client-key-0001"));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(
        written["env"]["ANTHROPIC_BASE_URL"],
        "http://127.0.0.1:8787"
    );
    assert_eq!(written["env"]["ANTHROPIC_API_KEY"], "relay-client-key-0001");
    assert_eq!(written["env"]["OTHER"], "x");

    let remove = cc_relay(
        &corpus,
        &[
            "--config",
            &config_arg,
            "config",
            "cc",
            "remove",
            "--settings",
            &settings_arg,
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(remove.status.success(), "{remove:?}");
    let left: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(
        left,
        serde_json::json!({"model": "opus", "env": {"OTHER": "x"}})
    );

    // What the Go relay's `cc init` wrote goes too; the rest stays.
    std::fs::write(
        &settings,
        r#"{"env":{"ANTHROPIC_BASE_URL":"http://localhost:8787","ANTHROPIC_AUTH_TOKEN":"managed-by-cc-relay"},"theme":"dark"}"#,
    )
    .unwrap();
    let remove = cc_relay(
        &corpus,
        &["config", "cc", "remove", "--settings", &settings_arg],
    )
    .output()
    .await
    .unwrap();
    assert!(remove.status.success(), "{remove:?}");
    let left: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(left, serde_json::json!({"theme": "dark"}));

    // A relay that checks nothing and holds every key: the Go placeholder.
    std::fs::write(
        &config,
        "providers:\n  - name: a\n    enabled: true\n    keys: [{ key: k }]\n",
    )
    .unwrap();
    std::fs::write(&settings, "{}").unwrap();
    let init = cc_relay(
        &corpus,
        &[
            "config",
            "cc",
            "init",
            "--config",
            &config_arg,
            "--settings",
            &settings_arg,
        ],
    )
    .output()
    .await
    .unwrap();
    assert!(init.status.success(), "{init:?}");
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(
        written["env"]["ANTHROPIC_AUTH_TOKEN"],
        "managed-by-cc-relay"
    );
}
