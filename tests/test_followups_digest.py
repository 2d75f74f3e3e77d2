"""The daily staff digest with moto: once a day, counts and what needs attention, no personal data."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

from followups_helpers import PEOPLE, T0, hours, import_campaign, incident, make_dynamodb_writes_atomic, tick
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from chalicelib.content.model import FollowUp

STAFF = "dpo@korkortsportalen.example"


def digests(aws: dict) -> list:
    return [m for m in ses_backends[DEFAULT_ACCOUNT_ID][aws["region"]].sent_messages
            if STAFF in str(getattr(m, "destinations", ""))]


def staff_settings(aws: dict):
    return dataclasses.replace(aws["settings"], staff_email=STAFF)


def test_digest_reports_progress_and_whats_next_once_a_day(aws):
    soon = FollowUp(id="paminnelse", audience="customers", template="reminder", after_first_send_hours=72)
    missed = FollowUp(id="missad", audience="customers", template="reminder", at=T0 - hours(30),
                      not_after_hours=1)
    inc = incident((soon, missed))
    campaign = import_campaign(aws, inc, at=T0 - hours(40))  # first notice before `missad` was due
    settings = staff_settings(aws)
    assert tick(aws, inc, T0.replace(hour=5), settings=settings)["digest_sent"] == 0, "not before the hour"
    assert tick(aws, inc, T0.replace(hour=6, minute=2), settings=settings)["digest_sent"] == 1
    [mail] = digests(aws)
    text = mail.body
    assert campaign["campaign"] in text and f"e-mails {len(PEOPLE)}" in text
    assert f"{campaign['campaign']}  korkortsportalen-2024 / customers  queued" in text, "nothing sent yet"
    assert "f-missad" in text and "NOT sent automatically" in text
    assert "f-paminnelse" in text and "next 7 days" in text
    assert "send (" in text and "import (" in text, "dead-letter depths"
    assert "need attention" in mail.subject
    assert not any(p in text for p in PEOPLE) and "@example.se" not in text
    for later in (hours(1), hours(10)):
        assert tick(aws, inc, T0.replace(hour=6) + later, settings=settings)["digest_sent"] == 0
    from chalicelib.aws import client
    from chalicelib.campaigns.store import CampaignStore

    CampaignStore(client("dynamodb"), settings.table).update(campaign["campaign"], {"sent": len(PEOPLE)})
    assert tick(aws, inc, T0.replace(hour=6) + timedelta(days=1), settings=settings)["digest_sent"] == 1
    assert len(digests(aws)) == 2
    assert f"{campaign['campaign']}  korkortsportalen-2024 / customers  done" in digests(aws)[1].body


def test_no_staff_address_no_digest(aws):
    inc = incident()
    import_campaign(aws, inc)
    assert tick(aws, inc, T0.replace(hour=7))["digest_sent"] == 0
    assert digests(aws) == []


def test_concurrent_ticks_send_one_digest(aws, monkeypatch):
    make_dynamodb_writes_atomic(monkeypatch)  # as real DynamoDB: see the helper
    inc = incident()
    import_campaign(aws, inc)
    settings, barrier, results = staff_settings(aws), threading.Barrier(3), []

    def run() -> None:
        barrier.wait()
        results.append(tick(aws, inc, T0.replace(hour=7), settings=settings))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["digest_sent"] for r in results) == 1 and len(digests(aws)) == 1


def test_a_sender_name_with_a_comma_and_a_staff_address_on_an_idn_domain_reach_ses_as_it_requires(aws):
    """Under the contract layer: a raw `Kundtjänst, Körkortsportalen <…>` From would be BadRequestException."""
    inc = incident()
    import_campaign(aws, inc)
    settings = dataclasses.replace(aws["settings"], staff_email="dpo@körkortsportalen.example",
                                   sender="Kundtjänst, Körkortsportalen <notis@example.org>")
    assert tick(aws, inc, T0.replace(hour=7), settings=settings)["digest_sent"] == 1
    [mail] = [m for m in ses_backends[DEFAULT_ACCOUNT_ID][aws["region"]].sent_messages
              if "xn--" in str(getattr(m, "destinations", ""))]
    ascii_domain = "körkortsportalen.example".encode("idna").decode()  # the standard library's punycode
    assert "=?utf-8?" in mail.source and f"dpo@{ascii_domain}" in str(mail.destinations)
