//! `providers[].openai`: the dialect options of a `type: openai` provider
//! (an OpenAI Chat Completions server: OpenAI, OpenRouter, DeepSeek, Groq,
//! vLLM, llama.cpp, Ollama's `/v1`, ...). Every option has the default that
//! suits OpenAI itself and most servers; docs/providers.md lists tested
//! settings per backend.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `providers[].openai`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct OpenAiConfig {
    /// The request field that carries the Anthropic `max_tokens`.
    pub max_tokens_field: MaxTokensField,
    /// Whether the request's `thinking` asks the backend for reasoning.
    pub reasoning: ReasoningRequest,
    /// Which delta/message field carries the backend's reasoning text.
    pub reasoning_field: ReasoningField,
    /// Send `stream_options: {include_usage: true}` on streaming requests, so
    /// the stream reports token usage. Some older servers reject the field.
    pub stream_usage: bool,
    /// Tool-call ids sent upstream as 9-character alphanumeric hashes, as
    /// Mistral requires (the client's ids are kept on the Anthropic side).
    pub short_tool_ids: bool,
    /// Extra request headers, e.g. OpenRouter's `HTTP-Referer` and `X-Title`.
    pub headers: BTreeMap<String, String>,
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        Self {
            max_tokens_field: MaxTokensField::MaxTokens,
            reasoning: ReasoningRequest::Off,
            reasoning_field: ReasoningField::Auto,
            stream_usage: true,
            short_tool_ids: false,
            headers: BTreeMap::new(),
        }
    }
}

/// `providers[].openai.max_tokens_field`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_tokens`: every server takes it (OpenAI's reasoning models excepted).
    #[default]
    MaxTokens,
    /// `max_completion_tokens`: OpenAI's current name, required by its o-series and GPT-5.
    MaxCompletionTokens,
}

impl MaxTokensField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MaxTokens => "max_tokens",
            Self::MaxCompletionTokens => "max_completion_tokens",
        }
    }
}

/// `providers[].openai.reasoning`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningRequest {
    /// Nothing is asked: the model reasons (or not) as it always does.
    #[default]
    Off,
    /// `reasoning_effort` (`low`/`medium`/`high`) from the request's `thinking.budget_tokens`.
    Effort,
}

/// `providers[].openai.reasoning_field`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningField {
    /// `reasoning_content` where present, else `reasoning`.
    #[default]
    Auto,
    /// DeepSeek, vLLM (older), SGLang, Qwen.
    ReasoningContent,
    /// OpenRouter, Ollama, vLLM (newer), Groq.
    Reasoning,
    /// Reasoning text is ignored.
    None,
}
