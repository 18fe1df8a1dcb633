//! A log file written next to the configuration must not wake the reload:
//! the debounce task counts the events that reach it and its reads of the
//! file. File-system events arrive in real time, so, as in `tests/watch.rs`,
//! the waits are short, real and bounded.

use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::Ordering;

use tokio::time::timeout;

use super::*;

const DEBOUNCE: Duration = Duration::from_millis(150);
/// Generous: a loaded machine may deliver events late.
const ARRIVES_WITHIN: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for: several debounce periods.
const QUIET_FOR: Duration = Duration::from_millis(600);

fn events(watcher: &ConfigWatcher) -> u64 {
    watcher.activity.events.load(Ordering::Relaxed)
}

fn reads(watcher: &ConfigWatcher) -> u64 {
    watcher.activity.reads.load(Ordering::Relaxed)
}

/// Creates `relay.log` in `dir`, as the relay does before it watches the
/// config. (With a symlinked config, creating a file in the directory does
/// count: any new entry might be a link on the way to the config.)
fn create_log(dir: &Path) {
    std::fs::write(dir.join("relay.log"), "").unwrap();
}

/// Appends to `relay.log` in `dir` the way the relay's logger does: one
/// open file, a line and a flush per request.
async fn log_requests(dir: &Path) {
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.join("relay.log"))
        .unwrap();
    for n in 0..100 {
        writeln!(log, "request {n} served").unwrap();
        log.flush().unwrap();
        if n % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // Truncated by hand, and its metadata changed: still another file.
    log.set_len(0).unwrap();
    log.set_modified(std::time::SystemTime::now()).unwrap();
}

/// Logs, checks nothing reached the debounce task, then saves the config
/// (with `save`) and checks that it is read and reported exactly once: the
/// counters do count.
async fn assert_logging_is_ignored(watcher: &mut ConfigWatcher, dir: &Path, save: impl FnOnce()) {
    log_requests(dir).await;
    let got = timeout(QUIET_FOR, watcher.changed()).await;
    assert!(got.is_err(), "notified of a log file's writes");
    assert_eq!(
        events(watcher),
        0,
        "the log file's events woke the debounce task"
    );
    assert_eq!(
        reads(watcher),
        0,
        "the config was read for the log file's writes"
    );

    save();
    timeout(ARRIVES_WITHIN, watcher.changed())
        .await
        .expect("a change notification")
        .expect("the watcher is running");
    assert!(events(watcher) > 0);
    assert_eq!(reads(watcher), 1);
}

#[tokio::test]
async fn a_log_file_next_to_the_config_does_not_wake_the_reload() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "providers: []\n").unwrap();
    create_log(dir.path());
    let mut watcher = ConfigWatcher::with_debounce(&path, DEBOUNCE).unwrap();
    assert_logging_is_ignored(&mut watcher, dir.path(), || {
        std::fs::write(&path, "providers: [ { name: a, enabled: true } ]\n").unwrap();
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_log_file_next_to_a_symlinked_config_does_not_wake_the_reload() {
    // A ConfigMap layout: config.yaml -> ..data/config.yaml, ..data -> v1.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (version, text) in [
        ("v1", "providers: []\n"),
        ("v2", "providers: [ { name: b, enabled: true } ]\n"),
    ] {
        std::fs::create_dir(root.join(version)).unwrap();
        std::fs::write(root.join(version).join("config.yaml"), text).unwrap();
    }
    std::os::unix::fs::symlink("v1", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/config.yaml", root.join("config.yaml")).unwrap();
    create_log(root);
    let mut watcher = ConfigWatcher::with_debounce(&root.join("config.yaml"), DEBOUNCE).unwrap();
    assert_logging_is_ignored(&mut watcher, root, || {
        std::os::unix::fs::symlink("v2", root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    })
    .await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_config_linked_to_a_sibling_sees_the_siblings_writes_not_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("real.yaml"), "providers: []\n").unwrap();
    std::os::unix::fs::symlink("real.yaml", root.join("config.yaml")).unwrap();
    create_log(root);
    let mut watcher = ConfigWatcher::with_debounce(&root.join("config.yaml"), DEBOUNCE).unwrap();
    assert_logging_is_ignored(&mut watcher, root, || {
        std::fs::write(
            root.join("real.yaml"),
            "providers: [ { name: c, enabled: true } ]\n",
        )
        .unwrap();
    })
    .await;
}
