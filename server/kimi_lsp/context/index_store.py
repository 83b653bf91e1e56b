"""The on-disk index: each file's imports, search terms and symbols in SQLite, by size and mtime."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from ..secrets.at_rest import private_directory
from ..secrets.redact import redact
from .imports import ImportRef
from .symbols import Symbol

log = logging.getLogger(__name__)

SCHEMA = "3"  # bump when the tables change
BUSY_TIMEOUT_MS = 10_000  # another server on the same workspace may be writing a batch
MAX_TERMS = 48  # a query is scored on its rarest terms only (as IdentifierIndex)
_DF_CACHE = 50_000
_RANK_CACHE = 256
UNUSED_DAYS = 60  # a workspace's store not opened for this long is deleted

T = TypeVar("T")

_TABLES = (
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    # text: 0 when the file is binary or unreadable (remembered, so a restart skips it too);
    # targets: the workspace files its imports resolve to, valid while meta's 'files' key holds;
    # words: its search terms, NULL until the search stage has read it (imports come first)
    "CREATE TABLE IF NOT EXISTS files(id INTEGER PRIMARY KEY, rel TEXT NOT NULL UNIQUE,"
    " size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, text INTEGER NOT NULL,"
    " language TEXT NOT NULL, imports TEXT NOT NULL, words TEXT, symbols TEXT,"
    " targets TEXT)",
)
# Contentless (the words are kept once, in files.words, which 'delete' needs); unicode61 folds
# case; '_' is part of a word. detail=full: with none or column bm25() scores every file 0.
_FTS = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(body, content='',"
    " tokenize=\"unicode61 tokenchars '_'\")",
    "CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(search, 'row')",
)


def parser_version() -> str:
    """A digest of the modules whose output the store keeps: a change to any of them (a parser
    fixed) makes every stored file stale."""
    from . import imports, js_outline, languages, search, symbols

    digest = hashlib.sha256(SCHEMA.encode())
    for module in (imports, js_outline, languages, search, symbols):
        try:
            digest.update(Path(module.__file__ or "").read_bytes())
        except OSError:
            digest.update(module.__name__.encode())
    return digest.hexdigest()[:16]


def store_path(directory: Path, roots: Sequence[Path]) -> Path:
    """One database per set of workspace roots."""
    key = "\n".join(sorted(str(root) for root in roots))
    return directory / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.sqlite3"


def prune(directory: Path, max_age_s: float = UNUSED_DAYS * 86_400.0) -> list[Path]:
    """Delete the stores of workspaces not opened for `max_age_s` (their files' mtime: every
    server start writes its store); the ones deleted."""
    cutoff = time.time() - max_age_s
    gone = []
    for path in directory.glob("*.sqlite3"):
        try:
            if path.stat().st_mtime >= cutoff:
                continue
        except OSError:
            continue
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.remove(f"{path}{suffix}")
        gone.append(path)
    return gone


def fts5_available() -> bool:
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE VIRTUAL TABLE t USING fts5(x)")
        return True
    except sqlite3.Error:
        return False


def corrupt(exc: sqlite3.Error) -> bool:
    """Whether the error says the file is damaged or not a database (not busy, not full)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    text = str(exc)
    return "malformed" in text or "not a database" in text


@dataclass(frozen=True, slots=True)
class StoredFile:
    """What the store holds for a file, decoded only when its stamp matches the disk's."""

    size: int
    mtime_ns: int
    text: bool
    language: str
    imports: str  # JSON
    targets: str | None  # JSON
    searched: bool  # its search terms are stored

    def refs(self) -> list[ImportRef]:
        return decode_imports(self.imports)

    def lazy_refs(self) -> Callable[[], list[ImportRef]]:
        """What decodes the imports when first called (most are never needed)."""
        return partial(decode_imports, self.imports)

    def resolved(self) -> list[str] | None:
        return None if self.targets is None else list(json.loads(self.targets))


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file's parsed facts, to be stored (`text` False: binary or unreadable)."""

    rel: str
    size: int
    mtime_ns: int
    text: bool
    language: str
    imports: Sequence[ImportRef]
    terms: str | None  # None: not read for search yet (the search stage fills it in)


def encode_imports(refs: Iterable[ImportRef]) -> str:
    return json.dumps(
        [[r.spec, r.line, list(r.names), r.kind, list(r.bound)] for r in refs],
        separators=(",", ":"),
    )


def decode_imports(raw: str) -> list[ImportRef]:
    return [
        ImportRef(spec, line, tuple(names), kind, tuple(bound))
        for spec, line, names, kind, bound in json.loads(raw)
    ]


def _encode_symbols(symbols: Iterable[Symbol]) -> str:
    # A constant's signature is its line, value included (`TOKEN = "ghp_..."`): stored as a
    # prompt would show it (prompts redact it anyway), so the store holds no copy of a key.
    return json.dumps(
        [[s.name, s.kind, s.line, s.end_line, redact(s.signature).text, s.depth] for s in symbols],
        separators=(",", ":"),
    )


def _decode_symbols(raw: str) -> list[Symbol]:
    return [Symbol(*fields) for fields in json.loads(raw)]


class IndexStore:
    """The index of one set of workspace roots in a SQLite file (or in memory: `path` None).

    WAL and a busy timeout let two servers on one workspace share it; each write is one short
    transaction. A file that is not a database, or fails as one, is deleted and built again:
    the store is a cache, never a reason to fail. Safe to call from any thread."""

    def __init__(self, path: Path | None, version: str | None = None) -> None:
        self.path = path
        self.version = version or parser_version()
        self.fts = fts5_available()
        self._lock = threading.Lock()
        self._df: dict[str, int] = {}  # these two are forgotten at every write
        self._ranked: dict[tuple[str, int], list[tuple[str, float]]] = {}
        self._db = self._open()

    # -- opening ----------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        if self.path is not None:
            try:
                return self._connect(self.path)
            except sqlite3.DatabaseError as exc:
                if not corrupt(exc):  # busy, or cannot be opened: leave it to its owner
                    log.warning("Index cache %s unusable (%s): kept in memory", self.path, exc)
                    return self._connect(None)
                log.warning("Index cache %s corrupt (%s): building it again", self.path, exc)
                self._delete_files()
            except OSError as exc:
                log.warning("Index cache %s unwritable (%s): kept in memory", self.path, exc)
                return self._connect(None)
            try:
                return self._connect(self.path)
            except (sqlite3.Error, OSError) as exc:
                log.warning("Index cache %s unwritable (%s): kept in memory", self.path, exc)
        return self._connect(None)

    def _connect(self, path: Path | None) -> sqlite3.Connection:
        if path is not None:
            # File names and identifiers of the user's code: the user's alone (the directories
            # made 0700, one made before this tightened).
            private_directory(path.parent)
            with contextlib.suppress(OSError):  # the user's alone too (SQLite gives -wal/-shm
                os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))  # the same mode)
                os.chmod(path, 0o600)  # a store made before this was 0644
        target = str(path) if path is not None else ":memory:"
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if path is not None:
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
            self._prepare(db)
        except BaseException:
            db.close()
            raise
        if path is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # opened now (with WAL the file itself may not change): `prune`
        return db

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Create the tables, or empty them when they were written by another version."""
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_TABLES[0])
            row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            if row is not None and row[0] != self.version:
                for table in ("vocab", "search", "files"):
                    db.execute(f"DROP TABLE IF EXISTS {table}")
                db.execute("DELETE FROM meta")
            for statement in _TABLES[1:]:
                db.execute(statement)
            if self.fts:
                for statement in _FTS:
                    db.execute(statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (self.version,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _delete_files(self) -> None:
        if self.path is None:
            return
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.remove(f"{self.path}{suffix}")

    def _run(self, work: Callable[[sqlite3.Connection], T], fallback: T) -> T:
        """`work` under the lock; on a database error `fallback`, and a corrupt file is built
        again (a busy one is not: another server is writing, the next write will do)."""
        with self._lock:
            try:
                return work(self._db)
            except sqlite3.Error as exc:
                if not corrupt(exc):
                    log.warning("The index cache failed (%s)", exc)
                    return fallback
                log.warning("The index cache is corrupt (%s); starting it again", exc)
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._delete_files()
                self._df.clear()
                self._ranked.clear()
                self._db = self._open()
                return fallback

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):
            self._db.close()

    # -- files ------------------------------------------------------------------------
    def load(self) -> dict[str, StoredFile]:
        """Every stored file by rel (imports still encoded)."""

        def work(db: sqlite3.Connection) -> dict[str, StoredFile]:
            rows = db.execute(
                "SELECT rel, size, mtime_ns, text, language, imports, targets,"
                " words IS NOT NULL FROM files"
            )
            return {
                r[0]: StoredFile(r[1], r[2], bool(r[3]), r[4], r[5], r[6], bool(r[7])) for r in rows
            }

        return self._run(work, {})

    def has_files(self) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            return db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

        return self._run(work, False)

    def save(self, records: Sequence[FileRecord]) -> None:
        """Store the files (replacing what was stored under their rels), in one transaction."""
        if records:
            self._run(lambda db: self._write(db, lambda: self._save(db, records)), None)

    def remove(self, rels: Collection[str]) -> None:
        if rels:
            self._run(lambda db: self._write(db, lambda: self._remove(db, rels)), None)

    def _write(self, db: sqlite3.Connection, work: Callable[[], None]) -> None:
        db.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlock
        try:
            work()
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
        finally:
            self._df.clear()
            self._ranked.clear()

    def _save(self, db: sqlite3.Connection, records: Sequence[FileRecord]) -> None:
        for r in records:
            old = db.execute("SELECT id, words FROM files WHERE rel = ?", (r.rel,)).fetchone()
            values = (r.size, r.mtime_ns, int(r.text), r.language, encode_imports(r.imports))
            if old is None:
                cursor = db.execute(
                    "INSERT INTO files(rel, size, mtime_ns, text, language, imports, words)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r.rel, *values, r.terms),
                )
                rowid = cursor.lastrowid
            else:
                rowid = old[0]
                if self.fts and old[1]:
                    db.execute(
                        "INSERT INTO search(search, rowid, body) VALUES ('delete', ?, ?)",
                        (rowid, old[1]),
                    )
                db.execute(
                    "UPDATE files SET size = ?, mtime_ns = ?, text = ?, language = ?,"
                    " imports = ?, words = ?, symbols = NULL, targets = NULL WHERE id = ?",
                    (*values, r.terms, rowid),
                )
            if self.fts and r.terms:
                db.execute("INSERT INTO search(rowid, body) VALUES (?, ?)", (rowid, r.terms))

    def save_terms(self, items: Sequence[tuple[str, int, int, str]]) -> None:
        """Store the search terms of files (rel, size, mtime_ns, terms) whose rows are for that
        size and mtime and have none yet (another server may have been first), in one
        transaction."""
        if items:
            self._run(lambda db: self._write(db, lambda: self._save_terms(db, items)), None)

    def _save_terms(
        self, db: sqlite3.Connection, items: Sequence[tuple[str, int, int, str]]
    ) -> None:
        for rel, size, mtime_ns, terms in items:
            row = db.execute(
                "SELECT id FROM files WHERE rel = ? AND size = ? AND mtime_ns = ? AND text = 1"
                " AND words IS NULL",
                (rel, size, mtime_ns),
            ).fetchone()
            if row is None:
                continue
            db.execute("UPDATE files SET words = ? WHERE id = ?", (terms, row[0]))
            if self.fts and terms:
                db.execute("INSERT INTO search(rowid, body) VALUES (?, ?)", (row[0], terms))

    def _remove(self, db: sqlite3.Connection, rels: Collection[str]) -> None:
        for rel in rels:
            old = db.execute("SELECT id, words FROM files WHERE rel = ?", (rel,)).fetchone()
            if old is None:
                continue
            if self.fts and old[1]:
                db.execute(
                    "INSERT INTO search(search, rowid, body) VALUES ('delete', ?, ?)",
                    (old[0], old[1]),
                )
            db.execute("DELETE FROM files WHERE id = ?", (old[0],))

    def file_set(self) -> str | None:
        """The key of the file set the stored targets were resolved against."""

        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT value FROM meta WHERE key = 'files'").fetchone()
            return None if row is None else str(row[0])

        return self._run(work, None)

    def save_targets(self, key: str, targets: dict[str, list[str]]) -> None:
        """Keep what each file's imports resolve to, against the file set `key`."""

        def work(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE files SET targets = ? WHERE rel = ?",
                ((json.dumps(t, separators=(",", ":")), rel) for rel, t in targets.items()),
            )
            db.execute("INSERT OR REPLACE INTO meta VALUES ('files', ?)", (key,))

        self._run(lambda db: self._write(db, lambda: work(db)), None)

    def terms(self) -> dict[str, str]:
        """Every readable file's stored terms (for the in-memory search when FTS5 is missing)."""

        def work(db: sqlite3.Connection) -> dict[str, str]:
            rows = db.execute("SELECT rel, words FROM files WHERE words IS NOT NULL")
            return dict(rows.fetchall())

        return self._run(work, {})

    # -- symbols (computed only when asked for) ---------------------------------------
    def symbols(self, rel: str, size: int, mtime_ns: int) -> list[Symbol] | None:
        """The file's stored symbols, None when none are stored for this size and mtime."""

        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT symbols FROM files WHERE rel = ? AND size = ? AND mtime_ns = ?",
                (rel, size, mtime_ns),
            ).fetchone()
            return None if row is None else row[0]

        raw = self._run(work, None)
        return None if raw is None else _decode_symbols(raw)

    def save_symbols(self, rel: str, size: int, mtime_ns: int, symbols: Sequence[Symbol]) -> None:
        """Keep the symbols with the file's row, if the row is for this size and mtime."""
        raw = _encode_symbols(symbols)

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE files SET symbols = ? WHERE rel = ? AND size = ? AND mtime_ns = ?",
                (raw, rel, size, mtime_ns),
            )

        self._run(work, None)

    # -- search -----------------------------------------------------------------------
    def rank(
        self, terms: Iterable[str], limit: int, exclude: Collection[str] = ()
    ) -> list[tuple[str, float]]:
        """Files sharing the rarest of `terms`, best first by BM25: (rel, score), ties by rel."""
        words = sorted({t.lower() for t in terms if t.isidentifier() and t.isascii()})
        if limit <= 0 or not words or not self.fts:
            return []

        def work(db: sqlite3.Connection) -> list[tuple[str, float]]:
            counts = self._frequencies(db, words)
            rare = sorted((df, term) for term, df in counts.items() if df > 0)[:MAX_TERMS]
            if not rare:
                return []
            query = " OR ".join(f'"{term}"' for _, term in rare)
            key = (query, limit + len(exclude))
            rows = self._ranked.get(key)
            if rows is None:  # consecutive requests on one file mostly ask the same
                rows = db.execute(
                    "SELECT files.rel, -bm25(search) AS score FROM search"
                    " JOIN files ON files.id = search.rowid WHERE search MATCH ?"
                    " ORDER BY score DESC, files.rel LIMIT ?",
                    key,
                ).fetchall()
                if len(self._ranked) > _RANK_CACHE:
                    self._ranked.clear()
                self._ranked[key] = rows
            return [(rel, score) for rel, score in rows if rel not in exclude][:limit]

        return self._run(work, [])

    def _frequencies(self, db: sqlite3.Connection, words: Sequence[str]) -> dict[str, int]:
        """How many files hold each word (remembered until the next write)."""
        missing = [w for w in words if w not in self._df]
        if missing:
            if len(self._df) > _DF_CACHE:
                self._df.clear()
            found: dict[str, Any] = {w: 0 for w in missing}
            for start in range(0, len(missing), 500):
                chunk = missing[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(
                    db.execute(f"SELECT term, doc FROM vocab WHERE term IN ({marks})", chunk)
                )
            self._df.update(found)
        return {w: self._df[w] for w in words}
