"""Why the counting threads each own an Encoding: tiktoken on the thread that used an Encoding
first vs on another thread, and two threads sharing one Encoding vs one Encoding each.

Usage: python bench/tiktoken_threads.py [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "server"))

REPEAT = 7


def sample_text() -> str:
    """~1 MB of real code: the stdlib's asyncio and email packages, read twice over."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted((lib / "asyncio").glob("*.py")) + sorted((lib / "email").glob("*.py"))
    return "".join(f.read_text(encoding="utf-8", errors="replace") for f in files) * 2


def median_ms(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def on_new_thread(fn: Callable[[], float]) -> float:
    out: list[float] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def measure() -> dict[str, Any]:
    os.environ.setdefault("KIMI_LSP_TOKENIZER_DOWNLOAD", "0")
    from kimi_lsp.tokens.counter import TokenCounter

    counter = TokenCounter(counting_threads=0)  # no counting threads: nothing owns its Encoding
    counter.load()
    base = counter._active.encoding
    text = sample_text()
    halves = [text[: len(text) // 2], text[len(text) // 2 :]]

    owned = copy.copy(base)
    first_ms = median_ms(lambda: owned.encode_ordinary(text))  # this thread used it first
    other_ms = on_new_thread(lambda: median_ms(lambda: owned.encode_ordinary(text)))

    shared = copy.copy(base)
    shared.encode_ordinary("x")  # owned by this thread: the pool's two threads share it
    with ThreadPoolExecutor(2) as pool:
        shared_ms = median_ms(lambda: list(pool.map(shared.encode_ordinary, halves)))

    own = [copy.copy(base), copy.copy(base)]
    local = threading.local()
    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(2) as pool:

        def adopt(i: int) -> None:
            barrier.wait()
            own[i].encode_ordinary("x")
            local.encoding = own[i]

        list(pool.map(adopt, range(2)))
        each_ms = median_ms(
            lambda: list(pool.map(lambda t: local.encoding.encode_ordinary(t), halves))
        )
    return {
        "chars": len(text),
        "first_thread_ms": first_ms,
        "other_thread_ms": other_ms,
        "two_threads_one_encoding_ms": shared_ms,
        "two_threads_own_encodings_ms": each_ms,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    r = measure()
    if args.json:
        print(json.dumps(r, indent=2))
        return 0
    print(f"encode_ordinary over {r['chars']:,} characters of Python (median of {REPEAT})")
    rows = [
        ("1 thread, the one that used the Encoding first", r["first_thread_ms"]),
        ("1 thread, another one", r["other_thread_ms"]),
        ("2 threads sharing one Encoding (halves)", r["two_threads_one_encoding_ms"]),
        ("2 threads, an Encoding each, used first there", r["two_threads_own_encodings_ms"]),
    ]
    for label, value in rows:
        print(f"  {label:<52} {value:7.1f} ms")
    print(f"  other thread / first thread: {r['other_thread_ms'] / r['first_thread_ms']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
