"""The log formatter: JSON lines, and a second line of defence against personal data."""

from __future__ import annotations

import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.logs import JsonFormatter, scrub


def record(message: str, **extra) -> logging.LogRecord:
    rec = logging.LogRecord("notis.test", logging.WARNING, __file__, 1, message, (), None)
    for key, value in extra.items():
        setattr(rec, key, value)
    return rec


def test_json_line_with_extra_fields():
    line = JsonFormatter().format(record("campaign queued", campaign="c0123456789abcdef0123", messages=6))
    doc = json.loads(line)
    assert doc == {"level": "WARNING", "logger": "notis.test", "message": "campaign queued",
                   "campaign": "c0123456789abcdef0123", "messages": 6}


def test_exceptions_keep_type_and_place_but_not_their_text():
    try:
        raise ValueError("row 3: anna@example.se is not valid")
    except ValueError:
        import sys

        rec = record("failed")
        rec.exc_info = sys.exc_info()
    doc = json.loads(JsonFormatter().format(rec))
    assert doc["exception"] == "ValueError" and "anna@example.se" not in json.dumps(doc)
    assert doc["where"][-1].startswith("test_logs.py:")


def test_values_shaped_like_personal_data_are_scrubbed_everywhere():
    line = JsonFormatter().format(record("sent to anna@example.se", detail={"pnr": "19850101-0022"},
                                         phones=["070-111 22 33", "+46 70 111 22 33"]))
    doc = json.loads(line)
    assert set(doc) >= {"detail", "phones"} and doc["detail"]["pnr"] and len(doc["phones"]) == 2, "kept, scrubbed"
    for secret in ("anna@example.se", "19850101-0022", "070-111 22 33", "+46 70 111 22 33"):
        assert secret not in line


@given(st.from_regex(r"[a-z0-9._+-]{1,20}@[a-z0-9-]{1,20}\.[a-z]{2,6}", fullmatch=True), st.text(max_size=20))
def test_any_address_is_scrubbed(address, around):
    assert address not in scrub(f"{around} {address} {around}")


@given(st.from_regex(r"(19|20)?[0-9]{6}[-+]?[0-9]{4}", fullmatch=True))
def test_any_personnummer_shape_is_scrubbed(number):
    assert number not in scrub(f"pnr {number}.")


def test_ids_and_timestamps_survive():
    text = "campaign c0123456789abcdef0123 key 3f2a9b8c at 2024-01-17T10:30:00+01:00 rows 123456"
    assert scrub(text) == text


def test_a_handler_that_cannot_write_never_prints_the_exception_being_handled(capsys):
    """A stream closed under a handler (a test's capture, a broken pipe) made logging print the traceback of the
    exception being handled, whose text quoted a person, straight to standard error."""
    import io

    from chalicelib.logs import configure

    logger = logging.getLogger("notis-test-broken-stream")
    logger.handlers.clear()
    configure(logger)
    closed = io.StringIO()
    closed.close()
    logger.addHandler(logging.StreamHandler(closed))  # as a library's handler might hold a closed stream
    try:
        raise KeyError("no template for Anna Andersson <anna@example.se>")
    except KeyError:
        logger.warning("render failed")
    err = capsys.readouterr().err
    assert "render failed" in err  # our own handler still wrote the line, to the stream of now
    assert "anna@example.se" not in err and "Anna Andersson" not in err
