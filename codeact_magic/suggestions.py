"""What a failed step's missing name was near: Python's "Did you mean" for the kernel's own data.

A small model that writes ``df['WINDSPEED']`` where the file's header makes the column
``' WINDSPEED'``, or ``mrna_sequence`` where it had assigned ``mRNA_sequence``, reads the
traceback's ``KeyError: 'WINDSPEED'`` and sends the same code again: on DABench no run that met a
KeyError was solved. CPython suggests near names for a NameError (3.10+, where it prints the
traceback itself; IPython does not), and pandas suggests nothing for a column. Here both are looked
up where the step left them: the kernel's variables for a name; the columns of the DataFrames, and
the keys of the dicts (or of the dicts a list holds), that the step's code names, for a key (tactic:
``suggest``).
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from typing import Any

from .kernel_context import user_variables
from .redact import looks_secret
from .step_frames import code_names

MAX_LISTED = 30  # the keys listed when none is near


@dataclass(frozen=True)
class Near:
    """``wrong`` is missing from ``owner`` (a variable's name, "each dict in NAME" for a list of
    dicts; "" for the kernel's names)."""

    wrong: str
    owner: str
    kind: str  # "name", "column" or "key"
    right: str | None  # the near one it has, if any
    spaces: bool = False  # a column: right is wrong with spaces around it (a CSV header "a, b")
    listed: tuple[str, ...] = ()  # what it has, when nothing is near


def suggest(ename: str, evalue: str, code: str, shell: Any) -> list[Near]:
    """What the missing names of a ``NameError`` or ``KeyError`` were near, among the user's
    variables in ``shell`` (the kernel's shell, where it runs in this process; else None)."""
    if getattr(shell, "user_ns", None) is None:
        return []
    namespace = dict(user_variables(shell))
    if ename == "NameError":
        missing = re.fullmatch(r"name '(\w+)' is not defined", evalue.strip())
        if missing is None:
            return []
        names = [n for n in namespace if not looks_secret(n)]
        right = _nearest(missing.group(1), names)
        return [Near(missing.group(1), "", "name", right)] if right else []
    if ename != "KeyError":
        return []
    keys = _keys(evalue)
    found = []
    for owner in code_names(code):
        value = namespace.get(owner)
        if looks_secret(owner):
            continue
        kind, has = _keys_of(value)
        if not has:
            continue
        shown = f"each dict in {owner}" if kind == "key" and isinstance(value, list) else owner
        for key in keys:
            if key in has:
                continue
            right = _nearest(key, has)
            spaces = kind == "column" and right is not None and right.strip() == key.strip() and right != key
            found.append(Near(key, shown, kind, right, spaces,
                              () if right else tuple(has[:MAX_LISTED])))
        if found:
            return found  # the first variable the code names that lacks the key
    return []


def _keys(evalue: str) -> list[str]:
    """The string keys a KeyError names: ``'a'``, ``['a', 'b']``, ``"['a'] not in index"``."""
    try:
        value = ast.literal_eval(evalue.strip())
    except (ValueError, SyntaxError):
        value = evalue
    if isinstance(value, str) and not re.search(r"'[^']*'", value):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, str)]
    return re.findall(r"'((?:[^'\\]|\\.)*)'", value if isinstance(value, str) else evalue)


def _keys_of(value: Any) -> tuple[str, list[str]]:
    """("column", the columns) of a DataFrame, ("key", the keys) of a dict or of the dicts a list
    holds (records, as a JSON API returns them; read from the first): the string ones."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        value = value[0]
    kind = type(value)
    if kind.__name__ == "DataFrame" and kind.__module__.startswith("pandas"):
        try:
            return "column", [c for c in value.columns if isinstance(c, str)]
        except Exception:  # a frame that cannot say its columns is not worth failing the step for
            return "column", []
    if isinstance(value, dict):
        return "key", [k for k in list(value)[:1000] if isinstance(k, str) and not looks_secret(k)]
    return "", []


def _nearest(wrong: str, names: list[str]) -> str | None:
    """The one of ``names`` that ``wrong`` most likely meant: the same but for case, spaces or
    underscores first, then the closest spelling (difflib, as near as CPython asks)."""
    def plain(text: str) -> str:
        return re.sub(r"[\s_]+", " ", text).strip().casefold()

    same = [n for n in names if plain(n) == plain(wrong)]
    if same:
        return same[0]
    close = difflib.get_close_matches(wrong, names, n=1, cutoff=0.8)
    return close[0] if close else None
