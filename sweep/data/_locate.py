"""Find the data: an explicit path, ``SWEEP_DATA``, the study's ``data.path``, else the download.

The official archive is downloaded once into the user's cache directory, with a progress bar and
its published SHA-256 checked; offline, the error says how to point at a local copy instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import platformdirs
from tqdm import tqdm

from sweep.data._corpus import fingerprint_file
from sweep.errors import DataError

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


def cache_dir() -> Path:
    """Where downloads and vectorized arrays live: ``SWEEP_CACHE_DIR`` or the user cache dir."""
    root = os.environ.get("SWEEP_CACHE_DIR") or platformdirs.user_cache_dir("sweep")
    path = Path(root).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def locate(source: str, cli_path: str | None = None, config_path: str | None = None) -> Path | None:
    """Return the data path for ``source``, first match wins; ``None`` for generated data.

    Raises:
        DataError: a named path does not exist, or the download is needed and fails.
    """
    if source == "synthetic":
        return None
    candidates = (
        (cli_path, "--data"),
        (os.environ.get("SWEEP_DATA"), "SWEEP_DATA"),
        (config_path, "data.path"),
    )
    for candidate, origin in candidates:
        if candidate:
            path = Path(candidate).expanduser()
            if not path.exists():
                raise DataError(f"{origin}: {path} does not exist")
            return path
    if source != "aclimdb":
        raise DataError(f"the {source} source needs a file: pass --data PATH or set data.path")
    return download_imdb()


def download_imdb() -> Path:
    """Return the cached official IMDB archive, downloading and checking it first if missing.

    ``SWEEP_IMDB_URL`` and ``SWEEP_IMDB_SHA256`` point at a mirror and its checksum.
    """
    url = os.environ.get("SWEEP_IMDB_URL", IMDB_URL)
    expected = os.environ.get("SWEEP_IMDB_SHA256", IMDB_SHA256)
    target = cache_dir() / "aclImdb_v1.tar.gz"
    lock = os.open(cache_dir(), os.O_RDONLY)  # workers starting together download it once
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists() and fingerprint_file(target) != expected:
            target.unlink()  # a damaged or foreign file is never trusted
        if not target.exists():
            _download(url, expected, target)
    finally:
        os.close(lock)
    return target


def _download(url: str, expected: str, target: Path) -> None:
    """Stream ``url`` to ``target`` with a progress bar; keep it only if the SHA-256 matches."""
    partial = target.with_suffix(".part")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc="Downloading IMDB") as bar:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        partial.unlink(missing_ok=True)
        reason = getattr(err, "reason", err)
        raise DataError(
            f"cannot download {url} ({reason}); pass --data PATH or set SWEEP_DATA to a local "
            "copy of aclImdb_v1.tar.gz (or an unpacked aclImdb directory)"
        ) from err
    if digest.hexdigest() != expected:
        partial.unlink(missing_ok=True)
        raise DataError(
            f"downloaded {url} but its SHA-256 is {digest.hexdigest()}, expected {expected}; "
            "the file was discarded, try again or pass --data PATH"
        )
    partial.replace(target)
