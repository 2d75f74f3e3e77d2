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
    assert "no such folder of incidents" in capsys.readouterr().err


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
