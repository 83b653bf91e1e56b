"""Ghost text end to end: the checks that answer nothing, typing through, the model call."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from ..context.prompt import SYSTEM_PROMPTS
from ..documents import Position, Range, TextDocument
from ..errors import KimiError
from ..model.params import prefix_mode_for
from ..model.types import ModelRequest
from ..secrets.files import secret_file_reason
from .context_cache import StableContext
from .ghost_prompt import (
    MAX_OUTPUT_TOKENS,
    Limits,
    Window,
    messages,
    redacted,
    suffix_for_trim,
    window,
)
from .ghost_trim import Around, trim, unfenced
from .meter import PredictionMeter
from .scheduler import Scheduler, debounce
from .suggestions import Suggestion, SuggestionCache

if TYPE_CHECKING:
    from ..config import Settings
    from ..documents import DocumentStore
    from ..model.router import ModelRouter

log = logging.getLogger(__name__)


class Host(Protocol):
    """What ghost text needs of the server."""

    @property
    def documents(self) -> DocumentStore: ...
    @property
    def settings(self) -> Settings: ...
    @property
    def model(self) -> ModelRouter: ...
    def redact(self, text: str) -> str: ...


@dataclass(frozen=True, slots=True)
class GhostRequest:
    """One textDocument/inlineCompletion, validated."""

    uri: str
    position: Position
    invoked: bool = False  # triggerKind 1: asked for, so no debounce
    completion_menu: bool = False  # selectedCompletionInfo given: a completion menu is open


@dataclass(frozen=True, slots=True)
class GhostItem:
    text: str
    range: Range


class GhostText:
    """Per-server ghost text: the suggestion cache, one request in flight per document, each
    file's stable context."""

    def __init__(self, host: Host, meter: PredictionMeter, stable: StableContext) -> None:
        self.host = host
        self.meter = meter
        self.stable = stable
        self.cache = SuggestionCache()
        self.scheduler = Scheduler(on_superseded=self._superseded)
        self._secret: dict[str, str | None] = {}
        self._failing: str | None = None  # the kind of the last failure, logged once

    def _superseded(self) -> None:
        self.meter.superseded += 1

    def forget(self, uri: str) -> None:
        """A closed document: nothing of it is kept."""
        self.cache.forget(uri)
        self.stable.forget(uri)
        self._secret.pop(uri, None)

    async def complete(self, req: GhostRequest) -> list[GhostItem]:
        """The items to show at the request's position (empty when there is nothing)."""
        ticket = self.scheduler.begin(req.uri)  # any newer request supersedes the older one
        try:
            prediction = self.host.settings.prediction
            doc = self.host.documents.get(req.uri)
            if not prediction.enabled or req.completion_menu or doc is None:
                return []
            if self.secret_reason(req.uri) is not None:
                return []  # a secret file's text never goes to the model
            line, index, clamped = doc.locate(req.position)
            if clamped:
                return []
            cached = self._from_cache(req.uri, doc, line, index)
            if cached is not None:
                return cached
            if self.meter.over_cap(prediction.max_cost_per_hour):
                return []
            delay = 0.0 if req.invoked else prediction.debounce_ms / 1000
            version = doc.version  # now: the work starts a loop turn later

            async def work() -> list[GhostItem]:
                return await self._predict(req.uri, doc, version, line, index, delay)

            return await self.scheduler.run(req.uri, ticket, work, [])
        finally:
            self.scheduler.end(req.uri, ticket)

    def secret_reason(self, uri: str) -> str | None:
        """Why this document is a secret file (by its name; `.npmrc`-like names count as
        holding a token), cached per URI."""
        if uri not in self._secret:
            path = unquote(urlparse(uri).path) or uri
            tail = "/".join(path.rstrip("/").split("/")[-2:])
            self._secret[uri] = secret_file_reason(tail)
        return self._secret[uri]

    def _from_cache(
        self, uri: str, doc: TextDocument, line: int, index: int
    ) -> list[GhostItem] | None:
        hit = self.cache.find(uri, doc.line, doc.line_count, line, index)
        if hit is None:
            return None
        if hit.typed:
            self.meter.typed_through += 1
        else:
            self.meter.cached += 1
        self.meter.shown += 1
        return [_item(doc, line, index, hit.text, hit.suggestion.replace_rest)]

    async def _predict(
        self, uri: str, doc: TextDocument, version: int, line: int, index: int, delay: float
    ) -> list[GhostItem]:
        await debounce(delay)
        if self.host.documents.get(uri) is not doc or doc.version != version:
            return []  # the document moved on while we waited: its own request follows
        request, win = self.prompt(uri, doc, line, index)
        self.meter.made += 1
        try:
            result = await self.host.model.complete(request)
        except KimiError as error:
            self._failed(error)
            return []
        self._failing = None
        self.meter.spend(result.usage.cost)
        if self.host.documents.get(uri) is not doc or doc.version != version:
            return []
        # A fallback or endpoint that could not continue the prefix answered in chat form.
        answer = result.reply if result.continued else unfenced(result.reply)
        suffix, complete = suffix_for_trim(doc, line, win.rest, len(answer) + 1)
        ghost = trim(answer, Around(win.before, win.rest, suffix, complete), result.truncated)
        if ghost is None:
            return []
        above = doc.line(line - 1) if line > 0 else ""
        suggestion = Suggestion(
            ghost.text, ghost.replace_rest, line, win.before, win.rest, doc.line_count, above,
            doc.line(line + 1),
        )  # fmt: skip
        self.cache.add(uri, suggestion)
        self.meter.shown += 1
        return [_item(doc, line, index, ghost.text, ghost.replace_rest)]

    def prompt(
        self, uri: str, doc: TextDocument, line: int, index: int
    ) -> tuple[ModelRequest, Window]:
        """The model request for a prediction at (`line`, `index`), and its window."""
        settings = self.host.settings.for_role("prediction")
        limits = Limits.for_budget(settings.context_budget_for("prediction"))
        win = redacted(window(doc, line, index, limits), self.host.redact)
        stable = self.stable.get(uri, doc)
        name = unquote(uri.rsplit("/", 1)[-1])
        inline = prefix_mode_for(settings) == "none"  # no continuation: prefix in the prompt
        msgs = messages(SYSTEM_PROMPTS["prediction"], stable, name, doc.language_id, win, inline)
        request = ModelRequest(
            msgs, purpose="prediction", prefix=win.prefix, max_output_tokens=MAX_OUTPUT_TOKENS
        )
        return request, win

    def _failed(self, error: KimiError) -> None:
        kind = str(error.kind or type(error).__name__)
        if kind != self._failing:  # one line per kind of failure, not one per keystroke
            log.warning("Ghost text: the model failed (%s): %s; answering nothing", kind, error)
        self._failing = kind


def _item(doc: TextDocument, line: int, index: int, text: str, replace_rest: bool) -> GhostItem:
    start = doc.position_from_index(line, index)
    end = doc.position_from_index(line, len(doc.line(line))) if replace_rest else start
    return GhostItem(text, Range(start, end))
