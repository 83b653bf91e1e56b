"""Regressions: a CLI error after a streamed start still reads as its own line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kimi_lsp.cli.chat import _chat
from tests.fake_kimi import FakeKimi, Fault, Reply

from .faults import KEY


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("MOONSHOT_API_KEY", KEY)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("KIMI_LSP_TOKENIZER_DOWNLOAD", "0")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("fault", "stream"),
    [
        (Reply(reasoning="thinking " * 4, content="", finish_reason="length"), "err"),
        (Fault.cut(after=3, reply=Reply(content="a partial answer", chunks=4)), "out"),
    ],
    ids=["reasoning-then-error", "answer-then-error"],
)
async def test_error_after_streaming_starts_its_own_line(
    env: Path, monkeypatch: pytest.MonkeyPatch, fault: Reply, stream: str
) -> None:
    async with FakeKimi() as fake:
        monkeypatch.setenv("KIMI_BASE_URL", fake.base_url)
        fake.enqueue(fault)
        out, err = io.StringIO(), io.StringIO()
        assert await _chat("hello", None, False, out, err) == 1
    streamed = (err if stream == "err" else out).getvalue()
    assert streamed.strip(), "the fault must strike after something was shown"
    assert out.getvalue() == "" or out.getvalue().endswith("\n")
    last = err.getvalue().splitlines()[-1]
    assert last.startswith("kimi-lsp: ") and ("output budget" in last or "broke off" in last)
