"""SQLite FTS5 against search.py's in-memory IdentifierIndex, for bench/parsers.py.

Three ways to index the same files for "which files share these rare identifiers": the
in-memory BM25 index the server has, FTS5 over the raw text (issue 15's measurement), and
FTS5 fed the identifiers search.py extracts (every occurrence), and FTS5 fed `index_terms`
(each identifier once: what the server's on-disk index stores). CPU per MB to
index, disk size, the time of one bm25 query of three rare identifiers, and how many of the
in-memory index's top ten the FTS5 ranking also returns.
"""

from __future__ import annotations

import gc
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kimi_lsp.context.search import IdentifierIndex, identifiers, index_terms

TOKENIZER = "unicode61 tokenchars '_'"
TOP = 10


def available() -> bool:
    try:
        sqlite3.connect(":memory:").execute("CREATE VIRTUAL TABLE t USING fts5(body)")
    except sqlite3.OperationalError:
        return False
    return True


def _create(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(
        "CREATE VIRTUAL TABLE words USING fts5(body, content='', "
        f'tokenize="{TOKENIZER}", detail=full)'
    )
    return db


def _fill(db: sqlite3.Connection, documents: Sequence[str]) -> None:
    db.execute("BEGIN")
    db.executemany("INSERT INTO words(rowid, body) VALUES (?, ?)", enumerate(documents))
    db.execute("COMMIT")


def match_expression(terms: Sequence[str]) -> str:
    """`"a" OR "b"`: each term quoted, so an identifier is never read as FTS5 syntax."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.process_time()
    result = run()
    return time.process_time() - start, result


def rare_queries(index: IdentifierIndex, docs: Sequence[str], count: int) -> list[list[str]]:
    """Three of a file's rarest identifiers found in 2+ files, from files spread evenly."""
    out = []
    step = max(1, len(docs) // count)
    for text in docs[::step][:count]:
        terms = [t for t in identifiers(text) if index.document_frequency(t) >= 2]
        terms.sort(key=lambda t: (index.document_frequency(t), t))
        if len(terms) >= 3:
            out.append(terms[:3])
    return out


def measure(texts: Sequence[str], mb: float, queries: int = 50) -> dict[str, Any]:
    rels = [str(i) for i in range(len(texts))]
    index = IdentifierIndex()

    def build_memory() -> None:
        for rel, text in zip(rels, texts, strict=True):
            index.update(rel, text)

    memory_s, _ = _timed(build_memory)
    asked = rare_queries(index, texts, queries)
    rank_s, memory_top = _timed(lambda: [index.rank_terms(q, TOP) for q in asked])
    out: dict[str, Any] = {
        "files": len(texts),
        "mb": mb,
        "memory": {"index_ms_per_mb": memory_s * 1e3 / mb, "query_ms": _per(rank_s, asked)},
        "queries": len(asked),
    }
    with tempfile.TemporaryDirectory(prefix="kimi-bench-fts-") as tmp:
        feeds: dict[str, Callable[[], list[str]]] = {
            "raw_text": lambda: list(texts),
            "identifiers": lambda: [" ".join(identifiers(t).elements()) for t in texts],
            # the server's store (context/index_store.py): each identifier once, no secrets
            "index_terms": lambda: [index_terms(t) for t in texts],
        }
        for name, feed in feeds.items():
            path = Path(tmp) / f"{name}.sqlite3"
            db = _create(path)
            seconds, _ = _timed(lambda db=db, feed=feed: _fill(db, feed()))  # type: ignore[misc]
            query_s, tops = _timed(lambda db=db: [_bm25(db, q) for q in asked])  # type: ignore[misc]
            db.close()
            out[name] = {
                "index_ms_per_mb": seconds * 1e3 / mb,
                "disk_mb": path.stat().st_size / 1e6,
                "query_ms": _per(query_s, asked),
                "top10_shared": _shared(memory_top, tops),
            }
    return out


def _bm25(db: sqlite3.Connection, terms: Sequence[str]) -> list[str]:
    rows = db.execute(
        "SELECT rowid FROM words WHERE words MATCH ? ORDER BY bm25(words), rowid LIMIT ?",
        (match_expression(terms), TOP),
    )
    return [str(row[0]) for row in rows]


def _per(seconds: float, asked: Sequence[object]) -> float:
    return seconds * 1e3 / len(asked) if asked else 0.0


def _shared(memory: Sequence[Sequence[tuple[str, float]]], fts: Sequence[Sequence[str]]) -> float:
    """Mean share of the in-memory top ten that FTS5's top ten holds too."""
    shares = [
        len({rel for rel, _ in mine} & set(theirs)) / len(mine)
        for mine, theirs in zip(memory, fts, strict=True)
        if mine
    ]
    return sum(shares) / len(shares) if shares else 0.0
