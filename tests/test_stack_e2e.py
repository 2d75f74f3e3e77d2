"""`make run` end to end: the stack as a subprocess on free ports, a CSV uploaded over HTTP with boto3 (as
`aws s3 cp --endpoint-url` would), every deliverable person mailed exactly once, the page served, the CLI finding
the stack by itself, and one SIGINT stopping everything: exit 0, no process left, ports free, state file gone.

The stack runs on a copy of the incidents in a temporary folder (NOTIS_CONTENT_DIR): the test edits it while the
stack runs, as staff would, and sees an invalid edit refused (the page unchanged), then a new update with
`notify: [customers]` published on the page and mailed once to each recipient, without a restart.
"""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "demo" / "kunder.csv"
READY = "notis local stack ready in"
KEY = "uploads/korkortsportalen-2024/customers/kunder.csv"
# Deliberately simpler than the app's validator: the demo's one invalid address has no @ at all.
PLAIN_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Free as a server sees it: bindable (SO_REUSEADDR, as servers bind) and nobody accepting."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def session_members(sid: int) -> list[int]:
    """Pids of live processes in the session the stack leads (itself and anything it started)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[3]) == sid:  # fields after the name: state, ppid, pgrp, session
            members.append(int(entry.name))
    return members


def expected_recipients() -> list[str]:
    """Read the demo file independently of the app: distinct, plausible addresses, case-folded."""
    rows = csv.DictReader(io.StringIO(DEMO.read_bytes().decode("cp1252"), newline=""), delimiter=";")
    addresses = {(row["E-post"] or "").strip().lower() for row in rows}
    return sorted(a for a in addresses if PLAIN_ADDRESS.match(a))


class Stack:
    def __init__(self, proc: subprocess.Popen[str], state_file: Path, stderr: Path) -> None:
        self.proc, self.state_file, self.stderr = proc, state_file, stderr
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_line(self, found: Callable[[str], bool], timeout: float, what: str) -> str:
        """The next stdout line for which `found` is true (lines before it are skipped)."""
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            seen.append(line)
            if found(line):
                return line
        pytest.fail(f"no {what} within {timeout} s; stdout: {''.join(seen)[-2000:]}\n"
                    f"stderr: {self.stderr.read_text()[-2000:]}")

    def wait_ready(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    pytest.fail(f"the stack exited with {self.proc.returncode}:\n{self.stderr.read_text()[-3000:]}")
                continue
            if line.startswith(READY):
                return line
        pytest.fail(f"the stack was not ready within {timeout} s:\n{self.stderr.read_text()[-3000:]}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[Stack, int, int]]:
    port, moto_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIS_", "SES_", "MOTO_"))}
    state_file = tmp_path / "notis-local.json"
    shutil.copytree(REPO / "chalicelib" / "incidents", tmp_path / "incidents")
    env |= {"PORT": str(port), "MOTO_PORT": str(moto_port), "NOTIS_LOCAL_STATE": str(state_file),
            "NOTIS_TICK_SECONDS": "1", "PYTHONUNBUFFERED": "1", "NOTIS_CONTENT_DIR": str(tmp_path / "incidents"),
            "NOTIS_LOCAL_DATA": str(tmp_path / "local-data"), "NOTIS_LOCAL_KEEP": "0"}
    stderr = tmp_path / "stack.err"
    with stderr.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "notis_cli.stack"], cwd=REPO, env=env, text=True,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    try:
        yield Stack(proc, state_file, stderr), port, moto_port
    finally:
        if proc.poll() is None:  # the test failed before stopping it: leave nothing behind
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def outbox_recipients(endpoint: str) -> list[str]:
    from notis_cli.commands.outbox import fetch_model_data, sent_mail

    return sorted(address for mail in sent_mail(fetch_model_data(endpoint)) for address in mail.to)


def queues_drained(sqs: Any, names: list[str]) -> bool:
    for name in names:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        if int(attrs["ApproximateNumberOfMessages"]) or int(attrs["ApproximateNumberOfMessagesNotVisible"]):
            return False
    return True


def test_make_run_end_to_end(stack: tuple[Stack, int, int]) -> None:
    import boto3

    s, port, moto_port = stack
    ready = s.wait_ready()
    assert re.search(r"page served \d+\.\d\d s after the process started", ready)
    state = json.loads(s.state_file.read_text())
    endpoint, page, env = state["endpoint"], state["page"], state["env"]
    assert endpoint == f"http://127.0.0.1:{moto_port}" and page == f"http://127.0.0.1:{port}/"
    assert session_members(s.proc.pid) == [s.proc.pid]  # threads, not children

    # A real client, over HTTP, as `aws s3 cp ... --endpoint-url` would.
    session = boto3.session.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name=state["region"])
    s3 = session.client("s3", endpoint_url=endpoint)
    sqs = session.client("sqs", endpoint_url=endpoint)
    s3.put_object(Bucket=env["NOTIS_BUCKET"], Key=KEY, Body=DEMO.read_bytes())

    expected = expected_recipients()
    assert len(expected) == 25  # 31 rows: 4 duplicates merged, 1 invalid, 1 without an address
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        got = outbox_recipients(endpoint)
        if len(got) >= len(expected) and queues_drained(sqs, [env["NOTIS_IMPORT_QUEUE"], env["NOTIS_SEND_QUEUE"]]):
            break
        time.sleep(0.5)
    assert outbox_recipients(endpoint) == expected  # everyone, and nobody twice, once nothing is left to send
    assert queues_drained(sqs, [env["NOTIS_IMPORT_DLQ"], env["NOTIS_SEND_DLQ"]])

    with urllib.request.urlopen(page, timeout=10) as response:
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]
        assert "Körkortsportalen" in response.read().decode("utf-8")

    # Local mail comes from the incident's organisation, not a placeholder.
    from notis_cli.commands.outbox import fetch_model_data, sent_mail

    senders = {mail.sender for mail in sent_mail(fetch_model_data(endpoint))}
    assert senders == {"Körkortsportalen Service AB <dataskydd@korkortsportalen.example>"}, senders

    # A code from a sent e-mail is genuine at /verify on the stack's own server (the verify function's routes,
    # reading the code record the sender wrote); a code nobody was sent is not.
    [code] = set(re.findall(r"\b[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{5}\b", sent_mail(fetch_model_data(endpoint))[0].text))
    for typed, genuine in ((code.lower(), "true"), ("ABCD-EFGH-JKMN6", "false")):
        with urllib.request.urlopen(f"{page}api/verify/{typed}", timeout=10) as response:
            assert response.headers["Cache-Control"] == "no-store"
            assert f'"genuine": {genuine}' in response.read().decode("utf-8")

    # Staff edit the content while the stack runs: first a mistake, which is not published ...
    incident_file = Path(env["NOTIS_CONTENT_DIR"]) / "korkortsportalen-2024" / "incident.yaml"
    original = incident_file.read_text(encoding="utf-8")
    incident_file.write_text(original.replace("\nstatus: monitoring\n", "\nstatus: almost-done\n", 1), encoding="utf-8")
    refused = s.wait_line(lambda line: "not published" in line, 30, "'not published' line")
    assert "problem" in refused
    with urllib.request.urlopen(page, timeout=10) as response:
        assert "Ny uppdatering från testet" not in response.read().decode("utf-8")
    # ... then a new update that notifies the customers: the page changes and each of them gets it once.
    at = (datetime.now(UTC) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    update = (f"  - id: test-uppdatering\n    at: {at}\n    status: monitoring\n    notify: [customers]\n"
              "    text:\n      sv: Ny uppdatering från testet.\n      en: A new update from the test.\n\nfaq:")
    incident_file.write_text(original.replace("\n\nfaq:", "\n" + update, 1), encoding="utf-8")
    published = s.wait_line(lambda line: "published:" in line and "not published" not in line, 30, "'published' line")
    assert "korkortsportalen-2024 (update test-uppdatering added)" in published
    with urllib.request.urlopen(page, timeout=10) as response:
        assert "Ny uppdatering från testet" in response.read().decode("utf-8")
    s.wait_line(lambda line: "update notice(s) started" in line, 30, "tick line about the update notice")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(outbox_recipients(endpoint)) >= 2 * len(expected) and queues_drained(sqs, [env["NOTIS_SEND_QUEUE"]]):
            break
        time.sleep(0.5)
    time.sleep(2)  # a second notice to anyone would show up here
    assert outbox_recipients(endpoint) == sorted(expected * 2)  # the first notice and the update, once each
    subjects: dict[str, set[str]] = {}
    for mail in sent_mail(fetch_model_data(endpoint)):
        for address in mail.to:
            subjects.setdefault(address, set()).add(mail.subject)
    assert all(len(got) == 2 for got in subjects.values())  # two different mails, not the first one twice

    # `notis outbox` in another terminal finds the stack through the state file alone.
    cli_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIS_"))}
    cli = subprocess.run([sys.executable, "-m", "notis_cli.main", "outbox"], cwd=REPO, capture_output=True,
                         text=True, timeout=60, env=cli_env | {"NOTIS_LOCAL_STATE": str(s.state_file)})
    assert cli.returncode == 0, cli.stderr
    assert endpoint in cli.stderr and f"{2 * len(expected)} e-mail(s)" in cli.stdout

    s.proc.send_signal(signal.SIGINT)
    assert s.proc.wait(timeout=20) == 0, s.stderr.read_text()[-3000:]
    assert session_members(s.proc.pid) == []
    assert port_is_free(port) and port_is_free(moto_port)
    assert not s.state_file.exists()
    s.reader.join(10)  # it ends at the end of the (closed) pipe
    shown = s.stderr.read_text() + "".join(list(s.lines.queue))
    assert '"tick"' not in shown  # the tick's JSON every second stays out of staff's way ...
    assert code not in shown.upper() and "GET /" not in shown and '"_aws"' not in shown  # no access log, no EMF
    log = (Path(env["NOTIS_CONTENT_DIR"]).parent / "local-data" / "notis.log").read_text()
    assert "send_notifications" in log and '"tick"' in log  # ... in the full log, which is there ...
    assert not any(address in log + shown for address in expected)  # ... without an e-mail address in it
