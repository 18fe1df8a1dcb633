//! Which of the watched directory's events concern the configuration file.
//!
//! This runs on notify's thread for every event in the directory, the log
//! file's writes included when it lives there, so it drops another file's
//! writes without allocating or making a system call. Only what it keeps
//! wakes the debounce task.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{Event, EventKind};

/// How many symlinks are followed from the configuration file, as the kernel
/// allows (`MAXSYMLINKS`).
const MAX_HOPS: usize = 40;

/// Decides which directory events concern the file.
pub(super) struct EventFilter {
    /// The file's name in the watched directory.
    name: OsString,
    /// Set when the file is a symlink.
    link: Option<LinkChain>,
}

/// What an event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// Opened or read, by the relay or anyone: nothing changed.
    None,
    /// A file's bytes or attributes: concerns only that file.
    Content,
    /// The directory's entries (created, removed, renamed), or unknown.
    Entries,
}

fn change(kind: &EventKind) -> Change {
    match kind {
        // Closing after a write ends an in-place save.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Change::Content,
        // Opens and reads, the relay's own included, change nothing.
        EventKind::Access(_) => Change::None,
        EventKind::Modify(ModifyKind::Name(_)) => Change::Entries,
        EventKind::Modify(_) => Change::Content,
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => {
            Change::Entries
        }
    }
}

impl EventFilter {
    /// The filter for the file at `path` (absolute), watched through its
    /// parent directory `dir`.
    pub(super) fn new(path: &Path, dir: &Path, name: &OsStr) -> Self {
        let link = path.is_symlink().then(|| LinkChain::new(path, dir));
        Self {
            name: name.to_os_string(),
            link,
        }
    }

    pub(super) fn is_relevant(&mut self, event: &Event) -> bool {
        let change = change(&event.kind);
        if change == Change::None {
            return false;
        }
        let names = |names: &[OsString]| {
            event.paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| n == self.name || names.iter().any(|m| m == n))
            })
        };
        match &mut self.link {
            None => event.need_rescan() || names(&[]),
            // A symlink's target changes when any link on the way to it is
            // replaced (a ConfigMap update renames a new `..data` into
            // place), without an event naming the file: every change of the
            // directory's entries counts. A content change counts when it
            // names the file or a file the link leads to in this directory
            // (`config.yaml -> real.yaml` edited in place), not otherwise:
            // a log file's writes must not wake the reload.
            Some(link) => {
                // kqueue reports a rename in the directory as a write to it.
                let entries = change == Change::Entries
                    || event.need_rescan()
                    || event.paths.contains(&link.dir);
                if entries {
                    link.refresh();
                    true
                } else {
                    names(&link.names)
                }
            }
        }
    }
}

/// The files in the watched directory that a symlinked config resolves through.
struct LinkChain {
    path: PathBuf,
    dir: PathBuf,
    /// `dir` with every symlink resolved, to recognise a target that names
    /// the directory another way (`../cc/real.yaml`).
    canonical_dir: Option<PathBuf>,
    /// Names in `dir` that the links lead to, in order: in-place writes to
    /// them change the config. A file reached through a subdirectory
    /// (`..data/config.yaml`) adds nothing: writes there are not watched, and
    /// replacing the `..data` link changes the directory's entries.
    names: Vec<OsString>,
}

impl LinkChain {
    fn new(path: &Path, dir: &Path) -> Self {
        let mut chain = Self {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
            canonical_dir: std::fs::canonicalize(dir).ok(),
            names: Vec::new(),
        };
        chain.refresh();
        chain
    }

    /// Follows the links again: the directory's entries changed, so one of
    /// them may point elsewhere now.
    fn refresh(&mut self) {
        self.names.clear();
        let mut current = self.path.clone();
        for _ in 0..MAX_HOPS {
            let Ok(target) = std::fs::read_link(&current) else {
                break;
            };
            // A relative target is relative to the link's directory; `join`
            // keeps an absolute one as it is.
            let next = match current.parent() {
                Some(parent) => parent.join(target),
                None => target,
            };
            if let (Some(parent), Some(name)) = (next.parent(), next.file_name())
                && self.in_dir(parent)
                && !self.names.iter().any(|n| n == name)
            {
                self.names.push(name.to_os_string());
            }
            current = next;
        }
    }

    fn in_dir(&self, parent: &Path) -> bool {
        parent == self.dir
            || self
                .canonical_dir
                .as_deref()
                .is_some_and(|dir| std::fs::canonicalize(parent).is_ok_and(|p| p == dir))
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, MetadataKind, RenameMode};

    use super::*;

    fn event(kind: EventKind, paths: &[&str]) -> Event {
        paths
            .iter()
            .fold(Event::new(kind), |event, p| event.add_path(p.into()))
    }

    fn plain(name: &str) -> EventFilter {
        EventFilter {
            name: name.into(),
            link: None,
        }
    }

    const DATA: EventKind = EventKind::Modify(ModifyKind::Data(DataChange::Any));
    const WRITTEN: EventKind = EventKind::Access(AccessKind::Close(AccessMode::Write));

    #[test]
    fn only_events_naming_the_file_count() {
        let mut filter = plain("config.yaml");
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
        assert!(filter.is_relevant(&event(WRITTEN, &["/etc/cc/config.yaml"])));
        assert!(filter.is_relevant(&event(DATA, &["/etc/cc/config.yaml"])));
        // A log file next to the config.
        assert!(!filter.is_relevant(&event(DATA, &["/etc/cc/relay.log"])));
        assert!(!filter.is_relevant(&event(WRITTEN, &["/etc/cc/relay.log"])));
        // A lost event (the queue overflowed) may have been the file's.
        let overflow = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(filter.is_relevant(&overflow));
    }

    #[test]
    fn reads_do_not_count() {
        let mut filter = plain("config.yaml");
        for kind in [
            AccessKind::Open(AccessMode::Any),
            AccessKind::Read,
            AccessKind::Close(AccessMode::Read),
        ] {
            let read = event(EventKind::Access(kind), &["/etc/cc/config.yaml"]);
            assert!(!filter.is_relevant(&read), "{kind:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_counts_entries_and_its_targets_content() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("v1")).unwrap();
        std::fs::write(root.join("v1").join("config.yaml"), "providers: []\n").unwrap();
        std::os::unix::fs::symlink("v1", root.join("..data")).unwrap();
        std::fs::write(root.join("real.yaml"), "providers: []\n").unwrap();
        // config.yaml -> ./real.yaml -> (absolute) ..data/config.yaml
        std::os::unix::fs::symlink("./real.yaml", root.join("config.yaml")).unwrap();
        let path = root.join("config.yaml");
        let mut filter = EventFilter::new(&path, root, OsStr::new("config.yaml"));
        let at = |name: &str| root.join(name).to_string_lossy().into_owned();

        assert!(filter.is_relevant(&event(DATA, &[&at("real.yaml")])));
        assert!(filter.is_relevant(&event(WRITTEN, &[&at("real.yaml")])));
        let attrib = EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any));
        assert!(filter.is_relevant(&event(attrib, &[&at("real.yaml")])));
        assert!(!filter.is_relevant(&event(DATA, &[&at("relay.log")])));
        assert!(!filter.is_relevant(&event(WRITTEN, &[&at("relay.log")])));
        let open = EventKind::Access(AccessKind::Open(AccessMode::Any));
        assert!(!filter.is_relevant(&event(open, &[&at("real.yaml")])));
        // Any entry of the directory may be a link on the way.
        let created = EventKind::Create(CreateKind::Folder);
        assert!(filter.is_relevant(&event(created, &[&at("..2024_01_01")])));
        let directory = root.to_string_lossy().into_owned();
        assert!(filter.is_relevant(&event(DATA, &[&directory])));

        // real.yaml is replaced by a link into ..data: the chain is followed
        // again once the directory's entries change.
        std::fs::remove_file(root.join("real.yaml")).unwrap();
        std::os::unix::fs::symlink(root.join("..data/config.yaml"), root.join("real.yaml"))
            .unwrap();
        let removed = EventKind::Remove(notify::event::RemoveKind::File);
        assert!(filter.is_relevant(&event(removed, &[&at("real.yaml")])));
        assert_eq!(filter.link.as_ref().unwrap().names, ["real.yaml"]);
        // A target named through `..` is still seen in the directory.
        let base = root.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::remove_file(root.join("config.yaml")).unwrap();
        std::os::unix::fs::symlink(format!("../{base}/real.yaml"), root.join("config.yaml"))
            .unwrap();
        assert!(filter.is_relevant(&event(created, &[&at("config.yaml")])));
        assert!(filter.is_relevant(&event(DATA, &[&at("real.yaml")])));
        assert!(!filter.is_relevant(&event(DATA, &[&at("relay.log")])));
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_loop_ends() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::os::unix::fs::symlink("b.yaml", root.join("config.yaml")).unwrap();
        std::os::unix::fs::symlink("config.yaml", root.join("b.yaml")).unwrap();
        let filter = EventFilter::new(&root.join("config.yaml"), root, OsStr::new("config.yaml"));
        let mut names = filter.link.unwrap().names;
        names.sort();
        assert_eq!(names, ["b.yaml", "config.yaml"]);
    }
}
