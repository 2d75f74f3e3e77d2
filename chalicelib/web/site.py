"""The public site: every page rendered once per content version and language, then served from memory."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape

from chalicelib.content.loader import load_incidents
from chalicelib.content.markdown import to_html
from chalicelib.content.model import Incident
from chalicelib.content.published import published_incidents
from chalicelib.content.text import Text
from chalicelib.web import atom, badge, views
from chalicelib.web.http import Page, Rendered, Request, respond
from chalicelib.web.negotiate import choose_language
from chalicelib.web.strings import STRINGS, format_date, format_when
from chalicelib.web.wire import no_incident_json

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
COMPILED_DIR = TEMPLATE_DIR / "_compiled"  # written by `make package` (notis_cli.precompile), not in git
HTML = "text/html; charset=utf-8"
JSON = "application/json; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
CSS = "text/css; charset=utf-8"
SVG = "image/svg+xml; charset=utf-8"


ENV_OPTIONS = {"autoescape": "html,xml,strings", "undefined": "strict", "trim_blocks": True, "lstrip_blocks": True}
ENV_FINGERPRINT = hashlib.sha256(json.dumps(ENV_OPTIONS, sort_keys=True).encode()).hexdigest()[:10]


class PackagedBytecodeCache(FileSystemBytecodeCache):
    """Page templates compiled at packaging time, so a cold start skips Jinja's compiler (most of its render).

    Read-only in Lambda; Jinja checks each entry's source checksum and Python version and compiles afresh
    when they differ, so a stale or foreign cache costs time, never correctness. The file names carry this
    environment's settings, so another environment's compilation of the same template is never picked up.
    """

    def __init__(self, directory: Path, *, writable: bool = False):
        if writable:
            directory.mkdir(parents=True, exist_ok=True)
        super().__init__(str(directory), pattern=f"page-{ENV_FINGERPRINT}-%s.cache")
        self.writable = writable

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        """By template name only: Jinja's default adds the absolute path, which differs once deployed."""
        return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()

    def dump_bytecode(self, bucket) -> None:
        if self.writable:
            super().dump_bytecode(bucket)


def _environment(cache: PackagedBytecodeCache | None = None) -> Environment:
    if cache is None and COMPILED_DIR.is_dir():
        cache = PackagedBytecodeCache(COMPILED_DIR)
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=ENV_OPTIONS["trim_blocks"],
        lstrip_blocks=ENV_OPTIONS["lstrip_blocks"],
        bytecode_cache=cache,
    )
    env.filters["md"] = to_html
    return env


class Site:
    def __init__(self, incidents: list[Incident], public_url: str = "", *, cache: PackagedBytecodeCache | None = None):
        self.incidents = sorted(incidents, key=lambda i: i.updated_at, reverse=True)
        self.by_slug = {i.slug: i for i in self.incidents}
        self.public_url = public_url.rstrip("/")
        self.env = _environment(cache)
        self.css = (TEMPLATE_DIR / "page" / "style.css").read_text(encoding="utf-8")
        digest = hashlib.sha256(self.css.encode()).digest()
        self.style_hash = "sha256-" + base64.b64encode(digest).decode()
        self._cache: dict[tuple, Rendered] = {}

    # -- routes --------------------------------------------------------------------------------------------------
    def home(self, request: Request) -> Page:
        lang = self._lang(request)
        open_incidents = [i for i in self.incidents if i.is_open]
        if len(open_incidents) == 1:
            return self._html(request, ("incident", open_incidents[0].slug, lang, request.base),
                              lambda: self._render_incident(open_incidents[0], lang, request.base))
        return self._html(request, ("list", lang, request.base), lambda: self._render_list(lang, request.base))

    def incident(self, request: Request, slug: str) -> Page:
        lang = self._lang(request)
        incident = self.by_slug.get(slug)
        if incident is None:
            return self.not_found(request)
        return self._html(request, ("incident", slug, lang, request.base),
                          lambda: self._render_incident(incident, lang, request.base))

    def not_found(self, request: Request) -> Page:
        lang = self._lang(request)
        rendered = self._cached(("404", lang, request.base), lambda: self._page("page/404.html", lang, request.base))
        return respond(request, rendered, status=404, vary_language=True)

    def api_list(self, request: Request) -> Page:
        lang = self._lang(request)
        return self._json(request, ("api-list", lang), lambda: {
            "lang": lang,
            "incidents": [views.incident_summary(i, lang, self.public_url) for i in self.incidents],
        })

    def api_incident(self, request: Request, slug: str) -> Page:
        lang = self._lang(request)
        incident = self.by_slug.get(slug)
        if incident is None:
            return self._json_error(request, slug)
        return self._json(request, ("api-incident", slug, lang),
                          lambda: views.incident_detail(incident, lang, self.public_url))

    def api_faq(self, request: Request, slug: str) -> Page:
        lang = self._lang(request)
        incident = self.by_slug.get(slug)
        if incident is None:
            return self._json_error(request, slug)
        return self._json(request, ("api-faq", slug, lang), lambda: views.faq(incident, lang))

    def summary(self, request: Request) -> Page:
        return self.statuspage(request, "summary")

    def statuspage(self, request: Request, endpoint: str) -> Page:
        """Atlassian Statuspage's public v2 documents (`summary`, `status`, `components`, `incidents`, ...)."""
        lang = self._lang(request)
        return self._json(request, ("statuspage", endpoint, lang), lambda: views.statuspage(
            endpoint, self.incidents, lang, self.public_url, self._site_name()))

    def badge(self, request: Request) -> Page:
        lang = self._lang(request)
        rendered = self._cached(("badge", lang), lambda: Rendered(
            badge.render_badge(self.incidents, lang, self._site_name()), SVG, lang))
        return respond(request, rendered, api=True, vary_language=True)

    def feed(self, request: Request) -> Page:
        lang = self._lang(request)
        rendered = self._cached(("atom", lang), lambda: Rendered(
            atom.render_feed(self.incidents, lang, self.public_url, self._site_name()), ATOM, lang))
        return respond(request, rendered, vary_language=True)

    def favicon(self, request: Request) -> Page:
        page = respond(request, self._cached(("favicon",), lambda: Rendered("", "image/x-icon")))
        headers = {**page.headers, "Cache-Control": "public, max-age=86400"}
        return Page(status=204 if page.status == 200 else page.status, body="", headers=headers)

    def stylesheet(self, request: Request) -> Page:
        return respond(request, self._cached(("css",), lambda: Rendered(self.css, CSS)))

    # -- rendering -----------------------------------------------------------------------------------------------
    def _lang(self, request: Request) -> str:
        return choose_language(request.query.get("lang"), request.headers.get("accept-language"))

    def _site_name(self) -> str:
        names = sorted({i.organisation.name for i in self.incidents})
        return ", ".join(names) if names else "notis"

    def _cached(self, key: tuple, render: Callable[[], Rendered]) -> Rendered:
        rendered = self._cache.get(key)
        if rendered is None:
            rendered = self._cache[key] = render()
        return rendered

    def _html(self, request: Request, key: tuple, render: Callable[[], Rendered]) -> Page:
        # Always Vary: a ?lang= that is not sv/en falls back to Accept-Language too.
        return respond(request, self._cached(key, render), vary_language=True)

    def _json(self, request: Request, key: tuple, build: Callable[[], dict]) -> Page:
        rendered = self._cached(key, lambda: Rendered(json.dumps(build(), ensure_ascii=False, indent=1), JSON,
                                                      key[-1]))
        return respond(request, rendered, api=True, vary_language=True)

    def _json_error(self, request: Request, slug: str) -> Page:
        return respond(request, Rendered(no_incident_json(slug), JSON), status=404, api=True)

    def _page(self, template: str, lang: str, base: str, **context) -> Rendered:
        other = "en" if lang == "sv" else "sv"

        def t(text: Text) -> tuple[str, str]:
            return text.resolve(lang)

        html = self.env.get_template(template).render(
            lang=lang, other=other, s=STRINGS[lang], t=t, base=base, css=self.css,
            when=lambda m: format_when(m, lang), date=lambda m: format_date(m, lang), **context,
        )
        return Rendered(html, HTML, lang, self.style_hash)

    def _render_incident(self, incident: Incident, lang: str, base: str) -> Rendered:
        return self._page("page/incident.html", lang, base, incident=incident,
                          many=sum(i.is_open for i in self.incidents) > 1 or not incident.is_open)

    def _render_list(self, lang: str, base: str) -> Rendered:
        return self._page("page/list.html", lang, base, incidents=self.incidents)


def load_site(content_dir: Path | None = None) -> Site:
    """Load and validate the packaged content; raises ContentError (a readable list) when it is invalid."""
    incidents = list(published_incidents().values()) if content_dir is None else load_incidents(content_dir)
    public_url = os.environ.get("NOTIS_PUBLIC_URL", "")
    if not public_url and incidents:
        first = incidents[0].page_url
        public_url = first.split("/incidents/")[0] if "/incidents/" in first else ""
    return Site(incidents, public_url)


@functools.cache
def default_site() -> Site:
    return load_site()
