//! `cost_based`: the cheapest healthy provider for the request's model, from
//! each provider's `cost` (USD per million tokens, with per-model prefixes):
//! Sonnet goes to the cheaper Z.AI, Haiku to Anthropic's cheaper Haiku price.
//!
//! Run: `cargo run --example cost_based`

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["anthropic", "zai"],
        r#"
routing: { strategy: cost_based }
providers:
  - name: anthropic
    base_url: "{anthropic}"
    keys: [{ key: "sk-ant" }]
    cost: { input_per_mtok: 3.0, output_per_mtok: 15.0, models: { "claude-haiku": { input_per_mtok: 0.25, output_per_mtok: 1.25 } } }
  - name: zai
    base_url: "{zai}"
    keys: [{ key: "sk-zai" }]
    cost: { input_per_mtok: 0.6, output_per_mtok: 2.2 }
"#,
    )
    .await?;
    for model in ["claude-sonnet-4-5", "claude-haiku-4-5"] {
        demo.send("request", model, None).await?;
    }
    Ok(())
}
