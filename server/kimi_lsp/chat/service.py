"""The chat service: slash commands, conversations and model turns, behind typed ports."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..config import Settings
from ..context.focus import Focus
from ..context.plan import ContextPlan
from ..context.prompt import SYSTEM_PROMPTS, render
from ..model.types import (
    ContentDelta,
    ModelRequest,
    ModelResult,
    ReasoningDelta,
    StreamEvent,
    Usage,
)
from .commands import LOCAL, ParsedMessage, Slash, parse
from .conversations import Conversation, ConversationStore, Turn, new_conversation_id
from .history import history_messages
from .local import context_text, cost_text
from .locks import KeyedLocks
from .request import ChatAnswer, ChatRequest, DeltaKind

if TYPE_CHECKING:
    from ..tokens.counter import TokenCounter

Messages = list[dict[str, Any]]


class ChatModel(Protocol):
    """The model client as chat uses it (`ModelClient` in the server and the CLI)."""

    async def complete(
        self,
        request: ModelRequest,
        on_event: Callable[[StreamEvent], Awaitable[None] | None] | None = None,
    ) -> ModelResult: ...


class ProgressReporter(Protocol):
    """A progress bar for one turn (the editor's; the command line has none)."""

    def report(self, message: str) -> None: ...

    def end(self) -> None: ...


# Plans the chat context around a focus for a question (already redacted), within a budget
# (tokens), leaving the given number of tokens of it to the conversation's history:
# (focus, question, reserved, budget).
PlanContext = Callable[[Focus, str, int, int], Awaitable[ContextPlan]]
OnDelta = Callable[[str, int, DeltaKind, str], None]  # (conversation id, turn, kind, text)
StartProgress = Callable[[], ProgressReporter]


def _no_calibration(messages: Messages, result: ModelResult) -> None:
    """Hosts with a one-shot token counter have nothing to learn from the API's count."""


@dataclass(frozen=True, slots=True)
class ChatPorts:
    """What the chat service asks of its host (the language server or the command line)."""

    model: Callable[[], ChatModel]  # called at each turn: the host may build it on first use
    token_counter: Callable[[], Awaitable[TokenCounter]]  # loaded, ready to count
    plan_context: PlanContext
    redact: Callable[[str], str]  # what the user typed, as it may enter a prompt
    settings: Callable[[], Settings]  # the current settings (budget, currency)
    usage_summary: Callable[[], dict[str, Any]]  # the session's `UsageTotals.to_wire()`
    on_delta: OnDelta  # each piece of streamed text, and a local command's whole reply
    calibrate: Callable[[Messages, ModelResult], None] = _no_calibration


class ChatService:
    """The chat of one workspace: each message is a local command or a model turn, run in
    its conversation, which is kept in `store`."""

    def __init__(self, ports: ChatPorts, store: ConversationStore) -> None:
        self._ports = ports
        self._store = store
        # Everything that touches one conversation runs one after another: each turn sees
        # the previous answer, and /clear never empties a conversation under a running turn.
        self._locks = KeyedLocks()

    def live_conversations(self) -> int:
        """Conversations held in memory."""
        return self._store.live_count()

    def conversations_in_use(self) -> int:
        """Conversations with a turn or command running or waiting (0 when idle)."""
        return len(self._locks)

    async def run(self, request: ChatRequest, progress: StartProgress | None = None) -> ChatAnswer:
        """One message of an editor's chat: a slash command or a question for the model."""
        parsed = parse(request.message)
        conversation_id = request.conversation_id
        if conversation_id is None:
            conversation_id = new_conversation_id()
        async with self._locks.hold(conversation_id):
            conversation = self._store.get_or_create(conversation_id)
            if parsed.asks_with_whole_window:  # `/context all QUESTION`
                return await self.ask(
                    conversation, parsed.text, request, progress, whole_window=True
                )
            if parsed.command in LOCAL:
                return await self._local(parsed, conversation, request)
            question = parsed.text if parsed.text.strip() else request.message
            return await self.ask(conversation, question, request, progress)

    async def ask(
        self,
        conversation: Conversation,
        question: str,
        request: ChatRequest,
        progress: StartProgress | None = None,
        *,
        whole_window: bool = False,
    ) -> ChatAnswer:
        """One model turn: `question` with context and history → the model → the history.
        The context is packed to the chat budget (`contextBudget.chat`), or to the whole
        window when `whole_window` (`/context all`).

        The caller owns `conversation` for the turn (`run` holds its lock)."""
        budget = self._budget(whole_window)
        messages, _, _ = await self._messages(conversation, question, request, budget)

        async def replan(settings: Settings) -> Messages:
            # A fallback with a smaller window: the same turn packed to its budget.
            smaller = _budget_of(settings, whole_window)
            if smaller >= budget:
                return messages
            return (await self._messages(conversation, question, request, smaller))[0]

        # Taken before the stream starts, as its deltas carry it: a turn that fails keeps
        # its number too (in memory; its stream was cut short anyway).
        turn = conversation.take_turn()
        bar = progress() if progress is not None else None
        received = 0

        def on_event(event: StreamEvent) -> None:
            nonlocal received
            if isinstance(event, ContentDelta | ReasoningDelta) and event.text:
                kind: DeltaKind = "content" if isinstance(event, ContentDelta) else "reasoning"
                self._ports.on_delta(conversation.id, turn, kind, event.text)
                received += len(event.text)
                if bar is not None:
                    bar.report("thinking…" if kind == "reasoning" else f"{received} characters")

        try:
            model_request = ModelRequest(messages=messages, purpose="chat", replan=replan)
            result = await self._ports.model().complete(model_request, on_event)
        finally:
            if bar is not None:
                bar.end()
        self._ports.calibrate(messages, result)
        # Kept as the API saw it (and as the next turn sends it again): an API key typed into
        # the chat never reaches the conversation file.
        redact = self._ports.redact
        conversation.record(
            Turn(
                user=redact(request.message),
                assistant=redact(result.content),
                reasoning=redact(result.reasoning),
                finish_reason=result.finish_reason,
                usage=result.usage.to_wire(),
            )
        )
        await asyncio.to_thread(self._store.save, conversation)
        return ChatAnswer(
            conversation.id,
            turn,
            result.content,
            result.finish_reason,
            result.usage,
            result.reasoning,
        )

    async def _messages(
        self, conversation: Conversation, question: str, request: ChatRequest, budget: int
    ) -> tuple[Messages, ContextPlan | None, int]:
        """The request's messages within `budget` tokens: context (unless not wanted), earlier
        turns, the question; with the context plan and how many earlier turns were dropped."""
        counter = await self._ports.token_counter()
        redact = self._ports.redact
        question = redact(question)
        history, _, dropped = history_messages(conversation.turns, budget, counter)
        history = [{**m, "content": redact(m["content"])} for m in history]
        if not request.use_context:
            system = {"role": "system", "content": SYSTEM_PROMPTS["chat"]}
            question_message = {"role": "user", "content": question}
            return [system, *history, question_message], None, dropped
        reserved = counter.count_messages(history) - counter.count_messages([])
        focus = Focus(uri=request.uri, range=request.range, definitions=request.definitions)
        plan = await self._ports.plan_context(focus, question, reserved, budget)
        return render(plan, SYSTEM_PROMPTS["chat"], question, history), plan, dropped

    async def _local(
        self, parsed: ParsedMessage, conversation: Conversation, request: ChatRequest
    ) -> ChatAnswer:
        """Commands answered without the model (no tokens spent). Their reply takes a turn
        number like a model's, and is saved so that the number stays taken."""
        command = parsed.command
        if command is Slash.CLEAR:
            conversation.clear()
            text = "Conversation cleared."
        elif command is Slash.COST:
            text = cost_text(self._ports.usage_summary())
        else:
            text = await self._context_text(conversation, request, parsed.whole_window)
        turn = conversation.take_turn()
        await asyncio.to_thread(self._store.save, conversation)
        self._ports.on_delta(conversation.id, turn, "content", text)
        zero = Usage(currency=self._ports.settings().pricing.currency)
        return ChatAnswer(conversation.id, turn, text, "local", zero)

    async def _context_text(
        self, conversation: Conversation, request: ChatRequest, whole_window: bool
    ) -> str:
        """/context (and /context all): what the next question would send, and in what budget."""
        budget = self._budget(whole_window)
        messages, plan, dropped = await self._messages(
            conversation, "(your next question)", request, budget
        )
        counter = await self._ports.token_counter()
        total = counter.count_messages(messages)
        earlier = len(messages) - 2  # all but the system message and the question
        name = counter.info.name
        return context_text(total, budget, name, earlier, dropped, plan, whole_window)

    def _budget(self, whole_window: bool) -> int:
        """The chat budget (`contextBudget.chat`) of the chat role's model, or its whole window
        for `/context all`."""
        return _budget_of(self._ports.settings().for_role("chat"), whole_window)


def _budget_of(settings: Settings, whole_window: bool) -> int:
    return settings.prompt_budget() if whole_window else settings.context_budget_for("chat")
