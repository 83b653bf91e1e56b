"""A correction factor for approximate token counts, learned from the API's usage, persisted."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from pathlib import Path
from typing import Any

from .download import atomic_write

log = logging.getLogger(__name__)

MIN_TOKENS = 256  # smaller requests are dominated by fixed overheads: not learned from
FACTOR_BOUNDS = (0.5, 2.0)  # the factor never leaves these
SAMPLE_BOUNDS = (0.25, 4.0)  # a ratio outside these cannot be the same request: ignored
DECAY = 0.95  # weight of the past per new sample (≈ the last 20 requests count)


def calibration_path(directory: Path, model: str) -> Path:
    """One file per model, e.g. `<cache>/kimi-lsp/tokenizer/calibration/kimi-k2.6.json`."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", model) or "model"
    return directory / f"{safe}.json"


class Calibration:
    """Ratio of (decayed) sums: the API's `usage.prompt_tokens` over our raw counts of the
    same requests, so big requests weigh more than small ones. Kept per tokenizer in the
    model's file; thread-safe; persistence failures only cost the memory across restarts."""

    def __init__(self, path: Path | None, tokenizer: str) -> None:
        self.path = path
        self.tokenizer = tokenizer
        self._lock = threading.Lock()
        self._api = 0.0
        self._ours = 0.0
        self.samples = 0
        self._read()

    def _read(self) -> None:
        entry = self._file().get(self.tokenizer)
        if not isinstance(entry, dict):
            return
        api, ours, samples = entry.get("api"), entry.get("ours"), entry.get("samples")
        if (
            isinstance(api, int | float)
            and isinstance(ours, int | float)
            and isinstance(samples, int)
            and api > 0
            and ours > 0
            and samples > 0
        ):
            self._api, self._ours, self.samples = float(api), float(ours), samples

    def _file(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    @property
    def factor(self) -> float | None:
        """api ÷ ours, within FACTOR_BOUNDS; None before the first accepted sample."""
        if self.samples == 0:
            return None
        low, high = FACTOR_BOUNDS
        return min(high, max(low, self._api / self._ours))

    def add(self, our_count: int, api_prompt_tokens: int) -> bool:
        """Learn from one request; False when it was ignored (tiny, or implausible)."""
        if our_count < MIN_TOKENS or api_prompt_tokens <= 0:
            return False
        ratio = api_prompt_tokens / our_count
        if not SAMPLE_BOUNDS[0] <= ratio <= SAMPLE_BOUNDS[1]:
            log.debug("Ignoring a calibration sample: ratio %.2f", ratio)
            return False
        with self._lock:
            self._api = self._api * DECAY + api_prompt_tokens
            self._ours = self._ours * DECAY + our_count
            self.samples += 1
            self._write()
        return True

    def _write(self) -> None:
        if self.path is None:
            return
        data = self._file()
        data[self.tokenizer] = {
            "api": self._api,
            "ours": self._ours,
            "samples": self.samples,
            "factor": self.factor,
        }
        try:
            atomic_write(self.path, json.dumps(data, indent=2, sort_keys=True).encode())
        except OSError as exc:
            log.debug("Could not save the token calibration to %s: %s", self.path, exc)

    def scale(self, raw: int) -> int:
        """`ceil(raw × factor)` (raw itself until calibrated)."""
        factor = self.factor
        if factor is None or raw == 0:
            return raw
        return max(0, math.ceil(raw * factor - 1e-9))
