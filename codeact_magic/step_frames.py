"""The DataFrames a failed step works on, as they are after it: what the model guessed wrong.

On DABench most runs that the small model ended in a stall failed on the data, not on Python: a
column read as ``'WINDSPEED'`` that the file calls ``' WINDSPEED'``, a mean over a column of
strings, a date column parsed as floats. Told only the traceback, the model sends the same code
again. The frame's real column names (repr'd where a space or a type would hide), dtypes and first
rows are what a person would print next; the loop prints them for it (tactic: ``error_context``).

Only DataFrames the step's code names are described, each once per run unless its columns or
dtypes changed since (the model has read it), and through ``kernel_context.describe_value``, which
reads pandas objects through their own methods only.
"""

from __future__ import annotations

import ast
from typing import Any

from .kernel_context import describe_value

MAX_FRAMES = 2  # per failed step: the first the code names


def code_names(code: str) -> list[str]:
    """The names the code reads or binds, in the order they first appear."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []  # a syntax error is about the code, not the data
    seen: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            seen.setdefault(node.id, None)
    return sorted(seen, key=code.find)


def _shape(df: Any) -> tuple:
    return tuple(zip(map(repr, df.columns), map(str, df.dtypes)))


def frames_used(code: str, namespace: dict | None, told: dict[str, tuple]) -> list[str]:
    """Descriptions of the DataFrames in ``namespace`` that ``code`` names and that the model has
    not been shown as they are now; ``told`` (name → columns and dtypes shown) is updated."""
    if not namespace:
        return []
    shown = []
    for name in code_names(code):
        value = namespace.get(name)
        if type(value).__name__ != "DataFrame" or not type(value).__module__.startswith("pandas"):
            continue
        try:
            shape = _shape(value)
        except Exception:  # a frame that cannot say its columns is not worth failing the step for
            continue
        if told.get(name) == shape:
            continue
        told[name] = shape
        shown.append(describe_value(name, value, rich=True))
        if len(shown) == MAX_FRAMES:
            break
    return shown
