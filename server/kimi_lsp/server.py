"""create_server(): builds the language server and registers every feature module."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, BinaryIO

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from . import __version__
from .config import Resolved, Settings
from .document_events import DocumentEvents
from .documents import DocumentStore
from .logs import LogSetup
from .positions import PositionEncoding
from .rpc import CommandHandler, Dispatcher
from .settings_store import SettingsStore
from .transport import LockedWriter, read_stdin, stdout_writer

log = logging.getLogger(__name__)

Feature = Callable[["KimiServer"], None]


class KimiServer(LanguageServer):
    """The pygls server plus kimi-lsp's state; one instance per connection, never global."""

    def __init__(self, logs: LogSetup | None = None, env: dict[str, str] | None = None) -> None:
        super().__init__(
            "kimi-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.logs = logs
        self.dispatcher = Dispatcher(self.protocol)
        self.documents = DocumentStore(PositionEncoding.UTF16)
        self.settings_store = SettingsStore(env=env)
        self.settings_store.on_change(self._settings_changed)
        self.document_events = DocumentEvents()
        self.failed_features: dict[str, str] = {}
        self.last_error: dict[str, Any] | None = None

    @property
    def settings(self) -> Settings:
        return self.settings_store.current.settings

    def _settings_changed(self, resolved: Resolved) -> None:
        if self.logs is not None:
            self.logs.filter.set_secrets({resolved.settings.api_key})

    def add_command(self, name: str, handler: CommandHandler) -> None:
        """Register a workspace/executeCommand command, cancellable like a request."""
        self.dispatcher.commands[name] = handler

        async def via_pygls(*arguments: Any) -> Any:  # advertised; normally never reached
            return await handler(list(arguments))

        self.command(name)(via_pygls)

    def tokenizer_name(self) -> str:
        return "cl100k_base (bundled offline BPE; counts are approximate)"

    def usage_summary(self) -> dict[str, Any]:
        currency = self.settings.pricing.currency
        return {
            "requests": 0,
            "promptTokens": 0,
            "cachedTokens": 0,
            "completionTokens": 0,
            "cost": 0.0,
            "currency": currency,
        }

    def notify(self, method: str, params: Any) -> None:
        """Send a notification built from plain JSON (custom kimi/* notifications)."""
        self.protocol._send_data({"jsonrpc": "2.0", "method": method, "params": params})

    def show_message(self, text: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        self.window_show_message(types.ShowMessageParams(type=kind, message=text))

    # -- transports -------------------------------------------------------------------
    def serve_stdio(self, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
        """Serve over stdio with the bulk reader until the client closes the pipe or exits.

        Returns the process exit code: 0 after shutdown+exit, 1 when the client vanished.
        """
        self.protocol.set_writer(stdout_writer(stdout))
        source = stdin or sys.stdin.buffer
        return self._run(read_stdin(source, self.dispatcher.feed))

    def _run(self, main: Coroutine[Any, Any, None]) -> int:
        try:
            asyncio.run(main)
        except BrokenPipeError:
            log.error("Connection to the client was lost; shutting down.")
        except KeyboardInterrupt:
            pass
        except SystemExit as exc:  # the `exit` notification
            return exc.code if isinstance(exc.code, int) else 0
        finally:
            self.shutdown()  # type: ignore[no-untyped-call]
        return 0 if self.protocol._shutdown else 1

    def serve_tcp(self, host: str, port: int, ready: Callable[[int], None] | None = None) -> int:
        """Serve one client connection over TCP (like pygls: the server ends with it)."""

        async def main() -> None:
            finished = asyncio.Event()

            async def connection(
                reader: asyncio.StreamReader, stream: asyncio.StreamWriter
            ) -> None:
                self.protocol.set_writer(LockedWriter(stream.write, lambda: None))
                try:
                    while data := await reader.read(1 << 16):
                        self.dispatcher.feed(data)
                finally:
                    finished.set()

            server = await asyncio.start_server(connection, host, port)
            bound = server.sockets[0].getsockname()[1]
            log.info("Serving LSP on %s:%s", host, bound)
            if ready is not None:
                ready(bound)
            async with server:
                await finished.wait()

        return self._run(main())


def _feature_modules() -> list[tuple[str, Feature]]:
    from .features import lifecycle, status, sync

    return [
        ("lifecycle", lifecycle.register),
        ("sync", sync.register),
        ("status", status.register),
    ]


def create_server(
    logs: LogSetup | None = None,
    env: dict[str, str] | None = None,
    features: list[tuple[str, Feature]] | None = None,
) -> KimiServer:
    """Build a server and register its features; a feature that fails to register is
    logged and skipped so the others keep working."""
    server = KimiServer(logs=logs, env=env)
    for name, register in features if features is not None else _feature_modules():
        try:
            register(server)
        except Exception as exc:
            server.failed_features[name] = str(exc)
            log.exception("Feature %r failed to register; the server continues without it", name)
    return server
