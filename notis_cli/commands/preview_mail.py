"""`notis preview-mail`: print the e-mail exactly as a recipient would get it, for staff to proofread."""

from __future__ import annotations

import argparse
import os
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


def _templates() -> list[str]:
    from chalicelib.mail.render import TEMPLATE_DIR

    return sorted(p.name for p in TEMPLATE_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def _plain(message: object) -> str:
    """A message for staff: the project's own folders named from its root, never as this machine's paths."""
    from notis_cli.target import REPO_ROOT

    return str(message).replace(f"{REPO_ROOT}{os.sep}", "").replace(str(REPO_ROOT), ".")


def _fail(message: object) -> int:
    print(f"notis: {_plain(message)}", file=sys.stderr)
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("preview-mail", help="print a notification e-mail for proofreading (sends nothing)")
    p.add_argument("--incident", required=True, metavar="SLUG", help="incident slug, e.g. korkortsportalen-2024")
    p.add_argument("--audience", required=True, metavar="NAME", help="audience declared in the incident")
    p.add_argument("--lang", choices=LANGUAGES, default="sv", help="language of the e-mail (default sv)")
    p.add_argument("--template", help="notice (default), update (default with --update), or a follow-up template")
    p.add_argument("--update", metavar="ID", help="the update to announce (the update template)")
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
        return _fail(exc)
    incident = incidents.get(args.incident)
    if incident is None:
        return _fail(f"no incident {args.incident!r}; there are: {', '.join(sorted(incidents)) or '(none)'}")
    declared = [a.name for a in incident.audiences]
    if args.audience not in declared:
        shown = ", ".join(declared) or "(none declared)"
        return _fail(f"incident {incident.slug!r} has no audience {args.audience!r}; it has: {shown}")
    template = args.template or ("update" if args.update else "notice")
    if template not in (templates := _templates()):
        return _fail(f"no e-mail template {template!r}; there are: {', '.join(templates)}")
    update_ids = [u.id for u in incident.updates]
    if template == "update" and args.update not in update_ids:
        known = ", ".join(update_ids) or "(none)"
        if not args.update:
            return _fail(f"an update e-mail needs the update id (--update ID); {incident.slug!r} has: {known}")
        return _fail(f"incident {incident.slug!r} has no update {args.update!r}; it has: {known}")
    spec = MailSpec(template=template, audience=args.audience, update_id=args.update)
    names = args.name if args.name is not None else SAMPLE_NAMES
    try:
        composed = compose(incident, spec, names=names, lang=args.lang, reference=new_reference())
    except MailError as exc:
        return _fail(f"cannot compose the e-mail: {exc}")
    if args.lang == "en":
        from chalicelib.content.warnings import content_warnings

        for warning in content_warnings(incident):
            if "no English text" in warning:
                print(f"notis: note: {_plain(warning)}", file=sys.stderr)
    if args.raw:
        raw = build_mime(composed, sender=SAMPLE_SENDER, to=SAMPLE_TO)
        sys.stdout.write(raw.decode("ascii", errors="replace"))
        return 0
    print(f"Subject: {composed.subject}")
    print(f"Content-Language: {composed.lang}")
    print()
    print(composed.html if args.html else composed.text, end="")
    return 0
