"""Which keys `incident.yaml` may hold, and every key it holds that is not one of them.

A misspelt key is not an error YAML can see: `notfy:` under an update is just another field, and the
update would quietly mail nobody. So every mapping in the file is checked against the keys it may hold,
and an unknown one is an error with the nearest valid key suggested. Languages get their own word: `se`
is Northern Sami, not Swedish (`sv`), the mistake status pages keep making.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.content.text import LANGUAGES


@dataclass(frozen=True)
class TextKeys:
    """A localised text: a bare string, or one text per language code."""


@dataclass(frozen=True)
class Fields:
    """A mapping with fixed keys; each value is checked against its own shape (None: a plain value)."""

    keys: Mapping[str, Shape | None]


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class Named:
    """A mapping whose keys are names staff choose (audiences); each value has the same shape."""

    value: Shape


Shape = TextKeys | Fields | ListOf | Named

TEXT = TextKeys()
INCIDENT = Fields({
    "slug": None,
    "status": None,
    "discovered_at": None,
    "page_url": None,
    "retention_days": None,
    "title": TEXT,
    "summary": TEXT,
    "organisation": Fields({
        "name": None,
        "website": None,
        "contact": Fields({
            "email": None, "phone": None, "hours": TEXT, "support_url": None, "dpo_email": None,
        }),
    }),
    "data_categories": ListOf(TEXT),
    "what_happened": TEXT,
    "consequences": TEXT,
    "measures": TEXT,
    "advice": TEXT,
    "authority_report": Fields({"authority": None, "reported_at": None, "reference": None, "police_report": TEXT}),
    "audiences": Named(Fields({"description": TEXT})),
    "followups": ListOf(Fields({
        "id": None, "audience": None, "template": None, "at": None, "after_first_send_hours": None,
        "only_undelivered": None, "not_after_hours": None,
    })),
    "updates": ListOf(Fields({"id": None, "at": None, "status": None, "text": TEXT, "notify": None})),
    "faq": ListOf(Fields({"id": None, "question": TEXT, "answer": TEXT})),
    "components": ListOf(Fields({"id": None, "name": TEXT, "status": None})),
})

# Language codes people reach for instead of `sv` and `en`; too short for difflib to guess.
LANGUAGE_SLIPS = {
    "se": "sv", "sw": "sv", "swe": "sv", "sve": "sv", "svenska": "sv", "sv-se": "sv", "sv_se": "sv",
    "eng": "en", "engelska": "en", "english": "en", "gb": "en", "uk": "en", "us": "en", "en-gb": "en",
    "en_gb": "en", "en-us": "en", "en_us": "en",
}


@dataclass(frozen=True)
class UnknownKey:
    path: str  # where the key sits: "" for the top of the file, else e.g. "updates[3]" or "title"
    key: str
    suggestion: str | None

    @property
    def message(self) -> str:
        hint = f" (did you mean {self.suggestion!r}?)" if self.suggestion else ""
        return f"unknown key {self.key!r}{hint}"


@dataclass(frozen=True)
class UnknownLanguage(UnknownKey):
    @property
    def message(self) -> str:
        if not self.suggestion:
            return f"unknown language {self.key!r} (write Swedish under `sv:` and English under `en:`)"
        sami = " `se` is Northern Sami, Swedish is `sv`." if self.key.strip().lower() == "se" else ""
        return f"unknown language {self.key!r} (did you mean {self.suggestion!r}?{sami})"


def unknown_keys(document: Any, shape: Shape = INCIDENT, path: str = "") -> list[UnknownKey]:
    """Every key in `document` that `shape` does not allow, in file order. Values of the wrong type are skipped:
    the loader names those."""
    found: list[UnknownKey] = []
    if isinstance(shape, TextKeys):
        if isinstance(document, dict):
            for key in document:
                if key not in LANGUAGES:
                    found.append(UnknownLanguage(path, str(key), _nearest_language(key)))
    elif isinstance(shape, Fields):
        if isinstance(document, dict):
            for key, value in document.items():
                if key in shape.keys:
                    inner = shape.keys[key]
                    if inner is not None:
                        found += unknown_keys(value, inner, _join(path, str(key)))
                else:
                    found.append(UnknownKey(path, str(key), _nearest(key, list(shape.keys))))
    elif isinstance(shape, ListOf):
        if isinstance(document, list):
            for i, item in enumerate(document):
                found += unknown_keys(item, shape.item, f"{path}[{i}]")
    elif isinstance(shape, Named) and isinstance(document, dict):
        for name, value in document.items():
            found += unknown_keys(value, shape.value, _join(path, str(name)))
    return found


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _nearest(key: Any, valid: list[str]) -> str | None:
    match = difflib.get_close_matches(str(key).strip().lower(), valid, n=1)
    return match[0] if match else None


def _nearest_language(key: Any) -> str | None:
    word = str(key).strip().lower()
    return LANGUAGE_SLIPS.get(word) or _nearest(word, list(LANGUAGES))
