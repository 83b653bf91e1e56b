"""bench/parsers.py's pure parts: the `ast` ground truth, the scoring, tree-sitter's query
answers on tricky Python, and the FTS5 helpers (small inputs, no timing judged)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import _parsers_fts as fts
import _parsers_truth as truth
import _parsers_ts as tsq
import parsers
from kimi_lsp.context.imports import imports_of
from kimi_lsp.context.search import STOP_WORDS, identifiers
from kimi_lsp.context.symbols import outline

SAMPLE = '''"""A module: import nothing here."""
from __future__ import annotations, division as div
import os.path as osp, sys
from ..pkg import (alpha as a2,
    beta)
from . import sibling
from mod import *

if sys.version_info > (3,):
    def top(param, *rest, key: int = 1, **extra):
        import json  # nested imports count
        def inner():
            class Hidden: ...
        head, *tail = param
        return json.dumps(osp.join(param, key=key))
else:
    class Fallback: pass

class Outer(Base, metaclass=Meta):
    class Inner:
        async def method(self, value): return value.attribute_name
    @property
    def prop(self):
        try:
            pass
        except ValueError as error_name:
            global counter_name
            return lambda lam_arg: lam_arg
'''


def test_score_counts_items_as_multisets_summed_over_files() -> None:
    score = truth.Score()
    score.add(["a", "a", "b"], ["a", "b", "c"])
    score.add(["x"], ["x"])
    assert (score.expected, score.found, score.matched) == (4, 4, 3)
    assert score.precision == pytest.approx(0.75) and score.recall == pytest.approx(0.75)
    assert (score.files, score.files_exact) == (2, 1)
    assert truth.Score().precision == 1.0  # nothing found, nothing wrong


def test_ast_imports_one_item_per_module_and_per_from_statement() -> None:
    tree = truth.parse(SAMPLE)
    assert tree is not None
    assert truth.ast_imports(tree) == [
        (1, "__future__", ("annotations", "division")),
        (2, "os.path", ()),
        (2, "sys", ()),
        (3, "..pkg", ("alpha", "beta")),
        (5, ".", ("sibling",)),
        (6, "mod", ("*",)),
        (10, "json", ()),
    ]


def test_ast_definitions_leave_out_what_a_function_holds() -> None:
    tree = truth.parse(SAMPLE)
    assert tree is not None
    assert truth.ast_definitions(tree) == [
        (9, "top", "def"),
        (16, "Fallback", "class"),
        (18, "Outer", "class"),
        (19, "Inner", "class"),
        (20, "method", "def"),
        (22, "prop", "def"),
    ]


def test_ast_identifiers_are_names_and_attributes_search_would_keep() -> None:
    tree = truth.parse(SAMPLE)
    assert tree is not None
    found = Counter(truth.ast_identifiers(tree, STOP_WORDS))
    assert found["param"] == 2 and found["attribute_name"] == 1 and found["tail"] == 1
    assert found["key"] == 1 and found["lam_arg"] == 1  # `key=key`, the lambda's body
    assert "self" not in found  # a stop word
    # def names, parameters, `except ... as`, `global` and imports bind names: no Name nodes
    assert not {"top", "rest", "extra", "error_name", "counter_name"} & set(found)
    assert truth.parse("def broken(:\n") is None


def test_the_servers_scans_reduce_to_the_same_items_as_ast_on_the_sample() -> None:
    tree = truth.parse(SAMPLE)
    assert tree is not None
    scanned = truth.ref_items(imports_of(SAMPLE, "python", exact=False))
    assert scanned == truth.ast_imports(tree)
    assert truth.symbol_items(outline(SAMPLE, "python", exact=False)) == truth.ast_definitions(tree)
    words = truth.counted(identifiers(SAMPLE))
    assert "nothing" in words  # the regex reads the docstring too: why its precision is low


@pytest.fixture(scope="module")
def grammars() -> dict[str, Any]:
    loaded = tsq.load()
    if loaded is None:
        pytest.skip("tree-sitter is not installed (pip install -e '.[bench]')")
    return loaded


def test_tree_sitter_queries_give_ast_answers_on_tricky_python(grammars: dict[str, Any]) -> None:
    tree = truth.parse(SAMPLE)
    assert tree is not None
    g, data = grammars["python"], SAMPLE.encode()
    assert tsq.py_imports(g, data) == truth.ast_imports(tree)
    assert tsq.py_definitions(g, data) == truth.ast_definitions(tree)
    assert tsq.py_definitions_walk(g, data) == truth.ast_definitions(tree)
    found = truth.counted(tsq.py_identifiers(g, data, stop=STOP_WORDS))
    assert found == truth.ast_identifiers(tree, STOP_WORDS)
    every = tsq.py_identifiers(g, data, skip=False, stop=STOP_WORDS)
    assert every["top"] == 1 and every["lam_arg"] == 2  # without @skip: names that bind too


def test_tree_sitter_script_queries(grammars: dict[str, Any]) -> None:
    source = b"""import x, {a} from './a';
export {b} from "b";
const c = require('c');
async function load() { return import('./d'); }
export class Shape {}
export const arrow = () => 1;
const value = 3;
"""
    g = grammars["typescript"]
    assert tsq.js_imports(g, source) == [(0, "./a"), (1, "b"), (2, "c"), (3, "./d")]
    assert tsq.js_definitions(g, source) == [(3, "load"), (4, "Shape"), (5, "arrow")]
    assert tsq.js_definitions(grammars["javascript"], source.replace(b"export ", b"")) == [
        (3, "load"),
        (4, "Shape"),
        (5, "arrow"),
    ]


def test_headline_divides_tree_sitter_by_ours_per_job() -> None:
    rows = [
        {"part": "imports", "parser": "ours (scan)", "ms_per_mb": 20.0},
        {"part": "imports", "parser": "tree-sitter", "ms_per_mb": 100.0},
        {"part": "all three", "parser": "ours (scans)", "ms_per_mb": 50.0},
        {"part": "all three", "parser": "tree-sitter (one parse)", "ms_per_mb": 75.0},
        {"part": "identifiers", "parser": "ours (regex)", "ms_per_mb": 10.0},
    ]
    head = parsers.headline(rows)
    assert head["imports"]["ratio"] == pytest.approx(5.0)
    assert head["all three"]["ratio"] == pytest.approx(1.5)
    assert "identifiers" not in head  # no tree-sitter row for it: no ratio


def test_fts_match_expression_quotes_every_term() -> None:
    assert fts.match_expression(["a_b", 'we"ird']) == '"a_b" OR "we""ird"'


@pytest.mark.skipif(not fts.available(), reason="this SQLite has no FTS5")
def test_fts_measure_ranks_files_sharing_rare_identifiers() -> None:
    texts = [
        f"def f{i}():\n    return shared_name + rare_{i % 5} + common_term\n" for i in range(40)
    ]
    report = fts.measure(texts, mb=0.01, queries=10)
    assert report["queries"] > 0
    for feed in ("raw_text", "identifiers"):
        assert 0.0 < report[feed]["top10_shared"] <= 1.0
        assert report[feed]["disk_mb"] > 0


def test_mid_edit_inserts_an_unclosed_call_and_items_shift_past_it() -> None:
    text, at = truth.mid_edit("import a\nclass C:\n    x = 1\n    def f(self): ...\n")
    assert at == 2 and text.split("\n")[2] == "    result = compute(value,"
    assert truth.parse(text) is None  # what an open document often is
    items = [(0, "a", ()), (3, "f", "def")]
    assert truth.shifted(items, at) == [(0, "a", ()), (4, "f", "def")]
