"""`notis check-content [PATH]`: validate every incident against the schema and the Art. 34 checklist."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.content.loader import ContentError, load_incidents
from chalicelib.web import CONTENT_DIR


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-content", help="validate incident content (schema and GDPR Art. 34 checklist)")
    p.add_argument("path", nargs="?", type=Path, default=CONTENT_DIR, help="folder of incidents")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        incidents = load_incidents(args.path)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 1
    from chalicelib.mail import template_problems  # a follow-up naming a missing template fails here, not when due

    mail_problems = [f"  - {i.slug}: {p}" for i in incidents for p in template_problems(i)]
    if mail_problems:
        print(f"incident e-mails have {len(mail_problems)} problem(s):", *mail_problems, sep="\n", file=sys.stderr)
        return 1
    from chalicelib.content.warnings import content_warnings

    warnings = [w for incident in incidents for w in content_warnings(incident)]
    for incident in incidents:
        langs = "sv+en" if incident.title.has("en") else "sv only"
        print(f"ok  {incident.slug}: {len(incident.updates)} updates, {len(incident.faq)} FAQ entries ({langs})")
    for warning in warnings:
        print(f"warning: {warning}")
    summary = f"; {len(warnings)} warning(s) to look at" if warnings else ""
    print(f"{len(incidents)} incident(s), no problems found{summary}")
    return 0
