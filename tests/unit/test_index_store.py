"""The on-disk index: versions, stale files, two writers, corrupt files, no secrets stored."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from kimi_lsp.context import index_store
from kimi_lsp.context.deep_index import read_file
from kimi_lsp.context.engine import ContextEngine
from kimi_lsp.context.imports import ImportRef
from kimi_lsp.context.index_store import FileRecord, IndexStore, store_path
from kimi_lsp.context.symbols import Symbol
from kimi_lsp.context.workspace import FileEntry
from kimi_lsp.tokens.counter import TokenCounter

GITHUB_TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gH3jK5"
AWS_KEY_ID = "AKIA" + "4XQZJ7LMNB2PQRST"


def record(rel: str, terms: str, size: int = 10, refs: tuple[ImportRef, ...] = ()) -> FileRecord:
    return FileRecord(rel, size, 1_000, True, "python", refs, terms)


def write(ws: Path, rel: str, text: str) -> Path:
    path = ws / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / ".git").mkdir(parents=True)
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/shapes.py", "class Polygon:\n    def vertex_count(self):\n        return 0\n")
    write(root, "pkg/draw.py", "from .shapes import Polygon\n\ndef render_polygon(p):\n    pass\n")
    write(root, "main.py", "import pkg.draw\n\npkg.draw.render_polygon(None)\n")
    return root


def engine(ws: Path, index_dir: Path) -> ContextEngine:
    built = ContextEngine(TokenCounter(), index_dir)
    built.configure([ws], [], 1_000_000)
    built.build_index()
    built.build_deep()
    return built


def test_records_round_trip_and_rank(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "x.sqlite3", version="v1")
    ref = ImportRef("a.b", 3, ("c",), "import", ("d",))
    store.save([record("one.py", "render_polygon shared", refs=(ref,)), record("two.py", "shared")])
    loaded = store.load()
    assert loaded["one.py"].refs() == [ref] and loaded["one.py"].refs()[0].bound == ("d",)
    assert [rel for rel, _ in store.rank(["render_polygon", "shared"], 5)] == ["one.py", "two.py"]
    assert store.rank(["render_polygon"], 5, exclude={"one.py"}) == []
    store.save([record("one.py", "other_words", size=11)])  # replaced: old terms deleted
    assert store.rank(["render_polygon"], 5) == []
    assert [rel for rel, _ in store.rank(["other_words"], 5)] == ["one.py"]
    store.remove(["one.py"])
    assert store.rank(["other_words"], 5) == [] and set(store.load()) == {"two.py"}


def test_a_new_parser_version_empties_the_store(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    IndexStore(path, version="v1").save([record("a.py", "alpha_beta")])
    assert set(IndexStore(path, version="v1").load()) == {"a.py"}
    again = IndexStore(path, version="v2")
    assert again.load() == {} and again.rank(["alpha_beta"], 5) == []
    assert IndexStore(path, version="v1").load() == {}  # v2 wrote it last


def test_the_parser_version_follows_the_parsers_source() -> None:
    version = index_store.parser_version()
    assert len(version) == 16 and version == index_store.parser_version()


def test_stale_files_by_size_and_mtime_are_read_again(ws: Path, tmp_path: Path) -> None:
    first = engine(ws, tmp_path / "index")
    assert first.deep.progress.from_cache == 0 and first.deep.progress.files == 4
    assert first.graph.importers("pkg/shapes.py") == ["pkg/draw.py"]

    again = engine(ws, tmp_path / "index")
    assert again.deep.progress.from_cache == 4
    assert again.graph.importers("pkg/shapes.py") == ["pkg/draw.py"]
    assert again.graph.importers("pkg/draw.py") == ["main.py"]

    draw = write(ws, "pkg/draw.py", "def render_polygon(p):\n    pass\n")  # no import now
    st = draw.stat()
    os.utime(draw, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    (ws / "main.py").unlink()
    write(ws, "new.py", "from pkg import shapes\n")
    third = engine(ws, tmp_path / "index")
    assert third.deep.progress.from_cache == 2  # __init__ and shapes
    assert third.graph.importers("pkg/shapes.py") == ["new.py"]  # draw.py no longer
    assert third.graph.importers("pkg/draw.py") == []  # main.py is gone
    stored = set(third.deep.store.load())
    assert stored == {"pkg/__init__.py", "pkg/shapes.py", "pkg/draw.py", "new.py"}


def test_resolved_imports_are_kept_while_the_set_of_files_holds(ws: Path, tmp_path: Path) -> None:
    write(ws, "app.py", "import pkg.extra\nfrom pkg import shapes\n")  # pkg.extra: not yet
    first = engine(ws, tmp_path / "index")
    assert first.graph.importers("pkg/shapes.py") == ["app.py", "pkg/draw.py"]
    key = first.graph.key()
    assert first.deep.store.file_set() == key
    stored = first.deep.store.load()["app.py"].resolved()
    assert stored == ["pkg/__init__.py", "pkg/shapes.py"]  # the package, for now

    again = engine(ws, tmp_path / "index")  # same files: the targets come from the store
    assert again.graph.importers("pkg/shapes.py") == ["app.py", "pkg/draw.py"]
    assert again.graph.imports("app.py") == ["pkg/__init__.py", "pkg/shapes.py"]

    write(ws, "pkg/extra.py", "EXTRA = 1\n")  # app.py unchanged, but now resolves further
    third = engine(ws, tmp_path / "index")
    assert third.graph.importers("pkg/extra.py") == ["app.py"]
    assert third.deep.store.file_set() == third.graph.key() != key
    assert "pkg/extra.py" in (third.deep.store.load()["app.py"].resolved() or [])


def test_a_restart_decodes_stored_imports_only_when_asked(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine(ws, tmp_path / "index")
    decoded: list[str] = []
    decode = index_store.decode_imports

    def counted(raw: str) -> list[ImportRef]:
        decoded.append(raw)
        return decode(raw)

    monkeypatch.setattr(index_store, "decode_imports", counted)
    again = engine(ws, tmp_path / "index")  # the targets are stored: nothing to resolve
    assert again.graph.importers("pkg/shapes.py") == ["pkg/draw.py"]
    assert decoded == []
    assert [r.spec for r in again.graph.refs("pkg/draw.py")] == [".shapes"]
    assert [r.spec for r in again.graph.refs("pkg/draw.py")] == [".shapes"]
    assert len(decoded) == 1  # decoded once, then kept


def test_same_size_new_mtime_is_stale(tmp_path: Path) -> None:
    store = IndexStore(tmp_path / "x.sqlite3", version="v1")
    store.save([record("a.py", "alpha")])
    row = store.load()["a.py"]
    assert (row.size, row.mtime_ns) == (10, 1_000)  # the engine compares both with the walk


def test_two_connections_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    stores = [IndexStore(path, version="v1"), IndexStore(path, version="v1")]
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(which: int) -> None:
        try:
            start.wait()
            for batch in range(20):
                rels = [f"w{which}/f{batch}_{i}.py" for i in range(25)]
                stores[which].save([record(rel, f"common term_{which}_{batch}") for rel in rels])
                # the same files from both sides: replaced, never duplicated
                stores[which].save([record(f"both/{batch}.py", f"both_side_{which}")])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    reader = IndexStore(path, version="v1")
    assert len(reader.load()) == 2 * 20 * 25 + 20
    assert len(reader.rank(["term_1_7"], 50)) == 25
    assert len(reader.rank(["common"], 2_000)) == 1_000
    found = {rel for rel, _ in reader.rank(["both_side_0", "both_side_1"], 100)}
    assert found == {f"both/{b}.py" for b in range(20)}  # one row each, the last writer's


def test_a_corrupt_file_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "index" / "x.sqlite3"
    path.parent.mkdir()
    path.write_bytes(b"this is not a database" * 100)
    store = IndexStore(path, version="v1")
    assert store.load() == {}
    store.save([record("a.py", "alpha_beta")])
    assert set(IndexStore(path, version="v1").load()) == {"a.py"}
    with sqlite3.connect(path) as db:  # a real database now
        assert db.execute("SELECT count(*) FROM files").fetchone() == (1,)


def test_an_unwritable_directory_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    store = IndexStore(blocker / "index" / "x.sqlite3", version="v1")  # parent is a file
    store.save([record("a.py", "alpha_beta")])
    assert set(store.load()) == {"a.py"} and store.rank(["alpha_beta"], 1)[0][0] == "a.py"


def test_stores_unused_for_long_are_pruned(ws: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    old = IndexStore(index_dir / "old.sqlite3", version="v1")
    old.save([record("a.py", "alpha")])
    old.close()
    long_ago = time.time() - (index_store.UNUSED_DAYS + 1) * 86_400
    for path in index_dir.iterdir():
        os.utime(path, (long_ago, long_ago))
    recent = IndexStore(index_dir / "recent.sqlite3", version="v1")
    recent.close()
    built = engine(ws, index_dir)  # opening a store prunes the others unused for long
    names = {p.name for p in index_dir.iterdir()}
    assert not any(name.startswith("old.sqlite3") for name in names)
    assert "recent.sqlite3" in names
    assert store_path(index_dir, built.index.roots).name in names


def test_the_index_directory_is_private(ws: Path, tmp_path: Path) -> None:
    built = engine(ws, tmp_path / "cache" / "index")
    path = store_path(tmp_path / "cache" / "index", built.index.roots)
    assert path.exists()
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    store_files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert path in store_files  # the database, and its -wal/-shm while it is open
    assert {stat.S_IMODE(p.stat().st_mode) for p in store_files} == {0o600}


def test_a_store_made_readable_by_others_is_made_private_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "index" / "old.sqlite3"
    IndexStore(path, version="v1").close()
    path.chmod(0o644)  # as stores were made before
    IndexStore(path, version="v1").close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_secret_looking_identifiers_are_never_stored(ws: Path, tmp_path: Path) -> None:
    write(
        ws,
        "settings.py",
        f"GITHUB = {GITHUB_TOKEN}\nAWS = '{AWS_KEY_ID}'\n"
        f'API_TOKEN = "{GITHUB_TOKEN}"\nharmless_setting_name = 1\n',
    )
    index_dir = tmp_path / "index"
    built = engine(ws, index_dir)
    symbols = built.file_symbols("settings.py")
    assert symbols is not None and any(s.name == "API_TOKEN" for s in symbols)
    assert all(GITHUB_TOKEN not in s.signature for s in symbols)
    built.deep.store.close()
    stored = b"".join(p.read_bytes() for p in index_dir.iterdir())
    assert b"harmless_setting_name" in stored  # the terms are there...
    for secret in (GITHUB_TOKEN, AWS_KEY_ID):
        assert secret.encode() not in stored  # ...the keys are not
        assert secret.lower().encode() not in stored
    reopened = engine(ws, index_dir)
    assert reopened.deep.related(f"x = {GITHUB_TOKEN}", 5, set()) == []
    assert [r for r, _ in reopened.deep.related("harmless_setting_name", 5, set())] == [
        "settings.py"
    ]


def test_symbols_are_computed_once_and_kept_on_disk(ws: Path, tmp_path: Path) -> None:
    first = engine(ws, tmp_path / "index")
    symbols = first.file_symbols("pkg/shapes.py")
    assert symbols is not None and [s.name for s in symbols] == ["Polygon", "vertex_count"]
    second = engine(ws, tmp_path / "index")
    entry = second.index.lookup(ws / "pkg" / "shapes.py")
    assert entry is not None
    stored = second.deep.store.symbols("pkg/shapes.py", entry.size, entry.mtime_ns)
    assert stored == symbols and isinstance(stored[0], Symbol)
    assert second.deep.store.symbols("pkg/shapes.py", entry.size + 1, entry.mtime_ns) is None


def test_without_fts5_search_runs_in_memory(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_store, "fts5_available", lambda: False)
    built = engine(ws, tmp_path / "index")
    assert not built.deep.store.fts
    assert {r for r, _ in built.deep.related("render_polygon", 5, set())} == {
        "main.py",
        "pkg/draw.py",
    }
    again = engine(ws, tmp_path / "index")  # the in-memory search is filled from the store
    assert again.deep.progress.from_cache == 4
    assert {r for r, _ in again.deep.related("vertex_count", 5, set())} == {"pkg/shapes.py"}


def test_refresh_updates_graph_search_and_store(ws: Path, tmp_path: Path) -> None:
    built = engine(ws, tmp_path / "index")
    path = write(ws, "pkg/extra.py", "from .shapes import Polygon\nunusual_marker_name = 1\n")
    built.refresh([path])
    assert built.graph.importers("pkg/shapes.py") == ["pkg/draw.py", "pkg/extra.py"]
    assert [r for r, _ in built.deep.related("unusual_marker_name", 5, set())] == ["pkg/extra.py"]
    assert "pkg/extra.py" in built.deep.store.load()
    path.unlink()
    built.refresh([path])
    assert built.graph.importers("pkg/shapes.py") == ["pkg/draw.py"]
    assert built.deep.related("unusual_marker_name", 5, set()) == []
    assert "pkg/extra.py" not in built.deep.store.load()


def test_read_file_goes_by_the_disk_not_the_walks_size(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text("x = 1\n" * 100)  # 600 bytes
    for walked in (0, 6, 600, 10_000):  # the size the walk saw: stale either way
        entry = FileEntry(str(path), "a.py", tmp_path, walked, 0)
        assert read_file(entry, 1_000) == "x = 1\n" * 100
        assert read_file(entry, 599) is None  # past the limit now
        assert read_file(entry, 600) == "x = 1\n" * 100
    (tmp_path / "b.bin").write_bytes(b"\0\1\2" * 10)
    assert read_file(FileEntry(str(tmp_path / "b.bin"), "b.bin", tmp_path, 30, 0), 100) is None
    assert read_file(FileEntry(str(tmp_path / "gone.py"), "gone.py", tmp_path, 3, 0), 100) is None
    assert read_file(FileEntry(str(tmp_path), "", tmp_path, 0, 0), 100) is None  # a directory
