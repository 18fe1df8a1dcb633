//! The relay's own read-only endpoints: `/health`, `/v1/models`, `/v1/providers`.

use std::collections::HashSet;
use std::time::SystemTime;

use http::{HeaderValue, Response, header};
use relay_router::CircuitState;
use serde::Serialize;
use serde_json::json;

use crate::body::{RelayBody, full};
use crate::runtime::Runtime;

/// `GET /health`.
pub fn health() -> Response<RelayBody> {
    json_response(&json!({ "status": "ok" }))
}

#[derive(Serialize)]
struct ModelEntry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    display_name: String,
    created_at: &'a str,
}

/// `GET /v1/models`: every enabled provider's configured models, in
/// configuration order, each id once; paginated like Anthropic's
/// (`limit`, `after_id`, `before_id`).
pub fn models(
    runtime: &Runtime,
    query: Option<&str>,
    created_at: SystemTime,
) -> Response<RelayBody> {
    let created_at = humantime::format_rfc3339_seconds(created_at).to_string();
    let mut seen = HashSet::new();
    let all: Vec<&str> = runtime
        .enabled_providers()
        .flat_map(|p| p.models().iter().map(String::as_str))
        .filter(|id| seen.insert(*id))
        .collect();

    let params = Pagination::parse(query);
    let (start, end) = params.window(&all);
    let page: Vec<ModelEntry<'_>> = all[start..end]
        .iter()
        .map(|id| ModelEntry {
            kind: "model",
            id,
            display_name: display_name(id),
            created_at: &created_at,
        })
        .collect();
    let has_more = if params.before_id.is_some() {
        start > 0
    } else {
        end < all.len()
    };
    json_response(&json!({
        "data": page,
        "has_more": has_more,
        "first_id": page.first().map(|m| m.id),
        "last_id": page.last().map(|m| m.id),
    }))
}

/// `GET /v1/providers`.
pub fn providers(runtime: &Runtime) -> Response<RelayBody> {
    let now = tokio::time::Instant::now();
    let data: Vec<_> = runtime
        .config
        .providers
        .iter()
        .enumerate()
        .map(|(index, config)| {
            let provider = runtime.provider(index);
            let circuit = runtime.router.circuit(&config.name, now);
            let healthy = !matches!(circuit, Some(CircuitState::Open { .. }));
            // Agrees with /admin/stats: a provider an operator disabled is inactive.
            let disabled = runtime.router.state().is_disabled(&config.name);
            json!({
                "name": config.name,
                "type": config.kind.as_str(),
                "base_url": provider.map(|p| p.base_url()),
                "models": config.models,
                "active": provider.is_some() && healthy && !disabled,
                "circuit": circuit.map(|c| c.as_str()),
            })
        })
        .collect();
    json_response(&json!({ "object": "list", "data": data }))
}

fn json_response(value: &serde_json::Value) -> Response<RelayBody> {
    let mut response = Response::new(full(value.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `limit` (1..=1000, default 20), `after_id`, `before_id`.
#[derive(Debug, Default, PartialEq)]
struct Pagination<'a> {
    limit: usize,
    after_id: Option<&'a str>,
    before_id: Option<&'a str>,
}

impl<'a> Pagination<'a> {
    fn parse(query: Option<&'a str>) -> Self {
        let mut params = Pagination {
            limit: 20,
            ..Pagination::default()
        };
        for pair in query.unwrap_or_default().split('&') {
            match pair.split_once('=') {
                Some(("limit", value)) => params.limit = value.parse().unwrap_or(20).clamp(1, 1000),
                Some(("after_id", value)) => params.after_id = Some(value),
                Some(("before_id", value)) => params.before_id = Some(value),
                _ => {}
            }
        }
        params
    }

    /// The half-open index range of the page within `all`.
    fn window(&self, all: &[&str]) -> (usize, usize) {
        let position = |id: &str| all.iter().position(|m| *m == id);
        if let Some(before) = self.before_id {
            let end = position(before).unwrap_or(0);
            (end.saturating_sub(self.limit), end)
        } else {
            let start = self.after_id.and_then(position).map_or(0, |i| i + 1);
            (start, (start + self.limit).min(all.len()))
        }
    }
}

/// `claude-sonnet-4-5` → `Claude Sonnet 4.5`; `glm-4.6` → `GLM 4.6`.
fn display_name(id: &str) -> String {
    let base = id.split('@').next().unwrap_or(id);
    let mut words: Vec<String> = Vec::new();
    for part in base.split(['-', '_']) {
        let is_version = part.chars().all(|c| c.is_ascii_digit() || c == '.');
        match words.last_mut() {
            // Dates stay apart; short version numbers join: 4-5 → 4.5.
            Some(last)
                if is_version
                    && part.len() <= 2
                    && last.chars().all(|c| c.is_ascii_digit() || c == '.') =>
            {
                last.push('.');
                last.push_str(part);
            }
            _ if part.len() <= 3
                && part.chars().all(|c| c.is_ascii_alphabetic())
                && part != "pro" =>
            {
                words.push(part.to_ascii_uppercase());
            }
            _ => {
                let mut chars = part.chars();
                let word = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                words.push(word);
            }
        }
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_read_well() {
        assert_eq!(display_name("claude-sonnet-4-5"), "Claude Sonnet 4.5");
        assert_eq!(
            display_name("claude-opus-4-1-20250805"),
            "Claude Opus 4.1 20250805"
        );
        assert_eq!(display_name("glm-4.6"), "GLM 4.6");
        assert_eq!(
            display_name("claude-sonnet-4-5@20250929"),
            "Claude Sonnet 4.5"
        );
    }

    #[test]
    fn pagination_windows() {
        let all = ["a", "b", "c", "d"];
        assert_eq!(Pagination::parse(None).window(&all), (0, 4));
        assert_eq!(Pagination::parse(Some("limit=2")).window(&all), (0, 2));
        assert_eq!(
            Pagination::parse(Some("limit=2&after_id=b")).window(&all),
            (2, 4)
        );
        assert_eq!(
            Pagination::parse(Some("limit=2&before_id=d")).window(&all),
            (1, 3)
        );
        assert_eq!(Pagination::parse(Some("limit=0")).limit, 1);
    }
}
