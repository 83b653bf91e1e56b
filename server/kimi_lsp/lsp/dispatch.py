"""Raw JSON-RPC dispatch in front of pygls: fast paths, cancellable requests, one error boundary."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
)

from ..errors import ErrorKind, InvalidInputError, KimiError, RequestFailedError
from . import pygls_adapter as pygls
from .registry import NotificationHandler, Registry
from .tcp_auth import Gate, forget_token
from .transport import FrameParser

if TYPE_CHECKING:
    from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

REQUEST_FAILED = -32803


def to_jsonrpc_error(exc: KimiError) -> JsonRpcException:
    """The single translation of core errors into JSON-RPC errors (protocol.md, Errors)."""
    if isinstance(exc, RequestFailedError) and exc.kind is not None:
        data: dict[str, Any] = {"kind": str(exc.kind)}
        if exc.retry_after is not None:
            data["retryAfter"] = exc.retry_after
        return JsonRpcException(message=exc.message, code=REQUEST_FAILED, data=data)
    return JsonRpcInvalidParams(message=exc.message)


class Dispatcher:
    """Parses frames and routes messages: our handlers get raw JSON, the rest goes to pygls.

    Requests run as tasks registered under their JSON-RPC id in pygls's request table, so
    `$/cancelRequest` cancels them — including `workspace/executeCommand` commands, which
    pygls itself would leave running.
    """

    def __init__(self, protocol: LanguageServerProtocol, registry: Registry) -> None:
        self.protocol = protocol
        self.registry = registry
        self._parser = FrameParser()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.initialized = False
        self._gate: Gate | None = None
        self._hang_up: Callable[[], None] | None = None
        self.closed = False
        # `_to_pygls` answers and logs malformed messages itself, in one line.
        pygls.quiet_deserialize_tracebacks()

    def guard_connection(self, hang_up: Callable[[], None], token: str | None) -> None:
        """Serve a socket: strict frames, and `token` required in `initialize` when given.

        `hang_up` closes the connection; it is called at most once, when a frame is not LSP's
        or `initialize` lacks the token, and nothing more from the connection is handled."""
        self._parser = FrameParser(strict=True)
        self._hang_up = hang_up
        self._gate = Gate(token) if token is not None else None

    @property
    def admitted(self) -> bool:
        """Whether the connection passed its token check (or needs none)."""
        return self._gate is None

    def close(self, reason: str) -> None:
        """Handle nothing more from this connection, and hang it up (once)."""
        if self.closed:
            return
        self.closed = True
        log.warning("Closing the connection: %s", reason)
        if self._hang_up is not None:
            self._hang_up()

    def disconnect(self) -> None:
        """The client is gone: handle nothing more and cancel what it started."""
        self.closed = True
        for task in list(self._tasks):
            task.cancel()

    # -- input ------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        for body in self._parser.feed(data):
            if self.closed:
                return
            try:
                self.dispatch(body)
            except Exception:  # one bad message must never take the rest of the read with it
                log.exception("Handling a message failed; continuing with the next one")
        if self._parser.rejected is not None:
            self.close("its frames are not LSP's")

    def dispatch(self, body: bytes) -> None:
        message = self._parse(body)
        if message is _UNANSWERED:
            return
        if self._gate is not None:
            if not self._gate.admits(message):
                self._refuse(message)
                return
            self._gate = None  # one initialize with the token opens the connection
        if b"\\ud" in body or b"\\uD" in body:  # only a JSON escape can make a lone surrogate
            message = _without_lone_surrogates(message)
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._send_error(None, -32600, "Invalid request: expected a JSON-RPC 2.0 object.")
            return
        method = message.get("method")
        has_id = "id" in message
        params = message.get("params")
        if method == "initialize":
            forget_token(params)  # a listener without a token file: still never log it
        if isinstance(method, str):
            if has_id and not _valid_id(message["id"]):
                # JSON-RPC: an id that cannot be echoed back is answered with a null id.
                self._send_error(
                    None, -32600, "Invalid request: the id must be a number or a string."
                )
                return
            if pygls.shutting_down(self.protocol) and method != "exit":
                if has_id:
                    self._send_error(message["id"], -32600, "The server is shutting down.")
                return
            if has_id:
                handler = self._route_request(method, params)
                if handler is not None:
                    if not self.initialized:
                        self._send_error(
                            message["id"], -32002, "The server has not been initialized yet."
                        )
                        return
                    self._start_request(message["id"], method, handler)
                    return
            elif method == "$/cancelRequest" and not _cancels_an_id(params):
                log.warning("Ignored a $/cancelRequest without a valid request id")
                return
            elif method in self.registry.notifications:
                self._run_notification(method, self.registry.notifications[method], params)
                return
        elif has_id and self._stale_response(message["id"]):
            return
        self._to_pygls(message, method if isinstance(method, str) else None, has_id)

    def _parse(self, body: bytes) -> Any:
        """The message in `body`, or _UNANSWERED after answering a body that cannot be one."""
        try:
            message = json.loads(body)
        except ValueError as exc:
            log.error("Received a message that is not valid JSON: %s", exc)
            self._send_error(None, -32700, f"Parse error: the message is not valid JSON ({exc}).")
            return _UNANSWERED
        except RecursionError:  # far deeper than MAX_DEPTH: the id is out of reach
            log.error("Received a message nested too deeply to parse")
            self._send_error(None, -32700, f"Parse error: {_TOO_DEEP}.")
            return _UNANSWERED
        # Every level takes at least two bytes: a short body cannot be too deep, and the
        # walk only visits containers, so a large document's text costs nothing here.
        if len(body) > 2 * MAX_DEPTH and _deeper_than(message, MAX_DEPTH):
            log.error("Received a message nested deeper than %d levels", MAX_DEPTH)
            msg_id = message.get("id") if isinstance(message, dict) else None
            if isinstance(message, dict) and "id" not in message and "method" in message:
                return _UNANSWERED  # a notification gets no answer, not even this one
            self._send_error(
                msg_id if _valid_id(msg_id) else None, -32600, f"Invalid request: {_TOO_DEEP}."
            )
            return _UNANSWERED
        return message

    def _refuse(self, message: Any) -> None:
        """Answer a connection's first message that is not `initialize` with the token, then
        hang up: it may not configure, open or ask anything."""
        msg_id = message.get("id") if isinstance(message, dict) else None
        if msg_id is not None and _valid_id(msg_id):
            self._send_error(msg_id, -32600, _TOKEN_REQUIRED)
        self.close("the first message was not initialize with the right tcpToken")

    def _stale_response(self, msg_id: Any) -> bool:
        """A client's answer to a request of ours that nobody waits for any more (its caller
        was cancelled, or the id is unknown): pygls would raise setting a cancelled future."""
        if not _valid_id(msg_id):
            return False
        futures = pygls.request_futures(self.protocol)
        future = futures.get(msg_id)
        if future is not None and not future.done():
            return False
        futures.pop(msg_id, None)
        log.debug("Ignored the client's answer to request %r: nothing waits for it", msg_id)
        return True

    def _route_request(self, method: str, params: Any) -> Callable[[], Awaitable[Any]] | None:
        if method in self.registry.requests:
            return partial(self.registry.requests[method], params)
        if method == "workspace/executeCommand":
            # Every command is ours (the registry's): answer bad ones here, where pygls would
            # log a traceback for each.
            if not isinstance(params, dict):
                return partial(_raise, InvalidInputError("Expected params to be an object."))
            name = params.get("command")
            commands = self.registry.commands
            command = commands.get(name) if isinstance(name, str) else None
            if command is None:
                known = ", ".join(sorted(commands))
                problem = InvalidInputError(f"Unknown command: this server's commands are {known}.")
                return partial(_raise, problem)
            arguments = params.get("arguments")
            if arguments is None:
                arguments = []
            if not isinstance(arguments, list):
                return partial(_raise, InvalidInputError("Command arguments must be a list."))
            return partial(command, arguments)
        return None

    def _to_pygls(self, message: dict[str, Any], method: str | None, has_id: bool) -> None:
        if method is not None:
            # JSON-RPC lets a request or notification omit `params`; pygls's types require it.
            message.setdefault("params", None)
        try:
            structured = self.protocol.structure_message(message)
        except JsonRpcException as exc:
            cause = exc.__cause__ or exc
            log.warning("Malformed %s message: %s", method or "JSON-RPC", cause)
            if has_id and method:
                self._send_error(
                    message["id"], -32602, f"Invalid params for {method}: {_first_line(cause)}"
                )
            return
        if has_id:
            self.protocol.handle_message(structured)
            return
        # pygls files each notification it runs under a fresh id in its request table and
        # never removes it: drop those entries when their handlers finish (on a later turn:
        # pygls cancels them while iterating the table at shutdown, and a thread future runs
        # its callbacks right there, or in a worker thread).
        futures = pygls.request_futures(self.protocol)
        before = set(futures)
        self.protocol.handle_message(structured)
        for key in futures.keys() - before:
            loop = asyncio.get_running_loop()
            futures[key].add_done_callback(partial(_forget_later, loop, futures, key))

    # -- execution --------------------------------------------------------------------
    def _run_notification(self, method: str, handler: NotificationHandler, params: Any) -> None:
        try:
            result = handler(params)
        except KimiError as exc:
            log.warning("%s: %s", method, exc.message)
            return
        except Exception:
            log.exception("Handling %s failed", method)
            return
        if inspect.isawaitable(result):
            self.spawn(_logged(method, result))

    def _start_request(
        self, msg_id: Any, method: str, handler: Callable[[], Awaitable[Any]]
    ) -> None:
        protocol = self.protocol

        def start() -> None:
            pygls.start_request_context(protocol, msg_id)
            task = asyncio.ensure_future(_translated(method, handler))
            pygls.request_futures(protocol)[msg_id] = task
            task.add_done_callback(partial(self._finish, msg_id=msg_id))

        contextvars.copy_context().run(start)

    def _finish(self, task: asyncio.Task[Any], msg_id: Any) -> None:
        """Answer a finished request (pygls's own callback would log every error's traceback)."""
        pygls.request_futures(self.protocol).pop(msg_id, None)
        if task.cancelled():
            self._send_error(msg_id, -32800, "The request was cancelled.")
            return
        exc = task.exception()
        if exc is None:
            pygls.send_result(self.protocol, msg_id, task.result())
        elif isinstance(exc, JsonRpcException):
            pygls.send_error(self.protocol, msg_id, exc.to_response_error())
        else:  # _translated turns everything else into JsonRpcInternalError already
            self._send_error(msg_id, -32603, f"Internal error: {_first_line(exc)}")

    @property
    def background_tasks(self) -> int:
        """How many spawned tasks are still running."""
        return len(self._tasks)

    def spawn(self, awaitable: Awaitable[Any]) -> asyncio.Task[Any]:
        """Run a background task, keeping a strong reference until it finishes."""
        task = asyncio.ensure_future(awaitable)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _send_error(self, msg_id: Any, code: int, message: str) -> None:
        pygls.send_json(
            self.protocol,
            {"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}},
        )


MAX_DEPTH = 512
"""How deeply a message may nest arrays and objects; LSP's own messages stay under 20."""
_TOO_DEEP = f"the message nests arrays or objects deeper than {MAX_DEPTH} levels"
_TOKEN_REQUIRED = (
    "This server requires initialize with initializationOptions.tcpToken set to the token "
    "in its --token-file; the connection is closed."
)
_UNANSWERED = object()


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` nests lists and dicts more than `limit` deep (without recursing)."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_lone_surrogates(value: Any) -> Any:
    """`value` with lone surrogates as U+FFFD: they cannot be encoded as UTF-8 (prompts, files),
    and U+FFFD takes as many code units in every position encoding, so positions still hold.

    Fixed in place with a stack, not by recursion: a message may nest MAX_DEPTH levels."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    stack = [value] if isinstance(value, dict | list) else []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = _LONE_SURROGATE.sub("\ufffd", child)
                elif isinstance(child, dict | list):
                    stack.append(child)
            continue
        fixed: dict[str, Any] = {}
        for key, child in item.items():
            if isinstance(child, str):
                child = _LONE_SURROGATE.sub("\ufffd", child)
            elif isinstance(child, dict | list):
                stack.append(child)
            fixed[_LONE_SURROGATE.sub("\ufffd", key)] = child
        item.clear()
        item.update(fixed)
    return value


def _forget_later(
    loop: asyncio.AbstractEventLoop, futures: dict[Any, Any], key: Any, _: object
) -> None:
    loop.call_soon_threadsafe(futures.pop, key, None)


def _cancels_an_id(params: Any) -> bool:
    return isinstance(params, dict) and "id" in params and _valid_id(params["id"])


def _valid_id(msg_id: Any) -> bool:
    return msg_id is None or (
        isinstance(msg_id, int | float | str) and not isinstance(msg_id, bool)
    )


async def _raise(exc: Exception) -> Any:
    raise exc


async def _translated(method: str, handler: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await handler()
    except (JsonRpcException, asyncio.CancelledError):
        raise
    except Exception as exc:
        typed = _typed_error(exc)
        if typed is not None:
            if typed.kind is not None and typed.kind is not ErrorKind.STALE_DOCUMENT:
                log.warning("%s failed (%s): %s", method, typed.kind, typed.message)
            raise to_jsonrpc_error(typed) from None
        log.exception("%s failed unexpectedly", method)
        raise JsonRpcInternalError(
            message=f"Internal error in {method}: {_first_line(exc)} (details in the server log)."
        ) from exc


def _typed_error(exc: Exception) -> KimiError | None:
    """The KimiError behind `exc`: itself, or the first of a TaskGroup's group when every
    error it holds is one (a group hiding a bug is not unwrapped)."""
    if isinstance(exc, KimiError):
        return exc
    if isinstance(exc, ExceptionGroup):
        typed, rest = exc.split(KimiError)
        while rest is None and isinstance(typed, ExceptionGroup):
            first = typed.exceptions[0]
            if isinstance(first, KimiError):
                return first
            typed = first
    return None


async def _logged(method: str, awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except asyncio.CancelledError:
        raise
    except KimiError as exc:
        log.warning("%s: %s", method, exc.message)
    except Exception:
        log.exception("Handling %s failed", method)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
