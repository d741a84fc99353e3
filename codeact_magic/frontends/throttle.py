"""How often a frontend re-sends the model's text while it streams.

A display update (or a widget's synced trait) carries the whole text so far, so updates a fixed
number of times a second send bytes quadratic in the reply's length: a 200 KB reply sent tens of
megabytes to the browser. Spacing updates by the text's length keeps the bytes per second bounded,
and the total near linear in the length; a short reply still updates a dozen times a second.
"""

from __future__ import annotations

import time

MIN_INTERVAL = 0.08  # seconds: a dozen updates a second for a short reply
BYTES_PER_SECOND = 40_000  # of re-sent text, at most, once the text is long


class Throttle:
    def __init__(self) -> None:
        self._shown_at = 0.0

    def due(self, length: int) -> bool:
        """True when text of ``length`` characters should be shown now (and marks it shown)."""
        now = time.monotonic()
        if now - self._shown_at < max(MIN_INTERVAL, length / BYTES_PER_SECOND):
            return False
        self._shown_at = now
        return True

    def shown(self) -> None:
        self._shown_at = time.monotonic()
