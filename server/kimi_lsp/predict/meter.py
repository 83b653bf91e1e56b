"""What edit prediction has cost and earned: counts, spend over the last hour, the cap."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["accepted", "rejected", "ignored"]
HOUR = 3_600.0


@dataclass(slots=True)
class PredictionMeter:
    """Counters for `kimi/status.prediction` and the per-hour spend cap.

    `made`: model calls started; `shown`: answers with something to show (ghost text items,
    next-edit lists); `typed_through`: answers served from an earlier suggestion without the
    model; `superseded`: calls answered empty because a newer request replaced them;
    `capped`: requests refused because the last hour's spend reached the cap."""

    clock: Callable[[], float] = time.monotonic
    made: int = 0
    shown: int = 0
    accepted: int = 0
    rejected: int = 0
    ignored: int = 0
    typed_through: int = 0
    superseded: int = 0
    cached: int = 0
    capped: int = 0
    cost: float = 0.0
    _spent: deque[tuple[float, float]] = field(default_factory=deque)

    def spend(self, cost: float) -> None:
        """Record what one prediction's usage cost."""
        self.cost += cost
        self._spent.append((self.clock(), cost))

    def spent_last_hour(self) -> float:
        now = self.clock()
        while self._spent and self._spent[0][0] <= now - HOUR:
            self._spent.popleft()
        return sum(cost for _, cost in self._spent)

    def over_cap(self, cap: float) -> bool:
        """Whether the last hour's spend has reached `cap` (counted as `capped` when so)."""
        over = cap <= 0 or self.spent_last_hour() >= cap
        if over:
            self.capped += 1
        return over

    def outcome(self, outcome: Outcome) -> None:
        if outcome == "accepted":
            self.accepted += 1
        elif outcome == "rejected":
            self.rejected += 1
        else:
            self.ignored += 1

    def to_wire(self, enabled: bool, cap: float) -> dict[str, Any]:
        """protocol.md's `kimi/status.prediction` (shown, accepted, rejected) and ours."""
        return {
            "enabled": enabled,
            "made": self.made,
            "shown": self.shown,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "typedThrough": self.typed_through,
            "superseded": self.superseded,
            "cached": self.cached,
            "capped": self.capped,
            "cost": round(self.cost, 6),
            "costLastHour": round(self.spent_last_hour(), 6),
            "maxCostPerHour": cap,
        }
