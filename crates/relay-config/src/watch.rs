//! Watching the configuration file, for hot reload.
//!
//! Editors seldom write a file in place: many write a temporary file and
//! rename it over the original, or first rename the original to a backup, so
//! the file's inode changes and a watch on the file itself would go stale
//! after the first save. [`ConfigWatcher`] therefore watches the file's
//! parent directory and keeps the events that name the file: created,
//! written, renamed to or from it, removed. (When the file is a symlink, as
//! a Kubernetes ConfigMap mounts it, the update renames a sibling directory,
//! so every event in the directory counts.)
//!
//! One save is a burst of events (create, modify, close; or rename), so they
//! are debounced: a notification goes out once the directory has been quiet
//! for the debounce period (or, for a file rewritten without pause, after
//! [`MAX_DELAY_FACTOR`] periods). At that point the file is read and compared
//! with what it held at the last notification: a save that changed nothing,
//! a `touch`, or the relay's own reads send nothing; a removed file sends
//! nothing either (the running configuration stays until the file is back).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How long the file must be left alone before a change is reported.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// A file written continuously is still reported after this many debounce
/// periods, so a chatty writer cannot postpone a reload forever.
pub const MAX_DELAY_FACTOR: u32 = 10;

/// Why the file cannot be watched.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch {}: the path does not name a file", .path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot resolve the config file path {}: {source}", .path.display())]
    Resolve { path: PathBuf, source: io::Error },
    #[error("cannot watch the directory {} of the config file: {source}", .dir.display())]
    Watch { dir: PathBuf, source: notify::Error },
    #[error("the config file watcher needs a Tokio runtime")]
    NoRuntime,
}

/// Reports changes of one configuration file; see the module docs.
///
/// Dropping it stops the watch.
#[derive(Debug)]
pub struct ConfigWatcher {
    path: PathBuf,
    debounce: Duration,
    changes: mpsc::Receiver<()>,
    task: JoinHandle<()>,
    _watcher: RecommendedWatcher,
}

impl ConfigWatcher {
    /// Watches `path` with [`DEFAULT_DEBOUNCE`]. Must be called inside a Tokio runtime.
    pub fn new(path: &Path) -> Result<Self, WatchError> {
        Self::with_debounce(path, DEFAULT_DEBOUNCE)
    }

    /// Watches `path`, reporting a change once it has been quiet for `debounce`.
    pub fn with_debounce(path: &Path, debounce: Duration) -> Result<Self, WatchError> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| WatchError::NoRuntime)?;
        let path = std::path::absolute(path).map_err(|source| WatchError::Resolve {
            path: path.to_path_buf(),
            source,
        })?;
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(WatchError::NotAFile { path });
        };
        let filter = EventFilter {
            name: name.to_os_string(),
            any_name: path.is_symlink(),
        };
        // Unbounded: the callback runs on notify's own thread and must not
        // block; a burst is a handful of tiny messages, drained at once.
        let (raw_tx, raw_rx) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<Event>| {
            let relevant = match &event {
                Ok(event) => filter.is_relevant(event),
                Err(error) => {
                    // An overflowed queue and the like: the file may have changed.
                    tracing::warn!(%error, "config file watcher error");
                    true
                }
            };
            if relevant {
                let _ = raw_tx.send(());
            }
        })
        .map_err(|source| WatchError::Watch {
            dir: dir.to_path_buf(),
            source,
        })?;
        watcher
            .watch(dir, RecursiveMode::NonRecursive)
            .map_err(|source| WatchError::Watch {
                dir: dir.to_path_buf(),
                source,
            })?;
        // Capacity 1: a pending notification already says "read the file
        // again", so further ones are merged into it.
        let (tx, changes) = mpsc::channel(1);
        let baseline = std::fs::read(&path).ok();
        let task = runtime.spawn(debounce_loop(raw_rx, tx, path.clone(), debounce, baseline));
        Ok(Self {
            path,
            debounce,
            changes,
            task,
            _watcher: watcher,
        })
    }

    /// Waits for the next change. `None` once the watch has stopped.
    pub async fn changed(&mut self) -> Option<()> {
        self.changes.recv().await
    }

    /// The watched file, as an absolute path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn debounce(&self) -> Duration {
        self.debounce
    }
}

impl Drop for ConfigWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Which directory events concern the file.
struct EventFilter {
    name: OsString,
    /// The file is a symlink: its target can change without an event naming it.
    any_name: bool,
}

impl EventFilter {
    fn is_relevant(&self, event: &Event) -> bool {
        let kind_matters = match event.kind {
            // Closing after a write ends an in-place save.
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            // Opens and reads, the relay's own included, change nothing.
            EventKind::Access(_) => false,
            _ => true,
        };
        kind_matters
            && (self.any_name
                || event.need_rescan()
                || event
                    .paths
                    .iter()
                    .any(|p| p.file_name() == Some(self.name.as_os_str())))
    }
}

/// Turns bursts of raw events into one notification per real change.
async fn debounce_loop(
    mut raw: mpsc::UnboundedReceiver<()>,
    out: mpsc::Sender<()>,
    path: PathBuf,
    debounce: Duration,
    mut last: Option<Vec<u8>>,
) {
    let longest = debounce.saturating_mul(MAX_DELAY_FACTOR);
    let mut removal_reported = false;
    while raw.recv().await.is_some() {
        let give_up = Instant::now() + longest;
        loop {
            let quiet = (Instant::now() + debounce).min(give_up);
            tokio::select! {
                event = raw.recv() => if event.is_none() { return },
                () = tokio::time::sleep_until(quiet) => break,
            }
        }
        match tokio::fs::read(&path).await {
            Ok(content) => {
                removal_reported = false;
                if last.as_ref() == Some(&content) {
                    tracing::debug!(config = %path.display(), "config file touched but unchanged");
                    continue;
                }
                last = Some(content);
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                if !removal_reported {
                    tracing::warn!(
                        config = %path.display(),
                        "config file removed; the running configuration stays until it is back"
                    );
                    removal_reported = true;
                }
                continue;
            }
            // Unreadable (permissions…): let the reload report why.
            Err(_) => {}
        }
        if let Err(mpsc::error::TrySendError::Closed(())) = out.try_send(()) {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    use super::*;

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |event, p| event.add_path(p.into()))
    }

    #[test]
    fn only_events_naming_the_file_count() {
        let filter = EventFilter {
            name: "config.yaml".into(),
            any_name: false,
        };
        let create = EventKind::Create(CreateKind::File);
        assert!(filter.is_relevant(&event(create, &["/etc/cc/config.yaml"])));
        assert!(!filter.is_relevant(&event(create, &["/etc/cc/other.yaml"])));
        // An editor's temporary file renamed over the config.
        let rename = EventKind::Modify(ModifyKind::Name(RenameMode::Both));
        assert!(filter.is_relevant(&event(
            rename,
            &["/etc/cc/.config.yaml.swp", "/etc/cc/config.yaml"]
        )));
        let rename_to = EventKind::Modify(ModifyKind::Name(RenameMode::To));
        assert!(filter.is_relevant(&event(rename_to, &["/etc/cc/config.yaml"])));
        let written = EventKind::Access(AccessKind::Close(AccessMode::Write));
        assert!(filter.is_relevant(&event(written, &["/etc/cc/config.yaml"])));
    }

    #[test]
    fn reads_do_not_count() {
        let filter = EventFilter {
            name: "config.yaml".into(),
            any_name: true,
        };
        for kind in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Read,
            AccessKind::Close(AccessMode::Read),
        ] {
            let read = event(EventKind::Access(kind), &["/etc/cc/config.yaml"]);
            assert!(!filter.is_relevant(&read), "{kind:?}");
        }
        let symlinked = event(EventKind::Create(CreateKind::Folder), &["/etc/cc/..data"]);
        assert!(filter.is_relevant(&symlinked));
    }
}
