"""ContextPlan -> chat messages: stable parts first (cacheable prefix), volatile parts last."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..purpose import Purpose
from .plan import ContextPlan, Section

_BASE = (
    "You are Kimi, a senior software engineer working inside the user's code editor. "
    "Base your answers on the code provided; when something you need is not shown, say what "
    "you would need instead of guessing."
)

SYSTEM_PROMPTS: dict[Purpose, str] = {
    "chat": _BASE + " Answer precisely and concisely in Markdown; put code in fenced blocks "
    "with the language name.",
    "edit": _BASE + " You rewrite code as instructed. Reply with the replacement code only, in "
    "one fenced block, keeping the surrounding indentation and style; no explanations.",
    "prediction": _BASE + " You predict the code the user is about to write: continue or "
    "rewrite exactly as asked, in the format asked for, with nothing else.",
    "refactor": _BASE + " You change a codebase as instructed using the tools provided: read "
    "before you edit, keep every change minimal and consistent across files.",
}

PROJECT_HEADER = "\n\n# Project context\n\n"
REQUEST_HEADER = "# Editor context\n\n"


def _joined(head: str, sections: list[Section], tail: str = "") -> str:
    """head + the sections' texts joined by blank lines + tail, copied once (a megabyte of
    context copied twice is a millisecond or more)."""
    parts = [head]
    for i, section in enumerate(sections):
        parts += ("\n\n", section.text) if i else (section.text,)
    parts.append(tail)
    return "".join(parts)


def system_message(plan: ContextPlan, system_prompt: str) -> dict[str, Any]:
    stable = plan.stable()
    content = _joined(system_prompt + PROJECT_HEADER, stable) if stable else system_prompt
    return {"role": "system", "content": content}


def user_message(plan: ContextPlan, instruction: str) -> dict[str, Any]:
    volatile = plan.volatile()
    content = _joined(REQUEST_HEADER, volatile, "\n\n" + instruction) if volatile else instruction
    return {"role": "user", "content": content}


def render(
    plan: ContextPlan,
    system_prompt: str,
    instruction: str,
    history: Sequence[dict[str, Any]] = (),
) -> list[dict[str, Any]]:
    """[system + stable context, *history, editor context + instruction].

    The system message holds the repo map and supporting files in a deterministic order, so
    consecutive requests share a long byte-identical prefix; what changes with each keystroke
    (the current file, the selection) comes last.
    """
    return [system_message(plan, system_prompt), *history, user_message(plan, instruction)]
