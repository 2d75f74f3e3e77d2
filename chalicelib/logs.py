"""Structured, pseudonymous logs: one JSON object per line, never an address, name, personnummer or phone.

Code logs counts, ids and pseudonyms (recipient keys). As a second line of defence, the formatter scrubs
anything shaped like an e-mail address, personnummer or phone number from every string it writes, and reduces
exceptions to their type and where they were raised: an exception's text may quote a cell of an upload.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from typing import Any

_SCRUB = [
    (re.compile(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+"), "[e-mail]"),
    (re.compile(r"(?<![\w-])(?:\d{2})?\d{6}[-+ ]?\d{4}(?![\w-])"), "[personnummer]"),
    (re.compile(r"(?<![\w.])(?:\+46|0)[\d -]{6,14}\d(?!\d)"), "[phone]"),
]
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUB:
        text = pattern.sub(replacement, text)
    return text


def _clean(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return scrub(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                doc[key] = _clean(value)
        if record.exc_info and record.exc_info[0]:
            frames = traceback.extract_tb(record.exc_info[2])[-3:]
            doc["exception"] = record.exc_info[0].__name__
            doc["where"] = [f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames]
        return json.dumps(doc, ensure_ascii=False, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to the process's standard error as it is at each line (a stream saved at start may be closed
    since), and when a line cannot be written says so in fixed words, without the exception being handled."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"notis: a log line could not be written ({sys.exc_info()[0].__name__})\n")
        except Exception:  # noqa: S110 - nowhere left to say it
            pass


def configure(logger: logging.Logger, level: str | None = None) -> None:
    """Give the app's logger (Chalice's, which our `notis.*` loggers propagate to) JSON output and a level.

    Also `logging.raiseExceptions = False`, as the logging docs advise for production: a handler that fails to
    write (any handler, Powertools' too) would otherwise print the traceback of the exception being handled, whose
    text may quote a row of an upload, past every formatter."""
    logging.raiseExceptions = False
    logger.setLevel((level or os.environ.get("NOTIS_LOG_LEVEL") or "INFO").upper())
    if not logger.handlers:
        logger.addHandler(StderrHandler())
    for handler in logger.handlers:
        handler.setFormatter(JsonFormatter())
