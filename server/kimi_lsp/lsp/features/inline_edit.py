"""kimi/inlineEdit, kimi/acceptEdit, kimi/rejectEdit: streamed proposals, minimal safe edits."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...context.focus import Focus, Location
from ...context.prompt import SYSTEM_PROMPTS, render
from ...document_events import DocumentEvent
from ...documents import Range
from ...edits.outcome import EditCode
from ...errors import InvalidInputError, StaleDocumentError
from ...model.types import ContentDelta, ModelRequest, ModelResult, StreamEvent
from . import params as p
from .context import parse_focus
from .progress import Progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...config import Settings
    from ...edits.diff import Hunk
    from ...edits.pending import PendingEdit, PendingEdits
    from ...edits.pipeline import Preview, Proposal
    from ..server import KimiServer

log = logging.getLogger(__name__)

# The sentences beside the codes of edits the server no longer holds.
GONE_REASONS = {
    EditCode.NOT_PENDING: "This edit is no longer pending (it was accepted, rejected, expired, "
    "or its lines were changed).",
    EditCode.EXPIRED: "This edit is no longer pending: it expired (Kimi keeps a proposal for "
    "ten minutes, and only the latest hundred).",
    EditCode.DOCUMENT_CLOSED: "This edit is no longer pending: its document was closed.",
}


def not_applied(code: EditCode, reason: str) -> dict[str, Any]:
    """A result that applied nothing: the code clients switch on, the sentence for the user."""
    return {"applied": False, "code": code.value, "reason": reason}


@dataclass(frozen=True, slots=True)
class EditParams:
    uri: str
    range: Range
    instruction: str
    mode: str
    work_done_token: Any
    diagnostics: tuple[str, ...] = ()
    definitions: tuple[Location, ...] = ()


def parse_params(raw: Any) -> EditParams:
    body = p.obj(raw, "params")
    instruction = p.string(body, "instruction").strip()
    if not instruction:
        raise InvalidInputError("The edit instruction is empty: say what to change.")
    focus = parse_focus(body)
    return EditParams(
        uri=p.document_uri(body),
        range=p.range_(body.get("range")),
        instruction=instruction,
        mode=p.choice(body, "mode", ("apply", "preview"), "apply"),
        work_done_token=body.get("workDoneToken"),
        diagnostics=focus.diagnostics,
        definitions=focus.definitions,
    )


class _EditorLink:
    """What the pipeline needs of the server for one edit: its context, the model call (with
    a progress bar) and kimi/editPreview notifications."""

    def __init__(self, server: KimiServer, params: EditParams, edit_id: str) -> None:
        self.server = server
        self.params = params
        self.edit_id = edit_id
        self.wire_range = _wire_range(params.range)
        self.progress: Progress | None = None
        self.prompt = ""  # the instruction as planned (a fallback's replan packs it again)

    async def plan_messages(self, prompt: str, budget: int | None = None) -> list[dict[str, Any]]:
        """The edit's messages, packed to `budget` (None: the edit role's budget)."""
        params = self.params
        focus = Focus(
            params.uri,
            params.range,
            diagnostics=params.diagnostics,
            definitions=params.definitions,
        )
        self.prompt = prompt
        plan = await self.server.services.context.plan("edit", focus, prompt, budget=budget)
        return render(plan, SYSTEM_PROMPTS["edit"], prompt)

    async def replan(self, settings: Settings) -> list[dict[str, Any]]:
        """The same edit packed to a fallback's budget (its window is smaller)."""
        return await self.plan_messages(self.prompt, settings.context_budget_for("edit"))

    async def complete(
        self, messages: list[dict[str, Any]], prefix: str, on_text: Callable[[str], None]
    ) -> ModelResult:
        server = self.server
        token = self.params.work_done_token
        self.progress = Progress.start(server, "Kimi: edit", token, "writing…")

        def on_event(event: StreamEvent) -> None:
            if isinstance(event, ContentDelta):
                on_text(event.text)

        try:
            result = await server.model.complete(
                ModelRequest(messages=messages, purpose="edit", prefix=prefix, replan=self.replan),
                on_event,
            )
        finally:
            self.progress.end()
        server.calibrate(messages, result)
        return result

    def preview(self, preview: Preview) -> None:
        self.server.notify(
            "kimi/editPreview",
            {"editId": self.edit_id, "uri": self.params.uri, "range": self.wire_range,
             "text": preview.text},
        )  # fmt: skip
        if not preview.final and self.progress is not None:
            self.progress.report(f"{preview.written} characters")


class InlineEdits:
    """Runs inline edits for one server and keeps the pending (preview) ones."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server
        self._pending: PendingEdits | None = None
        # Hunk indices already accepted per pending edit: the rest stay pending, with the
        # indices the client was given.
        self.accepted: dict[str, set[int]] = {}
        # Hunk indices whose workspace/applyEdit is on its way, per pending edit.
        self.inflight: dict[str, set[int]] = {}

    def document_closed(self, uri: str) -> None:
        """A closed document's previews can no longer be accepted: forget them."""
        if self._pending is None:
            return
        for dropped in self._pending.drop_uri(uri):
            self.accepted.pop(dropped.edit_id, None)

    def pending_count(self) -> int:
        """How many previews wait for accept or reject (0 if none was ever made)."""
        return len(self._pending) if self._pending is not None else 0

    @property
    def pending(self) -> PendingEdits:
        """Preview mode's store (the edits modules load with the first edit, not at start-up)."""
        if self._pending is None:
            from ...edits.pending import PendingEdits

            self._pending = PendingEdits()
        return self._pending

    async def run_raw(self, raw: Any) -> dict[str, Any]:
        return await self.run(parse_params(raw))

    async def run(self, params: EditParams) -> dict[str, Any]:
        from ...edits.pipeline import EditJob, run_edit
        from .apply import apply_hunks_to_document

        server = self.server
        document = server.documents.get(params.uri)
        if document is None:
            raise InvalidInputError(f"{params.uri} is not open in the editor: open it first.")
        rng = params.range
        job = EditJob(
            snapshot=document.text,
            span=document.range_to_offsets(rng),
            lines=(rng.start.line + 1, rng.end.line + 1),
            instruction=params.instruction,
            language=document.language_id,
        )
        version = document.version
        link = _EditorLink(server, params, uuid.uuid4().hex[:12])
        proposal = await run_edit(
            job,
            server.settings,
            plan_messages=link.plan_messages,
            complete=link.complete,
            on_preview=link.preview,
        )
        if params.mode == "preview":
            self._refuse_if_typed_over(params.uri, job.snapshot, job.span)
            self.pending.add(
                params.uri, version, job.snapshot, job.span, proposal.hunks, edit_id=link.edit_id
            )
            return self._answer(link.edit_id, params.uri, version, proposal, False)
        label = f"Kimi: {params.instruction[:60]}"
        applied = await apply_hunks_to_document(
            server, params.uri, job.snapshot, proposal.hunks, label
        )
        answer = self._answer(link.edit_id, params.uri, version, proposal, applied.applied)
        if applied.code is not None:
            answer["code"] = applied.code.value
        if applied.reason:
            answer["reason"] = applied.reason
        return answer

    def _answer(
        self, edit_id: str, uri: str, version: int, proposal: Proposal, applied: bool
    ) -> dict[str, Any]:
        from ...documents import TextDocument
        from .apply import edits_to_wire, to_lsp_edits

        snapshot = proposal.job.snapshot
        shadow = TextDocument(uri, "", version, snapshot, self.server.documents.encoding)
        return {
            "editId": edit_id,
            "uri": uri,
            "version": version,
            "edits": edits_to_wire(to_lsp_edits(shadow, proposal.hunks)),
            "applied": applied,
            "usage": proposal.usage.to_wire(),
        }

    async def accept(self, raw: Any) -> dict[str, Any]:
        from .apply import apply_hunks_to_document

        body = p.obj(raw, "params")
        edit_id = p.string(body, "editId")
        pending = self.pending.get(edit_id)
        if pending is None:
            code = self.pending.gone(edit_id)
            return not_applied(code, GONE_REASONS[code])
        done = self.accepted.setdefault(edit_id, set())
        indices = _choose(pending.hunks, body.get("hunks"))
        indices = [i for i in indices if i not in done]
        if not indices:
            return not_applied(EditCode.ALREADY_ACCEPTED, "Those hunks were accepted already.")
        chosen = [pending.hunks[i] for i in indices]
        # Hunks accepted earlier are in the document now: they count as changes made since
        # the snapshot, and never overlap the others (hunks are at least a character apart).
        # While the editor applies these, its didChange (which may come before its answer)
        # is ours, not the user's typing.
        inflight = self.inflight.setdefault(edit_id, set())
        inflight.update(indices)
        try:
            applied = await apply_hunks_to_document(
                self.server, pending.uri, pending.snapshot, chosen, "Kimi: accept edit"
            )
        finally:
            inflight.difference_update(indices)
            if not inflight:
                self.inflight.pop(edit_id, None)
        if not applied.applied:
            code = applied.code or EditCode.CLIENT_REFUSED
            return not_applied(code, applied.reason or "the edit was not applied")
        done.update(indices)
        if len(done) == len(pending.hunks):
            self.pending.pop(edit_id)
            self.accepted.pop(edit_id, None)
        return {"applied": True}

    def reject(self, raw: Any) -> dict[str, Any]:
        edit_id = p.string(p.obj(raw, "params"), "editId")
        self.accepted.pop(edit_id, None)
        if self.pending.pop(edit_id) is None:
            code = self.pending.gone(edit_id)
            reason = GONE_REASONS[code] if code != EditCode.NOT_PENDING else None
            return not_applied(code, reason or "This edit is no longer pending.")
        return {"applied": False}

    def _refuse_if_typed_over(self, uri: str, snapshot: str, span: tuple[int, int]) -> None:
        from ...edits.diff import compute_hunks
        from ...edits.rebase import spans_meet

        document = self.server.documents.get(uri)
        if document is None or document.text == snapshot:
            return
        user = compute_hunks(snapshot, document.text)
        if any(spans_meet(span[0], span[1], u.start, u.end) for u in user):
            raise StaleDocumentError(
                "You edited these lines while Kimi was writing, so the proposal was discarded "
                "(your typing is untouched). Run the edit again to include your changes."
            )

    def document_changed(self, uri: str) -> None:
        document = self.server.documents.get(uri)
        if document is None or self._pending is None or not self.pending.for_uri(uri):
            return
        for pending in self.pending.for_uri(uri):
            if self._user_touched(pending, document.text):
                self.pending.pop(pending.edit_id)
                self.accepted.pop(pending.edit_id, None)
                log.info("Pending edit %s dropped: its lines were edited", pending.edit_id)
                self.server.notify(
                    "kimi/editDropped",
                    {
                        "editId": pending.edit_id,
                        "uri": uri,
                        "code": EditCode.USER_EDITED.value,
                        "reason": "You changed the lines of this proposal, so it was dropped.",
                    },
                )

    def _user_touched(self, pending: PendingEdit, current: str) -> bool:
        """Whether the user (not an accepted hunk of this edit) changed the edit's range;
        hunks being applied may or may not be in `current` yet."""
        done = self.accepted.get(pending.edit_id, set())
        inflight = self.inflight.get(pending.edit_id)
        if inflight and not self._touched_since(pending, current, done | inflight):
            return False
        return self._touched_since(pending, current, done)

    @staticmethod
    def _touched_since(pending: PendingEdit, current: str, indices: set[int]) -> bool:
        from ...edits.diff import apply_hunks, compute_hunks
        from ...edits.rebase import spans_meet

        accepted = [pending.hunks[i] for i in sorted(indices)]
        base = apply_hunks(pending.snapshot, accepted) if accepted else pending.snapshot
        if base == current:
            return False
        start, end = pending.range_offsets
        end += sum(len(h.text) - (h.end - h.start) for h in accepted)
        return any(spans_meet(start, end, u.start, u.end) for u in compute_hunks(base, current))


def _choose(hunks: list[Hunk], indices: Any) -> list[int]:
    if indices is None:
        return list(range(len(hunks)))
    if not isinstance(indices, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in indices
    ):
        raise InvalidInputError("Expected hunks to be a list of hunk indices.")
    bad = [i for i in indices if not 0 <= i < len(hunks)]
    if bad:
        raise InvalidInputError(
            f"Hunk index {bad[0]} does not exist: this edit has {len(hunks)} hunk(s)."
        )
    return sorted(set(indices))


def _wire_range(rng: Range) -> dict[str, Any]:
    return {
        "start": {"line": rng.start.line, "character": rng.start.character},
        "end": {"line": rng.end.line, "character": rng.end.character},
    }


def register(server: KimiServer) -> None:
    edits = server.services.edits

    @server.registry.request("kimi/inlineEdit")
    async def inline_edit(params: Any) -> dict[str, Any]:
        return await edits.run(parse_params(params))

    @server.registry.request("kimi/acceptEdit")
    async def accept_edit(params: Any) -> dict[str, Any]:
        return await edits.accept(params)

    @server.registry.request("kimi/rejectEdit")
    async def reject_edit(params: Any) -> dict[str, Any]:
        return edits.reject(params)

    server.document_events.subscribe(DocumentEvent.CHANGED, edits.document_changed)

    server.document_events.subscribe(DocumentEvent.CLOSED, edits.document_closed)

    async def inline_edit_command(arguments: list[Any]) -> dict[str, Any]:
        if len(arguments) < 3 or not isinstance(arguments[2], str):
            raise InvalidInputError(
                "kimi.inlineEdit expects [uri, range, instruction]; this client did not ask "
                "for an instruction (use the Kimi plugin, or kimi/inlineEdit)."
            )
        return await edits.run_raw(
            {"textDocument": {"uri": arguments[0]}, "range": arguments[1],
             "instruction": arguments[2]}
        )  # fmt: skip

    server.registry.command("kimi.inlineEdit")(inline_edit_command)
