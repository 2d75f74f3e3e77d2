"""Unknown paths at any depth get the real 404 page: in the test client, in the local server the stack runs, and
in what `chalice package` gives API Gateway."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from chalice.test import Client

import app as notis_app
from chalicelib.web.localgateway import best_route

ROOT = Path(notis_app.__file__).parent
SLUG = "korkortsportalen-2024"
UNKNOWN = ["/a", "/a/b/c", "/wp-admin/setup-config.php", f"/incidents/{SLUG}/x", f"/incidents/{SLUG}/x/y/",
           "/incidents", "/api", "/api/v2", f"/api/incidents/{SLUG}/faq/x", f"/api/incidents/{SLUG}/x/y",
           "/feed.atom/x", "/a//b", "/api/v2/incidents/unresolved.json/x", "/badge.svg/x"]
KNOWN = {"/": 200, f"/incidents/{SLUG}": 200, f"/api/incidents/{SLUG}/faq": 200, "/api/v2/summary.json": 200,
         "/api/v2/status.json": 200, "/api/v2/incidents/unresolved.json": 200,
         "/api/v2/scheduled-maintenances/active.json": 200, "/badge.svg": 200,
         "/incidents/finns-inte": 404, "/favicon.ico": 204}


@pytest.mark.parametrize("path", UNKNOWN)
def test_unknown_path_at_any_depth_is_the_404_page(path):
    with Client(notis_app.app) as client:
        response = client.http.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "Sidan finns inte" in response.body.decode()
    assert "Missing Authentication Token" not in response.body.decode()


def test_the_local_server_the_stack_runs_answers_404_pages_not_403():
    """Served as notis_cli.stack serves it: the app imported first, then Chalice's local server."""
    script = textwrap.dedent(
        """
        import json, sys, threading, urllib.error, urllib.request
        import app
        from chalice.config import Config
        from chalice.local import create_local_server

        config = Config.create(chalice_stage="dev", app_name="notis", lambda_timeout=30, lambda_memory_size=256)
        server = create_local_server(app.app, config, "127.0.0.1", 0)
        threading.Thread(target=server.server.serve_forever, daemon=True).start()
        base = "http://127.0.0.1:%d" % server.server.server_address[1]

        def get(path, headers={}):
            request = urllib.request.Request(base + path, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, dict(response.headers), response.read().decode()
            except urllib.error.HTTPError as error:
                return error.code, dict(error.headers), error.read().decode()

        out = {}
        for path in json.loads(sys.argv[1]):
            status, headers, body = get(path)
            out[path] = [status, headers.get("Content-Type"), "Sidan finns inte" in body]
        status, headers, _ = get("/", {"If-None-Match": get("/")[1]["ETag"]})
        out["304"] = [status, headers.get("Content-Type")]
        server.server.shutdown()
        print(json.dumps(out))
        """
    )
    paths = UNKNOWN + list(KNOWN)
    result = subprocess.run([sys.executable, "-c", script, json.dumps(paths)], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for path in UNKNOWN:
        assert answers[path] == [404, "text/html; charset=utf-8", True], path
    for path, status in KNOWN.items():
        assert answers[path][0] == status, path
    assert answers["304"] == [304, "text/html; charset=utf-8"], "a 304 is never labelled JSON"


ROUTES = ["/", "/incidents/{slug}", "/api/incidents/{slug}", "/api/incidents/{slug}/faq", "/api/v2/summary.json",
          "/feed.atom", "/{proxy+}", "/incidents/{slug}/{proxy+}"]


@pytest.mark.parametrize(
    ("path", "route", "params"),
    [("/", "/", {}),
     ("/incidents/x", "/incidents/{slug}", {"slug": "x"}),
     ("/incidents/x/", "/incidents/{slug}", {"slug": "x"}),
     ("/api/incidents/x/faq", "/api/incidents/{slug}/faq", {"slug": "x"}),
     ("/a", "/{proxy+}", {"proxy": "a"}),
     ("/a/b/c", "/{proxy+}", {"proxy": "a/b/c"}),
     ("/api/incidents/x/faq/y", "/{proxy+}", {"proxy": "api/incidents/x/faq/y"}),
     ("/incidents/x/y/z", "/incidents/{slug}/{proxy+}", {"slug": "x", "proxy": "y/z"})],
)
def test_local_routes_are_chosen_as_api_gateway_does(path, route, params):
    """The same-length route first (literal parts before variables), then the longest greedy one."""
    assert best_route(ROUTES, path) == (route, params)


def test_no_route_is_left_for_the_root_without_its_route():
    assert best_route(["/{proxy+}"], "/") is None, "API Gateway's {proxy+} does not match the root either"
