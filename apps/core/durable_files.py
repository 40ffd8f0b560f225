"""Crash-safe file writes shared by the spool and the local-folder archive backend.

Both need the same guarantee: after a power cut a file is either absent or complete. The recipe
is write to a temporary name, fsync the file, move it into place, fsync the directory.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_temp_file(directory: Path, data: bytes, prefix: str = ".tmp-") -> Path:
    """Write `data` to a new fsynced file in `directory` (same filesystem as its final name)."""
    fd, name = tempfile.mkstemp(dir=directory, prefix=prefix)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def fsync_dir(path: Path) -> None:
    """Persist a directory entry change (a new or renamed file) in `path`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
