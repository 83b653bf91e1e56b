"""The context engine in the server: kept current from the workspace, asked by kimi/context."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...context.focus import Focus, Location
from ...context.plan import ContextPlan
from ...document_events import DocumentEvent
from ...errors import ErrorKind, InvalidInputError, RequestFailedError
from ...purpose import Purpose
from . import params as p

if TYPE_CHECKING:
    from ...context.builder import OpenDocument
    from ...context.engine import ContextEngine
    from ...context.slices import Slice
    from ..server import KimiServer

log = logging.getLogger(__name__)

RECENT_DOCUMENTS = 8
INDEX_WAIT_SECONDS = 5.0


class ContextService:
    """Builds ContextPlans for chat, edits and refactors from the server's live state."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server
        self._engine: ContextEngine | None = None
        self._build: asyncio.Task[None] | None = None
        self._deep: asyncio.Task[None] | None = None
        self._indexed = asyncio.Event()
        self._start_due = False

    @property
    def engine(self) -> ContextEngine:
        """The engine, imported and built on first use (not on the start-up path)."""
        if self._engine is None:
            from ...context.engine import ContextEngine
            from ...tokens.download import cache_root

            index_dir = cache_root(self.server.env) / "index"
            self._engine = ContextEngine(self.server.tokens, index_dir)
        return self._engine

    # -- index lifecycle --------------------------------------------------------------
    def start_soon(self) -> None:
        """Start the walk right after the current message (initialize answers first: loading
        the engine costs ~0.1 s); a request that comes sooner starts it itself (`ready`)."""
        self._start_due = True
        asyncio.get_running_loop().call_soon(self._start_if_due)

    def _start_if_due(self) -> None:
        if self._start_due:
            self.start()

    def start(self) -> None:
        """(Re)walk the workspace for the current roots and settings, off the event loop.

        The walk is cheap (milliseconds, a few MB); the import graph and search index, which
        read every file, are built when the user first asks for something (`warm`)."""
        from ...context.engine import uri_to_path

        self._start_due = False
        settings = self.server.settings
        roots = [path for uri in self.server.workspace_roots() if (path := uri_to_path(uri))]
        deep_wanted = self._deep is not None
        self.engine.configure(roots, settings.exclude, settings.max_file_size_bytes)
        for task in (self._build, self._deep):
            if task is not None:
                task.cancel()
        self._deep = None
        self._indexed.clear()
        self._build = self.server.dispatcher.spawn(self._walk())
        if deep_wanted:
            self.warm()

    async def _walk(self) -> None:
        try:
            await asyncio.to_thread(self.engine.build_index)
            # With an on-disk index of this workspace the deep index costs little: build it
            # now, so a restarted server has importers and search before the first request.
            if self._deep is None and await asyncio.to_thread(self.engine.deep.cached):
                self.warm()
        finally:
            self._indexed.set()
        log.info(
            "Indexed %d files in %.0f ms",
            len(self.engine.index.files()),
            self.engine.timings.get("index", 0) * 1000,
        )

    def warm(self) -> None:
        """Start building the import graph and search index (once), in the background."""
        if self._deep is None:
            self._deep = self.server.dispatcher.spawn(self._build_deep())

    async def _build_deep(self) -> None:
        await self.ready()
        await asyncio.to_thread(self.engine.build_deep)  # importers first, then search
        progress = self.engine.deep.progress
        log.info(
            "Import graph ready in %.1f s, search index %.1f s later (%d files, %d from the"
            " index cache)",
            self.engine.timings["deep"],
            self.engine.timings.get("search", 0.0),
            progress.files,
            progress.from_cache,
        )

    def index_status(self) -> dict[str, Any]:
        """kimi/status's `index` (protocol.md): "walking" the workspace, "indexing" its files
        (imports, then search terms: wanted from the first request on, or at once when an
        on-disk index of the workspace exists), or "ready"; `deep` says whether importers are
        available (the import graph), `search` whether related files are (the search terms)."""
        engine = self._engine
        if engine is None or not self._indexed.is_set():
            return {
                "state": "walking", "files": 0, "fromCache": 0, "seconds": 0.0,
                "deep": False, "search": False,
            }  # fmt: skip
        deep = engine.deep_ready.is_set()
        search = engine.search_ready.is_set()
        if self._deep is None:
            files, cached, seconds = len(engine.index.files()), 0, engine.timings.get("index", 0.0)
        else:
            progress = engine.deep.progress
            files, cached, seconds = progress.files, progress.from_cache, progress.seconds
        return {
            "state": "ready" if search or self._deep is None else "indexing",
            "files": files,
            "fromCache": cached,
            "seconds": round(seconds, 3),
            "deep": deep,
            "search": search,
        }

    async def refresh(self, uris: list[str]) -> None:
        from ...context.engine import uri_to_path

        paths = [path for uri in uris if (path := uri_to_path(uri))]
        if paths:
            await asyncio.to_thread(self.engine.refresh, paths)

    # -- planning ---------------------------------------------------------------------
    def _open_document(self, uri: str) -> OpenDocument | None:
        from ...context.builder import OpenDocument
        from ...context.languages import language_of

        document = self.server.documents.get(uri)
        if document is None:
            return None
        rel = self.engine.rel_of_uri(uri)
        language = document.language_id or language_of(rel or uri)
        return OpenDocument(uri, rel, document.text, language)

    def _disk_document(self, uri: str) -> OpenDocument | None:
        from ...context.builder import OpenDocument
        from ...context.engine import uri_to_path
        from ...context.languages import language_of

        path = uri_to_path(uri)
        if path is None:
            return None
        text = self.engine.index.read_text(path)
        if text is None:
            return None
        rel = self.engine.rel_of_uri(uri)
        return OpenDocument(uri, rel, text, language_of(rel or path.name))

    async def ready(self) -> None:
        """Wait (bounded) for the first walk of the workspace."""
        self._start_if_due()
        if self._build is not None and not self._indexed.is_set():
            try:
                await asyncio.wait_for(self._indexed.wait(), INDEX_WAIT_SECONDS)
            except TimeoutError:
                log.info("The workspace index is still building; going on without it")

    async def plan(
        self,
        purpose: Purpose,
        focus: Focus,
        instruction: str,
        reserved_tokens: int = 0,
        budget: int | None = None,  # None: the purpose's contextBudget
    ) -> ContextPlan:
        from ...context.focus import request_for_focus
        from ...secrets.redact import Redactor

        self.warm()
        await self.server.token_counter()
        # The first request after start-up waits for the walk (tens of ms), not for the
        # import graph and search index, which join when ready.
        await self.ready()
        current = None
        secret = None
        if focus.uri is not None:
            current = self._focused_document(focus.uri)
            secret = self.engine.secret_reason(focus.uri)
        recent = self._recent(focus.uri)
        definitions, skipped = await self.definitions(focus.definitions, focus.uri)
        skipped += recent.refused
        request = request_for_focus(
            purpose,
            focus,
            instruction,
            current,
            positions=self.server.documents.get(focus.uri) if focus.uri else None,
            secret_reason=secret,
            recent=recent.documents,
            reserved_tokens=reserved_tokens,
            definitions=definitions,
        )
        settings = self.server.settings
        if budget is None:  # the purpose's role may have its own window
            budget = settings.for_role(purpose).context_budget_for(purpose)
        redactor = Redactor(settings.api_key, settings.redact_secrets, settings.api_keys())
        try:
            plan = await asyncio.to_thread(
                self.engine.plan, request, budget, redactor, recent.by_rel
            )
        except OverflowError as exc:
            raise RequestFailedError(ErrorKind.CONTEXT_OVERFLOW, str(exc)) from None
        if skipped:
            plan.excluded = sorted(set(plan.excluded) | set(skipped))
        return plan

    async def definitions(
        self, locations: Sequence[Location], focused: str | None = None
    ) -> tuple[list[Slice], list[tuple[str, str]]]:
        """The editor's definitions read into slices (open documents as the user has them,
        read on the event loop; files off it), and (uri, reason) of the ones skipped."""
        if not locations:
            return [], []
        from ...context.editor_spans import read_definitions

        open_texts: dict[str, tuple[str, str]] = {}
        for location in locations:
            document = self.server.documents.get(location.uri)
            if document is not None:
                open_texts[location.uri] = (document.text, document.language_id)
        max_size = self.server.settings.max_file_size_bytes
        return await asyncio.to_thread(
            read_definitions, self.engine, locations, open_texts, focused, max_size
        )

    def _focused_document(self, uri: str) -> OpenDocument:
        """The focused document: the editor's copy, else the file on disk, else an error."""
        from ...context.engine import uri_to_path

        current = self._open_document(uri) or self._disk_document(uri)
        if current is None:
            path = uri_to_path(uri)
            reason = self.engine.index.check(path) if path is not None else None
            raise InvalidInputError(
                f"{uri} is not open in the editor"
                + (f" and cannot be used ({reason})" if reason else "")
                + ": open it first."
            )
        return current

    def _recent(self, focused: str | None) -> _Recent:
        """The recently used open documents that may enter a prompt (not the focused one),
        every such document of the workspace by relative path, and (uri, reason) of those
        kept out (context/admission.py: the rules files on disk follow)."""
        from ...context.admission import open_document_reason

        recent: list[OpenDocument] = []
        open_documents: dict[str, OpenDocument] = {}
        refused: list[tuple[str, str]] = []
        max_size = self.server.settings.max_file_size_bytes
        for document in self.server.documents.recent(RECENT_DOCUMENTS + 1):
            if document.uri == focused:
                continue
            reason = open_document_reason(self.engine, document.uri, document.text, max_size)
            if reason is not None:
                refused.append((document.uri, f"open document: {reason}"))
                continue
            doc = self._open_document(document.uri)
            if doc is None:
                continue
            if doc.rel is not None:
                open_documents[doc.rel] = doc
            if len(recent) < RECENT_DOCUMENTS:
                recent.append(doc)
        return _Recent(recent, open_documents, refused)


@dataclass(frozen=True, slots=True)
class _Recent:
    documents: list[OpenDocument]  # sent as "recent", most recently used first
    by_rel: dict[str, OpenDocument]  # the editor's texts, read instead of the disk's
    refused: list[tuple[str, str]]  # (uri, reason) for the manifest's `excluded`


def parse_focus(body: dict[str, Any]) -> Focus:
    diagnostics = body.get("diagnostics") or []
    if not isinstance(diagnostics, list):
        raise InvalidInputError("Expected diagnostics to be a list.")
    rendered = tuple(_diagnostic_line(d) for d in diagnostics if isinstance(d, dict))
    position = body.get("position")
    return Focus(
        uri=p.optional_document_uri(body),
        range=p.optional_range(body),
        position=p.position(position) if position is not None else None,
        diagnostics=rendered,
        definitions=p.locations(body),
    )


def _diagnostic_line(diagnostic: dict[str, Any]) -> str:
    start = (diagnostic.get("range") or {}).get("start") or {}
    line = start.get("line", 0) + 1 if isinstance(start.get("line"), int) else "?"
    levels = {1: "error", 2: "warning", 3: "info", 4: "hint"}
    severity = levels.get(diagnostic.get("severity") or 0, "")
    source = diagnostic.get("source") or ""
    message = str(diagnostic.get("message", ""))
    return f"line {line}: {severity} {source}: {message}".replace("  ", " ")


def register(server: KimiServer) -> None:
    service = server.services.context

    # The walk starts at initialize, where the roots and initializationOptions are known: a
    # request may arrive before `initialized` has finished pulling the client's settings
    # (which restart it if they change anything).
    server.registry.on_initialize(lambda params: service.start_soon())
    server.settings_store.on_change(
        lambda resolved: service.start() if server.initialized else None
    )

    def on_disk_change(uri: str) -> None:
        server.dispatcher.spawn(service.refresh([uri]))

    server.document_events.subscribe(DocumentEvent.SAVED, on_disk_change)
    server.document_events.subscribe(DocumentEvent.CLOSED, on_disk_change)

    @server.registry.notification(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def watched_files(params: Any) -> None:
        changes = p.obj(params, "params").get("changes")
        if not isinstance(changes, list):
            raise InvalidInputError("didChangeWatchedFiles without a changes list was ignored.")
        uris = [c["uri"] for c in changes if isinstance(c, dict) and isinstance(c.get("uri"), str)]
        await service.refresh(uris)

    @server.registry.request("kimi/context")
    async def context(params: Any) -> dict[str, Any]:
        body = p.obj(params, "params")
        purpose = p.choice(body, "purpose", ("chat", "edit", "refactor"), "chat")
        plan = await service.plan(purpose, parse_focus(body), "(the instruction)")  # type: ignore[arg-type]
        return plan.manifest()

    async def show_context(arguments: list[Any]) -> dict[str, Any]:
        if not arguments or not isinstance(arguments[0], str):
            raise InvalidInputError("kimi.showContext expects [uri, position].")
        raw: dict[str, Any] = {"textDocument": {"uri": arguments[0]}}
        if len(arguments) > 1 and arguments[1] is not None:
            raw["position"] = arguments[1]
        result: dict[str, Any] = await context(raw)
        return result

    server.registry.command("kimi.showContext")(show_context)
