"""Noticing quantities the request gives that no step's code used: part of the request left out.

Asked for "the final trade value ... exchanging 100 units of space ore; the base price per unit is
50", the small model converted the price of one unit and answered 81.0 for 8,100; in 10 of the 16
trade tasks of M3ToolEval it answered wrong so, a quantity of the request never in its code. When
the model is about to answer, those numbers are named (tactic ``unused_numbers``), so that it can
see what it left out.

Only whole numbers above 10, outside the answer's form: thresholds (0.05), percentages (used as
fractions or complements: "80% for training" is ``test_size=0.2``) and small counts ("the top 3",
"2 decimals") are often used without being typed: counting them too, a replay of the recorded
DABench runs found 34 runs to name numbers to, 10 of them solved; as it is, 2, none solved.
"""

from __future__ import annotations

import re

# A number of the request as a person writes it ("100", "1,000", "$2500"), not a part of a word, a
# decimal, a percentage or a path.
_REQUEST_NUMBER = re.compile(r"(?<![\w.,/\\])(\d{1,3}(?:,\d{3})+|\d+)(?![\w%]|[.,]\d)")
# A number as code writes it, anywhere in the code (in strings too: a date "2024-03-13").
_CODE_NUMBER = re.compile(r"\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _value(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return None


def unused_numbers(request: str, codes: list[str], form: str | None = None) -> list[str]:
    """The whole numbers above 10 that ``request`` gives (leaving out its answer ``form``, whose
    numbers describe the answer) and that none of ``codes`` writes, as the request writes them. A
    number is used too as a ``range`` end (one more) or as a share (a hundredth, or its rest)."""
    if form:
        request = request.replace(form, " ")
    used = {round(v, 9) for code in codes for m in _CODE_NUMBER.finditer(code)
            if (v := _value(m.group())) is not None}
    found: list[str] = []
    for match in _REQUEST_NUMBER.finditer(request):
        value = _value(match.group(1))
        if value is None or value <= 10 or match.group(1) in found:
            continue
        # ``range(1, 101)`` uses 100; ``test_size=0.3`` uses "a 70/30 split".
        ways = {round(v, 9) for v in (value, value + 1, value / 100, 1 - value / 100)}
        if not ways & used:
            found.append(match.group(1))
    return found
