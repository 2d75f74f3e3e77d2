"""The public check: a code from a sent e-mail verifies as genuine on the page and the API; a random, a malformed
and an expired code do not; no answer carries personal data; the code record is written with each claim and a
failure to write it never sends and never fails the person."""

from __future__ import annotations

import json
import re
import time
from html.parser import HTMLParser
from typing import Any

import pytest
from botocore.exceptions import ClientError
from chalice.test import Client
from hypothesis import given
from hypothesis import strategies as st
from sending_helpers import FakeClock, Serialized, campaign_id, parsed_messages, people, send_bodies, sqs_event

import app as notis_app
from chalicelib import aws as aws_clients
from chalicelib.handlers import handle_send
from chalicelib.mail.reference import ALPHABET, new_reference
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ledger import Ledger
from chalicelib.verify import handler as verify_handler
from chalicelib.verify.codes import CodeBook, CodeTaken
from chalicelib.web import localgateway
from chalicelib.web.strings import STRINGS

SLUG = "korkortsportalen-2024"
NOTICE = f"{SLUG}.customers.notice"
CODE_RE = re.compile(rf"\b[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{5}}\b")


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """No padding in these tests (bench/verify.py measures it): the answers are the same with it."""
    monkeypatch.setattr(verify_handler, "FLOOR_SECONDS", 0.0)


def _send(aws: dict[str, Any], emails: list[str], *, dynamodb: Any = None, clock: FakeClock | None = None) -> dict:
    bodies = send_bodies(emails, campaign_id("verify"), aws["settings"].hmac_key, send_id=NOTICE)
    clock = clock or FakeClock(time.time())
    dynamodb = dynamodb or Serialized(aws_clients.client("dynamodb"))
    return handle_send(sqs_event(bodies), aws["settings"], dynamodb=dynamodb, now=clock.now, mono=clock.mono,
                       sleep=clock.sleep, lease_seconds=300)


def _part(message: Any, subtype: str) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == f"text/{subtype}"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def _codes_by_address() -> dict[str, str]:
    found = {}
    for message in parsed_messages():
        body = _part(message, "plain")
        [code] = set(CODE_RE.findall(body))
        found[message["To"]] = code
    return found


def _get(path: str, headers: dict[str, str] | None = None) -> Any:
    with Client(notis_app.app) as client:
        return client.http.get(path, headers=headers or {})


def test_a_code_from_a_sent_email_is_genuine_on_the_page_and_the_api_and_nothing_personal_is_said(aws):
    emails = people(3, domain="exempel.se")
    assert _send(aws, emails) == {"batchItemFailures": []}
    codes = _codes_by_address()
    assert sorted(codes) == sorted(emails) and len(set(codes.values())) == 3
    secrets = [*emails, *(f"Namn {e[6:11]}" for e in emails), *(e.split("@")[0] for e in emails),
               *(recipient_key(e, aws["settings"].hmac_key) for e in emails), campaign_id("verify")]
    responses = []
    for code in codes.values():
        typed = code.lower().replace("-", " ")  # as read out or typed on a phone
        api = _get(f"/api/verify/{typed}")
        answer = json.loads(api.body)
        assert answer["genuine"] is True and answer["code"] == code
        assert answer["incident"] == SLUG and answer["kind"] == "notice"
        assert answer["title"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", answer["sent_on"])
        assert set(answer) == {"code", "genuine", "incident", "title", "sent_on", "kind"}
        page = _get(f"/verify?code={typed}")
        assert "Ja, vi har skickat ett meddelande med den här koden" in page.body.decode()
        english = _get(f"/verify?code={code}&lang=en")
        assert "Yes, we sent a message with this code" in english.body.decode()
        responses += [api, page, english]
    for response in responses:
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        text = response.body.decode() + json.dumps(response.headers)
        assert not [s for s in secrets if s.lower() in text.lower()]


@pytest.mark.parametrize("typed", ["random", "K7QX-2M9D-PA4", "hello world", "<script>", "0000-OOOO-1111", "x" * 500])
def test_random_and_malformed_codes_are_not_genuine(aws, typed: str):
    if typed == "random":
        typed = new_reference()
    api = json.loads(_get(f"/api/verify/{typed}").body)
    assert api["genuine"] is False and api["incident"] is None and api["sent_on"] is None and api["kind"] is None
    body = _get(f"/verify?code={typed}").body.decode()
    assert "Vi har inte skickat något meddelande med den här koden" in body
    assert "<script>" not in body and "polisen.se" in body


def test_an_expired_code_is_not_genuine_even_before_dynamodb_deletes_it(aws):
    book = CodeBook(aws_clients.client("dynamodb"), aws["settings"].table)
    code = new_reference()
    book.record(code, send_id=NOTICE, campaign=campaign_id("old"), key="ab" * 16, now=1_700_000_000,
                expires_at=1_700_000_100)  # long past
    assert json.loads(_get(f"/api/verify/{code}").body)["genuine"] is False
    fresh = new_reference()
    book.record(fresh, send_id=f"{SLUG}.customers.u-2024-02-01", campaign="c" + "1" * 20, key="cd" * 16,
                now=1_700_000_000, expires_at=4_000_000_000)
    assert json.loads(_get(f"/api/verify/{fresh}").body) == {
        "code": fresh, "genuine": True, "incident": SLUG, "sent_on": "2023-11-14", "kind": "update",
        "title": notis_app.site.by_slug[SLUG].title.in_lang("sv")}


def test_the_code_record_is_the_agreed_schema_and_expires_with_the_ledger_entry(aws):
    [email] = people(1)
    _send(aws, [email])
    code = _codes_by_address()[email]
    key = recipient_key(email, aws["settings"].hmac_key)
    item = aws_clients.client("dynamodb").get_item(
        TableName=aws["settings"].table, Key={"pk": {"S": f"code#{code}"}, "sk": {"S": "code"}})["Item"]
    [entry] = Ledger(aws_clients.client("dynamodb"), aws["settings"].table).entries(NOTICE)
    assert item["send_id"] == {"S": NOTICE} and item["key"] == {"S": key}
    assert item["campaign"] == {"S": campaign_id("verify")} and re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["sent_on"]["S"])
    assert int(item["expires_at"]["N"]) == entry["expires_at"] and entry["reference"] == code


def test_recording_again_for_the_same_mail_is_a_no_op_and_another_mail_cannot_take_the_code(aws):
    book = CodeBook(aws_clients.client("dynamodb"), aws["settings"].table)
    code = new_reference()
    book.record(code, send_id=NOTICE, campaign="c1", key="ab" * 16, now=1e9, expires_at=4_000_000_000)
    book.record(code, send_id=NOTICE, campaign="c1", key="ab" * 16, now=1e9 + 60, expires_at=4_000_000_000)
    with pytest.raises(CodeTaken):
        book.record(code, send_id=NOTICE, campaign="c1", key="cd" * 16, now=1e9, expires_at=4_000_000_000)
    with pytest.raises(CodeTaken):
        book.record(code, send_id=f"{SLUG}.customers.f-reminder", campaign="c1", key="ab" * 16, now=1e9,
                    expires_at=4_000_000_000)


def test_a_code_someone_else_holds_is_given_up_and_the_next_claim_mails_a_new_one(aws, monkeypatch):
    taken = new_reference()
    CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
        taken, send_id=NOTICE, campaign="c-other", key="ef" * 16, now=1e9, expires_at=4_000_000_000)
    drawn = iter([taken, "ZZZZ-ZZZZ-ZZZZF"])
    monkeypatch.setattr("chalicelib.sending.worker._reference", lambda: next(drawn))
    [email] = people(1)
    clock = FakeClock(time.time())
    first = _send(aws, [email], clock=clock)
    assert first["batchItemFailures"] and parsed_messages() == []
    clock.advance(1)
    assert _send(aws, [email], clock=clock) == {"batchItemFailures": []}
    assert _codes_by_address() == {email: "ZZZZ-ZZZZ-ZZZZF"}
    [entry] = Ledger(aws_clients.client("dynamodb"), aws["settings"].table).entries(NOTICE)
    assert entry["state"] == "sent" and entry["reference"] == "ZZZZ-ZZZZ-ZZZZF"


class FailingCodePuts:
    """DynamoDB whose PutItem of a code record fails as AWS can (throttled) `times` times."""

    def __init__(self, inner: Any, times: int):
        self.inner, self.times = inner, times

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs["Item"]["pk"]["S"].startswith("code#") and self.times > 0:
            self.times -= 1
            raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                              "PutItem")
        return self.inner.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_no_mail_goes_without_its_code_record_and_the_person_is_never_failed_for_it(aws):
    emails = people(2)
    clock = FakeClock(time.time())
    ddb = FailingCodePuts(aws_clients.client("dynamodb"), times=2)
    first = _send(aws, emails, dynamodb=ddb, clock=clock)
    assert first["batchItemFailures"] and parsed_messages() == []
    entries = list(Ledger(aws_clients.client("dynamodb"), aws["settings"].table).entries(NOTICE))
    assert {e["state"] for e in entries} == {"claimed"} and all(e["lease_until"] == 0 for e in entries)
    clock.advance(1)
    assert _send(aws, emails, dynamodb=ddb, clock=clock) == {"batchItemFailures": []}
    assert sorted(_codes_by_address()) == sorted(emails)
    for code in _codes_by_address().values():
        assert json.loads(_get(f"/api/verify/{code}").body)["genuine"] is True


class CountingBook:
    def __init__(self):
        self.reads: list[str | None] = []

    def read(self, code: str | None, *, now: float) -> None:
        self.reads.append(code)


def _event(path: str, *, code: str | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    api = code is not None
    return {"resource": verify_handler.API_ROUTE if api else verify_handler.PAGE_ROUTE, "path": path,
            "httpMethod": "GET", "headers": {}, "queryStringParameters": query or None,
            "pathParameters": {"code": code} if api else None, "requestContext": {"path": "/api" + path}}


@given(st.text(max_size=200))
def test_any_typed_text_gets_an_answer_and_costs_one_lookup(typed: str):
    book, counted = CountingBook(), []
    out = verify_handler.handle_verify(_event("/api/verify/x", code=typed), site=notis_app.site, book=book,
                                       floor=0.0, count=counted.append)
    answer = json.loads(out["body"])
    assert out["statusCode"] == 200 and answer["genuine"] is False and len(book.reads) == 1 and counted == [True]
    page = verify_handler.handle_verify(_event("/verify", query={"code": typed}), site=notis_app.site, book=book,
                                        floor=0.0, count=counted.append)
    assert page["statusCode"] == 200 and len(book.reads) == (2 if typed.strip() else 1)  # blank: the form again


def test_every_answer_is_padded_to_the_floor(monkeypatch):
    t = [0.0]
    slept = []
    verify_handler.handle_verify(_event("/verify", query={"code": "K7QX-2M9D-PA4T4"}), site=notis_app.site,
                                 book=CountingBook(), clock=lambda: t[0], sleep=slept.append, floor=0.15,
                                 count=lambda missed: None)
    assert slept == [pytest.approx(0.15)]


def test_a_miss_and_a_hit_are_counted_with_the_same_metric_without_the_code(capsys):
    verify_handler.count_miss(True)
    verify_handler.count_miss(False)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [line["VerifyMiss"] for line in lines] == [[1.0], [0.0]]
    assert all(line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Notis" and line["service"] == "notis-verify"
               for line in lines)


def test_the_form_works_without_a_code_and_says_how_in_both_languages():
    sv = _get("/verify")
    assert sv.status_code == 200 and 'method="get"' in sv.body.decode() and 'name="code"' in sv.body.decode()
    assert "form-action 'self'" in sv.headers["Content-Security-Policy"]
    en = _get("/verify", {"Accept-Language": "en"}).body.decode()
    assert "Is this message really from us?" in en
    for query in ("code=+", "code="):  # an empty submit: how to fill in the form, no verdict
        empty = _get(f"/verify?{query}").body.decode()
        assert 'name="code"' in empty and "Skriv in koden från meddelandet" in empty
        assert "Vi har inte skickat" not in empty and "nätfiske" not in empty
    english = _get("/verify?code=&lang=en").body.decode()
    assert "Type the code from the message" in english and "We have sent no message" not in english


@pytest.mark.parametrize(("lang", "e_mail", "letter"), [("sv", "e-brev", "pappersbrev"), ("en", "e-mail", "letter")])
def test_the_form_says_codes_are_printed_in_e_mails_and_in_letters(lang, e_mail, letter):
    text = _get(f"/verify?lang={lang}").body.decode()
    intro = re.search(r'<form[^>]*>\s*<p>(.*?)</p>', text, re.S).group(1)
    assert e_mail in intro and letter in intro


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_code_we_never_sent_asks_the_reader_to_compare_it_before_the_phishing_advice(aws, lang):
    words = STRINGS[lang]
    body = _get(f"/verify?code={new_reference()}&lang={lang}").body.decode()
    assert words["verify_no"] in body
    check, advice = body.find(words["verify_no_check"]), body.find(words["verify_no_text"])
    assert 0 < check < advice < body.find(words["verify_no_click"]), "first the typo, then what to do"
    malformed = _get(f"/verify?code=K7QX-2M9D-PA4&lang={lang}").body.decode()
    assert 0 < malformed.find(words["verify_malformed"]) < malformed.find(words["verify_no_text"])


def test_the_code_in_an_answer_is_kept_on_one_line(aws):
    """The answer names the code in a span the style keeps whole (tests/browser measures it at 320 px)."""
    code = new_reference()
    body = _get(f"/verify?code={code.lower()}").body.decode()
    assert f'<span class="address code">{code}</span>' in body
    assert ".code{white-space:nowrap" in body


def test_the_local_server_limits_each_client_without_keeping_its_address(monkeypatch):
    clock = [0.0]
    buckets = localgateway.ClientBuckets(rate=1.0, burst=3, clock=lambda: clock[0])
    monkeypatch.setattr(localgateway, "_limit", buckets)
    monkeypatch.setattr(localgateway._client, "address", "203.0.113.7", raising=False)
    statuses = [_get("/verify").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    clock[0] += 1.0
    assert _get("/verify").status_code == 200
    monkeypatch.setattr(localgateway._client, "address", "203.0.113.8")
    assert _get("/verify").status_code == 200  # another client has its own bucket
    assert "203.0.113" not in repr(buckets.__dict__)


def test_page_and_emails_say_how_to_check_without_a_link_carrying_a_code(aws):
    for lang, words in (("sv", "skriv in referenskoden"), ("en", "type the reference code")):
        page = _get(f"/incidents/{SLUG}?lang={lang}").body.decode()
        section = page[page.index('id="h-genuine"'):page.index('id="h-timeline"')]
        assert "https://incident.korkortsportalen.example/verify" in section and words in section
        assert re.search(r'href="[^"]*/verify\?lang=' + lang + '"', section)
    [email] = people(1)
    _send(aws, [email])
    [message] = parsed_messages()
    text, html = _part(message, "plain"), _part(message, "html")
    assert "Gå till https://incident.korkortsportalen.example/verify och skriv in" in " ".join(text.split())
    assert not re.search(r"verify[^\s\"<]*[?/][^\s\"<]*" + "|".join(CODE_RE.findall(text)), text + html)


VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr"}


class Checked(HTMLParser):
    """Well-formed HTML as a validator sees it here: every element closed in order, ids unique, and each label,
    aria-describedby and in-page link pointing at an element that exists."""

    def __init__(self):
        super().__init__()
        self.open: list[str] = []
        self.ids: list[str] = []
        self.refs: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag not in VOID:
            self.open.append(tag)
        if "id" in found:
            self.ids.append(found["id"])
        self.refs += [v for k, v in found.items() if k in ("for", "aria-describedby", "aria-labelledby")]
        if tag == "a" and (found.get("href") or "").startswith("#"):
            self.refs.append(found["href"][1:])

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes nothing open")

    def verdict(self) -> list[str]:
        dupes = {i for i in self.ids if self.ids.count(i) > 1}
        return self.problems + [f"unclosed {self.open}"] * bool(self.open) + [f"duplicate ids {dupes}"] * bool(
            dupes) + [f"points at no element: {r}" for r in self.refs if r not in self.ids]


@pytest.mark.parametrize("query", ["", "?code=K7QX-2M9D-PA4T4", "?code=%3Cb%3E", "?lang=en&code=x"])
def test_verify_pages_are_well_formed_html(aws, query):
    CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
        "K7QX-2M9D-PA4T4", send_id=NOTICE, campaign="c1", key="ab" * 16, now=time.time(), expires_at=4_000_000_000)
    body = _get(f"/verify{query}").body.decode()
    assert body.startswith("<!doctype html>")
    checked = Checked()
    checked.feed(body)
    checked.close()
    assert checked.verdict() == []


class BrokenBook:
    def read(self, code: str | None, *, now: float) -> None:
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "down"}}, "GetItem")


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_when_the_records_cannot_be_read_the_reader_is_told_to_try_later_not_that_it_is_fake(lang, caplog):
    page = verify_handler.handle_verify(_event("/verify", query={"code": "K7QX-2M9D-PA4T4", "lang": lang}),
                                        site=notis_app.site, book=BrokenBook(), floor=0.0)
    assert page["statusCode"] == 503 and page["headers"]["Cache-Control"] == "no-store"
    assert verify_handler.STRINGS[lang]["verify_down_title"] in page["body"]
    assert verify_handler.STRINGS[lang]["verify_no"] not in page["body"]
    api = verify_handler.handle_verify(_event("/api/verify/x", code="K7QX-2M9D-PA4T4"), site=notis_app.site,
                                       book=BrokenBook(), floor=0.0)
    assert api["statusCode"] == 503 and json.loads(api["body"])["error"]["code"] == "unavailable"
    assert "K7QX" not in caplog.text


@pytest.mark.parametrize("encode", [lambda c: c.replace("-", "%20"), lambda c: c.lower().replace("-", "%2D"),
                                    lambda c: c.replace("-", "%20-%20"), lambda c: "%20" + c + "%20"])
def test_a_percent_encoded_code_in_the_api_path_is_decoded_before_it_is_read(aws, encode):
    code = new_reference()
    CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
        code, send_id=NOTICE, campaign="c1", key="ab" * 16, now=time.time(), expires_at=4_000_000_000)
    path = f"/api/verify/{encode(code)}"
    answer = json.loads(_get(path).body)  # the local gateway: the path as the client sent it
    assert answer["genuine"] is True and answer["code"] == code, path
    from urllib.parse import unquote

    for passed in (encode(code), unquote(encode(code))):  # API Gateway: raw, or already decoded
        out = verify_handler.handle_verify(_event(path, code=passed), site=notis_app.site,
                                           book=CodeBook(aws_clients.client("dynamodb"), aws["settings"].table),
                                           floor=0.0, count=lambda missed: None)
        assert json.loads(out["body"])["genuine"] is True, passed
