"""The circuit breaker: opens after repeated outages, half-opens once per cool-down, backs off."""

from __future__ import annotations

from kimi_lsp.model.breaker import CircuitBreaker, OffsetClock

KEY = ("https://primary/v1", "kimi-k2.6")


def breaker(clock: OffsetClock) -> CircuitBreaker:
    return CircuitBreaker(threshold=3, cool_down=30.0, max_cool_down=100.0, clock=clock)


def frozen() -> OffsetClock:
    return OffsetClock(base=lambda: 1000.0)


def test_closed_until_the_threshold_of_consecutive_outages() -> None:
    cb = breaker(frozen())
    cb.failed(KEY)
    cb.failed(KEY)
    assert cb.allow(KEY) and not cb.is_open(KEY)
    cb.succeeded(KEY)  # an answer resets the count
    cb.failed(KEY)
    cb.failed(KEY)
    assert cb.allow(KEY)
    cb.failed(KEY)
    assert cb.is_open(KEY) and not cb.allow(KEY)
    assert cb.allow(("another", "endpoint"))


def test_one_probe_after_the_cool_down_and_its_success_closes() -> None:
    clock = frozen()
    cb = breaker(clock)
    for _ in range(3):
        cb.failed(KEY)
    clock.advance(29.9)
    assert not cb.allow(KEY)
    clock.advance(0.1)
    assert cb.allow(KEY)  # the probe
    assert not cb.allow(KEY)  # only one probe at a time
    cb.succeeded(KEY)
    assert cb.allow(KEY) and cb.allow(KEY) and not cb.is_open(KEY)


def test_a_failed_probe_doubles_the_cool_down_up_to_the_cap() -> None:
    clock = frozen()
    cb = breaker(clock)
    for _ in range(3):
        cb.failed(KEY)
    waits = []
    for _ in range(4):
        waited = 0.0
        while not cb.allow(KEY):
            clock.advance(10.0)
            waited += 10.0
        waits.append(waited)
        cb.failed(KEY)
    assert waits == [30.0, 60.0, 100.0, 100.0]


def test_a_cancelled_probe_passes_the_turn_on() -> None:
    clock = frozen()
    cb = breaker(clock)
    for _ in range(3):
        cb.failed(KEY)
    clock.advance(30.0)
    assert cb.allow(KEY)
    cb.released(KEY)
    assert cb.allow(KEY)  # the next request probes
    assert cb.is_open(KEY)


def test_forget_drops_endpoints_no_longer_configured() -> None:
    cb = breaker(frozen())
    for _ in range(3):
        cb.failed(KEY)
    cb.forget({KEY})
    assert cb.is_open(KEY)
    cb.forget(set())
    assert not cb.is_open(KEY) and cb.allow(KEY)
