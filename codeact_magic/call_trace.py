"""The calls a step made to the functions the user gave, and what each returned.

An agent that calls tools as functions reads every tool's result; code that keeps a tool's result
in a variable shows the model nothing. On M3ToolEval's web browsing the small model wrote a
function that clicks a URL it guessed, scrolls and parses a view it never printed: the browser
answered "[URL not found.]", the parsing found nothing and the run handed over None, with the
model none the wiser. After the step's output the model is shown each call to a given function,
with its arguments and what it returned (tactic: ``show_calls``), as a trace of tool calls shows
them; a result the output printed already is not shown twice.

The calls are read by a profile hook (``sys.setprofile``) for the step's length: nothing of the
user's namespace is wrapped or replaced. Only the outermost calls of given functions are kept (a
tool that calls another one shows once). A function is known by its code, and where several share
one code (tools made by one factory, as M3ToolEval's are; a method bound to an object), by what
its closure holds or by the object it is bound to.
"""

from __future__ import annotations

import dis
import inspect
import reprlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .failing_values import bounded
from .redact import has_secret_shape

MAX_CALLS = 6  # calls described per step, the first ones; the rest are counted
MAX_RETURNED = 600  # characters of one returned value
MAX_ARGUMENTS = 160  # characters of one call's arguments


@dataclass(frozen=True)
class Call:
    function: str
    arguments: str  # "'/products', limit=3", as the call would be written
    returned: str  # the value as text: a string as it prints, anything else as a bounded repr


@dataclass
class Trace:
    """What a step called, in order; ``more``: outermost calls past ``MAX_CALLS``."""

    calls: list[Call] = field(default_factory=list)
    more: int = 0


_ARGUMENT = bounded(maxlist=6, maxtuple=6, maxset=6, maxstring=60)
_RETURNED = bounded(maxlist=6, maxtuple=6, maxset=6, maxstring=MAX_RETURNED, maxother=400)


def _text(value: Any, to: reprlib.Repr) -> str:
    try:
        return to.repr(value)
    except Exception as error:  # a broken __repr__ is no reason to lose the step
        return f"<{type(value).__name__}: repr failed with {type(error).__name__}>"


def _returned(value: Any) -> str:
    if isinstance(value, str):
        text = value if len(value) <= MAX_RETURNED else value[:MAX_RETURNED] + "…"
    else:
        text = _text(value, _RETURNED)
    return "(hidden: it looks like a secret)" if has_secret_shape(text) else text


def _arguments(frame: types.FrameType, *, skip_first: bool = False) -> str:
    """The call's arguments as it would be written: positional values, *args, then keywords;
    ``skip_first``: a method's own object (``self``) left out."""
    info = inspect.getargvalues(frame)
    parts = [_text(info.locals.get(name), _ARGUMENT) for name in info.args[skip_first:]]
    if info.varargs:
        parts += [_text(v, _ARGUMENT) for v in info.locals.get(info.varargs) or ()]
    if info.keywords:
        parts += [f"{k}={_text(v, _ARGUMENT)}" for k, v in (info.locals.get(info.keywords) or {}).items()]
    text = ", ".join(parts)
    if has_secret_shape(text):
        return "…"
    return text if len(text) <= MAX_ARGUMENTS else text[: MAX_ARGUMENTS - 1] + "…"


Matcher = Callable[[types.FrameType], bool]


def _matchers(namespace: dict, names: tuple[str, ...] | list[str]) -> dict[types.CodeType, list[tuple[str, Matcher, bool]]]:
    """Code object → (name, does this frame run that function, skip its first argument)."""
    found: dict[types.CodeType, list[tuple[str, Matcher, bool]]] = {}
    for name in names:
        value = namespace.get(name)
        bound = None
        if isinstance(value, types.MethodType):
            bound, value = value.__self__, value.__func__
        elif not isinstance(value, (types.FunctionType, type)) and callable(value):
            call = getattr(type(value), "__call__", None)  # a tool object: its own __call__
            if isinstance(call, types.FunctionType):
                bound, value = value, call
        if not isinstance(value, types.FunctionType):
            continue  # builtins run no Python frame; a class is its constructor's business
        code = value.__code__
        if bound is not None and code.co_argcount:
            owner, first = bound, code.co_varnames[0]
            matcher: Matcher = lambda frame, owner=owner, first=first: frame.f_locals.get(first) is owner
        elif value.__closure__:
            cells = [(var, cell) for var, cell in zip(code.co_freevars, value.__closure__)]

            def matcher(frame: types.FrameType, cells: list = cells) -> bool:
                local = frame.f_locals
                for var, cell in cells:
                    try:
                        if local.get(var, cell) is not cell.cell_contents:
                            return False
                    except ValueError:  # an empty cell: nothing to tell them apart by
                        continue
                return True
        else:
            matcher = lambda frame: True
        found.setdefault(code, []).append((name, matcher, bound is not None))
    return found


_RETURNS = {dis.opmap[name] for name in ("RETURN_VALUE", "RETURN_CONST") if name in dis.opmap}


def _returned_normally(frame: types.FrameType) -> bool:
    """A frame left by an exception also "returns" (None) to a profiler: its last instruction is
    then not a return (the step's traceback tells of that call)."""
    try:
        return frame.f_code.co_code[frame.f_lasti] in _RETURNS
    except IndexError:
        return True


@contextmanager
def traced(namespace: dict, names: tuple[str, ...] | list[str], into: Trace) -> Iterator[None]:
    """Record into ``into`` the outermost calls of the functions ``names`` name in ``namespace``
    while the block runs (on this thread). Nothing is hooked when none of them is a Python
    function; a profiler already set keeps being called."""
    matchers = _matchers(namespace, names)
    if not matchers:
        yield
        return
    before = sys.getprofile()
    open_calls: list[tuple[types.FrameType, str | None, str]] = []  # frame, name if outermost, arguments

    def hook(frame: types.FrameType, event: str, arg: Any) -> None:
        if before is not None:
            before(frame, event, arg)
        if event == "call":
            for name, matches, method in matchers.get(frame.f_code, ()):
                if matches(frame):
                    outermost = not open_calls
                    arguments = _arguments(frame, skip_first=method) if outermost else ""
                    open_calls.append((frame, name if outermost else None, arguments))
                    return
        elif event == "return" and open_calls and open_calls[-1][0] is frame:
            _, name, arguments = open_calls.pop()
            if name is None or not _returned_normally(frame):
                return
            if len(into.calls) < MAX_CALLS:
                into.calls.append(Call(name, arguments, _returned(arg)))
            else:
                into.more += 1

    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(before)


def unseen(trace: Trace, shown: str) -> list[Call]:
    """The calls whose result the step's output (``shown``) does not already hold."""
    return [call for call in trace.calls
            if not (text := call.returned.strip()) or text[:200] not in shown]
