"""The form a request asks its answer in, and whether an answer is in it.

A small model computes the right value and hands it over bare ("0.252") when the request asked for
``@correlation[0.25]`` or "Answer: 0.25": shown the whole request again, it confirms its answer.
What works better is to point at the form itself and at what the answer lacks. Only forms with
literal parts are checked: named slots (``@name[value]``, ``name[value]``) and a quoted label
("using 'Answer: your answer'"); a form in prose ("rounded to two decimals") is left to the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .final_answer import is_no_value

# A paragraph or sentence that says how to answer.
_FORM_CUES = re.compile(
    r"^\s*(answer|output|response|result)\s+format\s*:|\bformat\s*:|\bin (the|this) (format|form)\b|"
    r"\bformatted as\b|\boutput the (result|answer) using\b|\banswer (in|with) the form\b",
    re.IGNORECASE | re.MULTILINE)
# Named slots: "@mean_price[mean]", "price_range[value]" (an identifier with an underscore or an @).
_SLOT = re.compile(r"(@[A-Za-z_]\w*|\b[A-Za-z]+_\w+)\[")
# A quoted label that starts the answer: 'Answer: your answer', "Result: ...".
_LABEL = re.compile(r"""['"`]([A-Z][A-Za-z ]{1,30}:)\s*[^'"`\n]*['"`]""")


# What a slot holds when the code found no value: Python's None, pandas' NaN, <NA> and NaT.
_NO_VALUE_WORDS = {"nan", "none", "null", "<na>", "nat"}


@dataclass(frozen=True)
class AnswerForm:
    text: str  # the passage of the request that gives the form
    markers: tuple[str, ...]  # literal parts an answer in that form holds: "@mean[", "Answer:"

    def missing(self, answer: str) -> list[str]:
        return [m for m in self.markers if m not in answer]

    def joined(self, values: list[str]) -> str | None:
        """Values a step handed to final_answer() one call each, as one answer, when each holds
        parts of this form that no other holds (``@p_value[...]``, then ``@significance[...]``):
        the parts of one answer. None when two hold the same part (candidates for one answer, the
        model has to choose) or one holds none."""
        held = [{m for m in self.markers if m in value} for value in values]
        if len(values) < 2 or not all(held) or sum(map(len, held)) != len(set().union(*held)):
            return None
        return "\n".join(value.strip() for value in values)

    def empty_parts(self, answer: str) -> list[str]:
        """The parts of ``answer`` in this form that hold no value (``@p_value[nan]``,
        ``Answer: None``): a computation that met missing data or a lookup that missed. An empty
        slot (``@outliers[]``) is not one of them: an empty list may be the value asked for."""
        parts = []
        for marker in self.markers:
            value = r"([^\]\n]*)\]" if marker.endswith("[") else r"[ \t]*([^\n]*)"
            parts += [m.group(0).strip() for m in re.finditer(re.escape(marker) + value, answer)
                      if m.group(1).strip().strip("'\"").lower() in _NO_VALUE_WORDS]
        return parts


def _passages(request: str) -> list[str]:
    """The request's paragraphs, or its lines when it has no blank lines."""
    parts = [p.strip() for p in re.split(r"\n\s*\n", request) if p.strip()]
    if len(parts) == 1:
        parts = [p.strip() for p in request.splitlines() if p.strip()]
    return parts


def find(request: str) -> AnswerForm | None:
    """The form the request asks for, if it states one with literal parts."""
    for passage in _passages(request):
        if not _FORM_CUES.search(passage):
            continue
        markers = [m.group(1) + "[" for m in _SLOT.finditer(passage)]
        markers += [m.group(1) for m in _LABEL.finditer(passage)]
        if markers:
            return AnswerForm(passage, tuple(dict.fromkeys(markers)))
    return None


_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def filled_form(answer: str, missing: list[str], parts: tuple[str, ...] = ()) -> str | None:
    """``answer`` put in the form, when the form lacks one literal part (``@mean[``, ``Answer:``)
    and the answer is one value: a word or number, nothing of a form of its own (no space, ``@``
    or bracket), or one number with a unit of a word or two; or when every slot of the form is
    missing and ``parts``, the values of one final_answer() call, are one per slot (in the form's
    order). None otherwise: which value goes in which slot is for the model to say, and no answer
    at all (None, NaN) is put in a form: the model gave ``@price[None]`` back as its answer."""
    if len(parts) > 1:
        # The values of one final_answer() call, one per slot of the form, in the form's order.
        values = [p.strip().strip("'\"") for p in parts]
        if (len(values) != len(missing) or not all(m.endswith("[") for m in missing)
                or any(is_no_value(v) or any(c in "@[]\n" for c in v) for v in values)):
            return None
        return " ".join(f"{m}{v}]" for m, v in zip(missing, values))
    value = answer.strip().strip("'\"")
    if len(missing) != 1 or is_no_value(value) or "@" in value or "[" in value or "]" in value:
        return None
    if any(c.isspace() for c in value):
        # One number with its unit ("20 outliers", "12.89 %"): the number is the value. On DABench
        # the small model gave such an answer back unchanged, shown the form alone.
        numbers = _NUMBER.findall(value)
        rest = _NUMBER.sub(" ", value)
        if len(numbers) != 1 or any(c.isdigit() for c in rest) or len(re.findall(r"[^\W\d_]+", rest)) > 2:
            return None
        value = numbers[0]
    marker = missing[0]
    return f"{marker}{value}]" if marker.endswith("[") else f"{marker} {value}"
