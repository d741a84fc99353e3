"""Which traceback frames belong to the harness that runs a step, not to the step's own code.

The user and the model read the step's code in a traceback: not this package's frames (the
interrupt or timeout handler, the ``input()`` stand-in), nor IPython's cell runner, nor asyncio's
(for async steps). Used for the model's plain traceback and for the one shown in a step's cell.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Iterator
from pathlib import Path

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_HARNESS_DIRS = tuple(
    str(Path(p).resolve().parent)
    for p in (
        __file__,
        __import__("IPython.core.interactiveshell", fromlist=["_"]).__file__,
        __import__("asyncio").__file__,
    )
)


def is_harness(filename: str) -> bool:
    try:
        return str(Path(filename).resolve()).startswith(_HARNESS_DIRS)
    except (OSError, ValueError):
        return False


def chained(exc: traceback.TracebackException) -> Iterator[traceback.TracebackException]:
    """``exc`` and every exception chained to it (cause and context), each once."""
    seen: set[int] = set()
    pending: list[traceback.TracebackException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [current.__cause__, current.__context__]


def drop_harness_frames(exc: traceback.TracebackException) -> None:
    """Remove the harness's frames from ``exc`` and the exceptions chained to it, in place."""
    for current in chained(exc):
        current.stack = traceback.StackSummary.from_list(
            [f for f in current.stack if not is_harness(f.filename)])


def without_harness_frames(stb: list[str]) -> list[str]:
    """IPython's rendered traceback (one entry per frame) without this package's frames."""
    return [entry for entry in stb if _PACKAGE_DIR not in entry] or stb
