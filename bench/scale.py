"""Scale bench: the deep index, server memory and `kimi-lsp context` on 1x, 3x and 10x the stdlib.

Each workspace is N copies of this interpreter's standard library without its test suites (the
recipe in issue 15), built once under ~/.cache/kimi-lsp-dev/bench/ and rebuilt when missing.
Per size, with a private XDG_CACHE_HOME (the tokenizer copied in, no index):

- a real server over stdio: initialize, one `kimi/context` (which wants the deep index) and,
  without waiting for its answer, `kimi/status` polled until `index.state` is "ready" with
  `deep` set; its CPU then from the process's /proc stat (all threads), less what it had spent
  by the time initialize was answered; its RSS;
- the same server started again on the same cache: spawn -> index ready (wall) and its CPU;
- `kimi-lsp context copy0/asyncio/tasks.py:78 --purpose edit` with an empty cache, then again
  with the cache it left: wall time, CPU and max RSS of that process (os.wait4);
- how the costs grow from 1x (linear: 3.0 at 3x, 10.0 at 10x).

    python bench/scale.py            # 1x, 3x, 10x (~5 minutes the first time: copies)
    python bench/scale.py --quick    # 1x and 3x
    python bench/scale.py --json     # the report as JSON (bench/run reads it)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # script or module: find the helpers
from _lspclient import LspClient, process_tree_memory
from _machine import machine_info

SIZES = (1, 3, 10)
QUICK_SIZES = (1, 3)
IGNORE = (
    "site-packages",
    "dist-packages",
    "__pycache__",
    "test",
    "tests",
    "idlelib",
    "lib2to3",
    "*.pyc",
)
RECIPE = 1  # bump when the recipe changes: cached workspaces are rebuilt
TARGET = ("copy0/asyncio/tasks.py", 78)  # 1-based line, as on the command line
SERVER = [sys.executable, "-m", "kimi_lsp"]
TIMEOUT_S = 600.0
POLL_S = 0.05  # kimi/status costs the server well under 1 ms: polling adds ~1% to its CPU
SETTLE_S = 1.5  # without `index` in kimi/status: CPU flat this long, no thread runnable
# Targets at 10x (issue 15, "Scale").
TARGETS = {
    "index_cpu_s": 5.0,
    "server_rss_mb": 150.0,
    "cli_cold_wall_s": 2.0,
    "cli_warm_wall_s": 2.0,
    "restart_ready_s": 1.0,
}


# -- workspaces -------------------------------------------------------------------------------


def bench_cache() -> Path:
    return Path.home() / ".cache" / "kimi-lsp-dev" / "bench"


def recipe_stamp(copies: int, stdlib: Path) -> dict[str, Any]:
    """What a cached workspace was built from: a different stamp means rebuild it."""
    return {"recipe": RECIPE, "copies": copies, "stdlib": str(stdlib), "ignore": list(IGNORE)}


def workspace(copies: int, cache: Path, stdlib: Path) -> Path:
    """`cache/stdlib-x<copies>`, built from the recipe unless its stamp says it already is."""
    root = cache / f"stdlib-x{copies}"
    stamp_file = cache / f"stdlib-x{copies}.json"  # outside the workspace: not indexed
    stamp = recipe_stamp(copies, stdlib)
    if root.is_dir() and _read_json(stamp_file) == stamp:
        return root
    print(f"building {root} ({copies} copies of {stdlib}) ...", file=sys.stderr, flush=True)
    partial = root.with_name(root.name + ".partial")
    for stale in (partial, root):
        shutil.rmtree(stale, ignore_errors=True)
    partial.mkdir(parents=True)
    for i in range(copies):
        shutil.copytree(
            stdlib, partial / f"copy{i}", symlinks=True, ignore=shutil.ignore_patterns(*IGNORE)
        )
    subprocess.run(["git", "init", "-q", str(partial)], check=True)
    partial.rename(root)
    stamp_file.write_text(json.dumps(stamp))
    return root


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tree_size(root: Path) -> tuple[int, int]:
    """Files and bytes under `root`, .git left out."""
    files = size = 0
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in names:
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                files += 1
                size += os.path.getsize(path)
    return files, size


def private_cache(parent: Path) -> Path:
    """A fresh XDG_CACHE_HOME holding only the tokenizer (so counts are the usual ones)."""
    home = Path(tempfile.mkdtemp(prefix="xdg-", dir=parent))
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    tokenizer = Path(base) / "kimi-lsp" / "tokenizer"
    if tokenizer.is_dir():
        shutil.copytree(tokenizer, home / "kimi-lsp" / "tokenizer")
    return home


def cache_env(home: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(home), "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"}


# -- /proc ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcStat:
    """One process's state letter and CPU seconds (user + system, all its threads)."""

    state: str
    cpu_s: float


def parse_stat(line: str, ticks: int) -> ProcStat:
    """A /proc/<pid>/stat line; the command name may hold spaces and parentheses."""
    fields = line.rsplit(")", 1)[1].split()
    return ProcStat(fields[0], (int(fields[11]) + int(fields[12])) / ticks)


def proc_stat(pid: int) -> ProcStat:
    ticks = os.sysconf("SC_CLK_TCK")
    with open(f"/proc/{pid}/stat") as fh:
        return parse_stat(fh.read(), ticks)


def threads_running(pid: int) -> bool:
    """Whether any thread of `pid` is runnable (it may be waiting for a core, not done)."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                if parse_stat(fh.read(), 100).state == "R":
                    return True
        except OSError:
            continue
    return False


def settled(samples: Sequence[tuple[float, float]], window: float, tolerance: float) -> bool:
    """(time, cpu) samples: the CPU rose by at most `tolerance` over the last `window` seconds."""
    if not samples or samples[-1][0] - samples[0][0] < window:
        return False
    now, cpu = samples[-1]
    before = [c for t, c in samples if t <= now - window]
    return bool(before) and cpu - before[-1] <= tolerance


def growth(values: dict[int, float]) -> dict[int, float]:
    """Each size's value over the 1x value (linear growth: the size itself)."""
    base = values.get(1)
    if not base:
        return {}
    return {size: value / base for size, value in sorted(values.items())}


# -- one server -------------------------------------------------------------------------------


def initialize_params(root: Path) -> dict[str, Any]:
    uri = root.as_uri()
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "bench/scale.py"},
        "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": root.name}],
        "capabilities": {},
    }


def context_params(root: Path) -> dict[str, Any]:
    path, line = TARGET
    return {
        "textDocument": {"uri": (root / path).as_uri()},
        "position": {"line": line - 1, "character": 0},
        "purpose": "edit",
    }


def index_ready(status: Any) -> bool | None:
    """None when kimi/status has no `index` (then CPU settling decides)."""
    index = status.get("index") if isinstance(status, dict) else None
    if not isinstance(index, dict):
        return None
    return index.get("state") == "ready" and index.get("deep", True) is not False


def run_server(root: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Start a server on `root`, ask for context once, wait for the deep index; measure."""
    client = LspClient(SERVER, cwd=str(root), env=env, stderr_path=str(log))
    try:
        started = time.perf_counter()
        client.start()
        init = client.request("initialize", initialize_params(root), timeout=TIMEOUT_S)
        if init.error is not None:
            raise RuntimeError(f"initialize failed: {init.error}")
        initialized_s = init.received_at - started
        startup_cpu = proc_stat(client.pid).cpu_s
        client.notify("initialized", {})
        # Not waited for: a warm index may be ready before the answer is.
        pending, data = client.make_request("kimi/context", context_params(root))
        client.send(data)
        index, how = _wait_ready(client, started)
        ready_s = time.perf_counter() - started
        cpu = proc_stat(client.pid).cpu_s
        memory = process_tree_memory(client.pid)
        answer = pending.result(timeout=TIMEOUT_S)
        if answer.error is not None:
            raise RuntimeError(f"kimi/context failed: {answer.error}")
        context_s = answer.received_at - started
        client.shutdown()
    except Exception as exc:
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        raise RuntimeError(f"{exc} (server log: {' / '.join(tail) or 'empty'})") from exc
    finally:
        client.close()
    return {
        "ready_s": ready_s,
        "ready_after_initialize_s": ready_s - initialized_s,
        "context_answered_s": context_s,
        "startup_cpu_s": startup_cpu,
        "cpu_s": cpu,
        "index_cpu_s": cpu - startup_cpu,
        "rss_mb": memory["rss_mb"],
        "hwm_mb": memory["hwm_mb"],
        "index": index,
        "ready_by": how,
        "tokens": (answer.result or {}).get("totalTokens"),
    }


def _wait_ready(client: LspClient, started: float) -> tuple[dict[str, Any] | None, str]:
    samples: list[tuple[float, float]] = []
    while time.perf_counter() - started < TIMEOUT_S:
        status = client.request("kimi/status", None, timeout=TIMEOUT_S).result
        ready = index_ready(status)
        if ready:
            return status["index"], "kimi/status"
        if ready is None:
            samples.append((time.perf_counter(), proc_stat(client.pid).cpu_s))
            if settled(samples, SETTLE_S, 0.02) and not threads_running(client.pid):
                return None, "cpu settled"
        time.sleep(POLL_S)
    raise RuntimeError(f"the index was not ready after {TIMEOUT_S:.0f} s")


# -- the command line -------------------------------------------------------------------------


def run_cli(root: Path, env: dict[str, str]) -> dict[str, Any]:
    """`kimi-lsp context` once: wall time, CPU and max RSS of that process alone."""
    path, line = TARGET
    command = [*SERVER, "context", f"{path}:{line}", "--purpose", "edit", "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"kimi-lsp context exited {proc.returncode}: {' / '.join(tail)}")
        manifest = json.loads(out.read() or b"{}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,  # KB on Linux
        "tokens": manifest.get("totalTokens"),
    }


# -- one size, all sizes ----------------------------------------------------------------------


def measure_size(copies: int, cache: Path, stdlib: Path, scratch: Path) -> dict[str, Any]:
    root = workspace(copies, cache, stdlib)
    files, size = tree_size(root)
    row: dict[str, Any] = {"copies": copies, "files": files, "mb": size / 1e6}
    print(f"  {copies}x: {files} files, {size / 1e6:.0f} MB", file=sys.stderr, flush=True)
    cli_home = private_cache(scratch)
    row["cli_cold"] = run_cli(root, cache_env(cli_home))
    row["cli_warm"] = run_cli(root, cache_env(cli_home))
    server_home = private_cache(scratch)
    env = cache_env(server_home)
    row["server"] = run_server(root, env, scratch / f"server-{copies}x.log")
    row["index_cache_mb"] = tree_size(server_home / "kimi-lsp")[1] / 1e6
    row["restart"] = run_server(root, env, scratch / f"restart-{copies}x.log")
    for home in (cli_home, server_home):
        shutil.rmtree(home, ignore_errors=True)
    return row


def summarize(rows: dict[int, dict[str, Any]], quick: bool) -> dict[str, Any]:
    """Growth factors and the checks: the targets at 10x, linear growth at every size."""
    grow = {
        "index_cpu_s": growth({n: r["server"]["index_cpu_s"] for n, r in rows.items()}),
        "cli_cold_cpu_s": growth({n: r["cli_cold"]["cpu_s"] for n, r in rows.items()}),
        "cli_warm_cpu_s": growth({n: r["cli_warm"]["cpu_s"] for n, r in rows.items()}),
        "server_rss_mb": growth({n: r["server"]["rss_mb"] for n, r in rows.items()}),
    }
    largest = max(rows)
    top = rows[largest]
    values = {
        "index_cpu_s": top["server"]["index_cpu_s"],
        "server_rss_mb": top["server"]["rss_mb"],
        "cli_cold_wall_s": top["cli_cold"]["wall_s"],
        "cli_warm_wall_s": top["cli_warm"]["wall_s"],
        "restart_ready_s": top["restart"]["ready_s"],
    }
    checks = []
    if largest == 10:
        for metric, bound in TARGETS.items():
            value = values[metric]
            checks.append({"metric": metric, "size": largest, "value": value,
                           "target": f"<= {bound:g}", "pass": value <= bound})  # fmt: skip
    for size, factor in grow["index_cpu_s"].items():
        if size > 1:
            checks.append({"metric": f"index_cpu_growth_{size}x", "size": size, "value": factor,
                           "target": f"<= {size:g}", "pass": factor <= size})  # fmt: skip
    return {"largest": largest, "values": values, "growth": grow, "checks": checks,
            "quick": quick}  # fmt: skip


def report(sizes: Sequence[int], quick: bool) -> dict[str, Any]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    cache = bench_cache()
    cache.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="kimi-scale-") as scratch:
        for copies in sizes:
            rows[copies] = measure_size(copies, cache, stdlib, Path(scratch))
    summary = summarize(rows, quick)
    return {
        "machine": machine_info("kimi-lsp", "pygls"),
        "target": f"{TARGET[0]}:{TARGET[1]}",
        "sizes": {str(n): r for n, r in rows.items()},
        **summary,
        "pass": all(c["pass"] for c in summary["checks"]),
    }


def print_table(rep: dict[str, Any]) -> None:
    head = ("size", "files", "MB", "index CPU", "ready", "RSS", "ctx cold", "ctx warm",
            "ctx RSS", "restart", "cache MB")  # fmt: skip
    print("  ".join(f"{h:>9}" for h in head))  # MB: on disk, binaries included
    for n, r in rep["sizes"].items():
        s, cold, warm, again = r["server"], r["cli_cold"], r["cli_warm"], r["restart"]
        cells = (
            f"{n}x", str(r["files"]), f"{r['mb']:.0f}", f"{s['index_cpu_s']:.2f} s",
            f"{s['ready_s']:.2f} s", f"{s['rss_mb']:.0f} MB",
            f"{cold['wall_s']:.2f} s", f"{warm['wall_s']:.2f} s", f"{cold['max_rss_mb']:.0f} MB",
            f"{again['ready_s']:.2f} s", f"{r['index_cache_mb']:.1f}",
        )  # fmt: skip
        print("  ".join(f"{c:>9}" for c in cells))
    print("\nCPU seconds (server: after initialize; ctx: the whole process):")
    for n, r in rep["sizes"].items():
        s, again = r["server"], r["restart"]
        index = s["index"] or {}
        print(f"  {n}x: server startup {s['startup_cpu_s']:.2f}, index {s['index_cpu_s']:.2f} "
              f"(ready by {s['ready_by']}, {index.get('files', '-')} files indexed, kimi/context "
              f"answered at {s['context_answered_s']:.2f} s); restart "
              f"index {again['index_cpu_s']:.2f} (fromCache "
              f"{(again['index'] or {}).get('fromCache', '-')}, ready "
              f"{again['ready_after_initialize_s']:.2f} s after initialize); ctx cold "
              f"{r['cli_cold']['cpu_s']:.2f}, warm {r['cli_warm']['cpu_s']:.2f}")  # fmt: skip
    print("\nGrowth from 1x (linear = the size):")
    for metric, factors in rep["growth"].items():
        print(f"  {metric}: " + ", ".join(f"{n}x {f:.2f}" for n, f in factors.items()))
    print()
    for c in rep["checks"]:
        print(f"  {c['metric']}: {c['value']:.2f} (target {c['target']}) "
              f"{'PASS' if c['pass'] else 'FAIL'}")  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1x and 3x only")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--sizes", type=int, nargs="+", help="copies of the stdlib per run")
    args = parser.parse_args(argv)
    sizes = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    rep = report(sorted(set(sizes)), args.quick)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print_table(rep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
