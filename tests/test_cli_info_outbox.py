"""`notis info`, `notis outbox` and how the CLI finds the local stack (notis_cli.target)."""

from __future__ import annotations

import json
import os
import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from notis_cli import target
from notis_cli.commands import outbox
from notis_cli.main import main

TARGET_VARS = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
               "NOTIS_BUCKET", "NOTIS_TABLE", "NOTIS_IMPORT_QUEUE", "NOTIS_SEND_QUEUE", "AWS_MAX_ATTEMPTS")


@pytest.fixture
def restore_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """use_local_stack_if_running writes os.environ directly: let monkeypatch put every such variable back."""
    for name in TARGET_VARS:
        if name in os.environ:
            monkeypatch.setenv(name, os.environ[name])
        else:
            monkeypatch.delenv(name, raising=False)
    yield monkeypatch
    from chalicelib import aws

    aws.reset_clients()


def _state(path: Path, **fields: Any) -> None:
    state = {"pid": os.getpid(), "endpoint": "http://127.0.0.1:9", "region": "eu-west-3", "account": "111122223333",
             "page": "http://127.0.0.1:8000/", "env": {"NOTIS_BUCKET": "local-bucket"}} | fields
    path.write_text(json.dumps(state), encoding="utf-8")


# -- which AWS -----------------------------------------------------------------------------------------------------


def test_a_running_stack_is_used_with_its_endpoint_region_and_names(restore_env: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    restore_env.setenv(target.STATE_ENV, str(tmp_path / "s.json"))
    restore_env.delenv("AWS_ACCESS_KEY_ID", raising=False)
    _state(tmp_path / "s.json")
    assert target.use_local_stack_if_running() is not None
    assert os.environ["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert os.environ["AWS_REGION"] == os.environ["AWS_DEFAULT_REGION"] == "eu-west-3"
    assert os.environ["NOTIS_BUCKET"] == "local-bucket"
    assert os.environ["AWS_ACCESS_KEY_ID"] == "testing"


@pytest.mark.parametrize("case", ["dead pid", "explicit endpoint", "profile", "garbage file", "no file"])
def test_the_standard_aws_environment_applies_otherwise(restore_env: pytest.MonkeyPatch, tmp_path: Path,
                                                        case: str) -> None:
    path = tmp_path / "s.json"
    restore_env.setenv(target.STATE_ENV, str(path))
    restore_env.delenv("AWS_ENDPOINT_URL", raising=False)
    restore_env.setenv("NOTIS_BUCKET", "real-bucket")
    _state(path, pid=2**22 + 12345 if case == "dead pid" else os.getpid())
    profile = None
    if case == "explicit endpoint":
        restore_env.setenv("AWS_ENDPOINT_URL", "http://elsewhere:4566")
    elif case == "profile":
        profile = "prod"
    elif case == "garbage file":
        path.write_bytes(b"\xff{not json")
    elif case == "no file":
        path.unlink()
    assert target.use_local_stack_if_running(profile=profile) is None
    assert os.environ.get("AWS_ENDPOINT_URL") in (None, "http://elsewhere:4566")
    assert os.environ["NOTIS_BUCKET"] == "real-bucket"


def test_remove_state_leaves_another_stacks_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _state(path, pid=os.getpid())
    target.remove_state(os.getpid() + 1, path)
    assert path.exists()
    target.remove_state(os.getpid(), path)
    assert not path.exists()


# -- notis info ----------------------------------------------------------------------------------------------------


def test_info_json_on_aws_names_the_account_region_and_resources(aws: dict[str, Any],
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    out, err = capsys.readouterr()
    info = json.loads(out)
    assert info["endpoint"] is None and info["local_stack"] is False
    assert info["region"] == "eu-north-1" and info["account"] == aws["account"]
    assert info["bucket"] == aws["bucket"] and info["table"] == aws["table"]
    assert {k: q["name"] for k, q in info["queues"].items()} == {
        "import": "notis-import", "import_dlq": "notis-import-dlq", "send": "notis-send", "send_dlq": "notis-send-dlq"}
    assert info["queues"]["send"]["url"] == aws["queues"]["notis-send"]
    assert "talking to AWS account" in err


def test_info_text_lists_the_same(aws: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert aws["bucket"] in out and "notis-send-dlq" in out and aws["queues"]["notis-import"] in out


def test_info_against_a_stack_that_does_not_answer_still_names_everything(
    restore_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    restore_env.setenv(target.STATE_ENV, str(tmp_path / "s.json"))
    restore_env.delenv("AWS_ENDPOINT_URL", raising=False)
    restore_env.setenv("AWS_MAX_ATTEMPTS", "1")
    _state(tmp_path / "s.json")  # port 9 (discard): nothing listens
    assert main(["info", "--json"]) == 0
    out, err = capsys.readouterr()
    info = json.loads(out)
    assert info["endpoint"] == "http://127.0.0.1:9" and info["local_stack"] is True
    assert info["page"] == "http://127.0.0.1:8000/" and info["region"] == "eu-west-3"
    assert info["account"] == "111122223333" and info["bucket"] == "local-bucket"
    assert all(q["url"] is None for q in info["queues"].values())
    assert "http://127.0.0.1:9" in err


# -- notis outbox --------------------------------------------------------------------------------------------------


def _mail(to: str, subject: str, text: str, html: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Notis <notis@example.org>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Wed, 17 Jan 2024 09:30:00 +0000"
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


@pytest.fixture
def model_data(aws: dict[str, Any]) -> dict[str, Any]:
    """Mail accepted by moto's SES v2, read back through the same code path as GET /moto-api/data.json."""
    from moto.moto_api._internal.responses import MotoAPIResponse

    from chalicelib import aws as clients

    ses = clients.client("sesv2")
    sender = "notis@example.org"
    for to, subject, text, html in [
        ("anna.olsson@example.se", "Viktig information: Intrång i webbshoppen", "Hej Anna,\nå ä ö", "<p>Hej Anna</p>"),
        ("Familjen Holm <familjen.holm@example.org>", "Important information", "Hello", None),
    ]:
        ses.send_email(FromEmailAddress=sender, Destination={"ToAddresses": [to]},
                       Content={"Raw": {"Data": _mail(to, subject, text, html)}})
    _status, _headers, body = MotoAPIResponse().model_data(None, "", {})
    return json.loads(body)


def test_outbox_lists_recipient_decoded_subject_and_time_once_each(model_data: dict[str, Any]) -> None:
    mails = outbox.sent_mail(model_data)
    assert [m.to for m in mails] == [("anna.olsson@example.se",), ("familjen.holm@example.org",)]
    assert mails[0].subject == "Viktig information: Intrång i webbshoppen"
    listing = outbox.listing(mails)
    assert "Intrång" in listing and "=?utf-8?" not in listing
    assert listing.count("anna.olsson@example.se") == 1  # moto lists the destination twice; shown once
    assert re.fullmatch(r"2024-01-1[78] \d\d:\d\d:\d\d \S+", mails[0].sent)  # with its time zone: whose time?


def test_outbox_show_prints_the_plain_text_part(model_data: dict[str, Any]) -> None:
    shown = outbox.show(outbox.sent_mail(model_data)[0])
    assert "Hej Anna,\nå ä ö" in shown and "<p>" not in shown
    assert "Subject: Viktig information: Intrång i webbshoppen" in shown


def test_outbox_save_writes_eml_that_parses_back_and_html_for_a_browser(model_data: dict[str, Any],
                                                                        tmp_path: Path) -> None:
    written = outbox.save(outbox.sent_mail(model_data), tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["001.eml", "001.html", "002.eml"]  # the second mail has no HTML part
    parsed = message_from_bytes((tmp_path / "out" / "001.eml").read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Viktig information: Intrång i webbshoppen"
    assert "<p>Hej Anna</p>" in (tmp_path / "out" / "001.html").read_text(encoding="utf-8")
    # Names and addresses: readable by the staff member's account only, in a folder it made for them.
    assert {p.stat().st_mode & 0o777 for p in written} == {0o600}
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o700


def test_outbox_save_onto_a_file_or_where_it_may_not_write_is_a_clear_error(
    model_data: dict[str, Any], restore_env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    restore_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    restore_env.setattr(outbox, "fetch_model_data", lambda _endpoint: model_data)
    a_file = tmp_path / "brev.pdf"
    a_file.write_bytes(b"%PDF")
    assert main(["outbox", "--save", str(a_file)]) == 1
    assert "is a file, not a folder" in capsys.readouterr().err
    assert a_file.read_bytes() == b"%PDF"  # nothing lost
    assert main(["outbox", "--save", str(a_file / "mail")]) == 1  # a folder below a file
    assert "cannot save into" in capsys.readouterr().err


def test_outbox_of_nothing_says_it_is_empty() -> None:
    assert "empty" in outbox.listing(outbox.sent_mail({"ses": {"RawMessage": [], "Message": []}}))
    assert outbox.sent_mail({}) == []


def test_outbox_refuses_on_real_aws(restore_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    restore_env.delenv("AWS_ENDPOINT_URL", raising=False)
    assert main(["outbox"]) == 1
    assert "only against the local stack" in capsys.readouterr().err


def test_outbox_against_an_endpoint_that_is_not_moto_says_so(
    restore_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    restore_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    assert main(["outbox"]) == 1
    assert "/moto-api/data.json" in capsys.readouterr().err


def test_outbox_show_out_of_range_is_a_clear_error(model_data: dict[str, Any], restore_env: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    restore_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    restore_env.setattr(outbox, "fetch_model_data", lambda _endpoint: model_data)
    assert main(["outbox", "--show", "3"]) == 1
    assert "no e-mail 3 (the outbox holds 2)" in capsys.readouterr().err
    assert main(["outbox", "--show", "2"]) == 0
    assert "To:      familjen.holm@example.org" in capsys.readouterr().out
