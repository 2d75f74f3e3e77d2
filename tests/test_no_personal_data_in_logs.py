"""A whole run, from upload to follow-up, logs nothing that identifies a person.

The logs are captured as production writes them (the app's JSON logger at DEBUG here, stricter than the
deployed INFO; Powertools' logger; everything reaching the root logger at INFO), plus the staff commands'
output except `notis letters`, whose job is to list names and addresses. Then every input's e-mail address,
name, personnummer (with and without its dash) and phone number is searched for.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.aws import client
from chalicelib.campaigns.handler import handle_import
from chalicelib.followups.handler import handle_tick
from chalicelib.handlers import handle_send, handle_ses_event
from notis_cli.main import main
from tests.queue_helpers import deliver
from tests.sending_helpers import moto_sent, ses_event

PEOPLE = [
    # name, personnummer, e-mail, phone
    ("Astrid Lindqvist", "19850101-0022", "astrid.lindqvist@example.se", "070-123 45 01"),
    ("Björn Åkesson", "20100202-0038", "bjorn.akesson@example.com", "+46 70 123 45 02"),
    ("Björn Åkesson Junior", "19700303-0041", "BJORN.AKESSON@example.com", "0701234503"),
    ("Cecilia Öberg", "19600404-0058", "not-an-address", "08-123 45 04"),
    ("Dag Ärlig", "19600404-0058", "", "031-12 34 05"),
    ("<script>alert('Eva')</script>", "19850101-0022", "eva.bounce@example.org", "070-123 45 06"),
] + [(f"Fredrika Nummer{i}", "19850101-0022", f"fredrika.{i}@example.se", f"070-555 00 {i:02d}") for i in range(10)]


def secrets_of(people) -> list[str]:
    found = []
    for name, pnr, email, phone in people:
        found += [name, pnr, pnr.replace("-", ""), phone]
        if email:
            found += [email, email.lower(), email.split("@")[0]]
    return [s for s in found if len(s) >= 6]


class EverythingFormatter(logging.Formatter):
    """The message and every attribute of the record (extra fields included), exception text too."""

    def format(self, record: logging.LogRecord) -> str:
        trace = self.formatException(record.exc_info) if record.exc_info else ""
        return f"{record.getMessage()} {vars(record)} {trace}"


@pytest.fixture
def captured_logs():
    import app  # noqa: F401 (configures the app's JSON logger, which `notis.*` loggers propagate to)

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(EverythingFormatter())
    notis = logging.getLogger("notis")
    old_level = notis.level
    notis.setLevel(logging.DEBUG)
    watched = [notis, logging.getLogger(), logging.getLogger("notis-sender")]
    for logger in watched:
        logger.addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    yield stream
    for logger in watched:
        logger.removeHandler(handler)
    notis.setLevel(old_level)


def test_a_full_run_logs_no_personal_data(aws, captured_logs, capfd):
    settings = aws["settings"]
    rows = "".join(f"{n};{p};{e};{t}\r\n" for n, p, e, t in PEOPLE)
    body = ("Namn;Personnummer;E-post;Telefon\r\n" + rows).encode("cp1252", errors="replace")
    client("s3").put_object(Bucket=aws["bucket"], Key="uploads/korkortsportalen-2024/customers/lista.csv",
                            Body=body, ServerSideEncryption="aws:kms")

    def drain(queue: str, handler) -> None:
        deliver(aws["queues"][queue], lambda event: handler(event, settings))

    drain(settings.import_queue, handle_import)
    drain(settings.send_queue, handle_send)
    sent = moto_sent()
    assert len(sent) == 13, "astrid, bjorn (two people), eva, ten more"

    from chalicelib.recipients import recipient_key
    from chalicelib.sending.ledger import Ledger

    ledger = Ledger(client("dynamodb"), settings.table)
    send_id = "korkortsportalen-2024.customers.notice"
    for entry in ledger.entries(send_id):
        kind = "Bounce" if entry["key"] == recipient_key("eva.bounce@example.org", settings.hmac_key) else "Delivery"
        extra = {"bounce": {"bounceType": "Permanent", "bouncedRecipients": [
            {"emailAddress": "eva.bounce@example.org", "diagnosticCode": "smtp; 550 eva.bounce@example.org unknown"}]}}
        handle_ses_event(ses_event(kind, send_id, entry["key"], entry.get("message_id", "m"),
                                   **(extra if kind == "Bounce" else {})), settings)
    later = datetime.now(UTC) + timedelta(days=15)
    handle_tick(settings, now=later)
    handle_tick(settings, now=later + timedelta(days=100))
    campaign = next(c for c in __import__("chalicelib.campaigns.store", fromlist=["x"]).CampaignStore(
        client("dynamodb"), settings.table).list())["campaign"]
    for command in (["status"], ["status", campaign], ["evidence", campaign], ["evidence", campaign, "--json"],
                    ["followups"], ["audit"], ["audit", campaign, "--json"]):
        assert main(command) == 0, command

    out, err = capfd.readouterr()
    everything = captured_logs.getvalue() + out + err
    assert "campaign queued" in everything, "the logs were really captured"
    leaks = [s for s in secrets_of(PEOPLE) if s.lower() in everything.lower()]
    assert leaks == []


def stored_everywhere(aws) -> str:
    """Every item of the table and every object notis wrote under reports/ (the ledger, records, reports)."""
    db = client("dynamodb")
    items, kwargs = [], {"TableName": aws["settings"].table}
    while True:
        page = db.scan(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    s3 = client("s3")
    reports = [s3.get_object(Bucket=aws["bucket"], Key=o["Key"])["Body"].read().decode("utf-8", "replace")
               for o in s3.list_objects_v2(Bucket=aws["bucket"], Prefix="reports/").get("Contents", [])]
    assert items and reports, "nothing was stored: the search would prove nothing"
    return repr(items) + "\n".join(reports)


class HostileSES:
    """SES answering with errors that quote the address, as real SES messages can; some calls time out."""

    def __init__(self, real):
        self.real = real

    def send_email(self, **kw):
        from botocore.exceptions import ClientError, ReadTimeoutError

        to = kw["Destination"]["ToAddresses"][0]
        if to.startswith("astrid"):
            raise ClientError({"Error": {"Code": "BadRequestException", "Message": f"Illegal address: {to}"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendEmail")
        if to.startswith("fredrika.3"):
            raise ClientError({"Error": {"Code": "MessageRejected", "Message": f"Rejected {to} (Fredrika)"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "SendEmail")
        if to.startswith("fredrika.4"):
            raise ReadTimeoutError(endpoint_url=f"https://email/{to}")
        return self.real.send_email(**kw)


def test_the_error_paths_log_and_store_no_personal_data(aws, captured_logs, capfd, monkeypatch):
    """SES errors quoting addresses, a renderer that fails with a name in its message, unusable files, an
    import for an incident that does not exist, a failing tick step, an exception nobody expected: the logs,
    the staff commands, the ledger, the campaign records and the S3 reports name no one."""
    from chalicelib.sending import render as render_module

    settings = aws["settings"]
    s3 = client("s3")
    rows = "".join(f"{n};{p};{e};{t}\r\n" for n, p, e, t in PEOPLE)
    good = ("Namn;Personnummer;E-post;Telefon\r\n" + rows).encode("utf-8-sig")
    no_email_column = ("Namn;Personnummer;Telefon\r\n" + "".join(
        f"{n};{p};{t}\r\n" for n, p, _, t in PEOPLE)).encode("utf-8")
    for key, body in [
        ("uploads/korkortsportalen-2024/customers/lista.csv", good),
        ("uploads/korkortsportalen-2024/customers/utan-epost.csv", no_email_column),
        ("uploads/korkortsportalen-2024/customers/kalkyl.xlsx.csv", b"PK\x03\x04" + good),
        ("uploads/finns-inte-2099/customers/lista.csv", good),  # an incident that is not published
    ]:
        s3.put_object(Bucket=aws["bucket"], Key=key, Body=body, ServerSideEncryption="aws:kms")

    real_renderer = render_module.mail_renderer

    def renderer_failing_for_cecilia_and_dag(**kwargs):
        real = real_renderer(**kwargs)

        def render(job, r, reference):
            if r.email.startswith("fredrika.5"):
                raise KeyError(f"no template for {r.names} <{r.email}>")  # a bug that quotes the person
            return real(job, r, reference)

        return render

    monkeypatch.setattr(render_module, "mail_renderer", renderer_failing_for_cecilia_and_dag)

    def drain(queue: str, handler) -> None:
        deliver(aws["queues"][queue], lambda event: handler(event, settings))

    drain(settings.import_queue, handle_import)
    hostile = HostileSES(client("sesv2"))
    deliver(aws["queues"][settings.send_queue], lambda event: handle_send(event, settings, ses=hostile))

    # An exception nobody expected, raised inside the import with personal data in its text.
    from chalicelib.campaigns import importer as importer_module

    def exploding(self, item):
        raise RuntimeError(f"unexpected: {PEOPLE[0][0]} {PEOPLE[0][1]} {PEOPLE[0][2]}")

    monkeypatch.setattr(importer_module.Importer, "handle", exploding)
    s3.put_object(Bucket=aws["bucket"], Key="uploads/korkortsportalen-2024/customers/igen.csv", Body=good,
                  ServerSideEncryption="aws:kms")
    drain(settings.import_queue, handle_import)

    # A tick whose steps fail: the uploads are gone when the follow-up starts (and S3 answers with errors).
    for o in s3.list_object_versions(Bucket=aws["bucket"], Prefix="uploads/").get("Versions", []):
        s3.delete_object(Bucket=aws["bucket"], Key=o["Key"], VersionId=o["VersionId"])
    summary = handle_tick(settings, now=datetime.now(UTC) + timedelta(days=15))
    assert summary["failed"] or summary["errors"], summary

    campaigns = __import__("chalicelib.campaigns.store", fromlist=["x"]).CampaignStore(
        client("dynamodb"), settings.table).list()
    states = sorted(c["state"] for c in campaigns)
    assert "failed" in states and any(s in ("queued", "stopped") for s in states), states
    for c in campaigns:
        for command in (["status", c["campaign"]], ["evidence", c["campaign"], "--json"]):
            main(command)
    assert main(["status"]) == 0

    out, err = capfd.readouterr()
    logged = captured_logs.getvalue() + out + err
    assert "import failed" in logged and "render failed" in logged, "the error paths really ran"
    everything = logged + stored_everywhere(aws)
    leaks = [s for s in secrets_of(PEOPLE) if s.lower() in everything.lower()]
    assert leaks == []
