"""Replay fidelity for bench/predict.py: the real server, a fake answering the truth, exact text."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _predict_corpus import GhostCase, RenameCase
from _predict_fake import Answerer
from _predict_session import PredictServer, apply_edits, items_of, offset_of, position

SHOWN = 120  # characters of expected/got shown per failure


@dataclass
class Outcome:
    """One replayed case."""

    corpus: str
    file: str
    line: int
    kind: str
    ok: bool
    why: str = ""  # what went wrong, for the failure list
    expected: str = ""
    got: str = ""
    calls: int = 0  # model calls the fake answered
    format_ok: bool = True  # the request followed the lead's format (prefix / regions found)


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"


def replay_ghost(server: PredictServer, fake: Answerer, case: GhostCase, index: int) -> Outcome:
    """Open F[:c] + F[e:], ask at c, apply the answer: it must give F back."""
    uri = server.uri(f"ghost/{index:04d}/{Path(case.name).name}")
    doc = case.document
    server.open(uri, doc)
    fake.set_ghost(case)
    try:
        _, response = server.inline(uri, doc, case.cut)
        items = items_of(response)
    except Exception as exc:  # a failure is a result here, not the end of the run
        items, error = [], f"{type(exc).__name__}: {exc}"
    else:
        error = ""
    finally:
        fake.set_ghost(None)
        server.close_doc(uri)
    seen = fake.take()
    out = Outcome(case.corpus, case.name, case.line, case.kind, False, expected=case.expected)
    out.calls = len(seen)
    out.format_ok = all(s.prefix_ok for s in seen)
    if error:
        out.why = error
        return out
    if not items:
        out.why = "no item" if seen else "no item, no model call"
        return out
    item = items[0]
    cursor = position(doc, case.cut)
    rng = item.get("range") or {"start": cursor, "end": cursor}
    result = apply_edits(doc, [(rng, item.get("insertText", ""))])
    start, end = offset_of(doc, rng["start"]), offset_of(doc, rng["end"])
    out.got = result[start : len(result) - (len(doc) - end)]
    # doc = F[:c] + F[e:] and start <= c <= end: the range stands for this part of F.
    out.expected = case.text[start : len(case.text) - (len(doc) - end)]
    out.ok = result == case.text
    if not out.ok:
        out.why = "text differs" if out.format_ok else "text differs; prefix not the text"
    return out


def _user_edits(server: PredictServer, uri: str, case: RenameCase) -> tuple[str, int, int]:
    """The user's rename of the first occurrence as didChange(s); (text, version, cursor)."""
    text, version = case.text, 1
    start, width = case.offsets[0], len(case.old)
    if not case.typed:
        version += 1
        server.change(uri, version, text, start, start + width, case.new)
        return case.after_user_edit, version, start + len(case.new)
    version += 1
    server.change(uri, version, text, start, start + width, "")
    text = text[:start] + text[start + width :]
    for i, char in enumerate(case.new):
        version += 1
        server.change(uri, version, text, start + i, start + i, char)
        text = text[: start + i] + char + text[start + i :]
    return text, version, start + len(case.new)


def replay_rename(server: PredictServer, fake: Answerer, case: RenameCase, index: int) -> Outcome:
    """Rename the first occurrence, ask kimi/nextEdit, apply its edits: all must be renamed."""
    uri = server.uri(f"rename/{index:04d}/{Path(case.name).name}")
    server.open(uri, case.text)
    text, version, cursor = _user_edits(server, uri, case)
    assert text == case.after_user_edit
    fake.set_rename(case)
    kind = "typed" if case.typed else "replaced"
    out = Outcome(case.corpus, case.name, case.first_line, kind, False)
    try:
        response = server.next_edit(uri, version, text, cursor)
        if response.error is not None:
            raise RuntimeError(f"kimi/nextEdit failed: {response.error}")
        edits = list((response.result or {}).get("edits") or [])
    except Exception as exc:
        out.why = f"{type(exc).__name__}: {exc}"
        edits = []
    finally:
        fake.set_rename(None)
        server.close_doc(uri)
    seen = fake.take()
    out.calls = len(seen)
    out.format_ok = all(s.regions and s.regions == s.regions_found for s in seen)
    if out.why:
        return out
    stale = [e for e in edits if (e.get("textDocument") or {}).get("version") != version]
    result = apply_edits(text, [(e["range"], e["text"]) for e in edits])
    out.ok = result == case.truth and not stale
    if not out.ok:
        out.why, out.expected, out.got = _rename_diff(case, result, edits, seen, stale)
    return out


def _rename_diff(
    case: RenameCase, result: str, edits: list[Any], seen: list[Any], stale: list[Any]
) -> tuple[str, str, str]:
    if stale:
        return "an edit names another version", "", ""
    if not seen:
        return "no model call", "", ""
    if not edits:
        return f"no edit ({seen[-1].regions} regions, {seen[-1].regions_found} found)", "", ""
    want, got = case.truth.split("\n"), result.split("\n")
    for line, (a, b) in enumerate(zip(want, got, strict=False)):
        if a != b:
            return f"line {line + 1} differs ({len(edits)} edits)", _clip(a), _clip(b)
    return f"{len(got) - len(want):+d} lines ({len(edits)} edits)", "", ""


def summary(outcomes: list[Outcome], shown: int = 5) -> dict[str, Any]:
    """Pass rate overall, per corpus and per kind, and the first few failures."""

    def rate(selected: list[Outcome]) -> float:
        return sum(o.ok for o in selected) / len(selected) if selected else float("nan")

    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.corpus, []).append(o)
        groups.setdefault(o.kind, []).append(o)
    failures = [o for o in outcomes if not o.ok]
    reasons: dict[str, int] = {}
    for o in failures:
        key = o.why.split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    return {
        "cases": len(outcomes),
        "passed": sum(o.ok for o in outcomes),
        "rate": rate(outcomes),
        "by": {name: rate(group) for name, group in sorted(groups.items())},
        "calls": sum(o.calls for o in outcomes),
        "format_ok": sum(o.format_ok for o in outcomes),
        "reasons": reasons,
        "failures": [asdict(o) for o in failures[:shown]],
    }
