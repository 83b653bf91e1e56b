"""Plumbing benchmark: kimi-lsp vs a bare pygls server on initialize, didOpen, typing and RSS."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # script or module: find the helper
from _lspclient import LspClient, Response, notification, process_tree_memory
from _machine import machine_info as shared_machine_info

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
BARE_SERVER = BENCH_DIR / "bare_pygls_server.py"

# ratio ours/bare: (metric key, bound, label)
TARGETS: tuple[tuple[str, float, str], ...] = (
    ("per_edit", 1 / 25, "<= 1/25"),
    ("initialize", 1.15, "<= 1.15"),
    ("rss", 1.6, "<= 1.6"),
)


@dataclass(frozen=True)
class Sizes:
    """How much work one run does."""

    n_docs: int
    doc_lines: int
    typing_lines: int
    n_edits: int


FULL = Sizes(n_docs=50, doc_lines=2_000, typing_lines=20_000, n_edits=2_000)
QUICK = Sizes(n_docs=10, doc_lines=500, typing_lines=5_000, n_edits=300)

# -- deterministic workload -------------------------------------------------------------------

_LINE_TEMPLATES = (
    "def compute_{a}(value_{b}, limit={c}):",
    "    total_{a} = value_{b} * {c} + offset",
    "    if total_{a} > limit and flag_{b}:",
    "        return helper_{b}(total_{a}, {c})",
    "    items_{a} = [x + {c} for x in data_{b}]",
    "    # adjust counter {a} for batch {b} now",
    "    self.cache[{a}] = Record(id={c}, n={b})",
    "",
    "class Handler{a}(BaseHandler, Mixin{b}):",
    '    name = "handler_{a}_variant_{b}_x"',
)

_TYPED_TEXT = "    result = compute_value(item, limit=10)\n    if result:\n"


def make_document(seed: int, n_lines: int) -> str:
    """Python-ish text of `n_lines` lines (~36 chars average), fully determined by `seed`."""
    lines = []
    for i in range(n_lines):
        k = seed * 100_003 + i
        tpl = _LINE_TEMPLATES[(k * 7 + seed) % len(_LINE_TEMPLATES)]
        lines.append(tpl.format(a=k % 10_000, b=(k * 31) % 97, c=(k * 7) % 1000))
    return "\n".join(lines) + "\n"


def workspace_params(ws: Path) -> dict[str, Any]:
    """`initialize` params with VS Code-like client capabilities."""
    uri = ws.as_uri()
    dyn = {"dynamicRegistration": True}
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "Visual Studio Code", "version": "1.95.3"},
        "locale": "en",
        "rootPath": str(ws),
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": ws.name}],
        "initializationOptions": {},
        "trace": "off",
        "capabilities": {
            "general": {
                "positionEncodings": ["utf-16"],
                "staleRequestSupport": {
                    "cancel": True,
                    "retryOnContentModified": ["textDocument/semanticTokens/full"],
                },
                "regularExpressions": {"engine": "ECMAScript", "version": "ES2020"},
                "markdown": {"parser": "marked", "version": "1.1.0"},
            },
            "workspace": {
                "applyEdit": True,
                "workspaceEdit": {
                    "documentChanges": True,
                    "resourceOperations": ["create", "rename", "delete"],
                    "failureHandling": "textOnlyTransactional",
                    "normalizesLineEndings": True,
                },
                "didChangeConfiguration": dyn,
                "didChangeWatchedFiles": {**dyn, "relativePatternSupport": True},
                "symbol": dyn,
                "executeCommand": dyn,
                "configuration": True,
                "workspaceFolders": True,
                "codeLens": {"refreshSupport": True},
                "diagnostics": {"refreshSupport": True},
            },
            "textDocument": {
                "synchronization": {
                    **dyn,
                    "willSave": True,
                    "willSaveWaitUntil": True,
                    "didSave": True,
                },
                "completion": {
                    **dyn,
                    "contextSupport": True,
                    "completionItem": {
                        "snippetSupport": True,
                        "insertReplaceSupport": True,
                        "resolveSupport": {"properties": ["documentation", "detail"]},
                    },
                },
                "hover": {**dyn, "contentFormat": ["markdown", "plaintext"]},
                "codeAction": {
                    **dyn,
                    "isPreferredSupport": True,
                    "disabledSupport": True,
                    "dataSupport": True,
                    "resolveSupport": {"properties": ["edit"]},
                    "codeActionLiteralSupport": {
                        "codeActionKind": {
                            "valueSet": [
                                "",
                                "quickfix",
                                "refactor",
                                "refactor.rewrite",
                                "source",
                            ]
                        }
                    },
                },
                "publishDiagnostics": {
                    "relatedInformation": True,
                    "versionSupport": False,
                    "codeDescriptionSupport": True,
                    "dataSupport": True,
                },
                "inlineCompletion": dyn,
            },
            "window": {
                "workDoneProgress": True,
                "showMessage": {"messageActionItem": {"additionalPropertiesSupport": True}},
                "showDocument": {"support": True},
            },
        },
    }


def did_open(uri: str, text: str) -> bytes:
    """Framed `textDocument/didOpen`."""
    doc = {"uri": uri, "languageId": "python", "version": 1, "text": text}
    return notification("textDocument/didOpen", {"textDocument": doc})


def typing_changes(uri: str, start_line: int, n_edits: int) -> list[bytes]:
    """`n_edits` framed one-character incremental didChange notifications (typing at a cursor)."""
    msgs = []
    line, col = start_line, 0
    for i in range(n_edits):
        ch = _TYPED_TEXT[i % len(_TYPED_TEXT)]
        pos = {"line": line, "character": col}  # ASCII only: utf-16 == code points
        change = {"range": {"start": pos, "end": pos}, "text": ch}
        params = {
            "textDocument": {"uri": uri, "version": 2 + i},
            "contentChanges": [change],
        }
        msgs.append(notification("textDocument/didChange", params))
        if ch == "\n":
            line, col = line + 1, 0
        else:
            col += 1
    return msgs


def hover_params(uri: str) -> dict[str, Any]:
    """Params of the barrier request."""
    return {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 4}}


# -- one server run ---------------------------------------------------------------------------


def _wait(fut: Any, timeout: float, what: str) -> Response:
    try:
        resp: Response = fut.result(timeout=timeout)
    except TimeoutError as exc:
        raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}") from exc
    return resp


def run_once(
    cmd: Sequence[str],
    sizes: Sizes,
    workspace: Path,
    stderr_path: Path,
    *,
    settle: float,
    timeout: float,
) -> dict[str, Any]:
    """Start one server, run initialize/didOpen/typing, read its memory, shut it down."""
    ws_uri = workspace.as_uri()
    # a private cache: no index store of an earlier run (which would start the deep index right
    # after the walk) and nothing left in the user's own cache
    env = {**os.environ, "XDG_CACHE_HOME": str(stderr_path.parent / "cache")}
    client = LspClient(cmd, cwd=str(REPO_ROOT), env=env, stderr_path=str(stderr_path))
    sample: dict[str, Any] = {}
    try:
        # 1. initialize: process start -> response (interpreter start + imports included)
        init_fut, init_bytes = client.make_request("initialize", workspace_params(workspace))
        t0 = time.perf_counter()
        client.start()
        client.send(init_bytes)
        resp = _wait(init_fut, timeout, "initialize")
        if resp.error is not None:
            raise RuntimeError(f"initialize failed: {resp.error}")
        sample["initialize_s"] = resp.received_at - t0
        caps = resp.result.get("capabilities", {}) if isinstance(resp.result, dict) else {}
        sample["text_document_sync"] = caps.get("textDocumentSync")
        sample["position_encoding"] = caps.get("positionEncoding")
        client.notify("initialized", {})
        if settle > 0:
            time.sleep(settle)

        # 2. didOpen: n_docs documents back to back, then a barrier request
        docs = [
            (f"{ws_uri}/pkg/module_{k:03d}.py", make_document(k, sizes.doc_lines))
            for k in range(sizes.n_docs)
        ]
        open_msgs = [did_open(uri, text) for uri, text in docs]
        sample["didopen_bytes"] = sum(len(m) for m in open_msgs)
        fut, barrier = client.make_request("textDocument/hover", hover_params(docs[-1][0]))
        t0 = time.perf_counter()
        client.send_many(open_msgs)
        written = client.mark()
        client.send(barrier)
        resp = _wait(fut, timeout, "didOpen barrier")
        sample["didopen_s"] = resp.received_at - t0
        sample["didopen_written_s"] = written.result() - t0
        sample["barrier_response"] = resp.describe()
        del docs, open_msgs

        # 3. typing: open a big document (untimed), then n_edits one-char incremental changes
        big_uri = f"{ws_uri}/pkg/big_module.py"
        big_open = did_open(big_uri, make_document(9_999, sizes.typing_lines))
        fut, barrier = client.make_request("textDocument/hover", hover_params(big_uri))
        t0 = time.perf_counter()
        client.send(big_open)
        client.send(barrier)
        sample["open_big_s"] = _wait(fut, timeout, "big didOpen barrier").received_at - t0
        del big_open

        changes = typing_changes(big_uri, sizes.typing_lines // 2, sizes.n_edits)
        fut, barrier = client.make_request("textDocument/hover", hover_params(big_uri))
        t0 = time.perf_counter()
        client.send_many(changes)
        written = client.mark()
        client.send(barrier)
        resp = _wait(fut, timeout, "typing barrier")
        sample["typing_s"] = resp.received_at - t0
        sample["typing_written_s"] = written.result() - t0
        sample["per_edit_ms"] = sample["typing_s"] * 1000 / sizes.n_edits
        del changes

        # the barrier alone, at rest: how much of the totals above is the barrier itself
        fut, barrier = client.make_request("textDocument/hover", hover_params(big_uri))
        t0 = time.perf_counter()
        client.send(barrier)
        sample["idle_barrier_ms"] = (_wait(fut, timeout, "idle barrier").received_at - t0) * 1000

        # 4. memory after all of the above
        sample.update(process_tree_memory(client.pid))
        sample["notifications"] = len(client.notifications)
        sample["server_requests"] = sorted({m["method"] for m in client.server_requests})
        sample["exit_code"] = client.shutdown(timeout=min(timeout, 15.0))
        return sample
    finally:
        client.close()


# -- reporting --------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    """CPU model, core counts, Python and pygls versions."""
    return shared_machine_info("pygls", "lsprotocol", "kimi-lsp")


_MEDIAN_KEYS = (
    "initialize_s",
    "didopen_s",
    "didopen_written_s",
    "open_big_s",
    "typing_s",
    "typing_written_s",
    "per_edit_ms",
    "idle_barrier_ms",
    "rss_mb",
    "hwm_mb",
    "tree_rss_mb",
    "tree_hwm_mb",
)


def medians(samples: list[dict[str, Any]]) -> dict[str, float]:
    """Median of every numeric metric over the repeats."""
    return {k: statistics.median(s[k] for s in samples) for k in _MEDIAN_KEYS}


def ratios(ours: dict[str, float], bare: dict[str, float]) -> dict[str, float]:
    """ours / bare for the headline metrics (RSS over the whole process tree)."""

    def r(key: str) -> float:
        return ours[key] / bare[key] if bare[key] else float("inf")

    return {
        "initialize": r("initialize_s"),
        "didopen": r("didopen_s"),
        "per_edit": r("per_edit_ms"),
        "rss": r("tree_rss_mb"),
        "peak_rss": r("tree_hwm_mb"),
    }


def format_table(result: dict[str, Any]) -> str:
    """Human-readable report."""
    m = result["machine"]
    cfg = result["config"]
    sz = cfg["sizes"]
    ours = result["servers"]["ours"]["median"]
    bare = result["servers"]["bare"]["median"]
    rat = result["ratios"]
    verdict = result["targets"]
    rev = result["revision"]
    out = [
        f"machine: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable), "
        f"Python {m['python']}, pygls {m['pygls']}, lsprotocol {m['lsprotocol']}",
        f"ours: {' '.join(result['servers']['ours']['cmd'])}  (repo {rev['commit']}"
        f"{', server/ has uncommitted changes' if rev['server_dirty'] else ''})",
        f"bare: {' '.join(result['servers']['bare']['cmd'])}",
        f"work: didOpen {sz['n_docs']} x {sz['doc_lines']} lines "
        f"({result['servers']['bare']['samples'][0]['didopen_bytes'] / 1e6:.1f} MB); typing "
        f"{sz['n_edits']} one-char didChange into a {sz['typing_lines']}-line document; "
        f"median of {cfg['repeat']} (settle {cfg['settle_s']} s after initialized)",
        "",
        f"{'metric':<28}{'ours':>11}{'bare':>11}{'ours/bare':>11}  target",
    ]

    def row(label: str, key: str, scale: float, fmt: str, ratio_key: str | None = None) -> None:
        line = f"{label:<28}{ours[key] * scale:>11{fmt}}{bare[key] * scale:>11{fmt}}"
        if ratio_key is not None:
            line += f"{rat[ratio_key]:>11.3f}"
            if ratio_key in verdict:
                v = verdict[ratio_key]
                line += f"  {v['bound_label']:<8} {'PASS' if v['pass'] else 'FAIL'}"
        out.append(line)

    row("initialize (ms)", "initialize_s", 1000, ".0f", "initialize")
    row(f"didOpen x{sz['n_docs']} (ms)", "didopen_s", 1000, ".0f", "didopen")
    row(f"typing x{sz['n_edits']} (ms)", "typing_s", 1000, ".0f")
    row("per edit (ms)", "per_edit_ms", 1, ".3f", "per_edit")
    row("RSS, process tree (MB)", "tree_rss_mb", 1, ".1f", "rss")
    row("peak RSS, tree (MB)", "tree_hwm_mb", 1, ".1f", "peak_rss")
    out.append("")
    out.append("diagnostics (medians):")
    row("  didOpen: writes done (ms)", "didopen_written_s", 1000, ".0f")
    row("  typing: writes done (ms)", "typing_written_s", 1000, ".0f")
    row(f"  open {sz['typing_lines']}-line doc (ms)", "open_big_s", 1000, ".1f")
    row("  barrier alone, idle (ms)", "idle_barrier_ms", 1, ".2f")
    row("  RSS, main process (MB)", "rss_mb", 1, ".1f")
    for name in ("ours", "bare"):
        s0 = result["servers"][name]["samples"][0]
        out.append(
            f"  {name}: barrier -> {s0['barrier_response']}, sync {s0['text_document_sync']}, "
            f"encoding {s0['position_encoding']}, {s0['processes']:.0f} process(es), "
            f"{s0['notifications']} notifications, server requests {s0['server_requests']}"
        )
    out.append(f"overall: {'PASS' if result['ok'] else 'FAIL'}  (wall {result['wall_s']:.1f} s)")
    return "\n".join(out)


def source_revision() -> dict[str, Any]:
    """Git commit of the repo and whether the server sources differ from it (editable install)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "server_dirty": bool(git("status", "--porcelain", "--", "server")),
    }


# -- main -------------------------------------------------------------------------------------


def parse_cmd(text: str) -> list[str]:
    """Split a command line; a leading `python`/`python3` means this interpreter."""
    cmd = shlex.split(text)
    if cmd and cmd[0] in ("python", "python3"):
        cmd[0] = sys.executable
    return cmd


def build_parser() -> argparse.ArgumentParser:
    """CLI definition."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument(
        "--server-cmd",
        help="our server's command line (default: this python -m kimi_lsp); "
        "a leading 'python' means this interpreter",
    )
    p.add_argument("--bare-cmd", help="baseline command (default: bench/bare_pygls_server.py)")
    p.add_argument("--repeat", type=int, help="runs per server; medians reported (default 3)")
    p.add_argument("--quick", action="store_true", help="smaller sizes and 1 repeat (CI smoke)")
    p.add_argument("--settle", type=float, default=0.5, help="pause after initialized, s")
    p.add_argument("--timeout", type=float, default=300.0, help="per-wait timeout, s")
    p.add_argument("--json", action="store_true", help="print a machine-readable dict only")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--log-dir", help="keep server stderr logs here (default: temp, deleted)")
    return p


def byte_compile_package() -> None:
    """Write the package's .pyc files, as `pip install` does for an installed package.

    The baseline's pygls and lsprotocol load from site-packages with their bytecode; an
    editable checkout (and an environment with PYTHONDONTWRITEBYTECODE=1) would otherwise make
    every start of ours compile its modules from source, which no installed copy does."""
    import compileall

    compileall.compile_dir(str(REPO_ROOT / "server" / "kimi_lsp"), quiet=1)


def run_benchmark(args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    """Run both servers `repeat` times (alternating order) and assemble the result dict."""
    byte_compile_package()
    sizes = QUICK if args.quick else FULL
    repeat = args.repeat if args.repeat is not None else (1 if args.quick else 3)
    ours_default = [sys.executable, "-m", "kimi_lsp"]
    cmds = {
        "ours": parse_cmd(args.server_cmd) if args.server_cmd else ours_default,
        "bare": parse_cmd(args.bare_cmd) if args.bare_cmd else [sys.executable, str(BARE_SERVER)],
    }
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="kimi-plumbing-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    workspace = log_dir / "workspace"
    workspace.mkdir(exist_ok=True)
    samples: dict[str, list[dict[str, Any]]] = {"ours": [], "bare": []}
    started = time.perf_counter()
    ok_logs = False
    try:
        for r in range(repeat):
            order = ("ours", "bare") if r % 2 == 0 else ("bare", "ours")
            for name in order:
                log = log_dir / f"{name}-{r}.stderr"
                try:
                    s = run_once(
                        cmds[name],
                        sizes,
                        workspace,
                        log,
                        settle=args.settle,
                        timeout=args.timeout,
                    )
                except Exception as exc:
                    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                    raise RuntimeError(
                        f"{name} server ({' '.join(cmds[name])}) failed in run {r + 1}: {exc}\n"
                        f"--- stderr tail ({log}) ---\n{tail}"
                    ) from exc
                samples[name].append(s)
                progress(
                    f"[{r + 1}/{repeat}] {name}: init {s['initialize_s'] * 1000:.0f} ms, "
                    f"didOpen {s['didopen_s'] * 1000:.0f} ms, "
                    f"per edit {s['per_edit_ms']:.3f} ms, RSS {s['tree_rss_mb']:.1f} MB"
                )
        ok_logs = True
    finally:
        if ok_logs and not args.log_dir:
            shutil.rmtree(log_dir, ignore_errors=True)

    med = {name: medians(samples[name]) for name in samples}
    rat = ratios(med["ours"], med["bare"])
    targets = {
        key: {"ratio": rat[key], "bound": bound, "bound_label": label, "pass": rat[key] <= bound}
        for key, bound, label in TARGETS
    }
    return {
        "benchmark": "plumbing",
        "machine": machine_info(),
        "revision": source_revision(),
        "config": {
            "sizes": asdict(sizes),
            "repeat": repeat,
            "quick": bool(args.quick),
            "settle_s": args.settle,
        },
        "servers": {
            name: {"cmd": cmds[name], "median": med[name], "samples": samples[name]}
            for name in samples
        },
        "ratios": rat,
        "targets": targets,
        "ok": all(t["pass"] for t in targets.values()),
        "wall_s": time.perf_counter() - started,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; 0 unless --check and a target is missed (1) or a server failed (2)."""
    args = build_parser().parse_args(argv)

    def progress(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    try:
        result = run_benchmark(args, progress)
    except RuntimeError as exc:
        print(f"plumbing benchmark failed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        print(format_table(result))
    return 1 if args.check and not result["ok"] else 0


if __name__ == "__main__":
    sys.exit(main())
