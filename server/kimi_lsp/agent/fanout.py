"""Refactor: a read-only planning run, then one worker per planned file in parallel, merged."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from ..context.prompt import SYSTEM_PROMPTS
from ..errors import KimiError
from ..model.types import ContentDelta, StreamEvent, UsageTotals
from .confine import EngineLike, Refused, normalize
from .loop import AgentOutcome, CounterLike, ModelLike, ProgressCallback, run_agent
from .overlay import Change, Overlay
from .plan_stream import PlanStream
from .tools import ToolBox

MAX_PLANNED_FILES = 100

PLAN_PROMPT = SYSTEM_PROMPTS["refactor"] + (
    "\n\n# Planning step\n"
    "You only plan now; you cannot edit yet. Use list_files, search and read_file to find every "
    "file the instruction concerns (code, tests, docs, new files). Then answer with ONLY this "
    "JSON object, no other text:\n"
    '{"plan": "<the change, precisely: names, signatures and conventions every file must '
    'follow>", "files": [{"path": "<workspace-relative path>", "change": "<what to change in '
    'this file>"}]}\n'
    "List each file once. Separate workers then edit the files in parallel, each seeing only the "
    "plan and its own file, so the plan must be complete and self-contained."
)

WORKER_PROMPT = SYSTEM_PROMPTS["refactor"] + (
    "\n\n# Your part of a planned refactor\n"
    "Other workers edit the plan's other files at the same time. You edit ONLY your file (read "
    "any other file you need). Its current text is below and counts as read. Make the change "
    "with replace_in_file (create_file if it is new), then call finish with a one-sentence "
    "summary in the same turn as your last edit."
)

SINGLE_FOLLOW_UP = (
    "Now make the changes yourself with the tools (replace_in_file, create_file), then call "
    "finish with a short summary."
)


@dataclass(frozen=True, slots=True)
class PlannedFile:
    rel: str
    change: str


@dataclass(frozen=True, slots=True)
class Plan:
    text: str
    files: list[PlannedFile]


@dataclass(slots=True)
class RefactorOutcome:
    """The merged result. `mode`: "fanout", "single" (the plan was not parseable) or "plan"
    (the plan named no file). `conflicts` name files two workers changed (the first kept);
    `notes` say what else went wrong (refused paths, failed workers, step limits)."""

    summary: str
    changes: dict[str, Change]
    conflicts: list[str]
    usage: UsageTotals
    mode: str
    plan: str = ""
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    steps: int = 0
    failed: list[str] = field(default_factory=list)  # planned files whose worker failed


def parse_plan(text: str) -> Plan | None:
    """The planning answer's JSON object (code fences and prose around it tolerated)."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("files"), list):
        return None
    files: list[PlannedFile] = []
    for item in value["files"]:
        if isinstance(item, str):
            files.append(PlannedFile(item, ""))
        elif isinstance(item, dict) and isinstance(item.get("path"), str):
            change = item.get("change") or item.get("changes") or item.get("description") or ""
            files.append(PlannedFile(item["path"], str(change)))
        else:
            return None
    return Plan(str(value.get("plan") or ""), files)


def merge(results: list[tuple[str, dict[str, Change]]]) -> tuple[dict[str, Change], list[str]]:
    """Union of the workers' changes; a file changed by two workers keeps the first's edit."""
    changes: dict[str, Change] = {}
    owner: dict[str, str] = {}
    conflicts: list[str] = []
    for worker, changed in results:
        for rel, change in changed.items():
            if rel not in changes:
                changes[rel] = change
                owner[rel] = worker
            elif changes[rel][1] != change[1]:
                conflicts.append(
                    f"{rel} was changed by the workers of {owner[rel]} and {worker}: "
                    f"kept the edit of {owner[rel]}'s worker, dropped {worker}'s"
                )
    return dict(sorted(changes.items())), conflicts


def default_read_base(engine: EngineLike) -> Callable[[str], str | None]:
    """Files as they are on disk (through the index's text cache)."""

    def read(rel: str) -> str | None:
        path = engine.path_of(rel)
        return None if path is None else engine.index.read_text(path)

    return read


async def run_refactor(
    model: ModelLike,
    engine: EngineLike,
    instruction: str,
    *,
    scope_files: Collection[str] | None = None,
    api_key: str | None = None,
    max_concurrency: int = 4,
    on_progress: ProgressCallback | None = None,
    read_base: Callable[[str], str | None] | None = None,
    context: str | None = None,
    counter: CounterLike | None = None,
    window_budget: int | None = None,
    plan_steps: int = 15,
    worker_steps: int = 12,
    single_steps: int = 25,
) -> RefactorOutcome:
    """Plan with read-only tools, then edit each planned file in its own worker (at most
    `max_concurrency` at once); fall back to one agent with every tool when the plan is not
    parseable. Nothing is written: `changes` maps rel -> (original or None, new text).
    `read_base` gives a file's current text (open documents first); `context` (a repo map,
    the editor's state) goes into the planning request."""
    run = _RefactorRun(
        model,
        engine,
        instruction,
        scope_files=scope_files,
        api_key=api_key,
        max_concurrency=max_concurrency,
        on_progress=on_progress,
        read_base=read_base or default_read_base(engine),
        agent_options={"counter": counter, "window_budget": window_budget},
        steps=_Steps(plan_steps, worker_steps, single_steps),
    )
    return await run.run(context)


@dataclass(frozen=True, slots=True)
class _Steps:
    """The step limits of the planner, of each worker, and of the single-run fallback."""

    plan: int
    worker: int
    single: int


_Result = AgentOutcome | KimiError | None  # a worker's: its run, its error, or None (skipped)


class _RefactorRun:
    """One refactor, in three phases: `_plan` (workers start as the plan's files stream in),
    then either `_single` (the plan was not usable) or `_collect` (the workers' changes merged).

    The run's state: the planned files (`resolver`), the started workers by rel (`started`),
    and the reading of the planning answer as it streams (`streamed`, from model call
    `streamed_step`)."""

    def __init__(
        self,
        model: ModelLike,
        engine: EngineLike,
        instruction: str,
        *,
        scope_files: Collection[str] | None,
        api_key: str | None,
        max_concurrency: int,
        on_progress: ProgressCallback | None,
        read_base: Callable[[str], str | None],
        agent_options: dict[str, Any],
        steps: _Steps,
    ) -> None:
        self.model = model
        self.engine = engine
        self.instruction = instruction
        self.scope_files = scope_files
        self.api_key = api_key
        self.on_progress = on_progress
        self.base = read_base
        self.options = agent_options
        self.steps = steps
        self.usage = UsageTotals()
        self.plan_overlay = Overlay(read_base)
        self.resolver = _Resolver(scope_files)
        self.semaphore = asyncio.Semaphore(max(1, max_concurrency))
        self.started: dict[str, asyncio.Task[_Result]] = {}
        self.streamed = PlanStream()
        self.streamed_step = 0
        self.group: asyncio.TaskGroup | None = None

    def progress(self, message: str, rel: str | None = None) -> None:
        if self.on_progress is not None:
            self.on_progress(message, rel)

    async def run(self, context: str | None) -> RefactorOutcome:
        async with asyncio.TaskGroup() as group:
            self.group = group
            planned, plan = await self._plan(context)
        if plan is None:
            return await self._single(planned)
        return self._collect(planned, plan)

    # -- planning ---------------------------------------------------------------------------

    async def _plan(self, context: str | None) -> tuple[AgentOutcome, Plan | None]:
        """The planning run; workers start for the files of its answer (most of them while it
        streams, the rest once it is read whole)."""
        request = f"# Instruction\n{self.instruction}"
        if self.scope_files:
            listed = "\n".join(f"- {f}" for f in self.scope_files)
            request += "\n\n# Change only these files\n" + listed
        if context:
            request += f"\n\n# Context\n{context}"
        planner = ToolBox(self.engine, self.plan_overlay, self.api_key, read_only=True)
        messages = [
            {"role": "system", "content": PLAN_PROMPT},
            {"role": "user", "content": request},
        ]
        self.progress("Planning the refactor")
        planned = await run_agent(
            self.model,
            messages,
            planner,
            max_steps=self.steps.plan,
            on_progress=self.on_progress,
            on_event=self._on_event,
            **self.options,
        )
        _add(self.usage, planned.usage_total)
        plan = parse_plan(planned.summary) if planned.stopped_reason == "answered" else None
        streamed = self.streamed
        head = len(streamed.files) if plan is not None and _same_start(plan, streamed) else 0
        if self.streamed_step != planned.steps or head == 0 or plan is None:
            self._discard()  # the early starts came from another turn or read differently
            head = 0
        if plan is not None:
            for raw in plan.files[head:]:
                item = self.resolver.add(raw)
                if item is not None:
                    self._start(item, plan.text)
        return planned, plan

    def _on_event(self, step: int, event: StreamEvent) -> None:
        # Workers start while the plan still streams: each file entry as soon as it is
        # complete (a real plan of 20 files streams for seconds).
        if not isinstance(event, ContentDelta):
            return
        if step != self.streamed_step:
            self._discard()
            self.streamed, self.streamed_step = PlanStream(), step
        for entry in self.streamed.feed(event.text):
            item = self.resolver.add(PlannedFile(entry.path, entry.change))
            if item is not None and self.streamed.plan is not None:
                self._start(item, self.streamed.plan)

    def _discard(self) -> None:
        """Cancel the early starts: they came from a turn that was not the answer."""
        for task in self.started.values():
            task.cancel()
        self.started.clear()
        self.resolver = _Resolver(self.scope_files)

    # -- workers ----------------------------------------------------------------------------

    def _start(self, item: PlannedFile, plan_text: str) -> None:
        assert self.group is not None, "workers start inside the run's task group"
        header = _worker_header(self.instruction, plan_text)
        self.started[item.rel] = self.group.create_task(self._guarded(item, header))

    async def _guarded(self, item: PlannedFile, header: str) -> _Result:
        try:
            return await self._worker(item, header)
        except KimiError as error:
            return error

    async def _worker(self, item: PlannedFile, header: str) -> AgentOutcome | None:
        async with self.semaphore:
            overlay = Overlay(self.base)
            box = ToolBox(self.engine, overlay, self.api_key, edit_scope={item.rel})
            body = _own_file(box, item)
            if isinstance(body, Refused):
                self.resolver.notes.append(f"{item.rel}: skipped, {body}")
                return None
            user = f"{header}\n\n# Your file: {item.rel}\nChange: {item.change or '(see plan)'}"
            work = [
                {"role": "system", "content": WORKER_PROMPT},
                {"role": "user", "content": f"{user}\n\n{body}"},
            ]
            self.progress(f"Editing {item.rel}", item.rel)
            return await run_agent(
                self.model,
                work,
                box,
                max_steps=self.steps.worker,
                on_progress=self.on_progress,
                label=item.rel,
                **self.options,
            )

    # -- outcomes ---------------------------------------------------------------------------

    async def _single(self, planned: AgentOutcome) -> RefactorOutcome:
        """The plan was not usable: the planner's conversation goes on with every tool."""
        self.progress("The plan was not usable: refactoring in one run")
        scope = _scope(self.scope_files)
        single = ToolBox(self.engine, self.plan_overlay, self.api_key, edit_scope=scope)
        follow_up = [*planned.messages, {"role": "user", "content": SINGLE_FOLLOW_UP}]
        outcome = await run_agent(
            self.model,
            follow_up,
            single,
            max_steps=self.steps.single,
            on_progress=self.on_progress,
            **self.options,
        )
        _add(self.usage, outcome.usage_total)
        notes = [_stopped(outcome, "the refactor")] if outcome.stopped_reason == "max_steps" else []
        steps = planned.steps + outcome.steps
        return RefactorOutcome(
            outcome.summary, outcome.changed, [], self.usage, "single", notes=notes, steps=steps
        )

    def _collect(self, planned: AgentOutcome, plan: Plan) -> RefactorOutcome:
        """The workers' results merged (all of them have ended), or the plan alone."""
        notes = self.resolver.notes
        files = [item for item in self.resolver.files if not self.started[item.rel].cancelled()]
        if not files:
            summary = plan.text or "The plan names no file to change."
            return RefactorOutcome(
                summary, {}, [], self.usage, "plan", plan.text, notes=notes, steps=planned.steps
            )
        results = [self.started[item.rel].result() for item in files]
        errors = [r for r in results if isinstance(r, KimiError)]
        if errors and len(errors) == len(results):
            raise errors[0]
        done: list[tuple[str, dict[str, Change]]] = []
        failed: list[str] = []
        lines = [plan.text] if plan.text else []
        steps = planned.steps
        for item, result in zip(files, results, strict=True):
            if isinstance(result, KimiError):
                notes.append(f"{item.rel}: the worker failed: {result.message}")
                failed.append(item.rel)
            elif result is not None:
                _add(self.usage, result.usage_total)
                steps += result.steps
                own = {rel: c for rel, c in result.changed.items() if rel == item.rel}
                done.append((item.rel, own))
                lines.append(f"- {item.rel}: {result.summary or 'no summary'}")
                if result.stopped_reason == "max_steps":
                    notes.append(_stopped(result, item.rel))
        changes, conflicts = merge(done)
        rels = [item.rel for item in files]
        return RefactorOutcome(
            "\n".join(lines), changes, conflicts, self.usage, "fanout", plan.text, rels, notes,
            steps, failed,
        )  # fmt: skip


def _scope(scope_files: Collection[str] | None) -> set[str] | None:
    if not scope_files:
        return None
    scope: set[str] = set()
    for raw in scope_files:
        try:
            scope.add(normalize(raw))
        except Refused:
            continue
    return scope


class _Resolver:
    """The plan's files as rels, one at a time: deduplicated (first entry wins), confined,
    in scope and at most `MAX_PLANNED_FILES`; what was refused goes to `notes`."""

    def __init__(self, scope_files: Collection[str] | None) -> None:
        self.scope = _scope(scope_files)
        self.files: list[PlannedFile] = []
        self.seen: set[str] = set()
        self.notes: list[str] = []

    def add(self, item: PlannedFile) -> PlannedFile | None:
        """The entry to start a worker for, or None (refused, out of scope, a repeat)."""
        try:
            rel = normalize(item.rel)
        except Refused as why:
            self.notes.append(f"the plan's path {item.rel!r} was refused: {why}")
            return None
        if self.scope is not None and rel not in self.scope:
            self.notes.append(f"{rel} is outside the requested files: not changed")
        elif rel in self.seen:
            self.notes.append(f"{rel} is planned twice: one worker edits it")
        elif len(self.files) >= MAX_PLANNED_FILES:
            self.notes.append(f"{rel}: more than {MAX_PLANNED_FILES} files planned; not changed")
        else:
            self.seen.add(rel)
            resolved = PlannedFile(rel, item.change)
            self.files.append(resolved)
            return resolved
        return None


def _worker_header(instruction: str, plan_text: str) -> str:
    """What every worker shares, byte-identical (a cacheable prefix). The list of files is
    not in it: workers start while the plan's list still streams."""
    return f"# Instruction\n{instruction}\n\n# Plan\n{plan_text}"


def _same_start(plan: Plan, streamed: PlanStream) -> bool:
    """Whether the streamed reading is the start of the final plan (it always is for the
    canonical shape; anything else discards the early starts)."""
    if not streamed.files or plan.text != streamed.plan:
        return False
    head = [(f.rel, f.change) for f in plan.files[: len(streamed.files)]]
    return head == [(f.path, f.change) for f in streamed.files]


def _own_file(box: ToolBox, item: PlannedFile) -> str | Refused:
    """The worker's file, numbered and marked read; a note when it is to be created; or why
    it may be neither read nor created."""
    try:
        box.confine.readable(item.rel, box.overlay)
    except Refused as unreadable:
        try:
            box.confine.creatable(item.rel, box.overlay)
        except Refused as why:
            # A file that exists says why it cannot be read; a new one why it cannot be made.
            return unreadable if box.overlay.exists(item.rel) else why
        return f"{item.rel} does not exist yet: create it with create_file."
    return "Current text:\n" + box.read_file(item.rel, None, None)


def _stopped(outcome: AgentOutcome, what: str) -> str:
    return f"{what}: stopped after {outcome.steps} steps; its changes so far are kept"


def _add(total: UsageTotals, part: UsageTotals) -> None:
    total.merge(part)
