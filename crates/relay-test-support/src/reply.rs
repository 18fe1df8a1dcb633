//! `MockReply`: what the mock upstream answers to one request, built
//! builder-style, and its resolution into a concrete response plan once the
//! request is known.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use serde_json::{Value, json};

use crate::anthropic::{self, MessageParams};
use crate::plan::{EVENT_STREAM, Plan, PlannedResponse, RequestView, json_chunks, sse_chunks};

/// A scripted reply of [`MockUpstream`](crate::MockUpstream), one per request.
///
/// The body of every reply is a list of chunks ("events"): one chunk for
/// plain bodies, one per event for SSE replies. The modifiers
/// [`event_delay`](Self::event_delay), [`cut_after`](Self::cut_after) and
/// [`stall_after`](Self::stall_after) count those chunks.
#[derive(Clone, Debug)]
pub struct MockReply {
    kind: Kind,
    status: u16,
    headers: Vec<(String, String)>,
    model: Option<String>,
    event_delay: Duration,
    headers_delay: Duration,
    cut_after: Option<usize>,
    stall_after: Option<usize>,
}

#[derive(Clone, Debug)]
enum Kind {
    Auto,
    Message(String),
    Stream(String),
    Json(Value),
    Bytes { content_type: String, body: Bytes },
    Sse(Vec<(String, Value)>),
    SseRaw(Vec<Bytes>),
    ChatAuto(Option<(String, Value)>),
    Stall,
    Close,
}

impl Default for MockReply {
    fn default() -> Self {
        Self::auto()
    }
}

impl MockReply {
    fn new(kind: Kind, status: u16) -> Self {
        Self {
            kind,
            status,
            headers: Vec::new(),
            model: None,
            event_delay: Duration::ZERO,
            headers_delay: Duration::ZERO,
            cut_after: None,
            stall_after: None,
        }
    }

    /// Answers like the real API: a message (JSON, or the SSE stream when the
    /// body has `"stream": true`) for `POST …/v1/messages`, `{"input_tokens": N}`
    /// for `POST …/v1/messages/count_tokens`, a 404 error body otherwise.
    /// The request's `model` is echoed.
    pub fn auto() -> Self {
        Self::new(Kind::Auto, 200)
    }

    /// A 200 non-streaming message whose only content block is `text`.
    pub fn message(text: impl Into<String>) -> Self {
        Self::new(Kind::Message(text.into()), 200)
    }

    /// A 200 `text/event-stream` reply with the real Anthropic event sequence
    /// for `text`: `message_start`, `content_block_start`, `ping`, one
    /// `content_block_delta` per word, `content_block_stop`, `message_delta`,
    /// `message_stop`.
    pub fn stream(text: impl Into<String>) -> Self {
        Self::new(Kind::Stream(text.into()), 200)
    }

    /// A JSON body with the given status.
    pub fn json(status: u16, body: Value) -> Self {
        Self::new(Kind::Json(body), status)
    }

    /// Arbitrary bytes with the given status and content type.
    pub fn bytes(status: u16, content_type: &str, body: impl Into<Bytes>) -> Self {
        let kind = Kind::Bytes {
            content_type: content_type.to_owned(),
            body: body.into(),
        };
        Self::new(kind, status)
    }

    /// An Anthropic error body (`{"type":"error","error":{…}}`), e.g.
    /// `MockReply::error(429, "rate_limit_error", "slow down")`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        Self::json(status, anthropic::error_json(error_type, message))
    }

    /// A 200 SSE stream of custom events, each rendered as
    /// `event: NAME\ndata: JSON\n\n`.
    pub fn sse<I, S>(events: I) -> Self
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        let events = events.into_iter().map(|(n, v)| (n.into(), v)).collect();
        Self::new(Kind::Sse(events), 200)
    }

    /// A 200 `text/event-stream` reply whose chunks are written exactly as
    /// given (invalid SSE, odd line endings, split events…).
    pub fn sse_raw<I, B>(chunks: I) -> Self
    where
        I: IntoIterator<Item = B>,
        B: Into<Bytes>,
    {
        Self::new(
            Kind::SseRaw(chunks.into_iter().map(Into::into).collect()),
            200,
        )
    }

    /// Answers every request like an OpenAI Chat Completions server with a
    /// small tool-using model (streamed or not, as asked): it calls `tool`
    /// (name, input) when the request offers that tool and no tool result
    /// came back yet, then answers "The tool said: <result>"; any other
    /// request gets a short text. See [`ChatReply`](crate::ChatReply).
    pub fn chat_auto(tool: Option<(&str, Value)>) -> Self {
        Self::new(Kind::ChatAuto(tool.map(|(n, v)| (n.to_owned(), v))), 200)
    }

    /// Never sends response headers (until the client goes away).
    pub fn stall() -> Self {
        Self::new(Kind::Stall, 200)
    }

    /// Reads the request, then drops the connection without any response
    /// (after [`headers_delay`](Self::headers_delay), if set). On an HTTP/2
    /// connection this drops the whole connection.
    pub fn close() -> Self {
        Self::new(Kind::Close, 200)
    }

    /// Overrides the status code.
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Adds a response header. The first use of a name replaces the reply's
    /// own header of that name (e.g. `content-type`); later uses append.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The model named in generated messages, instead of the request's.
    pub fn model(mut self, model: &str) -> Self {
        self.model = Some(model.to_owned());
        self
    }

    /// Gap between body chunks (SSE events); the first one is sent right
    /// after the headers.
    pub fn event_delay(mut self, delay: Duration) -> Self {
        self.event_delay = delay;
        self
    }

    /// Wait before sending the response headers.
    pub fn headers_delay(mut self, delay: Duration) -> Self {
        self.headers_delay = delay;
        self
    }

    /// After `n` chunks, abort the response abruptly: the client sees a
    /// broken body (HTTP/1.1: the connection is closed mid-chunked-body;
    /// HTTP/2: the stream is reset), never a clean end.
    pub fn cut_after(mut self, n: usize) -> Self {
        self.cut_after = Some(n);
        self
    }

    /// After `n` chunks, send nothing more and never end the body, until the
    /// client goes away.
    pub fn stall_after(mut self, n: usize) -> Self {
        self.stall_after = Some(n);
        self
    }

    /// Turns the reply into a concrete plan for the request.
    pub(crate) fn plan(&self, req: &RequestView<'_>) -> Plan {
        match self.build(req) {
            Ok(plan) => plan,
            Err(problem) => {
                tracing::error!(%problem, "mock upstream: invalid scripted reply");
                Plan::Respond(Box::new(PlannedResponse {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    headers: HeaderMap::new(),
                    chunks: vec![Bytes::from(format!("mock upstream: {problem}"))],
                    is_sse: false,
                    headers_delay: Duration::ZERO,
                    event_delay: Duration::ZERO,
                    cut_after: None,
                    stall_after: None,
                }))
            }
        }
    }

    fn build(&self, req: &RequestView<'_>) -> Result<Plan, String> {
        let model = self
            .model
            .clone()
            .or_else(|| anthropic::request_model(req.body))
            .unwrap_or_else(|| anthropic::FALLBACK_MODEL.to_owned());
        let params = |text| MessageParams {
            id: anthropic::message_id(req.index),
            model: &model,
            text,
            input_tokens: anthropic::estimate_input_tokens(req.body),
        };
        let mut status = self.status;
        let (content_type, chunks, is_sse) = match &self.kind {
            Kind::Stall => return Ok(Plan::Stall),
            Kind::Close => return Ok(Plan::Close(self.headers_delay)),
            Kind::Auto => {
                let path = req.path_and_query.split('?').next().unwrap_or_default();
                let post = req.method == http::Method::POST;
                if post && path.ends_with("/v1/messages") {
                    if anthropic::request_wants_stream(req.body) {
                        sse_chunks(&anthropic::stream_events(&params(anthropic::AUTO_TEXT)))
                    } else {
                        json_chunks(&anthropic::message_json(&params(anthropic::AUTO_TEXT)))
                    }
                } else if post && path.ends_with("/v1/messages/count_tokens") {
                    let n = anthropic::estimate_input_tokens(req.body);
                    json_chunks(&json!({ "input_tokens": n }))
                } else {
                    if status == 200 {
                        status = 404;
                    }
                    let msg = format!("mock upstream: no route for {} {path}", req.method);
                    json_chunks(&anthropic::error_json("not_found_error", &msg))
                }
            }
            Kind::Message(text) => json_chunks(&anthropic::message_json(&params(text))),
            Kind::Stream(text) => sse_chunks(&anthropic::stream_events(&params(text))),
            Kind::Json(value) => json_chunks(value),
            Kind::Bytes { content_type, body } => (content_type.clone(), vec![body.clone()], false),
            Kind::Sse(events) => sse_chunks(events),
            Kind::SseRaw(chunks) => (EVENT_STREAM.to_owned(), chunks.clone(), true),
            Kind::ChatAuto(tool) => match crate::openai::auto_reply(req.body, tool.as_ref()) {
                (reply, true) => (EVENT_STREAM.to_owned(), reply.chunks(), true),
                (reply, false) => json_chunks(&reply.completion()),
            },
        };
        let status = StatusCode::from_u16(status).map_err(|e| format!("status {status}: {e}"))?;
        let mut headers = HeaderMap::new();
        let value = HeaderValue::from_str(&content_type)
            .map_err(|e| format!("content type {content_type:?}: {e}"))?;
        headers.insert(header::CONTENT_TYPE, value);
        if is_sse {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        }
        let mut replaced = Vec::new();
        for (name, value) in &self.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|e| format!("header name {name:?}: {e}"))?;
            let value =
                HeaderValue::from_str(value).map_err(|e| format!("header value {value:?}: {e}"))?;
            if replaced.contains(&name) {
                headers.append(name, value);
            } else {
                headers.insert(name.clone(), value);
                replaced.push(name);
            }
        }
        Ok(Plan::Respond(Box::new(PlannedResponse {
            status,
            headers,
            chunks,
            is_sse,
            headers_delay: self.headers_delay,
            event_delay: self.event_delay,
            cut_after: self.cut_after,
            stall_after: self.stall_after,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view<'a>(method: &'a http::Method, path: &'a str, body: &'a [u8]) -> RequestView<'a> {
        RequestView {
            index: 0,
            method,
            path_and_query: path,
            body,
        }
    }

    fn respond(plan: Plan) -> PlannedResponse {
        match plan {
            Plan::Respond(r) => *r,
            Plan::Stall | Plan::Close(_) => unreachable!("expected a response"),
        }
    }

    #[test]
    fn auto_routes_by_path_and_stream_flag() {
        let post = http::Method::POST;
        let body = br#"{"model":"claude-x","stream":true}"#;
        let r = respond(MockReply::auto().plan(&view(&post, "/v1/messages?beta=true", body)));
        assert!(r.is_sse);
        assert!(r.chunks.len() > 5);
        let r = respond(MockReply::auto().plan(&view(&post, "/v1/messages/count_tokens", body)));
        let v: Value = serde_json::from_slice(&r.chunks[0]).unwrap();
        assert!(v["input_tokens"].as_u64().unwrap() > 0);
        let get = http::Method::GET;
        let r = respond(MockReply::auto().plan(&view(&get, "/nope", b"")));
        assert_eq!(r.status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn headers_replace_then_append() {
        let post = http::Method::POST;
        let r = respond(
            MockReply::json(429, json!({}))
                .header("content-type", "application/x-test")
                .header("x-a", "1")
                .header("x-a", "2")
                .plan(&view(&post, "/", b"")),
        );
        assert_eq!(r.status.as_u16(), 429);
        assert_eq!(r.headers["content-type"], "application/x-test");
        assert_eq!(r.headers.get_all("x-a").iter().count(), 2);
    }

    #[test]
    fn invalid_header_gives_a_500() {
        let post = http::Method::POST;
        let r = respond(
            MockReply::message("x")
                .header("bad name", "v")
                .plan(&view(&post, "/", b"")),
        );
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
