"""Block counts on the counting threads: same numbers as counting inline, each text once."""

from __future__ import annotations

import threading

from kimi_lsp.context.engine import INLINE_COUNT_CHARS, BlockCounts
from kimi_lsp.tokens.counter import TokenCounter


class SlowCounter(TokenCounter):
    """A real tokenizer whose counts wait for a gate and are tallied."""

    def __init__(self) -> None:
        super().__init__(env={"KIMI_LSP_TOKENIZER_DOWNLOAD": "0"})
        self.load()
        self.gate = threading.Event()
        self.calls: list[int] = []

    def count(self, text: str) -> int:
        self.gate.wait(10)
        self.calls.append(len(text))
        return super().count(text)


def test_started_counts_match_inline_counts_and_are_counted_once() -> None:
    counter = SlowCounter()
    blocks = BlockCounts(counter)
    big = "def f(x):\n    return x * 2  # ünïcode\n" * 200
    assert len(big) >= INLINE_COUNT_CHARS
    first = blocks.start(big)
    second = blocks.start(big)  # already under way: not counted again
    counter.gate.set()
    assert first() == second() == TokenCounter.count(counter, big)
    assert counter.calls == [len(big)]
    assert blocks.start(big)() == first()  # now from the cache
    assert blocks.count(big) == first()
    assert counter.calls == [len(big)]


def test_short_texts_are_counted_on_the_callers_thread() -> None:
    counter = SlowCounter()
    counter.gate.set()
    blocks = BlockCounts(counter)
    small = "x = 1\n"
    waiting = blocks.start(small)
    assert counter.calls == [len(small)]  # counted already, before anyone waits
    assert waiting() == TokenCounter.count(counter, small)
