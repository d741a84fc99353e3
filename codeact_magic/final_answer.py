"""``final_answer(answer)``: how a step's code hands the run its answer.

The model ends a task by calling it in code, so the answer is a value its code computed, not a
number retyped from an output (small models misread and round). It is offered to the model's code
for the length of each step only: the user's namespace keeps no trace of it, and a ``final_answer``
of the user's own is put back after the step.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

NAME = "final_answer"
_MISSING = object()


@dataclass(frozen=True)
class Delivered:
    """What a step passed to ``final_answer``."""

    value: Any
    text: str  # the answer as the user reads it
    # The other answers the same step passed before this one, where they differ from it: a step
    # that hands over every candidate ("DNA: …", "mRNA: …", "length: …") has not chosen one.
    others: tuple[str, ...] = ()
    # The values of one call given several (``final_answer("Not Normal", p)``): the parts of one
    # answer, in order; ``text`` is them joined by spaces.
    parts: tuple[str, ...] = ()


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception as exc:  # an object whose __str__ fails: say so rather than lose the run
        return f"<{type(value).__name__} that cannot be shown: {exc}>"


def many_values(value: Any) -> str | None:
    """``value`` described (e.g. "a Series of 4 values") when it is a whole pandas or NumPy object
    of several values: what a model hands over when it printed a table and the request asked for
    one thing in it (which column, what mean). None for anything else, lists and dicts included:
    those are often the answer asked for."""
    module = type(value).__module__.split(".", 1)[0]
    size = getattr(value, "size", None)
    if module not in ("pandas", "numpy") or not isinstance(size, int) or size < 2:
        return None
    return f"a {type(value).__name__} of {size} values"


# What final_answer() receives when the code found nothing: no value at all (a lookup that missed),
# or an empty container, which may also be the answer ("no outliers": DABench labels a few so).
_NO_VALUE = {"", "None", "nan", "NaN", "''", '""'}
_EMPTY = {"[]", "{}", "()"}


def _answer_calls(code: str) -> list[ast.Call]:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == NAME]


def typed_literal(code: str) -> bool:
    """The code hands final_answer() a literal (a value typed in, not computed): one rule for
    "computed by a step", in the loop, the benchmarks and the tests."""
    for call in _answer_calls(code):
        if call.args and (isinstance(arg := call.args[0], ast.Constant) or (
                isinstance(arg, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in arg.values))):
            return True
    return False


def typed_text(code: str) -> str:
    """What the code types into final_answer() rather than computes: its arguments' literal parts
    (a whole literal, the text around an f-string's {fields}), a line each. In
    ``final_answer(f"@w[{w:.4f}], @skew[-0.1234]")`` the small model computed one slot and typed
    the other."""
    parts = []
    for call in _answer_calls(code):
        for arg in call.args:
            pieces = arg.values if isinstance(arg, ast.JoinedStr) else [arg]
            parts += [str(p.value) for p in pieces if isinstance(p, ast.Constant) and p.value is not None]
    return "\n".join(parts)


def without_answer_calls(code: str) -> str:
    """The code with its final_answer(...) calls blanked out: what else it shows."""
    lines = code.splitlines()
    for call in sorted(_answer_calls(code), key=lambda c: (c.lineno, c.col_offset), reverse=True):
        if call.end_lineno is None or call.end_col_offset is None:
            continue
        # ast's offsets are in UTF-8 bytes.
        first = lines[call.lineno - 1].encode()
        last = lines[call.end_lineno - 1].encode()
        joined = first[:call.col_offset] + last[call.end_col_offset:]
        lines[call.lineno - 1:call.end_lineno] = [joined.decode(errors="replace")]
    return "\n".join(lines)


def is_nothing(text: str) -> bool:
    """The answer's text is None, NaN, an empty string or an empty container."""
    return text.strip() in _NO_VALUE | _EMPTY


def is_no_value(text: str) -> bool:
    """The answer's text is no value at all (None, NaN, ""): never the answer to a request."""
    return text.strip() in _NO_VALUE


class Slot:
    """Where the answer lands: one per step."""

    def __init__(self) -> None:
        self.delivered: Delivered | None = None

    def function(self) -> Any:
        slot = self

        def final_answer(answer: Any, *more: Any) -> None:
            """End the task with ``answer``: the value the user gets, in the form the request asks
            for (a number, a string, a list...). Call it once the output shows the result."""
            # Several values are taken as the parts of one answer: the small model passed an
            # answer's two parts as two arguments, met a TypeError, and ended on neither.
            parts = tuple(as_text(v) for v in (answer, *more)) if more else ()
            text = " ".join(parts) if parts else as_text(answer)
            value = (answer, *more) if more else answer
            before = slot.delivered
            others = () if before is None else (*before.others, before.text)
            earlier = tuple(dict.fromkeys(o for o in others if o != text))
            slot.delivered = Delivered(value, text, earlier, parts)

        return final_answer


@contextmanager
def offered(namespace: MutableMapping[str, Any], slot: Slot) -> Iterator[None]:
    """``final_answer`` bound in ``namespace`` for the block; whatever was there before comes back."""
    before = namespace.get(NAME, _MISSING)
    function = slot.function()
    namespace[NAME] = function
    try:
        yield
    finally:
        if namespace.get(NAME, _MISSING) is function:  # the step did not rebind the name itself
            if before is _MISSING:
                namespace.pop(NAME, None)
            else:
                namespace[NAME] = before
