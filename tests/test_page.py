"""The public incident page as a frightened reader, a status tool and a cache meet it, through Chalice."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml
from chalice.test import Client

import app as notis_app
from chalicelib.web import CONTENT_DIR, load_site

SLUG = "korkortsportalen-2024"
DEMO = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def client():
    with Client(notis_app.app) as c:
        yield c


def write_content(root: Path, *documents: dict) -> Path:
    for doc in documents:
        folder = root / doc["slug"]
        folder.mkdir(parents=True)
        (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture
def with_content(monkeypatch, tmp_path):
    """Serve other content than the demo: with_content(doc, ...) swaps the app's site."""

    def swap(*documents: dict):
        monkeypatch.setattr(notis_app, "site", load_site(write_content(tmp_path / "content", *documents)))

    return swap


class Outline(HTMLParser):
    """Collects what a screen reader user navigates by: headings, landmarks, links, scripts."""

    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))

    def handle_data(self, data):
        self.text.append(data)


def outline(body: bytes) -> Outline:
    parser = Outline()
    parser.feed(body.decode("utf-8"))
    return parser


# -- the HTML page --------------------------------------------------------------------------------------------------
def test_home_shows_the_single_open_incident_in_swedish(client):
    response = client.http.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    html = response.body.decode()
    assert '<html lang="sv">' in html
    assert "Intrång i webbshoppen på Körkortsportalen" in html
    assert "Senast uppdaterad" in html and "22 januari 2024" in html
    for heading in ("Vad har hänt?", "Vilka slags uppgifter gäller det?", "Vad kan det innebära för dig?",
                    "Vad vi har gjort", "Vad du kan göra", "Tidslinje", "Frågor och svar", "Kontakt",
                    "Anmälan till myndigheter"):
        assert f">{heading}</h2>" in html
    assert "Integritetsskyddsmyndigheten (IMY)" in html and "DI-2024-0000" in html
    assert "010-123 45 67" in html
    assert DEMO["page_url"] in html, "the page address is written out for recognising genuine mail"


def test_incident_route_and_home_serve_the_same_page(client):
    assert client.http.get(f"/incidents/{SLUG}").body == client.http.get("/").body


def test_structure_is_accessible(client):
    page = outline(client.http.get("/").body)
    assert page.headings.count(1) == 1
    assert page.headings[0] == 1
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"heading level jumps from h{before} to h{after}"
    for landmark in ("header", "nav", "main", "footer"):
        assert landmark in page.tags
    assert page.tags.count("details") == len(DEMO["faq"]) == page.tags.count("summary")
    assert any(tag == "a" and a.get("href") == "#main" for tag, a in page.attrs), "skip link"


@pytest.mark.parametrize(("lang", "words"), [("sv", ["Frågor?", "Kontakta Körkortsportalen", "Telefon"]),
                                             ("en", ["Questions?", "Contact Körkortsportalen", "Phone"])])
def test_whom_to_contact_is_said_under_the_summary(client, lang, words):
    """Phone, opening hours and e-mail before the first section; the Art. 34 sections keep their order."""
    body = client.http.get(f"/?lang={lang}").body.decode()
    reach = body[body.index('class="reach"'):body.index("</div>", body.index('class="reach"'))]
    assert body.index('class="lead"') < body.index('class="reach"') < body.index('id="h-what"')
    assert all(word in reach for word in words)
    assert 'href="tel:0101234567"' in reach and 'href="mailto:dataskydd@korkortsportalen.example"' in reach
    assert ("Vardagar 08.00–17.00" if lang == "sv" else "Weekdays 08:00") in reach
    assert 'href="#h-contact"' in reach
    order = [body.index(f'id="h-{name}"') for name in
             ("what", "data", "consequences", "measures", "advice", "genuine", "timeline", "faq", "contact")]
    assert order == sorted(order)


def test_status_is_said_in_words_not_only_colour(client):
    html = client.http.get("/").body.decode()
    assert re.search(r'class="status status-monitoring">.*Åtgärdat, vi följer upp</span>', html)
    assert "Åtgärdat, vi följer upp" in client.http.get("/").body.decode()
    assert "Fixed, monitoring" in client.http.get("/?lang=en").body.decode()


def test_timeline_is_newest_first_with_time_and_status(client):
    html = client.http.get("/").body.decode()
    ids = re.findall(r'<li id="update-([a-z0-9-]+)">', html)
    newest_first = [u["id"] for u in sorted(DEMO["updates"], key=lambda u: str(u["at"]), reverse=True)]
    assert ids == newest_first
    assert '<time datetime="2024-01-17T16:00:00+01:00">17 januari 2024 kl. 16.00</time>' in html


def test_no_script_no_external_resources_no_cookies(client):
    response = client.http.get("/")
    page = outline(response.body)
    assert "script" not in page.tags and "iframe" not in page.tags and "img" not in page.tags
    links = [a for tag, a in page.attrs if tag == "link"]
    assert all(not link["href"].startswith(("http", "//")) for link in links)
    assert "Set-Cookie" not in response.headers
    assert "@import" not in response.body.decode() and "url(" not in response.body.decode()


# -- language ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "accept", "lang"),
    [
        ("", None, "sv"),
        ("?lang=en", None, "en"),
        ("?lang=sv", "en-GB,en;q=0.9", "sv"),
        ("", "en-GB,en;q=0.9", "en"),
        ("", "sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("", "de-DE,de;q=0.9", "sv"),
        ("", "se,en;q=0.5", "en"),  # se is Northern Sami, not Swedish
        ("?lang=xx", "en", "en"),
        ("?lang=EN", None, "en"),
        ("", "en;q=0.2,sv;q=0.9", "sv"),
        ("", "en;q=garbage", "sv"),
    ],
)
def test_language_negotiation(client, query, accept, lang):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.http.get(f"/{query}", headers=headers)
    assert f'<html lang="{lang}">' in response.body.decode()
    assert response.headers["Content-Language"] == lang


def test_english_page_and_link_to_the_other_language(client):
    html = client.http.get("/?lang=en").body.decode()
    assert "Intrusion into the Körkortsportalen web shop" in html
    assert "What has happened?" in html
    assert 'href="?lang=sv" hreflang="sv" lang="sv"' in html
    assert 'href="?lang=en" hreflang="en" lang="en"' in client.http.get("/").body.decode()


def test_missing_translation_falls_back_to_swedish_and_says_so(client, with_content):
    doc = json.loads(json.dumps(DEMO, default=str))
    del doc["what_happened"]["en"]
    del doc["faq"][0]["question"]["en"]
    with_content(doc)
    html = client.http.get("/?lang=en").body.decode()
    assert '<div lang="sv"><p>På förmiddagen onsdagen den 17 januari 2024' in html
    assert "Only available in Swedish." in html
    assert '<span lang="sv">Vad är det som har hänt?</span>' in html
    assert "Only available in Swedish." not in client.http.get("/?lang=sv").body.decode()


def test_script_in_content_is_escaped(client, with_content):
    doc = json.loads(json.dumps(DEMO, default=str))
    doc["title"]["sv"] = "<script>alert('x')</script> Intrång"
    doc["what_happened"]["sv"] = "Text <img src=x onerror=alert(1)> och [länk](javascript:alert(1))"
    with_content(doc)
    html = client.http.get("/").body.decode()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Intrång" in html
    assert 'href="javascript:' not in html


def test_several_open_incidents_give_a_list(client, with_content):
    other = json.loads(json.dumps(DEMO, default=str))
    other["slug"] = "andra-intranget"
    other["title"] = {"sv": "Ett annat intrång", "en": "Another intrusion"}
    with_content(json.loads(json.dumps(DEMO, default=str)), other)
    html = client.http.get("/").body.decode()
    assert "<h1>Pågående händelser</h1>" in html
    assert 'href="/incidents/andra-intranget?lang=sv"' in html
    assert f'href="/incidents/{SLUG}?lang=sv"' in html
    assert client.http.get("/incidents/andra-intranget").status_code == 200


# -- JSON, feed, summary ----------------------------------------------------------------------------------------------
def test_api_list_and_detail(client):
    listing = json.loads(client.http.get("/api/incidents").body)
    assert [i["slug"] for i in listing["incidents"]] == [SLUG]
    detail = json.loads(client.http.get(f"/api/incidents/{SLUG}?lang=en").body)
    assert detail["lang"] == "en" and detail["status"] == "monitoring"
    assert detail["title"] == "Intrusion into the Körkortsportalen web shop"
    assert detail["updates"][0]["id"] == "fragor-och-svar"
    assert "The phone number and e-mail address you gave us" in detail["data_categories"]
    assert detail["organisation"]["contact"]["phone"] == "010-123 45 67"


def test_api_faq_shape(client):
    faq = json.loads(client.http.get(f"/api/incidents/{SLUG}/faq").body)
    assert set(faq) == {"incident", "lang", "updated_at", "faq"}
    assert faq["incident"] == SLUG and faq["lang"] == "sv"
    assert faq["updated_at"] == "2024-01-22T13:00:00+01:00"
    assert len(faq["faq"]) == len(DEMO["faq"])
    assert set(faq["faq"][0]) == {"id", "question", "answer"}
    english = json.loads(client.http.get(f"/api/incidents/{SLUG}/faq", headers={"Accept-Language": "en"}).body)
    assert english["lang"] == "en" and english["faq"][0]["question"] == "What has happened?"


def test_statuspage_summary_shape(client):
    summary = json.loads(client.http.get("/api/v2/summary.json").body)
    assert set(summary) == {"page", "status", "components", "incidents", "scheduled_maintenances"}
    assert summary["status"]["indicator"] in {"none", "minor", "major", "critical"}
    [incident] = summary["incidents"]
    for key in ("id", "name", "status", "impact", "created_at", "updated_at", "shortlink", "incident_updates"):
        assert key in incident
    assert incident["incident_updates"][0]["status"] == "monitoring"


def test_summary_without_open_incidents(client, with_content):
    doc = json.loads(json.dumps(DEMO, default=str))
    doc["status"] = "resolved"
    with_content(doc)
    summary = json.loads(client.http.get("/api/v2/summary.json").body)
    assert summary["status"]["indicator"] == "none" and summary["incidents"] == []
    assert "<h1>Pågående händelser</h1>" in client.http.get("/").body.decode()


def test_atom_feed_is_valid_atom(client):
    response = client.http.get("/feed.atom")
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = ElementTree.fromstring(response.body)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(DEMO["updates"])
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            assert entry.find(f"{ATOM}{required}").text
        assert entry.find(f"{ATOM}link").get("href").startswith("https://")
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids)
    assert entries[0].find(f"{ATOM}updated").text == "2024-01-22T13:00:00+01:00"


# -- headers, caching, errors -----------------------------------------------------------------------------------------
ROUTES = ["/", f"/incidents/{SLUG}", "/api/incidents", f"/api/incidents/{SLUG}", f"/api/incidents/{SLUG}/faq",
          "/api/v2/summary.json", "/feed.atom"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_route_sends_security_and_cache_headers(client, path):
    headers = client.http.get(path).headers
    assert "public" in headers["Cache-Control"] and "max-age=" in headers["Cache-Control"]
    assert "stale-while-revalidate" in headers["Cache-Control"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"]), "a strong ETag"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    assert headers["Strict-Transport-Security"].startswith("max-age=")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "camera=()" in headers["Permissions-Policy"] and "geolocation=()" in headers["Permissions-Policy"]


@pytest.mark.parametrize("path", [p for p in ROUTES if p.startswith("/api")])
def test_json_api_allows_any_origin(client, path):
    response = client.http.get(path)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    json.loads(response.body)


@pytest.mark.parametrize("path", ROUTES)
def test_if_none_match_gives_304(client, path):
    etag = client.http.get(path).headers["ETag"]
    again = client.http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body == b""
    assert again.headers["ETag"] == etag
    assert client.http.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


@pytest.mark.parametrize("path", [*ROUTES, "/style.css", "/favicon.ico"])
def test_304_carries_the_headers_of_the_200_and_never_a_wrong_content_type(client, path):
    """RFC 9110 15.4.5: a 304 sends what the 200 would; Chalice would label an empty body application/json."""
    first = client.http.get(path)
    again = client.http.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert dict(again.headers) == dict(first.headers)


def test_etag_differs_per_language(client):
    assert client.http.get("/?lang=sv").headers["ETag"] != client.http.get("/?lang=en").headers["ETag"]
    assert client.http.get("/").headers["Vary"] == "Accept-Language"


def test_inline_style_is_allowed_by_its_hash_only(client):
    import base64
    import hashlib

    response = client.http.get("/")
    css = re.search(r"<style>(.*?)</style>", response.body.decode(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in response.headers["Content-Security-Policy"]


def test_unknown_slug_is_a_real_404_page(client):
    response = client.http.get("/incidents/finns-inte")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Sidan finns inte" in response.body.decode()
    english = client.http.get("/incidents/finns-inte?lang=en")
    assert english.status_code == 404 and "Page not found" in english.body.decode()


@pytest.mark.parametrize("path", ["/api/incidents/finns-inte", "/api/incidents/finns-inte/faq"])
def test_unknown_slug_on_the_api_is_a_json_404(client, path):
    response = client.http.get(path)
    assert response.status_code == 404
    assert json.loads(response.body)["error"]["code"] == "not_found"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_unknown_path_is_a_404_not_api_gateways_403(client):
    response = client.http.get("/wp-login.php")
    assert response.status_code == 404 and "Sidan finns inte" in response.body.decode()


def test_hostile_slug_is_not_reflected_unescaped(client):
    response = client.http.get("/api/incidents/%3Cscript%3E")
    assert response.status_code == 404 and b"<script>" not in response.body


# -- start-up ---------------------------------------------------------------------------------------------------------
def test_app_refuses_to_start_on_invalid_content_with_a_readable_message(tmp_path):
    doc = json.loads(json.dumps(DEMO, default=str))
    del doc["consequences"]
    doc["status"] = "panic"
    write_content(tmp_path, doc)
    result = subprocess.run([sys.executable, "-c", "import app"], cwd=Path(notis_app.__file__).parent,
                            env={"NOTIS_CONTENT_DIR": str(tmp_path), "PATH": ""}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert "notis cannot start: incident content has 2 problem(s)" in result.stderr
    assert "consequences: Art. 34" in result.stderr and "status: 'panic'" in result.stderr
    assert "Traceback" not in result.stderr


def test_page_path_never_imports_boto3():
    # Invoke the handler as Lambda does (chalice.test itself imports botocore, so it cannot be used here).
    code = ("import sys, app\n"
            "event = {'resource': '/', 'path': '/', 'httpMethod': 'GET', 'headers': {'Accept-Language': 'en'},\n"
            "         'multiValueHeaders': {}, 'multiValueQueryStringParameters': None, 'pathParameters': None,\n"
            "         'requestContext': {'resourcePath': '/', 'httpMethod': 'GET', 'path': '/api/'},\n"
            "         'stageVariables': None, 'body': None, 'isBase64Encoded': False}\n"
            "response = app.app(event, None)\n"
            "assert response['statusCode'] == 200 and 'lang=\"en\"' in response['body'], response\n"
            "assert 'href=\"/api/feed.atom' in response['body']\n"
            "print('boto3' in sys.modules, 'botocore' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(notis_app.__file__).parent,
                            capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "False"], result.stderr


def test_favicon_is_an_empty_cached_answer_with_the_usual_headers(client):
    response = client.http.get("/favicon.ico")
    assert response.status_code == 204 and response.body == b""
    assert "max-age=86400" in response.headers["Cache-Control"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_precompiled_templates_never_serve_a_stale_page(tmp_path):
    from jinja2 import Environment, FileSystemLoader

    from chalicelib.web.site import PackagedBytecodeCache

    source, cache = tmp_path / "templates", tmp_path / "compiled"
    source.mkdir()
    (source / "t.html").write_text("first {{ x }}")

    def render(writable: bool) -> str:
        env = Environment(loader=FileSystemLoader(str(source)),
                          bytecode_cache=PackagedBytecodeCache(cache, writable=writable))
        return env.get_template("t.html").render(x=1)

    assert render(writable=True) == "first 1"
    assert list(cache.iterdir()), "compiled at packaging time"
    (source / "t.html").write_text("second {{ x }}")
    assert render(writable=False) == "second 1", "an edited template is compiled afresh, not read stale"


@pytest.mark.parametrize(
    ("resource", "path", "params"),
    [("/", "/", None), ("/incidents/{slug}", f"/incidents/{SLUG}", {"slug": SLUG}),
     ("/incidents/{slug}", "/incidents/finns-inte", {"slug": "finns-inte"})],
)
def test_links_keep_the_api_gateway_stage_prefix(resource, path, params):
    """On the execute-api address every page lives under /api: links must too, on every page."""
    event = {"resource": resource, "path": path, "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
             "multiValueQueryStringParameters": None, "pathParameters": params, "stageVariables": None,
             "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": "/api" + path,
                                "stage": "api"}}
    body = notis_app.app(event, None)["body"]
    assert 'href="/api/feed.atom?lang=sv"' in body
    assert 'href="/feed.atom' not in body and 'href="/?lang' not in body


@pytest.mark.parametrize(
    ("resource", "path", "params"),
    [("/", "/", None), ("/incidents/{slug}", f"/incidents/{SLUG}", {"slug": SLUG})],
)
def test_behind_cloudfront_links_have_no_stage_prefix(resource, path, params):
    """CloudFront adds /api on the way to the origin and says so (X-Notis-Public-Base: /): the reader's links are
    paths on the distribution's host, where /api/feed.atom would be the 404 page."""
    headers = {"X-Notis-Public-Base": "/"}
    event = {"resource": resource, "path": path, "httpMethod": "GET", "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()},
             "multiValueQueryStringParameters": None, "pathParameters": params, "stageVariables": None,
             "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": "/api" + path,
                                "stage": "api"}}
    body = notis_app.app(event, None)["body"]
    assert 'href="/feed.atom?lang=sv"' in body and 'href="/api/feed.atom' not in body
    assert 'href="/api/incidents?lang=sv"' in body, "the JSON API's own path, not a stage prefix"


@pytest.mark.parametrize("path", ["/", f"/incidents/{SLUG}", "/api/incidents", "/feed.atom", "/favicon.ico"])
def test_head_requests_are_answered_for_uptime_monitors(client, path):
    response = client.http.head(path)
    assert response.status_code in (200, 204)
    assert "ETag" in response.headers and "Content-Security-Policy" in response.headers


def test_unknown_lang_still_varies_on_accept_language(client):
    response = client.http.get("/?lang=de", headers={"Accept-Language": "en"})
    assert '<html lang="en">' in response.body.decode()
    assert response.headers["Vary"] == "Accept-Language"


def test_atom_entries_are_told_apart_by_their_titles(client):
    feed = ElementTree.fromstring(client.http.get("/feed.atom").body)
    titles = [e.find(f"{ATOM}title").text for e in feed.findall(f"{ATOM}entry")]
    assert len(set(titles)) == len(titles)
    assert titles[0].endswith("(22 januari 2024)")
