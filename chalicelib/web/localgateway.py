"""Greedy `{proxy+}` routes for Chalice's local gateway (`chalice local`, the local stack, `chalice.test.Client`).

API Gateway treats a `{name+}` path part as greedy: `/{proxy+}` catches `/a/b/c` and `/incidents/<slug>/x`, the
paths no more specific resource serves. Chalice's local gateway matches it as one path part only
(aws/chalice#2118), so there every deeper unknown path answered 403 "Missing Authentication Token" instead of
the 404 page. This teaches the local gateway API Gateway's order: a route of the same length (literal parts
before variables) first, then the greedy route with the longest prefix. Never used in Lambda: the app installs
it only outside Lambda, and imports `chalice.local` only once something else has (no cost on a cold start).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
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


def patch(local: ModuleType) -> None:
    """Replace the local gateway's route matcher (idempotent)."""
    matcher = local.RouteMatcher
    if getattr(matcher, "_notis_greedy", False):
        return

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
