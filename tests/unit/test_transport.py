"""Frame parsing: any chunking of the byte stream yields the same message bodies."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.lsp.transport import FrameParser


def frame(body: bytes, extra_header: bool = False) -> bytes:
    header = b"Content-Length: %d\r\n" % len(body)
    if extra_header:
        header += b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
    return header + b"\r\n" + body


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(max_size=40), min_size=1, max_size=8),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20),
    st.booleans(),
)
def test_chunking_does_not_matter(texts: list[str], cuts: list[int], extra: bool) -> None:
    bodies = [json.dumps({"t": t}, ensure_ascii=False).encode() for t in texts]
    stream = b"".join(frame(b, extra) for b in bodies)
    parser = FrameParser()
    out: list[bytes] = []
    position = 0
    for cut in cuts * 100:
        if position >= len(stream):
            break
        out += parser.feed(stream[position : position + cut])
        position += cut
    out += parser.feed(stream[position:])
    assert out == bodies


def test_header_without_length_is_skipped() -> None:
    parser = FrameParser()
    out = parser.feed(b"X-Nothing: 1\r\n\r\n" + frame(b'{"ok":1}'))
    assert out == [b'{"ok":1}']


def test_case_insensitive_header_and_garbage_overflow() -> None:
    parser = FrameParser()
    assert parser.feed(b"content-length: 2\r\n\r\n{}") == [b"{}"]
    assert parser.feed(b"x" * 10_000) == []
    assert parser.feed(frame(b"[]")) == [b"[]"]
