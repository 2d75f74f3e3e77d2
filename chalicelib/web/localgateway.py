"""Greedy `{proxy+}` routes for Chalice's local gateway (`chalice local`, the local stack, `chalice.test.Client`).

API Gateway treats a `{name+}` path part as greedy: `/{proxy+}` catches `/a/b/c` and `/incidents/<slug>/x`, the
paths no more specific resource serves. Chalice's local gateway matches it as one path part only
(aws/chalice#2118), so there every deeper unknown path answered 403 "Missing Authentication Token" instead of
the 404 page. This teaches the local gateway API Gateway's order: a route of the same length (literal parts
before variables) first, then the greedy route with the longest prefix. Never used in Lambda: the app installs
it only outside Lambda, and imports `chalice.local` only once something else has (no cost on a cold start).

It also plays API Gateway's routing of paths to a function of their own (`serve_function`: the verify function,
which the template routes in .chalice/resources.json) and, in the local server, a per-client limit on them
(`ClientBuckets`) where AWS has method throttling.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.abc
import importlib.util
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlparse

LOCAL_MODULE = "chalice.local"


def match_parts(route: str, parts: list[str]) -> dict[str, str] | None:
    """The path parameters when `parts` (a path split on "/") fits `route`, else None."""
    pattern = route.split("/")
    greedy = pattern[-1].startswith("{") and pattern[-1].endswith("+}")
    if greedy:
        if len(parts) < len(pattern) or not any(parts[len(pattern) - 1:]):
            return None
    elif len(parts) != len(pattern):
        return None
    captured: dict[str, str] = {}
    for have, want in zip(parts, pattern[:-1] if greedy else pattern, strict=False):
        if want.startswith("{") and want.endswith("}"):
            if not have:
                return None
            captured[want[1:-1]] = have
        elif have != want:
            return None
    if greedy:
        captured[pattern[-1][1:-2]] = "/".join(parts[len(pattern) - 1:])
    return captured


def best_route(routes: list[str], path: str) -> tuple[str, dict[str, str]] | None:
    """API Gateway's choice: an exact-length route (sorted: literal parts first), else the longest greedy one."""
    if path != "/" and path.endswith("/"):
        path = path[:-1]  # as API Gateway (and Chalice) do for every route but the root
    parts = path.split("/")
    greedy: list[tuple[int, str, dict[str, str]]] = []
    for route in sorted(routes):
        captured = match_parts(route, parts)
        if captured is None:
            continue
        if not route.endswith("+}"):
            return route, captured
        greedy.append((route.count("/"), route, captured))
    if not greedy:
        return None
    _, route, captured = max(greedy, key=lambda item: item[0])
    return route, captured


class ClientBuckets:
    """A token bucket per client, in memory: `burst` answers at once, then `rate` per second.

    Clients are told apart by a keyed hash of their address with a key drawn per process, so not even memory
    holds an address; at most `max_clients` buckets are kept (the fullest are forgotten first).
    """

    def __init__(self, rate: float = 1.0, burst: int = 10, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.max_clients, self.clock = rate, float(burst), max_clients, clock
        self._salt = secrets.token_bytes(32)
        self._buckets: dict[bytes, tuple[float, float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> ClientBuckets:
        """NOTIS_VERIFY_LIMIT="<per second>/<burst>" (default 1/10: a person typing codes never meets it)."""
        rate, _, burst = os.environ.get("NOTIS_VERIFY_LIMIT", "1/10").partition("/")
        try:
            return cls(float(rate), int(burst))
        except ValueError:
            raise SystemExit(f"NOTIS_VERIFY_LIMIT must be like 1/10 (per second/burst), got {rate}/{burst}") from None

    def take(self, client: str) -> bool:
        """True when this client may have one more answer now."""
        who = hmac.new(self._salt, client.encode(), hashlib.sha256).digest()[:16]
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(who, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[who] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > self.max_clients:
                self._forget(now)
            return allowed

    def _forget(self, now: float) -> None:
        full = [k for k, (tokens, last) in self._buckets.items() if tokens + (now - last) * self.rate >= self.burst]
        for key in full or list(self._buckets)[: len(self._buckets) // 2]:
            del self._buckets[key]


Handler = Callable[[dict[str, Any]], dict[str, Any]]
_functions: dict[str, tuple[Handler, Handler | None]] = {}
_limit = ClientBuckets.from_env()
_client = threading.local()  # the address of the request this server thread is answering (local server only)


def serve_function(routes: tuple[str, ...], handler: Callable[..., dict[str, Any]], *,
                   too_many: Handler | None = None, limit: ClientBuckets | None = None) -> None:
    """Send GET/HEAD on these routes to `handler(event, context)` with an API Gateway proxy event, as the
    deployed API does, instead of the app's own function; per client limited by `limit` in the local server."""
    global _limit
    for route in routes:
        _functions[route] = (lambda event, _h=handler: _h(event, None), too_many)
    if limit is not None:
        _limit = limit


def proxy_event(method: str, path: str, headers: dict[str, str], route: str, captured: dict[str, str],
                client: str | None) -> dict[str, Any]:
    """A REST API proxy event (API Gateway developer guide, "Input format of a Lambda function for proxy
    integration") for a route served by its own function."""
    parsed = urlparse(path)
    query = parse_qs(parsed.query, keep_blank_values=True)
    return {
        "resource": route,
        "path": parsed.path,
        "httpMethod": method,
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": captured or None,
        "requestContext": {"resourcePath": route, "path": parsed.path, "httpMethod": method,
                           "identity": {"sourceIp": client or "127.0.0.1"}},
    }


def _own_function(method: str, path: str, headers: dict[str, str]) -> dict[str, Any] | None:
    if method not in ("GET", "HEAD") or not _functions:
        return None
    found = best_route(list(_functions), urlparse(path).path)
    if found is None:
        return None
    route, captured = found
    client = getattr(_client, "address", None)  # None in chalice.test.Client: no network, no limit
    event = proxy_event(method, path, headers, route, captured, client)
    handler, too_many = _functions[route]
    if client is not None and too_many is not None and not _limit.take(client):
        response = too_many(event)
    else:
        response = handler(event)
    return {"multiValueHeaders": {}, **response}


def patch(local: ModuleType) -> None:
    """Replace the local gateway's route matcher (idempotent)."""
    matcher = local.RouteMatcher
    if getattr(matcher, "_notis_greedy", False):
        return
    gateway, handler_class = local.LocalGateway, local.ChaliceRequestHandler
    handle_request, generic_handle = gateway.handle_request, handler_class._generic_handle

    def routed(self: Any, method: str, path: str, headers: Any, body: Any) -> Any:
        return _own_function(method, path, dict(headers)) or handle_request(self, method, path, headers, body)

    def with_client(self: Any) -> None:
        _client.address = self.client_address[0]
        try:
            generic_handle(self)
        finally:
            _client.address = None

    gateway.handle_request = routed
    handler_class._generic_handle = with_client

    def match_route(self: Any, url: str) -> Any:
        parsed = urlparse(url)
        found = best_route(self.route_urls, parsed.path)
        if found is None:
            raise ValueError(f"No matching route found for: {url}")
        return local.MatchResult(found[0], found[1], parse_qs(parsed.query, keep_blank_values=True))

    matcher.match_route = match_route
    matcher._notis_greedy = True


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, inner: Any):
        self.inner = inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        patch(module)

    def __getattr__(self, name: str) -> Any:  # get_source and friends, for tracebacks
        return getattr(self.inner, name)


class _OnImport(importlib.abc.MetaPathFinder):
    """Patches `chalice.local` when it is first imported (the stack imports the app before it), then steps aside."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != LOCAL_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader)
        return spec


def install() -> None:
    """Greedy routes in Chalice's local gateway, whether it is imported already or later."""
    module = sys.modules.get(LOCAL_MODULE)
    if module is not None:
        patch(module)
    elif not any(isinstance(finder, _OnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnImport())
