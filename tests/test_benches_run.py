"""The benchmarks still run against the current code (tiny sizes; their figures are not checked here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, goal_may_fail: bool = False) -> str:
    """The script's output; it must not crash (a missed speed goal is allowed where sizes are too small)."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert goal_may_fail or result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_send_bench_runs_and_loses_or_doubles_nothing():
    out = run("bench/send.py", "--rates", "14", "--seconds", "1", "--cost", "20", goal_may_fail=True)
    assert "duplicates 0  lost 0" in out
    assert "0 duplicates, 0 not delivered" in out  # the cost runs on moto, both of them
    assert out.count("of SES's $0.10") == 2  # the happy path and the faulty run, at the one rate


def test_import_bench_runs():
    out = run("bench/import.py", "--rows", "2000")
    assert "rows/s" in out and "peak RSS" in out


def test_page_bench_runs():
    out = run("bench/page.py", "--runs", "1", "--requests", "200")
    assert "ratio to import boto3" in out and "gzip -9" in out


def test_verify_bench_runs():
    out = run("bench/verify.py", "--requests", "3")
    assert "answers/s" in out and "ratio hit / miss" in out


def test_letters_bench_runs():
    out = run("bench/letters.py", "--people", "30")
    assert "letters/s" in out and "peak RSS" in out
