"""Secret-looking strings in a text become `[REDACTED:<kind>]` markers before it leaves."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from .checks import Span, pem_spans
from .patterns import LOCATORS, PASSES, PEM

MARKER = "[REDACTED:{}]"
KINDS = (
    *("private-key", "aws-access-key-id", "aws-secret-access-key", "github-token", "slack-token"),
    *("slack-webhook", "api-key", "google-api-key", "stripe-key", "jwt", "url-password"),
    *("npm-token", "gitlab-token", "huggingface-token", "pypi-token"),
    *("bearer-token", "password", "secret", "token", "credential", "auth", "access-key"),
    "configured-secret",
)
_MARKERS = "".join(MARKER.format(kind) for kind in KINDS)


def _in_markers(s: str) -> bool:
    return "[" in s or "]" in s or s in _MARKERS


# Extra strings shorter than this are ignored: a configured key is long, and a short one could
# match ordinary text (or the markers themselves).
MIN_EXTRA_LENGTH = 6


@dataclass(frozen=True, slots=True)
class Redaction:
    """Redacted text, how many secrets were replaced, and their kinds (sorted, distinct).
    `values` maps each kind to the strings its markers replaced, in the text's order."""

    text: str
    count: int
    kinds: tuple[str, ...]
    values: dict[str, list[str]] = field(default_factory=dict)


def _spans(buf: bytes) -> list[Span]:
    """Every family's secrets in `buf`, found by the shared scans of `LOCATORS`."""
    low = buf.lower()  # ASCII-only, so offsets stay those of `buf`
    found: dict[int, list[Span]] = {}
    pos: dict[int, int] = {}  # a family's next match starts here or later
    pem = False
    for locator, on_lower, families in LOCATORS:
        subject = low if on_lower else buf
        i = 0
        while (hit := locator.search(subject, i)) is not None:
            i = hit.start()
            for index, offset in families:
                anchor = i + offset
                if index == PEM:
                    pem = pem or (anchor >= 0 and buf.startswith(b"PRIVATE KEY", anchor))
                    continue
                if anchor < pos.get(index, 0) or anchor < 0:
                    continue
                rx, lowered, lead, check = PASSES[index]
                text = low if lowered else buf
                m = rx.match(text, anchor)
                if m is None:
                    continue
                start = anchor - len(lead)
                span = None
                if start >= 0 and text.startswith(lead, start):
                    span = check(buf, m, start)
                if span is None:
                    pos[index] = anchor + 1  # a rejected match may hide a later one inside it
                else:
                    found.setdefault(index, []).append(span)
                    pos[index] = m.end()
            i += 1
    spans = pem_spans(buf) if pem else []
    for index in sorted(found):  # in the order of PASSES: it breaks ties between equal spans
        spans += found[index]
    return spans


def redact(text: str, extra: Iterable[str] = (), patterns: bool = True) -> Redaction:
    """Replace secret-looking strings in `text` by `[REDACTED:<kind>]` markers.

    `extra` strings (the configured API key) are always replaced, even with `patterns` False
    (the `redactSecrets: false` setting, which turns only the in-text patterns off).
    """
    count = 0
    kinds: set[str] = set()
    values: dict[str, list[str]] = {}
    marker = MARKER.format("configured-secret")
    # Longest first; never a string a marker could contain or overlap (redaction stays idempotent).
    usable = {s for s in extra if len(s) >= MIN_EXTRA_LENGTH and not _in_markers(s)}
    for secret in sorted(usable, key=lambda s: (-len(s), s)):
        if secret in text:
            values.setdefault("configured-secret", []).extend([secret] * text.count(secret))
            count += text.count(secret)
            text = text.replace(secret, marker)
            kinds.add("configured-secret")
    if patterns:
        buf = text.encode("utf-8", "surrogatepass")
        spans = _spans(buf)
        if spans:
            spans.sort(key=lambda s: (s[0], -s[1], s[2]))
            out: list[bytes] = []
            last = 0
            for start, end, _, kind in spans:
                if start < last:
                    continue  # inside a span already replaced
                out += (buf[last:start], MARKER.format(kind).encode())
                values.setdefault(kind, []).append(buf[start:end].decode("utf-8", "surrogatepass"))
                last = end
                count += 1
                kinds.add(kind)
            out.append(buf[last:])
            text = b"".join(out).decode("utf-8", "surrogatepass")
    return Redaction(text, count, tuple(sorted(kinds)), values)


@dataclass(frozen=True, slots=True)
class Redactor:
    """Redaction as configured: the API key always, secret-looking strings unless disabled."""

    api_key: str | None
    patterns: bool
    other_keys: frozenset[str] = frozenset()
    """The keys of the other endpoints (roles, fallbacks): removed like the main one."""

    def __call__(self, text: str) -> tuple[str, int]:
        keys = {self.api_key, *self.other_keys} - {None, ""}
        extra = [key for key in keys if key and len(key) >= MIN_EXTRA_LENGTH]
        result = redact(text, extra=extra, patterns=self.patterns)
        return result.text, result.count
