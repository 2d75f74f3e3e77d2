"""Event handlers behind app.py: plain functions of (event dict, settings), AWS clients injectable for tests.

Each handler imports what it needs when called, so the public page path never pays for boto3 or Powertools.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from chalicelib.config import Settings

POWERTOOLS_SERVICE = "notis-sender"  # must differ from the Chalice app name, or every line is logged twice
DEFAULT_BUDGET_SECONDS = 240.0  # without remaining_ms: under the send function's 300 s timeout
METRICS_NAMESPACE = "Notis"  # the SendingStopped alarm in .chalice/resources.json reads it

# ---------------------------------------------------------------------------------------------------------------
# send queue -> SES


def _retention_days(incident: str) -> int:
    """The incident's retention period, so ledger entries expire with the rest of its personal data."""
    from chalicelib.content.published import published_incidents

    found = published_incidents().get(incident)
    return found.retention_days if found else 90


def handle_send(
    event: dict,
    settings: Settings,
    *,
    ses: Any = None,
    dynamodb: Any = None,
    render: Any = None,
    remaining_ms: Callable[[], int] | None = None,
    now: Callable[[], float] = time.time,
    mono: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    lease_seconds: float | None = None,
    pool_size: int | None = None,
    ledger: Any = None,
    gate: Any = None,
    senders: Any = None,
    codes: Any = None,
) -> dict:
    """Send a batch of send-queue messages; return `batchItemFailures` naming only the unsettled messages.

    `remaining_ms` is the Lambda context's get_remaining_time_in_millis: no new send starts within a safety
    margin of the timeout, and what is left comes back through the queue. Messages are checked against their
    campaign record first (gate.py); when sending stops (an account-wide SES refusal, a campaign-wide fault,
    a sender address SES cannot take) the batch's campaigns are recorded as stopped and the alarm's metric
    is emitted. The invocation sends at its share of the account's rate: the rate divided by the invocations
    sending now (share.py; `senders` is their registry, the table by default).
    """
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from chalicelib import aws
    from chalicelib.sending.gate import CampaignGate
    from chalicelib.sending.ledger import Ledger, new_owner
    from chalicelib.sending.ratelimit import HEADROOM
    from chalicelib.sending.share import SharedLimiter, TableRegistry
    from chalicelib.sending.worker import DEFAULT_LEASE_SECONDS, BadMessage, Worker, parse_job, pool_size_for

    logger = Logger(service=POWERTOOLS_SERVICE)
    records = event.get("Records") or []
    parsed: list[Any] = []
    for record in records:
        try:
            parsed.append(parse_job(record.get("body", "")))
        except BadMessage as exc:
            logger.error("unreadable send message", extra={"message_id": record.get("messageId"), "error": str(exc)})
            parsed.append(exc)
    budget = (remaining_ms() / 1000.0 - 15.0) if remaining_ms else DEFAULT_BUDGET_SECONDS
    sender, misconfigured = _sender(settings)
    # Registered while the campaign records and the suppression list are read (share.py, background=True).
    limiter = SharedLimiter(
        senders or TableRegistry(dynamodb or aws.client("dynamodb"), settings.table),
        new_owner(),
        max_rate=settings.max_send_rate,
        concurrency=settings.send_concurrency,
        until=now() + max(0.0, budget) + 15.0,
        now=now,
        clock=mono,
        sleep=sleep,
        background=True,
    ) if any(not isinstance(p, Exception) for p in parsed) and not misconfigured else None
    gate = gate or CampaignGate(dynamodb or aws.client("dynamodb"), settings.table)
    try:
        parsed = _gated(parsed, gate, logger)
        if render is None:
            from chalicelib.sending.render import mail_renderer

            render = mail_renderer(sender=settings.sender, reply_to=settings.reply_to)
        jobs = [p for p in parsed if not isinstance(p, Exception | Dropped)]
        if limiter and not jobs:  # nothing of this batch may be sent after all
            limiter.close()
        _warn_if_too_big(jobs, settings, budget, logger)
        threads = pool_size or pool_size_for(settings.max_send_rate * HEADROOM)  # alone, it may take the whole rate
        worker = Worker(
            ledger or Ledger(dynamodb or aws.client("dynamodb"), settings.table, batch_counters=True),
            ses or aws.client("sesv2"),
            render,
            limiter if limiter and jobs else _NoSending(),
            sender=sender,
            configuration_set=settings.configuration_set,
            deadline=mono() + max(0.0, budget),
            pool_size=threads,
            lease_seconds=lease_seconds or DEFAULT_LEASE_SECONDS,
            retention_days=_retention_days,
            now=now,
            mono=mono,
            sleep=sleep,
            stopped=misconfigured,
            codes=codes,
            executor=_send_threads(threads),
        )
        outcomes = iter(worker.process(jobs))
    finally:
        if limiter:
            limiter.close()  # again is harmless
    results = [p if isinstance(p, Exception | Dropped) else next(outcomes) for p in parsed]
    if worker.stopped:
        _stop_campaigns(gate, {j.campaign for j in jobs}, worker, now, logger)
    position = iter(range(len(records)))

    def record_handler(record: Any) -> None:
        result = results[next(position)]  # Powertools calls this once per record, in order
        if isinstance(result, Exception):
            raise result
        if isinstance(result, Dropped):
            return
        if not result.done:
            raise RuntimeError(f"{result.pending} recipient(s) not settled: {sorted(set(result.reasons))}")

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=record_handler, processor=processor)
    totals = {
        k: sum(getattr(o, k) for o in results if not isinstance(o, Exception | Dropped))
        for k in ("sent", "skipped", "failed", "suppressed", "expired", "pending")
    }
    logger.info(
        "send batch",
        extra={
            **totals,
            "messages": len(records),
            "retry_messages": len(response["batchItemFailures"]),
            "dropped_stopped": sum(1 for r in results if isinstance(r, Dropped)),
            "throttled": worker.stats.throttled,
            "stopped": worker.stop_code,
        },
    )
    return response


_local = threading.local()


def _send_threads(size: int) -> Any:
    """The sender's threads, kept from one invocation to the next on the same thread.

    Lambda runs one invocation at a time in an execution environment, so a warm one reuses its threads instead
    of starting dozens again (about 0.2 ms of CPU each, several times that at 512 MB's share of a core). Per
    calling thread, not per process: the local stack and the bench run several "environments" in one process.
    """
    from concurrent.futures import ThreadPoolExecutor

    pool = getattr(_local, "pool", None)
    if pool is None or _local.size != size:
        if pool is not None:
            pool.shutdown(wait=False)
        _local.pool, _local.size = ThreadPoolExecutor(max_workers=size, thread_name_prefix="notis-send"), size
    return _local.pool


def _warn_if_too_big(jobs: list[Any], settings: Settings, budget: float, logger: Any) -> None:
    """A batch the fixed share cannot send before the timeout: the rest may wait for the visibility timeout.

    SendBatchSize is set by hand (docs/deploy.md); this names the mistake in the log instead of a slow campaign.
    """
    from chalicelib.sending.ratelimit import per_invocation_rate

    people = sum(len(j.recipients) for j in jobs)
    seconds = people / per_invocation_rate(settings.max_send_rate, settings.send_concurrency)
    if people and seconds > budget:
        logger.warning("batch may be too big to send before the timeout: lower SendBatchSize",
                       extra={"people": people, "seconds_needed": round(seconds), "seconds_left": round(budget)})


class _NoSending:
    """The limiter of an invocation that sends nothing (no sendable job, or the sender is misconfigured)."""

    def acquire(self, deadline: float | None = None) -> bool:
        return False


class Dropped:
    """A message of a stopped campaign: acknowledged, its recipients untouched (notis resume queues them)."""


def _gated(parsed: list[Any], gate: Any, logger: Any) -> list[Any]:
    """Each job checked against its campaign record: sendable, dropped (stopped) or refused (BadMessage)."""
    from chalicelib.sending.gate import SENDABLE, STOPPED
    from chalicelib.sending.worker import BadMessage

    jobs = [p for p in parsed if not isinstance(p, Exception)]
    states = gate.states(j.campaign for j in jobs) if jobs else {}
    out: list[Any] = []
    for p in parsed:
        if isinstance(p, Exception):
            out.append(p)
            continue
        state = states.get(p.campaign)
        if state == STOPPED:
            logger.info("message of a stopped campaign dropped", extra={"campaign": p.campaign})
            out.append(Dropped())
        elif state not in SENDABLE:
            why = "has no campaign record" if state is None else f"names a campaign that is {state}"
            logger.error("send message refused", extra={"campaign": p.campaign[:40], "error": why})
            out.append(BadMessage(f"the message {why}"))
        else:
            out.append(p)
    return out


def _sender(settings: Settings) -> tuple[str, str]:
    """(From as SES takes it, "") or ("", why sending cannot start): checked once, before any claim."""
    from chalicelib.mail.mime import sender_address

    try:
        if settings.reply_to:
            sender_address(settings.reply_to, "reply-to")
        return sender_address(settings.sender), ""
    except ValueError as exc:
        return "", f"the configured sender (SenderAddress / NOTIS_SENDER or the reply-to) is unusable: {exc}"


def _stop_campaigns(gate: Any, campaigns: set[str], worker: Any, now: Callable[[], float], logger: Any) -> None:
    """Record every campaign of the batch as stopped with the reason; count each stop for the alarm."""
    from datetime import UTC, datetime

    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    at = datetime.fromtimestamp(now(), UTC).isoformat(timespec="seconds")
    metrics = Metrics(namespace=METRICS_NAMESPACE, service=POWERTOOLS_SERVICE)
    for campaign in sorted(campaigns):
        if gate.stop(campaign, reason=worker.stopped, code=worker.stop_code or "stopped", now=at):
            logger.error("campaign stopped", extra={"campaign": campaign, "code": worker.stop_code})
            metrics.add_metric(name="SendingStopped", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


# ---------------------------------------------------------------------------------------------------------------
# SES events (configuration set -> EventBridge) -> ledger

SES_DETAIL_TYPES = {
    "Email Sent": "Send",
    "Email Delivered": "Delivery",
    "Email Bounced": "Bounce",
    "Email Complained": "Complaint",
    "Email Rejected": "Reject",
    "Email Delivery Delayed": "DeliveryDelay",
}


def _tag(tags: Any, name: str) -> str | None:
    value = tags.get(name) if isinstance(tags, dict) else None
    if isinstance(value, list) and value and isinstance(value[0], str):
        return value[0]
    return value if isinstance(value, str) else None


def handle_ses_event(
    event: dict, settings: Settings, *, dynamodb: Any = None, now: Callable[[], float] = time.time
) -> None:
    """Record an SES event on the ledger entry named by its tags; idempotent under redelivery.

    Unknown or malformed events are logged (type and reason only: SES events carry addresses) and ignored;
    DynamoDB errors propagate so that EventBridge/Lambda retry.
    """
    from aws_lambda_powertools import Logger

    from chalicelib import aws
    from chalicelib.sending import ledger as L
    from chalicelib.sending.ids import KEY_RE, send_id_from_tag

    logger = Logger(service=POWERTOOLS_SERVICE)
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict):
        logger.warning("SES event without detail ignored", extra={"detail_type": str(event.get("detail-type"))[:50]})
        return
    kind = detail.get("eventType") or detail.get("notificationType") or SES_DETAIL_TYPES.get(event.get("detail-type"))
    mail = detail.get("mail") if isinstance(detail.get("mail"), dict) else {}
    send_id = send_id_from_tag(_tag(mail.get("tags"), "notis_send") or "")
    key = _tag(mail.get("tags"), "notis_key")
    if kind not in SES_DETAIL_TYPES.values():
        logger.info("SES event type not handled", extra={"event_type": str(kind)[:40]})
        return
    if not send_id or not key or not KEY_RE.match(key):
        logger.warning("SES event without notis tags ignored", extra={"event_type": kind})
        return

    ledger = L.Ledger(dynamodb or aws.client("dynamodb"), settings.table)
    at = now()
    message_id = str(mail.get("messageId") or "")[:200]
    ids = {"message_id": message_id} if message_id else {}
    one = {"sent": 1}
    if kind == "Send":
        changed = ledger.event_transition(
            send_id, key, to=L.SENT, allowed_from={L.CLAIMED: one}, sets={**ids, "sent_at": at}
        )
    elif kind == "Delivery":
        changed = ledger.event_transition(
            send_id,
            key,
            to=L.DELIVERED,
            allowed_from={L.CLAIMED: {"sent": 1, "delivered": 1}, L.SENT: {"delivered": 1}},
            sets={**ids, "delivered_at": at},
        )
    elif kind == "Bounce":
        bounce = detail.get("bounce") if isinstance(detail.get("bounce"), dict) else {}
        bounce_type = str(bounce.get("bounceType") or "Undetermined")[:40]
        letter = {"bounced": 1, "mail_letters": 1}
        changed = ledger.event_transition(
            send_id,
            key,
            to=L.BOUNCED,
            allowed_from={L.CLAIMED: {**one, **letter}, L.SENT: letter, L.DELIVERED: letter},
            sets={**ids, "bounce_type": bounce_type, "reason": f"bounce: {bounce_type}"[:80], "bounced_at": at},
        )
        if bounce_type == "Permanent":
            ledger.suppress(key, reason="bounce", now=at)
    elif kind == "Complaint":
        changed = ledger.event_transition(
            send_id,
            key,
            to=L.COMPLAINED,
            allowed_from={
                L.CLAIMED: {**one, "complained": 1},
                L.SENT: {"complained": 1},
                L.DELIVERED: {"complained": 1},
            },
            sets={**ids, "complained_at": at},
        )
        ledger.suppress(key, reason="complaint", now=at)
    elif kind == "Reject":
        letter = {"failed": 1, "mail_letters": 1}
        changed = ledger.event_transition(
            send_id,
            key,
            to=L.FAILED,
            allowed_from={L.CLAIMED: letter, L.SENT: letter},
            sets={**ids, "reason": "rejected by SES", "failed_at": at},
        )
    else:  # DeliveryDelay: note it, the state stays
        ledger.annotate(send_id, key, {"delayed_at": at})
        changed = False
    logger.info("SES event", extra={"event_type": kind, "send_id": send_id, "changed": changed})
