"""`notis check-content [PATH]`: validate incidents against the schema and the Art. 34 checklist.

PATH is the folder of incidents (the default: the packaged ones, or NOTIS_CONTENT_DIR), one incident's folder,
or its `incident.yaml`: an editor checking the incident they just copied need not read about the others.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chalicelib.content.loader import INCIDENT_FILE, ContentError, Problem, load_incidents, read_incident_file
from chalicelib.content.model import Incident


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check-content", help="validate incident content (schema and GDPR Art. 34 checklist)")
    p.add_argument("path", nargs="?", type=Path, default=None,
                   help=f"the folder of incidents, one incident's folder or its {INCIDENT_FILE} (default: all)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        incidents = _incidents(args.path)
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


def _incidents(path: Path | None) -> list[Incident]:
    """The incidents PATH names: a whole folder of them, or one (its folder or its file)."""
    if path is None:
        from chalicelib.content.published import content_dir

        path = content_dir()
    shown = _relative(path)
    if not path.exists():
        raise ContentError([Problem(str(shown), "", f"no such file or folder (give the folder of incidents, "
                                                    f"one incident's folder or its {INCIDENT_FILE})")])
    file = path if path.is_file() else path / INCIDENT_FILE
    if not file.is_file():
        return load_incidents(shown)
    incident, problems = read_incident_file(file, str(_relative(file)))
    if problems or incident is None:
        raise ContentError(problems)
    return [incident]


def _relative(path: Path) -> Path:
    """The path as short as it reads best: relative to the current folder when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path
