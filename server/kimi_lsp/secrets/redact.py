"""Secrets never leave: secret files are never read, secret-looking strings become markers."""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

# --- secret files ---------------------------------------------------------------------------

# `.env*` holds secrets, except these documented templates (their text is still redacted).
ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template"})
_CREDENTIALS = (".netrc", "_netrc", ".pgpass", "credentials", "credentials.json")
_EXACT = dict.fromkeys((*_CREDENTIALS, ".git-credentials", ".dockercfg"), "credentials file")
_EXACT |= dict.fromkeys(
    ("secrets.yml", "secrets.yaml", "secrets.json", "secrets.toml"), "secrets file"
)
_EXACT |= {".htpasswd": "password file", ".vault-token": "token file"}
_SUFFIXES = {s: f"*{s}" for s in (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".env")}
_SUFFIXES |= {".kdbx": "password database", ".ppk": "private key", ".tfstate": "terraform state"}
_SUFFIXES |= {"-credentials.json": "credentials file"}
_SUFFIX_TUPLE = tuple(_SUFFIXES)
_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519")
_PREFIX_TUPLE = (".env", "service-account", *_KEY_PREFIXES)
# (parent directory, name) pairs that are credentials only in that place.
_IN_DIR = {(".docker", "config.json"), (".kube", "config")}
# Package-manager configs are secret only when they hold a token or password.
_HEAD_NAMES = frozenset({".npmrc", ".pypirc", ".yarnrc.yml", "pip.conf", "pip.ini", ".gemrc"})
_HEAD_SECRET = re.compile(
    rb"(?i)_authtoken|npmauth(?:token|ident)|_auth\s*[=:]|_password|password\s*[=:]"
    rb"|token\s*[=:]|://[^\s/@:]*:[^\s/@]+@"
)


# Every file name `secret_file_reason` could flag, lowercased, is one of SECRET_NAMES, starts
# with one of SECRET_PREFIXES or ends with one of SECRET_SUFFIXES: other files need no closer look.
SECRET_NAMES = frozenset((*_EXACT, *_HEAD_NAMES, *(name for _, name in _IN_DIR)))
SECRET_PREFIXES = _PREFIX_TUPLE
SECRET_SUFFIXES = _SUFFIX_TUPLE


def maybe_secret_file(name: str) -> bool:
    """False when `secret_file_reason` is None for every file of this name, whatever its
    directory and contents (a cheap test before calling it)."""
    low = name.lower()
    return low in SECRET_NAMES or low.startswith(SECRET_PREFIXES) or low.endswith(SECRET_SUFFIXES)


def needs_head(rel_path: str) -> bool:
    """Whether `secret_file_reason` needs the file's first bytes to decide (`.npmrc` and kin)."""
    return rel_path[rel_path.rfind("/") + 1 :].lower() in _HEAD_NAMES


def secret_file_reason(rel_path: str, head: bytes | None = None) -> str | None:
    """Why this file must never be read into context ("secret file (...)"), or None.

    `head` is the file's first bytes; for `.npmrc`-like names None counts as holding a token.
    """
    slash = rel_path.rfind("/")
    name = rel_path[slash + 1 :].lower()
    what = _file_kind(name, rel_path[:slash].lower() if slash > 0 else "", head)
    return None if what is None else f"secret file ({what})"


def _file_kind(name: str, parent: str, head: bytes | None) -> str | None:
    if name in _EXACT:
        return _EXACT[name]
    if name.startswith(_PREFIX_TUPLE):
        if name.startswith(".env"):
            if name == ".env" or (name.startswith(".env.") and name not in ENV_TEMPLATES):
                return ".env"
            if name.startswith(".envrc"):
                return ".envrc"
        elif name.startswith("service-account"):
            if name.endswith(".json"):
                return "service account key"
        elif not name.endswith(".pub"):
            return "private key"
    if name.endswith(_SUFFIX_TUPLE):
        for suffix, what in _SUFFIXES.items():
            if name.endswith(suffix):
                return what
    if name in _HEAD_NAMES:
        if head is None or _HEAD_SECRET.search(head):
            return f"{name} with credentials"
        return None
    if (parent.rsplit("/", 1)[-1], name) in _IN_DIR:
        return "credentials file"
    return None


# --- secret strings -------------------------------------------------------------------------

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
# A value assigned to a secret-named variable counts as a secret when it is at least this long
# and its Shannon entropy is at least this many bits per character (random base64/hex of that
# length scores 3.4-4.5; words, repeated characters and placeholders score lower).
MIN_SECRET_LENGTH = 16
MIN_ENTROPY = 3.0
# Password-like names (password, passwd, pass, pwd, passphrase) need no entropy: 8 characters.
MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Redaction:
    """Redacted text, how many secrets were replaced, and their kinds (sorted, distinct).
    `values` maps each kind to the strings its markers replaced, in the text's order."""

    text: str
    count: int
    kinds: tuple[str, ...]
    values: dict[str, list[str]] = field(default_factory=dict)


# A span to replace: (start, end, priority, kind); on an equal start the lower priority wins.
_Span = tuple[int, int, int, str]
# A check gets the original bytes, the match and where the whole match starts (its `lead`
# included), and returns the span to replace or None to reject the match.
_Check = Callable[[bytes, "re.Match[bytes]", int], "_Span | None"]

# After a secret-like name: the rest of the name, an optional closing quote/bracket, an optional
# type annotation, the assignment operator, then a quoted or unquoted value. An unquoted value
# followed by `(` or `[` is a call or subscript (`token = get_token()`), never a literal.
_ASSIGNMENT = (
    rb"(?P<kw>)(?P<tail>[\w.-]{0,40})[\"']?\]?"
    rb"[ \t]*(?::[ \t]*[a-z_][\w.\[\], |]{0,60}?[ \t]*=(?![=>~])|:=|=>|=(?![=>~])|:(?![:=]))[ \t]*"
    rb"(?:[rbuf]{0,2}\"(?P<dq>[^\"\\\n]{1,500})\"|[rbuf]{0,2}'(?P<sq>[^'\\\n]{1,500})'"
    rb"|`(?P<bq>[^`\\\n]{1,500})`|(?P<uq>[^\s\"'`,;(){}\[\]<>]{1,500}+)(?![(\[]))"
)
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
    if b"[redacted:" in low or len(set(value)) <= 2 or _TEMPLATE.search(value):
        return True
    if value.startswith(b"<") and value.endswith(b">"):
        return True
    return any(word in low for word in _PLACEHOLDER_WORDS)


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


def _assigned(kind: str, password: bool = False) -> _Check:
    def check(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
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


def _pem_spans(buf: bytes) -> list[_Span]:
    """Private-key blocks, BEGIN to END marker; in linear time however many markers there are."""
    spans: list[_Span] = []
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


def _whole(kind: str, digit: bool = False) -> _Check:
    def check(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
        if digit and _DIGITS.isdisjoint(m.group(0)):
            return None
        return (start, m.end(), 1, kind)

    return check


def _sk(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
    # `task-...` is not a key (a key starts a word), and a key mixes letters and digits.
    if start and (buf[start - 1 : start].isalnum() or buf[start - 1] in b"_-"):
        return None
    body = m.group(0)[2:]
    if _DIGITS.isdisjoint(body) or not any(c >= 65 for c in body):
        return None
    return (start, m.end(), 1, "api-key")


def _stripe(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
    return (start - 1, m.end(), 1, "stripe-key") if start and buf[start - 1] in b"sr" else None


def _url_password(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
    value = m.group(2)
    if _placeholder(value) or value.lower() in (b"password", b"pass", b"passwd", b"secret"):
        return None
    return (m.start(2), m.end(2), 1, "url-password")


def _bearer(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
    value = buf[m.start(1) : m.end(1)]
    if _DIGITS.isdisjoint(value) or _placeholder(value) or _entropy(value) < MIN_ENTROPY:
        return None
    return (m.start(1), m.end(1), 1, "bearer-token")


def _key_kind(buf: bytes, m: re.Match[bytes], start: int) -> _Span | None:
    before = buf[max(0, start - 8) : start].lower()
    kind = "api-key" if b"api" in before else "access-key" if b"acc" in before else "private-key"
    return _assigned(kind)(buf, m, start)


_KEY_NAMES: tuple[bytes, ...] = (b"api_", b"api-", b"api", b"access_", b"access-", b"access")
_KEY_NAMES += (b"private_", b"private-", b"private")
# One pattern per family, each starting with a literal anchor; its `lead` (the bytes before the
# anchor) is checked after a hit. A family's matches are those a loop of `search` from the last
# match's end (or the last rejected match's start + 1) finds; `_spans` finds the same ones with
# fewer scans of the text (see _LOCATORS).
# (pattern, on the lowercased text, lead, check)
_PASSES: tuple[tuple[re.Pattern[bytes], bool, bytes, _Check], ...] = (
    (re.compile(rb"A[KS]IA[A-Z0-9]{16}"), False, b"", _whole("aws-access-key-id")),
    (
        re.compile(rb"g(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{22,255})"),
        False,
        b"",
        _whole("github-token"),
    ),
    (re.compile(rb"xox[abeprs]-[A-Za-z0-9-]{10,250}"), False, b"", _whole("slack-token", True)),
    (
        re.compile(rb"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,250}"),
        False,
        b"",
        _whole("slack-webhook"),
    ),
    (re.compile(rb"k-[A-Za-z0-9_-]{20,250}"), False, b"s", _sk),
    (re.compile(rb"AIza[0-9A-Za-z_-]{35}"), False, b"", _whole("google-api-key")),
    (re.compile(rb"pm_[A-Za-z0-9]{36}"), False, b"n", _whole("npm-token", True)),
    (re.compile(rb"lpat-[A-Za-z0-9_-]{20,250}"), False, b"g", _whole("gitlab-token")),
    (re.compile(rb"hf_[A-Za-z0-9]{34,40}"), False, b"", _whole("huggingface-token", True)),
    (re.compile(rb"ypi-AgE[A-Za-z0-9_-]{40,400}"), False, b"p", _whole("pypi-token")),
    (re.compile(rb"k_(?:live|test)_[0-9A-Za-z]{16,250}"), False, b"", _stripe),
    (
        re.compile(rb"yJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
        False,
        b"e",
        _whole("jwt"),
    ),
    (re.compile(rb"://([^\s:/?#@\"'`<>]*):([^\s@/?#\"'`<>]+)@"), False, b"", _url_password),
    (re.compile(rb"bearer\s+([a-z0-9._~+/-]{16,}=*)"), True, b"", _bearer),
    (
        re.compile(rb"pass(?:w(?:or)?d|phrase)?" + _ASSIGNMENT),
        True,
        b"",
        _assigned("password", True),
    ),
    (re.compile(rb"wd" + _ASSIGNMENT), True, b"p", _assigned("password", True)),
    (re.compile(rb"cret" + _ASSIGNMENT), True, b"se", _assigned("secret")),
    (re.compile(rb"ken" + _ASSIGNMENT), True, b"to", _assigned("token")),
    (
        re.compile(
            rb"key(?:"
            + b"|".join(b"(?<=" + name + b"key)" for name in _KEY_NAMES)
            + b")"
            + _ASSIGNMENT
        ),
        True,
        b"",
        _key_kind,
    ),
    (re.compile(rb"dential" + _ASSIGNMENT), True, b"cre", _assigned("credential")),
    (re.compile(rb"uth(?:orization)?" + _ASSIGNMENT), True, b"a", _assigned("auth")),
)


# CPython's `re` finds a pattern's leading literal at GB/s, but tries every branch of an
# alternation of different first characters at every position (one combined pattern of the
# families ran at 5-35 MB/s). One scan per family would be 21 scans of the text. Instead,
# families share a scan for one literal they all hold at a fixed place (the "k" of "token",
# "key", "sk-", "sk_live_", "hooks.slack.com"), each followed by what its match must hold there:
# a `locator` `k(?:<token's>|<key's>|...)` hits only where some family may match, and there every
# family of the scan is matched with its own pattern at its anchor: 9 scans. A scan costs about
# one pass over the text plus a little per occurrence of its literal (the rarer the better); an
# alternative that starts with a literal is skipped fast. A scan of the lowercased text finds
# the places of a case-sensitive family too (its lowercased matches), never fewer.
# (literal, on the lowercased text, ((family index in _PASSES or _PEM, anchor - literal's start,
# what follows the literal), ...))
_PEM = -1  # "PRIVATE KEY" is in the text: look for private-key blocks
_NAMED = rb"[\w.-]{0,50}[\"']?\]?[ \t]*[:=]"  # the name's rest and the start of an assignment
_KEY_AFTER = b"|".join(b"(?<=" + name + b"key)" for name in _KEY_NAMES)
_LOCATOR_TABLE: tuple[tuple[bytes, bool, tuple[tuple[int, int, bytes], ...]], ...] = (
    (
        b"A",
        False,
        (
            (0, 0, rb"KIA[A-Z0-9]{16}|SIA[A-Z0-9]{16}"),
            (5, 0, rb"Iza[0-9A-Za-z_-]{35}"),
            (9, -4, rb"gE(?<=pypi-AgE)[A-Za-z0-9_-]{40}"),
            (_PEM, -4, rb"TE KEY(?<=PRIVATE KEY)"),
        ),
    ),
    (
        b"k",
        True,
        (
            (3, -3, rb"s(?<=hooks)\.slack\.com/(?:services|workflows|triggers)/[a-z0-9/_-]{20}"),
            (4, 0, rb"-(?<=sk-)[a-z0-9_-]{20}"),
            (10, 0, rb"_(?:live|test)_[0-9a-z]{16}"),
            (17, 0, rb"en(?<=token)" + _NAMED),
            (18, 0, rb"ey(?:" + _KEY_AFTER + rb")" + _NAMED),
        ),
    ),
    (
        b"p",
        True,
        (
            (6, 0, rb"m_(?<=npm_)[a-z0-9]{36}"),
            (7, -1, rb"at-(?<=glpat-)[a-z0-9_-]{20}"),
            (14, 0, rb"ass" + _NAMED),
            (15, 1, rb"wd" + _NAMED),
        ),
    ),
    (
        b"h",
        True,
        (
            # Two places for one family: its anchors near one hit ("gh" one or three bytes
            # before the "h") never both match, so it is still tried from left to right.
            (1, -1, rb"[pousr]_(?<=gh[pousr]_)[a-z0-9]{36}"),
            (1, -3, rb"ub_pat_(?<=github_pat_)[a-z0-9_]{22}"),
            (8, 0, rb"f_[a-z0-9]{34}"),
            (20, -2, rb"(?<=auth)" + _NAMED),
        ),
    ),
    (b"cre", True, ((16, 0, rb"t(?<=secret)" + _NAMED), (19, 3, rb"dential" + _NAMED))),
    (b"x", True, ((2, 0, rb"ox[abeprs]-[a-z0-9-]{10}"),)),
    (b":", True, ((12, 0, rb"//[^\s:/?#@\"'`<>]*:[^\s@/?#\"'`<>]+@"),)),
    (b"b", True, ((13, 0, rb"earer\s+[a-z0-9._~+/-]{16}"),)),
    (b"y", True, ((11, 0, rb"j(?<=eyj)[a-z0-9_-]{8}"),)),
)
_LOCATORS = tuple(
    (
        re.compile(re.escape(literal) + b"(?:" + b"|".join(f for _, _, f in fams) + b")"),
        lowered,
        tuple((index, offset) for index, offset, _ in fams),
    )
    for literal, lowered, fams in _LOCATOR_TABLE
)


def _spans(buf: bytes) -> list[_Span]:
    low = buf.lower()  # ASCII-only, so offsets stay those of `buf`
    found: dict[int, list[_Span]] = {}
    pos: dict[int, int] = {}  # a family's next match starts here or later
    pem = False
    for locator, on_lower, families in _LOCATORS:
        subject = low if on_lower else buf
        i = 0
        while (hit := locator.search(subject, i)) is not None:
            i = hit.start()
            for index, offset in families:
                anchor = i + offset
                if index == _PEM:
                    pem = pem or (anchor >= 0 and buf.startswith(b"PRIVATE KEY", anchor))
                    continue
                if anchor < pos.get(index, 0) or anchor < 0:
                    continue
                rx, lowered, lead, check = _PASSES[index]
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
    spans = _pem_spans(buf) if pem else []
    for index in sorted(found):  # in the order of _PASSES: it breaks ties between equal spans
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
