//! `ConfigWatcher` against real files in a temporary directory: every way an
//! editor or a deploy tool saves a file gives one notification, and nothing
//! else gives any. File-system events arrive in real time, so these tests
//! use short real waits, each bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use relay_config::{ConfigWatcher, WatchError};
use tempfile::TempDir;
use tokio::time::{Instant, timeout};

const DEBOUNCE: Duration = Duration::from_millis(150);
/// Generous: a loaded machine may deliver events late.
const ARRIVES_WITHIN: Duration = Duration::from_secs(5);
/// How long "nothing happens" is watched for.
const QUIET_FOR: Duration = Duration::from_millis(600);

fn setup(debounce: Duration) -> (TempDir, PathBuf, ConfigWatcher) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, "providers: []\n").unwrap();
    let watcher = ConfigWatcher::with_debounce(&path, debounce).unwrap();
    (dir, path, watcher)
}

async fn notified(watcher: &mut ConfigWatcher) {
    timeout(ARRIVES_WITHIN, watcher.changed())
        .await
        .expect("a change notification")
        .expect("the watcher is running");
}

async fn assert_quiet(watcher: &mut ConfigWatcher, what: &str) {
    let got = timeout(QUIET_FOR, watcher.changed()).await;
    assert!(got.is_err(), "unexpected notification after {what}");
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn a_write_in_place_is_reported_once() {
    let (_dir, path, mut watcher) = setup(DEBOUNCE);
    assert!(watcher.path().is_absolute());
    write(&path, "providers: [ { name: a, enabled: true } ]\n");
    notified(&mut watcher).await;
    assert_quiet(&mut watcher, "one write").await;
}

#[tokio::test]
async fn a_temporary_file_renamed_over_the_config_is_reported() {
    let (dir, path, mut watcher) = setup(DEBOUNCE);
    let temp = dir.path().join(".config.yaml.tmp-1234");
    write(&temp, "providers: [ { name: renamed, enabled: true } ]\n");
    std::fs::rename(&temp, &path).unwrap();
    notified(&mut watcher).await;
    assert_quiet(&mut watcher, "an atomic replace").await;
    // The watch survives the inode change: the next save is seen too.
    let temp = dir.path().join(".config.yaml.tmp-5678");
    write(&temp, "providers: [ { name: again, enabled: true } ]\n");
    std::fs::rename(&temp, &path).unwrap();
    notified(&mut watcher).await;
}

#[tokio::test]
async fn an_editors_backup_dance_is_one_change() {
    let (dir, path, mut watcher) = setup(DEBOUNCE);
    // Rename the original to a backup, write a new file, drop the backup.
    let backup = dir.path().join("config.yaml~");
    std::fs::rename(&path, &backup).unwrap();
    write(&path, "providers: [ { name: edited, enabled: true } ]\n");
    std::fs::remove_file(&backup).unwrap();
    notified(&mut watcher).await;
    assert_quiet(&mut watcher, "a backup-and-write save").await;
}

#[tokio::test]
async fn a_removed_file_is_reported_only_once_it_is_back() {
    let (_dir, path, mut watcher) = setup(DEBOUNCE);
    std::fs::remove_file(&path).unwrap();
    assert_quiet(&mut watcher, "a removal").await;
    write(&path, "providers: [ { name: recreated, enabled: true } ]\n");
    notified(&mut watcher).await;
}

#[tokio::test]
async fn quick_writes_are_one_notification_after_the_debounce() {
    let debounce = Duration::from_millis(300);
    let (_dir, path, mut watcher) = setup(debounce);
    for n in 0..5 {
        write(
            &path,
            &format!("providers: [ {{ name: p, enabled: true{n} }} ]\n"),
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last_write = Instant::now();
    notified(&mut watcher).await;
    assert!(
        last_write.elapsed() >= debounce - Duration::from_millis(20),
        "reported {:?} after the last write, before the debounce ended",
        last_write.elapsed()
    );
    assert_quiet(&mut watcher, "a burst of writes").await;
}

#[tokio::test]
async fn other_files_reads_and_unchanged_saves_are_ignored() {
    let (dir, path, mut watcher) = setup(DEBOUNCE);
    write(&dir.path().join("other.yaml"), "x: 1\n");
    let _ = std::fs::read(&path).unwrap();
    write(&path, "providers: []\n");
    assert_quiet(&mut watcher, "no real change").await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_symlinked_config_is_reported_when_its_target_changes() {
    // A Kubernetes ConfigMap: config.yaml -> ..data/config.yaml, updated by
    // renaming a new `..data` link into place.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (version, text) in [
        ("v1", "providers: []\n"),
        ("v2", "providers: [ { name: b, enabled: true } ]\n"),
    ] {
        std::fs::create_dir(root.join(version)).unwrap();
        write(&root.join(version).join("config.yaml"), text);
    }
    std::os::unix::fs::symlink("v1", root.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/config.yaml", root.join("config.yaml")).unwrap();
    let mut watcher = ConfigWatcher::with_debounce(&root.join("config.yaml"), DEBOUNCE).unwrap();
    std::os::unix::fs::symlink("v2", root.join("..data_tmp")).unwrap();
    std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
    notified(&mut watcher).await;
}

#[test]
fn watching_needs_a_runtime_and_a_directory() {
    let err = ConfigWatcher::new(Path::new("config.yaml")).unwrap_err();
    assert!(matches!(err, WatchError::NoRuntime), "{err}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let err = ConfigWatcher::new(Path::new("/nonexistent-dir/config.yaml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent-dir"), "{err}");
}
