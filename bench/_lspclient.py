"""Minimal raw JSON-RPC/LSP stdio client for benchmarks: framed writes, a reader thread, futures."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, BinaryIO

JsonObj = dict[str, Any]

_HEADER_END = b"\r\n\r\n"
_METHOD_NOT_FOUND = -32601


def encode(msg: Mapping[str, Any]) -> bytes:
    """Frame one JSON-RPC message with a Content-Length header (body is compact UTF-8 JSON)."""
    body = json.dumps(msg, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def notification(method: str, params: Any = None) -> bytes:
    """Build the framed bytes of a notification."""
    msg: JsonObj = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        msg["params"] = params
    return encode(msg)


@dataclass(frozen=True)
class Response:
    """A response from the server and the perf_counter() time the reader thread parsed it."""

    msg: JsonObj
    received_at: float

    @property
    def error(self) -> JsonObj | None:
        """The JSON-RPC error object, if the response is an error."""
        err = self.msg.get("error")
        return err if isinstance(err, dict) else None

    @property
    def result(self) -> Any:
        """The result member (None for errors)."""
        return self.msg.get("result")

    def describe(self) -> str:
        """Short human description: 'result' or 'error <code>'."""
        return "result" if self.error is None else f"error {self.error.get('code')}"


class ServerGone(RuntimeError):
    """The server closed its stdout (exited or crashed) while requests were pending."""


@dataclass
class _Mark:
    """Writer-queue marker: resolved with the perf_counter() time the writer reached it."""

    future: Future[float]


def _answer_server_request(method: str, params: Any) -> tuple[Any, JsonObj | None]:
    """Result (or error) a VS Code-like client would send to a server->client request."""
    if method == "workspace/configuration":
        items = params.get("items", []) if isinstance(params, dict) else []
        return [None] * len(items), None
    if method in (
        "client/registerCapability",
        "client/unregisterCapability",
        "window/workDoneProgress/create",
        "window/showMessageRequest",
        "workspace/codeLens/refresh",
        "workspace/semanticTokens/refresh",
        "workspace/inlayHint/refresh",
        "workspace/inlineValue/refresh",
        "workspace/diagnostic/refresh",
    ):
        return None, None
    if method == "workspace/workspaceFolders":
        return [], None
    if method == "workspace/applyEdit":
        return {"applied": False, "failureReason": "benchmark client"}, None
    if method == "window/showDocument":
        return {"success": False}, None
    return None, {"code": _METHOD_NOT_FOUND, "message": f"benchmark client: {method}"}


class LspClient:
    """Drive one language-server process over stdio.

    All writes go through one writer thread (so the caller never blocks on a full pipe and the
    reader thread can answer server->client requests without deadlocking); a reader thread reads
    stdout in bulk, parses frames, resolves response futures, answers server requests and keeps
    notifications.
    """

    def __init__(
        self,
        cmd: Sequence[str],
        *,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        stderr_path: str | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.stderr_path = stderr_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.notifications: list[JsonObj] = []
        self.notification_times: list[float] = []  # perf_counter() of each, same order
        self.server_requests: list[JsonObj] = []
        self.write_error: BaseException | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int | str, Future[Response]] = {}
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[bytes | _Mark | None] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None
        self._writer: threading.Thread | None = None
        self._stderr_file: BinaryIO | None = None
        self._closed = False

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self.proc is None:
            raise RuntimeError("server not started")
        return self.proc.pid

    def start(self) -> None:
        """Spawn the server and start the reader and writer threads."""
        if self.stderr_path is not None:
            self._stderr_file = open(self.stderr_path, "ab")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file if self._stderr_file is not None else subprocess.DEVNULL,
            cwd=self.cwd,
            env=self.env,
            bufsize=0,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_loop, name="lsp-reader", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name="lsp-writer", daemon=True)
        self._reader.start()
        self._writer.start()

    def shutdown(self, timeout: float = 10.0) -> int | None:
        """Polite `shutdown` + `exit`; returns the exit code (None if it had to be killed)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        try:
            fut, data = self.make_request("shutdown", None)
            self.send(data)
            fut.result(timeout=timeout)
            self.send(notification("exit"))
            self._queue.put(None)  # writer closes stdin after the exit notification
            return proc.wait(timeout=timeout)
        except Exception:
            return None
        finally:
            self.close()

    def close(self) -> None:
        """Kill the server if it is still running and release everything (idempotent)."""
        if self._closed:
            return
        self._closed = True
        proc = self.proc
        if proc is not None:
            if proc.poll() is None:
                # The server leads its own session/process group: kill it and anything it spawned.
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.kill()
            with contextlib.suppress(Exception):
                proc.wait(timeout=10)
            self._queue.put(None)  # the writer owns stdin and closes it
            if self._writer is not None:
                self._writer.join(timeout=5)
            if self._reader is not None:
                self._reader.join(timeout=5)
            if proc.stdout is not None:
                with contextlib.suppress(Exception):
                    proc.stdout.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
        self._fail_pending(ServerGone("client closed"))

    def __enter__(self) -> LspClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- sending ---------------------------------------------------------------------------

    def make_request(self, method: str, params: Any) -> tuple[Future[Response], bytes]:
        """Allocate an id, register its future and return it with the framed bytes (not sent)."""
        req_id = next(self._ids)
        msg: JsonObj = {"jsonrpc": "2.0", "id": req_id, "method": method}
        if params is not None:
            msg["params"] = params
        fut: Future[Response] = Future()
        with self._lock:
            self._pending[req_id] = fut
        return fut, encode(msg)

    def send(self, data: bytes) -> None:
        """Queue one framed message (or a pre-joined batch) for the writer thread."""
        self._queue.put(data)

    def send_many(self, messages: Iterable[bytes]) -> None:
        """Queue messages; the writer does one write() per message."""
        for data in messages:
            self._queue.put(data)

    def mark(self) -> Future[float]:
        """A future resolved with the time the writer has written everything queued before it."""
        fut: Future[float] = Future()
        self._queue.put(_Mark(fut))
        return fut

    def request(self, method: str, params: Any, timeout: float = 60.0) -> Response:
        """Send a request and wait for its response."""
        fut, data = self.make_request(method, params)
        self.send(data)
        return fut.result(timeout=timeout)

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification."""
        self.send(notification(method, params))

    # -- threads ---------------------------------------------------------------------------

    def _write_loop(self) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        while True:
            item = self._queue.get()
            if item is None:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()
                return
            if isinstance(item, _Mark):
                item.future.set_result(time.perf_counter())
                continue
            if self.write_error is not None:
                continue
            view = memoryview(item)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            except OSError as exc:  # broken pipe: the server died; the reader fails futures
                self.write_error = exc

    def _read_loop(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            now = time.perf_counter()
            buf += chunk
            while True:
                hdr_end = buf.find(_HEADER_END)
                if hdr_end < 0:
                    break
                length = _content_length(bytes(buf[:hdr_end]))
                start = hdr_end + len(_HEADER_END)
                if len(buf) < start + length:
                    break
                body = bytes(buf[start : start + length])
                del buf[: start + length]
                self._dispatch(json.loads(body), now)
        self._fail_pending(ServerGone(f"server stdout closed (exit code {self.proc.poll()})"))

    def _dispatch(self, msg: JsonObj, now: float) -> None:
        method = msg.get("method")
        if method is None:
            with self._lock:
                fut = self._pending.pop(msg.get("id"), None)  # type: ignore[arg-type]
            if fut is not None and not fut.done():
                fut.set_result(Response(msg, now))
            return
        if "id" in msg:
            self.server_requests.append(msg)
            result, error = _answer_server_request(method, msg.get("params"))
            reply: JsonObj = {"jsonrpc": "2.0", "id": msg["id"]}
            if error is None:
                reply["result"] = result
            else:
                reply["error"] = error
            self.send(encode(reply))
            return
        self.notification_times.append(now)
        self.notifications.append(msg)

    def _fail_pending(self, exc: BaseException) -> None:
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for fut in pending:
            if not fut.done():
                fut.set_exception(exc)


KEY_ENV = ("MOONSHOT_API_KEY", "KIMI_API_KEY", "KIMI_BASE_URL", "KIMI_MODEL")


def isolated_env(home: str, api_key: str, **extra: str) -> dict[str, str]:
    """This process's environment for a kimi-lsp under test: the endpoint variables dropped,
    `api_key` as the key, the XDG directories under `home`, and `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in KEY_ENV}
    env.update(
        MOONSHOT_API_KEY=api_key,
        XDG_CONFIG_HOME=os.path.join(home, "config"),
        XDG_CACHE_HOME=os.path.join(home, "cache"),
        XDG_DATA_HOME=os.path.join(home, "data"),
        **extra,
    )
    return env


def _content_length(header: bytes) -> int:
    for line in header.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    raise ValueError(f"frame without Content-Length: {header!r}")


# -- process memory ---------------------------------------------------------------------------


def _status_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        task_dir = f"/proc/{pid}/task"
        for tid in os.listdir(task_dir):
            with open(f"{task_dir}/{tid}/children") as fh:
                kids.extend(int(p) for p in fh.read().split())
    except OSError:
        pass
    return kids


def process_tree_memory(pid: int) -> dict[str, float]:
    """VmRSS/VmHWM in MB of `pid` itself and summed over its process tree (from /proc)."""
    own = _status_kb(pid)
    tree_rss = tree_hwm = 0
    seen: set[int] = set()
    todo = [pid]
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        st = _status_kb(p)
        tree_rss += st.get("VmRSS", 0)
        tree_hwm += st.get("VmHWM", 0)
        todo.extend(_children(p))
    return {
        "rss_mb": own.get("VmRSS", 0) / 1024,
        "hwm_mb": own.get("VmHWM", 0) / 1024,
        "tree_rss_mb": tree_rss / 1024,
        "tree_hwm_mb": tree_hwm / 1024,
        "processes": float(len(seen)),
    }
