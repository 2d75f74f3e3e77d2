"""What the page reads from a request and writes on a response, shared by the live renderer (site.py, http.py)
and the deployed handler that serves responses built at `make package` time (prebuilt.py), so both answer alike.

Standard library only, imported lazily where it costs: this module is on the deployed cold start.
"""

from __future__ import annotations

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


def etag_matches(if_none_match: str, etag: str) -> bool:
    """Whether the reader's copy is current (If-None-Match, RFC 9110 13.1.2: weak comparison, `*` matches)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates


def etag_of(body: str) -> str:
    """A strong validator for `body`: the first 128 bits of its SHA-256, quoted."""
    import hashlib

    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def no_incident_json(slug: str) -> str:
    """The API's 404 body for an incident that does not exist (the slug shortened, as the reader typed it)."""
    import json

    return json.dumps({"error": {"code": "not_found", "message": f"no incident named {slug[:80]!r}"}})
