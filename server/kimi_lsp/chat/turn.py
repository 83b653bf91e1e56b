"""One chat turn end to end (history within budget -> model -> history): shared by LSP and CLI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..model.types import ModelRequest, ModelResult, StreamEvent
from .conversations import Conversation, Turn

if TYPE_CHECKING:
    from ..model.client import ModelClient
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


async def run_turn(
    model: ModelClient,
    messages: list[dict[str, Any]],
    conversation: Conversation,
    user_message: str,
    on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
) -> tuple[ModelResult, int]:
    """Ask the model and record the exchange; returns the result and its turn number."""
    result = await model.complete(ModelRequest(messages=messages, purpose="chat"), on_event)
    turn = conversation.append(
        Turn(
            user=user_message,
            assistant=result.content,
            reasoning=result.reasoning,
            finish_reason=result.finish_reason,
            usage=result.usage.to_wire(),
        )
    )
    return result, turn
