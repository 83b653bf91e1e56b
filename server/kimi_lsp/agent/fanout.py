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
    base = read_base or default_read_base(engine)
    usage = UsageTotals()
    opts: dict[str, Any] = {"counter": counter, "window_budget": window_budget}

    def progress(message: str, rel: str | None = None) -> None:
        if on_progress is not None:
            on_progress(message, rel)

    request = f"# Instruction\n{instruction}"
    if scope_files:
        request += "\n\n# Change only these files\n" + "\n".join(f"- {f}" for f in scope_files)
    if context:
        request += f"\n\n# Context\n{context}"
    plan_overlay = Overlay(base)
    planner = ToolBox(engine, plan_overlay, api_key, read_only=True)
    messages = [{"role": "system", "content": PLAN_PROMPT}, {"role": "user", "content": request}]
    resolver = _Resolver(scope_files)
    semaphore = asyncio.Semaphore(max(1, max_concurrency))
    started: dict[str, asyncio.Task[AgentOutcome | KimiError | None]] = {}
    streamed = PlanStream()
    streamed_step = 0

    async def worker(item: PlannedFile, header: str) -> AgentOutcome | None:
        async with semaphore:
            overlay = Overlay(base)
            box = ToolBox(engine, overlay, api_key, edit_scope={item.rel})
            body = _own_file(box, item)
            if body is None:
                resolver.notes.append(f"{item.rel}: skipped, the file cannot be read")
                return None
            user = f"{header}\n\n# Your file: {item.rel}\nChange: {item.change or '(see plan)'}"
            work = [
                {"role": "system", "content": WORKER_PROMPT},
                {"role": "user", "content": f"{user}\n\n{body}"},
            ]
            progress(f"Editing {item.rel}", item.rel)
            return await run_agent(
                model,
                work,
                box,
                max_steps=worker_steps,
                on_progress=on_progress,
                label=item.rel,
                **opts,
            )

    async def guarded(item: PlannedFile, header: str) -> AgentOutcome | KimiError | None:
        try:
            return await worker(item, header)
        except KimiError as error:
            return error

    async with asyncio.TaskGroup() as group:

        def start(item: PlannedFile, plan_text: str) -> None:
            header = _worker_header(instruction, plan_text)
            started[item.rel] = group.create_task(guarded(item, header))

        def discard() -> None:
            """Cancel the early starts: they came from a turn that was not the answer."""
            nonlocal resolver
            for task in started.values():
                task.cancel()
            started.clear()
            resolver = _Resolver(scope_files)

        def on_event(step: int, event: StreamEvent) -> None:
            # Workers start while the plan still streams: each file entry as soon as it is
            # complete (a real plan of 20 files streams for seconds).
            nonlocal streamed, streamed_step
            if not isinstance(event, ContentDelta):
                return
            if step != streamed_step:
                discard()
                streamed, streamed_step = PlanStream(), step
            for entry in streamed.feed(event.text):
                item = resolver.add(PlannedFile(entry.path, entry.change))
                if item is not None and streamed.plan is not None:
                    start(item, streamed.plan)

        progress("Planning the refactor")
        planned = await run_agent(
            model,
            messages,
            planner,
            max_steps=plan_steps,
            on_progress=on_progress,
            on_event=on_event,
            **opts,
        )
        _add(usage, planned.usage_total)
        plan = parse_plan(planned.summary) if planned.stopped_reason == "answered" else None
        head = len(streamed.files) if plan is not None and _same_start(plan, streamed) else 0
        if streamed_step != planned.steps or head == 0 or plan is None:
            discard()  # the early starts came from another turn or read differently
            head = 0
        if plan is not None:
            for raw in plan.files[head:]:
                item = resolver.add(raw)
                if item is not None:
                    start(item, plan.text)
    notes = resolver.notes
    if plan is None:
        progress("The plan was not usable: refactoring in one run")
        single = ToolBox(engine, plan_overlay, api_key, edit_scope=_scope(scope_files))
        follow_up = [*planned.messages, {"role": "user", "content": SINGLE_FOLLOW_UP}]
        outcome = await run_agent(
            model, follow_up, single, max_steps=single_steps, on_progress=on_progress, **opts
        )
        _add(usage, outcome.usage_total)
        notes = [_stopped(outcome, "the refactor")] if outcome.stopped_reason == "max_steps" else []
        steps = planned.steps + outcome.steps
        return RefactorOutcome(
            outcome.summary, outcome.changed, [], usage, "single", notes=notes, steps=steps
        )

    files = [item for item in resolver.files if not started[item.rel].cancelled()]
    if not files:
        return RefactorOutcome(
            plan.text or "The plan names no file to change.",
            {},
            [],
            usage,
            "plan",
            plan.text,
            notes=notes,
            steps=planned.steps,
        )
    results = [started[item.rel].result() for item in files]
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
            _add(usage, result.usage_total)
            steps += result.steps
            own = {rel: c for rel, c in result.changed.items() if rel == item.rel}
            done.append((item.rel, own))
            lines.append(f"- {item.rel}: {result.summary or 'no summary'}")
            if result.stopped_reason == "max_steps":
                notes.append(_stopped(result, item.rel))
    changes, conflicts = merge(done)
    rels = [item.rel for item in files]
    summary = "\n".join(lines)
    return RefactorOutcome(
        summary, changes, conflicts, usage, "fanout", plan.text, rels, notes, steps, failed
    )


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


def _own_file(box: ToolBox, item: PlannedFile) -> str | None:
    """The worker's file, numbered and marked read; a note when it is to be created."""
    try:
        box.confine.readable(item.rel, box.overlay)
    except Refused:
        try:
            box.confine.creatable(item.rel, box.overlay)
        except Refused:
            return None
        return f"{item.rel} does not exist yet: create it with create_file."
    return "Current text:\n" + box.read_file(item.rel, None, None)


def _stopped(outcome: AgentOutcome, what: str) -> str:
    return f"{what}: stopped after {outcome.steps} steps; its changes so far are kept"


def _add(total: UsageTotals, part: UsageTotals) -> None:
    total.requests += part.requests
    total.prompt_tokens += part.prompt_tokens
    total.cached_tokens += part.cached_tokens
    total.completion_tokens += part.completion_tokens
    total.cost += part.cost
    total.currency = part.currency or total.currency
