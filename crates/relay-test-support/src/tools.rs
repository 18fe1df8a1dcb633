//! The programs and servers the tests run for real, found the same way in
//! every test: the Python virtualenv `scripts/test` makes, and Debian
//! packages. A missing one fails the test with the command that installs it;
//! it never turns into a silent pass.

use std::path::{Path, PathBuf};

/// The workspace root (this crate lives at `crates/relay-test-support`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter that has the test requirements
/// (`scripts/test-requirements.txt`): `CC_RELAY_TEST_PYTHON` when set (as
/// `scripts/test` sets it), else the virtualenv a previous `scripts/test`
/// made under the target directory.
///
/// # Panics
/// When neither exists, naming the command that makes it.
pub fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("CC_RELAY_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let venv = target.join("test-env/venv/bin/python");
    assert!(
        venv.exists(),
        "no Python test environment: run `scripts/test` once (it makes {} with the packages of \
         scripts/test-requirements.txt), or set CC_RELAY_TEST_PYTHON to a Python that has them",
        venv.display()
    );
    venv
}

/// The Claude Code version `scripts/test` installs (pinned, so a release
/// that changes its wire behaviour cannot fail the suite overnight).
pub const CLAUDE_CODE_VERSION: &str = "2.1.332";

/// The Claude Code CLI (`claude`) that `scripts/test` installs from npm
/// into the target directory's `test-env/claude-code`; `CC_RELAY_TEST_CLAUDE`
/// overrides it.
///
/// # Panics
/// When it is not there, naming the command that installs it.
pub fn claude_code() -> PathBuf {
    if let Some(path) = std::env::var_os("CC_RELAY_TEST_CLAUDE") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let dir = target.join("test-env/claude-code");
    let claude = dir.join("node_modules/.bin/claude");
    assert!(
        is_executable(&claude),
        "Claude Code is not installed: run `scripts/test` once, or `npm install --prefix {} \
         @anthropic-ai/claude-code@{CLAUDE_CODE_VERSION}` (npm comes with `apt-get install -y npm`)",
        dir.display()
    );
    claude
}

/// The path of `program` on `PATH` (or `program` itself when it is a path
/// to an executable file).
///
/// # Panics
/// When it is not there, naming the Debian package to install (`scripts/test`
/// installs every package the suite needs).
#[allow(
    clippy::panic,
    reason = "a test helper: failing the test with the install command is its job"
)]
pub fn require_program(program: &str, debian_package: &str) -> PathBuf {
    find_program(program).unwrap_or_else(|| {
        panic!(
            "`{program}` is not installed: run `scripts/test` (it installs the test \
             dependencies), or `apt-get install -y {debian_package}`"
        )
    })
}

/// The path of `program` on `PATH`, if it is there.
pub fn find_program(program: &str) -> Option<PathBuf> {
    let direct = Path::new(program);
    if direct.components().count() > 1 {
        return is_executable(direct).then(|| direct.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_program_on_path_and_not_a_missing_one() {
        assert!(find_program("sh").is_some());
        assert!(find_program("no-such-program-cc-relay").is_none());
        assert!(find_program("/bin/sh").is_some());
    }

    #[test]
    #[should_panic(expected = "apt-get install -y no-such-package")]
    fn a_missing_program_fails_with_its_install_command() {
        require_program("no-such-program-cc-relay", "no-such-package");
    }
}
