"""Each invocation's share of the SES rate follows the invocations sending now (chalicelib/sending/share.py).

What a user notices: the end of a campaign no longer goes out at a fraction of the rate while the other
invocations sit idle, and the account's rate is never exceeded for more than a moment. Driven with a fake
clock; the registry is the real one on moto where it matters.
"""

from __future__ import annotations

import threading

import pytest
from sending_helpers import FakeClock

from chalicelib import aws as aws_clients
from chalicelib.sending.share import SharedLimiter, TableRegistry


class MemoryRegistry:
    def __init__(self) -> None:
        self.until: dict[str, float] = {}
        self.lock = threading.Lock()
        self.looks = 0

    def register(self, owner: str, until: float) -> None:
        self.until[owner] = until

    def live(self, now: float) -> int:
        self.looks += 1
        return sum(1 for u in self.until.values() if u > now)

    def done(self, owner: str) -> None:
        self.until[owner] = 0


def _limiter(registry, clock: FakeClock, owner: str, *, rate: float = 14.0, concurrency: int = 2) -> SharedLimiter:
    return SharedLimiter(registry, owner, max_rate=rate, concurrency=concurrency, until=clock.now() + 300,
                         headroom=1.0, refresh=2.0, now=clock.now, clock=clock.mono, sleep=clock.sleep)


def _send_times(limiter: SharedLimiter, clock: FakeClock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        assert limiter.acquire()
        times.append(clock.mono())
    return times


def test_a_new_invocation_starts_at_the_fixed_share_even_when_it_is_alone():
    clock, registry = FakeClock(), MemoryRegistry()
    limiter = _limiter(registry, clock, "a")
    assert limiter.rate == pytest.approx(7.0)  # 14/s over a concurrency of 2, until its first look
    _send_times(limiter, clock, 20)  # three seconds at 7/s: it has looked and found itself alone
    assert limiter.rate == pytest.approx(14.0)


def test_the_last_invocation_takes_the_whole_rate_once_the_others_are_done():
    clock, registry = FakeClock(), MemoryRegistry()
    first, last = _limiter(registry, clock, "first"), _limiter(registry, clock, "last")
    _send_times(last, clock, 30)
    assert last.rate == pytest.approx(7.0)  # two sending: half each
    first.close()  # the other invocation ran out of people
    times = _send_times(last, clock, 60)
    gaps = [b - a for a, b in zip(times[-20:], times[-19:], strict=False)]
    assert max(gaps) == pytest.approx(1 / 14.0, rel=1e-4)  # its tail goes at the account's rate, not half of it


def test_a_crashed_invocation_only_slows_the_others_until_its_deadline():
    clock, registry = FakeClock(), MemoryRegistry()
    registry.register("crashed", clock.now() + 30)  # never said it was done
    registry.register("crashed too", clock.now() + 30)
    limiter = _limiter(registry, clock, "alive")
    assert limiter.rate == pytest.approx(14.0 / 3)  # three registered, two at most run: less from the start
    registry.done("crashed too")
    _send_times(limiter, clock, 30)
    assert limiter.rate == pytest.approx(7.0)
    clock.advance(30)
    _send_times(limiter, clock, 30)
    assert limiter.rate == pytest.approx(14.0)


def test_a_wave_of_invocations_never_sums_above_the_rate():
    clock, registry = FakeClock(), MemoryRegistry()
    limiters = [_limiter(registry, clock, f"i{i}", rate=100.0, concurrency=4) for i in range(4)]
    for _ in range(50):  # interleaved, as concurrent invocations would be
        for limiter in limiters:
            limiter.acquire()
        assert sum(limiter.rate for limiter in limiters) <= 100.0 + 1e-9


def test_without_a_registry_it_keeps_the_fixed_share():
    class Broken(MemoryRegistry):
        def register(self, owner: str, until: float) -> None:
            raise ConnectionError("table unreachable")

    clock = FakeClock()
    limiter = _limiter(Broken(), clock, "a")
    _send_times(limiter, clock, 40)
    assert limiter.rate == pytest.approx(7.0)
    limiter.close()  # nothing to end, no error


def test_the_table_registry_counts_live_invocations_only(aws):
    registry = TableRegistry(aws_clients.client("dynamodb"), aws["settings"].table)
    now = 1_700_000_000.0
    registry.register("a", now + 60)
    registry.register("b", now + 60)
    registry.register("old", now - 1)
    assert registry.live(now) == 2
    registry.done("a")
    assert registry.live(now) == 1


def test_the_first_send_does_not_wait_for_the_registration_and_none_is_left_behind():
    class Slow(MemoryRegistry):
        def __init__(self) -> None:
            super().__init__()
            self.go = threading.Event()

        def register(self, owner: str, until: float) -> None:
            assert self.go.wait(10)  # the table answers late
            super().register(owner, until)

    clock, registry = FakeClock(), Slow()
    limiter = SharedLimiter(registry, "a", max_rate=14.0, concurrency=2, until=clock.now() + 300, headroom=1.0,
                            now=clock.now, clock=clock.mono, sleep=clock.sleep, background=True)
    _send_times(limiter, clock, 5)  # sent while the registration is still being written
    assert limiter.rate == pytest.approx(7.0)  # at the fixed share meanwhile
    closing = threading.Thread(target=limiter.close)
    closing.start()
    registry.go.set()
    closing.join(10)
    assert not closing.is_alive() and registry.until == {"a": 0}  # written, then ended: nothing left that slows
