"""The cells the user ran since the last run: the notebook as context.

"Why did that fail?" or "plot that by month" are about what the user just did, in cells the model
never saw. IPython tells, after each cell, its source, its result and its error (``post_run_cell``);
the cells of a run (its ``%%codeact`` cell, its steps) are the conversation's already and are left
out. A run is told the last few of these, and the full error of the latest one if it failed.
Output a cell printed is not kept by IPython, and not guessed at: the variables listing says what
the kernel holds.
"""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any

from .observation import clean, format_error, stable_cell_names

KEPT = 10  # cells remembered between two runs
TOLD = 3  # of those, the latest told to the model
SOURCE_CHARS = 800
RESULT_CHARS = 300
ERROR_CHARS = 1500


@dataclass(frozen=True)
class Cell:
    count: int | None
    source: str
    result: str = ""  # the repr of the cell's value (Out[n]), cut
    error: str = ""  # "NameError: name 'x' is not defined"
    traceback: str = ""  # the whole error as the model reads a step's (compact frames)


def _cut(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n // 2] + "\n[…]\n" + text[-n // 2:]


def _only_magics(source: str) -> bool:
    """Nothing but IPython line magics and comments (``%load_ext``, ``%config``): no data in it."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    return all(line.startswith(("%", "#")) and not line.startswith("%%") for line in lines)


class RecentCells:
    """The user's cells since the last run, latest last."""

    def __init__(self, shell: Any) -> None:
        self._shell = weakref.ref(shell)
        self.cells: deque[Cell] = deque(maxlen=KEPT)
        self.runs = 0  # runs started in this kernel
        self._runs_at_cell_start = 0

    def before_cell(self, info: Any = None) -> None:
        """IPython's ``pre_run_cell``. A run's steps are cells inside the cell that runs it: the
        count is of that outer cell's start."""
        from .executor import Executor

        shell = self._shell()
        if shell is not None and not Executor.busy(shell):
            self._runs_at_cell_start = self.runs

    def after_cell(self, result: Any) -> None:
        """IPython's ``post_run_cell``: keep the cell, unless it is a run's: one of its steps
        (while the run holds the kernel), or the cell a run went on in (``%%codeact``, ``arun``)."""
        from .executor import Executor

        shell = self._shell()
        if shell is None or Executor.busy(shell) or self.runs != self._runs_at_cell_start:
            return
        if not getattr(result.info, "store_history", True):
            # Not in the notebook's history: a frontend's own (a variable explorer, the panel's
            # quiet %load_ext, a test's inspection), not a cell the user ran.
            return
        source = (getattr(result.info, "raw_cell", None) or "").strip()
        if not source or _only_magics(source):
            return
        error = result.error_before_exec or result.error_in_exec
        value = result.result
        text = ""
        if value is not None and error is None:
            try:
                text = _cut(repr(value), RESULT_CHARS)
            except Exception:  # a repr that fails is the user's object's matter
                text = f"<{type(value).__name__}>"
        cell = Cell(result.execution_count, _cut(source, SOURCE_CHARS), text)
        if error is not None:
            try:
                tb = stable_cell_names(clean(format_error(error, before_exec=result.error_before_exec is not None)))
            except Exception:
                tb = ""
            cell = Cell(cell.count, cell.source, "", f"{type(error).__name__}: {error}",
                        _cut(tb, ERROR_CHARS))
        self.cells.append(cell)

    def take(self) -> list[Cell]:
        """The cells to tell a run that starts now; from now on, cells are after it."""
        told = list(self.cells)[-TOLD:]
        self.cells.clear()
        self.runs += 1
        return told

    def last_error(self) -> Cell | None:
        """The latest cell, if it failed (what ``%codeact fix`` works on)."""
        return self.cells[-1] if self.cells and self.cells[-1].error else None


def describe(cells: list[Cell]) -> str:
    """The cells as the request tells them, latest last."""
    parts = []
    for i, cell in enumerate(cells):
        label = f"In [{cell.count}]" if cell.count is not None else "A cell"
        text = f"{label}:\n```python\n{cell.source}\n```"
        if cell.result:
            text += f"\nIts value: {cell.result}"
        if cell.error:
            latest = i == len(cells) - 1
            text += (f"\nIt failed:\n{cell.traceback}" if latest and cell.traceback
                     else f"\nIt failed: {cell.error}")
        parts.append(text)
    return "\n\n".join(parts)


_RECENT: weakref.WeakKeyDictionary[Any, RecentCells] = weakref.WeakKeyDictionary()


def recent_cells(shell: Any) -> RecentCells:
    recent = _RECENT.get(shell)
    if recent is None:
        recent = _RECENT[shell] = RecentCells(shell)
    return recent


def watch(shell: Any) -> None:
    """Start keeping ``shell``'s cells (``%load_ext``); a second call changes nothing."""
    recent = recent_cells(shell)
    for event, callback in (("pre_run_cell", recent.before_cell), ("post_run_cell", recent.after_cell)):
        if callback not in shell.events.callbacks[event]:
            shell.events.register(event, callback)


def unwatch(shell: Any) -> None:
    recent = _RECENT.get(shell)
    if recent is not None:
        for event, callback in (("pre_run_cell", recent.before_cell),
                                ("post_run_cell", recent.after_cell)):
            if callback in shell.events.callbacks[event]:
                shell.events.unregister(event, callback)
