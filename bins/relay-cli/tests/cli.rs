//! The `cc-relay` subcommands other than `serve`, run as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use relay_test_support::{MockUpstream, RelayOptions, RelayProcess, unused_local_addr};

/// Runs `cc-relay args…` with HOME set to `home` and no inherited config.
fn cc_relay(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cc-relay"))
        .args(args)
        .env("HOME", home)
        .env_remove("CC_RELAY_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .current_dir(home)
        .output()
        .expect("cc-relay runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn version_and_completions() {
    let home = tempfile::tempdir().unwrap();
    let version = cc_relay(home.path(), &["version"]);
    assert!(version.status.success());
    assert_eq!(
        stdout(&version).trim(),
        format!("cc-relay {}", env!("CARGO_PKG_VERSION"))
    );

    for shell in ["bash", "zsh", "fish"] {
        let completions = cc_relay(home.path(), &["completions", shell]);
        assert!(
            completions.status.success(),
            "{shell}: {}",
            stderr(&completions)
        );
        assert!(
            stdout(&completions).contains("serve"),
            "{shell} completions mention the subcommands"
        );
    }
}

#[test]
fn config_init_writes_a_private_valid_starter_and_refuses_to_overwrite() {
    let home = tempfile::tempdir().unwrap();
    let init = cc_relay(home.path(), &["config", "init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let path = home.path().join(".config/cc-relay/config.yaml");
    assert!(path.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    let again = cc_relay(home.path(), &["config", "init"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    std::fs::write(&path, "edited").unwrap();
    let forced = cc_relay(home.path(), &["config", "init", "--force"]);
    assert!(forced.status.success());
    assert_ne!(std::fs::read_to_string(&path).unwrap(), "edited");

    let validate = cc_relay(home.path(), &["config", "validate"]);
    assert!(
        validate.status.success(),
        "the starter file validates: {}",
        stderr(&validate)
    );
    assert!(stdout(&validate).contains("is valid"));

    let custom = home.path().join("elsewhere/relay.yaml");
    let init = cc_relay(
        home.path(),
        &["config", "init", "-o", custom.to_str().unwrap()],
    );
    assert!(init.status.success());
    assert!(custom.is_file());
}

#[test]
fn config_validate_reports_every_problem_with_its_path() {
    let home = tempfile::tempdir().unwrap();
    let path = home.path().join("bad.yaml");
    std::fs::write(
        &path,
        "server:\n  listne: \"127.0.0.1:1\"\nrouting:\n  strategy: fastest\nproviders:\n  - name: a\n    enabled: true\n    type: anthropic\n    kyes: []\n",
    )
    .unwrap();
    let validate = cc_relay(
        home.path(),
        &["config", "validate", "--config", path.to_str().unwrap()],
    );
    assert!(!validate.status.success());
    let message = stderr(&validate);
    assert!(message.contains("server.listne"), "{message}");
    assert!(message.contains("providers[0].kyes"), "{message}");
    assert!(message.contains("did you mean"), "{message}");
    assert!(message.contains("routing.strategy"), "{message}");

    let missing_env = home.path().join("env.yaml");
    std::fs::write(
        &missing_env,
        // Unset in a client credential: an error (elsewhere "" and a warning).
        "server:\n  auth: { api_key: \"${CC_RELAY_TEST_UNSET_VAR}\" }\nproviders:\n  - name: a\n    enabled: true\n",
    )
    .unwrap();
    let validate = cc_relay(
        home.path(),
        &[
            "config",
            "validate",
            "--config",
            missing_env.to_str().unwrap(),
        ],
    );
    assert!(!validate.status.success());
    assert!(
        stderr(&validate).contains("CC_RELAY_TEST_UNSET_VAR"),
        "{}",
        stderr(&validate)
    );
}

#[test]
fn config_cc_init_and_remove_keep_every_other_setting() {
    let home = tempfile::tempdir().unwrap();
    let settings = home.path().join(".claude/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    let original = r#"{
  "theme": "dark",
  "env": {
    "OTHER": "1"
  },
  "permissions": {
    "allow": ["Bash(ls:*)"]
  }
}
"#;
    std::fs::write(&settings, original).unwrap();

    let init = cc_relay(
        home.path(),
        &[
            "config",
            "cc",
            "init",
            "--proxy-url",
            "http://127.0.0.1:9999",
        ],
    );
    assert!(init.status.success(), "{}", stderr(&init));
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    assert_eq!(
        written["env"]["ANTHROPIC_BASE_URL"],
        "http://127.0.0.1:9999"
    );
    assert_eq!(written["env"]["OTHER"], "1");
    assert_eq!(written["theme"], "dark");
    assert_eq!(written["permissions"]["allow"][0], "Bash(ls:*)");
    let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["theme", "env", "permissions"], "key order is kept");

    let remove = cc_relay(home.path(), &["config", "cc", "remove"]);
    assert!(remove.status.success());
    let restored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&settings).unwrap()).unwrap();
    let original: serde_json::Value = serde_json::from_str(original).unwrap();
    assert_eq!(restored, original);

    // A fresh home: the file is created, then removing leaves no empty `env` behind.
    let fresh = tempfile::tempdir().unwrap();
    assert!(
        cc_relay(fresh.path(), &["config", "cc", "init"])
            .status
            .success()
    );
    let path = fresh.path().join(".claude/settings.json");
    let created: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        created,
        serde_json::json!({"env": {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8787"}})
    );
    assert!(
        cc_relay(fresh.path(), &["config", "cc", "remove"])
            .status
            .success()
    );
    let emptied: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(emptied, serde_json::json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_reports_up_and_down() {
    let (relay, _mock) = relay_and_mock().await;
    let home = tempfile::tempdir().unwrap();
    let up = cc_relay(home.path(), &["status", "--url", &relay.url()]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(stdout(&up).contains("running"));

    let dead = unused_local_addr().unwrap();
    let down = cc_relay(home.path(), &["status", "--url", &format!("http://{dead}")]);
    assert!(!down.status.success());
    assert!(stderr(&down).contains("not reachable"), "{}", stderr(&down));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_config_file_serve_is_a_transparent_anthropic_relay() {
    let relay = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: None,
        ..RelayOptions::default()
    })
    .await
    .unwrap();
    relay
        .wait_for_log("transparent", std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let providers = list_providers(&relay).await;
    assert_eq!(providers["data"][0]["name"], "anthropic");
    assert_eq!(
        providers["data"][0]["base_url"],
        "https://api.anthropic.com"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cc_relay_config_env_var_selects_the_file() {
    let mock = MockUpstream::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("from-env.yaml");
    std::fs::write(&path, one_provider(&mock.url())).unwrap();
    let relay = RelayProcess::start(RelayOptions {
        binary: env!("CARGO_BIN_EXE_cc-relay").into(),
        config_yaml: None,
        env: vec![("CC_RELAY_CONFIG".into(), path.to_str().unwrap().into())],
        ..RelayOptions::default()
    })
    .await
    .unwrap();
    let providers = list_providers(&relay).await;
    assert_eq!(
        providers["data"][0]["name"], "primary",
        "the file named by $CC_RELAY_CONFIG was used"
    );
}
