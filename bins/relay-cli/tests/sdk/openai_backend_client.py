"""Drives a running cc-relay, in front of an OpenAI-compatible backend, with
the official Anthropic Python SDK: the stream accumulator
(`messages.stream(...).get_final_message()`), a non-streaming call, and a
request the backend cannot express.

Usage: openai_backend_client.py BASE_URL API_KEY
Prints one JSON line with what the SDK saw, for the Rust test to check.
"""

import json
import sys

import anthropic

TOOLS = [
    {
        "name": "Read",
        "description": "Reads a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
    },
    {
        "name": "Grep",
        "description": "Searches files",
        "input_schema": {"type": "object", "properties": {"pattern": {"type": "string"}}},
    },
]


def blocks(message):
    return [block.model_dump(exclude_none=True) for block in message.content]


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    ask = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "tools": TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "messages": [{"role": "user", "content": "Look at main.rs"}],
    }

    events = []
    with client.messages.stream(**ask) as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()

    created = client.messages.create(**ask)

    refused = None
    try:
        client.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=64,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            messages=[{"role": "user", "content": "search"}],
        )
    except anthropic.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        refused = {"status": exc.status_code, "type": body.get("error", {}).get("type"),
                   "message": body.get("error", {}).get("message")}

    print(json.dumps({
        "stream_events": events,
        "stream": {"content": blocks(final), "stop_reason": final.stop_reason,
                   "usage": final.usage.model_dump(exclude_none=True), "id": final.id},
        "create": {"content": blocks(created), "stop_reason": created.stop_reason,
                   "usage": created.usage.model_dump(exclude_none=True)},
        "refused": refused,
    }))


if __name__ == "__main__":
    main()
