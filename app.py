"""notis: routes and event handlers, glue only. The logic lives in chalicelib/.

The page routes import nothing from AWS (cold start); event handlers import their modules when first called.
"""

from __future__ import annotations

import os

from chalice import Chalice, Rate, Response

from chalicelib import logs, web
from chalicelib.config import load_settings
from chalicelib.content.loader import ContentError

app = Chalice(app_name="notis")
if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:  # chalice local, the local stack, tests: `{proxy+}` as in AWS
    from chalicelib.web import localgateway

    localgateway.install()
logs.configure(app.log)  # JSON lines at INFO (Chalice's default is ERROR); `notis.*` loggers propagate here
settings = load_settings()
try:
    site = web.load_site()
except ContentError as exc:  # refuse to start with the readable list, never a template traceback
    raise SystemExit(f"notis cannot start: {exc}") from None


def _respond(page: web.Page) -> Response:
    return Response(body=page.body, status_code=page.status, headers=page.headers)


def _request() -> web.Request:
    req = app.current_request
    headers = {k.lower(): v for k, v in (req.headers or {}).items()}
    return web.Request(
        query=req.query_params or {},
        headers=headers,
        base=web.base_path(req.context.get("path", ""), req.to_original_event().get("path", ""), headers),
    )


@app.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    return _respond(site.home(_request()))


@app.route("/incidents/{slug}", methods=["GET", "HEAD"])
def incident_page(slug: str) -> Response:
    return _respond(site.incident(_request(), slug))


@app.route("/api/incidents", methods=["GET", "HEAD"], cors=True)
def api_incidents() -> Response:
    return _respond(site.api_list(_request()))


@app.route("/api/incidents/{slug}", methods=["GET", "HEAD"], cors=True)
def api_incident(slug: str) -> Response:
    return _respond(site.api_incident(_request(), slug))


@app.route("/api/incidents/{slug}/faq", methods=["GET", "HEAD"], cors=True)
def api_faq(slug: str) -> Response:
    return _respond(site.api_faq(_request(), slug))


@app.route("/api/v2/summary.json", methods=["GET", "HEAD"], cors=True)
def api_summary() -> Response:
    return _respond(site.summary(_request()))


@app.route("/api/v2/status.json", methods=["GET", "HEAD"], cors=True)
def api_status() -> Response:
    return _respond(site.statuspage(_request(), "status"))


@app.route("/api/v2/components.json", methods=["GET", "HEAD"], cors=True)
def api_components() -> Response:
    return _respond(site.statuspage(_request(), "components"))


@app.route("/api/v2/incidents.json", methods=["GET", "HEAD"], cors=True)
def api_statuspage_incidents() -> Response:
    return _respond(site.statuspage(_request(), "incidents"))


@app.route("/api/v2/incidents/unresolved.json", methods=["GET", "HEAD"], cors=True)
def api_unresolved() -> Response:
    return _respond(site.statuspage(_request(), "incidents/unresolved"))


@app.route("/api/v2/scheduled-maintenances.json", methods=["GET", "HEAD"], cors=True)
def api_maintenances() -> Response:
    return _respond(site.statuspage(_request(), "scheduled-maintenances"))


@app.route("/api/v2/scheduled-maintenances/upcoming.json", methods=["GET", "HEAD"], cors=True)
def api_maintenances_upcoming() -> Response:
    return _respond(site.statuspage(_request(), "scheduled-maintenances/upcoming"))


@app.route("/api/v2/scheduled-maintenances/active.json", methods=["GET", "HEAD"], cors=True)
def api_maintenances_active() -> Response:
    return _respond(site.statuspage(_request(), "scheduled-maintenances/active"))


@app.route("/badge.svg", methods=["GET", "HEAD"], cors=True)
def status_badge() -> Response:
    """A small SVG other sites can embed: the organisation and the state in words."""
    return _respond(site.badge(_request()))


@app.route("/feed.atom", methods=["GET", "HEAD"])
def feed() -> Response:
    return _respond(site.feed(_request()))


@app.route("/style.css", methods=["GET", "HEAD"])
def stylesheet() -> Response:
    return _respond(site.stylesheet(_request()))


@app.route("/favicon.ico", methods=["GET", "HEAD"])
def favicon() -> Response:
    """Browsers ask on every first visit; answer with nothing (cached) rather than the 404 page."""
    return _respond(site.favicon(_request()))


@app.route("/{proxy+}", methods=["GET", "HEAD"])
def not_found() -> Response:
    """Unknown paths get a real 404 page, not API Gateway's 403."""
    return _respond(site.not_found(_request()))


@app.lambda_function(name="verify")
def verify(event: dict, context: object = None) -> dict:
    """`/verify` and `/api/verify/{code}`: its own function, the one with read access to code records (API Gateway
    routes them here in .chalice/resources.json; the local gateway does the same); the page function stays AWS-free."""
    from chalicelib.verify.handler import handle_verify

    return handle_verify(event, site=site, book=_code_book())


def _code_book():
    from chalicelib import aws
    from chalicelib.verify.codes import CodeBook

    return CodeBook(aws.client("dynamodb"), settings.table)


if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
    from chalicelib.verify.handler import ROUTES, too_many

    localgateway.serve_function(ROUTES, verify, too_many=lambda event: too_many(event, site))


@app.on_sqs_message(queue=settings.import_queue, batch_size=1, maximum_concurrency=2)
def import_recipients(event) -> dict:
    """S3 upload notification -> validated, deduplicated recipients on the send queue."""
    from chalicelib.campaigns.handler import handle_import

    return handle_import(event.to_dict(), settings)


# Deployed, the batch size and concurrency are the SendBatchSize and SendConcurrency parameters (resources.json).
@app.on_sqs_message(queue=settings.send_queue, batch_size=10, maximum_concurrency=settings.send_concurrency)
def send_notifications(event) -> dict:
    """Chunks of recipients -> one e-mail each through SES, exactly once, at the account's rate."""
    from chalicelib.handlers import handle_send

    return handle_send(event.to_dict(), settings, remaining_ms=event.context.get_remaining_time_in_millis)


@app.on_cw_event({"source": ["aws.ses"]})
def ses_events(event) -> None:
    """SES delivery, bounce, complaint, reject and delay events -> ledger."""
    from chalicelib.handlers import handle_ses_event

    handle_ses_event(event.to_dict(), settings)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def tick(event) -> dict:
    """Due follow-ups, update notices, stale claims, retention purge, daily digest."""
    from chalicelib.followups.handler import handle_tick

    return handle_tick(settings)
