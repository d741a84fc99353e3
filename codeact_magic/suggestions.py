"""What a failed step's missing name was near: Python's "Did you mean" for the kernel's own data.

A small model that writes ``df['WINDSPEED']`` where the file's header makes the column
``' WINDSPEED'``, or ``mrna_sequence`` where it had assigned ``mRNA_sequence``, reads the
traceback's ``KeyError: 'WINDSPEED'`` and sends the same code again: on DABench no run that met a
KeyError was solved. CPython suggests near names for a NameError (3.10+, where it prints the
traceback itself; IPython does not), and pandas suggests nothing for a column. Here both are looked
up where the step left them: the kernel's variables for a name; the columns of the DataFrames, and
the keys of the dicts (or of the dicts a list holds), that the step's code names, for a key (tactic:
``suggest``).

An ``AttributeError`` (tactic ``attribute_help``) gets CPython's near attribute, else the function
that does what the missing method was taken for: the builtin that calls the type's own hook
(``z.abs()`` fails on a numpy array, ``abs(z)`` works: it calls ``ndarray.__abs__``), or the
function of that name in the object's library (``np.isnan(x)``). On DABench the small model
wrote ``stats.zscore(...).abs()`` in 6 of the 156 questions (a pandas Series has ``.abs()``, the array zscore returns has not),
"converted it to a Series" in words and sent the same line: 1 of the 6 solved (with the hint, 0:
the model sent its line again, then dropped the abs).

A ``NameError`` for a module (``math`` used, never imported) gets the import, as CPython 3.12's
"Did you forget to import 'math'?"; a ``ModuleNotFoundError`` for what the kernel already has
(``from calculator import calculator``, for a function M3ToolEval put in the kernel) is told so.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import importlib.util
import re
import sys
import types
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
    # "name", "column", "key", "attribute", "module" (a module not imported: right is the import)
    # or "defined" (imported as a module, but the kernel has it already: type says what it is)
    kind: str
    right: str | None  # the near one it has, if any
    spaces: bool = False  # a column: right is wrong with spaces around it (a CSV header "a, b")
    listed: tuple[str, ...] = ()  # what it has, when nothing is near
    # An attribute: the owner's type ("numpy.ndarray"), and, when no attribute is near, the call
    # that does what the missing method was taken for ("abs(z)", "np.isnan(x)").
    type: str = ""
    call: str | None = None


def suggest(ename: str, evalue: str, code: str, shell: Any, error: BaseException | None = None, *,
            attributes: bool = False) -> list[Near]:
    """What the missing names of a ``NameError``, ``KeyError`` or (with ``attributes``) an
    ``AttributeError`` (``error``, the exception itself) were near, among the user's variables in
    ``shell`` (the kernel's shell, where it runs in this process; else None)."""
    if getattr(shell, "user_ns", None) is None:
        return []
    namespace = dict(user_variables(shell))
    if ename == "AttributeError" and attributes:
        near = _attribute(error, code, shell.user_ns)
        return [near] if near is not None else []
    if ename == "NameError":
        missing = re.fullmatch(r"name '(\w+)' is not defined", evalue.strip())
        if missing is None:
            return []
        names = [n for n in namespace if not looks_secret(n)]
        right = _nearest(missing.group(1), names)
        if right:
            return [Near(missing.group(1), "", "name", right)]
        statement = _import_for(missing.group(1)) if _used_as_module(code, missing.group(1)) else None
        return [Near(missing.group(1), "", "module", statement)] if statement else []
    if ename == "ModuleNotFoundError":
        # ``from calculator import calculator``, for a function the kernel was given.
        missing = re.fullmatch(r"No module named '(\w+)'", evalue.strip())
        if missing is None or missing.group(1) not in namespace or looks_secret(missing.group(1)):
            return []
        value = namespace[missing.group(1)]
        kind = "function" if callable(value) else type(value).__name__
        return [Near(missing.group(1), "", "defined", None, type=kind)]
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


# The names everyone imports these libraries as: ``np`` is not a module, but what it means is known.
_ALIASES = {"np": "numpy", "pd": "pandas", "plt": "matplotlib.pyplot", "sns": "seaborn"}


def _used_as_module(code: str, name: str) -> bool:
    """``name.something`` in the code: a ``numbers`` never assigned is a list, not the module."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == name
               for node in ast.walk(tree))


def _import_for(name: str) -> str | None:
    """The import that defines ``name``: a module of the standard library or one installed (as
    CPython 3.12 asks "Did you forget to import 'math'?"), or a library's usual alias."""
    module = _ALIASES.get(name, name)
    top = module.split(".")[0]  # found without importing it (a dotted name imports its parent)
    try:
        found = top in sys.stdlib_module_names or importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):  # a parent package that fails to import: not importable
        found = False
    if not found:
        return None
    return f"import {module} as {name}" if module != name else f"import {name}"


def _attribute(error: BaseException | None, code: str, namespace: dict[str, Any]) -> Near | None:
    """The attribute near the missing one, or the call that does what it was taken for. The
    object is the error's own (``AttributeError.obj``, 3.10+); its name in the code is the
    variable that holds it, else the expression the code reads the attribute of."""
    name, obj = getattr(error, "name", None), getattr(error, "obj", None)
    if not isinstance(error, AttributeError) or not isinstance(name, str) or obj is None:
        return None
    if isinstance(obj, types.ModuleType):
        return None  # a module's missing function: an import or a spelling, CPython's own case
    found = _receiver(code, name, obj, namespace)
    if found is None or looks_secret(found[1]):
        return None
    owner, plain = found
    kind = type(obj)
    library = kind.__module__.split(".")[0]
    shown_type = kind.__qualname__ if library == "builtins" else f"{library}.{kind.__qualname__}"
    try:
        has = [a for a in dir(obj) if not a.startswith("_") and not looks_secret(a)]
    except Exception:  # an object whose dir() fails: nothing to say
        return None
    right = _nearest(name, has)
    if right is not None:
        return Near(name, owner, "attribute", right, type=shown_type)
    call = _call_for(name, obj, plain, namespace)
    if call is None:
        return None
    return Near(name, owner, "attribute", None, type=shown_type, call=call)


def _receiver(code: str, name: str, obj: Any, namespace: dict[str, Any]) -> tuple[str, str] | None:
    """How the code names the object whose attribute ``name`` was missing: as it reads in a
    sentence (an expression in brackets) and as an argument."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    owners = [node.value for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == name]
    for value in owners:
        if isinstance(value, ast.Name) and namespace.get(value.id) is obj:
            return value.id, value.id
    texts = {ast.unparse(value) for value in owners}
    if len(texts) != 1:
        return None  # read off several objects: which one lacked it is not known
    text = texts.pop()
    simple = isinstance(owners[0], (ast.Name, ast.Attribute, ast.Subscript, ast.Call))
    return (text if simple else f"({text})"), text


def _call_for(name: str, obj: Any, owner: str, namespace: dict[str, Any]) -> str | None:
    """``abs(owner)`` when a builtin of that name calls a hook the type has (``__abs__``,
    ``__len__``, ``__round__``); else ``lib.name(owner)`` when the object's library (numpy for an
    ndarray) has a function of that name, spelt as the kernel imported the library."""
    hook = f"__{name}__"
    # Not a hook every object has: a str read as a Series (``s.str``) is not helped by str(s).
    if callable(getattr(builtins, name, None)) and hasattr(type(obj), hook) and not hasattr(object, hook):
        return f"{name}({owner})"
    library = type(obj).__module__.split(".")[0]
    module = sys.modules.get(library)
    function = getattr(module, name, None) if library not in ("builtins", "__main__") else None
    if not callable(function) or isinstance(function, type):
        return None  # a class (np.dtype) is no function to hand the object to
    alias = next((n for n, v in namespace.items() if v is module), library)
    return f"{alias}.{name}({owner})"


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
