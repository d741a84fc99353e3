"""Which line of a step's own code raised its error.

A small model that "fixes" an error often leaves the line that raised it as it was and adds a
line after it; told only the traceback, it sends the same code again. Naming the line lets the
loop say so: "line 7 is unchanged and fails the same way".
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass


@dataclass(frozen=True)
class FailingLine:
    number: int  # from 1, in the step's code
    text: str  # that line, stripped


def _line(code_lines: list[str], number: int | None, text: str | None) -> FailingLine | None:
    """The line ``number`` of the code, if ``text`` (what the traceback shows there) is that line:
    a frame of another cell or a module may have the same number."""
    if not number or not 1 <= number <= len(code_lines):
        return None
    source = code_lines[number - 1].strip()
    if not source or (text is not None and text.strip() != source):
        return None
    return FailingLine(number, source)


def failing_line(error: BaseException | None, code: str, *, before_exec: bool) -> FailingLine | None:
    """The line of ``code`` where ``error`` was raised, or None when the error is not in the
    code itself (a KeyboardInterrupt at a timeout, a failure inside a function from another cell
    with no frame of this code)."""
    if error is None:
        return None
    lines = code.splitlines()
    if before_exec or isinstance(error, SyntaxError):
        if isinstance(error, SyntaxError):
            return _line(lines, error.lineno, error.text)
        return None
    # The innermost frame that is a line of this code: in a function the step defines, the line
    # inside it; in a library call, the step's line that called in.
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        found = _line(lines, frame.lineno, frame.line)
        if found is not None:
            return found
    return None
