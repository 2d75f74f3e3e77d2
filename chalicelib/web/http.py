"""Responses of the public path: security and caching headers, strong ETags, 304s."""

from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.web.wire import PUBLIC_BASE_HEADER, base_path, etag_matches, etag_of

__all__ = ["PUBLIC_BASE_HEADER", "Page", "Rendered", "Request", "base_path", "respond"]

CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=300"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


@dataclass(frozen=True)
class Request:
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names
    base: str = ""  # path prefix in front of the app's routes (API Gateway stage), e.g. "/api"


@dataclass(frozen=True)
class Page:
    status: int
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Rendered:
    """A body rendered once per content version and language, with its validator and headers, computed once."""

    body: str
    content_type: str
    lang: str | None = None
    style_hash: str = ""
    etag: str = field(init=False)
    _headers: dict = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "etag", etag_of(self.body))

    def headers(self, *, api: bool, vary_language: bool) -> dict[str, str]:
        key = (api, vary_language)
        if key not in self._headers:
            self._headers[key] = base_headers(self, api=api, vary_language=vary_language)
        return dict(self._headers[key])


def base_headers(rendered: Rendered, *, api: bool, vary_language: bool) -> dict[str, str]:
    style = f"'{rendered.style_hash}'" if rendered.style_hash else "'none'"
    headers = {
        "Content-Type": rendered.content_type,
        "Cache-Control": CACHE_CONTROL,
        "ETag": rendered.etag,
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style}; img-src 'self'; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'"
        ),
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if rendered.lang:
        headers["Content-Language"] = rendered.lang
    if vary_language:
        headers["Vary"] = "Accept-Language"
    if api:
        headers["Access-Control-Allow-Origin"] = "*"
    return headers


def respond(request: Request, rendered: Rendered, *, status: int = 200, api: bool = False,
            vary_language: bool = False) -> Page:
    headers = rendered.headers(api=api, vary_language=vary_language)
    if status == 200 and etag_matches(request.headers.get("if-none-match", ""), rendered.etag):
        # The headers the 200 would carry (RFC 9110 15.4.5), Content-Type included: without one, Chalice
        # labels the empty body application/json, and a cache could store that over the page's type.
        return Page(status=304, body="", headers=headers)
    if status != 200:
        headers["Cache-Control"] = "public, max-age=30"
    return Page(status=status, body=rendered.body, headers=headers)
