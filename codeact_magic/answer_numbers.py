"""Numbers an answer gives that nothing in the run showed: values from memory, not computed.

Told by the form's message that its answer lacked ``@skewness[`` and ``@kurtosis[``, the small
model wrote ``@skewness[-0.1234], @kurtosis[1234.56]`` into an answer whose steps had computed
neither; another filled an RMSE slot with 5.4321. Replayed on the recorded DABench runs, four of the
156 ended on such numbers (none solved), in words or typed into ``final_answer("...")``.

A number of the answer counts as shown when the request (with what it lists), a step's code or a
step's output holds it to the answer's own precision: 0.9543 for a printed 0.954321, 87 (%) for a
printed 0.8712 and the other way round, 1.2 million for a printed 1,234,567. Whole numbers up to 10
never count: counts, indices, "2 of 3", and a 0.0 that may well be the value computed.
"""

from __future__ import annotations

import bisect
import math
import re

from .unseen_values import NUMBER

_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALED = re.compile(r"\s*(thousand|million|billion|trillion)\b", re.IGNORECASE)


def _values(text: str) -> list[float]:
    found = []
    for match in NUMBER.finditer(text):
        try:
            found.append(abs(float(match.group().replace(",", ""))))
        except ValueError:
            continue
    return found


def _tolerance(token: str, value: float) -> float:
    """Half a unit of the token's last digit: what rounding to its precision may have moved."""
    mantissa, _, exponent = token.lower().replace(",", "").partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    return 0.5 * 10 ** (int(exponent or 0) - decimals) + 1e-12 * max(1.0, value)


def unshown_numbers(answer: str, shown: str) -> list[str]:
    """The numbers of ``answer`` (as it writes them, in order, once each) that ``shown``, the text
    of everything the run showed or ran, does not hold to their precision."""
    seen = sorted(set(_values(shown)))
    found: list[str] = []
    for match in NUMBER.finditer(answer):
        token = match.group()
        try:
            value = abs(float(token.replace(",", "")))
        except ValueError:
            continue
        if value.is_integer() and value <= 10 or token in found:
            continue
        tolerance = _tolerance(token, value)
        if (scale := _SCALED.match(answer, match.end())) is not None:
            factor = _SCALES[scale.group(1).lower()]
            value, tolerance = value * factor, tolerance * factor
        # As written, or a share written in percent (0.8712 shown, 87 said) or the other way round.
        if not any(_near(seen, candidate, tol) for candidate, tol in (
                (value, tolerance), (value / 100, tolerance / 100), (value * 100, tolerance * 100))):
            found.append(token)
    return found


def _near(seen: list[float], value: float, tolerance: float) -> bool:
    """A value of the sorted ``seen`` lies within ``tolerance`` of ``value``."""
    at = bisect.bisect_left(seen, value - tolerance)
    return at < len(seen) and seen[at] <= value + tolerance and math.isfinite(value)
