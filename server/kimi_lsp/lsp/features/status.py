"""kimi/status and the kimi.status command: version, model, roles, key presence, usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import __version__
from ...errors import InvalidInputError

if TYPE_CHECKING:
    from ..server import KimiServer

TEST_HOOKS_ENV = "KIMI_LSP_TEST_HOOKS"  # "1": kimi/testAdvanceClock is served (tests only)


def status(server: KimiServer) -> dict[str, Any]:
    """protocol.md's kimi/status result; the API key only as a boolean."""
    settings = server.settings
    result: dict[str, Any] = {
        "version": __version__,
        "model": settings.model,
        "baseUrl": settings.base_url,
        "apiKeyConfigured": bool(settings.api_key),
        "tokenizer": server.tokenizer_name(),
        "usage": server.usage_summary(),
        "positionEncoding": str(server.documents.encoding),
        "openDocuments": len(server.documents),
        "index": server.services.context.index_status(),
        "roles": server.roles(),
        "prediction": server.services.prediction_meter.to_wire(
            settings.prediction.enabled, settings.prediction.max_cost_per_hour
        ),
    }
    if server.last_fallback is not None:
        result["lastFallback"] = server.last_fallback
    if server.last_error is not None:
        result["lastError"] = server.last_error
    if server.failed_features:
        result["failedFeatures"] = dict(server.failed_features)
    return result


def register(server: KimiServer) -> None:
    @server.registry.request("kimi/status")
    async def kimi_status(params: Any) -> dict[str, Any]:
        return status(server)

    @server.registry.command("kimi.status")
    async def status_command(arguments: list[Any]) -> dict[str, Any]:
        return status(server)

    if server.env.get(TEST_HOOKS_ENV) == "1":
        # Tests only: move the circuit breaker's clock instead of waiting out a cool-down.
        @server.registry.request("kimi/testAdvanceClock")
        async def advance_clock(params: Any) -> dict[str, Any]:
            seconds = params.get("seconds") if isinstance(params, dict) else None
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise InvalidInputError("kimi/testAdvanceClock expects {seconds: number}.")
            server.clock.advance(float(seconds))
            return {"offset": server.clock.offset}
