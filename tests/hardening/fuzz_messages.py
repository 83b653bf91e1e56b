"""Hypothesis strategies for protocol fuzzing: malformed frames, mistyped params of every method."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

OPEN_URI = "file:///fuzz/open.py"  # opened by the fuzzer at start-up; it may be closed later
SANITY_URI = "file:///fuzz/sanity.py"  # never touched by generated messages
URIS = (
    OPEN_URI,
    "file:///fuzz/other.py",
    "file:///fuzz/never-opened.py",
    "untitled:Untitled-1",
    "file:///fuzz/%E2%82%AC%20space.py",
    "not a uri",
    "",
    "file:///etc/passwd",
    "file://host/share/x.py",
)
COMMANDS = (
    "kimi.inlineEdit",
    "kimi.fix",
    "kimi.explain",
    "kimi.docstring",
    "kimi.tests",
    "kimi.refactor",
    "kimi.chat",
    "kimi.showContext",
    "kimi.status",
    "kimi.unknown",
)


@dataclass
class Frame:
    """Bytes to write, and the request ids whose single response the fuzzer must see."""

    data: bytes
    tracked: list[Any] = field(default_factory=list)
    cancels: bool = False
    forbidden: list[Any] = field(default_factory=list)
    """Request ids that must never be answered: their frame must not be executed at all."""


# -- values ---------------------------------------------------------------------------
lone_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.text(
    st.one_of(st.characters(), lone_surrogates, st.sampled_from("\r\n\t\f\v\x85\u2028 {}")),
    max_size=40,
)
huge_texts = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["x", "é", "😀", "\n", "\ud800", "a\r\n"]),
    st.sampled_from([5_000, 100_000, 400_000]),
)  # fmt: skip
any_text = st.one_of(texts, texts, texts, huge_texts)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 0, 2**31, 2**53 + 1, 10**30, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    texts,
)
garbage = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
uris = st.one_of(st.sampled_from(URIS), st.sampled_from(URIS), garbage)
ints = st.one_of(
    st.integers(0, 12), st.integers(-5, 10**6), st.sampled_from([2**31, 2**63, -(2**31)]), garbage
)


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes garbage of any type."""
    return st.one_of(valid, valid, valid, garbage)


positions = maybe(st.fixed_dictionaries({"line": ints, "character": ints}))
ranges = maybe(st.fixed_dictionaries({"start": positions, "end": positions}))
documents = maybe(st.fixed_dictionaries({"uri": uris}))
modes = maybe(st.sampled_from(["apply", "preview"]))


def params(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """An object whose fields are each present or absent (or the whole thing garbage)."""
    required = {k: v for k, v in fields.items() if not k.endswith("_")}
    optional = {k.rstrip("_"): v for k, v in fields.items() if k.endswith("_")}
    objects = st.fixed_dictionaries(
        {}, optional={**{k: v for k, v in required.items()}, **optional}
    )
    return st.one_of(objects, objects, objects, objects, garbage)


METHOD_PARAMS: dict[str, st.SearchStrategy[Any]] = {
    "kimi/chat": params(
        message=maybe(any_text), conversationId_=maybe(texts), textDocument_=documents,
        range_=ranges, context_=maybe(st.sampled_from(["auto", "none"])),
        workDoneToken_=garbage,
    ),
    "kimi/inlineEdit": params(
        textDocument=documents, range=ranges, instruction=maybe(any_text), mode_=modes,
        workDoneToken_=garbage,
    ),
    "kimi/acceptEdit": params(
        editId=maybe(texts), hunks_=maybe(st.lists(st.integers(-2, 5), max_size=4))
    ),
    "kimi/rejectEdit": params(editId=maybe(texts)),
    "kimi/refactor": params(
        instruction=maybe(any_text),
        scope_=maybe(st.fixed_dictionaries({}, optional={"uris": maybe(st.lists(uris, max_size=3)),
                                                         "glob": maybe(texts)})),
        mode_=modes,
    ),
    "kimi/context": params(
        textDocument=documents, range_=ranges, position_=positions,
        purpose_=maybe(st.sampled_from(["chat", "edit", "refactor"])),
    ),
    "kimi/status": st.one_of(st.none(), garbage),
    "kimi/documentState": params(textDocument=documents),
    "kimi/debugStats": st.one_of(st.none(), garbage),
    "textDocument/codeAction": params(
        textDocument=documents, range=ranges,
        context=maybe(st.fixed_dictionaries({"diagnostics": maybe(st.lists(garbage, max_size=2))})),
    ),
    "kimi/noSuchMethod": garbage,
}  # fmt: skip

NOTIFICATION_PARAMS: dict[str, st.SearchStrategy[Any]] = {
    "textDocument/didOpen": params(
        textDocument=maybe(
            st.fixed_dictionaries(
                {"uri": uris, "languageId": maybe(st.sampled_from(["python", "rust", ""])),
                 "version": ints, "text": maybe(any_text)}
            )
        )
    ),
    "textDocument/didChange": params(
        textDocument=maybe(st.fixed_dictionaries({"uri": uris, "version": ints})),
        contentChanges=maybe(
            st.lists(maybe(st.fixed_dictionaries({"text": maybe(any_text)},
                                                  optional={"range": ranges})), max_size=3)
        ),
    ),
    "textDocument/didClose": params(textDocument=documents),
    "textDocument/didSave": params(textDocument=documents),
    "workspace/didChangeConfiguration": params(settings=garbage),
    "window/workDoneProgress/cancel": params(token=garbage),
    "$/unknownNotification": garbage,
}  # fmt: skip


def command_params() -> st.SearchStrategy[Any]:
    arguments = st.one_of(
        st.lists(st.one_of(uris, ranges, positions, any_text, garbage), max_size=4), garbage
    )
    return params(command=maybe(st.sampled_from(COMMANDS)), arguments_=arguments)


# -- well-typed params with edge values (positions off the end, reversed ranges, closed
# documents, stale versions): these get past validation and reach the features ------------
edge_ints = st.one_of(st.integers(0, 6), st.sampled_from([40, 10_000, 2**31 - 1]))
edge_positions = st.fixed_dictionaries({"line": edge_ints, "character": edge_ints})
edge_ranges = st.fixed_dictionaries({"start": edge_positions, "end": edge_positions})
edge_uris = st.sampled_from(URIS[:4])
edge_documents = st.fixed_dictionaries({"uri": edge_uris})
words = st.text(st.sampled_from("abc xyz\n\t()é😀\ud800"), min_size=1, max_size=12)
EDGE_REQUESTS: dict[str, st.SearchStrategy[Any]] = {
    "kimi/chat": st.fixed_dictionaries(
        {"message": words},
        optional={
            "textDocument": edge_documents,
            "range": edge_ranges,
            "context": st.sampled_from(["auto", "none"]),
        },
    ),
    "kimi/inlineEdit": st.fixed_dictionaries(
        {"textDocument": edge_documents, "range": edge_ranges, "instruction": words},
        optional={"mode": st.sampled_from(["apply", "preview"])},
    ),
    "kimi/refactor": st.fixed_dictionaries(
        {"instruction": words, "mode": st.just("preview")},
        optional={"scope": st.fixed_dictionaries({"uris": st.lists(edge_uris, max_size=2)})},
    ),
    "kimi/context": st.fixed_dictionaries(
        {"textDocument": edge_documents},
        optional={
            "range": edge_ranges,
            "position": edge_positions,
            "purpose": st.sampled_from(["chat", "edit", "refactor"]),
        },
    ),
    "kimi/documentState": st.fixed_dictionaries({"textDocument": edge_documents}),
    "textDocument/codeAction": st.fixed_dictionaries(
        {
            "textDocument": edge_documents,
            "range": edge_ranges,
            "context": st.just({"diagnostics": []}),
        }
    ),
    "workspace/executeCommand": st.fixed_dictionaries(
        {
            "command": st.sampled_from(COMMANDS[:-1]),
            "arguments": st.lists(
                st.one_of(edge_uris, edge_ranges, edge_positions, words), max_size=3
            ),
        }
    ),
}
EDGE_NOTIFICATIONS: dict[str, st.SearchStrategy[Any]] = {
    "textDocument/didOpen": st.fixed_dictionaries({"textDocument": st.fixed_dictionaries(
        {"uri": edge_uris, "languageId": st.just("python"), "version": edge_ints,
         "text": words})}),
    "textDocument/didChange": st.fixed_dictionaries({
        "textDocument": st.fixed_dictionaries(
            {"uri": edge_uris, "version": st.integers(-3, 1_000)}),
        "contentChanges": st.lists(
            st.fixed_dictionaries({"text": words}, optional={"range": edge_ranges}),
            min_size=1, max_size=3)}),
    "textDocument/didClose": st.fixed_dictionaries({"textDocument": edge_documents}),
}  # fmt: skip


# -- whole messages ---------------------------------------------------------------------
@st.composite
def messages(draw: st.DrawFn, ids: Any) -> Frame:
    """One frame: a request, a notification, a cancel, or something malformed."""
    kind = draw(
        st.sampled_from(
            ["request"] * 8 + ["command"] * 3 + ["notification"] * 6 + ["cancel"] * 2
            + ["edge_request"] * 5 + ["edge_notification"] * 5
            + ["bad_json", "bad_header", "bad_envelope", "bad_utf8", "deep", "http"]
        )
    )  # fmt: skip
    if kind in ("request", "command"):
        if kind == "command":
            method, body = "workspace/executeCommand", draw(command_params())
        else:
            method = draw(st.sampled_from(sorted(METHOD_PARAMS)))
            body = draw(METHOD_PARAMS[method])
        msg_id = ids.next(draw(st.booleans()))
        message = {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": body}
        if body is None and draw(st.booleans()):
            del message["params"]
        return Frame(_frame(_dumps(message)), [msg_id])
    if kind == "edge_request":
        method = draw(st.sampled_from(sorted(EDGE_REQUESTS)))
        msg_id = ids.next(draw(st.booleans()))
        body = {"jsonrpc": "2.0", "id": msg_id, "method": method,
                "params": draw(EDGE_REQUESTS[method])}  # fmt: skip
        return Frame(_frame(_dumps(body)), [msg_id])
    if kind in ("notification", "edge_notification"):
        table = NOTIFICATION_PARAMS if kind == "notification" else EDGE_NOTIFICATIONS
        method = draw(st.sampled_from(sorted(table)))
        body = draw(table[method])
        return Frame(_frame(_dumps({"jsonrpc": "2.0", "method": method, "params": body})))
    if kind == "cancel":
        target = draw(st.one_of(st.just(ids.recent(draw(st.integers(0, 5)))), garbage))
        body = {"jsonrpc": "2.0", "method": "$/cancelRequest", "params": {"id": target}}
        return Frame(_frame(_dumps(body)), cancels=True)
    if kind == "bad_json":
        raw = draw(st.one_of(st.binary(max_size=60), st.sampled_from(_BAD_JSON)))
        return Frame(_frame(raw))
    if kind == "bad_envelope":
        body = draw(st.one_of(garbage, st.sampled_from(_BAD_ENVELOPES)))
        return Frame(_frame(_dumps(body)))
    if kind == "bad_utf8":
        text = draw(texts)
        message = {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": OPEN_URI, "languageId": "python", "version": 1,
                             "text": f"{text}@@"}}}  # fmt: skip
        raw = _dumps(message).replace(b"@@", draw(st.sampled_from(_INVALID_UTF8)))
        return Frame(_frame(raw))
    if kind == "deep":
        return draw(deep_messages(ids))
    if kind == "http":
        return draw(http_frames(ids))
    return draw(bad_headers(ids))


# Nesting depths around the server's limit (512) and far past what json can parse (finding 10).
DEPTHS = (30, 511, 512, 513, 700, 5_000, 50_000)
ANSWERED_DEPTH = 700
"""Up to here the id can be read, so the request gets exactly one answer; deeper, the body
cannot be parsed and only a null-id parse error comes back."""


@st.composite
def deep_messages(draw: st.DrawFn, ids: Any) -> Frame:
    """A request, notification or bare value whose params nest arrays/objects very deeply."""
    depth = draw(st.sampled_from(DEPTHS))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ('[{"b":', "}]")]))
    levels = depth // len(closer)  # each repetition opens len(closer) arrays/objects
    leaf = draw(st.sampled_from(["1", '"\\ud800"', "null", '"x"']))
    nested = opener * levels + leaf + closer * levels
    where = draw(st.sampled_from(["request", "notification", "bare"]))
    if where == "bare":
        return Frame(_frame(nested.encode()))
    method = draw(st.sampled_from(sorted(METHOD_PARAMS) + sorted(NOTIFICATION_PARAMS)))
    envelope: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    tracked: list[Any] = []
    if where == "request":
        envelope["id"] = ids.next(draw(st.booleans()))
        tracked = [envelope["id"]] if depth <= ANSWERED_DEPTH else []
    # Spliced as text: json.dumps itself would recurse too deeply to write it.
    body = json.dumps(envelope)[:-1] + ', "params": {"v": ' + nested + "}}"
    return Frame(_frame(body.encode()), tracked)


@st.composite
def http_frames(draw: st.DrawFn, ids: Any) -> Frame:
    """A JSON-RPC request inside an HTTP POST (what a web page can send to a local port): its
    body, raw or LSP-framed itself, must never run; the frames after it still must."""
    msg_id = f"http-{ids.junk()}"
    request = _dumps({"jsonrpc": "2.0", "id": msg_id, "method": "kimi/status"})
    body = _frame(request) if draw(st.booleans()) else request
    fields = [b"Host: 127.0.0.1:2087", b"Content-Type: text/plain;charset=UTF-8"]
    fields += draw(st.lists(st.sampled_from(_HTTP_FIELDS), max_size=3, unique=True))
    fields.insert(draw(st.integers(0, len(fields))), b"Content-Length: %d" % len(body))
    verb = draw(st.sampled_from([b"POST", b"PUT", b"GET"]))
    head = b"%s /%s HTTP/1.1\r\n" % (verb, draw(st.sampled_from([b"", b"rpc?x=1"])))
    return Frame(head + b"\r\n".join(fields) + b"\r\n\r\n" + body, forbidden=[msg_id])


_HTTP_FIELDS = (
    b"Origin: http://evil.example",
    b"User-Agent: Mozilla/5.0",
    b"Accept: */*",
    b"Connection: keep-alive",
    b"Sec-Fetch-Mode: no-cors",
)


@st.composite
def bad_headers(draw: st.DrawFn, ids: Any) -> Frame:
    """Frames whose header lies; each one is followed by what lets a sane reader resync."""
    body = _dumps({"jsonrpc": "2.0", "id": ids.junk(), "method": "kimi/status"})
    how = draw(st.sampled_from(["short", "long", "missing", "nan", "negative", "extra", "case"]))
    if how == "short":
        cut = draw(st.integers(1, len(body) - 1))
        return Frame(b"Content-Length: %d\r\n\r\n" % (len(body) - cut) + body)
    if how == "long":
        extra = draw(st.integers(1, 30))
        padding = draw(st.sampled_from([b" ", b"x", b"\r\n"])) * extra
        return Frame(b"Content-Length: %d\r\n\r\n" % (len(body) + extra) + body + padding)
    if how == "missing":
        return Frame(b"Content-Type: application/vscode-jsonrpc\r\n\r\n" + body)
    if how == "nan":
        return Frame(b"Content-Length: twelve\r\n\r\n" + body)
    if how == "negative":
        return Frame(b"Content-Length: -%d\r\n\r\n" % len(body) + body)
    if how == "case":  # legal: header names are case-insensitive
        msg_id = ids.next(False)
        good = _dumps({"jsonrpc": "2.0", "id": msg_id, "method": "kimi/status"})
        return Frame(b"content-LENGTH:%d\r\n\r\n" % len(good) + good, [msg_id])
    junk = draw(st.binary(max_size=20)).replace(b"\r\n\r\n", b"")
    return Frame(junk + _frame(body))


_BAD_JSON = (
    b"",
    b"{",
    b'{"jsonrpc": "2.0", "id": 1, "method": "kimi/status"',
    b"[1, 2,]",
    b"NaN",
    b'{"jsonrpc": "2.0", "method": "kimi/status", "id": 1}}',
    b"\x00\x00\x00",
    b'{"a": "\\ud800"',
)
_BAD_ENVELOPES: tuple[Any, ...] = (
    [],
    [{"jsonrpc": "2.0", "id": 1, "method": "kimi/status"}],
    {"jsonrpc": "1.0", "id": 1, "method": "kimi/status"},
    {"id": 1, "method": "kimi/status"},
    {"jsonrpc": "2.0", "id": 1, "method": 5},
    {"jsonrpc": "2.0", "id": [1], "method": "kimi/status"},
    {"jsonrpc": "2.0", "id": {"x": 1}, "method": "kimi/chat", "params": {"message": "x"}},
    {"jsonrpc": "2.0", "id": 99999999, "result": None},
    {"jsonrpc": "2.0", "id": "unknown", "error": {"code": 1, "message": "x"}},
    {"jsonrpc": "2.0"},
)
_INVALID_UTF8 = (b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80abc")


def _dumps(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def _frame(body: bytes) -> bytes:
    return b"Content-Length: %d\r\n\r\n" % len(body) + body
