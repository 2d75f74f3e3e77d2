"""The verify function: API Gateway proxy events for `/verify` and `/api/verify/{code}` -> the answer.

Its own Lambda function (app.py, `@app.lambda_function(name="verify")`), so the page function stays free of
AWS: this one may read `code#*` items of the table and nothing else (.chalice/resources.json, VerifyRole).

Hit and miss take the same path: a malformed code (a typo the check symbol caught, a character never in a code,
the wrong length) and the page's example code still cost one GetItem (of a key that cannot exist), every answer
is rendered through the same template and counted with the same metric call (VerifyMiss 0 or 1: 1 for every
answer that is not genuine), and the whole answer is padded to at least `floor` seconds. What is wrong with a
code is judged from the typed text alone (chalicelib/mail/reference.py, parse_reference), never from records.
Nothing here logs, stores or counts the code or the address that asked; answers are `no-store`, so no cache
keeps them either.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from chalicelib.mail.reference import GROUP_SIZES, LENGTH, Parsed, parse_reference
from chalicelib.verify.answer import EXAMPLE, Answer, answer, code_to_read
from chalicelib.verify.page import any_left_out, any_other_alphabet, contact_points, name_characters
from chalicelib.web.http import PERMISSIONS_POLICY, base_path
from chalicelib.web.negotiate import choose_language
from chalicelib.web.strings import STRINGS, format_date

log = logging.getLogger("notis.verify")  # never the code, never the address: only what went wrong
METRICS_NAMESPACE = "Notis"
POWERTOOLS_SERVICE = "notis-verify"  # the VerifyMissSpikeAlarm in .chalice/resources.json reads this dimension
MISS_METRIC = "VerifyMiss"
FLOOR_SECONDS = 0.15  # every answer with a code takes at least this long: far above a GetItem's spread
MAX_TYPED = 64  # a code is 13 symbols (a label pasted with it fits); what is longer is cut before it is looked at
API_ROUTE = "/api/verify/{code}"
PAGE_ROUTE = "/verify"
ROUTES = (PAGE_ROUTE, API_ROUTE)


def handle_verify(
    event: dict[str, Any],
    *,
    site: Any,
    book: Any,
    now: Callable[[], float] = time.time,
    clock: Callable[[], float] = time.perf_counter,
    sleep: Callable[[float], None] = time.sleep,
    floor: float | None = None,
    count: Callable[[bool], None] | None = None,
) -> dict[str, Any]:
    """One request: the form, or the answer for a typed code (page or JSON). `book` is a CodeBook."""
    started = clock()
    query, lang, base = _basics(event)
    route = event.get("resource") or (event.get("requestContext") or {}).get("resourcePath") or PAGE_ROUTE
    api = route == API_ROUTE
    typed = _path_code(event) if api else query.get("code")
    if not api and (typed is None or not typed.strip()):  # the form; after an empty submit, how to fill it in
        return _response(event, site, 200, render_page(site, lang, base, typed="", result=None,
                                                       empty=typed is not None), lang)
    parsed = parse_reference(str(typed)[:MAX_TYPED])
    try:
        record = book.read(code_to_read(parsed), now=now())
    except Exception as exc:  # DynamoDB throttled or down: say so plainly, never "not from us"
        log.error("code lookup failed", extra={"error": type(exc).__name__})
        return _unavailable(event, site, lang, base, api=api)
    result = answer(parsed, record, {i.slug: i.title.in_lang(lang) for i in site.incidents})
    (count or count_miss)(not result.genuine)
    if api:
        body, content_type = json.dumps(result.as_json(), ensure_ascii=False), "application/json; charset=utf-8"
    else:
        body = render_page(site, lang, base, typed=str(typed)[:MAX_TYPED], result=result, parsed=parsed)
        content_type = None
    _pad(started, FLOOR_SECONDS if floor is None else floor, clock, sleep)
    return _response(event, site, 200, body, lang, content_type=content_type, api=api)


def too_many(event: dict[str, Any], site: Any) -> dict[str, Any]:
    """429 for a client over its limit (the local server's; API Gateway answers its own 429 in AWS)."""
    _, lang, base = _basics(event)
    response = _response(event, site, 429, render_page(site, lang, base, typed="", result=None, busy="busy"), lang)
    response["headers"]["Retry-After"] = "10"
    return response


def _unavailable(event: dict[str, Any], site: Any, lang: str, base: str, *, api: bool) -> dict[str, Any]:
    """503 when the records cannot be read: the reader is told to try later, and how to be careful meanwhile."""
    if api:
        body = json.dumps({"error": {"code": "unavailable", "message": STRINGS[lang]["verify_down_text"]}},
                          ensure_ascii=False)
        response = _response(event, site, 503, body, lang, content_type="application/json; charset=utf-8", api=True)
    else:
        response = _response(event, site, 503, render_page(site, lang, base, typed="", result=None, busy="down"),
                             lang)
    response["headers"]["Retry-After"] = "60"
    return response


def _basics(event: dict[str, Any]) -> tuple[dict[str, str], str, str]:
    """(query, language, base path) of a proxy event."""
    query = _query(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    lang = choose_language(query.get("lang"), headers.get("accept-language"))
    context = event.get("requestContext") or {}
    return query, lang, base_path(str(context.get("path", "")), str(event.get("path", "")), headers)


def render_page(site: Any, lang: str, base: str, *, typed: str, result: Answer | None, busy: str = "",
                empty: bool = False, parsed: Parsed | None = None) -> str:
    """The form, with the answer's verdict above it when there is one, so the code can be corrected at once;
    then, for a code that is not ours, what to do, and whom to call (the contact point from the content)."""
    from datetime import date

    other = "en" if lang == "sv" else "sv"
    contacts = sorted({i.organisation.contact.email for i in site.incidents if i.organisation.contact.email})
    sent_on = format_date(date.fromisoformat(result.sent_on), lang) if result and result.sent_on else ""
    wrong = parsed.wrong if parsed else ()
    return site.env.get_template("page/verify.html").render(
        lang=lang, other=other, s=STRINGS[lang], base=base, css=site.css, typed=typed, result=result,
        sent_on=sent_on, contacts=contacts, busy=busy, empty=empty, org=_site_name(site),
        example=EXAMPLE, length=LENGTH, shape=_shape(lang), read=parsed.read if parsed else "",
        found=parsed.found if parsed else 0, wrong_named=name_characters(wrong, lang) if wrong else "",
        left_out=any_left_out(wrong), other_alphabet=any_other_alphabet(wrong),
        reach=contact_points(site.incidents, lang, result.incident if result and result.genuine else None)
        if result else [],
    )


def _shape(lang: str) -> str:
    """`4, 4 och 5`: the groups of a printed code, from reference.GROUP_SIZES."""
    sizes = [str(n) for n in GROUP_SIZES]
    return ", ".join(sizes[:-1]) + STRINGS[lang]["verify_and"] + sizes[-1]


def count_miss(missed: bool) -> None:
    """VerifyMiss (0 or 1) as an EMF line: the same call for a hit and a miss, so it costs the same."""
    from aws_lambda_powertools import Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    metrics = Metrics(namespace=METRICS_NAMESPACE, service=POWERTOOLS_SERVICE)
    metrics.add_metric(name=MISS_METRIC, unit=MetricUnit.Count, value=1 if missed else 0)
    metrics.flush_metrics()


def _site_name(site: Any) -> str:
    names = sorted({i.organisation.name for i in site.incidents})
    return ", ".join(names) if names else "notis"


def _path_code(event: dict[str, Any]) -> str:
    """The `{code}` path parameter, percent-decoded (`K7QX%202M9D%20PA4T` is `K7QX 2M9D PA4T`). REST API proxy
    events pass path parameters as the client encoded them, for some characters at least (aws/chalice#511, which
    Chalice leaves to the app), and the local gateway passes them raw: decoding here makes both the same. A code
    never holds `%`, so a value API Gateway already decoded is unchanged by decoding it again."""
    from urllib.parse import unquote

    return unquote(str((event.get("pathParameters") or {}).get("code") or "")[:MAX_TYPED * 3])


def _query(event: dict[str, Any]) -> dict[str, str]:
    """Query parameters from a REST proxy event (single or multi-value form; the first value of each)."""
    multi = event.get("multiValueQueryStringParameters") or {}
    single = event.get("queryStringParameters") or {}
    out = {k: v[0] for k, v in multi.items() if isinstance(v, list) and v and isinstance(v[0], str)}
    out.update({k: v for k, v in single.items() if isinstance(v, str) and k not in out})
    return out


def _pad(started: float, floor: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
    left = floor - (clock() - started)
    if left > 0:
        sleep(left)


def _response(event: dict[str, Any], site: Any, status: int, body: str, lang: str, *,
              content_type: str | None = None, api: bool = False) -> dict[str, Any]:
    style = site.style_hash
    headers = {
        "Content-Type": content_type or "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Language": lang,
        "Vary": "Accept-Language",
        # The page's own rules (chalicelib/web/http.py), except that this page's form may submit to itself.
        "Content-Security-Policy": (
            f"default-src 'none'; style-src '{style}'; img-src 'self'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the address holds the code: never pass it on to another site
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
        "X-Robots-Tag": "noindex",
    }
    if api:
        headers["Access-Control-Allow-Origin"] = "*"
    head = str(event.get("httpMethod", "GET")).upper() == "HEAD"
    return {"statusCode": status, "headers": headers, "body": "" if head else body}
