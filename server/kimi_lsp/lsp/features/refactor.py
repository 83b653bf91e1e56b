"""kimi/refactor and kimi.refactor: the agent's changes as one annotated WorkspaceEdit."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ...errors import InvalidInputError
from .. import pygls_adapter as pygls
from . import params as p
from .progress import Progress
from .refactor_edit import EditBuilder

if TYPE_CHECKING:
    from ...agent.fanout import RefactorOutcome
    from ...config import Settings
    from ...context.builder import Counter
    from ...context.engine import ContextEngine
    from ...context.focus import Location
    from ..server import KimiServer

log = logging.getLogger(__name__)

DEFINITION_SHARE = 4  # the editor's definitions get at most 1/4 of the refactor budget


class _ProgressNotes:
    """kimi/refactorProgress notifications (numbered steps) and the progress bar's message."""

    def __init__(
        self,
        server: KimiServer,
        refactor_id: str,
        progress: Progress,
        path_of: Callable[[str], Path | None],
    ) -> None:
        self._server = server
        self._refactor_id = refactor_id
        self._progress = progress
        self._path_of = path_of
        self._step = 0

    def __call__(self, message: str, rel: str | None = None) -> None:
        self._step += 1
        note: dict[str, Any] = {"refactorId": self._refactor_id, "message": message}
        note["step"] = self._step
        if rel is not None:
            path = self._path_of(rel)
            note["uri"] = path.as_uri() if path else rel
        self._server.notify("kimi/refactorProgress", note)
        self._progress.report(message, force=True)


def _read_base(
    engine: ContextEngine,
    snapshots: dict[str, tuple[int, str]],
    disk: Callable[[str], str | None],
) -> Callable[[str], str | None]:
    """What the agent reads: open documents as the user has them, other files as on disk."""
    open_by_rel = {
        rel: text
        for uri, (_, text) in snapshots.items()
        if (rel := engine.rel_of_uri(uri)) is not None
    }

    def read_base(rel: str) -> str | None:
        return open_by_rel[rel] if rel in open_by_rel else disk(rel)

    return read_base


def _summary(outcome: RefactorOutcome, mode: str) -> str:
    """The agent's summary plus what went wrong, in words for the user."""
    summary = outcome.summary
    if outcome.conflicts:
        summary += "\n\nConflicts: " + "; ".join(outcome.conflicts)
    if outcome.notes:
        summary += "\n\nNot done as planned:\n" + "\n".join(f"- {n}" for n in outcome.notes)
    if outcome.failed and mode == "apply":
        # Half a rename breaks the code: the rest waits for the user to review it.
        summary += (
            f"\n\nNothing was applied because {len(outcome.failed)} of the planned files "
            "could not be changed; run it again, or use preview mode to apply the rest."
        )
    return summary


def _config_warning(config: list[tuple[str, str]], mode: str) -> str:
    """The warning for editor and CI configuration in the edit (issue 16, finding 3): such
    files can run commands, so they are never applied without the user's review."""
    if not config:
        return ""
    named = "; ".join(f"{rel} ({kind})" for rel, kind in config)
    warning = (
        "\n\nWarning: this refactor changes editor or CI configuration, which can run "
        f"commands: {named}. Review these changes before applying them."
    )
    if mode == "apply":
        warning += (
            " Nothing was applied because of them: run the refactor in preview mode to see "
            "the changes and apply them yourself."
        )
    return warning


def _map_chars(settings: Settings) -> int:
    """The planning request's repository map: a tenth of the refactor budget, as a prompt's
    map takes (about three characters a token); 19,200 characters by default."""
    return settings.context_budget_for("refactor") // 10 * 3


class Refactors:
    """Runs refactors: the agent works on an overlay; the result becomes one WorkspaceEdit."""

    def __init__(self, server: KimiServer) -> None:
        self.server = server

    async def run(self, raw: Any) -> dict[str, Any]:
        from ...agent.fanout import default_read_base, run_refactor

        server = self.server
        body = p.obj(raw, "params")
        instruction = p.string(body, "instruction").strip()
        if not instruction:
            raise InvalidInputError("The refactor instruction is empty: say what to change.")
        mode = p.choice(body, "mode", ("apply", "preview"), "apply")
        locations = p.locations(body)
        instruction = server.redact(instruction)
        scope = body.get("scope")
        scope_files = self._scope(scope) if scope is not None else None
        refactor_id = uuid.uuid4().hex[:12]
        progress = Progress.start(server, "Kimi: refactor", body.get("workDoneToken"), "planning…")
        engine = server.services.context.engine
        await server.services.context.ready()
        snapshots = {d.uri: (d.version, d.text) for d in server.documents}
        on_progress = _ProgressNotes(server, refactor_id, progress, engine.path_of)
        settings = server.settings
        role = settings.for_role("refactor")  # its model's window sizes the context
        counter = await server.token_counter()
        definitions = await self._definitions(
            locations, counter, role.context_budget_for("refactor")
        )
        repo_map = server.redact(engine.repo_map_text(_map_chars(role)))
        try:
            outcome = await run_refactor(
                server.model,
                engine,
                instruction,
                scope_files=scope_files,
                api_key=settings.api_key,
                max_concurrency=settings.max_concurrent_requests,
                on_progress=on_progress,
                read_base=_read_base(engine, snapshots, default_read_base(engine)),
                context="\n\n".join(part for part in (definitions, repo_map) if part) or None,
                counter=counter,
                window_budget=role.prompt_budget(),
            )
        finally:
            progress.end()
        built = EditBuilder(server, instruction).build(outcome.changes)
        for rel, reason in built.refused:
            outcome.notes.append(reason)
            outcome.failed.append(rel)
        summary = _summary(outcome, mode) + _config_warning(built.config, mode)
        applied = False
        if mode == "apply" and built.files and not outcome.failed and not built.config:
            response = await server.workspace_apply_edit_async(
                types.ApplyWorkspaceEditParams(edit=built.edit, label=f"Kimi: {instruction[:60]}")
            )
            applied = bool(response.applied)
        return {
            "refactorId": refactor_id,
            "edit": pygls.to_json(server.protocol, built.edit),
            "files": built.files,
            "bases": built.bases,
            "summary": summary,
            "usage": outcome.usage.answer_wire(),
            "applied": applied,
        }

    async def _definitions(
        self, locations: tuple[Location, ...], counter: Counter, budget: int
    ) -> str:
        """The editor's definitions as blocks for the planner, the editor's order first, as
        many as fit in a share of the refactor budget (16K tokens by default; the rest is
        for the repository map and the agent's own reading)."""
        from ...context.builder import render_block

        slices, skipped = await self.server.services.context.definitions(locations)
        for uri, reason in skipped:
            log.info("Refactor: %s skipped: %s", uri, reason)
        room = budget // DEFINITION_SHARE
        blocks: list[str] = []
        for item in slices:
            block = render_block(
                f"{item.title}: {item.reason}", self.server.redact(item.text), item.language
            )
            tokens = counter.count(block)
            if tokens <= room:
                blocks.append(block)
                room -= tokens
        return "\n\n".join(blocks)

    def _scope(self, scope: Any) -> list[str]:
        body = p.obj(scope, "scope")
        engine = self.server.services.context.engine
        rels: list[str] = []
        uris = body.get("uris") or []
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise InvalidInputError("Expected scope.uris to be a list of URIs.")
        for uri in uris:
            rel = engine.rel_of_uri(uri)
            if rel is None:
                raise InvalidInputError(f"{uri} is outside the workspace.")
            rels.append(rel)
        glob = p.optional_string(body, "glob")
        if glob:
            from fnmatch import fnmatch

            rels.extend(r for r in engine.all_rels() if fnmatch(r, glob))
        return sorted(set(rels))


def register(server: KimiServer) -> None:
    refactors = server.services.refactors

    @server.registry.request("kimi/refactor")
    async def refactor(params: Any) -> dict[str, Any]:
        return await refactors.run(params)

    async def refactor_command(arguments: list[Any]) -> dict[str, Any]:
        if not arguments or not isinstance(arguments[0], str):
            raise InvalidInputError("kimi.refactor expects [instruction].")
        return await refactors.run({"instruction": arguments[0]})

    server.registry.command("kimi.refactor")(refactor_command)
