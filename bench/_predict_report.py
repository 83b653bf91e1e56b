"""bench/predict.py's targets (PASS/FAIL per metric) and its text report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    o, t, p = report["overhead"], report["typed_through"], report["prefix"]
    s, g, r = report["supersede"], report["replay"]["ghost"], report["replay"]["next_edit"]
    rows: list[tuple[str, float, str, Callable[[float], bool]]] = [
        ("overhead_p50_ms", o["overhead"]["p50_ms"], "≤ 5 ms", lambda v: v <= 5),
        ("overhead_p99_ms", o["overhead"]["p99_ms"], "≤ 20 ms", lambda v: v <= 20),
        ("typed_p99_ms", t["tail_added_ms"], "≤ 1 ms", lambda v: v <= 1),
        ("typed_api_calls", t["api_calls"], "0", lambda v: v == 0 and t["requests"] > 0),
        ("prompt_max_tokens", report["prompt"]["max"], "≤ 4,096", lambda v: 0 < v <= 4096),
        ("prefix_shared_min", p["shared_min"], "≥ 90 %", lambda v: v >= 0.9),
        ("supersede_closed", s["upstream_closed"] / max(s["cases"], 1), "100 %",
         lambda v: v == 1 and s["older_empty"] == s["cases"]),
        ("replay_ghost", g["rate"], "≥ 99 %", lambda v: v >= 0.99),
        ("replay_next_edit", r["rate"], "≥ 99 %", lambda v: v >= 0.99),
    ]  # fmt: skip
    return [{"metric": m, "value": v, "target": tg, "pass": bool(ok(v))} for m, v, tg, ok in rows]


def print_text(report: dict[str, Any]) -> None:
    o, t = report["overhead"], report["typed_through"]
    print(f"ghost text on a {report['lines']:,}-line file, {o['requests']} requests, debounce 0:")
    for label, key in (
        ("request -> API request", "to_api"),
        ("bare pygls round trip", "bare_round_trip"),
        ("overhead (less bare p50)", "overhead"),
    ):
        s = o[key]
        print(
            f"  {label:28} p50 {s['p50_ms']:7.2f} ms   p90 {s['p90_ms']:7.2f} ms   "
            f"p99 {s['p99_ms']:7.2f} ms"
        )
    cpu = o["cpu_ms_per_request"]
    print(
        f"  CPU per request: kimi-lsp {cpu['kimi']:.2f} ms (whole request), bare no-op "
        f"{cpu['bare']:.2f} ms"
    )
    print(
        f"typed through, {t['requests']} requests ({t['api_calls']} API calls, "
        f"{t['wrong_answers']} wrong answers):"
    )
    for label, key in (
        ("request after a keystroke", "round_trip"),
        ("bare pygls round trip", "bare_round_trip"),
        ("server side (less bare p50)", "server_side"),
        ("(kimi: keystroke + no-op)", "kimi_keystroke_noop_round_trip"),
    ):
        s = t[key]
        print(
            f"  {label:28} p50 {s['p50_ms']:7.3f} ms   p90 {s['p90_ms']:7.3f} ms   "
            f"p99 {s['p99_ms']:7.3f} ms"
        )
    print(f"  p99 added (kimi p99 less bare p99) {t['tail_added_ms']:+.3f} ms")
    cpu = t["cpu_ms_per_request"]
    print(f"  CPU per request: kimi-lsp {cpu['kimi']:.2f} ms, bare no-op {cpu['bare']:.2f} ms")
    p, pr, s = report["prefix"], report["prompt"], report["supersede"]
    kinds = "; ".join(
        f"{kind} median {k['median']:.0f}, max {k['max']} ({k['requests']} requests)"
        for kind, k in pr.get("by_kind", {}).items()
    )
    print(f"prompt tokens ({pr['tokenizer']}): {kinds}")
    print(
        f"shared prefix min {p['shared_min']:.1%}, median {p['shared_median']:.1%} "
        f"({p['requests']} requests, {p['unit']})"
    )
    print(
        f"superseded: {s['upstream_closed']}/{s['cases']} closed upstream, {s['older_empty']} "
        f"older answered empty, {s['newer_answered']} newer answered"
    )
    for name in ("ghost", "next_edit"):
        r = report["replay"][name]
        by = ", ".join(f"{k} {v:.1%}" for k, v in r["by"].items())
        print(
            f"replay {name}: {r['passed']}/{r['cases']} = {r['rate']:.1%} ({by}); "
            f"{r['calls']} model calls; request format as agreed in {r['format_ok']}"
        )
        if r["reasons"]:
            print(f"  failures by cause: {r['reasons']}")
        for f in r["failures"]:
            print(f"  {f['corpus']}:{f['file']}:{f['line']} [{f['kind']}] {f['why']}")
            if f["expected"] or f["got"]:
                print(f"    expected {f['expected']!r}\n    got      {f['got']!r}")
    for c in report["checks"]:
        print(
            f"  {c['metric']:20} {c['value']!s:>24}  target {c['target']:10} "
            f"{'PASS' if c['pass'] else 'FAIL'}"
        )
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in report["replay"]["phases_s"].items())
    phases = ", ".join(
        f"{k} {v:.1f} s" + (f" ({parts})" if k == "replay" else "")
        for k, v in report["phases_s"].items()
    )
    cpu = report.get("cpu_s", {})
    print(
        f"run time {report['elapsed_s']:.1f} s ({phases}); CPU: this process (client, fake, "
        f"corpus) {cpu.get('bench', 0):.1f} s, the server {cpu.get('server', 0):.1f} s"
    )
