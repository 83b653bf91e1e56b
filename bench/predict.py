"""Edit prediction benchmark: server overhead, typed-through, prompt, supersede, replay fidelity.

Drives the real kimi-lsp over stdio against the fake Kimi API, which runs in this process (a
thread): the client stamps a request with `time.monotonic()` before queueing it and the fake
stamps its arrival with the same clock (CLOCK_MONOTONIC), so there is no skew between processes.
Settings: `prediction: {debounceMs: 0, maxCostPerHour: 1e6}` (no debounce, no spend cap).

1. Ghost-text overhead on a 20,000-line file (standard-library code): client request queued ->
   the fake parsed the API request, at 200 line ends picked at random; less the median round
   trip of a bare pygls server (bench/bare_pygls_server.py) answering a trivial request,
   measured alternately in the same run. The server's CPU per request (/proc ticks summed over
   the requests) is a reference less sensitive to a loaded machine.
2. Typed-through answers: a suggestion is made, then its characters are typed one by one; each
   keystroke is followed by a no-op round trip (so the timed request finds it applied), then
   the timed request, less the bare server's median round trip for a trivial request; the
   fake must see no API call and each answer must be the suggestion's rest.
3. Prompt: tokens of every recorded request's messages with the project's TokenCounter (Kimi's
   BPE when cached locally, else its offline fallback); the prefix shared by consecutive
   requests while a line is typed char by char, in characters of the serialized messages (the
   continued prefix included).
4. Superseded: a request the fake holds (a gate), then a newer one for the same document after
   a keystroke: the older must be answered `{items: []}` and its upstream connection closed
   (the fake records the client's disconnect).
5. Replay fidelity (bench/_predict_replay.py): 300 ghost-text cuts and 100 renames from the
   standard library and pygls (bench/_predict_corpus.py, seeded); the fake answers the truth
   (the continuation, or each region renamed) streamed in a few chunks; the server's answer
   applied to the document must give back the original (renamed) text exactly.

Usage: python bench/predict.py [--json] [--quick] [--check]
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fake_kimi import FakeKimi, Reply

from _machine import machine_info
from _predict_corpus import corpus, corpus_roots, sources
from _predict_fake import Answerer, last_user_text
from _predict_replay import replay_ghost, replay_rename, summary
from _predict_report import checks, print_text
from _predict_session import BareServer, PredictServer, items_of

BIG_LINES = 20_000
SUGGESTION = "result = compute(alpha, beta)"
TYPED_LINE = "        total = compute(alpha, beta) + offset"
WAIT_S = 10.0  # backstop of the waits on the fake (each ends at the event)

FULL = {"overhead": 200, "typed": 200, "prefix_chars": len(TYPED_LINE), "supersede": 20,
        "ghost": 300, "renames": 100}  # fmt: skip
QUICK = {"overhead": 30, "typed": 30, "prefix_chars": 12, "supersede": 4, "ghost": 30,
         "renames": 12}  # fmt: skip


def pct(values: Sequence[float], q: float) -> float:
    """Percentile `q` (0..100), linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    data = sorted(values)
    pos = (len(data) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def spread(values_s: Sequence[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {
        "p50_ms": pct(ms, 50),
        "p90_ms": pct(ms, 90),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms, default=float("nan")),
    }


def big_file() -> str:
    """20,000 lines of real code: standard-library files, in name order, back to back."""
    lines: list[str] = []
    for src in sources("stdlib", corpus_roots()["stdlib"]):
        lines += src.text.split("\n")
        if len(lines) >= BIG_LINES:
            break
    return "\n".join(lines[:BIG_LINES]) + "\n"


class Bench:
    """One fake, one kimi-lsp, one bare pygls server, for the whole run."""

    def __init__(self, home: Path) -> None:
        self.answerer = Answerer()
        self.fake = FakeKimi().start_in_thread()
        self.fake.set_default(self.answerer)
        self.bare = BareServer(home / "bare")
        self.server = PredictServer(self.fake.base_url, home)

    def close(self) -> None:
        for closer in (self.server.close, self.bare.close, self.fake.stop):
            try:
                closer()
            except Exception as exc:  # closing the rest matters more than this error
                print(f"bench/predict.py: close: {exc}", file=sys.stderr)

    def chats(self) -> int:
        return len(self.fake.chat_requests)

    def ask(self, uri: str, text: str, offset: int) -> tuple[float, Any, list[Any]]:
        """One ghost-text request: (sent_at, response, the API requests it caused)."""
        before = self.chats()
        sent_at, response = self.server.inline(uri, text, offset)
        records = self.fake.chat_requests[before:]
        return sent_at, response, records


def line_ends(text: str, count: int, rng: random.Random, ordered: bool = False) -> list[int]:
    """Offsets of the ends of `count` random non-blank lines (in file order if `ordered`)."""
    ends = [i for i, ch in enumerate(text) if ch == "\n" and i > 0 and text[i - 1] != "\n"]
    picked = rng.sample(ends, count)
    return sorted(picked) if ordered else picked


def overhead(bench: Bench, text: str, uri: str, n: int) -> dict[str, Any]:
    """Request queued -> the fake parsed the API request, against the bare round trip."""
    rng = random.Random(18)
    bench.answerer.set_fixed("pass")
    for offset in line_ends(text, 10, rng):  # warm-up: imports, tokenizer, first index
        bench.ask(uri, text, offset)
        bench.bare.round_trip()
    ours: list[float] = []
    base: list[float] = []
    kimi_noop: list[float] = []
    no_call = 0
    cpu = {"kimi": 0.0, "bare": 0.0}
    for offset in line_ends(text, n, rng):
        started = bench.server.cpu_s()
        sent_at, response, records = bench.ask(uri, text, offset)
        cpu["kimi"] += bench.server.cpu_s() - started
        items_of(response)
        if records:
            ours.append(records[0].arrived_at - sent_at)
        else:
            no_call += 1
        started = bench.bare.cpu_s()
        base.append(bench.bare.round_trip())
        cpu["bare"] += bench.bare.cpu_s() - started
        kimi_noop.append(bench.server.round_trip())
    base_p50 = pct(base, 50)
    return {
        "requests": n,
        "no_api_call": no_call,
        "to_api": spread(ours),
        "bare_round_trip": spread(base),
        "kimi_noop_round_trip": spread(kimi_noop),
        "overhead": spread([v - base_p50 for v in ours]),
        # CPU of the whole request (answer included), from /proc's clock ticks summed over
        # the requests: less noisy than wall time on a shared machine.
        "cpu_ms_per_request": {k: v * 1000 / max(n, 1) for k, v in cpu.items()},
    }


@dataclass
class Doc:
    """An open document as the client knows it, and the servers that have it open."""

    uri: str
    text: str
    servers: list[Any]
    version: int = 1

    def insert(self, at: int, new: str, only: Any = None) -> None:
        """Type `new` at `at` in every server (or `only` that one, which must be the last)."""
        self.version += 1
        for server in [only] if only is not None else self.servers:
            server.change(self.uri, self.version, self.text, at, at, new)
        self.text = self.text[:at] + new + self.text[at:]


def typed_through(bench: Bench, text: str, uri: str, n: int) -> dict[str, Any]:
    """Type a suggestion's first characters: each next request must come from the suggestion.

    Each keystroke is followed by a no-op round trip (so the timed request finds it applied),
    then the timed request; after it, the bare pygls server's round trip for a trivial request
    (the baseline: the pipes and the framework, no document work)."""
    rng = random.Random(19)
    kimi, bare = bench.server, bench.bare
    doc = Doc(uri, text, [kimi])
    kimi.open(uri, text)
    bench.answerer.set_fixed(SUGGESTION)
    times: list[float] = []
    base: list[float] = []
    keyed: list[float] = []
    cpu = {"kimi": 0.0, "bare": 0.0}
    calls = wrong = suggestions = 0
    per = 10
    for end in line_ends(text, (n + per - 1) // per, rng, ordered=True):
        at = end + (len(doc.text) - len(text))  # the earlier insertions are all before it
        doc.insert(at, "\n" + " " * 8)
        cursor = at + 9
        _, response, _ = bench.ask(uri, doc.text, cursor)
        items = items_of(response)
        if not items or items[0].get("insertText") != SUGGESTION:
            wrong += 1
            continue
        suggestions += 1
        for k in range(1, min(per, n - len(times)) + 1):
            # The keystroke, then a no-op round trip: the request timed next finds it applied.
            doc.insert(cursor + k - 1, SUGGESTION[k - 1])
            keyed.append(kimi.round_trip())
            started = kimi.cpu_s()
            sent_at, response, records = bench.ask(uri, doc.text, cursor + k)
            cpu["kimi"] += kimi.cpu_s() - started
            times.append(response.received_at - sent_at)
            calls += len(records)
            got = items_of(response)
            wrong += not got or got[0].get("insertText") != SUGGESTION[k:]
            started = bare.cpu_s()
            base.append(bare.round_trip())
            cpu["bare"] += bare.cpu_s() - started
    kimi.close_doc(uri)
    base_p50 = pct(base, 50)
    return {
        "requests": len(times),
        "suggestions": suggestions,
        "api_calls": calls,
        "wrong_answers": wrong,
        "round_trip": spread(times),
        "bare_round_trip": spread(base),
        "kimi_keystroke_noop_round_trip": spread(keyed),
        "server_side": spread([t - base_p50 for t in times]),
        # What kimi-lsp adds at the tail: its p99 round trip less the bare server's p99 in the
        # same run (the pipes' and the scheduler's own jitter, 3-4 ms at p99 even for a no-op,
        # is in both; subtracting the bare p50 leaves it in and measures the machine).
        "tail_added_ms": pct(times, 99) * 1000 - pct(base, 99) * 1000,
        "cpu_ms_per_request": {k: v * 1000 / max(len(times), 1) for k, v in cpu.items()},
    }


def _shared(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def prefix_sharing(bench: Bench, text: str, uri: str, chars: int) -> dict[str, Any]:
    """Type one line char by char in the middle of the file; compare consecutive prompts."""
    state = Doc(uri, text, [bench.server])
    bench.server.open(uri, text)
    bench.answerer.set_fixed("")  # nothing to type through: every keystroke asks the model
    at = line_ends(text, 1, random.Random(20))[0]
    state.insert(at, "\n")
    prompts: list[str] = []
    for k in range(chars + 1):
        if k:
            state.insert(at + k, TYPED_LINE[k - 1])
        _, _, records = bench.ask(uri, state.text, at + 1 + k)
        prompts += [json.dumps(r.body.get("messages"), ensure_ascii=False) for r in records]
    bench.server.close_doc(uri)
    ratios = [_shared(a, b) / len(b) for a, b in itertools.pairwise(prompts)]
    return {
        "keystrokes": chars + 1,
        "requests": len(prompts),
        "unit": "characters of the serialized messages (the continued prefix included)",
        "shared_min": min(ratios, default=float("nan")),
        "shared_median": statistics.median(ratios) if ratios else float("nan"),
    }


def prompt_tokens(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Tokens of each recorded request's messages, with the project's counter, per kind."""
    import os

    from kimi_lsp.tokens.counter import TokenCounter

    counter = TokenCounter(env={**os.environ, "KIMI_LSP_TOKENIZER_DOWNLOAD": "0"})
    counter.load()
    kinds: dict[str, list[int]] = {"ghost": [], "next_edit": []}
    for body in bodies:
        kind = "next_edit" if "<|region 1|>" in last_user_text(body) else "ghost"
        kinds[kind].append(counter.count_messages(body.get("messages") or []))
    counts = kinds["ghost"] + kinds["next_edit"]
    return {
        "requests": len(counts),
        "tokenizer": counter.info.name,
        "median": statistics.median(counts) if counts else float("nan"),
        "max": max(counts, default=0),
        "by_kind": {
            kind: {"requests": len(c), "median": statistics.median(c) if c else float("nan"),
                   "max": max(c, default=0)}
            for kind, c in kinds.items()
        },
    }  # fmt: skip


def _more_requests_than(bench: Bench, count: int) -> Callable[[], bool]:
    return lambda: bench.chats() > count


def _disconnected(record: Any) -> Callable[[], bool]:
    return lambda: bool(record.outcome == "client_disconnected")


def supersede(bench: Bench, text: str, uri: str, n: int) -> dict[str, Any]:
    """A held request, then a newer one: the older answered empty, its stream closed upstream."""
    state = Doc(uri, text, [bench.server])
    bench.server.open(uri, text)
    rng = random.Random(21)
    closed = empty = answered = 0
    for i, end in enumerate(line_ends(text, n, rng, ordered=True)):
        at = end + len(state.text) - len(text)  # the earlier insertions are all before it
        gate = f"held-{i}"
        before = bench.chats()
        bench.fake.enqueue(Reply(content="older()", gate=gate), Reply(content="newer()"))
        older, data = bench.server.client.make_request(
            "textDocument/inlineCompletion", bench.server.inline_params(uri, state.text, at)
        )
        bench.server.client.send(data)
        try:
            bench.fake.wait_for_blocking(_more_requests_than(bench, before), WAIT_S)
        except TimeoutError:  # the server did not call the model: nothing to supersede
            older.result(timeout=WAIT_S)
            break
        state.insert(at, "x")
        _, newer = bench.server.inline(uri, state.text, at + 1)
        first = bench.fake.chat_requests[before]
        try:
            bench.fake.wait_for_blocking(_disconnected(first), WAIT_S)
            closed += 1
        except TimeoutError:
            pass
        finally:
            bench.fake.open_gate(gate)
        old_response = older.result(timeout=WAIT_S)
        empty += old_response.error is None and items_of(old_response) == []
        answered += bool(items_of(newer))
    bench.fake.clear_queue()
    bench.server.close_doc(uri)
    return {
        "cases": n,
        "upstream_closed": closed,
        "older_empty": empty,
        "newer_answered": answered,
    }


def replay(bench: Bench, ghost: int, renames: int) -> dict[str, Any]:
    begin = time.monotonic()
    cuts, edits = corpus(ghost, renames)
    made = time.monotonic()
    bench.answerer.take()  # what the earlier parts saw
    g = [replay_ghost(bench.server, bench.answerer, c, i) for i, c in enumerate(cuts)]
    ghosted = time.monotonic()
    r = [replay_rename(bench.server, bench.answerer, c, i) for i, c in enumerate(edits)]
    spent = {
        "corpus": made - begin,
        "ghost": ghosted - made,
        "next_edit": time.monotonic() - ghosted,
    }
    return {"ghost": summary(g), "next_edit": summary(r), "phases_s": spent}


def run(plan: dict[str, int]) -> dict[str, Any]:
    started = time.monotonic()
    text = big_file()
    report: dict[str, Any] = {"lines": BIG_LINES, "phases_s": {}}

    def timed(name: str, part: Callable[[], dict[str, Any]]) -> None:
        begin = time.monotonic()
        report[name] = part()
        report["phases_s"][name] = round(time.monotonic() - begin, 2)

    with tempfile.TemporaryDirectory(prefix="kimi-bench-predict-") as tmp:
        bench = Bench(Path(tmp))
        try:
            uri = bench.server.uri
            bench.server.open(uri("big_module.py"), text)
            timed("overhead", lambda: overhead(bench, text, uri("big_module.py"), plan["overhead"]))
            timed("typed_through", lambda: typed_through(bench, text, uri("t.py"), plan["typed"]))
            timed("prefix", lambda: prefix_sharing(bench, text, uri("p.py"), plan["prefix_chars"]))
            timed("supersede", lambda: supersede(bench, text, uri("s.py"), plan["supersede"]))
            timed("replay", lambda: replay(bench, plan["ghost"], plan["renames"]))
            bodies = [r.body for r in bench.fake.chat_requests]
            timed("prompt", lambda: prompt_tokens(bodies))
            # Where the run's time goes on a quiet machine: these two take turns.
            report["cpu_s"] = {"bench": time.process_time(), "server": bench.server.cpu_s()}
        finally:
            bench.close()
    report["checks"] = checks(report)
    report["elapsed_s"] = time.monotonic() - started
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    report = run(QUICK if args.quick else FULL)
    report["machine"] = machine_info("kimi-lsp", "pygls")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)
    return 1 if args.check and not all(c["pass"] for c in report["checks"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
