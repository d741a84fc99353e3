"""Turning the kernel's Interrupt and a step's timeout into exceptions at the right place.

While a step runs synchronously it blocks the event loop, so neither an asyncio timer nor a
cancellation can reach it: only a signal handler runs. A handler may raise only where raising is
safe, inside the user's code; elsewhere (the loop idle, awaiting a model or an async step) it asks
the loop to cancel the right task instead. Which case holds is read off the interrupted frame's stack.

A step's timeout is a watchdog thread that, when the time is up, interrupts the main thread through
the run's own SIGINT handler (a real signal, so a blocking call such as ``time.sleep`` returns).
Not SIGALRM: a step's code may use that one itself (``signal.alarm(0)``, a handler of its own, or
``SIG_DFL``, with which our timer would kill the kernel).
"""

from __future__ import annotations

import _thread
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
    """Installed for a run: routes SIGINT to the run and, while a step's time is up, to its step."""

    def __init__(self) -> None:
        self.interrupted = False
        self.timed_out = False
        self._run_code = _run_code()
        self._run_task: asyncio.Task | None = None
        self._step_task: asyncio.Future | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._saved_sigint = None
        # Set by the watchdog before it interrupts; a step that has ended ignores a late one.
        self._step_live = False
        self._time_up = False
        # Signal handlers can only be set from the main thread (not in a kernel subshell).
        self.active = threading.current_thread() is threading.main_thread()
        self.can_time_out = self.active and hasattr(signal, "pthread_kill")

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
        if self._time_up:
            self._time_up = False
            if self._step_live:
                self._on_time_up(frame)
            return  # the step ended as its time came: nothing to stop
        self.interrupted = True
        if _in_user_code(frame, self._run_code):
            raise KeyboardInterrupt
        # The loop is idle or awaiting: cancel the run (which cancels an awaited step with it).
        assert self._loop is not None and self._run_task is not None
        self._loop.call_soon_threadsafe(self._run_task.cancel)

    def _on_time_up(self, frame) -> None:
        self.timed_out = True
        if _in_user_code(frame, self._run_code):
            raise StepTimeout("the step ran past its timeout and was interrupted")
        if self._step_task is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._step_task.cancel)

    def _watch(self, timeout: float, done: threading.Event, main: int) -> None:
        """The watchdog: when the step's time is up, interrupt it; again every second after, in
        case its code catches one."""
        wait = timeout
        while not done.wait(wait) and self._step_live:
            self._time_up = True
            if signal.getsignal(signal.SIGINT) == self._on_sigint:
                signal.pthread_kill(main, signal.SIGINT)
            else:
                # The step put its own SIGINT handler in place: call that one as Python would, never
                # a real signal that a default action could turn into the kernel's death.
                _thread.interrupt_main(signal.SIGINT)
            if self._loop is not None:
                self._loop.call_soon_threadsafe(lambda: None)  # wake an idle loop to run the handler
            wait = 1.0

    @contextmanager
    def step(self, task: asyncio.Future, timeout: float | None) -> Iterator[None]:
        """Arm the timeout for one step running as ``task``."""
        self.timed_out = False
        self._step_task = task
        self._time_up = False
        armed = bool(timeout) and self.can_time_out
        done = threading.Event()
        watchdog = None
        if armed:
            self._step_live = True
            watchdog = threading.Thread(target=self._watch, args=(float(timeout), done, threading.get_ident()),
                                        name="codeact-step-timeout", daemon=True)
            watchdog.start()
        try:
            yield
        finally:
            self._step_live = False
            if watchdog is not None:
                done.set()
                watchdog.join()
            self._step_task = None
