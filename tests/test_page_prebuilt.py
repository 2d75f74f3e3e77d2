"""The deployed page answers from a table built at `make package` time: it must say what the live app says, byte for
byte, to every request, for the demo incident and for other content; and anything the table does not hold goes to
the live app, never to a wrong answer."""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app as notis_app
from chalicelib.content.languages import LANGUAGES
from chalicelib.web import CONTENT_DIR, load_site, prebuilt
from notis_cli import prebuild

SLUG = "korkortsportalen-2024"
BASES = ("", "/api")
DEMO = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))


def second_incident() -> dict:
    """Another organisation's open incident, English only in part, so the front page becomes the list."""
    doc = copy.deepcopy(DEMO)
    doc["slug"] = "bokningen-2025"
    doc["page_url"] = "https://incident.example.se/incidents/bokningen-2025"
    doc["organisation"]["name"] = "Bokningen AB"
    doc["title"] = {"sv": "Obehörig åtkomst till bokningar"}
    doc["status"] = "investigating"
    return doc


def table(app) -> prebuilt.Answers:
    """The table as the zip holds it: generated source, executed, loaded by the deployed handler's own code."""
    built = prebuild.build(app, sorted(notis_app.site.by_slug), BASES, LANGUAGES)
    assert built.live == [], "every GET route of app.py is prebuilt (a route with other parameters: see prebuild)"
    namespace: dict = {}
    exec(compile(prebuild.module_source(built), prebuild.RESPONSES_MODULE, "exec"), namespace)
    return prebuilt.Answers.from_module(SimpleNamespace(**namespace))


@pytest.fixture(params=["demo", "two incidents"])
def answers(request, monkeypatch, tmp_path) -> prebuilt.Answers:
    if request.param == "two incidents":
        for doc in (DEMO, second_incident()):
            folder = tmp_path / doc["slug"]
            folder.mkdir()
            (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(notis_app, "site", load_site(tmp_path))
        assert len(notis_app.site.incidents) == 2
    return table(notis_app.app)


def live(event: dict) -> dict:
    return notis_app.app(copy.deepcopy(event), None)


def assert_same(answers: prebuilt.Answers, event: dict, *, prebuilt_expected: bool = True) -> dict | None:
    found = answers.answer(copy.deepcopy(event))
    if prebuilt_expected:
        assert found is not None, f"not in the table: {event['requestContext']['resourcePath']} {event['headers']}"
    expected = live(event)
    if found is not None:
        assert found == expected
        assert json.dumps(found) == json.dumps(expected), "the same headers in the same order"
    return found


def every_key(answers: prebuilt.Answers):
    for resource, value, lang, base in answers.answers:
        path, params = prebuild.concrete(resource, value or "finns-inte")
        yield prebuild.request(resource, path, base=base, params=params, lang=lang)


def test_every_prebuilt_answer_is_the_live_apps_for_get_head_and_304(answers):
    seen = 0
    for event in every_key(answers):
        for method in ("GET", "HEAD"):
            event["httpMethod"] = event["requestContext"]["httpMethod"] = method
            response = assert_same(answers, event)
            etag = response["headers"]["ETag"]
            for tag in (etag, f"W/{etag}", f'"nope", {etag}', "*", '"nope"'):
                conditional = {**event, "headers": {"If-None-Match": tag}}
                assert_same(answers, conditional)
            seen += 1
    assert seen == 2 * len(answers.answers) >= 2 * 4 * 18


def test_the_table_holds_each_incident_language_and_stage_prefix(answers):
    slugs = set(notis_app.site.by_slug)
    assert {(v, lang, base) for r, v, lang, base in answers.answers if r == "/incidents/{slug}"} == {
        (v, lang, base) for v in [*slugs, None] for lang in LANGUAGES for base in BASES
    }
    home = {lang: answers.responses[answers.answers[("/", None, lang, "")][0]]["body"] for lang in LANGUAGES}
    assert f'<html lang="{LANGUAGES[1]}">' in home[LANGUAGES[1]]
    if len(slugs) > 1:
        assert "Bokningen AB" in home["sv"] and "Körkortsportalen" in home["sv"], "two open incidents: the list"


@pytest.mark.parametrize("path", ["/", f"/incidents/{SLUG}", "/api/incidents", "/badge.svg", "/feed.atom",
                                  "/style.css", "/favicon.ico", "/api/v2/summary.json"])
def test_language_stage_and_cloudfront_requests_as_readers_send_them(answers, path):
    resource = path if "/incidents/" not in path or path.startswith("/api") else "/incidents/{slug}"
    params = {"slug": SLUG} if resource.endswith("{slug}") else None
    for query, accept, base, headers in [
        (None, None, "", {}), ("en", None, "", {}), ("EN ", "sv", "/api", {}), ("de", "en-GB,en;q=0.9", "", {}),
        (None, "nb, sv;q=0.5, en;q=0.4", "/api", {"X-Notis-Public-Base": "/"}), (None, "se", "", {}),
    ]:
        header_set = {**headers, **({"accept-language": accept} if accept else {})}
        event = prebuild.request(resource, path, base=base, params=params, lang=query, headers=header_set)
        assert_same(answers, event)


@given(slug=st.text(max_size=120))
@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_unknown_slug_is_answered_as_the_live_app_does(answers, slug):
    for resource in ("/incidents/{slug}", "/api/incidents/{slug}", "/api/incidents/{slug}/faq"):
        path, params = prebuild.concrete(resource, slug)
        assert_same(answers, prebuild.request(resource, path, params=params, lang="en"))


HEADER_VALUES = st.one_of(st.none(), st.sampled_from(["en", "sv", "sv-SE", "en;q=0", "fi, en;q=0.1", "*", ""]),
                          st.text(max_size=30))
INM = st.one_of(st.none(), st.sampled_from(["*", '"x"', "W/", ""]), st.text(max_size=40))


@given(resource=st.sampled_from(sorted(notis_app.app.routes)), slug=st.sampled_from([SLUG, "finns-inte"]),
       langs=st.lists(st.one_of(st.sampled_from(["sv", "en", "EN", "", "de"]), st.text(max_size=8)), max_size=3),
       accept=HEADER_VALUES, inm=INM, current=st.booleans(), base=st.sampled_from(["", "/api", "/other"]),
       cloudfront=st.booleans(), upper=st.booleans(), method=st.sampled_from(["GET", "HEAD"]))
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_request_gets_the_live_apps_answer(answers, resource, slug, langs, accept, inm, current, base,
                                               cloudfront, upper, method):
    path, params = prebuild.concrete(resource, slug)
    headers = {"Accept-Language": accept} if accept is not None else {}
    if cloudfront:
        headers["X-Notis-Public-Base"] = "/"
    if upper:
        headers = {k.upper(): v for k, v in headers.items()}
    event = prebuild.request(resource, path, base=base, params=params, headers=headers, method=method)
    event["multiValueQueryStringParameters"] = {"lang": langs} if langs else None  # Chalice reads the last
    if current or inm is not None:
        etag = live(event)["headers"].get("ETag", "")
        event["headers"] = {**(event["headers"] or {}), "if-none-match": etag if current else inm}
    found = assert_same(answers, event, prebuilt_expected=base != "/other" or cloudfront)
    assert found is not None or (base == "/other" and not cloudfront), "only an unknown stage prefix goes live"


@pytest.mark.parametrize("change", [
    "post", "content_type", "unknown_stage", "missing_key", "headers_not_a_dict", "no_slug", "new_route",
])
def test_what_the_table_does_not_hold_goes_to_the_live_app(answers, change):
    event = prebuild.request("/incidents/{slug}", f"/incidents/{SLUG}", params={"slug": SLUG})
    match change:
        case "post":
            event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
        case "content_type":
            event["headers"] = {"Content-Type": "text/plain"}  # Chalice answers 415
        case "unknown_stage":
            event["requestContext"]["path"] = "/v2" + event["path"]  # a custom domain's base path mapping
        case "missing_key":
            del event["stageVariables"]
        case "headers_not_a_dict":
            event["headers"] = [("Accept-Language", "en")]
        case "no_slug":
            event["pathParameters"] = None
        case "new_route":
            event["requestContext"]["resourcePath"] = "/api/verify/{code}"
    assert answers.answer(event) is None


def test_handler_without_a_table_or_with_content_from_the_environment_renders_live(monkeypatch):
    event = prebuild.request("/", "/", lang="en")
    monkeypatch.setattr(prebuilt, "ANSWERS", None)
    assert prebuilt.handler(copy.deepcopy(event), None) == live(event)
    monkeypatch.setenv("NOTIS_PUBLIC_URL", "https://elsewhere.example")
    assert prebuilt._load() is None, "the table was built without it: the live app renders with it"


def test_build_refuses_an_unknown_incident_answer_it_cannot_rebuild():
    def app(event, context):
        response = notis_app.app(event, context)
        if response["statusCode"] == 404 and event["resource"].startswith("/api/"):
            response["body"] += " "
        return response

    app.routes, app.api = notis_app.app.routes, notis_app.app.api
    with pytest.raises(prebuild.BuildError, match="unknown incident"):
        prebuild.build(app, [SLUG], BASES, LANGUAGES)
