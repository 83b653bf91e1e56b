"""The answer's server-sent events as plain dicts, read from the SDK's raw streaming response.

The SDK's own stream builds a pydantic object per chunk (~2 ms a call here); the assembler
reads mappings as well, so the chunks stay the JSON the API sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any


async def event_data(lines: AsyncIterator[str]) -> AsyncIterator[str]:
    """The `data` of each server-sent event (several data lines joined by newlines)."""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue  # a comment (keep-alive)
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


async def chunks(response: Any) -> AsyncIterator[dict[str, Any]]:
    """The JSON chunks of a streamed `httpx2.Response` until `[DONE]`; transport failures and
    in-stream error events raise the SDK's own exceptions, as its stream would."""
    import httpx2
    import openai

    request = response.request
    done = False
    try:
        async for data in event_data(response.aiter_lines()):
            if done or data.startswith("[DONE]"):
                done = True  # read on to the end: HTTP/1.1 reuses a connection read to its end
                continue
            chunk = json.loads(data)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else None
                if not isinstance(message, str) or not message:
                    message = "An error occurred during streaming"
                raise openai.APIError(message, request, body=error)
            if isinstance(chunk, dict):
                yield chunk
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=request) from exc
    except httpx2.RequestError as exc:
        raise openai.APIConnectionError(request=request) from exc
