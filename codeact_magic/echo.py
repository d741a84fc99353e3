"""Noticing a reply that copies the loop's own message back instead of answering it.

Told "None is no answer: your code has not found the result yet. Print the values it computed...",
the small model wrote those words back, and, shown the answer's form, sent them again as
"Answer: None is no answer: ..." (5 of 17 web-browsing runs of M3ToolEval): the run ended with the
loop's own sentence as the model's answer.
"""

from __future__ import annotations

import re

# A sentence this long is not written the same by chance.
MIN_CHARS = 40


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def echoes(reply: str, told: str, known: str = "") -> bool:
    """``reply`` holds a whole sentence (``MIN_CHARS`` or longer) of ``told``, the loop's messages
    so far, that is the loop's own: not in ``known`` (the request, the model's earlier replies,
    the outputs: a message quotes them, and a reply may too, as a confirmed answer does)."""
    said, own = _plain(reply), _plain(known)
    for sentence in re.split(r"(?<=[.!?:])\s+|\n+", told):
        sentence = _plain(sentence)
        if len(sentence) >= MIN_CHARS and sentence in said and sentence not in own:
            return True
    return False
