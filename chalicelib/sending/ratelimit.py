"""A token bucket per invocation so that all concurrent invocations together stay under the SES send rate.

SES measures the maximum send rate per second for the whole account. The send event source runs at most
`concurrency` invocations at once, so each one starts at `max_send_rate / concurrency` and takes a larger share
when fewer are sending (share.py). The bucket holds at most
`burst` tokens (default 1: evenly spaced sends, which is what never overshoots a per-second quota) and starts
empty, so an invocation that follows another one at once does not add a burst on top of its last sends; a caller
that finds no token reserves the next one and sleeps until it is due, so waiting threads are served in order
and the limiter never hands out more than `burst + rate * t` tokens in any interval of length t.

Clock and sleep are injected: tests and the bench drive it with a fake clock, deterministically.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HEADROOM = 0.985  # sends land a few ms late or early (scheduling); aiming just under the quota avoids most throttles


def per_invocation_rate(max_send_rate: float, concurrency: int, headroom: float = HEADROOM) -> float:
    """The share of the account's rate one invocation may use, a little under the quota."""
    if max_send_rate <= 0:
        raise ValueError("the SES maximum send rate must be positive")
    return max_send_rate * headroom / max(1, concurrency)


class RateLimiter:
    """Thread-safe token bucket; `acquire()` blocks (through the injected sleep) until a token is due."""

    def __init__(
        self,
        rate: float,
        *,
        burst: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if rate <= 0:
            raise ValueError("rate must be positive")
        if burst < 1:
            raise ValueError("burst must be at least one token")
        self.rate = float(rate)
        self.burst = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = 0.0  # start empty: no burst at the seam between two invocations
        self._updated = clock()

    def _reserve(self) -> float:
        """Take a token now or reserve the next one; return how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0  # may go negative: a queue of reservations, served in order
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate

    def set_rate(self, rate: float) -> None:
        """From now on, `rate` tokens per second (the tokens earned so far at the old rate are kept)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self.rate = float(rate)

    def acquire(self, deadline: float | None = None) -> bool:
        """Wait for one token. With a deadline (clock time) that the wait would pass, take none: False."""
        wait = self._reserve()
        if deadline is not None and self._clock() + wait > deadline:
            with self._lock:
                self._tokens += 1.0  # give the reservation back
            return False
        if wait > 0:
            self._sleep(wait)
        return True
