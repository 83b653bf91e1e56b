"""The real server as a subprocess spoken to in raw framed bytes (malformed frames included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import converters
from pytest_lsp import client_capabilities

from tests.e2e.harness import PROFILES, server_env

ServerRequestHandler = Callable[[str, Any], Any]
NO_ANSWER = object()  # returned by `on_request`: leave the server's request unanswered


def frame(body: bytes) -> bytes:
    """One well-formed LSP frame around `body`."""
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def encode(message: Any) -> bytes:
    return frame(json.dumps(message).encode("utf-8"))


def capabilities(profile: str) -> dict[str, Any]:
    """A realistic client's capabilities as JSON (pytest-lsp's profiles)."""
    caps = client_capabilities(PROFILES[profile])
    return dict(converters.get_converter().unstructure(caps))


class FrameReader:
    """A strict parser of the server's output: any framing error is a test failure."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Any]:
        self._buffer += data
        messages = []
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return messages
            header = bytes(self._buffer[:end]).decode("ascii")
            lengths = [
                int(line.split(":", 1)[1])
                for line in header.split("\r\n")
                if line.lower().startswith("content-length:")
            ]
            assert len(lengths) == 1, f"bad header from the server: {header!r}"
            start = end + 4
            if len(self._buffer) - start < lengths[0]:
                return messages
            body = bytes(self._buffer[start : start + lengths[0]])
            del self._buffer[: start + lengths[0]]
            messages.append(json.loads(body))


class RawServer:
    """`python -m kimi_lsp` over pipes; a reader thread collects responses and notifications
    and answers the server's own requests (applyEdit through `on_request`)."""

    def __init__(self, profile: str = "vscode", env: dict[str, str] | None = None) -> None:
        self.profile = profile
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kimi_lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=server_env(env),
        )
        self.responses: dict[Any, list[dict[str, Any]]] = {}
        self.notifications: list[tuple[str, Any]] = []
        self.server_requests: list[tuple[str, Any]] = []
        self.stderr_lines: list[str] = []
        self.configuration: dict[str, Any] = {}
        self.on_request: ServerRequestHandler | None = None
        self.handler_errors: list[str] = []
        self.on_notification: Callable[[str, Any], None] | None = None
        self._cond = threading.Condition()
        self._next_id = 0
        self._write_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    # -- lifecycle --------------------------------------------------------------------
    def initialize(self, options: dict[str, Any], root: Path | None = None) -> dict[str, Any]:
        self.configuration = options
        params: dict[str, Any] = {
            "processId": os.getpid(),
            "capabilities": capabilities(self.profile),
            "initializationOptions": options,
            "rootUri": root.as_uri() if root else None,
        }
        if root is not None:
            params["workspaceFolders"] = [{"uri": root.as_uri(), "name": root.name}]
        result = self.call("initialize", params)
        self.notify("initialized", {})
        return result

    def close(self) -> int | None:
        """Shut down politely when possible; always end the process."""
        try:
            if self.alive():
                self.request("shutdown", None)
                self.notify("exit", None)
                self.process.wait(timeout=5)
        except (OSError, TimeoutError, subprocess.TimeoutExpired):
            pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        return self.process.returncode

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1])

    # -- output -----------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def send(self, message: Any) -> None:
        self.write(encode(message))

    def new_id(self) -> int:
        with self._cond:
            self._next_id += 1
            return self._next_id

    def request(self, method: str, params: Any, msg_id: Any = None) -> Any:
        msg_id = self.new_id() if msg_id is None else msg_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return msg_id

    def notify(self, method: str, params: Any) -> None:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def cancel(self, msg_id: Any) -> None:
        self.notify("$/cancelRequest", {"id": msg_id})

    def wait(self, msg_id: Any, timeout: float = 10.0) -> dict[str, Any]:
        """The (first) response to `msg_id`; TimeoutError if none comes."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while msg_id not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or not self.alive():
                    raise TimeoutError(f"no response to request {msg_id!r} within {timeout} s")
                self._cond.wait(min(left, 0.5))
            return self.responses[msg_id][0]

    def responses_now(self) -> dict[Any, list[dict[str, Any]]]:
        """A copy of the responses so far (the reader thread adds to them meanwhile)."""
        with self._cond:
            return {msg_id: list(answers) for msg_id, answers in self.responses.items()}

    def wait_all(self, ids: list[Any], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for msg_id in ids:
            self.wait(msg_id, max(0.01, deadline - time.monotonic()))

    def call(self, method: str, params: Any, timeout: float = 10.0) -> Any:
        """A request whose success is expected: its result."""
        response = self.wait(self.request(method, params), timeout)
        assert "error" not in response, f"{method} failed: {response['error']}"
        return response.get("result")

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("condition not reached")
                self._cond.wait(min(left, 0.5))

    def of(self, method: str) -> list[Any]:
        with self._cond:
            return [params for m, params in self.notifications if m == method]

    def tracebacks(self) -> list[str]:
        """stderr lines that show an unhandled exception."""
        return [line for line in self.stderr_lines if "Traceback" in line]

    # -- input ------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        reader = FrameReader()
        fd = self.process.stdout.fileno()
        while data := os.read(fd, 1 << 16):
            for message in reader.feed(data):
                self._received(message)
        with self._cond:
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace")
            with self._cond:
                self.stderr_lines.append(line)

    def _received(self, message: dict[str, Any]) -> None:
        method = message.get("method")
        if method is None:
            with self._cond:
                self.responses.setdefault(message.get("id"), []).append(message)
                self._cond.notify_all()
            return
        if "id" in message:
            with self._cond:
                self.server_requests.append((method, message.get("params")))
            self._answer(message["id"], method, message.get("params"))
            return
        if self.on_notification is not None:
            self.on_notification(method, message.get("params"))
        with self._cond:
            self.notifications.append((method, message.get("params")))
            self._cond.notify_all()

    def _answer(self, msg_id: Any, method: str, params: Any) -> None:
        result: Any = None
        if method == "workspace/configuration":
            result = [self.configuration for _ in (params or {}).get("items", [])]
        elif self.on_request is not None:
            try:
                result = self.on_request(method, params)
            except Exception as exc:  # reported by the test; the reader must go on
                self.handler_errors.append(f"{method}: {exc!r}")
                error = {"code": -32603, "message": f"test client failed: {exc!r}"}
                self.send({"jsonrpc": "2.0", "id": msg_id, "error": error})
                return
        elif method == "workspace/applyEdit":
            result = {"applied": True}
        if result is not NO_ANSWER:
            self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})
