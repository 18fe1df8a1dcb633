//! `model_based`: the longest `routing.model_mapping` prefix of the request's
//! model picks the provider; unmatched models go to `default_provider`.
//!
//! Run: `cargo run --example model_based`
#![allow(clippy::print_stdout)]

use relay_examples::Demo;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let demo = Demo::start(
        &["anthropic", "zai", "local"],
        r#"
routing:
  strategy: model_based
  model_mapping: { "claude-opus": anthropic, "claude": anthropic, "glm-": zai }
  default_provider: local
providers:
  - { name: anthropic, base_url: "{anthropic}", keys: [{ key: "sk-ant" }] }
  - { name: zai, base_url: "{zai}", keys: [{ key: "sk-zai" }] }
  - { name: local, base_url: "{local}" }
"#,
    )
    .await?;
    for model in [
        "claude-opus-4-1",
        "claude-sonnet-4-5",
        "glm-4.6",
        "qwen3-coder",
    ] {
        demo.send("request", model, None).await?;
    }
    Ok(())
}
