"""Recording what a step prints while the user still sees all of it, in bounded memory."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, TextIO

CUT = "\n[... {n:,} characters cut ...]\n"


class BoundedText:
    """Text that keeps only its first and last ``limit`` characters, and counts the rest.

    A step that prints a megabyte costs a few kilobytes here, not a megabyte.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 0)
        self.head = ""
        self._tail: list[str] = []
        self._tail_len = 0
        self.total = 0

    def append(self, text: str) -> None:
        if not text:
            return
        self.total += len(text)
        room = self.limit - len(self.head)
        if room > 0:
            self.head += text[:room]
            text = text[room:]
        if text:
            self._tail.append(text)
            self._tail_len += len(text)
            if self._tail_len > 2 * self.limit:
                joined = "".join(self._tail)[-self.limit :]
                self._tail, self._tail_len = [joined], len(joined)

    def text(self, budget: int | None = None) -> str:
        """All of it if it fits in ``budget`` characters, else its head and tail with a cut marker."""
        budget = self.limit if budget is None else min(budget, self.limit)
        tail = "".join(self._tail)
        whole_kept = self.total == len(self.head) + len(tail)
        if whole_kept and self.total <= budget:
            return self.head + tail
        half = budget // 2
        head = self.head[:half]
        end = tail[-(budget - half):] if budget - half else ""
        if len(end) < budget - half:
            # The tail is short: take the rest of the budget from the end of the head.
            end = (self.head + tail)[-(budget - half):]
        return head + CUT.format(n=self.total - len(head) - len(end)) + end


class _Tee:
    """A text stream that writes through to ``target`` and records into ``record``."""

    def __init__(self, target: TextIO, record: BoundedText,
                 forward: Callable[[str], None] | None = None) -> None:
        self._target = target
        self._record = record
        self._forward = forward
        self.paused = False

    def write(self, text: str) -> int:
        if not self.paused:
            self._record.append(text)
        if self._forward is not None:
            self._forward(text)
            return len(text)
        return self._target.write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        # flush, isatty, encoding, fileno, ipykernel's own attributes...
        return getattr(self._target, name)


@contextmanager
def tee_std_streams(
    stdout: BoundedText, stderr: BoundedText,
    forward: Callable[[str, str], None] | None = None,
) -> Iterator[Callable[[], ContextManager]]:
    """Record stdout and stderr while they still reach the user: through the real streams, or
    through ``forward(name, text)`` instead when given.

    Yields ``paused``: a context manager under which writes reach the user unrecorded (for what the
    shell itself prints, such as its own rendering of a traceback).
    """
    saved = sys.stdout, sys.stderr
    tees = (_Tee(saved[0], stdout, forward and (lambda text: forward("stdout", text))),
            _Tee(saved[1], stderr, forward and (lambda text: forward("stderr", text))))

    @contextmanager
    def paused() -> Iterator[None]:
        states = [t.paused for t in tees]
        for t in tees:
            t.paused = True
        try:
            yield
        finally:
            for t, state in zip(tees, states):
                t.paused = state

    sys.stdout, sys.stderr = tees
    try:
        yield paused
    finally:
        # Only undo our own swap: code that replaced the streams itself keeps its choice undone too.
        sys.stdout, sys.stderr = saved
