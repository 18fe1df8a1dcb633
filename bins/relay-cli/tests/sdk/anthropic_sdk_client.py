"""Drives a running cc-relay with the official Anthropic Python SDK.

Usage: anthropic_sdk_client.py BASE_URL API_KEY
Prints one JSON line with what the SDK saw, for the Rust test to check.
"""

import json
import sys

import anthropic


def main() -> None:
    base_url, api_key = sys.argv[1], sys.argv[2]
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)

    message = client.messages.create(
        model="claude-sonnet-4-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello"}],
    )

    events = []
    with client.messages.stream(
        model="claude-sonnet-4-5",
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello"}],
    ) as stream:
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()

    count = client.messages.count_tokens(
        model="claude-sonnet-4-5",
        messages=[{"role": "user", "content": "Say hello"}],
    )

    error = None
    try:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=8, messages=[{"role": "user", "content": "x"}])
    except anthropic.APIStatusError as exc:
        error = {"status": exc.status_code, "type": exc.body.get("error", {}).get("type") if isinstance(exc.body, dict) else None}

    models = [m.id for m in client.models.list()]

    print(json.dumps({
        "message_text": message.content[0].text,
        "message_usage": message.usage.output_tokens,
        "stream_events": events,
        "stream_text": "".join(block.text for block in final.content if block.type == "text"),
        "count_tokens": count.input_tokens,
        "error": error,
        "models": models,
    }))


if __name__ == "__main__":
    main()
