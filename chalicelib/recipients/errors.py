"""The one error an import can end with: the file cannot be used at all, said in words staff understand."""

from __future__ import annotations


class UnusableFile(Exception):
    """The file sends nothing. `reason` is for staff (never contains a value from the file); `code` is for code."""

    def __init__(self, code: str, reason: str, *, line: int | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.line = line

    def __repr__(self) -> str:
        return f"UnusableFile({self.code!r}, {self.reason!r})"
