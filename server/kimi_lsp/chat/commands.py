"""Slash commands at the start of a chat message: which ones call the model, and how."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Slash(StrEnum):
    EXPLAIN = "/explain"
    FIX = "/fix"
    TESTS = "/tests"
    DOC = "/doc"
    CONTEXT = "/context"
    COST = "/cost"
    CLEAR = "/clear"


# Commands answered by the model, with the instruction each one stands for.
_PROMPTS = {
    Slash.EXPLAIN: "Explain what the selected code (or the current file) does, how, and why. "
    "Point out anything surprising.",
    Slash.FIX: "Find the bugs in the selected code (or the current file) and fix them. "
    "Show the corrected code in one fenced block and say briefly what was wrong.",
    Slash.TESTS: "Write thorough unit tests for the selected code (or the current file), "
    "using the test framework the project already uses. Return the tests in a fenced block.",
    Slash.DOC: "Write documentation for the selected code (or the current file): docstrings "
    "or doc comments in the language's usual style. Return the documented code in a fenced block.",
}

LOCAL = frozenset({Slash.CONTEXT, Slash.COST, Slash.CLEAR})


# `/context all`: the whole window instead of the chat budget. Alone it reports what a
# question would send then; followed by a question, it asks that question with it.
WHOLE_WINDOW_WORD = "all"


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    command: Slash | None
    text: str  # what the model is asked (the command's instruction plus the user's words)
    whole_window: bool = False  # `/context all`: plan with the whole window, not the budget

    @property
    def asks_with_whole_window(self) -> bool:
        """`/context all QUESTION`: a model turn, not the local /context report."""
        return self.whole_window and bool(self.text)


def parse(message: str) -> ParsedMessage:
    """Split a leading slash command from the message; unknown commands stay plain text."""
    stripped = message.lstrip()
    head, _, rest = stripped.partition(" ")
    try:
        command = Slash(head.lower())
    except ValueError:
        return ParsedMessage(None, message)
    rest = rest.strip()
    if command is Slash.CONTEXT:
        word, *question = rest.split(maxsplit=1) or [""]
        if word.lower() == WHOLE_WINDOW_WORD:
            return ParsedMessage(command, question[0] if question else "", whole_window=True)
    if command in _PROMPTS:
        text = _PROMPTS[command] + (f"\n\nAlso: {rest}" if rest else "")
        return ParsedMessage(command, text)
    return ParsedMessage(command, rest)
