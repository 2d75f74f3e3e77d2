"""A fault that is not about one person never becomes that person's failure.

SES answers a bad tag, a malformed sender or a refused configuration with the same codes it uses for a bad
address; under the contract layer (notis_cli/contract) these calls fail here as they would on AWS. Each case:
nobody is marked failed or put on the letter list, the campaign shows `stopped` with the reason in words, and
once the cause is fixed, resuming mails everyone exactly once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sending_helpers import (
    FakeClock,
    FaultySES,
    Serialized,
    campaign_id,
    client_error,
    people,
    send_bodies,
    sent_per_address,
    sqs_event,
)
from test_sending_faults import drive, settings_campaign

from chalicelib import aws as aws_clients
from chalicelib.campaigns.store import CampaignStore
from chalicelib.handlers import handle_send
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ids import send_id_from_tag
from chalicelib.sending.ledger import Ledger
from chalicelib.sending.status import needs_letter

NOTICE = "korkortsportalen-2024.customers.notice"


def _send(aws: dict[str, Any], event: dict[str, Any], settings: Any = None, ses: Any = None) -> dict:
    clock = FakeClock()
    return handle_send(event, settings or aws["settings"], ses=ses,
                       dynamodb=Serialized(aws_clients.client("dynamodb")), now=clock.now, mono=clock.mono,
                       sleep=clock.sleep, lease_seconds=300)


def _store(aws: dict[str, Any]) -> CampaignStore:
    return CampaignStore(aws_clients.client("dynamodb"), aws["settings"].table)


def _ledger(aws: dict[str, Any]) -> Ledger:
    return Ledger(aws_clients.client("dynamodb"), aws["settings"].table)


def _nobody_failed(aws: dict[str, Any], send_id: str) -> None:
    entries = list(_ledger(aws).entries(send_id))
    assert not [e for e in entries if e["state"] == "failed" or needs_letter(e)], "somebody was blamed"


def test_the_real_send_id_goes_out_as_a_tag_value_ses_accepts_and_comes_back(aws: dict[str, Any]) -> None:
    """Before: `notis_send` = `korkortsportalen-2024.customers.notice`, refused by SES for its dots."""
    captured: list[dict[str, Any]] = []
    real = aws_clients.client("sesv2")

    class Capture:
        def send_email(self, **kw: Any) -> Any:
            captured.append(kw)
            return real.send_email(**kw)  # through the contract layer: a dot would be BadRequestException

    cid = campaign_id("tag")
    assert _send(aws, sqs_event(send_bodies(["anna@example.se"], cid, aws["settings"].hmac_key, send_id=NOTICE)),
                 ses=Capture()) == {"batchItemFailures": []}
    tags = {t["Name"]: t["Value"] for t in captured[0]["EmailTags"]}
    assert "." not in tags["notis_send"] and send_id_from_tag(tags["notis_send"]) == NOTICE
    assert _ledger(aws).get(NOTICE, recipient_key("anna@example.se", aws["settings"].hmac_key))["state"] == "sent"


def test_an_idn_domain_goes_to_ses_in_punycode(aws: dict[str, Any]) -> None:
    cid = campaign_id("idn")
    assert _send(aws, sqs_event(send_bodies(["anna@exempel-åäö.se"], cid, aws["settings"].hmac_key))) == {
        "batchItemFailures": []}
    assert set(sent_per_address()) == {"anna@xn--exempel--7zaj2q.se"}


@pytest.mark.parametrize("code", ["BadRequestException", "MessageRejected", "InvalidParameterValue", "Whatever"])
def test_ses_refusing_everyone_alike_stops_the_campaign_and_fails_nobody(aws: dict[str, Any], code: str) -> None:
    cid = campaign_id(f"alike-{code}")
    refusing = FaultySES(aws_clients.client("sesv2"), lambda i: client_error(code, 400))
    event = sqs_event(send_bodies(people(60), cid, aws["settings"].hmac_key), ids=["m1", "m2"])
    response = _send(aws, event, ses=refusing)
    assert {f["itemIdentifier"] for f in response["batchItemFailures"]} == {"m1", "m2"}
    assert refusing.calls <= 12, "stopped after a few refusals, not 60"
    _nobody_failed(aws, cid)
    record = _store(aws).get(cid)
    assert record["state"] == "stopped" and code in record["stop_reason"] and "not the people" in record["stop_reason"]


def test_a_bad_sender_address_stops_before_any_ses_call(aws: dict[str, Any]) -> None:
    cid = campaign_id("bad-sender")
    broken = dataclasses.replace(aws["settings"], sender="Kundtjänst <kundtjanst>")
    calls = FaultySES(aws_clients.client("sesv2"), lambda i: None)
    response = _send(aws, sqs_event(send_bodies(people(5), cid, aws["settings"].hmac_key), ids=["m"]), broken, calls)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m"}]}
    assert calls.calls == 0 and list(_ledger(aws).entries(cid)) == []
    assert "sender" in _store(aws).get(cid)["stop_reason"]


def test_a_message_without_a_campaign_record_is_refused_unsent(aws: dict[str, Any]) -> None:
    """Staff cannot mail arbitrary text or addresses by writing to the send queue."""
    cid = campaign_id("forged")
    event = sqs_event(send_bodies(["victim@example.se"], cid, aws["settings"].hmac_key, record=False), ids=["f"])
    assert _send(aws, event) == {"batchItemFailures": [{"itemIdentifier": "f"}]}
    assert sent_per_address() == {} and list(_ledger(aws).entries(cid)) == []


@pytest.mark.parametrize("state", ["held", "failed"])
def test_a_message_of_a_campaign_that_may_not_send_is_refused(aws: dict[str, Any], state: str) -> None:
    cid = campaign_id(f"not-sending-{state}")
    bodies = send_bodies(["anna@example.se"], cid, aws["settings"].hmac_key)
    _store(aws).update(cid, {"state": state})
    assert _send(aws, sqs_event(bodies, ids=["x"])) == {"batchItemFailures": [{"itemIdentifier": "x"}]}
    assert sent_per_address() == {}


def test_a_complaint_stops_email_but_every_later_notice_goes_by_letter(aws: dict[str, Any]) -> None:
    key = recipient_key("anna@example.se", aws["settings"].hmac_key)
    _ledger(aws).suppress(key, reason="complaint", now=0)
    cid = campaign_id("complained")
    later = "korkortsportalen-2024.customers.f-paminnelse"
    _send(aws, sqs_event(send_bodies(["anna@example.se", "bo@example.se"], cid, aws["settings"].hmac_key,
                                     send_id=later)))
    assert set(sent_per_address()) == {"bo@example.se"}
    entry = _ledger(aws).get(later, key)
    assert entry["state"] == "suppressed" and "spam" in needs_letter(entry)
    counters = _ledger(aws).counters(later, cid)
    assert counters["suppressed"] == 1 and counters["mail_letters"] == 1


def test_2000_recipients_with_a_bad_sender_fail_nobody_then_resume_mails_each_once(aws: dict[str, Any]) -> None:
    """The issue's case: a From SES refuses (here a display name with raw non-ASCII, as SES's contract says it
    must be RFC 2047-encoded, passed around our formatting) -> 0 failed, campaign stopped; fix, resume ->
    every person gets exactly one e-mail."""
    from test_sending_faults import CampaignSettings

    cid = campaign_id("bad-sender-2000")
    settings = CampaignSettings(**{**vars(aws["settings"]), "max_send_rate": 500.0, "campaign": cid})
    emails = people(2000)
    bodies = send_bodies(emails, cid, settings.hmac_key, send_id=NOTICE)
    sqs = aws_clients.client("sqs")
    queue = aws["queues"][settings.send_queue]
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)

    class RawFrom:
        """A deployment whose From reaches SES unencoded: every call is refused alike by the contract layer."""

        def __init__(self) -> None:
            self.real = aws_clients.client("sesv2")

        def send_email(self, **kw: Any) -> Any:
            return self.real.send_email(**{**kw, "FromEmailAddress": "Körkortsportalen <notis@example.org>"})

    drive(aws, settings, RawFrom(), FakeClock(), events=False)
    assert sent_per_address() == {}
    _nobody_failed(aws, NOTICE)
    record = _store(aws).get(cid)
    assert record["state"] == "stopped" and "BadRequestException" in record["stop_reason"]
    assert sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"] == "0", "a stopped campaign's messages are dropped"

    # Fixed; `notis resume` puts the campaign back to queued and the importer queues the same people again.
    assert _store(aws).update(cid, {"state": "queued"}, expect_state="stopped")
    for body in bodies:
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    drive(aws, settings, aws_clients.client("sesv2"), FakeClock(), events=False)
    sent = sent_per_address()
    assert set(sent) == set(emails) and max(sent.values()) == 1
    assert Ledger(aws_clients.client("dynamodb"), settings.table).counters(NOTICE, settings_campaign(settings))[
        "sent"] == 2000


def test_the_whole_loop_upload_bad_sender_stop_fix_resume_mails_everyone_once(aws: dict[str, Any], capsys) -> None:
    """As staff meet it: a 300-row upload goes out with a sender SES cannot take (raw non-ASCII in the
    display name, no address); nobody is failed, `notis status` says why it stopped; the sender is fixed,
    `notis resume` queues the list again through the importer, and each person gets exactly one e-mail."""
    from queue_helpers import deliver

    from chalicelib.campaigns.handler import handle_import
    from notis_cli.main import main

    settings = aws["settings"]
    rows = "".join(f"Person {i};person{i:05d}@example.se\r\n" for i in range(300))
    aws_clients.client("s3").put_object(Bucket=aws["bucket"], Key="uploads/korkortsportalen-2024/customers/lista.csv",
                                        Body=("Namn;E-post\r\n" + rows).encode("utf-8"))
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    [campaign] = _store(aws).list()
    broken = dataclasses.replace(settings, sender="Kundtjänst Körkortsportalen")  # no address at all
    deliver(aws["queues"][settings.send_queue], lambda event: _send(aws, event, broken))
    assert sent_per_address() == {}
    _nobody_failed(aws, NOTICE)
    assert main(["status", campaign["campaign"]]) == 0
    status = capsys.readouterr().out
    assert "stopped" in status and "sender" in status and f"notis resume {campaign['campaign']}" in status

    assert main(["resume", campaign["campaign"], "--yes"]) == 0
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    assert _store(aws).get(campaign["campaign"])["state"] == "queued"
    deliver(aws["queues"][settings.send_queue], lambda event: _send(aws, event, settings))
    sent = sent_per_address()
    assert len(sent) == 300 and max(sent.values()) == 1
