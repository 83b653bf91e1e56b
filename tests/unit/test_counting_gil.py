"""Counting threads get the GIL back quickly between texts (a short switch interval)."""

from __future__ import annotations

import sys

from kimi_lsp.tokens.threads import SWITCH_INTERVAL_S, CountingThreads


def test_starting_the_counting_threads_shortens_the_gil_switch_interval() -> None:
    before = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)  # Python's default
        pool = CountingThreads(1)
        assert pool.submit(len, "abc").result() == 3
        assert sys.getswitchinterval() <= SWITCH_INTERVAL_S
        sys.setswitchinterval(SWITCH_INTERVAL_S / 2)  # a shorter one set elsewhere is kept
        assert CountingThreads(1).submit(len, "ab").result() == 2
        assert sys.getswitchinterval() <= SWITCH_INTERVAL_S / 2 * 1.01
    finally:
        sys.setswitchinterval(before)
