"""The secret patterns: one per family, and the shared scans that locate them (data tables)."""

from __future__ import annotations

import re

from .checks import (
    Check,
    assigned,
    bearer,
    key_kind,
    sk_key,
    stripe_key,
    url_password,
    whole,
)

# After a secret-like name: the rest of the name, an optional closing quote/bracket, an optional
# type annotation, the assignment operator, then a quoted or unquoted value. An unquoted value
# followed by `(` or `[` is a call or subscript (`token = get_token()`), never a literal.
_ASSIGNMENT = (
    rb"(?P<kw>)(?P<tail>[\w.-]{0,40})[\"']?\]?"
    rb"[ \t]*(?::[ \t]*[a-z_][\w.\[\], |]{0,60}?[ \t]*=(?![=>~])|:=|=>|=(?![=>~])|:(?![:=]))[ \t]*"
    rb"(?:[rbuf]{0,2}\"(?P<dq>[^\"\\\n]{1,500})\"|[rbuf]{0,2}'(?P<sq>[^'\\\n]{1,500})'"
    rb"|`(?P<bq>[^`\\\n]{1,500})`|(?P<uq>[^\s\"'`,;(){}\[\]<>]{1,500}+)(?![(\[]))"
)

_KEY_NAMES: tuple[bytes, ...] = (b"api_", b"api-", b"api", b"access_", b"access-", b"access")
_KEY_NAMES += (b"private_", b"private-", b"private")
# One pattern per family, each starting with a literal anchor; its `lead` (the bytes before the
# anchor) is checked after a hit. A family's matches are those a loop of `search` from the last
# match's end (or the last rejected match's start + 1) finds; `redact._spans` finds the same
# ones with fewer scans of the text (see LOCATORS).
# (pattern, on the lowercased text, lead, check)
PASSES: tuple[tuple[re.Pattern[bytes], bool, bytes, Check], ...] = (
    (re.compile(rb"A[KS]IA[A-Z0-9]{16}"), False, b"", whole("aws-access-key-id")),
    (
        re.compile(rb"g(?:h[pousr]_[A-Za-z0-9]{36,255}|ithub_pat_[A-Za-z0-9_]{22,255})"),
        False,
        b"",
        whole("github-token"),
    ),
    (re.compile(rb"xox[abeprs]-[A-Za-z0-9-]{10,250}"), False, b"", whole("slack-token", True)),
    (
        re.compile(rb"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{20,250}"),
        False,
        b"",
        whole("slack-webhook"),
    ),
    (re.compile(rb"k-[A-Za-z0-9_-]{20,250}"), False, b"s", sk_key),
    (re.compile(rb"AIza[0-9A-Za-z_-]{35}"), False, b"", whole("google-api-key")),
    (re.compile(rb"pm_[A-Za-z0-9]{36}"), False, b"n", whole("npm-token", True)),
    (re.compile(rb"lpat-[A-Za-z0-9_-]{20,250}"), False, b"g", whole("gitlab-token")),
    (re.compile(rb"hf_[A-Za-z0-9]{34,40}"), False, b"", whole("huggingface-token", True)),
    (re.compile(rb"ypi-AgE[A-Za-z0-9_-]{40,400}"), False, b"p", whole("pypi-token")),
    (re.compile(rb"k_(?:live|test)_[0-9A-Za-z]{16,250}"), False, b"", stripe_key),
    (
        re.compile(rb"yJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}"),
        False,
        b"e",
        whole("jwt"),
    ),
    (re.compile(rb"://([^\s:/?#@\"'`<>]*):([^\s@/?#\"'`<>]+)@"), False, b"", url_password),
    (re.compile(rb"bearer\s+([a-z0-9._~+/-]{16,}=*)"), True, b"", bearer),
    (
        re.compile(rb"pass(?:w(?:or)?d|phrase)?" + _ASSIGNMENT),
        True,
        b"",
        assigned("password", True),
    ),
    (re.compile(rb"wd" + _ASSIGNMENT), True, b"p", assigned("password", True)),
    (re.compile(rb"cret" + _ASSIGNMENT), True, b"se", assigned("secret")),
    (re.compile(rb"ken" + _ASSIGNMENT), True, b"to", assigned("token")),
    (
        re.compile(
            rb"key(?:"
            + b"|".join(b"(?<=" + name + b"key)" for name in _KEY_NAMES)
            + b")"
            + _ASSIGNMENT
        ),
        True,
        b"",
        key_kind,
    ),
    (re.compile(rb"dential" + _ASSIGNMENT), True, b"cre", assigned("credential")),
    (re.compile(rb"uth(?:orization)?" + _ASSIGNMENT), True, b"a", assigned("auth")),
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
# (literal, on the lowercased text, ((family index in PASSES or PEM, anchor - literal's start,
# what follows the literal), ...))
PEM = -1  # "PRIVATE KEY" is in the text: look for private-key blocks
_NAMED = rb"[\w.-]{0,50}[\"']?\]?[ \t]*[:=]"  # the name's rest and the start of an assignment
_KEY_AFTER = b"|".join(b"(?<=" + name + b"key)" for name in _KEY_NAMES)
LOCATOR_TABLE: tuple[tuple[bytes, bool, tuple[tuple[int, int, bytes], ...]], ...] = (
    (
        b"A",
        False,
        (
            (0, 0, rb"KIA[A-Z0-9]{16}|SIA[A-Z0-9]{16}"),
            (5, 0, rb"Iza[0-9A-Za-z_-]{35}"),
            (9, -4, rb"gE(?<=pypi-AgE)[A-Za-z0-9_-]{40}"),
            (PEM, -4, rb"TE KEY(?<=PRIVATE KEY)"),
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
LOCATORS = tuple(
    (
        re.compile(re.escape(literal) + b"(?:" + b"|".join(f for _, _, f in fams) + b")"),
        lowered,
        tuple((index, offset) for index, offset, _ in fams),
    )
    for literal, lowered, fams in LOCATOR_TABLE
)
