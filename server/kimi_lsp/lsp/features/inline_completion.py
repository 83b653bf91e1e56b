"""Ghost text: textDocument/inlineCompletion (LSP 3.18) answered by prefix continuation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...document_events import DocumentEvent
from ...errors import InvalidInputError
from . import params as p

if TYPE_CHECKING:
    from ...documents import TextDocument
    from ...predict.ghost import GhostItem, GhostRequest, GhostText
    from ..server import KimiServer

METHOD = types.TEXT_DOCUMENT_INLINE_COMPLETION
INVOKED = 1  # InlineCompletionTriggerKind.Invoked
# The stable context's sections: what the file uses, which changes only with its imports.
STABLE_KINDS = ("rules", "import", "definition")
EMPTY: dict[str, Any] = {"items": []}


def parse_params(raw: Any) -> GhostRequest:
    """The request, or InvalidParams with a sentence for malformed params."""
    # Ghost text's modules load with the first request, not at start-up (initialize stays fast).
    from ...predict.ghost import GhostRequest

    body = p.obj(raw, "params")
    uri = p.document_uri(body)
    position = p.position(body.get("position"))
    context = body.get("context")
    if context is None:
        return GhostRequest(uri, position)
    context = p.obj(context, "context")
    trigger = context.get("triggerKind")
    if trigger is not None and (isinstance(trigger, bool) or not isinstance(trigger, int)):
        raise InvalidInputError("Expected context.triggerKind to be 1 (invoked) or 2 (automatic).")
    menu = context.get("selectedCompletionInfo") is not None
    return GhostRequest(uri, position, invoked=trigger == INVOKED, completion_menu=menu)


def item_to_wire(item: GhostItem) -> dict[str, Any]:
    start, end = item.range.start, item.range.end
    return {
        "insertText": item.text,
        "range": {
            "start": {"line": start.line, "character": start.character},
            "end": {"line": end.line, "character": end.character},
        },
    }


class InlineCompletions:
    """Per-server ghost-text state (in flight per document, the suggestion cache).

    Not a document that is not open, a completion menu open (`selectedCompletionInfo`: the
    editor wants an item extending the selected completion; we leave that to the completion),
    prediction off, a secret file, the spend cap reached, a model failure (logged once per
    kind): each answers `{items: []}`, never an error."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server
        self._engine: GhostText | None = None

    @property
    def engine(self) -> GhostText:
        """Built on first use: the services (the meter among them) exist by then."""
        if self._engine is None:
            from ...predict.context_cache import StableContext
            from ...predict.ghost import GhostText

            server = self.server
            stable = StableContext(self._stable_block, server.dispatcher.spawn)
            self._engine = GhostText(server, server.services.prediction_meter, stable)
        return self._engine

    async def complete(self, params: Any) -> dict[str, Any]:
        items = await self.engine.complete(parse_params(params))
        return {"items": [item_to_wire(item) for item in items]} if items else dict(EMPTY)

    def document_closed(self, uri: str) -> None:
        if self._engine is not None:
            self._engine.forget(uri)

    async def _stable_block(self, uri: str, doc: TextDocument) -> str:
        """What the file imports and uses, from the context engine (in the background);
        nothing for a secret file (not even what it imports), whoever asks (next edits too)."""
        from ...context.focus import Focus
        from ...predict.ghost_prompt import Limits

        if self.engine.secret_reason(uri) is not None:
            return ""

        budget = self.server.settings.for_role("prediction").context_budget_for("prediction")
        cap = Limits.for_budget(budget).stable_tokens
        plan = await self.server.services.context.plan(
            "prediction", Focus(uri), "", budget=2 * budget
        )
        chosen: list[str] = []
        used = 0
        for section in plan.stable():
            if section.kind in STABLE_KINDS and used + section.tokens <= cap:
                chosen.append(section.text)
                used += section.tokens
        return "\n\n".join(chosen)


async def ghost_context(server: KimiServer, params: Any) -> dict[str, Any]:
    """kimi/ghostContext (an addition, for debugging like kimi/context): the stable context
    ghost-text prompts carry for an open document, once its build has finished."""
    uri = p.document_uri(p.obj(params, "params"))
    doc = server.documents.get(uri)
    if doc is None:
        raise InvalidInputError(f"{uri} is not open in the editor: open it first.")
    engine = server.services.ghost.engine
    if engine.secret_reason(uri) is not None:
        return {"uri": uri, "text": ""}  # nothing is derived from a secret file
    return {"uri": uri, "text": await engine.stable.settled(uri, doc)}


def register(server: KimiServer) -> None:
    server.document_events.subscribe(
        DocumentEvent.CLOSED, lambda uri: server.services.ghost.document_closed(uri)
    )

    warmed = False

    def first_keystroke(uri: str) -> None:
        # A client that shows ghost text will ask for one after this keystroke: load the model
        # client and the tokenizer now (once, in a thread) rather than in that request.
        nonlocal warmed
        if not warmed and server.settings.prediction.enabled and server.client.inline_completion:
            warmed = True
            server.warm_up()
            server.services.ghost.engine  # noqa: B018  (imports ghost text's modules now)

    server.document_events.subscribe(DocumentEvent.CHANGED, first_keystroke)

    @server.registry.request(METHOD, options=types.InlineCompletionOptions())
    async def inline_completion(params: Any) -> dict[str, Any]:
        return await server.services.ghost.complete(params)

    @server.registry.request("kimi/ghostContext")
    async def context(params: Any) -> dict[str, Any]:
        return await ghost_context(server, params)
