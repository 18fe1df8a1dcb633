//! `least_loaded`: the provider with the fewest requests in flight goes
//! first. Here provider `slow` holds its requests open, so new ones flow to
//! `fast` while those are pending.
//!
//! Run: `cargo run --example least_loaded`
#![allow(clippy::print_stdout)]

use std::time::Duration;

use relay_examples::Demo;
use relay_test_support::MockReply;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["slow", "fast"],
        r#"
routing: { strategy: least_loaded }
providers:
  - { name: slow, base_url: "{slow}", keys: [{ key: "sk-slow" }] }
  - { name: fast, base_url: "{fast}", keys: [{ key: "sk-fast" }] }
"#,
    )
    .await?;
    demo.upstream("slow")?
        .set_default(MockReply::auto().headers_delay(Duration::from_millis(300)));
    // Concurrent and staggered: each decision sees the earlier requests still in flight.
    let sends = (1..=6u64).map(|i| {
        let demo = &demo;
        async move {
            tokio::time::sleep(Duration::from_millis(20 * i)).await;
            demo.send(&format!("request {i}"), "claude-sonnet-4-5", None)
                .await
        }
    });
    let served = futures_util::future::join_all(sends).await;
    println!(
        "\n{} requests served",
        served.iter().filter(|s| matches!(s, Ok(Some(_)))).count()
    );
    Ok(())
}
