"""The `/_control/...` endpoints that let out-of-process tests script the fake."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING, Any

from .jsonform import item_from_json
from .wire import Connection, HttpRequest, send_json

if TYPE_CHECKING:
    from .server import FakeKimi


async def handle_control(
    fake: FakeKimi, conn: Connection, request: HttpRequest, keep_alive: bool
) -> bool:
    """Serve one control request; returns whether the connection may be kept alive.

    - `POST /_control/enqueue`: a script in the JSON form (one item, a list, or
      `{"replies": [...], "default": item}`) -> `{"queued": n, "pending": m}`;
    - `POST /_control/default`: one item, served when the queue is empty;
    - `POST /_control/gate`: `{"name": "g", "open": true}` opens (or closes) a gate;
    - `POST /_control/reset`: empties the queue and forgets finished records;
    - `GET /_control/requests`: every recorded request (JSON form of `RecordedRequest`);
    - `GET /_control/stats`: the counters.
    Control requests need no key and are not recorded.
    """
    try:
        status, payload = _answer(fake, request)
    except (ValueError, TypeError, KeyError) as exc:
        status, payload = 400, {"error": {"message": str(exc), "type": "invalid_request_error"}}
    return await send_json(conn, status, payload, keep_alive) and keep_alive


def _answer(fake: FakeKimi, request: HttpRequest) -> tuple[int, Any]:
    name, method = request.path.removeprefix("/_control/"), request.method
    body = json.loads(request.body) if request.body else None
    if (name, method) == ("enqueue", "POST"):
        queued = fake.enqueue_json(body)
        return 200, {"queued": queued, "pending": fake.pending}
    if (name, method) == ("default", "POST"):
        fake.set_default(item_from_json(body))
        return 200, {"ok": True}
    if (name, method) == ("gate", "POST"):
        if not isinstance(body, dict):
            raise ValueError('expected {"name": ..., "open": true|false}')
        if body.get("open", True):
            fake.open_gate(str(body["name"]))
        else:
            fake.close_gate(str(body["name"]))
        return 200, {"ok": True}
    if (name, method) == ("reset", "POST"):
        fake.reset()
        return 200, {"ok": True}
    if (name, method) == ("requests", "GET"):
        return 200, [r.to_json() for r in fake.requests]
    if (name, method) == ("stats", "GET"):
        return 200, dataclasses.asdict(fake.stats)
    return 404, {"error": {"message": f"no control {method} {name}", "type": "not_found"}}
