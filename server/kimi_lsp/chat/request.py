"""What one chat message asks (ChatRequest) and what it gets back (ChatAnswer)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..context.focus import Location
from ..documents import Range
from ..model.types import Usage

DeltaKind = Literal["content", "reasoning"]


@dataclass(frozen=True, slots=True)
class ChatRequest:
    message: str  # as typed, slash command included
    conversation_id: str | None = None  # None starts a new conversation
    uri: str | None = None  # the document the question is about, if any
    range: Range | None = None  # the selection in it
    use_context: bool = True  # False: no workspace context, only the history
    definitions: tuple[Location, ...] = ()  # what the editor's language servers located


@dataclass(frozen=True, slots=True)
class ChatAnswer:
    conversation_id: str
    turn: int
    content: str
    finish_reason: str  # the model's, or "local" for a command answered without it
    usage: Usage
    reasoning: str = ""

    def to_wire(self) -> dict[str, Any]:
        """The kimi/chat result."""
        answer: dict[str, Any] = {
            "conversationId": self.conversation_id,
            "turn": self.turn,
            "content": self.content,
            "finishReason": self.finish_reason,
            "usage": self.usage.to_wire(),
        }
        if self.reasoning:
            answer["reasoning"] = self.reasoning
        return answer
