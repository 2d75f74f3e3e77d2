"""Startup time of the local stack (`make run`), against a bare moto server started the usual way.

For each run: the wall time from spawning the process to the first HTTP 200 of the page (measured here, from
outside), the figures the stack prints itself (page served / everything running), and, as the baseline measured in
the same run, the time from spawning `python -m moto.server` to its first HTTP answer. Goal: page < 3 s.

    .venv/bin/python bench/stack.py [RUNS]
"""

from __future__ import annotations

import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def first_answer(url: str, proc: subprocess.Popen, started: float, timeout: float = 60.0) -> float:
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                r.read()
            return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.01)
    raise SystemExit(f"no answer from {url} within {timeout} s")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIS_", "MOTO_"))}
    return env | {"PYTHONUNBUFFERED": "1"} | extra


def run_stack(state: Path) -> tuple[float, float, float]:
    port = free_port()
    env = clean_env(PORT=str(port), NOTIS_LOCAL_STATE=str(state))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "notis_cli.stack"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    outside = first_answer(f"http://127.0.0.1:{port}/", proc, started)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    stop(proc)
    m = re.search(r"ready in ([\d.]+) s: page served ([\d.]+) s", line)
    if not m:
        raise SystemExit(f"unexpected first line: {line!r}")
    return outside, float(m.group(2)), float(m.group(1))


def run_moto() -> float:
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            env=clean_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return first_answer(f"http://127.0.0.1:{port}/moto-api/data.json", proc, started)
    finally:
        stop(proc)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    outside, page, ready, moto = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            o, p, r = run_stack(Path(tmp) / f"state-{i}.json")
            outside.append(o), page.append(p), ready.append(r), moto.append(run_moto())
            print(f"run {i + 1}: page answered after {o:.2f} s (stack says page {p:.2f} s, all running {r:.2f} s); "
                  f"bare moto server answered after {moto[-1]:.2f} s")
    med = statistics.median
    print(f"\nmedian of {runs}: page answered {med(outside):.2f} s from spawn (goal < 3 s; stack's own figure "
          f"{med(page):.2f} s), everything running {med(ready):.2f} s; bare moto server {med(moto):.2f} s")
    print(f"ratio page / bare moto server: {med(outside) / med(moto):.2f}; "
          f"everything running / bare moto server: {med(ready) / med(moto):.2f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
