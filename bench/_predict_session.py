"""kimi-lsp and a bare pygls server over stdio for bench/predict.py: documents, positions, edits."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _lspclient import LspClient, Response, isolated_env
from plumbing import workspace_params

BENCH_DIR = Path(__file__).resolve().parent
API_KEY = "sk-test-fake"
TIMEOUT_S = 30.0
# Every cost control but the ones measured is out of the way: no debounce, no spend cap.
PREDICTION = {"enabled": True, "debounceMs": 0, "nextEdit": True, "maxCostPerHour": 1_000_000}


def _env(home: Path) -> dict[str, str]:
    return isolated_env(str(home), API_KEY, KIMI_LSP_TOKENIZER_DOWNLOAD="0")  # never the network


# -- positions (UTF-16, as the client advertises) ---------------------------------------------


def position(text: str, offset: int) -> dict[str, int]:
    """The LSP position of a character offset."""
    line = text.count("\n", 0, offset)
    start = text.rfind("\n", 0, offset) + 1
    column = len(text[start:offset].encode("utf-16-le")) // 2
    return {"line": line, "character": column}


def offset_of(text: str, pos: dict[str, int]) -> int:
    """The character offset of an LSP position (clamped to its line, like editors do)."""
    start = 0
    for _ in range(pos["line"]):
        found = text.find("\n", start)
        if found < 0:
            return len(text)
        start = found + 1
    end = text.find("\n", start)
    end = len(text) if end < 0 else end
    units = pos["character"]
    index = start
    while index < end and units > 0:
        units -= 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    return index


def apply_edits(text: str, edits: list[tuple[dict[str, Any], str]]) -> str:
    """Apply (range, new text) pairs, all in the coordinates of `text`."""
    spans = [
        (offset_of(text, rng["start"]), offset_of(text, rng["end"]), new) for rng, new in edits
    ]
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


# -- the servers ------------------------------------------------------------------------------


class _Stdio:
    """What both servers do: documents, a no-op round trip, CPU time, shutdown."""

    client: LspClient
    workspace: Path

    def uri(self, name: str) -> str:
        return (self.workspace / name).as_uri()

    def open(self, uri: str, text: str, version: int = 1) -> None:
        doc = {"uri": uri, "languageId": "python", "version": version, "text": text}
        self.client.notify("textDocument/didOpen", {"textDocument": doc})

    def close_doc(self, uri: str) -> None:
        self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def change(self, uri: str, version: int, text: str, start: int, end: int, new: str) -> None:
        """Replace text[start:end] with `new` (positions computed on `text`, the old content)."""
        change = {
            "range": {"start": position(text, start), "end": position(text, end)},
            "text": new,
        }
        params = {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}
        self.client.notify("textDocument/didChange", params)

    def round_trip(self) -> float:
        """Seconds for a request the server answers without work (an unknown method's error)."""
        future, data = self.client.make_request("kimi/noSuchMethod", {})
        sent_at = time.monotonic()
        self.client.send(data)
        response = future.result(timeout=TIMEOUT_S)
        return response.received_at - sent_at

    def cpu_s(self) -> float:
        """The server process's CPU time so far (user + system, from /proc)."""
        try:
            with open(f"/proc/{self.client.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.client.shutdown(timeout=10)
        self.client.close()


class PredictServer(_Stdio):
    """kimi-lsp with prediction on, debounce 0 and no spend cap, talking to the fake."""

    def __init__(self, base_url: str, home: Path) -> None:
        workspace = home / "workspace"
        workspace.mkdir(parents=True, exist_ok=True)
        self.workspace = workspace
        self.client = LspClient(
            [sys.executable, "-m", "kimi_lsp"],
            cwd=str(home),
            env=_env(home),
            stderr_path=str(home / "server.stderr"),
        )
        params = workspace_params(workspace)
        params["initializationOptions"] = {
            "baseUrl": base_url,
            "maxRetries": 0,
            "prediction": PREDICTION,
        }
        self.client.start()
        response = self.client.request("initialize", params, timeout=60)
        if response.error is not None:
            raise RuntimeError(f"initialize failed: {response.error}")
        self.capabilities = (response.result or {}).get("capabilities", {})
        self.client.notify("initialized", {})

    def inline_params(self, uri: str, text: str, offset: int) -> dict[str, Any]:
        return {
            "textDocument": {"uri": uri},
            "position": position(text, offset),
            "context": {"triggerKind": 2},
        }

    def inline(self, uri: str, text: str, offset: int) -> tuple[float, Response]:
        """One ghost-text request; (monotonic time it was queued, the response)."""
        future, data = self.client.make_request(
            "textDocument/inlineCompletion", self.inline_params(uri, text, offset)
        )
        sent_at = time.monotonic()
        self.client.send(data)
        return sent_at, future.result(timeout=TIMEOUT_S)

    def next_edit(self, uri: str, version: int, text: str, offset: int) -> Response:
        params = {
            "textDocument": {"uri": uri, "version": version},
            "position": position(text, offset),
        }
        return self.client.request("kimi/nextEdit", params, timeout=TIMEOUT_S)


class BareServer(_Stdio):
    """bench/bare_pygls_server.py: the round-trip baseline measured in the same run."""

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.workspace = home
        self.client = LspClient(
            [sys.executable, str(BENCH_DIR / "bare_pygls_server.py")], cwd=str(home)
        )
        self.client.start()
        self.client.request("initialize", workspace_params(home), timeout=60)
        self.client.notify("initialized", {})


def items_of(response: Response) -> list[dict[str, Any]]:
    """The inline completion items of a response (an error raises)."""
    if response.error is not None:
        raise RuntimeError(f"inlineCompletion failed: {response.error}")
    result = response.result
    if isinstance(result, list):
        return result
    return list((result or {}).get("items") or [])
