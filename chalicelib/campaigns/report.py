"""The import report staff read before anything is sent: counts, and bad rows by line number and reason.

It holds no e-mail address and no personnummer: reasons are fixed sentences, cells are formula-safe.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from chalicelib.campaigns.cells import safe_cell
from chalicelib.recipients import ImportResult, RowIssue

MAX_REPORTED_ROWS = 100_000


def counts(result: ImportResult) -> dict[str, int]:
    """Exact counts (the issue lists on the result keep only the first MAX_ISSUES_KEPT of each kind)."""
    return {
        "rows": result.rows,
        "deliverable": result.deliverable,
        "duplicates": result.duplicates_merged,
        "rejected": result.rejected_count,
        "warnings": result.warnings_count,
        "letters": result.letters_count,
        "no_postal_address": result.unreachable_count,  # need a letter but have no usable postal address
    }


def rows_csv(result: ImportResult) -> str:
    """line;kind;column;reason, sorted by line; Swedish Excel opens it (`;`, UTF-8 with BOM).

    Lists the issues the result kept; a last row says how many more there are, from the exact counts.
    """
    issues: list[tuple[RowIssue, str]] = (
        [(i, "rejected") for i in result.rejected]
        + [(i, "warning") for i in result.warnings]
        + [(i, "letter") for i in result.letters]
        + [(i, "no letter address") for i in result.unreachable]
    )
    issues.sort(key=lambda pair: (pair[0].line, pair[1]))
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["line", "kind", "column", "reason"])
    listed = issues[:MAX_REPORTED_ROWS]
    for issue, kind in listed:
        writer.writerow([issue.line, kind, safe_cell(issue.column), safe_cell(issue.reason)])
    total = result.rejected_count + result.warnings_count + result.letters_count + result.unreachable_count
    if total > len(listed):
        writer.writerow(["", "", "", f"... and {total - len(listed)} more"])
    return out.getvalue()


def summary_json(campaign: dict[str, Any]) -> str:
    return json.dumps(campaign, ensure_ascii=False, indent=1, default=str)


def first_problems(result: ImportResult, limit: int = 10) -> list[dict[str, Any]]:
    """The first bad rows, for `notis status` (GOV.UK Notify shows the first errors by row)."""
    seen: set[tuple[int, str]] = set()
    found = []
    for issue in sorted(result.rejected + result.letters + result.unreachable, key=lambda i: i.line):
        if (issue.line, issue.reason) not in seen:  # a rejected row is also on the letter list: show it once
            seen.add((issue.line, issue.reason))
            found.append({"line": issue.line, "column": issue.column, "reason": issue.reason})
    return found[:limit]
