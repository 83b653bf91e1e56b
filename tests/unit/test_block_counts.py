"""Block counts on the counting threads: same numbers as counting inline, each text once."""

from __future__ import annotations

import threading
from pathlib import Path

from kimi_lsp.context.builder import ContextRequest, OpenDocument, index_free_blocks
from kimi_lsp.context.engine import INLINE_COUNT_CHARS, BlockCounts, ContextEngine
from kimi_lsp.context.prompt import SYSTEM_PROMPTS
from kimi_lsp.secrets.redact import Redactor
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


def test_counts_started_while_the_walk_runs_are_the_plans(tmp_path: Path) -> None:
    """The server's first request starts counting the current file before the walk is done;
    its plan then counts that block no more, and is the plan made without the head start."""
    body = "import util\n\n" + "def f(x):\n    return util.helper(x) * 2  # ünïcode\n" * 300
    (tmp_path / "app.py").write_text(body)
    (tmp_path / "util.py").write_text("def helper(x):\n    return x + 1\n")
    current = OpenDocument((tmp_path / "app.py").as_uri(), "app.py", body, "python")
    request = ContextRequest(
        purpose="chat",
        instruction="explain f",
        system_prompt=SYSTEM_PROMPTS["chat"],
        current=current,
        cursor_line=5,
    )
    plans = []
    for early in (True, False):
        counter = SlowCounter()
        counter.gate.set()
        engine = ContextEngine(counter)
        engine.configure([tmp_path], [], 1_000_000)
        redactor = Redactor(None, True)
        block = index_free_blocks(current, request.system_prompt, "explain f", redactor)[0]
        assert len(block) > len(body) >= INLINE_COUNT_CHARS  # the current file's, whole
        if early:
            engine.start_counts(current, request.system_prompt, "explain f", redactor)
            engine.blocks.count(block)  # waits for the count under way: none started anew
            assert counter.calls.count(len(block)) == 1
        engine.build_index()
        plans.append(engine.plan(request, 50_000, redactor, {}))
        assert counter.calls.count(len(block)) == 1  # early: not counted again by the plan
    early_plan, plan = plans
    assert early_plan.sections == plan.sections
    assert early_plan.sections[0].kind == "current_file"
    assert early_plan.sections[0].text == block
