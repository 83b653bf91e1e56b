"""The earlier turns a chat request sends: the newest that fit their share of the budget."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .conversations import Turn

if TYPE_CHECKING:
    from ..tokens.counter import TokenCounter

HISTORY_SHARE = 0.25  # earlier turns may use at most this share of the prompt budget


def history_messages(
    turns: Sequence[Turn], budget: int, counter: TokenCounter
) -> tuple[list[dict[str, Any]], int, int]:
    """The newest turns that fit `budget × HISTORY_SHARE`, oldest dropped first.

    Returns (messages, their tokens, number of turns dropped)."""
    allowance = int(budget * HISTORY_SHARE)
    kept: list[dict[str, Any]] = []
    used = 0
    count = 0
    for turn in reversed(turns):
        if not turn.assistant.strip():
            # An answer with no text goes back as an empty assistant message, which the API
            # refuses ("must not be empty"), failing every later turn: the pair is left out.
            count += 1
            continue
        pair = [
            {"role": "user", "content": turn.user},
            {"role": "assistant", "content": turn.assistant},
        ]
        cost = counter.count_messages(pair) - counter.count_messages([])
        if used + cost > allowance:
            break
        kept[:0] = pair
        used += cost
        count += 1
    return kept, used, len(turns) - count
