"""A circuit breaker per endpoint: skip one that keeps failing, then probe it again later."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

THRESHOLD = 3  # consecutive outage failures that open the circuit
COOL_DOWN = 30.0  # seconds skipped after the circuit opens ...
MAX_COOL_DOWN = 300.0  # ... doubling after each failed probe, up to this


@dataclass(slots=True)
class _Circuit:
    failures: int = 0
    cool_down: float = 0.0
    open_until: float | None = None
    probing: bool = False


class CircuitBreaker:
    """Closed: every request goes through. After `threshold` consecutive outage failures it
    opens: requests skip the endpoint for a cool-down. Then it is half-open: one request (the
    probe) goes through; its success closes the circuit, its failure opens it again for twice
    the cool-down (at most `max_cool_down`).

    Only outages count (overloaded, rate limit, server, network, timeout, quota). An answer of
    any other kind (even an auth error) shows the endpoint is up; a cancelled call says
    nothing. `clock` is injectable so that tests move time instead of sleeping."""

    def __init__(
        self,
        *,
        threshold: int = THRESHOLD,
        cool_down: float = COOL_DOWN,
        max_cool_down: float = MAX_COOL_DOWN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = max(1, threshold)
        self.cool_down = cool_down
        self.max_cool_down = max(cool_down, max_cool_down)
        self._clock = clock
        self._circuits: dict[Hashable, _Circuit] = {}

    def allow(self, key: Hashable) -> bool:
        """May a request go to this endpoint now? True at most once per cool-down while open
        (that request is the probe: report its outcome with `succeeded`/`failed`/`released`)."""
        circuit = self._circuits.get(key)
        if circuit is None or circuit.open_until is None:
            return True
        if circuit.probing or self._clock() < circuit.open_until:
            return False
        circuit.probing = True
        return True

    def is_open(self, key: Hashable) -> bool:
        circuit = self._circuits.get(key)
        return circuit is not None and circuit.open_until is not None

    def succeeded(self, key: Hashable) -> None:
        """The endpoint answered: close its circuit."""
        self._circuits.pop(key, None)

    def failed(self, key: Hashable) -> None:
        """An outage: count it; open the circuit at the threshold, or again after a probe."""
        circuit = self._circuits.setdefault(key, _Circuit())
        circuit.failures += 1
        if circuit.probing:
            circuit.probing = False
            circuit.cool_down = min(circuit.cool_down * 2, self.max_cool_down)
        elif circuit.open_until is None and circuit.failures >= self.threshold:
            circuit.cool_down = self.cool_down
        else:
            return
        circuit.open_until = self._clock() + circuit.cool_down

    def released(self, key: Hashable) -> None:
        """The call ended without telling whether the endpoint is up (cancelled): a probe's
        turn passes to the next request."""
        circuit = self._circuits.get(key)
        if circuit is not None:
            circuit.probing = False

    def forget(self, keep: set[Hashable]) -> None:
        """Drop the circuits of endpoints no longer configured."""
        for key in [k for k in self._circuits if k not in keep]:
            del self._circuits[key]


class OffsetClock:
    """A monotonic clock that tests can move forward (`advance`) instead of sleeping."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += max(0.0, seconds)
