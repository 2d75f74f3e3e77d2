"""The page function as deployed: API Gateway proxy events answered from responses built at `make package` time.

The content is fixed per deployment, so `make package` (notis_cli.prebuild) asks the live Chalice app for every
answer it can give (each route, incident, language, stage prefix, and the 304 for its ETag) and writes them into
the zip as `chalicelib/web/_responses.py`. A cold start then imports that module and this one: no Chalice, Jinja,
Markdown or YAML, and the first request does no more work than any other.

Whatever the table does not hold exactly (another method, a request body type Chalice would refuse, a stage
prefix of a custom domain, a route added since, a missing table, content overridden by the environment) goes to
the live app, imported on first need: same bytes, only slower. Locally (`make run`, `chalice local`, tests) app.py
renders live, so content edits show at once.
"""

from __future__ import annotations

from chalicelib.web.negotiate import choose_language
from chalicelib.web.wire import base_path, etag_matches, etag_of, no_incident_json

TYPE_CHECKING = False  # typing costs 15 ms of cold start
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# What Chalice reads from every event (chalice.app.Request): without one of them it fails, so the live app answers.
EVENT_KEYS = ("multiValueQueryStringParameters", "headers", "pathParameters", "body", "stageVariables",
              "requestContext")
METHODS = ("GET", "HEAD")
# Read by the live renderer from the function's environment; a deployment that sets them is rendered live.
RENDERING_ENVIRONMENT = ("NOTIS_CONTENT_DIR", "NOTIS_PUBLIC_URL")


class Answers:
    """Finds the prebuilt answer to an event, or None when only the live app can say."""

    def __init__(self, *, responses: tuple, answers: dict, routes: dict, known: dict, bases: tuple,
                 no_incident: dict) -> None:
        self.responses = responses  # Lambda proxy responses, exactly as Chalice's handler returns them
        self.answers = answers  # (resource, parameter or None, lang, base) -> (response, 304 response or -1, etag)
        self.routes = routes  # resource -> its path parameter's name, or None
        self.known = known  # resource -> the parameter values with an answer of their own; others share None's
        self.bases = bases
        self.no_incident = no_incident  # resource -> headers of the API's 404, ETag filled in per slug

    @classmethod
    def from_module(cls, module: Any) -> Answers:
        return cls(responses=module.RESPONSES, answers=module.ANSWERS, routes=module.ROUTES, known=module.KNOWN,
                   bases=module.BASES, no_incident=module.NO_INCIDENT)

    def answer(self, event: Any) -> dict | None:
        if type(event) is not dict or not all(key in event for key in EVENT_KEYS):
            return None
        context = event["requestContext"]
        if type(context) is not dict or context.get("httpMethod") not in METHODS:
            return None
        resource = context.get("resourcePath")
        if resource not in self.routes:
            return None
        headers = _lower_headers(event["headers"])
        if headers is None or "content-type" in headers:  # Chalice checks a body's type against the route's
            return None
        lang = _language(event["multiValueQueryStringParameters"], headers.get("accept-language"))
        context_path, path = context.get("path", ""), event.get("path", "")
        if lang is None or type(context_path) is not str or type(path) is not str:
            return None
        base = base_path(context_path, path, headers)
        if base not in self.bases:
            return None
        value = None
        parameter = self.routes[resource]
        if parameter is not None:
            parameters = event["pathParameters"]
            value = parameters.get(parameter) if type(parameters) is dict else None
            if type(value) is not str:
                return None
        found = self.answers.get((resource, value if value in self.known.get(resource, ()) else None, lang, base))
        if found is None:
            return self._no_incident(resource, value)
        response, not_modified, etag = found
        if not_modified >= 0 and etag_matches(headers.get("if-none-match", ""), etag):
            return self.responses[not_modified]
        return self.responses[response]

    def _no_incident(self, resource: str, slug: str | None) -> dict | None:
        headers = self.no_incident.get(resource)
        if headers is None or slug is None:
            return None
        body = no_incident_json(slug)
        return {"headers": {**headers, "ETag": etag_of(body)}, "multiValueHeaders": {}, "statusCode": 404,
                "body": body}


def _lower_headers(headers: Any) -> dict | None:
    """The request's headers by lower-cased name, as Chalice's CaseInsensitiveMapping has them (last one wins)."""
    if not headers:
        return {}
    if type(headers) is not dict:
        return None
    lowered = {}
    for name, value in headers.items():
        if type(name) is not str or type(value) is not str:
            return None
        lowered[name.lower()] = value
    return lowered


def _language(query: Any, accept_language: str | None) -> str | None:
    """The answer's language as the live app chooses it: the last ?lang= (Chalice's MultiDict), else the header."""
    asked = None
    if query:
        if type(query) is not dict:
            return None
        values = query.get("lang")
        if values:
            if type(values) is not list or type(values[-1]) is not str:
                return None
            asked = values[-1]
    return choose_language(asked, accept_language)


def _load() -> Answers | None:
    import os

    if any(name in os.environ for name in RENDERING_ENVIRONMENT):
        return None
    try:
        from chalicelib.web import _responses
    except ImportError:  # packaged by `chalice package` alone, not `make package`: every answer is live
        return None
    return Answers.from_module(_responses)


def _live() -> Callable[[dict, Any], dict]:
    import app

    return app.app


ANSWERS = _load()


def handler(event: dict, context: Any) -> dict:
    """The API function's Lambda handler (`.chalice/resources.json` points APIHandler here)."""
    response = ANSWERS.answer(event) if ANSWERS is not None else None
    return response if response is not None else _live()(event, context)
