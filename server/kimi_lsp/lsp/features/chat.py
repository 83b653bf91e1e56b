"""kimi/chat and the kimi.chat command: streamed, multi-turn, cancellable, with slash commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...chat.request import ChatRequest, DeltaKind
from ...errors import InvalidInputError
from . import params as p
from .progress import Progress

if TYPE_CHECKING:
    from ...chat.service import ChatService, ProgressReporter
    from ...context.focus import Focus
    from ...context.plan import ContextPlan
    from ..server import KimiServer


@dataclass(frozen=True, slots=True)
class ChatParams:
    request: ChatRequest
    work_done_token: object  # the client's progress token, if it sent one


def parse_params(raw: Any) -> ChatParams:
    body = p.obj(raw, "params")
    message = p.string(body, "message")
    if not message.strip():
        raise InvalidInputError("The chat message is empty: type a question.")
    request = ChatRequest(
        message=message,
        conversation_id=p.optional_string(body, "conversationId"),
        uri=p.optional_document_uri(body),
        range=p.optional_range(body),
        use_context=p.choice(body, "context", ("auto", "none"), "auto") == "auto",
        definitions=p.locations(body),
    )
    return ChatParams(request, body.get("workDoneToken"))


class ChatFeature:
    """Chat for one server: raw kimi/chat params → the chat service → the wire result.

    The service is built at the first chat, so that its modules (conversations, prompts,
    the turn loop) load then and not at start-up."""

    def __init__(self, server: KimiServer) -> None:
        self._server = server
        self._service: ChatService | None = None

    @property
    def loaded(self) -> bool:
        return self._service is not None

    def service(self) -> ChatService:
        if self._service is None:
            self._service = self._build()
        return self._service

    async def run(self, raw: Any) -> dict[str, Any]:
        params = parse_params(raw)

        def progress() -> ProgressReporter:
            token = params.work_done_token
            return Progress.start(self._server, "Kimi: chat", token, "waiting for the model…")

        answer = await self.service().run(params.request, progress)
        return answer.to_wire()

    def live_conversations(self) -> int:
        """Conversations held in memory; 0, and nothing built, before the first chat."""
        return self._service.live_conversations() if self._service is not None else 0

    def _build(self) -> ChatService:
        from ...chat.conversations import ConversationStore, cache_root, workspace_key
        from ...chat.service import ChatPorts, ChatService

        server = self._server
        root = server.workspace_root()
        directory = cache_root(server.env) / "conversations" / workspace_key(root)
        ports = ChatPorts(
            model=lambda: server.model,
            token_counter=server.token_counter,
            plan_context=self._plan,
            redact=server.redact,
            settings=lambda: server.settings,
            usage_summary=server.usage_summary,
            on_delta=self._delta,
            calibrate=server.calibrate,
        )
        return ChatService(ports, ConversationStore(directory, server.redact))

    async def _plan(self, focus: Focus, question: str, reserved: int, budget: int) -> ContextPlan:
        return await self._server.services.context.plan("chat", focus, question, reserved, budget)

    def _delta(self, conversation_id: str, turn: int, kind: DeltaKind, text: str) -> None:
        self._server.notify(
            "kimi/chatDelta",
            {"conversationId": conversation_id, "turn": turn, "kind": kind, "text": text},
        )


def register(server: KimiServer) -> None:
    service = server.services.chat

    @server.registry.request("kimi/chat")
    async def chat(params: Any) -> dict[str, Any]:
        return await service.run(params)

    async def chat_command(arguments: list[Any]) -> dict[str, Any]:
        if not arguments or not isinstance(arguments[0], str):
            raise InvalidInputError("kimi.chat expects [message, uri?, range?].")
        raw: dict[str, Any] = {"message": arguments[0]}
        if len(arguments) > 1 and arguments[1] is not None:
            raw["textDocument"] = {"uri": arguments[1]}
        if len(arguments) > 2 and arguments[2] is not None:
            raw["range"] = arguments[2]
        return await service.run(raw)

    server.registry.command("kimi.chat")(chat_command)
