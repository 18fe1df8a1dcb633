//! `cc-relay tui`: runs the `cc-relay-tui` next to it with the arguments
//! given, filling in the relay URL and admin token from the configuration.
//! A stand-in script plays the dashboard and prints what it received.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "admin-token-for-tui-0005";

/// A copy of `cc-relay` in `dir` (a hard link when possible), so the
/// directory it looks in for `cc-relay-tui` is one the test controls.
fn stage_cc_relay(dir: &Path) -> PathBuf {
    let staged = dir.join("cc-relay");
    let original = Path::new(env!("CARGO_BIN_EXE_cc-relay"));
    if std::fs::hard_link(original, &staged).is_err() {
        std::fs::copy(original, &staged).unwrap();
    }
    staged
}

fn run(binary: &Path, home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary)
        .arg("tui")
        .args(args)
        .env("HOME", home)
        .env_remove("CC_RELAY_CONFIG")
        .env_remove("CC_RELAY_ADMIN_TOKEN")
        .env_remove("XDG_CONFIG_HOME")
        .envs(env.iter().copied())
        .current_dir(home)
        .output()
        .unwrap()
}

fn lines(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

// One test, so no other test of this binary forks while the stand-in
// script is open for writing (which would make running it fail with ETXTBSY).
#[test]
fn tui_runs_the_dashboard_beside_it_with_arguments_and_configuration() {
    // Under the target directory, so hard-linking the binary works.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let bin_dir = dir.path().join("bin");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&bin_dir).unwrap();
    std::fs::create_dir_all(home.join(".config/cc-relay")).unwrap();
    let cc_relay = stage_cc_relay(&bin_dir);

    // Without the dashboard: a clear error, whatever PATH holds.
    let empty_path = dir.path().join("empty");
    std::fs::create_dir_all(&empty_path).unwrap();
    let missing = run(
        &cc_relay,
        &home,
        &[],
        &[("PATH", empty_path.to_str().unwrap())],
    );
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("cc-relay-tui was not found"), "{stderr}");

    let script = bin_dir.join("cc-relay-tui");
    std::fs::write(
        &script,
        "#!/bin/sh\nfor a in \"$@\"; do echo \"$a\"; done\necho \"token=$CC_RELAY_ADMIN_TOKEN\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();

    // No configuration: the arguments exactly, nothing added.
    assert_eq!(
        lines(&run(&cc_relay, &home, &["--interval", "2s"], &[])),
        ["--interval", "2s", "token="]
    );

    // With one: its listen address and admin token fill in; --help passes through.
    std::fs::write(
        home.join(".config/cc-relay/config.yaml"),
        format!(
            "server:\n  listen: \"127.0.0.1:9999\"\n  admin:\n    token: \"{TOKEN}\"\nproviders:\n  - {{ name: a, enabled: true, type: anthropic }}\n"
        ),
    )
    .unwrap();
    assert_eq!(
        lines(&run(&cc_relay, &home, &["--help"], &[])),
        [
            "--help".to_owned(),
            "--url=http://127.0.0.1:9999".to_owned(),
            format!("token={TOKEN}"),
        ]
    );

    // What the user gives wins.
    assert_eq!(
        lines(&run(
            &cc_relay,
            &home,
            &["--url", "http://10.0.0.1:1"],
            &[("CC_RELAY_ADMIN_TOKEN", "from-env")]
        )),
        ["--url", "http://10.0.0.1:1", "token=from-env"]
    );
    assert_eq!(
        lines(&run(
            &cc_relay,
            &home,
            &["--url=http://h:1", "--admin-token", "t"],
            &[]
        )),
        ["--url=http://h:1", "--admin-token", "t", "token="]
    );

    // `tui --config F` (and the root `--config F tui`): that file gives the
    // URL (an every-interface address is reached on loopback) and the token;
    // the flag itself is cc-relay's, not passed on.
    let other = dir.path().join("other.yaml");
    std::fs::write(
        &other,
        "server:\n  listen: \":7777\"\n  admin:\n    token: \"other-admin-token-0006\"\nproviders:\n  - { name: a, enabled: true }\n",
    )
    .unwrap();
    let expected = [
        "--url=http://127.0.0.1:7777".to_owned(),
        "token=other-admin-token-0006".to_owned(),
    ];
    assert_eq!(
        lines(&run(
            &cc_relay,
            &home,
            &["--config", other.to_str().unwrap()],
            &[]
        )),
        expected
    );
    let root = Command::new(&cc_relay)
        .args(["--config", other.to_str().unwrap(), "tui"])
        .env("HOME", &home)
        .env_remove("CC_RELAY_CONFIG")
        .env_remove("CC_RELAY_ADMIN_TOKEN")
        .current_dir(&home)
        .output()
        .unwrap();
    assert_eq!(lines(&root), expected);
}
