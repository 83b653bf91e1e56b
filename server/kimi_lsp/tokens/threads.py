"""Counting threads, each encoding with a tiktoken Encoding of its own (first used there)."""

from __future__ import annotations

import copy
import itertools
import logging
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

ADOPT_TIMEOUT_S = 30.0
# A counting thread needs the GIL for a moment between two texts. At Python's default 5 ms
# switch interval a thread busy in Python (planning a prompt) keeps it waiting up to that long
# for each text, ~60 texts a cold plan (stdlib cold index+pack: ~91 ms wall at 5 ms, ~79 at
# 0.5 ms). At 0.1 ms: the same on a quiet machine (~77 ms), and on a busy one, where the
# planning thread is often descheduled holding the GIL, plans alternated in one process took
# a median ~128 instead of ~160 ms; two threads both busy in Python lose ~2% to the extra
# switches (251 -> 257 ms CPU of the same work).
SWITCH_INTERVAL_S = 0.0001

# A little of everything a prompt holds: code, prose, numbers, non-ASCII, emoji.
WARM_UP_TEXT = (
    "def parse(line: str) -> dict[str, int]:\n    # Split «key=value» pairs; 42 → 0x2A\n"
    "    return {k.strip(): int(v) for k, v in (p.split('=') for p in line.split(','))}\n"
    "Le café coûte 3,50 €. 东京 ☕ 😀 — see https://example.com/a?b=1&c=2.\n"
) * 20


class CountingThreads:
    """A small pool whose threads each own one copy of the active encoding.

    Measured with tiktoken 0.14: an Encoding runs ~25% faster on the first thread that used it
    than on any other (its regex engine keeps a fast path for that thread), which is also why
    `encode_ordinary_batch` gains only ~1.4x from 2 threads. So every thread here gets its own
    Encoding — the original for the first, a copy (~20 MB, ~70 ms to build) for each other —
    and uses it first. Other threads keep using the original.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="kimi-count")
                # The threads hold their encodings: let them go with the owner of this pool.
                weakref.finalize(self, self._pool.shutdown, wait=False)
            return self._pool

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn(*args)` on a counting thread; with no threads, right here."""
        if self.threads < 1:
            done: Future[T] = Future()
            try:
                done.set_result(fn(*args))
            except Exception as exc:
                done.set_exception(exc)
            return done
        return self._executor().submit(fn, *args)

    def encoding_here(self, generation: int) -> Any | None:
        """This thread's own encoding for `generation`, if it is a counting thread that has one."""
        mine = getattr(self._local, "owned", None)
        if mine is not None and mine[0] == generation:
            return mine[1]
        return None

    def adopt(self, encoding: Any, generation: int) -> bool:
        """Give each thread its own encoding for `generation` and use it there first (blocking).

        Call before `encoding` is used on any other thread. False (counts still right, only
        slower) when a copy could not be made or the threads did not all answer in time."""
        if encoding is None or self.threads < 1:
            return False
        try:
            owned = [encoding, *(copy.copy(encoding) for _ in range(self.threads - 1))]
        except Exception as exc:  # an encoding that cannot be copied: share it
            log.debug("Counting threads share one encoding: %s", exc)
            owned = [encoding] * self.threads
        barrier = threading.Barrier(self.threads, timeout=ADOPT_TIMEOUT_S)
        turn = itertools.count()

        def take() -> None:
            barrier.wait()  # one task per thread: none returns before all have started
            mine = owned[next(turn)]
            mine.encode_ordinary(WARM_UP_TEXT)  # the first use, here; and the regex warms up
            self._local.owned = (generation, mine)

        pool = self._executor()
        tasks = [pool.submit(take) for _ in range(self.threads)]
        try:
            for task in tasks:
                task.result(timeout=ADOPT_TIMEOUT_S * 2)
        except Exception as exc:
            barrier.abort()
            log.warning("Token counting threads were not set up (counts will be slower): %s", exc)
            return False
        return True


def all_done(parts: list[Future[T]], finish: Callable[[list[T]], R]) -> Future[R]:
    """A future of `finish` over the results of `parts`, done when the last of them is."""
    joined: Future[R] = Future()
    left = [len(parts)]
    lock = threading.Lock()

    def done(_: Future[T]) -> None:
        with lock:
            left[0] -= 1
            if left[0]:
                return
        try:
            joined.set_result(finish([part.result() for part in parts]))
        except BaseException as exc:
            joined.set_exception(exc)

    for part in parts:
        part.add_done_callback(done)
    return joined
