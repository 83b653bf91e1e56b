"""The language server of one connection, and create_server(), which wires every feature."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, BinaryIO

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from .. import __version__
from ..config import Resolved, Settings
from ..document_events import DocumentEvents
from ..documents import DocumentStore
from ..logs import LogSetup
from ..model.breaker import OffsetClock
from ..model.types import ModelResult, UsageTotals
from ..positions import PositionEncoding
from ..settings_store import SettingsStore
from . import pygls_adapter as pygls
from .client import ClientCapabilities
from .dispatch import Dispatcher
from .registry import Registry
from .services import Services
from .transport import read_stdin, stdout_writer

if TYPE_CHECKING:
    from ..model.router import FallbackNote, ModelRouter
    from ..tokens.counter import TokenCounter

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
        self.env: dict[str, str] = dict(os.environ if env is None else env)
        self.registry = Registry()
        self.dispatcher = Dispatcher(self.protocol, self.registry)
        self.documents = DocumentStore(PositionEncoding.UTF16)
        self._model: ModelRouter | None = None
        self._tokens: TokenCounter | None = None
        self.settings_store = SettingsStore(env=self.env)
        self.settings_store.on_change(self._settings_changed)
        self.document_events = DocumentEvents()
        self.progress_tasks: dict[str | int, asyncio.Task[Any]] = {}
        self.failed_features: dict[str, str] = {}
        self._warming: threading.Thread | None = None
        # The circuit breaker's clock; the e2e tests move it with kimi/testAdvanceClock.
        self.clock = OffsetClock()
        self.services = Services.build(self)

    @property
    def settings(self) -> Settings:
        return self.settings_store.current.settings

    def _settings_changed(self, resolved: Resolved) -> None:
        if self.logs is not None:
            self.logs.filter.set_secrets({*resolved.settings.api_keys()})
        if self._model is not None:
            self._model.update_settings(resolved.settings)
        if self._tokens is not None:
            self._tokens.configure(resolved.settings.tokenizer_path, resolved.settings.model)

    @property
    def model(self) -> ModelRouter:
        """The model (each role's client, the fallbacks), built on first use (importing openai
        costs ~0.5 s)."""
        if self._model is None:
            from ..model.breaker import CircuitBreaker
            from ..model.router import ModelRouter

            self._model = ModelRouter(
                self.settings,
                on_usage=self._usage_reported,
                on_fallback=self._fallback_served,
                breaker=CircuitBreaker(clock=self.clock, **breaker_tuning(self.env)),
                counter=lambda: self.tokens,
            )
        return self._model

    @property
    def tokens(self) -> TokenCounter:
        """The token counter (its module and BPE are loaded on first use, not at start-up)."""
        if self._tokens is None:
            from ..tokens.counter import TokenCounter

            settings = self.settings
            self._tokens = TokenCounter(settings.tokenizer_path, model=settings.model, env=self.env)
        return self._tokens

    def calibrate(self, messages: list[dict[str, Any]], result: ModelResult) -> None:
        """Teach the fallback tokenizer the API's real count of a request we sent (only the
        top-level model's: another model counts with another tokenizer, and an estimate is
        our own count)."""
        usage = result.usage
        if usage.estimated or (usage.model and usage.model != self.settings.model):
            return
        if self.tokens.loaded and usage.prompt_tokens:
            ours = self.tokens.count_messages(messages, raw=True)
            self.tokens.calibrate(ours, result.usage.prompt_tokens)

    def _usage_reported(self, result: ModelResult, totals: UsageTotals) -> None:
        self.notify(
            "kimi/usage",
            {
                "requestId": result.request_id,
                "usage": result.usage.to_wire(),
                "session": totals.to_wire(),
            },
        )

    def _fallback_served(self, note: FallbackNote) -> None:
        # An info line in the editor's log: which model answered, and why not the primary.
        self.window_log_message(
            types.LogMessageParams(type=types.MessageType.Info, message=note.sentence())
        )

    @property
    def last_fallback(self) -> dict[str, Any] | None:
        note = self._model.last_fallback if self._model is not None else None
        return note.to_wire() if note is not None else None

    def roles(self) -> dict[str, dict[str, str]]:
        """Each role's model and base URL (kimi/status), from the settings alone."""
        from ..model.router import roles_of

        return roles_of(self.settings)

    def warm_up(self) -> None:
        """Import the model client and load the tokenizer in a thread, once, when the user
        shows intent (a code-action menu): the first request then skips ~0.5 s of start-up.
        Not done at start-up, where it would cost ~70 MB for users who never ask."""
        if self._warming is not None:
            return

        def warm() -> None:
            try:
                import openai
                import openai.resources.chat.chat  # noqa: F401  (the SDK imports it lazily)

                with contextlib.suppress(ImportError):  # the HTTP stack's loop backend
                    import anyio._backends._asyncio  # noqa: F401

                self.tokens.load()
                log.info("Warmed up: the model client and the tokenizer are loaded")
            except Exception:
                log.exception("Warming up failed; the first request will load what it needs")

        self._warming = threading.Thread(target=warm, name="kimi-warm-up", daemon=True)
        self._warming.start()
        self.services.context.warm()

    async def token_counter(self) -> TokenCounter:
        """The token counter, its BPE loaded off the event loop on first use."""
        if not self.tokens.loaded:
            await asyncio.to_thread(self.tokens.load)
        return self.tokens

    def redact(self, text: str) -> str:
        """What the user typed, as it may enter a prompt: the API key always removed, other
        secret-looking strings too unless `redactSecrets` is off."""
        from ..secrets.redact import Redactor

        settings = self.settings
        return Redactor(settings.api_key, settings.redact_secrets, settings.api_keys())(text)[0]

    @property
    def initialized(self) -> bool:
        return self.dispatcher.initialized

    def workspace_roots(self) -> list[str]:
        """The workspace folders' URIs (or the root URI), empty before initialize."""
        try:
            workspace = self.workspace
        except RuntimeError:  # before initialize
            return []
        if workspace.folders:
            return [str(folder.uri) for folder in workspace.folders.values()]
        return [str(workspace.root_uri)] if workspace.root_uri else []

    def workspace_root(self) -> str | None:
        roots = self.workspace_roots()
        return roots[0] if roots else None

    @property
    def client(self) -> ClientCapabilities:
        """What the connected client can do (all False before initialize)."""
        return ClientCapabilities(self.client_capabilities)

    @property
    def open_streams(self) -> int:
        """Streams open to the API right now (0 before the first request)."""
        return self._model.open_streams if self._model is not None else 0

    @property
    def last_error(self) -> dict[str, Any] | None:
        return self._model.last_error if self._model is not None else None

    def tokenizer_name(self) -> str:
        if self._tokens is None or not self._tokens.loaded:
            return "not loaded yet (loads at the first request that counts tokens)"
        return self._tokens.info.name

    def usage_summary(self) -> dict[str, Any]:
        if self._model is not None:
            return self._model.totals.to_wire()
        return UsageTotals(currency=self.settings.pricing.currency).to_wire()

    def notify(self, method: str, params: Any) -> None:
        """Send a notification built from plain JSON (custom kimi/* notifications)."""
        pygls.send_json(self.protocol, {"jsonrpc": "2.0", "method": method, "params": params})

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
        return 0 if pygls.shutting_down(self.protocol) else 1

    def serve_tcp(
        self,
        host: str,
        port: int,
        ready: Callable[[int], None] | None = None,
        token: str | None = None,
    ) -> int:
        """Serve TCP clients one at a time until one sends `exit` (protocol.md, Transport).

        This server serves the first client and a fresh one from create_server() each later
        client, so nothing of one session (documents, settings) reaches the next. With
        `token`, a client must send it as initializationOptions.tcpToken."""
        from .tcp import serve

        spare: list[KimiServer] = [self]

        def fresh() -> KimiServer:
            if spare:
                return spare.pop()
            server = create_server(logs=self.logs, env=self.env)
            if server.logs is not None:
                server.logs.filter.set_secrets({*server.settings.api_keys()})
            return server

        return serve(fresh, host, port, token=token, ready=ready)


BREAKER_COOL_DOWN_ENV = "KIMI_LSP_BREAKER_COOL_DOWN_SECONDS"  # tuning, and the e2e tests


def breaker_tuning(env: dict[str, str]) -> dict[str, Any]:
    """The circuit breaker's cool-down from the environment (seconds; default 30)."""
    try:
        seconds = float(env.get(BREAKER_COOL_DOWN_ENV, ""))
    except ValueError:
        return {}
    return {"cool_down": seconds} if 0 <= seconds <= 86_400 else {}


def _feature_modules() -> list[tuple[str, Feature]]:
    from .features import (
        chat,
        code_actions,
        context,
        debug,
        inline_completion,
        inline_edit,
        lifecycle,
        next_edit,
        progress,
        refactor,
        status,
        sync,
    )

    return [
        ("lifecycle", lifecycle.register),
        ("sync", sync.register),
        ("progress", progress.register),
        ("status", status.register),
        ("context", context.register),
        ("chat", chat.register),
        ("inline_edit", inline_edit.register),
        ("code_actions", code_actions.register),
        ("inline_completion", inline_completion.register),
        ("next_edit", next_edit.register),
        ("refactor", refactor.register),
        ("debug", debug.register),
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
    pygls.install(server, server.registry)
    return server
