"""The staff loop as a new user meets it (issue 14): upload, status, approve, followups and evidence say what a
person under pressure needs to read, plainly, with no personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from queue_helpers import deliver
from sending_helpers import FakeClock, run_send_queue

from chalicelib import aws as aws_clients
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.store import CampaignStore
from chalicelib.sending.status import send_status
from notis_cli.main import main

INCIDENT = "korkortsportalen-2024"
EMAILS = [f"person{i}@example.se" for i in range(25)]


def csv_of(emails: list[str], bad: int = 0) -> bytes:
    rows = [f"Person {i};{e}" for i, e in enumerate(emails)] + [f"Trasig {i};inte-en-adress" for i in range(bad)]
    return ("Namn;E-post\r\n" + "\r\n".join(rows) + "\r\n").encode("cp1252")


@pytest.fixture
def loop(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    monkeypatch.setenv("NOTIS_HMAC_KEY", aws["settings"].hmac_key.decode())  # the key the import uses
    return {"aws": aws, "settings": aws["settings"], "dir": tmp_path, "clock": FakeClock(start=1_714_557_600.0)}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def upload(loop: dict[str, Any], body: bytes, capsys: Any, name: str = "kunder.csv") -> tuple[int, str, str]:
    path = loop["dir"] / name
    path.write_bytes(body)
    return _run(["upload", str(path), "--incident", INCIDENT, "--audience", "customers"], capsys)


def import_and_send(loop: dict[str, Any]) -> None:
    settings = loop["settings"]
    deliver(loop["aws"]["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    run_send_queue(loop["aws"], settings, loop["clock"])


def only_campaign(loop: dict[str, Any]) -> dict[str, Any]:
    [campaign] = CampaignStore(aws_clients.client("dynamodb"), loop["settings"].table).list()
    return campaign


def no_addresses(text: str) -> bool:
    return "@example.se" not in text and "Person " not in text


def test_the_same_file_again_is_named_before_anything_is_uploaded_and_a_corrected_file_counts_the_new(
        loop: dict[str, Any], capsys: Any) -> None:
    code, out, err = upload(loop, csv_of(EMAILS), capsys)
    assert code == 0 and "100% 768 bytes/768 bytes" in err and "0.0/0.0 MB" not in err
    import_and_send(loop)
    campaign = only_campaign(loop)["campaign"]

    code, out, err = upload(loop, csv_of(EMAILS), capsys)
    assert code == 0
    assert f"is the same file as campaign {campaign}" in err and "already done: all 25 recipient(s) settled" in err
    assert "nothing uploaded" in err and "uploaded: s3://" not in out
    assert len(CampaignStore(aws_clients.client("dynamodb"), loop["settings"].table).list()) == 1

    code, out, err = upload(loop, csv_of([*EMAILS, "ny@example.se"]), capsys)
    assert code == 0
    assert "1 new, 25 already notified" in out
    assert out.index("1 new, 25 already notified") < out.index("uploaded: s3://"), "said before it is uploaded"
    assert no_addresses(out + err)


def test_upload_sizes_are_shown_in_a_unit_that_shows_them() -> None:
    from notis_cli.commands.upload import size

    assert (size(812), size(2_400), size(3_500_000)) == ("812 bytes", "2.4 kB", "3.5 MB")


def test_status_after_approval_and_completion(loop: dict[str, Any], capsys: Any) -> None:
    """Held (too many rejected rows), approved, sent: the list names the file, the held text is gone, approving
    again says it is done, and who approved is on record."""
    upload(loop, csv_of(EMAILS[:8], bad=2), capsys)
    import_and_send(loop)
    campaign = only_campaign(loop)
    assert campaign["state"] == "held"
    _code, out, _ = _run(["status", campaign["campaign"]], capsys)
    assert "Nothing has been sent" in out, "the reason it is held is shown while it is held"

    assert _run(["approve", campaign["campaign"], "--yes"], capsys)[0] == 0
    import_and_send(loop)
    code, out, _ = _run(["status", campaign["campaign"]], capsys)
    assert code == 0 and "Nothing has been sent" not in out and "approve with" not in out
    assert f"file       kunder.csv  (s3://{loop['settings'].bucket}/uploads/{INCIDENT}/customers/kunder.csv)" in out
    assert "approved   by arn:aws:" in out and "time left done" in out

    code, listing, _ = _run(["status"], capsys)
    assert f"uploads/{INCIDENT}/customers/kunder.csv" in listing and " done " in listing

    code, _out, err = _run(["approve", campaign["campaign"], "--yes"], capsys)
    assert code == 1 and "is already approved (approved by arn:aws:" in err and "and done: all 8 recipient(s)" in err

    record = only_campaign(loop)
    assert record["approved_by"].startswith("arn:aws:") and record["approved_at"]
    assert [a["action"] for a in record["staff_actions"]] == ["approve"]


def test_a_failed_import_is_listed_with_the_incident_and_audience_of_its_key(loop: dict[str, Any], capsys: Any,
                                                                             ) -> None:
    aws = loop["aws"]
    aws_clients.client("s3").put_object(Bucket=aws["bucket"], Key=f"uploads/{INCIDENT}/customers/lista.xlsx",
                                        Body=b"PK\x03\x04 not a csv")
    deliver(aws["queues"][loop["settings"].import_queue], lambda event: handle_import(event, loop["settings"]))
    assert only_campaign(loop)["state"] == "failed"
    _code, listing, _ = _run(["status"], capsys)
    assert "( / , failed)" not in listing
    row = next(line for line in listing.splitlines() if "failed" in line)
    assert INCIDENT in row and "customers" in row and "lista.xlsx" in row
    _code, out, _ = _run(["status", only_campaign(loop)["campaign"]], capsys)
    assert f"({INCIDENT} / customers, failed)" in out


def test_approve_says_plainly_when_there_is_nothing_to_approve(loop: dict[str, Any], capsys: Any) -> None:
    upload(loop, csv_of(EMAILS[:3]), capsys)
    deliver(loop["aws"]["queues"][loop["settings"].import_queue],
            lambda event: handle_import(event, loop["settings"]))
    campaign = only_campaign(loop)["campaign"]
    code, _out, err = _run(["approve", campaign, "--yes"], capsys)
    assert code == 1 and "not held: it was queued when imported and queued: 0 of 3 settled" in err


def test_a_stopped_campaign_shows_the_reason_and_the_resume_command_and_who_resumed(
        loop: dict[str, Any], capsys: Any) -> None:
    from chalicelib.sending.gate import CampaignGate

    upload(loop, csv_of(EMAILS[:3]), capsys)
    deliver(loop["aws"]["queues"][loop["settings"].import_queue],
            lambda event: handle_import(event, loop["settings"]))
    campaign = only_campaign(loop)["campaign"]
    assert CampaignGate(aws_clients.client("dynamodb"), loop["settings"].table).stop(
        campaign, reason="SES refused: the sender identity is not verified", code="MessageRejected",
        now="2024-05-01T10:00:00+00:00")
    _code, out, _ = _run(["status", campaign], capsys)
    assert "stopped: SES refused: the sender identity is not verified (at 2024-05-01T10:00:00+00:00)" in out
    assert f"notis resume {campaign}" in out
    assert _run(["resume", campaign, "--yes"], capsys)[0] == 0
    actions = only_campaign(loop)["staff_actions"]
    assert [a["action"] for a in actions] == ["resume"] and actions[0]["by"].startswith("arn:aws:")


def test_the_first_estimate_uses_the_configured_rate_until_sends_are_measured() -> None:
    """Two e-mails sent in the first three seconds: the last minute's rate (2/60 per second) would promise an
    hour for 98 e-mails; at the configured 14/s it is about 7 seconds."""
    entries = [{"state": "sent", "claimed_at": 997.0, "sent_at": 998.0 + i} for i in range(2)]
    s = send_status({"state": "queued", "counts": {"deliverable": 100}}, entries, now=1000.0, configured_rate=14.0)
    assert s.rate_source == "configured" and s.time_left == pytest.approx(98 / 14)
    from notis_cli.commands.status import time_left

    assert time_left(s) == "about 0m07s at the configured rate"
    busy = [{"state": "sent", "claimed_at": 970.0, "sent_at": 971.0 + i} for i in range(30)]
    s = send_status({"state": "queued", "counts": {"deliverable": 90}}, busy, now=1000.0, configured_rate=14.0)
    assert s.rate_source == "measured" and s.rate == pytest.approx(1.0) and s.time_left == pytest.approx(60)
    assert time_left(s) == "about 1m00s"


def test_the_local_stack_is_recognised_by_its_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from notis_cli.commands import _common

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert not _common.on_local_stack() and _common.local_warning() == ""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert _common.on_local_stack() and "no SES delivery events are simulated" in _common.local_warning()


def test_evidence_is_complete_and_warns_that_the_local_stack_simulates_no_delivery(
        loop: dict[str, Any], capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    upload(loop, csv_of([*EMAILS[:8], EMAILS[0].upper()], bad=2), capsys)  # a duplicate, 2 of 11 rejected: held
    import_and_send(loop)
    campaign = only_campaign(loop)["campaign"]
    assert _run(["approve", campaign, "--yes"], capsys)[0] == 0
    import_and_send(loop)
    monkeypatch.setattr("notis_cli.commands._common.on_local_stack", lambda: True)
    monkeypatch.setattr("notis_cli.commands.evidence.on_local_stack", lambda: True)

    code, out, err = _run(["evidence", campaign, "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert doc["file"] | {"uploaded_at": None, "size_bytes": 0, "version": ""} == {
        "bucket": loop["settings"].bucket, "key": f"uploads/{INCIDENT}/customers/kunder.csv", "name": "kunder.csv",
        "version": "", "size_bytes": 0, "uploaded_at": None, "rows": 11, "e_mail_recipients": 8,
        "duplicates_merged": 1, "rejected": 2, "warnings": 1, "without_usable_address": 2}
    events = [(e["event"], e["by"]) for e in doc["history"]]
    assert ("held: too many rejected rows", "the import") in events
    assert any(what == "staff: approve" and by.startswith("arn:aws:") for what, by in events)
    assert doc["notified_by_email"] == 8 and len(doc["message_log"]) == 8
    assert all(r["message_id"] and len(r["pseudonym"]) == 64 for r in doc["message_log"])
    assert doc["delivered"] == 0 and doc["delivery_events_simulated"] is False
    assert "no SES delivery events are simulated" in doc["warning"]
    assert doc["letters_needed"] == 2 and doc["letters_posted"] is None and doc["purged_at"] is None
    assert doc["followups"] == []

    _code, text, _ = _run(["evidence", campaign], capsys)
    assert text.startswith("Warning: This is the local stack") and "Rows in the file:      11" in text
    assert "staff: approve  by arn:aws:" in text and "Retention: the file and reports are not deleted yet" in text
    _code, status_out, _ = _run(["status", campaign], capsys)
    assert "no SES delivery events are simulated" in status_out
    assert no_addresses(out + text + err + status_out)
