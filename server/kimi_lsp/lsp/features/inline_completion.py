"""Ghost text: textDocument/inlineCompletion (LSP 3.18) answered by prefix continuation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from ..server import KimiServer

METHOD = types.TEXT_DOCUMENT_INLINE_COMPLETION


class InlineCompletions:
    """Per-server ghost-text state (in flight per document, the suggestion cache)."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server

    async def complete(self, params: Any) -> dict[str, Any]:
        return {"items": []}


def register(server: KimiServer) -> None:
    @server.registry.request(METHOD, options=types.InlineCompletionOptions())
    async def inline_completion(params: Any) -> dict[str, Any]:
        return await server.services.ghost.complete(params)
