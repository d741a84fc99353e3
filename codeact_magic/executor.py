"""Running one step's code in the user's live IPython shell, and recording what it did."""

from __future__ import annotations

import ast
import asyncio
import builtins
import getpass
import sys
import warnings
import weakref
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, Iterator, Protocol

from .call_trace import Trace, traced
from .capture import BoundedText, tee_std_streams
from .final_answer import Delivered, Slot, offered
from .harness_frames import without_harness_frames
from .images import MAX_IMAGES, StepImage, from_bundle
from .interrupts import Guard, StepTimeout
from .redact import namespace_secrets


def _shell_file() -> str:
    from IPython.core import interactiveshell

    return interactiveshell.__file__


_SHELL_FILE = _shell_file()


class StdinNotAvailable(RuntimeError):
    """What ``input()`` raises inside a step: nobody is there to type, and waiting would hang."""


def _no_input(*args: Any, **kwargs: Any) -> str:
    raise StdinNotAvailable(
        "input() is not available to code run by %%codeact: nobody can type into it. "
        "Use a value in the code instead."
    )


@dataclass
class Execution:
    """What one step did, in bounded memory."""

    execution_count: int | None
    stdout: BoundedText
    stderr: BoundedText
    displays: list[str] = field(default_factory=list)
    images: list[StepImage] = field(default_factory=list)  # of the displays, those a model could see
    result: str | None = None
    error: BaseException | None = None
    error_before_exec: bool = False
    timed_out: bool = False
    interrupted: bool = False
    answer: Delivered | None = None  # what the step passed to final_answer(), if it did
    # Shell commands (``!cmd``, ``%pip``) that failed: the command and its exit status.
    failed_commands: list[tuple[str, int]] = field(default_factory=list)
    # The calls it made to the functions the user gave, with what they returned (show_calls).
    calls: Trace = field(default_factory=Trace)


@contextmanager
def _stdin_unavailable() -> Iterator[None]:
    saved = builtins.input, getpass.getpass
    builtins.input = getpass.getpass = _no_input
    try:
        yield
    finally:
        builtins.input, getpass.getpass = saved


def _display_text(data: dict) -> str:
    """The text a model can read from a display's MIME bundle (an image: its kind and size)."""
    image = from_bundle(data)
    shown = image.describe() if image else ""
    if "text/plain" in data:
        text = data["text/plain"]
        rich = [m for m in data if m.startswith("image/") and (image is None or m != image.mime)]
        more = f"[{', '.join(rich)} shown to the user]" if rich else ""
        return " ".join(part for part in (text, shown, more) if part)
    if image is not None and set(data) == {image.mime}:
        return shown
    return "[" + ", ".join(sorted(data)) + " shown to the user]"


@contextmanager
def _record_displays(shell: Any, into: list[str], limit: int,
                     images: list[StepImage] | None = None) -> Iterator[None]:
    """Record display() outputs; the message still goes to the frontend unchanged.

    Only ipykernel's publisher has hooks. In a terminal, displays are printed to stdout, where the
    stream tee records them. (capture_output(display=True) is not used: swapping display_pub breaks
    comm dispatch in ipykernel 7.4.)
    """
    pub = getattr(shell, "display_pub", None)
    if not hasattr(pub, "register_hook"):
        yield
        return
    size = 0

    def hook(msg: dict) -> dict:
        nonlocal size
        if msg.get("msg_type") in ("display_data", "update_display_data") and size < limit:
            data = msg.get("content", {}).get("data", {})
            text = _display_text(data)
            into.append(text)
            size += len(text)
            if images is not None and len(images) < MAX_IMAGES and (image := from_bundle(data)):
                images.append(image)
        return msg

    pub.register_hook(hook)
    try:
        yield
    finally:
        pub.unregister_hook(hook)


@contextmanager
def _every_expression(shell: Any, values: list[tuple[Any, int]]) -> Iterator[None]:
    """IPython's own ``ast_node_interactivity = "all"`` for the step: the value of every expression
    statement is displayed, not only the last one's, and collected into ``values`` for the model,
    each with the line of the step it came from. A model writes ``view()`` or ``df.head()`` on a
    line of its own to look, and reads nothing."""
    hook = shell.displayhook
    own = hook.__dict__.get("fill_exec_result")  # an instance override someone else set, if any
    fill = hook.fill_exec_result
    mode = shell.ast_node_interactivity

    def fill_exec_result(result: Any) -> Any:
        # The step's own frame is the nearest module-level one above the display hook's.
        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "<module>":
            frame = frame.f_back
        values.append((result, frame.f_lineno if frame is not None else 0))
        return fill(result)

    shell.ast_node_interactivity = "all"
    hook.fill_exec_result = fill_exec_result
    try:
        yield
    finally:
        shell.ast_node_interactivity = mode
        if own is None:
            del hook.fill_exec_result
        else:
            hook.fill_exec_result = own


def _readable(value: Any) -> bool:
    """A value of a line before the end that the model is shown (tactic show_expressions): data it
    can read (text, numbers, containers, pandas and numpy objects), not an object's repr: a fitted
    ``LinearRegression()`` that ``model.fit(X, y)`` returns tells it nothing."""
    if isinstance(value, (str, bytes, int, float, complex, list, tuple, dict, set, frozenset)):
        return True
    return type(value).__module__.split(".")[0] in ("pandas", "numpy")


def _last_expression_line(code: str) -> float:
    """The first line of the code's last statement when it is an expression (its value is the
    step's result), else infinity (no line's value is)."""
    try:
        body = ast.parse(code).body
    except SyntaxError:
        return float("inf")
    return body[-1].lineno if body and isinstance(body[-1], ast.Expr) else float("inf")


@contextmanager
def _unrecorded_shell_output(shell: Any, paused: Callable[[], ContextManager]) -> Iterator[None]:
    """In a terminal the shell prints ``Out[n]: ...`` and its coloured tracebacks to stdout. The
    model gets the result and a plain traceback of its own, so those prints are not recorded."""
    own = shell.__dict__.get("_showtraceback")  # an instance override someone else set, if any
    show_traceback = shell._showtraceback
    display_hook = sys.displayhook

    def _showtraceback(etype: Any, evalue: Any, stb: list[str]) -> Any:
        with paused():
            return show_traceback(etype, evalue, without_harness_frames(stb))

    def _displayhook(value: Any) -> None:
        with paused():
            display_hook(value)

    def _showwarning(message: Any, category: Any, filename: str, *args: Any, **kwargs: Any) -> Any:
        # IPython's own warnings (sys.exit's "To exit: use 'exit'...", with the path of its
        # interactiveshell.py) are the shell talking to a person; the traceback says what happened.
        if filename == _SHELL_FILE:
            with paused():
                return show_warning(message, category, filename, *args, **kwargs)
        return show_warning(message, category, filename, *args, **kwargs)

    show_warning = warnings.showwarning
    shell._showtraceback = _showtraceback
    sys.displayhook = _displayhook
    warnings.showwarning = _showwarning
    try:
        yield
    finally:
        if warnings.showwarning is _showwarning:
            warnings.showwarning = show_warning
        sys.displayhook = display_hook
        if own is None:
            del shell._showtraceback  # back to the class's method
        else:
            shell._showtraceback = own


@contextmanager
def _shell_exit_statuses(shell: Any, failed: list[tuple[str, int]]) -> Iterator[None]:
    """Record the commands ``!cmd`` and ``%pip`` ran that exited non-zero. Their output reaches the
    model like any other; their status, which a user reads from the text, is said plainly."""
    system = getattr(shell, "system", None)
    user_ns = getattr(shell, "user_ns", None)
    if system is None or user_ns is None:
        yield
        return
    own = shell.__dict__.get("system")

    def recorded(cmd: str, *args: Any, **kwargs: Any) -> Any:
        user_ns.pop("_exit_code", None)
        try:
            return system(cmd, *args, **kwargs)
        finally:
            status = user_ns.get("_exit_code")  # where IPython's system() leaves it
            if isinstance(status, int) and status != 0:
                failed.append((str(cmd), status))

    shell.system = recorded
    try:
        yield
    finally:
        if own is None:
            shell.__dict__.pop("system", None)
        else:
            shell.system = own


class Router(Protocol):
    """Where a step's outputs go instead of the magic cell (its own notebook cell, say)."""

    def stream(self, name: str, text: str) -> None: ...

    def capture(self, shell: Any) -> ContextManager[None]: ...


class RunInProgress(RuntimeError):
    """A second run in a kernel while one is going on (``asyncio.gather(arun(...), arun(...))``)."""


# Shells with a run going on. What a run holds is process-wide (sys.stdout, the SIGINT handler,
# the one SIGALRM timer), so two at once would undo each other's: one run at a time per kernel.
_busy: weakref.WeakSet = weakref.WeakSet()


class Executor:
    """Runs code as real cells of ``shell``: execution counts, In/Out and the namespace advance."""

    def __init__(self, shell: Any, *, capture_limit: int = 20_000, final_answer: bool = False,
                 every_expression: bool = False) -> None:
        self.shell = shell
        self.capture_limit = capture_limit
        # Offer final_answer() to each step's code (the run ends with the value it is given).
        self.final_answer = final_answer
        # Show the model the value of every expression statement of a step (tactic: show_expressions).
        self.every_expression = every_expression
        # Where a step's outputs go instead of the magic cell (the step's own notebook cell).
        self.router_factory: Callable[[int], Router] | None = None
        self._guard: Guard | None = None

    def secrets(self) -> list[str]:
        """Values the kernel holds under secret-looking names: never shown to the model."""
        return namespace_secrets(getattr(self.shell, "user_ns", None) or {})

    @staticmethod
    def busy(shell: Any) -> bool:
        return shell in _busy

    @contextmanager
    def session(self) -> Iterator[Guard]:
        """A run's hold on the kernel: its interrupt and its steps' timer are the run's until it
        ends. Raises ``RunInProgress`` if another run holds them."""
        if self.shell in _busy:
            raise RunInProgress("Another %%codeact run is going on in this kernel; runs go one at "
                                "a time. Wait for it to end (or stop it), then run this again.")
        _busy.add(self.shell)
        try:
            with Guard() as guard:
                self._guard = guard
                yield guard
        finally:
            self._guard = None
            _busy.discard(self.shell)

    async def run(self, code: str, timeout: float | None, index: int = 0,
                  trace: tuple[str, ...] = ()) -> Execution:
        """Run one step; ``trace``: the names of given functions whose calls are recorded."""
        assert self._guard is not None, "Executor.run needs a session()"
        guard, shell = self._guard, self.shell
        stdout, stderr = BoundedText(self.capture_limit), BoundedText(self.capture_limit)
        displays: list[str] = []
        images: list[StepImage] = []
        failed_commands: list[tuple[str, int]] = []
        expressions: list[tuple[Any, int]] = []
        slot = Slot()
        calls = Trace()
        try:
            transformed, preprocessing_exc = shell.transform_cell(code), None
        except Exception:
            # Unbalanced brackets and the like: IPython reports it as the cell's error, as
            # ipykernel does for the user's own cells.
            transformed, preprocessing_exc = code, sys.exc_info()
        router = self.router_factory(index) if self.router_factory else None
        with _stdin_unavailable(), tee_std_streams(
            stdout, stderr, router.stream if router else None
        ) as paused, _record_displays(shell, displays, self.capture_limit, images), _unrecorded_shell_output(
            shell, paused
        ), _shell_exit_statuses(shell, failed_commands), router.capture(
            shell
        ) if router else nullcontext(), offered(
            shell.user_ns, slot
        ) if self.final_answer else nullcontext(), _every_expression(
            shell, expressions
        ) if self.every_expression else nullcontext(), traced(shell.user_ns, trace, calls) if trace else nullcontext():
            task = asyncio.ensure_future(
                shell.run_cell_async(code, store_history=True, transformed_cell=transformed,
                                     preprocessing_exc_tuple=preprocessing_exc)
            )
            with guard.step(task, timeout):
                # A cancellation of the run (Interrupt while an async step awaits) reaches the
                # step's code through this await; IPython records it as the step's error.
                try:
                    result = await task
                except Exception as exc:
                    # IPython itself failed around the step (formatting its traceback, say):
                    # the step failed, the run goes on and the model is told.
                    result, internal = None, exc
        if result is not None:
            error = result.error_before_exec or result.error_in_exec
            count, before = result.execution_count, result.error_before_exec is not None
        else:
            error, count, before = internal, shell.execution_count - 1, False
        execution = Execution(
            execution_count=count,
            stdout=stdout,
            stderr=stderr,
            displays=displays,
            images=images,
            error=error,
            error_before_exec=before,
            answer=slot.delivered,
            failed_commands=failed_commands,
            calls=calls,
        )
        execution.timed_out = guard.timed_out and isinstance(error, (StepTimeout, asyncio.CancelledError))
        execution.interrupted = guard.interrupted or isinstance(error, KeyboardInterrupt)
        last = result.result if result is not None and error is None else None
        if expressions and last is not None:
            value, line = expressions[-1]
            if value is last and line >= _last_expression_line(transformed):
                expressions.pop()  # the last expression's value is the step's result, as without it
            else:
                # IPython's "all" leaves the last value it displayed as the cell's result: that of a
                # line before the end (``model.fit(X, y)`` before a ``print``), not the step's.
                last = None
        if expressions:
            # A string as print shows it: a page of text reads as lines, not one repr with \n in it.
            shown = [value if isinstance(value, str) else _display_text(shell.display_formatter.format(value)[0])
                     for value, _ in expressions if _readable(value)]
            execution.displays[:0] = [text for text in shown if text]
        if last is not None:
            data, _ = shell.display_formatter.format(last)
            execution.result = _display_text(data)
            if len(images) < MAX_IMAGES and (image := from_bundle(data)):
                images.append(image)
        return execution
