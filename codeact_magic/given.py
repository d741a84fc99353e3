"""Noticing code that defines again what the user gave the model to use.

A small model handed functions (a user's helpers, a benchmark's tools) often writes its own
versions of them under the same names: the user's function is then gone from their kernel, and
the run computes with an invention. Handed data, it types a made-up copy of it (a few of the rows
it was shown) over the user's variable. The loop stops that code once, before it runs, and says why.
"""

from __future__ import annotations

import ast
import re
from typing import Any


def _bound_names(tree: ast.AST) -> list[str]:
    """Names a module binds at its top level (in ifs, loops, tries and withs too; not inside
    functions or classes, whose names are their own)."""
    names: list[str] = []

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(node.name)
                continue
            if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.extend((a.asname or a.name).split(".")[0] for a in node.names)
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                visit(handler.body)

    visit(getattr(tree, "body", []))
    return names


def _tree(code: str, *, same_lines: bool = False) -> ast.Module | None:
    """The code's syntax tree, IPython's `!ls` and `%pip` lines included; None if it does not
    parse. ``same_lines``: only while the transformation kept one line per line, so that line
    numbers are the code's own."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        transformed = TransformerManager().transform_cell(code)
        tree = ast.parse(transformed)
    except (SyntaxError, ValueError):
        return None
    if same_lines and len(transformed.splitlines()) != len(code.splitlines()):
        return None
    return tree


def without(code: str, names: list[str]) -> str | None:
    """``code`` without its top-level definitions of ``names`` (functions, classes, plain
    assignments): what the model meant to run with the given ones. None if nothing would remain."""
    tree = _tree(code, same_lines=True)
    if tree is None:
        return None
    drop: set[int] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in names:
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) and t.id in names
                                                  for t in node.targets):
            first = node.lineno
        else:
            continue
        drop.update(range(first, (node.end_lineno or node.lineno) + 1))
    lines = [line for i, line in enumerate(code.splitlines(), 1) if i not in drop]
    if all(not line.strip() or line.lstrip().startswith("#") for line in lines):
        return None  # nothing left to run
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"  # one blank line where they were


def redefined(code: str, given: tuple[str, ...] | list[str], request: str = "") -> list[str]:
    """The ``given`` names that ``code`` binds again, leaving out those the request itself names
    (``fix my parse_date`` means to redefine it). Code that does not parse binds nothing here."""
    if not given:
        return []
    tree = _tree(code)
    if tree is None:
        return []
    named = {n for n in given if re.search(rf"\b{re.escape(n)}\b", request)}
    bound = _bound_names(tree)
    return [n for n in dict.fromkeys(bound) if n in given and n not in named]


def _literal_data(value: ast.expr) -> bool:
    """A value typed out as data: it holds a list, tuple, set or dict display of two or more
    constants (``[("Oslo", 120), ...]``, ``pd.DataFrame({"city": [...]})``)."""
    for node in ast.walk(value):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [*node.values, *(k for k in node.keys if k is not None)]
        else:
            continue
        if sum(isinstance(item, ast.Constant) for item in items) >= 2:
            return True
    return False


def _same_as_given(value: ast.expr, given: Any) -> bool:
    """A plain literal equal to what the variable holds: typing it out again overwrites nothing."""
    try:
        return ast.literal_eval(value) == given
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    except Exception:  # a user's type whose == raises (a DataFrame's ambiguous truth value)
        return False


def invented(code: str, data: tuple[str, ...] | list[str],
             namespace: dict[str, Any] | None = None) -> list[str]:
    """The ``data`` names (the user's variables) that ``code`` assigns, at its top level, a value
    typed out as data that uses none of the user's variables: a copy made up in place of theirs.
    ``sales = sales[sales.amount > 0]`` works on the given data and is not one; neither is
    ``df = pd.read_csv("sales.csv")``; nor is a plain literal equal to what ``namespace`` holds
    under that name (an exact copy). Unlike a function, naming the variable in the request does
    not allow it: a request names the data it is about."""
    if not data:
        return []
    tree = _tree(code)
    if tree is None:
        return []
    found: list[str] = []
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        names = [t.id for t in targets if isinstance(t, ast.Name) and t.id in data]
        used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
        if names and namespace is not None:
            names = [n for n in names if not (n in namespace and _same_as_given(node.value, namespace[n]))]
        if names and not used & set(data) and _literal_data(node.value):
            found += [n for n in names if n not in found]
    return found
