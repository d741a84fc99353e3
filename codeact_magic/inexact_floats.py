"""Whole numbers a step's code computes as floats past the range where a float holds them exactly.

A float has a 53-bit mantissa: beyond 2**53 (9,007,199,254,740,992) it holds only some whole
numbers, and from 1e16 on Python writes it in e-notation (``1.2676506002282294e+30``), not as its
digits. Python's ints are exact at any size, but ``math.pow``, true division (``/``) and
``float()`` hand back floats. Asked for the digit sum of 2**100, the small model wrote
``sum(int(d) for d in str(math.pow(2, 100)))``, met ``int('.')``, and cut characters off the
float's text until the run stalled; a factorial divided with ``/`` comes back rounded the same way.
Nothing in the traceback says why, and the model never looks at the float.

The step's code is read, never run again: an operand counts only when it is evaluated from
literals, the kernel's int variables and a few pure functions of ints (``math.factorial``,
``math.comb``, ``math.perm``, ``math.gcd``, ``math.isqrt``, ``abs``), with bounded sizes, so that
reading a step costs nothing and calls nothing of the user's.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from typing import Any, Callable

EXACT_LIMIT = 2**53  # the largest range where every whole number is a float
_MAX_BITS = 100_000  # an int operand larger than this is not worked out (reading stays cheap)
_MAX_ARGUMENT = 5_000  # ... nor a factorial, comb or perm of more than this

# Pure functions of ints a step's expression may hold, by the name the code calls them with.
_FUNCTIONS: dict[str, Callable[..., int]] = {
    "math.factorial": math.factorial, "factorial": math.factorial,
    "math.comb": math.comb, "comb": math.comb, "math.perm": math.perm, "perm": math.perm,
    "math.gcd": math.gcd, "gcd": math.gcd, "math.isqrt": math.isqrt, "isqrt": math.isqrt,
    "abs": abs,
}


@dataclass(frozen=True)
class InexactFloat:
    """``expression`` (as the code writes it) gives the float ``value`` for a whole number;
    ``exact`` is the int expression that gives it exactly."""

    expression: str
    value: float
    exact: str


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and (owner := _dotted(node.value)):
        return f"{owner}.{node.attr}"
    return ""


def _int(node: ast.expr, namespace: dict[str, Any]) -> int | None:
    """The int ``node`` evaluates to, or None if it is not one that can be worked out safely."""
    if isinstance(node, ast.Constant):
        return node.value if type(node.value) is int else None
    if isinstance(node, ast.Name):
        value = namespace.get(node.id)
        return value if type(value) is int else None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _int(node.operand, namespace)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub, ast.Mult, ast.FloorDiv,
                                                           ast.Mod, ast.Pow)):
        left, right = _int(node.left, namespace), _int(node.right, namespace)
        if left is None or right is None:
            return None
        return _arithmetic(node.op, left, right)
    if isinstance(node, ast.Call) and not node.keywords and (function := _FUNCTIONS.get(_dotted(node.func))):
        arguments = [_int(argument, namespace) for argument in node.args]
        if not arguments or any(a is None or abs(a) > _MAX_ARGUMENT for a in arguments):
            return None
        try:
            return function(*arguments)
        except (ValueError, TypeError):
            return None
    return None


def _arithmetic(op: ast.operator, left: int, right: int) -> int | None:
    if isinstance(op, ast.Pow):
        if right < 0 or abs(left).bit_length() * right > _MAX_BITS:
            return None
        return left**right
    if isinstance(op, ast.Mult) and left.bit_length() + right.bit_length() > _MAX_BITS:
        return None
    if isinstance(op, (ast.FloorDiv, ast.Mod)) and right == 0:
        return None
    operations = {ast.Add: int.__add__, ast.Sub: int.__sub__, ast.Mult: int.__mul__,
                  ast.FloorDiv: int.__floordiv__, ast.Mod: int.__mod__}
    return operations[type(op)](left, right)


def _math_pow(function: ast.expr, namespace: dict[str, Any]) -> bool:
    """``math.pow``, or ``pow`` where the kernel's ``pow`` is math's (``from math import pow``): the
    builtin ``pow`` of two ints is an exact int."""
    name = _dotted(function)
    return name == "math.pow" or (name == "pow" and namespace.get("pow") is math.pow)


def _integral_float(node: ast.expr) -> int | None:
    """A float literal that is a whole number (``2.0``): the int it stands for."""
    if isinstance(node, ast.Constant) and type(node.value) is float and node.value.is_integer():
        return int(node.value)
    return None


def _found(node: ast.expr, source: str, namespace: dict[str, Any]) -> InexactFloat | None:
    text = lambda n: ast.get_source_segment(source, n) or ast.unparse(n)  # noqa: E731
    whole: int | None = None
    exact = ""
    if isinstance(node, ast.Call) and not node.keywords and len(node.args) == 2 \
            and _math_pow(node.func, namespace):
        base, power = (_int(a, namespace) for a in node.args)
        if base is not None and power is not None:
            whole = _arithmetic(ast.Pow(), base, power)
            exact = f"{text(node.args[0])} ** {text(node.args[1])}"
    elif isinstance(node, ast.Call) and not node.keywords and len(node.args) == 1 \
            and _dotted(node.func) == "float":
        if (value := _int(node.args[0], namespace)) is not None:
            whole, exact = value, text(node.args[0])
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left, right = _int(node.left, namespace), _int(node.right, namespace)
        if left is not None and right and left % right == 0:
            whole, exact = left // right, f"{text(node.left)} // {text(node.right)}"
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        # 2.0 ** 100 or 2 ** 100.0: one whole-number float operand makes the power a float.
        floated = _integral_float(node.left), _integral_float(node.right)
        base = _int(node.left, namespace) if floated[0] is None else floated[0]
        power = _int(node.right, namespace) if floated[1] is None else floated[1]
        if floated != (None, None) and base is not None and power is not None:
            whole, exact = _arithmetic(ast.Pow(), base, power), f"{base} ** {power}"
    if whole is None or abs(whole) < EXACT_LIMIT:
        return None
    try:
        value = float(whole)
    except OverflowError:
        value = math.inf if whole > 0 else -math.inf  # the step itself raised OverflowError
    return InexactFloat(expression=text(node), value=value, exact=exact)


def inexact_floats(code: str, namespace: dict[str, Any] | None = None) -> list[InexactFloat]:
    """The expressions of ``code`` that compute a whole number of 2**53 or more as a float, each
    once, in the order the code writes them. ``namespace``: the kernel's variables, for operands
    the code names (only ints are read from it)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    found: dict[str, InexactFloat] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Call, ast.BinOp)) and (hit := _found(node, code, namespace or {})):
            found.setdefault(hit.expression, hit)
    return sorted(found.values(), key=lambda hit: code.find(hit.expression))
