"""Parser bench: tree-sitter and SQLite FTS5 against the server's hand-written parsers.

On this interpreter's standard library (one copy, as issue 15's scale workspace holds it: no
test suites, idlelib, lib2to3 or site-packages) plus the pinned click and rich, it measures
CPU time per MB and accuracy against Python's `ast` of
  imports       context/imports.py `imports_of` (the scan the deep index runs) vs tree-sitter;
  definitions   context/symbols.py `outline` (the scan) vs tree-sitter (def/class not in a def);
  identifiers   context/search.py `identifiers` vs tree-sitter (Name/Attribute as `ast` says);
  distinct ids  search.py `index_terms` (what the on-disk index stores) vs tree-sitter;
then whole jobs: all three per file (tree-sitter parsing once for them), the deep index's own
(imports + index_terms), each parse alone; accuracy on files mid-edit (an unclosed call
inserted at the middle: no `ast` for them, items of the file before the edit); on the
JavaScript and TypeScript under editors/vscode, CPU per MB and agreement (no ground truth
there: tree-sitter is the reference); and FTS5 against the in-memory IdentifierIndex
(bench/_parsers_fts.py).

tree-sitter runs through queries (captures made in C); one Python walk of the tree is
measured beside them for definitions. CPU time is `time.process_time()` in this one process,
the best of `--repeat` runs, texts read beforehand: the figures are ratios measured side by
side.

    pip install -e '.[bench]'        # tree-sitter and its grammars
    python bench/parsers.py          # the table
    python bench/parsers.py --quick --json   # click and rich only, one run (bench/run)
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import sysconfig
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # script or module: find the helpers
import _parsers_fts as fts
import _parsers_truth as truth
import _parsers_ts as tsq
from _machine import machine_info
from _relevance_cases import package_root
from kimi_lsp.context.imports import imports_of
from kimi_lsp.context.languages import PYTHON, mask
from kimi_lsp.context.search import STOP_WORDS, identifiers, index_terms
from kimi_lsp.context.symbols import outline

REPO = Path(__file__).resolve().parents[1]
# The scale workspace's recipe (issue 15): what a copy of the standard library leaves out.
STDLIB_SKIP_DIRS = frozenset(
    {"site-packages", "dist-packages", "__pycache__", "test", "tests", "idlelib", "lib2to3"}
)
MAX_JS_BYTES = 512_000  # bundles past this are generated code nobody edits


@dataclass
class Source:
    rel: str
    text: str
    data: bytes = b""
    tree: Any = None  # the `ast` tree, None when `ast` rejects the file

    def __post_init__(self) -> None:
        self.data = self.text.encode()


@dataclass
class Corpus:
    name: str
    language: str
    files: list[Source] = field(default_factory=list)

    @property
    def mb(self) -> float:
        return sum(len(f.data) for f in self.files) / 1e6


def _read(root: Path, paths: Iterable[Path]) -> list[Source]:
    out = []
    for path in sorted(paths):
        text = path.read_bytes().decode("utf-8", errors="replace")
        out.append(Source(path.relative_to(root).as_posix(), text))
    return out


def python_corpora(quick: bool) -> list[Corpus]:
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    roots = [("click", package_root("click")), ("rich", package_root("rich"))]
    if not quick:
        roots.insert(0, ("stdlib", stdlib))
    out = []
    for name, root in roots:
        paths = (
            p
            for p in root.rglob("*.py")
            if not STDLIB_SKIP_DIRS & set(p.relative_to(root).parts[:-1])
        )
        corpus = Corpus(name, "python", _read(root, paths))
        for source in corpus.files:
            source.tree = truth.parse(source.text)
        out.append(corpus)
    return out


def script_corpora(quick: bool) -> list[Corpus]:
    """TypeScript: the VS Code extension's own sources (and, full, node_modules' .ts);
    JavaScript: node_modules' .js. Empty where `npm ci` never ran."""
    vscode = REPO / "editors" / "vscode"
    own = [p for d in ("src", "test") for p in (vscode / d).rglob("*.ts") if p.is_file()]
    out = [Corpus("vscode src", "typescript", _read(vscode, own))]
    modules = vscode / "node_modules"
    if not quick and modules.is_dir():

        def small(suffix: str) -> list[Path]:
            return [
                p
                for p in modules.rglob(f"*{suffix}")
                if p.is_file() and not p.name.endswith(".d.ts") and p.stat().st_size <= MAX_JS_BYTES
            ]

        out.append(Corpus("node_modules", "typescript", _read(vscode, small(".ts"))))
        out.append(Corpus("node_modules", "javascript", _read(vscode, small(".js"))))
    return [c for c in out if c.files]


def over(files: Sequence[Source], job: Callable[[Source], Any]) -> Callable[[], list[Any]]:
    """`job` run on every file, as one thing to time."""
    return lambda: [job(f) for f in files]


def cpu(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best CPU seconds of `repeat` runs, and the last run's result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        start = time.process_time()
        result = run()
        best = min(best, time.process_time() - start)
    return best, result


# -- Python: the three parts -----------------------------------------------------------------


@dataclass
class Part:
    """One parser doing one job: `run` maps a Source to the job's product, `items` turns the
    product into comparable items (outside the timing)."""

    part: str
    parser: str
    run: Callable[[Source], Any]
    items: Callable[[Any], list[Any]]


def python_parts(grammars: dict[str, Any] | None) -> list[Part]:
    parts = [
        Part("imports", "ours (scan)", lambda s: imports_of(s.text, "python", exact=False),
             truth.ref_items),
        Part("imports", "ours (ast)", lambda s: imports_of(s.text, "python"), truth.ref_items),
        Part("definitions", "ours (scan)", lambda s: outline(s.text, "python", exact=False),
             truth.symbol_items),
        Part("definitions", "ours (ast)", lambda s: outline(s.text, "python"),
             truth.symbol_items),
        Part("identifiers", "ours (regex)", lambda s: identifiers(s.text), truth.counted),
        Part("distinct ids", "ours (index_terms)", lambda s: index_terms(s.text),
             lambda body: sorted(body.split())),
        # not what the server does: the same terms with strings and comments blanked first
        Part("distinct ids", "index_terms, masked",
             lambda s: index_terms(mask(s.text, PYTHON).code), lambda body: sorted(body.split())),
    ]  # fmt: skip
    if grammars is not None:
        g = grammars["python"]
        stop = STOP_WORDS
        parts += [
            Part("imports", "tree-sitter", lambda s: tsq.py_imports(g, s.data), list),
            Part("definitions", "tree-sitter", lambda s: tsq.py_definitions(g, s.data), list),
            Part("definitions", "tree-sitter, Python walk",
                 lambda s: tsq.py_definitions_walk(g, s.data), list),
            Part("identifiers", "tree-sitter", lambda s: tsq.py_identifiers(g, s.data, stop=stop),
                 truth.counted),
            Part("identifiers", "tree-sitter, every identifier",
                 lambda s: tsq.py_identifiers(g, s.data, skip=False, stop=stop), truth.counted),
            Part("distinct ids", "tree-sitter",
                 lambda s: tsq.py_identifiers(g, s.data, stop=stop), sorted),
        ]  # fmt: skip
    return parts


TRUTH: dict[str, Callable[[Source], list[Any]]] = {
    "imports": lambda s: truth.ast_imports(s.tree),
    "definitions": lambda s: truth.ast_definitions(s.tree),
    "identifiers": lambda s: truth.ast_identifiers(s.tree, STOP_WORDS),
    # what the on-disk index stores: each identifier once per file
    "distinct ids": lambda s: sorted(set(truth.ast_identifiers(s.tree, STOP_WORDS))),
}


def measure_python(
    corpora: Sequence[Corpus], grammars: dict[str, Any] | None, repeat: int
) -> list[dict[str, Any]]:
    files = [f for c in corpora for f in c.files]
    mb = sum(c.mb for c in corpora)
    expected = {part: [get(f) for f in files if f.tree is not None] for part, get in TRUTH.items()}
    rows = []
    for p in python_parts(grammars):
        seconds, products = cpu(over(files, p.run), repeat)
        score = truth.Score()
        checked = (prod for f, prod in zip(files, products, strict=True) if f.tree is not None)
        for want, product in zip(expected[p.part], checked, strict=True):
            score.add(want, p.items(product))
        rows.append(
            {"part": p.part, "parser": p.parser, "cpu_s": seconds, "ms_per_mb": seconds * 1e3 / mb}
            | score.as_dict()
        )
    rows += _whole_jobs(files, mb, grammars, repeat)
    return rows


def _whole_jobs(
    files: list[Source], mb: float, grammars: dict[str, Any] | None, repeat: int
) -> list[dict[str, Any]]:
    """All three jobs per file: ours runs three scans, tree-sitter parses once for the three;
    the deep index's job (imports and the distinct terms the store keeps), likewise; and
    `ast.parse` alone and tree-sitter's parse alone, for scale."""

    def ours(s: Source) -> Any:
        t = s.text
        return (
            imports_of(t, "python", exact=False),
            outline(t, "python", exact=False),
            identifiers(t),
        )

    jobs: list[tuple[str, str, Callable[[Source], Any]]] = [
        ("all three", "ours (scans)", ours),
        (
            "deep index",
            "ours (scans)",
            lambda s: (imports_of(s.text, "python", exact=False), index_terms(s.text)),
        ),
        ("parse only", "ast.parse", lambda s: truth.parse(s.text)),
    ]
    if grammars is not None:
        g = grammars["python"]

        def shared(s: Source) -> Any:
            root = tsq.parse(g, s.data)
            return (
                tsq.py_imports(g, s.data, root),
                tsq.py_definitions(g, s.data, root),
                tsq.py_identifiers(g, s.data, root, stop=STOP_WORDS),
            )

        def deep(s: Source) -> Any:
            root = tsq.parse(g, s.data)
            terms = tsq.py_identifiers(g, s.data, root, stop=STOP_WORDS)
            return tsq.py_imports(g, s.data, root), " ".join(terms)

        jobs += [
            ("all three", "tree-sitter (one parse)", shared),
            ("deep index", "tree-sitter (one parse)", deep),
            ("parse only", "tree-sitter", lambda s: tsq.parse(g, s.data)),
        ]
    rows = []
    for part, parser, job in jobs:
        seconds, _ = cpu(over(files, job), repeat)
        rows.append(
            {"part": part, "parser": parser, "cpu_s": seconds, "ms_per_mb": seconds * 1e3 / mb}
        )
    return rows


def measure_mid_edit(
    corpora: Sequence[Corpus], grammars: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """Accuracy on files that do not parse, as open documents often are: each file with an
    unclosed call inserted at its middle, against `ast`'s items of the file before the edit."""
    edited = []
    for f in (f for c in corpora for f in c.files if f.tree is not None):
        text, at = truth.mid_edit(f.text)
        edited.append((Source(f.rel, text), at, f.tree))
    jobs = [
        p
        for p in python_parts(grammars)
        if p.part in ("imports", "definitions") and not p.parser.endswith(("(ast)", "walk"))
    ]
    rows = []
    for p in jobs:
        score = truth.Score()
        for source, at, tree in edited:
            score.add(truth.shifted(TRUTH[p.part](Source("", "", tree=tree)), at),
                      p.items(p.run(source)))  # fmt: skip
        rows.append({"part": p.part, "parser": p.parser} | score.as_dict())
    return rows


# -- JavaScript and TypeScript: cost, and agreement with tree-sitter --------------------------


def measure_scripts(
    corpora: Sequence[Corpus], grammars: dict[str, Any] | None, repeat: int
) -> list[dict[str, Any]]:
    """No `ast` here: tree-sitter's answer is the reference the scan is compared with."""
    if grammars is None:
        return []
    rows = []
    for corpus in corpora:
        g, lang, files = grammars[corpus.language], corpus.language, corpus.files
        jobs: list[tuple[str, Callable[[Source], Any], Callable[[Source], Any]]] = [
            ("imports", lambda s, lang=lang: imports_of(s.text, lang),
             lambda s, g=g: tsq.js_imports(g, s.data)),
            ("definitions", lambda s, lang=lang: outline(s.text, lang),
             lambda s, g=g: tsq.js_definitions(g, s.data)),
        ]  # fmt: skip
        for part, ours, theirs in jobs:
            ours_s, mine = cpu(over(files, ours), repeat)
            ts_s, reference = cpu(over(files, theirs), repeat)
            score = truth.Score()
            for found, want in zip(mine, reference, strict=True):
                score.add(want, _script_items(part, found))
            rows.append(
                {
                    "corpus": f"{corpus.name} ({lang})",
                    "files": len(files),
                    "mb": corpus.mb,
                    "part": part,
                    "ours_ms_per_mb": ours_s * 1e3 / corpus.mb,
                    "ts_ms_per_mb": ts_s * 1e3 / corpus.mb,
                    "agreement": score.as_dict(),
                }
            )
    return rows


def _script_items(part: str, found: Any) -> list[tuple[int, str]]:
    if part == "imports":
        return sorted((r.line, r.spec) for r in found)
    kinds = ("class", "function")
    return sorted((s.line, s.name) for s in found if s.depth == 0 and s.kind in kinds)


# -- the report --------------------------------------------------------------------------------


def headline(python: list[dict[str, Any]]) -> dict[str, Any]:
    """tree-sitter's CPU per MB over ours for each job, and for all three from one parse."""
    by = {(r["part"], r["parser"]): r for r in python}
    out: dict[str, Any] = {}
    for part, ours in (
        ("imports", "ours (scan)"),
        ("definitions", "ours (scan)"),
        ("identifiers", "ours (regex)"),
        ("distinct ids", "ours (index_terms)"),
        ("all three", "ours (scans)"),
        ("deep index", "ours (scans)"),
    ):
        ts_label = (
            "tree-sitter (one parse)" if part in ("all three", "deep index") else "tree-sitter"
        )
        if (part, ts_label) in by:
            mine, theirs = by[(part, ours)], by[(part, ts_label)]
            out[part] = {
                "ours_ms_per_mb": mine["ms_per_mb"],
                "ts_ms_per_mb": theirs["ms_per_mb"],
                "ratio": theirs["ms_per_mb"] / mine["ms_per_mb"],
            }
    return out


def report(quick: bool, repeat: int, with_fts: bool) -> dict[str, Any]:
    grammars = tsq.load()
    python = python_corpora(quick)
    rows = measure_python(python, grammars, repeat)
    scripts = measure_scripts(script_corpora(quick), grammars, repeat)
    texts = [f.text for c in python for f in c.files]
    mb = sum(c.mb for c in python)
    return {
        "machine": machine_info("kimi-lsp", "tree-sitter", "tree-sitter-python"),
        "tree_sitter": None if grammars is None else {k: g.version for k, g in grammars.items()},
        "repeat": repeat,
        "corpora": [
            {
                "name": c.name,
                "files": len(c.files),
                "mb": c.mb,
                "ast_rejects": sum(f.tree is None for f in c.files),
            }
            for c in python
        ],
        "python": rows,
        "headline": headline(rows),
        "mid_edit": measure_mid_edit(python, grammars),
        "scripts": scripts,
        "fts5": fts.measure(texts, mb) if with_fts and fts.available() else None,
    }


def _pct(row: dict[str, Any], key: str) -> str:
    return f"{row[key]:.2%}" if key in row else "-"


def print_table(rep: dict[str, Any]) -> None:
    names = ", ".join(f"{c['name']} {c['files']} files {c['mb']:.1f} MB" for c in rep["corpora"])
    print(f"Python: {names}; CPU time, best of {rep['repeat']}")
    if rep["tree_sitter"] is None:
        print("tree-sitter is not installed (pip install -e '.[bench]'): our parsers only")
    head = ("job", "parser", "ms/MB", "precision", "recall", "files exact")
    print(f"{head[0]:12} {head[1]:30} {head[2]:>8} {head[3]:>10} {head[4]:>8} {head[5]:>12}")
    for r in rep["python"]:
        exact = f"{r['files_exact']}/{r['files']}" if "files" in r else "-"
        print(
            f"{r['part']:12} {r['parser']:30} {r['ms_per_mb']:8.1f} {_pct(r, 'precision'):>10} "
            f"{_pct(r, 'recall'):>8} {exact:>12}"
        )
    if rep["headline"]:
        print("\ntree-sitter / ours, CPU per MB:")
    for part, h in rep["headline"].items():
        print(
            f"  {part:12} {h['ts_ms_per_mb']:7.1f} / {h['ours_ms_per_mb']:6.1f} = {h['ratio']:.2f}x"
        )
    print("\nMid-edit (an unclosed call inserted at each file's middle), against ast before it:")
    for r in rep["mid_edit"]:
        print(
            f"  {r['part']:12} {r['parser']:16} precision {r['precision']:.2%}, "
            f"recall {r['recall']:.2%}, files exact {r['files_exact']}/{r['files']}"
        )
    if rep["scripts"]:
        print("\nJS/TS (agreement: tree-sitter's items the scan also finds, and vice versa)")
        for r in rep["scripts"]:
            a = r["agreement"]
            print(
                f"  {r['corpus']:28} {r['files']:5} files {r['mb']:5.1f} MB {r['part']:12} "
                f"ours {r['ours_ms_per_mb']:6.1f} ms/MB, "
                f"tree-sitter {r['ts_ms_per_mb']:6.1f} ms/MB; "
                f"recall {a['recall']:.1%}, precision {a['precision']:.1%}"
            )
    if rep["fts5"]:
        f = rep["fts5"]
        print(
            f"\nFTS5 vs IdentifierIndex ({f['files']} files, {f['queries']} queries of 3 rare ids)"
        )
        m = f["memory"]
        print(f"  in memory (search.py)     index {m['index_ms_per_mb']:6.1f} ms/MB, "
              f"query {m['query_ms']:.2f} ms")  # fmt: skip
        for name in ("raw_text", "identifiers", "index_terms"):
            d = f[name]
            print(
                f"  FTS5 fed {name:16} index {d['index_ms_per_mb']:6.1f} ms/MB, query "
                f"{d['query_ms']:.2f} ms, {d['disk_mb']:.1f} MB on disk, top-10 shared "
                f"{d['top10_shared']:.0%}"
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="click and rich only, one run")
    parser.add_argument("--repeat", type=int, default=None, help="runs per figure (best kept)")
    parser.add_argument("--no-fts", action="store_true", help="skip the FTS5 part")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    rep = report(args.quick, repeat, not args.no_fts)
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print_table(rep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
