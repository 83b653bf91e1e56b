"""Chat prompts: system prompt, history trimmed oldest-first to the budget, the new question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .conversations import Turn

SYSTEM_PROMPT = (
    "You are Kimi, a senior software engineer working inside the user's code editor. "
    "Answer precisely and concisely in Markdown. When you show code, use fenced code blocks "
    "with the language name. Base your answers on the code provided; when something you need "
    "is not shown, say what you would need to see instead of guessing."
)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A piece of editor context shown to the model (the current file, the selection, ...)."""

    title: str
    text: str
    language: str = ""
    required: bool = False  # required attachments are never dropped to fit the budget


@dataclass(frozen=True, slots=True)
class ChatPrompt:
    messages: list[dict[str, Any]]
    tokens: int
    history_turns: int
    dropped_turns: int
    dropped_attachments: list[str]


def _fence(text: str) -> str:
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    return "`" * max(3, longest + 1)


def render_question(question: str, attachments: Sequence[Attachment]) -> str:
    parts = []
    for a in attachments:
        fence = _fence(a.text)
        parts.append(f"{a.title}:\n{fence}{a.language}\n{a.text}\n{fence}")
    parts.append(question)
    return "\n\n".join(parts)


def build_chat_prompt(
    question: str,
    attachments: Sequence[Attachment],
    history: Sequence[Turn],
    budget: int,
    count_messages: Callable[[list[dict[str, Any]]], int],
) -> ChatPrompt:
    """Lay out [system, history..., question+context]; drop optional context, then the oldest
    turns, until the messages fit `budget` tokens. Raises ValueError if even the system prompt
    and the question with its required context do not fit."""
    system = {"role": "system", "content": SYSTEM_PROMPT}
    kept = list(attachments)
    dropped_attachments: list[str] = []

    def final(items: Sequence[Attachment]) -> dict[str, Any]:
        return {"role": "user", "content": render_question(question, items)}

    base = count_messages([system, final(kept)])
    while base > budget:
        optional = [a for a in kept if not a.required]
        if not optional:
            raise ValueError(
                f"The question and its required context need {base} tokens, more than the "
                f"{budget} the context window leaves; select less code or shorten the question."
            )
        kept.remove(optional[-1])
        dropped_attachments.append(optional[-1].title)
        base = count_messages([system, final(kept)])

    turns: list[dict[str, Any]] = []
    total = base
    used = 0
    for turn in reversed(history):
        pair = [
            {"role": "user", "content": turn.user},
            {"role": "assistant", "content": turn.assistant},
        ]
        cost = count_messages(pair) - count_messages([])
        if total + cost > budget:
            break
        turns[:0] = pair
        total += cost
        used += 1
    messages = [system, *turns, final(kept)]
    return ChatPrompt(messages, total, used, len(history) - used, dropped_attachments)
