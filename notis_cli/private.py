"""Files on a staff machine that hold personal data (mail as sent, the embedded AWS's uploads): owner-only.

Written 0600 in folders made 0700, whatever the umask: a shared or backed-up machine must not let other accounts
read who was told what.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

FILE_MODE = 0o600
DIR_MODE = 0o700


class NotAFolder(ValueError):
    """The path given as a folder is a file."""


def private_dir(path: Path) -> Path:
    """`path` as a folder, made owner-only when this call creates it (an existing folder keeps its mode)."""
    if path.exists() and not path.is_dir():
        raise NotAFolder(f"{path} is a file, not a folder: give a folder to write into")
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    return path


def open_private(path: Path, mode: str = "wb", **text: Any) -> IO[Any]:
    """Open `path` for writing, readable only by its owner, replacing what was there."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # a file that was there keeps its old mode through O_CREAT
    return os.fdopen(fd, mode, **text)
