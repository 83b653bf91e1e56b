"""Reading and verifying tiktoken BPE files (one `base64-token rank` pair per line)."""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path


class TokenizerUnavailable(RuntimeError):
    """No BPE file could be loaded; counts fall back to a conservative estimate."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_bpe(data: bytes, origin: str = "the BPE file") -> dict[bytes, int]:
    """Parse a tiktoken BPE file's bytes; raise `TokenizerUnavailable` on any malformed line
    or a token listed twice (a dict would silently keep only the last)."""
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
    count = len(ranks)
    if expected_count is not None and count != expected_count:
        raise TokenizerUnavailable(f"{origin} has {count} ranks, expected {expected_count}")
    if set(ranks.values()) != set(range(count)):
        raise TokenizerUnavailable(f"{origin}: ranks are not exactly 0..{count - 1}")
    if any(bytes([byte]) not in ranks for byte in range(256)):
        raise TokenizerUnavailable(f"{origin} lacks a rank for some single byte")


def read_bpe_file(
    path: Path, expected_sha256: str | None = None, expected_count: int | None = None
) -> dict[bytes, int]:
    """Parse a tiktoken BPE file, verifying its checksum (if given) and its structure."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TokenizerUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
    if expected_sha256 is not None and sha256_hex(data) != expected_sha256.lower():
        raise TokenizerUnavailable(f"{path} does not match its expected checksum")
    ranks = parse_bpe(data, str(path))
    verify_ranks(ranks, expected_count, str(path))
    return ranks
