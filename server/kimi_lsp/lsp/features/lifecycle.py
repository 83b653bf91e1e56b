"""initialize / initialized / settings updates: negotiates encodings and loads the settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...positions import PositionEncoding

if TYPE_CHECKING:
    from ..server import KimiServer

log = logging.getLogger(__name__)


def register(server: KimiServer) -> None:
    pending_problems: list[str] = []

    @server.registry.on_initialize
    def initialize(params: types.InitializeParams) -> None:
        encoding = server.workspace.position_encoding
        server.documents.encoding = PositionEncoding(str(getattr(encoding, "value", encoding)))
        pending_problems.extend(
            server.settings_store.set_initialization_options(params.initialization_options)
        )
        if server.logs is not None:
            server.logs.bridge_to_client(
                lambda kind, text: server.window_log_message(
                    types.LogMessageParams(type=types.MessageType(kind), message=text)
                )
            )
        server.dispatcher.initialized = True
        info = params.client_info
        log.info(
            "Initialized for %s; position encoding %s",
            " ".join(filter(None, [info.name, info.version])) if info else "an unnamed client",
            server.documents.encoding,
        )

    @server.registry.on_initialized
    async def initialized() -> None:
        for problem in pending_problems:
            server.show_message(problem)
        pending_problems.clear()
        if server.client.configuration_updates:
            await _register_configuration(server)
        await pull_configuration(server)
        if server.client.file_watching:
            await _register_file_watching(server)

    @server.registry.notification(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(params: Any) -> None:
        settings = params.get("settings") if isinstance(params, dict) else None
        if settings is not None:
            for problem in server.settings_store.set_client_settings(settings):
                server.show_message(problem)
        await pull_configuration(server)


async def _register(ls: KimiServer, method: str, options: Any, what: str) -> None:
    """Register a capability dynamically; a client that refuses still works without it."""
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(
                registrations=[
                    types.Registration(id=f"kimi-{method}", method=method, register_options=options)
                ]
            )
        )
    except Exception as exc:
        log.info("The client declined %s: %s", what, exc)


async def _register_configuration(ls: KimiServer) -> None:
    """Ask for didChangeConfiguration notifications for the kimi section."""
    await _register(
        ls, types.WORKSPACE_DID_CHANGE_CONFIGURATION, {"section": "kimi"}, "configuration updates"
    )


async def _register_file_watching(ls: KimiServer) -> None:
    """Ask the client to report file changes on disk, which keep the workspace index current."""
    watchers = [types.FileSystemWatcher(glob_pattern="**/*")]
    options = types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
    await _register(ls, types.WORKSPACE_DID_CHANGE_WATCHED_FILES, options, "file watching")


async def pull_configuration(ls: KimiServer) -> None:
    """Ask the client for the `kimi` section when it supports workspace/configuration."""
    if not ls.client.configuration_pull:
        return
    try:
        result = await ls.workspace_configuration_async(
            types.ConfigurationParams(items=[types.ConfigurationItem(section="kimi")])
        )
    except Exception as exc:
        log.warning("The client did not answer workspace/configuration: %s", exc)
        return
    # pygls hands the result back as a tuple (and nested objects may be namedtuples).
    section = result[0] if isinstance(result, list | tuple) and result else None
    if section is not None and hasattr(section, "_asdict"):
        section = section._asdict()
    if section is None:
        return
    for problem in ls.settings_store.set_client_settings(section):
        ls.show_message(problem)
