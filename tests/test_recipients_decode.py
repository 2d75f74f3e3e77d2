"""Decoding: every supported encoding round-trips at any read size; the UTF-8 / Windows-1252 switch loses nothing."""

from __future__ import annotations

import io

import pytest
from botocore.response import StreamingBody
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.recipients import UnusableFile, iter_rows
from chalicelib.recipients.decode import iter_text
from tests.recipients_helpers import TrickleStream

MAX = 1 << 30
# Swedish letters in Windows-1252 are bytes >= 0xC4 that can never continue a UTF-8 sequence, so a UTF-8 reader
# fails on them at once. Bytes 0x80-0xBF (€ ’ – …) can: "Ö€" in Windows-1252 is valid UTF-8 for "ր", and no reader
# can tell such a file apart on its own; real Swedish text (å ä ö) settles the question within its first letter.
TEXT = st.text(alphabet=st.sampled_from([*"ab yzAZ09;,\t\r\n\"'-@.", *"åäöÅÄÖéÉüÜ"]), max_size=300)
ASCII = st.text(alphabet=st.sampled_from([*"ab yzAZ09;,\t\r\n\"'-@."]), max_size=3000)


def decoded(data: bytes, step: int, chunk: int = 64) -> str:
    return "".join(iter_text(TrickleStream(data, step), max_bytes=MAX, chunk_bytes=chunk))


@settings(max_examples=300)
@given(
    st.text(alphabet="ab åäöÅÄÖé\n", min_size=1, max_size=8).map(lambda s: s + "x"),
    TEXT,
    st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-16-le", "utf-16-be"]),
    st.integers(1, 40),
)
def test_round_trip_at_any_read_size(start: str, text: str, encoding: str, step: int) -> None:
    if encoding in ("utf-16-le", "utf-16-be"):
        data = ("\ufeff" + start + text).encode(encoding)  # Excel writes the BOM; little- or big-endian
    else:
        data = (start + text).encode(encoding)
    assert decoded(data, step) == start + text


@settings(max_examples=200)
@given(ASCII, TEXT, st.integers(1, 40), st.integers(8, 512))
def test_ascii_then_windows_1252_switches_without_loss(prefix: str, tail: str, step: int, chunk: int) -> None:
    text = prefix + "Ö" + tail
    assert decoded(text.encode("cp1252"), step, chunk) == text


@settings(max_examples=200)
@given(ASCII, ASCII, TEXT, st.integers(1, 40))
def test_utf8_then_windows_1252_is_refused(a: str, b: str, tail: str, step: int) -> None:
    data = (a + "å").encode() + (b + "Ö" + tail).encode("cp1252")
    with pytest.raises(UnusableFile) as info:
        decoded(data, step)
    assert info.value.code == "mixed_encoding"
    assert info.value.line == (a + "å" + b).count("\n") + 1


def test_s3_streaming_body_is_read_in_chunks() -> None:
    data = ("E-post;Namn\r\n" + "".join(f"p{i}@x.se;Åsa {i}\r\n" for i in range(20_000))).encode("utf-8-sig")
    raw = io.BytesIO(data)
    body = StreamingBody(raw, len(data))
    rows = iter_rows(body, max_bytes=MAX)
    first = next(rows)
    assert (first.line, first.email, first.name) == (2, "p0@x.se", "Åsa 0")
    assert raw.tell() < len(data) / 2
    assert sum(1 for _ in rows) == 19_999


@settings(max_examples=200)
@given(
    st.text(alphabet="ab åäöÅÄÖé;\t", min_size=2, max_size=8),
    TEXT,
    st.sampled_from(["utf-16-le", "utf-16-be"]),
    st.integers(1, 40),
)
def test_utf16_without_bom_gets_its_own_reason(start: str, text: str, encoding: str, step: int) -> None:
    """Not "binary data": staff are told what the file is and how to save it instead."""
    with pytest.raises(UnusableFile) as info:
        decoded((start + text).encode(encoding), step)
    assert info.value.code == "unknown_encoding"
    assert "UTF-16 without a byte-order mark: save as UTF-8 (CSV UTF-8) instead" in info.value.reason


@settings(max_examples=200)
@given(TEXT, st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]), st.integers(1, 40))
def test_ordinary_text_is_never_taken_for_utf16(text: str, encoding: str, step: int) -> None:
    assert decoded(("x" + text).encode(encoding), step) == "x" + text


def test_binary_data_is_still_binary_data() -> None:
    with pytest.raises(UnusableFile) as info:
        decoded(bytes(range(256)) * 20, 64)
    assert info.value.code == "not_text" and "binary data (a NUL byte near line 1)" in info.value.reason
