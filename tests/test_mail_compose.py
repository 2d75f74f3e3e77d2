"""The notification e-mail as a recipient reads it: Art. 34 content, greeting, languages, audiences, safety."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.content.loader import load_incidents
from chalicelib.content.model import Incident
from chalicelib.content.text import Text
from chalicelib.mail import Composed, MailError, MailSpec, compose
from chalicelib.mail.render import TEMPLATE_DIR, clean_names, normalise_lang

ROOT = Path(__file__).resolve().parent.parent
REF = "K7QX-2M9D-PA4T4"
PAGE = "https://incident.korkortsportalen.example/incidents/korkortsportalen-2024"


@pytest.fixture(scope="module")
def incident() -> Incident:
    return load_incidents(ROOT / "chalicelib" / "incidents")[0]


def flat(text: str) -> str:
    """The text with line wrapping undone, to look for phrases whatever the line breaks."""
    return " ".join(text.split())


def notice(
    incident: Incident, audience: str = "customers", lang: str = "sv", names: list[str] | None = None
) -> Composed:
    return compose(
        incident,
        MailSpec("notice", audience),
        names=["Anna Andersson"] if names is None else names,
        lang=lang,
        reference=REF,
    )


def test_swedish_customer_notice_has_every_art34_part_in_the_plain_text(incident: Incident) -> None:
    mail = notice(incident)
    text = mail.text
    assert mail.lang == "sv"
    assert mail.subject == "Viktig information: Intrång i webbshoppen på Körkortsportalen"
    assert text.startswith("Hej Anna Andersson,\n")
    assert "upptäckte vi att en utomstående" in text  # what happened
    for category in ("Personnummer", "Namn och postadress", "IP-adress från köptillfället"):  # kinds of data
        assert f"- {category}" in text
    assert "nätfiske" in text  # consequences
    assert "Vi har polisanmält intrånget." in text  # measures
    assert "Anmält till Integritetsskyddsmyndigheten (IMY) den 19 januari 2024." in text
    assert "114 14" in text  # advice
    assert "010-123 45 67" in text and "dataskydd@korkortsportalen.example" in text  # contact point
    assert "Vardagar 08.00–17.00" in text
    assert f"\n{PAGE}\n" in text  # the page address on a line of its own, written out in full
    assert "BankID" in text and "inga bilagor" in text  # how to recognise a genuine message
    assert REF in text and "Ange den gärna om du kontaktar oss" in flat(text)


@pytest.mark.parametrize(("lang", "safe", "never"), [
    ("sv", "den är ofarlig att uppge", ("lösenord", "BankID", "betala", "säkerhetskoder från banken")),
    ("en", "it is safe to quote", ("passwords", "BankID", "pay", "security codes from your bank")),
])
def test_the_footer_says_our_code_is_safe_to_quote_and_what_we_never_ask_for(incident: Incident, lang: str,
                                                                             safe: str, never: tuple) -> None:
    """The reference code is for checking only and safe to quote to us; "never give codes" would contradict
    "quote it if you contact us", so what we never ask for is named: passwords, BankID, payment, bank codes."""
    text = flat(notice(incident, lang=lang).text)
    genuine = text[text.index("BankID") - 80:text.index(REF)]
    after_code = text[text.index(REF):]
    assert safe in after_code and all(word in genuine for word in never)
    assert not re.search(r"(lösenord|passwords), (koder|codes) ", genuine), "a bare 'codes' reads as ours too"


def test_plain_text_has_no_markup_and_short_lines(incident: Incident) -> None:
    for audience in ("customers", "schools"):
        for lang in ("sv", "en"):
            text = notice(incident, audience, lang).text
            assert not re.search(r"<[a-zA-Z/!]", text), "HTML in the plain part"
            assert not re.search(r"\]\(|\*\*|&[a-z]+;", text), "Markdown or entities in the plain part"
            assert "\n\n\n" not in text
            long_lines = [line for line in text.splitlines() if len(line) > 78 and "://" not in line]
            assert long_lines == []


def test_markdown_links_in_content_become_readable_text(incident: Incident) -> None:
    linked = dataclasses.replace(
        incident, advice=Text.of(sv="Läs mer hos [IMY](https://www.imy.se/) och **var vaksam**.")
    )
    mail = notice(linked)
    assert "Läs mer hos IMY (https://www.imy.se/) och var vaksam." in mail.text
    assert '<a href="https://www.imy.se/">IMY</a>' in mail.html
    assert "<strong>var vaksam</strong>" in mail.html


def test_html_is_simple_accessible_and_untracked(incident: Incident) -> None:
    html = notice(incident).html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="sv">' in html
    assert "<title>Viktig information: Intrång i webbshoppen på Körkortsportalen</title>" in html
    assert "<h2" in html and "<ul>" in html
    lowered = html.lower()
    for forbidden in ("<img", "<script", "<link", "<iframe", "<form", "url(", "@import", "background-image"):
        assert forbidden not in lowered
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert f'href="{PAGE}"' in html
    # links point straight at their address: nothing rewritten for click tracking, no query strings added
    allowed = (PAGE, "https://korkortsportalen.example/support", "mailto:", "tel:")
    assert hrefs and all(h.startswith(allowed) for h in hrefs), hrefs
    assert REF in html


@pytest.mark.parametrize("audience", ["customers", "schools"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_audience_and_language_renders(incident: Incident, audience: str, lang: str) -> None:
    mail = notice(incident, audience, lang)
    assert mail.lang == lang
    assert f'<html lang="{lang}">' in mail.html
    assert PAGE in mail.text and REF in mail.text and "010-123 45 67" in mail.text
    greeting = {"sv": "Hej Anna Andersson,", "en": "Dear Anna Andersson,"}[lang]
    assert mail.text.startswith(greeting)
    assert ("Intrusion" in mail.subject) == (lang == "en")


def test_schools_are_addressed_as_a_driving_school(incident: Incident) -> None:
    sv = notice(incident, "schools", "sv")
    assert "trafikskol" in sv.subject
    assert "informera era elever" in flat(sv.text) and "hänvisa dem till vår informationssida" in flat(sv.text)
    assert "\nRåd som ni kan ge era elever\n" in sv.text
    assert "som är kund" not in flat(sv.text)
    en = notice(incident, "schools", "en")
    assert "driving schools" in en.subject
    assert "Please inform your students" in flat(en.text)
    assert "\nAdvice you can give your students\n" in en.text


def test_greeting_names_everyone_at_the_address(incident: Incident) -> None:
    assert notice(incident, names=["Anna Andersson", "Erik Andersson"]).text.startswith(
        "Hej Anna Andersson och Erik Andersson,\n"
    )
    assert notice(incident, lang="en", names=["Anna Andersson", "Erik Andersson"]).text.startswith(
        "Dear Anna Andersson and Erik Andersson,\n"
    )
    assert notice(incident, names=["A B", "C D", "E F"]).text.startswith("Hej A B, C D och E F,\n")
    assert notice(incident, names=[]).text.startswith("Hej,\n")
    assert notice(incident, lang="en", names=["  ", ""]).text.startswith("Hello,\n")
    assert "<p>Hej,</p>" in notice(incident, names=[]).html
    assert notice(incident, names=["Anna", " Anna ", "ANNA"]).text.startswith("Hej Anna,\n")
    many = [f"Elev {i}" for i in range(7)]  # a shared mailbox: a list of seven names would read as an error
    assert notice(incident, names=many).text.startswith("Hej,\n")
    assert notice(incident, names=many[:6]).text.startswith("Hej Elev 0, Elev 1, Elev 2, Elev 3, Elev 4 och Elev 5,")


def test_hostile_name_is_escaped_in_html_and_literal_in_text(incident: Incident) -> None:
    mail = notice(incident, names=["<script>alert(1)</script>", 'Eve" onmouseover="x'])
    assert "<script>" not in mail.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.html
    assert "Eve&#34; onmouseover=&#34;x" in mail.html
    assert mail.text.startswith('Hej <script>alert(1)</script> och Eve" onmouseover="x,\n')


def test_names_cannot_add_lines_or_reorder_text(incident: Incident) -> None:
    mail = notice(incident, names=["Anna\r\nBcc: x@evil.example\n\nFake paragraph", "\u202eevil", "x" * 5000])
    greeting, _, rest = mail.text.partition("\n\n")
    assert flat(greeting).startswith("Hej Anna Bcc: x@evil.example Fake paragraph, evil och xxx")
    assert greeting.endswith("…,") and len(greeting) < 200
    assert rest.startswith("Vi skriver till dig")
    assert "\u202e" not in mail.text and "\u202e" not in mail.html


@given(st.lists(st.text(max_size=200), max_size=5))
@settings(max_examples=200, deadline=None)
def test_clean_names_always_gives_single_short_lines(names: list[str]) -> None:
    for name in clean_names(names):
        assert name and name == name.strip()
        assert not any(c in name for c in "\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        assert len(name) <= 100


def test_english_falls_back_to_swedish_per_section(incident: Incident) -> None:
    swedish_only = dataclasses.replace(
        incident,
        consequences=Text.of(sv=incident.consequences.in_lang("sv")),  # no English translation
    )
    mail = notice(swedish_only, lang="en")
    assert "What has happened?" in mail.text and "On the morning of Wednesday 17 January" in mail.text
    assert "e-post eller sms som ser ut att komma från oss" in mail.text  # the Swedish consequences
    assert "e-mails or text messages that seem to come from us" not in mail.text
    assert '<div lang="sv"><p>Uppgifterna räknas inte' in mail.html  # screen readers switch language
    assert '<div lang="sv"><p>On the morning' not in mail.html


def test_english_title_missing_gives_english_subject_prefix_with_swedish_title(incident: Incident) -> None:
    mail = notice(dataclasses.replace(incident, title=Text.of(sv="Intrång hos oss")), lang="en")
    assert mail.subject == "Important information: Intrång hos oss"


def test_unknown_language_gets_swedish(incident: Incident) -> None:
    assert notice(incident, lang="de").lang == "sv"
    assert notice(incident, lang="EN-gb").lang == "en"
    assert normalise_lang("") == "sv" and normalise_lang(None) == "sv"


def test_audience_without_template_gets_the_generic_notice(incident: Incident) -> None:
    mail = notice(incident, audience="partners")
    assert "Vi skriver till dig eftersom det har hänt en personuppgiftsincident" in mail.text
    assert PAGE in mail.text and REF in mail.text


def test_update_notice_quotes_the_update(incident: Incident) -> None:
    mail = compose(
        incident, MailSpec("update", "customers", update_id="anmalt"), names=["Anna"], lang="sv", reference=REF
    )
    assert mail.subject == "Uppdatering: Intrång i webbshoppen på Körkortsportalen"
    assert "Uppdaterat 19 januari 2024 kl. 15.00" in mail.text
    assert "Vi vet nu vilka slags uppgifter angriparen kunde nå" in mail.text
    assert "<blockquote" in mail.html and PAGE in mail.text and REF in mail.text
    en = compose(incident, MailSpec("update", "schools", update_id="anmalt"), names=[], lang="en", reference=REF)
    assert en.subject.startswith("Update: ") and "Updated 19 January 2024 at 15:00" in en.text


def test_update_notice_needs_a_known_update(incident: Incident) -> None:
    with pytest.raises(MailError, match="update id"):
        compose(incident, MailSpec("update", "customers"), names=[], lang="sv", reference=REF)
    with pytest.raises(MailError, match="no update 'nope'"):
        compose(incident, MailSpec("update", "customers", "nope"), names=[], lang="sv", reference=REF)


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_reminder_follow_up_repeats_the_notice(incident: Incident, lang: str) -> None:
    mail = compose(incident, MailSpec("reminder", "customers"), names=["Anna"], lang=lang, reference=REF)
    assert mail.subject.startswith({"sv": "Påminnelse: ", "en": "Reminder: "}[lang])
    assert PAGE in mail.text and "114 14" in mail.text and REF in mail.text


@pytest.mark.parametrize("name", ["../../page/base", "Notice", "", "a/b", "x" * 100])
def test_template_and_audience_names_are_checked(incident: Incident, name: str) -> None:
    with pytest.raises(MailError, match="lowercase"):
        compose(incident, MailSpec(name, "customers"), names=[], lang="sv", reference=REF)
    with pytest.raises(MailError, match="lowercase"):
        compose(incident, MailSpec("notice", name), names=[], lang="sv", reference=REF)


def test_unknown_template_says_what_was_looked_for(incident: Incident) -> None:
    with pytest.raises(MailError, match=r"no e-mail template 'second-letter'.*second-letter/customers\.sv\.j2"):
        compose(incident, MailSpec("second-letter", "customers"), names=[], lang="sv", reference=REF)


def test_every_template_file_renders_in_both_formats(incident: Incident) -> None:
    """A template added later is rendered here too, so a typo fails in CI and not in a send."""
    update_id = incident.updates[0].id
    for path in sorted(TEMPLATE_DIR.glob("*/*.j2")):
        template = path.parent.name
        audience, lang = path.name.removesuffix(".j2").rsplit(".", 1)
        spec = MailSpec(template, audience, update_id if template == "update" else None)
        mail = compose(incident, spec, names=["Anna"], lang=lang, reference=REF)
        assert mail.subject and mail.text.strip() and "</html>" in mail.html, path
        assert REF in mail.text and PAGE in mail.text, path


def test_compose_does_not_reparse_templates(incident: Incident, monkeypatch: pytest.MonkeyPatch) -> None:
    for lang in ("sv", "en"):
        notice(incident, lang=lang)  # warm: templates are compiled once per process
    import jinja2

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("template source read again")

    monkeypatch.setattr(jinja2.FileSystemLoader, "get_source", refuse)
    for lang in ("sv", "en"):
        notice(incident, lang=lang)


def test_template_problems_are_found_when_content_is_checked(incident: Incident) -> None:
    from chalicelib.content.model import FollowUp
    from chalicelib.mail import template_problems

    assert template_problems(incident) == []
    broken = dataclasses.replace(
        incident,
        followups=(
            FollowUp(id="second", audience="customers", template="second-letter", after_first_send_hours=72),
            FollowUp(id="again", audience="schools", template="reminder", after_first_send_hours=72),
        ),
    )
    problems = template_problems(broken)
    assert len(problems) == 1
    assert problems[0].startswith("e-mail 'second-letter' for 'customers' in sv: no e-mail template")


def test_template_only_in_swedish_makes_a_wholly_swedish_mail(
    incident: Incident, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A follow-up template staff wrote only in Swedish: an English reader gets it all in Swedish, not a mix."""
    import shutil

    from chalicelib.mail import render

    shutil.copytree(TEMPLATE_DIR, tmp_path / "mail")
    (tmp_path / "mail" / "second").mkdir()
    (tmp_path / "mail" / "second" / "default.sv.j2").write_text(
        "{% extends layout %}{% block subject %}Andra brevet{% endblock %}"
        "{% block intro %}{{ 'Vi skriver igen.' | paras }}{% endblock %}",
        encoding="utf-8",
    )
    monkeypatch.setattr(render, "TEMPLATE_DIR", tmp_path / "mail")
    render._environments.cache_clear()
    render._template_name.cache_clear()
    try:
        mail = compose(incident, MailSpec("second", "customers"), names=["Anna"], lang="en", reference=REF)
    finally:
        render._environments.cache_clear()  # the next test gets environments on the real templates
        render._template_name.cache_clear()
    assert mail.lang == "sv" and mail.subject == "Andra brevet"
    assert mail.text.startswith("Hej Anna,\n\nVi skriver igen.") and "Vad har hänt?" in mail.text
    assert '<html lang="sv">' in mail.html


@given(words=st.integers(min_value=0, max_value=30), phone=st.sampled_from(["114 14", "010-123 45 67",
                                                                             "+46 10 123 45 67", "08 123 456 78"]))
def test_the_plain_text_never_splits_a_phone_number_over_two_lines(words: int, phone: str) -> None:
    """Wherever the number falls against the 76-column edge: 'ring 114' on one line and '14' on the next has
    people dialling 114."""
    from chalicelib.mail.render import _tidy_text

    line = "Ring " + "ord " * words + f"polisen på {phone} eller 010-123 45 67 om du undrar något alls."
    lines = _tidy_text(line).splitlines()
    assert " ".join(lines) == line  # nothing but the breaks changed
    assert all(not (a[-1].isdigit() and b[0].isdigit()) for a, b in itertools.pairwise(lines)), lines
