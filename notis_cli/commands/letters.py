"""`notis letters CAMPAIGN --pdf FILE | --csv FILE | --list | --mark-posted [--date D] [--send SEND]`: letters.

Everyone e-mail cannot reach (no usable address, bounced, refused, marked as spam) must still be told. The ledger
knows people only by pseudonym, so names and addresses are re-read from the uploaded file (still in the bucket
until the retention period ends).
- `--pdf FILE`: one A4 PDF, one letter per household at one postal address (notis_cli/letters), for C5/C65
  window envelopes, made here on the staff machine and never uploaded anywhere.
- `--csv FILE` (or `-o FILE`): the list for a print house; every cell formula-safe. `--list`: the same list on
  standard output. One of the options is required: names and addresses never appear on a screen by default.
- `--mark-posted`: records each household not yet posted as posted, then the batch (who, when, how many, which
  send) for status and evidence, and asks the importer to add it to the audit trail (`notis audit`).
A corrected or repeated upload of the same incident and audience is another campaign of the same send: a household
its letter was already posted to with another campaign is left out of every option, as e-mail is not sent twice,
and one printed but not posted gets the same code (chalicelib/campaigns/lettercodes.py).
The PDF and the CSV are the only staff outputs with personal data: the command says where they are written.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TextIO

from chalicelib.campaigns.cells import safe_cell
from notis_cli.commands._sendview import Context
from notis_cli.private import open_private

HEADER = ["line", "name", "postal_address", "email", "reason"]
PERSONAL_DATA = ("holds names and postal addresses (personal data): keep it on an encrypted disk, never upload "
                 "or e-mail it, and delete it once the letters are posted")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("letters", help="letters for everyone e-mail cannot reach: PDF, print-house CSV, and "
                                       "recording that they were posted",
                       description="Letters for everyone e-mail cannot reach. Say what you want: --pdf FILE, --csv "
                                   "FILE, --list or --mark-posted; the command prints no names or addresses "
                                   "unless asked to with --list (notis status CAMPAIGN counts them).")
    p.add_argument("campaign", help="campaign id (or its first 5 or more characters)")
    p.add_argument("--pdf", type=Path, metavar="FILE", help="write the letters as one PDF here (A4, window envelope)")
    p.add_argument("--csv", "-o", "--output", dest="output", type=Path, metavar="FILE",
                   help="write the print-house CSV here")
    p.add_argument("--list", action="store_true",
                   help="print the print-house CSV on standard output: names and postal addresses (personal data) "
                        "on your screen, or in the file you redirect it to")
    p.add_argument("--send", metavar="SEND",
                   help="a follow-up or update notice (f-<id>, u-<id> or its whole send id; see notis status); "
                        "default: the first notice")
    p.add_argument("--mark-posted", action="store_true",
                   help="record that this send's letters were posted (who, when, how many) for status and evidence")
    p.add_argument("--date", type=_day, metavar="YYYY-MM-DD",
                   help="the date printed on the letters, or the posting date with --mark-posted (default: today; "
                        "a posting date cannot be in the future)")
    p.set_defaults(run=run)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def write_csv(rows: Iterable[Any], out: TextIO) -> int:
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")  # Swedish Excel opens ';' directly
    writer.writerow(HEADER)
    n = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in (row.line, row.name, row.postal_address, row.email, row.reason)])
        n += 1
    return n


def letter_list(ctx: Context, campaign_id: str, item: dict[str, Any], send_id: str | None = None) -> Iterable[Any]:
    """Rows of the upload whose person needs a letter for this send (the first notice unless `send_id`)."""
    from chalicelib import aws
    from chalicelib.campaigns.objects import open_upload
    from chalicelib.recipients import InvalidEmail, iter_rows, normalise_email, recipient_key
    from chalicelib.sending.status import letter_rows, needs_letter

    letter_keys = {e["key"]: reason for e in ctx.entries(item, send_id) if (reason := needs_letter(e))}
    body = open_upload(aws.client("s3"), item["bucket"], item["key"], version=item.get("version", ""),
                       etag=item.get("etag", ""))
    hmac_key = ctx.settings.hmac_key

    def key_of(raw: str) -> str | None:
        try:
            return recipient_key(normalise_email(raw), hmac_key)
        except InvalidEmail:
            return None

    return letter_rows(iter_rows(body, max_bytes=ctx.settings.max_upload_bytes), letter_keys, key_of)


def resolve_send(item: dict[str, Any], incident: Any, send: str | None) -> tuple[str, Any]:
    """(send id, MailSpec) of the first notice, or of the follow-up / update notice `send` names."""
    from chalicelib.followups.schedule import first_notice_send_id
    from chalicelib.followups.schedule import send_id as make_send_id
    from chalicelib.mail.render import MailSpec

    slug, audience = str(item.get("incident", "")), str(item.get("audience", ""))
    first = str(item.get("send_id") or first_notice_send_id(slug, audience))
    if not send or send in ("notice", first):
        return first, MailSpec("notice", audience)
    marker = send.removeprefix(f"{slug}.{audience}.")
    if marker.startswith("u-"):
        update_id = marker[2:]
        if not any(u.id == update_id for u in incident.updates):
            raise LookupError(f"the incident has no update {update_id!r}")
        return make_send_id(slug, audience, marker), MailSpec("update", audience, update_id)
    if marker.startswith("f-"):
        found = next((f for f in incident.followups if f.id == marker[2:] and f.audience == audience), None)
        if found is None:
            raise LookupError(f"the incident has no follow-up {marker[2:]!r} for {audience!r}")
        return make_send_id(slug, audience, marker), MailSpec(found.template, audience)
    raise LookupError(f"{send!r} names no send: use f-<follow-up id>, u-<update id> or a whole send id")


def _incident(slug: str) -> Any:
    from chalicelib.content.loader import load_incidents
    from chalicelib.content.published import content_dir

    return next((i for i in load_incidents(content_dir()) if i.slug == slug), None)


def refused(args: argparse.Namespace, today: date | None = None) -> str | None:
    """Why the command cannot run as asked, checked before anything is read, written or recorded; else None."""
    for path in (args.pdf, args.output):
        if path is None:
            continue
        folder = path.expanduser().absolute().parent
        if not folder.is_dir():
            return f"the folder {folder} does not exist: create it first, or choose another file"
        if path.expanduser().is_dir():
            name = "brev.pdf" if path is args.pdf else "brev.csv"
            return f"{path} is a folder: give a file name, such as {path / name}"
        if not os.access(folder, os.W_OK):
            return f"you cannot write in the folder {folder}"
    if not (args.pdf or args.output or args.list or args.mark_posted):
        return ("say where the names and addresses go: --pdf FILE (the letters), --csv FILE (a print house's "
                "list) or --list (that list on this screen); notis status CAMPAIGN counts them")
    if args.list and (args.pdf or args.mark_posted):
        return "--list prints only the list on standard output: run it on its own, or use --csv FILE here"
    today = today or local_today()
    if args.mark_posted and args.date and args.date > today:
        return (f"--date {args.date.isoformat()} is in the future: record letters as posted on the day they were "
                f"posted ({today.isoformat()} or earlier)")
    return None


def local_today() -> date:
    """Today where the letters are posted (Sweden), or on this machine if that is later: never refuse today."""
    from chalicelib.verify.codes import LOCAL_TIME

    return max(date.today(), datetime.now(LOCAL_TIME).date())


def run(args: argparse.Namespace) -> int:
    if reason := refused(args):
        print(f"notis: {reason}; nothing was written or recorded", file=sys.stderr)
        return 2
    ctx = Context()
    item = ctx.campaign(args.campaign)
    if item is None:
        return 1
    if not item.get("bucket") or not item.get("key"):
        print("notis: the campaign does not name its uploaded file", file=sys.stderr)
        return 1
    incident = _incident(str(item.get("incident", "")))
    if incident is None and (args.pdf or args.mark_posted or args.send):
        print(f"notis: the incident {item.get('incident')!r} of this campaign is not in chalicelib/incidents",
              file=sys.stderr)
        return 1
    try:
        send_id, spec = resolve_send(item, incident, args.send) if incident is not None else (None, None)
    except LookupError as exc:
        print(f"notis: {exc}", file=sys.stderr)
        return 1
    if send_id is None:  # the incident is gone from the content: the first notice, as the record names it
        from chalicelib.followups.schedule import first_notice_send_id

        send_id = str(item.get("send_id") or first_notice_send_id(str(item.get("incident", "")),
                                                                  str(item.get("audience", ""))))
    from notis_cli.letters.build import households

    rows = list(letter_list(ctx, args.campaign, item, send_id if args.send else None))  # None: as status reads it
    found = households(rows, key_of=_key_of(ctx))
    book = LetterBook(ctx, args.campaign, send_id)
    rows, found, earlier = book.leave_out_posted(rows, found)
    with contextlib.ExitStack() as files:
        try:  # both files opened before anything is written or recorded: a path that cannot be written loses nothing
            csv_out = files.enter_context(_opened(args.output, encoding="utf-8-sig", newline="")) \
                if args.output else None
            pdf_out = files.enter_context(_opened(args.pdf)) if args.pdf and found.found else None
        except OSError as exc:
            print(f"notis: cannot write {exc.filename}: {exc.strerror}; nothing was written or recorded",
                  file=sys.stderr)
            return 2
        book.record_earlier(earlier)
        if csv_out is not None:
            _csv_file(rows, csv_out, args.output)
        if args.list:
            sys.stdout.write("\ufeff")  # Swedish Excel reads å ä ö right only with the BOM, also from `> brev.csv`
            n = write_csv(rows, sys.stdout)
            print(f"{n} letter(s) on standard output: names and postal addresses (personal data)", file=sys.stderr)
        if args.pdf:
            _pdf(found, incident, spec, pdf_out, args.pdf, on=args.date or date.today(),
                 reference=book.reference(incident))
    if args.pdf or args.mark_posted:
        _unusable(found)
    if args.mark_posted:
        return book.mark_posted(found, incident, on=args.date or date.today())
    return 0


class LetterBook:
    """This campaign's letters for one send, against the send's household index (chalicelib/campaigns/
    lettercodes.py): who was posted already, each household's code, and recording a posting."""

    def __init__(self, ctx: Context, campaign_id: str, send_id: str):
        import time

        from chalicelib.campaigns.lettercodes import LetterCodes

        self.ctx, self.campaign, self.send_id = ctx, campaign_id, send_id
        self.index = LetterCodes(ctx.ddb, ctx.settings.table)
        self.known = self.index.of_send(send_id, now=time.time())
        self.codes = {h: letter.code for h, letter in self.known.items() if letter.code}

    def household(self, home: Any) -> str:
        from chalicelib.campaigns.lettercodes import household_key

        return household_key(home.address.lines, self.ctx.settings.hmac_key)

    def leave_out_posted(self, rows: list[Any], found: Any) -> tuple[list[Any], Any, list[tuple[str, int, int, str]]]:
        """The rows and households still to be lettered: a household another campaign of this send already
        posted to (as many people or more) is left out and said on stderr; with what `record_earlier` records
        for status and evidence: (other campaign, households, people, latest posting day)."""
        from notis_cli.letters.build import Households

        earlier: dict[str, list[Any]] = {}  # earlier campaign -> [(home, its letter)]
        keep = []
        for home in found.found:
            letter = self.known.get(self.household(home))
            if letter and letter.posted_elsewhere(self.campaign, len(home.lines)):
                earlier.setdefault(letter.posted_with, []).append((home, letter))
            else:
                keep.append(home)
        if not earlier:
            return rows, found, []
        left_out: set[int] = set()
        summary = []
        for other, homes in sorted(earlier.items()):
            people = sum(len(home.lines) for home, _ in homes)
            day = max(letter.posted_on for _, letter in homes)
            left_out |= {line for home, _ in homes for line in home.lines}
            print(f"notis: {len(homes)} household(s) ({people} people) already posted with campaign {other} on "
                  f"{day}: not again", file=sys.stderr)
            summary.append((other, len(homes), people, day))
        return [r for r in rows if r.line not in left_out], Households(keep, found.unusable), summary

    def record_earlier(self, summary: list[tuple[str, int, int, str]]) -> None:
        from chalicelib.campaigns.posted import PostedLetters
        from notis_cli.commands._common import now_iso

        posted = PostedLetters(self.ctx.ddb, self.ctx.settings.table)
        for other, households, people, day in summary:
            posted.record_earlier(self.campaign, send_id=self.send_id, earlier=other, households=households,
                                  people=people, posted_on=day, at=now_iso())

    def reference(self, incident: Any) -> Any:
        """Each letter's reference code, recorded as the e-mail's are (`code#<CODE>`, chalicelib/verify/codes.py)
        before it is printed, so the /verify page knows it: send id, campaign, the household's first recipient
        key ("" when nobody there has an e-mail address), the day, and the incident's retention.

        Once per household and send: a household that already has a code for this send (an earlier --pdf, of
        this campaign or another of the same send) gets the same one again, so a reprinted letter and the first
        verify alike and no code is recorded twice."""
        import time

        from chalicelib.mail.reference import new_reference
        from chalicelib.verify.codes import CodeBook, CodeTaken

        book = CodeBook(self.ctx.ddb, self.ctx.settings.table)

        def reference(home: Any) -> str:
            household = self.household(home)
            if household in self.codes:
                return self.codes[household]
            now = time.time()
            expires_at = int(now + incident.retention_days * 86400)
            for _ in range(5):  # a collision is about 1 in 2^58: a new code, not a failure
                code = new_reference()
                try:
                    book.record(code, send_id=self.send_id, campaign=self.campaign, key=home.key, now=now,
                                expires_at=expires_at, channel="letter")
                except CodeTaken:
                    continue
                # the record first, then the index: an index entry always names a recorded code
                self.codes[household] = self.index.claim(self.send_id, household, code, campaign=self.campaign,
                                                         expires_at=expires_at, now=now)
                return self.codes[household]
            raise RuntimeError("no free reference code after 5 tries")

        return reference

    def mark_posted(self, found: Any, incident: Any, *, on: date) -> int:
        """Record the households not yet posted as posted on `on`, then the batch (counts only), the audit
        request and the code records' posting day; a run that finds nothing new records nothing."""
        import time

        from chalicelib.campaigns.posted import PostedLetters
        from notis_cli.commands._common import ask_importer, whoami

        if not found.found:
            print("notis: no letter of this campaign is left to post; nothing recorded", file=sys.stderr)
            return 0
        at = datetime.now(UTC).isoformat(timespec="microseconds")  # the batch's key: two runs in one second
        expires_at = int(time.time() + incident.retention_days * 86400)
        new = [home for home in found.found if self.index.mark_posted(
            self.send_id, self.household(home), campaign=self.campaign, people=len(home.lines), on=on.isoformat(),
            at=at, expires_at=expires_at)]
        if not new:
            days = sorted({letter.posted_on for h in map(self.household, found.found)
                           if (letter := self.known.get(h)) and letter.posted})
            when = f"on {', '.join(days)}" if days else "a moment ago"
            print(f"notis: these {len(found.found)} letter(s) are already recorded as posted {when}; nothing "
                  "recorded", file=sys.stderr)
            return 0
        by = whoami()
        letters, people = len(new), sum(len(home.lines) for home in new)
        if not PostedLetters(self.ctx.ddb, self.ctx.settings.table).record(
                self.campaign, send_id=self.send_id, letters=letters, people=people, posted_on=on.isoformat(),
                by=by, at=at):
            raise RuntimeError(f"a batch recorded at {at} is there already")  # the key has microseconds
        # The audit trail, as for every staff action: the importer records it with the SQS SenderId (staff cannot
        # write the trail themselves); counts and the send only.
        ask_importer(self.ctx.settings, {"notis": "letters-posted", "campaign": self.campaign,
                                         "send_id": self.send_id, "letters": letters, "people": people,
                                         "posted_on": on.isoformat()})
        already = len(found.found) - len(new)
        print(f"recorded: {letters} letter(s) to {people} people posted on {on.isoformat()} for {self.send_id}, "
              f"by {by}" + (f" ({already} recorded as posted before: not again)" if already else ""))
        dated = self._date_codes(new, on=on)
        if dated:
            print(f"the public check now says {on.isoformat()} for {dated} letter code(s)")
        return 0

    def _date_codes(self, homes: list[Any], *, on: date) -> int:
        """The posting day into the code record of each letter just posted that has one (made with --pdf) and
        was not dated before: the public answer then says when the letter was posted, not printed."""
        from chalicelib.verify.codes import CodeBook

        book = CodeBook(self.ctx.ddb, self.ctx.settings.table)
        codes = [self.codes.get(self.household(home)) for home in homes]
        return sum(book.mark_posted(code, on=on.isoformat()) for code in codes if code)


@contextlib.contextmanager
def _opened(path: Path, **text: Any) -> Iterator[Any]:
    """`path` open for writing, readable only by the staff member (0600), replacing what was there; removed
    again if the command fails before it is complete, so no half-written list is left behind as the list."""
    out = open_private(path.expanduser(), "w" if text else "wb", **text)
    try:
        with out:
            yield out
    except BaseException:
        path.expanduser().unlink(missing_ok=True)
        raise


def _csv_file(rows: Iterable[Any], out: TextIO, path: Path) -> None:
    n = write_csv(rows, out)
    print(f"{n} letter(s) written to {path.expanduser().resolve()}: the file {PERSONAL_DATA}", file=sys.stderr)


def _key_of(ctx: Context) -> Any:
    """A letter row's recipient key (the ledger's pseudonym of its e-mail address), "" without a usable one."""
    from chalicelib.recipients import InvalidEmail, normalise_email, recipient_key

    def key_of(row: Any) -> str:
        try:
            return recipient_key(normalise_email(row.email), ctx.settings.hmac_key) if row.email else ""
        except InvalidEmail:
            return ""

    return key_of


def _pdf(found: Any, incident: Any, spec: Any, out: Any, path: Path, *, on: date, reference: Any) -> None:
    from notis_cli.letters.build import letters_for
    from notis_cli.letters.pdf import write_letters

    if not found.found:
        print("notis: no letter left to print (nobody still on the letter list has a usable postal address): no PDF "
              "was written", file=sys.stderr)
        return
    written = write_letters(letters_for(incident, spec, found.found, on=on, reference=reference), out)
    print(f"{written} letter(s) to {found.people} people written to {path.expanduser().resolve()} (A4, for C5/C65 "
          f"window envelopes): the PDF {PERSONAL_DATA}", file=sys.stderr)


def _unusable(found: Any) -> None:
    if not found.unusable:
        return
    lines = ", ".join(str(line) for line, _ in found.unusable[:20])
    more = f" and {len(found.unusable) - 20} more" if len(found.unusable) > 20 else ""
    print(f"notis: {len(found.unusable)} people need a letter but have no usable postal address (rows {lines}"
          f"{more} of the uploaded file): find them another way; notis check-recipients on the file says why",
          file=sys.stderr)
