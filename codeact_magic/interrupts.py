"""Turning the kernel's Interrupt and a step's timeout into exceptions at the right place.

While a step runs synchronously it blocks the event loop, so neither an asyncio timer nor a
cancellation can reach it: only a signal handler runs. A handler may raise only where raising is
safe, inside the user's code; elsewhere (the loop idle, awaiting a model or an async step) it asks
the loop to cancel the right task instead. Which case holds is read off the interrupted frame's stack.
"""

from __future__ import annotations

import asyncio
import math
import signal
import threading
from contextlib import contextmanager
from types import CodeType, FrameType
from typing import Iterator


# A step's timeout, in seconds: a timer shorter than the signal's own latency fires before the
# step's code starts (and was raised where nothing catches it); one past a week is a typo.
MIN_STEP_TIMEOUT, MAX_STEP_TIMEOUT = 0.1, 7 * 24 * 3600.0


def check_step_timeout(seconds: float) -> float:
    """``seconds`` if it can be a step's timeout, else a ValueError that says what can."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds) \
            or not MIN_STEP_TIMEOUT <= seconds <= MAX_STEP_TIMEOUT:
        raise ValueError(f"a step's timeout is a number of seconds from {MIN_STEP_TIMEOUT:g} to "
                         f"{MAX_STEP_TIMEOUT:g}, not {seconds!r}")
    return float(seconds)


class StepTimeout(BaseException):
    """Raised inside a step's code when it runs past its timeout.

    A BaseException, like KeyboardInterrupt, so the step's own ``except Exception`` cannot swallow it.
    """


def _run_code() -> CodeType:
    from IPython.core.interactiveshell import InteractiveShell

    return InteractiveShell.run_code.__code__


def _in_user_code(frame: FrameType | None, run_code: CodeType) -> bool:
    """True when ``frame`` is (called from) the step's own code, which IPython's ``run_code`` runs
    inside a bare ``except``: an exception raised there ends the step and nothing else.

    Not when the frame is ``run_code`` itself or IPython's code under it (showing a traceback, say):
    an exception there would escape into the event loop.
    """
    child = None
    while frame is not None:
        if frame.f_code is run_code:
            return child is not None and child.f_code.co_filename != run_code.co_filename
        child, frame = frame, frame.f_back
    return False


class Guard:
    """Installed for a run: routes SIGINT (and, per step, SIGALRM) to the run and its steps."""

    def __init__(self) -> None:
        self.interrupted = False
        self.timed_out = False
        self._run_code = _run_code()
        self._run_task: asyncio.Task | None = None
        self._step_task: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._saved_sigint = None
        # Signal handlers can only be set from the main thread (not in a kernel subshell).
        self.active = threading.current_thread() is threading.main_thread()
        self.can_time_out = self.active and hasattr(signal, "setitimer")

    def __enter__(self) -> Guard:
        self._loop = asyncio.get_running_loop()
        self._run_task = asyncio.current_task()
        if self.active:
            self._saved_sigint = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(self, *exc) -> None:
        if self.active:
            signal.signal(signal.SIGINT, self._saved_sigint)

    def _on_sigint(self, signum, frame) -> None:
        self.interrupted = True
        if _in_user_code(frame, self._run_code):
            raise KeyboardInterrupt
        # The loop is idle or awaiting: cancel the run (which cancels an awaited step with it).
        assert self._loop is not None and self._run_task is not None
        self._loop.call_soon_threadsafe(self._run_task.cancel)

    def _on_alarm(self, signum, frame) -> None:
        self.timed_out = True
        if _in_user_code(frame, self._run_code):
            raise StepTimeout("the step ran past its timeout and was interrupted")
        if self._step_task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._step_task.cancel)

    @contextmanager
    def step(self, task: asyncio.Future, timeout: float | None) -> Iterator[None]:
        """Arm the timeout for one step running as ``task``."""
        self.timed_out = False
        self._step_task = task
        armed = bool(timeout) and self.can_time_out
        if armed:
            saved = signal.signal(signal.SIGALRM, self._on_alarm)
            # Repeat every second after the first expiry, in case the step's code catches one.
            signal.setitimer(signal.ITIMER_REAL, float(timeout), 1.0)
        try:
            yield
        finally:
            if armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, saved)
            self._step_task = None
