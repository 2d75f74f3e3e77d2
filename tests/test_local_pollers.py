"""The local stack's stand-ins for Lambda's SQS event sources and the schedule behave as AWS does.

Against moto in-process: only messages not named in batchItemFailures are deleted, an exception or a malformed
answer keeps the whole batch, undeleted messages come back and reach the DLQ after maxReceiveCount.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from notis_cli.local.pollers import (
    Scheduler,
    SqsPoller,
    SqsSource,
    failed_ids,
    poll_once,
)


@pytest.fixture
def queues(aws: dict[str, Any]) -> dict[str, str]:
    """A work queue that shows failed messages again at once (visibility 0) and sends them to a DLQ on the 2nd
    receive, so redelivery is observable without waiting out the template's 30-minute timeout."""
    from chalicelib import aws as clients

    sqs = clients.client("sqs")
    dlq = sqs.create_queue(QueueName="t-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    work = sqs.create_queue(QueueName="t-work", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
    })["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=work, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"work": work, "dlq": dlq, "arn": arn}


class Recorder:
    """A handler (event, context) that fails the records whose body starts with 'bad'."""

    def __init__(self, answer: Any = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        if self.answer is not None:
            return self.answer(event) if callable(self.answer) else self.answer
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]}
                                      for r in event["Records"] if r["body"].startswith("bad")]}


def _send(sqs: Any, url: str, bodies: list[str]) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def _bodies(sqs: Any, url: str) -> list[str]:
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30).get("Messages", [])
        if not got:
            return sorted(out)
        out += [m["Body"] for m in got]


def _source(queues: dict[str, str], handler: Any, batch_size: int = 10) -> SqsSource:
    return SqsSource("fn", handler, queues["work"], queues["arn"], "eu-north-1", "123456789012", batch_size)


def test_only_messages_not_reported_as_failed_are_deleted(queues: dict[str, str]) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["ok-1", "bad-1", "ok-2", "bad-2", "ok-3"])
    handler = Recorder()

    outcome = poll_once(sqs, _source(queues, handler), wait_seconds=0)

    assert (outcome.received, outcome.deleted, outcome.retried) == (5, 3, 2)
    assert len(handler.events) == 1 and len(handler.events[0]["Records"]) == 5
    assert _bodies(sqs, queues["work"]) == ["bad-1", "bad-2"]  # came back; the successes are gone for good


def test_a_message_that_keeps_failing_ends_in_the_dead_letter_queue(queues: dict[str, str]) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["ok", "bad"])
    handler = Recorder()
    for _ in range(4):
        poll_once(sqs, _source(queues, handler), wait_seconds=0)

    handled = [r["body"] for e in handler.events for r in e["Records"]]
    assert handled.count("ok") == 1  # handled once, deleted, never again
    assert handled.count("bad") == 2  # maxReceiveCount receives, then moved
    assert _bodies(sqs, queues["dlq"]) == ["bad"]
    assert _bodies(sqs, queues["work"]) == []


def test_receive_count_grows_on_redelivery(queues: dict[str, str]) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["bad"])
    handler = Recorder()
    poll_once(sqs, _source(queues, handler), wait_seconds=0)
    poll_once(sqs, _source(queues, handler), wait_seconds=0)
    counts = [e["Records"][0]["attributes"]["ApproximateReceiveCount"] for e in handler.events]
    assert counts == ["1", "2"]


@pytest.mark.parametrize("answer", [
    RuntimeError("boom"),
    {"batchItemFailures": [{"itemIdentifier": "not-a-message-of-this-batch"}]},
    {"batchItemFailures": [{"itemIdentifier": ""}]},
    {"batchItemFailures": [{"id": "wrong key"}]},
    "not an object",
], ids=["raises", "unknown id", "empty id", "bad key", "not a dict"])
def test_an_error_or_malformed_answer_keeps_the_whole_batch(queues: dict[str, str], answer: Any) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["a", "b", "c"])

    def handler(event: dict[str, Any], context: Any) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    outcome = poll_once(sqs, _source(queues, handler), wait_seconds=0)

    assert (outcome.received, outcome.deleted, outcome.retried) == (3, 0, 3)
    assert _bodies(sqs, queues["work"]) == ["a", "b", "c"]


@pytest.mark.parametrize("answer", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}],
                         ids=["None", "empty", "empty list", "null list"])
def test_answers_lambda_counts_as_complete_success_delete_everything(queues: dict[str, str], answer: Any) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["a", "b"])
    outcome = poll_once(sqs, _source(queues, Recorder(lambda _e: answer)), wait_seconds=0)
    assert (outcome.deleted, outcome.retried) == (2, 0)
    assert _bodies(sqs, queues["work"]) == []


def test_batches_respect_the_event_source_batch_size_and_look_like_lambdas(queues: dict[str, str]) -> None:
    from chalicelib import aws

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], [f"m{i}" for i in range(13)])
    handler = Recorder()
    source = _source(queues, handler, batch_size=4)
    while poll_once(sqs, source, wait_seconds=0).received:
        pass

    sizes = [len(e["Records"]) for e in handler.events]
    assert sum(sizes) == 13 and max(sizes) <= 4
    record = handler.events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == queues["arn"]
    assert record["awsRegion"] == "eu-north-1"
    assert record["messageId"] and record["receiptHandle"] and record["md5OfBody"]
    assert {"ApproximateReceiveCount", "SentTimestamp"} <= set(record["attributes"])


def test_a_chalice_handler_gets_an_event_it_can_read(queues: dict[str, str]) -> None:
    """The app's handlers are Chalice event-source handlers: the event must convert to SQSEvent records."""
    from chalice import Chalice

    from chalicelib import aws

    app = Chalice("t")
    seen: list[tuple[str, str]] = []

    @app.on_sqs_message(queue="t-work", batch_size=10)
    def handler(event: Any) -> dict:
        seen.extend((r.body, r.receipt_handle) for r in event)
        return {"batchItemFailures": []}

    sqs = aws.client("sqs")
    _send(sqs, queues["work"], ["x"])
    poll_once(sqs, _source(queues, handler), wait_seconds=0)
    assert [body for body, _ in seen] == ["x"] and seen[0][1]


def test_failed_ids_pure() -> None:
    ids = ["a", "b"]
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    assert failed_ids({"batchItemFailures": "b"}, ids) == {"a", "b"}
    assert failed_ids({"other": 1}, ids) == set()


def test_poller_thread_stops_when_asked(queues: dict[str, str]) -> None:
    from chalicelib import aws

    stop = threading.Event()
    poller = SqsPoller(aws.client("sqs"), _source(queues, Recorder()), stop, wait_seconds=0)
    poller.start()
    stop.set()
    poller.join(10)
    assert not poller.is_alive()


def test_scheduler_reports_a_missing_handler_once_and_keeps_calling_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[dict[str, Any]] = []

    def missing(event: dict[str, Any], context: Any) -> None:
        from chalicelib.handlers import handle_this_does_not_exist  # type: ignore[attr-defined]  # noqa: F401

    def present(event: dict[str, Any], context: Any) -> None:
        calls.append(event)

    scheduler = Scheduler([("tick", missing), ("other", present)], threading.Event(), interval=60,
                          region="eu-north-1", account="123456789012")
    with caplog.at_level(logging.INFO, logger="notis-local"):
        for _ in range(3):
            scheduler.tick()

    warnings = [r for r in caplog.records if "not available yet" in r.getMessage()]
    assert len(warnings) == 1 and "tick" in warnings[0].getMessage()
    assert len(calls) == 3 and scheduler.calls == {"tick": 0, "other": 3}
    assert calls[0]["detail-type"] == "Scheduled Event" and calls[0]["source"] == "aws.events"


def test_scheduler_survives_a_failing_handler(caplog: pytest.LogCaptureFixture) -> None:
    def failing(event: dict[str, Any], context: Any) -> None:
        raise ValueError("anna@example.se is not welcome here")

    scheduler = Scheduler([("tick", failing)], threading.Event(), interval=60, region="r", account="1")
    with caplog.at_level(logging.INFO, logger="notis-local"):
        scheduler.tick()
        scheduler.tick()
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 2 and all("ValueError" in m for m in errors)
    assert not any("@" in m for m in errors)  # the type is logged, not the text (it may hold an address)


# -- content edits published on the local stack (notis_cli.local.publish) ---------------------------------------


def _content_copy(tmp_path: Any) -> Any:
    import shutil
    from pathlib import Path

    root = tmp_path / "incidents"
    shutil.copytree(Path(__file__).resolve().parent.parent / "chalicelib" / "incidents", root)
    return root


def _touch_later(path: Any, text: str) -> None:
    """Write, and make sure the modification time moves even on a coarse-grained file system."""
    import os

    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_content_watcher_publishes_valid_edits_and_keeps_the_last_valid_content(tmp_path: Any) -> None:
    from chalicelib.content.published import incidents_in
    from notis_cli.local.publish import ContentWatcher

    root = _content_copy(tmp_path)
    first = incidents_in(root)["korkortsportalen-2024"]
    said: list[str] = []
    published: list[dict[str, Any]] = []
    watcher = ContentWatcher(root, publish=published.append, say=said.append)
    assert watcher.check() is False and said == []  # nothing changed

    yaml = root / "korkortsportalen-2024" / "incident.yaml"
    original = yaml.read_text(encoding="utf-8")
    _touch_later(yaml, original.replace("\nstatus: monitoring\n", "\nstatus: almost-done\n", 1))
    assert watcher.check() is False
    assert said[-1].startswith("not published: incident content has 1 problem(s)")
    assert incidents_in(root)["korkortsportalen-2024"] is first  # the last valid content stays in use
    assert watcher.check() is False and len(said) == 1  # said once per edit, not on every look

    update = ("  - id: u-4\n    at: 2024-02-01T10:00:00+01:00\n    status: monitoring\n    notify: [customers]\n"
              "    text:\n      sv: Ännu en uppdatering.\n\nfaq:")
    _touch_later(yaml, original.replace("\n\nfaq:", "\n" + update, 1))
    assert watcher.check() is True
    assert said[-1] == "published: korkortsportalen-2024 (update u-4 added)"
    now = incidents_in(root)["korkortsportalen-2024"]
    assert [u.id for u in now.updates][-1] == "u-4" and published[-1]["korkortsportalen-2024"] is now


def test_describe_changes_in_words(tmp_path: Any) -> None:
    import dataclasses

    from chalicelib.content.published import incidents_in
    from notis_cli.local.publish import describe_changes

    old = incidents_in(_content_copy(tmp_path))
    incident = old["korkortsportalen-2024"]
    edited = dataclasses.replace(incident, status="resolved", faq=incident.faq[:-1], updates=incident.updates[:-1])
    assert describe_changes(old, {"korkortsportalen-2024": edited}) == [
        f"korkortsportalen-2024 (update {incident.updates[-1].id} removed; FAQ changed; status resolved)"]
    assert describe_changes({}, old) == ["korkortsportalen-2024 (new incident)"]
    assert describe_changes(old, old) == []


def test_tick_line_only_when_something_happened() -> None:
    from chalicelib.followups.handler import SUMMARY_KEYS
    from notis_cli.stack import tick_line

    quiet = dict.fromkeys(SUMMARY_KEYS, 0)
    assert tick_line(quiet) is None
    line = tick_line(quiet | {"updates_started": 1, "recipients_queued": 25, "errors": 1})
    assert line == "tick: 1 update notice(s) started, 25 recipient(s) queued, 1 error(s), see the full log"
    from notis_cli.stack import TICK_WORDS

    assert set(SUMMARY_KEYS) <= {key for key, _ in TICK_WORDS}


def test_scheduler_looks_at_content_before_each_tick_and_reports_results() -> None:
    order: list[str] = []
    results: list[tuple[str, Any]] = []
    scheduler = Scheduler([("tick", lambda event, ctx: order.append("tick") or {"purged": 1})], threading.Event(),
                          interval=60, region="eu-north-1", account="123456789012",
                          before_tick=lambda: order.append("content"), on_result=lambda n, r: results.append((n, r)))
    scheduler.tick()
    assert order == ["content", "tick"] and results == [("tick", {"purged": 1})]


def test_local_sender_is_the_organisation_formatted_by_the_standard_library(tmp_path: Any) -> None:
    from chalicelib.content.published import incidents_in
    from chalicelib.mail.mime import sender_address
    from notis_cli.stack import _sender_of

    incidents = incidents_in(_content_copy(tmp_path))
    assert _sender_of(incidents) == "Körkortsportalen Service AB <dataskydd@korkortsportalen.example>"
    import dataclasses

    incident = incidents["korkortsportalen-2024"]
    org = dataclasses.replace(incident.organisation, name="Kundtjänst, Körkortsportalen")
    sender = _sender_of({"x": dataclasses.replace(incident, organisation=org)})
    assert sender == '"Kundtjänst, Körkortsportalen" <dataskydd@korkortsportalen.example>'
    assert sender_address(sender).endswith("<dataskydd@korkortsportalen.example>")


def test_embedded_aws_state_survives_a_restart(aws: dict[str, Any], tmp_path: Any) -> None:
    """What the stack saves at Ctrl-C comes back at the next start: queues with their messages, table, bucket."""
    from moto.core.base_backend import BackendDict

    from chalicelib import aws as clients
    from notis_cli.local import state

    sqs, s3 = clients.client("sqs"), clients.client("s3")
    url = sqs.create_queue(QueueName="kept")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="still here")
    s3.create_bucket(Bucket="kept-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    s3.put_object(Bucket="kept-bucket", Key="k", Body=b"data")
    path = tmp_path / "local-data" / "aws-state.pickle"
    assert state.save(path) > 0
    # The uploaded lists are in it: only the staff member's account may read it, in a folder only they may list.
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    BackendDict.reset()  # what a new process starts with
    assert state.load(path) is None
    clients.reset_clients()
    sqs, s3 = clients.client("sqs"), clients.client("s3")
    got = sqs.receive_message(QueueUrl=sqs.get_queue_url(QueueName="kept")["QueueUrl"])["Messages"]
    assert [m["Body"] for m in got] == ["still here"]
    assert s3.get_object(Bucket="kept-bucket", Key="k")["Body"].read() == b"data"
    assert state.load(tmp_path / "missing.pickle") == "nothing saved yet"
