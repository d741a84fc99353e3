"""Keeping a long run inside the model's context window.

The history grows by a reply and an observation per step. When it no longer fits, the oldest
observations are elided first (the code that ran stays: it says what state the kernel is in), then
the oldest code; the system prompt, the request and the latest exchange always stay whole. Earlier
runs of the conversation come first, so they go first.
"""

from __future__ import annotations

from .model import Message

ELIDED_OUTPUT = "[the output of this earlier step was elided to fit the context window]"
ELIDED_CODE = "[this earlier step's reply was elided to fit the context window]"


def _size(history: list[Message]) -> int:
    return sum(len(m["content"]) for m in history)


def fit(history: list[Message], budget_chars: int | None, keep: int = 1) -> list[Message]:
    """A copy of ``history`` that fits ``budget_chars`` where eliding can make it fit. ``keep``:
    the index of the run's request (after the messages of earlier runs it goes on with)."""
    if budget_chars is None or _size(history) <= budget_chars:
        return history
    fitted = [dict(m) for m in history]
    # Keep [0] system, the request and the last two messages (the latest reply and its output).
    middle = [i for i in range(1, len(fitted) - 2) if i != keep]
    for role, marker in (("user", ELIDED_OUTPUT), ("assistant", ELIDED_CODE)):
        for i in middle:
            if fitted[i]["role"] == role and fitted[i]["content"] != marker:
                fitted[i]["content"] = marker
                if _size(fitted) <= budget_chars:
                    return fitted
    return fitted
