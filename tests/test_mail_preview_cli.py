"""`notis preview-mail`: staff see the e-mail as it will be sent, and clear errors for wrong arguments."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest

from notis_cli.main import main

SLUG = "korkortsportalen-2024"
PAGE = "https://incident.korkortsportalen.example/incidents/korkortsportalen-2024"


def test_prints_the_swedish_plain_text_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview-mail", "--incident", SLUG, "--audience", "customers"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Subject: Viktig information: Intrång i webbshoppen på Körkortsportalen\n")
    assert "Content-Language: sv" in out
    assert "Hej Anna Andersson," in out and PAGE in out and "<p>" not in out


def test_prints_html_in_english_with_given_names(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["preview-mail", "--incident", SLUG, "--audience", "schools", "--lang", "en", "--html"]
    assert main([*argv, "--name", "Trafikskolan Syd", "--name", "<b>x</b>"]) == 0
    out = capsys.readouterr().out
    assert '<html lang="en">' in out
    assert "Dear Trafikskolan Syd and &lt;b&gt;x&lt;/b&gt;," in out
    assert "driving school" in out


def test_update_and_raw_message(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["preview-mail", "--incident", SLUG, "--audience", "customers", "--template", "update"]
    assert main([*argv, "--update", "anmalt", "--raw"]) == 0
    message = email.message_from_bytes(capsys.readouterr().out.encode("ascii"), policy=policy.default)
    assert message["Subject"] == "Uppdatering: Intrång i webbshoppen på Körkortsportalen"
    assert "Vi vet nu vilka slags uppgifter" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--incident", "nope", "--audience", "customers"], "no incident 'nope'; there are: korkortsportalen-2024"),
        (["--incident", SLUG, "--audience", "teachers"], "has no audience 'teachers'; it has: customers, schools"),
        (["--incident", SLUG, "--audience", "customers", "--template", "update"], "needs the update id"),
        (["--incident", SLUG, "--audience", "customers", "--template", "nope"],
         "no e-mail template 'nope'; there are: notice, reminder, update"),
        (["--incident", SLUG, "--audience", "customers", "--update", "nope"],
         "has no update 'nope'; it has: upptackt, anmalt, informerat, fragor-och-svar"),
        (["--incident", SLUG, "--audience", "customers", "--template", "update", "--update", "nope"],
         "has no update 'nope'; it has: upptackt"),
    ],
)
def test_mistakes_get_a_clear_message(capsys: pytest.CaptureFixture[str], argv: list[str], said: str) -> None:
    assert main(["preview-mail", *argv]) == 1
    captured = capsys.readouterr()
    assert said in captured.err and captured.out == ""
    assert captured.err.startswith("notis: ") and len(captured.err.splitlines()) == 1
    root = str(Path(__file__).resolve().parent.parent)
    assert root not in captured.err, "no path of the project on this machine"


def test_update_id_alone_picks_the_update_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview-mail", "--incident", SLUG, "--audience", "customers", "--update", "anmalt"]) == 0
    assert capsys.readouterr().out.startswith("Subject: ")


def test_broken_content_folder_is_reported(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    (tmp_path / "x").mkdir()
    assert main(["preview-mail", "--incident", "x", "--audience", "a", "--path", str(tmp_path)]) == 1
    assert "has no incident.yaml" in capsys.readouterr().err


def test_content_problems_name_the_project_files_from_its_root(capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    folder = root / "chalicelib" / "templates" / "mail"  # folders without incident.yaml: a content error
    assert main(["preview-mail", "--incident", "x", "--audience", "a", "--path", str(folder)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("notis: ") and "notice: has no incident.yaml" in err and str(root) not in err
