"""Keeping the embedded AWS (moto, in this process) across `make run` restarts.

moto's server keeps everything in memory and has no persistence of its own (its recorder replays requests, which
would queue and send again what was already sent). The stack therefore pickles the backends of the services notis
uses when it stops, after the pollers and the schedule have finished, and loads them at the next start before
anything talks to the emulator. Locks inside moto's objects (SQS queues hold one) are pickled as new locks.

Kept: buckets and uploads, queues and their messages (in-flight ones come back after their visibility timeout),
the table (campaigns, ledger, markers), SES identities and the mail sent so far. Only a clean stop (Ctrl-C) saves;
a killed process loses what happened since its start. `make clean` removes the folder.
"""

from __future__ import annotations

import io
import os
import pickle
import threading
from pathlib import Path
from typing import Any

from notis_cli.private import open_private, private_dir

SERVICES = ("s3", "sqs", "dynamodb", "ses", "sesv2", "events", "secretsmanager", "sns", "cloudwatch", "logs",
            "kms", "iam", "sts")
FORMAT = 1
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _LOCK_TYPES):
            return (threading.RLock if isinstance(obj, _LOCK_TYPES[1]) else threading.Lock, ())
        return NotImplemented


def save(path: Path) -> int:
    """Write the embedded AWS's state to `path` atomically; return its size in bytes."""
    import moto
    from moto.backends import get_backend

    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump({
        "format": FORMAT,
        "moto": moto.__version__,
        "services": {service: dict(get_backend(service)) for service in SERVICES},  # type: ignore[arg-type]
    })
    private_dir(path.parent)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with open_private(tmp) as out:  # the uploaded lists and the mail sent are in it
        out.write(buffer.getvalue())
    os.replace(tmp, path)
    return len(buffer.getvalue())


def load(path: Path) -> str | None:
    """Put the saved state back into the (still empty) emulator; None when done, else why it started empty."""
    import moto
    from moto.backends import get_backend

    if not path.is_file():
        return "nothing saved yet"
    try:
        with path.open("rb") as f:
            saved = pickle.load(f)  # noqa: S301 - our own file, written by save() on this machine
    except Exception as exc:  # a file from another moto or Python version, a truncated file
        return f"the saved state could not be read ({type(exc).__name__})"
    if not isinstance(saved, dict) or saved.get("format") != FORMAT or saved.get("moto") != moto.__version__:
        return "the saved state is from another version of the emulator"
    for service, accounts in saved["services"].items():
        backends = get_backend(service)  # type: ignore[arg-type]
        backends.clear()
        backends.update(accounts)
    return None
