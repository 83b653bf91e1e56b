"""Next-edit suggestions: kimi/nextEdit from the recent edits, and kimi/nextEditOutcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .params import obj, string

if TYPE_CHECKING:
    from ..server import KimiServer

OUTCOMES = ("accepted", "rejected", "ignored")


class NextEdits:
    """Per-server next-edit state (edit history, rejected suggestions)."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server

    async def suggest(self, params: Any) -> dict[str, Any]:
        return {"edits": []}

    def outcome(self, params: Any) -> None:
        body = obj(params, "params")
        string(body, "id")
        outcome = string(body, "outcome")
        if outcome in OUTCOMES:
            self.server.services.prediction_meter.outcome(outcome)  # type: ignore[arg-type]


def register(server: KimiServer) -> None:
    @server.registry.request("kimi/nextEdit")
    async def next_edit(params: Any) -> dict[str, Any]:
        return await server.services.next_edits.suggest(params)

    @server.registry.notification("kimi/nextEditOutcome")
    def next_edit_outcome(params: Any) -> None:
        server.services.next_edits.outcome(params)
