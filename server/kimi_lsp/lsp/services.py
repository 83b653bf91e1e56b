"""The typed services of one server (context, chat, edits, refactor, prediction), built once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..predict.meter import PredictionMeter
from .features.chat import ChatFeature
from .features.context import ContextService
from .features.inline_completion import InlineCompletions
from .features.inline_edit import InlineEdits
from .features.next_edit import NextEdits
from .features.refactor import Refactors

if TYPE_CHECKING:
    from .server import KimiServer


@dataclass(frozen=True, slots=True)
class Services:
    """What the features share: each capability's one service object, typed.

    Building them is cheap; each loads its heavy modules (the engine, the edit pipeline, the
    chat store) on first use."""

    context: ContextService
    chat: ChatFeature
    edits: InlineEdits
    refactors: Refactors
    prediction_meter: PredictionMeter
    ghost: InlineCompletions
    next_edits: NextEdits

    @classmethod
    def build(cls, server: KimiServer) -> Services:
        return cls(
            context=ContextService(server),
            chat=ChatFeature(server),
            edits=InlineEdits(server),
            refactors=Refactors(server),
            prediction_meter=PredictionMeter(clock=server.clock),
            ghost=InlineCompletions(server),
            next_edits=NextEdits(server),
        )
