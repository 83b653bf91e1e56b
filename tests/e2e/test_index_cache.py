"""End-to-end on-disk index: a restarted server reads its index from the cache, same answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_lsp import LanguageClient

from .harness import git_workspace, request, server_env, session

MAX_POLLS = 5_000  # kimi/status round trips while the index builds (each a real request)


def workspace(root: Path) -> Path:
    files = {
        "pkg/__init__.py": "",
        "pkg/geometry.py": "class Vector:\n    def norm_squared(self):\n        return 0\n",
        "pkg/physics.py": "from pkg.geometry import Vector\n\n\n"
        "def speed(v: Vector) -> float:\n    return v.norm_squared() ** 0.5\n",
        "pkg/plotting.py": "from pkg.geometry import Vector\n\n\n"
        "def plot_norm_squared(v: Vector) -> None:\n    print(v.norm_squared())\n",
        "tools/report.py": "def report(v):\n    return v.norm_squared()\n",
    }
    return git_workspace(root, files)


async def ready(client: LanguageClient) -> dict[str, Any]:
    """kimi/status's index once it is ready with importers and search."""
    for _ in range(MAX_POLLS):
        status = await request(client, "kimi/status", None)
        index: dict[str, Any] = status["index"]
        assert index["state"] in ("walking", "indexing", "ready")
        if index["state"] == "ready" and index["deep"]:
            assert index["search"]  # ready: importers and search both
            return index
    raise AssertionError(f"the index never got ready: {index}")


async def supporting(client: LanguageClient, uri: str) -> list[tuple[str, str]]:
    selection = {"start": {"line": 0, "character": 0}, "end": {"line": 3, "character": 0}}
    manifest = await request(
        client, "kimi/context", {"textDocument": {"uri": uri}, "range": selection}
    )
    return sorted(
        (s["kind"], s["uri"].rsplit("/proj/", 1)[-1])
        for s in manifest["sections"]
        if s["kind"] in ("importer", "related")
    )


async def test_a_restarted_server_reports_from_cache_and_the_same_results(tmp_path: Path) -> None:
    root = workspace(tmp_path / "proj")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    uri = (root / "pkg" / "geometry.py").as_uri()
    runs = []
    for _ in range(2):
        async with session("vscode", env=env, root=root) as client:
            await request(client, "kimi/context", {"textDocument": {"uri": uri}})  # wants it
            index = await ready(client)
            runs.append((index, await supporting(client, uri)))
    (first, first_found), (second, second_found) = runs
    assert first["files"] == second["files"] == 5
    assert first["fromCache"] == 0 and second["fromCache"] == 5
    assert ("importer", "pkg/physics.py") in first_found
    assert ("importer", "pkg/plotting.py") in first_found
    assert first_found == second_found
    assert list((tmp_path / "cache" / "kimi-lsp" / "index").glob("*.sqlite3"))


async def test_a_server_starts_the_index_itself_when_a_cache_exists(tmp_path: Path) -> None:
    root = workspace(tmp_path / "proj")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    cli = subprocess.run(
        [sys.executable, "-m", "kimi_lsp", "context", f"{root / 'pkg' / 'geometry.py'}:1",
         "--json"],
        capture_output=True, text=True, env=server_env(env), timeout=60, check=False,
    )  # fmt: skip
    assert cli.returncode == 0, cli.stderr  # the command line wrote the workspace's index
    async with session("neovim", env=env, root=root) as client:
        index = await ready(client)  # no request asked for it
    assert index["fromCache"] == index["files"] == 5


async def test_two_servers_on_one_workspace_share_the_cache(tmp_path: Path) -> None:
    root = workspace(tmp_path / "proj")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    uri = (root / "pkg" / "geometry.py").as_uri()

    async def one(profile: str) -> list[tuple[str, str]]:
        async with session(profile, env=env, root=root) as client:
            await request(client, "kimi/context", {"textDocument": {"uri": uri}})
            await ready(client)
            return await supporting(client, uri)

    first, second = await asyncio.gather(one("vscode"), one("neovim"))
    assert ("importer", "pkg/physics.py") in first
    assert first == second
    async with session("vscode", env=env, root=root) as client:
        index = await ready(client)  # a third start finds every file in the shared cache
    assert index["fromCache"] == 5
