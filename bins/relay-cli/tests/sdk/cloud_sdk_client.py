"""Drives a cc-relay in front of a cloud provider (Bedrock, Vertex, Azure)
with the official Anthropic Python SDK.

Usage: cloud_sdk_client.py BASE_URL API_KEY MODEL [stream-error] [error]
Prints one JSON line with what the SDK saw, for the Rust test to check:
a message, a stream (sent with anthropic-beta values), count_tokens (its
result or the error), optionally a stream that fails mid-way and a request
that fails, and the model list.
"""

import json
import sys

import anthropic

BETAS = "interleaved-thinking-2025-05-14,claude-code-20250219"
MESSAGES = [{"role": "user", "content": "Say hello"}]


def status_error(exc: anthropic.APIStatusError) -> dict:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
    return {"status": exc.status_code, "type": error.get("type"), "message": error.get("message")}


def main() -> None:
    base_url, api_key, model = sys.argv[1], sys.argv[2], sys.argv[3]
    flags = set(sys.argv[4:])
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    out = {}

    message = client.messages.create(model=model, max_tokens=64, messages=MESSAGES)
    out["message_text"] = message.content[0].text
    out["message_usage"] = {"input": message.usage.input_tokens, "output": message.usage.output_tokens}

    events = []
    with client.messages.stream(
        model=model, max_tokens=64, messages=MESSAGES, extra_headers={"anthropic-beta": BETAS}
    ) as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()
    out["stream_events"] = events
    out["stream_text"] = "".join(block.text for block in final.content if block.type == "text")
    out["stream_usage"] = {"input": final.usage.input_tokens, "output": final.usage.output_tokens}
    out["stream_stop_reason"] = final.stop_reason

    try:
        count = client.messages.count_tokens(model=model, messages=MESSAGES)
        out["count_tokens"] = count.input_tokens
    except anthropic.APIStatusError as exc:
        out["count_tokens"] = status_error(exc)

    if "stream-error" in flags:
        seen = []
        try:
            with client.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as stream:
                for event in stream:
                    seen.append(event.type)
            out["stream_error"] = {"events": seen, "error": None}
        except anthropic.APIStatusError as exc:
            out["stream_error"] = {"events": seen, "error": status_error(exc)}

    if "error" in flags:
        try:
            client.messages.create(model=model, max_tokens=8, messages=MESSAGES)
            out["error"] = None
        except anthropic.APIStatusError as exc:
            out["error"] = status_error(exc)

    out["models"] = [m.id for m in client.models.list()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
