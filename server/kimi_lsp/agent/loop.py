"""The tool-calling loop: thinking on, ids and reasoning sent back verbatim, steps bounded."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model.client import EventCallback
from ..model.types import ModelRequest, ModelResult, StreamEvent, ToolCall, UsageTotals
from .overlay import Change
from .schemas import FINISH, BadArguments, parse_arguments
from .tools import ToolBox

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, str | None], None]
StepEventCallback = Callable[[int, StreamEvent], None]
COMPACT_TARGET = 0.75  # compaction goes down to this share of the budget (not every step)
ERROR_PREFIX = "Error:"


class ModelLike(Protocol):
    async def complete(
        self, request: ModelRequest, on_event: EventCallback | None = None
    ) -> ModelResult: ...


class CounterLike(Protocol):
    def count_messages(self, messages: Iterable[Mapping[str, Any]]) -> int: ...


@dataclass(slots=True)
class AgentOutcome:
    """How a run ended. `stopped_reason`: "answered" (a final answer without tool calls),
    "finished" (the finish tool), "max_steps", or "length" (the answer was cut)."""

    summary: str
    steps: int
    changed: dict[str, Change]
    usage_total: UsageTotals
    stopped_reason: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    compacted: int = 0
    tool_errors: int = 0


async def run_agent(
    model: ModelLike,
    messages: list[dict[str, Any]],
    toolbox: ToolBox,
    *,
    max_steps: int = 25,
    on_progress: ProgressCallback | None = None,
    counter: CounterLike | None = None,
    window_budget: int | None = None,
    label: str | None = None,
    on_event: StepEventCallback | None = None,
) -> AgentOutcome:
    """Call the model with the toolbox's tools until it answers without tool calls, calls
    `finish` with every other call of its turn succeeding, or `max_steps` model calls were made.

    `messages` (system + user, at least) are copied, never mutated. Model errors propagate;
    so does cancellation, at once (tools run in a thread; an abandoned one only touches the
    run's overlay). `window_budget` (input tokens, counted by `counter`) triggers compaction of
    the oldest tool results. `on_event` sees every streamed event with its step number."""
    history = [dict(m) for m in messages]
    tools = toolbox.schemas()
    tools_tokens = _tools_tokens(counter, tools) if counter is not None else 0
    usage = UsageTotals()
    compacted = 0
    errors = 0

    def progress(message: str, rel: str | None = None) -> None:
        if on_progress is not None:
            on_progress(f"{label}: {message}" if label else message, rel)

    def outcome(summary: str, steps: int, reason: str) -> AgentOutcome:
        changed = toolbox.overlay.changed()
        return AgentOutcome(summary, steps, changed, usage, reason, history, compacted, errors)

    for step in range(1, max_steps + 1):
        if counter is not None and window_budget is not None:
            compacted += compact(history, counter, window_budget - tools_tokens)
        progress(f"step {step}: thinking")
        request = ModelRequest(list(history), purpose="refactor", tools=tools, tool_choice="auto")
        if on_event is None:
            result = await model.complete(request)
        else:
            result = await model.complete(request, functools.partial(on_event, step))
        usage.add(result.usage)
        history.append(result.assistant_message())
        if not result.tool_calls:
            reason = "length" if result.truncated else "answered"
            return outcome(result.content.strip(), step, reason)
        answers = await _call_tools(toolbox, result.tool_calls, progress)
        errors += sum(answer.startswith(ERROR_PREFIX) for answer in answers)
        summary = _finish(result.tool_calls, answers)
        for call, answer in zip(result.tool_calls, answers, strict=True):
            history.append(_tool_message(call, answer))
        if summary is not None:
            return outcome(summary or result.content.strip(), step, "finished")
    progress(f"stopped after {max_steps} steps")
    summary = f"Stopped after {max_steps} steps without finishing; the changes so far are kept."
    return outcome(summary, max_steps, "max_steps")


async def _call_tools(
    toolbox: ToolBox, calls: list[ToolCall], progress: ProgressCallback
) -> list[str]:
    """The answers to a turn's tool calls, run in order (each in a thread); a `finish` call's
    answer stays "" here: it is decided once the turn's other calls are known."""
    answers: list[str] = []
    for call in calls:
        message, rel = toolbox.describe(call.name, call.arguments)
        progress(message, rel)
        if call.name == FINISH:
            answers.append("")
            continue
        answers.append(await asyncio.to_thread(toolbox.dispatch, call.name, call.arguments))
    return answers


def _tool_message(call: ToolCall, content: str) -> dict[str, Any]:
    """A tool result; the id goes back exactly as the API sent it."""
    return {"role": "tool", "tool_call_id": call.id, "name": call.name, "content": content}


def _finish(calls: list[ToolCall], answers: list[str]) -> str | None:
    """The finish summary when the turn calls `finish` and every other call succeeded (the
    finish answers are filled in either way); None to go on."""
    failed = sum(a.startswith(ERROR_PREFIX) for c, a in zip(calls, answers, strict=True) if a)
    summary: str | None = None
    for i, call in enumerate(calls):
        if call.name != FINISH:
            continue
        try:
            text = str(parse_arguments(FINISH, call.arguments)["summary"]).strip()
        except BadArguments as exc:
            answers[i] = f"{ERROR_PREFIX} {exc}"
            continue
        if failed:
            answers[i] = (
                f"{ERROR_PREFIX} not finished: {failed} other call(s) of this turn failed; "
                "fix them, then call finish again"
            )
        else:
            answers[i] = "Finished."
            summary = text
    return summary


def compact(history: list[dict[str, Any]], counter: CounterLike, budget: int) -> int:
    """Replace the oldest tool results by "[compacted: N chars]" (ids kept) while the
    conversation exceeds `budget` tokens, down to `COMPACT_TARGET` of it; the latest turn's
    results stay. Returns how many were compacted."""
    if _upper_bound(history) <= budget:  # a token is at least one byte: no need to count
        return 0
    total = counter.count_messages(history)
    if total <= budget:
        return 0
    target = int(budget * COMPACT_TARGET)
    last_assistant = max(
        (i for i, m in enumerate(history) if m.get("role") == "assistant"), default=0
    )
    count = 0
    for i in range(last_assistant):
        message = history[i]
        content = message.get("content")
        if message.get("role") != "tool" or not isinstance(content, str):
            continue
        if content.startswith("[compacted:"):
            continue
        smaller = {**message, "content": f"[compacted: {len(content)} chars]"}
        total -= counter.count_messages([message]) - counter.count_messages([smaller])
        history[i] = smaller
        count += 1
        if total <= target:
            break
    if count:
        log.info("compacted %d tool results (about %d tokens now)", count, total)
    return count


def _upper_bound(history: list[dict[str, Any]]) -> int:
    """More tokens than the history can have: its bytes, plus room for the chat format."""
    size = 0
    for message in history:
        size += 16 + len(json.dumps(message, ensure_ascii=False).encode("utf-8"))
    return size


def _tools_tokens(counter: CounterLike, tools: list[dict[str, Any]]) -> int:
    return counter.count_messages([{"role": "system", "content": json.dumps(tools)}])
