//! `shuffle`: deals a shuffled deck of providers, one per request, and
//! reshuffles when it is spent — random order, yet each provider gets exactly
//! one request per round.
//!
//! Run: `cargo run --example shuffle`

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["a", "b", "c"],
        r#"
routing: { strategy: shuffle }
providers:
  - { name: a, base_url: "{a}", keys: [{ key: "sk-a" }] }
  - { name: b, base_url: "{b}", keys: [{ key: "sk-b" }] }
  - { name: c, base_url: "{c}", keys: [{ key: "sk-c" }] }
"#,
    )
    .await?;
    demo.run(9, "claude-sonnet-4-5").await
}
