"""Put the user's real secrets back where a model reply kept the markers that hid them."""

from __future__ import annotations

import re

from ..errors import ErrorKind, RequestFailedError
from ..secrets.redact import redact

_MARKER = re.compile(r"\[REDACTED:([a-z0-9-]+)\]")


def restore_secrets(code: str, original: str, api_key: str | None, patterns: bool) -> str:
    """`code` with each `[REDACTED:kind]` marker replaced by the value it hid in `original`
    (the model saw `original` redacted the same way and can only echo the markers).

    Markers are matched per kind, in order. A reply that keeps fewer markers of a kind than
    the original had, with different values hidden behind them, is ambiguous; one with more,
    or a kind the original did not hide, would write a marker into the file: both are refused.
    """
    if "[REDACTED:" not in code:
        return code
    extra = [api_key] if api_key else []
    hidden = redact(original, extra=extra, patterns=patterns).values
    used: dict[str, int] = {}
    wanted: dict[str, int] = {}
    for match in _MARKER.finditer(code):
        wanted[match[1]] = wanted.get(match[1], 0) + 1
    for kind, count in wanted.items():
        values = hidden.get(kind, [])
        if count > len(values) or (count < len(values) and len(set(values)) > 1):
            raise RequestFailedError(
                ErrorKind.BAD_RESPONSE,
                "Not applied: the proposal moves secrets that were hidden from the model "
                f"({kind}), so kimi cannot tell which value goes where. Edit the lines that "
                "hold secrets yourself, or select less.",
            )

    def put_back(match: re.Match[str]) -> str:
        kind = match[1]
        index = used.get(kind, 0)
        used[kind] = index + 1
        return hidden[kind][index]

    return _MARKER.sub(put_back, code)
