"""What the user's kernel already holds, told to the model with the request.

Without it a model re-creates data the user already has (a small model invented its own `sales`
list instead of using the user's). Values whose names look secret are named but never shown.
"""

from __future__ import annotations

import reprlib
import types
from typing import Any

from .redact import looks_secret

_MAX_VARIABLES = 30
_MAX_CHARS = 2000
_repr = reprlib.Repr()
_repr.maxstring = 60
_repr.maxother = 80
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


def _describe(value: Any) -> str:
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if shape is not None and not callable(shape):
        columns = getattr(value, "columns", None)
        if columns is not None:
            dtypes = getattr(value, "dtypes", None)
            try:
                cols = ", ".join(f"{c}: {dtypes[c]}" for c in list(columns)[:12]) if dtypes is not None \
                    else ", ".join(map(str, list(columns)[:12]))
            except Exception:
                cols = ", ".join(map(str, list(columns)[:12]))
            return f"{kind} shape {tuple(shape)} columns [{cols}]"
        return f"{kind} shape {tuple(shape)} dtype {getattr(value, 'dtype', '?')}"
    if isinstance(value, (types.FunctionType, type)):
        return f"{kind} {getattr(value, '__name__', '')}"
    try:
        text = _repr.repr(value)
    except Exception:
        text = "<unprintable>"
    size = ""
    if isinstance(value, (list, tuple, dict, set, str)):
        size = f" (len {len(value)})"
    return f"{kind}{size} = {text}"


def variables_summary(shell: Any) -> str:
    """One line per user variable, newest last; empty when there are none."""
    hidden = getattr(shell, "user_ns_hidden", {})
    lines = []
    for name, value in list(shell.user_ns.items()):
        if name.startswith("_") or name in hidden or isinstance(value, types.ModuleType):
            continue
        if name in ("In", "Out", "exit", "quit", "get_ipython"):
            continue
        if looks_secret(name):
            lines.append(f"- {name}: {type(value).__name__} (value hidden: the name looks secret)")
        else:
            lines.append(f"- {name}: {_describe(value)}")
    lines = lines[-_MAX_VARIABLES:]
    text = "\n".join(lines)
    if len(text) > _MAX_CHARS:
        text = text[-_MAX_CHARS:].split("\n", 1)[-1]
    return text
