"""One chat turn end to end (prompt within budget -> model -> history): shared by LSP and CLI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from ..errors import ErrorKind, RequestFailedError
from ..model.types import ModelRequest, ModelResult, StreamEvent
from .conversations import Conversation, Turn
from .prompt import Attachment, ChatPrompt, build_chat_prompt

if TYPE_CHECKING:
    from ..context.tokens import TokenCounter
    from ..model.client import ModelClient

SAFETY_MARGIN = 1_024  # tokens kept free for differences between our count and the API's


def chat_budget(context_window: int, max_output_tokens: int) -> int:
    return context_window - max_output_tokens - SAFETY_MARGIN


def chat_prompt(
    conversation: Conversation,
    question: str,
    attachments: Sequence[Attachment],
    budget: int,
    counter: TokenCounter,
) -> ChatPrompt:
    try:
        return build_chat_prompt(
            question, attachments, conversation.turns, budget, counter.count_messages
        )
    except ValueError as exc:
        raise RequestFailedError(ErrorKind.CONTEXT_OVERFLOW, str(exc)) from None


async def run_turn(
    model: ModelClient,
    prompt: ChatPrompt,
    conversation: Conversation,
    user_message: str,
    on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
) -> tuple[ModelResult, int]:
    """Ask the model and record the exchange; returns the result and its turn number."""
    result = await model.complete(ModelRequest(messages=prompt.messages, purpose="chat"), on_event)
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
