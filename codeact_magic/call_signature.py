"""The parameters of the function a failed step called with arguments it does not take.

A small model writes ``mean_squared_error(y, p, squared=False)`` from memory of an older
scikit-learn (the keyword is gone since 1.6) and is told only ``TypeError: got an unexpected keyword
argument 'squared'``, without even the function's name: on DABench it sent the call again in the 3
runs that met it, solved none. What a person does next is read the signature (IPython's ``f?``).
Here it is looked up without running anything: the call on the failing line that the message names
(or that passes the keyword it names), its function found through the kernel's names by static
attribute lookup (``inspect.getattr_static``: no property or ``__getattr__`` runs), and shown as
``inspect.signature`` gives it (tactic: ``signature``).
"""

from __future__ import annotations

import ast
import builtins
import inspect
import re
import types
from dataclasses import dataclass
from typing import Any

from .failing_line import FailingLine
from .redact import looks_secret

MAX_CHARS = 300  # of a signature shown

# The messages CPython (and inspect.Signature.bind, which scikit-learn's checks use) gives for a
# call whose arguments do not fit: with the function's name in front, or not.
_ARGUMENTS = re.compile(
    r"^(?:(?P<name>[\w.<>]+)\(\) )?(?:got an unexpected keyword argument '(?P<keyword>\w+)'|"
    r"missing \d+ required (?:positional|keyword-only) arguments?|takes \d+ positional arguments? but|"
    r"takes from \d+ to \d+ positional arguments? but|got multiple values for argument|"
    r"got some positional-only arguments passed as keyword)")
# A builtin's own wording, naming the C function (sort() for sorted): found by the keyword alone.
_INVALID_KEYWORD = re.compile(r"^'(?P<keyword>\w+)' is an invalid keyword argument for ")


@dataclass(frozen=True)
class Signature:
    call: str  # the function as the code names it: "mean_squared_error", "stats.ttest_ind"
    parameters: str  # "(y_true, y_pred, *, sample_weight=None, multioutput='uniform_average')"
    keyword: str | None = None  # the keyword argument it does not take


def callee_signature(error: BaseException | None, code: str, where: FailingLine | None,
                     namespace: dict[str, Any] | None) -> Signature | None:
    """The signature of the function the failing line called with arguments it does not take."""
    if not isinstance(error, TypeError) or where is None or namespace is None:
        return None
    found = _ARGUMENTS.match(str(error).strip()) or _INVALID_KEYWORD.match(str(error).strip())
    if found is None:
        return None
    name = (found.groupdict().get("name") or "").split(".")
    wanted = name[-2] if name[-1] == "__init__" and len(name) > 1 else name[-1]
    keyword = found.group("keyword")
    for call in _calls_on(code, where.number):
        written = ast.unparse(call.func)
        if wanted and written.rsplit(".", 1)[-1] != wanted:
            continue
        if not wanted and (keyword is None or keyword not in {k.arg for k in call.keywords}):
            continue
        if any(looks_secret(part) for part in written.split(".")):
            return None
        function, bound = _resolve(call.func, namespace)
        parameters = _parameters(function, bound)
        if parameters is None:
            return None
        if keyword is not None and keyword in _names(function, bound):
            return None  # it takes that keyword: the message is about another call
        return Signature(written, parameters, keyword)
    return None


def _names(function: Any, bound: bool) -> set[str]:
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return set()
    return set(names[1:] if bound else names)


def _calls_on(code: str, number: int) -> list[ast.Call]:
    """The calls of ``code`` whose text spans line ``number``, outermost first (ast.walk's order)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))
            and node.lineno <= number <= (node.end_lineno or node.lineno)]


_NOT_FOUND = object()


def _resolve(node: ast.expr, namespace: dict[str, Any]) -> tuple[Any, bool]:
    """The object a dotted name reads, looked up statically, and whether it was read off an
    instance (a method, whose first parameter is the instance)."""
    if isinstance(node, ast.Name):  # the kernel's name, else Python's builtin of that name
        return namespace.get(node.id, getattr(builtins, node.id, _NOT_FOUND)), False
    if isinstance(node, ast.Attribute):
        owner, _ = _resolve(node.value, namespace)
        if owner is _NOT_FOUND:
            return _NOT_FOUND, False
        try:
            found = inspect.getattr_static(owner, node.attr)
        except AttributeError:
            return _NOT_FOUND, False
        if isinstance(found, (staticmethod, classmethod)):
            return found.__func__, isinstance(found, classmethod)
        on_instance = not isinstance(owner, (types.ModuleType, type))
        return found, on_instance and inspect.isfunction(found)
    return _NOT_FOUND, False


def _parameters(function: Any, bound: bool) -> str | None:
    if function is _NOT_FOUND or not callable(function):
        return None
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a text signature
        return None
    parameters = list(signature.parameters.values())[1 if bound else 0:]
    # Without annotations: the names and defaults are what a call needs, in fewer tokens.
    plain = [p.replace(annotation=inspect.Parameter.empty) for p in parameters]
    signature = signature.replace(parameters=plain, return_annotation=inspect.Signature.empty)
    text = str(signature)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 2] + "…)"
