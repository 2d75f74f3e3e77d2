"""The incidents in use: the ones packaged with the code, or NOTIS_CONTENT_DIR (a staff preview, a test).

Loaded and validated once per process and folder: the page, the import, the sender and the tick of one Lambda
share the same parsed content instead of each reading the YAML again. A deployed function never reloads: its
content is fixed per deployment. Only the local stack (`make run`) calls `republish` when staff edit the files.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from chalicelib.content.loader import load_incidents
from chalicelib.content.model import Incident

CONTENT_DIR = Path(__file__).resolve().parent.parent / "incidents"

_loaded: dict[Path, dict[str, Incident]] = {}
_lock = threading.Lock()


def content_dir() -> Path:
    return Path(os.environ.get("NOTIS_CONTENT_DIR") or CONTENT_DIR)


def incidents_in(root: Path) -> dict[str, Incident]:
    """Every incident under `root` by slug; raises ContentError (not cached) when the content is invalid."""
    found = _loaded.get(root)
    if found is None:
        with _lock:
            found = _loaded.get(root)
            if found is None:
                found = _loaded[root] = {incident.slug: incident for incident in load_incidents(root)}
    return found


def published_incidents() -> dict[str, Incident]:
    return incidents_in(content_dir())


def republish(root: Path, incidents: dict[str, Incident]) -> None:
    """Local stack only: make already validated `incidents` the ones every handler of this process sees next.

    One dict swap, so a handler mid-way keeps the content it started with and the next call gets the new one.
    """
    with _lock:
        _loaded[root] = dict(incidents)
