"""ContextEngine.file_symbols: one file's outline, computed when asked and kept until it changes."""

from __future__ import annotations

import os
from pathlib import Path

from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.tokens.counter import TokenCounter


def _engine(ws: Path) -> ContextEngine:
    engine = ContextEngine(TokenCounter())
    engine.configure([ws], [], 1_000_000)
    engine.build_index()
    return engine


def test_file_symbols_lazily_and_until_the_file_changes(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text(
        "class Shape:\n    def area(self):\n        return 0\n\ndef load():\n    pass\n"
    )
    (tmp_path / "blob.py").write_bytes(b"\x00\x01def x(): pass\n")
    engine = _engine(tmp_path)
    symbols = engine.file_symbols("pkg/mod.py")
    assert symbols is not None
    assert [(s.name, s.depth) for s in symbols] == [("Shape", 0), ("area", 1), ("load", 0)]
    assert engine.file_symbols("pkg/mod.py") is symbols  # remembered
    assert engine.file_symbols("missing.py") is None
    assert engine.file_symbols("blob.py") is None  # binary: unreadable as text

    source.write_text("def other():\n    pass\n")
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    engine.refresh([source])
    changed = engine.file_symbols("pkg/mod.py")
    assert changed is not None and [s.name for s in changed] == ["other"]
