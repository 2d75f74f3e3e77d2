"""Responses of the public path: security and caching headers, strong ETags, 304s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

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
        object.__setattr__(self, "etag", '"' + hashlib.sha256(self.body.encode()).hexdigest()[:32] + '"')

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
    if status == 200 and _matches(request.headers.get("if-none-match", ""), rendered.etag):
        # The headers the 200 would carry (RFC 9110 15.4.5), Content-Type included: without one, Chalice
        # labels the empty body application/json, and a cache could store that over the page's type.
        return Page(status=304, body="", headers=headers)
    if status != 200:
        headers["Cache-Control"] = "public, max-age=30"
    return Page(status=status, body=rendered.body, headers=headers)


def _matches(if_none_match: str, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


PUBLIC_BASE_HEADER = "x-notis-public-base"  # set by the CloudFront distribution (.chalice/resources.json)


def base_path(context_path: str, route_path: str, headers: dict[str, str] | None = None) -> str:
    """The prefix API Gateway puts before our routes (its stage, e.g. "/api"), so links work behind it.

    Behind CloudFront the reader's paths have no stage (CloudFront adds it on the way to the origin), and the
    distribution says so with `X-Notis-Public-Base: /`: links are then written without the prefix. A reader who
    sends the header to the bare API address only changes their own links.
    """
    if (headers or {}).get(PUBLIC_BASE_HEADER) == "/":
        return ""
    if route_path and context_path.endswith(route_path):
        prefix = context_path[: len(context_path) - len(route_path)]
    elif route_path == "/" and context_path:
        prefix = context_path
    else:
        prefix = ""
    prefix = prefix.rstrip("/")
    return prefix if all(c.isalnum() or c in "/-_." for c in prefix) else ""
