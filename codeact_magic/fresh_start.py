"""Starting a stalled run's conversation again from its request (tactic: fresh_start).

A small model that has sent the same failing code twice copies it from its own earlier replies:
warned, it sends it a third time. Left out of the conversation, the failed attempts can no longer be
copied; what they taught is kept as a few lines: the error they ended on, the line that raised it,
and what they left in the kernel (the kernel keeps it all: only the conversation starts again).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .failing_line import FailingLine
from .kernel_context import describe_value, user_variables
from .run import Step
from .variable_changes import changes


@dataclass(frozen=True)
class Attempts:
    """What the left-out steps come to, for the model."""

    failed: int  # of the steps left out
    error: str  # the last failure, "ValueError: invalid literal ..."
    where: FailingLine | None  # the line that raised it
    # What the run made or rebound, as the request's listing describes a variable
    # ("df: DataFrame, 857 rows × 11 columns" and its columns), the last eight.
    variables: list[str]


def attempts(steps: list[Step], shell: Any, before: dict[str, int] | None) -> Attempts:
    """``shell``: the kernel's shell, where it runs in this process; ``before``: its variables when
    the run began (``variable_changes.snapshot``). Without either, no variables are told."""
    failed = [s for s in steps if s.error is not None]
    last = failed[-1].error if failed else None
    error = f"{last.ename}: {last.evalue}"[:300] if last else ""
    return Attempts(len(failed), error, last.where if last else None, _made(shell, before))


def _made(shell: Any, before: dict[str, int] | None) -> list[str]:
    if before is None or getattr(shell, "user_ns", None) is None:
        return []
    created, changed = changes(before, shell)
    names = set(created) | set(changed)
    made = [describe_value(name, value, rich=False) for name, value in user_variables(shell) if name in names]
    return made[-8:]
