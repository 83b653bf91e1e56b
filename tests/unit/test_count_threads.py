"""Counting threads: one Encoding per thread, exact pieces of long texts, joined futures."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import regex  # type: ignore[import-untyped]  # tiktoken's own dependency
from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.tokens import counter as tokens
from kimi_lsp.tokens.counter import TokenCounter, exact_pieces
from kimi_lsp.tokens.kimi_bpe import KIMI_PATTERN
from kimi_lsp.tokens.threads import CountingThreads, all_done

from .test_tokens import SMALL_COUNT, offline_env, small_bpe

__all__ = ["small_bpe"]  # a fixture, used by name


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> TokenCounter:
    counter = TokenCounter(env=offline_env(tmp_path_factory.mktemp("count")))
    counter.load()
    assert counter.source == "bundled"
    return counter


# Whitespace in every arrangement around newlines, punctuation that swallows newlines, Han,
# accents, a no-break space, contractions: the places where a cut could split a token.
ALPHABET = ["a", "Zq", "7", "42", " ", "  ", "\t", "\n", "\r\n", "):", "é", "东京", "\u00a0", "'s"]
texts = st.lists(st.sampled_from(ALPHABET), max_size=80).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=texts, parts=st.integers(2, 6))
def test_exact_pieces_add_up_exactly_with_cl100k(
    bundled: TokenCounter, text: str, parts: int
) -> None:
    pieces = exact_pieces(text, parts)
    assert "".join(pieces) == text
    assert len(pieces) <= parts
    assert sum(bundled.count_raw(p) for p in pieces) == bundled.count_raw(text)


@settings(max_examples=300, deadline=None)
@given(text=texts, parts=st.integers(2, 6))
@pytest.mark.parametrize("pattern", [KIMI_PATTERN, tokens._CL100K_PATTERN], ids=["kimi", "cl100k"])
def test_no_split_pattern_piece_spans_a_cut(pattern: str, text: str, parts: int) -> None:
    # BPE merges only inside the pattern's pieces: the same pieces, the same tokens.
    pieces = exact_pieces(text, parts)
    whole = regex.findall(pattern, text, regex.V1)
    assert [p for piece in pieces for p in regex.findall(pattern, piece, regex.V1)] == whole


def test_exact_pieces_cut_indented_code_into_similar_halves() -> None:
    body = "".join(f"    def f{i}(self):\n        return {i}\n" for i in range(400))
    text = "class A:\n" + body
    first, second = exact_pieces(text, 2)
    assert first + second == text
    assert abs(len(first) - len(second)) < 100  # cut inside the indented body, not at its end
    assert first.endswith("\n") and second.lstrip(" ").startswith(("def", "return"))
    assert exact_pieces("no newline at all " * 100, 3) == ["no newline at all " * 100]


def test_long_texts_are_counted_in_pieces_with_the_same_total(bundled: TokenCounter) -> None:
    text = "".join(f"    value_{i} = compute({i}, 'x')  # note {i}\n" for i in range(2000))
    assert len(text) > tokens.SPLIT_CHARS
    assert len(exact_pieces(text, 2)) == 2
    assert bundled.submit(text).result() == bundled.count(text)
    short = "x = 1\n"
    assert bundled.submit(short).result() == bundled.count(short)
    many = [text[: 5_000 * i] for i in range(1, 20)]
    assert bundled.count_many(many) == [bundled.count(t) for t in many]


def test_every_counting_thread_has_an_encoding_of_its_own(bundled: TokenCounter) -> None:
    threads: CountingThreads = bundled._threads
    generation = bundled.generation
    barrier = threading.Barrier(threads.threads, timeout=10)

    def mine() -> tuple[str, Any]:
        barrier.wait()  # one call per thread
        return threading.current_thread().name, threads.encoding_here(generation)

    seen = [f.result() for f in [threads.submit(mine) for _ in range(threads.threads)]]
    names = {name for name, _ in seen}
    encodings = [enc for _, enc in seen]
    assert len(names) == threads.threads
    assert all(enc is not None for enc in encodings)
    assert len({id(enc) for enc in encodings}) == threads.threads  # no two share one
    assert bundled._active.encoding in encodings  # the original went to one of them
    assert threads.encoding_here(generation) is None  # this thread is no counting thread
    assert threads.encoding_here(generation + 1) is None


def test_a_new_tokenizer_is_adopted_by_the_threads(tmp_path: Path, small_bpe: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path), expected_ranks=SMALL_COUNT)
    counter.load()
    assert counter.source == "bundled"
    before = counter.count("hello world, hello tokens")
    counter.configure(tokenizer_path=small_bpe)
    counter.load()
    assert counter.describe()["source"] == "tokenizerPath"
    text = "hello world, hello tokens"
    assert counter.submit(text).result() == counter.count(text) != before


def test_an_encoding_that_cannot_be_copied_is_shared() -> None:
    class Plain:
        def __init__(self) -> None:
            self.calls: list[str] = []

        def encode_ordinary(self, text: str) -> list[int]:
            self.calls.append(threading.current_thread().name)
            return [0] * len(text)

        def __reduce_ex__(self, protocol: Any) -> Any:
            raise TypeError("no copies")

    threads = CountingThreads(2)
    plain = Plain()
    assert threads.adopt(plain, 1)
    assert len(set(plain.calls)) == 2  # warmed up on both threads, one object
    assert threads.submit(threads.encoding_here, 1).result() is plain
    assert not threads.adopt(None, 2)


def test_joined_futures_pass_on_a_failure(bundled: TokenCounter) -> None:
    ok: Future[int] = Future()
    bad: Future[int] = Future()
    joined = all_done([ok, bad], sum)
    ok.set_result(3)
    assert not joined.done()
    bad.set_exception(RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        joined.result(timeout=1)
    good = all_done([ok, ok], sum)
    assert good.result(timeout=1) == 6


def test_without_counting_threads_counts_run_on_the_caller(tmp_path: Path) -> None:
    counter = TokenCounter(env=offline_env(tmp_path), counting_threads=0)
    counter.load()
    text = "".join(f"line_{i} = {i}\n" for i in range(4_000))
    assert len(text) > tokens.SPLIT_CHARS
    assert counter.submit(text).done()  # nothing was queued anywhere
    assert counter.submit(text).result() == counter.count(text)
    assert counter.count_many([text, text]) == [counter.count(text)] * 2
