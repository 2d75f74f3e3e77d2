"""`notis followups` and the content check: staff see what is scheduled, start one by hand, and a follow-up
naming a missing template is caught when content is checked, not when it is due."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from followups_helpers import CSV, PEOPLE, SLUG, T0, emails, hours, import_campaign, marker, sent, tick

from chalicelib.content.loader import load_incidents
from chalicelib.web import CONTENT_DIR
from notis_cli.main import main

DEMO = CONTENT_DIR / SLUG / "incident.yaml"


def content(tmp_path: Path, followups: list[dict], monkeypatch: pytest.MonkeyPatch):
    """A content folder: the demo incident with these follow-ups; NOTIS_CONTENT_DIR points at it."""
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["followups"] = followups
    folder = tmp_path / "incidents" / SLUG
    folder.mkdir(parents=True)
    (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NOTIS_CONTENT_DIR", str(tmp_path / "incidents"))
    [incident] = load_incidents(tmp_path / "incidents")
    return incident


REMINDER = {"id": "paminnelse", "audience": "customers", "template": "reminder", "after_first_send_hours": 72,
            "not_after_hours": 24}


def test_the_demo_declares_a_reminder_and_its_content_checks(capsys):
    [incident] = load_incidents(CONTENT_DIR)
    assert [(f.id, f.template) for f in incident.followups] == [("paminnelse", "reminder")]
    assert not any(u.notify for u in incident.updates), "no update mails anyone by default"
    assert main(["check-content"]) == 0


def test_check_content_names_a_followup_whose_template_is_missing(tmp_path, monkeypatch, capsys):
    content(tmp_path, [{**REMINDER, "template": "paminelse-typo"}], monkeypatch)
    assert main(["check-content", str(tmp_path / "incidents")]) == 1
    err = capsys.readouterr().err
    assert "paminelse-typo" in err and "customers" in err


def test_list_shows_when_for_how_many_and_the_state(aws, tmp_path, monkeypatch, capsys):
    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)
    assert main(["followups", "--at", (T0 + hours(1)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert campaign["campaign"] in out and "f-paminnelse" in out
    assert "due 2024-03-04 09:00 UTC" in out and "upcoming" in out and f"up to {len(PEOPLE)}" in out
    tick(aws, inc, T0 + hours(72))
    assert main(["followups", SLUG, "--at", (T0 + hours(73)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "queued" in out and f"{len(PEOPLE)} queued" in out
    assert not any(p in out for p in PEOPLE)
    assert main(["followups", "no-such-incident"]) == 1


def test_run_by_hand_asks_first_then_the_tick_starts_a_stale_followup(aws, tmp_path, monkeypatch, capsys):
    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)
    late = T0 + hours(200)
    tick(aws, inc, late)
    assert marker(aws, campaign["campaign"], "f-paminnelse")["state"] == "stale" and sent(aws) == []

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert main(["followups", "run", "paminnelse", "--campaign", campaign["campaign"]]) == 1
    assert tick(aws, inc, late + hours(1))["by_hand"] == 0 and sent(aws) == [], "not confirmed: nothing"

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert main(["followups", "run", "paminnelse", "--campaign", campaign["campaign"]]) == 0
    assert "requested" in capsys.readouterr().out
    summary = tick(aws, inc, late + hours(2))
    assert summary["by_hand"] == 1 and summary["followups_started"] == 1
    assert emails(sent(aws)) == sorted(PEOPLE)
    assert tick(aws, inc, late + hours(3))["followups_started"] == 0, "the request is used up"
    assert main(["followups", "run", "f-paminnelse", "--campaign", campaign["campaign"], "--yes"]) == 1, (
        "queued already: refused")
    assert sent(aws) == []


def test_run_here_starts_it_from_the_cli(aws, tmp_path, monkeypatch, capsys):
    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)
    assert main(["followups", "run", "paminnelse", "--campaign", campaign["campaign"], "--yes", "--here"]) == 0
    assert f"queued: {len(PEOPLE)} recipient(s)" in capsys.readouterr().out
    assert emails(sent(aws)) == sorted(PEOPLE)
    assert tick(aws, inc, T0 + hours(72))["followups_started"] == 0, "the schedule does not send it again"
    assert sent(aws) == []


def test_run_names_what_exists_when_the_id_is_wrong(aws, tmp_path, monkeypatch, capsys):
    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)
    assert main(["followups", "run", "nope", "--campaign", campaign["campaign"], "--yes"]) == 1
    assert "f-paminnelse" in capsys.readouterr().err
    assert main(["followups", "run", "paminnelse", "--campaign", "c" + "0" * 20, "--yes"]) == 1
    assert "no campaign 'c00000000000000000000'" in capsys.readouterr().err


def test_run_needs_no_campaign_when_one_campaign_has_it(aws, tmp_path, monkeypatch, capsys):
    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)
    assert main(["followups", "run", "paminnelse", "--yes", "--here"]) == 0
    assert f"queued: {len(PEOPLE)} recipient(s)" in capsys.readouterr().out
    assert emails(sent(aws)) == sorted(PEOPLE)
    import_campaign(aws, inc, name="rattad.csv", body=CSV + b"Ny;ny@example.se\r\n")
    assert main(["followups", "run", "paminnelse", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "2 campaign(s) have 'paminnelse'" in err and campaign["campaign"] in err and "--campaign" in err


def test_list_shows_progress_and_completion_from_the_ledger(aws, tmp_path, monkeypatch, capsys):
    """It said "4 queued" after all four were sent: the marker knows what was queued, the ledger what was sent."""
    from sending_helpers import FakeClock, run_send_queue

    inc = content(tmp_path, [REMINDER], monkeypatch)
    import_campaign(aws, inc)
    tick(aws, inc, T0 + hours(72))
    run_send_queue(aws, aws["settings"], FakeClock(start=(T0 + hours(72)).timestamp() + 60))
    assert main(["followups", SLUG, "--at", (T0 + hours(73)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"done: {len(PEOPLE)}/{len(PEOPLE)} settled ({len(PEOPLE)} sent)" in out
    assert f"{len(PEOPLE)} queued" not in out and not any(p in out for p in PEOPLE)
    assert "no SES delivery events are simulated" not in out
    monkeypatch.setattr("notis_cli.commands._common.on_local_stack", lambda: True)
    assert main(["followups", SLUG, "--at", (T0 + hours(73)).isoformat()]) == 0
    assert "only_undelivered would go to everyone" in capsys.readouterr().out


def test_evidence_has_every_followup_with_its_message_ids_and_the_retention_purge(aws, tmp_path, monkeypatch,
                                                                                   capsys):
    import json
    from datetime import timedelta

    from sending_helpers import FakeClock, run_send_queue

    inc = content(tmp_path, [REMINDER], monkeypatch)
    campaign = import_campaign(aws, inc)["campaign"]
    tick(aws, inc, T0 + hours(72))
    run_send_queue(aws, aws["settings"], FakeClock(start=(T0 + hours(72)).timestamp() + 60))
    assert tick(aws, inc, T0 + timedelta(days=inc.retention_days, minutes=1))["purged"] == 1
    assert main(["evidence", campaign, "--json"]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out[out.index('{\n  "campaign"'):])  # after the handlers' own log lines
    [followup] = doc["followups"]
    assert (followup["kind"], followup["id"], followup["state"]) == ("follow-up", "f-paminnelse", "queued")
    assert followup["recipients"] == followup["sent"] == len(PEOPLE) and followup["complete"]
    assert [bool(r["message_id"]) for r in followup["message_log"]] == [True] * len(PEOPLE)
    assert doc["purged_at"] and doc["purge"]["upload_versions"] >= 1
    assert "delivery_events_simulated" not in doc, "not the local stack"
    assert main(["evidence", campaign]) == 0
    text = capsys.readouterr().out
    assert "Follow-up f-paminnelse (korkortsportalen-2024.customers.f-paminnelse): queued" in text
    assert "Retention: file and reports deleted at" in text and not any(p in text for p in PEOPLE)


def test_an_update_published_before_the_first_notice_says_why_it_is_not_sent(aws, tmp_path, monkeypatch, capsys):
    """The first notice carries the newest update, so no separate update notice goes to that campaign: staff
    read why, not a bare 'not applicable'."""
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["updates"].append({"id": "tidig", "at": (T0 - hours(2)).isoformat(), "status": "monitoring",
                           "text": {"sv": "Ny information.", "en": "New information."}, "notify": ["customers"]})
    folder = tmp_path / "incidents" / SLUG
    folder.mkdir(parents=True)
    (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NOTIS_CONTENT_DIR", str(tmp_path / "incidents"))
    [inc] = load_incidents(tmp_path / "incidents")
    import_campaign(aws, inc)
    assert main(["followups", "--at", (T0 + hours(1)).isoformat()]) == 0
    out = capsys.readouterr().out
    assert "u-tidig" in out and "published before this campaign's first notice, which already carries it" in out
