"""Frame parsing: any chunking yields the same bodies; strict (TCP) frames take LSP headers only."""

from __future__ import annotations

import json

import pytest
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


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.text(max_size=40), min_size=1, max_size=6),
    st.integers(min_value=1, max_value=64),
    st.booleans(),
)
def test_strict_frames_split_the_same_whatever_the_chunks(
    texts: list[str], cut: int, extra: bool
) -> None:
    bodies = [json.dumps({"t": t}, ensure_ascii=False).encode() for t in texts]
    stream = b"".join(frame(b, extra) for b in bodies)
    parser = FrameParser(strict=True)
    out: list[bytes] = []
    for start in range(0, len(stream), cut):
        out += parser.feed(stream[start : start + cut])
    assert out == bodies and parser.rejected is None


HTTP_POST = (
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1:2087\r\nOrigin: http://evil.example\r\n"
    b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n"
)


@pytest.mark.parametrize(
    "header",
    [
        HTTP_POST,
        b"Content-Length: %d\r\nHost: x\r\n\r\n",
        b"Content-Length: %d\r\nContent-Length: 2\r\n\r\n",
        b"Content-Length: %d\r\nX-Anything: 1\r\n\r\n",
        b"junk Content-Length: %d\r\n\r\n",
    ],
)
def test_strict_frames_reject_anything_but_lsp_headers(header: bytes) -> None:
    body = b'{"jsonrpc":"2.0","method":"exit"}'
    parser = FrameParser(strict=True)
    assert parser.feed(frame(b"{}") + header % len(body) + body + frame(b"[]")) == [b"{}"]
    assert parser.rejected is not None
    assert parser.feed(frame(b"[]")) == []  # nothing more, ever


def test_strict_frames_reject_a_header_that_never_ends() -> None:
    parser = FrameParser(strict=True)
    assert parser.feed(b"GET / HTTP/1.1\r\n" + b"x" * 10_000) == []
    assert parser.rejected is not None


@pytest.mark.parametrize("wrapped", [False, True])
def test_tolerant_frames_drop_an_http_request_with_its_body(wrapped: bool) -> None:
    inner = b'{"jsonrpc":"2.0","id":1,"method":"exit"}'
    body = frame(inner) if wrapped else inner
    parser = FrameParser()
    assert parser.feed(HTTP_POST % len(body) + body + frame(b"[]")) == [b"[]"]
    assert parser.rejected is None
