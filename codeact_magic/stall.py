"""Noticing a model that goes round in circles, before it burns steps and money."""

from __future__ import annotations

from .failing_line import FailingLine
from .run import Step


def _normal(code: str) -> str:
    return "\n".join(line.rstrip() for line in code.strip().splitlines() if line.strip())


def repeats_last_code(code: str, steps: list[Step]) -> bool:
    """The model proposes exactly the code it ran last (blank lines and trailing spaces aside)."""
    return bool(steps) and _normal(code) == _normal(steps[-1].code)


def repeated_step(code: str, steps: list[Step]) -> int | None:
    """The number (from 1) of the latest step that ran exactly this code, if any: a model that
    goes A, B, A, B repeats itself as surely as one that goes A, A."""
    wanted = _normal(code)
    for number in range(len(steps), 0, -1):
        if _normal(steps[number - 1].code) == wanted:
            return number
    return None


def same_error_streak(steps: list[Step], times: int = 3) -> bool:
    """The last ``times`` steps all failed with the same exception and message."""
    if len(steps) < times:
        return False
    errors = [(s.error.ename, s.error.evalue) if s.error else None for s in steps[-times:]]
    return errors[0] is not None and all(e == errors[0] for e in errors)


def unchanged_failing_line(steps: list[Step]) -> FailingLine | None:
    """The line that failed in the last step, when the step before failed with the same kind of
    error on that same line: the model changed its code around the line, not the line."""
    if len(steps) < 2:
        return None
    last, before = steps[-1].error, steps[-2].error
    if last is None or before is None or last.where is None or before.where is None:
        return None
    if last.ename != before.ename or last.where.text != before.where.text:
        return None
    return last.where


def looping_line(text: str, times: int = 10) -> str | None:
    """The line a reply went round on: written ``times`` times or more, and half of its lines or
    more (``scroll_down()`` 333 times, until the length limit cut the reply). A greedy decoder
    asked again writes the same loop."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "```python"]
    if not lines:
        return None
    line = max(set(lines), key=lines.count)
    count = lines.count(line)
    return line if count >= times and 2 * count >= len(lines) else None
