"""kimi/debugStats: live counts of what the server holds, to find leaks (an addition)."""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

from .. import pygls_adapter as pygls

if TYPE_CHECKING:
    from ..server import KimiServer


def debug_stats(server: KimiServer) -> dict[str, Any]:
    """Counts that return to their idle values when nothing is running (this request aside)."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if not t.done() and t is not current]
    edits = server.services.edits
    chat = server.services.chat
    return {
        "tasks": len(tasks),
        "requestsInFlight": len(
            [f for f in pygls.request_futures(server.protocol).values() if id(f) != id(current)]
        ),
        "backgroundTasks": server.dispatcher.background_tasks,
        "openStreams": server.open_streams,
        "pendingEdits": edits.pending_count(),
        "acceptedEdits": len(edits.accepted),
        "progressBars": len(server.progress_tasks),
        "openDocuments": len(server.documents),
        "conversations": chat.live_conversations(),
        "threads": threading.active_count(),
    }


def register(server: KimiServer) -> None:
    @server.registry.request("kimi/debugStats")
    async def stats(params: Any) -> dict[str, Any]:
        return debug_stats(server)
