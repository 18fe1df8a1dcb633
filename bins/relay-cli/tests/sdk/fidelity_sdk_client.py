"""Drives a cc-relay with the official Anthropic Python SDK and reports the
model ids the SDK saw, for the fidelity tests.

Usage: fidelity_sdk_client.py BASE_URL API_KEY MODEL...
Prints one JSON object: for each MODEL, the model of a message, of a
stream's message_start and of its final message, the streamed text, and
count_tokens; then the model list.
"""

import json
import sys

import anthropic

MESSAGES = [{"role": "user", "content": "Say hello"}]


def main() -> None:
    base_url, api_key, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, max_retries=0, timeout=20)
    out = {"models": {}}
    for model in models:
        seen = {}
        message = client.messages.create(model=model, max_tokens=64, messages=MESSAGES)
        seen["message_model"] = message.model
        with client.messages.stream(model=model, max_tokens=64, messages=MESSAGES) as stream:
            for event in stream:
                if event.type == "message_start":
                    seen["message_start_model"] = event.message.model
            final = stream.get_final_message()
        seen["final_model"] = final.model
        seen["stream_text"] = "".join(b.text for b in final.content if b.type == "text")
        seen["count_tokens"] = client.messages.count_tokens(model=model, messages=MESSAGES).input_tokens
        out["models"][model] = seen
    out["listed"] = [m.id for m in client.models.list(limit=100)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
