"""Prefix continuation: the continuation message per prefix mode, and repeated-prefix removal."""

from __future__ import annotations

from typing import Any

from ..config import PrefixMode
from ..config_roles import requires_key

SHORT_PREFIX = 8
"""Prefixes with fewer non-blank characters are only stripped from a reply once the endpoint
was seen repeating a longer one: a short prefix is too likely to begin a genuine reply."""


def continuation_message(prefix: str, mode: PrefixMode) -> dict[str, Any] | None:
    """The last (assistant) message continuing `prefix`; None in mode "none".

    "partial" is Moonshot's Partial Mode, "prefix" the relays' spelling (with `prefix: true` in
    the body too), "continue_final_message" vLLM/SGLang's: a plain assistant message that the
    chat template leaves open (see `continuation_body`)."""
    if mode == "partial":
        return {"role": "assistant", "content": prefix, "partial": True}
    if mode == "prefix":
        return {"role": "assistant", "content": prefix, "prefix": True}
    if mode == "continue_final_message":
        return {"role": "assistant", "content": prefix}
    return None


def continuation_body(mode: PrefixMode) -> dict[str, Any]:
    """Body fields a continuation in `mode` needs besides its last message."""
    if mode == "prefix":
        return {"prefix": True}
    if mode == "continue_final_message":
        # Without add_generation_prompt: false the template opens a new assistant turn, and
        # vLLM refuses continue_final_message together with it.
        return {"continue_final_message": True, "add_generation_prompt": False}
    return {}


LEARN_PREFIX = 64
"""A repeat of a prefix with at least this many non-blank characters marks the endpoint as one
that repeats prefixes; a shorter one may be a reply that merely begins like its prefix (a banner
of `#` continued by more `#`)."""


def should_detect(
    prefix: str, endpoint_repeats: bool, mode: PrefixMode = "prefix", base_url: str = ""
) -> bool:
    """Whether to watch a reply for a repeated `prefix`. Never on Moonshot's own endpoints in
    Partial Mode, whose replies never repeat it (kimi-api.md): there a reply that begins like
    its prefix is the model's text."""
    if not prefix or (mode == "partial" and requires_key(base_url)):
        return False
    return endpoint_repeats or len(prefix.strip()) >= SHORT_PREFIX


def learned_repeat(prefix: str) -> bool:
    """Whether a repeat of `prefix` proves the endpoint repeats prefixes (see LEARN_PREFIX)."""
    return len(prefix.strip()) >= LEARN_PREFIX


class PrefixStripper:
    """Holds back the start of a reply while it could still be a repeat of the prefix.

    `feed` returns the text that can be streamed now; once the reply is known to start with
    the whole prefix, the prefix is dropped (`repeated` becomes True); as soon as it diverges,
    everything held back is released unchanged. `flush` releases what is left at the end."""

    __slots__ = ("_pending", "_prefix", "decided", "repeated")

    def __init__(self, prefix: str | None) -> None:
        self._prefix = prefix or ""
        self._pending = ""
        self.decided = not self._prefix
        self.repeated = False

    def feed(self, text: str) -> str:
        if self.decided:
            return text
        pending = self._pending + text
        prefix = self._prefix
        if len(pending) >= len(prefix):
            self.decided = True
            self._pending = ""
            if pending.startswith(prefix):
                self.repeated = True
                return pending[len(prefix) :]
            return pending
        if prefix.startswith(pending):
            self._pending = pending
            return ""
        self.decided = True
        self._pending = ""
        return pending

    def flush(self) -> str:
        self.decided = True
        pending, self._pending = self._pending, ""
        return pending
