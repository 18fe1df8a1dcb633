//! The Go cc-relay's configuration files (`shared/go-compat/` beside the
//! repository): their paths and the environment their `env.sh` sets.
//!
//! The corpus is not in the repository (it is another project's text). It
//! is found through `CC_RELAY_GO_CORPUS`, else in a `shared/go-compat`
//! directory beside any ancestor of the workspace. Missing, the tests that
//! use it fail with where to put it: they never pass without it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The corpus directory, or a message saying how to provide it.
pub fn dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CC_RELAY_GO_CORPUS") {
        return Ok(PathBuf::from(dir));
    }
    let start = Path::new(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|a| a.join("shared").join("go-compat"))
        .find(|candidate| candidate.join("env.sh").is_file())
        .ok_or_else(|| {
            format!(
                "the Go cc-relay config corpus was not found: put it in shared/go-compat/ beside the \
                 repository (an ancestor of {}), or set CC_RELAY_GO_CORPUS to its directory",
                start.display()
            )
        })
}

/// Every `*.yaml`, `*.yml` and `*.toml` file of the corpus, sorted.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "toml")
            )
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The variables `env.sh` exports (`export A=1 B=2` lines, unquoted values).
pub fn env(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let path = dir.join("env.sh");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let Some(assignments) = line.trim().strip_prefix("export ") else {
            continue;
        };
        for assignment in assignments.split_whitespace() {
            if let Some((name, value)) = assignment.split_once('=') {
                vars.insert(name.to_owned(), value.trim_matches(['"', '\'']).to_owned());
            }
        }
    }
    Ok(vars)
}
