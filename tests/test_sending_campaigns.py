"""A corrected re-upload: two campaigns of one incident and audience over overlapping files, through the real
import and the real sender. Nobody is mailed twice, and `notis status`/`notis evidence` of both campaigns agree
with the ledger: the second campaign counts who the first already settled, and both end `done`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sending_helpers import FakeClock, people, run_send_queue, sent_per_address
from test_import import drain_import_queue

from chalicelib import aws as aws_clients
from chalicelib.campaigns.store import CampaignStore
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ledger import Ledger
from chalicelib.sending.status import send_status
from notis_cli.main import main

KEY = "uploads/korkortsportalen-2024/customers/kunder.csv"
NOTICE = "korkortsportalen-2024.customers.notice"
T0 = 1_714_557_600.0


def _csv(emails: list[str]) -> bytes:
    return ("Namn;E-post\r\n" + "".join(f"Person {e[6:11]};{e}\r\n" for e in emails)).encode()


def _import(aws: dict[str, Any], emails: list[str]) -> dict[str, Any]:
    before = {c["campaign"] for c in _store(aws).list()}
    aws_clients.client("s3").put_object(Bucket=aws["bucket"], Key=KEY, Body=_csv(emails))
    drain_import_queue(aws)
    [campaign] = [c for c in _store(aws).list() if c["campaign"] not in before]
    assert campaign["state"] == "queued", campaign
    return campaign


def _store(aws: dict[str, Any]) -> CampaignStore:
    return CampaignStore(aws_clients.client("dynamodb"), aws["settings"].table)


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.fixture
def two_campaigns(aws: dict[str, Any]) -> dict[str, Any]:
    settings = aws["settings"]
    ledger = Ledger(aws_clients.client("dynamodb"), settings.table)
    first_file = people(30)  # person00000 .. person00029
    corrected = people(30, start=5)  # person00005 .. person00034: 25 of them in the first file too
    bounced_before = "person00029@example.se"  # suppressed before either campaign
    ledger.suppress(recipient_key(bounced_before, settings.hmac_key), reason="bounce", now=0)
    clock = FakeClock(start=T0)

    a = _import(aws, first_file)
    run_send_queue(aws, settings, clock)
    clock.advance(3600)
    b = _import(aws, corrected)
    run_send_queue(aws, settings, clock)
    run_send_queue(aws, settings, clock)  # nothing left: a second pass changes nothing
    return {"a": a["campaign"], "b": b["campaign"], "ledger": ledger, "settings": settings,
            "first": first_file, "corrected": corrected, "bounced": bounced_before}


def test_nobody_is_mailed_twice_and_the_ledger_names_the_campaign_that_mailed(two_campaigns: dict[str, Any]) -> None:
    t = two_campaigns
    sent = sent_per_address()
    assert max(sent.values()) == 1
    assert set(sent) == (set(t["first"]) | set(t["corrected"])) - {t["bounced"]}
    by_campaign = {e["key"]: e["campaign"] for e in t["ledger"].entries(NOTICE)}
    key = lambda e: recipient_key(e, t["settings"].hmac_key)  # noqa: E731
    assert {by_campaign[key(e)] for e in t["first"]} == {t["a"]}
    assert {by_campaign[key(e)] for e in set(t["corrected"]) - set(t["first"])} == {t["b"]}


def test_status_of_both_campaigns_agrees_with_the_ledger(two_campaigns: dict[str, Any], capsys: Any) -> None:
    t = two_campaigns
    a_out = _cli(["status", t["a"]], capsys)
    assert "customers, done)" in a_out
    assert "recipients 30" in a_out and "queued     0    in flight 0" in a_out
    assert "sent       29" in a_out and "suppressed 1" in a_out
    b_out = _cli(["status", t["b"]], capsys)
    assert "customers, done)" in b_out, b_out
    assert "recipients 30" in b_out and "queued     0    in flight 0" in b_out
    assert "sent       5" in b_out and "suppressed 1" in b_out
    assert "not mailed already notified 24" in b_out
    assert f"(settled by an earlier campaign: {t['a']} 25)" in b_out  # 24 mailed by A, 1 found suppressed by A
    assert "time left done" in b_out
    watch = _cli(["status", t["b"], "--watch", "--interval", "0"], capsys)
    assert "30/30" in watch  # --watch ends
    listing = _cli(["status"], capsys)
    assert [line.split()[1] for line in listing.splitlines()[1:]] == ["done", "done"]


def test_evidence_of_both_campaigns_is_complete(two_campaigns: dict[str, Any], capsys: Any) -> None:
    t = two_campaigns
    a = json.loads(_cli(["evidence", t["a"], "--json"], capsys))
    b = json.loads(_cli(["evidence", t["b"], "--json"], capsys))
    assert a["complete"] and a["progress"] == "done" and a["notified_by_email"] == 29
    assert a["not_mailed_suppressed"] == 1 and a["not_mailed_already_notified"] == 0
    assert b["complete"] and b["progress"] == "done" and b["notified_by_email"] == 5
    assert b["not_mailed_already_notified"] == 24 and b["not_mailed_suppressed"] == 1
    assert b["already_notified_by_campaign"] == {t["a"]: 25} and b["not_yet_settled"] == 0
    assert b["sending_ended"] is not None and len(b["message_log"]) == 5
    text = _cli(["evidence", t["b"]], capsys)
    assert "Already notified by an earlier campaign, not mailed again: 24" in text and "@" not in text


def test_the_counters_agree_and_seen_markers_expire_with_the_incident(two_campaigns: dict[str, Any]) -> None:
    t = two_campaigns
    a, b = t["ledger"].counters(NOTICE, t["a"]), t["ledger"].counters(NOTICE, t["b"])
    assert (a["sent"], a["suppressed"], a.get("already_notified", 0)) == (29, 1, 0)
    assert (b["sent"], b["suppressed"], b["already_notified"]) == (5, 1, 24)
    seen = t["ledger"].seen(t["b"], NOTICE)
    assert len(seen) == 25 and {m["by"] for m in seen} == {t["a"]}
    retention = 90 * 86400  # the demo incident's retention_days
    assert all(T0 + retention <= m["expires_at"] <= T0 + retention + 86400 for m in seen)


def test_a_held_or_failed_campaign_shows_nobody_queued() -> None:
    for state in ("held", "failed", "importing", "approved"):
        s = send_status({"state": state, "counts": {"deliverable": 10}}, [], now=T0, configured_rate=14)
        assert (s.queued, s.progress, s.done, s.time_left) == (0, state, False, None)
    queued = send_status({"state": "queued", "counts": {"deliverable": 10}}, [], now=T0, configured_rate=14)
    assert (queued.queued, queued.progress) == (10, "queued")
    one = send_status({"state": "queued", "counts": {"deliverable": 10}}, [{"state": "sent", "sent_at": T0}],
                      now=T0, configured_rate=14)
    assert (one.queued, one.progress) == (9, "sending")
