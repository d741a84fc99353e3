"""Noticing data a step's code types out that the run has never seen: a guess written as code.

Asked for the total price of three items on a web page it was given functions to browse, the small
model typed out prices (``prices = {"Ancient Wand": 15.99, ...}``) and summed them: the answer came
from code that ran, and was made up all the same. A value that neither the request (with what it
lists: functions, variables, files' first lines) nor any output so far has shown can only come from
the model's memory. The loop stops such code once, before it runs, and names the values.

What counts as typed-out data, kept narrow so that ordinary code is never held back (replayed on the
recorded runs it fires in 1 of the 156 DABench runs and none of the dev tasks, in no solved run):
numbers that are a whole assignment's value or an
item of a list, tuple, set or dict display; strings that are an item of a list, tuple or set display
or a dict's value (not its key: the model names its own fields). Not an integer up to 10 (indices,
counts, ``range`` bounds), not a list in a subscript (``df[["a", "b"]]`` selects, it types nothing),
and only when two or more such values are unseen: one constant is a parameter, not data.
"""

from __future__ import annotations

import ast
import re

# A number as text: sign, thousands commas, decimals, exponent (answer_numbers.py reads answers with it).
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def numbers_in(text: str) -> set[float]:
    """The numbers ``text`` shows, as floats ("1,480" is 1480), and each as a fraction of 100
    too: a request's "10% off" gives the code's ``0.10``."""
    found: set[float] = set()
    for match in NUMBER.finditer(text):
        try:
            value = abs(float(match.group().replace(",", "")))
        except ValueError:
            continue
        found |= {value, round(value / 100, 12)}
    return found


def _number(node: ast.expr) -> int | float | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    return None


def _typed_items(tree: ast.AST) -> list[tuple[ast.expr, bool]]:
    """The literal items of the code's displays and assignments, each with whether a string there
    is data (not a dict's key)."""
    in_subscripts = {id(node.slice) for node in ast.walk(tree) if isinstance(node, ast.Subscript)}
    items: list[tuple[ast.expr, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            items.append((node.value, False))  # ``price = 15.99``: a number; a lone string is a name
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and id(node) not in in_subscripts:
            items += [(item, True) for item in node.elts]
        elif isinstance(node, ast.Dict):
            items += [(value, True) for value in node.values]
            items += [(key, False) for key in node.keys if key is not None]
    return items


def unseen_values(code: str, seen: str) -> list[str]:
    """The values ``code`` types out as data that ``seen`` (the text the model was shown: the
    request with what it lists, and the outputs) never shows, as the code writes them; empty when
    fewer than two, or when the code does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    numbers, text = numbers_in(seen), seen.lower()
    found: list[str] = []
    for item, strings in _typed_items(tree):
        value = _number(item)
        if value is not None:
            if float(value).is_integer() and abs(value) <= 10 or abs(value) in numbers:
                continue
        elif not (strings and isinstance(item, ast.Constant) and isinstance(item.value, str)
                  and len(item.value.strip()) > 1 and item.value.lower() not in text):
            continue
        shown = ast.unparse(item)
        if shown not in found:
            found.append(shown)
    return found if len(found) >= 2 else []
