"""Send one batch of send-queue messages: every recipient mailed exactly once, at this invocation's rate.

For each recipient: skip if suppressed (recorded once in the ledger), claim the ledger entry (conditional
write), render, wait for a rate token, SendEmail, mark sent with the message id. A pool of threads keeps
several SES calls in flight so that SES latency does not cap the rate; the whole batch shares the pool so the
rate does not sag at the end of each message.

Exactly once, and the one window where it cannot be promised
-------------------------------------------------------------
SES has no idempotency key, so after SES accepted a message and before the ledger says `sent` (the process
dies, the mark-sent write fails, the reply is lost on the way back) nobody can ask SES whether the mail went.
What the design does about it:

- The outcome is *known* whenever SES answered: an error reply, or our own decision not to call it
  (deadline, account stopped, render failed). Then the claim is released at once (lease set to 0) and a
  redelivery sends; nothing is lost and nothing is doubled.
- The outcome is *unknown* after a crash, or a read timeout / dropped connection during the call (those are
  deliberately not retried in the invocation). The claim is then left alone until its lease runs out, and the
  lease (default 20 minutes) is longer than an invocation can live plus a settling time. With a configuration
  set, SES publishes a Send event for every accepted message, tagged with `notis_send`/`notis_key`; the events
  handler moves the claimed entry to `sent` (or delivered/bounced), so an expired claim whose mail did go out
  is never claimed again. Only if that event is later than the lease can a recipient get a second copy.
- Without a configuration set (no events) a claim that expired after an unknown outcome is sent again: the
  person may get the notice twice, never zero times. For a legal breach notice we prefer a rare duplicate to a
  silent miss; `attempts` > 1 in the ledger marks exactly these cases for the evidence.

Two more ways a recipient is settled without a send:

- A follow-up or update message carries `not_after` (epoch seconds, docs/internals.md): once that has passed
  (a message redriven from the DLQ days later, a queue that stood still during an outage) its recipients are
  recorded `expired` and nobody is mailed: a stale notice is worse than none, and staff see it in the status.
- Rendering that fails with ValueError (chalicelib.mail's MailError: unknown template or update; an address
  build_mime refuses) cannot be fixed by retrying: the recipient is marked failed with the reason and joins
  the letter list. Any other render error (a bug, content missing) gives the claim back and is retried.

Messages whose recipients are not all settled (claim held elsewhere, transient failure past the deadline,
account stopped) are reported back as batch item failures so SQS delivers them again; already settled
recipients are skipped on the next pass.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from chalicelib.sending import ledger as L
from chalicelib.sending.ratelimit import RateLimiter
from chalicelib.sending.ses import Retry, SendError, build_request, send, without_addresses

log = logging.getLogger("notis.sending")

MAX_RECIPIENTS = 50
DEFAULT_LEASE_SECONDS = 20 * 60.0


class BadMessage(ValueError):
    """A send-queue message that cannot be understood (it goes to the DLQ after its retries)."""


@dataclass(frozen=True)
class Recipient:
    key: str
    email: str
    names: tuple[str, ...]
    lang: str


@dataclass(frozen=True)
class SendJob:
    send_id: str
    campaign: str
    incident: str
    audience: str
    template: str
    recipients: tuple[Recipient, ...]
    update_id: str | None = None
    not_after: float | None = None  # epoch seconds; later than this, nobody of this message is mailed


def parse_job(body: str | bytes) -> SendJob:
    """Validate a send-queue message (docs/internals.md). Errors name fields, never values."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadMessage("message body is not JSON") from exc
    if not isinstance(doc, dict) or doc.get("v") != 1:
        raise BadMessage("message is not a version 1 send message")
    for name in ("send_id", "campaign", "incident", "audience", "template"):
        if not isinstance(doc.get(name), str) or not doc[name]:
            raise BadMessage(f"field {name!r} missing or not a string")
    raw = doc.get("recipients")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_RECIPIENTS:
        raise BadMessage(f"'recipients' must be a list of 1 to {MAX_RECIPIENTS}")
    recipients = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or not all(isinstance(r.get(f), str) and r.get(f) for f in ("key", "email")):
            raise BadMessage(f"recipient {i} lacks key or email")
        names = r.get("names") or []
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadMessage(f"recipient {i} names is not a list of strings")
        lang = r.get("lang") or "sv"
        recipients.append(Recipient(r["key"], r["email"], tuple(names), lang if isinstance(lang, str) else "sv"))
    update_id = doc.get("update_id")
    not_after = doc.get("not_after")
    if not_after is not None and (
        isinstance(not_after, bool) or not isinstance(not_after, int | float) or not math.isfinite(not_after)
    ):
        raise BadMessage("field 'not_after' is not a number of epoch seconds")
    return SendJob(
        send_id=doc["send_id"],
        campaign=doc["campaign"],
        incident=doc["incident"],
        audience=doc["audience"],
        template=doc["template"],
        recipients=tuple(recipients),
        update_id=update_id if isinstance(update_id, str) and update_id else None,
        not_after=float(not_after) if not_after is not None else None,
    )


Render = Callable[[SendJob, Recipient, str], bytes]
"""(job, recipient, reference code) -> the raw MIME message."""


@dataclass
class Outcome:
    """What happened to one message's recipients. `done` when none needs another delivery."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    suppressed: int = 0
    expired: int = 0
    pending: int = 0
    reasons: list[str] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.pending == 0

    def add(self, result: str) -> None:
        setattr(self, result, getattr(self, result) + 1)


def pool_size_for(rate: float, seconds_per_send: float = 0.25) -> int:
    """Enough threads to keep `rate` sends per second going when each takes `seconds_per_send` end to end."""
    return max(2, min(32, math.ceil(rate * seconds_per_send) + 2))


@dataclass
class Stats:
    """Per-invocation counts for the log line and the bench (thread-safe increments)."""

    throttled: int = 0
    ses_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)


class Worker:
    """One invocation's sender: a ledger, an SES client, a renderer, a limiter and a deadline."""

    def __init__(
        self,
        ledger: L.Ledger,
        ses_client: Any,
        render: Render,
        limiter: RateLimiter,
        *,
        sender: str,
        configuration_set: str = "",
        deadline: float | None = None,
        pool_size: int = 8,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        retention_days: int | Callable[[str], int] = 90,
        now: Callable[[], float] = time.time,
        mono: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        retry: Retry = Retry(),  # noqa: B008 - frozen value
        new_reference: Callable[[], str] | None = None,
    ):
        self.ledger = ledger
        self.ses = ses_client
        self.render = render
        self.limiter = limiter
        self.sender = sender
        self.configuration_set = configuration_set
        self.mono = mono
        self.deadline = deadline if deadline is not None else mono() + 600.0
        self.pool_size = max(1, pool_size)
        self.lease_seconds = lease_seconds
        # Ledger entries expire with the incident's retention period (DynamoDB TTL on expires_at).
        self.retention_days = retention_days if callable(retention_days) else (lambda _incident: retention_days)
        self.now = now
        self.sleep = sleep
        self.retry = retry
        self.new_reference = new_reference or _reference
        self.stopped = ""  # the SES error code that stopped all sending, if any
        self.stats = Stats()

    def process(self, jobs: Iterable[SendJob]) -> list[Outcome]:
        """Send every recipient of these jobs; one Outcome per job, in order."""
        jobs = list(jobs)
        outcomes = [Outcome() for _ in jobs]
        keys = [r.key for job in jobs for r in job.recipients]
        suppressed = self.ledger.suppressed(keys) if keys else {}
        work = [(i, job, r) for i, job in enumerate(jobs) for r in job.recipients]
        pool = ThreadPoolExecutor(max_workers=self.pool_size, thread_name_prefix="notis-send")
        try:
            futures = [(i, pool.submit(self._one, job, r, suppressed.get(r.key))) for i, job, r in work]
            for i, future in futures:
                result, reason = future.result()  # a crash (any BaseException) propagates: nothing is marked
                outcomes[i].add(result)
                if reason:
                    outcomes[i].reasons.append(reason)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return outcomes

    # -- one recipient ---------------------------------------------------------------------------------------

    def _one(self, job: SendJob, r: Recipient, suppression: str | None) -> tuple[str, str]:
        if self.stopped:
            return "pending", f"stopped:{self.stopped}"
        now = self.now()
        expires = int(now + self.retention_days(job.incident) * 86400)
        if suppression is not None:
            recorded = self.ledger.mark_suppressed(
                job.send_id, r.key, reason=suppression, now=now, expires_at=expires, campaign=job.campaign
            )
            return ("suppressed", "") if recorded else self._not_recorded(job, r, now, expires)
        if job.not_after is not None and now > job.not_after:
            recorded = self.ledger.mark_expired(
                job.send_id, r.key, not_after=job.not_after, now=now, expires_at=expires, campaign=job.campaign
            )
            return ("expired", "") if recorded else self._not_recorded(job, r, now, expires)
        if self.mono() >= self.deadline:
            return "pending", "deadline"
        owner = L.new_owner()
        claim = self.ledger.claim(
            job.send_id,
            r.key,
            owner=owner,
            now=now,
            lease=self.lease_seconds,
            reference=self.new_reference(),
            expires_at=expires,
            campaign=job.campaign,
        )
        if not claim.ok:
            return self._settled(job, r, claim.state, claim.campaign, now, expires)
        try:
            raw = self.render(job, r, claim.reference)
        except ValueError as exc:  # chalicelib.mail's MailError and address checks: retrying cannot fix it
            reason = "cannot render the e-mail: " + without_addresses(str(exc))
            log.error("render refused; recipient marked failed", extra={"send_id": job.send_id,
                                                                        "error": type(exc).__name__})
            self.ledger.mark_failed(
                job.send_id, r.key, owner=owner, reason=reason[:200], now=self.now(), campaign=job.campaign
            )
            return "failed", "render"
        except Exception as exc:  # a bug or missing content: SES never saw it, give the claim back
            log.error("render failed", extra={"send_id": job.send_id, "error": type(exc).__name__})
            self.ledger.release(job.send_id, r.key, owner=owner)
            return "pending", "render"
        request = build_request(
            raw,
            sender=self.sender,
            to=r.email,
            send_id=job.send_id,
            key=r.key,
            configuration_set=self.configuration_set,
        )
        try:
            message_id = send(
                self.ses,
                request,
                deadline=self.deadline,
                clock=self.mono,
                sleep=self.sleep,
                retry=self.retry,
                before_attempt=self._token,
                on_throttle=lambda: self.stats.bump("throttled"),
            )
        except SendError as error:
            return self._failed(job, r, owner, error)
        self.ledger.mark_sent(
            job.send_id, r.key, owner=owner, message_id=message_id, now=self.now(), campaign=job.campaign
        )
        return "sent", ""

    def _not_recorded(self, job: SendJob, r: Recipient, now: float, expires: int) -> tuple[str, str]:
        """Suppressed or expired, but the ledger entry exists: see whose it is (rare: read it)."""
        entry = self.ledger.get(job.send_id, r.key) or {}
        state = str(entry.get("state", ""))
        if state == L.CLAIMED and float(entry.get("lease_until", 0) or 0) >= now:
            return "pending", "held"
        return self._settled(job, r, state, str(entry.get("campaign", "")), now, expires)

    def _settled(
        self, job: SendJob, r: Recipient, state: str, campaign: str, now: float, expires: int
    ) -> tuple[str, str]:
        """Someone else holds or settled this entry: wait for a live claim; count an earlier campaign's once."""
        if state in ("held", "", L.CLAIMED):
            return "pending", "held"
        if campaign and campaign != job.campaign:
            self.ledger.count_already_notified(
                job.send_id, r.key, campaign=job.campaign, state=state, by=campaign, now=now, expires_at=expires
            )
        return "skipped", ""

    def _token(self) -> None:
        if self.stopped:
            raise SendError("account", self.stopped)
        if not self.limiter.acquire(deadline=self.deadline):
            raise SendError("transient", "deadline")
        self.stats.bump("ses_calls")

    def _failed(self, job: SendJob, r: Recipient, owner: str, error: SendError) -> tuple[str, str]:
        if error.kind == "recipient":
            reason = f"{error.code}: {error.detail}".strip(": ")
            self.ledger.mark_failed(
                job.send_id, r.key, owner=owner, reason=reason, now=self.now(), campaign=job.campaign
            )
            return "failed", error.code
        if error.kind == "unknown":
            # SES may have taken it: keep the claim; its lease and the SES Send event decide (module docstring).
            log.warning("send outcome unknown", extra={"send_id": job.send_id, "code": error.code})
            return "pending", f"unknown:{error.code}"
        if error.kind == "account" and not self.stopped:
            self.stopped = error.code
            log.error("SES refuses to send for the account; stopping", extra={"code": error.code})
        self.ledger.release(job.send_id, r.key, owner=owner)
        return "pending", f"{error.kind}:{error.code}"


def _reference() -> str:
    try:
        from chalicelib.mail.reference import new_reference
    except ImportError:  # pragma: no cover - the mail package is always packaged
        return secrets.token_hex(6)
    return new_reference()
