"""Unit tests for identifier extraction and the incremental BM25 index."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from kimi_lsp.context.search import IdentifierIndex, identifiers


def test_identifiers_counts_whole_names_and_drops_keywords_and_short_words() -> None:
    counts = identifiers("def parse_header(self, raw): return parse_header(raw) if ok else None")
    assert counts == {"parse_header": 2, "raw": 2}
    assert identifiers("const fooBar = x1; function fooBar() {}") == {"fooBar": 2}


COMMON = "result = compute(value)\nreturn result\n"


def workspace() -> IdentifierIndex:
    index = IdentifierIndex()
    for i in range(20):  # many files share the common words
        index.update(f"common/f{i:02}.py", COMMON * (i % 3 + 1))
    index.update("rare/tokenizer.py", "def load_bpe_ranks(path):\n    value = path\n")
    index.update("rare/other.py", "def unrelated_thing():\n    pass\n")
    return index


def test_a_shared_rare_identifier_outranks_many_shared_common_ones() -> None:
    query = "ranks = load_bpe_ranks(path)\nresult = compute(value)\nreturn result"
    ranked = workspace().rank(query, 5)
    assert ranked[0][0] == "rare/tokenizer.py"
    assert ranked[0][1] > 2 * ranked[1][1]
    assert "rare/other.py" not in [rel for rel, _ in ranked]


def test_rank_excludes_limits_and_breaks_ties_by_path() -> None:
    index = workspace()
    query = "load_bpe_ranks compute"
    ranked = index.rank(query, 3, exclude={"rare/tokenizer.py"})
    # equal files score equally (three copies of the common text beat one); ties go by path
    assert [rel for rel, _ in ranked] == ["common/f02.py", "common/f05.py", "common/f08.py"]
    assert ranked[0][1] == ranked[1][1] == ranked[2][1]
    assert index.rank(query, 0) == []
    assert IdentifierIndex().rank(query, 5) == []
    assert index.rank("nothing_matches_this", 5) == []


def test_updates_and_removals_change_the_ranking_even_after_a_query() -> None:
    index = workspace()
    assert index.rank("frobnicate_widget", 3) == []  # the postings of this term are now cached
    index.update("common/f05.py", "frobnicate_widget()\n")
    assert [rel for rel, _ in index.rank("frobnicate_widget", 3)] == ["common/f05.py"]
    index.update("common/f05.py", COMMON)
    assert index.rank("frobnicate_widget", 3) == []
    index.remove("rare/tokenizer.py")
    index.remove("rare/tokenizer.py")  # twice is harmless
    assert index.rank("load_bpe_ranks", 3) == []
    assert "rare/tokenizer.py" not in index and len(index) == 21
    assert index.document_frequency("compute") == 20


WORDS = ["alpha_one", "beta_two", "gamma_three", "delta_four", "common_word", "shared_name"]


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([f"{d}/{n}.py" for d in ("a", "b", "lib") for n in ("x", "y", "zz", "w")]),
        st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join),
        min_size=1,
        max_size=12,
    ),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join),
    st.randoms(use_true_random=False),
)
def test_ranking_does_not_depend_on_insertion_order(
    docs: dict[str, str], query: str, rng: random.Random
) -> None:
    items = list(docs.items())
    first, second = IdentifierIndex(), IdentifierIndex()
    for rel, text in items:
        first.update(rel, text)
    shuffled = items[:]
    rng.shuffle(shuffled)
    for rel, text in shuffled:
        second.update(rel, "stale text that gets replaced")
        second.update(rel, text)
    ranked = first.rank(query, 20)
    assert ranked == second.rank(query, 20)
    assert ranked == sorted(ranked, key=lambda item: (-item[1], item[0]))
    assert all(score > 0 for _, score in ranked)
