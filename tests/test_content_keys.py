"""A misspelt key in incident.yaml is an error that names where it is and what was probably meant."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.content.keys import INCIDENT, Fields, ListOf, Named, Shape, TextKeys, unknown_keys
from chalicelib.content.loader import ContentError, load_incidents, parse_incident
from chalicelib.content.model import Incident
from chalicelib.content.text import LANGUAGES
from chalicelib.web import CONTENT_DIR

DEMO = CONTENT_DIR / "korkortsportalen-2024" / "incident.yaml"


@pytest.fixture
def demo() -> dict:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def problems_of(document: dict) -> list[str]:
    _, problems = parse_incident(document, "korkortsportalen-2024/incident.yaml", "korkortsportalen-2024")
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["updates"][3].update(notfy=["customers"]),
         "korkortsportalen-2024/incident.yaml: updates[3]: unknown key 'notfy' (did you mean 'notify'?)"),
        (lambda d: d.update(sumary=d.pop("summary")),
         "korkortsportalen-2024/incident.yaml: unknown key 'sumary' (did you mean 'summary'?)"),
        (lambda d: d["title"].update(se=d["title"].pop("sv")),
         "title: unknown language 'se' (did you mean 'sv'? `se` is Northern Sami, Swedish is `sv`.)"),
        (lambda d: d["data_categories"][1].update(eng="x"),
         "data_categories[1]: unknown language 'eng' (did you mean 'en'?)"),
        (lambda d: d["faq"][0]["answer"].update(sw="x"), "faq[0].answer: unknown language 'sw' (did you mean 'sv'?)"),
        (lambda d: d["organisation"]["contact"].update(emial="a@b.se"),
         "organisation.contact: unknown key 'emial' (did you mean 'email'?)"),
        (lambda d: d["organisation"]["contact"]["hours"].update(fi="x"),
         "organisation.contact.hours: unknown language 'fi' (write Swedish under `sv:` and English under `en:`)"),
        (lambda d: d["authority_report"].update(refrence="x"),
         "authority_report: unknown key 'refrence' (did you mean 'reference'?)"),
        (lambda d: d["audiences"]["customers"].update(descripton="x"),
         "audiences.customers: unknown key 'descripton' (did you mean 'description'?)"),
        (lambda d: d["followups"][0].update(only_undeliverd=True),
         "followups[0]: unknown key 'only_undeliverd' (did you mean 'only_undelivered'?)"),
        (lambda d: d["faq"][2].update(qestion=d["faq"][2].pop("question")),
         "faq[2]: unknown key 'qestion' (did you mean 'question'?)"),
    ],
)
def test_a_misspelt_key_is_an_error_with_the_nearest_valid_key(demo, mutate, expected):
    mutate(demo)
    found = problems_of(demo)
    assert any(expected in p for p in found), found


def test_a_key_nothing_resembles_gets_no_guess(demo):
    demo["updates"][0]["colour"] = "red"
    assert "korkortsportalen-2024/incident.yaml: updates[0]: unknown key 'colour'" in problems_of(demo)


def test_audience_names_are_chosen_by_staff_not_misspellings(demo):
    demo["audiences"]["press"] = {"description": {"sv": "Journalister"}}
    assert problems_of(demo) == []


def test_the_app_refuses_to_start_with_the_same_list(tmp_path, demo):
    """load_incidents is what the app calls at start-up: the typo stops it with the same words."""
    demo["updates"][3]["notfy"] = ["customers"]
    folder = tmp_path / "korkortsportalen-2024"
    folder.mkdir()
    (folder / "incident.yaml").write_text(yaml.safe_dump(demo, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match=r"updates\[3\]: unknown key 'notfy' \(did you mean 'notify'\?\)"):
        load_incidents(tmp_path)


def test_the_schema_knows_every_field_of_the_model():
    """A field added to the model but not to the key list would be refused in every file."""
    assert isinstance(INCIDENT, Fields)
    assert set(INCIDENT.keys) == {f.name for f in dataclasses.fields(Incident)} - {"source"}


# ---- properties: documents built from the schema itself ----

PLAIN = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
NAME = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


def valid(shape: Shape | None) -> st.SearchStrategy[Any]:
    """Any document whose keys are all valid for `shape`: any subset of keys, any values at the leaves."""
    if shape is None:
        return PLAIN
    if isinstance(shape, TextKeys):
        return st.text(max_size=8) | st.dictionaries(st.sampled_from(LANGUAGES), st.text(max_size=8))
    if isinstance(shape, ListOf):
        return st.lists(valid(shape.item), max_size=3)
    if isinstance(shape, Named):
        return st.dictionaries(NAME, valid(shape.value), max_size=3)
    return st.fixed_dictionaries({}, optional={k: valid(v) for k, v in shape.keys.items()})


@given(valid(INCIDENT))
def test_any_document_of_valid_keys_passes(document):
    assert unknown_keys(document) == []


def mappings_in(document: Any, shape: Shape | None, path: str = "") -> list[tuple[dict, str, Shape]]:
    """Every mapping the schema checks in `document`, with its path as messages show it."""
    found: list[tuple[dict, str, Shape]] = []
    if isinstance(shape, TextKeys | Fields) and isinstance(document, dict):
        found.append((document, path, shape))
    if isinstance(shape, Fields) and isinstance(document, dict):
        for key, value in document.items():
            found += mappings_in(value, shape.keys[key], f"{path}.{key}" if path else key)
    elif isinstance(shape, ListOf) and isinstance(document, list):
        for i, item in enumerate(document):
            found += mappings_in(item, shape.item, f"{path}[{i}]")
    elif isinstance(shape, Named) and isinstance(document, dict):
        for name, value in document.items():
            found += mappings_in(value, shape.value, f"{path}.{name}" if path else name)
    return found


@given(valid(INCIDENT), st.data(), st.text(min_size=1, max_size=12))
def test_one_unknown_key_is_reported_once_with_its_path(document, data, key):
    places = mappings_in(document, INCIDENT)
    target, path, shape = data.draw(st.sampled_from(places))
    allowed = LANGUAGES if isinstance(shape, TextKeys) else tuple(shape.keys)
    if key in allowed:
        return
    target[key] = "typo"
    [found] = unknown_keys(document)
    assert (found.path, found.key) == (path, key)


@given(st.sampled_from(["se", "SE", "swe", "svenska", "sv-SE"]))
def test_swedish_is_never_filed_under_sami(code):
    [found] = unknown_keys({"title": {code: "Intrång"}})
    assert found.suggestion == "sv" and "(did you mean 'sv'?" in found.message
