"""Benchmark of the public page path, as Lambda meets it and in the development venv.

Prints, each against a baseline measured in the same run (these machines are noisy):
- deployed cold start: the unzipped `make package` output run by `python -S -B` (no site-packages, no bytecode
  written: Lambda's code folder is read-only), a fresh process importing the API function's handler
  (chalicelib.web.prebuilt) and answering `/`, against `import boto3` from a folder holding boto3 and its
  dependencies copied from the venv, as the Lambda runtime keeps them outside the zip (measured with their
  bytecode, the faster and the goal's baseline, and without). Goal: at most 0.5 x import boto3. Also printed: the
  import and the first request after it, timed inside the process (nothing may move work onto the first
  request), and the zip's app.py rendering live (--compare: another zip's, e.g. an earlier version).
- deployed warm requests per second: the handler against a Chalice handler returning a constant on the same
  routes, both in one `python -S -B` process on the unzipped package. Goal: at least 0.8.
- the venv figures of the first round (app.py rendering live, as the local stack and `chalice local` do);
- the first visit's transfer (HTML with its inline CSS, compressed; no JavaScript): goal under 30 KB;
  with --browser, also as headless Chromium receives it from `chalice local` (CDP Network events: bytes on the wire,
  headers included, for every request the visit makes), asserting that no JavaScript is loaded.

Run: .venv/bin/python bench/page.py [--runs N] [--requests N] [--package ZIP] [--compare ZIP] [--browser]
(without out/deployment.zip it runs `make package` into a temporary folder first;
--browser needs Debian's chromium and chromium-driver: `make browser-deps`.)
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import importlib.util
import json
import py_compile
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
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
HOME_EVENT = ("{'resource': '/', 'path': '/', 'httpMethod': 'GET', 'headers': None, 'multiValueHeaders': None,"
              " 'multiValueQueryStringParameters': None, 'pathParameters': None, 'stageVariables': None,"
              " 'body': None, 'isBase64Encoded': False,"
              " 'requestContext': {'resourcePath': '/', 'httpMethod': 'GET', 'path': '/api/', 'stage': 'api'}}")
# A cold start of the deployed page function: Lambda imports the handler's module, then calls it.
DEPLOYED_COLD = f"""
import time
start = time.perf_counter()
import sys
sys.path.insert(0, ".")
from chalicelib.web import prebuilt
imported = time.perf_counter()
response = prebuilt.handler({HOME_EVENT}, None)
answered = time.perf_counter()
assert response["statusCode"] == 200 and '<html lang="sv">' in response["body"], response
heavy = [m for m in ("app", "chalice", "jinja2", "yaml", "markdown_it", "boto3") if m in sys.modules]
assert not heavy, heavy
print((imported - start) * 1000, (answered - imported) * 1000)
"""
ZIP_LIVE_COLD = f"""
import time
start = time.perf_counter()
import sys
sys.path.insert(0, ".")
import app
imported = time.perf_counter()
response = app.app({HOME_EVENT}, None)
answered = time.perf_counter()
assert response["statusCode"] == 200
print((imported - start) * 1000, (answered - imported) * 1000)
"""
BOTO3 = "import sys; sys.path.append({folder!r}); import boto3; assert boto3.__file__.startswith({folder!r})"
# Lambda keeps boto3 outside the zip, in the runtime: these and their own folders, copied from the venv.
BOTO3_DISTRIBUTION = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
DEPLOYED_WARM = """
import json, sys, time
sys.path.insert(0, ".")
from chalice import Chalice, Response
from chalicelib.web import prebuilt

constant = Chalice(app_name="constant")

def reply():
    return Response(body="<!doctype html><p>ok</p>", headers={"Content-Type": "text/html"})

constant.route("/")(reply)
constant.route("/incidents/{slug}")(lambda slug: reply())
constant.route("/api/incidents/{slug}/faq")(lambda slug: reply())
events, requests = json.loads(sys.argv[1]), int(sys.argv[2])

def warm(handler):
    for event in events:
        assert handler(event, None)["statusCode"] in (200, 304)
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for i in range(requests):
            handler(events[i % len(events)], None)
        best = max(best, requests / (time.perf_counter() - start))
    return best

print(json.dumps({"constant": warm(constant), "prebuilt": warm(prebuilt.handler)}))
"""


def event(path: str, resource: str, params: dict | None = None, headers: dict | None = None) -> dict:
    return {
        "resource": resource, "path": path, "httpMethod": "GET", "headers": headers or {},
        "multiValueHeaders": {}, "multiValueQueryStringParameters": None, "pathParameters": params,
        "requestContext": {"resourcePath": resource, "httpMethod": "GET", "path": path},
        "stageVariables": None, "body": None, "isBase64Encoded": False,
    }


def cold(code: str, runs: int, *, cwd: Path = ROOT, bare: bool = False) -> tuple[float, list[str]]:
    """Median wall time of a fresh interpreter running `code` in milliseconds, and what each run printed.

    bare: `python -S -B`, as Lambda runs the zip (no site-packages; no bytecode written, the folder is read-only).
    """
    times, printed = [], []
    flags = ["-S", "-B"] if bare else []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run([sys.executable, *flags, "-c", code], cwd=cwd, check=True, capture_output=True,
                                text=True)
        times.append((time.perf_counter() - start) * 1000)
        printed.append(result.stdout.strip())
    return statistics.median(times), printed


def unpacked(archive: Path, into: Path, name: str = "task", *, prebuilt: bool = True) -> Path:
    with zipfile.ZipFile(archive) as zipped:
        if prebuilt and "chalicelib/web/_responses.py" not in zipped.namelist():
            raise SystemExit(f"{archive} has no prebuilt page: build it with `make package`")
        zipped.extractall(into / name)
    return into / name


def boto3_runtime(into: Path, *, bytecode: bool) -> str:
    """boto3 and its dependencies copied from the venv into one folder, as the Lambda runtime keeps them."""
    folder = into / ("runtime-pyc" if bytecode else "runtime")
    folder.mkdir()
    for name in BOTO3_DISTRIBUTION:
        spec = importlib.util.find_spec(name)
        if spec.submodule_search_locations:
            source = Path(next(iter(spec.submodule_search_locations)))
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(spec.origin, folder)
    if bytecode:
        compileall.compile_dir(folder, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    return str(folder)


def package(path: Path | None, into: Path) -> Path:
    if path is not None:
        return path
    if (ROOT / "out" / "deployment.zip").is_file():
        return ROOT / "out" / "deployment.zip"
    out = into / "out"
    subprocess.run(["make", "-s", "-o", ".venv/.installed-stamp", "package", f"OUT={out}"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    return out / "deployment.zip"


def inner(printed: list[str]) -> tuple[float, float]:
    """Medians of (import, first request) as the process timed them itself."""
    pairs = [tuple(map(float, line.split()[-2:])) for line in printed]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def warm(handler, events: list[dict], requests: int, rounds: int = 3) -> float:
    """Requests per second through a Lambda-style handler: the best of `rounds` (other work on the machine only
    ever slows a round down)."""
    handler(events[0], None)
    best = 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(requests):
            response = handler(events[i % len(events)], None)
            assert response["statusCode"] in (200, 304)
        best = max(best, requests / (time.perf_counter() - start))
    return best


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
    parser.add_argument("--package", type=Path, help="the zip to measure (default: out/deployment.zip)")
    parser.add_argument("--compare", type=Path, metavar="ZIP",
                        help="another deployment zip (an earlier version's) whose app.py is measured the same way")
    parser.add_argument("--browser", action="store_true",
                        help="also measure the first visit's transfer in headless Chromium (make browser-deps)")
    args = parser.parse_args()

    import app

    slug = app.site.incidents[0].slug
    events = [
        event("/", "/"),
        event("/", "/", headers={"Accept-Language": "en"}),
        event(f"/incidents/{slug}", "/incidents/{slug}", {"slug": slug}),
        event(f"/api/incidents/{slug}/faq", "/api/incidents/{slug}/faq", {"slug": slug}),
    ]
    with tempfile.TemporaryDirectory(prefix="notis-bench-") as tmp:
        work = Path(tmp)
        archive = package(args.package, work)
        task = unpacked(archive, work)
        plain, with_pyc = boto3_runtime(work, bytecode=False), boto3_runtime(work, bytecode=True)
        age = time.time() - archive.stat().st_mtime
        print(f"deployed page: {archive.relative_to(ROOT) if archive.is_relative_to(ROOT) else archive.name}"
              f" (built {age / 60:.0f} min ago), unzipped, python -S -B")
        print(f"cold start, median of {args.runs} fresh processes (ms)")
        bare, _ = cold("pass", args.runs, cwd=task, bare=True)
        boto, _ = cold(BOTO3.format(folder=plain), args.runs, cwd=task, bare=True)
        boto_pyc, _ = cold(BOTO3.format(folder=with_pyc), args.runs, cwd=task, bare=True)
        page, printed = cold(DEPLOYED_COLD, args.runs, cwd=task, bare=True)
        page_import, page_first = inner(printed)
        live, printed = cold(ZIP_LIVE_COLD, args.runs, cwd=task, bare=True)
        live_import, live_first = inner(printed)
        print(f"  python -S -B -c pass                      {bare:8.1f}")
        print(f"  import boto3 (runtime folder, source)     {boto:8.1f}")
        print(f"  import boto3 (runtime folder, bytecode)   {boto_pyc:8.1f}")
        print(f"  page function: import handler + answer /  {page:8.1f}   ratio to import boto3: "
              f"{page / boto_pyc:.2f} (goal <= 0.50; boto3 from its bytecode), {page / boto:.2f} (from source)")
        print(f"    inside the process: import {page_import:.1f} ms, then the first request {page_first:.2f} ms")
        print(f"  the zip's app.py: import app + render /   {live:8.1f}   ratio to import boto3: {live / boto_pyc:.2f}"
              f"   (import {live_import:.1f} ms, first request {live_first:.1f} ms)")
        if args.compare:
            other = unpacked(args.compare, work, "compare", prebuilt=False)
            earlier, printed = cold(ZIP_LIVE_COLD, args.runs, cwd=other, bare=True)
            earlier_import, earlier_first = inner(printed)
            print(f"  {args.compare.name}'s app.py: import app + render / {earlier:8.1f}   ratio to import boto3: "
                  f"{earlier / boto_pyc:.2f}   (import {earlier_import:.1f} ms, first request {earlier_first:.1f} ms)")
        result = subprocess.run([sys.executable, "-S", "-B", "-c", DEPLOYED_WARM, json.dumps(events),
                                 str(args.requests)], cwd=task, check=True, capture_output=True, text=True)
        rates = json.loads(result.stdout)
        print(f"warm requests per second, python -S -B on the unzipped package (best of 3 x {args.requests})")
        print(f"  constant Chalice handler {rates['constant']:10.0f}")
        print(f"  page function handler    {rates['prebuilt']:10.0f}   ratio: "
              f"{rates['prebuilt'] / rates['constant']:.2f} (goal >= 0.80)")

    from chalicelib.web.site import COMPILED_DIR

    compiled = "precompiled (make package)" if COMPILED_DIR.is_dir() else "compiled at first render"
    print(f"venv (app.py renders live, as make run and chalice local do), median of {args.runs}; templates {compiled}")
    bare, _ = cold("pass", args.runs)
    boto, _ = cold("import boto3", args.runs)
    page, _ = cold(RENDER_HOME, args.runs)
    print(f"  python -c pass           {bare:8.1f}")
    print(f"  python -c 'import boto3' {boto:8.1f}")
    print(f"  import app + render /    {page:8.1f}   ratio to import boto3: {page / boto:.2f}")
    base = warm(constant_app(), events, args.requests)
    ours = warm(app.app, events, args.requests)
    print(f"  warm, best of 3 x {args.requests}: constant handler {base:8.0f}/s, app.py {ours:8.0f}/s, "
          f"ratio: {ours / base:.2f}")

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
