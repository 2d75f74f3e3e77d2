"""`notis check-content`: staff check their edits before publishing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from chalicelib.web import CONTENT_DIR
from notis_cli.main import main

DEMO = CONTENT_DIR / "korkortsportalen-2024" / "incident.yaml"


def test_clean_content_exits_0(capsys):
    assert main(["check-content"]) == 0
    out = capsys.readouterr().out
    assert "ok  korkortsportalen-2024" in out and "no problems found" in out


def test_problems_exit_1_with_a_readable_list(tmp_path: Path, capsys):
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del doc["advice"]
    doc["faq"][0]["question"] = {"en": "English only"}
    folder = tmp_path / "korkortsportalen-2024"
    folder.mkdir()
    (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    (tmp_path / "draft").mkdir()
    assert main(["check-content", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "incident content has 3 problem(s):" in err
    assert "  - korkortsportalen-2024/incident.yaml: advice: Art. 34: say what the person can do" in err
    assert "faq[0].question.sv: the Swedish text is missing or empty" in err
    assert "draft: has no incident.yaml" in err


def test_missing_folder(capsys, tmp_path: Path):
    assert main(["check-content", str(tmp_path / "nope")]) == 1
    assert "nope: no such file or folder (give the folder of incidents, one incident's folder or its incident.yaml)" \
        in capsys.readouterr().err


def test_installed_command_runs(tmp_path: Path):
    notis = Path(sys.executable).parent / "notis"
    result = subprocess.run([str(notis), "check-content"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "no problems found" in result.stdout


def test_no_command_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "check-content" in capsys.readouterr().err


def test_likely_mistakes_are_warned_about_but_do_not_fail(tmp_path: Path, capsys):
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    del doc["consequences"]["en"]
    doc["discovered_at"] = "2025-03-03T08:00:00+01:00"  # copied from the demo, dates left from 2024
    folder = tmp_path / "korkortsportalen-2024"
    folder.mkdir()
    (folder / "incident.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert main(["check-content", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "warning: korkortsportalen-2024: consequences: no English text" in out
    assert "updates[upptackt].at: 2024-01-17 is before discovered_at (2025-03-03)" in out
    assert "authority_report.reported_at" in out
    assert "warning(s) to look at" in out
    assert main(["preview-mail", "--incident", "korkortsportalen-2024", "--audience", "customers", "--lang", "en",
                 "--path", str(tmp_path)]) == 0
    assert "note: korkortsportalen-2024: consequences: no English text" in capsys.readouterr().err


def test_the_demo_has_no_warnings(capsys):
    assert main(["check-content"]) == 0
    assert "warning" not in capsys.readouterr().out


def write_incident(root: Path, doc: dict, folder: str = "korkortsportalen-2024") -> Path:
    path = root / folder / "incident.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_one_incident_folder_or_its_file_can_be_checked_alone(tmp_path: Path, monkeypatch, capsys):
    """An editor checking the incident they just copied gets that one, named as they would write it."""
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    path = write_incident(tmp_path / "incidents", doc)
    write_incident(tmp_path / "incidents", {"slug": "broken"}, folder="broken")
    monkeypatch.chdir(tmp_path)
    for given in ("incidents/korkortsportalen-2024", "incidents/korkortsportalen-2024/incident.yaml", str(path)):
        assert main(["check-content", given]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert "ok  korkortsportalen-2024" in out and "1 incident(s), no problems found" in out
    assert main(["check-content", "incidents"]) == 1, "the whole folder holds a broken one"


def test_a_hurried_editors_mistakes_are_listed_by_file_and_field(tmp_path: Path, monkeypatch, capsys):
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["updates"][3]["notfy"] = ["customers"]
    doc["sumary"] = doc.pop("summary")
    doc["title"]["se"] = doc["title"].pop("sv")
    write_incident(tmp_path / "incidents", doc)
    monkeypatch.chdir(tmp_path)
    assert main(["check-content", str(tmp_path / "incidents" / "korkortsportalen-2024")]) == 1
    err = capsys.readouterr().err
    file = "incidents/korkortsportalen-2024/incident.yaml"
    assert f"  - {file}: updates[3]: unknown key 'notfy' (did you mean 'notify'?)" in err
    assert f"  - {file}: unknown key 'sumary' (did you mean 'summary'?)" in err
    assert f"  - {file}: title: unknown language 'se' (did you mean 'sv'?" in err
    assert f"  - {file}: summary: is missing" in err
    assert str(tmp_path) not in err, "paths are shown relative to where the editor stands"


def test_a_copied_incident_pointing_at_the_old_page_is_warned_about(tmp_path: Path, capsys):
    doc = yaml.safe_load(DEMO.read_text(encoding="utf-8"))
    doc["slug"] = "korkortsportalen-2025"
    write_incident(tmp_path, doc, folder="korkortsportalen-2025")
    assert main(["check-content", str(tmp_path / "korkortsportalen-2025" / "incident.yaml")]) == 0
    out = capsys.readouterr().out
    assert ("warning: korkortsportalen-2025: page_url: "
            "https://incident.korkortsportalen.example/incidents/korkortsportalen-2024 does not end in this "
            "incident's slug (korkortsportalen-2025)") in out
    assert "1 warning(s) to look at" in out


def test_the_default_is_the_content_in_use(tmp_path: Path, monkeypatch, capsys):
    write_incident(tmp_path, {"slug": "half-written"}, folder="half-written")
    monkeypatch.setenv("NOTIS_CONTENT_DIR", str(tmp_path))
    assert main(["check-content"]) == 1
    assert "half-written/incident.yaml: title: is missing" in capsys.readouterr().err
