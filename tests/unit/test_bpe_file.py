"""BPE files: the bulk parse answers as the line-by-line one; the parsed-ranks cache file."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kimi_lsp.tokens import bpe_file, ranks_cache
from kimi_lsp.tokens.bpe_file import (
    TokenizerUnavailable,
    parse_bpe,
    read_bpe_file,
    verified_ranks,
    verify_ranks,
)
from kimi_lsp.tokens.counter import TokenCounter, bundled_bpe_path
from kimi_lsp.tokens.download import TokenizerCache, download_into

MERGES = [b"he", b"ll", b"hell", b"hello", b"wor", b"ld"]


def ranks_of(merges: list[bytes]) -> dict[bytes, int]:
    ranks = {bytes([byte]): byte for byte in range(256)}
    for merge in merges:
        ranks[merge] = len(ranks)
    return ranks


def bpe_text(ranks: dict[bytes, int], end: bytes = b"\n") -> bytes:
    return end.join(base64.b64encode(token) + b" %d" % rank for token, rank in ranks.items()) + end


RANKS = ranks_of(MERGES)
TEXT = bpe_text(RANKS)


def outcome(parse: Callable[[bytes], dict[bytes, int]], data: bytes) -> object:
    """The ranks, or the error message."""
    try:
        return parse(data)
    except TokenizerUnavailable as exc:
        return f"error: {exc}"


# -- the bulk parse ---------------------------------------------------------------------------
def test_bulk_parse_answers_as_the_line_parse_or_declines() -> None:
    """Every token of up to 6 characters over letters, digits, `+`, `/` and `=`, and of 7-8
    over `B/=`, in a line `token 7`: where the line-by-line parse rejects it, the bulk parse
    declines (for the line parse to name the line); otherwise it gives the same ranks, or
    declines a token of a length that is not a multiple of 4 or with over two `=` (`AAAA=`,
    `AAAA====`: valid, but in no real file)."""
    taken = 0
    for alphabet, length in [*((b"Az9+/=", n) for n in range(1, 7)), (b"B/=", 7), (b"B/=", 8)]:
        for chars in itertools.product(alphabet, repeat=length):
            line = bytes(chars) + b" 7\n"
            bulk = bpe_file._parse_in_bulk(line)
            try:
                expected = bpe_file._parse_lines(line, "x")
            except TokenizerUnavailable:
                assert bulk is None, line
                continue
            if bulk is None:
                assert length % 4 or line.count(b"=") > 2, line
                continue
            assert bulk == expected, line
            taken += 1
    assert taken > 1_200  # the comparison did cover valid tokens


def test_bulk_parse_reads_the_real_cl100k_file_as_the_line_parse() -> None:
    path = bundled_bpe_path()
    assert path is not None
    data = path.read_bytes()
    bulk = bpe_file._parse_in_bulk(data)
    assert bulk is not None and len(bulk) == 100_256
    assert bulk == bpe_file._parse_lines(data, "x")


@pytest.mark.parametrize(
    "data",
    [
        TEXT,
        bpe_text(RANKS, b"\r\n"),  # Windows line ends
        TEXT.rstrip(b"\n"),  # no newline at the end
        TEXT.replace(b" ", b"\t"),  # other whitespace: the line parse's
        b"\n\n" + TEXT.replace(b"\n", b"\n  \n"),  # blank lines
        TEXT.replace(b" 1\n", b" +1\n"),  # what int() accepts
        b"",
    ],
)
def test_parse_bpe_gives_the_line_parse_answer(data: bytes) -> None:
    assert outcome(parse_bpe, data) == outcome(lambda d: bpe_file._parse_lines(d, "x"), data)
    assert outcome(parse_bpe, data) in (RANKS, {})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (TEXT + b"aGk= 1 extra\n", "x, line 263: expected `token rank`"),
        (TEXT + b"aGk=\n", "x, line 263: expected `token rank`"),
        (b"AA== 0\n%%%% 1\n", "x, line 2: not `base64 integer`"),
        (b"AA== 0\n\naGk 1\n", "x, line 3: not `base64 integer`"),  # bad padding
        (b"AA== 0\naGk== 1\n", "x, line 2: not `base64 integer`"),  # excess padding
        (b"AA== 0\naGk= one\n", "x, line 2: not `base64 integer`"),
        (TEXT + b"aGVsbG8= 999\n", "x, line 263: token listed twice"),
        (b"AA== 0\r\nAQ== 1\r\nAA== 2\r\n", "x, line 3: token listed twice"),
    ],
)
def test_malformed_files_are_rejected_with_the_line_named(data: bytes, message: str) -> None:
    with pytest.raises(TokenizerUnavailable) as raised:
        parse_bpe(data, "x")
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("ranks", "expected", "message"),
    [
        (RANKS, 300, "x has 262 ranks, expected 300"),
        ({**RANKS, b"hello": 300}, None, "x: ranks are not exactly 0..261"),
        ({**RANKS, b"hello": 0}, None, "x: ranks are not exactly 0..261"),
        ({k: v for k, v in RANKS.items() if k != b"\xff"}, None, "x: ranks are not exactly 0..260"),
    ],
)
def test_verify_ranks_messages(ranks: dict[bytes, int], expected: int | None, message: str) -> None:
    with pytest.raises(TokenizerUnavailable) as raised:
        verify_ranks(ranks, expected, "x")
    assert str(raised.value) == message


def test_verify_ranks_accepts_ranks_listed_out_of_order_and_wants_every_byte() -> None:
    shuffled = dict(reversed(RANKS.items()))
    verify_ranks(shuffled, len(RANKS), "x")
    no_byte = {token: rank - 1 for token, rank in RANKS.items() if token != b"\x00"}
    with pytest.raises(TokenizerUnavailable) as raised:
        verify_ranks(no_byte, None, "x")
    assert str(raised.value) == "x lacks a rank for some single byte"


# -- the parsed-ranks cache -------------------------------------------------------------------
@pytest.fixture
def bpe(tmp_path: Path) -> Path:
    path = tmp_path / "tiktoken.model"
    path.write_bytes(TEXT)
    return path


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Records each parse (a cache hit has none)."""
    parsed: list[bytes] = []
    real = bpe_file.parse_bpe

    def recording(data: bytes, origin: str = "the BPE file") -> dict[bytes, int]:
        parsed.append(data)
        return real(data, origin)

    monkeypatch.setattr(bpe_file, "parse_bpe", recording)
    return parsed


def test_a_parsed_file_is_read_from_the_cache_the_next_time(
    tmp_path: Path, bpe: Path, no_parsing: list[bytes]
) -> None:
    cache = tmp_path / "cache" / "parsed" / "x.ranks"
    assert read_bpe_file(bpe, expected_count=len(RANKS), cache=cache) == RANKS
    assert len(no_parsing) == 1 and cache.is_file()
    assert read_bpe_file(bpe, expected_count=len(RANKS), cache=cache) == RANKS
    assert len(no_parsing) == 1  # the second came from the cache
    assert [p.name for p in cache.parent.iterdir()] == ["x.ranks"]  # no temporary left


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_the_cache_file_is_the_users_only(tmp_path: Path, bpe: Path) -> None:
    cache = tmp_path / "cache" / "parsed" / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) & 0o077 == 0


def damaged(blob: bytes) -> list[bytes]:
    header = len(ranks_cache.MAGIC) + ranks_cache._HEADER.size
    flipped = bytearray(blob)
    flipped[-5] ^= 0x01  # a token's byte
    other_version = bytearray(blob)
    other_version[len(ranks_cache.MAGIC)] += 1
    return [
        bytes(flipped),
        blob[: len(blob) // 2],  # cut short
        blob[:header],  # no payload
        b"",
        b"garbage",
        bytes(other_version),
    ]


@pytest.mark.parametrize("case", range(6))
def test_a_damaged_cache_is_ignored_and_written_again(
    tmp_path: Path, bpe: Path, no_parsing: list[bytes], case: int
) -> None:
    cache = tmp_path / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    good = cache.read_bytes()
    cache.write_bytes(damaged(good)[case])
    assert read_bpe_file(bpe, cache=cache) == RANKS
    assert len(no_parsing) == 2  # parsed again
    assert cache.read_bytes() == good  # and stored again
    assert read_bpe_file(bpe, cache=cache) == RANKS
    assert len(no_parsing) == 2


@pytest.mark.parametrize("same_size", [False, True])
def test_the_cache_of_another_file_is_not_used(
    tmp_path: Path, bpe: Path, no_parsing: list[bytes], same_size: bool
) -> None:
    cache = tmp_path / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    other = ranks_of([*MERGES[:-1], b"lx"] if same_size else [b"hello", b"he"])
    bpe.write_bytes(bpe_text(other))
    assert (len(bpe_text(other)) == len(TEXT)) is same_size
    assert read_bpe_file(bpe, cache=cache) == other
    assert len(no_parsing) == 2
    assert read_bpe_file(bpe, cache=cache) == other  # the cache now holds the other file
    assert len(no_parsing) == 2


def test_a_cache_hit_still_checks_the_count_and_the_single_bytes(tmp_path: Path, bpe: Path) -> None:
    cache = tmp_path / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    with pytest.raises(TokenizerUnavailable) as raised:
        read_bpe_file(bpe, expected_count=300, cache=cache)
    assert str(raised.value) == f"{bpe} has 262 ranks, expected 300"
    # a cache file claiming this BPE file but lacking a byte (written by hand: ours never)
    key = hashlib.sha256(TEXT).digest()
    assert ranks_cache.write(cache, key, len(TEXT), [t for t in RANKS if t != b"A"])
    with pytest.raises(TokenizerUnavailable) as raised:
        read_bpe_file(bpe, cache=cache)
    assert str(raised.value) == f"{bpe} lacks a rank for some single byte"


@pytest.mark.parametrize("last", [b"he", ["not", "bytes"]])
def test_a_cache_not_of_distinct_tokens_is_not_used(tmp_path: Path, bpe: Path, last: Any) -> None:
    cache = tmp_path / "x.ranks"
    key = hashlib.sha256(TEXT).digest()
    ranks_cache.write(cache, key, len(TEXT), [*list(RANKS)[:-1], last])
    assert read_bpe_file(bpe, cache=cache) == RANKS
    assert ranks_cache.read(cache, key, len(TEXT)) == list(RANKS)  # written again


def test_the_checksum_is_verified_before_the_cache_is_read(tmp_path: Path, bpe: Path) -> None:
    cache = tmp_path / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    with pytest.raises(TokenizerUnavailable) as raised:
        read_bpe_file(bpe, "0" * 64, cache=cache)
    assert str(raised.value) == f"{bpe} does not match its expected checksum"
    digest = hashlib.sha256(TEXT).hexdigest()
    assert read_bpe_file(bpe, digest.upper(), cache=cache) == RANKS


def test_a_malformed_file_is_rejected_whatever_the_cache(tmp_path: Path, bpe: Path) -> None:
    cache = tmp_path / "x.ranks"
    read_bpe_file(bpe, cache=cache)
    bpe.write_bytes(TEXT + b"aGk= 1 extra\n")
    with pytest.raises(TokenizerUnavailable) as raised:
        read_bpe_file(bpe, cache=cache)
    assert str(raised.value) == f"{bpe}, line 263: expected `token rank`"
    key = hashlib.sha256(TEXT).digest()
    assert ranks_cache.read(cache, key, len(TEXT)) == list(RANKS)  # the good file's, kept


def test_ranks_listed_out_of_order_are_stored_by_rank(tmp_path: Path) -> None:
    data = bpe_text(dict(reversed(RANKS.items())))
    cache = tmp_path / "x.ranks"
    assert verified_ranks(data, "x", None, cache) == RANKS
    key = hashlib.sha256(data).digest()
    assert ranks_cache.read(cache, key, len(data)) == list(RANKS)
    assert verified_ranks(data, "x", None, cache) == RANKS


def test_an_unwritable_cache_only_costs_the_parse(tmp_path: Path, bpe: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert read_bpe_file(bpe, cache=blocker / "parsed" / "x.ranks") == RANKS
    assert not ranks_cache.write(blocker / "x.ranks", b"\0" * 32, 1, [b"a"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "tiktoken.model"]


def test_the_cache_reads_only_its_own_format(tmp_path: Path) -> None:
    cache = tmp_path / "x.ranks"
    key = hashlib.sha256(b"source").digest()
    assert ranks_cache.write(cache, key, 6, [b"a", b"b"])
    assert ranks_cache.read(cache, key, 6) == [b"a", b"b"]
    assert ranks_cache.read(cache, key, 7) is None
    assert ranks_cache.read(cache, hashlib.sha256(b"other!").digest(), 6) is None
    assert ranks_cache.read(tmp_path / "missing", key, 6) is None
    blob = cache.read_bytes()
    wrong_count = bytearray(blob)
    wrong_count[len(ranks_cache.MAGIC) + ranks_cache._HEADER.size - 8] = 3
    cache.write_bytes(bytes(wrong_count))
    assert ranks_cache.read(cache, key, 6) is None


# -- where the loaders keep it ------------------------------------------------------------------
def test_the_counter_keeps_the_bundled_files_ranks(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
    first = TokenCounter(env=env, counting_threads=0)
    first.load()
    stored = tmp_path / "kimi-lsp" / "tokenizer" / "parsed" / "cl100k_base.ranks"
    assert first.source == "bundled" and stored.is_file()
    written = stored.stat().st_mtime_ns, stored.read_bytes()
    second = TokenCounter(env=env, counting_threads=0)
    second.load()
    assert second.source == "bundled" and second.error is None
    assert (stored.stat().st_mtime_ns, stored.read_bytes()) == written  # read, not rewritten
    text = "def parse(line: str) -> dict[str, int]:\n    return {}\n"
    assert second.count_raw(text) == first.count_raw(text) > 0


def test_the_tokenizer_path_and_the_kimi_cache_keep_their_ranks(
    tmp_path: Path, bpe: Path, no_parsing: list[bytes]
) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "c"), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}
    for _ in range(2):
        counter = TokenCounter(bpe, env=env, expected_ranks=len(RANKS), counting_threads=0)
        counter.load()
        assert counter.source == "tokenizerPath"
    assert len(no_parsing) == 1
    assert (tmp_path / "c" / "kimi-lsp" / "tokenizer" / "parsed" / "tokenizer-path.ranks").is_file()
    kimi = TokenizerCache(tmp_path / "kimi-k2")
    kimi.install(TEXT, "test", 0.0)
    for _ in range(2):
        assert kimi.load(len(RANKS)) == RANKS
    assert len(no_parsing) == 2 and kimi.parsed.is_file()
    kimi.model.write_bytes(TEXT.replace(b"aGVsbG8=", b"aGVsbG9="))  # not the recorded file
    with pytest.raises(TokenizerUnavailable, match="does not match the sha256 recorded"):
        kimi.load(len(RANKS))


def test_a_download_leaves_its_ranks_for_the_next_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_parsing: list[bytes]
) -> None:
    from kimi_lsp.tokens import download

    monkeypatch.setattr(download, "fetch", lambda url, agent: (TEXT, None))
    kimi = TokenizerCache(tmp_path / "kimi-k2")
    assert download_into(kimi, "http://hub/tiktoken.model", len(RANKS), "test", 0.0) == RANKS
    assert kimi.load(len(RANKS)) == RANKS
    assert len(no_parsing) == 1
