//! The workspace's dependency rules (docs/architecture.md, each `lib.rs`),
//! checked against the resolved graph of normal dependencies that
//! `cargo metadata --locked` reports: a rule broken anywhere, directly or
//! through another crate, fails the suite with the rule's name.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// One rule: `krate` must not reach any of `forbidden` through normal
/// dependencies; `own` lists the only `relay-*` crates it may use.
struct Rule {
    krate: &'static str,
    why: &'static str,
    own: &'static [&'static str],
    forbidden: &'static [&'static str],
}

const ASYNC_RUNTIMES: &[&str] = &["tokio", "async-std", "smol", "async-executor"];
const HTTP_STACKS: &[&str] = &[
    "hyper",
    "hyper-util",
    "h2",
    "reqwest",
    "axum",
    "hyper-rustls",
];

const RULES: &[Rule] = &[
    Rule {
        krate: "relay-core",
        why: "relay-core sits at the bottom: no other relay crate, no async runtime, no hyper",
        own: &[],
        forbidden: &[
            "tokio",
            "async-std",
            "smol",
            "async-executor",
            "hyper",
            "hyper-util",
            "h2",
        ],
    },
    Rule {
        krate: "relay-config",
        why: "relay-config describes, it does not serve: relay-core only, no HTTP stack",
        own: &["relay-core"],
        forbidden: HTTP_STACKS,
    },
    Rule {
        krate: "relay-auth",
        why: "relay-auth knows nothing of servers or providers: relay-core and relay-config only",
        own: &["relay-core", "relay-config"],
        forbidden: HTTP_STACKS,
    },
    Rule {
        krate: "relay-providers",
        why: "relay-providers must not depend on the router or the server",
        own: &["relay-core", "relay-config"],
        forbidden: &[],
    },
    Rule {
        krate: "relay-router",
        why: "relay-router has no HTTP client or server (only `http` types in its API)",
        own: &["relay-core", "relay-config"],
        forbidden: HTTP_STACKS,
    },
    Rule {
        krate: "relay-test-support",
        why: "nothing depends on relay-server (test support included: the server's tests use it)",
        own: &["relay-core", "relay-config"],
        forbidden: &[],
    },
];

/// Crates that may depend on relay-server: the binaries and the bench.
const SERVER_USERS: &[&str] = &["relay-cli", "relay-tui", "relay-bench", "examples"];

/// Package name → the names of its normal (not dev, not build) dependencies.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn workspace_graph() -> (Graph, BTreeSet<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--locked",
            "--manifest-path",
        ])
        .arg(&root)
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let names: BTreeMap<&str, &str> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["id"].as_str().unwrap(), p["name"].as_str().unwrap()))
        .collect();
    let members: BTreeSet<String> = metadata["workspace_members"]
        .as_array()
        .expect("workspace_members")
        .iter()
        .map(|id| names[id.as_str().unwrap()].to_owned())
        .collect();
    let mut graph = Graph::new();
    for node in metadata["resolve"]["nodes"].as_array().expect("resolve") {
        let name = names[node["id"].as_str().unwrap()].to_owned();
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|dep| {
                dep["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|kind| kind["kind"].is_null())
            })
            .map(|dep| names[dep["pkg"].as_str().unwrap()].to_owned())
            .collect();
        graph
            .entry(name)
            .or_default()
            .extend::<BTreeSet<String>>(deps);
    }
    (graph, members)
}

/// Every crate `krate` reaches, with the path to it (for the message).
fn reachable(graph: &Graph, krate: &str) -> BTreeMap<String, Vec<String>> {
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut queue = vec![vec![krate.to_owned()]];
    while let Some(path) = queue.pop() {
        let last = path.last().unwrap();
        for dep in graph.get(last).into_iter().flatten() {
            if paths.contains_key(dep) || dep == krate {
                continue;
            }
            let mut next = path.clone();
            next.push(dep.clone());
            paths.insert(dep.clone(), next.clone());
            queue.push(next);
        }
    }
    paths
}

/// Every broken rule, one message each.
fn violations(graph: &Graph, members: &BTreeSet<String>) -> Vec<String> {
    let mut broken = Vec::new();
    for rule in RULES {
        assert!(
            graph.contains_key(rule.krate),
            "rule for {} names no crate in the graph",
            rule.krate
        );
        let reached = reachable(graph, rule.krate);
        for (dep, path) in &reached {
            let own_crate_not_allowed = members.contains(dep) && !rule.own.contains(&dep.as_str());
            if own_crate_not_allowed || rule.forbidden.contains(&dep.as_str()) {
                broken.push(format!(
                    "rule broken: {} (reaches {dep} through {})",
                    rule.why,
                    path.join(" -> ")
                ));
            }
        }
    }
    for (krate, deps) in graph {
        if deps.contains("relay-server") && !SERVER_USERS.contains(&krate.as_str()) {
            broken.push(format!(
                "rule broken: nothing but the binaries depends on relay-server ({krate} does)"
            ));
        }
    }
    broken
}

#[test]
fn the_workspace_keeps_its_dependency_rules() {
    let (graph, members) = workspace_graph();
    let broken = violations(&graph, &members);
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn a_broken_rule_is_reported_with_its_name_and_path() {
    let (mut graph, members) = workspace_graph();
    // relay-core reaching tokio through a made-up crate, and the router
    // using the server.
    graph
        .entry("relay-core".to_owned())
        .or_default()
        .insert("some-helper".to_owned());
    graph.insert(
        "some-helper".to_owned(),
        BTreeSet::from(["tokio".to_owned()]),
    );
    graph
        .entry("relay-router".to_owned())
        .or_default()
        .insert("relay-server".to_owned());
    let broken = violations(&graph, &members);
    assert!(
        broken
            .iter()
            .any(|m| m.contains("no async runtime")
                && m.contains("relay-core -> some-helper -> tokio")),
        "{broken:#?}"
    );
    assert!(
        broken
            .iter()
            .any(|m| m.contains("relay-router has no HTTP client") && m.contains("relay-server")),
        "{broken:#?}"
    );
    assert!(
        broken
            .iter()
            .any(|m| m.contains("nothing but the binaries depends on relay-server (relay-router")),
        "{broken:#?}"
    );
}

#[test]
fn the_forbidden_names_are_spelled_as_cargo_spells_them() {
    // A misspelt name would never match: the runtime and the HTTP stack the
    // server really uses must be in the graph under these names.
    let (graph, _) = workspace_graph();
    for name in ["tokio", "hyper", "hyper-util", "h2", "hyper-rustls"] {
        assert!(
            graph.contains_key(name),
            "{name} is not in the workspace graph"
        );
        assert!(ASYNC_RUNTIMES.contains(&name) || HTTP_STACKS.contains(&name));
    }
}
