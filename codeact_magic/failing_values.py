"""The values a failed step's failing line works on, as the step left them.

A small model told ``TypeError: list indices must be integers or slices, not str`` about
``hotel["price_per_night"]`` "fixes" the line around it and sends the same line again: it has
never seen what ``hotel`` holds (the tool returned a list of dicts, not one dict). On M3ToolEval
most runs stopped as stalls went this way. The loop's system prompt says "print the values it
works on", and the model does not. What a person does next, and what IPython's ``%xmode Verbose``
prints for every frame, is look at those values; here only the failing line's, read from the
frame that raised (a function the step defines has its own locals), each in a few bounded lines
(tactic: ``error_values``).

Nothing runs but ``repr`` of the values (bounded by ``reprlib`` for builtin containers; a user
``__repr__`` is cut), and pandas objects go through ``kernel_context.describe_value``.
"""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import linecache
import reprlib
import tokenize
import traceback
import types
from dataclasses import dataclass, field
from typing import Any

from .failing_line import FailingLine
from .kernel_context import describe_value
from .redact import has_secret_shape, looks_secret

MAX_VALUES = 4  # names described per failed step, in the order the line has them
MAX_CHARS = 400  # of one value's description

_SKIP = {"final_answer", "print", "In", "Out", "get_ipython", "self", "cls"}


@dataclass(frozen=True)
class Value:
    name: str
    text: str  # "hotel: list (len 3) = [{'location': 'B', …}, …]"


def bounded(**limits: int) -> reprlib.Repr:
    """A ``reprlib.Repr`` within the limits a failing line's values are shown in, or ``limits``
    (Python 3.11's ``Repr`` takes no arguments)."""
    r = reprlib.Repr()
    chosen = dict(maxlevel=3, maxlist=3, maxtuple=3, maxdict=8, maxset=4, maxstring=80, maxother=120,
                  maxlong=40) | limits
    for name, value in chosen.items():
        setattr(r, name, value)
    return r


_REPR = bounded()


def _frame_of(error: BaseException, where: FailingLine) -> types.FrameType | None:
    """The innermost frame that raised at ``where``: its line number and text (a library's frame
    may have the same number)."""
    found = None
    for frame, lineno in traceback.walk_tb(error.__traceback__):
        if lineno == where.number and linecache.getline(frame.f_code.co_filename, lineno).strip() == where.text:
            found = frame
    return found


def _names(line: str) -> list[str]:
    """The names a line of code reads, in order, once each: not attributes, keywords or what is
    inside string literals. A line of a statement that goes on over several lines tokenizes up to
    where it stops."""
    names: dict[str, None] = {}
    after_dot = False
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.NAME and not after_dot and not keyword.iskeyword(token.string):
                names.setdefault(token.string, None)
            after_dot = token.type == tokenize.OP and token.string == "."
    except (tokenize.TokenError, SyntaxError):
        pass  # an unclosed bracket at the end of the line: the names before it are read
    return list(names)


def _shown(value: Any) -> bool:
    """Data, not code: functions, classes and modules are listed with the request already."""
    return not (callable(value) and not hasattr(value, "__len__")) and not isinstance(value, types.ModuleType)


def describe(name: str, value: Any) -> str:
    """``name: type (len n) = bounded repr``; pandas and numpy as the request's context shows them."""
    module = getattr(type(value), "__module__", "") or ""
    if module.startswith(("pandas", "numpy")) or looks_secret(name):
        return describe_value(name, value, rich=True)
    try:
        text = _REPR.repr(value)
    except Exception as error:  # a broken __repr__ says so, and the step's error stays the news
        text = f"<repr failed: {type(error).__name__}>"
    if has_secret_shape(text):
        return f"{name}: {type(value).__name__} (value hidden: it holds what looks like a secret)"
    try:
        size = f" (len {len(value)})" if isinstance(value, (list, tuple, dict, set, str, bytes)) else ""
    except Exception:
        size = ""
    line = f"{name}: {type(value).__name__}{size} = {text}"
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


@dataclass(frozen=True)
class FailedOn:
    """What a failed step's line worked on; and when the error was raised inside a function the
    kernel was given (a tool), what that function was called with."""

    values: list[Value]
    function: str | None = None
    arguments: list[Value] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.values or self.arguments)


def _given_call(error: BaseException, frame: types.FrameType) -> tuple[str, types.FrameType] | None:
    """The innermost call, below ``frame``, of a function the kernel's namespace holds (a tool the
    user gave, not a library's internals): its name and its frame."""
    codes = {}
    for name, value in list(frame.f_globals.items()):
        code = getattr(value, "__code__", None)
        if isinstance(code, types.CodeType) and not name.startswith("_"):
            codes.setdefault(code, name)
    found, below = None, False
    for tb_frame, _ in traceback.walk_tb(error.__traceback__):
        if tb_frame is frame:
            below = True
        elif below and tb_frame.f_code in codes:
            found = (codes[tb_frame.f_code], tb_frame)
    return found


def _described(names: list[str], scopes: tuple[dict, ...], told: dict[str, str], key: str = "") -> list[Value]:
    found: list[Value] = []
    for name in names:
        if name in _SKIP or name.startswith("__"):
            continue
        scope = next((s for s in scopes if name in s), None)
        if scope is None or not _shown(scope[name]):
            continue
        text = describe(name, scope[name])
        if told.get(key + name) == text:
            continue
        told[key + name] = text
        found.append(Value(name, text))
        if len(found) == MAX_VALUES:
            break
    return found


_COMPREHENSIONS = {"<genexpr>", "<listcomp>", "<setcomp>", "<dictcomp>"}


def _iterated(frame: types.FrameType, line: str) -> tuple[str, Any] | None:
    """When the frame that raised is a comprehension's (a generator expression's), what its loop
    goes over, named as the line writes it: ``sum(int(d) for d in str(math.pow(2, 100)))`` fails on
    ``d = '.'``, and only ``str(math.pow(2, 100))`` (``'1.2676506002282294e+30'``) shows why. Read
    from the frame's iterator as its pickling protocol gives it back (builtin sequences: a string, a
    list, a range), nothing called that could change it."""
    if frame.f_code.co_name not in _COMPREHENSIONS or ".0" not in frame.f_locals:
        return None
    iterator = frame.f_locals[".0"]
    if type(iterator).__module__ != "builtins":  # a user's iterator's __reduce__ is user code
        return None
    try:
        reduced = iterator.__reduce__()
    except Exception:  # a generator, a file: not to be read again
        return None
    if not (isinstance(reduced, tuple) and len(reduced) >= 2 and reduced[0] is iter
            and isinstance(reduced[1], tuple) and len(reduced[1]) == 1):
        return None
    targets = set(frame.f_code.co_varnames) - {".0"}
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp, ast.DictComp)):
            loop = node.generators[0]
            if {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)} <= targets:
                return ast.unparse(loop.iter), reduced[1][0]
    return None


def failing_values(error: BaseException | None, where: FailingLine | None,
                   told: dict[str, str]) -> FailedOn | None:
    """The values of the names on the failing line ``where`` of a step that raised ``error``, as
    the frame that raised has them, and the arguments of the given function it raised in; each only
    when the run has not been shown it like this yet (``told``: name → description, updated). None
    for an error that is not about values: a name not defined (``suggest`` answers it), a syntax
    error, an interrupt."""
    if error is None or where is None or isinstance(error, (SyntaxError, KeyboardInterrupt, NameError)):
        return None
    frame = _frame_of(error, where)
    if frame is None:
        return None
    values = _described(_names(where.text), (frame.f_locals, frame.f_globals), told)
    if (iterated := _iterated(frame, where.text)) is not None:
        name, value = iterated
        if told.get(name) != (text := describe(name, value)):
            told[name] = text
            values.append(Value(name, text))
    call = _given_call(error, frame)
    if call is None:
        return FailedOn(values) or None
    function, inner = call
    code = inner.f_code
    parameters = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount
                                       + bool(code.co_flags & inspect.CO_VARARGS)
                                       + bool(code.co_flags & inspect.CO_VARKEYWORDS)])
    arguments = _described(parameters, (inner.f_locals,), told, key=f"{function}()")
    return FailedOn(values, function, arguments) or None
