"""Rendering a run in the magic cell's own output: rich in a Jupyter frontend, plain in a terminal.

The steps' own outputs need no help: the steps run as cells inside the magic cell, so their
prints, displays and tracebacks land in its output area by themselves.
"""

from __future__ import annotations

import html
import re
import sys
from typing import Any

from ..events import (Event, FollowUp, ModelText, ModelWaiting, RunFinished, RunStarted, StepFinished,
                      StepStarted)
from .throttle import Throttle


class TerminalRenderer:
    """Plain text for IPython in a terminal: the reply streams as it comes."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout

    def progress(self, text: str, done: bool = False) -> None:
        self.out.write(f"[{text}]\n")
        self.out.flush()

    def __call__(self, event: Event) -> None:
        out = self.out
        if isinstance(event, ModelWaiting):
            self.progress(event.text)
        elif isinstance(event, ModelText):
            out.write(event.text)
            out.flush()
        elif isinstance(event, StepStarted):
            out.write(f"\n── step {event.index}: running ──\n")
            out.flush()
        elif isinstance(event, StepFinished):
            status = "timed out" if event.step.timed_out else (
                f"failed: {event.step.error.ename}" if event.step.error else "done")
            out.write(f"── step {event.index} {status} ({event.seconds:.1f} s) ──\n\n")
        elif isinstance(event, FollowUp):
            out.write(f"\n[↻ {event.label}]\n")
            out.flush()
        elif isinstance(event, RunFinished):
            run = event.run
            if run.answer is not None and (run.answer_step is not None or _marked_up(run.answer)):
                # Handed to final_answer() in code, nothing has shown it yet; in words, it streamed
                # as written, and a table or emphasis reads better drawn.
                out.write("\nAnswer:\n")
                out.write(terminal_markdown(run.answer) + "\n")
            if run.note:
                out.write(f"\n{run.note}\n")
            if run.variables_line():
                out.write(f"\n{run.variables_line()}\n")
            out.write(f"\n[{run.summary()}]\n")
            out.flush()


_MARKUP = re.compile(r"^\s*\|.*\|\s*$|\*\*\S|^#{1,6} |^```", re.M)


def _marked_up(text: str) -> bool:
    """Markdown that reads badly as its source: a table, bold, a heading, a code block."""
    return bool(_MARKUP.search(text))


def terminal_markdown(text: str, width: int | None = None) -> str:
    """``text`` as a terminal shows Markdown: tables drawn, ``**`` and ``#`` gone (with rich, where
    it is installed; the text as it is otherwise)."""
    try:
        from rich.console import Console
        from rich.markdown import Markdown
    except ImportError:
        return text
    import io
    import shutil

    buffer = io.StringIO()
    columns = width or min(shutil.get_terminal_size((100, 24)).columns, 120)
    # No colour codes: the text goes where the stream goes (a pty, a pipe, a log).
    Console(file=buffer, width=columns, color_system=None, highlight=False).print(Markdown(text))
    return buffer.getvalue().rstrip("\n")


_BOX = ("font-family: var(--jp-ui-font-family, sans-serif); font-size: 0.85em; "
        "color: var(--jp-ui-font-color2, #616161); margin: 6px 0 2px;")
_ERROR = ("border-left: 3px solid var(--jp-error-color1, #d32f2f); padding: 4px 10px; "
          "background: var(--jp-error-color3, #ffebee); color: var(--jp-ui-font-color1, #212121);")


class RichRenderer:
    """Markdown that streams into a display which is updated in place, a dozen times a second
    (less often as the text grows long: ``throttle.py``)."""

    def __init__(self) -> None:
        from IPython.display import display

        self._display = display
        self._handle: Any = None
        self._text = ""
        self._first = ""  # what the live display showed when it was created
        self._throttle = Throttle()
        self._max_steps = 0
        self._status: Any = None
        self._waiting = False
        self._starting = False  # the status line says the first run is starting

    def progress(self, text: str, done: bool = False) -> None:
        """A one-line status, updated in place (preparing the local model…)."""
        self._starting = False
        line = text if done else f"⏳ {text}"
        bundle = {"text/html": f'<div style="{_BOX}">{html.escape(line)}</div>', "text/plain": line}
        if self._status is None:
            self._status = self._display(bundle, raw=True, display_id=True)
        else:
            self._status.update(bundle, raw=True)

    def starting(self) -> None:
        """Shown at once on the first run in a kernel, which imports litellm (seconds) before it
        can show anything else."""
        self.progress("starting: the first run in this kernel loads the model library…")
        self._starting = True

    def started(self) -> None:
        """The run shows itself now: the starting line goes, unless later progress took it over."""
        if self._starting and self._status is not None:
            self._status.update({"text/plain": ""}, raw=True)
        self._starting = False

    def _show(self, html_text: str, plain: str) -> None:
        self._display({"text/html": html_text, "text/plain": plain}, raw=True)

    def _flush(self) -> None:
        bundle = {"text/markdown": self._text, "text/plain": self._text}
        if self._handle is None:
            self._handle = self._display(bundle, raw=True, display_id=True)
            self._first = self._text
        else:
            self._handle.update(bundle, raw=True)
        self._throttle.shown()

    def _end_turn(self) -> None:
        if self._handle is not None and self._text != self._first:
            # A frontend that does not apply display updates (jupyter console) has shown only the
            # first piece of this turn: the whole of it comes once more as an output of its own,
            # and the live one is emptied (where updates apply, the text just stays in place).
            self._handle.update({"text/plain": ""}, raw=True)
            self._display({"text/markdown": self._text, "text/plain": self._text}, raw=True)
        elif self._handle is None and self._text:
            self._flush()
        self._handle, self._text, self._first = None, "", ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._max_steps = event.max_steps
        elif isinstance(event, ModelWaiting):
            self.progress(event.text)
            self._waiting = True
        elif isinstance(event, ModelText):
            if self._waiting:
                self._waiting = False
                self.progress("the local model is free again", done=True)
            self._text += event.text
            if self._handle is None or self._throttle.due(len(self._text)):
                self._flush()
        elif isinstance(event, StepStarted):
            self._end_turn()
        elif isinstance(event, StepFinished):
            step = event.step
            if step.timed_out:
                mark, status = "⏱", "timed out"
            elif step.error:
                mark, status = "✗", f"{step.error.ename}"
            else:
                mark, status = "✓", "done"
            count = f"In [{step.execution_count}] · " if step.execution_count is not None else ""
            plain = f"{mark} step {event.index}/{self._max_steps} · {count}{status} · {event.seconds:.1f} s"
            self._show(f'<div style="{_BOX}">{html.escape(plain)}</div>', plain)
        elif isinstance(event, FollowUp):
            self._end_turn()
            line = f"↻ {event.label}"
            self._show(f'<div style="{_BOX}">{html.escape(line)}</div>', line)
        elif isinstance(event, RunFinished):
            self._end_turn()
            run = event.run
            if run.note:
                style = _ERROR if run.status == "error" else _BOX
                self._show(f'<div style="{style}">{html.escape(run.note)}</div>', run.note)
            if run.variables_line():
                self._show(f'<div style="{_BOX}">{html.escape(run.variables_line())}</div>',
                           run.variables_line())
            line = run.summary()
            self._show(f'<div style="{_BOX}">{html.escape(line)}</div>', line)


class CompactRenderer(RichRenderer):
    """The magic cell's output when the JupyterLab extension holds the run: the steps and the
    answer are cells of their own, so this shows one status line and the summary."""

    @classmethod
    def taking_over(cls, renderer: RichRenderer) -> CompactRenderer:
        """Goes on in the status line ``renderer`` already shows (the local model's start, say)."""
        compact = cls()
        compact._status = renderer._status
        return compact

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self._max_steps = event.max_steps
            self.progress("waiting for the model…")
        elif isinstance(event, StepStarted):
            self.progress(f"step {event.index}/{self._max_steps} running in the cell below…")
        elif isinstance(event, StepFinished):
            self.progress(f"step {event.index}/{self._max_steps} done; waiting for the model…")
        elif isinstance(event, FollowUp):
            self.progress(f"↻ {event.label}…")
        elif isinstance(event, ModelWaiting):
            self.progress(event.text)
        elif isinstance(event, RunFinished):
            run = event.run
            self.progress(run.summary(), done=True)
            if run.note:
                style = _ERROR if run.status == "error" else _BOX
                self._show(f'<div style="{style}">{html.escape(run.note)}</div>', run.note)


def renderer_for(shell: Any):
    """Rich output where a Jupyter frontend renders it; plain text in a terminal."""
    if type(shell).__name__ == "ZMQInteractiveShell" or hasattr(shell, "kernel"):
        return RichRenderer()
    return TerminalRenderer()
