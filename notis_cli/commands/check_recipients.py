"""`notis check-recipients FILE [--json]`: run the import's reader on a local file, with no AWS at all.

Staff see what an upload would give (rows, addresses, merged duplicates, rejected rows and warnings by line,
letters) before anything leaves their machine. Nothing from the file is printed: only counts, line numbers
and the reader's fixed reasons, so the output can be pasted into a ticket. Exit 0 when the file is usable,
2 when it is not (with --json the object is printed either way, `error` set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.recipients import ImportResult

SHOWN = 20  # rejected rows and warnings printed per kind in text mode; --json gives the first 10,000
LOCAL_KEY = b"notis check-recipients"  # keys only group addresses here; none is printed or stored
EXIT_UNUSABLE = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "check-recipients",
        help="check a recipient file (CSV) locally, without AWS: counts, rejected rows and warnings by line",
    )
    p.add_argument("file", type=Path, help="the CSV exported from your system")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(run=run)


def max_upload_bytes() -> int:
    """The deployment's size limit (NOTIS_MAX_UPLOAD_BYTES, else the default), read without loading secrets."""
    from chalicelib.config import Settings

    raw = os.environ.get("NOTIS_MAX_UPLOAD_BYTES", "").strip()
    try:
        return int(float(raw)) if raw else Settings.max_upload_bytes
    except ValueError:
        return Settings.max_upload_bytes


def check(path: Path, *, max_bytes: int) -> tuple[dict[str, Any], ImportResult | None]:
    """The --json object (counts and issues when usable, else zeros and `error`, a reason without file values),
    and the reader's result (None when unusable)."""
    from chalicelib.recipients import UnusableFile, read_recipients

    doc: dict[str, Any] = {
        "rows": 0, "deliverable": 0, "duplicates": 0, "rejected": [], "warnings": [], "letters": 0,
        "no_postal_address": [], "no_postal_address_count": 0, "error": None,
    }
    try:
        with path.open("rb") as stream:
            result = read_recipients(stream, max_bytes=max_bytes, hmac_key=LOCAL_KEY)
    except UnusableFile as exc:
        doc["error"] = exc.reason
        return doc, None
    except IsADirectoryError:
        doc["error"] = f"{path} is a folder, not a file."
        return doc, None
    except FileNotFoundError:
        doc["error"] = f"There is no file {path}."
        return doc, None
    except OSError as exc:
        doc["error"] = f"{path} could not be read ({exc.strerror or type(exc).__name__})."
        return doc, None
    doc.update(
        rows=result.rows,
        deliverable=result.deliverable,
        duplicates=result.duplicates_merged,
        rejected=[{"line": i.line, "reason": i.reason} for i in result.rejected],
        warnings=[{"line": i.line, "reason": i.reason} for i in result.warnings],
        letters=result.letters_count,
        no_postal_address=[{"line": i.line, "reason": i.reason} for i in result.unreachable],
        no_postal_address_count=result.unreachable_count,
    )
    return doc, result


def render_text(name: str, doc: dict[str, Any], result: ImportResult) -> str:
    """Counts, then the first rejected rows and warnings by line (exact counts: the lists keep the first 10,000)."""
    rejected_count, warnings_count = result.rejected_count, result.warnings_count
    from chalicelib.config import Settings

    try:  # as the import will judge it, without loading settings (no AWS, no secrets)
        threshold = float(os.environ.get("NOTIS_HOLD_THRESHOLD", "").strip() or Settings.hold_threshold)
    except ValueError:
        threshold = Settings.hold_threshold
    held = bool(result.rows) and result.rejected_count / result.rows > threshold
    lines = [
        f"{name}: usable" + (f", but {result.rejected_count / result.rows:.0%} of rows are rejected (over "
                             f"{threshold:.0%}): an upload will be held until notis approve" if held else ""),
        f"  rows                   {doc['rows']:>10,}   (= the next three)",
        f"  deliverable addresses  {doc['deliverable']:>10,}",
        f"  merged duplicates      {doc['duplicates']:>10,}",
        f"  letters                {doc['letters']:>10,}   (people with no usable e-mail address)",
        f"    rejected rows        {rejected_count:>10,}   (of the letters: an invalid e-mail address)",
        f"    no postal address    {result.unreachable_count:>10,}   (of the letters: no usable postal address "
        "either, find them another way)",
        f"  warnings               {warnings_count:>10,}",
    ]
    for title, issues, count in (
        ("rejected rows", doc["rejected"], rejected_count),
        ("warnings", doc["warnings"], warnings_count),
        ("no usable postal address", doc["no_postal_address"], result.unreachable_count),
    ):
        if not count:
            continue
        lines.append(f"{title} (line: reason):")
        lines += [f"  line {i['line']}: {i['reason']}" for i in issues[:SHOWN]]
        if count > SHOWN:
            lines.append(f"  ... and {count - SHOWN:,} more (--json lists the first {len(issues):,})")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    doc, result = check(args.file, max_bytes=max_upload_bytes())
    if args.json:
        print(json.dumps(doc, ensure_ascii=False))
    elif result is None:
        print(f"notis: {args.file.name} cannot be used: {doc['error']}", file=sys.stderr)
    else:
        print(render_text(args.file.name, doc, result))
    return EXIT_UNUSABLE if result is None else 0
