"""What makes a pattern's match a secret: value heuristics and one check per family."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable

# A value assigned to a secret-named variable counts as a secret when it is at least this long
# and its Shannon entropy is at least this many bits per character (random base64/hex of that
# length scores 3.4-4.5; words, repeated characters and placeholders score lower).
MIN_SECRET_LENGTH = 16
MIN_ENTROPY = 3.0
# Password-like names (password, passwd, pass, pwd, passphrase) need no entropy: 8 characters.
MIN_PASSWORD_LENGTH = 8

# A span to replace: (start, end, priority, kind); on an equal start the lower priority wins.
Span = tuple[int, int, int, str]
# A check gets the original bytes, the match and where the whole match starts (its `lead`
# included), and returns the span to replace or None to reject the match.
Check = Callable[[bytes, "re.Match[bytes]", int], "Span | None"]

# A name whose last words say it holds something else: `token_type`, `secret_arn`, `AUTH_URL`.
_NOT_SECRET_WORDS = frozenset(
    b"type types url uri endpoint name names id ids arn file path dir field rule policy provider "
    b"len length count size prefix suffix pattern regex format env var header param label scope "
    b"method mode kind class level command cmd prompt expiry expires ttl timeout manager usage "
    b"locker hint".split()
)
_NAME_WORDS = re.compile(rb"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
# Words of three letters or more: identifiers and prose are mostly made of them, random keys not.
_LONG_WORDS = re.compile(rb"[A-Z]?[a-z]*[aeiouy][a-z]*(?<=[a-z]{2})|[A-Z]{2,}(?![a-z])")
_IDENTIFIER = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
TEMPLATE_REST = 16  # characters besides the template markers that make a value a secret again
_TEMPLATE = re.compile(rb"\$[A-Za-z_{(]|\{[^{}\s]*\}|\{\{|%\(|%s")
_PLACEHOLDER_WORDS = (b"your", b"changeme", b"change-me", b"change_me", b"placeholder", b"xxxx")
_PEM_BEGIN = re.compile(rb"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----")
_PEM_END = re.compile(rb"-----END[A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----")
_PEM_BODY = re.compile(rb"(?:\s|\\n|[\"'+,])*(?:[A-Za-z0-9+/=]{16}|Proc-Type:)")
_PEM_MATERIAL = re.compile(rb"[A-Za-z0-9+/=]{20}")
_DIGITS = frozenset(b"0123456789")
_DIGITS_SYMBOLS = frozenset(b"0123456789+/=!@#%^&*~")


def _entropy(value: bytes) -> float:
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _placeholder(value: bytes) -> bool:
    low = value.lower()
    if b"[redacted:" in low or len(set(value)) <= 2 or _template(value):
        return True
    if value.startswith(b"<") and value.endswith(b">"):
        return True
    return any(word in low for word in _PLACEHOLDER_WORDS)


def _template(value: bytes) -> bool:
    """A format template (`%s`, `${VAR}`, `{name}`), unless what is left around its markers
    is itself a long random value (`jnhQvlEl4e%syUSqkPkLhdl5` is a password that happens to
    contain `%s`, not a template)."""
    if not _TEMPLATE.search(value):
        return False
    rest = _TEMPLATE.sub(b"", value)
    return len(rest) < TEMPLATE_REST or _entropy(rest) < MIN_ENTROPY


def _wordy(value: bytes, threshold: float) -> bool:
    """Whether `value` reads as words (`GetCallerIdentity`, `allow-credentials`), not a key."""
    return sum(len(w) for w in _LONG_WORDS.findall(value)) >= threshold * len(value)


def _secret_value(value: bytes, quoted: bool, password: bool) -> bool:
    """Whether a value assigned to a secret-named variable is itself a secret."""
    if len(value) < (MIN_PASSWORD_LENGTH if password else MIN_SECRET_LENGTH):
        return False
    if _placeholder(value) or b"://" in value or b" " in value or b"\t" in value:
        return False
    if value.startswith((b"/", b"./", b"../", b"~/")):
        return False
    if b"." in value and _IDENTIFIER.fullmatch(value):
        return False  # a dotted name in code (`"django.contrib.auth"`, `settings.SECRET_KEY`)
    if _DIGITS.isdisjoint(value) and _wordy(value, 0.8):
        return False  # words, not a key; random keys almost always hold a digit
    if not quoted:
        if _DIGITS_SYMBOLS.isdisjoint(value):
            return False  # an unquoted identifier in code (`token = access_token`)
        if _IDENTIFIER.fullmatch(value) and _wordy(value, 0.6):
            return False  # `private_key: PKCS7PrivateKeyTypes`, `auth=s3_session_auth`
    return password or _entropy(value) >= MIN_ENTROPY


def assigned(kind: str, password: bool = False) -> Check:
    def check(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
        marker = buf.rfind(b"[REDACTED:", max(0, start - 40), start)
        if marker >= 0 and b"]" not in buf[marker:start]:
            return None  # the kind inside a marker ("[REDACTED:api-key]") names no variable
        kw_end = m.end("kw")
        nxt = buf[kw_end : kw_end + 2]
        # The keyword must end its word: `tokenizer`, `author` are not secret names; `tokens`,
        # `authToken`, `db_password` are.
        if nxt[:1].islower() and not (nxt[:1] == b"s" and not nxt[1:2].islower()):
            return None
        tail = m.group("tail")
        if tail and any(
            w.lower() in _NOT_SECRET_WORDS for w in _NAME_WORDS.findall(buf[kw_end : m.end("tail")])
        ):
            return None
        quoted = m.start("uq") < 0
        group = next(g for g in ("dq", "sq", "bq", "uq") if m.start(g) >= 0)
        value_start, value_end = m.span(group)
        if not _secret_value(buf[value_start:value_end], quoted, password):
            return None
        named = kind
        if kind in ("secret", "access-key") and b"aws" in buf[max(0, start - 24) : kw_end].lower():
            named = "aws-secret-access-key"
        return (value_start, value_end, 5, named)

    return check


def pem_spans(buf: bytes) -> list[Span]:
    """Private-key blocks, BEGIN to END marker; in linear time however many markers there are."""
    spans: list[Span] = []
    ends = [m.span() for m in _PEM_END.finditer(buf)] if b"-----END" in buf else []
    material = -1  # the first key material at or after `searched_from`
    searched_from = len(buf) + 1
    for begin in _PEM_BEGIN.finditer(buf):
        if spans and begin.start() < spans[-1][1]:
            continue
        after = begin.end()
        i = bisect.bisect_left(ends, (after, after))
        if i == len(ends):
            # No END marker (a window cut it off): the key body runs to the end of the text.
            if _PEM_BODY.match(buf, after):
                spans.append((begin.start(), len(buf), 0, "private-key"))
            continue
        if not (searched_from <= after <= material):
            found = _PEM_MATERIAL.search(buf, after)
            material, searched_from = (found.start() if found else len(buf)), after
        # Markers with no key material between them are code or prose about keys.
        if material < ends[i][0]:
            spans.append((begin.start(), ends[i][1], 0, "private-key"))
    return spans


def whole(kind: str, digit: bool = False) -> Check:
    def check(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
        if digit and _DIGITS.isdisjoint(m.group(0)):
            return None
        return (start, m.end(), 1, kind)

    return check


def sk_key(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
    # `task-...` is not a key (a key starts a word), and a key mixes letters and digits.
    if start and (buf[start - 1 : start].isalnum() or buf[start - 1] in b"_-"):
        return None
    body = m.group(0)[2:]
    if _DIGITS.isdisjoint(body) or not any(c >= 65 for c in body):
        return None
    return (start, m.end(), 1, "api-key")


def stripe_key(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
    return (start - 1, m.end(), 1, "stripe-key") if start and buf[start - 1] in b"sr" else None


def url_password(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
    value = m.group(2)
    if _placeholder(value) or value.lower() in (b"password", b"pass", b"passwd", b"secret"):
        return None
    return (m.start(2), m.end(2), 1, "url-password")


def bearer(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
    value = buf[m.start(1) : m.end(1)]
    if _DIGITS.isdisjoint(value) or _placeholder(value) or _entropy(value) < MIN_ENTROPY:
        return None
    return (m.start(1), m.end(1), 1, "bearer-token")


def key_kind(buf: bytes, m: re.Match[bytes], start: int) -> Span | None:
    before = buf[max(0, start - 8) : start].lower()
    kind = "api-key" if b"api" in before else "access-key" if b"acc" in before else "private-key"
    return assigned(kind)(buf, m, start)
