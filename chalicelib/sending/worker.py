"""Send one batch of send-queue messages: every recipient mailed exactly once, at this invocation's rate.

For each recipient: skip if suppressed (recorded once in the ledger), claim the ledger entry (conditional
write), render, wait for a rate token, SendEmail, mark sent with the message id. A few threads keep
several SES calls in flight so that SES latency does not cap the rate; they take the batch's recipients in
order, whole batch at once, so the rate does not sag at the end of each message.

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
- SES refuses this one address (a "suspect" refusal, ses.py) while it accepts others of the same campaign:
  the recipient is marked failed and joins the letter list.

A fault that is not about one person never fails that person
-------------------------------------------------------------
SES answers a bad tag, a malformed sender or a refused configuration with the same codes it uses for a bad
address, and our own render error is never the reader's fault. So:

- an account-wide refusal (ses.py) stops this invocation at once;
- a suspect refusal keeps its claim until the batch is done; when `STOP_AFTER` distinct recipients of a
  campaign are refused and none is accepted (in this batch or before, by the campaign's counters), the fault
  is the campaign's: sending stops and every held claim is given back;
- a render error gives the claim back at once, and `STOP_AFTER` of them on distinct recipients with nothing
  rendered stop sending too.

`stopped` then names the reason; the handler records the campaign as stopped (gate.py) and raises the alarm,
and `notis resume` queues the unsent again once the cause is fixed. Nobody was marked failed for it.

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
from concurrent.futures import Executor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from chalicelib.mail.mime import AddressError
from chalicelib.recipients.email import UnsendableEmail
from chalicelib.sending import ledger as L
from chalicelib.sending.ids import KEY_RE, SEND_ID_RE
from chalicelib.sending.ratelimit import RateLimiter
from chalicelib.sending.ses import Retry, SendError, build_request, plain_reason, send
from chalicelib.verify.codes import CodeBook, CodeTaken

log = logging.getLogger("notis.sending")

MAX_RECIPIENTS = 50
DEFAULT_LEASE_SECONDS = 20 * 60.0
STOP_AFTER = 3  # distinct recipients refused alike, and nobody accepted: the campaign's fault, not theirs


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
    if not SEND_ID_RE.match(doc["send_id"]):
        raise BadMessage("field 'send_id' is not a send id")
    raw = doc.get("recipients")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_RECIPIENTS:
        raise BadMessage(f"'recipients' must be a list of 1 to {MAX_RECIPIENTS}")
    recipients = []
    for i, r in enumerate(raw):
        if not isinstance(r, dict) or not all(isinstance(r.get(f), str) and r.get(f) for f in ("key", "email")):
            raise BadMessage(f"recipient {i} lacks key or email")
        if not KEY_RE.match(r["key"]):
            raise BadMessage(f"recipient {i} key is not a recipient key")
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


@dataclass(frozen=True)
class Held:
    """A recipient SES refused with a suspect code: claimed by us until the batch decides."""

    index: int
    job: SendJob
    recipient: Recipient
    owner: str
    code: str


@dataclass
class Evidence:
    """Per campaign in this invocation: what SES accepted, and whom it refused or we could not render."""

    accepted: int = 0
    refused: set[str] = field(default_factory=set)
    refused_codes: set[str] = field(default_factory=set)
    unrendered: set[str] = field(default_factory=set)


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
        stopped: str = "",
        codes: Any = None,
        executor: Executor | None = None,
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
        self.executor = executor  # kept by the caller across invocations (handlers.py); else one per process()
        self.lease_seconds = lease_seconds
        # Ledger entries expire with the incident's retention period (DynamoDB TTL on expires_at).
        self.retention_days = retention_days if callable(retention_days) else (lambda _incident: retention_days)
        self.now = now
        self.sleep = sleep
        self.retry = retry
        self.new_reference = new_reference or _reference
        # Where codes are recorded (chalicelib/verify/codes.py): the ledger's table unless injected.
        self.codes = codes or CodeBook(ledger.client, ledger.table)
        self.stopped = stopped  # why all sending stopped, in plain words ("" while it goes on)
        self.stop_code = "config" if stopped else ""
        self.stats = Stats()
        self._lock = threading.Lock()
        self._evidence: dict[str, Evidence] = {}
        self._held: list[Held] = []
        self._sent_before: dict[tuple[str, str], bool] = {}

    def process(self, jobs: Iterable[SendJob]) -> list[Outcome]:
        """Send every recipient of these jobs; one Outcome per job, in order."""
        jobs = list(jobs)
        outcomes = [Outcome() for _ in jobs]
        keys = [r.key for job in jobs for r in job.recipients]
        suppressed = self.ledger.suppressed(keys) if keys and not self.stopped else {}
        work = [(i, job, r) for i, job in enumerate(jobs) for r in job.recipients]
        results: list[tuple[str, str] | None] = [None] * len(work)
        order, take, crashed = iter(range(len(work))), threading.Lock(), threading.Event()

        def drain() -> None:
            # A few threads take the next recipient in order, instead of a future per recipient: the first
            # claims start at once and a batch of thousands costs a handful of objects, not thousands.
            while not crashed.is_set():
                with take:
                    n = next(order, None)
                if n is None:
                    return
                i, job, r = work[n]
                try:
                    results[n] = self._one(i, job, r, suppressed.get(r.key))
                except BaseException:
                    crashed.set()  # nobody else starts a recipient; this one is not marked
                    raise

        threads = max(1, min(self.pool_size, len(work)))
        pool = self.executor or ThreadPoolExecutor(max_workers=threads, thread_name_prefix="notis-send")
        try:
            drains = [pool.submit(drain) for _ in range(threads)]
            wait(drains)  # all of them: none of this batch's threads may still run when it returns
            for running in drains:
                running.result()  # a crash (any BaseException) propagates: nothing is marked
            for (i, _job, _r), done in zip(work, results, strict=True):
                result, reason = done or ("pending", "")
                outcomes[i].add(result)
                if reason:
                    outcomes[i].reasons.append(reason)
            self._decide_held(outcomes)
        finally:
            if pool is not self.executor:
                pool.shutdown(wait=True)
            # No more tokens taken: the registration ends (share.py) while the counters are written.
            close = getattr(self.limiter, "close", None)
            closing = threading.Thread(target=close, name="notis-close") if close else None
            if closing:
                closing.start()
            flush = getattr(self.ledger, "flush_counters", None)
            try:
                if flush:  # what this invocation settled, counted once per campaign (ledger.py)
                    flush()
            finally:
                if closing:
                    closing.join()
        return outcomes

    # -- one recipient ---------------------------------------------------------------------------------------

    def _one(self, index: int, job: SendJob, r: Recipient, suppression: str | None) -> tuple[str, str]:
        if self.stopped:
            return "pending", "stopped"
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
        unrecorded = self._record_code(job, r, owner, claim.reference, now, expires)
        if unrecorded:
            return "pending", unrecorded
        try:
            raw = self.render(job, r, claim.reference)
            request = build_request(raw, sender=self.sender, to=r.email, send_id=job.send_id, key=r.key,
                                    configuration_set=self.configuration_set)
        except Exception as exc:
            if isinstance(exc, UnsendableEmail) or (isinstance(exc, AddressError) and exc.role == "recipient"):
                # This person's address cannot be used (the import should have said so): a letter, not a retry.
                self.ledger.mark_failed(job.send_id, r.key, owner=owner, now=self.now(), campaign=job.campaign,
                                        reason=f"unusable e-mail address: {exc}"[:200])
                return "failed", "address"
            # Content, template or our own code: never the reader's fault, so it never settles them.
            log.error("render failed; claim given back", extra={"send_id": job.send_id, "error": type(exc).__name__})
            self.ledger.release(job.send_id, r.key, owner=owner)
            self._note(job, unrendered=r.key)
            return "pending", "render"
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
            return self._failed(index, job, r, owner, error)
        self._note(job, accepted=True)
        self.ledger.mark_sent(
            job.send_id, r.key, owner=owner, message_id=message_id, now=self.now(), campaign=job.campaign
        )
        return "sent", ""

    def _record_code(self, job: SendJob, r: Recipient, owner: str, code: str, now: float, expires: int) -> str:
        """The code record the public check reads (chalicelib/verify/codes.py), before any mail carries the code.

        "" when recorded (or already, by an earlier claim of this entry). Otherwise the claim is given back and
        the reason returned: no mail goes without its record, and a fault that is not about this person never
        settles them. A code another message holds (hopeless at 58 bits, but) is forgotten, so the next claim
        draws a new one: no mail ever carried it to this person, since its record would then be theirs.
        """
        try:
            self.codes.record(code, send_id=job.send_id, campaign=job.campaign, key=r.key, now=now, expires_at=expires)
            return ""
        except CodeTaken:
            log.error("reference code already taken; claim given back for a new code", extra={"send_id": job.send_id})
            self.ledger.release(job.send_id, r.key, owner=owner, forget_reference=True)
            return "code-taken"
        except Exception as exc:  # an AWS fault (throttled, 5xx, timeout): retried through the queue
            log.error("code record not written; claim given back",
                      extra={"send_id": job.send_id, "error": type(exc).__name__})
            self.ledger.release(job.send_id, r.key, owner=owner)
            return "code-record"

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
            raise SendError("account", self.stop_code or "stopped")
        if not self.limiter.acquire(deadline=self.deadline):
            raise SendError("transient", "deadline")
        self.stats.bump("ses_calls")

    def _failed(self, index: int, job: SendJob, r: Recipient, owner: str, error: SendError) -> tuple[str, str]:
        if error.kind == "suspect":
            with self._lock:
                self._held.append(Held(index, job, r, owner, error.code))
            self._note(job, refused=(r.key, error.code))
            return "pending", f"suspect:{error.code}"
        if error.kind == "unknown":
            # SES may have taken it: keep the claim; its lease and the SES Send event decide (module docstring).
            log.warning("send outcome unknown", extra={"send_id": job.send_id, "code": error.code})
            return "pending", f"unknown:{error.code}"
        if error.kind == "account":
            self.stop(plain_reason(error.code), error.code)
        self.ledger.release(job.send_id, r.key, owner=owner)
        return "pending", f"{error.kind}:{error.code}"

    # -- stopping ----------------------------------------------------------------------------------------------

    def stop(self, reason: str, code: str) -> None:
        """Stop all sending in this invocation (first reason wins)."""
        with self._lock:
            if self.stopped:
                return
            self.stopped, self.stop_code = reason, code
        log.error("sending stopped", extra={"code": code, "reason": reason})

    def _note(
        self, job: SendJob, *, accepted: bool = False, refused: tuple[str, str] | None = None, unrendered: str = ""
    ) -> None:
        """Add to the campaign's evidence; stop once STOP_AFTER distinct people fail alike and nobody got mail."""
        with self._lock:
            seen = self._evidence.setdefault(job.campaign, Evidence())
            if accepted:
                seen.accepted += 1
                return
            if refused:
                seen.refused.add(refused[0])
                seen.refused_codes.add(refused[1])
            if unrendered:
                seen.unrendered.add(unrendered)
            if seen.accepted:
                return
            refused_n, unrendered_n, codes = len(seen.refused), len(seen.unrendered), sorted(seen.refused_codes)
        if unrendered_n >= STOP_AFTER:
            self.stop(f"the e-mail could not be made for {unrendered_n} different recipients and for nobody "
                      "else: check the incident content and the templates (notis check-content)", "render")
        elif refused_n >= STOP_AFTER and not self._accepted_before(job):
            self.stop(f"SES refused {refused_n} different recipients ({', '.join(codes)}) and accepted none: "
                      "the sender address, the message or the SES set-up is wrong, not the people", codes[0])

    def _accepted_before(self, job: SendJob) -> bool:
        """Did SES accept mail of this send before this invocation (the campaign's counters, read once)?"""
        key = (job.send_id, job.campaign)
        if key not in self._sent_before:
            try:
                self._sent_before[key] = int(self.ledger.counters(job.send_id, job.campaign).get("sent", 0) or 0) > 0
            except Exception:  # a read error is no evidence either way: do not blame people on it
                self._sent_before[key] = False
        return self._sent_before[key]

    def _decide_held(self, outcomes: list[Outcome]) -> None:
        """Suspect refusals: the people's own when their campaign's mail goes out, else nobody's (given back)."""
        for held in self._held:
            evidence = self._evidence.get(held.job.campaign, Evidence())
            personal = not self.stopped and (evidence.accepted > 0 or self._accepted_before(held.job))
            if personal and self.ledger.mark_failed(
                held.job.send_id, held.recipient.key, owner=held.owner, reason=f"refused by SES ({held.code})",
                now=self.now(), campaign=held.job.campaign,
            ):
                outcomes[held.index].pending -= 1
                outcomes[held.index].failed += 1
            elif not personal:
                self.ledger.release(held.job.send_id, held.recipient.key, owner=held.owner)
        self._held.clear()


def _reference() -> str:
    try:
        from chalicelib.mail.reference import new_reference
    except ImportError:  # pragma: no cover - the mail package is always packaged
        return secrets.token_hex(6)
    return new_reference()
