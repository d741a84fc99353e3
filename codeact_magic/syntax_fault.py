"""What is wrong in a step Python could not read, beyond CPython 3.11's "f-string: invalid syntax".

A step that does not compile runs no line at all, and its traceback names one line, so a small
model takes the lines above it for done and sends the whole step again. On DABench it wrote
``final_answer(f"{@mean[{mean}]} ...")`` (the answer's form wrapped in one more pair of braces)
and was told only ``SyntaxError: f-string: invalid syntax``, with the caret at the string's start:
in 3 of the 156 questions it sent the same line until the run stopped. What a person needs is the
part that is wrong: which ``{...}`` of the f-string holds no Python expression, or that the code
in it uses the string's own quote (allowed only from Python 3.12, PEP 701). Found here by scanning
the failing line's f-strings and compiling each field's expression alone: nothing runs (tactic:
``syntax_help``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

MAX_FIELD = 80  # characters of a field shown

_STRING_START = re.compile(r"(?<![\w.])([rRbBuUfF]{0,2})('''|\"\"\"|'|\")")


@dataclass(frozen=True)
class SyntaxFault:
    number: int  # the line Python could not read, from 1, in the step's code
    field: str | None = None  # the f-string's {...} on that line that holds no expression
    quote: str | None = None  # ... or the string's own quote, used inside a field before 3.12


def syntax_fault(error: BaseException | None, code: str) -> SyntaxFault | None:
    """The fault of a step that failed to compile (``error`` a SyntaxError at a line of ``code``)."""
    if not isinstance(error, SyntaxError) or not error.lineno:
        return None
    lines = code.splitlines()
    if not 1 <= error.lineno <= len(lines):
        return None
    line = lines[error.lineno - 1]
    for body, quote, raw in _fstrings(line):
        nested_ok = sys.version_info >= (3, 12)
        bad = _bad_field(body, quote, raw, nested_quotes=nested_ok)
        if bad is None:
            continue
        if not nested_ok and _bad_field(body, quote, raw, nested_quotes=True) is None:
            return SyntaxFault(error.lineno, quote=quote)
        return SyntaxFault(error.lineno, field=_short(bad))
    return SyntaxFault(error.lineno)


def _short(text: str) -> str:
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1] + "…"


def _fstrings(line: str) -> list[tuple[str, str, bool]]:
    """The f-strings that start on ``line``: the text from after the opening quote to the end of
    the line (the field scan finds where each ends), the quote, and whether it is raw. Other
    strings are stepped over, and a comment ends the scan."""
    found, i = [], 0
    while i < len(line):
        if line[i] == "#":
            break
        start = _STRING_START.match(line, i)
        if start is None or not set(start.group(1).lower()) <= set("rbuf"):
            i += 1
            continue
        prefix, quote = start.group(1).lower(), start.group(2)
        body_at = start.end()
        if "f" in prefix:
            found.append((line[body_at:], quote, "r" in prefix))
        i = _string_end(line, body_at, quote, "r" in prefix)
    return found


def _string_end(line: str, at: int, quote: str, raw: bool) -> int:
    """Where a plain string that starts at ``at`` ends (after its quote; the line's end if not)."""
    i = at
    while i < len(line):
        if line[i] == "\\":
            i += 2  # in a raw string too, a backslash keeps the quote after it in the string
            continue
        if line.startswith(quote, i):
            return i + len(quote)
        i += 1
    return len(line)


def _bad_field(body: str, quote: str, raw: bool, *, nested_quotes: bool) -> str | None:
    """The first ``{...}`` of an f-string's body whose expression does not compile, as written
    (cut where the string ends, when it is never closed); None when every field compiles."""
    i = 0
    while i < len(body):
        if body.startswith(quote, i):
            return None  # the string ends: each of its fields compiled
        c = body[i]
        if c == "\\" and not raw:
            i += 2
        elif body.startswith("{{", i) or body.startswith("}}", i):
            i += 2
        elif c == "{":
            end, closed = _field_end(body, i + 1, quote, nested_quotes)
            field = body[i:end + 1] if closed else body[i:end]
            if not _compiles(_expression(body[i + 1:end])):
                return field
            if not closed:
                return None
            i = end + 1
        else:
            i += 1
    return None


def _field_end(body: str, at: int, quote: str, nested_quotes: bool) -> tuple[int, bool]:
    """Where the field whose expression starts at ``at`` ends: the index of its closing ``}`` and
    True, or where the f-string (or the line) ends first and False."""
    depth, i = 0, at
    while i < len(body):
        if body.startswith(quote, i) and not nested_quotes:
            return i, False
        c = body[i]
        if c in "'\"":
            inner = next(q for q in (c * 3, c) if body.startswith(q, i))
            if inner == quote and not nested_quotes:
                return i, False
            i = _string_end(body, i + len(inner), inner, raw=False)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return (i, True) if c == "}" else (i, False)
            depth -= 1
        i += 1
    return i, False


def _expression(field: str) -> str:
    """The expression of a field's text: without its ``!r`` conversion, ``:spec`` or ``=``."""
    depth, text, i = 0, field, 0
    while i < len(field):
        c = field[i]
        if c in "'\"":
            i = _string_end(field, i + 1, c, raw=False)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif depth == 0 and (c == ":" or (c == "!" and field[i + 1:i + 2] != "=")):
            text = field[:i]
            break
        i += 1
    stripped = text.rstrip()
    if stripped.endswith("=") and not stripped.endswith(("==", "!=", "<=", ">=")):
        stripped = stripped[:-1]
    return stripped


def _compiles(expression: str) -> bool:
    if not expression.strip():
        return False
    try:
        compile("(" + expression + "\n)", "<f-string field>", "eval")
    except SyntaxError:
        return False
    return True
