"""Files in the cache are trusted only if their bytes match the SHA-256 written beside them.

Writers go through a temporary file and an atomic rename, so concurrent workers never read half a
file; a mismatch (a crash mid-write, a flipped bit, a truncated copy) means rebuild, never use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sweep.data._corpus import fingerprint_file

T = TypeVar("T")


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def load_verified(path: Path, read: Callable[[Path], T]) -> T | None:
    """Return ``read(path)`` if the file exists and matches its checksum, else ``None``."""
    sidecar = _sidecar(path)
    if not (path.exists() and sidecar.exists()):
        return None
    if sidecar.read_text().strip() != fingerprint_file(path):
        path.unlink(missing_ok=True)
        return None
    try:
        return read(path)
    except Exception:  # any unreadable entry is rebuilt, whatever the reader raised
        path.unlink(missing_ok=True)
        return None


def save_verified(path: Path, write: Callable[[Path], None]) -> None:
    """Write the file with ``write(tmp_path)``, then publish it and its checksum atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        checksum = fingerprint_file(tmp)
        tmp_sidecar = tmp.with_name(tmp.name + ".sha256")
        tmp_sidecar.write_text(checksum)
        os.replace(tmp, path)
        os.replace(tmp_sidecar, _sidecar(path))
    finally:
        tmp.unlink(missing_ok=True)
