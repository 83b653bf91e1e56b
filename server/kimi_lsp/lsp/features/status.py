"""kimi/status and the kimi.status command: version, model, key presence, tokenizer, usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ... import __version__

if TYPE_CHECKING:
    from ..server import KimiServer


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
    }
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
