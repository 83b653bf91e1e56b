"""Reading and verifying tiktoken BPE files (one `base64-token rank` pair per line)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from pathlib import Path

from ..limited_read import read_limited
from . import ranks_cache

# Real BPE files are 1-3 MB. The limit keeps a `tokenizerPath` naming /dev/zero, a FIFO or a
# huge file (it can come from a settings file) from hanging the server or eating its memory.
MAX_BPE_FILE_BYTES = 32 * 1024 * 1024


class TokenizerUnavailable(RuntimeError):
    """No BPE file could be loaded; counts fall back to a conservative estimate."""


# A whole file of `token rank` lines, each a single space apart, in one compiled match: the
# bulk parse below takes only such files (all real ones); anything else goes line by line.
_WELL_FORMED = re.compile(rb"(?:[A-Za-z0-9+/]++={0,2} [0-9]++\r?\n)*+")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_bpe(data: bytes, origin: str = "the BPE file") -> dict[bytes, int]:
    """Parse a tiktoken BPE file's bytes; raise `TokenizerUnavailable` on any malformed line
    or a token listed twice (a dict would silently keep only the last)."""
    ranks = _parse_in_bulk(data)
    return ranks if ranks is not None else _parse_lines(data, origin)


def _parse_in_bulk(data: bytes) -> dict[bytes, int] | None:
    """`_parse_lines`'s answer for a well-formed file at ~60% of its cost (C loops instead of
    one Python iteration per line), or None when anything is unusual — a malformed line, a
    token listed twice — for `_parse_lines` to name the line."""
    body = data if not data or data.endswith(b"\n") else data + b"\n"
    if _WELL_FORMED.fullmatch(body) is None:
        return None
    fields = body.split()
    tokens = fields[0::2]
    # Of such tokens, those whose length is a multiple of 4 (all real ones) plain `a2b_base64`
    # decodes as `b64decode(validate=True)` does, and rejects where it does (its strict mode
    # costs 2.5x); others (`AAAA=` passes validate) go line by line. tests/unit/test_bpe_file.py
    # checks this on every short token.
    if any(length & 3 for length in set(map(len, tokens))):
        return None
    try:
        ranks = dict(zip(map(binascii.a2b_base64, tokens), map(int, fields[1::2]), strict=True))
    except (binascii.Error, ValueError):
        return None
    return ranks if len(ranks) == len(tokens) else None


def _parse_lines(data: bytes, origin: str) -> dict[bytes, int]:
    ranks: dict[bytes, int] = {}
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split()
        if len(fields) != 2:
            raise TokenizerUnavailable(f"{origin}, line {number}: expected `token rank`")
        try:
            token = base64.b64decode(fields[0], validate=True)
            rank = int(fields[1])
        except (binascii.Error, ValueError):
            raise TokenizerUnavailable(f"{origin}, line {number}: not `base64 integer`") from None
        if token in ranks:
            raise TokenizerUnavailable(f"{origin}, line {number}: token listed twice")
        ranks[token] = rank
    return ranks


def verify_ranks(ranks: dict[bytes, int], expected_count: int | None, origin: str) -> None:
    """The ranks must be exactly 0..N-1 (no gap, no duplicate), N = expected_count if given,
    and include every single byte (else some text could not be encoded at all)."""
    _verify_count(ranks, expected_count, origin)
    count = len(ranks)
    values = list(ranks.values())
    # Files list their ranks in order: one list comparison, half the cost of the two sets.
    if values != list(range(count)) and set(values) != set(range(count)):
        raise TokenizerUnavailable(f"{origin}: ranks are not exactly 0..{count - 1}")
    _verify_bytes(ranks, origin)


def _verify_count(ranks: dict[bytes, int], expected_count: int | None, origin: str) -> None:
    if expected_count is not None and len(ranks) != expected_count:
        raise TokenizerUnavailable(f"{origin} has {len(ranks)} ranks, expected {expected_count}")


def _verify_bytes(ranks: dict[bytes, int], origin: str) -> None:
    if any(bytes([byte]) not in ranks for byte in range(256)):
        raise TokenizerUnavailable(f"{origin} lacks a rank for some single byte")


def verified_ranks(
    data: bytes,
    origin: str,
    expected_count: int | None,
    cache: Path | None = None,
    digest: str | None = None,
) -> dict[bytes, int]:
    """`parse_bpe` then `verify_ranks`. With `cache`, a file parsed before (the same sha256 and
    size; `digest` if the caller has it) is read from there instead of parsed (a few ms, not
    ~40), and a file parsed now is stored there for the next process."""
    if cache is None:
        ranks = parse_bpe(data, origin)
        verify_ranks(ranks, expected_count, origin)
        return ranks
    key = bytes.fromhex(digest or sha256_hex(data))
    tokens = ranks_cache.read(cache, key, len(data))
    if tokens is not None:
        try:
            ranks = dict(zip(tokens, range(len(tokens)), strict=True))
        except TypeError:  # an unhashable "token": not what we store
            ranks = {}
        if len(ranks) == len(tokens):  # else not what was stored: parse the file again
            # This file passed `verify_ranks` when it was stored, and its ranks are 0..N-1 by
            # construction here; the checks that depend on the caller or the stored tokens
            # run again (the expected count may differ; every single byte present).
            _verify_count(ranks, expected_count, origin)
            _verify_bytes(ranks, origin)
            return ranks
    ranks = parse_bpe(data, origin)
    verify_ranks(ranks, expected_count, origin)
    ranks_cache.write(cache, key, len(data), _in_rank_order(ranks))
    return ranks


def _in_rank_order(ranks: dict[bytes, int]) -> list[bytes]:
    """The tokens of verified ranks (exactly 0..N-1) listed by rank."""
    tokens = list(ranks)
    if list(ranks.values()) != list(range(len(tokens))):  # a file listing them out of order
        for token, rank in ranks.items():
            tokens[rank] = token
    return tokens


def read_bpe_file(
    path: Path,
    expected_sha256: str | None = None,
    expected_count: int | None = None,
    cache: Path | None = None,
) -> dict[bytes, int]:
    """Parse a tiktoken BPE file, verifying its checksum (if given) and its structure; through
    the parsed-ranks `cache` file if given (see `verified_ranks`). Only a regular file of at
    most MAX_BPE_FILE_BYTES is read."""
    try:
        data = read_limited(path, MAX_BPE_FILE_BYTES)
    except OSError as exc:
        raise TokenizerUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
    digest = sha256_hex(data) if expected_sha256 is not None or cache is not None else None
    if expected_sha256 is not None and digest != expected_sha256.lower():
        raise TokenizerUnavailable(f"{path} does not match its expected checksum")
    return verified_ranks(data, str(path), expected_count, cache, digest)
