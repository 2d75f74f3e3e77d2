"""Which AWS a `notis` command talks to: the local stack while it runs, else the standard AWS environment.

`python -m notis_cli.stack` writes a small state file (the endpoint, region and the provisioned names) and removes
it on shutdown. A command run from another terminal reads it, checks that the stack's process is still alive, and
points boto3 at it. An explicit `AWS_ENDPOINT_URL` or `--profile` always wins over the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_ENV = "NOTIS_LOCAL_STATE"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def state_path() -> Path:
    """`.notis-local.json` in the repository root (git-ignored); NOTIS_LOCAL_STATE moves it (tests)."""
    return Path(os.environ.get(STATE_ENV) or REPO_ROOT / ".notis-local.json")


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def write_state(state: dict[str, Any], path: Path | None = None) -> Path:
    """Write atomically, so a command never reads half a file."""
    path = path or state_path()
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    """The running stack's state, or None when there is none, it is unreadable, or its process is gone."""
    path = path or state_path()
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("endpoint"), str):
        return None
    pid = state.get("pid")
    if not isinstance(pid, int) or not pid_alive(pid):
        return None
    return state


def remove_state(pid: int, path: Path | None = None) -> None:
    """Remove the file only if it is this process's (another stack may have taken over)."""
    path = path or state_path()
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(current, dict) and current.get("pid") == pid:
        path.unlink(missing_ok=True)


def use_local_stack_if_running(*, profile: str | None = None) -> dict[str, Any] | None:
    """Point this process's AWS clients at the local stack when one runs and nothing else was asked for.

    Sets AWS_ENDPOINT_URL, the stack's region, its provisioned NOTIS_* names, and dummy credentials when there
    are none. Returns the stack's state, or None when the standard AWS environment applies (AWS_ENDPOINT_URL
    already set, a --profile given, or no live stack).
    """
    if os.environ.get("AWS_ENDPOINT_URL") or profile:
        return None
    state = read_state()
    if state is None:
        return None
    os.environ["AWS_ENDPOINT_URL"] = state["endpoint"]
    region = state.get("region")
    if isinstance(region, str) and region:
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = region
    for key, value in (state.get("env") or {}).items():
        if key == "NOTIS_CONTENT_DIR" and os.environ.get(key):  # a preview of other content, asked for
            continue
        if isinstance(key, str) and key.startswith(("NOTIS_", "SES_")) and isinstance(value, str):
            os.environ[key] = value
    if not os.environ.get("AWS_ACCESS_KEY_ID"):
        os.environ.update(DUMMY_CREDENTIALS)
    from chalicelib import aws

    aws.reset_clients()  # a client cached before this point would talk to the wrong place
    return state
