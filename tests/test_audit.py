"""The audit trail: every action that changes what is sent is recorded once, with who, when and what, and no
personal data; `notis audit` lists it and `notis evidence` includes it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from queue_helpers import take_bodies
from sending_helpers import FakeClock, run_send_queue

from chalicelib import audit
from chalicelib.aws import client
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.store import CampaignStore
from chalicelib.followups.handler import handle_tick
from chalicelib.recipients import recipient_key
from notis_cli.main import main

SLUG = "korkortsportalen-2024"
PEOPLE = [f"person{i}@example.se" for i in range(12)]
# 3 of 12 rows rejected (25 %): held until approved
CSV = ("Namn;E-post\r\n" + "".join(f"Person Nummer{i};{'fel' if i % 4 == 0 else e}\r\n"
                                   for i, e in enumerate(PEOPLE))).encode()
UPLOADER = "AWS:AIDAEXAMPLEUPLOADER1"
FUNCTION = "notis-prod-Tick-1A2B3C"


def _import_queue(aws: dict, *, twice: bool = False) -> list[dict]:
    """Hand the import queue to the import function as Lambda would: with the system attributes SQS sets
    (SenderId, SentTimestamp); `twice` delivers each message a second time (at-least-once)."""
    sqs, url, handled = client("sqs"), aws["queues"][aws["settings"].import_queue], []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages"):
        event = {"Records": [{"messageId": m["MessageId"], "body": m["Body"], "attributes": m["Attributes"],
                              "eventSource": "aws:sqs"} for m in got]}
        for _ in range(2 if twice else 1):
            assert handle_import(event, aws["settings"]) == {"batchItemFailures": []}
        handled += got
        for m in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return handled


def _upload(aws: dict, name: str, body: bytes, incident: str = SLUG) -> str:
    """An upload as S3 reports it, with the principal that made it (moto's notifications name none)."""
    key = f"uploads/{incident}/customers/{name}"
    put = client("s3").put_object(Bucket=aws["bucket"], Key=key, Body=body, ServerSideEncryption="aws:kms")
    take_bodies(aws["queues"][aws["settings"].import_queue])  # moto's own notification names no principal
    notification = {"Records": [{"eventName": "ObjectCreated:Put", "userIdentity": {"principalId": UPLOADER},
                                 "s3": {"bucket": {"name": aws["bucket"]},
                                        "object": {"key": key, "eTag": put["ETag"], "size": len(body)}}}]}
    record = {"messageId": str(uuid.uuid4()), "body": json.dumps(notification), "eventSource": "aws:sqs",
              "attributes": {"SenderId": "AROAS3SERVICE", "SentTimestamp": str(int(datetime.now(UTC).timestamp()
                                                                                      * 1000))}}
    for _ in range(2):  # delivered twice: one record
        handle_import({"Records": [record]}, aws["settings"])
    [campaign] = [c for c in CampaignStore(client("dynamodb"), aws["settings"].table).list(include_tests=True)
                  if c["key"] == key]
    return str(campaign["campaign"])


@pytest.fixture
def trail(aws, monkeypatch) -> dict[str, Any]:
    """Upload, approve, send, redrive, a follow-up run by hand, stop and resume, a failed import retried, purge."""
    from chalicelib.sending.gate import CampaignGate

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", FUNCTION)  # the tick, as Lambda runs it
    settings, ddb = aws["settings"], client("dynamodb")
    campaign = _upload(aws, "kunder.csv", CSV)
    assert main(["approve", campaign, "--yes"]) == 0
    _import_queue(aws, twice=True)
    run_send_queue(aws, settings, FakeClock(start=datetime.now(UTC).timestamp() + 60))

    assert main(["redrive", campaign]) == 0
    assert main(["followups", "run", "paminnelse", "--campaign", campaign, "--yes"]) == 0
    _import_queue(aws, twice=True)
    later = datetime.now(UTC) + timedelta(hours=1)
    summary = handle_tick(settings, now=later)
    assert summary["by_hand"] == 1 and summary["errors"] == 0, summary
    run_send_queue(aws, settings, FakeClock(start=later.timestamp() + 60))

    assert CampaignGate(ddb, settings.table).stop(campaign, reason="r", code="c", now="t")
    assert main(["resume", campaign, "--yes"]) == 0
    _import_queue(aws)

    failed = _upload(aws, "fel.csv", CSV, incident="no-such-incident")
    assert main(["retry", failed, "--yes"]) == 0
    _import_queue(aws)

    purge_time = datetime.now(UTC) + timedelta(days=91)
    assert handle_tick(settings, now=purge_time)["purged"] == 2
    return {"campaign": campaign, "failed": failed}


def _records(aws: dict, campaign: str) -> list[dict]:
    return audit.records(client("dynamodb"), aws["settings"].table, campaign)


def test_every_action_that_changes_what_is_sent_is_recorded_once_with_who_when_and_what(aws, trail):
    sqs_sender = "AIDAIT2UOQQY3AUEKVGXU"  # moto's SenderId: what SQS says about the caller, not what it claims
    rows = _records(aws, trail["campaign"])
    done = [(r["action"], r["by"]) for r in rows]
    assert done[:5] == [
        ("upload", UPLOADER),
        ("approve", sqs_sender),
        ("redrive", sqs_sender),
        ("followup-run", sqs_sender),
        ("resume", sqs_sender),
    ], "each once, in time order, though every message was delivered twice"
    # the ticks ran an hour and 91 days "later"; one tick's records share its time
    assert sorted(done[5:7]) == [("followup-start", FUNCTION), ("redriven", FUNCTION)]
    assert done[7:] == [("purge", FUNCTION)]
    by_action = {r["action"]: r for r in rows}
    assert by_action["upload"]["details"] == {"audience": "customers", "bytes": len(CSV), "incident": SLUG}
    assert by_action["approve"]["details"] == {"deliverable": 9, "letters": 3, "rejected": 3, "rows": 12,
                                               "state": "approved"}
    assert by_action["followup-run"]["details"] == {"marker": "f-paminnelse", "state": "queued"}
    start = by_action["followup-start"]["details"]
    assert (start["marker"], start["by_hand"], start["state"], start["recipients"]) == (
        "f-paminnelse", True, "queued", 9)
    assert by_action["resume"]["details"]["state"] == "stopped"
    assert by_action["purge"]["details"]["upload_versions"] >= 1
    assert all(datetime.fromisoformat(r["at"]).tzinfo for r in rows)
    assert [(r["action"], r["by"]) for r in _records(aws, trail["failed"])] == [
        ("upload", UPLOADER), ("retry", sqs_sender), ("purge", FUNCTION)]


def test_audit_records_hold_no_personal_data(aws, trail):
    items = [i for i in client("dynamodb").scan(TableName=aws["settings"].table)["Items"]
             if i["pk"]["S"].startswith("audit#")]
    assert len(items) >= 10
    text = json.dumps(items)
    keys = [recipient_key(p, aws["settings"].hmac_key) for p in PEOPLE]
    for forbidden in ("@", "Person", "Nummer", "kunder.csv", "fel.csv", *keys):
        assert forbidden not in text, forbidden
    assert all(int(i["expires_at"]["N"]) > datetime.now(UTC).timestamp() + 89 * 86400 for i in items), (
        "kept for the incident's retention (90 days)")


def test_notis_audit_lists_the_trail_and_evidence_includes_it(aws, trail, capsys):
    campaign = trail["campaign"]
    capsys.readouterr()
    assert main(["audit", campaign]) == 0
    out = capsys.readouterr().out
    assert f"upload  by {UPLOADER}  (audience customers, bytes {len(CSV)}, incident {SLUG})" in out
    assert "approve  by AIDAIT2UOQQY3AUEKVGXU  (deliverable 9, letters 3, rejected 3, rows 12, state approved)" in out
    assert f"followup-start  by {FUNCTION}  (by hand true" in out
    assert main(["audit", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["campaign"] for r in rows} == {campaign, trail["failed"]}
    assert {"at", "action", "campaign", "by", "details"} == set(rows[0])
    assert main(["evidence", campaign]) == 0
    text = capsys.readouterr().out
    assert "Audit trail (staff actions and scheduled runs that changed what is sent):" in text
    assert "approve  by AIDAIT2UOQQY3AUEKVGXU" in text and "@" not in text
    assert main(["evidence", campaign, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["action"] for r in doc["audit_trail"]] == [r["action"] for r in _records(aws, campaign)]
    assert main(["audit", "c" + "0" * 20]) == 1
    assert "no campaign" in capsys.readouterr().err


def test_a_record_is_never_replaced(aws):
    ddb, table, at = client("dynamodb"), aws["settings"].table, datetime(2026, 1, 1, tzinfo=UTC)
    assert audit.record(ddb, table, action="upload", campaign="c" + "1" * 20, by="AWS:A", at=at, once="upload")
    assert not audit.record(ddb, table, action="upload", campaign="c" + "1" * 20, by="AWS:B", at=at, once="upload")
    [row] = audit.records(ddb, table, "c" + "1" * 20)
    assert row["by"] == "AWS:A", "the first record stands"
    for _ in range(3):  # the same second, the same action: each its own record
        assert audit.record(ddb, table, action="approve", campaign="c" + "1" * 20, by="AWS:A", at=at)
    assert len(audit.records(ddb, table, "c" + "1" * 20)) == 4


@given(st.text(min_size=1, max_size=40).filter(lambda t: not audit.SAFE_NAME.match(t)))
def test_a_detail_that_is_not_a_plain_name_is_refused(text):
    with pytest.raises(ValueError):
        audit._details({"x": text})


@pytest.mark.parametrize("value", ["anna@example.se", "Anna Andersson", "kunder.csv ", "19800101-1234 x"])
def test_addresses_names_and_file_names_cannot_become_details(aws, value):
    with pytest.raises(ValueError):
        audit.record(client("dynamodb"), aws["settings"].table, action="upload", campaign="c" + "2" * 20,
                     by="x", at=datetime.now(UTC), details={"what": value})
    with pytest.raises(ValueError):
        audit.record(client("dynamodb"), aws["settings"].table, action="delete-everything",
                     campaign="c" + "2" * 20, by="x", at=datetime.now(UTC))
    assert audit.records(client("dynamodb"), aws["settings"].table, "c" + "2" * 20) == []


def test_piped_into_head_notis_audit_stops_quietly(aws, trail, monkeypatch, capsys):
    import io

    class Head(io.StringIO):
        def write(self, text: str) -> int:
            if "\n" in self.getvalue():
                raise BrokenPipeError
            return super().write(text)

    monkeypatch.setattr("sys.stdout", Head())
    assert main(["audit"]) == 141
    assert "Traceback" not in capsys.readouterr().err


def test_the_two_audit_only_requests_are_read_exactly():
    from chalicelib.campaigns.uploads import FollowupRun, Redrive, parse_message

    cid = "c" + "a" * 20
    assert parse_message(json.dumps({"notis": "redrive", "campaign": cid})) == [Redrive(cid)]
    assert parse_message(json.dumps({"notis": "followup-run", "campaign": cid, "marker": "u-ny-info"})) == [
        FollowupRun(cid, "u-ny-info")]
    for bad in ({"notis": "followup-run", "campaign": cid}, {"notis": "followup-run", "campaign": cid,
                                                             "marker": "x-1"},
                {"notis": "followup-run", "campaign": cid, "marker": "f-a", "by": "someone"},
                {"notis": "redrive", "campaign": cid, "marker": "f-a"}, {"notis": "redrive", "campaign": "c1"}):
        assert parse_message(json.dumps(bad)) == [], bad


@given(st.dictionaries(st.sampled_from(["notis", "campaign", "marker", "by"]),
                       st.one_of(st.text(max_size=30), st.integers(), st.none()), max_size=4))
def test_any_other_request_is_ignored_and_never_raises(doc):
    from chalicelib.campaigns.uploads import CAMPAIGN_ID, MARKER, parse_message

    found = parse_message(json.dumps(doc))
    for item in found:  # whatever is read back is well formed
        assert CAMPAIGN_ID.match(item.campaign_id)
        assert not hasattr(item, "marker") or MARKER.match(item.marker)
