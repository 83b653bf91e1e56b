"""A minimal msgpack-RPC client for `nvim --embed` (standard library only: no pynvim/msgpack).

Encodes what requests need (None, bool, int, float, str, bytes, list, dict) and decodes all of
msgpack, Neovim's ext types (buffer/window/tabpage handles) as their integer ids. Notifications
(the UI's `redraw` batches) go to a queue the caller drains.
"""

from __future__ import annotations

import io
import queue
import struct
import subprocess
import threading
from typing import IO, Any, ClassVar


def pack(obj: Any) -> bytes:
    """msgpack encoding of `obj`."""
    if obj is None:
        return b"\xc0"
    if obj is True:
        return b"\xc3"
    if obj is False:
        return b"\xc2"
    if isinstance(obj, int):
        return _pack_int(obj)
    if isinstance(obj, float):
        return b"\xcb" + struct.pack(">d", obj)
    if isinstance(obj, str):
        data = obj.encode()
        return _header(len(data), 0xA0, 31, b"\xd9", b"\xda", b"\xdb") + data
    if isinstance(obj, bytes):
        return _header(len(obj), None, 0, b"\xc4", b"\xc5", b"\xc6") + obj
    if isinstance(obj, (list, tuple)):
        return _header(len(obj), 0x90, 15, None, b"\xdc", b"\xdd") + b"".join(map(pack, obj))
    if isinstance(obj, dict):
        body = b"".join(pack(k) + pack(v) for k, v in obj.items())
        return _header(len(obj), 0x80, 15, None, b"\xde", b"\xdf") + body
    raise TypeError(f"cannot pack {type(obj).__name__}")


def _pack_int(n: int) -> bytes:
    if 0 <= n < 128:
        return bytes([n])
    if -32 <= n < 0:
        return struct.pack(">b", n)
    if n >= 0:
        return b"\xcf" + struct.pack(">Q", n)
    return b"\xd3" + struct.pack(">q", n)


def _header(
    n: int, fix: int | None, fix_max: int, b8: bytes | None, b16: bytes, b32: bytes
) -> bytes:
    if fix is not None and n <= fix_max:
        return bytes([fix | n])
    if b8 is not None and n < 256:
        return b8 + bytes([n])
    if n < 65536:
        return b16 + struct.pack(">H", n)
    return b32 + struct.pack(">I", n)


class Reader:
    """Decodes msgpack objects from a blocking byte stream."""

    FIXED: ClassVar[dict[int, str]] = {
        0xCC: ">B", 0xCD: ">H", 0xCE: ">I", 0xCF: ">Q", 0xD0: ">b", 0xD1: ">h",
        0xD2: ">i", 0xD3: ">q", 0xCA: ">f", 0xCB: ">d",
    }  # fmt: skip
    EXT_SIZES: ClassVar[dict[int, int]] = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def _read(self, n: int) -> bytes:
        data = self.stream.read(n)
        if data is None or len(data) < n:
            raise EOFError("nvim closed the RPC stream")
        return data

    def _unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self._read(struct.calcsize(fmt)))[0]

    def read(self) -> Any:
        b = self._read(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 256
        if 0x80 <= b <= 0x8F:
            return self._map(b & 0x0F)
        if 0x90 <= b <= 0x9F:
            return [self.read() for _ in range(b & 0x0F)]
        if 0xA0 <= b <= 0xBF:
            return self._read(b & 0x1F).decode(errors="replace")
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b]
        if b in self.FIXED:
            return self._unpack(self.FIXED[b])
        return self._sized(b)

    def _sized(self, b: int) -> Any:
        lengths = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xC4: ">B", 0xC5: ">H", 0xC6: ">I",
                   0xDC: ">H", 0xDD: ">I", 0xDE: ">H", 0xDF: ">I", 0xC7: ">B", 0xC8: ">H",
                   0xC9: ">I"}  # fmt: skip
        if b in self.EXT_SIZES:
            self._read(1)  # the ext type: buffer, window or tabpage
            return self._ext_int(self._read(self.EXT_SIZES[b]))
        if b not in lengths:
            raise ValueError(f"unknown msgpack byte 0x{b:02x}")
        n = self._unpack(lengths[b])
        if b in (0xD9, 0xDA, 0xDB):
            return self._read(n).decode(errors="replace")
        if b in (0xC4, 0xC5, 0xC6):
            return self._read(n)
        if b in (0xDC, 0xDD):
            return [self.read() for _ in range(n)]
        if b in (0xDE, 0xDF):
            return self._map(n)
        self._read(1)
        return self._ext_int(self._read(n))

    def _ext_int(self, data: bytes) -> Any:
        """Neovim's handles are msgpack-encoded integers inside the ext payload."""
        return Reader(io.BytesIO(data)).read()

    def _map(self, n: int) -> dict[Any, Any]:
        out = {}
        for _ in range(n):
            key = self.read()
            out[key if not isinstance(key, list) else tuple(key)] = self.read()
        return out


class Nvim:
    """`nvim --embed` driven over its stdin/stdout: request() waits for the answer, the
    notifications are queued in `events`."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self.stdin = proc.stdin
        self.reader = Reader(proc.stdout)
        self.events: queue.Queue[tuple[str, list[Any]]] = queue.Queue()
        self.responses: dict[int, queue.Queue[tuple[Any, Any]]] = {}
        self.lock = threading.Lock()
        self.next_id = 0
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        try:
            while True:
                message = self.reader.read()
                if message[0] == 1:
                    self.responses[message[1]].put((message[2], message[3]))
                elif message[0] == 2:
                    self.events.put((message[1], message[2]))
                elif message[0] == 0:  # nvim asks us something: we answer nothing useful
                    self._send([1, message[1], "not supported", None])
        except (EOFError, ValueError, OSError):
            self.events.put(("closed", []))

    def _send(self, message: list[Any]) -> None:
        with self.lock:
            self.stdin.write(pack(message))
            self.stdin.flush()

    def request(self, method: str, *args: Any, timeout: float = 30) -> Any:
        with self.lock:
            self.next_id += 1
            msgid = self.next_id
            self.responses[msgid] = queue.Queue()
        self._send([0, msgid, method, list(args)])
        error, result = self.responses[msgid].get(timeout=timeout)
        del self.responses[msgid]
        if error:
            raise RuntimeError(f"{method}: {error}")
        return result

    def lua(self, code: str, *args: Any) -> Any:
        return self.request("nvim_exec_lua", code, list(args))
