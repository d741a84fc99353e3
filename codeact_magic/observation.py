"""What the model is shown for a step: outputs and errors as plain, bounded, redacted text."""

from __future__ import annotations

import os
import re
import sysconfig
import traceback
from pathlib import Path

from .capture import BoundedText
from .executor import Execution
from .failing_line import failing_line
from .harness_frames import chained, drop_harness_frames
from .redact import redact
from .run import StepError

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07")
NO_OUTPUT = "(no output: the code ran and printed nothing)"
ANSWER_RECEIVED = "final_answer received: "


# The kernel names a step's code after its own history: IPython by the execution count
# (<ipython-input-19-01f1eee95c79>), ipykernel by its process id (/tmp/ipykernel_4242/310145.py).
# The model is shown "<cell>": a step then reads the same whatever ran in the kernel before it. (A
# benchmark's questions share one kernel: run again alone, a question's tracebacks and warnings
# read other numbers: 54 of DABench's 156 runs first differed from a whole run's there.)
# The name is also 3 tokens, not 15, in every frame and warning.
_CELL_NAME = re.compile(r"<ipython-input-\d+-[0-9a-f]+>|(?:[^\s\"'<>]*[/\\])?ipykernel_\d+[/\\]\d+\.py")
CELL = "<cell>"


def stable_cell_names(text: str) -> str:
    """``text`` with the kernel's names for its cells (which count the cells run before) as ``<cell>``."""
    return _CELL_NAME.sub(CELL, text)


def clean(text: str) -> str:
    """Drop ANSI colours, and keep only what a terminal would finally show of ``\\r`` redraws."""
    text = _ANSI.sub("", text)
    if "\r" in text:
        # "\r\n" ends a line (a pty's output: every `!command`); a lone "\r" redraws it, and a
        # line left ending in "\r" still shows what was drawn last.
        text = text.replace("\r\n", "\n")
        text = "\n".join(next((part for part in reversed(line.split("\r")) if part), "")
                         for line in text.split("\n"))
    return text


# Installed libraries and the standard library: their frames say where an error surfaced, rarely why.
_LIBRARY_DIRS = tuple(sorted({str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib",
                                                                 "platlib")
                              if (p := sysconfig.get_paths().get(key))}, key=len, reverse=True))


def _library(filename: str) -> str | None:
    """The top-level package (or "the standard library") a frame's file belongs to, if any."""
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return None
    for root in _LIBRARY_DIRS:
        if path.startswith(root + os.sep):
            rest = path[len(root) + 1:].split(os.sep)
            return rest[0].removesuffix(".py") if "site-packages" in root else "the standard library"
    return None


class _Elided(traceback.FrameSummary):
    def __init__(self, count: int, where: str) -> None:
        super().__init__("<elided>", 0, "<elided>", lookup_line=False, line="")
        self.count, self.where = count, where


class _Compacted(traceback.StackSummary):
    def format_frame_summary(self, frame_summary):  # type: ignore[override]
        if isinstance(frame_summary, _Elided):
            return f"  [... {frame_summary.count} frames inside {frame_summary.where} ...]\n"
        return super().format_frame_summary(frame_summary)


def _compact_library_frames(exc: traceback.TracebackException) -> None:
    """Keep the step's own frames and, of each run of library frames, the first (where the code
    called in) and the last (where it raised); the middle becomes one line. A pandas error is 20
    frames deep: a model reads its own line and the message better without the other 18."""
    for current in chained(exc):
        frames, kept, i = list(current.stack), [], 0
        while i < len(frames):
            where = _library(frames[i].filename)
            j = i
            while j < len(frames) and where is not None and _library(frames[j].filename) == where:
                j += 1
            if where is not None and j - i > 2:
                kept += [frames[i], _Elided(j - i - 2, where), frames[j - 1]]
                i = j
            else:
                kept.append(frames[i])
                i = max(i + 1, j)
        current.stack = _Compacted(kept)


def format_error(error: BaseException, *, before_exec: bool) -> str:
    """The traceback of the step's code, as plain text, without the harness's frames and with
    long runs of library frames shortened."""
    if before_exec:
        # A SyntaxError (or the like) while compiling: the location and caret say it all.
        return "".join(traceback.format_exception_only(type(error), error))
    tb = traceback.TracebackException.from_exception(error, capture_locals=False)
    drop_harness_frames(tb)
    _compact_library_frames(tb)
    return "".join(tb.format())


def step_error(error: BaseException | None, code: str = "", *,
               before_exec: bool = False) -> StepError | None:
    if error is None:
        return None
    # A SyntaxError's message names the cell ("'(' was never closed (<ipython-input-3-…>, line 1)"):
    # read by the stall check (the same error three times) and told by fresh_start's summary.
    return StepError(ename=type(error).__name__, evalue=stable_cell_names(str(error)),
                     where=failing_line(error, code, before_exec=before_exec))


def _cut(text: str, budget: int) -> str:
    if len(text) <= budget:
        return text
    buf = BoundedText(budget)
    buf.append(text)
    return buf.text(budget)


def observe(execution: Execution, *, limit: int, secrets: list[str], timeout: float | None) -> str:
    """The execution feedback for one step, at most about ``limit`` characters."""
    sections: list[tuple[str, str]] = []
    if execution.timed_out:
        sections.append(("", f"The step ran longer than its {timeout:g} s timeout and was "
                              "interrupted. What it printed before that is below."))
    error_text = ""
    if execution.error is not None and not execution.timed_out:
        error_text = clean(format_error(execution.error, before_exec=execution.error_before_exec))
    budget = limit - min(len(error_text), limit // 2) if error_text else limit
    outputs = [
        ("stdout", _stream(execution.stdout, budget)),
        ("stderr", _stream(execution.stderr, budget)),
        ("display", clean("\n".join(execution.displays))),
        ("result", clean(execution.result or "")),
    ]
    outputs = [(k, v) for k, v in outputs if v.strip()]
    # Label the parts only when there is more than one kind, so a plain print stays plain.
    labelled = len(outputs) > 1
    sections += [(f"[{k}]\n" if labelled else "", v.rstrip("\n")) for k, v in outputs]
    sections += [("", f"[the shell command `{_cut(command, 200)}` exited with status {status}]")
                 for command, status in execution.failed_commands[:5]]
    text = "\n".join(label + body for label, body in sections)
    text = _cut(text, budget)
    if error_text:
        text = (text + "\n" if text else "") + _cut(error_text.rstrip("\n"), limit - len(text))
    if execution.answer is not None and execution.error is None:
        # Said as an output of its own: a model told "no output" after it answered took it for a
        # step that computed nothing, and gave up a right answer.
        answer = _cut(clean(execution.answer.text), limit // 2)
        text = (text + "\n" if text.strip() else "") + f"{ANSWER_RECEIVED}{answer}"
    if not text.strip():
        text = NO_OUTPUT
    return redact(stable_cell_names(text), secrets)


def _stream(buf: BoundedText, budget: int) -> str:
    return clean(buf.text(budget)) if buf.total else ""


