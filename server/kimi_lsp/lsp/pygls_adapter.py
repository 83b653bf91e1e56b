"""Every pygls internal kimi-lsp touches, in one file, each use with its reason.

Checked against pygls 2.1 (pyproject pins `>=2.1,<2.2`). `tests/unit/test_pygls_adapter.py`
fails by name if an upgrade moves one of these attributes, before anything else breaks.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from pygls.lsp.server import LanguageServer
    from pygls.protocol import LanguageServerProtocol

    from .registry import Registry

log = logging.getLogger(__name__)

# The private attributes of pygls's protocol object used below.
PROTOCOL_INTERNALS = (
    "_shutdown",
    "_request_futures",
    "_ctx_msg_id",
    "_send_response",
    "_send_data",
    "_converter",
)


def missing_internals(protocol: LanguageServerProtocol) -> list[str]:
    """The internals this module needs that `protocol` lacks (empty when all is well)."""
    return [name for name in PROTOCOL_INTERNALS if not hasattr(protocol, name)]


def send_json(protocol: LanguageServerProtocol, message: dict[str, Any]) -> None:
    """Send a message built from plain JSON.

    Why: our kimi/* notifications and the dispatcher's own error answers are plain dicts;
    pygls's public `notify` wants lsprotocol types and silently drops what it cannot type."""
    protocol._send_data(message)


def send_result(protocol: LanguageServerProtocol, msg_id: Any, result: Any) -> None:
    """Answer a request the dispatcher ran itself.

    Why: pygls has no public way to answer a request outside its own handler calls, and
    `_send_response` also forgets the result type pygls noted for that id."""
    protocol._send_response(msg_id, result=result)


def send_error(protocol: LanguageServerProtocol, msg_id: Any, error: types.ResponseError) -> None:
    """Answer a request the dispatcher ran itself with an error (same reason as send_result)."""
    protocol._send_response(msg_id, error=error)


def request_futures(protocol: LanguageServerProtocol) -> dict[Any, Any]:
    """pygls's table of running requests, by id (both directions).

    Why: pygls answers `$/cancelRequest` by cancelling the entry with that id, so our request
    tasks are filed here to be cancellable; the table also holds our requests to the client,
    whose late answers we must recognise, and the notifications pygls runs (a leak we trim)."""
    futures: dict[Any, Any] = protocol._request_futures
    return futures


def start_request_context(protocol: LanguageServerProtocol, msg_id: Any) -> None:
    """Make `protocol.msg_id` name the request whose task starts in the current context.

    Why: pygls sets this context variable for the handlers it runs; ours run outside them."""
    protocol._ctx_msg_id.set(msg_id)


def shutting_down(protocol: LanguageServerProtocol) -> bool:
    """Whether the client sent `shutdown` (pygls records it on the protocol, nowhere public)."""
    return bool(protocol._shutdown)


def to_json(protocol: LanguageServerProtocol, value: Any) -> Any:
    """An lsprotocol object as JSON (camelCase keys, unset fields left out).

    Why: pygls's converter carries the hooks it uses on the wire; a second converter would
    cost ~0.1 s to build and could disagree with what pygls itself sends."""
    return protocol._converter.unstructure(value)


def forget_protocols() -> None:
    """Let the protocols of finished TCP sessions be freed.

    Why: pygls memoizes `get_message_type`/`get_result_type` with a class-level lru_cache whose
    keys hold `self`, so each departed client's server (its documents too) stayed reachable
    until 128 later entries pushed it out. The memo is rebuilt on the next message."""
    from pygls.protocol import LanguageServerProtocol

    for name in ("get_message_type", "get_result_type"):
        cached = getattr(LanguageServerProtocol, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


# pygls's JSON-RPC logger, and how its traceback for a message it cannot type begins.
JSON_RPC_LOGGER = "pygls.protocol.json_rpc"
DESERIALIZE_FAILURE = "Unable to deserialize message"


def quiet_deserialize_tracebacks() -> None:
    """Drop pygls's traceback for a message it cannot type.

    Why: the dispatcher answers such a message itself with one readable line; pygls would log
    a full traceback for every malformed message a client (or the fuzzer) sends."""
    logger = logging.getLogger(JSON_RPC_LOGGER)
    if _no_deserialize_traceback not in logger.filters:
        logger.addFilter(_no_deserialize_traceback)


def _no_deserialize_traceback(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(DESERIALIZE_FAILURE)


def install(server: LanguageServer, registry: Registry) -> None:
    """Make pygls advertise and start what the registry holds (public pygls API only).

    Our dispatcher answers every registered method before pygls sees it; pygls still builds
    the capabilities from its own feature table, so each LSP method gets an entry there (the
    registry's options included), and each command a name. Initialize and initialized run
    inside pygls, which creates the workspace and negotiates the position encoding first.
    """
    for method in registry.methods():
        if method not in types.METHOD_TO_TYPES:
            continue  # kimi/* and other custom methods have no capability
        server.feature(method, registry.options.get(method))(_unreachable(method))
    for name in registry.commands:
        server.command(name)(_unreachable_command(name))

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        for hook in registry.initialize_hooks:
            hook(params)

    @server.feature(types.INITIALIZED)
    async def initialized(params: types.InitializedParams) -> None:
        for hook in registry.initialized_hooks:
            try:
                result = hook()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.exception("An initialized hook failed; the others still run")


def _unreachable(method: str) -> Any:
    def forward(params: Any) -> None:
        # The dispatcher routes every registered method first; reaching pygls's copy would
        # mean a routing bug, and the message must not be half-handled twice.
        log.error("%s reached pygls's handler table; it was not handled", method)

    return forward


def _unreachable_command(name: str) -> Any:
    async def forward(*arguments: Any) -> None:
        log.error("The command %s reached pygls's handler table; it was not run", name)

    return forward
