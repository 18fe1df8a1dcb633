//! `RelayProcess` against small shell scripts standing in for `cc-relay`.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use relay_test_support::{RelayOptions, RelayProcess, Signal};
use tempfile::TempDir;

const WAIT: Duration = Duration::from_secs(10);

/// Writes an executable `/bin/sh` script and returns its path.
fn script(dir: &TempDir, body: &str) -> std::io::Result<PathBuf> {
    let path = dir.path().join("fake-relay");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n"))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

const WELL_BEHAVED: &str = r#"
trap 'echo "got TERM" >&2; exit 3' TERM
trap 'echo "got HUP" >&2' HUP
echo "args: $*" >&2
echo "home: $HOME" >&2
echo "xdg: $XDG_CONFIG_HOME" >&2
echo "config-env: ${CC_RELAY_CONFIG:-unset}" >&2
echo "extra: $EXTRA"
echo "cc-relay listening on http://127.0.0.1:4321"
while true; do sleep 0.05; done
"#;

#[tokio::test]
async fn starts_captures_output_and_stops_on_signal() {
    let dir = TempDir::new().unwrap();
    let relay = RelayProcess::start(RelayOptions {
        binary: script(&dir, WELL_BEHAVED).unwrap(),
        config_yaml: Some("listen: 127.0.0.1:0\n".to_owned()),
        args: vec!["--log-format".to_owned(), "json".to_owned()],
        env: vec![("EXTRA".to_owned(), "value".to_owned())],
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(relay.url(), "http://127.0.0.1:4321");
    assert_eq!(relay.addr().port(), 4321);
    let config = relay.config_path().unwrap().to_owned();
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "listen: 127.0.0.1:0\n"
    );

    relay.wait_for_log("config-env:", WAIT).await.unwrap();
    let logs = relay.logs();
    let expected_args = format!(
        "args: serve --config {} --listen 127.0.0.1:0 --log-format json",
        config.display()
    );
    assert!(logs.contains(&expected_args), "{logs:#?}");
    assert!(logs.contains(&"extra: value".to_owned()), "{logs:#?}");
    assert!(logs.contains(&"config-env: unset".to_owned()), "{logs:#?}");
    let home = logs.iter().find_map(|l| l.strip_prefix("home: ")).unwrap();
    assert!(home.contains("cc-relay-test-"), "{home}");
    let xdg = logs.iter().find_map(|l| l.strip_prefix("xdg: ")).unwrap();
    assert!(xdg.starts_with(home), "{xdg}");

    relay.rewrite_config("listen: 127.0.0.1:1\n").unwrap();
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "listen: 127.0.0.1:1\n"
    );

    relay.signal(Signal::Hup).unwrap();
    relay.wait_for_log("got HUP", WAIT).await.unwrap();
    relay.signal(Signal::Term).unwrap();
    let status = relay.wait_exit(WAIT).await.unwrap();
    assert_eq!(status.code(), Some(3));
    assert!(relay.logs().contains(&"got TERM".to_owned()));
    // Waiting again returns the same status; the output is closed.
    assert_eq!(relay.wait_exit(WAIT).await.unwrap().code(), Some(3));
    let err = relay.wait_for_log("never printed", WAIT).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
}

#[tokio::test]
async fn explicit_listen_and_home_are_respected() {
    let dir = TempDir::new().unwrap();
    let relay = RelayProcess::start(RelayOptions {
        binary: script(&dir, WELL_BEHAVED).unwrap(),
        args: vec!["--listen".to_owned(), "127.0.0.1:0".to_owned()],
        env: vec![("HOME".to_owned(), "/tmp/given-home".to_owned())],
        ..Default::default()
    })
    .await
    .unwrap();
    relay.wait_for_log("config-env:", WAIT).await.unwrap();
    let logs = relay.logs();
    assert!(
        logs.contains(&"args: serve --listen 127.0.0.1:0".to_owned()),
        "{logs:#?}"
    );
    assert!(
        logs.contains(&"home: /tmp/given-home".to_owned()),
        "{logs:#?}"
    );
    assert!(relay.config_path().is_none());
    assert!(relay.rewrite_config("x").is_err());
    let status = relay.kill().await.unwrap();
    assert!(!status.success());
}

#[tokio::test]
async fn early_exit_reports_the_output() {
    let dir = TempDir::new().unwrap();
    let err = RelayProcess::start(RelayOptions {
        binary: script(&dir, "echo 'bad config: nope' >&2\nexit 2").unwrap(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("exited"), "{message}");
    assert!(message.contains("bad config: nope"), "{message}");
}

#[tokio::test]
async fn silence_times_out_with_the_output() {
    let dir = TempDir::new().unwrap();
    let err = RelayProcess::start(RelayOptions {
        binary: script(&dir, "echo starting >&2\nexec sleep 30").unwrap(),
        startup_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    assert!(err.to_string().contains("starting"), "{err}");
}

#[tokio::test]
async fn listening_line_on_stderr_does_not_count() {
    let dir = TempDir::new().unwrap();
    let err = RelayProcess::start(RelayOptions {
        binary: script(
            &dir,
            "echo 'cc-relay listening on http://127.0.0.1:1' >&2\nexit 0",
        )
        .unwrap(),
        ..Default::default()
    })
    .await
    .unwrap_err();
    assert!(err.to_string().contains("exited"), "{err}");
}
