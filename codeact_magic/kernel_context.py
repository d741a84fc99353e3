"""What the model is told of the user's kernel with the request: what it may use.

Without it a model re-creates data the user already has, guesses at a file's columns, or ignores
the functions it was given. So: the user's callables with their signature and the first lines of
their docstring (tool objects with their methods), DataFrames with columns, dtypes and a few rows,
short values of plain types, and the first lines of the data files the request names.

Describing must never run code it cannot trust to be cheap and harmless: a user's object can do
anything in ``__repr__`` or ``__getattr__`` (a lazy frame, a proxy, a connection). So types are
checked first, only plain builtin values are repr'd, and pandas and numpy objects are read through
their own (known) methods; others are named by type. Only the names that will be shown are
described, within a time budget. Values under secret-looking names are never shown.
"""

from __future__ import annotations

import ast
import builtins
import csv
import functools
import inspect
import os
import re
import textwrap
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .redact import has_secret_shape, looks_secret

MAX_VARIABLES = 30
MAX_CHARS = 4000  # of the variables part; DataFrames' rows are the first to go
TIME_BUDGET = 0.5  # seconds for describing; past it, names are given with their type only
_SKIP = {"In", "Out", "exit", "quit", "get_ipython", "final_answer"}
_PLAIN = (int, float, complex, bool, str, bytes, type(None))
_CONTAINERS = (list, tuple, set, frozenset, dict)
_DOC_LINES, _DOC_CHARS = 3, 300
_DATA_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".tab", ".dat", ".xlsx", ".xls",
                  ".parquet", ".feather", ".pkl", ".pickle", ".npy", ".h5", ".hdf5"}
_TEXT_SUFFIXES = {".csv", ".tsv", ".txt", ".json", ".jsonl", ".tab", ".dat"}
_FILE_LINES, _FILE_LINE_CHARS, _MAX_FILES = 5, 300, 3
# A function's code is shown (context "source") when it is at most this long, its docstring left
# out: a one-line body says exactly what a docstring only paraphrases ("tariff_rate (float, in %)"
# is ``price * tariff_rate / 100``), and a longer one costs more than it tells.
_SOURCE_LINES, _SOURCE_CHARS = 8, 400


# ---- values ----

def _plain_repr(value: Any, budget: int = 120, depth: int = 0) -> str | None:
    """repr of builtin values only (no user __repr__ runs); None for anything else."""
    kind = type(value)
    if kind in _PLAIN:
        text = repr(value)
        return text if len(text) <= budget else text[: budget - 1] + "…"
    if kind in _CONTAINERS and depth < 2:
        items = list(value.items())[:8] if kind is dict else list(value)[:8]
        parts = []
        for item in items:
            if kind is dict:
                k, v = _plain_repr(item[0], 40, depth + 1), _plain_repr(item[1], 60, depth + 1)
                part = None if k is None or v is None else f"{k}: {v}"
            else:
                part = _plain_repr(item, 60, depth + 1)
            if part is None:
                return None
            parts.append(part)
        more = ", …" if len(value) > len(items) else ""
        open_, close = {list: "[]", tuple: "()", dict: "{}"}.get(kind, "{}")
        text = open_ + ", ".join(parts) + more + close
        return text if len(text) <= budget else text[: budget - 1] + "…"
    return None


def _module_of(kind: type) -> str:
    return getattr(kind, "__module__", "") or ""


def _is(value: Any, module: str, name: str) -> bool:
    kind = type(value)
    return kind.__name__ == name and _module_of(kind).split(".")[0] == module


def _doc(obj: Any) -> str:
    try:
        doc = inspect.getdoc(obj) or ""
    except Exception:
        return ""
    lines = [line.strip() for line in doc.strip().splitlines() if line.strip()][:_DOC_LINES]
    text = " ".join(lines)
    return text if len(text) <= _DOC_CHARS else text[: _DOC_CHARS - 1] + "…"


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return "(...)"


def _own(obj: Any) -> bool:
    """Defined in the user's session (a notebook or a script), not imported from a library."""
    module = getattr(obj, "__module__", None)
    return module in (None, "__main__", "builtins") or module.startswith("__")


def short_source(value: Any) -> str | None:
    """The code of the user's own function when it is short, without its docstring (the listing
    gives that already); None for a class, a lambda (its source is the whole line around it), a
    function whose code is not to be had or is long, and code that holds what looks like a secret.
    A decorated function is shown as written (``__wrapped__`` followed)."""
    if isinstance(value, type) or not _own(value):
        return None
    try:
        function = inspect.unwrap(value)
    except ValueError:
        return None
    if not isinstance(function, types.FunctionType) or function.__name__ == "<lambda>":
        return None
    try:
        text = textwrap.dedent(inspect.getsource(function))
        tree = ast.parse(text)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    node = tree.body[0] if len(tree.body) == 1 else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    lines = text.splitlines()
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        if len(node.body) == 1 or first.lineno == node.lineno:
            return None  # a docstring and nothing else, or all on the def line
        del lines[first.lineno - 1:first.end_lineno]
    code = "\n".join(line for line in lines if line.strip())
    if code.count("\n") >= _SOURCE_LINES or len(code) > _SOURCE_CHARS or has_secret_shape(code) \
            or _sets_a_secret(tree):
        return None
    return code


def _sets_a_secret(tree: ast.AST) -> bool:
    """A string written under a secret-looking name (``password = "..."``, ``token="..."``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            if any(isinstance(t, ast.Name) and looks_secret(t.id) for t in node.targets):
                return True
        if isinstance(node, ast.keyword) and node.arg and looks_secret(node.arg) \
                and isinstance(node.value, ast.Constant):
            return True
    return False


def _shadows_builtin(name: str) -> bool:
    return not name.startswith("_") and name in vars(builtins)


def _callable_line(name: str, value: Any, rich: bool, source: bool = False) -> str:
    kind = "class" if isinstance(value, type) else "function"
    if not rich:
        return f"{name}{_signature(value)}: {kind}"
    if not _own(value):
        return f"{name}: {kind} from {getattr(value, '__module__', '?')}"
    line = f"{name}{_signature(value)}: {kind}"
    doc = _doc(value)
    line = f"{line}. {doc}" if doc else line
    if not source:
        return line
    if _shadows_builtin(name):
        # M3ToolEval's travel tools include sum(*args): ``sum(prices)`` then fails in it, and a
        # model that reads "sum" takes Python's for granted.
        line += f" (in this kernel, {name} is this function, not Python's builtin {name})"
    code = short_source(value)
    return line + "\n" + textwrap.indent(code, "    ") if code else line


def _methods(kind: type) -> list[tuple[str, Any]]:
    """Public methods defined on the class itself and its own bases (read off the class, so no
    instance attribute access runs)."""
    found = []
    for klass in kind.__mro__:
        if klass is object or not _own(klass):
            continue
        for attr, member in vars(klass).items():
            if attr.startswith("_") or attr in dict(found):
                continue
            if isinstance(member, (types.FunctionType, staticmethod, classmethod)):
                found.append((attr, member.__func__ if hasattr(member, "__func__") else member))
    return found[:12]


def _column(name: Any) -> str:
    """A column's name as code must write it: quoted where a plain listing would hide what it is
    (a space at either end, a number, an empty name)."""
    if isinstance(name, str) and name and name == name.strip() and "," not in name:
        return name
    return repr(name)


def _frame(name: str, df: Any, rich: bool) -> str:
    rows, cols = df.shape
    columns = list(df.columns)
    dtypes = df.dtypes
    shown = ", ".join(f"{_column(c)}: {dtypes.iloc[i]}" for i, c in enumerate(columns[:30]))
    more = f", … ({cols - 30} more)" if cols > 30 else ""
    text = f"{name}: DataFrame, {rows:,} rows × {cols} columns\n    columns: {shown}{more}"
    if rich and rows:
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 12,
                               "display.max_colwidth", 30):
            head = df.head(3).to_string()
        text += "\n    first rows:\n" + "\n".join("      " + line for line in head.splitlines())
    return text


def describe_value(name: str, value: Any, rich: bool = True, source: bool = False) -> str:
    if looks_secret(name):
        return f"{name}: {type(value).__name__} (value hidden: the name looks secret)"
    kind = type(value)
    if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)) \
            or _is(value, "functools", "partial"):
        return _callable_line(name, value, rich, source)
    if _is(value, "pandas", "DataFrame"):
        return _frame(name, value, rich)
    if _is(value, "pandas", "Series"):
        preview = ""
        if rich and len(value):
            preview = " = " + ", ".join(str(v)[:20] for v in value.head(5).tolist())
        return f"{name}: Series {value.name!r}, {len(value):,} values of {value.dtype}{preview}"
    if _is(value, "numpy", "ndarray"):
        return f"{name}: ndarray shape {value.shape} dtype {value.dtype}"
    text = _plain_repr(value)
    if text is not None and (has_secret_shape(text) or (kind is dict and any(
            isinstance(k, str) and looks_secret(k) for k in list(value)[:100]))):
        return f"{name}: {kind.__name__} (value hidden: it holds what looks like a secret)"
    if text is not None:
        size = f" (len {len(value)})" if kind in (*_CONTAINERS, str, bytes) else ""
        return f"{name}: {kind.__name__}{size} = {text}"
    if kind in _CONTAINERS:
        return f"{name}: {kind.__name__} (len {len(value)})"
    if _own(kind) and rich:
        methods = _methods(kind)
        line = f"{name}: {kind.__name__} object"
        doc = _doc(kind)
        if doc:
            line += f". {doc}"
        for attr, member in methods:
            member_doc = _doc(member)
            signature = _signature(member).replace("(self, ", "(").replace("(self)", "()")
            line += f"\n    .{attr}{signature}" + (f": {member_doc}" if member_doc else "")
        return line
    module = _module_of(kind)
    return f"{name}: {kind.__name__} object" + (f" ({module})" if module and module != "builtins" else "")


def user_variables(shell: Any) -> list[tuple[str, Any]]:
    """The user's own names, oldest first (IPython's bookkeeping and modules left out)."""
    hidden = getattr(shell, "user_ns_hidden", {})
    chosen = []
    for name, value in list(shell.user_ns.items()):
        if name.startswith("_") or name in _SKIP or name in hidden:
            continue
        if isinstance(value, types.ModuleType):
            continue
        chosen.append((name, value))
    return chosen


def variables_part(shell: Any, rich: bool = True, budget: float = TIME_BUDGET, source: bool = False) -> str:
    names = user_variables(shell)[-MAX_VARIABLES:]  # only what will be shown is described
    started = time.monotonic()
    lines = []
    for name, value in names:
        if time.monotonic() - started > budget:
            lines.append(f"- {name}: {type(value).__name__}")
            continue
        try:
            lines.append("- " + describe_value(name, value, rich, source))
        except Exception:
            lines.append(f"- {name}: {type(value).__name__}")
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        # Drop the DataFrames' rows first, then keep the newest lines.
        text = re.sub(r"\n    first rows:\n(?:      .*\n?)+", "\n", text)
        if len(text) > MAX_CHARS:
            text = text[-MAX_CHARS:].split("\n- ", 1)[-1]
            text = "- " + text if not text.startswith("- ") else text
    return text


# ---- files the request names ----

_PATHISH = re.compile(r"""(?:"([^"\n]+)"|'([^'\n]+)'|`([^`\n]+)`|(\S+))""")


def named_files(request: str, cwd: str | None = None) -> list[tuple[str, Path]]:
    """Existing data files whose paths appear in the request (quoted or not), each as the request
    names it and where it is."""
    found: list[tuple[str, Path]] = []
    base = Path(cwd or os.getcwd())
    for match in _PATHISH.finditer(request):
        token = next(g for g in match.groups() if g).strip().rstrip(".,;:)!?").lstrip("(")
        if Path(token).suffix.lower() not in _DATA_SUFFIXES:
            continue
        path = Path(os.path.expanduser(token))
        path = path if path.is_absolute() else base / path
        try:
            if path.is_file() and path.resolve() not in [p.resolve() for _, p in found]:
                found.append((token, path))
        except OSError:
            continue
        if len(found) >= _MAX_FILES:
            break
    return found


def _size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


def describe_file(path: Path, shown_as: str) -> str:
    size = path.stat().st_size
    line = f"- {shown_as} ({_size(size)})"
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return line
    with path.open("rb") as f:
        head = f.read(8192)
    lines = head.decode("utf-8", errors="replace").splitlines()[:_FILE_LINES]
    if size <= 50_000_000:  # counting lines of a huge file costs more than it tells
        with path.open("rb") as f:
            count = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        line = f"- {shown_as} ({_size(size)}, {count:,} lines)"
    shown = [(t if len(t) <= _FILE_LINE_CHARS else t[: _FILE_LINE_CHARS - 1] + "…") for t in lines]
    return line + ", first lines:\n" + "\n".join("    " + t for t in shown)


def spaced_names(path: Path) -> tuple[str, ...]:
    """The names of a delimited text file's header that have spaces around them (a header
    written "DATE TIME, WINDSPEED, DIR" makes pandas read ' WINDSPEED'), at most three."""
    if path.suffix.lower() not in _TEXT_SUFFIXES - {".json", ".jsonl"}:
        return ()
    with path.open("rb") as f:
        header = f.read(8192).decode("utf-8-sig", errors="replace").splitlines()[:1]
    if not header:
        return ()
    try:
        dialect = csv.Sniffer().sniff(header[0], delimiters=",\t;|")
    except csv.Error:
        return ()
    names = next(csv.reader(header, delimiter=dialect.delimiter), [])
    return tuple(n for n in names if n.strip() and n != n.strip())[:3]


def files_part(request: str, found: list[tuple[str, Path]] | None = None) -> str:
    """``found``: the request's named files, when the caller has them already."""
    parts = []
    for named, path in named_files(request) if found is None else found:
        try:
            parts.append(describe_file(path, named))
        except OSError:
            continue
    return "\n".join(parts)


@dataclass(frozen=True)
class KernelContext:
    """What the kernel holds and which files the request names, as lines for the model."""

    variables: str = ""
    files: str = ""
    # The user's functions and classes among the variables listed: what the model must not
    # define again.
    functions: tuple[str, ...] = ()
    # The user's other variables listed (their data): what the model must not type out again.
    data: tuple[str, ...] = ()
    # The cells the user ran since the last run (recent_cells.py), as the request tells them.
    cells: str = ""
    # The named files whose header writes names with spaces around them: (file as the request
    # names it, a few such names).
    spaced: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def gives_something(self) -> bool:
        """The request comes with variables, functions, files or the user's cells to use."""
        return bool(self.variables.strip() or self.files.strip() or self.cells.strip())


def given_names(shell: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Of the variables the model is told of: the names of the user's functions and classes, and
    of the rest (their data)."""
    kinds = (types.FunctionType, types.BuiltinFunctionType, functools.partial, type)
    listed = user_variables(shell)[-MAX_VARIABLES:]
    return (tuple(name for name, value in listed if isinstance(value, kinds)),
            tuple(name for name, value in listed if not isinstance(value, kinds)))


def kernel_context(shell: Any, request: str, rich: bool = True, source: bool = False,
                   header_spaces: bool = False) -> KernelContext:
    """``source``: short functions of the user's shown with their code (context "source");
    ``header_spaces``: which named files' headers write names with spaces around them."""
    functions, data = given_names(shell)
    found = named_files(request) if rich else []
    spaced = []
    for named, path in found if header_spaces else []:
        try:
            if names := spaced_names(path):
                spaced.append((named, names))
        except OSError:
            continue
    return KernelContext(variables_part(shell, rich, source=source),
                         files_part(request, found) if rich else "", functions, data, spaced=tuple(spaced))
