"""A failed import can be retried; a stopped campaign can be resumed, mailing nobody twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from chalicelib.aws import client
from chalicelib.campaigns.importer import Importer
from chalicelib.campaigns.store import CampaignStore
from chalicelib.campaigns.uploads import Approval, Resume, Retry, parse_message
from chalicelib.sending.ledger import Ledger
from notis_cli.main import main
from tests.followups_helpers import T0, demo, hours, import_campaign, key_of, marker, sent, tick
from tests.test_import import GOOD_CSV, campaigns, drain_import_queue, send_queue, upload

CID = "c0123456789abcdef0123"


def store(aws: dict) -> CampaignStore:
    return CampaignStore(client("dynamodb"), aws["settings"].table)


# -- parse_message -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "cls"), [("approve", Approval), ("retry", Retry), ("resume", Resume)])
def test_staff_requests_are_parsed(kind: str, cls: type) -> None:
    assert parse_message(json.dumps({"notis": kind, "campaign": CID})) == [cls(CID)]


@pytest.mark.parametrize("body", [
    json.dumps({"notis": "retry"}),
    json.dumps({"notis": "retry", "campaign": 42}),
    json.dumps({"notis": "retry", "campaign": ""}),
    json.dumps({"notis": "retry", "campaign": "'; DROP TABLE"}),
    json.dumps({"notis": "retry", "campaign": CID + "0"}),
    json.dumps({"notis": "resume", "campaign": [CID]}),
    json.dumps({"notis": "restart", "campaign": CID}),
    json.dumps({"notis": None, "campaign": CID}),
    json.dumps({"notis": ["retry"], "campaign": CID}),
    json.dumps({"notis": "resume", "campaign": CID, "Records": [{"eventName": "ObjectCreated:Put"}]}),
    "[" * 100_000,
    "",
])
def test_malformed_staff_requests_are_ignored(body: str) -> None:
    assert parse_message(body) == []


# -- retry ---------------------------------------------------------------------------------------------------------

def not_yet_deployed(aws: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The incident is not among the deployed ones (its content was not deployed yet)."""
    monkeypatch.setattr("chalicelib.content.published.published_incidents", lambda: {})


def test_the_same_file_uploaded_again_after_a_failure_imports_it(aws, monkeypatch):
    with monkeypatch.context() as m:
        not_yet_deployed(aws, m)
        upload(aws, GOOD_CSV)
        drain_import_queue(aws)
    [failed] = campaigns(aws)
    assert failed["state"] == "failed" and "no published incident" in failed["error"]
    assert send_queue(aws) == []
    upload(aws, GOOD_CSV)  # deployed now: the same bytes, the same campaign id
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["campaign"] == failed["campaign"]
    assert campaign["state"] == "queued" and "error" not in campaign and campaign["previous_error_code"]
    assert sorted(r["email"] for m in send_queue(aws) for r in m["recipients"]) == ["anna@example.se",
                                                                                     "bo@example.se"]
    upload(aws, GOOD_CSV)  # and once it worked, again does nothing
    drain_import_queue(aws)
    assert send_queue(aws) == [] and campaigns(aws)[0]["state"] == "queued"


def test_notis_retry_reimports_a_failed_campaign_and_refuses_any_other(aws, monkeypatch, capsys):
    with monkeypatch.context() as m:
        not_yet_deployed(aws, m)
        upload(aws, GOOD_CSV)
        drain_import_queue(aws)
    [failed] = campaigns(aws)
    cid = failed["campaign"]
    assert main(["retry", cid, "--yes"]) == 0
    drain_import_queue(aws)
    assert campaigns(aws)[0]["state"] == "queued"
    assert len([r for m in send_queue(aws) for r in m["recipients"]]) == 2
    capsys.readouterr()
    assert main(["retry", cid, "--yes"]) == 1
    assert f"campaign {cid} is queued, not failed; nothing to retry" in capsys.readouterr().err
    assert main(["retry", "c0000000000000000000", "--yes"]) == 1


def test_a_retry_message_for_a_campaign_not_failed_does_nothing(aws):
    upload(aws, GOOD_CSV)
    drain_import_queue(aws)
    send_queue(aws)
    [campaign] = campaigns(aws)
    sqs = client("sqs")
    for kind in ("retry", "resume"):
        sqs.send_message(QueueUrl=aws["queues"][aws["settings"].import_queue],
                         MessageBody=json.dumps({"notis": kind, "campaign": campaign["campaign"]}))
    assert all(r == {"batchItemFailures": []} for _, r in drain_import_queue(aws))
    assert send_queue(aws) == [] and campaigns(aws)[0] == campaign


def test_a_retry_that_fails_again_says_why_again(aws):
    upload(aws, b"PK\x03\x04" + b"\x00" * 200)
    drain_import_queue(aws)
    cid = campaigns(aws)[0]["campaign"]
    assert main(["retry", cid, "--yes"]) == 0
    drain_import_queue(aws)
    [campaign] = campaigns(aws)
    assert campaign["state"] == "failed" and campaign["error_code"] == "excel" and campaign["retried_at"]


# -- resume --------------------------------------------------------------------------------------------------------

PEOPLE = [f"p{i}@example.se" for i in range(30)]
CSV30 = ("Namn;E-post\r\n" + "".join(f"Person {i};{e}\r\n" for i, e in enumerate(PEOPLE))).encode()


def mark_sent(aws: dict, send_id: str, cid: str, emails: list[str]) -> None:
    ledger = Ledger(client("dynamodb"), aws["settings"].table)
    for e in emails:
        assert ledger.claim(send_id, key_of(aws, e), owner="o", now=1.0, lease=60, reference="R",
                            expires_at=2**31, campaign=cid).ok
        ledger.mark_sent(send_id, key_of(aws, e), owner="o", message_id="m", now=2.0, campaign=cid)


def claimable(aws: dict, send_id: str, keys: list[str]) -> list[str]:
    """The recipients the sender would mail: those whose ledger claim succeeds (then released by a new lease)."""
    ledger = Ledger(client("dynamodb"), aws["settings"].table)
    return [k for k in keys if ledger.claim(send_id, k, owner="probe", now=3.0, lease=0, reference="R",
                                            expires_at=2**31).ok]


def stop(aws: dict, cid: str) -> None:
    assert store(aws).update(cid, {"state": "stopped", "stop_reason": "SES refused: the identity is not verified"},
                             expect_state="queued")


def test_resume_queues_again_exactly_those_not_yet_mailed(aws, capsys):
    inc = demo()
    campaign = import_campaign(aws, inc, body=CSV30, at=T0)
    cid, notice = campaign["campaign"], campaign["send_id"]
    mark_sent(aws, notice, cid, PEOPLE[:10])
    tick(aws, inc, T0 + hours(337))  # the reminder (only to the undelivered) starts and is queued
    assert marker(aws, cid, "f-paminnelse")["state"] == "queued"
    reminder_send_id = marker(aws, cid, "f-paminnelse")["send_id"]
    mark_sent(aws, reminder_send_id, cid, PEOPLE[:5])
    sent(aws)
    stop(aws, cid)  # the sender stopped it and dropped its messages

    capsys.readouterr()
    assert main(["resume", cid, "--yes"]) == 0
    assert "identity is not verified" in capsys.readouterr().out
    drain_import_queue(aws)
    after = store(aws).get(cid)
    assert after["state"] == "queued" and "stop_reason" not in after and "resume_pending" not in after
    assert after["resumed_at"] and after["queued_at"] == campaign["queued_at"], "follow-ups keep their schedule"
    messages = sent(aws)
    by_send = {}
    for m in messages:
        by_send.setdefault(m["send_id"], []).extend(r["key"] for r in m["recipients"])
    notice_keys = by_send[notice]
    assert sorted(notice_keys) == sorted(key_of(aws, e) for e in PEOPLE)
    assert len(claimable(aws, notice, notice_keys)) == 20, "exactly the 20 not yet mailed reach the sender"
    reminder_keys = by_send[reminder_send_id]
    assert len(claimable(aws, reminder_send_id, reminder_keys)) == 25
    assert marker(aws, cid, "f-paminnelse")["state"] == "queued" and marker(aws, cid, "f-paminnelse")["resumed"]

    assert main(["resume", cid, "--yes"]) == 1, "resuming a queued campaign does nothing"
    assert f"campaign {cid} is queued, not stopped; nothing to resume" in capsys.readouterr().err


def test_a_resume_message_twice_or_for_another_state_queues_nothing_more(aws):
    inc = demo()
    campaign = import_campaign(aws, inc, body=CSV30, at=T0)
    cid = campaign["campaign"]
    stop(aws, cid)
    importer = Importer(s3=client("s3"), sqs=client("sqs"), store=store(aws), settings=aws["settings"],
                        incidents={inc.slug: inc}, clock=lambda: datetime(2024, 3, 2, tzinfo=UTC))
    assert importer.handle(Resume(cid))["state"] == "queued"
    assert len([r for m in sent(aws) for r in m["recipients"]]) == 30
    assert importer.handle(Resume(cid))["state"] == "queued"
    assert sent(aws) == []


def test_an_interrupted_resume_is_finished_by_the_retried_message(aws, monkeypatch):
    inc = demo()
    cid = import_campaign(aws, inc, body=CSV30, at=T0)["campaign"]
    stop(aws, cid)
    importer = Importer(s3=client("s3"), sqs=client("sqs"), store=store(aws), settings=aws["settings"],
                        incidents={inc.slug: inc}, clock=lambda: T0 + hours(1))

    def boom(*a, **k):
        raise ConnectionError("the queue was unreachable")

    with monkeypatch.context() as m:
        m.setattr("chalicelib.campaigns.importer.send_all", boom)
        with pytest.raises(ConnectionError):
            importer.handle(Resume(cid))
    assert store(aws).get(cid)["resume_pending"] is True
    importer.handle(Resume(cid))  # SQS delivers the message again
    assert len([r for m in sent(aws) for r in m["recipients"]]) == 30
    assert "resume_pending" not in store(aws).get(cid)


def test_resume_when_the_file_is_gone_stays_stopped_with_a_reason(aws):
    inc = demo()
    campaign = import_campaign(aws, inc, body=CSV30, at=T0)
    cid = campaign["campaign"]
    stop(aws, cid)
    s3 = client("s3")
    for v in s3.list_object_versions(Bucket=aws["bucket"], Prefix="uploads/").get("Versions", []):
        s3.delete_object(Bucket=aws["bucket"], Key=v["Key"], VersionId=v["VersionId"])
    importer = Importer(s3=s3, sqs=client("sqs"), store=store(aws), settings=aws["settings"],
                        incidents={inc.slug: inc})
    after = importer.handle(Resume(cid))
    assert after["state"] == "stopped" and "can no longer be read" in after["stop_reason"]
    assert sent(aws) == []

