"""Build every answer of the public page into the deployment zip, and the zip's Python bytecode (`make package`).

    python -m notis_cli.prebuild out/        # after `chalice package ... out/`

The live Chalice app (app.py) is asked, in this process, for every answer the deployed page can give: each GET
route, each incident (and an unknown one), each language, with and without the API Gateway stage prefix, and the
304 for each ETag. The answers go into the zip as `chalicelib/web/_responses.py`, which the API function's handler
(`chalicelib.web.prebuilt.handler`) serves without importing Chalice, Jinja, Markdown or YAML. The answers are
the live app's own output, so they are the same bytes by construction; tests/test_page_prebuilt.py and
tests/test_deploy.py compare them request by request all the same.

Then every module in the zip gets its bytecode (`__pycache__/*.cpython-311.pyc`, unchecked hash: Lambda's code
folder is read-only, so nothing could be cached there at run time), when this Python is the runtime's version.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESPONSES_MODULE = "chalicelib/web/_responses.py"
HANDLER = "chalicelib.web.prebuilt.handler"
ROOT = Path(__file__).resolve().parent.parent
# Unknown path parameters to probe with: an ordinary one, and one with quotes, markup and non-ASCII letters.
UNKNOWN = ("finns-inte", "x'\"<b>&åäö" + "y" * 90)
PROXY = "a/b"


class BuildError(Exception):
    """The live app answers in a way the prebuilt table cannot reproduce."""


@dataclass
class Built:
    responses: list[dict] = field(default_factory=list)
    answers: dict[tuple, tuple[int, int, str]] = field(default_factory=dict)
    routes: dict[str, str | None] = field(default_factory=dict)
    known: dict[str, frozenset[str]] = field(default_factory=dict)
    bases: tuple[str, ...] = ()
    no_incident: dict[str, dict[str, str]] = field(default_factory=dict)
    live: list[str] = field(default_factory=list)  # routes only the live app answers
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def keep(self, response: dict) -> int:
        key = repr(response)
        if key not in self._index:
            self._index[key] = len(self.responses)
            self.responses.append(response)
        return self._index[key]


def request(resource: str, path: str, *, base: str = "", params: dict | None = None, lang: str | None = None,
            headers: dict[str, str] | None = None, method: str = "GET") -> dict:
    """An API Gateway (REST, Lambda proxy) event as the deployed API sends it."""
    headers = dict(headers or {})
    query = {"lang": [lang]} if lang else None
    return {
        "resource": resource, "path": path, "httpMethod": method, "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": {k: v[-1] for k, v in query.items()} if query else None,
        "multiValueQueryStringParameters": query, "pathParameters": params, "stageVariables": None,
        "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": resource, "httpMethod": method, "path": base + path,
                           "stage": base.strip("/") or "api", "requestId": "prebuild",
                           "identity": {"sourceIp": "192.0.2.1"}},
    }


def concrete(resource: str, value: str | None) -> tuple[str, dict | None]:
    """The path a reader asks for on `resource`, and its path parameters."""
    if "{proxy+}" in resource:
        return resource.replace("{proxy+}", PROXY), {"proxy": PROXY}
    if "{slug}" in resource:
        return resource.replace("{slug}", value or ""), {"slug": value}
    return resource, None


def build(app: Any, slugs: list[str], bases: tuple[str, ...], languages: tuple[str, ...],
          routes: set[str] | None = None) -> Built:
    """Every answer of `app` (a Chalice app) for these incidents, stage prefixes and languages, on `routes` (the
    paths API Gateway sends to the page function; all of the app's when None)."""
    from chalice.app import _matches_content_type

    built = Built(bases=bases)

    def ask(resource: str, value: str | None, lang: str, base: str, headers: dict | None = None) -> dict:
        path, params = concrete(resource, value)
        response = app(request(resource, path, base=base, params=params, lang=lang, headers=headers), None)
        content_type = response["headers"].get("Content-Type", "application/json")
        if _matches_content_type(content_type, app.api.binary_types):
            raise BuildError(f"{resource}: {content_type} is a binary type, which Chalice answers per Accept header")
        return response

    for resource, methods in app.routes.items():
        if routes is not None and resource not in routes:
            continue
        entry = methods.get("GET")
        if entry is None or "HEAD" not in methods:
            built.live.append(resource)
            continue
        if entry.view_args == []:
            parameter, values = None, [None]
        elif entry.view_args == ["slug"]:
            parameter, values = "slug", [*slugs, None]
        else:  # a parameter with no list of values (e.g. a code): the live app answers
            built.live.append(resource)
            continue
        built.routes[resource] = parameter
        if parameter:
            built.known[resource] = frozenset(slugs)
        for base in bases:
            for lang in languages:
                for value in values:
                    if value is None and parameter:
                        unknown = [ask(resource, probe, lang, base) for probe in UNKNOWN]
                        if unknown[0] != unknown[1]:  # the answer names what was asked for: the API's 404
                            headers = _no_incident_headers(resource, unknown)
                            if built.no_incident.setdefault(resource, headers) != headers:
                                raise BuildError(f"{resource}: the unknown incident's 404 differs by language or "
                                                 "stage prefix, which prebuilt.py does not rebuild")
                            continue
                        response = unknown[0]
                    else:
                        response = ask(resource, value, lang, base)
                    etag = response["headers"].get("ETag", "")
                    not_modified = ask(resource, value or UNKNOWN[0], lang, base, {"If-None-Match": etag})
                    current = built.keep(not_modified) if etag and not_modified["statusCode"] == 304 else -1
                    built.answers[(resource, value, lang, base)] = (built.keep(response), current, etag)
    return built


def _no_incident_headers(resource: str, probes: list[dict]) -> dict[str, str]:
    """The API's 404 headers, once `wire.no_incident_json` is shown to give the probes' bodies exactly."""
    from chalicelib.web.wire import etag_of, no_incident_json

    headers = {k: v for k, v in probes[0]["headers"].items()}
    for slug, probe in zip(UNKNOWN, probes, strict=True):
        body = no_incident_json(slug)
        rebuilt = {"headers": {**headers, "ETag": etag_of(body)}, "multiValueHeaders": {}, "statusCode": 404,
                   "body": body}
        if rebuilt != probe or list(rebuilt["headers"]) != list(probe["headers"]):
            raise BuildError(f"{resource}: the answer for an unknown incident is not the one prebuilt.py rebuilds")
    return headers


def module_source(built: Built) -> str:
    lines = [
        '"""Every answer of the public page, built by notis_cli.prebuild at `make package` time: do not edit."""',
        "",
        f"BASES = {built.bases!r}",
        f"ROUTES = {built.routes!r}",
        "KNOWN = {" + ", ".join(f"{r!r}: frozenset({sorted(v)!r})" for r, v in built.known.items()) + "}",
        f"NO_INCIDENT = {built.no_incident!r}",
        "RESPONSES = (",
        *(f"    {response!r}," for response in built.responses),
        ")",
        "ANSWERS = {",
        *(f"    {key!r}: {value!r}," for key, value in built.answers.items()),
        "}",
        "",
    ]
    return "\n".join(lines)


def stage_bases() -> tuple[str, ...]:
    """The stage prefixes a reader's request can carry: none (CloudFront, custom domains) and /<stage>."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stages = {s.get("api_gateway_stage", config.get("api_gateway_stage", "api")) for s in config["stages"].values()}
    return ("", *sorted(f"/{stage}" for stage in stages))


def page_routes(template: dict) -> set[str]:
    """The paths whose integration is the page function (APIHandler) in the packaged template."""
    (api,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Serverless::Api"]
    return {path for path, methods in api["Properties"]["DefinitionBody"]["paths"].items()
            if any("${APIHandler.Arn}" in json.dumps(method.get("x-amazon-apigateway-integration", {}))
                   for method in methods.values())}


def build_app_answers(routes: set[str] | None = None) -> Built:
    """The answers of this checkout's app.py for the packaged content, as the deployed function renders it."""
    for name in ("NOTIS_CONTENT_DIR", "NOTIS_PUBLIC_URL"):  # the function's environment has neither
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import app
    from chalicelib.content.languages import LANGUAGES

    return build(app.app, sorted(app.site.by_slug), stage_bases(), LANGUAGES, routes)


def add_to_zip(archive: Path, files: dict[str, bytes], *, bytecode: bool) -> int:
    """Rewrite `archive` with `files` added and, if asked, every module's bytecode; returns the modules compiled."""
    with zipfile.ZipFile(archive) as old:  # without the build machine's own __pycache__ (Chalice copies it)
        entries = [(info, old.read(info)) for info in old.infolist()
                   if info.filename not in files and "__pycache__/" not in info.filename]
    template = next(info for info, _ in entries if info.filename == "app.py")
    added = dict(files)
    if bytecode:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            sources = [(info.filename, data) for info, data in entries if info.filename.endswith(".py")]
            sources += [(name, data) for name, data in files.items() if name.endswith(".py")]
            for name, data in sources:
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_bytes(data)
            compileall.compile_dir(root, quiet=2, workers=0, ddir="",
                                   invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
            for pyc in root.rglob("*.pyc"):
                added[pyc.relative_to(root).as_posix()] = pyc.read_bytes()
    compiled = sum(1 for name in added if name.endswith(".pyc"))
    fresh = archive.with_suffix(".tmp")
    with zipfile.ZipFile(fresh, "w", zipfile.ZIP_DEFLATED) as new:
        for info, data in entries:
            new.writestr(info, data)
        for name in sorted(added):
            info = zipfile.ZipInfo(name, date_time=template.date_time)
            info.external_attr, info.compress_type = template.external_attr, zipfile.ZIP_DEFLATED
            new.writestr(info, added[name])
    fresh.replace(archive)
    return compiled


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="the folder `chalice package` wrote (deployment.zip, sam.json)")
    args = parser.parse_args(argv)
    template = json.loads((args.out / "sam.json").read_text(encoding="utf-8"))
    built = build_app_answers(page_routes(template))
    source = module_source(built)
    runtime = template["Resources"]["APIHandler"]["Properties"]["Runtime"]
    here = f"python{sys.version_info.major}.{sys.version_info.minor}"
    compiled = add_to_zip(args.out / "deployment.zip", {RESPONSES_MODULE: source.encode()}, bytecode=runtime == here)
    print(f"prebuilt {len(built.answers)} answers ({len(built.responses)} distinct responses, "
          f"{len(source) // 1024} KB) on {len(built.routes)} routes, stage prefixes {built.bases}")
    if built.live:
        print(f"  answered live (not prebuilt): {', '.join(built.live)}")
    if compiled:
        print(f"  bytecode for {runtime}: {compiled} modules")
    else:
        print(f"  no bytecode: this is {here}, the functions run {runtime} (cold starts compile every module)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
