"""The one registry of what the server answers: requests, notifications, commands, hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

NotificationHandler = Callable[[Any], Awaitable[None] | None]
RequestHandler = Callable[[Any], Awaitable[Any]]
CommandHandler = Callable[[list[Any]], Awaitable[Any]]
InitializeHook = Callable[[types.InitializeParams], None]
InitializedHook = Callable[[], Awaitable[None] | None]


class DuplicateRegistrationError(ValueError):
    """A method or command registered twice: two features would fight over one name."""


@dataclass(slots=True)
class Registry:
    """Every handler of one server, registered once, by name.

    Requests and notifications get the raw JSON params (the dispatcher validates nothing on
    their behalf); commands get their argument list. `options` of a method that LSP knows
    become its advertised capability (e.g. the code-action kinds); a method registered here
    is advertised, so the capabilities can never disagree with what is served.
    Initialize and initialized hooks run inside pygls's own handling of those messages,
    which sets up the workspace and the negotiated position encoding first.
    """

    requests: dict[str, RequestHandler] = field(default_factory=dict)
    notifications: dict[str, NotificationHandler] = field(default_factory=dict)
    commands: dict[str, CommandHandler] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    initialize_hooks: list[InitializeHook] = field(default_factory=list)
    initialized_hooks: list[InitializedHook] = field(default_factory=list)

    def request(
        self, method: str, options: Any = None
    ) -> Callable[[RequestHandler], RequestHandler]:
        def register(handler: RequestHandler) -> RequestHandler:
            self._claim(method)
            self.requests[method] = handler
            self._set_options(method, options)
            return handler

        return register

    def notification(
        self, method: str, options: Any = None
    ) -> Callable[[NotificationHandler], NotificationHandler]:
        def register(handler: NotificationHandler) -> NotificationHandler:
            self._claim(method)
            self.notifications[method] = handler
            self._set_options(method, options)
            return handler

        return register

    def command(self, name: str) -> Callable[[CommandHandler], CommandHandler]:
        """A workspace/executeCommand command, cancellable like a request."""

        def register(handler: CommandHandler) -> CommandHandler:
            if name in self.commands:
                raise DuplicateRegistrationError(f"The command {name} is registered twice.")
            self.commands[name] = handler
            return handler

        return register

    def on_initialize(self, hook: InitializeHook) -> InitializeHook:
        self.initialize_hooks.append(hook)
        return hook

    def on_initialized(self, hook: InitializedHook) -> InitializedHook:
        self.initialized_hooks.append(hook)
        return hook

    def methods(self) -> list[str]:
        """Every method served, requests and notifications alike."""
        return [*self.requests, *self.notifications]

    def _claim(self, method: str) -> None:
        if method in self.requests or method in self.notifications:
            raise DuplicateRegistrationError(f"The method {method} is registered twice.")

    def _set_options(self, method: str, options: Any) -> None:
        if options is not None:
            self.options[method] = options
