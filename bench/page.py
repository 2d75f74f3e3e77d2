"""Benchmark of the public page path.

Prints, each against a baseline measured in the same run (these machines are noisy):
- cold start: a fresh process that imports the app and renders `/`, against `python -c pass` and
  `python -c "import boto3"` (goal: below import boto3 alone, i.e. no boto3 on the page path);
- warm requests per second through the app's Lambda handler, against a Chalice handler returning a constant
  (goal: at least half of the constant handler: render once per content version and language);
- the first visit's transfer (HTML with its inline CSS, compressed; no JavaScript): goal under 30 KB;
  with --browser, also as headless Chromium receives it from `chalice local` (CDP Network events: bytes on the wire,
  headers included, for every request the visit makes), asserting that no JavaScript is loaded.

Run: .venv/bin/python bench/page.py [--runs N] [--requests N] [--browser]
(--browser needs Debian's chromium and chromium-driver: `make browser-deps`.)
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RENDER_HOME = """
import app
event = {'resource': '/', 'path': '/', 'httpMethod': 'GET', 'headers': {}, 'multiValueHeaders': {},
         'multiValueQueryStringParameters': None, 'pathParameters': None,
         'requestContext': {'resourcePath': '/', 'httpMethod': 'GET', 'path': '/'},
         'stageVariables': None, 'body': None, 'isBase64Encoded': False}
assert app.app(event, None)['statusCode'] == 200
"""


def event(path: str, resource: str, params: dict | None = None, headers: dict | None = None) -> dict:
    return {
        "resource": resource, "path": path, "httpMethod": "GET", "headers": headers or {},
        "multiValueHeaders": {}, "multiValueQueryStringParameters": None, "pathParameters": params,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path},
        "stageVariables": None, "body": None, "isBase64Encoded": False,
    }


def cold(code: str, runs: int) -> float:
    """Median wall time of a fresh interpreter running `code`, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def warm(handler, events: list[dict], requests: int) -> float:
    """Requests per second through a Lambda-style handler."""
    handler(events[0], None)
    start = time.perf_counter()
    for i in range(requests):
        response = handler(events[i % len(events)], None)
        assert response["statusCode"] in (200, 304)
    return requests / (time.perf_counter() - start)


def constant_app():
    """The same routes as notis, each returning a constant: what Chalice itself costs per request."""
    from chalice import Chalice, Response

    constant = Chalice(app_name="constant")

    def reply() -> Response:
        return Response(body="<!doctype html><p>ok</p>", headers={"Content-Type": "text/html"})

    constant.route("/")(reply)
    constant.route("/incidents/{slug}")(lambda slug: reply())
    constant.route("/api/incidents/{slug}/faq")(lambda slug: reply())
    return constant


def transfer() -> tuple[int, int]:
    import app

    body = app.app(event("/", "/"), None)["body"].encode()
    return len(body), len(gzip.compress(body, 9))


def browser_transfer() -> list[dict]:
    """Every request of a first visit to `/` in headless Chromium: url, resource type, bytes received on the wire."""
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    from browser_harness import app_server, chromium, network_events

    with app_server() as server, chromium(network_log=True) as driver:
        driver.get("about:blank")
        network_events(driver)  # forget the browser's own start-up page
        driver.get(server.origin + "/")
        events: list[dict] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the favicon request comes after the load event
            time.sleep(0.3)
            fresh = network_events(driver)
            events += fresh
            done = {e["params"].get("requestId") for e in events if e["method"] in FINISHED}
            started = {e["params"].get("requestId") for e in events if e["method"] == "Network.requestWillBeSent"}
            if events and not fresh and started <= done:
                break
    requests: dict[str, dict] = {}
    for e in events:
        if "requestId" not in e["params"]:
            continue
        params, entry = e["params"], requests.setdefault(e["params"]["requestId"], {"bytes": 0, "type": "?"})
        if e["method"] == "Network.requestWillBeSent":
            entry.update(url=params["request"]["url"].removeprefix(server.origin), type=params.get("type", "?"))
        elif e["method"] == "Network.responseReceived":
            entry.update(type=params["type"], status=params["response"]["status"],
                         encoding=params["response"]["headers"].get("Content-Encoding", "none"))
        elif e["method"] == "Network.loadingFinished":
            entry["bytes"] = int(params["encodedDataLength"])
    return [r for r in requests.values() if "url" in r]


FINISHED = ("Network.loadingFinished", "Network.loadingFailed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per cold-start measurement")
    parser.add_argument("--requests", type=int, default=20000, help="warm requests per handler")
    parser.add_argument("--browser", action="store_true",
                        help="also measure the first visit's transfer in headless Chromium (make browser-deps)")
    args = parser.parse_args()

    from chalicelib.web.site import COMPILED_DIR

    compiled = "precompiled (make package)" if COMPILED_DIR.is_dir() else "compiled at first render"
    print(f"cold start, median of {args.runs} fresh processes (ms); page templates {compiled}")
    bare = cold("pass", args.runs)
    boto = cold("import boto3", args.runs)
    page = cold(RENDER_HOME, args.runs)
    print(f"  python -c pass           {bare:8.1f}")
    print(f"  python -c 'import boto3' {boto:8.1f}")
    print(f"  import app + render /    {page:8.1f}   ratio to import boto3: {page / boto:.2f} (goal < 1.00)")
    print(f"  (app work above bare interpreter: {page - bare:.1f} ms; boto3 alone: {boto - bare:.1f} ms)")

    import app

    slug = app.site.incidents[0].slug
    events = [
        event("/", "/"),
        event("/", "/", headers={"Accept-Language": "en"}),
        event(f"/incidents/{slug}", "/incidents/{slug}", {"slug": slug}),
        event(f"/api/incidents/{slug}/faq", "/api/incidents/{slug}/faq", {"slug": slug}),
    ]
    base = warm(constant_app(), events, args.requests)
    ours = warm(app.app, events, args.requests)
    print(f"warm requests per second ({args.requests} each)")
    print(f"  constant handler         {base:10.0f}")
    print(f"  notis page handler       {ours:10.0f}   ratio: {ours / base:.2f} (goal >= 0.50)")

    raw, compressed = transfer()
    print("first visit transfer (HTML with inline CSS; no JavaScript, no other request)")
    print(f"  uncompressed {raw / 1024:6.1f} KB   gzip -9 {compressed / 1024:5.1f} KB   (goal < 30 KB compressed)")
    if args.browser:
        requests = browser_transfer()
        scripts = [r["url"] for r in requests if r["type"] == "Script"]
        assert not scripts, f"the first visit loaded JavaScript: {scripts}"
        page = [r for r in requests if r["type"] in ("Document", "Stylesheet")]
        total = sum(r["bytes"] for r in page)
        encodings = "/".join(sorted({r.get("encoding", "?") for r in page}))
        print(f"  in Chromium  {total / 1024:6.1f} KB   HTML+CSS on the wire, headers included, {len(page)} request(s),"
              f" Content-Encoding: {encodings}; no JavaScript")
        print(f"  (chalice local does not compress: ratio to gzip -9 {total / compressed:.2f}; every request:)")
        for r in requests:
            print(f"    {r['type']:<10} {r.get('status', '-')!s:>4} {r['bytes'] / 1024:6.1f} KB  {r['url']}")


if __name__ == "__main__":
    main()
