//! Watching the configuration file, for hot reload.
//!
//! Editors seldom write a file in place: many write a temporary file and
//! rename it over the original, or first rename the original to a backup, so
//! the file's inode changes and a watch on the file itself would go stale
//! after the first save. [`ConfigWatcher`] therefore watches the file's
//! parent directory and keeps the events that name the file: created,
//! written, renamed to or from it, removed. (When the file is a symlink, as
//! a Kubernetes ConfigMap mounts it, the update renames a sibling directory,
//! so every change of the directory's entries counts, and so do writes to a
//! file the link leads to in the directory; see `filter`.)
//!
//! The kernel still reports every other file's writes in the directory to
//! notify's thread: notify 8 registers a fixed inotify mask (modify, open,
//! close, attrib, ...) and offers no way to narrow it (notify 9, a release
//! candidate so far, adds `Config::with_event_kinds`). A log file written
//! there costs up to one wake-up of that thread per write; the filter drops
//! the event at once, allocating nothing and leaving the debounce task
//! asleep, but notify has already read and built it. The docs therefore
//! advise keeping `logging.output` out of the directory.
//!
//! One save is a burst of events (create, modify, close; or rename), so they
//! are debounced: a notification goes out once the directory has been quiet
//! for the debounce period (or, for a file rewritten without pause, after
//! [`MAX_DELAY_FACTOR`] periods). At that point the file is read and compared
//! with what it held at the last notification: a save that changed nothing,
//! a `touch`, or the relay's own reads send nothing; a removed file sends
//! nothing either (the running configuration stays until the file is back).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use self::filter::EventFilter;

mod filter;

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
    #[cfg(test)]
    activity: Arc<Activity>,
}

/// What the debounce task did, for the tests: events that woke it and reads
/// of the file.
#[derive(Debug, Default)]
struct Activity {
    events: AtomicU64,
    reads: AtomicU64,
}

impl Activity {
    fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
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
        let mut filter = EventFilter::new(&path, dir, name);
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
        let activity = Arc::new(Activity::default());
        let task = runtime.spawn(debounce_loop(
            raw_rx,
            tx,
            path.clone(),
            debounce,
            baseline,
            Arc::clone(&activity),
        ));
        Ok(Self {
            path,
            debounce,
            changes,
            task,
            _watcher: watcher,
            #[cfg(test)]
            activity,
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

/// Turns bursts of raw events into one notification per real change.
async fn debounce_loop(
    mut raw: mpsc::UnboundedReceiver<()>,
    out: mpsc::Sender<()>,
    path: PathBuf,
    debounce: Duration,
    mut last: Option<Vec<u8>>,
    activity: Arc<Activity>,
) {
    let longest = debounce.saturating_mul(MAX_DELAY_FACTOR);
    let mut removal_reported = false;
    while raw.recv().await.is_some() {
        Activity::count(&activity.events);
        let give_up = Instant::now() + longest;
        loop {
            let quiet = (Instant::now() + debounce).min(give_up);
            tokio::select! {
                event = raw.recv() => match event {
                    Some(()) => Activity::count(&activity.events),
                    None => return,
                },
                () = tokio::time::sleep_until(quiet) => break,
            }
        }
        Activity::count(&activity.reads);
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
mod tests;
