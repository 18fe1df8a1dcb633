//! `latency_based`: peak-EWMA latency with power-of-two choices. After a few
//! requests measure each provider, most traffic goes to the fastest.
//!
//! Run: `cargo run --example latency_based`

use std::time::Duration;

use relay_examples::Demo;
use relay_test_support::MockReply;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["near", "far"],
        r#"
routing: { strategy: latency_based }
providers:
  - { name: near, base_url: "{near}", keys: [{ key: "sk-near" }] }
  - { name: far, base_url: "{far}", keys: [{ key: "sk-far" }] }
"#,
    )
    .await?;
    demo.upstream("near")?
        .set_default(MockReply::auto().headers_delay(Duration::from_millis(5)));
    demo.upstream("far")?
        .set_default(MockReply::auto().headers_delay(Duration::from_millis(80)));
    demo.run(12, "claude-sonnet-4-5").await
}
