//! `weighted_round_robin`: smooth (nginx-style) weighted rotation; with
//! weights 5:1:1 the sequence is a a b a c a a, spread out rather than bunched.
//!
//! Run: `cargo run --example weighted_round_robin`

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["a", "b", "c"],
        r#"
routing: { strategy: weighted_round_robin }
providers:
  - { name: a, base_url: "{a}", weight: 5, keys: [{ key: "sk-a" }] }
  - { name: b, base_url: "{b}", weight: 1, keys: [{ key: "sk-b" }] }
  - { name: c, base_url: "{c}", weight: 1, keys: [{ key: "sk-c" }] }
"#,
    )
    .await?;
    demo.run(14, "claude-sonnet-4-5").await
}
