//! `round_robin`: each request starts at the next provider in turn.
//!
//! Run: `cargo run --example round_robin`

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["a", "b", "c"],
        r#"
routing: { strategy: round_robin }
providers:
  - { name: a, base_url: "{a}", keys: [{ key: "sk-a" }] }
  - { name: b, base_url: "{b}", keys: [{ key: "sk-b" }] }
  - { name: c, base_url: "{c}", keys: [{ key: "sk-c" }] }
"#,
    )
    .await?;
    demo.run(9, "claude-sonnet-4-5").await
}
