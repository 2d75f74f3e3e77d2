"""`notis preview-mail`: print the e-mail exactly as a recipient would get it, for staff to proofread."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.content.loader import ContentError, load_incidents
from chalicelib.content.text import LANGUAGES

SAMPLE_NAMES = ["Anna Andersson"]
SAMPLE_SENDER = "Notis <notis@example.org>"
SAMPLE_TO = "anna.andersson@example.se"


def _content_dir() -> Path:
    from chalicelib.content.published import content_dir

    return content_dir()


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview-mail", help="print a notification e-mail for proofreading (sends nothing)")
    p.add_argument("--incident", required=True, metavar="SLUG", help="incident slug, e.g. korkortsportalen-2024")
    p.add_argument("--audience", required=True, metavar="NAME", help="audience declared in the incident")
    p.add_argument("--lang", choices=LANGUAGES, default="sv", help="language of the e-mail (default sv)")
    p.add_argument("--template", default="notice", help="notice (default), update, or a follow-up template")
    p.add_argument("--update", metavar="ID", help="the update to announce (with --template update)")
    p.add_argument("--name", action="append", help="name in the greeting (repeat for several; default a sample)")
    form = p.add_mutually_exclusive_group()
    form.add_argument("--html", action="store_true", help="print the HTML part instead of the plain text")
    form.add_argument("--raw", action="store_true", help="print the whole MIME message as SES would get it")
    p.add_argument("--path", type=Path, default=None, help="folder of incidents (default: the packaged ones)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from chalicelib.mail import MailError, MailSpec, build_mime, compose, new_reference

    try:
        incidents = {i.slug: i for i in load_incidents(args.path or _content_dir())}
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    incident = incidents.get(args.incident)
    if incident is None:
        print(f"no incident {args.incident!r}; there are: {', '.join(sorted(incidents))}", file=sys.stderr)
        return 1
    declared = [a.name for a in incident.audiences]
    if args.audience not in declared:
        shown = ", ".join(declared) or "(none declared)"
        print(f"incident {incident.slug!r} has no audience {args.audience!r}; it has: {shown}", file=sys.stderr)
        return 1
    spec = MailSpec(template=args.template, audience=args.audience, update_id=args.update)
    names = args.name if args.name is not None else SAMPLE_NAMES
    try:
        composed = compose(incident, spec, names=names, lang=args.lang, reference=new_reference())
    except MailError as exc:
        print(f"cannot compose the e-mail: {exc}", file=sys.stderr)
        return 1
    if args.lang == "en":
        from chalicelib.content.warnings import content_warnings

        for warning in content_warnings(incident):
            if "no English text" in warning:
                print(f"note: {warning}", file=sys.stderr)
    if args.raw:
        raw = build_mime(composed, sender=SAMPLE_SENDER, to=SAMPLE_TO)
        sys.stdout.write(raw.decode("ascii", errors="replace"))
        return 0
    print(f"Subject: {composed.subject}")
    print(f"Content-Language: {composed.lang}")
    print()
    print(composed.html if args.html else composed.text, end="")
    return 0
