//! `failover`: the highest-priority healthy provider serves; when it fails,
//! the same request moves to the next, and its circuit opens after repeated
//! failures so later requests skip it until it recovers.
//!
//! Run: `cargo run --example failover`
#![allow(clippy::print_stdout)]

use relay_examples::Demo;
use relay_test_support::MockReply;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["primary", "backup"],
        r#"
routing: { strategy: failover }
health: { circuit_breaker: { failure_threshold: 2, open_duration_ms: 300, half_open_probes: 1 } }
providers:
  - { name: primary, base_url: "{primary}", priority: 2, keys: [{ key: "sk-primary" }] }
  - { name: backup, base_url: "{backup}", priority: 1, keys: [{ key: "sk-backup" }] }
"#,
    )
    .await?;
    println!("primary answers 529 twice, then recovers:\n");
    let primary = demo.upstream("primary")?;
    primary.enqueue(MockReply::error(529, "overloaded_error", "Overloaded"));
    primary.enqueue(MockReply::error(529, "overloaded_error", "Overloaded"));
    demo.run(4, "claude-sonnet-4-5").await?;
    println!("\nwaiting for the circuit's open period to pass...\n");
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    demo.run(2, "claude-sonnet-4-5").await
}
