"""textDocument/codeAction: an instant, network-free menu of Kimi actions, and their commands."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...errors import InvalidInputError
from . import params as p

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)

KINDS = [
    types.CodeActionKind.QuickFix,
    types.CodeActionKind.RefactorRewrite,
    types.CodeActionKind.Source,
]
EXPLAIN_KIND = "refactor.kimi.explain"  # under refactor so "only: [refactor]" menus show it

DOCSTRING_INSTRUCTION = (
    "Add documentation: docstrings or doc comments in the language's usual style for every "
    "function, class and module in the selection. Do not change the code itself."
)


def _fix_instruction(diagnostic: dict[str, Any]) -> str:
    source = diagnostic.get("source")
    origin = f" (reported by {source})" if source else ""
    return (
        f"Fix this problem{origin}: {diagnostic.get('message', '')}. Change as little as "
        "possible and keep the behaviour otherwise."
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wants(only: list[str] | None, kind: str) -> bool:
    return only is None or any(kind == o or kind.startswith(o + ".") for o in only)


def list_actions(
    uri: str, rng: dict[str, Any], diagnostics: list[dict[str, Any]], only: list[str] | None,
    tags: bool,
) -> list[dict[str, Any]]:  # fmt: skip
    """The menu, built from the request alone (no model call, no I/O)."""
    actions: list[dict[str, Any]] = []

    def action(title: str, kind: str, command: str, arguments: list[Any], **extra: Any) -> None:
        if not _wants(only, kind):
            return
        item: dict[str, Any] = {
            "title": title,
            "kind": kind,
            "command": {"title": title, "command": command, "arguments": arguments},
            **extra,
        }
        if tags:
            item["tags"] = [types.CodeActionTag.LlmGenerated.value]
        actions.append(item)

    for diagnostic in diagnostics:
        action(
            f"Kimi: fix '{_short(diagnostic.get('message', ''))}'",
            types.CodeActionKind.QuickFix.value,
            "kimi.fix",
            [uri, diagnostic.get("range", rng), diagnostic],
            diagnostics=[diagnostic],
        )
    action("Kimi: edit selection…", types.CodeActionKind.RefactorRewrite.value,
           "kimi.inlineEdit", [uri, rng])  # fmt: skip
    action("Kimi: add docstrings", types.CodeActionKind.RefactorRewrite.value,
           "kimi.docstring", [uri, rng])  # fmt: skip
    action("Kimi: explain", EXPLAIN_KIND, "kimi.explain", [uri, rng])
    action("Kimi: write tests for this file", types.CodeActionKind.Source.value,
           "kimi.tests", [uri])  # fmt: skip
    return actions


def register(server: KimiServer) -> None:
    # Listed from the raw request: no lsprotocol structuring, no network, O(diagnostics).
    # The options advertise the kinds.
    @server.registry.request(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[*KINDS, EXPLAIN_KIND]),
    )
    async def code_action(raw: Any) -> list[dict[str, Any]]:
        body = p.obj(raw, "params")
        uri = p.document_uri(body)
        rng = p.obj(body.get("range"), "range")
        p.range_(rng)
        context = p.obj(body["context"], "context") if body.get("context") is not None else {}
        listed = context.get("diagnostics")
        diagnostics = [d for d in listed if isinstance(d, dict)] if isinstance(listed, list) else []
        only = context.get("only")
        only = [str(o) for o in only] if isinstance(only, list) else None
        server.warm_up()
        return list_actions(uri, rng, diagnostics, only, server.client.code_action_tags)

    async def fix(arguments: list[Any]) -> dict[str, Any]:
        uri, rng, diagnostic = _arguments(arguments, "kimi.fix", "[uri, range, diagnostic]", 3)
        if not isinstance(diagnostic, dict):
            raise InvalidInputError("kimi.fix expects a diagnostic object as third argument.")
        result: dict[str, Any] = await server.services.edits.run_raw(
            {"textDocument": {"uri": uri}, "range": _line_range(rng),
             "instruction": _fix_instruction(diagnostic), "diagnostics": [diagnostic]}
        )  # fmt: skip
        return result

    async def docstring(arguments: list[Any]) -> dict[str, Any]:
        uri, rng = _arguments(arguments, "kimi.docstring", "[uri, range]", 2)
        result: dict[str, Any] = await server.services.edits.run_raw(
            {"textDocument": {"uri": uri}, "range": _line_range(rng),
             "instruction": DOCSTRING_INSTRUCTION}
        )  # fmt: skip
        return result

    async def explain(arguments: list[Any]) -> dict[str, Any]:
        uri, rng = _arguments(arguments, "kimi.explain", "[uri, range]", 2)
        result: dict[str, Any] = await server.services.chat.run(
            {"message": "/explain", "textDocument": {"uri": uri}, "range": rng}
        )
        server.show_message(result["content"][:4000], types.MessageType.Info)
        return result

    async def tests(arguments: list[Any]) -> dict[str, Any]:
        (uri,) = _arguments(arguments, "kimi.tests", "[uri]", 1)
        result: dict[str, Any] = await server.services.chat.run(
            {"message": "/tests", "textDocument": {"uri": uri}}
        )
        server.show_message(result["content"][:4000], types.MessageType.Info)
        return result

    server.registry.command("kimi.fix")(fix)
    server.registry.command("kimi.docstring")(docstring)
    server.registry.command("kimi.explain")(explain)
    server.registry.command("kimi.tests")(tests)


def _arguments(arguments: list[Any], name: str, shape: str, count: int) -> list[Any]:
    if len(arguments) < count or not isinstance(arguments[0], str):
        raise InvalidInputError(f"{name} expects {shape}.")
    return arguments[:count]


def _line_range(rng: Any) -> dict[str, Any]:
    """Whole lines around a range: fixes and docstrings rewrite complete lines."""
    r = p.range_(rng)
    end_line = r.end.line + (1 if r.end.character > 0 or r.end.line == r.start.line else 0)
    return {"start": {"line": r.start.line, "character": 0},
            "end": {"line": end_line, "character": 0}}  # fmt: skip
