"""A real self-hosted OpenAI-compatible server (llama.cpp's Python server) for e2e tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SETUP = "bash tests/selfhosted/setup.sh"
MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
MODEL_ALIAS = "gemma-3-270m"
STAMP = ".kimi-lsp-llama-stamp"
# The key the server is started with: llama-cpp-python answers 401 to any other bearer, so a
# test passing through it proves which key reached this endpoint.
LLAMA_KEY = "sk-selfhosted-llama-0123456789abcdef"
CONTEXT_WINDOW = 4096
# Generous: only a broken install or a machine stalled for minutes gets near it; a server that
# exits early is noticed at once (its output ends).
READY_GUARD_SECONDS = 180.0
_READY = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")


@dataclass(frozen=True)
class LlamaInstall:
    """Where tests/selfhosted/setup.sh put the server's venv and the model."""

    python: Path
    model: Path


def llama_venv() -> Path:
    """The venv setup.sh installs into (the same defaults as the script)."""
    given = os.environ.get("KIMI_LSP_LLAMA_VENV")
    if given:
        return Path(given)
    cache = os.environ.get("KIMI_LSP_CACHE")
    if cache:
        return Path(cache) / "llama-venv"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "kimi-lsp-dev" / "llama-venv"


def find_install() -> LlamaInstall | None:
    """The completed install (stamped by setup.sh), or None when it was never run here."""
    venv = llama_venv()
    install = LlamaInstall(venv / "bin" / "python", venv / "models" / MODEL_FILE)
    if (venv / STAMP).is_file() and install.python.is_file() and install.model.is_file():
        return install
    return None


class LlamaServer:
    """`python -m llama_cpp.server` on a free loopback port, its output kept in a log file."""

    def __init__(self, install: LlamaInstall, log_path: Path) -> None:
        self.install = install
        self.log_path = log_path
        self.port = 0
        self.model_id = ""
        self.model_ids: list[str] = []
        self._ready = threading.Event()
        self._lines: list[str] = []
        self._ended = False
        self._changed = threading.Condition()
        # One thread: on 2 shared cores, a second one spin-waits whenever another process
        # holds a core (measured: up to 3x slower and more CPU per request); the prompts here
        # are short, so the speed a second thread adds on a quiet machine does not matter.
        threads = "1"
        command = [
            str(install.python), "-m", "llama_cpp.server",
            "--model", str(install.model),
            "--host", "127.0.0.1",
            "--port", "0",  # uvicorn binds a free port and logs which: no race for it
            "--n_ctx", str(CONTEXT_WINDOW),
            "--n_threads", threads,
            "--n_threads_batch", threads,
            "--api_key", LLAMA_KEY,
            # /v1/models would list the --model path otherwise.
            "--model_alias", MODEL_ALIAS,
            # The GGUF carries no chat template (llama-cpp-python would guess llama-2): name
            # the model's own turn format, as an operator of such a server does.
            "--chat_format", "gemma",
        ]  # fmt: skip
        # Its own venv only: no PYTHONPATH or PYTHONHOME of the test process leaks into it.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONUNBUFFERED"] = "1"  # its print()s (e.g. a client's disconnect) come at once
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
        )
        assert self.process.stdout is not None
        self._drain = threading.Thread(target=self._read_output, args=(self.process.stdout,))
        self._drain.daemon = True
        self._drain.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _read_output(self, stream: IO[bytes]) -> None:
        """Copies the server's output to the log (it must be read, or a full pipe would stall
        the server) and signals the line saying where it listens, or the end of its output."""
        with self.log_path.open("wb") as log:
            for line in stream:
                log.write(line)
                log.flush()
                text = line.decode("utf-8", "replace")
                found = _READY.search(text)
                if found and not self._ready.is_set():
                    self.port = int(found.group(1))
                    self._ready.set()
                with self._changed:
                    self._lines.append(text)
                    self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()
        self._ready.set()  # the process ended: wake the waiter, which sees no port

    def log_mark(self) -> int:
        """The number of output lines so far, for `wait_for_line(after=...)`."""
        with self._changed:
            return len(self._lines)

    def wait_for_line(self, text: str, after: int = 0, guard: float = 60.0) -> bool:
        """Whether the server printed a line containing `text` (after line number `after`),
        waiting for its output as it comes; False if it ended or the hang guard ran out."""

        def seen() -> bool:
            return self._ended or any(text in line for line in self._lines[after:])

        with self._changed:
            self._changed.wait_for(seen, guard)
            return any(text in line for line in self._lines[after:])

    def wait_ready(self) -> None:
        """Blocks until the server answers /v1/models (it logs its port once listening)."""
        if not self._ready.wait(READY_GUARD_SECONDS):
            self.stop()
            raise RuntimeError(f"llama.cpp server not listening after {READY_GUARD_SECONDS} s")
        if not self.port:
            self.stop()
            raise RuntimeError(f"llama.cpp server exited before listening:\n{self.log_tail()}")
        models = self.get("/models")
        self.model_ids = [str(entry["id"]) for entry in models["data"]]
        self.model_id = self.model_ids[0]

    def get(self, path: str) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path, headers={"Authorization": f"Bearer {LLAMA_KEY}"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body: dict[str, Any] = json.load(response)
        return body

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {LLAMA_KEY}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            answer: dict[str, Any] = json.load(response)
        return answer

    def post_stream(self, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        """The JSON chunks of a streamed answer (server-sent events), without the [DONE]."""
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps({**body, "stream": True}).encode(),
            headers={"Authorization": f"Bearer {LLAMA_KEY}", "Content-Type": "application/json"},
        )
        chunks: list[dict[str, Any]] = []
        with urllib.request.urlopen(request, timeout=120) as response:
            for raw in response:
                line = raw.decode().strip()
                if line.startswith("data:") and line[5:].strip() != "[DONE]":
                    chunks.append(json.loads(line[5:]))
        return chunks

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drain.join(timeout=10)
