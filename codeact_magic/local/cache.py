"""The per-user cache directory (joined weights, the local server's state and log), and a file lock
so that several kernels of the same user never do the same work at once."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_dir() -> Path:
    """``$CODEACT_CACHE_DIR``, else the platform's user cache directory."""
    if os.environ.get("CODEACT_CACHE_DIR"):
        path = Path(os.environ["CODEACT_CACHE_DIR"])
    elif sys.platform == "win32":
        path = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local")) / "codeact_magic"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Caches" / "codeact_magic"
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "codeact_magic"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock held on ``path`` (blocking) for the duration of the block."""
    with open(path, "a+") as handle:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if sys.platform != "win32":
                import fcntl

                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
