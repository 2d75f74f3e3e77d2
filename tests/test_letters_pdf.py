"""`notis letters --pdf`: the PDF read back (pypdf) has one letter per household, each in its language, the
recipient in the envelope window, no text beyond the page's margins; `--mark-posted` shows in status and
evidence; people without a usable postal address are counted by row, never printed."""

from __future__ import annotations

import itertools
import json
import re
import stat
import time
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from queue_helpers import deliver
from sending_helpers import FakeClock, run_send_queue

from chalicelib import aws as aws_clients
from chalicelib.campaigns.handler import handle_import
from chalicelib.campaigns.store import CampaignStore
from chalicelib.content.loader import load_incidents
from chalicelib.content.published import content_dir
from chalicelib.verify.codes import CodeBook
from notis_cli.commands.letters import resolve_send
from notis_cli.letters.pdf import ADDRESS_AREA, BOTTOM, LEFT, PAGE_H, PAGE_W, RIGHT, LetterPDF
from notis_cli.main import main

INCIDENT = "korkortsportalen-2024"
MM = 72 / 25.4  # PDF points per millimetre
ROWS = [
    "Namn;E-post;Adress;Postnummer;Ort;Språk",
    "Åsa Öberg;;Ågatan 3;97231;Luleå;sv",  # no e-mail: a Swedish letter
    "Örjan Öberg;;Ågatan 3;972 31;Luleå;sv",  # same address: the same letter names both
    "Emma Brown;;c/o Smith, 10 High Street;;London SW1A 2AA, United Kingdom;en",  # abroad, in English
    "Bo Box;inte-en-adress;Box 12;101 23;Stockholm;",  # an invalid e-mail: a letter to a box address
    "Cia Utan;;;;;sv",  # needs a letter, has no address: counted, not printed
    "Dan Mejl;dan@example.se;Storgatan 1;111 22;Stockholm;sv",  # e-mailed: no letter
]


@pytest.fixture
def campaign(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("NOTIS_HMAC_KEY", aws["settings"].hmac_key.decode())
    path = tmp_path / "kunder.csv"
    path.write_bytes(("\r\n".join(ROWS) + "\r\n").encode("cp1252"))
    assert main(["upload", str(path), "--incident", INCIDENT, "--audience", "customers"]) == 0
    settings = aws["settings"]
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    run_send_queue(aws, settings, FakeClock(start=1_714_557_600.0))
    [item] = CampaignStore(aws_clients.client("dynamodb"), settings.table).list()
    return str(item["campaign"])


def texts_with_positions(page: Any, widths: list[float] | None = None) -> list[tuple[str, float, float]]:
    """(text, x mm from the left, y mm from the top) of every text run on the page; `widths` gets each run's
    width in mm, measured with the embedded font's own metrics."""
    found: list[tuple[str, float, float]] = []
    measure = LetterPDF() if widths is not None else None

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if text.strip():
            x, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            found.append((text.strip(), x / MM, PAGE_H - y / MM))
            if measure is not None:
                bold = "Bold" in str((font or {}).get("/BaseFont", ""))
                measure.set_font("DejaVu", "B" if bold else "", float(size) * abs(tm[0]))
                widths.append(measure.get_string_width(text.strip()))

    page.extract_text(visitor_text=visit)
    return found


def letters_of(reader: PdfReader) -> list[str]:
    """The text of each letter: pages grouped by the reference code in their footer."""
    letters: dict[str, list[str]] = {}
    for page in reader.pages:
        text = page.extract_text()
        code = re.search(r"([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{5}) · (?:sida|page) \d+", text)
        assert code, "every page names its letter's reference code"
        letters.setdefault(code.group(1), []).append(text)
    return ["\n".join(pages) for pages in letters.values()]


def test_one_letter_per_household_in_its_language_with_the_address_in_the_window(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any) -> None:
    pdf = tmp_path / "brev.pdf"
    assert main(["letters", campaign, "--pdf", str(pdf), "--date", "2026-12-04"]) == 0
    err = capsys.readouterr().err
    assert f"3 letter(s) to 4 people written to {pdf.resolve()}" in err
    assert "personal data" in err and "never upload" in err
    assert "1 people need a letter but have no usable postal address (rows 6 of the uploaded file)" in err
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600, "only the staff member can read it"

    reader = PdfReader(str(pdf))
    letters = letters_of(reader)
    assert len(letters) == 3
    swedish = [t for t in letters if "Vad har hänt?" in t]
    english = [t for t in letters if "What has happened?" in t]
    assert len(swedish) == 2 and len(english) == 1
    [oberg] = [t for t in swedish if "Öberg" in t]
    assert "Hej Åsa Öberg och Örjan Öberg," in oberg and "4 december 2026" in oberg
    assert "Emma Brown" in english[0] and "Vad har hänt?" not in english[0] and "4 December 2026" in english[0]
    assert "Cia Utan" not in "".join(letters) and "Dan Mejl" not in "".join(letters)
    book = CodeBook(aws_clients.client("dynamodb"), aws["settings"].table)
    for text in letters:
        assert "incident.korkortsportalen.example/verify" in text, "how to check the reference code"
        assert "010-123 45 67" in text, "the contact point"
        code = re.search(r"([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{5}) · (?:sida|page) 1", text).group(1)
        record = book.read(code, now=time.time())
        assert record and record.send_id == f"{INCIDENT}.customers.notice" and record.campaign == campaign, (
            "the /verify page knows every letter's code")
        assert record.key == ("" if "Hej Åsa" in text or "Emma" in text else record.key)
        assert record.channel == "letter"
        if not record.key:  # support on the phone: a letter's code is known, though no e-mail went
            capsys.readouterr()
            assert main(["lookup", code.lower()]) == 0
            out, err = capsys.readouterr()
            assert "a genuine letter from us" in out and "Öberg" not in out and "Emma" not in out
            assert out.count(code) == 1 and code not in err, "the answer once, on standard output"

    first_pages = [p for p in reader.pages if re.search(r"· (?:sida|page) 1\b", p.extract_text())]
    assert len(first_pages) == 3
    x0, y0, x1, y1 = ADDRESS_AREA
    for page in first_pages:
        runs = texts_with_positions(page)
        window = [(t, x, y) for t, x, y in runs if x0 <= x <= x1 and y0 <= y <= y1]
        assert window, "the recipient is printed inside the envelope window"
        postal = [t for t, _, _ in window]
        assert any(re.search(r"\b972 31 Luleå\b|\bUNITED KINGDOM\b|\b101 23 Stockholm\b", t) for t in postal)
        for text, _x, y in runs:  # nothing else shows through the window
            if y0 - 2 <= y <= y1 + 2 and (text, _x, y) not in window:
                assert _x > x1, text

    for page in reader.pages:
        widths: list[float] = []
        for (text, x, y), width in zip(texts_with_positions(page, widths), widths, strict=True):
            assert LEFT - 0.5 <= x and x + width <= PAGE_W - RIGHT + 0.5, (text, x, width)  # no text past the edge
            assert 10 <= y <= PAGE_H - 10, (text, y)  # sender above the top margin, footer below the bottom one

    fonts = [f.get_object() for p in reader.pages for f in p["/Resources"]["/Font"].values()]
    assert all("/FontFile2" in f["/DescendantFonts"][0].get_object()["/FontDescriptor"] for f in fonts), (
        "fonts are embedded")


def test_a_heading_is_never_the_last_line_of_a_page(aws: dict[str, Any], campaign: str, tmp_path: Path) -> None:
    pdf = tmp_path / "brev.pdf"
    assert main(["letters", campaign, "--pdf", str(pdf)]) == 0
    headings = {"Vad har hänt?", "Vad det kan innebära", "Vad vi har gjort", "Det här kan du göra", "Kontakta oss",
                "Din referenskod", "What has happened?", "What you can do", "Contact us", "Your reference code"}
    for page in PdfReader(str(pdf)).pages:
        lines = [t for t, _x, y in sorted(texts_with_positions(page), key=lambda r: r[2])
                 if y < PAGE_H - BOTTOM]  # the body, without the footer
        assert lines[-1] not in headings, lines[-3:]


def test_mark_posted_is_counted_by_status_and_evidence(aws: dict[str, Any], campaign: str, capsys: Any) -> None:
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    out = capsys.readouterr().out
    assert "recorded: 3 letter(s) to 4 people posted on 2024-05-03" in out and "by arn:aws:" in out
    assert main(["status", campaign]) == 0
    assert "by letter  4 notified" in capsys.readouterr().out
    assert main(["status"]) == 0  # the list of campaigns: which still have letters to post
    header, *rows = capsys.readouterr().out.splitlines()
    [row] = [r for r in rows if r.startswith(campaign)]
    assert row[header.index(" posted"):header.index("  file")].strip() == "4", (header, row)
    assert main(["evidence", campaign, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["notified_by_letter"] == 4 and doc["letters_posted"] == 4
    [batch] = doc["letter_batches"]
    assert batch | {"at": "", "by": ""} == {"send_id": f"{INCIDENT}.customers.notice", "letters": 3, "people": 4,
                                            "posted_on": "2024-05-03", "at": "", "by": ""}
    assert any(e["event"] == "staff: letters posted" and e["by"].startswith("arn:aws:") for e in doc["history"])
    assert main(["evidence", campaign]) == 0
    text = capsys.readouterr().out
    assert "Notified by letter:    4" in text
    assert "Åsa" not in text and "Ågatan" not in text, "counts only"


def test_the_csv_for_a_print_house_still_comes_out(aws: dict[str, Any], campaign: str, tmp_path: Path,
                                                   capsys: Any) -> None:
    path = tmp_path / "brev.csv"
    assert main(["letters", campaign, "--csv", str(path)]) == 0
    body = path.read_text(encoding="utf-8-sig")
    assert body.splitlines()[0] == "line;name;postal_address;email;reason"
    assert len(body.splitlines()) == 1 + 5 and "Åsa Öberg" in body
    assert "personal data" in capsys.readouterr().err


def test_a_follow_up_or_update_notice_is_named_by_its_marker() -> None:
    [incident] = [i for i in load_incidents(content_dir()) if i.slug == INCIDENT]
    item = {"incident": INCIDENT, "audience": "customers", "send_id": f"{INCIDENT}.customers.notice"}
    assert resolve_send(item, incident, None)[0] == f"{INCIDENT}.customers.notice"
    follow = incident.followups[0]
    send_id, spec = resolve_send(item, incident, f"f-{follow.id}")
    assert send_id == f"{INCIDENT}.customers.f-{follow.id}" and spec.template == follow.template
    update = incident.updates[0]
    send_id, spec = resolve_send(item, incident, f"{INCIDENT}.customers.u-{update.id}")
    assert spec.template == "update" and spec.update_id == update.id
    with pytest.raises(LookupError):
        resolve_send(item, incident, "f-no-such")


def test_batches_are_joined_into_one_pdf_in_order(tmp_path: Path) -> None:
    """Letters are made 500 at a time and copied into one file; here 2 at a time, so the joins are tested."""
    from datetime import date

    from chalicelib.mail.reference import check_symbol, group
    from chalicelib.mail.render import MailSpec
    from notis_cli.letters.build import households, letters_for
    from notis_cli.letters.pdf import write_letters

    [incident] = [i for i in load_incidents(content_dir()) if i.slug == INCIDENT]
    rows = [type("R", (), {"line": i + 2, "name": f"Person {i}", "postal_address": f"Gatan {i}, 123 45 Åby",
                           "lang": "en" if i % 2 else "sv"})() for i in range(5)]
    codes = [group(f"AAAABBBB{c * 4}" + check_symbol(f"AAAABBBB{c * 4}")) for c in "CDEFG"]
    given = iter(codes)
    letters = list(letters_for(incident, MailSpec("notice", "customers"), households(rows).found,
                               on=date(2026, 12, 4), reference=lambda _home: next(given)))
    path = tmp_path / "brev.pdf"
    assert write_letters(letters, path, batch=2) == 5
    reader = PdfReader(str(path))
    assert len(letters_of(reader)) == 5
    firsts = [re.search(r"(\S+) · (?:sida|page) 1\b", p.extract_text()) for p in reader.pages]
    assert [m.group(1) for m in firsts if m] == codes, "every letter, in order, once"
    assert ["Hej Person 0," in t or "Dear Person 1," in t for t in letters_of(reader)][:2] == [True, True]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_every_notice_a_campaign_can_send_has_a_letter(lang: str) -> None:
    """The first notice, each follow-up and each update notice render as letters from the e-mail's templates."""
    from chalicelib.mail.letter import compose_letter
    from chalicelib.mail.render import MailSpec
    from notis_cli.letters.blocks import blocks_of

    [incident] = [i for i in load_incidents(content_dir()) if i.slug == INCIDENT]
    specs = [MailSpec("notice", "customers"), *(MailSpec(f.template, f.audience) for f in incident.followups),
             *(MailSpec("update", "customers", u.id) for u in incident.updates)]
    for spec in specs:
        body = compose_letter(incident, spec, names=["Åsa Öberg"], lang=lang, reference="AAAA-BBBB-CCCC5")
        blocks = blocks_of(body.html)
        assert blocks[0].kind == "h1" and blocks[0].text == body.subject
        text = "\n".join(b.text for b in blocks)
        assert "Åsa Öberg" in text and "AAAA-BBBB-CCCC5" in text
        assert "incident.korkortsportalen.example/verify" in text
        assert ("brevet" in text) if lang == "sv" else ("this letter" in text)
        assert "e-brevet" not in text and "this e-mail is from us" not in text, "no e-mail wording in a letter"


def test_a_phone_number_never_breaks_and_a_contact_list_stays_with_its_heading(tmp_path: Path) -> None:
    """Letters whose text pushes the contact section to every point of a page: 'ring 114 14' split after 114
    would have a reader dial 114, and 'Dataskyddsombud' alone at the top of a page loses its heading."""
    from notis_cli.letters.pdf import Letter, write_letters

    phones = "Ring polisen på 114 14 eller oss på 010-123 45 67, vardagar 08 00 till 17 00."
    contacts = ["Telefon 010-123 45 67", "E-post dataskydd@example.se", "Webb example.se/hjalp",
                "Dataskyddsombud dpo@example.se"]
    letters = [
        Letter(recipient=("Åsa Öberg", "Storgatan", "972 31 Luleå"), sender=("Exempel AB",), date="5 december 2026",
               reference=f"AAAA-BBBB-{n:04d}".replace("0", "C").replace("1", "D"), lang="sv",
               html="".join(f"<p>{'Ord ' * (6 + n % 9)}{phones}</p>" for _ in range(n))
               + "<h2>Kontakta oss</h2><ul>" + "".join(f"<li>{c}</li>" for c in contacts) + "</ul>")
        for n in range(4, 44)
    ]
    path = tmp_path / "brev.pdf"
    assert write_letters(letters, path) == len(letters)
    for page in PdfReader(str(path)).pages:
        lines = [t.replace("\xa0", " ") for t, _x, y in sorted(texts_with_positions(page), key=lambda r: r[2])
                 if y < PAGE_H - BOTTOM and t != "•"]
        for above, below in itertools.pairwise(lines):
            assert not (above[-1].isdigit() and below[0].isdigit()), (above, below)
        if "Kontakta oss" in lines:
            assert lines[-len(contacts):] == contacts, lines[-6:]
        else:
            assert not set(contacts) & set(lines), lines[:6]  # a contact line without its heading


def _written(aws: dict[str, Any]) -> list[dict]:
    """Every code record and posted batch in the table (what a refused command must not add to)."""
    items = aws_clients.client("dynamodb").scan(TableName=aws["settings"].table)["Items"]
    return sorted((i for i in items if i["pk"]["S"].startswith("code#") or i["sk"]["S"].startswith("posted#")),
                  key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.mark.parametrize("option", ["--pdf", "--csv"])
def test_a_file_in_a_folder_that_does_not_exist_is_one_clear_line_and_records_nothing(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any, option: str) -> None:
    before = _written(aws)
    missing = tmp_path / "no-such-folder"
    capsys.readouterr()
    assert main(["letters", campaign, option, str(missing / "brev.pdf"), "--mark-posted"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("notis: ") and str(missing) in err and "does not exist" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert _written(aws) == before, "no reference code and no posted batch recorded"
    assert not missing.exists()


def test_a_posting_date_in_the_future_or_not_a_date_is_refused(aws: dict[str, Any], campaign: str,
                                                              capsys: Any) -> None:
    from datetime import date, timedelta

    before = _written(aws)
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    capsys.readouterr()
    assert main(["letters", campaign, "--mark-posted", "--date", tomorrow]) == 2
    err = capsys.readouterr().err
    assert f"--date {tomorrow} is in the future" in err and "nothing was written or recorded" in err
    with pytest.raises(SystemExit) as exit_:
        main(["letters", campaign, "--mark-posted", "--date", "5 december"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'5 december' is not a date (YYYY-MM-DD)" in err and "Traceback" not in err
    assert _written(aws) == before
    assert main(["letters", campaign, "--mark-posted", "--date", date.today().isoformat()]) == 0  # today is fine


def _approve_and_bounce(aws: dict[str, Any], campaign: str, email: str) -> None:
    """The held campaign approved and sent; SES says the e-mail to `email` bounced: that person now needs a
    letter too (a household with a recipient key)."""
    from sending_helpers import ses_event

    from chalicelib.handlers import handle_ses_event
    from chalicelib.recipients import normalise_email, recipient_key
    from chalicelib.sending.ledger import Ledger

    settings = aws["settings"]
    assert main(["approve", campaign, "--yes"]) == 0
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    run_send_queue(aws, settings, FakeClock(start=1_714_557_600.0 + 60))
    send_id, key = f"{INCIDENT}.customers.notice", recipient_key(normalise_email(email), aws["settings"].hmac_key)
    entry = Ledger(aws_clients.client("dynamodb"), aws["settings"].table).get(send_id, key)
    handle_ses_event(ses_event("Bounce", send_id, key, entry["message_id"], bounce={"bounceType": "Permanent"}),
                     aws["settings"])


def test_the_code_of_a_letter_to_someone_with_e_mail_is_answered_once_on_standard_output(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any) -> None:
    _approve_and_bounce(aws, campaign, "dan@example.se")
    pdf = tmp_path / "brev.pdf"
    assert main(["letters", campaign, "--pdf", str(pdf)]) == 0
    [dan] = [t for t in letters_of(PdfReader(str(pdf))) if "Dan Mejl" in t]
    code = re.search(r"([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{5}) · sida 1", dan).group(1)
    capsys.readouterr()
    assert main(["lookup", code]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"{code}: a genuine letter from us ({INCIDENT}.customers.notice, made ")
    assert f"The person with reference code {code}: 1 e-mail(s) from us." in out and "bounced" in out
    assert code not in err, "the answer once, on standard output"
    assert main(["lookup", code, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["channel"], doc["known_code"], doc["found"]) == ("letter", True, 1)


def test_letters_posted_is_in_the_audit_trail_with_who_when_and_how_many(aws: dict[str, Any], campaign: str,
                                                                         capsys: Any) -> None:
    settings = aws["settings"]
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    capsys.readouterr()
    assert main(["audit", campaign, "--json"]) == 0
    [posted] = [r for r in json.loads(capsys.readouterr().out) if r["action"] == "letters-posted"]
    assert posted["details"] == {"letters": 3, "people": 4, "posted_on": "2024-05-03", "state": "held",
                                 "send_id": f"{INCIDENT}.customers.notice"}
    assert posted["by"] and posted["campaign"] == campaign and posted["at"]
    assert main(["audit", campaign]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "letters-posted" in x)
    assert "(letters 3, people 4, posted on 2024-05-03, send id korkortsportalen-2024.customers.notice" in line


@pytest.mark.parametrize("change", [{"letters": "3"}, {"letters": True}, {"people": -1}, {"posted_on": "5 dec"},
                                    {"send_id": "anna@example.se"}, {"campaign": "x"}, {"extra": 1}])
def test_a_letters_posted_message_that_is_not_well_formed_asks_nothing(change: dict[str, Any]) -> None:
    from chalicelib.campaigns.uploads import LettersPosted, parse_message

    good = {"notis": "letters-posted", "campaign": "c" + "0" * 20, "send_id": f"{INCIDENT}.customers.notice",
            "letters": 3, "people": 4, "posted_on": "2026-12-05"}
    assert parse_message(json.dumps(good)) == [LettersPosted("c" + "0" * 20, f"{INCIDENT}.customers.notice", 3, 4,
                                                             "2026-12-05")]
    assert parse_message(json.dumps(good | change)) == []


def _codes_in(pdf: Path) -> dict[str, str]:
    """The first name in each letter's greeting -> the letter's code."""
    found = {}
    for text in letters_of(PdfReader(str(pdf))):
        name = re.search(r"(?:Hej|Dear) (\S+)", text).group(1)
        found[name] = re.search(r"([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{5}) · (?:sida|page) 1", text).group(1)
    return found


def test_printing_the_letters_again_reuses_each_households_code(aws: dict[str, Any], campaign: str,
                                                                  tmp_path: Path) -> None:
    assert main(["letters", campaign, "--pdf", str(tmp_path / "first.pdf")]) == 0
    first, records = _codes_in(tmp_path / "first.pdf"), [i for i in _written(aws) if i["pk"]["S"].startswith("code#")]
    assert len(first) == 3 and len(records) == 3
    assert main(["letters", campaign, "--pdf", str(tmp_path / "again.pdf")]) == 0
    assert _codes_in(tmp_path / "again.pdf") == first, "the letter printed before and the new one verify alike"
    assert [i for i in _written(aws) if i["pk"]["S"].startswith("code#")] == records, "no new code recorded"
    items = aws_clients.client("dynamodb").scan(TableName=aws["settings"].table)["Items"]
    index = [i for i in items if i["pk"]["S"] == f"letters#{INCIDENT}.customers.notice"]
    assert len(index) == 3 and "Ågatan" not in json.dumps(index, ensure_ascii=False), "pseudonyms, no address"
    assert all(i["sk"]["S"].startswith("h#") and i["campaign"]["S"] == campaign for i in index)


def test_two_runs_at_once_end_with_one_code_and_one_posting_per_household(aws: dict[str, Any]) -> None:
    from chalicelib.campaigns.lettercodes import LetterCodes, household_key

    index = LetterCodes(aws_clients.client("dynamodb"), aws["settings"].table)
    home = household_key(["Åsa Öberg", "Ågatan 3", "972 31  Luleå"], aws["settings"].hmac_key)
    assert home == household_key(["åsa öberg", "Ågatan 3", "972 31 LULEÅ"], aws["settings"].hmac_key)
    send = f"{INCIDENT}.customers.notice"
    claim = {"campaign": "c1", "expires_at": 2_000, "now": 1_000}
    assert index.claim(send, home, "AAAA-BBBB-CCCC", **claim) == "AAAA-BBBB-CCCC"
    assert index.claim(send, home, "DDDD-EEEE-FFFF", **claim | {"campaign": "c2"}) == "AAAA-BBBB-CCCC", (
        "another campaign of the same send: the same code")
    assert index.of_send(send, now=1_500)[home].code == "AAAA-BBBB-CCCC"
    assert index.of_send(f"{INCIDENT}.customers.f-x", now=1_500) == {}, "another send, its own codes"
    assert index.of_send(send, now=2_500) == {}, "expired with its code record"

    posting = {"people": 2, "on": "2024-05-03", "at": "t", "expires_at": 2_000}
    assert index.mark_posted(send, home, campaign="c1", **posting)
    assert not index.mark_posted(send, home, campaign="c1", **posting), "once"
    assert not index.mark_posted(send, home, campaign="c2", **posting | {"on": "2024-05-04"}), "once per send"
    letter = index.of_send(send, now=1_500)[home]
    assert (letter.posted_on, letter.posted_with, letter.code) == ("2024-05-03", "c1", "AAAA-BBBB-CCCC")
    assert letter.posted_elsewhere("c2", 2) and not letter.posted_elsewhere("c1", 2)
    assert not letter.posted_elsewhere("c2", 3), "someone there the posted letter did not name: lettered again"
    assert index.mark_posted(send, home, campaign="c2", **posting | {"people": 3})
    assert index.claim(send, home, "DDDD-EEEE-FFFF", **claim | {"expires_at": 4_000, "now": 2_500}) == (
        "DDDD-EEEE-FFFF")


def test_once_posted_the_public_check_names_the_posting_day(aws: dict[str, Any], campaign: str, tmp_path: Path,
                                                            capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalice.test import Client

    import app as notis_app
    from chalicelib.verify import handler as verify_handler

    pdf = tmp_path / "brev.pdf"
    assert main(["letters", campaign, "--pdf", str(pdf)]) == 0
    codes = _codes_in(pdf)
    book = CodeBook(aws_clients.client("dynamodb"), aws["settings"].table)
    made = {book.read(c, now=time.time()).sent_on for c in codes.values()}
    assert made != {"2024-05-03"}
    capsys.readouterr()
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    assert "the public check now says 2024-05-03 for 3 letter code(s)" in capsys.readouterr().out

    monkeypatch.setattr(verify_handler, "FLOOR_SECONDS", 0.0)
    with Client(notis_app.app) as client:
        for code in codes.values():
            answer = json.loads(client.http.get(f"/api/verify/{code}").body)
            assert answer["genuine"] is True and answer["sent_on"] == "2024-05-03", answer
    assert main(["lookup", codes["Åsa"]]) == 0
    assert "posted 2024-05-03" in capsys.readouterr().out
    record = book.read(codes["Emma"], now=time.time())
    assert record.posted and record.channel == "letter" and record.campaign == campaign
    assert not book.mark_posted(codes["Emma"], on="2024-05-09"), "the first posting day stands"
    assert book.read(codes["Emma"], now=time.time()).sent_on == "2024-05-03"


def _corrected(aws: dict[str, Any], tmp_path: Path, first: str) -> str:
    """A corrected copy of the list uploaded and imported (Bo Box's e-mail fixed): the new campaign's id."""
    path = tmp_path / "kunder-rattad.csv"
    rows = [r.replace("inte-en-adress", "bo@example.se") for r in ROWS]
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    assert main(["upload", str(path), "--incident", INCIDENT, "--audience", "customers"]) == 0
    settings = aws["settings"]
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    [second] = [c["campaign"] for c in CampaignStore(aws_clients.client("dynamodb"), settings.table).list()
                if c["campaign"] != first]
    return str(second)


def test_a_corrected_file_does_not_letter_a_household_already_posted(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any) -> None:
    assert main(["letters", campaign, "--pdf", str(tmp_path / "first.pdf")]) == 0
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    second = _corrected(aws, tmp_path, campaign)
    capsys.readouterr()
    assert main(["status", second]) == 0  # before notis letters has compared the lists: what it will do
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("by letter"))
    assert f"it leaves out households already posted with campaign {campaign}" in line
    before = _written(aws)

    path = tmp_path / "second.csv"
    assert main(["letters", second, "--csv", str(path)]) == 0
    err = capsys.readouterr().err
    assert f"2 household(s) (3 people) already posted with campaign {campaign} on 2024-05-03: not again" in err
    body = path.read_text(encoding="utf-8-sig")
    assert "Öberg" not in body and "Emma" not in body and "Cia Utan" in body, "only who was never lettered"
    assert main(["letters", second, "--list"]) == 0
    assert "Öberg" not in capsys.readouterr().out
    assert main(["letters", second, "--pdf", str(tmp_path / "second.pdf")]) == 0
    assert "already posted with campaign" in capsys.readouterr().err
    assert not (tmp_path / "second.pdf").exists(), "no letter to print"
    assert main(["letters", second, "--mark-posted"]) == 0
    assert "recorded:" not in capsys.readouterr().out
    assert [i for i in _written(aws) if i["pk"]["S"].startswith("code#") or campaign not in i["pk"]["S"]] == [
        i for i in before if i["pk"]["S"].startswith("code#") or campaign not in i["pk"]["S"]], (
        "no new code, no posted batch for the second campaign")

    assert main(["status", second]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("by letter"))
    assert f"3 already notified by letter with campaign {campaign} (posted 2024-05-03)" in line
    assert "--mark-posted" not in line, "nobody is left to post to"
    assert main(["evidence", second, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["notified_by_letter"] == 0 and doc["notified_by_letter_earlier"] == 3
    assert doc["letters_earlier_by_campaign"] == {campaign: {"households": 2, "people": 3,
                                                             "posted_on": "2024-05-03"}}
    assert main(["evidence", second]) == 0
    text = capsys.readouterr().out
    assert f"Notified by letter with an earlier campaign, not posted again: 3\n  by {campaign}: 3" in text


def test_a_household_printed_but_not_posted_by_an_earlier_campaign_gets_the_same_code(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any) -> None:
    assert main(["letters", campaign, "--pdf", str(tmp_path / "first.pdf")]) == 0
    first = _codes_in(tmp_path / "first.pdf")
    second = _corrected(aws, tmp_path, campaign)
    assert main(["letters", second, "--pdf", str(tmp_path / "second.pdf")]) == 0
    again = _codes_in(tmp_path / "second.pdf")
    assert set(again) == {"Åsa", "Emma"} and again == {k: first[k] for k in again}, "letters verify alike"
    assert main(["letters", second, "--mark-posted", "--date", "2024-05-04"]) == 0
    assert "recorded: 2 letter(s) to 3 people posted on 2024-05-04" in capsys.readouterr().out
    capsys.readouterr()
    assert main(["letters", campaign, "--csv", str(tmp_path / "first-again.csv")]) == 0
    err = capsys.readouterr().err
    assert f"2 household(s) (3 people) already posted with campaign {second} on 2024-05-04: not again" in err
    body = (tmp_path / "first-again.csv").read_text(encoding="utf-8-sig")
    assert "Bo Box" in body and "Öberg" not in body, "Bo's letter (invalid e-mail in the first file) is still due"


def test_mark_posted_again_records_nothing(aws: dict[str, Any], campaign: str, capsys: Any) -> None:
    settings = aws["settings"]
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    before, capsys_out = _written(aws), capsys.readouterr()
    assert "recorded: 3 letter(s) to 4 people" in capsys_out.out
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-06"]) == 0
    out, err = capsys.readouterr()
    assert "recorded:" not in out
    assert "already recorded as posted on 2024-05-03; nothing recorded" in err
    assert _written(aws) == before, "no second batch"
    deliver(aws["queues"][settings.import_queue], lambda event: handle_import(event, settings))
    assert main(["audit", campaign, "--json"]) == 0
    assert [r["action"] for r in json.loads(capsys.readouterr().out)].count("letters-posted") == 1
    assert main(["evidence", campaign, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["notified_by_letter"] == 4 and len(doc["letter_batches"]) == 1


def test_after_a_bounce_mark_posted_records_only_the_new_letter(aws: dict[str, Any], campaign: str,
                                                                 capsys: Any) -> None:
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-03"]) == 0
    _approve_and_bounce(aws, campaign, "dan@example.se")
    capsys.readouterr()
    assert main(["letters", campaign, "--mark-posted", "--date", "2024-05-06"]) == 0
    assert "recorded: 1 letter(s) to 1 people posted on 2024-05-06" in capsys.readouterr().out
    assert main(["evidence", campaign, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["notified_by_letter"] == 5 and [b["people"] for b in doc["letter_batches"]] == [4, 1]


@pytest.mark.parametrize("option", ["--pdf", "--csv"])
@pytest.mark.parametrize("slash", ["", "/"])
def test_a_folder_given_as_the_file_is_one_clear_line_and_records_nothing(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any, option: str, slash: str) -> None:
    before = _written(aws)
    folder = tmp_path / "ut"
    folder.mkdir()
    capsys.readouterr()
    assert main(["letters", campaign, option, f"{folder}{slash}", "--mark-posted"]) == 2
    err = capsys.readouterr().err
    name = "brev.pdf" if option == "--pdf" else "brev.csv"
    assert err == f"notis: {folder} is a folder: give a file name, such as {folder / name}; nothing was written " \
                  "or recorded\n"
    assert _written(aws) == before and list(folder.iterdir()) == []


def test_a_file_that_cannot_be_opened_after_the_checks_is_one_clear_line(
        aws: dict[str, Any], campaign: str, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The folder is checked first; should the file still not open (made a folder meanwhile, a full disk), the
    command says so in one line and records nothing."""
    from notis_cli.commands import letters

    def refuse(path: Path, *_args: Any, **_text: Any) -> Any:
        raise IsADirectoryError(21, "Is a directory", str(path))

    monkeypatch.setattr(letters, "open_private", refuse)
    before = _written(aws)
    capsys.readouterr()
    assert main(["letters", campaign, "--pdf", str(tmp_path / "brev.pdf"), "--mark-posted"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"notis: cannot write {tmp_path / 'brev.pdf'}: Is a directory; nothing was written or recorded")
    assert _written(aws) == before
