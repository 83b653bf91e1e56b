"""PageRank by power iteration over a weighted directed graph, personalized, deterministic."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["DAMPING", "by_rank", "pagerank"]

DAMPING = 0.85  # the usual share of a step that follows an edge rather than teleporting
TOLERANCE = 1e-10  # stop when the ranks move less than this in total (L1)
MAX_ITERATIONS = 100


def pagerank(
    nodes: Iterable[str],
    edges: Mapping[str, Mapping[str, float]],
    personal: Mapping[str, float] | None = None,
    damping: float = DAMPING,
) -> dict[str, float]:
    """Each node's stationary probability under a random walk along `edges` (source -> target ->
    weight) that teleports, with probability 1 - `damping` and from nodes without edges, to a
    node drawn from `personal` (weights, normalized; uniform when empty or None).

    Edges to nodes outside `nodes`, self-loops and weights <= 0 are ignored. The nodes are
    visited in sorted order, so the same graph always gives the same floats.
    """
    names = sorted(set(nodes))
    n = len(names)
    if n == 0:
        return {}
    index = {name: i for i, name in enumerate(names)}
    teleport = _teleport(names, index, personal)
    out: list[list[tuple[int, float]]] = []
    for name in names:
        targets = edges.get(name, {})
        row = [
            (index[target], weight)
            for target, weight in sorted(targets.items())
            if weight > 0 and target != name and target in index
        ]
        total = sum(weight for _, weight in row)
        out.append([(j, weight / total) for j, weight in row])
    ranks = list(teleport)
    for _ in range(MAX_ITERATIONS):
        following = [0.0] * n
        dangling = 0.0
        for i, row in enumerate(out):
            mass = ranks[i]
            if not row:
                dangling += mass
                continue
            mass *= damping
            for j, share in row:
                following[j] += mass * share
        spread = (1.0 - damping) + damping * dangling  # per unit of the teleport vector
        moved = 0.0
        for i in range(n):
            value = following[i] + spread * teleport[i]
            moved += abs(value - ranks[i])
            following[i] = value
        ranks = following
        if moved < TOLERANCE:
            break
    return dict(zip(names, ranks, strict=True))


def _teleport(
    names: list[str], index: Mapping[str, int], personal: Mapping[str, float] | None
) -> list[float]:
    weights = [0.0] * len(names)
    for name, weight in (personal or {}).items():
        if name in index and weight > 0:
            weights[index[name]] += weight
    total = sum(weights)
    if total <= 0:
        return [1.0 / len(names)] * len(names)
    return [weight / total for weight in weights]


def by_rank(ranks: Mapping[str, float]) -> list[str]:
    """The nodes, highest rank first; equal ranks in path order."""
    return sorted(ranks, key=lambda name: (-ranks[name], name))
