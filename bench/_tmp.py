"""Scratch folders of a benchmark run (its SQLite stores: up to ~100 MB each), removed when
the run ends, whatever way it ends short of a kill: repeated runs do not fill /tmp."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def scratch_dir(prefix: str) -> Path:
    """A new folder under the system's temporary directory, removed at exit."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
