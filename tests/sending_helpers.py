"""Helpers for the sender tests: send-queue messages, a fault-injecting proxy around the real (moto) SES
client, a fake clock, a Lambda-like driver of the send queue, and a reader of what moto's SES sent."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from email import message_from_string
from email.utils import getaddresses
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ids import send_id_from_tag, tag_value


def campaign_id(seed: str = "test") -> str:
    return "c" + hashlib.sha256(seed.encode()).hexdigest()[:20]


def people(n: int, *, start: int = 0, domain: str = "example.se") -> list[str]:
    return [f"person{i:05d}@{domain}" for i in range(start, start + n)]


def open_campaign(campaign: str, state: str = "queued") -> None:
    """The campaign record the importer writes before it queues anything (the sender refuses messages of a
    campaign without one); in the table NOTIS_TABLE of the running moto, kept if it exists."""
    import os

    from chalicelib import aws as aws_clients

    db = aws_clients.client("dynamodb")
    try:
        db.put_item(
            TableName=os.environ.get("NOTIS_TABLE", "notis"),
            Item={"pk": {"S": f"campaign#{campaign}"}, "sk": {"S": "meta"}, "campaign": {"S": campaign},
                  "state": {"S": state}, "incident": {"S": "korkortsportalen-2024"}, "audience": {"S": "customers"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    except db.exceptions.ConditionalCheckFailedException:
        pass


def send_bodies(
    emails: list[str], campaign: str, hmac_key: bytes, *, per_message: int = 50, send_id: str | None = None,
    record: bool = True,
) -> list[str]:
    """Send-queue message bodies in the format of docs/internals.md; like the importer, it first writes the
    campaign record (`record=False`: messages of a campaign that does not exist)."""
    if record:
        open_campaign(campaign)
    bodies = []
    for start in range(0, len(emails), per_message):
        chunk = emails[start : start + per_message]
        bodies.append(
            json.dumps(
                {
                    "v": 1,
                    "send_id": send_id or campaign,
                    "campaign": campaign,
                    "incident": "korkortsportalen-2024",
                    "audience": "customers",
                    "template": "notice",
                    "recipients": [
                        {"key": recipient_key(e, hmac_key), "email": e, "names": [f"Namn {e[6:11]}"], "lang": "sv"}
                        for e in chunk
                    ],
                }
            )
        )
    return bodies


def sqs_event(bodies: list[str], ids: list[str] | None = None) -> dict[str, Any]:
    """An SQS event as Lambda delivers it, with distinct messageIds (chalice's generator repeats one)."""
    ids = ids or [f"m-{i}" for i in range(len(bodies))]
    return {
        "Records": [
            {
                "messageId": mid,
                "receiptHandle": f"rh-{mid}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:123456789012:notis-send",
                "awsRegion": "eu-north-1",
            }
            for mid, body in zip(ids, bodies, strict=True)
        ]
    }


def moto_sent(region: str = "eu-north-1") -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return list(ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages)


def sent_per_address(region: str = "eu-north-1") -> Counter[str]:
    """How many e-mails moto's SES accepted per recipient address (To header and Destination merged)."""
    counts: Counter[str] = Counter()
    for message in moto_sent(region):
        addresses = {addr.lower() for _, addr in getaddresses(list(message.destinations)) if addr}
        counts.update(addresses)
    return counts


def parsed_messages(region: str = "eu-north-1") -> list[Any]:
    return [message_from_string(m.raw_data) for m in moto_sent(region)]


class Crash(BaseException):
    """Simulates the Lambda process dying: not an Exception, so no handler code catches it."""


def client_error(code: str, status: int, operation: str = "SendEmail") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
    )


class FaultySES:
    """Wraps the real (moto-backed) sesv2 client: injects errors *before* delegating, and crashes after.

    plan(i) for the i-th call returns None (pass through), an exception to raise instead of calling SES, or
    "crash-after" (call SES for real, then die before the caller sees the answer).
    """

    def __init__(self, real: Any, plan: Any):
        self.real = real
        self.plan = plan
        self.calls = 0
        self.accepted: list[tuple[str, str, str]] = []  # (send id, key, message id) SES took
        self.injected: Counter[str] = Counter()
        self.crashed_after: list[str] = []  # recipient keys whose mail SES took just before the crash
        self._lock = threading.Lock()

    def send_email(self, **kwargs: Any) -> Any:
        with self._lock:
            i = self.calls
            self.calls += 1
        action = self.plan(i)
        if isinstance(action, BaseException):
            self.injected[type(action).__name__ if isinstance(action, Crash) else _code(action)] += 1
            raise action
        out = self.real.send_email(**kwargs)
        tags = {t["Name"]: t["Value"] for t in kwargs.get("EmailTags", [])}
        with self._lock:
            self.accepted.append((send_id_from_tag(tags.get("notis_send", "")) or "", tags.get("notis_key", ""),
                                  out["MessageId"]))
        if action == "crash-after":
            self.injected["crash-after"] += 1
            self.crashed_after.append(tags.get("notis_key", ""))
            raise Crash("died after SES accepted")
        return out


def _code(exc: BaseException) -> str:
    return exc.response["Error"]["Code"] if isinstance(exc, ClientError) else type(exc).__name__


class FakeClock:
    """Wall and monotonic time that only moves when slept on or advanced: deterministic, no real waiting."""

    def __init__(self, start: float = 1_700_000_000.0):
        self.t = start
        self._lock = threading.Lock()
        self.crash_at: int | None = None  # crash on the n-th call of now()
        self.calls = 0

    def now(self) -> float:
        with self._lock:
            self.calls += 1
            if self.crash_at is not None and self.calls == self.crash_at:
                self.crash_at = None
                raise Crash("died in the clock")
            return self.t

    def mono(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.t += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.t += seconds


def ses_event(kind: str, send_id: str, key: str, message_id: str = "mid", **detail: Any) -> dict[str, Any]:
    """An EventBridge event carrying an SES event-publishing record (the shape SES sends)."""
    detail_type = {
        "Send": "Email Sent",
        "Delivery": "Email Delivered",
        "Bounce": "Email Bounced",
        "Complaint": "Email Complained",
        "Reject": "Email Rejected",
        "DeliveryDelay": "Email Delivery Delayed",
    }[kind]
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": detail_type,
        "source": "aws.ses",
        "account": "123456789012",
        "region": "eu-north-1",
        "resources": [],
        "detail": {
            "eventType": kind,
            "mail": {
                "timestamp": "2024-05-01T10:00:00.000Z",
                "source": "notis@example.org",
                "messageId": message_id,
                "destination": ["someone@example.se"],
                "tags": {"notis_send": [tag_value(send_id)], "notis_key": [key], "ses:configuration-set": ["notis"]},
            },
            **detail,
        },
    }


class Serialized:
    """The real (moto) client with one call at a time. Real DynamoDB applies each request atomically; moto
    in-process does not under threads (an ADD can lose a concurrent ADD), so the worker's thread pool would
    otherwise be testing moto's races rather than our code."""

    def __init__(self, real: Any):
        self._real = real
        self._lock = threading.Lock()
        self.exceptions = real.exceptions

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._real, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return call


def run_send_queue(
    aws: dict[str, Any], settings: Any, clock: FakeClock, *, ses: Any = None, rounds: int = 200
) -> list[dict[str, Any]]:
    """Drain the (moto) send queue through the real handler, as Lambda's event source would: delete what
    succeeded, make the rest visible again. Returns the handler's responses."""
    from chalicelib import aws as aws_clients
    from chalicelib.handlers import handle_send

    sqs = aws_clients.client("sqs")
    url = aws["queues"][settings.send_queue]
    responses = []
    for _ in range(rounds):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return responses
        event = sqs_event([m["Body"] for m in got], ids=[m["MessageId"] for m in got])
        response = handle_send(
            event,
            settings,
            ses=ses,
            dynamodb=Serialized(aws_clients.client("dynamodb")),
            now=clock.now,
            mono=clock.mono,
            sleep=clock.sleep,
            lease_seconds=300,
        )
        responses.append(response)
        retry = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for m in got:
            if m["MessageId"] in retry:
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        clock.advance(1)
    raise AssertionError("the send queue did not drain")
