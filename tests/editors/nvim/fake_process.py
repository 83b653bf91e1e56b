"""A fake Kimi API in a process of its own that answers every request with a function, for
scenarios whose requests a queue cannot foresee (a refactor's fan-out, edit prediction)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

from tests.fake_kimi import FakeKimi, Reply


def serve(respond: Callable[[Any], Reply], argv: list[str]) -> int:
    """Serve until SIGTERM; prints `READY <base url>` once listening. `argv[1]`, when given, is
    the only API key accepted."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake = FakeKimi(api_keys=tuple(argv[1:2]) or None).start_in_thread()
    fake.set_default(respond)
    print(f"READY {fake.base_url}", flush=True)
    try:
        stop.wait()
    finally:
        fake.stop()
    return 0
