"""Use-site → definition cases for bench/relevance.py, found in real code by jedi's `goto`."""

from __future__ import annotations

import ast
import builtins
import importlib.util
import json
import os
import random
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

FORMAT = 2  # bump when the case format or the way cases are chosen changes
SEED = 15  # issue 15
MIN_CASES_PER_FILE = 3  # more in a small package, so its quota can be met
GOTO_PER_CASE = 6  # use sites asked about per case wanted from a file
MAX_FILE_BYTES = 300_000  # jedi takes seconds on the biggest generated tables; no use sites there
DEFINITION_TYPES = ("class", "function", "statement")
BUILTIN_NAMES = frozenset(dir(builtins))
# The interpreter's Lib/ also holds its site-packages: third-party code, not the standard library.
STDLIB_EXCLUDE = ("site-packages/", "dist-packages/")
# Use sites are taken from library code, not from test suites or generated tables.
STDLIB_SKIP = ("lib2to3/", "site-packages/", "dist-packages/")
TEST_DIRS = frozenset({"test", "tests", "idle_test"})
# Where jedi's answer is not the code a reader needs: a method of an object known only by a
# protocol (fp.read()) lands in typing's stub-like classes, and os.path in ntpath on any OS.
NOT_DEFINITIONS = ("typing.py", "ntpath.py")


@dataclass(frozen=True)
class Corpus:
    """One workspace: a root directory, what the engine leaves out there, how many cases."""

    name: str
    root: str
    exclude: tuple[str, ...]
    quota: int
    skip: tuple[str, ...] = ()  # rel prefixes never used as use sites
    version: str = ""


@dataclass(frozen=True)
class Case:
    """A use of `name` at `file`:`line`:`column` (1-based line, 0-based column) whose definition
    is `def_file`:`def_line`, another file of the same workspace."""

    corpus: str
    file: str
    line: int
    column: int
    name: str
    def_file: str
    def_line: int
    def_type: str
    def_text: str  # the definition's first line, stripped: its signature
    use_text: str  # the use site's line, stripped: a changed file shows up as a stale case


def package_root(module: str) -> Path:
    """The directory of an installed package, found without importing it."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SystemExit(
            f"bench/relevance.py: {module} is not installed (pip install -e '.[test]')"
        )
    return Path(spec.origin).resolve().parent


def default_corpora() -> list[Corpus]:
    """The standard library of this interpreter and two pinned pure-Python packages (pyproject's
    test extra): click (a dozen modules that use each other) and rich (a hundred)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    python = ".".join(map(str, sys.version_info[:3]))
    return [
        Corpus("stdlib", str(stdlib), STDLIB_EXCLUDE, 110, STDLIB_SKIP, f"Python {python}"),
        Corpus("click", str(package_root("click")), (), 50, (), _version("click")),
        Corpus("rich", str(package_root("rich")), (), 80, (), _version("rich")),
    ]


def _version(dist: str) -> str:
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return f"{dist} (not installed)"


def cache_key(corpora: list[Corpus]) -> dict[str, Any]:
    """What the cases depend on: a cached file with another key is generated again."""
    return {
        "format": FORMAT,
        "seed": SEED,
        "jedi": _version("jedi"),
        "corpora": [[c.name, c.root, c.version, c.quota] for c in corpora],
    }


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kimi-lsp-dev" / "bench" / "relevance-cases.json"


# -- finding use sites -----------------------------------------------------------------------


def _module_level_names(tree: ast.Module) -> set[str]:
    """Names the module binds itself (not by import): their uses resolve in the same file."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _column(line: str, byte_offset: int) -> int:
    """ast columns count UTF-8 bytes; jedi's count characters."""
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", errors="replace"))


def use_sites(text: str) -> list[tuple[int, int, str]]:
    """(1-based line, column, identifier) of every name or attribute read in `text` that may
    be defined elsewhere: not a builtin, not bound at the module's top level, not dunder."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    local = _module_level_names(tree)
    lines = text.splitlines()
    found: set[tuple[int, int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in BUILTIN_NAMES or node.id in local or node.id == "self":
                continue
            found.add((node.lineno, _column(lines[node.lineno - 1], node.col_offset), node.id))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            if node.end_lineno is None or node.end_col_offset is None:
                continue
            row = lines[node.end_lineno - 1]
            end = _column(row, node.end_col_offset)
            if row[end - len(node.attr) : end] == node.attr:  # not split over lines
                found.add((node.end_lineno, end - len(node.attr), node.attr))
    return sorted(s for s in found if not (s[2].startswith("__") and s[2].endswith("__")))


def candidate_files(corpus: Corpus) -> list[str]:
    root = Path(corpus.root)
    out = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        parts = set(rel.split("/")[:-1])
        if "__pycache__" in parts or parts & TEST_DIRS or rel.startswith(corpus.skip):
            continue
        if path.stat().st_size <= MAX_FILE_BYTES:
            out.append(rel)
    return sorted(out)


# -- asking jedi ---------------------------------------------------------------------------------


def _definition(
    root: Path, rel: str, name: Any, exclude: tuple[str, ...]
) -> tuple[str, int, str, str] | None:
    """(def_file, def_line, def_type, def_text) when jedi's answer is a definition in another
    file of the workspace that the engine indexes, else None."""
    path = name.module_path
    if path is None or name.line is None or name.type not in DEFINITION_TYPES:
        return None
    path = Path(path).resolve()
    if path.suffix != ".py" or not path.is_relative_to(root):
        return None
    def_rel = path.relative_to(root).as_posix()
    if def_rel == rel or def_rel.startswith(exclude) or def_rel in NOT_DEFINITIONS:
        return None
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if name.line > len(lines):
        return None
    text = lines[name.line - 1].strip()
    if not text or text.startswith(("import ", "from ")):  # jedi stopped at an import
        return None
    return def_rel, name.line, name.type, text


def cases_in_file(
    jedi: Any,
    project: Any,
    corpus: Corpus,
    rel: str,
    rng: random.Random,
    seen: set[str],
    limit: int,
) -> Iterator[Case]:
    """Up to `limit` cases from one file, each with a definition not used yet."""
    root = Path(corpus.root)
    path = root / rel
    text = path.read_text(encoding="utf-8", errors="replace")
    sites = use_sites(text)
    rng.shuffle(sites)
    lines = text.splitlines()
    script = jedi.Script(text, path=path, project=project)
    kept = 0
    for line, column, ident in sites[: limit * GOTO_PER_CASE]:
        try:
            names = script.goto(line, column, follow_imports=True)
        except Exception:  # jedi's inference has its own bugs; a use site it fails on is skipped
            continue
        # Several answers (a name bound on two branches): no single ground truth, and jedi's
        # order among them follows string hashing, which changes between processes.
        if len({(n.module_path, n.line) for n in names}) != 1:
            continue
        found = _definition(root, rel, names[0], corpus.exclude)
        if found is None or f"{found[0]}:{found[1]}" in seen:
            continue
        seen.add(f"{found[0]}:{found[1]}")
        use = lines[line - 1].strip()
        yield Case(corpus.name, rel, line, column, ident, *found, use)
        kept += 1
        if kept >= limit:
            return


def quick_counts(corpora: list[Corpus], total: int) -> dict[str, int]:
    """Cases per corpus in a smaller run of about `total`, in proportion to the quotas."""
    quotas = sum(c.quota for c in corpora) or 1
    return {c.name: min(c.quota, max(1, round(total * c.quota / quotas))) for c in corpora}


def generate(
    corpora: list[Corpus], take: dict[str, int] | None = None, log: Any = sys.stderr
) -> list[Case]:
    """The cases of every corpus, chosen with a fixed seed (same files: same cases). With
    `take`, only that many of each corpus: the first ones of the full set, as the choice of
    files and use sites depends on the seed and the quota only."""
    import jedi  # a bench/test dependency only

    cases: list[Case] = []
    for corpus in corpora:
        started = time.perf_counter()
        want = corpus.quota if take is None else take.get(corpus.name, 0)
        rng = random.Random(f"{SEED}:{corpus.name}")
        files = candidate_files(corpus)
        rng.shuffle(files)
        project = jedi.Project(corpus.root)
        seen: set[str] = set()
        found: list[Case] = []
        limit = max(MIN_CASES_PER_FILE, -(-2 * corpus.quota // max(1, len(files))))
        for rel in files:
            if len(found) >= want:
                break
            for case in cases_in_file(jedi, project, corpus, rel, rng, seen, limit):
                found.append(case)
                if len(found) >= want:
                    break
        print(
            f"{corpus.name}: {len(found)} cases from {len(files)} files in "
            f"{time.perf_counter() - started:.0f} s",
            file=log,
        )
        cases += found
    return cases


# -- the case file ---------------------------------------------------------------------------


def save(path: Path, corpora: list[Corpus], cases: list[Case]) -> None:
    data = {
        "key": cache_key(corpora),
        "corpora": [asdict(c) for c in corpora],
        "cases": [asdict(c) for c in cases],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)  # a concurrent run reads the old file or the new one, never half of it


def load(path: Path) -> tuple[dict[str, Any], list[Corpus], list[Case]]:
    """The key, corpora and cases of a case file (ValueError/OSError when unreadable)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    corpora = [
        Corpus(**{**c, "exclude": tuple(c["exclude"]), "skip": tuple(c.get("skip", ()))})
        for c in data["corpora"]
    ]
    cases = [Case(**c) for c in data["cases"]]
    return data.get("key", {}), corpora, cases


def first_of_each(cases: list[Case], counts: dict[str, int]) -> list[Case]:
    """The first `counts[corpus]` cases of each corpus (cases are kept in their seeded order)."""
    out: list[Case] = []
    for name, n in counts.items():
        out += [c for c in cases if c.corpus == name][:n]
    return out


def _cached(path: Path, key: dict[str, Any]) -> tuple[list[Corpus], list[Case]] | None:
    try:
        found, corpora, cases = load(path)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return (corpora, cases) if found == key else None


def cases_for(
    regenerate: bool, quick: int | None = None, log: Any = sys.stderr
) -> tuple[list[Corpus], list[Case], str]:
    """The default corpora's cases (about `quick` of them when given): from the cache when its
    key matches, else generated and cached. The third item says where they came from.

    A quick run takes the first cases of the full set when that is cached; else it generates
    only those (the same cases) and caches them apart, so a smoke test on a fresh machine does
    not wait for the full set."""
    corpora = default_corpora()
    key = cache_key(corpora)
    path = cache_path()
    counts = quick_counts(corpora, quick) if quick else None
    if not regenerate:
        hit = _cached(path, key)
        if hit is not None:
            chosen = hit[1] if counts is None else first_of_each(hit[1], counts)
            return hit[0], chosen, f"cached in {path}"
        if counts is not None:
            path = path.with_name(f"relevance-cases-quick{quick}.json")
            hit = _cached(path, key)
            if hit is not None:
                return hit[0], hit[1], f"cached in {path}"
    elif counts is not None:
        path = path.with_name(f"relevance-cases-quick{quick}.json")
    print("generating the cases with jedi (cached afterwards)...", file=log)
    cases = generate(corpora, counts, log)
    save(path, corpora, cases)
    return corpora, cases, f"generated now, cached in {path}"
