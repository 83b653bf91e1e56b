"""Next-edit suggestions: kimi/nextEdit from the recent edits, and kimi/nextEditOutcome."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import InvalidInputError, KimiError
from ...predict.history import HISTORY_EDITS, EditHistory
from ...predict.rejections import Rejections
from .params import integer, obj, position, string

if TYPE_CHECKING:
    from ...context.engine import ContextEngine
    from ...documents import Position, TextDocument
    from ...model.types import ModelResult
    from ...predict.next_extract import Suggestion
    from ...predict.next_prompt import HistoryEntry, NextPrompt
    from ..server import KimiServer

log = logging.getLogger(__name__)

OUTCOMES = ("accepted", "rejected", "ignored")


def empty() -> dict[str, Any]:
    return {"edits": []}


@dataclass(frozen=True, slots=True)
class NextEditParams:
    uri: str
    version: int
    position: Position


def parse_params(raw: Any) -> NextEditParams:
    body = obj(raw, "params")
    identifier = obj(body.get("textDocument"), "textDocument")
    return NextEditParams(
        string(identifier, "uri"), integer(identifier, "version"), position(body.get("position"))
    )


class _Superseded(Exception):
    """A newer kimi/nextEdit for the same document replaced this one."""


@dataclass(slots=True)
class _Turn:
    superseded: bool = False
    call: asyncio.Future[ModelResult] | None = None


class NextEdits:
    """Per-server next-edit state: the edit history, the suggestions made and those rejected,
    the model call in flight per document (a newer request cancels the older one's)."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server
        self.history = EditHistory()
        self.rejections = Rejections()
        # The latest request per document, and its model call once made.
        self._latest: dict[str, _Turn] = {}
        # Whether another document may enter a prompt, by URI, with the version it was judged at.
        self._admitted: dict[str, tuple[int, bool]] = {}

    def recorder(self) -> EditHistory | None:
        """The history to record didChange into, or None while next edits are off (then the
        history is emptied: the edits it holds would no longer be where it says)."""
        prediction = self.server.settings.prediction
        if prediction.enabled and prediction.next_edit:
            return self.history
        if len(self.history):
            self.history.clear()
        return None

    async def suggest(self, raw: Any) -> dict[str, Any]:
        params = parse_params(raw)
        server = self.server
        document = server.documents.get(params.uri)
        if document is None:
            raise InvalidInputError(
                f"{params.uri} is not open in the editor: open it, then ask for next edits."
            )
        prediction = server.settings.prediction
        if not (prediction.enabled and prediction.next_edit) or params.version != document.version:
            return empty()
        meter = server.services.prediction_meter
        if meter.over_cap(prediction.max_cost_per_hour):
            return empty()
        turn = self._begin(params.uri)
        try:
            prompt = await self._prompt(document, params)
            if prompt is None or document.version != params.version:
                return empty()
            result = await self._call(params.uri, turn, prompt)
        except _Superseded:
            meter.superseded += 1
            return empty()
        except KimiError as error:
            log.warning("Next-edit prediction failed: %s", error.message)
            return empty()
        finally:
            if self._latest.get(params.uri) is turn:
                del self._latest[params.uri]
        if server.documents.get(params.uri) is not document or document.version != params.version:
            return empty()
        edits = self._edits(document, params.version, prompt, result.content)
        if edits:
            meter.shown += 1
        return {"edits": edits}

    async def _prompt(self, document: TextDocument, params: NextEditParams) -> NextPrompt | None:
        """The prompt for this request; None when the document may not be sent (a secret
        file) or nothing fits."""
        from ...predict.next_prompt import PromptInput, build_prompt, renamed

        context = self.server.services.context
        await context.ready()
        engine = context.engine
        if engine.secret_reason(document.uri) is not None:
            return None
        role = self.server.settings.for_role("prediction")
        line, index, _ = document.locate(params.position)
        renames = []
        for edit in reversed(self.history.recent(HISTORY_EDITS)):
            if edit.uri == document.uri and (pair := renamed(edit)) and pair not in renames:
                renames.append(pair)
        job = PromptInput(
            document=document,
            path=engine.rel_of_uri(document.uri) or document.uri.rsplit("/", 1)[-1],
            cursor=(line, index),
            history=self._history(engine, document.uri),
            renames=renames,
            budget_tokens=role.context_budget_for("prediction"),
            continues_prefix=role.prefix_mode != "none",
            # Ghost text's per-file context: what is ready now (its build runs off this path).
            project=self.server.services.ghost.engine.stable.get(document.uri, document),
        )
        return build_prompt(job, self.server.redact)

    def _history(self, engine: ContextEngine, focus: str) -> list[HistoryEntry]:
        """The recent edits of documents that may enter a prompt (the focus, and the others
        `context/admission.py` admits), with their paths."""
        from ...context.admission import open_document_reason
        from ...predict.next_prompt import HistoryEntry

        max_size = self.server.settings.max_file_size_bytes
        admitted: dict[str, bool] = {focus: True}
        entries = []
        for edit in self.history.recent(HISTORY_EDITS):
            if edit.uri not in admitted:
                other = self.server.documents.get(edit.uri)
                known = self._admitted.get(edit.uri)
                if other is None:
                    admitted[edit.uri] = False
                elif known is not None and known[0] == other.version:
                    admitted[edit.uri] = known[1]
                else:  # judged once per version: the checks read the whole text
                    reason = open_document_reason(engine, edit.uri, other.text, max_size)
                    admitted[edit.uri] = reason is None
                    self._admitted[edit.uri] = (other.version, reason is None)
            if admitted[edit.uri]:
                path = engine.rel_of_uri(edit.uri) or edit.uri.rsplit("/", 1)[-1]
                entries.append(HistoryEntry(path, edit.start[0], edit.old_lines, edit.new_lines))
        return entries

    def _begin(self, uri: str) -> _Turn:
        """This request's turn for `uri`; the older request's model call is cancelled."""
        older = self._latest.get(uri)
        if older is not None:
            older.superseded = True
            if older.call is not None:
                older.call.cancel()
        turn = self._latest[uri] = _Turn()
        return turn

    async def _call(self, uri: str, turn: _Turn, prompt: NextPrompt) -> ModelResult:
        """The model's answer; a newer request for `uri` cancels this call (_Superseded)."""
        from ...model.types import ModelRequest

        if turn.superseded:
            raise _Superseded
        request = ModelRequest(
            messages=prompt.messages,
            purpose="prediction",
            prefix=prompt.prefix or None,
            max_output_tokens=prompt.max_output_tokens,
        )
        call = turn.call = asyncio.ensure_future(self.server.model.complete(request))
        self.server.services.prediction_meter.made += 1
        try:
            result = await call
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if turn.superseded and not (task is not None and task.cancelling()):
                raise _Superseded from None
            raise
        self.server.services.prediction_meter.spend(result.usage.cost)
        self.server.calibrate(prompt.messages, result)
        return result

    def _edits(
        self, document: TextDocument, version: int, prompt: NextPrompt, answer: str
    ) -> list[dict[str, Any]]:
        from ...predict.next_extract import Secrets, extract

        settings = self.server.settings
        latest = self.history.latest(document.uri)
        suggestions = extract(
            document.uri,
            prompt.regions,
            answer,
            Secrets(settings.api_key, settings.redact_secrets),
            (latest.start, latest.end) if latest is not None else None,
            self.rejections,
        )
        return [self._wire(document, version, s) for s in suggestions]

    def _wire(self, document: TextDocument, version: int, suggestion: Suggestion) -> dict[str, Any]:
        edit_id = uuid.uuid4().hex[:16]
        self.rejections.issued(edit_id, suggestion.key)
        start = document.position_from_index(*suggestion.start)
        end = document.position_from_index(*suggestion.end)
        return {
            "id": edit_id,
            "text": suggestion.text,
            "range": {
                "start": {"line": start.line, "character": start.character},
                "end": {"line": end.line, "character": end.character},
            },
            "textDocument": {"uri": document.uri, "version": version},
        }

    def outcome(self, params: Any) -> None:
        """Counted when the id was suggested (unknown ids are ignored); a rejected edit is
        remembered so that it is not suggested again."""
        body = obj(params, "params")
        edit_id = string(body, "id")
        outcome = string(body, "outcome")
        if outcome not in OUTCOMES:
            return
        if self.rejections.settle(edit_id, outcome == "rejected"):
            self.server.services.prediction_meter.outcome(outcome)  # type: ignore[arg-type]

    def forget(self, uri: str) -> None:
        """A document closed or re-opened: its edits are no longer what the user is doing."""
        self.history.forget(uri)
        self._admitted.pop(uri, None)


def register(server: KimiServer) -> None:
    @server.registry.request("kimi/nextEdit")
    async def next_edit(params: Any) -> dict[str, Any]:
        return await server.services.next_edits.suggest(params)

    @server.registry.notification("kimi/nextEditOutcome")
    def next_edit_outcome(params: Any) -> None:
        server.services.next_edits.outcome(params)
