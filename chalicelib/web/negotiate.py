"""Which language to answer in: ?lang=, else Accept-Language, else Swedish.

Only `sv` means Swedish: `se` is Northern Sami (a peer got this wrong), and `no`/`da` are not Swedish either.
Imports nothing beyond the language list: the deployed page handler (prebuilt.py) chooses with it at cold start.
"""

from __future__ import annotations

from chalicelib.content.languages import DEFAULT_LANGUAGE, LANGUAGES

MAX_HEADER = 1024


def choose_language(query_lang: str | None, accept_language: str | None) -> str:
    if query_lang and query_lang.strip().lower() in LANGUAGES:
        return query_lang.strip().lower()
    return from_accept_language(accept_language or "")


def from_accept_language(header: str) -> str:
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in header[:MAX_HEADER].split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = _quality(params)
        if q > best_q:  # strictly greater: on a tie the earlier (user-preferred) entry stays
            best, best_q = primary, q
    return best


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0
