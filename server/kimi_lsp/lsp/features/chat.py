"""kimi/chat and the kimi.chat command: streamed, multi-turn, cancellable, with slash commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import InvalidInputError

if TYPE_CHECKING:
    from ..server import KimiServer
    from .chat_service import ChatService


class LazyChat:
    """The chat service, made on first use: its modules (conversations, prompts, the turn
    loop) load with the first chat, not at start-up."""

    def __init__(self, server: KimiServer) -> None:
        self._server = server
        self._service: ChatService | None = None

    @property
    def service(self) -> ChatService:
        if self._service is None:
            from .chat_service import ChatService

            self._service = ChatService(self._server)
        return self._service

    async def run(self, raw: Any) -> dict[str, Any]:
        return await self.service.run(raw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)


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
