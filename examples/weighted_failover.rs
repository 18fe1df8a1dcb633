//! `weighted_failover`: each request draws a random provider order weighted
//! by `weight`; the rest of the order is its failover path.
//!
//! Run: `cargo run --example weighted_failover`

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["big", "small"],
        r#"
routing: { strategy: weighted_failover }
providers:
  - { name: big, base_url: "{big}", weight: 3, keys: [{ key: "sk-big" }] }
  - { name: small, base_url: "{small}", weight: 1, keys: [{ key: "sk-small" }] }
"#,
    )
    .await?;
    demo.run(20, "claude-sonnet-4-5").await
}
