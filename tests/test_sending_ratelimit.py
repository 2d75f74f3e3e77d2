"""The per-invocation limiter never hands out more than burst + rate * t tokens in any interval (fake clock)."""

from __future__ import annotations

import itertools
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.sending.ratelimit import RateLimiter, per_invocation_rate


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def _max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best = j = 0
    for i, t in enumerate(times):
        while times[j] <= t - window + 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=600),
    gaps=st.lists(st.floats(min_value=0, max_value=3), min_size=1, max_size=300),
)
def test_never_more_than_the_rate_in_any_second(rate: float, gaps: list[float]) -> None:
    clock = Clock()
    limiter = RateLimiter(rate, clock=clock, sleep=clock.sleep)
    granted = []
    for gap in gaps:  # callers arrive with idle gaps in between; idle time must not build up a burst
        clock.t += gap
        limiter.acquire()
        granted.append(clock.t)
    assert _max_in_window(granted, 1.0) <= int(rate) + 1
    assert _max_in_window(granted, 1.0) <= rate + 1


def test_threads_share_the_rate_and_are_served_in_order() -> None:
    """Clock frozen: each thread's token is due at now + wait; the due times are evenly spaced at 1/rate."""
    frozen = 100.0
    due: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            due.append(frozen + seconds)

    limiter = RateLimiter(50, clock=lambda: frozen, sleep=sleep)
    threads = [threading.Thread(target=lambda: [limiter.acquire() for _ in range(25)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    due = sorted(due)
    assert len(due) == 200
    gaps = [b - a for a, b in itertools.pairwise(due)]
    assert min(gaps) == pytest.approx(1 / 50)
    assert _max_in_window(due, 1.0) == 50


def test_deadline_refuses_a_token_that_would_come_too_late_and_gives_it_back() -> None:
    clock = Clock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    assert not limiter.acquire(deadline=0.1)  # due at 0.5 (the bucket starts empty): too late, not taken
    assert clock.t == 0
    assert limiter.acquire(deadline=10) and clock.t == pytest.approx(0.5)  # the slot was still free
    assert limiter.acquire(deadline=10) and clock.t == pytest.approx(1.0)


def test_rate_per_invocation_splits_the_account_rate() -> None:
    assert per_invocation_rate(14, 2, headroom=1) == 7
    assert per_invocation_rate(100, 0, headroom=1) == 100
    assert per_invocation_rate(14, 2) < 7
    with pytest.raises(ValueError):
        per_invocation_rate(0, 2)
    with pytest.raises(ValueError):
        RateLimiter(0)
