"""Startup time of the local stack (`make run`), against a bare moto server started the usual way.

For each run: the wall time from spawning the process to the first HTTP 200 of the page (measured here, from
outside), the figures the stack prints itself (page served / everything running), and, as the baseline measured in
the same run, the time from spawning `python -m moto.server` to its first HTTP answer. Goal: page < 3 s.

    .venv/bin/python bench/stack.py [RUNS]

With --send [ROWS] (1,000 by default) it measures the local pipeline's sending rate instead: one stack started
empty, a generated file of ROWS distinct people uploaded over HTTP as `aws s3 cp` would, and the rate at which the
ledger marks them sent (first to last `sent_at`), against the rate the stack is configured for
(SES_MAX_SEND_RATE in its state file), as a ratio. Goal: >= 0.9.

    .venv/bin/python bench/stack.py --send [ROWS]
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


def wait_ready(proc: subprocess.Popen, timeout: float = 90.0) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("notis local stack ready in"):
            return line
        if not line and proc.poll() is not None:
            raise SystemExit(f"the stack exited with {proc.returncode}")
    raise SystemExit(f"the stack was not ready within {timeout} s")


def sent_times(dynamodb: object, table: str, campaign_prefix: str = "send#") -> list[float]:
    """`sent_at` of every ledger entry marked sent (a full Scan: run once the sending is over)."""
    times: list[float] = []
    kwargs: dict[str, object] = {"TableName": table, "FilterExpression": "begins_with(pk, :p) AND #s = :sent",
                                 "ExpressionAttributeNames": {"#s": "state"},
                                 "ExpressionAttributeValues": {":p": {"S": campaign_prefix}, ":sent": {"S": "sent"}},
                                 "ProjectionExpression": "sent_at"}
    while True:
        out = dynamodb.scan(**kwargs)  # type: ignore[attr-defined]
        times += [float(item["sent_at"]["N"]) for item in out["Items"]]
        if "LastEvaluatedKey" not in out:
            return times
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def sent_count(dynamodb: object, table: str) -> int:
    kwargs: dict[str, object] = {"TableName": table, "Select": "COUNT", "FilterExpression": "#s = :sent",
                                 "ExpressionAttributeNames": {"#s": "state"},
                                 "ExpressionAttributeValues": {":sent": {"S": "sent"}}}
    count = 0
    while True:
        out = dynamodb.scan(**kwargs)  # type: ignore[attr-defined]
        count += int(out["Count"])
        if "LastEvaluatedKey" not in out:
            return count
        kwargs["ExclusiveStartKey"] = out["LastEvaluatedKey"]


def send_rate(rows: int) -> int:
    import json

    import boto3

    with tempfile.TemporaryDirectory() as tmp:
        state_file = Path(tmp) / "state.json"
        env = clean_env(PORT=str(free_port()), NOTIS_LOCAL_STATE=str(state_file), NOTIS_LOCAL_DATA=tmp,
                        NOTIS_LOCAL_KEEP="0")
        if os.environ.get("NOTIS_LOCAL_SEND_BATCH"):  # to compare with Lambda's batch of 10 messages
            env["NOTIS_LOCAL_SEND_BATCH"] = os.environ["NOTIS_LOCAL_SEND_BATCH"]
        proc = subprocess.Popen([sys.executable, "-m", "notis_cli.stack"], cwd=REPO, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            wait_ready(proc)
            state = json.loads(state_file.read_text())
            configured = float(state["env"].get("SES_MAX_SEND_RATE") or 14.0)
            session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x",
                                            region_name=state["region"])
            s3 = session.client("s3", endpoint_url=state["endpoint"])
            dynamodb = session.client("dynamodb", endpoint_url=state["endpoint"])
            body = "\r\n".join(["Namn;E-post"] + [f"Person {i};person{i}@example.se" for i in range(rows)])
            uploaded = time.time()
            s3.put_object(Bucket=state["env"]["NOTIS_BUCKET"], Key="uploads/korkortsportalen-2024/customers/bench.csv",
                          Body=body.encode("cp1252"))
            deadline = time.monotonic() + rows / configured * 3 + 60
            while sent_count(dynamodb, state["env"]["NOTIS_TABLE"]) < rows:
                if time.monotonic() > deadline:
                    raise SystemExit("not everyone was sent in time")
                time.sleep(2)
            times = sorted(sent_times(dynamodb, state["env"]["NOTIS_TABLE"]))
        finally:
            stop(proc)
    achieved = (len(times) - 1) / (times[-1] - times[0])
    print(f"{len(times)} e-mails sent by the local stack; first {times[0] - uploaded:.1f} s after the upload, "
          f"last {times[-1] - uploaded:.1f} s after it")
    print(f"achieved {achieved:.2f}/s (first to last sent), configured {configured:g}/s (SES_MAX_SEND_RATE): "
          f"ratio {achieved / configured:.3f} (goal >= 0.9)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if achieved / configured >= 0.9 else 1


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--send":
        return send_rate(int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
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
