"""Each sending invocation's share of the account's SES rate: the rate divided by the invocations sending now.

A fixed share (rate / the event source's maximum concurrency) wastes the tail of every campaign: once the queue
is empty, the invocations that finished early sit idle while the last ones keep sending at their small share
(with batches of 10 messages the last 500 people went out at half the rate with two invocations). So each
invocation registers itself in the table (pk `senders`, sk its owner token, `until` its deadline), looks every
few seconds at how many registrations are live, and sends at `max_rate x headroom / live`; it deletes its
registration when it ends. A registration left by a crash ends at its `until` (the invocation's deadline) and
expires by TTL; meanwhile the others only send slower, never faster.

The registration is written while the invocation reads its campaign record and suppression list
(`background=True`): its first e-mail does not wait for two more round trips, and until the registration is
written it sends at the fixed share, which is where it starts anyway.

Never over the quota for more than a moment: a new invocation starts at the fixed share (or less, when more
are registered than the event source runs at once) and takes a larger one only at its next look, so a wave of
invocations starting together never sums above the rate; an invocation that starts while others run at a larger
share (a redelivered message at the end of a campaign) can add at most one fixed share until their next look
(SES absorbs short bursts; a throttle is retried).

Cost: one PutItem and one DeleteItem per invocation, and an eventually consistent Query (0.5 RRU for under
4 KB of registrations) at its start and every REFRESH_SECONDS; no write per e-mail.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.sending.ratelimit import HEADROOM, RateLimiter, per_invocation_rate

log = logging.getLogger("notis.sending")

SENDERS_PK = "senders"
REFRESH_SECONDS = 2.0


class Registry(Protocol):
    def register(self, owner: str, until: float) -> None: ...
    def live(self, now: float) -> int: ...
    def done(self, owner: str) -> None: ...


class TableRegistry:
    """The registrations as items of the notis table (low-level DynamoDB client)."""

    def __init__(self, client: Any, table: str):
        self.client = client
        self.table = table

    def register(self, owner: str, until: float) -> None:
        self.client.put_item(TableName=self.table, Item={
            "pk": {"S": SENDERS_PK}, "sk": {"S": owner}, "until": {"N": f"{until:.3f}"},
            "expires_at": {"N": str(int(until) + 3600)},  # TTL removes it an hour after its end
        })

    def live(self, now: float) -> int:
        count, kwargs = 0, {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "FilterExpression": "#u > :now",
            "ExpressionAttributeNames": {"#u": "until"},
            "ExpressionAttributeValues": {":pk": {"S": SENDERS_PK}, ":now": {"N": f"{now:.3f}"}},
            "Select": "COUNT",
        }
        while True:
            out = self.client.query(**kwargs)
            count += int(out.get("Count", 0))
            if "LastEvaluatedKey" not in out:
                return count
            kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    def done(self, owner: str) -> None:
        # Deleted, not marked: a Query pays for every item it reads, filtered out or not, and a campaign of a
        # million people has 2,000 invocations.
        self.client.delete_item(TableName=self.table, Key={"pk": {"S": SENDERS_PK}, "sk": {"S": owner}})


class SharedLimiter:
    """A RateLimiter whose rate follows the number of live registrations; `acquire` as RateLimiter's."""

    def __init__(
        self,
        registry: Registry,
        owner: str,
        *,
        max_rate: float,
        concurrency: int,
        until: float,
        headroom: float = HEADROOM,
        refresh: float = REFRESH_SECONDS,
        now: Callable[[], float] = time.time,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        background: bool = False,
    ):
        self.registry, self.owner = registry, owner
        self.until = until
        self.total = max_rate * headroom
        self.concurrency = max(1, concurrency)
        self.refresh, self.now, self.clock = refresh, now, clock
        self.limiter = RateLimiter(per_invocation_rate(max_rate, concurrency, headroom), clock=clock, sleep=sleep)
        self._lock = threading.Lock()
        self._looked = clock()  # the first look comes one refresh after the start, at the fixed share till then
        self._registered = False
        self._registering: threading.Thread | None = None
        if background:  # off the critical path: the fixed share is safe until it is done (module docstring)
            self._registering = threading.Thread(target=self._register, name="notis-register", daemon=True)
            self._registering.start()
        else:
            self._register()

    def _register(self) -> None:
        try:
            self.registry.register(self.owner, self.until)
            self._registered = True
            live = self.registry.live(self.now())  # more than `concurrency` (registrations left by crashes): less each
            self.limiter.set_rate(min(self.limiter.rate, self.total / max(1, live)))
        except Exception as exc:  # no registry, no larger share: the fixed one is always safe
            log.warning("sending at the fixed share: not registered", extra={"error": type(exc).__name__})

    @property
    def rate(self) -> float:
        return self.limiter.rate

    def _look(self) -> None:
        with self._lock:
            if not self._registered or self.clock() - self._looked < self.refresh:
                return
            self._looked = self.clock()
        try:
            live = self.registry.live(self.now())
        except Exception:  # keep the current share until the next look
            return
        self.limiter.set_rate(self.total / max(1, live))

    def acquire(self, deadline: float | None = None) -> bool:
        self._look()
        return self.limiter.acquire(deadline=deadline)

    def close(self) -> None:
        """This invocation sends no more: the others may take its share at their next look."""
        if self._registering is not None:
            self._registering.join()  # never leave a registration behind that is still being written
            self._registering = None
        if self._registered:
            self._registered = False
            try:
                self.registry.done(self.owner)
            except Exception as exc:  # its `until` ends it anyway
                log.warning("registration not ended; it ends at its deadline", extra={"error": type(exc).__name__})
