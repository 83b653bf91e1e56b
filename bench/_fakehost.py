"""The fake Kimi API in its own process for bench/streaming.py: paced chunks, timed writes."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from tests.fake_kimi import FakeKimi, Reply  # noqa: E402
from tests.fake_kimi.wire import Connection, SseWriter  # noqa: E402

_ROLE_MARK = '"delta": {"role": "assistant"'
_CONTENT_MARK = '"delta": {"content": "'
_EMPTY_CONTENT_MARK = '"delta": {"content": ""'


class _Stream:
    """Write times of one SSE response."""

    __slots__ = ("content_times", "start")

    def __init__(self) -> None:
        self.start: float | None = None
        self.content_times: list[float] = []


_streams: list[_Stream] = []
_streams_lock = threading.Lock()

_original_start = SseWriter.start
_original_line = SseWriter.line
_original_sleep = Connection.sleep


async def _start(self: SseWriter) -> bool:
    stream = _Stream()
    self._bench_stream = stream  # type: ignore[attr-defined]
    self.conn._bench_next = None  # type: ignore[attr-defined]  # schedule anchor of this stream
    with _streams_lock:
        _streams.append(stream)
    return await _original_start(self)


async def _line(self: SseWriter, text: str) -> bool:
    now = time.perf_counter()  # before the write: a receipt can never come earlier
    ok = await _original_line(self, text)
    stream: _Stream | None = getattr(self, "_bench_stream", None)
    if stream is not None:
        if stream.start is None and _ROLE_MARK in text:
            stream.start = now
            self.conn._bench_next = now  # type: ignore[attr-defined]
        elif _CONTENT_MARK in text and _EMPTY_CONTENT_MARK not in text:
            stream.content_times.append(now)
    return ok


# The event loop's timers wake up late here (epoll's timeouts: asyncio.sleep(0.2) took 206-210
# ms where time.sleep(0.2) took 201): the last stretch of every wait sleeps on a thread.
_COARSE_MARGIN = 0.02


async def _precise_sleep(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    if seconds > _COARSE_MARGIN:
        await asyncio.sleep(seconds - _COARSE_MARGIN)
    rest = deadline - time.perf_counter()
    if rest > 0:
        await asyncio.to_thread(time.sleep, rest)


async def _sleep(self: Connection, seconds: float) -> bool:
    due: float | None = getattr(self, "_bench_next", None)
    if seconds <= 0:
        return await _original_sleep(self, seconds)
    if due is None:  # before the first event (`delay`)
        await _precise_sleep(seconds)
        return self.gone.is_set()
    due += seconds
    self._bench_next = due  # type: ignore[attr-defined]
    wait = due - time.perf_counter()
    if wait > 0:
        await _precise_sleep(wait)
    return self.gone.is_set()


def install_hooks() -> None:
    """Timestamp SSE writes and pace chunk delays to an absolute schedule (this process only).

    The fake's files are untouched; its classes are patched in this process:

    - every SSE event is timestamped with `time.perf_counter()` (CLOCK_MONOTONIC on Linux, the
      same clock in every process) just before the fake writes it to the socket (after the
      write, a preempted fake could stamp a chunk later than its consumer received it);
      `start` is the role chunk's time, `content_times[i]` content chunk i's;
    - pacing is absolute: content chunk i is due at `start + (i + 1) / R` instead of `1 / R`
      after the previous write, so the rate does not drift with timer overshoot. The event
      loop's timers have ~1 ms granularity (epoll), so above ~1000 chunks/s chunks leave in
      small bursts (each still timestamped); a fake that fell behind catches up at once;
    - every wait ends on time: the loop's own timers wake up several ms late on this machine,
      so the last stretch of each wait sleeps on a thread.
    """
    SseWriter.start = _start  # type: ignore[method-assign]
    SseWriter.line = _line  # type: ignore[method-assign]
    Connection.sleep = _sleep  # type: ignore[method-assign]


def _collect(fake: FakeKimi, seen: int, bodies: bool) -> tuple[list[dict[str, Any]], int]:
    with _streams_lock:
        streams = list(_streams)
    records = [r for r in fake.chat_requests if r.stream][seen:]
    out: list[dict[str, Any]] = []
    for record, stream in zip(records, streams[seen:], strict=False):
        item: dict[str, Any] = {
            "arrived_at": record.arrived_at,
            "ended_at": record.ended_at,
            "outcome": record.outcome,
            "start": stream.start,
            "content_times": stream.content_times,
        }
        if bodies:
            item["body"] = record.body
        out.append(item)
    return out, seen + len(out)


def main() -> int:
    """Serve until `quit` or EOF on stdin; one JSON line per command on stdout.

    Prints `{"base_url": ...}` once listening, then answers:

    - `{"op": "enqueue", "chunks": [...], "rate": R, "delay": D}`: the next chat stream sends
      these content chunks at R chunks/s, D seconds after the headers -> `{"ok": true}`;
    - `{"op": "collect", "bodies": false}`: the chat streams served since the last collect, in
      order -> `{"streams": [{"arrived_at", "ended_at", "outcome", "start", "content_times",
      "body"?}]}`;
    - `{"op": "quit"}`: stop.
    """
    install_hooks()
    fake = FakeKimi().start_in_thread()
    seen = 0
    try:
        print(json.dumps({"base_url": fake.base_url}), flush=True)
        for raw in sys.stdin:
            command = json.loads(raw)
            op = command.get("op")
            reply: dict[str, Any]
            if op == "enqueue":
                fake.enqueue(
                    Reply(
                        content=list(command["chunks"]),
                        chunk_delay=1.0 / float(command["rate"]),
                        delay=float(command.get("delay", 0.0)),
                    )
                )
                reply = {"ok": True}
            elif op == "collect":
                streams, seen = _collect(fake, seen, bool(command.get("bodies")))
                reply = {"streams": streams}
            elif op == "quit":
                break
            else:
                reply = {"error": f"unknown op {op!r}"}
            print(json.dumps(reply), flush=True)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
