"""Starting a stalled run's conversation again from its request (tactic: fresh_start).

A small model that has sent the same failing code twice copies it from its own earlier replies:
warned, it sends it a third time. Left out of the conversation, the failed attempts can no longer be
copied; what they taught is kept as a few lines: the error they ended on, the line that raised it,
and what they left in the kernel (the kernel keeps it all: only the conversation starts again).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .failing_line import FailingLine
from .kernel_context import user_variables
from .run import Step


@dataclass(frozen=True)
class Attempts:
    """What the left-out steps come to, for the model."""

    failed: int  # of the steps left out
    error: str  # the last failure, "ValueError: invalid literal ..."
    where: FailingLine | None  # the line that raised it
    variables: list[str]  # "df: DataFrame (857 rows × 11 columns)", what the steps made


def attempts(steps: list[Step], shell: Any) -> Attempts:
    """``shell``: the kernel's shell, where it runs in this process (else None: no variables)."""
    failed = [s for s in steps if s.error is not None]
    last = failed[-1].error if failed else None
    error = f"{last.ename}: {last.evalue}"[:300] if last else ""
    return Attempts(len(failed), error, last.where if last else None, _made(steps, shell))


def _made(steps: list[Step], shell: Any) -> list[str]:
    """The user's variables the steps' code assigned, each with its type (and shape)."""
    if getattr(shell, "user_ns", None) is None:
        return []
    code = "\n".join(s.code for s in steps)
    assigned = set(re.findall(r"^\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)?=(?!=)", code, re.M))
    made = []
    for name, value in user_variables(shell):
        if name in assigned:
            shape = getattr(value, "shape", None)
            size = (f" ({shape[0]:,} rows × {shape[1]:,} columns)" if isinstance(shape, tuple) and len(shape) == 2
                    else f" ({shape[0]:,} values)" if isinstance(shape, tuple) and len(shape) == 1 else "")
            made.append(f"{name}: {type(value).__name__}{size}")
    return made[-8:]
