"""The MIME message as a mail program parses it: parts, headers, encodings, and no header injection."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.content.loader import load_incidents
from chalicelib.content.model import Incident
from chalicelib.mail import Composed, MailSpec, build_mime, compose
from chalicelib.mail.mime import sender_address

ROOT = Path(__file__).resolve().parent.parent
PAGE = "https://incident.korkortsportalen.example/incidents/korkortsportalen-2024"
SENDER = "Körkortsportalen Service AB <noreply@korkortsportalen.example>"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def incident() -> Incident:
    return load_incidents(ROOT / "chalicelib" / "incidents")[0]


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def mail(incident: Incident, audience: str = "customers", lang: str = "sv", names: list[str] | None = None) -> Composed:
    return compose(
        incident,
        MailSpec("notice", audience),
        names=[HOSTILE, "Åsa Öberg"] if names is None else names,
        lang=lang,
        reference="K7QX-2M9D-PA4T4",
    )


@pytest.mark.parametrize("audience", ["customers", "schools"])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_message_parses_with_both_parts(incident: Incident, audience: str, lang: str) -> None:
    raw = build_mime(mail(incident, audience, lang), sender=SENDER, to="anna@example.se")
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert message.defects == []
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]  # plain first: the richer part is last, as RFC 2046 asks
    assert message["Content-Language"] == lang
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == "utf-8" and html.get_content_charset() == "utf-8"
    assert PAGE in plain.get_content() and PAGE in html.get_content()
    assert not message.is_attachment() and not any(p.is_attachment() for p in message.walk())
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78  # safe for every mail server on the way


def test_swedish_subject_and_sender_survive_encoding(incident: Incident) -> None:
    raw = build_mime(mail(incident), sender=SENDER, to="anna@example.se")
    assert raw.isascii()  # encoded, not raw 8-bit UTF-8
    message = parse(raw)
    assert message["Subject"] == "Viktig information: Intrång i webbshoppen på Körkortsportalen"
    assert message["From"].addresses[0].display_name == "Körkortsportalen Service AB"
    assert message["From"].addresses[0].addr_spec == "noreply@korkortsportalen.example"
    assert "Hej <script>alert(1)</script> och Åsa Öberg," in message.get_body(("plain",)).get_content()


def test_hostile_name_is_harmless_in_the_html_part_after_transfer_encoding(incident: Incident) -> None:
    message = parse(build_mime(mail(incident), sender=SENDER, to="anna@example.se"))
    html = message.get_body(("html",)).get_content()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; och Åsa Öberg" in html
    assert "<img" not in html.lower()


def test_headers_of_a_notice(incident: Incident) -> None:
    raw = build_mime(
        mail(incident),
        sender=SENDER,
        to="Anna Andersson <anna@example.se>",
        reply_to="dataskydd@korkortsportalen.example",
        now=datetime(2024, 1, 20, 9, 0, tzinfo=UTC),
    )
    message = parse(raw)
    assert message["To"].addresses[0].addr_spec == "anna@example.se"
    assert message["Reply-To"] == "dataskydd@korkortsportalen.example"
    assert message["Date"].datetime == datetime(2024, 1, 20, 9, 0, tzinfo=UTC)
    assert re.fullmatch(r"<[^<>@\s]+@korkortsportalen\.example>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["MIME-Version"] == "1.0"
    assert "List-Unsubscribe" not in message
    assert HOSTILE not in str(message.items())  # names never reach a header


def test_no_reply_to_unless_given_and_message_ids_differ(incident: Incident) -> None:
    composed = mail(incident)
    first = parse(build_mime(composed, sender=SENDER, to="a@example.se"))
    second = parse(build_mime(composed, sender=SENDER, to="a@example.se", message_id_domain="mail.example"))
    assert "Reply-To" not in first
    assert first["Message-ID"] != second["Message-ID"]
    assert second["Message-ID"].endswith("@mail.example>")


def test_international_domain_is_punycoded(incident: Incident) -> None:
    message = parse(build_mime(mail(incident), sender=SENDER, to="anna@exämple.se"))
    assert message["To"].addresses[0].domain == "xn--exmple-cua.se"


@pytest.mark.parametrize(
    "to",
    [
        "anna@example.se\r\nBcc: everyone@example.se",
        "anna@example.se\nBcc: everyone@example.se",
        "anna@example.se\r",
        "Anna\r\n <anna@example.se>",
        "anna@example.se\x00",
        "anna@example.se\u2028",
    ],
)
def test_line_breaks_in_the_recipient_are_refused(incident: Incident, to: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        build_mime(mail(incident), sender=SENDER, to=to)


@pytest.mark.parametrize(
    "to", ["", "   ", "anna", "anna@", "@example.se", "a@example.se, b@example.se", "a@@example.se", "åsa@example.se"]
)
def test_anything_but_one_usable_address_is_refused(incident: Incident, to: str) -> None:
    with pytest.raises(ValueError, match="address"):
        build_mime(mail(incident), sender=SENDER, to=to)


def test_bad_sender_or_reply_to_is_refused(incident: Incident) -> None:
    with pytest.raises(ValueError, match="sender"):
        build_mime(mail(incident), sender="x\r\nBcc: y@example.se", to="a@example.se")
    with pytest.raises(ValueError, match="reply-to"):
        build_mime(mail(incident), sender=SENDER, to="a@example.se", reply_to="a@example.se\nBcc: z@x.se")


@given(st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_no_recipient_string_can_add_a_header(to: str) -> None:
    composed = Composed(subject="Viktig information", text="Hej\n", html="<p>Hej</p>\n", lang="sv")
    try:
        raw = build_mime(composed, sender="noreply@example.se", to=to)
    except ValueError:
        return
    message = parse(raw)
    assert len(message.get_all("To")) == 1 and len(message["To"].addresses) == 1
    names = [k.lower() for k in message.keys()]
    assert sorted(set(names)) == sorted(names), "a header appears twice"
    assert set(names) <= {
        "from", "to", "subject", "date", "message-id", "auto-submitted", "x-auto-response-suppress",
        "mime-version", "content-type", "content-language",
    }  # fmt: skip


def test_ses_v2_accepts_the_raw_message_and_it_arrives_intact(
    incident: Incident, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes go to SES v2 SendEmail as Content.Raw; what SES stores parses back to the same e-mail."""
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from chalicelib import aws

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "eu-north-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset_clients()
        aws.client("sesv2").create_email_identity(EmailIdentity="korkortsportalen.example")
        raw = build_mime(mail(incident), sender=SENDER, to="anna@example.se")
        sent = aws.client("sesv2").send_email(
            FromEmailAddress=sender_address(SENDER), Destination={"ToAddresses": ["anna@example.se"]},
            Content={"Raw": {"Data": raw}},
        )
        assert sent["MessageId"]
        stored = ses_backends[DEFAULT_ACCOUNT_ID]["eu-north-1"].sent_messages
        assert len(stored) == 1
        message = parse(stored[0].raw_data.encode())  # moto keeps the raw message as text
        assert message["Subject"] == "Viktig information: Intrång i webbshoppen på Körkortsportalen"
        assert "&lt;script&gt;" in message.get_body(("html",)).get_content()
    aws.reset_clients()


@pytest.mark.parametrize(
    ("configured", "display"),
    [
        ("Körkortsportalen Service AB. <notice@korkortsportalen.example>", "Körkortsportalen Service AB."),
        ("Kundtjänst, Körkortsportalen <notice@korkortsportalen.example>", "Kundtjänst, Körkortsportalen"),
        ('"Support \\"K\\" AB" <notice@korkortsportalen.example>', 'Support "K" AB'),
        ("Service AB. <notice@korkortsportalen.example>", "Service AB."),
        ("notice@korkortsportalen.example", ""),
    ],
)
def test_any_display_name_staff_write_is_formatted_for_ses_and_reads_back(configured: str, display: str) -> None:
    """SES wants FromEmailAddress in 7-bit ASCII with the name RFC 2047-encoded; the header reads back the same."""
    from email.headerregistry import HeaderRegistry

    formatted = sender_address(configured)
    assert formatted.isascii() and "\n" not in formatted
    (address,) = HeaderRegistry()("From", formatted).addresses
    assert (address.display_name, address.addr_spec) == (display, "notice@korkortsportalen.example")


@pytest.mark.parametrize("configured", ["", "Anna <a@x.se>, Bo <b@x.se>", "nobody", "Name <a@x.se>\r\nBcc: x@y.se",
                                        "Åsa <åsa@x.se>"])
def test_a_sender_ses_cannot_take_is_refused_in_words(configured: str) -> None:
    with pytest.raises(ValueError, match="sender address"):
        sender_address(configured)
