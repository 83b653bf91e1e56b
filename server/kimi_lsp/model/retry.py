"""Retry policy: exponential backoff with full jitter, bounded, and `Retry-After` honoured."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

MAX_RETRY_AFTER = 600.0
"""A `Retry-After` beyond this is treated as this (the deadline usually ends the wait sooner)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Delay before retry number `attempt` (0 for the first retry).

    Full jitter: uniform in [0, min(cap, base * 2**attempt)]. A server's `Retry-After` is a
    floor: the delay is never shorter than what the server asked for."""

    base: float = 0.5
    cap: float = 20.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)
    """Uniform in [0, 1); replace it for deterministic tests."""

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** min(max(0, attempt), 64))
        jittered = ceiling * self.jitter()
        if retry_after is not None:
            return max(retry_after, jittered)
        return jittered


def parse_retry_after(headers: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """Seconds from `retry-after-ms`, or `Retry-After` as seconds or an HTTP date; else None."""
    if not headers:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return _bounded(float(milliseconds) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    try:
        return _bounded(float(value))
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime  # rare: an HTTP-date Retry-After

        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    current = time.time() if now is None else now
    return _bounded(moment.timestamp() - current)


def _bounded(seconds: float) -> float | None:
    if seconds != seconds:  # NaN
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))
