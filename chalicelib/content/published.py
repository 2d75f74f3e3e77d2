"""The incidents in use: the ones packaged with the code, or NOTIS_CONTENT_DIR (a staff preview, a test).

Loaded and validated once per process and folder: the page, the import, the sender and the tick of one Lambda
share the same parsed content instead of each reading the YAML again.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from chalicelib.content.loader import load_incidents
from chalicelib.content.model import Incident

CONTENT_DIR = Path(__file__).resolve().parent.parent / "incidents"


def content_dir() -> Path:
    return Path(os.environ.get("NOTIS_CONTENT_DIR") or CONTENT_DIR)


@functools.cache
def incidents_in(root: Path) -> dict[str, Incident]:
    """Every incident under `root` by slug; raises ContentError (not cached) when the content is invalid."""
    return {incident.slug: incident for incident in load_incidents(root)}


def published_incidents() -> dict[str, Incident]:
    return incidents_in(content_dir())
