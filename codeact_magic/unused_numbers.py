"""Noticing quantities the request gives that no step's code used: part of the request left out.

Asked for "the final trade value ... exchanging 100 units of space ore; the base price per unit is
50", the small model converted the price of one unit and answered 81.0 for 8,100; in 10 of the 16
trade tasks of M3ToolEval it answered wrong so, a quantity of the request never in its code. When
the model is about to answer, those numbers are named with the request's words around them (tactic
``unused_numbers``), so that it can see what it left out and what they are.

Only whole numbers above 10, outside the answer's form: thresholds (0.05), percentages (used as
fractions or complements: "80% for training" is ``test_size=0.2``) and small counts ("the top 3",
"2 decimals") are often used without being typed: counting them too, a replay of the recorded
DABench runs found 34 runs to name numbers to, 10 of them solved; as it is, 2, none solved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A number of the request as a person writes it ("100", "1,000", "$2500"), not a part of a word, a
# decimal, a percentage, a path, or of digits joined by a dash or a parenthesis (a phone number
# "(719)639-9091", a date).
_REQUEST_NUMBER = re.compile(r"(?<![\w.,/\\])(?<!\d[-()])(\d{1,3}(?:,\d{3})+|\d+)(?![\w%]|[.,]\d|[-()]\d)")
# A number as code writes it, anywhere in the code (in strings too: a date "2024-03-13").
_CODE_NUMBER = re.compile(r"\d[\d_]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


# An example of the answer's form ("Example: 'Answer: [1000, 2000, 3000]'", "(e.g., 12.34)"): up to
# its parenthesis' or line's end. Its numbers show a shape, not quantities to use.
_EXAMPLE = re.compile(r"(?i)\b(?:e\.\s?g\.|for example|for instance|example)[^)\n]*")
# Where a clause of the request ends: a sentence's or a list's punctuation (not a number's "1,000"
# or "1.5"), or a line's end.
_CLAUSE_END = re.compile(r"[.;:!?,](?!\d)|\n")


@dataclass(frozen=True)
class UnusedNumber:
    """A number of the request no step's code used: as the request writes it, and the request's
    words around it ("exchanging 100 units of space ore"), which say what it is."""

    text: str
    words: str


def _value(text: str) -> float | None:
    try:
        return float(text.replace(",", "").replace("_", ""))
    except ValueError:
        return None


def unused_numbers(request: str, codes: list[str], form: str | None = None) -> list[UnusedNumber]:
    """The whole numbers above 10 that ``request`` gives (leaving out its answer ``form``, whose
    numbers describe the answer) and that none of ``codes`` writes, as the request writes them. A
    number is used too as a ``range`` end (one more) or as a share (a hundredth, or its rest)."""
    if form:
        request = request.replace(form, " ")
    examples = [m.span() for m in _EXAMPLE.finditer(request)]
    used = {round(v, 9) for code in codes for m in _CODE_NUMBER.finditer(code)
            if (v := _value(m.group())) is not None}
    found: list[UnusedNumber] = []
    for match in _REQUEST_NUMBER.finditer(request):
        value = _value(match.group(1))
        if value is None or value <= 10 or match.group(1) in [n.text for n in found] \
                or any(start <= match.start() < end for start, end in examples):
            continue
        # ``range(1, 101)`` uses 100; ``test_size=0.3`` uses "a 70/30 split" (a share is 100 at
        # most: the 2.0 of a rate does not use "200 units").
        shares = (value / 100, 1 - value / 100) if value <= 100 else ()
        ways = {round(v, 9) for v in (value, value + 1, *shares)}
        if not ways & used:
            found.append(UnusedNumber(match.group(1), _words_around(request, *match.span(1))))
    return found


def _words_around(request: str, start: int, end: int, before: int = 3, after: int = 4) -> str:
    """The number at ``request[start:end]`` with a few words of the request on each side of it,
    within its clause."""
    head, tail = request[:start], request[end:]
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(head)), default=0)
    clause_end = end + (m.start() if (m := _CLAUSE_END.search(tail)) else len(tail))
    # Both always match (zero words at least).
    left = re.search(rf"(?:\S+\s+){{0,{before}}}$", request[clause_start:start])
    right = re.match(rf"\S*(?:\s+\S+){{0,{after}}}", request[end:clause_end])
    return " ".join((left.group() + request[start:end] + right.group()).split())  # type: ignore[union-attr]
