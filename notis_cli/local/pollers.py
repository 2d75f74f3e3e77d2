"""Stand-ins for Lambda's SQS event sources and the EventBridge schedule, for the local stack.

What matters is that the handlers see what Lambda would give them and that the queue sees what Lambda would do:
a batch of at most `batch_size` messages in Lambda's record shape, received with the queue's own visibility
timeout; with ReportBatchItemFailures, only the messages *not* named in `batchItemFailures` are deleted, and an
exception or a malformed answer fails the whole batch. Undeleted messages reappear after the visibility timeout
and reach the dead-letter queue after maxReceiveCount receives (the emulator enforces the redrive policy).
Log lines carry counts and message ids only, never a message body (it holds e-mail addresses).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("notis-local")
detail = logging.getLogger("notis.local")  # one line per batch: the full log (a file under `make run`), not staff's

Handler = Callable[[dict[str, Any], Any], Any]
SQS_MAX_RECEIVE = 10


class LocalContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, timeout_seconds: float, region: str, account: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.memory_limit_in_mb = 512
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass(frozen=True)
class SqsSource:
    """One SQS event source: a queue, a batch size and the function it invokes."""

    function: str
    handler: Handler
    queue_url: str
    queue_arn: str
    region: str
    account: str = "000000000000"
    batch_size: int = 10
    timeout_seconds: float = 900.0


@dataclass(frozen=True)
class BatchOutcome:
    received: int
    deleted: int
    retried: int
    error: str | None = None


def _lambda_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS MessageAttributes (StringValue, DataType) -> Lambda's record shape (stringValue, dataType)."""
    out: dict[str, Any] = {}
    for name, value in attributes.items():
        out[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
    return out


def sqs_event(messages: Iterable[dict[str, Any]], *, queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda builds from ReceiveMessage output."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": _lambda_attributes(m.get("MessageAttributes", {})),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def failed_ids(response: Any, message_ids: list[str]) -> set[str]:
    """The messages Lambda would leave on the queue, given the handler's answer (ReportBatchItemFailures).

    Complete success: None, an empty object, a null or empty `batchItemFailures`. Complete failure: anything not
    an object, or an item whose `itemIdentifier` is missing, empty or not a message of this batch.
    """
    everything = set(message_ids)
    if response is None:
        return set()
    if not isinstance(response, dict):
        return everything
    items = response.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return everything
    failed: set[str] = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in everything:
            return everything
        failed.add(ident)
    return failed


def receive_batch(sqs: Any, queue_url: str, batch_size: int, wait_seconds: int) -> list[dict[str, Any]]:
    """Long-poll for the first messages; a batch size above SQS's 10 is topped up without waiting.

    A message received twice while topping up (a queue with visibility timeout 0) is kept once.
    """
    messages: dict[str, dict[str, Any]] = {}
    wait = wait_seconds
    while len(messages) < batch_size:
        out = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(SQS_MAX_RECEIVE, batch_size - len(messages)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        new = [m for m in out.get("Messages", []) if m["MessageId"] not in messages]
        messages.update((m["MessageId"], m) for m in new)
        if not new or batch_size <= SQS_MAX_RECEIVE:
            break
        wait = 0
    return list(messages.values())


def delete_messages(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> int:
    deleted = 0
    for start in range(0, len(messages), SQS_MAX_RECEIVE):
        chunk = messages[start : start + SQS_MAX_RECEIVE]
        out = sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
        )
        deleted += len(out.get("Successful", []))
        for failure in out.get("Failed", []):
            log.warning("could not delete a message", extra={"code": failure.get("Code")})
    return deleted


def poll_once(sqs: Any, source: SqsSource, *, wait_seconds: int = 1) -> BatchOutcome:
    """Receive one batch, invoke the handler as Lambda would, delete what succeeded."""
    messages = receive_batch(sqs, source.queue_url, source.batch_size, wait_seconds)
    if not messages:
        return BatchOutcome(0, 0, 0)
    event = sqs_event(messages, queue_arn=source.queue_arn, region=source.region)
    context = LocalContext(source.function, source.timeout_seconds, source.region, source.account)
    ids = [m["MessageId"] for m in messages]
    error = None
    try:
        response = source.handler(event, context)
    except Exception as exc:  # Lambda: an error fails the whole batch
        error = type(exc).__name__
        # The type only (an exception's text may quote a recipient); the traceback at DEBUG for developers.
        log.error("%s raised %s; the batch comes back after the visibility timeout", source.function, error)
        log.debug("traceback", exc_info=True)
        failed = set(ids)
    else:
        failed = failed_ids(response, ids)
    deleted = delete_messages(sqs, source.queue_url, [m for m in messages if m["MessageId"] not in failed])
    outcome = BatchOutcome(len(messages), deleted, len(failed), error)
    detail.info("%s: %d received, %d deleted, %d left for retry", source.function, outcome.received,
                outcome.deleted, outcome.retried,
                extra={"function": source.function, "received": outcome.received, "deleted": outcome.deleted,
                       "retried": outcome.retried})
    return outcome


class SqsPoller(threading.Thread):
    """One concurrent 'instance' of a function behind an SQS event source, until `stop` is set."""

    def __init__(self, sqs: Any, source: SqsSource, stop: threading.Event, *, wait_seconds: int = 1,
                 name: str | None = None) -> None:
        super().__init__(name=name or f"poller-{source.function}", daemon=True)
        self.sqs, self.source, self.stop, self.wait_seconds = sqs, source, stop, wait_seconds
        self.batches = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                if poll_once(self.sqs, self.source, wait_seconds=self.wait_seconds).received:
                    self.batches += 1
            except Exception as exc:  # the emulator going away at shutdown, a network blip
                if self.stop.is_set():
                    return
                log.warning("%s: polling failed (%s); retrying", self.source.function, type(exc).__name__)
                self.stop.wait(1.0)


def scheduled_event(rule: str, *, region: str, account: str, now: datetime | None = None) -> dict[str, Any]:
    """The event EventBridge gives a function on a schedule."""
    at = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{rule}"],
        "detail": {},
    }


class Scheduler(threading.Thread):
    """Calls each scheduled function every `interval` seconds (EventBridge's rate, shortened for development).

    A handler that does not exist yet (ImportError/AttributeError inside it) is reported once, then skipped
    quietly on every tick until it appears; other errors are reported each time, by type.
    """

    def __init__(self, jobs: list[tuple[str, Handler]], stop: threading.Event, *, interval: float,
                 region: str, account: str, timeout_seconds: float = 900.0,
                 before_tick: Callable[[], Any] | None = None,
                 on_result: Callable[[str, Any], None] | None = None) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.jobs, self.stop, self.interval = jobs, stop, interval
        # before_tick: the local stack publishes content edits first, so a tick right after a save sees them.
        # on_result: what each function returned (the tick's counts), for the stack's one-line summary.
        self.before_tick, self.on_result = before_tick, on_result
        self.region, self.account, self.timeout_seconds = region, account, timeout_seconds
        self.calls: dict[str, int] = {name: 0 for name, _ in jobs}
        self._missing: set[str] = set()

    def tick(self) -> None:
        if self.before_tick is not None:
            try:
                self.before_tick()
            except Exception as exc:  # never let it stop the schedule
                log.warning("before the tick: %s", type(exc).__name__)
        for name, handler in self.jobs:
            event = scheduled_event(f"notis-local-{name}", region=self.region, account=self.account)
            try:
                result = handler(event, LocalContext(name, self.timeout_seconds, self.region, self.account))
            except (ImportError, AttributeError) as exc:
                if name not in self._missing:
                    self._missing.add(name)
                    log.warning("%s is not available yet (%s: %s); the schedule carries on", name,
                                type(exc).__name__, exc)
                continue
            except Exception as exc:  # EventBridge would retry; the schedule goes on
                log.error("%s raised %s", name, type(exc).__name__)
                log.debug("traceback", exc_info=True)
                continue
            if name in self._missing:
                self._missing.discard(name)
                log.info("%s is available now", name)
            self.calls[name] += 1
            if self.on_result is not None:
                self.on_result(name, result)

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.tick()
