"""The send handler and the SES events handler against moto: batch failures, permanent errors, suppression,
account-level stops, unknown outcomes, and SES events applied exactly once."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from sending_helpers import (
    Crash,
    FakeClock,
    FaultySES,
    Serialized,
    campaign_id,
    client_error,
    people,
    send_bodies,
    sent_per_address,
    ses_event,
    sqs_event,
)

from chalicelib import aws as aws_clients
from chalicelib.campaigns.store import CampaignStore
from chalicelib.handlers import handle_send, handle_ses_event
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ledger import Ledger


def _send(aws: dict[str, Any], event: dict[str, Any], ses: Any = None, clock: FakeClock | None = None) -> dict:
    clock = clock or FakeClock()
    return handle_send(
        event,
        aws["settings"],
        ses=ses,
        dynamodb=Serialized(aws_clients.client("dynamodb")),
        now=clock.now,
        mono=clock.mono,
        sleep=clock.sleep,
        lease_seconds=300,
    )


def _ledger(aws: dict[str, Any]) -> Ledger:
    return Ledger(aws_clients.client("dynamodb"), aws["settings"].table)


def _key(aws: dict[str, Any], email: str) -> str:
    return recipient_key(email, aws["settings"].hmac_key)


def _campaign(aws: dict[str, Any], cid: str) -> dict[str, Any]:
    return CampaignStore(aws_clients.client("dynamodb"), aws["settings"].table).get(cid) or {}


def _resume(aws: dict[str, Any], cid: str) -> None:
    """What `notis resume` does to the record (the importer then queues the same recipients again)."""
    assert CampaignStore(aws_clients.client("dynamodb"), aws["settings"].table).update(
        cid, {"state": "queued"}, expect_state="stopped")


def test_batch_item_failures_name_exactly_the_unsettled_messages(aws: dict[str, Any]) -> None:
    cid = campaign_id("batch")
    good, held = (
        send_bodies(people(3), cid, aws["settings"].hmac_key),
        send_bodies(people(2, start=10), cid, aws["settings"].hmac_key),
    )
    # Someone else holds a live claim on one recipient of the second message.
    clock = FakeClock()
    _ledger(aws).claim(
        cid, _key(aws, "person00011@example.se"), owner="other", now=clock.t, lease=300, reference="R", expires_at=0
    )
    event = sqs_event([good[0], "{not json", held[0], json.dumps({"v": 2})], ids=["a", "b", "c", "d"])

    response = _send(aws, event, clock=clock)

    assert sorted(f["itemIdentifier"] for f in response["batchItemFailures"]) == ["b", "c", "d"]
    sent = sent_per_address()
    assert set(sent) == {
        "person00000@example.se",
        "person00001@example.se",
        "person00002@example.se",
        "person00010@example.se",
    }  # the held one waits for its lease, the others went
    # Redelivered after the lease ran out, the held recipient is sent and nobody else twice.
    clock.advance(301)
    response = _send(aws, sqs_event([held[0]], ids=["c"]), clock=clock)
    assert response == {"batchItemFailures": []}
    assert sent_per_address() == {**sent, "person00011@example.se": 1}


def test_every_message_failing_still_returns_failures_rather_than_raising(aws: dict[str, Any]) -> None:
    response = _send(aws, sqs_event(["[]", ""], ids=["x", "y"]))
    assert response == {"batchItemFailures": [{"itemIdentifier": "x"}, {"itemIdentifier": "y"}]}


def test_a_refusal_beside_accepted_mail_is_that_persons_letter_and_never_retried(aws: dict[str, Any]) -> None:
    cid = campaign_id("permanent")
    emails = ["ok1@example.se", "refused@example.se", "ok2@example.se"]
    real = aws_clients.client("sesv2")
    seen: list[str] = []

    class Refusing:
        def send_email(self, **kw: Any) -> Any:
            seen.extend(kw["Destination"]["ToAddresses"])
            if "refused@example.se" in kw["Destination"]["ToAddresses"]:
                raise client_error("MessageRejected", 400)
            return real.send_email(**kw)

    event = sqs_event(send_bodies(emails, cid, aws["settings"].hmac_key))
    assert _send(aws, event, ses=Refusing()) == {"batchItemFailures": []}
    assert _send(aws, event, ses=Refusing()) == {"batchItemFailures": []}  # redelivery: nothing resent

    assert seen.count("refused@example.se") == 1
    assert set(sent_per_address()) == {"ok1@example.se", "ok2@example.se"}
    entry = _ledger(aws).get(cid, _key(aws, "refused@example.se"))
    assert entry["state"] == "failed" and entry["reason"] == "refused by SES (MessageRejected)"
    counters = _ledger(aws).counters(cid)
    assert counters["failed"] == 1 and counters["mail_letters"] == 1 and counters["sent"] == 2


def test_suppressed_addresses_are_not_mailed(aws: dict[str, Any]) -> None:
    cid = campaign_id("suppressed")
    _ledger(aws).suppress(_key(aws, "person00001@example.se"), reason="complaint", now=0)
    event = sqs_event(send_bodies(people(3), cid, aws["settings"].hmac_key))
    assert _send(aws, event) == {"batchItemFailures": []}
    assert set(sent_per_address()) == {"person00000@example.se", "person00002@example.se"}
    assert _ledger(aws).get(cid, _key(aws, "person00001@example.se"))["state"] == "suppressed"
    _send(aws, event)
    assert _ledger(aws).counters(cid)["suppressed"] == 1  # counted once across redeliveries


def test_account_suspended_stops_everything_and_marks_nobody(aws: dict[str, Any]) -> None:
    cid = campaign_id("suspended")
    suspended = FaultySES(aws_clients.client("sesv2"), lambda i: client_error("AccountSuspendedException", 400))

    bodies = send_bodies(people(120), cid, aws["settings"].hmac_key)
    event = sqs_event(bodies, ids=["m1", "m2", "m3"])
    response = _send(aws, event, ses=suspended)
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {"m1", "m2", "m3"}
    assert suspended.calls <= 8  # stopped after the first answers (the threads already in flight), not 120 calls
    assert not any(e["state"] == "failed" for e in _ledger(aws).entries(cid))
    stopped = _campaign(aws, cid)
    assert stopped["state"] == "stopped" and stopped["stop_reason"] == "SES has suspended sending for this AWS account"
    assert _send(aws, event) == {"batchItemFailures": []}, "a stopped campaign's messages are dropped"
    assert len(sent_per_address()) == 0
    # Once the account is fine again, resuming sends everyone: the claims were given back.
    _resume(aws, cid)
    assert _send(aws, event) == {"batchItemFailures": []}
    assert len(sent_per_address()) == 120


def test_unknown_outcome_is_not_retried_in_the_invocation_and_keeps_the_claim(aws: dict[str, Any]) -> None:
    cid = campaign_id("timeout")
    real = aws_clients.client("sesv2")

    def plan(i: int) -> Any:
        return ReadTimeoutError(endpoint_url="https://email") if i == 0 else None

    faulty = FaultySES(real, plan)
    event = sqs_event(send_bodies(["slow@example.se"], cid, aws["settings"].hmac_key))
    clock = FakeClock()
    assert _send(aws, event, ses=faulty, clock=clock)["batchItemFailures"] == [{"itemIdentifier": "m-0"}]
    assert faulty.calls == 1
    assert _ledger(aws).get(cid, _key(aws, "slow@example.se"))["state"] == "claimed"
    assert _send(aws, event, ses=faulty, clock=clock)["batchItemFailures"]  # lease still running: wait
    assert faulty.calls == 1
    clock.advance(301)
    assert _send(aws, event, ses=faulty, clock=clock) == {"batchItemFailures": []}
    assert _ledger(aws).get(cid, _key(aws, "slow@example.se"))["attempts"] == 2


def test_ses_request_carries_tags_configuration_set_and_raw_content(aws: dict[str, Any]) -> None:
    cid = campaign_id("request")
    captured: list[dict[str, Any]] = []
    real = aws_clients.client("sesv2")

    class Capture:
        def send_email(self, **kw: Any) -> Any:
            captured.append(kw)
            return real.send_email(**kw)

    _send(aws, sqs_event(send_bodies(["anna@example.se"], cid, aws["settings"].hmac_key)), ses=Capture())
    (request,) = captured
    assert {t["Name"]: t["Value"] for t in request["EmailTags"]} == {
        "notis_send": cid,
        "notis_key": _key(aws, "anna@example.se"),
    }
    assert request["ConfigurationSetName"] == aws["settings"].configuration_set
    assert b"Content-Type: multipart/alternative" in request["Content"]["Raw"]["Data"]
    entry = _ledger(aws).get(cid, _key(aws, "anna@example.se"))
    assert entry["reference"].encode() in request["Content"]["Raw"]["Data"].replace(b"=\n", b"")


# -- SES events ------------------------------------------------------------------------------------------------


def _sent_one(aws: dict[str, Any], cid: str, email: str) -> str:
    _send(aws, sqs_event(send_bodies([email], cid, aws["settings"].hmac_key)))
    return _key(aws, email)


def test_ses_events_update_the_ledger_once_however_often_they_arrive(aws: dict[str, Any]) -> None:
    cid = campaign_id("events")
    settings = aws["settings"]
    delivered = _sent_one(aws, cid, "d@example.se")
    bounced = _sent_one(aws, cid, "b@example.se")
    complained = _sent_one(aws, cid, "c@example.se")
    for _ in range(3):  # EventBridge delivers at least once
        handle_ses_event(ses_event("Send", cid, delivered), settings)
        handle_ses_event(ses_event("Delivery", cid, delivered), settings)
        handle_ses_event(ses_event("Delivery", cid, bounced), settings)
        handle_ses_event(ses_event("Bounce", cid, bounced, bounce={"bounceType": "Permanent"}), settings)
        handle_ses_event(ses_event("Delivery", cid, complained), settings)
        handle_ses_event(ses_event("Complaint", cid, complained, complaint={}), settings)
        handle_ses_event(ses_event("DeliveryDelay", cid, complained, deliveryDelay={}), settings)
    ledger = _ledger(aws)
    assert ledger.get(cid, delivered)["state"] == "delivered"
    assert ledger.get(cid, bounced)["state"] == "bounced"
    assert ledger.get(cid, bounced)["bounce_type"] == "Permanent"
    assert ledger.get(cid, complained)["state"] == "complained"
    counters = ledger.counters(cid)
    assert (counters["sent"], counters["delivered"], counters["bounced"], counters["complained"]) == (3, 3, 1, 1)
    assert counters["mail_letters"] == 1
    assert ledger.suppressed([delivered, bounced, complained]) == {bounced: "bounce", complained: "complaint"}
    # A later send to the same people skips the suppressed ones.
    _send(
        aws,
        sqs_event(
            send_bodies(
                ["d@example.se", "b@example.se", "c@example.se"], cid, settings.hmac_key, send_id=f"{cid}.reminder"
            )
        ),
    )
    assert sent_per_address() == {"d@example.se": 2, "b@example.se": 1, "c@example.se": 1}


def test_send_event_first_settles_a_claim_the_worker_never_marked(aws: dict[str, Any]) -> None:
    cid = campaign_id("event-first")
    key = _key(aws, "x@example.se")
    ledger = _ledger(aws)
    ledger.claim(cid, key, owner="crashed", now=0, lease=300, reference="R", expires_at=0)
    handle_ses_event(ses_event("Send", cid, key, "ses-id-1"), aws["settings"])
    entry = ledger.get(cid, key)
    assert entry["state"] == "sent" and entry["message_id"] == "ses-id-1"
    assert not ledger.mark_sent(cid, key, owner="crashed", message_id="late", now=1)  # no double count
    assert ledger.counters(cid)["sent"] == 1


def test_transient_bounce_goes_to_letters_without_suppression(aws: dict[str, Any]) -> None:
    cid = campaign_id("soft")
    key = _sent_one(aws, cid, "full@example.se")
    handle_ses_event(ses_event("Bounce", cid, key, bounce={"bounceType": "Transient"}), aws["settings"])
    assert _ledger(aws).get(cid, key)["state"] == "bounced"
    assert _ledger(aws).suppressed([key]) == {}


def test_reject_event_marks_failed(aws: dict[str, Any]) -> None:
    cid = campaign_id("reject")
    key = _sent_one(aws, cid, "virus@example.se")
    handle_ses_event(ses_event("Reject", cid, key, reject={"reason": "Bad content"}), aws["settings"])
    handle_ses_event(ses_event("Reject", cid, key, reject={"reason": "Bad content"}), aws["settings"])
    assert _ledger(aws).get(cid, key)["state"] == "failed"
    assert _ledger(aws).counters(cid)["failed"] == 1


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"detail": "x"},
        {"detail-type": "Email Opened", "detail": {"eventType": "Open", "mail": {"tags": {}}}},
        {"detail-type": "Email Bounced", "detail": {"eventType": "Bounce", "mail": {"tags": {}}}},
        {
            "detail-type": "Email Bounced",
            "detail": {
                "eventType": "Bounce",
                "mail": {
                    "tags": {"notis_send": ["'; drop table"], "notis_key": ["abc"]},
                    "destination": ["secret@example.se"],
                },
            },
        },
        {"detail-type": "Email Delivered", "detail": {"mail": "nope"}},
        ses_event("Delivery", campaign_id("none"), "ab" * 32),  # well-formed, but no such ledger entry
    ],
)
def test_malformed_or_unknown_events_are_ignored_without_personal_data_in_logs(
    aws: dict[str, Any], event: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    every_field: list[str] = []

    class Everything(logging.Handler):  # caplog.text leaves out `extra` fields; this keeps all of them
        def emit(self, record: logging.LogRecord) -> None:
            every_field.append(f"{record.getMessage()} {vars(record)}")

    handler = Everything()
    for name in ("notis-sender", "notis", ""):
        logging.getLogger(name).addHandler(handler)
    dynamodb = aws_clients.client("dynamodb")
    before = dynamodb.scan(TableName=aws["settings"].table)["Items"]
    try:
        handle_ses_event(event, aws["settings"])
    finally:
        for name in ("notis-sender", "notis", ""):
            logging.getLogger(name).removeHandler(handler)
    out = capsys.readouterr()
    logged = out.out + out.err + caplog.text + "".join(every_field)
    assert every_field, "the event was logged as ignored"
    assert "@example.se" not in logged
    assert dynamodb.scan(TableName=aws["settings"].table)["Items"] == before, "nothing written for a bad event"


def test_ses_sandbox_rejections_stop_sending_instead_of_filing_everyone_as_a_letter(aws: dict[str, Any]) -> None:
    """In the SES sandbox every recipient is refused alike: nobody may be settled, the list must still go out."""
    cid = campaign_id("sandbox")
    rejection = ClientError({"Error": {"Code": "MessageRejected", "Message": "Email address is not verified. "
                                       "The following identities failed the check in region EU-NORTH-1: x"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendEmail")
    sandbox = FaultySES(aws_clients.client("sesv2"), lambda i: rejection)

    event = sqs_event(send_bodies(people(30), cid, aws["settings"].hmac_key), ids=["m1"])
    response = _send(aws, event, ses=sandbox)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert not any(e["state"] == "failed" for e in _ledger(aws).entries(cid))
    assert "sandbox" in _campaign(aws, cid)["stop_reason"]
    _resume(aws, cid)
    assert _send(aws, event) == {"batchItemFailures": []}, "production access granted: everyone is mailed"
    assert len(sent_per_address()) == 30


def test_a_batch_too_big_to_send_before_the_timeout_is_named_in_the_log(
    aws: dict[str, Any], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """SendBatchSize is set by hand: too large, the rest of the batch waits for the queue's visibility timeout."""
    cid = campaign_id("too big")
    bodies = send_bodies(people(60), cid, aws["settings"].hmac_key, per_message=30)
    clock = FakeClock()
    rate = aws["settings"].max_send_rate * 0.985 / aws["settings"].send_concurrency
    seconds = 40 / rate + 15  # at the fixed share, the invocation has time for about 40 of the 60
    response = handle_send(sqs_event(bodies, ids=["a", "b"]), aws["settings"],
                           dynamodb=Serialized(aws_clients.client("dynamodb")), now=clock.now, mono=clock.mono,
                           sleep=clock.sleep, lease_seconds=300, remaining_ms=lambda: int(seconds * 1000))
    logged = capsys.readouterr().out + caplog.text  # Powertools prints JSON; a handler set up earlier may take it
    assert "lower SendBatchSize" in logged and "@example.se" not in logged
    assert len(response["batchItemFailures"]) <= 1  # alone, it took the whole rate; whatever is left comes back


def test_a_crash_returns_only_when_no_send_of_its_batch_still_runs_and_the_next_batch_goes_out(
    aws: dict[str, Any],
) -> None:
    """The sender's threads outlive an invocation (a warm Lambda reuses them): a crash must not leave one of its
    sends running into the next invocation, and the next invocation on the same threads sends as usual."""
    import threading
    import time

    real = aws_clients.client("sesv2")

    class DiesOnce:
        def __init__(self) -> None:
            self.calls, self.in_flight, self.lock = 0, 0, threading.Lock()

        def send_email(self, **request: Any) -> Any:
            with self.lock:
                self.calls += 1
                first = self.calls == 1
                self.in_flight += 1
            try:
                if first:
                    raise Crash("the process died in a send")
                time.sleep(0.02)  # real time: the others are still in SES when the crash propagates
                return real.send_email(**request)
            finally:
                with self.lock:
                    self.in_flight -= 1

    ses = DiesOnce()
    cid = campaign_id("crash and again")
    event = sqs_event(send_bodies(people(40), cid, aws["settings"].hmac_key, per_message=20), ids=["a", "b"])
    with pytest.raises(Crash):
        _send(aws, event, ses=ses)
    assert ses.in_flight == 0
    clock = FakeClock()
    clock.advance(301)  # the crashed send's claim has expired: its outcome was unknown
    assert _send(aws, event, ses=ses, clock=clock) == {"batchItemFailures": []}
    assert sent_per_address() == {address: 1 for address in people(40)}  # the crashed one never reached SES
