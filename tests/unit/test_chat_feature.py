"""The LSP side of chat: nothing of it is built at start-up or by kimi/debugStats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, json, sys
from kimi_lsp.lsp.features.debug import debug_stats
from kimi_lsp.lsp.server import create_server

server = create_server(env={"XDG_CONFIG_HOME": sys.argv[1], "XDG_CACHE_HOME": sys.argv[1]})

async def stats():
    return debug_stats(server)

conversations = asyncio.run(stats())["conversations"]
print(json.dumps({
    "conversations": conversations,
    "loaded": server.services.chat.loaded,
    "modules": sorted(m for m in sys.modules if m.startswith("kimi_lsp.chat.")),
}))
"""


def test_start_up_and_debug_stats_build_no_chat_service(tmp_path: Path) -> None:
    # A fresh interpreter: what this one imported for other tests must not hide an import.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["conversations"] == 0
    assert seen["loaded"] is False
    # Only the request types load with the server; the service, store and prompts wait for
    # the first chat.
    assert seen["modules"] == ["kimi_lsp.chat.request"]
