"""Every status client can read the page: Atlassian Statuspage's public v2 documents, components, the badge.

The shapes below are written down from Statuspage's public "Status API" documentation (each page's /api, e.g.
the v2 summary, status, components, incidents, incidents/unresolved and scheduled-maintenances endpoints) and
the types of the `statuspage.io` npm client (its Result.d.ts: Page, Component, Incident, ScheduledMaintenances).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from chalice.test import Client

import app as notis_app
from chalicelib.content.loader import parse_incident
from chalicelib.web import CONTENT_DIR, load_site
from chalicelib.web.localgateway import best_route

SLUG = "korkortsportalen-2024"
DEMO = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
SVG = "{http://www.w3.org/2000/svg}"

# -- the documented shapes ------------------------------------------------------------------------------------------
PAGE = {"id": str, "name": str, "url": str, "time_zone": str, "updated_at": str}
STATUS = {"indicator": str, "description": str}
COMPONENT = {"id": str, "name": str, "status": str, "created_at": str, "updated_at": str, "position": int,
             "description": (str, type(None)), "showcase": bool, "start_date": (str, type(None)),
             "group_id": (str, type(None)), "page_id": str, "group": bool, "only_show_if_degraded": bool}
INCIDENT = {"id": str, "name": str, "status": str, "created_at": str, "updated_at": str,
            "monitoring_at": (str, type(None)), "resolved_at": (str, type(None)), "impact": str,
            "shortlink": str, "started_at": str, "page_id": str, "incident_updates": list, "components": list}
UPDATE = {"id": str, "status": str, "body": str, "incident_id": str, "created_at": str, "updated_at": str,
          "display_at": str, "affected_components": (list, type(None)), "deliver_notifications": bool}
INDICATORS = {"none", "minor", "major", "critical"}
COMPONENT_STATUSES = {"operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"}
INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
IMPACTS = {"none", "minor", "major", "critical"}
# What each endpoint returns at the top level.
ENDPOINTS = {
    "/api/v2/summary.json": {"page", "status", "components", "incidents", "scheduled_maintenances"},
    "/api/v2/status.json": {"page", "status"},
    "/api/v2/components.json": {"page", "components"},
    "/api/v2/incidents.json": {"page", "incidents"},
    "/api/v2/incidents/unresolved.json": {"page", "incidents"},
    "/api/v2/scheduled-maintenances.json": {"page", "scheduled_maintenances"},
    "/api/v2/scheduled-maintenances/upcoming.json": {"page", "scheduled_maintenances"},
    "/api/v2/scheduled-maintenances/active.json": {"page", "scheduled_maintenances"},
}
NEW_ROUTES = [*[p for p in ENDPOINTS if not p.endswith("summary.json")], "/badge.svg"]


def assert_shape(value: dict, shape: dict, what: str) -> None:
    assert set(value) == set(shape), f"{what}: keys differ from the documented shape"
    for key, kind in shape.items():
        assert isinstance(value[key], kind), f"{what}.{key} is {type(value[key]).__name__}"


def assert_document(document: dict, keys: set[str]) -> None:
    assert set(document) == keys
    assert_shape(document["page"], PAGE, "page")
    if "status" in document:
        assert_shape(document["status"], STATUS, "status")
        assert document["status"]["indicator"] in INDICATORS
    for component in document.get("components", []):
        assert_shape(component, COMPONENT, "component")
        assert component["status"] in COMPONENT_STATUSES
    for incident in document.get("incidents", []):
        assert_shape(incident, INCIDENT, "incident")
        assert incident["status"] in INCIDENT_STATUSES and incident["impact"] in IMPACTS
        for update in incident["incident_updates"]:
            assert_shape(update, UPDATE, "incident_update")
            assert update["incident_id"] == incident["id"]
        for component in incident["components"]:
            assert_shape(component, COMPONENT, "incident.component")
    assert document.get("scheduled_maintenances", []) == []


# -- fixtures ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def client():
    with Client(notis_app.app) as c:
        yield c


def demo() -> dict:
    return json.loads(json.dumps(DEMO, default=str))


@pytest.fixture
def with_content(monkeypatch, tmp_path):
    def swap(*documents: dict):
        root = tmp_path / f"content-{len(list(tmp_path.iterdir()))}"
        for doc in documents:
            folder = root / doc["slug"]
            folder.mkdir(parents=True)
            (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        monkeypatch.setattr(notis_app, "site", load_site(root))

    return swap


def get_json(client, path: str, **headers) -> dict:
    response = client.http.get(path, headers=headers)
    assert response.status_code == 200, path
    return json.loads(response.body)


# -- the Statuspage documents -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "keys"), ENDPOINTS.items())
def test_every_endpoint_has_the_documented_shape(client, path, keys):
    assert_document(get_json(client, path), keys)


def test_the_demo_reads_as_a_status_client_expects(client):
    summary = get_json(client, "/api/v2/summary.json")
    assert summary["page"]["name"] == "Körkortsportalen Service AB"
    assert summary["page"]["url"] == "https://incident.korkortsportalen.example"
    assert [c["id"] for c in summary["components"]] == ["webbshop", "kundkonton"]
    assert [c["position"] for c in summary["components"]] == [1, 2]
    assert [c["status"] for c in summary["components"]] == ["operational", "degraded_performance"]
    [incident] = summary["incidents"]
    assert incident["id"] == SLUG and incident["status"] == "monitoring" and incident["impact"] == "minor"
    assert incident["monitoring_at"] == "2024-01-20T10:00:00+01:00" and incident["resolved_at"] is None
    assert incident["shortlink"] == DEMO["page_url"]
    assert [c["name"] for c in incident["components"]] == ["Webbshoppen", "Inloggning till kundkonton"]
    assert [u["display_at"] for u in incident["incident_updates"]] == sorted(
        (u["display_at"] for u in incident["incident_updates"]), reverse=True), "newest update first"
    assert summary["status"] == {"indicator": "minor", "description": "Pågående händelse, åtgärdad"}


def test_summary_is_made_of_the_other_documents(client):
    """One builder: the summary's parts are exactly what the single-purpose endpoints return."""
    summary = get_json(client, "/api/v2/summary.json?lang=en")
    parts = {
        "status": get_json(client, "/api/v2/status.json?lang=en")["status"],
        "components": get_json(client, "/api/v2/components.json?lang=en")["components"],
        "incidents": get_json(client, "/api/v2/incidents/unresolved.json?lang=en")["incidents"],
        "scheduled_maintenances": get_json(client, "/api/v2/scheduled-maintenances/upcoming.json?lang=en")[
            "scheduled_maintenances"],
    }
    for key, value in parts.items():
        assert summary[key] == value, key
    assert all(get_json(client, path)["page"] == summary["page"] for path in ENDPOINTS)


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_language_is_chosen_as_elsewhere(client, path):
    english = get_json(client, f"{path}?lang=en")
    by_header = get_json(client, path, **{"Accept-Language": "en-GB,en;q=0.9"})
    assert english == by_header
    if english.get("incidents"):
        assert english["incidents"][0]["name"] == "Intrusion into the Körkortsportalen web shop"
    if english.get("components"):
        assert english["components"][0]["name"] == "Web shop"
    if "status" in english:
        assert english["status"]["description"] == "Ongoing incident, fixed"


def test_incidents_lists_resolved_ones_too_and_unresolved_does_not(client, with_content):
    old = demo()
    old.update(slug="gammalt-intrang", status="resolved", title={"sv": "Ett gammalt intrång", "en": "An old one"})
    old["updates"] = [*old["updates"], {"id": "klart", "at": "2024-01-30T09:00:00+01:00", "status": "resolved",
                                         "text": {"sv": "Avslutat.", "en": "Resolved."}}]
    with_content(demo(), old)
    every = get_json(client, "/api/v2/incidents.json")
    assert_document(every, ENDPOINTS["/api/v2/incidents.json"])
    assert [i["id"] for i in every["incidents"]] == ["gammalt-intrang", SLUG], "newest first"
    resolved = every["incidents"][0]
    assert resolved["status"] == "resolved" and resolved["resolved_at"] == "2024-01-30T09:00:00+01:00"
    assert resolved["impact"] == "none"
    assert [i["id"] for i in get_json(client, "/api/v2/incidents/unresolved.json")["incidents"]] == [SLUG]


def test_components_roll_up_to_the_page(client, with_content):
    """The worst state among open incidents; a component only resolved incidents name reads operational."""
    one = demo()
    one["components"] = [{"id": "webbshop", "name": {"sv": "Webbshoppen"}, "status": "major_outage"}]
    other = demo()
    other.update(slug="andra", title={"sv": "Ett andra intrång"})
    other["components"] = [{"id": "webbshop", "name": {"sv": "Webbshoppen"}, "status": "degraded_performance"}]
    over = demo()
    over.update(slug="over", status="resolved", title={"sv": "Över"})
    over["components"] = [{"id": "appen", "name": {"sv": "Appen"}, "status": "partial_outage"}]
    with_content(one, other, over)
    summary = get_json(client, "/api/v2/summary.json")
    states = {c["id"]: c["status"] for c in summary["components"]}
    assert states == {"webbshop": "major_outage", "appen": "operational"}
    assert summary["status"]["indicator"] == "critical", "a component down outweighs the incident's impact"
    detail = get_json(client, "/api/incidents/over")
    assert detail["components"][0]["status"] == "partial_outage", "the incident's own record keeps what it says"


def test_no_incident_open_reads_as_all_clear(client, with_content):
    doc = demo()
    doc["status"] = "resolved"
    with_content(doc)
    status = get_json(client, "/api/v2/status.json")["status"]
    assert status == {"indicator": "none", "description": "Inga pågående händelser"}
    assert {c["status"] for c in get_json(client, "/api/v2/components.json")["components"]} == {"operational"}


def test_update_that_mailed_people_says_so(client, with_content):
    doc = demo()
    doc["updates"][-1]["notify"] = ["customers"]
    with_content(doc)
    [incident] = get_json(client, "/api/v2/incidents/unresolved.json")["incidents"]
    newest, *rest = incident["incident_updates"]
    assert newest["deliver_notifications"] is True and not any(u["deliver_notifications"] for u in rest)


# -- headers, caching, routing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", NEW_ROUTES)
def test_new_routes_are_cached_like_the_others(client, path):
    response = client.http.get(path)
    headers = response.headers
    assert response.status_code == 200
    assert "public" in headers["Cache-Control"] and "max-age=" in headers["Cache-Control"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"]), "a strong ETag"
    assert headers["Vary"] == "Accept-Language"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    again = client.http.get(path, headers={"If-None-Match": headers["ETag"]})
    assert again.status_code == 304 and again.body == b""
    assert dict(again.headers) == dict(headers)
    assert client.http.head(path).status_code == 200
    english = client.http.get(f"{path}?lang=en")
    assert (english.headers["ETag"] == headers["ETag"]) == (english.body == response.body), "the ETag is the body's"


@pytest.mark.parametrize("path", [p for p in NEW_ROUTES if p.endswith(".json")])
def test_json_routes_win_over_the_catch_all(client, path):
    response = client.http.get(path)
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "Sidan finns inte" not in response.body.decode()
    routes = list(notis_app.app.routes)
    assert best_route(routes, path) == (path, {}), "API Gateway's choice too: the literal route, not {proxy+}"


@pytest.mark.parametrize("path", ["/api/v2/incidents/unresolved.json/x", "/api/v2/nothing.json", "/badge.svg/x"])
def test_near_misses_are_still_the_404_page(client, path):
    response = client.http.get(path)
    assert response.status_code == 404 and "Sidan finns inte" in response.body.decode()


def test_new_routes_never_import_boto3():
    code = ("import sys, json, app\n"
            "for path in ['/api/v2/status.json', '/api/v2/incidents/unresolved.json', '/badge.svg']:\n"
            "    event = {'resource': path, 'path': path, 'httpMethod': 'GET', 'headers': {},\n"
            "             'multiValueHeaders': {}, 'multiValueQueryStringParameters': None, 'pathParameters': None,\n"
            "             'requestContext': {'resourcePath': path, 'httpMethod': 'GET', 'path': path},\n"
            "             'stageVariables': None, 'body': None, 'isBase64Encoded': False}\n"
            "    assert app.app(event, None)['statusCode'] == 200, path\n"
            "print('boto3' in sys.modules, 'botocore' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(notis_app.__file__).parent,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr


# -- the badge --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "words"), [("sv", "Läge: Åtgärdat, vi följer upp"),
                                             ("en", "Status: Fixed, monitoring")])
def test_badge_says_who_and_the_state_in_words(client, lang, words):
    response = client.http.get(f"/badge.svg?lang={lang}")
    assert response.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert response.headers["Content-Language"] == lang
    svg = ElementTree.fromstring(response.body)
    assert svg.tag == f"{SVG}svg"
    said = f"Körkortsportalen Service AB. {words}"
    assert svg.get("role") == "img" and svg.get("aria-label") == said
    assert svg.find(f"{SVG}title").text == said
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert texts == ["Körkortsportalen Service AB", words.split(": ", 1)[1]]
    assert int(svg.get("height")) <= 24


def test_badge_loads_nothing_else(client):
    body = client.http.get("/badge.svg").body.decode()
    svg = ElementTree.fromstring(body)
    for element in svg.iter():
        assert element.tag.removeprefix(SVG) in {"svg", "title", "rect", "g", "text"}, element.tag
        assert not any("href" in name for name in element.attrib), "no links, images or fonts from elsewhere"
    assert "url(" not in body and "@import" not in body and "<script" not in body
    assert re.findall(r"https?://[^\"' ]+", body) == ["http://www.w3.org/2000/svg"]


def test_badge_without_open_incidents_and_with_several(client, with_content):
    doc = demo()
    doc["status"] = "resolved"
    with_content(doc)
    assert "Ingen pågående händelse" in client.http.get("/badge.svg").body.decode()
    other = demo()
    other.update(slug="andra", status="investigating")
    with_content(demo(), other)
    body = client.http.get("/badge.svg?lang=en").body.decode()
    assert "2 ongoing incidents" in body and "#8a3b00" in body, "colour of the worst, words say how many"


def test_badge_escapes_the_organisation_name(client, with_content):
    doc = demo()
    doc["organisation"]["name"] = 'Ab & "Co" <script>'
    with_content(doc)
    body = client.http.get("/badge.svg").body.decode()
    assert "<script>" not in body
    ElementTree.fromstring(body)


# -- components in content, page and API ------------------------------------------------------------------------------
def parse(components) -> list[str]:
    doc = demo()
    doc["components"] = components
    return [str(p) for p in parse_incident(doc, "x.yaml", SLUG)[1]]


def test_component_status_is_checked_with_a_clear_error():
    problems = parse([{"id": "webbshop", "name": {"sv": "Webbshoppen"}, "status": "down"}])
    assert problems == ["x.yaml: components[0].status: 'down' is not a component status; use one of operational, "
                        "under_maintenance, degraded_performance, partial_outage, major_outage"]


@pytest.mark.parametrize(("components", "expected"), [
    ([{"id": "a", "name": "A", "status": "operational"}, {"id": "a", "name": "B", "status": "operational"}],
     "components[1].id: 'a' is used twice"),
    ([{"id": "Web Shop", "name": "A", "status": "operational"}], "components[0].id: 'Web Shop' must be lowercase"),
    ([{"id": "a", "status": "operational"}], "components[0].name: is missing"),
    ([{"id": "a", "name": "A"}], "components[0].status: is missing or empty"),
    ([{"id": "a", "name": "A", "status": "operational", "colour": "red"}], "components[0]: unknown key 'colour'"),
    ("webbshop", "components: must be a list"),
])
def test_component_mistakes_are_named(components, expected):
    assert any(expected in p for p in parse(components)), parse(components)


def test_components_are_optional():
    doc = demo()
    del doc["components"]
    incident, problems = parse_incident(doc, "x.yaml", SLUG)
    assert problems == [] and incident.components == ()


@pytest.mark.parametrize(("lang", "lines"), [
    ("sv", ["Berörda tjänster", "Webbshoppen:", "Fungerar som vanligt", "Inloggning till kundkonton:",
            "Fungerar sämre än vanligt"]),
    ("en", ["Affected services", "Web shop:", "Working as usual", "Customer account log-in:",
            "Working less well than usual"]),
])
def test_components_are_shown_in_words_beside_the_status(client, lang, lines):
    body = client.http.get(f"/?lang={lang}").body.decode()
    start = body.index('class="facts parts"')
    parts = body[start:body.index("</dl>", start)]
    for line in lines:
        assert line in parts
    assert parts.count("<li ") == 2
    assert body.index('class="facts"') < body.index('class="reach"') < start < body.index('id="h-what"'), (
        "near the status, after the contact line (which must stay on a phone's first screen)")


def test_page_without_components_shows_no_empty_list(client, with_content):
    doc = demo()
    del doc["components"]
    with_content(doc)
    body = client.http.get("/").body.decode()
    assert 'class="facts parts"' not in body and "Berörda tjänster" not in body
    assert get_json(client, f"/api/incidents/{SLUG}")["components"] == []


def test_incident_api_lists_components(client):
    detail = get_json(client, f"/api/incidents/{SLUG}?lang=en")
    assert detail["components"] == [
        {"id": "webbshop", "name": "Web shop", "status": "operational", "status_text": "Working as usual"},
        {"id": "kundkonton", "name": "Customer account log-in", "status": "degraded_performance",
         "status_text": "Working less well than usual"},
    ]


def test_readme_lists_every_route():
    readme = (Path(notis_app.__file__).parent / "README.md").read_text(encoding="utf-8")
    for route in notis_app.app.routes:
        if "{proxy+}" in route or route in ("/style.css", "/favicon.ico"):
            continue
        assert f"`GET {route}`" in readme or f"`GET {route}?" in readme or f"`{route}`" in readme, route


def test_badge_reaches_a_browser_as_text_not_base64():
    """Browsers ask for images with `Accept: image/*`; API Gateway must pass the SVG through as it is."""
    path = "/badge.svg"
    event = {"resource": path, "path": path, "httpMethod": "GET",
             "headers": {"Accept": "image/avif,image/webp,image/svg+xml,image/*,*/*;q=0.8"},
             "multiValueHeaders": {}, "multiValueQueryStringParameters": None, "pathParameters": None,
             "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": path},
             "stageVariables": None, "body": None, "isBase64Encoded": False}
    response = notis_app.app(event, None)
    assert response["statusCode"] == 200 and not response.get("isBase64Encoded")
    assert response["body"].startswith("<svg ")
    assert not any(t.startswith("image/svg") for t in notis_app.app.api.binary_types)
