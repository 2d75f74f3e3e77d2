"""Incident content: the demo incident is valid, and every kind of mistake staff can make is named clearly."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.content.loader import ContentError, load_incidents, parse_incident, read_incident_file
from chalicelib.web import CONTENT_DIR

DEMO = CONTENT_DIR / "korkortsportalen-2024" / "incident.yaml"


@pytest.fixture
def demo() -> dict:
    return yaml.safe_load(DEMO.read_text(encoding="utf-8"))


def problems_of(document: dict) -> list[str]:
    incident, problems = parse_incident(document, "x/incident.yaml", "korkortsportalen-2024")
    assert (incident is None) == bool(problems)
    return [f"{p.field}: {p.message}" for p in problems]


def test_demo_incident_is_valid_and_complete():
    [incident] = load_incidents(CONTENT_DIR)
    assert incident.slug == "korkortsportalen-2024"
    assert incident.discovered_at.date().isoformat() == "2024-01-17"
    assert incident.updated_at.date().isoformat() == "2024-01-22"
    assert len(incident.faq) >= 8
    assert {a.name for a in incident.audiences} == {"customers", "schools"}
    kinds = " ".join(c.in_lang("sv") for c in incident.data_categories).lower()
    for kind in ("namn", "personnummer", "postadress", "telefon", "e-post", "ip-adress", "betalsätt"):
        assert kind in kinds
    every_text = [incident.title, incident.summary, incident.what_happened, incident.consequences,
                  incident.measures, incident.advice, *(f.question for f in incident.faq),
                  *(f.answer for f in incident.faq), *(u.text for u in incident.updates)]
    assert all(t.has("sv") and t.has("en") for t in every_text), "the demo is fully translated"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("what_happened", "what_happened: Art. 34: say what happened"),
        ("consequences", "consequences: Art. 34: say the likely consequences"),
        ("measures", "measures: Art. 34: say the measures taken"),
        ("advice", "advice: Art. 34: say what the person can do"),
        ("data_categories", "data_categories: is missing"),
        ("slug", "slug: is missing"),
        ("title", "title: is missing"),
        ("updates", "updates: is missing"),
        ("organisation", "organisation: is missing"),
    ],
)
def test_each_missing_required_part_is_named(demo, field, expected):
    del demo[field]
    assert any(p.startswith(expected) for p in problems_of(demo)), problems_of(demo)


def test_contact_point_is_required_by_art34(demo):
    demo["organisation"]["contact"] = {"hours": {"sv": "Vardagar"}}
    assert any("Art. 34: give a contact point" in p for p in problems_of(demo))


def test_empty_category_list_is_an_art34_problem(demo):
    demo["data_categories"] = []
    assert any("name at least one kind of personal data" in p for p in problems_of(demo))


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(status="on fire"), "status: 'on fire' is not one of investigating"),
        (lambda d: d.update(slug="Bad Slug!"), "slug: 'Bad Slug!' must be lowercase"),
        (lambda d: d.update(slug="another-name"), "differs from the folder name"),
        (lambda d: d.update(page_url="http://insecure.example"), "page_url: must be the https:// address"),
        (lambda d: d.update(discovered_at="last tuesday"), "discovered_at: is not a date or time"),
        (lambda d: d.update(discovered_at="2024-01-17T10:30:00"), "needs a time zone offset"),
        (lambda d: d["title"].pop("sv"), "title.sv: the Swedish text is missing"),
        (lambda d: d["title"].update(de="Einbruch"), "title: unknown language 'de' (write Swedish under `sv:`"),
        (lambda d: d["updates"][0].update(status="done"), "updates[0].status: 'done' is not one of"),
        (lambda d: d["updates"][1].update(id=d["updates"][0]["id"]), "updates[1].id: 'upptackt' is used twice"),
        (lambda d: d["updates"][0].update(notify=["press"]), "audience 'press' is not declared"),
        (lambda d: d["faq"][2].pop("answer"), "faq[2].answer: is missing"),
        (lambda d: d.update(titel="typo"), "unknown key 'titel' (did you mean 'title'?)"),
        (lambda d: d["organisation"]["contact"].update(support_url="javascript:alert(1)"), "must be an https://"),
        (lambda d: d.update(retention_days=-3), "retention_days: must be a number"),
        (lambda d: d.update(followups=[{"id": "f1", "audience": "customers", "template": "reminder"}]),
         "give exactly one of `at`"),
        (lambda d: d.update(faq="not a list"), "faq: must be a list"),
    ],
)
def test_each_schema_error_names_field_and_reason(demo, mutate, expected):
    mutate(demo)
    found = problems_of(demo)
    assert any(expected in p for p in found), found


def test_all_problems_reported_at_once(demo):
    for key in ("what_happened", "consequences", "advice"):
        del demo[key]
    demo["status"] = "unknown"
    assert len(problems_of(demo)) >= 4


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "the file is empty"),
        (b"slug: [unclosed", "YAML syntax error"),
        (b"\xff\xfe\x00garbage\x81", "not UTF-8"),
        (b"- just\n- a list\n", "must be a mapping"),
        (b"just a sentence", "must be a mapping"),
    ],
)
def test_unreadable_files_get_a_plain_reason(tmp_path: Path, raw, expected):
    path = tmp_path / "demo" / "incident.yaml"
    path.parent.mkdir()
    path.write_bytes(raw)
    incident, problems = read_incident_file(path)
    assert incident is None
    assert any(expected in str(p) for p in problems), problems


def test_huge_file_refused(tmp_path: Path):
    path = tmp_path / "demo" / "incident.yaml"
    path.parent.mkdir()
    path.write_bytes(b"# " + b"x" * (2 * 1024 * 1024))
    _, problems = read_incident_file(path)
    assert "larger than" in str(problems[0])


def test_yaml_tags_that_execute_are_refused(tmp_path: Path):
    path = tmp_path / "demo" / "incident.yaml"
    path.parent.mkdir()
    path.write_text("slug: !!python/object/apply:os.system ['echo hacked']\n")
    incident, problems = read_incident_file(path)
    assert incident is None and "YAML" in str(problems[0])


def test_folder_without_incident_file_and_empty_folder(tmp_path: Path):
    with pytest.raises(ContentError, match="holds no incident folder"):
        load_incidents(tmp_path)
    (tmp_path / "half-done").mkdir()
    with pytest.raises(ContentError, match=r"has no incident\.yaml"):
        load_incidents(tmp_path)


def test_content_error_lists_every_problem_readably(tmp_path: Path, demo):
    bad = copy.deepcopy(demo)
    del bad["advice"]
    folder = tmp_path / "korkortsportalen-2024"
    folder.mkdir()
    (folder / "incident.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_incidents(tmp_path)
    message = str(caught.value)
    assert message.startswith("incident content has 1 problem(s):")
    assert "korkortsportalen-2024/incident.yaml: advice: Art. 34" in message


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)


@given(YAML_VALUES)
def test_any_yaml_document_gives_problems_not_a_crash(document):
    incident, problems = parse_incident(document, "fuzz/incident.yaml", "fuzz")
    assert incident is None and problems
    assert all(str(p).startswith("fuzz/incident.yaml") for p in problems)


@given(st.dictionaries(st.sampled_from(["title", "what_happened", "advice", "status", "slug", "faq", "updates"]),
                       st.none() | st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=3)))
def test_any_field_value_gives_problems_not_a_crash(overrides):
    document = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    document.update(overrides)
    incident, problems = parse_incident(document, "x/incident.yaml", "korkortsportalen-2024")
    assert (incident is None) == bool(problems)
    required = ("title", "what_happened", "advice", "updates")
    if any(key in required and value is None for key, value in overrides.items()):
        assert problems, "a required part set to nothing is a problem"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["organisation"].update(website="javascript:alert(1)"), "organisation.website: must be an https"),
        (lambda d: d["organisation"]["contact"].update(email="javascript:alert(1)"), "is not an e-mail address"),
        (lambda d: d["organisation"]["contact"].update(dpo_email="dpo at example"), "is not an e-mail address"),
    ],
)
def test_links_and_addresses_in_the_organisation_are_checked(demo, mutate, expected):
    mutate(demo)
    assert any(expected in p for p in problems_of(demo)), problems_of(demo)


@pytest.mark.parametrize(
    ("page_url", "warned"),
    [
        ("https://incident.korkortsportalen.example/incidents/korkortsportalen-2024", False),
        ("https://incident.korkortsportalen.example/incidents/korkortsportalen-2024/", False),
        ("https://incident.korkortsportalen.example/incidents/korkortsportalen-2024?lang=en", False),
        ("https://incident.korkortsportalen.example/incidents/webbshop-2023", True),
        ("https://incident.korkortsportalen.example/", True),
    ],
)
def test_a_page_url_that_is_not_this_incidents_page_is_a_warning(page_url, warned):
    from chalicelib.content.warnings import content_warnings

    [incident] = load_incidents(CONTENT_DIR)
    found = [w for w in content_warnings(dataclasses.replace(incident, page_url=page_url)) if "page_url" in w]
    assert bool(found) == warned, found
