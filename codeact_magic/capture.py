"""Recording what a step prints while the user still sees all of it, in bounded memory."""

from __future__ import annotations

import os
import struct
import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, ContextManager, Iterator, TextIO

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
        # What child processes print arrives from ipykernel's fd-watching thread.
        self._lock = threading.Lock()

    def append(self, text: str) -> None:
        if not text:
            return
        with self._lock:
            self._append(text)

    def _append(self, text: str) -> None:
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
                 forward: Callable[[str], None] | None = None,
                 write: Callable[[str], Any] | None = None) -> None:
        self._target = target
        self._record = record
        self._forward = forward
        # The target's own write, not one that records what the fd-watching thread forwards.
        self._write = write or target.write
        self.paused = False
        # Threads that ran before this step (one an earlier step left printing, say): what they
        # write reaches the user but is not this step's output.
        self.foreign: frozenset[int] = frozenset(
            t.ident for t in threading.enumerate() if t.ident is not None and t is not threading.current_thread())

    def write(self, text: str) -> int:
        if not self.paused and threading.get_ident() not in self.foreign:
            self._record.append(text)
        if self._forward is not None:
            self._forward(text)
            return len(text)
        return self._write(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        # flush, isatty, encoding, fileno, ipykernel's own attributes...
        return getattr(self._target, name)


# How long a step's end waits for what its child processes wrote to reach the kernel's stream.
DRAIN_SECONDS = 0.5


def _watches_fd(stream: Any) -> bool:
    """ipykernel's OutStream forwards what is written to the process's file descriptor 1 or 2
    (``!ls``, ``%pip``, ``os.system``, ``subprocess.run``, C extensions) from a thread of its own,
    by calling its own ``write``: past ``sys.stdout``, where the tee sits."""
    return bool(getattr(stream, "_should_watch", False)) and isinstance(getattr(stream, "_fid", None), int)


def _drain(stream: Any) -> None:
    """Wait (briefly) until the fd-watching thread has read everything written to the pipe, so a
    step's child processes' output is the step's, not the next cell's."""
    try:
        import fcntl
        import termios
    except ImportError:  # not a POSIX system: ipykernel does not watch file descriptors there
        return
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        try:
            waiting = struct.unpack("i", fcntl.ioctl(stream._fid, termios.FIONREAD, b"\0" * 4))[0]
        except OSError:
            return
        if not waiting:
            time.sleep(0.01)  # the thread may hold bytes it read and has not written yet
            return
        time.sleep(0.005)


@contextmanager
def _fd_output_recorded(stream: Any, record: BoundedText,
                        forward: Callable[[str], None] | None) -> Iterator[Callable[[str], Any]]:
    """Record what reaches ``stream`` from its fd-watching thread. Yields the stream's own write,
    for the tee (whose writes are recorded already)."""
    write = stream.write
    if not _watches_fd(stream):
        yield write
        return

    def watched(text: str) -> Any:
        record.append(text)
        if forward is not None:
            forward(text)
            return len(text)
        return write(text)

    stream.write = watched  # an instance attribute: the thread looks the method up on each call
    try:
        yield write
    finally:
        if sys.__stdout__ is not None:
            sys.__stdout__.flush()  # print(file=sys.__stdout__) reaches the pipe only when flushed
        _drain(stream)
        if stream.__dict__.get("write") is watched:
            del stream.write


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
    forwards = (forward and (lambda text: forward("stdout", text)),
                forward and (lambda text: forward("stderr", text)))
    with _fd_output_recorded(saved[0], stdout, forwards[0]) as out_write, \
            _fd_output_recorded(saved[1], stderr, forwards[1]) as err_write:
        tees = (_Tee(saved[0], stdout, forwards[0], out_write),
                _Tee(saved[1], stderr, forwards[1], err_write))
        with _swapped(saved, tees) as paused:
            yield paused


@contextmanager
def _swapped(saved: tuple[TextIO, TextIO],
             tees: tuple[_Tee, _Tee]) -> Iterator[Callable[[], ContextManager]]:

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
