"""Noticing a reply that copies the loop's own message back instead of answering it.

Told "None is no answer: your code has not found the result yet. Print the values it computed...",
the small model wrote those words back, and, shown the answer's form, sent them again as
"Answer: None is no answer: ..." (5 of 34 web-browsing runs of M3ToolEval): the run ended with the
loop's own sentence as the model's answer.

Only the fixed words of the loop's messages count (its templates, without what fills them): the
form's message fills in the answer in the form asked (``That is: final_answer('@total[42]')``), and
a reply that gives that back is the answer the loop asked for.
"""

from __future__ import annotations

import re

# A sentence this long is not written the same by chance.
MIN_CHARS = 40


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _sentences(text: str) -> list[str]:
    return [s for s in (_plain(p) for p in re.split(r"(?<=[.!?:])\s+|\n+", text)) if len(s) >= MIN_CHARS]


def echoes(reply: str, told: str, templates: list[str], known: str = "") -> bool:
    """``reply`` holds a whole sentence (``MIN_CHARS`` or longer) of the fixed words of the loop's
    ``templates`` that the loop ``told`` the model in this run, and that is not in ``known`` (the
    request, the model's earlier replies, the outputs: a reply may quote them)."""
    said, sent, own = _plain(reply), _plain(told), _plain(known)
    for template in templates:
        for piece in re.split(r"\{\w+\}", template):
            for sentence in _sentences(piece):
                if sentence in said and sentence in sent and sentence not in own:
                    return True
    return False
