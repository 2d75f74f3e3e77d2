"""`notis lookup ADDRESS|CODE`: support on the phone finds every e-mail sent to one caller, and nobody else's."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
import yaml
from followups_helpers import SLUG, T0, drain, hours, key_of, store, tick
from sending_helpers import FakeClock, run_send_queue

from chalicelib.aws import client
from chalicelib.campaigns.importer import Importer
from chalicelib.campaigns.uploads import Upload
from chalicelib.content.loader import load_incidents
from chalicelib.sending.ledger import Ledger
from chalicelib.web import CONTENT_DIR
from notis_cli.commands import lookup as lookup_command
from notis_cli.main import main

CUSTOMERS = b"Namn;E-post\r\nAnna;anna@example.se\r\nBo;bo@example.se\r\nCecilia;cecilia@example.se\r\n"
# Anna again, typed differently by the driving schools' export: the same person (the same normalised address)
SCHOOLS = b"Namn;E-post\r\nTrafikskolan Anna;  Anna@EXAMPLE.se \r\nSkolan;skola@example.se\r\n"


def _content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The demo incident with a reminder for customers after 72 h and an update notice to both audiences."""
    doc = yaml.safe_load((CONTENT_DIR / SLUG / "incident.yaml").read_text(encoding="utf-8"))
    doc["followups"] = [{"id": "paminnelse", "audience": "customers", "template": "reminder",
                         "after_first_send_hours": 72, "not_after_hours": 24}]
    doc["updates"].append({"id": "ny-info", "at": (T0 + hours(48)).isoformat(), "status": "monitoring",
                           "text": {"sv": "Ny information.", "en": "New information."},
                           "notify": ["customers", "schools"]})
    folder = tmp_path / "incidents" / SLUG
    folder.mkdir(parents=True)
    (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("NOTIS_CONTENT_DIR", str(tmp_path / "incidents"))
    [incident] = load_incidents(tmp_path / "incidents")
    return incident


def _import_and_send(aws: dict, inc, audience: str, body: bytes, at) -> str:
    key = f"uploads/{inc.slug}/{audience}/{audience}.csv"
    s3 = client("s3")
    put = s3.put_object(Bucket=aws["bucket"], Key=key, Body=body, ServerSideEncryption="aws:kms")
    importer = Importer(s3=s3, sqs=client("sqs"), store=store(aws), settings=aws["settings"],
                        incidents={inc.slug: inc}, clock=lambda: at)
    campaign = importer.upload(Upload(aws["bucket"], key, put.get("VersionId", ""), put["ETag"], len(body)))
    drain(aws, aws["settings"].import_queue)  # S3's own notification: imported already, here
    run_send_queue(aws, aws["settings"], FakeClock(start=at.timestamp() + 60))
    return str(campaign["campaign"])


@pytest.fixture
def sent(aws, tmp_path, monkeypatch) -> dict:
    """Two campaigns (customers, schools), an update notice to both, a follow-up to customers: all sent."""
    inc = _content(tmp_path, monkeypatch)
    customers = _import_and_send(aws, inc, "customers", CUSTOMERS, T0)
    schools = _import_and_send(aws, inc, "schools", SCHOOLS, T0 + hours(1))
    for at in (T0 + hours(48.5), T0 + hours(72.1)):
        tick(aws, inc, at)
        run_send_queue(aws, aws["settings"], FakeClock(start=at.timestamp() + 60))
    return {"customers": customers, "schools": schools}


def _entries_of(aws: dict, email: str) -> dict[str, dict]:
    """The ledger's own entries for this person, by send id (what the lookup must find, found another way)."""
    ledger, key = Ledger(client("dynamodb"), aws["settings"].table), key_of(aws, email)
    found = {}
    for kind in ("customers.notice", "schools.notice", "customers.u-ny-info", "schools.u-ny-info",
                 "customers.f-paminnelse"):
        entry = ledger.get(f"{SLUG}.{kind}", key)
        if entry:
            found[f"{SLUG}.{kind}"] = entry
    return found


def _lookup_json(capsys, who: str) -> dict:
    capsys.readouterr()
    assert main(["lookup", who, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_lookup_by_address_finds_every_notice_to_that_person_and_nothing_of_others(aws, sent, capsys):
    anna = _entries_of(aws, "anna@example.se")
    assert len(anna) == 5, "the setup mailed Anna five times: two notices, two update notices, one follow-up"
    doc = _lookup_json(capsys, "anna@example.se")
    assert doc["found"] == 5 and doc["query"] == {"address": "anna@example.se"}
    assert {n["send_id"] for n in doc["notices"]} == set(anna)
    assert {n["message_id"] for n in doc["notices"]} == {e["message_id"] for e in anna.values()}
    assert {n["reference"] for n in doc["notices"]} == {e["reference"] for e in anna.values()}
    by_send = {n["send_id"]: n for n in doc["notices"]}
    assert by_send[f"{SLUG}.customers.notice"]["campaign"] == sent["customers"]
    assert by_send[f"{SLUG}.schools.u-ny-info"]["campaign"] == sent["schools"]
    assert sorted(n["kind"] for n in doc["notices"]) == ["first notice", "first notice", "follow-up",
                                                           "update notice", "update notice"]
    assert all(n["sent_at"] and n["claimed_at"] and n["state"] == "sent" for n in doc["notices"])
    assert not any(n["letter_needed"] for n in doc["notices"])

    others = {m for who in ("bo@example.se", "cecilia@example.se", "skola@example.se")
              for m in (e["message_id"] for e in _entries_of(aws, who).values())}
    assert others and not others & {n["message_id"] for n in doc["notices"]}

    bo = _lookup_json(capsys, "  BO@example.SE ")  # as typed on the phone: case and spaces do not matter
    assert sorted(n["send_id"] for n in bo["notices"]) == sorted(_entries_of(aws, "bo@example.se"))
    assert len(bo["notices"]) == 3 and not any(".schools." in n["send_id"] for n in bo["notices"])

    assert main(["lookup", "nobody@example.se"]) == 0
    out = capsys.readouterr().out
    assert "nobody@example.se: no e-mail from us found." in out
    # someone whose address in the file was missing or not valid got a letter: its code finds it
    assert "missing or not valid" in out and "got a letter instead" in out and "notis lookup CODE" in out
    nobody = _lookup_json(capsys, "nobody@example.se")
    assert nobody["found"] == 0 and "notis lookup CODE" in nobody["hint"]
    assert "hint" not in bo, "only when nothing was found"


def test_the_text_fits_a_phone_call_and_names_the_address_only_because_it_was_typed(aws, sent, capsys):
    assert main(["lookup", "anna@example.se"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("anna@example.se: 5 e-mail(s) from us, in 2 campaigns.")
    assert len(out.splitlines()) <= 30, "one screen"
    for words in ("First notice, korkortsportalen-2024 / customers", "Update notice ny-info", "Follow-up paminnelse",
                  "accepted by SES (no delivery report yet)", "Letter needed: no", "Reference code ",
                  "SES message id "):
        assert words in out
    # In the caller's time, as their mail shows it: sent at 09:01 UTC on 1 March is 10:01 in Sweden (CET).
    assert re.search(r"Sent 2024-03-01 10:0\d Swedish time", out), out
    for other in ("bo@example.se", "cecilia@example.se", "skola@example.se"):
        assert other not in out


def test_a_lookup_by_code_finds_the_same_notices_and_never_prints_an_address(aws, sent, capsys, monkeypatch):
    monkeypatch.setattr(lookup_command, "now", lambda: (T0 + hours(80)).timestamp())  # within the retention
    anna = _entries_of(aws, "anna@example.se")
    first = anna[f"{SLUG}.schools.notice"]
    code = first["reference"]
    bo = _entries_of(aws, "bo@example.se")[f"{SLUG}.customers.notice"]

    typed = code.lower().replace("-", " ")  # read out over the phone
    doc = _lookup_json(capsys, typed)
    assert doc["query"] == {"code": code} and doc["found"] == 5
    assert {n["send_id"] for n in doc["notices"]} == set(anna)
    assert main(["lookup", code]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"The person with reference code {code}: 5 e-mail(s) from us")
    assert "@" not in out
    bo_doc = _lookup_json(capsys, bo["reference"])  # another caller's code finds theirs, none of Anna's
    assert bo_doc["found"] >= 1 and bo["reference"] in {n["reference"] for n in bo_doc["notices"]}
    assert {n["reference"] for n in bo_doc["notices"]}.isdisjoint({n["reference"] for n in doc["notices"]})

    assert main(["lookup", "K7QX-2M9D-PA4T4"]) == 0  # looked up: no message of ours carries it
    assert "no e-mail or letter from us carries this code" in capsys.readouterr().out


def test_a_code_typed_unquoted_as_several_words_is_one_code(aws, sent, capsys, monkeypatch):
    monkeypatch.setattr(lookup_command, "now", lambda: (T0 + hours(80)).timestamp())
    code = _entries_of(aws, "anna@example.se")[f"{SLUG}.customers.notice"]["reference"]
    capsys.readouterr()
    assert main(["lookup", *code.lower().split("-")]) == 0  # notis lookup k7qx 2m9d pa4t4
    assert capsys.readouterr().out.startswith(f"The person with reference code {code}: 5 e-mail(s) from us")
    assert main(["lookup", *code.split("-"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["query"] == {"code": code}


@pytest.mark.parametrize(("typed", "words"), [
    (["K7QX", "2M9D", "PAOT"], "the letter O is never used in our codes"),
    (["AB12", "CD34", "EF56"], "the digit 1 is never used in our codes"),
    (["K7QX-2M9D-PA0T"], "the digit 0 is never used"),
    (["K7QX-2M9D-PA4"], "it has 11 letters and digits; a code has 13"),
    (["K7QX-2M9D-PA#T4"], "'#' is never used in our codes: a code has only letters and the digits 2 to 9"),
    (["K7QX-2M9D-PA4T5"], "one character is misread or two are swapped"),
    (["K7QX-2M9D-AP4T4"], "one character is misread or two are swapped"),
])
def test_a_code_that_cannot_be_ours_names_what_is_wrong(aws, capsys, typed, words):
    assert main(["lookup", *typed]) == 2
    err = capsys.readouterr().err
    assert err.startswith("notis: not a reference code: ") and words in err, err
    assert "Traceback" not in err and "not found" not in err


def test_no_e_mail_for_an_address_and_an_unknown_code_exit_alike_and_help_says_how(aws, sent, capsys):
    from notis_cli.main import build_parser

    capsys.readouterr()
    assert main(["lookup", "nobody@example.se"]) == 0
    assert main(["lookup", "K7QX-2M9D-PA4T4"]) == 0
    assert main(["lookup", "K7QX-2M9D-PA4T4", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{\n"):])["known_code"] is False
    assert main(["lookup", "K7QX-2M9D"]) == 2
    assert main(["lookup", "anna@"]) == 2
    lookup_parser = build_parser()._subparsers._group_actions[0].choices["lookup"]
    text = lookup_parser.format_help()
    assert "exit status:" in text and "0  looked up" in text and "2  what was typed" in text


def test_a_bounce_says_a_letter_is_needed(aws, sent, capsys):
    from sending_helpers import ses_event

    from chalicelib.handlers import handle_ses_event

    entry = _entries_of(aws, "cecilia@example.se")[f"{SLUG}.customers.notice"]
    handle_ses_event(ses_event("Bounce", f"{SLUG}.customers.notice", key_of(aws, "cecilia@example.se"),
                               entry["message_id"], bounce={"bounceType": "Permanent"}), aws["settings"])
    capsys.readouterr()
    assert main(["lookup", "cecilia@example.se"]) == 0
    out = capsys.readouterr().out
    assert "bounced: the mail server refused it (Permanent)" in out
    assert (f"Letter needed: yes, e-mail bounced (Permanent) (notis letters {sent['customers']} --pdf FILE, then "
            "--mark-posted).") in out
    assert "No more e-mail goes to this person: a bounce was recorded." in out


@pytest.mark.parametrize("typed", ["", "not an address", "anna@", "12345"])
def test_what_is_neither_an_address_nor_a_code_gets_a_clear_answer(aws, capsys, typed):
    assert main(["lookup", typed]) == 2
    err = capsys.readouterr().err
    assert err.startswith("notis: ") and "Traceback" not in err


def test_piped_into_head_it_stops_quietly(aws, sent, monkeypatch, capsys):
    class Head(io.StringIO):
        """A pipe whose reader (`head -1`) went away after the first line."""

        def write(self, text: str) -> int:
            if "\n" in self.getvalue():
                raise BrokenPipeError
            return super().write(text)

    monkeypatch.setattr("sys.stdout", Head())
    assert main(["lookup", "anna@example.se"]) == 141
    assert "Traceback" not in capsys.readouterr().err


def test_the_lookup_needs_no_new_permission_and_leaves_no_trace(aws, sent, capsys):
    """Reading only: nothing new is written to the table (no address, no key, no record of the lookup)."""
    ddb = client("dynamodb")
    before = ddb.scan(TableName=aws["settings"].table)["Items"]
    assert main(["lookup", "anna@example.se"]) == 0
    assert ddb.scan(TableName=aws["settings"].table)["Items"] == before


@pytest.mark.parametrize("typed", ["henrik.dahl(at)example.se", "henrik.dahl [at] example.se", "h.d(snabel-a)ex.se"])
def test_an_address_with_its_at_spelled_out_is_named_as_one(aws, capsys, typed):
    assert main(["lookup", *typed.split()]) == 2
    err = capsys.readouterr().err
    assert "looks like an e-mail address with its @ written out" in err and "not a reference code" not in err
