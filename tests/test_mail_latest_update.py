"""The first notice carries the newest update: someone who first hears of the breach from it reads what the page
says now, and is sent no separate notice for an update made before their campaign started."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.content.loader import load_incidents
from chalicelib.content.model import Incident, Update
from chalicelib.content.text import Text
from chalicelib.mail import MailSpec, compose
from chalicelib.web import CONTENT_DIR
from notis_cli.main import main

CET = timezone(timedelta(hours=1))
NEWS = Update(id="sms-bedrageri", at=datetime(2024, 2, 5, 9, 0, tzinfo=CET), status="monitoring", notify=("customers",),
              text=Text.of(sv="Vi har fått veta att bedragare skickar sms i vårt namn. Klicka inte på länkarna.",
                           en="We have learnt that fraudsters send text messages in our name. Do not click the links."))


@pytest.fixture(scope="module")
def demo() -> Incident:
    return load_incidents(CONTENT_DIR)[0]


def mail(incident: Incident, template: str = "notice", audience: str = "customers", lang: str = "sv",
         update_id: str | None = None):
    return compose(incident, MailSpec(template, audience, update_id), names=["Anna"], lang=lang, reference="K7QX")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("audience", ["customers", "schools", "partners"])
def test_the_first_notice_says_what_the_newest_update_says_in_both_languages(demo, audience):
    incident = dataclasses.replace(demo, updates=(*demo.updates, NEWS))
    sv, en = mail(incident, audience=audience), mail(incident, audience=audience, lang="en")
    assert "Senaste uppdateringen (5 februari 2024)\n" in sv.text
    assert "Vi har fått veta att bedragare skickar sms i vårt namn. Klicka inte på länkarna." in flat(sv.text)
    assert "Latest update (5 February 2024)\n" in en.text
    assert "fraudsters send text messages in our name" in flat(en.text)
    assert ">Latest update (5 February 2024)</h2>" in en.html and "fraudsters send text messages" in en.html
    assert ">Senaste uppdateringen (5 februari 2024)</h2>" in sv.html


def test_only_the_newest_update_is_carried_and_it_comes_before_the_art34_sections(demo):
    text = mail(demo).text
    assert "Senaste uppdateringen (22 januari 2024)" in text
    assert "Sidan har fått frågor och svar." in flat(text)
    assert "Vi vet nu vilka slags uppgifter" not in text, "older updates stay on the page"
    assert text.index("Senaste uppdateringen") < text.index("Vad har hänt?")
    assert text.count("Senaste uppdateringen") == 1


def test_an_update_in_swedish_only_is_shown_in_swedish_and_marked_so(demo):
    swedish_only = dataclasses.replace(NEWS, text=Text.of(sv="Bara på svenska."))
    en = mail(dataclasses.replace(demo, updates=(*demo.updates, swedish_only)), lang="en")
    assert "Latest update (5 February 2024)" in en.text and "Bara på svenska." in en.text
    assert '<div lang="sv"><p>Bara på svenska.</p></div>' in en.html


@pytest.mark.parametrize(("template", "update_id"), [("update", "anmalt"), ("reminder", None)])
def test_other_mails_do_not_repeat_it(demo, template, update_id):
    """An update notice already quotes its own update; a reminder repeats the notice as it was written."""
    text = mail(demo, template=template, update_id=update_id).text
    assert "Senaste uppdateringen" not in text


def test_preview_mail_shows_it(capsys):
    assert main(["preview-mail", "--incident", "korkortsportalen-2024", "--audience", "customers"]) == 0
    assert "Senaste uppdateringen (22 januari 2024)" in capsys.readouterr().out
    assert main(["preview-mail", "--incident", "korkortsportalen-2024", "--audience", "schools", "--lang", "en",
                 "--html"]) == 0
    assert ">Latest update (22 January 2024)</h2>" in capsys.readouterr().out
