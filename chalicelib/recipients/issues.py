"""One problem with one row (or with the file's layout), as the report shows it: line, fixed reason, column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class RowIssue:
    line: int
    reason: str  # a fixed sentence, never a value from the file
    column: str = ""
