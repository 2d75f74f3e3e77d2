"""The staff commands as a shell runs them: piped to `head`, or with nothing to talk to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTIS = [sys.executable, "-m", "notis_cli.main"]


def _raw_mail(n: int) -> str:
    msg = EmailMessage()
    msg["From"], msg["To"] = "notis@example.org", f"person{n}@example.se"
    msg["Subject"] = f"Information om personuppgiftsincidenten hos Körkortsportalen ({n})"
    msg.set_content("Hej!\n" * 5)
    return msg.as_string()


@pytest.fixture(scope="module")
def fake_outbox() -> Iterator[str]:
    """A stand-in for the local stack's moto server: /moto-api/data.json with 1,000 accepted e-mails."""
    data = json.dumps({"ses": {"RawMessage": [{"id": str(n), "raw_data": _raw_mail(n)} for n in range(1000)],
                               "Message": []}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AWS settings, credentials or local stack from this machine leak into the command."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "NOTIS_"))}
    env.update({"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true", "NOTIS_LOCAL_STATE": str(tmp_path / "no-stack.json"),
                "HOME": str(tmp_path)})
    env.update(extra)
    return env


@pytest.mark.parametrize("args", [["outbox"], ["outbox", "--show", "25"]])
def test_piped_to_head_the_command_stops_quietly(fake_outbox, tmp_path, args):
    """`notis outbox | head -1`: head closes the pipe early; no BrokenPipeError traceback, exit 141 or 0."""
    env = _env(tmp_path, AWS_ENDPOINT_URL=fake_outbox)
    notis = subprocess.Popen([*NOTIS, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=notis.stdout, stdout=subprocess.PIPE)
    assert notis.stdout is not None
    notis.stdout.close()  # head alone holds the reading end, as in a shell pipeline
    first_line, _ = head.communicate(timeout=60)
    _, stderr = notis.communicate(timeout=60)
    assert first_line.strip(), "head got the first line"
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr.decode()
    assert notis.returncode in (0, 141)


def test_a_big_listing_piped_to_head_exits_141_as_a_shell_tool_would(fake_outbox, tmp_path):
    result = subprocess.run(["bash", "-c", 'set -o pipefail; "$@" | head -1 >/dev/null', "bash", *NOTIS,
                             "outbox"], cwd=ROOT, env=_env(tmp_path, AWS_ENDPOINT_URL=fake_outbox),
                            capture_output=True, timeout=60, check=False)
    assert result.returncode == 141, result.stderr.decode()
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("args", [["info"], ["info", "--json"]])
def test_info_without_a_stack_or_credentials_fails_with_the_usual_line(tmp_path, args):
    result = subprocess.run([*NOTIS, *args], cwd=ROOT, env=_env(tmp_path, AWS_DEFAULT_REGION="eu-north-1"),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == ("notis: no local stack is running and no AWS credentials were found: start one with "
                             "`make run`, or set AWS credentials (or --profile) for the deployment\n")
