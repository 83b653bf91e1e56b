"""Kimi's tiktoken.model in the cache dir: download policy, verified fetch, atomic install."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..limited_read import read_limited
from ..secrets.at_rest import write_private
from .bpe_file import MAX_BPE_FILE_BYTES, TokenizerUnavailable, sha256_hex, verified_ranks

MODEL_REPO = "moonshotai/Kimi-K2.6"
HF_ENDPOINT = "https://huggingface.co"
URL_ENV = "KIMI_LSP_TOKENIZER_URL"  # the file's full URL (tests: a local server)
DOWNLOAD_ENV = "KIMI_LSP_TOKENIZER_DOWNLOAD"  # "0" never downloads, "1" always may
TIMEOUT_SECONDS = 10.0  # connect, and each read
DEADLINE_SECONDS = 120.0  # the whole transfer (~3 MB)
MAX_BYTES = 32 * 1024 * 1024
RETRY_AFTER_SECONDS = 86_400.0  # after a failure, try again at most once a day

_SHA256 = re.compile(r"[0-9a-f]{64}")
_FALSE = {"", "0", "false", "no", "off"}


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in _FALSE


def cache_root(env: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/kimi-lsp`, else `%LOCALAPPDATA%/kimi-lsp` (Windows), else ~/.cache."""
    base = env.get("XDG_CACHE_HOME") or env.get("LOCALAPPDATA") or str(Path.home() / ".cache")
    return Path(base) / "kimi-lsp"


def model_url(env: Mapping[str, str]) -> str:
    """`KIMI_LSP_TOKENIZER_URL`, else the model repo's file on `$HF_ENDPOINT` (a mirror) or
    huggingface.co."""
    if env.get(URL_ENV):
        return env[URL_ENV]
    endpoint = (env.get("HF_ENDPOINT") or HF_ENDPOINT).rstrip("/")
    return f"{endpoint}/{MODEL_REPO}/resolve/main/tiktoken.model"


def download_blocked(env: Mapping[str, str]) -> str | None:
    """Why downloading is off, or None when allowed. `KIMI_LSP_TOKENIZER_DOWNLOAD` decides
    when set; otherwise `HF_HUB_OFFLINE` or `CI` (machines without internet) turn it off."""
    explicit = env.get(DOWNLOAD_ENV)
    if explicit is not None and explicit.strip():
        return None if _truthy(explicit) else f"{DOWNLOAD_ENV}={explicit}"
    if _truthy(env.get("HF_HUB_OFFLINE")):
        return "HF_HUB_OFFLINE is set"
    if _truthy(env.get("CI")):
        return f"CI is set ({DOWNLOAD_ENV}=1 downloads anyway)"
    return None


def atomic_write(path: Path, data: bytes) -> None:
    """Write via a unique temporary file in the same directory and `os.replace`: readers (other
    editors' servers included) see the old file or the whole new one, never a part. Like
    everything under the cache dir, 0600 in directories made 0700."""
    write_private(path, data)


class TokenizerCache:
    """`tiktoken.model` in the cache dir plus `tiktoken.model.json`: its sha256, where it came
    from, and the time and reason of the last failed download."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.model = directory / "tiktoken.model"
        self.sidecar = directory / "tiktoken.model.json"
        self.parsed = directory / "tiktoken.model.ranks"  # see ranks_cache

    def meta(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.sidecar.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _update_meta(self, **values: Any) -> None:
        meta = self.meta()
        meta.update(values)
        atomic_write(self.sidecar, json.dumps(meta, indent=2, sort_keys=True).encode())

    def load(self, expected_count: int | None) -> dict[bytes, int] | None:
        """The cached ranks, None when there are none; raises when the file is corrupt (its
        sha256 differs from the sidecar's) or malformed. A file put there by hand (no sidecar
        yet) is verified by structure and recorded."""
        try:
            data = read_limited(self.model, MAX_BPE_FILE_BYTES)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise TokenizerUnavailable(f"cannot read {self.model}: {exc.strerror or exc}") from None
        digest = sha256_hex(data)
        recorded = self.meta().get("sha256")
        if recorded is not None and recorded != digest:
            raise TokenizerUnavailable(f"{self.model} does not match the sha256 recorded for it")
        ranks = verified_ranks(data, str(self.model), expected_count, self.parsed, digest)
        if recorded is None:
            with contextlib.suppress(OSError):
                self._update_meta(sha256=digest, size=len(data), source="placed by hand")
        return ranks

    def failed_recently(self, now: float) -> bool:
        last = self.meta().get("last_failure")
        return isinstance(last, int | float) and 0 <= now - last < RETRY_AFTER_SECONDS

    def record_failure(self, now: float, error: str) -> None:
        with contextlib.suppress(OSError):
            self._update_meta(last_failure=now, last_error=error)

    def install(self, data: bytes, source: str, now: float) -> None:
        atomic_write(self.model, data)
        self._update_meta(
            sha256=sha256_hex(data),
            size=len(data),
            source=source,
            downloaded_at=now,
            last_failure=None,
            last_error=None,
        )


def _header_sha256(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().removeprefix("W/").strip('"').lower()
    return value if _SHA256.fullmatch(value) else None


def expected_sha256(responses: list[Any]) -> str | None:
    """The sha256 the Hugging Face hub reports for an LFS file: `X-Linked-Etag` (on the
    redirect from /resolve/), else an `ETag` that is a sha256 (a git blob's is a sha1)."""
    for header in ("x-linked-etag", "etag"):
        for response in responses:
            found = _header_sha256(response.headers.get(header))
            if found:
                return found
    return None


def fetch(url: str, user_agent: str) -> tuple[bytes, str | None]:
    """GET the file (following redirects) within the timeouts; returns the bytes and the
    sha256 the server announced, if any."""
    import httpx2

    timeout = httpx2.Timeout(TIMEOUT_SECONDS)
    deadline = time.monotonic() + DEADLINE_SECONDS
    try:
        with (
            httpx2.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url, headers={"User-Agent": user_agent}) as response,
        ):
            if response.status_code != 200:
                raise TokenizerUnavailable(f"{url} answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise TokenizerUnavailable(f"{url} is larger than {MAX_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise TokenizerUnavailable(f"{url} took over {DEADLINE_SECONDS:.0f} s")
                chunks.append(chunk)
            return b"".join(chunks), expected_sha256([*response.history, response])
    except httpx2.HTTPError as exc:
        raise TokenizerUnavailable(f"could not fetch {url}: {type(exc).__name__}: {exc}") from None


def download_into(
    cache: TokenizerCache, url: str, expected_count: int | None, user_agent: str, now: float
) -> dict[bytes, int]:
    """Fetch, verify (announced sha256, then structure), install atomically; the ranks.
    A failure is recorded in the sidecar (for the once-a-day retry) and raised."""
    try:
        data, announced = fetch(url, user_agent)
        if announced is not None and sha256_hex(data) != announced:
            raise TokenizerUnavailable(f"{url}: sha256 differs from the announced {announced}")
        ranks = verified_ranks(data, url, expected_count, cache.parsed)  # ready for the next load
        try:
            cache.install(data, url, now)
        except OSError as exc:
            raise TokenizerUnavailable(f"cannot write {cache.model}: {exc.strerror}") from None
    except TokenizerUnavailable as exc:
        cache.record_failure(now, str(exc))
        raise
    except Exception as exc:  # e.g. a malformed URL: still a failure to remember, not a crash
        cache.record_failure(now, f"{type(exc).__name__}: {exc}")
        raise TokenizerUnavailable(f"could not fetch {url}: {type(exc).__name__}: {exc}") from exc
    return ranks
