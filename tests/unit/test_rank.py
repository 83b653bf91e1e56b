"""Unit tests for PageRank (context/rank.py) on small graphs solved by hand."""

from __future__ import annotations

import random

import pytest

from kimi_lsp.context.rank import by_rank, pagerank

# Power iteration at d = 0.85 shrinks the error by 0.85 a step: 100 steps leave ~1e-7.


def test_a_cycle_shares_evenly() -> None:
    ranks = pagerank(["a", "b"], {"a": {"b": 1}, "b": {"a": 1}})
    assert ranks == pytest.approx({"a": 0.5, "b": 0.5})


def test_a_dangling_node_teleports_its_mass() -> None:
    # a -> b; b has no edges, so its mass teleports (uniformly). With d = 0.85:
    # r_a = 0.15/2 + 0.85 * r_b/2 and r_a + r_b = 1, so r_a = 0.5/1.425 = 20/57.
    ranks = pagerank(["a", "b"], {"a": {"b": 1}})
    assert ranks["a"] == pytest.approx(20 / 57, abs=1e-6)
    assert ranks["b"] == pytest.approx(37 / 57, abs=1e-6)


def test_personalized_star() -> None:
    # Teleport only to a; a -> b, a -> c, b -> a, c -> a:
    # r_a = 0.15 + 0.85 (r_b + r_c), r_b = r_c = 0.85 r_a / 2, so r_a = 0.15/0.2775 = 20/37.
    edges = {"a": {"b": 1, "c": 1}, "b": {"a": 1}, "c": {"a": 1}}
    ranks = pagerank("abc", edges, {"a": 1})
    assert ranks["a"] == pytest.approx(20 / 37, abs=1e-6)
    assert ranks["b"] == pytest.approx(17 / 74, abs=1e-6)
    assert ranks["b"] == ranks["c"]
    assert by_rank(ranks) == ["a", "b", "c"]  # b and c tie: path order


def test_weights_split_the_walk() -> None:
    # a -> b (3), a -> c (1); b and c dangle back to a (the only teleport target):
    # r_a = 20/37 as above, r_b = 0.85 * 3/4 * r_a = 51/148, r_c = 0.85 * 1/4 * r_a = 17/148.
    ranks = pagerank("abc", {"a": {"b": 3, "c": 1}}, {"a": 2})
    assert ranks == pytest.approx({"a": 80 / 148, "b": 51 / 148, "c": 17 / 148}, abs=1e-6)


def test_lower_damping_keeps_mass_at_the_focus() -> None:
    # a -> b -> c, teleport to a, d = 0.5: r_a = 0.5 + 0.5 r_c (c dangles), r_b = 0.5 r_a,
    # r_c = 0.5 r_b, so r_a = 0.5 + 0.125 r_a: r_a = 4/7, r_b = 2/7, r_c = 1/7.
    ranks = pagerank("abc", {"a": {"b": 1}, "b": {"c": 1}}, {"a": 1}, damping=0.5)
    assert ranks == pytest.approx({"a": 4 / 7, "b": 2 / 7, "c": 1 / 7}, abs=1e-6)


def test_ignored_edges_and_unreachable_nodes() -> None:
    # Self-loops, unknown targets and zero weights are no edges: a dangles like b and c.
    edges = {"a": {"a": 5, "zzz": 1, "b": 0}}
    ranks = pagerank(["c", "b", "a"], edges, {"a": 1, "zzz": 3})
    assert ranks == pytest.approx({"a": 1.0, "b": 0.0, "c": 0.0})
    assert by_rank(ranks) == ["a", "b", "c"]
    assert pagerank([], {"a": {"b": 1}}) == {}
    assert sum(pagerank("xyz", {}, {}).values()) == pytest.approx(1.0)


def test_the_same_graph_gives_the_same_floats_in_any_order() -> None:
    rng = random.Random(7)
    nodes = [f"n{i:02}" for i in range(40)]
    edges = {
        node: {rng.choice(nodes): float(rng.randint(1, 4)) for _ in range(rng.randint(0, 5))}
        for node in nodes
    }
    personal = {"n03": 4.0, "n17": 1.0}
    first = pagerank(nodes, edges, personal)
    shuffled_nodes = nodes[:]
    rng.shuffle(shuffled_nodes)
    shuffled_edges = {
        node: dict(reversed(list(edges[node].items()))) for node in reversed(list(edges))
    }
    again = pagerank(shuffled_nodes, shuffled_edges, dict(reversed(list(personal.items()))))
    assert again == first  # exactly: the same floats, so the same map bytes
    assert sum(first.values()) == pytest.approx(1.0)
    assert by_rank(first) == by_rank(again)
