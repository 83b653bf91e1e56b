"""A context engine over a workspace on disk, walked and deep-indexed, for planning tests."""

from __future__ import annotations

from pathlib import Path

from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.tokens.counter import TokenCounter


def deep_engine(root: Path, cache: Path) -> ContextEngine:
    """`root` walked and deep-indexed in memory, counting with the bundled tokenizer (offline,
    its parsed ranks kept under `cache`)."""
    counter = TokenCounter(env={"XDG_CACHE_HOME": str(cache), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"})
    counter.load()
    engine = ContextEngine(counter)
    engine.configure([root], [], 1_000_000)
    engine.build_index()
    engine.build_deep()
    return engine
