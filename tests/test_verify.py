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
from chalicelib.mail.reference import ALPHABET, LENGTH, new_reference, parse_reference
from chalicelib.recipients.pseudonym import recipient_key
from chalicelib.sending.ledger import Ledger
from chalicelib.verify import handler as verify_handler
from chalicelib.verify.answer import EXAMPLE
from chalicelib.verify.codes import DUMMY_CODE, CodeBook, CodeTaken
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


def _typo_of(code: str, at: int = 5) -> str:
    """`code` with the symbol at `at` read as another one (the check symbol catches every such substitution)."""
    return code[:at] + ALPHABET[(ALPHABET.index(code[at]) + 1) % len(ALPHABET)] + code[at + 1:]


def _main_text(body: str) -> str:
    """The words of <main>, tags dropped and spaces collapsed, as a reader sees them."""
    main = body[body.index("<main"):body.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


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
        assert set(answer) == {"code", "genuine", "incident", "title", "sent_on", "kind", "problem"}
        assert answer["problem"] is None
        page = _get(f"/verify?code={typed}")
        assert "Ja, vi har skickat ett meddelande med den här koden" in page.body.decode()
        english = _get(f"/verify?code={code}&lang=en")
        assert "Yes, we sent a message with this code" in english.body.decode()
        responses += [api, page, english]
    for response in responses:
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        text = response.body.decode() + json.dumps(response.headers)
        assert not [s for s in secrets if s.lower() in text.lower()]


HEADING = {None: "verify_no", "typo": "verify_typo", "wrong_characters": "verify_chars",
           "wrong_length": "verify_length"}


@pytest.mark.parametrize(("typed", "problem"), [
    ("random", None), ("typo", "typo"), ("K7QX-2M9D-PA4", "wrong_length"), ("hello world", "wrong_characters"),
    ("<script>", "wrong_characters"), ("0000-OOOO-1111", "wrong_characters"), ("x" * 500, "wrong_length")])
def test_random_and_malformed_codes_are_not_genuine(aws, typed: str, problem: str | None):
    if typed == "random":
        typed = new_reference()
    if typed == "typo":
        typed = _typo_of(new_reference())
    api = json.loads(_get(f"/api/verify/{typed}").body)
    assert api["genuine"] is False and api["incident"] is None and api["sent_on"] is None and api["kind"] is None
    assert api["problem"] == problem and (api["code"] is None) == (problem is not None)
    body = _get(f"/verify?code={typed}").body.decode()
    assert STRINGS["sv"][HEADING[problem]] in body
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
        "title": notis_app.site.by_slug[SLUG].title.in_lang("sv"), "problem": None}


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
    assert 0 < check < body.find('name="code"') < advice < body.find(words["verify_no_click"]), (
        "first compare, then the box to correct it in, then what to do")
    malformed = _get(f"/verify?code=K7QX-2M9D-PA4&lang={lang}").body.decode()
    assert 0 < malformed.find(words["verify_length"]) < malformed.find(words["verify_malformed_exact"])


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


def _handle(typed: str, *, book: Any, lang: str = "sv", api: bool = False, counted: list | None = None,
            slept: list | None = None) -> dict[str, Any]:
    event = (_event("/api/verify/x", code=typed) if api else _event("/verify", query={"code": typed, "lang": lang}))
    t = [0.0]
    return verify_handler.handle_verify(event, site=notis_app.site, book=book, clock=lambda: t[0],
                                        sleep=(slept if slept is not None else []).append, floor=0.15,
                                        count=(counted if counted is not None else []).append)


@pytest.mark.parametrize("kind", ["typo", "wrong_characters", "wrong_length", "example", "old example", "unknown"])
@pytest.mark.parametrize("api", [False, True])
def test_every_kind_of_non_genuine_answer_costs_one_lookup_one_miss_and_the_floor_and_is_not_stored(kind, api):
    typed = {"typo": _typo_of("K7QX-2M9D-PA4T4"), "wrong_characters": "K7QO-2M9D-PA4T4",
             "wrong_length": "K7QX-2M9D-PA4T", "example": EXAMPLE.lower(), "old example": "ABCD-2345-EFGH",
             "unknown": "K7QX-2M9D-PA4T4"}[kind]
    book, counted, slept = CountingBook(), [], []
    out = _handle(typed, book=book, api=api, counted=counted, slept=slept)
    assert out["statusCode"] == 200 and out["headers"]["Cache-Control"] == "no-store"
    assert book.reads == (["K7QX-2M9D-PA4T4"] if kind == "unknown" else [None])  # None: CodeBook reads DUMMY_CODE
    assert counted == [True] and slept == [pytest.approx(0.15)]


def test_a_non_valid_code_reads_the_dummy_key_in_dynamodb(aws):
    reads = []

    class Recording:
        def __init__(self, inner: Any):
            self.inner = inner

        def get_item(self, **kwargs: Any) -> Any:
            reads.append(kwargs["Key"]["pk"]["S"])
            return self.inner.get_item(**kwargs)

    book = CodeBook(Recording(aws_clients.client("dynamodb")), aws["settings"].table)
    for typed in (_typo_of(new_reference()), EXAMPLE, "K7QO-2M9D-PA4T4", "K7QX"):
        _handle(typed, book=book)
    assert reads == [f"code#{DUMMY_CODE}"] * 4


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_one_symbol_typo_in_a_genuine_code_says_so_and_keeps_the_code_in_the_box_above_the_advice(aws, lang):
    words = STRINGS[lang]
    code = new_reference()
    CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
        code, send_id=NOTICE, campaign="c1", key="ab" * 16, now=time.time(), expires_at=4_000_000_000)
    for typed in (_typo_of(code, 2), code[:10] + code[11] + code[10] + code[12:]):  # misread; two swapped
        if typed == code:
            continue
        body = _get(f"/verify?code={typed.replace('-', '%20')}&lang={lang}").body.decode()
        assert words["verify_typo"] in body and words["verify_typo_text"] in body
        assert words["verify_no"] not in body, "a typo is not 'we sent no message with this code'"
        order = [body.find(words["verify_typo_text"]), body.find('name="code"'), body.find(words["verify_typo_exact"]),
                 body.find(words["verify_no_click"])]
        assert 0 < order[0] < order[1] < order[2] < order[3], "verdict, the box to correct it, then what to do"
        assert f'value="{typed.replace("-", " ")}"' in body, "the typed code stays in the box"
        assert json.loads(_get(f"/api/verify/{typed}").body)["problem"] == "typo"


def test_a_typo_answer_is_the_same_whether_or_not_the_code_it_misses_was_sent(aws):
    """Nothing about the records leaks into a typo's answer: the neighbour of a real code and of a code nobody
    holds get the same page and the same JSON."""
    real, nobody = new_reference(), new_reference()
    CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
        real, send_id=NOTICE, campaign="c1", key="ab" * 16, now=time.time(), expires_at=4_000_000_000)
    pages = [_get(f"/verify?code={_typo_of(c)}").body.decode().replace(_typo_of(c), "CODE") for c in (real, nobody)]
    assert pages[0] == pages[1]
    assert json.loads(_get(f"/api/verify/{_typo_of(real)}").body) == json.loads(
        _get(f"/api/verify/{_typo_of(nobody)}").body)


@pytest.mark.parametrize(("typed", "sv", "en"), [
    ("K7QO-2M9D-PA4T0", ["bokstaven O", "siffran 0"], ["the letter O", "the digit 0"]),
    ("K7Q1-2M9D-PAIT4", ["siffran 1", "bokstaven I"], ["the digit 1", "the letter I"]),
    ("K7QX-2M9D-\u0420A4T4", ["kyrilliska", "”\u0420”"], ["Cyrillic", "“\u0420”"]),
    ("K7QX-2M9D-P\u0391\u00c54T4", ["grekiska", "bokstaven ”\u00c5”"], ["Greek", "the letter “\u00c5”"]),
    ("K7QX#2M9D", ["tecknet ”#”"], ["the character “#”"]),
])
def test_characters_never_in_a_code_are_named_in_plain_words(aws, typed, sv, en):
    from urllib.parse import quote

    assert parse_reference(typed).outcome == "wrong_characters"
    for lang, names in (("sv", sv), ("en", en)):
        text = _main_text(_get(f"/verify?code={quote(typed)}&lang={lang}").body.decode())
        assert STRINGS[lang]["verify_chars"] in text and all(name in text for name in names), (lang, text)
        assert not re.search(r"\b(LETTER|CAPITAL|CYRILLIC|GREEK|LATIN)\b", text), "no Unicode names"
    left_out = any(c in typed for c in "0O1I")
    assert (STRINGS["sv"]["verify_chars_left_out"] in _get(f"/verify?code={quote(typed)}").body.decode()) == left_out


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_code_of_the_wrong_length_says_how_many_were_found_and_how_many_a_code_has(aws, lang):
    text = _main_text(_get(f"/verify?code=K7QX-2M9D-PA4&lang={lang}").body.decode())
    assert STRINGS[lang]["verify_length"] in text
    assert STRINGS[lang]["verify_length_text"].split("{found}")[0] + "11." in text
    assert f" {LENGTH}, " in text and "4, 4" in text


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("typed", [EXAMPLE, EXAMPLE.lower().replace("-", " "), "ABCD-2345-EFGH"])
def test_the_example_code_from_the_page_is_answered_as_the_example_not_as_fraud(aws, lang, typed):
    words = STRINGS[lang]
    body = _get(f"/verify?code={typed}&lang={lang}").body.decode()
    assert words["verify_example"] in body and words["verify_example_text"] in body
    assert words["verify_no"] not in body and "polisen.se" not in body and words["verify_no_click"] not in body
    assert json.loads(_get(f"/api/verify/{typed}").body) == {
        "code": None, "genuine": False, "incident": None, "title": None, "sent_on": None, "kind": None,
        "problem": "example"}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_example_and_the_hint_have_a_codes_length(lang):
    body = _get(f"/verify?lang={lang}").body.decode()
    assert parse_reference(EXAMPLE).valid and EXAMPLE in body
    hint = re.search(r'<p class="hint" id="code-hint">(.*?)</p>', body).group(1)
    assert hint.startswith(f"{LENGTH} ")
    empty = _get(f"/verify?code=&lang={lang}").body.decode()
    assert f"{LENGTH} " in STRINGS[lang]["verify_empty_text"].format(length=LENGTH, example=EXAMPLE)
    assert EXAMPLE in empty and "ABCD-2345-EFGH." not in empty


def test_the_hint_takes_the_number_of_symbols_from_the_reference_module(monkeypatch):
    monkeypatch.setattr(verify_handler, "LENGTH", 14)  # as if codes grew: the page follows, nothing hard-coded
    page = verify_handler.render_page(notis_app.site, "sv", "", typed="", result=None)
    assert re.search(r'<p class="hint" id="code-hint">14 tecken', page)


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("kind", ["genuine", "unknown", "typo"])
def test_yes_and_no_answers_give_the_contact_point_with_a_tel_link_and_opening_hours(aws, lang, kind):
    code = new_reference()
    if kind == "genuine":
        CodeBook(aws_clients.client("dynamodb"), aws["settings"].table).record(
            code, send_id=NOTICE, campaign="c1", key="ab" * 16, now=time.time(), expires_at=4_000_000_000)
    typed = _typo_of(code) if kind == "typo" else code
    body = _get(f"/verify?code={typed}&lang={lang}").body.decode()
    contact = notis_app.site.by_slug[SLUG].organisation.contact
    assert f'<a href="tel:{re.sub(r"[^0-9+]", "", contact.phone)}">{contact.phone}</a>' in body
    assert contact.hours.in_lang(lang) in body and f'href="mailto:{contact.email}"' in body
    assert STRINGS[lang]["verify_contact_title"].format(name=notis_app.site.by_slug[SLUG].organisation.name) in body
    assert (STRINGS[lang]["verify_contact_own"] in body) == (kind != "genuine"), "call us, not the message's number"


def test_switching_language_on_an_answer_keeps_the_typed_code(aws):
    """A reader who checks in Swedish and wants it in English must not have to type the code again."""
    page = _get("/verify?code=k7qx%202m9d%20pa4t5").body.decode()
    switch = re.search(r'<a href="\?([^"]*)" hreflang="en"', page).group(1)
    assert switch == "code=k7qx%202m9d%20pa4t5&amp;lang=en"
    english = _get("/verify?" + switch.replace("&amp;", "&")).body.decode()
    assert 'value="k7qx 2m9d pa4t5"' in english and 'lang="en"' in english
    assert re.search(r'<a href="\?lang=sv" hreflang="sv"', _get("/verify?lang=en").body.decode())  # no code: as before
